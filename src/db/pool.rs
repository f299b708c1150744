//! The connection pool and the unit of work: a transaction that carries the acting user.

use sqlx::{PgConnection, PgPool, Postgres, Transaction};

/// What the pools need to know: their limits and time bounds, the server-side statement
/// timeout, whether to migrate on connect, and how far a read replica may lag. The
/// configuration's `[database]` section converts into it (`crate::config` knows `db`, never the
/// other way round); the defaults are the configuration's defaults.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DbOptions {
    pub min_connections: u32,
    pub max_connections: u32,
    pub connect_timeout_secs: u64,
    pub idle_timeout_secs: u64,
    pub max_lifetime_secs: u64,
    /// Server-side bound on any one statement, in milliseconds (0 = none).
    pub statement_timeout_ms: u64,
    /// Apply pending forward-only migrations when connecting ([`connect`]).
    pub auto_migrate: bool,
    /// A replica further behind the primary than this (milliseconds) is skipped.
    pub max_replica_lag_ms: u64,
}

impl Default for DbOptions {
    fn default() -> Self {
        DbOptions {
            min_connections: 5,
            max_connections: 20,
            connect_timeout_secs: 30,
            idle_timeout_secs: 600,
            max_lifetime_secs: 1800,
            statement_timeout_ms: 30_000,
            auto_migrate: true,
            max_replica_lag_ms: 5000,
        }
    }
}

/// A handle on the database. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Db {
    pub pool: PgPool,
}

impl Db {
    /// Begins a unit of work acting as `user_id` (None for the system/owner). The user is set
    /// transaction-locally with `set_config(..., true)`, so it never leaks to the next user of the
    /// pooled connection.
    pub async fn begin_as(
        &self,
        user_id: Option<i32>,
    ) -> sqlx::Result<Transaction<'static, Postgres>> {
        self.begin_tagged(user_id, None).await
    }

    /// [`Db::begin_as`] with the transaction also labelled `label` (its transaction-local
    /// `application_name`, see [`crate::db::cancel`]). BEGIN and the settings go in one round
    /// trip: one simple-protocol message whose only values are the user id (an integer) and a
    /// label checked to hold letters, digits, spaces and dashes only; any other label is bound
    /// in a statement of its own.
    pub async fn begin_tagged(
        &self,
        user_id: Option<i32>,
        label: Option<&str>,
    ) -> sqlx::Result<Transaction<'static, Postgres>> {
        let user = user_id.map(|u| u.to_string()).unwrap_or_default();
        let plain = |l: &str| {
            l.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-')
        };
        let mut begin = format!("BEGIN; SELECT set_config('ifind.user_id', '{user}', true)");
        if let Some(l) = label.filter(|l| plain(l)) {
            begin.push_str(&format!(", set_config('application_name', '{l}', true)"));
        }
        let mut tx = self.pool.begin_with(begin).await?;
        if let Some(l) = label.filter(|l| !plain(l)) {
            sqlx::query("SELECT set_config('application_name', $1, true)")
                .bind(l)
                .execute(&mut *tx)
                .await?;
        }
        Ok(tx)
    }
}

/// Makes `site_id` the site this connection works on (`ifind.site`, for the session: until the
/// next call). The read policy of interactions and the archive shows a person the rows of that
/// one site only, and only if they may read it (migration 0012: an equality, so that another
/// site's rows are never scanned), so every read or write of a site's rows on a person's
/// connection says its site first. The owner's connections see every row anyway.
pub async fn enter_site(conn: &mut PgConnection, site_id: i32) -> sqlx::Result<()> {
    sqlx::query("SELECT set_config('ifind.site', $1, false)")
        .bind(site_id.to_string())
        .execute(conn)
        .await?;
    Ok(())
}

/// Sets the acting user for the current transaction.
pub async fn set_acting_user(conn: &mut PgConnection, user_id: Option<i32>) -> sqlx::Result<()> {
    let value = user_id.map(|u| u.to_string()).unwrap_or_default();
    sqlx::query("SELECT set_config('ifind.user_id', $1, true)")
        .bind(value)
        .execute(conn)
        .await?;
    Ok(())
}

/// Opens a pool on `url` with the configured limits, and checks (or brings up to date, when
/// `auto_migrate` is on) the schema version. Fails within the connect timeout when the server
/// cannot be reached.
pub async fn connect(url: &str, cfg: &DbOptions) -> anyhow::Result<Db> {
    let db = connect_unchecked(url, cfg).await?;
    prepare_schema(&db, cfg).await?;
    Ok(db)
}

/// The schema step of [`connect`]: applies pending migrations when `cfg.auto_migrate` is on and
/// the schema is empty or behind; otherwise checks that the binary may work with it.
pub async fn prepare_schema(db: &Db, cfg: &DbOptions) -> anyhow::Result<()> {
    let mut conn = db.pool.acquire().await?;
    match super::migrate::state(&mut conn).await? {
        super::migrate::SchemaState::Current { .. } => {}
        super::migrate::SchemaState::Empty | super::migrate::SchemaState::Behind { .. }
            if cfg.auto_migrate =>
        {
            let applied = super::migrate::run(&mut conn).await?;
            for m in applied {
                tracing::info!(number = m.number, name = m.name, version = %m.version, "applied migration");
            }
        }
        _ => {
            super::migrate::check(&mut conn).await?;
        }
    }
    Ok(())
}

/// The database could not be reached (no answer in time, or refused): the words say where, and
/// what to check. A fault of the service, not of what was asked.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Unreachable(pub String);

/// Opens a pool and proves the server answers, without looking at the schema.
pub async fn connect_unchecked(url: &str, cfg: &DbOptions) -> anyhow::Result<Db> {
    let shown = redact(url);
    let timeout = std::time::Duration::from_secs(cfg.connect_timeout_secs);
    let db = connect_lazy(url, cfg)?;
    let failed = match tokio::time::timeout(timeout, db.pool.acquire()).await {
        Ok(Ok(conn)) => {
            drop(conn);
            return Ok(db);
        }
        Ok(Err(e)) => Some(e),
        Err(_) => None,
    };
    // The pool retries until its time is up and then says only that it timed out: one direct
    // attempt tells the cause (refused, no such host, a wrong password, no such database).
    let cause = match failed {
        Some(e) if !matches!(e, sqlx::Error::PoolTimedOut) => Some(e.to_string()),
        _ => direct_attempt(url, timeout).await,
    };
    Err(Unreachable(match cause {
        Some(cause) => format!(
            "cannot connect to the database at {shown}: {cause}; check database.url (or \
             IFIND_DATABASE_URL) and that the server is running"
        ),
        None => format!(
            "cannot connect to the database at {shown}: no answer within {} s; check that the \
             server is up and reachable (database.url or IFIND_DATABASE_URL), or raise \
             database.connect_timeout_secs",
            cfg.connect_timeout_secs
        ),
    })
    .into())
}

/// Why one connection to `url` cannot be made within `limit`, if it fails in time (None when it
/// connects, or when there is no answer at all).
async fn direct_attempt(url: &str, limit: std::time::Duration) -> Option<String> {
    use sqlx::Connection;
    match tokio::time::timeout(limit, sqlx::PgConnection::connect(url)).await {
        Ok(Err(e)) => Some(e.to_string()),
        Ok(Ok(conn)) => {
            let _ = conn.close().await;
            None
        }
        Err(_) => None,
    }
}

/// A pool on `url` with the configured limits that connects on first use: no connection is
/// made here, so an unreachable server is only noticed by the first query.
pub fn connect_lazy(url: &str, cfg: &DbOptions) -> anyhow::Result<Db> {
    use std::str::FromStr;
    use std::time::Duration;

    use anyhow::Context;
    use sqlx::ConnectOptions;
    use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

    let shown = redact(url);
    let mut opts = PgConnectOptions::from_str(url).with_context(|| {
        format!("the database URL {shown} is not valid; fix database.url or IFIND_DATABASE_URL")
    })?;
    opts = opts
        .application_name("ifind")
        .log_statements(tracing::log::LevelFilter::Debug)
        .log_slow_statements(tracing::log::LevelFilter::Warn, Duration::from_secs(1));
    if cfg.statement_timeout_ms > 0 {
        opts = opts.options([("statement_timeout", cfg.statement_timeout_ms.to_string())]);
    }
    // The OS account running ifind: the audit trail names it beside the owner's role for the
    // owner's own changes (the database believes it from the owner's sessions only).
    if let Some(os_user) = os_user() {
        opts = opts.options([("ifind.os_user", os_user)]);
    }
    let timeout = Duration::from_secs(cfg.connect_timeout_secs);
    let pool = PgPoolOptions::new()
        .min_connections(cfg.min_connections)
        .max_connections(cfg.max_connections)
        .acquire_timeout(timeout)
        .idle_timeout(Some(Duration::from_secs(cfg.idle_timeout_secs)))
        .max_lifetime(Some(Duration::from_secs(cfg.max_lifetime_secs)))
        .connect_lazy_with(opts);
    Ok(Db { pool })
}

/// The name of the OS account running this process, in characters safe for a startup option.
fn os_user() -> Option<String> {
    let name = nix::unistd::User::from_uid(nix::unistd::geteuid())
        .ok()
        .flatten()
        .map(|u| u.name)
        .or_else(|| std::env::var("USER").ok())?;
    let safe: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        .take(64)
        .collect();
    (!safe.is_empty()).then_some(safe)
}

/// `text` percent-encoded for a URL: letters, digits, `-._~` and the bytes of `also_keep` stay
/// as they are (`/` for a socket folder in a query value; nothing for a user name).
pub(crate) fn percent_encode(text: &str, also_keep: &[u8]) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric()
            || matches!(byte, b'-' | b'.' | b'_' | b'~')
            || also_keep.contains(&byte)
        {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A URL with its password replaced by `***`, for messages and logs.
pub fn redact(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_string();
    };
    let rest = &url[scheme_end..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    match authority.rfind('@') {
        Some(at) => match authority[..at].find(':') {
            Some(colon) => format!(
                "{}{}:***{}",
                &url[..scheme_end],
                &authority[..colon],
                &rest[at..]
            ),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn redacts_passwords_only() {
        assert_eq!(
            redact("postgres://me:secret@db.example.com:5432/x?sslmode=require"),
            "postgres://me:***@db.example.com:5432/x?sslmode=require"
        );
        assert_eq!(redact("postgres://me@host/x"), "postgres://me@host/x");
        assert_eq!(redact("postgres:///x?host=/tmp"), "postgres:///x?host=/tmp");
    }
}
