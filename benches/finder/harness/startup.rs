//! The real binary in a real terminal (a private tmux server): warm start to the first frame,
//! and resident memory through a login and a few searches on the benchmark database; and the
//! embedded cluster's cold start (initdb, start, create the database, migrate) in a temporary
//! directory.
//!
//! Screens are read by polling `tmux capture-pane` (every few milliseconds for the start
//! time, which therefore includes up to one poll and one tmux round trip of slack).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use ifind::db::cluster::{Cluster, ClusterSettings};
use sqlx::Connection;

use super::setup::{BENCH_PASSWORD, BENCH_USER, Env, Site};

/// One private tmux server with one pane.
struct Tmux {
    socket: PathBuf,
    _dir: tempfile::TempDir,
}

impl Tmux {
    fn start(width: u16, height: u16) -> Result<Tmux> {
        let dir = tempfile::tempdir()?;
        let t = Tmux {
            socket: dir.path().join("sock"),
            _dir: dir,
        };
        t.run(&[
            "new-session",
            "-d",
            "-s",
            "bench",
            "-x",
            &width.to_string(),
            "-y",
            &height.to_string(),
            "--",
            "sleep",
            "86400",
        ])?;
        Ok(t)
    }

    fn run(&self, args: &[&str]) -> Result<String> {
        let out = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .args(args)
            .output()
            .context("cannot run tmux; install it to measure the terminal app")?;
        if !out.status.success() {
            bail!(
                "tmux {args:?} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Replaces the pane's program with `command` (a shell command line).
    fn respawn(&self, command: &str) -> Result<()> {
        self.run(&["respawn-pane", "-k", "-t", "bench", command])
            .map(drop)
    }

    fn screen(&self) -> Result<String> {
        self.run(&["capture-pane", "-p", "-t", "bench"])
    }

    fn keys(&self, keys: &[&str]) -> Result<()> {
        let mut args = vec!["send-keys", "-t", "bench"];
        args.extend_from_slice(keys);
        self.run(&args).map(drop)
    }

    fn text(&self, text: &str) -> Result<()> {
        self.run(&["send-keys", "-t", "bench", "-l", text])
            .map(drop)
    }

    fn pid(&self) -> Result<u32> {
        self.run(&["display-message", "-p", "-t", "bench", "#{pane_pid}"])?
            .trim()
            .parse()
            .context("tmux gave no pane pid")
    }

    /// Polls the screen every `every` until `done` holds; the time it took.
    fn wait(
        &self,
        what: &str,
        every: Duration,
        limit: Duration,
        done: impl Fn(&str) -> bool,
    ) -> Result<Duration> {
        let started = Instant::now();
        loop {
            let s = self.screen()?;
            if done(&s) {
                return Ok(started.elapsed());
            }
            if started.elapsed() > limit {
                bail!("waited {limit:?} for {what}; the screen:\n{s}");
            }
            std::thread::sleep(every);
        }
    }

    /// Waits until the screen contains `text` and has not changed for `quiet`.
    fn settle(&self, text: &str, quiet: Duration) -> Result<()> {
        self.wait(
            &format!("{text:?}"),
            Duration::from_millis(10),
            Duration::from_secs(30),
            |s| s.contains(text),
        )?;
        let mut last = self.screen()?;
        let mut since = Instant::now();
        let started = Instant::now();
        while since.elapsed() < quiet && started.elapsed() < Duration::from_secs(30) {
            std::thread::sleep(Duration::from_millis(20));
            let s = self.screen()?;
            if s != last {
                last = s;
                since = Instant::now();
            }
        }
        Ok(())
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// `url` with its user replaced by the application role `ifind_app`: the TUI runs as that role
/// (it refuses an owner or superuser connection), the owner URL goes in `IFIND_OWNER_URL`.
fn app_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let host = match rest[..authority_end].rfind('@') {
        Some(at) => &rest[at + 1..],
        None => rest,
    };
    format!("{scheme}://ifind_app@{host}")
}

/// The command line that runs `bin` on `url` with a private home.
fn command(bin: &Path, url: &str, home: &Path) -> String {
    let dir = |d: &str| quote(&home.join(d).to_string_lossy());
    format!(
        "exec env -u DATABASE_URL -u IFIND_USER IFIND_DATABASE_URL={} IFIND_OWNER_URL={} \
         XDG_CONFIG_HOME={} XDG_STATE_HOME={} XDG_DATA_HOME={} {}",
        quote(&app_url(url)),
        quote(url),
        dir("config"),
        dir("state"),
        dir("data"),
        quote(&bin.to_string_lossy())
    )
}

/// Resident and peak memory of a process, in MiB.
fn memory(pid: u32) -> Result<(f64, f64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    Ok((field("VmRSS:"), field("VmHWM:")))
}

/// What the terminal run measured.
#[derive(Clone, Debug, Default)]
pub struct Terminal {
    /// Process start to the Login screen on the terminal, per start.
    pub warm_starts: Vec<Duration>,
    /// (moment, VmRSS MiB, VmHWM MiB).
    pub memory: Vec<(String, f64, f64)>,
    /// Typing in the terminal: from sending a line's last key to the first frame written with
    /// that line's results, and with their count.
    pub typed: Vec<Duration>,
    pub typed_count: Vec<Duration>,
    /// Words within a line whose results were written before the next key was sent, from the
    /// word's last key; and how many words' results were not.
    pub typed_words: Vec<Duration>,
    pub typed_words_missed: usize,
}

/// Keys typed into the terminal app this far apart.
pub const TYPING_INTERVAL: Duration = Duration::from_millis(120);

/// `CLOCK_MONOTONIC` in nanoseconds: the clock of the app's frame log.
fn monotonic_ns() -> Result<i128> {
    let now = nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC)?;
    Ok(i128::from(now.tv_sec()) * 1_000_000_000 + i128::from(now.tv_nsec()))
}

/// One frame of the app's `IFIND_FRAME_LOG`.
struct Frame {
    at: i128,
    counted: bool,
    query: String,
}

fn frames(log: &Path) -> Result<Vec<Frame>> {
    let text = std::fs::read_to_string(log)?;
    Ok(text
        .lines()
        .filter_map(|l| {
            let mut parts = l.splitn(3, '\t');
            let at = parts.next()?.parse().ok()?;
            let counted = parts.next()? == "true";
            let query = parts.next()?.to_string();
            Some(Frame { at, counted, query })
        })
        .collect())
}

/// The time from `sent` to the first frame after it that answers `query` (and shows its
/// count, with `counted`), if one came before `until`.
fn first_frame(
    frames: &[Frame],
    query: &str,
    sent: i128,
    until: i128,
    counted: bool,
) -> Option<Duration> {
    frames
        .iter()
        .find(|f| f.at > sent && f.at < until && f.query == query && (f.counted || !counted))
        .map(|f| Duration::from_nanos(u64::try_from(f.at - sent).unwrap_or(0)))
}

/// Types each of `queries` key by key, [`TYPING_INTERVAL`] apart, through tmux into the app
/// (which logs its frames to `log`), waits, and erases it. A key's time is taken just before
/// tmux is asked to send it, so tmux's own delivery is counted too.
fn type_lines(tmux: &Tmux, log: &Path, queries: &[String], out: &mut Terminal) -> Result<()> {
    for q in queries {
        let chars: Vec<char> = q.chars().collect();
        // (line so far, sent at, next key sent at) per word end.
        let mut words: Vec<(String, i128, i128)> = Vec::new();
        let mut typed = String::new();
        for (i, c) in chars.iter().enumerate() {
            let sent = monotonic_ns()?;
            if let Some(last) = words.last_mut()
                && last.2 == i128::MAX
            {
                last.2 = sent;
            }
            tmux.text(&c.to_string())?;
            typed.push(*c);
            let word_end = *c != ' ' && chars.get(i + 1).is_none_or(|n| *n == ' ');
            if word_end {
                words.push((typed.clone(), sent, i128::MAX));
            }
            let spent = Duration::from_nanos(u64::try_from(monotonic_ns()? - sent).unwrap_or(0));
            std::thread::sleep(TYPING_INTERVAL.saturating_sub(spent));
        }
        std::thread::sleep(Duration::from_millis(1500));
        let seen = frames(log)?;
        for (n, (line, sent, next)) in words.iter().enumerate() {
            let last = n + 1 == words.len();
            if last {
                match first_frame(&seen, line, *sent, i128::MAX, false) {
                    Some(d) => {
                        eprintln!("  typed {line:?}: its results on screen after {d:.1?}");
                        out.typed.push(d);
                    }
                    None => bail!("no frame showed the results of {line:?} within 1.5 s"),
                }
                if let Some(d) = first_frame(&seen, line, *sent, i128::MAX, true) {
                    out.typed_count.push(d);
                }
            } else {
                match first_frame(&seen, line, *sent, *next, false) {
                    Some(d) => out.typed_words.push(d),
                    None => out.typed_words_missed += 1,
                }
            }
        }
        for _ in 0..chars.len() {
            tmux.keys(&["BSpace"])?;
        }
        tmux.settle(&format!("{BENCH_USER}@"), Duration::from_millis(300))?;
    }
    Ok(())
}

/// Starts the binary `starts` times to the Login screen, then logs in, opens `site`, types
/// `typed` key by key (keystroke to screen in the real terminal) and runs `queries`, reading the
/// process's memory along the way.
pub fn terminal(
    env: &Env,
    bin: &Path,
    site: &Site,
    queries: &[String],
    typed: &[String],
    starts: usize,
) -> Result<Terminal> {
    let home = tempfile::tempdir()?;
    let tmux = Tmux::start(120, 40)?;
    let log = home.path().join("frames.log");
    let cmd = format!(
        "IFIND_FRAME_LOG={} {}",
        quote(&log.to_string_lossy()),
        command(bin, &env.url, home.path())
    );
    let mut out = Terminal::default();
    let login = |s: &str| s.contains("log in");
    for _ in 0..starts.max(1) {
        let t = Instant::now();
        tmux.respawn(&cmd)?;
        tmux.wait(
            "the Login screen",
            Duration::from_millis(2),
            Duration::from_secs(30),
            login,
        )?;
        out.warm_starts.push(t.elapsed());
    }
    let pid = tmux.pid()?;
    let (rss, hwm) = memory(pid)?;
    out.memory.push(("Login screen".into(), rss, hwm));
    tmux.text(BENCH_USER)?;
    tmux.keys(&["Tab"])?;
    tmux.text(BENCH_PASSWORD)?;
    tmux.keys(&["Enter"])?;
    tmux.settle("Pick a site", Duration::from_millis(300))?;
    tmux.text(&site.name)?;
    tmux.settle(&site.name, Duration::from_millis(300))?;
    tmux.keys(&["Enter"])?;
    tmux.settle(&format!("{BENCH_USER}@"), Duration::from_millis(500))?;
    let (rss, hwm) = memory(pid)?;
    out.memory
        .push((format!("Finder on {}", site.name), rss, hwm));
    type_lines(&tmux, &log, typed, &mut out)?;
    for q in queries {
        tmux.text(q)?;
        tmux.settle(q.trim(), Duration::from_millis(500))?;
        // Scroll through a few pages so that later pages load too.
        for _ in 0..6 {
            tmux.keys(&["PageDown"])?;
        }
        tmux.settle(q.trim(), Duration::from_millis(300))?;
        for _ in 0..q.chars().count() {
            tmux.keys(&["BSpace"])?;
        }
    }
    tmux.settle(&format!("{BENCH_USER}@"), Duration::from_millis(500))?;
    let (rss, hwm) = memory(pid)?;
    out.memory.push((
        format!("after {} searches and scrolling", queries.len()),
        rss,
        hwm,
    ));
    tmux.keys(&["C-c"])?;
    Ok(out)
}

/// The phases of a cold start of the embedded cluster, in order.
pub async fn cold_start() -> Result<Vec<(&'static str, Duration)>> {
    let root = PathBuf::from(format!("/tmp/ifind-bench-cold-{}", std::process::id()));
    if root.exists() {
        std::fs::remove_dir_all(&root)?;
    }
    std::fs::create_dir_all(&root)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755))?;
    }
    let data = root.join("pg");
    let mut settings = ClusterSettings::new(data.clone());
    settings.fallback_dir = data;
    let cluster = Cluster::new(settings)?;
    let result = async {
        let mut phases = Vec::new();
        let t = Instant::now();
        cluster.ensure_running().await?;
        phases.push(("initdb and start", t.elapsed()));
        let t = Instant::now();
        cluster.ensure_database("ifind").await?;
        phases.push(("create the database", t.elapsed()));
        let t = Instant::now();
        let mut conn = sqlx::PgConnection::connect_with(&cluster.connect_options("ifind")).await?;
        ifind::db::migrate::run(&mut conn).await?;
        conn.close().await.ok();
        phases.push(("connect and migrate", t.elapsed()));
        Ok::<_, anyhow::Error>(phases)
    }
    .await;
    let stopped = cluster.stop().await;
    std::fs::remove_dir_all(&root).ok();
    stopped?;
    result
}
