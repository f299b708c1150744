//! The Finder's month histogram against a real PostgreSQL: months in each interaction's own
//! timezone, the site and the query respected, and a server-side time budget that gives up
//! (None) instead of making anyone wait.

mod common;

use chrono::NaiveDate;
use ifind::db::histogram::histogram;
use ifind::db::search::SearchRequest;
use ifind::domain::histogram::MonthCount;
use sqlx::{Connection, PgConnection};

const FIXTURE: &str = r#"
INSERT INTO users (user_id, username, password_hash, email) VALUES (1, 'ana', 'x', 'ana@example.org');
INSERT INTO sites (site_id, name) VALUES (1, 'North'), (2, 'South');
INSERT INTO interactions (site_id, title, type, lead, start_datetime, timezone, end_datetime, created_by) VALUES
 (1, 'Invoice dispute', 'Call', 'Ana', '2024-01-10 09:00Z', 'UTC', '2024-01-10 10:00Z', 1),
 -- 1 March 02:00 UTC is still 29 February in New York: a February interaction.
 (1, 'Invoice reminder', 'Email', 'Ana', '2024-03-01 02:00Z', 'America/New_York', '2024-03-01 02:10Z', 1),
 (1, 'Invoice paid', 'Email', 'Ana', '2024-04-02 09:00Z', 'UTC', '2024-04-02 09:05Z', 1),
 (1, 'Invoice archive', 'Email', 'Ana', '2024-04-20 09:00Z', 'UTC', '2024-04-20 09:05Z', 1),
 (1, 'Team lunch', 'Social', 'Ana', '2024-04-21 12:00Z', 'UTC', '2024-04-21 13:00Z', 1),
 (2, 'Invoice elsewhere', 'Email', 'Ana', '2024-02-02 09:00Z', 'UTC', '2024-02-02 09:05Z', 1);
"#;

fn month(y: i32, m: u32, count: i64) -> MonthCount {
    MonthCount {
        month: NaiveDate::from_ymd_opt(y, m, 1).unwrap_or_default(),
        count,
    }
}

async fn fixture() -> common::TestDb {
    let t = common::fresh_db().await;
    sqlx::raw_sql(FIXTURE)
        .execute(&t.db.pool)
        .await
        .expect("fixture");
    t
}

#[tokio::test]
async fn matches_are_counted_per_month_in_their_own_timezone() {
    let t = fixture().await;
    let mut conn = t.db.pool.acquire().await.expect("connection");
    let req = SearchRequest::new(1, "invoice");
    let months = histogram(&mut conn, &req, 5_000)
        .await
        .expect("histogram")
        .expect("within budget");
    assert_eq!(
        months,
        vec![month(2024, 1, 1), month(2024, 2, 1), month(2024, 4, 2)]
    );
    // An empty query: the site's activity over time.
    let all = histogram(&mut conn, &SearchRequest::new(1, ""), 5_000)
        .await
        .expect("histogram")
        .expect("within budget");
    assert_eq!(all.iter().map(|m| m.count).sum::<i64>(), 5);
    // Filters apply as in the search.
    let calls = histogram(
        &mut conn,
        &SearchRequest::new(1, "invoice type:call"),
        5_000,
    )
    .await
    .expect("histogram")
    .expect("within budget");
    assert_eq!(calls, vec![month(2024, 1, 1)]);
}

#[tokio::test]
async fn over_budget_gives_up_with_none() {
    let t = fixture().await;
    // Another session holds a lock the count must wait for: the budget runs out on the server.
    let mut blocker = PgConnection::connect(&t.url).await.expect("blocker");
    let mut lock = blocker.begin().await.expect("begin");
    sqlx::query("LOCK TABLE interactions IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *lock)
        .await
        .expect("lock");
    let mut conn = t.db.pool.acquire().await.expect("connection");
    let got = histogram(&mut conn, &SearchRequest::new(1, "invoice"), 50)
        .await
        .expect("a timeout is not an error");
    assert_eq!(got, None);
    lock.rollback().await.expect("unlock");
    // The budget was local to that transaction: the connection works normally afterwards.
    let timeout: String = sqlx::query_scalar("SHOW statement_timeout")
        .fetch_one(&mut *conn)
        .await
        .expect("show");
    assert_ne!(timeout, "50ms");
}
