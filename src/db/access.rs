//! The access log and the login lockout.
//!
//! Every login attempt and every refused cross-site attempt is written to `access_log` in its
//! own transaction (on its own pooled connection), so it stays even when the action around it
//! is rolled back. Passwords never reach it: an attempt holds the name as typed, the user when
//! known, the outcome and a short reason.
//!
//! The lockout counts a name's failed attempts in a sliding window (after its last success);
//! from the fifth on, the name is held for a delay that doubles with each further failure. The
//! time is always passed in (`now`), so tests need no sleeping.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgConnection;

use super::Db;

/// Records, in its own transaction, that `user_id` was refused `what` (e.g. "search",
/// "export") at `site_id`, where the user has no role. The reason reads
/// `refused: site N (what)`.
pub async fn record_refusal(db: &Db, user_id: i32, site_id: i32, what: &str) -> sqlx::Result<()> {
    // The database writes the row, for the session's own user: the function takes no user.
    let mut tx = db.begin_as(Some(user_id)).await?;
    sqlx::query("SELECT ifind_log_refusal($1, $2)")
        .bind(site_id)
        .bind(what)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

/// One row of the access log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct AccessEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// `login` or `refusal`.
    pub event: String,
    pub username_as_typed: Option<String>,
    pub user_id: Option<i32>,
    pub success: bool,
    pub reason: String,
    pub site_id: Option<i32>,
}

/// The latest `limit` entries of the access log, oldest first (global administrators and the
/// owner only; anyone else their own logins: `ifind_access_entries`, migration 0012).
pub async fn recent(conn: &mut PgConnection, limit: i64) -> sqlx::Result<Vec<AccessEntry>> {
    sqlx::query_as(
        "SELECT id, at, event, username_as_typed, user_id, success, reason, site_id \
           FROM ifind_access_entries($1) ORDER BY id",
    )
    .bind(i32::try_from(limit).unwrap_or(i32::MAX))
    .fetch_all(conn)
    .await
}
