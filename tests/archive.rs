//! The archive against a real PostgreSQL: `ifind archive` moves interactions untouched for the
//! configured time, a killed batch leaves nothing half-moved, the Finder's search includes the
//! archive only on request (read-only, paged across both tables), and the archive keeps the
//! sites apart for the application role.

mod common;

use std::collections::HashSet;

use ifind::db::archive::archive_batch;
use ifind::db::search::{SearchRequest, Sort, search};
use sqlx::Connection;

/// Two sites; North has 7 interactions last touched 3 years ago and 3 recent ones; South has 2
/// old ones.
const FIXTURE: &str = r#"
INSERT INTO users (user_id, username, password_hash, email) VALUES
  (1, 'ana', 'x', 'ana@example.org'), (2, 'ben', 'x', 'ben@example.org');
INSERT INTO sites (site_id, name) VALUES (1, 'North'), (2, 'South');
INSERT INTO user_site_mapping (user_id, site_id, role) VALUES (2, 2, 'viewer');
INSERT INTO interactions (site_id, title, type, lead, start_datetime, timezone, end_datetime,
                          created_by, created_at)
SELECT 1, 'Harbour review ' || n, 'Meeting', 'Ana', now() - make_interval(days => 1100 + n),
       'UTC', now() - make_interval(days => 1100 + n), 1, now() - make_interval(days => 1100 + n)
  FROM generate_series(1, 7) AS n;
INSERT INTO interactions (site_id, title, type, lead, start_datetime, timezone, end_datetime,
                          created_by)
SELECT 1, 'Harbour review recent ' || n, 'Meeting', 'Ana', now() - make_interval(days => n),
       'UTC', now() - make_interval(days => n), 1
  FROM generate_series(1, 3) AS n;
INSERT INTO interactions (site_id, title, type, lead, start_datetime, timezone, end_datetime,
                          created_by, created_at)
SELECT 2, 'Harbour south ' || n, 'Meeting', 'Ben', now() - make_interval(days => 1200 + n),
       'UTC', now() - make_interval(days => 1200 + n), 2, now() - make_interval(days => 1200 + n)
  FROM generate_series(1, 2) AS n;
-- One old row was edited last month: touched, so it stays.
UPDATE interactions SET notes = 'still current', updated_at = now() - interval '30 days'
 WHERE title = 'Harbour review 1';
"#;

async fn fixture() -> common::TestDb {
    let t = common::fresh_db().await;
    sqlx::raw_sql(FIXTURE)
        .execute(&t.db.pool)
        .await
        .expect("fixture");
    t
}

async fn counts(t: &common::TestDb) -> (i64, i64) {
    let live: i64 = sqlx::query_scalar("SELECT count(*) FROM interactions")
        .fetch_one(&t.db.pool)
        .await
        .expect("live");
    let archived: i64 = sqlx::query_scalar("SELECT count(*) FROM interactions_archive")
        .fetch_one(&t.db.pool)
        .await
        .expect("archived");
    (live, archived)
}

#[tokio::test]
async fn archive_moves_what_is_untouched_and_the_finder_includes_it_on_request() {
    let t = fixture().await;
    let dry = common::ok(&common::ifind(&t.url, &["archive", "--dry-run"], None));
    assert!(
        dry.contains("8 interactions untouched for 730 days would be archived"),
        "{dry}"
    );
    assert_eq!(counts(&t).await, (12, 0), "a dry run moves nothing");
    let out = common::ok(&common::ifind(&t.url, &["archive", "--batch", "3"], None));
    assert!(out.contains("archived 8 interactions"), "{out}");
    assert_eq!(counts(&t).await, (4, 8));
    let again = common::ok(&common::ifind(&t.url, &["archive"], None));
    assert!(again.contains("nothing to archive"), "{again}");

    // Every archived row is recorded as such in the audit trail.
    let archived_ops: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE operation = 'archive'")
            .fetch_one(&t.db.pool)
            .await
            .expect("audit");
    assert_eq!(archived_ops, 8);

    let mut conn = t.db.pool.acquire().await.expect("conn");
    let live_only = search(&mut conn, &SearchRequest::new(1, "harbour"))
        .await
        .expect("search");
    assert_eq!(live_only.hits.len(), 4);
    assert!(live_only.hits.iter().all(|h| !h.archived));

    // With the archive, by every sort, paged two at a time: all 10 of North, each once.
    for sort in Sort::ALL {
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let req = SearchRequest {
                sort,
                limit: 2,
                after: after.take(),
                archive: true,
                ..SearchRequest::new(1, "harbour")
            };
            let page = search(&mut conn, &req).await.expect("page");
            seen.extend(
                page.hits
                    .iter()
                    .map(|h| (h.interaction.interaction_id, h.archived)),
            );
            match page.next_cursor {
                Some(c) => after = Some(c),
                None => break,
            }
        }
        let ids: HashSet<i32> = seen.iter().map(|s| s.0).collect();
        assert_eq!((seen.len(), ids.len()), (10, 10), "{sort}: {seen:?}");
        assert_eq!(
            seen.iter().filter(|s| s.1).count(),
            6,
            "{sort}: archived rows are marked"
        );
    }
    let counted = search(
        &mut conn,
        &SearchRequest {
            archive: true,
            from_end: false,
            ..SearchRequest::new(1, "harbour")
        },
    )
    .await
    .expect("count");
    assert_eq!(counted.count.map(|c| c.to_string()).as_deref(), Some("10"));
}

#[tokio::test]
async fn a_batch_killed_before_its_commit_moves_nothing_and_the_rerun_finishes() {
    let t = fixture().await;
    let before = chrono::Utc::now() - chrono::Duration::days(730);
    let mut victim = sqlx::PgConnection::connect(&t.url).await.expect("victim");
    let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&mut victim)
        .await
        .expect("pid");
    let mut tx = victim.begin().await.expect("begin");
    let moved = archive_batch(&mut tx, before, 5).await.expect("batch");
    assert_eq!(moved, 5);
    // The process dies before it commits.
    let killed: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
        .bind(pid)
        .fetch_one(&t.db.pool)
        .await
        .expect("terminate");
    assert!(killed);
    assert!(
        tx.commit().await.is_err(),
        "the commit cannot happen any more"
    );
    assert_eq!(counts(&t).await, (12, 0), "nothing half-moved");

    let out = common::ok(&common::ifind(&t.url, &["archive", "--batch", "2"], None));
    assert!(out.contains("archived 8"), "{out}");
    assert_eq!(counts(&t).await, (4, 8), "counts add up");
    let dupes: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM interactions i JOIN interactions_archive a USING (interaction_id)",
    )
    .fetch_one(&t.db.pool)
    .await
    .expect("dupes");
    assert_eq!(dupes, 0, "no row in both tables");
}

#[tokio::test]
async fn the_application_role_reads_only_its_sites_archive_and_writes_none() {
    let t = fixture().await;
    common::ok(&common::ifind(&t.url, &["archive"], None));
    let mut conn = t.db.pool.acquire().await.expect("conn");
    let mut tx = conn.begin().await.expect("begin");
    sqlx::query("SET LOCAL ROLE ifind_app")
        .execute(&mut *tx)
        .await
        .expect("role");
    sqlx::query("SELECT set_config('ifind.user_id', '2', true)")
        .execute(&mut *tx)
        .await
        .expect("user");
    // One site per statement (`ifind.site`, migration 0012): South's archive when working on
    // South, nothing when claiming North, nothing with no site.
    let mut seen = Vec::new();
    for site in ["2", "1", ""] {
        sqlx::query("SELECT set_config('ifind.site', $1, true)")
            .bind(site)
            .execute(&mut *tx)
            .await
            .expect("site");
        let sites: Vec<i32> =
            sqlx::query_scalar("SELECT DISTINCT site_id FROM interactions_archive ORDER BY 1")
                .fetch_all(&mut *tx)
                .await
                .expect("read");
        seen.push(sites);
    }
    assert_eq!(
        seen,
        vec![vec![2], vec![], vec![]],
        "ben (viewer of South) sees only South's archive"
    );
    let write = sqlx::query("UPDATE interactions_archive SET title = 'x'")
        .execute(&mut *tx)
        .await;
    assert!(write.is_err(), "archived records are read-only");
}
