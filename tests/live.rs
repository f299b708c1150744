//! Live updates against a real PostgreSQL: a committed change of an interaction signals its site
//! to every listener, once per transaction, and nothing before the commit.

mod common;

use std::time::Duration;

use ifind::db::notify::Changes;

const FIXTURE: &str = r#"
INSERT INTO users (user_id, username, password_hash, email) VALUES (1, 'ana', 'x', 'ana@example.org');
INSERT INTO sites (site_id, name) VALUES (1, 'North'), (2, 'South');
"#;

fn insert(site: i32, title: &str) -> String {
    format!(
        "INSERT INTO interactions (site_id, title, type, lead, start_datetime, timezone, \
         end_datetime, created_by) VALUES ({site}, '{title}', 'Call', 'Ana', now(), 'UTC', now(), 1)"
    )
}

#[tokio::test]
async fn committed_changes_signal_their_site_once_per_transaction() {
    let t = common::fresh_db().await;
    sqlx::raw_sql(FIXTURE)
        .execute(&t.db.pool)
        .await
        .expect("fixture");
    let mut changes = Changes::listen(&t.db).await.expect("listen");

    let mut tx = t.db.pool.begin().await.expect("begin");
    for n in 0..3 {
        sqlx::raw_sql(&insert(2, &format!("South {n}")))
            .execute(&mut *tx)
            .await
            .expect("insert");
    }
    // Nothing is signalled before the commit.
    let early = tokio::time::timeout(Duration::from_millis(200), changes.next()).await;
    assert!(early.is_err(), "a change is only news once committed");
    tx.commit().await.expect("commit");
    let site = tokio::time::timeout(Duration::from_secs(10), changes.next())
        .await
        .expect("signalled within the deadline")
        .expect("a site");
    assert_eq!(site, 2);

    sqlx::raw_sql(&insert(1, "North 1"))
        .execute(&t.db.pool)
        .await
        .expect("insert");
    let site = tokio::time::timeout(Duration::from_secs(10), changes.next())
        .await
        .expect("signalled within the deadline")
        .expect("a site");
    assert_eq!(site, 1, "three rows in one transaction were one signal");
}

/// Anyone may LISTEN on any channel: what a user hears says nothing of sites they may not read
/// (the payload is a token of the site that only its readers can ask for, not its id).
#[tokio::test]
async fn a_user_hears_of_their_own_sites_only() {
    let t = common::fresh_db().await;
    sqlx::raw_sql(FIXTURE)
        .execute(&t.db.pool)
        .await
        .expect("fixture");
    let mut conn = t.db.pool.acquire().await.expect("conn");
    sqlx::query("INSERT INTO user_site_mapping (user_id, site_id, role) VALUES (1, 1, 'editor')")
        .execute(&mut *conn)
        .await
        .expect("grant");
    ifind::db::logins::set_login(&mut conn, "ana", common::TEST_PASSWORD)
        .await
        .expect("login");
    drop(conn);
    let cfg = ifind::db::DbOptions::default();
    let ana = ifind::db::logins::connect_as(&t.url, "ana", Some(common::TEST_PASSWORD), &cfg)
        .await
        .expect("ana logs in");
    let mut changes = Changes::listen(&ana).await.expect("listen");
    let mut raw = sqlx::postgres::PgListener::connect_with(&ana.pool)
        .await
        .expect("raw listener");
    raw.listen(ifind::db::notify::CHANNEL)
        .await
        .expect("listen");

    sqlx::raw_sql(&insert(2, "South 1"))
        .execute(&t.db.pool)
        .await
        .expect("insert");
    let heard = tokio::time::timeout(Duration::from_secs(10), raw.recv())
        .await
        .expect("a notification")
        .expect("payload");
    assert_ne!(heard.payload().trim(), "2", "not the site id");
    assert_eq!(
        heard.payload().trim().len(),
        32,
        "a token: {}",
        heard.payload()
    );
    let south = tokio::time::timeout(Duration::from_millis(500), changes.next()).await;
    assert!(
        south.is_err(),
        "a change at South is not news to ana: {south:?}"
    );

    sqlx::raw_sql(&insert(1, "North 1"))
        .execute(&t.db.pool)
        .await
        .expect("insert");
    let site = tokio::time::timeout(Duration::from_secs(10), changes.next())
        .await
        .expect("signalled within the deadline")
        .expect("a site");
    assert_eq!(site, 1);
}
