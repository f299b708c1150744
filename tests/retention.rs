//! Retention (`ifind retention`, design document §6.1 and §6.4) against a real PostgreSQL, with
//! an injected clock: every rule takes exactly the rows past its age, the person in old audit
//! and access records becomes a stable pseudonym, the trail stays append-only for everyone
//! else, and each run is recorded. (A server killed in the middle: `tests/kill_points.rs`.)

mod common;

use chrono::{Duration, Utc};
use ifind::domain::retention::{Keep, Rule};
use ifind::service::retention::{apply, due};

const KEEP: Keep = Keep {
    trash_days: 30,
    archive_keep_days: 1826,
    anonymise_after_days: 365,
    access_log_days: 730,
    audit_data_days: 730,
    audit_admin_days: 1095,
    schema_changes_days: 1826,
};

/// Rows of every kind, some past their keep and some not (ages in days, from now).
const FIXTURE: &str = r#"
INSERT INTO users (user_id, username, password_hash, email) VALUES
  (1, 'ana', 'x', 'ana@example.org'), (2, 'ben', 'x', 'ben@example.org');
INSERT INTO sites (site_id, name) VALUES (1, 'North');
INSERT INTO interactions (site_id, title, type, lead, start_datetime, timezone, end_datetime,
                          created_by, deleted_at, deleted_by)
SELECT 1, 'Trashed ' || d, 'Meeting', 'Ana', now(), 'UTC', now(), 1,
       now() - make_interval(days => d), 1
  FROM unnest(ARRAY[40, 45, 10]) AS d;
INSERT INTO interactions (site_id, title, type, lead, start_datetime, timezone, end_datetime,
                          created_by)
SELECT 1, 'To archive ' || n, 'Meeting', 'Ana', now(), 'UTC', now(), 1
  FROM generate_series(1, 3) AS n;
-- Audit records: data changes (interactions) and admin actions (users, sites), of two people.
INSERT INTO audit_log (site_id, table_name, row_id, operation, user_id, at, actor, new_values)
VALUES (1, 'interactions', 1, 'update', 1, now() - interval '400 days', 'ana', '{}'),
       (1, 'interactions', 2, 'update', 1, now() - interval '500 days', 'ana', '{}'),
       (1, 'interactions', 3, 'update', 2, now() - interval '450 days', 'ben', '{}'),
       (1, 'interactions', 4, 'update', 2, now() - interval '800 days', 'ben', '{}'),
       (NULL, 'users', 2, 'update', 1, now() - interval '800 days', 'ana', '{}'),
       (1, 'sites', 1, 'update', 1, now() - interval '1200 days', 'ana', '{}'),
       (1, 'interactions', 5, 'update', 1, now() - interval '100 days', 'ana', '{}');
INSERT INTO access_log (event, username_as_typed, user_id, success, reason, at)
VALUES ('login', 'ana', 1, true, 'ok', now() - interval '400 days'),
       ('login', 'ana', 1, false, 'invalid', now() - interval '420 days'),
       ('login', 'mallory', NULL, false, 'unknown', now() - interval '500 days'),
       ('login', 'ben', 2, true, 'ok', now() - interval '800 days'),
       ('login', 'ana', 1, true, 'ok', now() - interval '10 days');
UPDATE schema_migrations SET applied_at = now() - interval '2000 days' WHERE number = 1;
"#;

async fn scalar(t: &common::TestDb, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(&t.db.pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

async fn fixture() -> common::TestDb {
    let t = common::fresh_db().await;
    sqlx::raw_sql(FIXTURE)
        .execute(&t.db.pool)
        .await
        .expect("fixture");
    // Three archived: two six years ago, one a year ago.
    let mut conn = t.db.pool.acquire().await.expect("conn");
    ifind::db::archive::archive_batch(&mut conn, Utc::now() + Duration::days(1), 100)
        .await
        .expect("archive");
    sqlx::raw_sql(
        "UPDATE interactions_archive SET archived_at = now() - interval '2200 days' \
          WHERE title IN ('To archive 1', 'To archive 2'); \
         UPDATE interactions_archive SET archived_at = now() - interval '365 days' \
          WHERE title = 'To archive 3';",
    )
    .execute(&mut *conn)
    .await
    .expect("age the archive");
    t
}

#[tokio::test]
async fn every_rule_takes_exactly_the_rows_past_its_age() {
    let t = fixture().await;
    let now = Utc::now();
    let waiting = due(&t.db, &KEEP, now).await.expect("due");
    let counted: Vec<(Rule, u64)> = waiting.iter().map(|a| (a.rule, a.rows)).collect();
    assert_eq!(
        counted,
        vec![
            (Rule::Trash, 2),
            (Rule::Archive, 2),
            // 6 audit records and 4 access records are over a year old.
            (Rule::AnonymiseActivity, 10),
            (Rule::AccessLog, 1),
            (Rule::AuditData, 1),
            (Rule::AuditAdmin, 1),
            (Rule::SchemaChanges, 1),
        ]
    );

    // Small batches, so that every rule takes several.
    let done = apply(&t.db, &KEEP, now, 2, &|_, _| {})
        .await
        .expect("apply");
    let taken: Vec<(Rule, u64)> = done.iter().map(|a| (a.rule, a.rows)).collect();
    assert_eq!(taken, counted, "each rule took what was due");
    let after = due(&t.db, &KEEP, now).await.expect("due after");
    assert!(after.iter().all(|a| a.rows == 0), "{after:?}");

    assert_eq!(
        scalar(
            &t,
            "SELECT count(*) FROM interactions WHERE title LIKE 'Trashed%'"
        )
        .await,
        1,
        "the one deleted 10 days ago is still in the trash"
    );
    assert_eq!(
        scalar(&t, "SELECT count(*) FROM interactions_archive").await,
        1
    );
    // Data changes over two years, admin actions over three: gone; the rest kept.
    assert_eq!(scalar(&t, "SELECT count(*) FROM audit_log WHERE row_id = 4 AND table_name = 'interactions' AND operation = 'update'").await, 0);
    assert_eq!(
        scalar(
            &t,
            "SELECT count(*) FROM audit_log WHERE table_name = 'users' AND operation = 'update'"
        )
        .await,
        1
    );
    assert_eq!(
        scalar(
            &t,
            "SELECT count(*) FROM audit_log WHERE table_name = 'sites' AND operation = 'update'"
        )
        .await,
        0
    );
    assert_eq!(scalar(&t, "SELECT count(*) FROM access_log").await, 4);
    assert_eq!(
        scalar(
            &t,
            "SELECT count(*) FROM schema_migrations WHERE applied_by = '(forgotten)'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn old_activity_gets_a_stable_pseudonym_and_recent_keeps_the_person() {
    let t = fixture().await;
    apply(&t.db, &KEEP, Utc::now(), 1000, &|_, _| {})
        .await
        .expect("apply");
    let actors: Vec<(i32, Option<String>, Option<i32>)> = sqlx::query_as(
        "SELECT row_id, actor, user_id FROM audit_log \
          WHERE table_name = 'interactions' AND operation = 'update' ORDER BY row_id",
    )
    .fetch_all(&t.db.pool)
    .await
    .expect("audit");
    let actor = |row: i32| {
        actors
            .iter()
            .find(|(r, _, _)| *r == row)
            .and_then(|(_, a, _)| a.clone())
            .unwrap_or_default()
    };
    // Ana's two old records share one pseudonym, Ben's is another; her recent one names her.
    assert!(actor(1).starts_with("person-"), "{actors:?}");
    assert_eq!(actor(1), actor(2), "stable: counts by person still add up");
    assert_ne!(actor(1), actor(3));
    assert_eq!(actor(5), "ana");
    assert!(
        actors
            .iter()
            .filter(|(r, _, _)| *r != 5)
            .all(|(_, _, user)| user.is_none()),
        "{actors:?}"
    );
    let names: Vec<String> =
        sqlx::query_scalar("SELECT username_as_typed FROM access_log ORDER BY at")
            .fetch_all(&t.db.pool)
            .await
            .expect("access");
    assert_eq!(names.len(), 4);
    assert!(
        names[..3].iter().all(|n| n.starts_with("person-")),
        "{names:?}"
    );
    assert_eq!(names[3], "ana");
    assert_eq!(
        names
            .iter()
            .filter(|n| n.starts_with("person-"))
            .collect::<std::collections::HashSet<_>>()
            .len(),
        2,
        "ana's two old attempts share one pseudonym, mallory has another: {names:?}"
    );
    // Each run of each rule is recorded.
    let rules: i64 = scalar(&t, "SELECT count(DISTINCT rule) FROM retention_log").await;
    assert_eq!(rules, 7);
}

#[tokio::test]
async fn the_trail_stays_append_only_for_everyone_else() {
    let t = fixture().await;
    // The owner too, without retention's own setting.
    let refused = sqlx::raw_sql("DELETE FROM audit_log WHERE table_name = 'sites'")
        .execute(&t.db.pool)
        .await
        .expect_err("append-only");
    assert!(refused.to_string().contains("append-only"), "{refused}");
    // A role that does not own the table cannot lift it with the setting (it may not even
    // reach it: no privilege).
    let app = t.app_db().await;
    let mut tx = app.pool.begin().await.expect("begin");
    sqlx::query("SET LOCAL ifind.retention = 'on'")
        .execute(&mut *tx)
        .await
        .expect("anyone may set a custom setting");
    let refused = sqlx::query("DELETE FROM audit_log")
        .execute(&mut *tx)
        .await
        .expect_err("refused");
    assert!(
        refused.to_string().contains("permission denied")
            || refused.to_string().contains("append-only"),
        "{refused}"
    );
}

#[tokio::test]
async fn the_command_says_what_each_rule_would_do_and_then_does_it() {
    let t = fixture().await;
    let dry = common::ok(&common::ifind(&t.url, &["retention", "--dry-run"], None));
    assert!(dry.contains("nothing was changed"), "{dry}");
    assert!(
        dry.lines().any(|l| l.starts_with("trash")
            && l.contains(" 2 deleted interactions removed for good, if run")),
        "{dry}"
    );
    assert_eq!(
        scalar(&t, "SELECT count(*) FROM interactions_archive").await,
        3
    );
    let out = common::ok(&common::ifind(&t.url, &["retention", "--batch", "3"], None));
    assert!(
        out.lines()
            .any(|l| l.starts_with("archive")
                && l.contains(" 2 archived interactions removed for good")),
        "{out}"
    );
    assert_eq!(
        scalar(&t, "SELECT count(*) FROM interactions_archive").await,
        1
    );
    let health = common::ok(&common::ifind(&t.url, &["health"], None));
    assert!(
        health.lines().any(|l| l.contains("retention")
            && l.contains("last ran")
            && l.contains("nothing overdue")),
        "{health}"
    );
}
