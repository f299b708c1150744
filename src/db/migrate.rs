//! Forward-only migrations embedded in the binary, and the schema version check.
//!
//! Every migration raises the schema version (semver, as the design document's section 4.2
//! describes). The version lives in `schema_metadata`; each applied migration is recorded in
//! `schema_migrations` with its checksum. A database whose MAJOR differs from the binary's is
//! refused.

use std::fmt;

use sqlx::{Connection, PgConnection};

/// One embedded migration.
pub struct Migration {
    pub number: i32,
    pub name: &'static str,
    /// The schema version once this migration is applied.
    pub version: SchemaVersion,
    pub sql: &'static str,
}

/// All migrations, in order. Append only: never edit one that has shipped.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        number: 1,
        name: "initial",
        version: SchemaVersion::new(1, 0, 0),
        sql: include_str!("../../migrations/0001_initial.sql"),
    },
    Migration {
        number: 2,
        name: "live_rows_by_site",
        version: SchemaVersion::new(1, 0, 1),
        sql: include_str!("../../migrations/0002_live_rows_by_site.sql"),
    },
    Migration {
        number: 3,
        name: "roles_rls",
        version: SchemaVersion::new(1, 1, 0),
        sql: include_str!("../../migrations/0003_roles_rls.sql"),
    },
    Migration {
        number: 4,
        name: "audit",
        version: SchemaVersion::new(1, 2, 0),
        sql: include_str!("../../migrations/0004_audit.sql"),
    },
    Migration {
        number: 5,
        name: "archive",
        version: SchemaVersion::new(1, 3, 0),
        sql: include_str!("../../migrations/0005_archive.sql"),
    },
    Migration {
        number: 6,
        name: "notify",
        version: SchemaVersion::new(1, 4, 0),
        sql: include_str!("../../migrations/0006_notify.sql"),
    },
    Migration {
        number: 7,
        name: "search_speed",
        version: SchemaVersion::new(1, 5, 0),
        sql: include_str!("../../migrations/0007_search_speed.sql"),
    },
    Migration {
        number: 8,
        name: "client_id",
        version: SchemaVersion::new(1, 6, 0),
        sql: include_str!("../../migrations/0008_client_id.sql"),
    },
    Migration {
        number: 9,
        name: "identity",
        version: SchemaVersion::new(1, 7, 0),
        sql: include_str!("../../migrations/0009_identity.sql"),
    },
    Migration {
        number: 10,
        name: "text_checks",
        version: SchemaVersion::new(1, 8, 0),
        sql: include_str!("../../migrations/0010_text_checks.sql"),
    },
    Migration {
        number: 11,
        name: "search_entry",
        version: SchemaVersion::new(1, 9, 0),
        sql: include_str!("../../migrations/0011_search_entry.sql"),
    },
    Migration {
        number: 12,
        name: "one_site",
        version: SchemaVersion::new(1, 10, 0),
        sql: include_str!("../../migrations/0012_one_site.sql"),
    },
    Migration {
        number: 13,
        name: "small_tables",
        version: SchemaVersion::new(1, 11, 0),
        sql: include_str!("../../migrations/0013_small_tables.sql"),
    },
    Migration {
        number: 14,
        name: "newest_ids",
        version: SchemaVersion::new(1, 12, 0),
        sql: include_str!("../../migrations/0014_newest_ids.sql"),
    },
    Migration {
        number: 15,
        name: "imports_site_delete",
        version: SchemaVersion::new(1, 13, 0),
        sql: include_str!("../../migrations/0015_imports_site_delete.sql"),
    },
    Migration {
        number: 16,
        name: "retention",
        version: SchemaVersion::new(1, 14, 0),
        sql: include_str!("../../migrations/0016_retention.sql"),
    },
    Migration {
        number: 17,
        name: "heading_index",
        version: SchemaVersion::new(1, 15, 0),
        sql: include_str!("../../migrations/0017_heading_index.sql"),
    },
];

/// The schema version this binary brings.
pub fn binary_version() -> SchemaVersion {
    MIGRATIONS
        .last()
        .map(|m| m.version)
        .unwrap_or(SchemaVersion::new(0, 0, 0))
}

/// A semantic version: MAJOR.MINOR.PATCH.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct SchemaVersion {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl SchemaVersion {
    pub const fn new(major: u32, minor: u32, patch: u32) -> Self {
        SchemaVersion {
            major,
            minor,
            patch,
        }
    }

    /// Parses `MAJOR.MINOR.PATCH`.
    pub fn parse(text: &str) -> Option<SchemaVersion> {
        let mut parts = text.trim().split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        let patch = parts.next()?.parse().ok()?;
        if parts.next().is_some() {
            return None;
        }
        Some(SchemaVersion::new(major, minor, patch))
    }
}

impl fmt::Display for SchemaVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// What the database's schema is, compared with the binary's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SchemaState {
    /// No ifind schema yet.
    Empty,
    /// Same MAJOR; `pending` migrations of this binary are not applied yet.
    Behind { db: SchemaVersion, pending: usize },
    /// Up to date (or newer MINOR/PATCH from a newer ifind, which stays compatible).
    Current { db: SchemaVersion },
    /// MAJOR differs: this binary must not touch the database.
    Incompatible { db: SchemaVersion },
}

/// Migration and version errors.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error(
        "the database schema is version {db} but this ifind works with schema {binary}; \
         {advice}"
    )]
    Incompatible {
        db: SchemaVersion,
        binary: SchemaVersion,
        advice: &'static str,
    },
    #[error(
        "the database holds schema metadata ifind cannot read ({0:?}); \
         point ifind at an ifind database or an empty one"
    )]
    Unreadable(String),
    #[error(
        "the database needs {pending} migration(s) to reach schema {binary}; run `ifind migrate`"
    )]
    Pending {
        pending: usize,
        binary: SchemaVersion,
    },
    #[error("the database has no ifind schema yet; run `ifind migrate`")]
    NoSchema,
    #[error("migration {number} ({name}) failed: {source}")]
    Failed {
        number: i32,
        name: &'static str,
        source: sqlx::Error,
    },
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

const BOOKKEEPING: &str = "
CREATE TABLE IF NOT EXISTS schema_metadata (
    id          smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    version     text        NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE IF NOT EXISTS schema_migrations (
    number      integer PRIMARY KEY,
    name        text        NOT NULL,
    version     text        NOT NULL,
    checksum    text        NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP,
    applied_by  text        NOT NULL DEFAULT current_user
);";

/// Reads the schema state without changing anything.
pub async fn state(conn: &mut PgConnection) -> Result<SchemaState, MigrateError> {
    let exists: bool = sqlx::query_scalar("SELECT to_regclass('schema_metadata') IS NOT NULL")
        .fetch_one(&mut *conn)
        .await?;
    if !exists {
        return Ok(SchemaState::Empty);
    }
    let text: Option<String> =
        sqlx::query_scalar("SELECT version FROM schema_metadata WHERE id = 1")
            .fetch_optional(&mut *conn)
            .await?;
    let Some(text) = text else {
        return Ok(SchemaState::Empty);
    };
    let db = SchemaVersion::parse(&text).ok_or(MigrateError::Unreadable(text))?;
    let binary = binary_version();
    if db.major != binary.major {
        return Ok(SchemaState::Incompatible { db });
    }
    let applied: Vec<i32> = sqlx::query_scalar("SELECT number FROM schema_migrations")
        .fetch_all(&mut *conn)
        .await?;
    let pending = MIGRATIONS
        .iter()
        .filter(|m| !applied.contains(&m.number))
        .count();
    if pending > 0 {
        Ok(SchemaState::Behind { db, pending })
    } else {
        Ok(SchemaState::Current { db })
    }
}

/// The startup check: Ok when the binary may work with this database as it is.
pub async fn check(conn: &mut PgConnection) -> Result<SchemaVersion, MigrateError> {
    match state(conn).await? {
        SchemaState::Current { db } => Ok(db),
        SchemaState::Empty => Err(MigrateError::NoSchema),
        SchemaState::Behind { pending, .. } => Err(MigrateError::Pending {
            pending,
            binary: binary_version(),
        }),
        SchemaState::Incompatible { db } => Err(incompatible(db)),
    }
}

fn incompatible(db: SchemaVersion) -> MigrateError {
    let binary = binary_version();
    let advice = if db.major > binary.major {
        "upgrade ifind to a release for that schema"
    } else {
        "this database predates ifind's schema line; export it with the older ifind and import \
         into a new database"
    };
    MigrateError::Incompatible { db, binary, advice }
}

/// Applies every pending migration, each in its own transaction, under an advisory lock so that
/// two ifind processes never migrate at once. Returns the migrations applied.
pub async fn run(conn: &mut PgConnection) -> Result<Vec<&'static Migration>, MigrateError> {
    sqlx::query("SELECT pg_advisory_lock(hashtext('ifind.migrate'))")
        .execute(&mut *conn)
        .await?;
    let result = run_locked(conn).await;
    let unlock = sqlx::query("SELECT pg_advisory_unlock(hashtext('ifind.migrate'))")
        .execute(&mut *conn)
        .await;
    let applied = result?;
    unlock?;
    Ok(applied)
}

async fn run_locked(conn: &mut PgConnection) -> Result<Vec<&'static Migration>, MigrateError> {
    if let SchemaState::Incompatible { db } = state(conn).await? {
        return Err(incompatible(db));
    }
    sqlx::raw_sql(BOOKKEEPING).execute(&mut *conn).await?;
    let applied: Vec<i32> = sqlx::query_scalar("SELECT number FROM schema_migrations")
        .fetch_all(&mut *conn)
        .await?;
    let mut done = Vec::new();
    for m in MIGRATIONS.iter().filter(|m| !applied.contains(&m.number)) {
        let failed = |source| MigrateError::Failed {
            number: m.number,
            name: m.name,
            source,
        };
        let mut tx = conn.begin().await?;
        sqlx::raw_sql(m.sql)
            .execute(&mut *tx)
            .await
            .map_err(failed)?;
        sqlx::query(
            "INSERT INTO schema_migrations (number, name, version, checksum) \
             VALUES ($1, $2, $3, md5($4))",
        )
        .bind(m.number)
        .bind(m.name)
        .bind(m.version.to_string())
        .bind(m.sql)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO schema_metadata (id, version) VALUES (1, $1) \
             ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version, \
             updated_at = CURRENT_TIMESTAMP",
        )
        .bind(m.version.to_string())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        done.push(m);
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_semver() {
        assert_eq!(
            SchemaVersion::parse("1.2.3"),
            Some(SchemaVersion::new(1, 2, 3))
        );
        assert_eq!(
            SchemaVersion::parse(" 10.0.7 "),
            Some(SchemaVersion::new(10, 0, 7))
        );
        assert_eq!(SchemaVersion::parse("1.2"), None);
        assert_eq!(SchemaVersion::parse("1.2.3.4"), None);
        assert_eq!(SchemaVersion::parse("a.b.c"), None);
    }

    #[test]
    fn migrations_are_numbered_in_order_and_versions_rise() {
        for pair in MIGRATIONS.windows(2) {
            assert_eq!(pair[1].number, pair[0].number + 1);
            assert!(pair[1].version > pair[0].version);
        }
        assert_eq!(MIGRATIONS[0].number, 1);
    }
}
