//! Commands that meet a lost connection (the server restarted, the network dropped): they wait
//! for the database to answer again and carry on from what is known, rather than leaving the
//! person to guess what happened. Only work that is safe to repeat is repeated: reads, and
//! writes that can tell whether they were already made.

use std::time::{Duration, Instant};

use anyhow::Result;

use crate::db::Db;

/// How long a command waits for the database to come back before giving up.
pub const WAIT_FOR_SERVER: Duration = Duration::from_secs(60);

/// True when `e` (or any cause under it) is a lost connection rather than a refused statement
/// ([`crate::db::faults::is_connection_lost`]), also when an error type that wraps the
/// database's error transparently shows only its I/O cause (the connection closed or reset).
pub fn is_lost(e: &anyhow::Error) -> bool {
    use std::io::ErrorKind;
    e.chain().any(|cause| {
        if let Some(db) = cause.downcast_ref::<sqlx::Error>() {
            return crate::db::faults::is_connection_lost(db);
        }
        cause.downcast_ref::<std::io::Error>().is_some_and(|io| {
            matches!(
                io.kind(),
                ErrorKind::UnexpectedEof
                    | ErrorKind::ConnectionReset
                    | ErrorKind::ConnectionAborted
                    | ErrorKind::BrokenPipe
                    | ErrorKind::NotConnected
            )
        })
    })
}

/// Waits until `db` answers a query again, asking at growing intervals for up to
/// [`WAIT_FOR_SERVER`]; true when it does.
pub async fn until_back(db: &Db) -> bool {
    let until = Instant::now() + WAIT_FOR_SERVER;
    let mut pause = Duration::from_millis(100);
    loop {
        if sqlx::query("SELECT 1").execute(&db.pool).await.is_ok() {
            return true;
        }
        if Instant::now() + pause > until {
            return false;
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(2));
    }
}

/// Waits until `db` answers again and no write transaction of this login is still open on the
/// server (one whose answer was lost may still be committing, or be replayed by the server's
/// crash recovery): after that, what is in the database is what was committed. False when that
/// does not happen within [`WAIT_FOR_SERVER`].
pub async fn settled(db: &Db) -> bool {
    crate::db::faults::wait_until_settled(db, WAIT_FOR_SERVER).await
}

/// Runs `work` (which must be safe to run again: reads, or a write that finds out whether an
/// earlier attempt was made) and, when it fails on a lost connection, waits for the database
/// and runs it again, at most three times. `what` names the work for the message on standard
/// error ("importing", "archiving").
pub async fn retrying<T>(
    db: &Db,
    what: &str,
    mut work: impl AsyncFnMut() -> Result<T>,
) -> Result<T> {
    let mut attempts = 0;
    loop {
        match work().await {
            Err(e) if is_lost(&e) && attempts < 3 => {
                attempts += 1;
                eprintln!(
                    "the connection to the database was lost while {what} ({e:#}); carrying on \
                     once it answers again…"
                );
                if !until_back(db).await {
                    return Err(e.context(format!(
                        "the database did not answer again within {} s",
                        WAIT_FOR_SERVER.as_secs()
                    )));
                }
            }
            other => return other,
        }
    }
}
