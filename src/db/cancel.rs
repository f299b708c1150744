//! Cancelling a statement on the server. Dropping a future stops waiting for PostgreSQL but not
//! PostgreSQL itself, so a search that a newer keystroke replaced is also cancelled there.
//!
//! A unit of work is tagged with a label (transaction-local `application_name`); a cancel names
//! the backend pid AND the label, so it can never hit a later query that reuses the pooled
//! connection.

use sqlx::{PgConnection, PgPool};

/// Tags the current transaction with `label` and returns the server process serving it.
pub async fn tag(conn: &mut PgConnection, label: &str) -> sqlx::Result<i32> {
    sqlx::query_scalar(
        "SELECT pg_backend_pid() FROM (SELECT set_config('application_name', $1, true)) s",
    )
    .bind(label)
    .fetch_one(conn)
    .await
}

/// Cancels whatever statement runs in a transaction labelled `label` (labels name one unit of
/// work of one process: see `DbSearchBackend`). Returns whether a cancel was sent.
pub async fn cancel_labelled(pool: &PgPool, label: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT coalesce(bool_or(pg_cancel_backend(pid)), false) \
           FROM pg_stat_activity WHERE application_name = $1",
    )
    .bind(label)
    .fetch_one(pool)
    .await
}

/// Cancels the statement running on `pid` if that backend still carries `label`. Returns
/// whether a cancel was sent.
pub async fn cancel(pool: &PgPool, pid: i32, label: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT coalesce(bool_or(pg_cancel_backend(pid)), false) \
           FROM pg_stat_activity WHERE pid = $1 AND application_name = $2",
    )
    .bind(pid)
    .bind(label)
    .fetch_one(pool)
    .await
}
