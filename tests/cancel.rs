//! Server-side cancellation of a replaced search: only the tagged statement is cancelled.

mod common;

use ifind::db::cancel;

#[tokio::test]
async fn a_tagged_statement_is_cancelled_on_the_server() {
    let t = common::fresh_db().await;
    let mut tx = t.db.pool.begin().await.expect("begin");
    let pid = cancel::tag(&mut tx, "ifind search 1").await.expect("tag");
    let sleeper = tokio::spawn(async move {
        let result = sqlx::query("SELECT pg_sleep(60)").execute(&mut *tx).await;
        (result.map(|_| ()), tx)
    });
    // Wait until the server runs the statement (a deadline, not a sleep-and-hope).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let active: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND state = 'active' \
             AND query LIKE 'SELECT pg_sleep%')",
        )
        .bind(pid)
        .fetch_one(&t.db.pool)
        .await
        .expect("activity");
        if active {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the statement never started"
        );
        tokio::task::yield_now().await;
    }
    // Another label on the same pid is not cancelled.
    assert!(
        !cancel::cancel(&t.db.pool, pid, "ifind search 2")
            .await
            .expect("cancel")
    );
    assert!(
        cancel::cancel(&t.db.pool, pid, "ifind search 1")
            .await
            .expect("cancel")
    );
    let (result, tx) = sleeper.await.expect("task");
    let err = result.expect_err("the statement was cancelled");
    let code = err
        .as_database_error()
        .and_then(|e| e.code())
        .map(|c| c.to_string());
    assert_eq!(code.as_deref(), Some("57014"), "query_canceled: {err}");
    drop(tx);
}

#[tokio::test]
async fn the_label_ends_with_its_transaction() {
    let t = common::fresh_db().await;
    let mut conn = t.db.pool.acquire().await.expect("conn");
    let mut tx = sqlx::Connection::begin(&mut *conn).await.expect("begin");
    let pid = cancel::tag(&mut tx, "ifind search 7").await.expect("tag");
    tx.commit().await.expect("commit");
    // The connection is idle and no longer carries the label: nothing to cancel, and a later
    // query on the same connection is safe.
    assert!(
        !cancel::cancel(&t.db.pool, pid, "ifind search 7")
            .await
            .expect("cancel")
    );
    let one: i32 = sqlx::query_scalar("SELECT 1")
        .fetch_one(&mut *conn)
        .await
        .expect("query");
    assert_eq!(one, 1);
}

/// The Finder's way: BEGIN, the acting user and the label in one round trip, and a cancel by
/// label (labels carry a per-process token). A label with other characters is bound instead.
#[tokio::test]
async fn a_labelled_transaction_carries_its_user_and_is_cancelled_by_label() {
    let t = common::fresh_db().await;
    for label in ["ifind search 5f3a-9", "ifind search 'odd'; --"] {
        let mut tx =
            t.db.begin_tagged(Some(42), Some(label))
                .await
                .expect("begin");
        let (user, name): (String, String) = sqlx::query_as(
            "SELECT current_setting('ifind.user_id'), current_setting('application_name')",
        )
        .fetch_one(&mut *tx)
        .await
        .expect("settings");
        assert_eq!((user.as_str(), name.as_str()), ("42", label));
        let sleeper = tokio::spawn(async move {
            let result = sqlx::query("SELECT pg_sleep(60)").execute(&mut *tx).await;
            (result.map(|_| ()), tx)
        });
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let active: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = $1 \
                 AND state = 'active' AND query LIKE 'SELECT pg_sleep%')",
            )
            .bind(label)
            .fetch_one(&t.db.pool)
            .await
            .expect("activity");
            if active {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the labelled statement was never seen"
            );
            tokio::task::yield_now().await;
        }
        assert!(
            cancel::cancel_labelled(&t.db.pool, label)
                .await
                .expect("cancel")
        );
        let (result, tx) = sleeper.await.expect("task");
        let err = result.expect_err("the statement was cancelled");
        let code = err
            .as_database_error()
            .and_then(|e| e.code())
            .map(|c| c.to_string());
        assert_eq!(code.as_deref(), Some("57014"), "query_canceled: {err}");
        drop(tx);
    }
    // After the transaction the connection carries neither the user nor the label.
    let mut conn = t.db.pool.acquire().await.expect("conn");
    let user: String =
        sqlx::query_scalar("SELECT coalesce(current_setting('ifind.user_id', true), '')")
            .fetch_one(&mut *conn)
            .await
            .expect("setting");
    assert_eq!(user, "");
    assert!(
        !cancel::cancel_labelled(&t.db.pool, "ifind search 5f3a-9")
            .await
            .expect("cancel")
    );
}
