//! A real terminal for end-to-end tests: a private tmux server per test, driven the way a person
//! would drive it (keys in, screen out).
//!
//! Every wait polls the screen until a condition holds and panics with the whole screen when the
//! deadline passes; nothing sleeps for a fixed time. The server lives on a socket in its own
//! temporary directory, so parallel tests never share one, and it is killed when the value is
//! dropped, also when the test panics.
//!
//! The program runs under a small `sh` wrapper that, when the program ends, prints
//! `[exited STATUS; tty: MODES]` (MODES being the terminal's `icanon`/`echo` settings as the
//! program left them) and then keeps the pane open, so the final screen, the exit status and the
//! terminal's state can all be checked.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

/// How long a wait may take before the test fails.
pub const DEADLINE: Duration = Duration::from_secs(20);
/// How often a wait looks at the screen.
const POLL: Duration = Duration::from_millis(50);
/// The session (and so the pane) every command targets.
const TARGET: &str = "e2e";
/// What the wrapper prints when the program ends.
const EXIT_MARK: &str = "[exited ";

/// Runs the program given as "$@", then reports its exit status and the terminal modes it left.
const WRAPPER: &str = r#""$@"; status=$?; modes=$(stty -a | tr ' ;' '\n\n' | grep -x -e icanon -e -icanon -e echo -e -echo | tr '\n' ' '); printf '\n[exited %s; tty: %s]\n' "$status" "${modes% }"; exec sleep 86400"#;

/// One tmux server with one window running the program under test.
pub struct Tmux {
    socket: PathBuf,
    /// Every distinct screen a wait has looked at, in order, for [`Tmux::assert_never_seen`].
    seen: Vec<String>,
    _dir: tempfile::TempDir,
}

/// How the program ended, as the wrapper reported it.
#[derive(Debug, PartialEq, Eq)]
pub struct Exit {
    pub status: i32,
    /// The terminal's line modes after the exit, e.g. "icanon echo" when restored.
    pub tty: String,
}

impl Tmux {
    /// Starts `command` (program and arguments) in a `width`x`height` window. `env` sets
    /// (`Some`) or removes (`None`) variables for the program only: a tmux server's environment is
    /// its own, so they go on the command line through `env`.
    pub fn start(command: &[&str], env: &[(&str, Option<&str>)], width: u16, height: u16) -> Tmux {
        let dir = tempfile::tempdir().expect("temp dir for the tmux socket");
        let tmux = Tmux {
            socket: dir.path().join("sock"),
            seen: Vec::new(),
            _dir: dir,
        };
        let mut args: Vec<String> = [
            "new-session",
            "-d",
            "-s",
            TARGET,
            "-x",
            &width.to_string(),
            "-y",
            &height.to_string(),
            "--",
            "sh",
            "-c",
            WRAPPER,
            "sh",
            "env",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        // `env` takes its -u options before the assignments.
        for (name, _) in env.iter().filter(|(_, value)| value.is_none()) {
            args.extend(["-u".to_string(), name.to_string()]);
        }
        for (name, value) in env {
            if let Some(value) = value {
                args.push(format!("{name}={value}"));
            }
        }
        args.extend(command.iter().map(|s| s.to_string()));
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        tmux.run(&refs);
        tmux
    }

    /// Runs one tmux command against this server and returns its standard output.
    fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .args(["-f", "/dev/null"])
            .args(args)
            .output()
            .unwrap_or_else(|e| {
                panic!("cannot run tmux ({e}); install tmux to run the end-to-end tests")
            });
        assert!(
            out.status.success(),
            "tmux {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Presses keys by their tmux names: "Enter", "Tab", "BTab", "Escape", "C-s", "q".
    pub fn send_keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", TARGET];
        args.extend_from_slice(keys);
        self.run(&args);
    }

    /// Types `text` literally, character by character.
    pub fn type_text(&self, text: &str) {
        self.run(&["send-keys", "-t", TARGET, "-l", "--", text]);
    }

    /// The visible screen, one line per row.
    pub fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", TARGET])
    }

    /// A tmux format variable of the pane, e.g. "alternate_on", "cursor_flag".
    pub fn pane_flag(&self, name: &str) -> String {
        let format = format!("#{{{name}}}");
        self.run(&["display-message", "-p", "-t", TARGET, &format])
            .trim()
            .to_string()
    }

    /// Waits until `done` holds for the screen and returns that screen. Panics with the screen
    /// when [`DEADLINE`] passes, or at once if the program exits first.
    pub fn wait_for(&mut self, what: &str, done: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if self.seen.last() != Some(&screen) {
                self.seen.push(screen.clone());
            }
            if done(&screen) {
                return screen;
            }
            if screen.contains(EXIT_MARK) {
                panic!(
                    "the program exited while waiting for {what}:\n{}",
                    framed(&screen)
                );
            }
            if start.elapsed() > DEADLINE {
                panic!(
                    "waited {} s for {what}; the screen:\n{}",
                    DEADLINE.as_secs(),
                    framed(&screen)
                );
            }
            std::thread::sleep(POLL);
        }
    }

    /// Waits until the screen shows `text`.
    pub fn wait_text(&mut self, text: &str) -> String {
        self.wait_for(&format!("{text:?} on screen"), |s| s.contains(text))
    }

    /// Waits until the screen no longer shows `text`.
    pub fn wait_gone(&mut self, text: &str) -> String {
        self.wait_for(&format!("{text:?} to leave the screen"), |s| {
            !s.contains(text)
        })
    }

    /// The process id of the program under test (the wrapper's child).
    pub fn program_pid(&self) -> i32 {
        let wrapper: i32 = self
            .pane_flag("pane_pid")
            .trim()
            .parse()
            .expect("the pane's pid");
        let deadline = Instant::now() + DEADLINE;
        loop {
            let child = std::fs::read_dir("/proc")
                .expect("/proc")
                .flatten()
                .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<i32>().ok()))
                .find(|pid| {
                    std::fs::read_to_string(format!("/proc/{pid}/stat"))
                        .ok()
                        .and_then(|stat| {
                            let (_, rest) = stat.rsplit_once(')')?;
                            rest.split_whitespace().nth(1)?.parse::<i32>().ok()
                        })
                        == Some(wrapper)
                });
            if let Some(pid) = child {
                return pid;
            }
            assert!(Instant::now() < deadline, "the program has no process");
            std::thread::sleep(POLL);
        }
    }

    /// Waits until the pane's `name` flag (as [`Tmux::pane_flag`]) is `value`.
    pub fn wait_flag(&self, name: &str, value: &str) {
        let deadline = Instant::now() + DEADLINE;
        while self.pane_flag(name) != value {
            assert!(
                Instant::now() < deadline,
                "{name} never became {value}; the screen:\n{}",
                self.screen()
            );
            std::thread::sleep(POLL);
        }
    }

    /// Waits for the program to end and returns how it ended.
    pub fn wait_for_exit(&mut self) -> Exit {
        let screen = self.wait_for("the program to exit", |s| {
            s.lines()
                .any(|l| l.starts_with(EXIT_MARK) && l.ends_with(']'))
        });
        let line = screen
            .lines()
            .find(|l| l.starts_with(EXIT_MARK))
            .unwrap_or_default();
        let inner = &line[EXIT_MARK.len()..line.len() - 1];
        let (status, tty) = inner.split_once("; tty: ").unwrap_or((inner, ""));
        Exit {
            status: status.parse().unwrap_or(-1),
            tty: tty.to_string(),
        }
    }

    /// Panics if any screen a wait has looked at so far contained `text`.
    pub fn assert_never_seen(&self, text: &str) {
        if let Some(screen) = self.seen.iter().find(|s| s.contains(text)) {
            panic!("{text:?} was on screen:\n{}", framed(screen));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .arg("kill-server")
            .output();
    }
}

/// The screen between rules, so that blank rows and trailing space are visible in a failure.
fn framed(screen: &str) -> String {
    let rule = "-".repeat(40);
    format!("{rule}\n{}{rule}", screen)
}
