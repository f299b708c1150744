//! `ifind migrate` and `ifind db status|start|stop|backup|restore|verify-backup`: the schema,
//! the embedded cluster and its backups.

use super::say;

use anyhow::{Context, Result};

use super::Ctx;
use crate::cli::DbAction;
use crate::db::cluster::{Cluster, ClusterStatus, LOCKOUT_INSTALL_HINT};
use crate::db::migrate;

/// The embedded cluster as the configuration describes it.
pub fn cluster(ctx: &Ctx) -> Result<Cluster> {
    Ok(Cluster::new(ctx.config.cluster_settings(&ctx.paths))?)
}

/// For the terminal UI on the embedded cluster: starts the cluster again when it stops answering
/// (None when a database URL is configured: a server of one's own is not ifind's to start).
pub fn revive(ctx: &Ctx) -> Result<Option<crate::service::Revive>> {
    if ctx.config.database_url().is_some() {
        return Ok(None);
    }
    let cluster = cluster(ctx)?;
    Ok(Some(crate::service::Revive(std::sync::Arc::new(
        move || {
            let cluster = cluster.clone();
            Box::pin(async move {
                cluster
                    .ensure_running()
                    .await
                    .map_err(|e| crate::domain::failure::Failure::Connection(e.to_string()))
            })
        },
    ))))
}

/// Starts the embedded cluster if needed, makes sure `database` exists, and returns its URL.
pub async fn embedded_url(ctx: &Ctx, database: &str) -> Result<String> {
    let cluster = cluster(ctx)?;
    cluster.ensure_running().await?;
    cluster.ensure_database(database).await?;
    Ok(cluster.url(database))
}

pub async fn migrate(ctx: &Ctx) -> Result<()> {
    // Migrations run as the owner.
    let (url, embedded) = match ctx.config.owner_url() {
        Some(url) => (url.to_string(), false),
        None => (embedded_url(ctx, "ifind").await?, true),
    };
    let mut cfg = ctx.config.database.db_options();
    cfg.auto_migrate = false;
    cfg.min_connections = 0;
    // Connect without applying anything, then migrate explicitly and report.
    let db = crate::db::pool::connect_unchecked(&url, &cfg).await?;
    let mut conn = db.pool.acquire().await?;
    let applied = migrate::run(&mut conn).await?;
    for m in &applied {
        say!(
            "applied migration {:04} {} (schema {})",
            m.number,
            m.name,
            m.version
        )?;
    }
    let version = migrate::check(&mut conn).await?;
    if embedded {
        crate::db::roles::enable_app_login(&mut conn)
            .await
            .context("cannot let the ifind_app role log in to the embedded cluster")?;
    }
    drop(conn);
    // A seed killed while loading leaves its dropped indexes missing; put them back.
    for name in crate::seed::restore_indexes(&db).await? {
        say!("re-created missing index {name}")?;
    }
    if applied.is_empty() {
        say!("schema {version} is up to date")?;
    } else {
        say!("schema is now {version}")?;
    }
    Ok(())
}

/// What `ifind db status` prints of the embedded cluster.
fn print_status(s: &ClusterStatus) -> Result<()> {
    say!(
        "embedded cluster: {}",
        if s.running { "running" } else { "stopped" }
    )?;
    if let Some(pid) = s.pid {
        say!("pid:        {pid}")?;
    }
    if s.pid_file_missing {
        say!(
            "            its postmaster.pid was removed while it runs (found by its socket's \
             lock file): PostgreSQL shuts itself down within a minute of noticing; `ifind db \
             stop` stops it now, and the next command starts it again cleanly"
        )?;
    }
    say!("directory:  {}", s.root.display())?;
    if s.used_fallback {
        say!(
            "            (the configured data dir is not reachable by the server's OS \
             user, so the cluster lives here)"
        )?;
    }
    say!("data:       {}", s.data_dir.display())?;
    say!("socket:     {}", s.socket_dir.display())?;
    say!(
        "binaries:   {} (PostgreSQL {})",
        s.bindir.display(),
        s.server_version
    )?;
    if let Some(user) = &s.os_user {
        say!("runs as:    {user}")?;
    }
    match s.lockout {
        Some(l) if l.max_failures > 0 => say!(
            "lockout:    after {} failed logins a user name waits {} s (ifind_auth)",
            l.max_failures,
            l.lockout_secs
        )?,
        Some(_) => say!(
            "lockout:    off (embedded.login_max_failures = 0); failed logins are only \
             delayed"
        )?,
        None => say!(
            "lockout:    off: ifind_auth.so is not installed{}, so failed logins are \
             only delayed; {LOCKOUT_INSTALL_HINT}, then `ifind db stop` so that the next \
             start loads it",
            s.module_dir
                .as_ref()
                .map(|d| format!(" in {}", d.display()))
                .unwrap_or_default()
        )?,
    }
    if s.needs_restart {
        say!(
            "            the running server has older settings: `ifind db stop`, then \
             any command starts it with the new ones"
        )?;
    }
    if !s.initialized {
        say!("not initialised yet: `ifind db start` (or any command) creates it")?;
    }
    Ok(())
}

/// What `ifind db status` prints of the backups.
fn print_backup_status(cluster: &Cluster) -> Result<()> {
    let status = cluster.backup_status()?;
    say!(
        "backups:    {} (WAL archived continuously, at least every {} min while anything is \
         written)",
        status.dir.display(),
        crate::db::cluster::ARCHIVE_TIMEOUT_SECS / 60
    )?;
    match (status.backups.first(), status.newest()) {
        (Some(oldest), Some(newest)) => say!(
            "            {}, newest {}, oldest {}",
            crate::domain::format::counted(
                status.backups.len() as u64,
                "base backup",
                "base backups"
            ),
            newest.started.format("%Y-%m-%d %H:%M UTC"),
            oldest.started.format("%Y-%m-%d %H:%M UTC")
        )?,
        _ => say!("            no base backup yet: `ifind db backup` takes one")?,
    }
    match status.last_verified {
        Some(t) => say!(
            "            last verified {} (`ifind db verify-backup`)",
            t.format("%Y-%m-%d %H:%M UTC")
        )?,
        None => say!("            never verified: run `ifind db verify-backup`")?,
    }
    if status.dir.starts_with(cluster.root()) {
        say!(
            "warning:    the backups are on the same disk as the data, which is not a backup: \
             copy {} to another disk or machine regularly (or set backup.dir to one)",
            status.dir.display()
        )?;
    }
    Ok(())
}

/// Starts the daily backup in the background (for the terminal UI on the embedded cluster):
/// every hour while the UI runs, a base backup when the newest is older than a day. Failures
/// go to the log, where `ifind health` shows them.
pub fn spawn_daily_backup(ctx: &Ctx) {
    if ctx.config.database_url().is_some() {
        return;
    }
    let cluster = match cluster(ctx) {
        Ok(cluster) => cluster,
        Err(e) => {
            tracing::error!("daily backup: {e:#}");
            return;
        }
    };
    let keep_days = ctx.config.backup.keep_days;
    tokio::spawn(async move {
        let mut hourly = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            hourly.tick().await;
            match cluster
                .backup_if_older_than(crate::db::cluster::DAILY_BACKUP, keep_days)
                .await
            {
                Ok(Some(report)) => tracing::info!(
                    "daily backup taken: {} ({} old ones removed)",
                    report.backup.path.display(),
                    report.removed.len()
                ),
                Ok(None) => tracing::debug!("daily backup: the newest base backup is recent"),
                Err(e) => tracing::error!("daily backup failed: {e}"),
            }
        }
    });
}

async fn backup(cluster: &Cluster, keep_days: u32) -> Result<()> {
    let report = cluster.backup(keep_days).await?;
    say!("base backup taken: {}", report.backup.path.display())?;
    for name in &report.removed {
        say!("removed base backup {name} (older than {keep_days} days)")?;
    }
    if let Some(segment) = &report.wal_kept_from {
        say!("archived WAL kept from segment {segment} on")?;
    }
    say!(
        "this folder is on the same disk as the data unless backup.dir says otherwise: copy \
         {} elsewhere too",
        cluster.backup_dir().display()
    )?;
    Ok(())
}

async fn restore(cluster: &Cluster, to: Option<chrono::DateTime<chrono::Utc>>) -> Result<()> {
    let report = cluster.restore(to).await?;
    if let Some(warning) = &report.warning {
        say!("warning: {warning}")?;
    }
    say!(
        "restored from base backup {}{}",
        report.backup.name,
        report
            .target
            .map(|t| format!(" to {}", t.to_rfc3339()))
            .unwrap_or_else(|| " to the newest archived state".to_string())
    )?;
    say!(
        "schema version: {}",
        report
            .schema_version
            .as_deref()
            .unwrap_or("(no ifind database)")
    )?;
    match &report.old_data {
        Some(old) => say!(
            "the previous data folder is kept at {}: remove it once you no longer need it",
            old.display()
        )?,
        None => say!("there was no previous data folder")?,
    }
    say!("the embedded cluster runs on the restored data")?;
    Ok(())
}

async fn verify_backup(cluster: &Cluster) -> Result<()> {
    let report = cluster.verify_backup().await?;
    say!("backup:   {}", report.backup.path.display())?;
    say!("live:     {}", report.live.describe())?;
    say!("restored: {}", report.restored.describe())?;
    if report.differences.is_empty() {
        say!("OK: the restored backup matches the live database")?;
        return Ok(());
    }
    anyhow::bail!(
        "the restored backup differs from the live database: {}. Rows written while verifying \
         explain small differences: run it again when the database is quiet; otherwise take a \
         new backup with `ifind db backup`",
        report.differences.join("; ")
    )
}

pub async fn db(ctx: &Ctx, action: DbAction) -> Result<()> {
    if let Some(url) = ctx.config.database_url() {
        if !matches!(action, DbAction::Status) {
            anyhow::bail!(
                "ifind is configured to use the database at {}; `ifind db start|stop|backup|\
                 restore|verify-backup` manage only the embedded cluster (remove database.url \
                 and IFIND_DATABASE_URL to use it; for your own server, see README, Backups)",
                crate::db::pool::redact(url)
            );
        }
        say!(
            "database: {} (configured; the embedded cluster is not used)",
            crate::db::pool::redact(url)
        )?;
        return Ok(());
    }
    let cluster = cluster(ctx)?;
    match action {
        DbAction::Status => {
            print_status(&cluster.status()?)?;
            print_backup_status(&cluster)?;
        }
        DbAction::Backup => backup(&cluster, ctx.config.backup.keep_days).await?,
        DbAction::Restore { to } => restore(&cluster, to).await?,
        DbAction::VerifyBackup => verify_backup(&cluster).await?,
        DbAction::Start => {
            cluster
                .ensure_running()
                .await
                .context("could not start the embedded cluster")?;
            let s = cluster.status()?;
            say!(
                "embedded cluster running (pid {}) in {}",
                s.pid.map(|p| p.to_string()).unwrap_or_else(|| "?".into()),
                s.root.display()
            )?;
        }
        DbAction::Stop => {
            if cluster.stop().await? {
                say!("embedded cluster stopped")?;
            } else {
                say!("embedded cluster was not running")?;
            }
        }
    }
    Ok(())
}
