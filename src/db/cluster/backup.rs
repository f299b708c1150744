//! Backups of the embedded cluster (design document §6.2 and §7.2: recovery point at most an
//! hour old, 30 days of daily backups, restore tests).
//!
//! ```text
//! BACKUP/wal/            the WAL archive: the server's archive_command copies every finished
//!                        segment here (never over an existing file); archive_timeout = 1 h
//! BACKUP/base/NAME/      base backups (pg_basebackup, plain format, no WAL of their own),
//!                        NAME = their UTC start time, e.g. 20260301T020000Z
//! BACKUP/last-verified   touched by each successful `ifind db verify-backup`
//! ```
//!
//! BACKUP is `backup.dir`, by default ROOT/backup. Everything in it is written by the server's
//! OS user (ifind runs `mkdir`, `cp`, `mv`, `rm`, `touch` and the PostgreSQL tools as that user),
//! so as root ifind never writes through a folder another user controls.
//!
//! Restores and verifications recover a copy of a base backup in a temporary cluster beside
//! the root (`ROOT.restore`, `ROOT.verify`, each with its own socket folder), then promote it.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDateTime, Utc};
use sqlx::Connection;
use sqlx::postgres::PgConnection;

use super::fsutil::{Dir, io_error};
use super::{Cluster, ClusterError, SUPERUSER, blocking};

/// A WAL segment is archived at least this often while anything is written: the recovery
/// point objective (the design document's one hour).
pub const ARCHIVE_TIMEOUT_SECS: u32 = 3600;
/// The daily backup: taken when the newest base backup is older than this.
pub const DAILY: Duration = Duration::from_secs(24 * 3600);
/// The database whose rows `verify-backup` compares.
pub const MAIN_DATABASE: &str = "ifind";
/// The tables whose row counts `verify-backup` compares.
const COUNTED_TABLES: [&str; 4] = ["interactions", "interactions_archive", "users", "sites"];
const WAL: &str = "wal";
const BASE: &str = "base";
const VERIFIED_FILE: &str = "last-verified";
const BACKUP_LOCK: &str = "backup.lock";
const NAME_FORMAT: &str = "%Y%m%dT%H%M%SZ";
const PARTIAL: &str = ".partial";
const LONG_TIMEOUT: Duration = Duration::from_secs(4 * 3600);
const SHORT_TIMEOUT: Duration = Duration::from_secs(60);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
const POLL: Duration = Duration::from_millis(100);

/// One base backup in `BACKUP/base`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BaseBackup {
    pub name: String,
    pub path: PathBuf,
    /// When it started (from its name).
    pub started: DateTime<Utc>,
}

/// What the backup folder holds.
#[derive(Clone, Debug)]
pub struct BackupStatus {
    pub dir: PathBuf,
    /// Oldest first.
    pub backups: Vec<BaseBackup>,
    /// When `verify-backup` last succeeded.
    pub last_verified: Option<DateTime<Utc>>,
}

impl BackupStatus {
    pub fn newest(&self) -> Option<&BaseBackup> {
        self.backups.last()
    }
}

/// What `ifind db backup` did.
#[derive(Clone, Debug)]
pub struct BackupReport {
    pub backup: BaseBackup,
    /// Base backups removed as older than the kept days.
    pub removed: Vec<String>,
    /// WAL before this segment was removed from the archive (no kept backup needs it).
    pub wal_kept_from: Option<String>,
}

/// What `ifind db restore` did.
#[derive(Clone, Debug)]
pub struct RestoreReport {
    pub backup: BaseBackup,
    pub target: Option<DateTime<Utc>>,
    /// Where the data folder that was replaced now is (None: there was none).
    pub old_data: Option<PathBuf>,
    /// The restored database's schema version (None: it has no ifind database).
    pub schema_version: Option<String>,
    /// Set when the live cluster's newest WAL could not be archived first.
    pub warning: Option<String>,
}

/// Row counts and the schema version of one database.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DbSnapshot {
    pub database_exists: bool,
    /// Each counted table with its rows (None: no such table).
    pub counts: Vec<(&'static str, Option<i64>)>,
    pub schema_version: Option<String>,
}

impl DbSnapshot {
    /// One line: each table's rows and the schema version.
    pub fn describe(&self) -> String {
        if !self.database_exists {
            return format!("no database {MAIN_DATABASE}");
        }
        let mut parts: Vec<String> = self
            .counts
            .iter()
            .map(|(table, n)| match n {
                Some(n) => format!("{table} {n}"),
                None => format!("{table} (missing)"),
            })
            .collect();
        parts.push(format!(
            "schema {}",
            self.schema_version.as_deref().unwrap_or("(none)")
        ));
        parts.join(", ")
    }

    /// What differs between this (the live database) and `restored`, in words.
    pub fn differences(&self, restored: &DbSnapshot) -> Vec<String> {
        let mut out = Vec::new();
        if self.database_exists != restored.database_exists {
            out.push(format!(
                "database {MAIN_DATABASE}: live {}, restored {}",
                exists_word(self.database_exists),
                exists_word(restored.database_exists)
            ));
        }
        for ((table, live), (_, back)) in self.counts.iter().zip(&restored.counts) {
            if live != back {
                out.push(format!("{table}: live {live:?} rows, restored {back:?}"));
            }
        }
        if self.schema_version != restored.schema_version {
            out.push(format!(
                "schema version: live {:?}, restored {:?}",
                self.schema_version, restored.schema_version
            ));
        }
        out
    }
}

fn exists_word(exists: bool) -> &'static str {
    if exists { "exists" } else { "missing" }
}

/// What `ifind db verify-backup` found.
#[derive(Clone, Debug)]
pub struct VerifyReport {
    pub backup: BaseBackup,
    pub live: DbSnapshot,
    pub restored: DbSnapshot,
    /// Empty when the restored copy matches the live database.
    pub differences: Vec<String>,
}

/// A path for a single-quoted string of postgresql.conf holding a single-quoted shell word:
/// `%` doubled (archive_command's escape). [`super::is_unsafe_path`] already refused quotes.
fn conf_path(path: &Path) -> String {
    path.to_string_lossy().replace('%', "%%")
}

/// The WAL segment a base backup starts in, from its `backup_label`.
fn start_segment(label: &str) -> Option<String> {
    let line = label
        .lines()
        .find(|l| l.starts_with("START WAL LOCATION:"))?;
    let file = line.split("(file ").nth(1)?.trim_end_matches(')').trim();
    (file.len() == 24 && file.bytes().all(|b| b.is_ascii_hexdigit())).then(|| file.to_string())
}

impl Cluster {
    /// Where WAL is archived and base backups go.
    pub fn backup_dir(&self) -> &Path {
        &self.backup_dir
    }

    fn wal_dir(&self) -> PathBuf {
        self.backup_dir.join(WAL)
    }

    fn base_dir(&self) -> PathBuf {
        self.backup_dir.join(BASE)
    }

    /// The archiving lines of `ifind.conf`.
    pub(super) fn archive_conf(&self) -> String {
        if !self.archive {
            return "archive_mode = off\n".to_string();
        }
        let wal = conf_path(&self.wal_dir());
        format!(
            "archive_mode = on\n\
             archive_command = 'test ! -f ''{wal}/%f'' && cp %p ''{wal}/%f.part'' && mv ''{wal}/%f.part'' ''{wal}/%f'''\n\
             archive_timeout = {ARCHIVE_TIMEOUT_SECS}\n"
        )
    }

    /// The settings of a cluster recovering from the archive up to `target` (or its end).
    fn recovery_conf(&self, target: Option<DateTime<Utc>>) -> String {
        let wal = conf_path(&self.wal_dir());
        let mut text = format!(
            "# Recovery from a backup (ifind db restore / verify-backup)\n\
             shared_buffers = 128MB\n\
             restore_command = 'cp ''{wal}/%f'' %p'\n\
             recovery_target_action = 'promote'\n"
        );
        if let Some(target) = target {
            text.push_str(&format!(
                "recovery_target_time = '{}'\n",
                target.format("%Y-%m-%d %H:%M:%S%.6f+00")
            ));
        }
        text
    }

    /// Runs a tool as the server's OS user; its failure is a [`ClusterError::CommandFailed`].
    fn run_tool(&self, program: &str, args: &[&Path], what: &str) -> Result<(), ClusterError> {
        let mut cmd = self.command_as_server(program);
        cmd.args(args);
        self.run_checked(cmd, what, LONG_TIMEOUT).map(drop)
    }

    /// Makes `wal/` and `base/` in the backup folder (as the server's OS user, mode 0700).
    pub(super) fn prepare_backup_dir(&self) -> Result<(), ClusterError> {
        let (wal, base) = (self.wal_dir(), self.base_dir());
        let args = [
            Path::new("-p"),
            Path::new("-m"),
            Path::new("0700"),
            &self.backup_dir,
            &wal,
            &base,
        ];
        self.run_tool("mkdir", &args, "mkdir")
            .map_err(|e| ClusterError::BackupFolder {
                dir: self.backup_dir.clone(),
                user: self
                    .run_as
                    .as_ref()
                    .map_or_else(|| "(yours)".to_string(), |u| u.name.clone()),
                output: e.to_string(),
            })
    }

    /// The base backups, oldest first (unfinished ones, `NAME.partial`, are left out).
    fn base_backups(&self) -> Result<Vec<BaseBackup>, ClusterError> {
        let base = self.base_dir();
        let entries = match fs::read_dir(&base) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_error("list", &base, e)),
        };
        let mut out = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| io_error("list", &base, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Ok(started) = NaiveDateTime::parse_from_str(&name, NAME_FORMAT) {
                out.push(BaseBackup {
                    path: base.join(&name),
                    started: started.and_utc(),
                    name,
                });
            }
        }
        out.sort_by_key(|b| b.started);
        Ok(out)
    }

    /// The base backups and the last successful verification. Changes nothing.
    pub fn backup_status(&self) -> Result<BackupStatus, ClusterError> {
        let last_verified = fs::metadata(self.backup_dir.join(VERIFIED_FILE))
            .and_then(|m| m.modified())
            .ok()
            .map(DateTime::<Utc>::from);
        Ok(BackupStatus {
            dir: self.backup_dir.clone(),
            backups: self.base_backups()?,
            last_verified,
        })
    }

    async fn open_root_created(&self) -> Result<Dir, ClusterError> {
        let me = self.clone();
        blocking(move || {
            me.open_root(true)?
                .ok_or_else(|| io_error("open", &me.root, std::io::ErrorKind::NotFound.into()))
        })
        .await
    }

    /// Connects to `database` as the owner, within [`CONNECT_TIMEOUT`].
    async fn connect_owner(&self, database: &str) -> Result<PgConnection, ClusterError> {
        let options = self.connect_options(database);
        match tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect_with(&options)).await {
            Ok(conn) => conn.map_err(|e| self.sql_error("connect", e)),
            Err(_) => Err(ClusterError::Timeout {
                what: "connecting to the server".to_string(),
                secs: CONNECT_TIMEOUT.as_secs(),
                log: self.log_file(),
            }),
        }
    }

    fn sql_error(&self, action: &'static str, err: sqlx::Error) -> ClusterError {
        ClusterError::Sql {
            action,
            err,
            log: self.log_file(),
        }
    }

    /// Takes a base backup (the cluster is started if needed), then removes base backups older
    /// than `keep_days` (the newest is always kept) and the WAL no kept backup needs.
    pub async fn backup(&self, keep_days: u32) -> Result<BackupReport, ClusterError> {
        self.ensure_running().await?;
        self.require_archiving().await?;
        let root = self.open_root_created().await?;
        let lock = self.lock_named(&root, BACKUP_LOCK).await?;
        let me = self.clone();
        blocking(move || {
            let result = me.backup_locked(keep_days);
            drop(lock);
            result
        })
        .await
    }

    /// [`Cluster::backup`] when the newest base backup is older than `max_age` (or there is
    /// none): the daily backup. Ok(None) when a recent one exists.
    pub async fn backup_if_older_than(
        &self,
        max_age: Duration,
        keep_days: u32,
    ) -> Result<Option<BackupReport>, ClusterError> {
        let newest = self.backup_status()?.newest().map(|b| b.started);
        let max_age = chrono::Duration::from_std(max_age).unwrap_or(chrono::Duration::MAX);
        if newest.is_some_and(|t| Utc::now() - t < max_age) {
            return Ok(None);
        }
        self.backup(keep_days).await.map(Some)
    }

    /// Fails with [`ClusterError::ArchivingOff`] when the running server does not archive WAL.
    async fn require_archiving(&self) -> Result<(), ClusterError> {
        let mut conn = self.connect_owner("postgres").await?;
        let mode: String = sqlx::query_scalar("SELECT current_setting('archive_mode')")
            .fetch_one(&mut conn)
            .await
            .map_err(|e| self.sql_error("read archive_mode", e))?;
        let _ = conn.close().await;
        if mode == "on" {
            Ok(())
        } else {
            Err(ClusterError::ArchivingOff)
        }
    }

    fn backup_locked(&self, keep_days: u32) -> Result<BackupReport, ClusterError> {
        self.prepare_backup_dir()?;
        for stale in fs::read_dir(self.base_dir())
            .map_err(|e| io_error("list", &self.base_dir(), e))?
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().ends_with(PARTIAL))
        {
            tracing::warn!("removing the unfinished backup {}", stale.path().display());
            self.run_tool("rm", &[Path::new("-rf"), &stale.path()], "rm")?;
        }
        let mut started = Utc::now();
        while self
            .base_dir()
            .join(started.format(NAME_FORMAT).to_string())
            .exists()
        {
            std::thread::sleep(Duration::from_millis(200));
            started = Utc::now();
        }
        let name = started.format(NAME_FORMAT).to_string();
        let path = self.base_dir().join(&name);
        let partial = self.base_dir().join(format!("{name}{PARTIAL}"));
        let mut cmd = self.command("pg_basebackup");
        cmd.arg("-D")
            .arg(&partial)
            .args(["-F", "p", "-X", "none", "-c", "fast", "--no-password"])
            .args(["-U", SUPERUSER, "-h"])
            .arg(self.socket_dir())
            .arg("-p")
            .arg(self.port.to_string());
        tracing::info!("taking a base backup into {}", path.display());
        if let Err(e) = self.run_checked(cmd, "pg_basebackup", LONG_TIMEOUT) {
            let _ = self.run_tool("rm", &[Path::new("-rf"), &partial], "rm");
            return Err(e);
        }
        self.run_tool("mv", &[Path::new("-T"), &partial, &path], "mv")?;
        let backup = BaseBackup {
            name,
            path,
            started,
        };
        let (removed, wal_kept_from) = self.prune(keep_days)?;
        Ok(BackupReport {
            backup,
            removed,
            wal_kept_from,
        })
    }

    /// Removes base backups older than `keep_days` (never the newest) and the archived WAL
    /// older than the oldest kept backup. Returns the removed backups and the oldest WAL kept.
    fn prune(&self, keep_days: u32) -> Result<(Vec<String>, Option<String>), ClusterError> {
        let backups = self.base_backups()?;
        let cutoff = Utc::now() - chrono::Duration::days(keep_days.into());
        let newest = backups.last().map(|b| b.name.clone());
        let (old, kept): (Vec<BaseBackup>, Vec<BaseBackup>) = backups
            .into_iter()
            .partition(|b| b.started < cutoff && Some(&b.name) != newest.as_ref());
        for backup in &old {
            tracing::info!("removing the old base backup {}", backup.path.display());
            self.run_tool("rm", &[Path::new("-rf"), &backup.path], "rm")?;
        }
        let Some(oldest) = kept.first() else {
            return Ok((Vec::new(), None));
        };
        let label = self.read_as_server(&oldest.path.join("backup_label"))?;
        let Some(segment) = start_segment(&label) else {
            tracing::warn!(
                "{} names no start WAL segment: the WAL archive is not pruned",
                oldest.path.join("backup_label").display()
            );
            return Ok((old.into_iter().map(|b| b.name).collect(), None));
        };
        let mut cmd = self.command("pg_archivecleanup");
        cmd.arg(self.wal_dir()).arg(&segment);
        self.run_checked(cmd, "pg_archivecleanup", LONG_TIMEOUT)?;
        Ok((old.into_iter().map(|b| b.name).collect(), Some(segment)))
    }

    /// The text of a file in the backup folder, read as the server's OS user.
    fn read_as_server(&self, path: &Path) -> Result<String, ClusterError> {
        let mut cmd = self.command_as_server("cat");
        cmd.arg(path);
        Ok(self.run_checked(cmd, "cat", SHORT_TIMEOUT)?.stdout)
    }

    /// Switches to a new WAL segment and waits until the finished one is in the archive, so
    /// the archive holds everything committed so far.
    async fn archive_current_wal(&self) -> Result<(), ClusterError> {
        let mut conn = self.connect_owner("postgres").await?;
        let segment: String = sqlx::query_scalar("SELECT pg_walfile_name(pg_switch_wal())")
            .fetch_one(&mut conn)
            .await
            .map_err(|e| self.sql_error("switch to a new WAL segment", e))?;
        let deadline = Instant::now() + SHORT_TIMEOUT;
        while !self.wal_dir().join(&segment).exists() {
            let archived: Option<String> =
                sqlx::query_scalar("SELECT last_archived_wal FROM pg_stat_archiver")
                    .fetch_one(&mut conn)
                    .await
                    .map_err(|e| self.sql_error("read the archiver's progress", e))?;
            // Segment names sort in WAL order (timeline, then position): the archiver has
            // passed this one, so it was archived and has since gone from the folder.
            if archived.is_some_and(|last| last.get(..24) >= Some(segment.as_str())) {
                return Err(ClusterError::BackupDamaged {
                    backup: self.wal_dir(),
                    detail: format!(
                        "WAL segment {segment} was archived but is no longer in {}",
                        self.wal_dir().display()
                    ),
                });
            }
            if Instant::now() > deadline {
                let failed: Option<String> =
                    sqlx::query_scalar("SELECT last_failed_wal FROM pg_stat_archiver")
                        .fetch_one(&mut conn)
                        .await
                        .unwrap_or_default();
                return Err(ClusterError::ArchiveStuck {
                    segment,
                    wal_dir: self.wal_dir(),
                    secs: SHORT_TIMEOUT.as_secs(),
                    last_failed: failed.unwrap_or_else(|| "none recorded".to_string()),
                    log: self.log_file(),
                });
            }
            tokio::time::sleep(POLL).await;
        }
        let _ = conn.close().await;
        Ok(())
    }

    /// Row counts and the schema version of `database` (nothing when it does not exist).
    pub async fn snapshot(&self, database: &str) -> Result<DbSnapshot, ClusterError> {
        let mut conn = self.connect_owner("postgres").await?;
        let exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
                .bind(database)
                .fetch_one(&mut conn)
                .await
                .map_err(|e| self.sql_error("look up the database", e))?;
        let _ = conn.close().await;
        if !exists {
            return Ok(DbSnapshot::default());
        }
        let mut conn = self.connect_owner(database).await?;
        let mut snapshot = DbSnapshot {
            database_exists: true,
            ..DbSnapshot::default()
        };
        for table in COUNTED_TABLES {
            snapshot
                .counts
                .push((table, self.count(&mut conn, table).await?));
        }
        if self.count(&mut conn, "schema_metadata").await?.is_some() {
            snapshot.schema_version =
                sqlx::query_scalar("SELECT version::text FROM schema_metadata WHERE id = 1")
                    .fetch_optional(&mut conn)
                    .await
                    .map_err(|e| self.sql_error("read the schema version", e))?;
        }
        let _ = conn.close().await;
        Ok(snapshot)
    }

    /// The rows of `table` (one of ifind's fixed names), None when there is no such table.
    async fn count(
        &self,
        conn: &mut PgConnection,
        table: &str,
    ) -> Result<Option<i64>, ClusterError> {
        let exists: bool = sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
            .bind(table)
            .fetch_one(&mut *conn)
            .await
            .map_err(|e| self.sql_error("look up a table", e))?;
        if !exists {
            return Ok(None);
        }
        // `table` is one of ifind's constant table names, never input.
        let count: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
            .fetch_one(&mut *conn)
            .await
            .map_err(|e| self.sql_error("count rows", e))?;
        Ok(Some(count))
    }
}

mod recovery;
