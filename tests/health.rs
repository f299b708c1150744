//! `ifind health` against a real PostgreSQL: every check of the dashboard with its verdict and
//! threshold, as a table or JSON, and exit 1 when something is critical.

mod common;

use sqlx::Connection;

const NAMES: [&str; 9] = [
    "pool",
    "latency",
    "cache hit rate",
    "replica lag",
    "sizes",
    "dead tuples",
    "schema version",
    "errors",
    "login lockout",
];

#[tokio::test]
async fn every_check_has_a_verdict_and_a_threshold() {
    let t = common::fresh_db().await;
    let out = common::ok(&common::ifind(
        &t.url,
        &["health", "--format", "json"],
        None,
    ));
    let checks: serde_json::Value = serde_json::from_str(&out).expect("json");
    let checks = checks.as_array().expect("a list");
    let names: Vec<&str> = checks.iter().filter_map(|c| c["name"].as_str()).collect();
    // The owner's command adds retention (its tables are the owner's only).
    let owners: Vec<&str> = NAMES.into_iter().chain(["retention"]).collect();
    assert_eq!(names, owners);
    for c in checks {
        assert!(
            matches!(c["verdict"].as_str(), Some("ok" | "degraded" | "critical")),
            "{c}"
        );
        assert!(!c["threshold"].as_str().unwrap_or("").is_empty(), "{c}");
    }
    let schema = checks
        .iter()
        .find(|c| c["name"] == "schema version")
        .expect("schema");
    assert_eq!(schema["verdict"], "ok");
    let table = common::ok(&common::ifind(&t.url, &["health"], None));
    assert!(
        table.contains("CHECK") && table.contains("dead tuples"),
        "{table}"
    );
}

#[tokio::test]
async fn a_table_full_of_dead_rows_is_critical() {
    let t = common::fresh_db().await;
    let mut conn = sqlx::PgConnection::connect(&t.url).await.expect("connect");
    sqlx::raw_sql(
        "ALTER TABLE interactions SET (autovacuum_enabled = false); \
         INSERT INTO users (user_id, username, password_hash, email) VALUES (1, 'a', 'x', 'a@x'); \
         INSERT INTO sites (site_id, name) VALUES (1, 'North'); \
         INSERT INTO interactions (site_id, title, type, lead, start_datetime, timezone, \
                                   end_datetime, created_by) \
         SELECT 1, 'row ' || n, 'Call', 'Ana', now(), 'UTC', now(), 1 \
           FROM generate_series(1, 2000) AS n;",
    )
    .execute(&mut conn)
    .await
    .expect("rows");
    let mut tx = conn.begin().await.expect("begin");
    for _ in 0..2 {
        sqlx::query("UPDATE interactions SET notes = coalesce(notes, '') || 'x'")
            .execute(&mut *tx)
            .await
            .expect("update");
    }
    sqlx::query("SELECT pg_stat_force_next_flush()")
        .execute(&mut *tx)
        .await
        .expect("flush");
    tx.commit().await.expect("commit");
    let out = common::ifind(&t.url, &["health"], None);
    let err = common::fails(&out, 1);
    assert!(err.contains("critical: dead tuples"), "{err}");
    let table = String::from_utf8_lossy(&out.stdout);
    let line = table
        .lines()
        .find(|l| l.starts_with("dead tuples"))
        .unwrap_or_default();
    assert!(line.contains("critical"), "{table}");
}

#[tokio::test]
async fn the_tuis_health_screen_runs_its_checks_as_the_application_role() {
    use ifind::app::db_backend::DbSearchBackend;
    use ifind::app::runner::Health;
    let t = common::fresh_db().await;
    let backend = DbSearchBackend::new(t.app_db().await, None);
    let checks = backend.health().await.expect("checks");
    let names: Vec<&str> = checks.iter().map(|c| c.name).collect();
    assert_eq!(names, NAMES);
}
