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
