//! Child processes with a time limit, and reading `postmaster.pid` to tell whether this
//! cluster's server is running.

use std::fs;
use std::io;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use nix::errno::Errno;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use super::ClusterError;
use super::fsutil::io_error;

/// What a finished child process printed.
pub(super) struct Output {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// stdout and stderr together, trimmed, for error messages.
    pub fn text(&self) -> String {
        let both = format!("{}\n{}", self.stdout.trim(), self.stderr.trim());
        both.trim().to_string()
    }
}

/// Runs `cmd` to completion with stdin closed and its output captured. A child still running
/// after `timeout` is killed and reported as [`ClusterError::Timeout`]. `Err(NotFound)`-style
/// spawn failures come back as `Ok(None)` so callers can try the next candidate.
pub(super) fn run(
    mut cmd: Command,
    what: &str,
    timeout: Duration,
    log: &Path,
) -> Result<Option<Output>, ClusterError> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = match cmd.spawn() {
        Ok(child) => child,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error("run", Path::new(cmd.get_program()), e)),
    };
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(timeout) {
        Ok(Ok(out)) => Ok(Some(Output {
            status: out.status,
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })),
        Ok(Err(e)) => Err(io_error("wait for", Path::new(cmd.get_program()), e)),
        Err(_) => {
            if let Ok(raw) = i32::try_from(pid) {
                let _ = kill(Pid::from_raw(raw), Signal::SIGKILL);
            }
            Err(ClusterError::Timeout {
                what: what.to_string(),
                secs: timeout.as_secs(),
                log: log.to_path_buf(),
            })
        }
    }
}

/// What `postmaster.pid` in a data directory says.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum PidFile {
    /// No pid file: the server is not running.
    Absent,
    /// A pid file naming a process that is gone (or unreadable content): left by a crash.
    Stale(Option<u32>),
    /// This cluster's server is running with this pid.
    Ours(u32),
    /// The pid file names a live process that is not this cluster's server.
    Foreign { pid: u32, what: String },
}

/// Judges `data_dir/postmaster.pid` (its text, None if absent) by checking the process it
/// names; `data_dir` is where the data folder really is. Never changes anything.
pub(super) fn inspect_pid_file(text: Option<&str>, data_dir: &Path) -> PidFile {
    let Some(text) = text else {
        return PidFile::Absent;
    };
    let pid = match text
        .lines()
        .next()
        .and_then(|l| l.trim().parse::<i32>().ok())
    {
        Some(pid) if pid > 0 => pid,
        _ => return PidFile::Stale(None),
    };
    let upid = pid.unsigned_abs();
    match kill(Pid::from_raw(pid), None) {
        Ok(()) | Err(Errno::EPERM) => {}
        Err(_) => return PidFile::Stale(Some(upid)),
    }
    let proc_dir = Path::new("/proc").join(pid.to_string());
    if !Path::new("/proc/self").exists() {
        // No /proc to look into: trust the pid file, as pg_ctl does.
        return PidFile::Ours(upid);
    }
    if is_zombie(&proc_dir) {
        // Killed and not yet reaped: nothing runs there, whatever owns the entry.
        return PidFile::Stale(Some(upid));
    }
    let comm = fs::read_to_string(proc_dir.join("comm"))
        .map(|c| c.trim().to_string())
        .unwrap_or_default();
    if comm != "postgres" && comm != "postmaster" {
        let what = if comm.is_empty() {
            "an unknown program".to_string()
        } else {
            format!("`{comm}`")
        };
        return PidFile::Foreign { pid: upid, what };
    }
    // The postmaster's working directory is its data directory.
    match fs::read_link(proc_dir.join("cwd")) {
        Ok(cwd) if cwd == data_dir => PidFile::Ours(upid),
        Ok(cwd) => PidFile::Foreign {
            pid: upid,
            what: format!("a PostgreSQL server for {}", cwd.display()),
        },
        Err(_) => PidFile::Foreign {
            pid: upid,
            what: "a PostgreSQL server of another OS user".to_string(),
        },
    }
}

/// Whether the process of `/proc/PID` (`proc_dir`) has ended: gone, or waiting to be reaped.
pub(super) fn is_ended(proc_dir: &Path) -> bool {
    !proc_dir.exists() || is_zombie(proc_dir)
}

/// Whether the process of `/proc/PID` (`proc_dir`) has ended and waits to be reaped (a zombie,
/// state `Z`, or dead, `X`): its `stat` line's state, the field after the parenthesised name.
fn is_zombie(proc_dir: &Path) -> bool {
    fs::read_to_string(proc_dir.join("stat")).is_ok_and(|stat| {
        stat.rsplit_once(')')
            .and_then(|(_, rest)| rest.trim_start().chars().next())
            .is_some_and(|state| state == 'Z' || state == 'X')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A process killed and not yet reaped (here a child this test does not wait for) is not a
    /// running server: its pid file is stale, not "a server of another OS user".
    #[test]
    fn a_zombie_named_by_the_pid_file_is_stale() {
        let mut child = std::process::Command::new("true")
            .spawn()
            .expect("spawn true");
        let pid = child.id();
        let proc_dir = Path::new("/proc").join(pid.to_string());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !is_zombie(&proc_dir) {
            assert!(
                std::time::Instant::now() < deadline,
                "the child never ended"
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let text = format!("{pid}\n/some/data\n");
        assert_eq!(
            inspect_pid_file(Some(&text), Path::new("/some/data")),
            PidFile::Stale(Some(pid))
        );
        child.wait().expect("reap");
    }
}
