//! The one place where an error of the database is classified: the [`Kind`] of a `sqlx::Error`,
//! from its variant and, for an error the server sent, its SQLSTATE (never its English words,
//! which the server may translate). The layers above get a [`Failure`] and only ask it what it
//! is.
//!
//! | error                                                     | kind         |
//! |-----------------------------------------------------------|--------------|
//! | I/O, TLS, protocol, pool timed out or closed, worker gone | `Connection` |
//! | class 08 (connection exception)                           | `Connection` |
//! | 57P01, 57P02, 57P03 (shutting down, starting up)          | `Connection` |
//! | 53300 (too many connections)                              | `Connection` |
//! | 57014 (statement timeout, cancelled statement)            | `Timeout`    |
//! | 42501 (no privilege, row-level security), class 28 (auth) | `Refused`    |
//! | 40001, 40P01 (serialization failure, deadlock; on a replica: conflict with recovery) | `Conflict` |
//! | 57P04 (database dropped; on a replica: conflict with recovery) | `Replica` |
//! | anything else                                             | `Other`      |

use crate::domain::failure::{Failure, Kind};

/// The kind of failure `e` is; see the module documentation for the table.
pub fn classify(e: &sqlx::Error) -> Kind {
    if super::faults::is_connection_lost(e) {
        return Kind::Connection;
    }
    match e {
        sqlx::Error::Database(db) => db
            .code()
            .map_or(Kind::Other, |code| kind_of_sqlstate(code.as_ref())),
        _ => Kind::Other,
    }
}

/// The kind of failure a server error with SQLSTATE `code` is.
pub fn kind_of_sqlstate(code: &str) -> Kind {
    if super::faults::is_connection_sqlstate(code) || code == "53300" {
        return Kind::Connection;
    }
    match code {
        "57014" => Kind::Timeout,
        "42501" => Kind::Refused,
        _ if code.starts_with("28") => Kind::Refused,
        "40001" | "40P01" => Kind::Conflict,
        "57P04" => Kind::Replica,
        _ => Kind::Other,
    }
}

/// The failure `e` is, told with `message` (the complete text for the person).
pub fn failure(e: &sqlx::Error, message: impl Into<String>) -> Failure {
    Failure::new(classify(e), message)
}

/// The failure `e` is, told with the error's own words.
pub fn plain(e: &sqlx::Error) -> Failure {
    failure(e, e.to_string())
}

/// A failed search as a failure, told with its own message: a bad cursor is [`Kind::Other`], a
/// database error is classified.
impl From<super::search::SearchError> for Failure {
    fn from(e: super::search::SearchError) -> Failure {
        let message = e.to_string();
        match &e {
            super::search::SearchError::Database(db) => failure(db, message),
            super::search::SearchError::BadCursor(_) => Failure::Other(message),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::borrow::Cow;
    use std::error::Error as StdError;
    use std::fmt;

    use super::*;

    /// An error as the server sends it: a SQLSTATE and a message.
    #[derive(Debug)]
    struct ServerSaid {
        code: &'static str,
        message: &'static str,
    }

    impl fmt::Display for ServerSaid {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.message)
        }
    }

    impl StdError for ServerSaid {}

    impl sqlx::error::DatabaseError for ServerSaid {
        fn message(&self) -> &str {
            self.message
        }
        fn code(&self) -> Option<Cow<'_, str>> {
            Some(Cow::Borrowed(self.code))
        }
        fn as_error(&self) -> &(dyn StdError + Send + Sync + 'static) {
            self
        }
        fn as_error_mut(&mut self) -> &mut (dyn StdError + Send + Sync + 'static) {
            self
        }
        fn into_error(self: Box<Self>) -> Box<dyn StdError + Send + Sync + 'static> {
            self
        }
        fn kind(&self) -> sqlx::error::ErrorKind {
            sqlx::error::ErrorKind::Other
        }
    }

    /// The error sqlx gives for a server error with SQLSTATE `code` and `message`.
    pub(crate) fn server_error(code: &'static str, message: &'static str) -> sqlx::Error {
        sqlx::Error::Database(Box::new(ServerSaid { code, message }))
    }

    fn io(kind: std::io::ErrorKind, message: &str) -> sqlx::Error {
        sqlx::Error::Io(std::io::Error::new(kind, message.to_string()))
    }

    #[test]
    fn server_errors_are_classified_by_sqlstate() {
        let cases = [
            ("08006", Kind::Connection),
            ("57P01", Kind::Connection),
            ("57P03", Kind::Connection),
            ("53300", Kind::Connection),
            ("57014", Kind::Timeout),
            ("42501", Kind::Refused),
            ("28P01", Kind::Refused),
            ("40001", Kind::Conflict),
            ("40P01", Kind::Conflict),
            ("57P04", Kind::Replica),
            ("42601", Kind::Other),
        ];
        for (code, kind) in cases {
            assert_eq!(classify(&server_error(code, "words")), kind, "{code}");
        }
    }

    #[test]
    fn client_side_errors_are_classified_by_variant() {
        use std::io::ErrorKind;
        assert_eq!(classify(&sqlx::Error::PoolTimedOut), Kind::Connection);
        assert_eq!(classify(&sqlx::Error::PoolClosed), Kind::Connection);
        assert_eq!(classify(&sqlx::Error::WorkerCrashed), Kind::Connection);
        assert_eq!(
            classify(&io(ErrorKind::ConnectionRefused, "connection refused")),
            Kind::Connection
        );
        assert_eq!(
            classify(&io(ErrorKind::NotFound, "No such file or directory")),
            Kind::Connection
        );
        assert_eq!(classify(&sqlx::Error::RowNotFound), Kind::Other);
        let lost = failure(&sqlx::Error::PoolClosed, "the search could not reach it");
        assert_eq!(lost.to_string(), "the search could not reach it");
        assert_eq!(plain(&sqlx::Error::RowNotFound).kind(), Kind::Other);
    }

    /// The cases `is_replica_failure` told apart by their English words, told by their kind.
    #[test]
    fn replica_failures_are_told_from_query_errors() {
        let replica = |e: sqlx::Error| plain(&e).is_replica_problem();
        assert!(replica(server_error(
            "40001",
            "canceling statement due to conflict with recovery"
        )));
        assert!(replica(server_error(
            "57P01",
            "terminating connection due to conflict with recovery"
        )));
        assert!(replica(server_error(
            "57P03",
            "the database system is starting up"
        )));
        assert!(replica(server_error(
            "57P01",
            "terminating connection due to administrator command"
        )));
        assert!(replica(io(
            std::io::ErrorKind::ConnectionReset,
            "Connection reset by peer (os error 104)"
        )));
        assert!(replica(io(
            std::io::ErrorKind::UnexpectedEof,
            "server closed the connection unexpectedly"
        )));
        assert!(replica(sqlx::Error::PoolTimedOut));
        assert!(replica(sqlx::Error::PoolClosed));
        assert!(!replica(server_error(
            "57014",
            "canceling statement due to user request"
        )));
        assert!(!replica(server_error(
            "57014",
            "canceling statement due to statement timeout"
        )));
        assert!(!replica(server_error("42601", "syntax error in tsquery")));
    }
}
