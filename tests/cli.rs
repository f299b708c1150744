//! The `ifind` binary's admin commands against a real PostgreSQL.

mod common;

use common::{fails, ifind, ok};

#[tokio::test]
async fn users_sites_and_roles() {
    let t = common::fresh_db().await;
    let u = t.url.as_str();

    // The first user becomes the first global administrator.
    let out = common::add_ada(u);
    assert!(out.contains("first global administrator"), "{out}");
    let out = ok(&ifind(
        u,
        &[
            "user",
            "add",
            "bob",
            "--email",
            "bob@example.org",
            "--password-stdin",
        ],
        Some("bobs password\n"),
    ));
    assert!(!out.contains("administrator"), "{out}");

    // Duplicates, short passwords and bad emails are refused with a reason, and nothing is added.
    let err = fails(
        &ifind(
            u,
            &[
                "user",
                "add",
                "bob",
                "--email",
                "b2@example.org",
                "--password-stdin",
            ],
            Some("another password\n"),
        ),
        1,
    );
    assert!(err.contains("already exists"), "{err}");
    let err = fails(
        &ifind(
            u,
            &[
                "user",
                "add",
                "cy",
                "--email",
                "cy@example.org",
                "--password-stdin",
            ],
            Some("short\n"),
        ),
        1,
    );
    assert!(err.contains("at least 8"), "{err}");
    let err = fails(
        &ifind(
            u,
            &["user", "add", "dee", "--email", "nope", "--password-stdin"],
            Some("long enough pw\n"),
        ),
        1,
    );
    assert!(err.contains("not an email"), "{err}");

    let mut conn = t.db.pool.acquire().await.expect("conn");
    let rows: Vec<(String, bool, String, Option<String>)> = sqlx::query_as(
        "SELECT username, is_global_admin, password_hash, db_role::text FROM users \
          ORDER BY username",
    )
    .fetch_all(&mut *conn)
    .await
    .expect("users");
    assert_eq!(rows.len(), 2);
    assert_eq!((rows[0].0.as_str(), rows[0].1), ("ada", true));
    assert_eq!((rows[1].0.as_str(), rows[1].1), ("bob", false));
    // Passwords live in each user's own login role (a SCRAM verifier only the server reads);
    // the table holds a marker, never a hash.
    assert_eq!(rows[0].2, "postgresql-login");
    let role = rows[0].3.clone().expect("ada has a login role");
    assert_eq!(role, ifind::db::logins::role_name(&t.name, "ada"));
    let (member, verifier): (bool, Option<String>) = sqlx::query_as(
        "SELECT pg_has_role($1, 'ifind_app', 'MEMBER'), \
                (SELECT rolpassword FROM pg_authid WHERE rolname = $1)",
    )
    .bind(&role)
    .fetch_one(&mut *conn)
    .await
    .expect("role");
    assert!(member, "a member of ifind_app");
    assert!(
        verifier.is_some_and(|v| v.starts_with("SCRAM-SHA-256$4096:")),
        "a SCRAM verifier"
    );

    // Sites.
    ok(&ifind(
        u,
        &["site", "add", "North Office", "--description", "HQ"],
        None,
    ));
    ok(&ifind(u, &["site", "add", "South Office"], None));
    let err = fails(&ifind(u, &["site", "add", "North Office"], None), 1);
    assert!(err.contains("already exists"), "{err}");
    let list = ok(&ifind(u, &["site", "list"], None));
    assert!(
        list.contains("North Office") && list.contains("South Office"),
        "{list}"
    );

    // Roles.
    ok(&ifind(u, &["grant", "bob", "North Office", "editor"], None));
    ok(&ifind(u, &["grant", "bob", "North Office", "viewer"], None));
    let role: String = sqlx::query_scalar(
        "SELECT m.role FROM user_site_mapping m JOIN users u USING (user_id) \
         JOIN sites s USING (site_id) WHERE u.username = 'bob' AND s.name = 'North Office'",
    )
    .fetch_one(&mut *conn)
    .await
    .expect("role");
    assert_eq!(role, "viewer", "a second grant replaces the role");
    let err = fails(
        &ifind(u, &["grant", "bob", "North Office", "owner"], None),
        2,
    );
    assert!(err.contains("owner"), "{err}");
    let err = fails(
        &ifind(u, &["grant", "nobody", "North Office", "viewer"], None),
        1,
    );
    assert!(err.contains("no user named"), "{err}");
    let err = fails(&ifind(u, &["grant", "bob", "Atlantis", "viewer"], None), 1);
    assert!(err.contains("no site named"), "{err}");
    ok(&ifind(u, &["revoke", "bob", "North Office"], None));
    let err = fails(&ifind(u, &["revoke", "bob", "North Office"], None), 1);
    assert!(err.contains("nothing was revoked"), "{err}");

    // Listing and deactivation.
    let list = ok(&ifind(u, &["user", "list", "--format", "json"], None));
    let users: serde_json::Value = serde_json::from_str(&list).expect("json");
    assert_eq!(users.as_array().map(Vec::len), Some(2));
    assert!(
        !list.contains("argon2"),
        "the hash never leaves the database"
    );
    ok(&ifind(u, &["user", "deactivate", "bob"], None));
    ok(&ifind(u, &["site", "deactivate", "South Office"], None));
    let active: Vec<(bool,)> = sqlx::query_as("SELECT is_active FROM users WHERE username = 'bob'")
        .fetch_all(&mut *conn)
        .await
        .expect("bob");
    assert_eq!(active, vec![(false,)]);
    let active: bool =
        sqlx::query_scalar("SELECT is_active FROM sites WHERE name = 'South Office'")
            .fetch_one(&mut *conn)
            .await
            .expect("site");
    assert!(!active);
}

#[tokio::test]
async fn passwd_checks_the_current_password_and_changes_nothing_when_wrong() {
    let t = common::fresh_db().await;
    let u = t.url.as_str();
    common::add_ada(u);
    // Whether the server accepts `password` for ada's own login role.
    let logs_in = |password: &'static str| {
        let url = t.url.clone();
        async move {
            let cfg = ifind::db::DbOptions::default();
            ifind::db::logins::connect_as(&url, "ada", Some(password), &cfg)
                .await
                .is_ok()
        }
    };
    assert!(logs_in("first password").await);
    let err = fails(
        &ifind(
            u,
            &["user", "passwd", "ada", "--password-stdin"],
            Some("wrong password\nnew password 1\n"),
        ),
        1,
    );
    assert!(err.contains("current password is wrong"), "{err}");
    assert!(
        logs_in("first password").await,
        "a wrong password changes nothing"
    );

    ok(&ifind(
        u,
        &["user", "passwd", "ada", "--password-stdin"],
        Some("first password\nnew password 1\n"),
    ));
    assert!(logs_in("new password 1").await);
    assert!(!logs_in("first password").await);

    ok(&ifind(
        u,
        &["user", "passwd", "ada", "--reset", "--password-stdin"],
        Some("reset password 2\n"),
    ));
    assert!(logs_in("reset password 2").await);
    let err = fails(
        &ifind(
            u,
            &["user", "passwd", "zed", "--reset", "--password-stdin"],
            Some("whatever12\n"),
        ),
        1,
    );
    assert!(err.contains("no user named"), "{err}");
}

#[tokio::test]
async fn unreachable_database_fails_fast_with_a_clear_message() {
    // Nothing listens on port 1: every attempt is refused; the command gives up within the
    // configured connect timeout.
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "[database]\nconnect_timeout_secs = 2\n").expect("config");
    let started = std::time::Instant::now();
    let out = ifind(
        "postgres://nobody@127.0.0.1:1/none",
        &["--config", config.to_str().expect("utf8"), "site", "list"],
        None,
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "gave up in time"
    );
    let err = fails(&out, 1);
    assert!(err.contains("cannot connect to the database"), "{err}");
    assert!(err.contains("IFIND_DATABASE_URL"), "{err}");
    // The cause, not the pool's "timed out".
    assert!(err.contains("Connection refused"), "{err}");
    assert!(!err.contains("timed out"), "{err}");
}

#[tokio::test]
async fn bad_config_is_a_usage_error_naming_file_line_and_key() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("config.toml");
    std::fs::write(&path, "[search]\npage_size = 50\ndebounce = 10\n").expect("write");
    let out = ifind(
        "postgres://unused@localhost/x",
        &[
            "--config",
            path.to_str().expect("utf8 path"),
            "site",
            "list",
        ],
        None,
    );
    let err = fails(&out, 2);
    assert!(err.contains("line 3"), "{err}");
    assert!(err.contains("search.debounce"), "{err}");
    assert!(err.contains("config.toml"), "{err}");
}

#[tokio::test]
async fn bad_key_binding_is_a_usage_error_naming_file_line_and_key() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("config.toml");
    std::fs::write(
        &path,
        "[ui]\ntheme = \"light\"\n\n[keys]\nmove_down = [\"j\", \"down\"]\nquit = [\"ctrl-\"]\n",
    )
    .expect("write");
    let out = ifind(
        "postgres://unused@localhost/x",
        &[
            "--config",
            path.to_str().expect("utf8 path"),
            "site",
            "list",
        ],
        None,
    );
    let err = fails(&out, 2);
    assert!(err.contains("config.toml, line 6"), "{err}");
    assert!(err.contains("keys.quit"), "{err}");
    assert!(err.contains("cannot read key \"ctrl-\""), "{err}");
}

#[tokio::test]
async fn usage_errors_exit_2() {
    let out = ifind(
        "postgres://unused@localhost/x",
        &["search", "--sort", "sideways"],
        None,
    );
    fails(&out, 2);
    let out = ifind("postgres://unused@localhost/x", &["frobnicate"], None);
    fails(&out, 2);
}

#[tokio::test]
async fn migrate_reports_the_version_and_refuses_another_major() {
    let t = common::fresh_db().await;
    let out = ok(&ifind(&t.url, &["migrate"], None));
    let current = format!(
        "schema {} is up to date",
        ifind::db::migrate::binary_version()
    );
    assert!(out.contains(&current), "{out}");

    sqlx::query("UPDATE schema_metadata SET version = '2.0.0'")
        .execute(&t.db.pool)
        .await
        .expect("bump");
    let err = fails(&ifind(&t.url, &["site", "list"], None), 1);
    assert!(err.contains("schema is version 2.0.0"), "{err}");
    assert!(err.contains("upgrade ifind"), "{err}");
    let err = fails(&ifind(&t.url, &["migrate"], None), 1);
    assert!(err.contains("2.0.0"), "{err}");
}

/// A user from before login roles (an Argon2id hash, no role) gets their own login role from
/// `ifind user passwd`: their current password is checked against the old hash first.
#[tokio::test]
async fn a_user_from_before_login_roles_gets_one_with_their_password() {
    let t = common::fresh_db().await;
    let hash = ifind::password::hash("old password 1").expect("hash");
    let mut tx = t.db.begin_as(None).await.expect("begin");
    ifind::db::users::insert(&mut tx, "olga", "olga@example.org", &hash, true)
        .await
        .expect("olga");
    tx.commit().await.expect("commit");
    let cfg = ifind::db::DbOptions::default();
    let logs_in = |password: &'static str| {
        let url = t.url.clone();
        let cfg = cfg.clone();
        async move {
            ifind::db::logins::connect_as(&url, "olga", Some(password), &cfg)
                .await
                .is_ok()
        }
    };
    assert!(!logs_in("old password 1").await, "no login role yet");
    let err = fails(
        &ifind(
            &t.url,
            &["user", "passwd", "olga", "--password-stdin"],
            Some("not her password\nnew password 2\n"),
        ),
        1,
    );
    assert!(err.contains("current password is wrong"), "{err}");
    ok(&ifind(
        &t.url,
        &["user", "passwd", "olga", "--password-stdin"],
        Some("old password 1\nnew password 2\n"),
    ));
    assert!(logs_in("new password 2").await);
    let stored: String =
        sqlx::query_scalar("SELECT password_hash FROM users WHERE username = 'olga'")
            .fetch_one(&t.db.pool)
            .await
            .expect("hash");
    assert_eq!(stored, "postgresql-login", "the old hash is gone");
}

/// Output to a pipe whose reader is gone ends the command quietly with 0 (the reader has what
/// it wanted: `ifind user list | head -1`); output to a full disk is an error that says so,
/// exit 1. Never a panic. Each command that prints: lists, health, search, audit.
#[tokio::test]
async fn a_closed_pipe_ends_quietly_and_a_full_disk_is_a_clear_error() {
    let t = common::fresh_db().await;
    let u = t.url.as_str();
    common::add_ada(u);
    ok(&ifind(u, &["site", "add", "Leeds"], None));
    ok(&ifind(u, &["grant", "ada", "Leeds", "admin"], None));
    common::import_csv(
        u,
        "Leeds",
        "title,type,lead,start,end,timezone\n\
         Budget call,Phone call,Maria Lopez,2026-03-01 16:00,2026-03-01 16:30,Europe/London\n",
    );
    let commands: [&[&str]; 7] = [
        &["user", "list"],
        &["site", "list"],
        &["health"],
        &["trash", "--site", "Leeds"],
        &["search", "--site", "Leeds", ""],
        &["search", "--site", "Leeds", "--format", "json", ""],
        &["audit", "--user", "ada"],
    ];
    for args in commands {
        let (reader, writer) = std::io::pipe().expect("a pipe");
        drop(reader);
        let out = common::ifind_app_into(&t, args, writer.into());
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?} into a closed pipe: {err}"
        );
        assert!(!err.contains("panicked"), "{args:?}: {err}");

        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full");
        let out = common::ifind_app_into(&t, args, full.into());
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{args:?} into a full disk: {err}"
        );
        assert!(
            err.contains("cannot write the output") && err.contains("No space left on device"),
            "{args:?}: {err}"
        );
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

/// A config file in another encoding is said to be one (with the line), not taken for a
/// permissions problem; `[keys]` cannot take ctrl-c from quitting.
#[tokio::test]
async fn a_config_that_is_not_utf8_or_takes_ctrl_c_is_refused_with_the_reason() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("config.toml");
    std::fs::write(&path, b"[ui]\ntheme = \"light\"\n# caf\xe9\n").expect("write");
    let config = path.to_str().expect("utf8 path");
    let out = ifind(
        "postgres://unused@localhost/x",
        &["--config", config, "site", "list"],
        None,
    );
    let err = fails(&out, 2);
    assert!(err.contains("not UTF-8") && err.contains("line 3"), "{err}");
    assert!(!err.contains("permission"), "{err}");

    std::fs::write(&path, "[keys]\ncopy = [\"ctrl-c\"]\n").expect("write");
    let out = ifind(
        "postgres://unused@localhost/x",
        &["--config", config, "site", "list"],
        None,
    );
    let err = fails(&out, 2);
    assert!(
        err.contains("keys.copy") && err.contains("ctrl-c always quits"),
        "{err}"
    );
}

/// A log folder that cannot be made (a file in its place) stops nothing: the command runs, says
/// so once, and logs to standard error instead.
#[tokio::test]
async fn an_unusable_log_folder_logs_to_standard_error_instead() {
    let dir = tempfile::tempdir().expect("dir");
    let blocker = dir.path().join("not-a-folder");
    std::fs::write(&blocker, "x").expect("write");
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[database]\nconnect_timeout_secs = 1\n\n[log]\ndir = \"{}\"\n",
            blocker.to_str().expect("utf8")
        ),
    )
    .expect("write");
    let out = ifind(
        "postgres://nobody:nothing@127.0.0.1:1/none",
        &["--config", config.to_str().expect("utf8"), "site", "list"],
        None,
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(
        err.matches("logging to standard error instead").count(),
        1,
        "said once: {err}"
    );
    assert!(err.contains("not-a-folder"), "{err}");
    // The failure is logged on standard error too (the file would have had it).
    assert!(err.contains("the command failed"), "{err}");
}

/// `site delete`: a site without interactions goes (with its roles); one that holds some is
/// refused unless --with-interactions, which removes them with it; only a global administrator
/// may.
#[tokio::test]
async fn site_delete_removes_an_empty_site_and_a_full_one_only_when_asked() {
    let t = common::fresh_db().await;
    let u = t.url.as_str();
    common::add_ada(u);
    ok(&ifind(u, &["site", "add", "Mistake"], None));
    ok(&ifind(u, &["site", "add", "Seeded"], None));
    ok(&ifind(u, &["grant", "ada", "Mistake", "editor"], None));
    common::import_csv(
        u,
        "Seeded",
        "title,type,lead,start,end,timezone\n\
         Budget call,Phone call,Maria Lopez,2026-03-01 16:00,2026-03-01 16:30,Europe/London\n\
         Site visit,Visit,Maria Lopez,2026-03-02 10:00,2026-03-02 11:00,Europe/London\n",
    );

    let out = ok(&ifind(u, &["site", "delete", "Mistake"], None));
    assert!(
        out.contains("deleted site Mistake (it held no interactions)"),
        "{out}"
    );
    let err = fails(&ifind(u, &["site", "delete", "Seeded"], None), 1);
    assert!(
        err.contains("holds 2 interactions") && err.contains("--with-interactions"),
        "{err}"
    );
    let list = ok(&ifind(u, &["site", "list"], None));
    assert!(
        !list.contains("Mistake") && list.contains("Seeded"),
        "{list}"
    );
    let out = ok(&ifind(
        u,
        &["site", "delete", "Seeded", "--with-interactions"],
        None,
    ));
    assert!(
        out.contains("deleted site Seeded and its 2 interactions"),
        "{out}"
    );
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM interactions")
        .fetch_one(&t.db.pool)
        .await
        .expect("count");
    assert_eq!(left, 0);
    let sites: i64 = sqlx::query_scalar("SELECT count(*) FROM sites")
        .fetch_one(&t.db.pool)
        .await
        .expect("count");
    assert_eq!(sites, 0);
}

/// A person's mistake is not the server's trouble: an unknown site is logged as a refusal
/// (WARN), not an ERROR that `ifind health` would count; a database that cannot be reached is.
#[tokio::test]
async fn usage_errors_are_not_logged_as_errors() {
    let t = common::fresh_db().await;
    common::add_ada(&t.url);
    let dir = tempfile::tempdir().expect("dir");
    let logs = dir.path().join("logs");
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[database]\nconnect_timeout_secs = 1\n\n[log]\ndir = \"{}\"\n",
            logs.to_str().expect("utf8")
        ),
    )
    .expect("write");
    let config = config.to_str().expect("utf8");
    fails(
        &ifind(
            &t.url,
            &["--config", config, "site", "deactivate", "Nowhere"],
            None,
        ),
        1,
    );
    let log = std::fs::read_to_string(logs.join("ifind.log")).expect("log");
    assert!(log.contains("the command was refused"), "{log}");
    assert!(!log.contains(" ERROR "), "{log}");
    fails(
        &ifind(
            "postgres://nobody@127.0.0.1:1/none",
            &["--config", config, "site", "list"],
            None,
        ),
        1,
    );
    let log = std::fs::read_to_string(logs.join("ifind.log")).expect("log");
    assert!(
        log.contains(" ERROR ") && log.contains("the command failed"),
        "{log}"
    );
}

/// Site names match regardless of case, and a near miss is answered with the names it is close
/// to (among the sites the person may read).
#[tokio::test]
async fn site_names_match_any_case_and_near_misses_get_a_suggestion() {
    let t = common::fresh_db().await;
    let u = t.url.as_str();
    common::add_ada(u);
    ok(&ifind(u, &["site", "add", "Leeds Office"], None));
    ok(&ifind(u, &["grant", "ada", "leeds office", "editor"], None));
    let out = ok(&common::ifind_app(
        &t,
        &["search", "--site", "LEEDS OFFICE", "--format", "json", ""],
        None,
    ));
    assert!(out.contains("\"site\": \"Leeds Office\""), "{out}");
    let err = fails(&ifind(u, &["site", "deactivate", "Leeds Ofice"], None), 1);
    assert!(
        err.contains("no site named \"Leeds Ofice\"")
            && err.contains("did you mean \"Leeds Office\"?"),
        "{err}"
    );
}

/// Sites and users can be activated again, and (de)activating one that already is so says so
/// and changes nothing.
#[tokio::test]
async fn activate_undoes_deactivate_and_a_second_time_says_it_already_was() {
    let t = common::fresh_db().await;
    let u = t.url.as_str();
    common::add_ada(u);
    ok(&ifind(u, &["site", "add", "Leeds"], None));
    ok(&ifind(
        u,
        &[
            "user",
            "add",
            "bob",
            "--email",
            "bob@example.org",
            "--password-stdin",
        ],
        Some("bobs password\n"),
    ));
    for (kind, name) in [("site", "Leeds"), ("user", "bob")] {
        let out = ok(&ifind(u, &[kind, "deactivate", name], None));
        assert!(out.contains(&format!("deactivated {kind} {name}")), "{out}");
        let out = ok(&ifind(u, &[kind, "deactivate", name], None));
        assert!(
            out.contains(&format!(
                "{kind} {name} was already inactive; nothing changed"
            )),
            "{out}"
        );
        let out = ok(&ifind(u, &[kind, "activate", name], None));
        assert!(out.contains(&format!("activated {kind} {name}")), "{out}");
        let out = ok(&ifind(u, &[kind, "activate", name], None));
        assert!(out.contains("was already active"), "{out}");
    }
    let active: bool = sqlx::query_scalar("SELECT is_active FROM users WHERE username = 'bob'")
        .fetch_one(&t.db.pool)
        .await
        .expect("bob");
    assert!(active);
}
