//! The real `ifind` binary in tmux, left idle on the Finder while its private PostgreSQL is
//! stopped (`-m fast`, then `-m immediate`) and started again: the status line says the
//! connection is lost and that it retries, then that it is back; what was typed meanwhile stays,
//! and searching works again without restarting the app.

mod common;
#[path = "common/faults.rs"]
mod kit;

use common::tmux::Tmux;
use common::{ifind, ok};
use kit::PrivateCluster;

const CSV: &str = "title,type,lead,start,end,timezone,location,description,notes\n\
Harbour inspection with Mira Okafor,Inspection,Mira Okafor,2026-11-21 14:00,2026-11-21 15:30,Europe/London,Pier 7,Checked the cranes,\n\
Quarterly budget review,Meeting,Jun Park,2026-10-02 09:00,2026-10-02 10:00,Europe/Berlin,Board Room,Forecasts,\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_app_shows_the_lost_connection_and_recovers_by_itself() {
    let cluster = PrivateCluster::start().await;
    common::add_ada(&cluster.owner_url);
    ok(&ifind(
        &cluster.owner_url,
        &["site", "add", "North Clinic"],
        None,
    ));
    let home = tempfile::tempdir().expect("temp home");
    let file = home.path().join("rows.csv");
    std::fs::write(&file, CSV).expect("write csv");
    let path = file.to_str().expect("utf-8 path");
    ok(&ifind(
        &cluster.owner_url,
        &["import", path, "--site", "North Clinic"],
        None,
    ));

    let dir = |name: &str| home.path().join(name).to_str().expect("utf-8").to_string();
    let (config, state, data) = (dir("config"), dir("state"), dir("data"));
    let mut tui = Tmux::start(
        &[env!("CARGO_BIN_EXE_ifind")],
        &[
            ("DATABASE_URL", None),
            ("IFIND_USER", None),
            ("IFIND_DATABASE_URL", Some(&cluster.app_url)),
            ("IFIND_OWNER_URL", Some(&cluster.owner_url)),
            ("XDG_CONFIG_HOME", Some(&config)),
            ("XDG_STATE_HOME", Some(&state)),
            ("XDG_DATA_HOME", Some(&data)),
        ],
        100,
        30,
    );
    tui.wait_text("ifind · log in");
    tui.type_text("ada");
    tui.send_keys(&["Tab"]);
    tui.type_text("first password");
    tui.send_keys(&["Enter"]);
    tui.wait_text("Pick a site");
    tui.send_keys(&["Enter"]);
    tui.wait_for("the Finder with both rows", |s| {
        s.contains("ada@North Clinic") && s.contains("2 matches")
    });

    for (mode, query) in [("fast", "harbour"), ("immediate", "budget")] {
        cluster.stop(mode).await;
        tui.wait_for(&format!("the lost connection after stop -m {mode}"), |s| {
            s.contains("connection lost, retrying in")
        });
        // Typing goes on while the database is away.
        tui.send_keys(&["C-u"]);
        tui.type_text(query);
        tui.wait_text(&format!("/ {query}"));
        cluster.start_again().await;
        tui.wait_for(&format!("the search answered after stop -m {mode}"), |s| {
            s.contains("1 match") && s.contains(&format!("/ {query}")) && !s.contains("lost")
        });
    }
    tui.send_keys(&["C-c"]);
    let exit = tui.wait_for_exit();
    assert_eq!(exit.status, 0);
}
