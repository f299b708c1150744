//! Login lockout and the access log, with an injected clock (no sleeping): five failures hold the
//! name, even against the right password, for a delay that doubles; the hold ends on time;
//! every attempt (known or unknown name) is logged in its own transaction with one message for
//! every failure; refused cross-site commands are logged too. Passwords never reach a log.

mod common;

use chrono::{DateTime, Duration, TimeZone, Utc};
use ifind::app::db_backend::{LoginError, check_login_at};
use ifind::app::login::INVALID;
use ifind::db::access::{self, LockoutPolicy};
use ifind::db::{Db, users};

use common::{fails, ok};

const PASSWORD: &str = "correct horse battery";
const WRONG: &str = "Tr0ub4dor&3 guess";

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0)
        .single()
        .expect("time")
}

async fn add_user(db: &Db, name: &str) -> i32 {
    let hash = ifind::password::hash(PASSWORD).expect("hash");
    let mut tx = db.begin_as(None).await.expect("begin");
    let u = users::insert(&mut tx, name, &format!("{name}@example.org"), &hash, false)
        .await
        .expect("user");
    tx.commit().await.expect("commit");
    u.user_id
}

/// (at, name as typed, user, success, reason) of every login attempt, oldest first.
type Row = (DateTime<Utc>, Option<String>, Option<i32>, bool, String);

async fn attempts(db: &Db) -> Vec<Row> {
    sqlx::query_as(
        "SELECT at, username_as_typed, user_id, success, reason FROM access_log \
          WHERE event = 'login' ORDER BY id",
    )
    .fetch_all(&db.pool)
    .await
    .expect("access log")
}

async fn login(db: &Db, name: &str, password: &str, at: DateTime<Utc>) -> Result<i32, LoginError> {
    check_login_at(db, name, password, at, &LockoutPolicy::default())
        .await
        .map(|ok| ok.user_id)
}

#[tokio::test]
async fn five_failures_hold_the_name_then_the_hold_ends_and_doubles() {
    let t = common::fresh_db().await;
    let maria = add_user(&t.db, "maria").await;
    let s = Duration::seconds;

    // Five wrong passwords, a second apart: each the one message.
    for i in 0..5 {
        let err = login(&t.db, "maria", WRONG, t0() + s(i))
            .await
            .expect_err("wrong password");
        assert_eq!(err, LoginError::Invalid);
        assert_eq!(err.to_string(), INVALID);
    }
    let last = t0() + s(4);
    // The sixth, with the right password, is refused with the same message: held for 2 s.
    for at in [last, last + s(1), last + s(2) - Duration::milliseconds(1)] {
        let err = login(&t.db, "maria", PASSWORD, at).await.expect_err("held");
        assert_eq!(err.to_string(), INVALID, "at {at}");
    }
    {
        let mut conn = t.db.pool.acquire().await.expect("conn");
        let until = access::locked_until(&mut conn, "maria", last, &LockoutPolicy::default())
            .await
            .expect("query");
        assert_eq!(until, Some(last + s(2)));
    }
    // The hold ends on time; a success clears the count.
    assert_eq!(
        login(&t.db, "maria", PASSWORD, last + s(2)).await,
        Ok(maria)
    );
    let after = last + s(10);
    assert_eq!(
        login(&t.db, "maria", WRONG, after).await,
        Err(LoginError::Invalid)
    );
    assert_eq!(
        login(&t.db, "maria", PASSWORD, after + s(1)).await,
        Ok(maria),
        "one failure after a success does not hold the name"
    );

    // Six failures (the sixth once the first hold is over) hold it for 4 s.
    let b = after + s(60);
    for i in 0..5 {
        assert!(login(&t.db, "maria", WRONG, b + s(i)).await.is_err());
    }
    assert!(login(&t.db, "maria", WRONG, b + s(6)).await.is_err());
    let sixth = b + s(6);
    assert_eq!(
        login(&t.db, "maria", PASSWORD, sixth + s(3)).await,
        Err(LoginError::Invalid),
        "the hold doubled to 4 s"
    );
    assert_eq!(
        login(&t.db, "maria", PASSWORD, sixth + s(4)).await,
        Ok(maria)
    );

    // Only failures within 15 minutes count.
    let c = sixth + s(3600);
    for i in 0..4 {
        assert!(login(&t.db, "maria", WRONG, c + s(i)).await.is_err());
    }
    assert!(
        login(&t.db, "maria", WRONG, c + Duration::minutes(16))
            .await
            .is_err()
    );
    assert_eq!(
        login(&t.db, "maria", PASSWORD, c + Duration::minutes(16)).await,
        Ok(maria),
        "four old failures and one new one do not hold the name"
    );

    // The log: every attempt, in order, with the reason; held attempts did not count as
    // failures (the 2 s hold did not grow while the right password was refused).
    let log = attempts(&t.db).await;
    let reasons: Vec<&str> = log.iter().map(|r| r.4.as_str()).collect();
    let mut expected = vec!["invalid"; 5];
    expected.extend(["locked"; 3]);
    expected.extend(["ok", "invalid", "ok"]);
    expected.extend(["invalid"; 6]);
    expected.extend(["locked", "ok"]);
    expected.extend(["invalid"; 5]);
    expected.push("ok");
    assert_eq!(reasons, expected);
    assert!(log.iter().all(|r| r.1.as_deref() == Some("maria")));
    assert!(log.iter().all(|r| r.2 == Some(maria)));
    assert!(log.iter().all(|r| r.3 == (r.4 == "ok")));
    assert_eq!(log[0].0, t0(), "the injected time is the logged time");
    assert_no_password_in_logs(&t.db).await;
}

#[tokio::test]
async fn unknown_and_inactive_names_look_like_wrong_passwords_and_are_logged() {
    let t = common::fresh_db().await;
    let gone = add_user(&t.db, "gone").await;
    {
        let mut tx = t.db.begin_as(None).await.expect("begin");
        users::set_active(&mut tx, gone, false)
            .await
            .expect("deactivate");
        tx.commit().await.expect("commit");
    }
    for (name, password) in [("nobody", PASSWORD), ("gone", PASSWORD), ("gone", WRONG)] {
        let err = login(&t.db, name, password, t0()).await.expect_err(name);
        assert_eq!(err.to_string(), INVALID, "{name}");
    }
    // An unknown name is held like a known one, so holding reveals nothing.
    for i in 1..5 {
        let _ = login(&t.db, "nobody", WRONG, t0() + Duration::seconds(i)).await;
    }
    assert_eq!(
        login(&t.db, "nobody", WRONG, t0() + Duration::seconds(5)).await,
        Err(LoginError::Invalid)
    );
    let log = attempts(&t.db).await;
    let summary: Vec<(Option<&str>, Option<i32>, &str)> = log
        .iter()
        .map(|r| (r.1.as_deref(), r.2, r.4.as_str()))
        .collect();
    let mut expected = vec![
        (Some("nobody"), None, "unknown"),
        (Some("gone"), Some(gone), "inactive"),
        (Some("gone"), Some(gone), "invalid"),
    ];
    expected.extend([(Some("nobody"), None, "unknown"); 4]);
    expected.push((Some("nobody"), None, "locked"));
    assert_eq!(summary, expected);
    assert_no_password_in_logs(&t.db).await;
}

#[tokio::test]
async fn an_attempt_stays_logged_when_the_action_around_it_is_rolled_back() {
    let t = common::fresh_db().await;
    add_user(&t.db, "maria").await;
    let mut tx = t.db.begin_as(None).await.expect("begin");
    ifind::db::sites::insert(&mut tx, "Doomed", None)
        .await
        .expect("site");
    let err = login(&t.db, "maria", WRONG, t0()).await.expect_err("wrong");
    assert_eq!(err, LoginError::Invalid);
    tx.rollback().await.expect("rollback");

    let sites: i64 = sqlx::query_scalar("SELECT count(*) FROM sites")
        .fetch_one(&t.db.pool)
        .await
        .expect("count");
    assert_eq!(sites, 0, "the action was rolled back");
    let log = attempts(&t.db).await;
    assert_eq!(log.len(), 1, "the attempt was not: {log:?}");
    assert_eq!(log[0].4, "invalid");
}

#[tokio::test]
async fn a_success_is_logged_and_only_global_admins_read_the_log() {
    let t = common::fresh_db().await;
    let maria = add_user(&t.db, "maria").await;
    let ok = check_login_at(&t.db, "maria", PASSWORD, t0(), &LockoutPolicy::default())
        .await
        .expect("login");
    assert_eq!(ok.user_id, maria);
    let log = attempts(&t.db).await;
    assert_eq!(
        log,
        vec![(t0(), Some("maria".into()), Some(maria), true, "ok".into())]
    );
    let mut conn = t.db.pool.acquire().await.expect("conn");
    let after = users::by_name(&mut conn, "maria")
        .await
        .expect("query")
        .expect("maria");
    assert!(after.last_login.is_some(), "last_login is recorded");
    drop(conn);
    // Only global administrators may read the access log through row-level security.
    let mut tx = t.db.pool.begin().await.expect("begin");
    sqlx::query("SET LOCAL ROLE ifind_app")
        .execute(&mut *tx)
        .await
        .expect("role");
    ifind::db::pool::set_acting_user(&mut tx, Some(maria))
        .await
        .expect("user");
    let seen = access::recent(&mut tx, 10).await.expect("read");
    assert!(
        seen.iter().all(|e| e.user_id == Some(maria)),
        "a user who is not a global admin reads only their own attempts: {seen:?}"
    );
    sqlx::query("UPDATE users SET is_global_admin = true WHERE user_id = $1")
        .bind(maria)
        .execute(&t.db.pool)
        .await
        .expect("promote");
    let seen = access::recent(&mut tx, 10).await.expect("read");
    assert_eq!(seen.len(), 1, "a global admin reads the access log");
    assert_eq!(seen[0].reason, "ok");
    tx.rollback().await.expect("rollback");
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
