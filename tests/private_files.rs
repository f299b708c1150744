//! Nothing sensitive in files (issue 11, point 8), through the real binary: the log file is
//! 0600 in a 0700 folder whatever the umask, and at the default level holds no interaction
//! text, no query text and no name typed into a failed login; `login.json` and drafts are 0600
//! in 0700 folders; after `ifind erase --lead NAME` the name is in no file ifind wrote.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::tmux::Tmux;
use common::{TestDb, ifind, ok};

/// A name typed into a failed login.
const WRONG_NAME: &str = "Wrongnamezzy";
/// A word searched for.
const WORD: &str = "Quixotical";
/// A person's name, in an interaction, a search and a draft, then erased.
const PERSON: &str = "Zebulon Quist";

const CSV: &str = "title,type,lead,start,end,timezone,location,description,notes\n\
Quixotical harbour walkthrough,Inspection,Zebulon Quist,2026-11-21 14:00,2026-11-21 15:30,Europe/London,Pier 7,Walked the pier with Zebulon Quist,Private note about Zebulon Quist\n";

async fn two_sites() -> TestDb {
    let t = common::fresh_db().await;
    common::add_ada(&t.url);
    ok(&ifind(&t.url, &["site", "add", "North Clinic"], None));
    ok(&ifind(&t.url, &["site", "add", "South Office"], None));
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("rows.csv");
    std::fs::write(&file, CSV).expect("write csv");
    let path = file.to_str().expect("utf-8 path");
    ok(&ifind(
        &t.url,
        &["import", path, "--site", "North Clinic"],
        None,
    ));
    t
}

/// Runs the shell snippet that sets a loose umask and then the real binary.
const LOOSE_UMASK: &str = "umask 000; exec \"$0\" \"$@\"";

fn dirs(home: &Path) -> [(&'static str, String); 3] {
    let dir = |name: &str| home.join(name).to_str().expect("utf-8 path").to_string();
    [
        ("XDG_CONFIG_HOME", dir("config")),
        ("XDG_STATE_HOME", dir("state")),
        ("XDG_DATA_HOME", dir("data")),
    ]
}

/// The binary with its config, state and data under `home`, under a loose umask (000).
fn ifind_in(home: &Path, t: &TestDb, args: &[&str]) -> Output {
    let mut cmd = Command::new("sh");
    cmd.args(["-c", LOOSE_UMASK, env!("CARGO_BIN_EXE_ifind")])
        .args(args)
        .env("IFIND_DATABASE_URL", &t.app_url)
        .env("IFIND_OWNER_URL", &t.url)
        .env_remove("DATABASE_URL")
        .env_remove("IFIND_USER")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, value) in dirs(home) {
        cmd.env(name, value);
    }
    cmd.output().expect("run ifind")
}

/// The TUI in tmux with its config, state and data under `home`, under a loose umask.
fn start_tui(t: &TestDb, home: &Path) -> Tmux {
    let [config, state, data] = dirs(home);
    Tmux::start(
        &["sh", "-c", LOOSE_UMASK, env!("CARGO_BIN_EXE_ifind")],
        &[
            ("DATABASE_URL", None),
            ("IFIND_USER", None),
            ("IFIND_DATABASE_URL", Some(&t.app_url)),
            ("IFIND_OWNER_URL", Some(&t.url)),
            (config.0, Some(&config.1)),
            (state.0, Some(&state.1)),
            (data.0, Some(&data.1)),
        ],
        100,
        30,
    )
}

fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o7777
}

/// Every file under `dir`.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                todo.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files
}

fn contains_ci(path: &Path, needle: &str) -> bool {
    let text = String::from_utf8_lossy(&std::fs::read(path).unwrap_or_default()).to_lowercase();
    text.contains(&needle.to_lowercase())
}

#[tokio::test]
async fn files_are_private_and_hold_no_names_or_text() {
    let t = two_sites().await;
    let home = tempfile::tempdir().expect("temp home");
    let state = home.path().join("state").join("ifind");
    // A folder left loose by an earlier version (or by hand) is tightened.
    std::fs::create_dir_all(&state).expect("state dir");
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o755)).expect("loosen");

    // A failed login with a distinctive name.
    let mut tui = start_tui(&t, home.path());
    tui.wait_text("ifind · log in");
    tui.type_text(WRONG_NAME);
    tui.send_keys(&["Tab"]);
    tui.type_text("not the password");
    tui.send_keys(&["Enter"]);
    tui.wait_text("invalid username or password");
    tui.send_keys(&["C-c"]);
    assert_eq!(tui.wait_for_exit().status, 0);

    // A real session: a search with a distinctive word, a draft that names a person.
    let mut tui = start_tui(&t, home.path());
    tui.wait_text("ifind · log in");
    tui.type_text("ada");
    tui.send_keys(&["Tab"]);
    tui.type_text("first password");
    tui.send_keys(&["Enter"]);
    tui.wait_for("the Site picker", |s| {
        s.contains("Pick a site") && s.contains("North Clinic")
    });
    tui.type_text("north");
    tui.wait_for("only North Clinic", |s| s.contains("▶ North Clinic"));
    tui.send_keys(&["Enter"]);
    tui.wait_text("ada@North Clinic");
    tui.type_text(WORD);
    tui.wait_for("the search to find the walkthrough", |s| {
        s.contains("1 match ") && s.contains("Quixotical harbour walkthrough")
    });
    tui.send_keys(&["Escape"]);
    tui.wait_text("?: help");
    tui.send_keys(&["n"]);
    tui.wait_text("New interaction");
    let title = format!("Call {PERSON} back");
    tui.type_text(&title);
    tui.wait_text(&title);
    // Quit with the form open: the draft stays on disk.
    tui.send_keys(&["C-c"]);
    assert_eq!(tui.wait_for_exit().status, 0);

    // Modes: folders 0700, files 0600, though the umask was 000.
    let log = state.join("ifind.log");
    let login_file = state.join("login.json");
    let drafts = state.join("drafts");
    assert_eq!(mode(&state), 0o700, "the state folder");
    assert_eq!(mode(&log), 0o600, "the log file");
    assert_eq!(mode(&login_file), 0o600, "login.json");
    let remembered: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&login_file).expect("login.json"))
            .expect("JSON");
    assert_eq!(
        remembered,
        serde_json::json!({"user": "ada", "sites": {"ada": "North Clinic"}}),
        "the name that logged in and its site, nothing else"
    );
    let draft_files: Vec<PathBuf> = files_under(&drafts)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    assert_eq!(draft_files.len(), 1, "{draft_files:?}");
    assert_eq!(mode(&draft_files[0]), 0o600, "the draft");
    assert!(
        contains_ci(&draft_files[0], PERSON),
        "the draft holds the title"
    );
    let mut dir = draft_files[0].parent();
    while let Some(d) = dir.filter(|d| d.starts_with(&drafts)) {
        assert_eq!(mode(d), 0o700, "{}", d.display());
        dir = d.parent();
    }

    // The log: written, but without the failed login's name, the query or any interaction text.
    let text = std::fs::read_to_string(&log).expect("log");
    assert!(text.contains("login refused"), "{text}");
    for secret in [WRONG_NAME, WORD, PERSON, "walkthrough", "not the password"] {
        assert!(
            !text.to_lowercase().contains(&secret.to_lowercase()),
            "the log holds {secret:?}:\n{text}"
        );
    }

    // A command-line search and a failing command: the log keeps neither the query nor names.
    ok(&ifind_in(
        home.path(),
        &t,
        &["search", "--site", "North Clinic", WORD],
    ));
    let failed = ifind_in(home.path(), &t, &["audit", "--user", WRONG_NAME]);
    assert_eq!(failed.status.code(), Some(1));
    assert_eq!(mode(&log), 0o600);

    // Erase the person: afterwards no file under config, state or data mentions them.
    let out = ok(&ifind_in(home.path(), &t, &["erase", "--lead", PERSON]));
    assert!(out.contains("1 unsaved draft"), "{out}");
    let everything = files_under(home.path());
    assert!(everything.iter().any(|p| p == &log), "{everything:?}");
    for file in &everything {
        assert!(
            !contains_ci(file, PERSON),
            "{} still mentions {PERSON}:\n{}",
            file.display(),
            String::from_utf8_lossy(&std::fs::read(file).unwrap_or_default())
        );
        for secret in [WRONG_NAME, WORD] {
            assert!(
                !contains_ci(file, secret),
                "{} holds {secret}",
                file.display()
            );
        }
    }
    let draft = std::fs::read_to_string(&draft_files[0]).expect("draft");
    assert!(draft.contains("Call [erased] back"), "{draft}");
}
