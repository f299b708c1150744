//! Faults of the connection: telling a lost connection (the server restarting, the network
//! cut or stalled) from a refused statement, and the client-generated ids that make a retried
//! create harmless.

use std::time::Duration;

/// True when `e` means the connection to the server is gone or unusable (so the same work may
/// succeed once it is back), rather than the server refusing the statement: I/O errors, pool
/// timeouts and closures, TLS and protocol failures, and the SQLSTATEs of a server shutting down
/// or starting (57P01, 57P02, 57P03) or of a broken connection (class 08).
pub fn is_connection_lost(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|code| is_connection_sqlstate(code.as_ref())),
        _ => false,
    }
}

/// True for the SQLSTATEs of a lost connection: class 08 and the shutdown codes of class 57P.
pub fn is_connection_sqlstate(code: &str) -> bool {
    code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03")
}

/// The error a client-side time limit gives: the server did not answer within `limit`.
pub fn timed_out(limit: Duration) -> sqlx::Error {
    sqlx::Error::Io(std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        format!(
            "the database did not answer within {}",
            crate::domain::format::show_duration(limit)
        ),
    ))
}

/// Whether another connection of this session's login role has a write transaction open (it has
/// been given a transaction id): a save whose answer was lost may still be committing there, or
/// its backend was killed and the server has not yet recovered, after which its commit may show.
/// The Finder's own searches write nothing, so they never count.
pub async fn writes_in_flight(conn: &mut sqlx::PgConnection) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM pg_stat_activity \
                         WHERE usename = session_user AND pid <> pg_backend_pid() \
                           AND backend_xid IS NOT NULL)",
    )
    .fetch_one(conn)
    .await
}

/// Waits until `db` answers again and [`writes_in_flight`] is false (a write whose answer was
/// lost may still be committing, or be replayed by the server's crash recovery): after that, what
/// is in the database is what was committed. False when that does not happen within `limit`.
pub async fn wait_until_settled(db: &super::Db, limit: Duration) -> bool {
    let until = std::time::Instant::now() + limit;
    let mut pause = Duration::from_millis(100);
    loop {
        if let Ok(mut conn) = db.pool.acquire().await
            && let Ok(false) = writes_in_flight(&mut conn).await
        {
            return true;
        }
        if std::time::Instant::now() + pause > until {
            return false;
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(2));
    }
}

/// A new client-generated id for a create: a random (version 4) UUID in its text form. The form
/// makes one when it opens and keeps it in the draft, so every retry of the same create carries
/// the same id and the database stores the record at most once.
pub fn new_client_id() -> String {
    crate::domain::format::uuid_v4_text(rand::random())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::format::show_duration;

    #[test]
    fn client_ids_are_version_4_uuids_and_differ() {
        let a = new_client_id();
        let b = new_client_id();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"), "{a}");
    }

    #[test]
    fn lost_connections_are_told_from_refused_statements() {
        assert!(is_connection_lost(&sqlx::Error::PoolTimedOut));
        assert!(is_connection_lost(&timed_out(Duration::from_secs(2))));
        assert!(!is_connection_lost(&sqlx::Error::RowNotFound));
        assert!(is_connection_sqlstate("57P01"));
        assert!(is_connection_sqlstate("08006"));
        assert!(
            !is_connection_sqlstate("57014"),
            "a cancelled statement is not a lost link"
        );
        assert_eq!(show_duration(Duration::from_millis(1500)), "1.5 s");
        assert_eq!(show_duration(Duration::from_secs(2)), "2 s");
        assert_eq!(show_duration(Duration::from_millis(250)), "250 ms");
    }
}
