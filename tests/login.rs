//! The real login against PostgreSQL: each user logs in as their own database role, so the
//! server checks the password; the right one logs in (and the database records `last_login`);
//! a wrong password, an unknown user and an inactive user all get the same answer. Also the
//! site list the picker shows.

mod common;

use ifind::app::db_backend::PgLoginBackend;
use ifind::app::login::INVALID;
use ifind::app::login::Secret;
use ifind::app::runner::LoginBackend;
use ifind::db::{sites, users};
use ifind::domain::failure::Failure;

const PASSWORD: &str = "correct horse battery";

#[tokio::test]
async fn login_checks_the_password_and_lists_the_users_sites() {
    let t = common::fresh_db().await;
    let hash = ifind::password::hash(PASSWORD).expect("hash");
    let mut tx = t.db.begin_as(None).await.expect("begin");
    let maria = users::insert(&mut tx, "maria", "maria@example.org", &hash, false)
        .await
        .expect("maria");
    let boss = users::insert(&mut tx, "boss", "boss@example.org", &hash, true)
        .await
        .expect("boss");
    let gone = users::insert(&mut tx, "gone", "gone@example.org", &hash, false)
        .await
        .expect("gone");
    users::set_active(&mut tx, gone.user_id, false)
        .await
        .expect("deactivate");
    let north = sites::insert(&mut tx, "North", None).await.expect("site");
    let south = sites::insert(&mut tx, "South", None).await.expect("site");
    let closed = sites::insert(&mut tx, "Closed", None).await.expect("site");
    sites::set_active(&mut tx, closed.site_id, false)
        .await
        .expect("close");
    users::grant(&mut tx, maria.user_id, north.site_id, users::Role::Editor)
        .await
        .expect("grant");
    users::grant(&mut tx, boss.user_id, south.site_id, users::Role::Viewer)
        .await
        .expect("grant");
    sqlx::query(
        "INSERT INTO interactions (site_id, title, type, lead, start_datetime, timezone, \
                                   end_datetime, created_by, deleted_at) \
         SELECT $1, 'Call ' || n, 'Call', 'Ana', now(), 'UTC', now(), $2, \
                CASE WHEN n = 3 THEN now() END \
           FROM generate_series(1, 3) AS n",
    )
    .bind(north.site_id)
    .bind(maria.user_id)
    .execute(&mut *tx)
    .await
    .expect("interactions");
    tx.commit().await.expect("commit");
    for name in ["maria", "boss", "gone"] {
        let mut conn = t.db.pool.acquire().await.expect("conn");
        ifind::db::logins::set_login(&mut conn, name, PASSWORD)
            .await
            .expect("login role");
    }
    // The login connects as the user's own role, as the TUI does.
    let backend =
        PgLoginBackend::new(t.url.clone(), ifind::db::DbOptions::default()).expect("backend");
    let check_login = |name: &'static str, password: &'static str| {
        backend.login(name.to_string(), Secret(password.to_string()))
    };

    // The right password: the user's own sites, with role and live interactions.
    let ok = check_login("maria", PASSWORD).await.expect("login");
    assert_eq!(ok.user_id, maria.user_id);
    assert_eq!(ok.username, "maria");
    let listed: Vec<(&str, &str, i64)> = ok
        .sites
        .iter()
        .map(|s| (s.name.as_str(), s.role.as_str(), s.interactions))
        .collect();
    assert_eq!(listed, vec![("North", "editor", 2)]);
    let mut conn = t.db.pool.acquire().await.expect("conn");
    let after = users::by_name(&mut conn, "maria")
        .await
        .expect("query")
        .expect("maria");
    assert!(after.last_login.is_some(), "last_login is recorded");

    // A global admin sees every active site, with their own role where they have one.
    let ok = check_login("boss", PASSWORD).await.expect("login");
    let listed: Vec<(&str, &str)> = ok
        .sites
        .iter()
        .map(|s| (s.name.as_str(), s.role.as_str()))
        .collect();
    assert_eq!(listed, vec![("North", "admin"), ("South", "viewer")]);

    // Every failure looks the same, and records nothing.
    for (name, password) in [
        ("maria", "wrong password"),
        ("maria", ""),
        ("nobody", PASSWORD),
        ("gone", PASSWORD),
    ] {
        let err = check_login(name, password).await.expect_err("must fail");
        assert_eq!(err, Failure::Refused(INVALID.into()), "{name}");
    }
    let gone = users::by_name(&mut conn, "gone")
        .await
        .expect("query")
        .expect("gone");
    assert_eq!(gone.last_login, None);
}

#[tokio::test]
async fn with_no_users_ifind_says_how_to_create_the_first_admin() {
    let t = common::fresh_db().await;
    // The TUI runs on the application role (the owner is given for migrations). Without a
    // terminal the first-run screen cannot be shown (tests/e2e_tui.rs shows it in one).
    let out = common::ifind_app(&t, &[], None);
    let stderr = common::fails(&out, 1);
    assert!(
        stderr.contains(
            "no users yet: create the first administrator with `ifind user add NAME --email ADDRESS`"
        ),
        "{stderr}"
    );
}
