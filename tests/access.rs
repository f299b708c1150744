//! Logins and the access log under per-user database roles: PostgreSQL checks the password of
//! the user's own role (every failure the same message, each failure delayed by auth_delay
//! where the server loads it); the database records a login in the access log, which global
//! administrators read whole and everyone else only for themselves; refused cross-site
//! commands are logged by the database too. Passwords never reach a log.

mod common;

use std::time::Instant;

use ifind::app::db_backend::PgLoginBackend;
use ifind::app::login::{INVALID, Secret};
use ifind::app::runner::LoginBackend;
use ifind::db::{Db, access, users};
use ifind::domain::failure::Failure;

use common::{fails, ok};

const PASSWORD: &str = "correct horse battery";
const WRONG: &str = "Tr0ub4dor&3 guess";

async fn add_user(db: &Db, name: &str, global: bool) -> i32 {
    let mut tx = db.begin_as(None).await.expect("begin");
    let u = users::add(&mut tx, name, &format!("{name}@example.org"), global)
        .await
        .expect("user");
    ifind::db::logins::set_login(&mut tx, name, PASSWORD)
        .await
        .expect("login role");
    tx.commit().await.expect("commit");
    u.user_id
}

/// (name as typed, user, success, reason) of every login attempt, oldest first.
type Row = (Option<String>, Option<i32>, bool, String);

async fn attempts(db: &Db) -> Vec<Row> {
    sqlx::query_as(
        "SELECT username_as_typed, user_id, success, reason FROM access_log \
          WHERE event = 'login' ORDER BY id",
    )
    .fetch_all(&db.pool)
    .await
    .expect("access log")
}

fn backend(t: &common::TestDb) -> PgLoginBackend {
    PgLoginBackend::new(t.url.clone(), ifind::db::DbOptions::default()).expect("backend")
}

#[tokio::test]
async fn every_failure_is_the_same_message_and_costs_the_servers_delay() {
    let t = common::fresh_db().await;
    add_user(&t.db, "maria", false).await;
    let gone = add_user(&t.db, "gone", false).await;
    let mut conn = t.db.pool.acquire().await.expect("conn");
    users::set_active(&mut conn, gone, false)
        .await
        .expect("deactivate");
    let delay: String = sqlx::query_scalar("SHOW auth_delay.milliseconds")
        .fetch_one(&mut *conn)
        .await
        .unwrap_or_default();
    drop(conn);
    let login = backend(&t);
    for (name, password) in [
        ("maria", WRONG),
        ("maria", ""),
        ("nobody", PASSWORD),
        ("gone", PASSWORD),
    ] {
        let started = Instant::now();
        let err = login
            .login(name.into(), Secret(password.into()))
            .await
            .expect_err("must fail");
        println!(
            "{name}: refused in {} ms (auth_delay {delay:?})",
            started.elapsed().as_millis()
        );
        assert_eq!(err, Failure::Refused(INVALID.into()), "{name}");
    }
    // The test cluster is ifind's embedded cluster, which loads auth_delay where installed.
    assert!(
        delay.is_empty() || delay == "500ms",
        "auth_delay.milliseconds: {delay}"
    );
    // The database saw no login, so it recorded none; the right password still works.
    assert!(attempts(&t.db).await.is_empty());
    login
        .login("maria".into(), Secret(PASSWORD.into()))
        .await
        .expect("the right password");
    assert_no_password_in_logs(&t.db).await;
}

#[tokio::test]
async fn a_login_is_recorded_by_the_database_and_read_by_admins_and_oneself() {
    let t = common::fresh_db().await;
    let maria = add_user(&t.db, "maria", false).await;
    let boss = add_user(&t.db, "boss", true).await;
    let login = backend(&t);
    let ok = login
        .login("maria".into(), Secret(PASSWORD.into()))
        .await
        .expect("login");
    assert_eq!(ok.user_id, maria);
    assert_eq!(
        attempts(&t.db).await,
        vec![(Some("maria".into()), Some(maria), true, "ok".into())]
    );
    let mut conn = t.db.pool.acquire().await.expect("conn");
    let after = users::by_name(&mut conn, "maria")
        .await
        .expect("query")
        .expect("maria");
    assert!(after.last_login.is_some(), "last_login is recorded");
    drop(conn);
    login
        .login("boss".into(), Secret(PASSWORD.into()))
        .await
        .expect("login");
    // maria reads her own attempts only; boss, a global administrator, reads every one.
    let cfg = ifind::db::DbOptions::default();
    for (name, seen) in [("maria", vec![maria]), ("boss", vec![maria, boss])] {
        let db = ifind::db::logins::connect_as(&t.url, name, Some(PASSWORD), &cfg)
            .await
            .expect("connect");
        let mut tx = db.begin_as(None).await.expect("begin");
        let rows = access::recent(&mut tx, 10).await.expect("read");
        let users: Vec<i32> = rows.iter().filter_map(|e| e.user_id).collect();
        assert_eq!(users, seen, "{name}");
        // Nobody writes it but the database.
        let err = sqlx::query(
            "INSERT INTO access_log (event, username_as_typed, success, reason) \
             VALUES ('login', 'maria', false, 'invalid')",
        )
        .execute(&mut *tx)
        .await
        .expect_err("no insert");
        assert!(err.to_string().contains("permission denied"), "{err}");
    }
    assert_no_password_in_logs(&t.db).await;
}

/// Neither log holds a password, nor the audit a password hash.
async fn assert_no_password_in_logs(db: &Db) {
    for secret in [PASSWORD, WRONG, "$argon2"] {
        let hits: i64 = sqlx::query_scalar(
            "SELECT (SELECT count(*) FROM access_log a WHERE strpos(to_jsonb(a)::text, $1) > 0) \
                  + (SELECT count(*) FROM audit_log a WHERE strpos(to_jsonb(a)::text, $1) > 0)",
        )
        .bind(secret)
        .fetch_one(&db.pool)
        .await
        .expect("scan logs");
        assert_eq!(hits, 0, "{secret:?} is in a log");
    }
}

#[tokio::test]
async fn data_commands_at_a_site_without_a_role_are_refused_and_logged() {
    let t = common::fresh_db().await;
    common::add_ada(&t.url);
    ok(&common::ifind_app(&t, &["site", "add", "North"], None));
    ok(&common::ifind_app(&t, &["site", "add", "South"], None));
    ok(&common::ifind_app(
        &t,
        &[
            "user",
            "add",
            "bob",
            "--email",
            "bob@example.org",
            "--password-stdin",
        ],
        Some("first password\n"),
    ));
    ok(&common::ifind_app(
        &t,
        &["grant", "bob", "North", "viewer"],
        None,
    ));
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("in.csv");
    std::fs::write(
        &file,
        "title,type,lead,start,end,timezone,location,description,notes\n\
         Call,Call,Ana,2026-01-10 09:00,2026-01-10 10:00,UTC,,,\n",
    )
    .expect("write");
    let csv = file.to_str().expect("utf8");

    // bob may search and export North, as a viewer; not South; and may import into neither.
    ok(&common::ifind_app(
        &t,
        &["search", "--site", "North", "--as", "bob"],
        None,
    ));
    for (args, what) in [
        (vec!["search", "--site", "South", "--as", "bob"], "search"),
        (vec!["export", "--site", "South", "--as", "bob"], "export"),
        (
            vec!["import", csv, "--site", "North", "--as", "bob"],
            "import",
        ),
    ] {
        let err = fails(&common::ifind_app(&t, &args, None), 1);
        assert!(err.contains(&format!("so the {what} was refused")), "{err}");
        assert!(err.contains("ifind grant bob"), "names the fix: {err}");
        // A site bob may not see is refused by name, the same whether or not it exists; the
        // database resolves the name for the log.
        let site = if what == "import" {
            "at site North".to_string()
        } else {
            "at a site named \"South\"".to_string()
        };
        assert!(err.contains(&site), "{err}");
    }
    type Refusal = (Option<String>, bool, String, Option<i32>, String);
    let rows: Vec<Refusal> = sqlx::query_as(
        "SELECT a.username_as_typed, a.success, a.reason, a.site_id, s.name::text \
           FROM access_log a JOIN sites s USING (site_id) \
          WHERE a.event = 'refusal' ORDER BY a.id",
    )
    .fetch_all(&t.db.pool)
    .await
    .expect("refusals");
    let got: Vec<(&str, bool, String, &str)> = rows
        .iter()
        .map(|r| (r.0.as_deref().unwrap_or(""), r.1, r.2.clone(), r.4.as_str()))
        .collect();
    let south = rows[0].3.expect("site");
    let north = rows[2].3.expect("site");
    assert_eq!(
        got,
        vec![
            (
                "bob",
                false,
                format!("refused: site {south} (search)"),
                "South"
            ),
            (
                "bob",
                false,
                format!("refused: site {south} (export)"),
                "South"
            ),
            (
                "bob",
                false,
                format!("refused: site {north} (import)"),
                "North"
            ),
        ]
    );
    // A mistyped --as is an error, never a search without a user.
    let err = fails(
        &common::ifind_app(&t, &["search", "--site", "South", "--as", "bobb"], None),
        1,
    );
    assert!(
        err.contains("invalid username or password for \"bobb\""),
        "{err}"
    );
    let interactions: i64 = sqlx::query_scalar("SELECT count(*) FROM interactions")
        .fetch_one(&t.db.pool)
        .await
        .expect("count");
    assert_eq!(interactions, 0, "nothing was imported");
}
