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

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use sqlx::PgConnection;

use super::Db;

/// The reasons written to `access_log.reason`.
pub mod reason {
    /// The login succeeded.
    pub const OK: &str = "ok";
    /// A known user, a wrong password.
    pub const INVALID: &str = "invalid";
    /// No user of that name.
    pub const UNKNOWN: &str = "unknown";
    /// The right password of a deactivated user.
    pub const INACTIVE: &str = "inactive";
    /// Refused without checking the password: too many recent failures.
    pub const LOCKED: &str = "locked";
}

/// When a name is held back after failed logins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Failures within `window` that start the hold.
    pub max_failures: i64,
    /// How far back failures count.
    pub window: Duration,
    /// The hold after `max_failures` failures; it doubles with each further failure.
    pub base_delay: Duration,
    /// The longest hold.
    pub max_delay: Duration,
}

impl Default for LockoutPolicy {
    /// 5 failures in 15 minutes hold the name for 2 s, then 4 s, 8 s, ... up to 15 minutes.
    fn default() -> Self {
        LockoutPolicy {
            max_failures: 5,
            window: Duration::minutes(15),
            base_delay: Duration::seconds(2),
            max_delay: Duration::minutes(15),
        }
    }
}

impl LockoutPolicy {
    /// How long a name is held after its latest failure, given `failures` recent failures:
    /// zero below `max_failures`, then `base_delay * 2^(failures - max_failures)`, capped.
    pub fn delay(&self, failures: i64) -> Duration {
        if failures < self.max_failures {
            return Duration::zero();
        }
        let doublings = (failures - self.max_failures).min(30) as u32;
        let delay = self
            .base_delay
            .checked_mul(1_i32 << doublings)
            .unwrap_or(self.max_delay);
        delay.min(self.max_delay)
    }
}

/// One login attempt, as recorded.
#[derive(Clone, Copy, Debug)]
pub struct LoginAttempt<'a> {
    pub at: DateTime<Utc>,
    /// The name exactly as typed.
    pub username: &'a str,
    /// The user of that name, when there is one.
    pub user_id: Option<i32>,
    pub success: bool,
    /// One of [`reason`].
    pub reason: &'a str,
}

/// Records a login attempt in its own transaction.
pub async fn record_login(db: &Db, attempt: &LoginAttempt<'_>) -> sqlx::Result<()> {
    let mut tx = db.begin_as(None).await?;
    sqlx::query(
        "INSERT INTO access_log (at, event, username_as_typed, user_id, success, reason) \
         VALUES ($1, 'login', $2, $3, $4, $5)",
    )
    .bind(attempt.at)
    .bind(attempt.username)
    .bind(attempt.user_id)
    .bind(attempt.success)
    .bind(attempt.reason)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

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

/// Until when the name `username` (as typed) is held back at `now`, if it is.
pub async fn locked_until(
    conn: &mut PgConnection,
    username: &str,
    now: DateTime<Utc>,
    policy: &LockoutPolicy,
) -> sqlx::Result<Option<DateTime<Utc>>> {
    let (failures, last): (i64, Option<DateTime<Utc>>) =
        sqlx::query_as("SELECT failures, last_failure FROM ifind_login_failures($1, $2, $3)")
            .bind(username)
            .bind(now - policy.window)
            .bind(now)
            .fetch_one(conn)
            .await?;
    let Some(last) = last else {
        return Ok(None);
    };
    if failures < policy.max_failures {
        return Ok(None);
    }
    let until = last + policy.delay(failures);
    Ok((now < until).then_some(until))
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
/// owner only: row-level security hides it from everyone else).
pub async fn recent(conn: &mut PgConnection, limit: i64) -> sqlx::Result<Vec<AccessEntry>> {
    sqlx::query_as(
        "SELECT * FROM (SELECT id, at, event, username_as_typed, user_id, success, reason, \
                site_id FROM access_log ORDER BY id DESC LIMIT $1) AS latest ORDER BY id",
    )
    .bind(limit)
    .fetch_all(conn)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hold_starts_at_the_fifth_failure_doubles_and_is_capped() {
        let p = LockoutPolicy::default();
        assert_eq!(p.delay(0), Duration::zero());
        assert_eq!(p.delay(4), Duration::zero());
        assert_eq!(p.delay(5), Duration::seconds(2));
        assert_eq!(p.delay(6), Duration::seconds(4));
        assert_eq!(p.delay(10), Duration::seconds(64));
        assert_eq!(p.delay(20), Duration::minutes(15));
        assert_eq!(p.delay(i64::MAX), Duration::minutes(15));
    }
}
