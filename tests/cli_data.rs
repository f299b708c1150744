//! `ifind search`, `import`, `export`, `seed` and `db` through the real binary.

mod common;

use common::{fails, ifind, ifind_app, ok};

async fn admin_and_sites(t: &common::TestDb) {
    common::add_ada(&t.url);
    ok(&ifind(&t.url, &["site", "add", "North"], None));
    ok(&ifind(&t.url, &["site", "add", "South"], None));
}

const GOOD_CSV: &str = "title,type,lead,start,end,timezone,location,description,notes\n\
Quarterly budget review,Meeting,Maria Lopez,2026-01-10 09:00,2026-01-10 10:00,Europe/Berlin,Board Room,\"Budget, forecasts\nand \"\"risks\"\"\",\n\
Harbor inspection,Inspection,Ben Okafor,2026-02-10 07:00,2026-02-10 09:00,Europe/London,,Checked the cranes,ok ✅ שלום\n\
Budget follow-up call,Phone call,Maria Lopez,2026-03-01 16:00,2026-03-01 16:30,America/New_York,,,\n";

#[tokio::test]
async fn import_search_export_round_trip() {
    let t = common::fresh_db().await;
    admin_and_sites(&t).await;
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("in.csv");
    std::fs::write(&file, GOOD_CSV).expect("write");
    let path = file.to_str().expect("utf8");
    let out = ok(&ifind(&t.url, &["import", path, "--site", "North"], None));
    assert!(out.contains("imported 3 interactions into North"), "{out}");

    // Search: table, json, csv; site-scoped.
    let out = ok(&ifind_app(
        &t,
        &["search", "--site", "North", "budget"],
        None,
    ));
    assert!(out.contains("Quarterly budget review"), "{out}");
    assert!(out.contains("Budget follow-up call"), "{out}");
    assert!(!out.contains("Harbor"), "{out}");
    let out = ok(&ifind_app(
        &t,
        &["search", "--site", "South", "budget"],
        None,
    ));
    assert!(
        !out.contains("budget"),
        "another site's rows never appear: {out}"
    );

    let json = ok(&ifind_app(
        &t,
        &[
            "search",
            "--site",
            "North",
            "budget -call",
            "--format",
            "json",
        ],
        None,
    ));
    let doc: serde_json::Value = serde_json::from_str(&json).expect("json");
    let titles: Vec<&str> = doc["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .filter_map(|h| h["title"].as_str())
        .collect();
    assert_eq!(titles, vec!["Quarterly budget review"]);
    assert_eq!(doc["count"], 1);
    assert_eq!(doc["count_exact"], true);

    // Keyset paging through the CLI: page 1 prints the cursor, page 2 continues.
    let first = ifind_app(
        &t,
        &[
            "search", "--site", "North", "--sort", "oldest", "--limit", "2",
        ],
        None,
    );
    let page1 = ok(&first);
    let stderr = String::from_utf8_lossy(&first.stderr).into_owned();
    let cursor = stderr
        .lines()
        .find_map(|l| l.strip_prefix("more: add --after "))
        .expect("a cursor for page 2")
        .trim()
        .to_string();
    assert!(page1.contains("Quarterly budget review") && page1.contains("Harbor inspection"));
    let page2 = ok(&ifind_app(
        &t,
        &[
            "search", "--site", "North", "--sort", "oldest", "--limit", "2", "--after", &cursor,
        ],
        None,
    ));
    assert!(page2.contains("Budget follow-up call"), "{page2}");
    assert!(!page2.contains("Harbor inspection"), "{page2}");

    // Malformed queries still run and say what was ignored.
    let out = ifind_app(
        &t,
        &[
            "search",
            "--site",
            "North",
            "budget from:notadate \"unclosed",
        ],
        None,
    );
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    ok(&out);
    assert!(stderr.contains("note:"), "{stderr}");
    let out = ok(&ifind_app(
        &t,
        &[
            "search",
            "--site",
            "North",
            "'; DROP TABLE interactions; --",
        ],
        None,
    ));
    let _ = out;
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM interactions")
        .fetch_one(&t.db.pool)
        .await
        .expect("table still there");
    assert_eq!(n, 3);

    // Export, then import the export unchanged into another site: same rows.
    let exported = dir.path().join("out.csv");
    ok(&ifind_app(
        &t,
        &[
            "export",
            "--site",
            "North",
            "-o",
            exported.to_str().expect("utf8"),
        ],
        None,
    ));
    ok(&ifind(
        &t.url,
        &[
            "import",
            exported.to_str().expect("utf8"),
            "--site",
            "South",
        ],
        None,
    ));
    let rows = |site: &'static str| {
        let pool = t.db.pool.clone();
        async move {
            sqlx::query_as::<
                _,
                (
                    String,
                    String,
                    String,
                    String,
                    String,
                    String,
                    Option<String>,
                    Option<String>,
                    Option<String>,
                ),
            >(
                "SELECT title, type, lead, start_datetime::text, end_datetime::text, timezone, \
                        location, i.description, notes \
                   FROM interactions i JOIN sites s USING (site_id) WHERE s.name = $1 \
                  ORDER BY start_datetime",
            )
            .bind(site)
            .fetch_all(&pool)
            .await
            .expect("rows")
        }
    };
    let north = rows("North").await;
    assert_eq!(north.len(), 3);
    assert_eq!(north, rows("South").await, "export -> import is lossless");

    // JSON export also reads back.
    let json_out = dir.path().join("out.json");
    ok(&ifind_app(
        &t,
        &[
            "export",
            "--site",
            "North",
            "budget",
            "--format",
            "json",
            "-o",
            json_out.to_str().expect("utf8"),
        ],
        None,
    ));
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json_out).expect("read")).expect("json");
    assert_eq!(doc.as_array().map(Vec::len), Some(2));
}

/// The content lines of an iCalendar text, unfolded (CRLF and one space removed), after checking
/// that every physical line ends in CRLF and has at most 75 octets.
fn ics_lines(ics: &str) -> Vec<String> {
    assert!(ics.ends_with("\r\n"), "ends in CRLF: {ics:?}");
    for line in ics.split("\r\n") {
        assert!(
            !line.contains('\n') && !line.contains('\r'),
            "a bare line break: {line:?}"
        );
        assert!(line.len() <= 75, "{} octets: {line:?}", line.len());
    }
    ics.replace("\r\n ", "")
        .split("\r\n")
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn an_ics_export_is_a_calendar_of_the_search() {
    let t = common::fresh_db().await;
    admin_and_sites(&t).await;
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("in.csv");
    // A long description with commas, a semicolon, a backslash and a line break, to fold.
    let long = "Budget, forecasts; risks \\ all of them. ".repeat(4);
    let csv = format!(
        "title,type,lead,start,end,timezone,location,description,notes\n\
Quarterly budget review,Meeting,Maria Lopez,2026-01-10 09:00,2026-01-10 10:00,Europe/Berlin,\"Board Room, 2nd floor\",\"{long}\nNext line\",\n\
Harbor inspection,Inspection,Ben Okafor,2026-02-10 07:00,2026-02-10 09:00,Europe/London,,,\n\
Budget follow-up call,Phone call,María López,2026-03-01 16:00,2026-03-01 16:30,America/New_York,,,\n"
    );
    std::fs::write(&file, csv).expect("write");
    let path = file.to_str().expect("utf8");
    ok(&ifind(&t.url, &["import", path, "--site", "North"], None));
    let ids: Vec<i32> = sqlx::query_scalar(
        "SELECT interaction_id FROM interactions WHERE title ILIKE '%budget%' ORDER BY start_datetime",
    )
    .fetch_all(&t.db.pool)
    .await
    .expect("ids");
    assert_eq!(ids.len(), 2);

    let out = dir.path().join("north.ics");
    ok(&ifind_app(
        &t,
        &[
            "export",
            "--site",
            "North",
            "budget",
            "--format",
            "ics",
            "-o",
            out.to_str().expect("utf8"),
        ],
        None,
    ));
    let ics = std::fs::read_to_string(&out).expect("read the calendar");
    let lines = ics_lines(&ics);
    assert_eq!(lines.first().map(String::as_str), Some("BEGIN:VCALENDAR"));
    assert_eq!(lines.last().map(String::as_str), Some("END:VCALENDAR"));
    for needed in ["VERSION:2.0", "X-WR-CALNAME:North"] {
        assert!(lines.iter().any(|l| l == needed), "{needed}: {lines:#?}");
    }
    assert!(lines.iter().any(|l| l.starts_with("PRODID:")), "{lines:#?}");
    // One event per match of the search, oldest first; Harbor does not match.
    let events: Vec<&[String]> = lines.split(|l| l == "BEGIN:VEVENT").skip(1).collect();
    assert_eq!(events.len(), 2, "{ics}");
    assert!(!ics.contains("Harbor"), "{ics}");
    let field = |event: &[String], name: &str| {
        event
            .iter()
            .find_map(|l| l.strip_prefix(&format!("{name}:")).map(str::to_string))
            .unwrap_or_else(|| panic!("{name} missing from {event:#?}"))
    };
    let first = events[0];
    assert_eq!(field(first, "UID"), format!("interaction-{}@ifind", ids[0]));
    // 09:00 in Berlin in January is 08:00 UTC.
    assert_eq!(field(first, "DTSTART"), "20260110T080000Z");
    assert_eq!(field(first, "DTEND"), "20260110T090000Z");
    assert_eq!(field(first, "SUMMARY"), "Quarterly budget review");
    assert_eq!(field(first, "LOCATION"), "Board Room\\, 2nd floor");
    let description = field(first, "DESCRIPTION");
    assert!(
        description.starts_with("Type: Meeting\\nLead: Maria Lopez\\nTimezone: Europe/Berlin\\n\\nBudget\\, forecasts\\; risks \\\\ all"),
        "{description}"
    );
    assert!(description.ends_with("\\nNext line"), "{description}");
    let stamp = field(first, "DTSTAMP");
    assert!(stamp.len() == 16 && stamp.ends_with('Z'), "{stamp}");
    assert!(first.iter().any(|l| l == "END:VEVENT"));
    let second = events[1];
    assert_eq!(field(second, "DTSTART"), "20260301T210000Z");
    assert_eq!(field(second, "DTEND"), "20260301T213000Z");
    assert!(
        field(second, "DESCRIPTION").contains("Lead: María López"),
        "{second:#?}"
    );
    // The long description was folded (the raw file has continuation lines).
    assert!(ics.contains("\r\n "), "folded: {ics}");
    // Another site's interactions never appear, and the same words find nothing there.
    let south = ok(&ifind_app(
        &t,
        &["export", "--site", "South", "budget", "--format", "ics"],
        None,
    ));
    let lines = ics_lines(&south);
    assert!(!lines.iter().any(|l| l == "BEGIN:VEVENT"), "{south}");
    assert_eq!(lines.last().map(String::as_str), Some("END:VCALENDAR"));
}

#[tokio::test]
async fn the_search_table_shows_starts_in_the_display_timezone_and_names_it() {
    let t = common::fresh_db().await;
    admin_and_sites(&t).await;
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("in.csv");
    std::fs::write(&file, GOOD_CSV).expect("write");
    ok(&ifind(
        &t.url,
        &["import", file.to_str().expect("utf8"), "--site", "North"],
        None,
    ));
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "[ui]\ntimezone = \"Asia/Tokyo\"\n").expect("write config");
    let config = config.to_str().expect("utf8");
    let out = ok(&ifind_app(
        &t,
        &[
            "--config", config, "search", "--site", "North", "--sort", "oldest",
        ],
        None,
    ));
    assert!(out.contains("START (Asia/Tokyo)"), "{out}");
    // 09:00 in Berlin (08:00 UTC), 07:00 in London (07:00 UTC), 16:00 in New York (21:00 UTC),
    // each shown in Tokyo (UTC+9), oldest first.
    let starts: Vec<String> = out
        .lines()
        .skip(1)
        .map(|l| {
            l.split_whitespace()
                .skip(1)
                .take(2)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    assert_eq!(
        starts,
        ["2026-01-10 17:00", "2026-02-10 16:00", "2026-03-02 06:00"],
        "{out}"
    );
    // A zone that does not exist stops the command before anything runs, saying how to fix it.
    std::fs::write(
        dir.path().join("bad.toml"),
        "[ui]\ntimezone = \"Europe/Lodnon\"\n",
    )
    .expect("write config");
    let bad = dir.path().join("bad.toml");
    let out = ifind_app(
        &t,
        &[
            "--config",
            bad.to_str().expect("utf8"),
            "search",
            "--site",
            "North",
        ],
        None,
    );
    let stderr = fails(&out, 2);
    assert!(stderr.contains("ui.timezone"), "{stderr}");
    assert!(stderr.contains("did you mean Europe/London"), "{stderr}");
}

#[tokio::test]
async fn an_import_with_bad_rows_imports_nothing_and_names_each_line() {
    let t = common::fresh_db().await;
    admin_and_sites(&t).await;
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("bad.csv");
    let csv = "title,type,lead,start,end,timezone,location,description,notes\n\
Good row,Meeting,Maria Lopez,2026-01-10 09:00,2026-01-10 10:00,Europe/Berlin,,,\n\
,Meeting,Maria Lopez,2026-01-10 09:00,2026-01-10 10:00,Europe/Berlin,,,\n\
Good row 2,Meeting,Maria Lopez,2026-01-10 09:00,2026-01-10 10:00,Europe/Berlin,,\"multi\nline\",\n\
Backwards,Meeting,Maria Lopez,2026-01-10 09:00,2026-01-09 10:00,Europe/Berlin,,,\n\
Bad zone,Meeting,Maria Lopez,2026-01-10 09:00,2026-01-10 10:00,Mars/Olympus,,,\n\
DST gap,Meeting,Maria Lopez,2026-03-29 01:30,2026-03-29 03:00,Europe/London,,,\n\
Far future,Meeting,Maria Lopez,9999-12-31 10:00,9999-12-31 23:00,America/Los_Angeles,,,\n";
    std::fs::write(&file, csv).expect("write");
    let err = fails(
        &ifind(
            &t.url,
            &["import", file.to_str().expect("utf8"), "--site", "North"],
            None,
        ),
        1,
    );
    assert!(err.contains("line 3") && err.contains("title"), "{err}");
    assert!(err.contains("line 6") && err.contains("end"), "{err}");
    assert!(err.contains("line 7") && err.contains("timezone"), "{err}");
    assert!(
        err.contains("line 8") && err.contains("does not exist"),
        "{err}"
    );
    assert!(
        err.contains("line 9") && err.contains("year 10000"),
        "{err}"
    );
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM interactions")
        .fetch_one(&t.db.pool)
        .await
        .expect("count");
    assert_eq!(n, 0, "all rows or none");

    let err = fails(
        &ifind(
            &t.url,
            &["import", "/nonexistent/file.csv", "--site", "North"],
            None,
        ),
        1,
    );
    assert!(err.contains("cannot open"), "{err}");
    std::fs::write(&file, GOOD_CSV).expect("write");
    let err = fails(
        &ifind(
            &t.url,
            &["import", file.to_str().expect("utf8"), "--site", "Nowhere"],
            None,
        ),
        1,
    );
    assert!(err.contains("no site named"), "{err}");
}

#[tokio::test]
async fn seed_then_search_the_largest_site() {
    let t = common::fresh_db().await;
    let out = ok(&ifind(
        &t.url,
        &[
            "seed",
            "--sites",
            "5",
            "--interactions",
            "2000",
            "--seed",
            "7",
        ],
        None,
    ));
    assert!(out.contains("2,000 interactions"), "{out}");
    // Searches act as a user through the application role: a global administrator reads every
    // site (the seed makes site members but no global administrator).
    let mut add_admin = common::ADD_ADA.to_vec();
    add_admin.push("--admin");
    ok(&ifind(&t.url, &add_admin, Some(common::ADA_PASSWORD)));
    let largest = out
        .lines()
        .find_map(|l| l.strip_prefix("largest site: "))
        .and_then(|l| l.rsplit_once(" ("))
        .map(|(name, _)| name.to_string())
        .expect("largest site named");
    let json = ok(&ifind_app(
        &t,
        &[
            "search", "--site", &largest, "--sort", "newest", "--format", "json", "--limit", "5",
        ],
        None,
    ));
    let doc: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(doc["hits"].as_array().map(Vec::len), Some(5));
    let site_id: i32 = sqlx::query_scalar("SELECT site_id FROM sites WHERE name = $1")
        .bind(&largest)
        .fetch_one(&t.db.pool)
        .await
        .expect("site");
    for hit in doc["hits"].as_array().into_iter().flatten() {
        assert_eq!(hit["site_id"], site_id);
    }
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM interactions")
        .fetch_one(&t.db.pool)
        .await
        .expect("count");
    assert_eq!(n, 2000);
    let err = fails(
        &ifind(
            &t.url,
            &["seed", "--sites", "10", "--interactions", "5"],
            None,
        ),
        1,
    );
    assert!(err.contains("smaller than --sites"), "{err}");
}

/// The embedded cluster end to end through the binary, with its own data dir.
#[tokio::test]
async fn embedded_cluster_commands() {
    let home = tempfile::Builder::new()
        .prefix("ifind-emb-")
        .tempdir_in("/tmp")
        .expect("dir");
    // The server's OS user must reach the directory when we run as root.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(home.path(), std::fs::Permissions::from_mode(0o755))
            .expect("chmod");
    }
    let config = home.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[embedded]\ndata_dir = \"{}\"\nfallback_dir = \"{}\"\nlogin_max_failures = 3\n\
             login_lockout_secs = 2\n",
            home.path().join("pg").display(),
            home.path().join("fallback").display()
        ),
    )
    .expect("config");
    let cfg = config.to_str().expect("utf8");
    let run = |args: &[&str], stdin: Option<&str>| {
        let mut all = vec!["--config", cfg];
        all.extend_from_slice(args);
        common::ifind_embedded(&all, stdin)
    };
    let status = ok(&run(&["db", "status"], None));
    assert!(status.contains("stopped"), "{status}");
    let out = ok(&run(&["db", "start"], None));
    assert!(out.contains("running"), "{out}");
    // Any command uses it, creating and migrating the database on first use.
    ok(&run(&common::ADD_ADA, Some(common::ADA_PASSWORD)));
    ok(&run(&["site", "add", "North"], None));
    let list = ok(&run(&["site", "list"], None));
    assert!(list.contains("North"), "{list}");
    let status = ok(&run(&["db", "status"], None));
    assert!(status.contains("running"), "{status}");
    assert!(status.contains("socket"), "{status}");
    // The lockout module (which scripts/test installs) with the configured settings, as the
    // running server itself reports them.
    assert!(
        status.contains("lockout:    after 3 failed logins a user name waits 2 s (ifind_auth)"),
        "{status}"
    );
    let health = ok(&run(&["health"], None));
    let line = health
        .lines()
        .find(|l| l.starts_with("login lockout"))
        .unwrap_or_default();
    assert!(
        line.contains("ok") && line.contains("after 3 failed logins a user name waits 2 s"),
        "{health}"
    );
    let out = ok(&run(&["db", "stop"], None));
    assert!(out.contains("stopped"), "{out}");
    let status = ok(&run(&["db", "status"], None));
    assert!(status.contains("stopped"), "{status}");
    // Data survives a stop and an on-demand start.
    let list = ok(&run(&["site", "list"], None));
    assert!(list.contains("North"), "{list}");
    ok(&run(&["db", "stop"], None));
    let _ = fails;
}

/// `export -o PATH` never replaces what is at PATH unless it is a regular file: it streams into
/// a FIFO or a character device (which stay what they were), and refuses a symbolic link (whose
/// target is left alone).
#[tokio::test]
async fn export_streams_into_fifos_and_devices_and_refuses_links() {
    use std::os::unix::fs::FileTypeExt;
    let t = common::fresh_db().await;
    admin_and_sites(&t).await;
    common::import_csv(&t.url, "North", GOOD_CSV);
    let dir = tempfile::tempdir().expect("dir");
    let export_to = |path: &std::path::Path| {
        ifind_app(
            &t,
            &[
                "export",
                "--site",
                "North",
                "-o",
                path.to_str().expect("utf8"),
            ],
            None,
        )
    };

    // A FIFO: read by another thread while the export writes into it.
    let fifo = dir.path().join("pipe");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(&fifo).expect("read the fifo"))
    };
    let out = ok(&export_to(&fifo));
    let streamed = reader.join().expect("reader");
    assert!(
        streamed.contains("Quarterly budget review"),
        "{streamed}{out}"
    );
    let kind = std::fs::symlink_metadata(&fifo).expect("stat").file_type();
    assert!(kind.is_fifo(), "still a FIFO");

    // A character device.
    ok(&export_to(std::path::Path::new("/dev/null")));
    let kind = std::fs::symlink_metadata("/dev/null")
        .expect("stat")
        .file_type();
    assert!(kind.is_char_device(), "/dev/null is still a device");

    // A symbolic link: refused, its target untouched.
    let target = dir.path().join("keep.txt");
    std::fs::write(&target, "precious").expect("write");
    let link = dir.path().join("link.csv");
    std::os::unix::fs::symlink(&target, &link).expect("symlink");
    let err = fails(&export_to(&link), 1);
    assert!(err.contains("symbolic link"), "{err}");
    assert_eq!(std::fs::read_to_string(&target).expect("read"), "precious");
    assert!(
        std::fs::symlink_metadata(&link)
            .expect("stat")
            .file_type()
            .is_symlink()
    );
}

/// A file already imported into a site is not imported into it again by mistake: the second
/// import is refused with when and as which import it was loaded, and nothing is doubled;
/// `--again` imports it twice on purpose; another site takes it as any file.
#[tokio::test]
async fn a_file_imported_before_is_refused_unless_again() {
    let t = common::fresh_db().await;
    admin_and_sites(&t).await;
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("in.csv");
    std::fs::write(&file, GOOD_CSV).expect("write");
    let path = file.to_str().expect("utf8");
    let count = |site: &'static str| {
        let pool = t.db.pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(
                "SELECT count(*) FROM interactions i JOIN sites s USING (site_id) WHERE s.name = $1",
            )
            .bind(site)
            .fetch_one(&pool)
            .await
            .expect("count")
        }
    };
    ok(&ifind(&t.url, &["import", path, "--site", "North"], None));
    assert_eq!(count("North").await, 3);
    let err = fails(
        &ifind(&t.url, &["import", path, "--site", "North"], None),
        1,
    );
    assert!(
        err.contains("was imported into North on") && err.contains("--again"),
        "{err}"
    );
    assert_eq!(count("North").await, 3, "nothing doubled");
    ok(&ifind(
        &t.url,
        &["import", path, "--site", "North", "--again"],
        None,
    ));
    assert_eq!(count("North").await, 6);
    ok(&ifind(&t.url, &["import", path, "--site", "South"], None));
    assert_eq!(count("South").await, 3);
    let recorded: i64 = sqlx::query_scalar("SELECT count(*) FROM imports")
        .fetch_one(&t.db.pool)
        .await
        .expect("imports");
    assert_eq!(recorded, 3, "every import is recorded with its rows");
}

/// An export imported back into its own site is refused (its rows would be doubled) unless
/// --update writes its values over the interactions of its ids (rows without one are added), or
/// --again adds it all; into another site it is simply imported.
#[tokio::test]
async fn an_export_imported_into_its_own_site_is_refused_or_updates_with_update() {
    let t = common::fresh_db().await;
    admin_and_sites(&t).await;
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("in.csv");
    std::fs::write(&file, GOOD_CSV).expect("write");
    ok(&ifind(
        &t.url,
        &["import", file.to_str().expect("utf8"), "--site", "North"],
        None,
    ));
    let exported = dir.path().join("north.csv");
    let out_path = exported.to_str().expect("utf8");
    ok(&ifind_app(
        &t,
        &["export", "--site", "North", "-o", out_path],
        None,
    ));
    let rows = |site: &'static str| {
        let pool = t.db.pool.clone();
        async move {
            sqlx::query_as::<_, (String, i32)>(
                "SELECT title, version FROM interactions i JOIN sites s USING (site_id) \
                  WHERE s.name = $1 ORDER BY title",
            )
            .bind(site)
            .fetch_all(&pool)
            .await
            .expect("rows")
        }
    };
    let before = rows("North").await;
    assert_eq!(before.len(), 3);

    let err = fails(
        &ifind(&t.url, &["import", out_path, "--site", "North"], None),
        1,
    );
    assert!(
        err.contains("3 rows of") && err.contains("--update") && err.contains("--again"),
        "{err}"
    );
    assert_eq!(rows("North").await, before, "nothing doubled or changed");

    // Edited in a spreadsheet: one title changed, one new row without an id.
    let text = std::fs::read_to_string(&exported).expect("read the export");
    let mut edited = text.replace("Harbor inspection", "Harbour inspection (cranes)");
    edited.push_str(
        "Budget wrap-up,Meeting,Maria Lopez,2026-04-01 09:00,2026-04-01 10:00,Europe/Berlin,,,,\
         ,,,,,\n",
    );
    std::fs::write(&exported, edited).expect("write the edited export");
    let out = ok(&ifind(
        &t.url,
        &["import", out_path, "--site", "North", "--update"],
        None,
    ));
    assert!(
        out.contains("imported 1 interaction into North and updated 3 interactions"),
        "{out}"
    );
    let after = rows("North").await;
    assert_eq!(after.len(), 4, "{after:?}");
    assert!(
        after
            .iter()
            .any(|(title, version)| title == "Harbour inspection (cranes)" && *version == 2),
        "{after:?}"
    );
    assert!(!after.iter().any(|(title, _)| title == "Harbor inspection"));

    // Into another site, the ids mean nothing there: every row is new.
    let out = ok(&ifind(
        &t.url,
        &["import", out_path, "--site", "South"],
        None,
    ));
    assert!(out.contains("imported 4 interactions into South"), "{out}");
}

/// A text with too many different words for PostgreSQL's search index is refused before
/// anything is loaded, with its line and field (the database itself would refuse it, without
/// them, as the direct insert shows); a long text of ordinary prose is imported.
#[tokio::test]
async fn a_text_too_large_for_the_search_index_is_refused_with_its_line() {
    let t = common::fresh_db().await;
    admin_and_sites(&t).await;
    let many: Vec<String> = (0..120_000u32).map(|n| format!("w{n:07x}")).collect();
    let many = many.join(" ");
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("big.csv");
    let prose = "The quarterly review went through the figures. ".repeat(20_000);
    std::fs::write(
        &file,
        format!(
            "title,type,lead,start,end,timezone,description\n\
             Long minutes,Meeting,Maria Lopez,2026-01-10 09:00,2026-01-10 10:00,Europe/Berlin,{prose}\n\
             Word list,Meeting,Maria Lopez,2026-01-10 09:00,2026-01-10 10:00,Europe/Berlin,{many}\n"
        ),
    )
    .expect("write");
    let path = file.to_str().expect("utf8");
    let err = fails(
        &ifind(&t.url, &["import", path, "--site", "North"], None),
        1,
    );
    assert!(
        err.contains("line 3") && err.contains("too many different words for the search index"),
        "{err}"
    );
    // What the database says to the same text.
    let direct = sqlx::query(
        "INSERT INTO interactions (site_id, title, type, lead, start_datetime, end_datetime, \
                                   timezone, description, created_by) \
         SELECT s.site_id, 'Word list', 'Meeting', 'Maria', now(), now(), 'UTC', $1, u.user_id \
           FROM sites s, users u WHERE s.name = 'North' LIMIT 1",
    )
    .bind(&many)
    .execute(&t.db.pool)
    .await;
    let said = format!("{direct:?}");
    assert!(said.contains("too long for tsvector"), "{said}");
    // The prose alone goes in.
    std::fs::write(
        &file,
        format!(
            "title,type,lead,start,end,timezone,description\n\
             Long minutes,Meeting,Maria Lopez,2026-01-10 09:00,2026-01-10 10:00,Europe/Berlin,{prose}\n"
        ),
    )
    .expect("write");
    ok(&ifind(&t.url, &["import", path, "--site", "North"], None));
}

/// `ifind search --archive` says which rows come from the archive: an ARCHIVED column in the
/// table, `"archived"` on each JSON hit, a note beside the CSV (whose columns `import` takes).
#[tokio::test]
async fn search_with_the_archive_marks_the_archived_rows() {
    let t = common::fresh_db().await;
    admin_and_sites(&t).await;
    let dir = tempfile::tempdir().expect("dir");
    let old = dir.path().join("old.csv");
    std::fs::write(
        &old,
        "title,type,lead,start,end,timezone\n\
         Budget review of 2019,Meeting,Maria Lopez,2019-01-10 09:00,2019-01-10 10:00,UTC\n",
    )
    .expect("write");
    ok(&ifind(
        &t.url,
        &["import", old.to_str().expect("utf8"), "--site", "North"],
        None,
    ));
    // Everything there is now goes to the archive; then a live row is added.
    let mut conn = t.db.pool.acquire().await.expect("conn");
    let moved = ifind::db::archive::archive_batch(
        &mut conn,
        chrono::Utc::now() + chrono::Duration::days(1),
        100,
    )
    .await
    .expect("archive");
    assert_eq!(moved, 1);
    drop(conn);
    let new = dir.path().join("new.csv");
    std::fs::write(
        &new,
        "title,type,lead,start,end,timezone\n\
         Budget review of 2026,Meeting,Maria Lopez,2026-01-10 09:00,2026-01-10 10:00,UTC\n",
    )
    .expect("write");
    ok(&ifind(
        &t.url,
        &["import", new.to_str().expect("utf8"), "--site", "North"],
        None,
    ));

    let search = |extra: &[&str]| {
        let mut args = vec!["search", "--site", "North", "budget", "--sort", "newest"];
        args.extend_from_slice(extra);
        ifind_app(&t, &args, None)
    };
    // The table: a column, filled on the archived row only.
    let table = ok(&search(&["--archive"]));
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "{table}");
    assert!(lines[0].trim_end().ends_with("ARCHIVED"), "{table}");
    assert!(lines[1].contains("Budget review of 2026"), "{table}");
    assert!(!lines[1].contains("archived"), "{table}");
    assert!(lines[2].contains("Budget review of 2019"), "{table}");
    assert!(lines[2].trim_end().ends_with("archived"), "{table}");
    // Without --archive: no such column, and the archived row is not there.
    let live = ok(&search(&[]));
    assert!(
        !live.contains("ARCHIVED") && !live.contains("2019"),
        "{live}"
    );

    // JSON: every hit says whether it is archived.
    let json = ok(&search(&["--archive", "--format", "json"]));
    let doc: serde_json::Value = serde_json::from_str(&json).expect("json");
    let marks: Vec<(String, bool)> = doc["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .map(|h| {
            (
                h["title"].as_str().unwrap_or("").to_string(),
                h["archived"].as_bool().expect("an archived field"),
            )
        })
        .collect();
    assert_eq!(
        marks,
        vec![
            ("Budget review of 2026".to_string(), false),
            ("Budget review of 2019".to_string(), true)
        ]
    );
    // CSV: the rows as import takes them, and a note on standard error.
    let csv = search(&["--archive", "--format", "csv"]);
    let out = ok(&csv);
    assert!(out.contains("Budget review of 2019"), "{out}");
    let note = String::from_utf8_lossy(&csv.stderr);
    assert!(note.contains("1 row comes from the archive"), "{note}");
}

/// `--site` may be left out by someone who may read one site; with more, the error names them.
#[tokio::test]
async fn search_without_site_uses_the_only_one_or_names_the_choices() {
    let t = common::fresh_db().await;
    common::add_ada(&t.url);
    ok(&ifind(&t.url, &["site", "add", "North"], None));
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("in.csv");
    std::fs::write(&file, GOOD_CSV).expect("write");
    let path = file.to_str().expect("utf8");
    ok(&ifind(&t.url, &["import", path, "--site", "North"], None));
    let out = ok(&ifind_app(&t, &["search", "budget"], None));
    assert!(out.contains("Quarterly budget review"), "{out}");
    let out = ok(&ifind_app(&t, &["export", "--format", "json"], None));
    assert!(out.contains("Harbor inspection"), "{out}");

    ok(&ifind(&t.url, &["site", "add", "South"], None));
    let err = fails(&ifind_app(&t, &["search", "budget"], None), 1);
    assert!(
        err.contains("which site? add --site NAME (you may read 2 sites: \"North\", \"South\""),
        "{err}"
    );
}
