//! End to end: the real `ifind` binary in a real terminal (tmux, 100x30) against a test database,
//! driven as a person would: log in, pick a site, search, open, create and edit, quit.

mod common;

use chrono::{DateTime, TimeZone, Utc};
use common::tmux::Tmux;
use common::{TestDb, ifind, ok};
use sqlx::Row;

const WIDTH: u16 = 100;
const HEIGHT: u16 = 30;

const NORTH_CSV: &str = "title,type,lead,start,end,timezone,location,description,notes\n\
Harbour inspection with Mira Okafor,Inspection,Mira Okafor,2026-11-21 14:00,2026-11-21 15:30,Europe/London,Pier 7 loading dock,Checked the cranes and the mooring lines,Follow up in spring\n\
Quarterly budget review,Meeting,Jun Park,2026-10-02 09:00,2026-10-02 10:00,Europe/Berlin,Board Room,Forecasts and risks,\n\
Volunteer onboarding call,Phone call,Sam Reyes,2026-09-15 16:00,2026-09-15 16:30,America/New_York,,Walked through the rota,\n";

/// A South Office row that a harbour search would find if the Finder ignored the site.
const SOUTH_CSV: &str = "title,type,lead,start,end,timezone,location,description,notes\n\
Harbour inspection at the Southside wharf,Inspection,Mira Okafor,2026-11-22 14:00,2026-11-22 15:30,Europe/London,South pier,Never shown in North Clinic,\n";

const SOUTH_ONLY: &str = "Southside";

/// A test database with ada (a global admin), two sites and a few interactions in each.
async fn two_sites() -> TestDb {
    let t = common::fresh_db().await;
    common::add_ada(&t.url);
    ok(&ifind(&t.url, &["site", "add", "North Clinic"], None));
    ok(&ifind(&t.url, &["site", "add", "South Office"], None));
    let dir = tempfile::tempdir().expect("temp dir");
    for (site, csv) in [("North Clinic", NORTH_CSV), ("South Office", SOUTH_CSV)] {
        let file = dir.path().join("rows.csv");
        std::fs::write(&file, csv).expect("write csv");
        let path = file.to_str().expect("utf-8 path");
        ok(&ifind(&t.url, &["import", path, "--site", site], None));
    }
    t
}

/// Starts the TUI in tmux with the environment of the harness's `ifind_app`: the test database
/// as the application role (the owner for migrations), a private home for config, state and
/// data, and no other database URL or user.
fn start_tui(t: &TestDb, home: &std::path::Path) -> Tmux {
    start_tui_as(t, home, &[env!("CARGO_BIN_EXE_ifind")])
}

/// [`start_tui`] running `command` (which runs ifind in the end) in its place.
fn start_tui_as(t: &TestDb, home: &std::path::Path, command: &[&str]) -> Tmux {
    let dir = |name: &str| home.join(name).to_str().expect("utf-8 path").to_string();
    let (config, state, data) = (dir("config"), dir("state"), dir("data"));
    Tmux::start(
        command,
        &[
            ("DATABASE_URL", None),
            ("IFIND_USER", None),
            ("IFIND_DATABASE_URL", Some(&t.app_url)),
            ("IFIND_OWNER_URL", Some(&t.url)),
            ("XDG_CONFIG_HOME", Some(&config)),
            ("XDG_STATE_HOME", Some(&state)),
            ("XDG_DATA_HOME", Some(&data)),
        ],
        WIDTH,
        HEIGHT,
    )
}

/// Logs in as ada and picks North Clinic; returns with the Finder showing its interactions and
/// the query line focused.
fn log_in_and_pick_north(tui: &mut Tmux) {
    tui.wait_text("ifind · log in");
    tui.type_text("ada");
    tui.send_keys(&["Tab"]);
    tui.type_text("first password");
    tui.send_keys(&["Enter"]);

    tui.wait_for("the Site picker with both sites", |s| {
        s.contains("Pick a site") && s.contains("North Clinic") && s.contains("South Office")
    });
    tui.type_text("north");
    tui.wait_for("the filter to leave only North Clinic", |s| {
        s.contains("1 of 2") && s.contains("▶ North Clinic") && !s.contains("South Office")
    });
    tui.send_keys(&["Enter"]);

    tui.wait_for("the Finder on North Clinic's latest interactions", |s| {
        s.contains("ada@North Clinic")
            && s.contains("3 matches")
            && s.contains("Harbour inspection with Mira Okafor")
            && s.contains("Quarterly budget review")
            && s.contains("Volunteer onboarding call")
    });
}

/// Quits with `q` from the result list and checks that the terminal was given back intact.
fn quit_and_check_terminal(tui: &mut Tmux) {
    tui.send_keys(&["q"]);
    let exit = tui.wait_for_exit();
    assert_eq!(exit.status, 0, "ifind's exit status");
    assert_eq!(exit.tty, "icanon echo", "raw mode is switched off on exit");
    let screen = tui.screen();
    assert!(
        !screen.contains("ada@North Clinic"),
        "the TUI is gone after the exit:\n{screen}"
    );
    assert_eq!(
        tui.pane_flag("alternate_on"),
        "0",
        "left the alternate screen"
    );
    assert_eq!(
        tui.pane_flag("cursor_flag"),
        "1",
        "the cursor is shown again"
    );
    assert_eq!(tui.pane_flag("mouse_any_flag"), "0", "mouse capture is off");
}

#[tokio::test]
async fn log_in_pick_a_site_search_and_open() {
    let t = two_sites().await;
    let home = tempfile::tempdir().expect("temp home");
    let mut tui = start_tui(&t, home.path());
    log_in_and_pick_north(&mut tui);

    // The query line has the focus: typing searches as you type.
    tui.type_text("harbour");
    tui.wait_for("only the harbour inspection to be listed", |s| {
        s.contains("1 match ")
            && s.contains("Harbour inspection with Mira Okafor")
            && !s.contains("Quarterly budget review")
            && !s.contains("Volunteer onboarding call")
    });

    tui.send_keys(&["Enter"]);
    tui.wait_for("the detail pane", |s| {
        s.contains("Detail")
            && s.contains("Checked the cranes and the mooring lines")
            && s.contains("Follow up in spring")
    });

    tui.send_keys(&["Escape"]);
    tui.wait_gone("Checked the cranes and the mooring lines");
    quit_and_check_terminal(&mut tui);
    tui.assert_never_seen(SOUTH_ONLY);
}

/// The unique word in the title of the interaction the form creates.
const WORD: &str = "Zephyrine";
const TITLE: &str = "Zephyrine floor plan walkthrough";

#[tokio::test]
async fn create_find_and_edit_through_the_form() {
    let t = two_sites().await;
    let home = tempfile::tempdir().expect("temp home");
    let mut tui = start_tui(&t, home.path());
    log_in_and_pick_north(&mut tui);

    // Esc moves the focus from the query line to the list, where `n` means "new".
    tui.send_keys(&["Escape"]);
    tui.wait_text("?: help");
    tui.send_keys(&["n"]);
    tui.wait_text("New interaction");

    // Each value is typed and seen on screen before moving on, as a person would.
    let fill = |tui: &mut Tmux, clear: bool, value: &str| {
        if clear {
            tui.send_keys(&["C-u"]);
        }
        tui.type_text(value);
        tui.wait_text(value);
    };
    fill(&mut tui, false, TITLE);
    tui.send_keys(&["Tab"]);
    fill(&mut tui, false, "Meeting");
    tui.send_keys(&["Tab"]);
    fill(&mut tui, false, "Jun Park");
    tui.send_keys(&["Tab"]);
    fill(&mut tui, true, "2026-12-01 09:30");
    tui.send_keys(&["Tab"]);
    fill(&mut tui, true, "2026-12-01 10:15");
    tui.send_keys(&["Tab"]);
    fill(&mut tui, true, "Europe/Berlin");
    tui.send_keys(&["Tab"]);
    fill(&mut tui, false, "Room 4");
    tui.send_keys(&["Tab"]);
    fill(&mut tui, false, "Walk the ground floor first.");
    tui.send_keys(&["Enter"]);
    fill(&mut tui, false, "Then the loading bay.");
    tui.send_keys(&["Tab"]);
    fill(&mut tui, false, "Bring the 2019 drawings");
    tui.send_keys(&["C-s"]);
    let saved = format!("saved \"{TITLE}\"");
    tui.wait_for("the form to close with a saved notice", |s| {
        s.contains(&saved) && !s.contains("New interaction")
    });

    // Find it again through the query line.
    tui.send_keys(&["/"]);
    tui.wait_text("f1 help");
    tui.type_text(WORD);
    tui.wait_for("the new interaction to be the only match", |s| {
        s.contains("1 match ") && s.contains(TITLE) && s.contains("Meeting · Jun Park · Room 4")
    });

    // Edit its location.
    tui.send_keys(&["Escape"]);
    tui.wait_text("?: help");
    tui.send_keys(&["e"]);
    tui.wait_for("the edit form, prefilled", |s| {
        s.contains("Edit interaction")
            && s.contains(TITLE)
            && s.contains("Jun Park")
            && s.contains("2026-12-01 09:30")
            && s.contains("Europe/Berlin")
            && s.contains("Room 4")
            && s.contains("Then the loading bay.")
    });
    // Title, Type, Lead, Start, End, Timezone, then Location.
    for _ in 0..6 {
        tui.send_keys(&["Tab"]);
    }
    tui.send_keys(&["C-u"]);
    tui.type_text("Room 5");
    tui.wait_text("Room 5");
    tui.send_keys(&["C-s"]);
    tui.wait_for("the form to close with the edit saved", |s| {
        s.contains(&saved)
            && !s.contains("Edit interaction")
            && s.contains("Meeting · Jun Park · Room 5")
    });

    quit_and_check_terminal(&mut tui);
    tui.assert_never_seen(SOUTH_ONLY);

    // The database holds exactly what was typed.
    let ada: i32 = sqlx::query_scalar("SELECT user_id FROM users WHERE username = 'ada'")
        .fetch_one(&t.db.pool)
        .await
        .expect("ada's id");
    let north: i32 = sqlx::query_scalar("SELECT site_id FROM sites WHERE name = 'North Clinic'")
        .fetch_one(&t.db.pool)
        .await
        .expect("North Clinic's id");
    let rows = sqlx::query(
        "SELECT site_id, title, type, lead, start_datetime, end_datetime, timezone, location, \
         description, notes, version, created_by, updated_by, deleted_at \
         FROM interactions WHERE title = $1",
    )
    .bind(TITLE)
    .fetch_all(&t.db.pool)
    .await
    .expect("read the new interaction");
    assert_eq!(rows.len(), 1, "exactly one row titled {TITLE:?}");
    let row = &rows[0];
    let utc = |h, m| Utc.with_ymd_and_hms(2026, 12, 1, h, m, 0).single();
    assert_eq!(row.get::<i32, _>("site_id"), north);
    assert_eq!(row.get::<String, _>("type"), "Meeting");
    assert_eq!(row.get::<String, _>("lead"), "Jun Park");
    assert_eq!(
        Some(row.get::<DateTime<Utc>, _>("start_datetime")),
        utc(8, 30)
    );
    assert_eq!(
        Some(row.get::<DateTime<Utc>, _>("end_datetime")),
        utc(9, 15)
    );
    assert_eq!(row.get::<String, _>("timezone"), "Europe/Berlin");
    assert_eq!(
        row.get::<Option<String>, _>("location").as_deref(),
        Some("Room 5")
    );
    assert_eq!(
        row.get::<Option<String>, _>("description").as_deref(),
        Some("Walk the ground floor first.\nThen the loading bay.")
    );
    assert_eq!(
        row.get::<Option<String>, _>("notes").as_deref(),
        Some("Bring the 2019 drawings")
    );
    assert_eq!(row.get::<i32, _>("version"), 2);
    assert_eq!(row.get::<i32, _>("created_by"), ada);
    assert_eq!(row.get::<Option<i32>, _>("updated_by"), Some(ada));
    assert_eq!(row.get::<Option<DateTime<Utc>>, _>("deleted_at"), None);
}

/// Two people on North Clinic at once: what one saves appears on the other's screen within a
/// moment, without a key pressed there (LISTEN/NOTIFY).
#[tokio::test]
async fn a_save_in_one_window_appears_in_the_other() {
    let t = two_sites().await;
    let (home_a, home_b) = (
        tempfile::tempdir().expect("temp home"),
        tempfile::tempdir().expect("temp home"),
    );
    let mut watcher = start_tui(&t, home_b.path());
    log_in_and_pick_north(&mut watcher);
    watcher.send_keys(&["Escape"]);
    watcher.wait_text("?: help");

    let mut editor = start_tui(&t, home_a.path());
    log_in_and_pick_north(&mut editor);
    editor.send_keys(&["Escape"]);
    editor.wait_text("?: help");
    editor.send_keys(&["n"]);
    editor.wait_text("New interaction");
    for (value, clear) in [
        ("Quokka count at the pier", false),
        ("Survey", false),
        ("Ana Lima", false),
    ] {
        if clear {
            editor.send_keys(&["C-u"]);
        }
        editor.type_text(value);
        editor.wait_text(value);
        editor.send_keys(&["Tab"]);
    }
    editor.send_keys(&["C-s"]);
    editor.wait_text("saved \"Quokka count at the pier\"");

    // Nothing is pressed in the watcher's window.
    watcher.wait_for("the other person's new interaction to appear", |s| {
        s.contains("Quokka count at the pier") && s.contains("4 matches")
    });
    quit_and_check_terminal(&mut watcher);
    quit_and_check_terminal(&mut editor);
}

/// A TUI started where a crashed one left its screen (the alternate screen still on, with its
/// text) clears it first: nothing of the old screen shows through the new one's blank cells.
#[tokio::test]
async fn a_start_after_a_crash_clears_what_the_crashed_one_left() {
    let t = common::fresh_db().await;
    common::add_ada(&t.url);
    let home = tempfile::tempdir().expect("temp home");
    let leftover = "printf '\\033[?1049h\\033[25;10HLEFT-BY-A-CRASH\\033[3;60HSTALE'; exec \"$0\"";
    let mut tui = start_tui_as(
        &t,
        home.path(),
        &["sh", "-c", leftover, env!("CARGO_BIN_EXE_ifind")],
    );
    let screen = tui.wait_text("ifind · log in");
    assert!(
        !screen.contains("LEFT-BY-A-CRASH") && !screen.contains("STALE"),
        "the old screen shows through:\n{screen}"
    );
    tui.send_keys(&["Escape"]);
    assert_eq!(tui.wait_for_exit().status, 0);
}

/// Sends `signal` to the program under test.
fn signal(tui: &Tmux, signal: &str) {
    let pid = tui.program_pid().to_string();
    let sent = std::process::Command::new("kill")
        .args(["-s", signal, &pid])
        .status()
        .expect("kill");
    assert!(sent.success(), "kill -s {signal} {pid}");
}

/// SIGTERM (as `kill` or a shutdown sends it) ends ifind as `q` does: the terminal is given
/// back (cooked mode, main screen, no mouse reporting) and what was typed is in its draft.
#[tokio::test]
async fn sigterm_gives_the_terminal_back_and_keeps_the_draft() {
    let t = two_sites().await;
    let home = tempfile::tempdir().expect("temp home");
    let mut tui = start_tui(&t, home.path());
    log_in_and_pick_north(&mut tui);
    tui.send_keys(&["Escape"]);
    tui.send_keys(&["n"]);
    tui.wait_text("New interaction");
    tui.type_text("Typed before SIGTERM");
    tui.wait_text("Typed before SIGTERM");
    signal(&tui, "TERM");
    let exit = tui.wait_for_exit();
    assert_eq!(exit.status, 0, "ifind's exit status");
    assert_eq!(exit.tty, "icanon echo", "raw mode is switched off");
    assert_eq!(
        tui.pane_flag("alternate_on"),
        "0",
        "left the alternate screen"
    );
    assert_eq!(tui.pane_flag("mouse_any_flag"), "0", "mouse capture is off");
    let mut folders = vec![home.path().join("state")];
    let mut kept = false;
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                folders.push(path);
            } else if path.to_string_lossy().contains("drafts")
                && std::fs::read_to_string(&path).is_ok_and(|t| t.contains("Typed before SIGTERM"))
            {
                kept = true;
            }
        }
    }
    assert!(kept, "the draft holds what was typed");
}

/// Ctrl-Z gives the terminal back and stops ifind; the shell's `fg` (SIGCONT) continues it,
/// and it takes the terminal again and redraws.
#[tokio::test]
async fn ctrl_z_suspends_and_continuing_redraws() {
    let t = two_sites().await;
    let home = tempfile::tempdir().expect("temp home");
    let mut tui = start_tui(&t, home.path());
    log_in_and_pick_north(&mut tui);
    // From the result list, which hides the cursor: the shell gets it back shown.
    tui.send_keys(&["Escape"]);
    tui.wait_for("the list focused", |s| s.contains("press / to search"));
    tui.send_keys(&["C-z"]);
    tui.wait_flag("alternate_on", "0");
    assert_eq!(
        tui.pane_flag("cursor_flag"),
        "1",
        "the cursor is shown while stopped"
    );
    let pid = tui.program_pid();
    let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
    let state = state
        .rsplit_once(')')
        .map(|(_, rest)| rest.trim_start().chars().next());
    assert_eq!(state, Some(Some('T')), "stopped");
    signal(&tui, "CONT");
    tui.wait_flag("alternate_on", "1");
    tui.wait_for("the Finder drawn again", |s| {
        s.contains("ada@North Clinic") && s.contains("Quarterly budget review")
    });
    tui.send_keys(&["C-c"]);
    assert_eq!(tui.wait_for_exit().status, 0);
}

/// The first run through the real binary: on a database with no user, `ifind` opens the
/// first-run screen; the administrator and site made there log in (the name filled in) and
/// open the new site at once.
#[tokio::test]
async fn the_first_run_creates_the_administrator_and_the_site_then_logs_in() {
    let t = common::fresh_db().await;
    let home = tempfile::tempdir().expect("temp home");
    let mut tui = start_tui(&t, home.path());
    tui.wait_text("ifind · first run");
    for value in [
        "Harbor Street Office",
        "ada",
        "ada@example.org",
        "first password",
    ] {
        tui.type_text(value);
        tui.send_keys(&["Enter"]);
    }
    // A different repeat is named, and the rest stays.
    tui.type_text("first passwort");
    tui.send_keys(&["Enter"]);
    tui.wait_text("the two passwords differ");
    tui.send_keys(&["BSpace"]);
    tui.type_text("d");
    tui.send_keys(&["Enter"]);
    let screen = tui.wait_text("ifind · log in");
    assert!(
        screen.contains("created ada and site Harbor Street Office"),
        "{screen}"
    );
    assert!(!screen.contains("first password"), "{screen}");
    tui.type_text("first password");
    tui.send_keys(&["Enter"]);
    tui.wait_for("the Finder on the new site", |s| {
        s.contains("ada@Harbor Street Office (admin)") && s.contains("no interactions yet")
    });
    quit_and_check_terminal_at(&mut tui, "ada@Harbor Street Office");
    let users: Vec<(String, bool)> = sqlx::query_as("SELECT username, is_global_admin FROM users")
        .fetch_all(&t.db.pool)
        .await
        .expect("users");
    assert_eq!(users, vec![("ada".to_string(), true)]);
}

/// Quits with `q` from the Finder's query line (Esc first) and checks the exit status.
fn quit_and_check_terminal_at(tui: &mut Tmux, gone: &str) {
    tui.send_keys(&["Escape"]);
    tui.wait_text("?: help");
    tui.send_keys(&["q"]);
    let exit = tui.wait_for_exit();
    assert_eq!(exit.status, 0, "ifind's exit status");
    assert!(
        !tui.screen().contains(gone),
        "the TUI is gone after the exit"
    );
}
