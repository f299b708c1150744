//! Why database work failed, as a value: the kind of failure (told once, where the database's
//! error is read: `crate::db::failure`) and the complete message for the person. What the
//! effect runner hands back to `update` carries a [`Failure`], never a bare text; the screens
//! show its message.

use std::fmt;

/// The kind of a [`Failure`], without its message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The connection is gone, refused or unusable, or the server is shutting down, starting
    /// or full: the same work may succeed once it is back.
    Connection,
    /// The work took too long: a statement timeout, a cancelled statement, or the client's
    /// own time limit.
    Timeout,
    /// The database refused: no permission, a row-level security policy, or the credentials.
    Refused,
    /// The transaction was rolled back because it collided with another (a serialization
    /// failure or a deadlock; on a read replica, a conflict with WAL replay): trying again
    /// may succeed.
    Conflict,
    /// A read replica could not serve the work (its database is gone while it replays).
    Replica,
    /// Anything else: the work's own error.
    Other,
}

/// Why database work failed: its [`Kind`] and the complete message to show. `Display` prints
/// the message alone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    Connection(String),
    Timeout(String),
    Refused(String),
    Conflict(String),
    Replica(String),
    Other(String),
}

impl Failure {
    /// A failure of `kind` that says `message`.
    pub fn new(kind: Kind, message: impl Into<String>) -> Failure {
        let message = message.into();
        match kind {
            Kind::Connection => Failure::Connection(message),
            Kind::Timeout => Failure::Timeout(message),
            Kind::Refused => Failure::Refused(message),
            Kind::Conflict => Failure::Conflict(message),
            Kind::Replica => Failure::Replica(message),
            Kind::Other => Failure::Other(message),
        }
    }

    /// Its kind.
    pub fn kind(&self) -> Kind {
        match self {
            Failure::Connection(_) => Kind::Connection,
            Failure::Timeout(_) => Kind::Timeout,
            Failure::Refused(_) => Kind::Refused,
            Failure::Conflict(_) => Kind::Conflict,
            Failure::Replica(_) => Kind::Replica,
            Failure::Other(_) => Kind::Other,
        }
    }

    /// The message for the person.
    pub fn message(&self) -> &str {
        match self {
            Failure::Connection(m)
            | Failure::Timeout(m)
            | Failure::Refused(m)
            | Failure::Conflict(m)
            | Failure::Replica(m)
            | Failure::Other(m) => m,
        }
    }

    /// The same kind of failure with another message (the message of `self` is handed to
    /// `reword`, which usually quotes it).
    pub fn reworded(self, reword: impl FnOnce(&str) -> String) -> Failure {
        let message = reword(self.message());
        Failure::new(self.kind(), message)
    }

    /// Whether a read that failed like this on a read replica is worth repeating on the
    /// primary: the replica's connection was lost or refused, the server is shutting down or
    /// starting, its pool is exhausted or closed, or the read collided with WAL replay. A
    /// query's own error, a timeout or a cancel the person asked for is not.
    pub fn is_replica_problem(&self) -> bool {
        matches!(
            self.kind(),
            Kind::Connection | Kind::Conflict | Kind::Replica
        )
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for Failure {}

/// A message alone is a failure of kind [`Kind::Other`].
impl From<String> for Failure {
    fn from(message: String) -> Failure {
        Failure::Other(message)
    }
}

/// A message alone is a failure of kind [`Kind::Other`].
impl From<&str> for Failure {
    fn from(message: &str) -> Failure {
        Failure::Other(message.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_shows_its_message_alone_and_keeps_its_kind() {
        let lost = Failure::new(Kind::Connection, "the connection was lost");
        assert_eq!(lost.to_string(), "the connection was lost");
        assert_eq!(lost.kind(), Kind::Connection);
        let reworded = lost.reworded(|m| format!("cannot save ({m})"));
        assert_eq!(
            reworded,
            Failure::Connection("cannot save (the connection was lost)".into())
        );
        assert_eq!(Failure::from("boom"), Failure::Other("boom".into()));
    }

    #[test]
    fn only_the_replicas_own_troubles_send_a_read_to_the_primary() {
        assert!(Failure::Connection("refused".into()).is_replica_problem());
        assert!(Failure::Conflict("conflict with recovery".into()).is_replica_problem());
        assert!(Failure::Replica("database dropped".into()).is_replica_problem());
        assert!(!Failure::Timeout("statement timeout".into()).is_replica_problem());
        assert!(!Failure::Refused("permission denied".into()).is_replica_problem());
        assert!(!Failure::Other("syntax error in tsquery".into()).is_replica_problem());
    }
}
