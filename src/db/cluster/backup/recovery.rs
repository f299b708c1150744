//! Recovering a base backup and the archived WAL in a temporary cluster beside the root: for
//! `ifind db restore` (which then switches the cluster to it) and `ifind db verify-backup`
//! (which compares it with the live database and throws it away).

use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{DateTime, Utc};

use super::super::fsutil::{Dir, io_error};
use super::super::{Cluster, ClusterError, LOG_FILE, MAX_SOCKET_PATH, blocking};
use super::{
    BACKUP_LOCK, BaseBackup, LONG_TIMEOUT, MAIN_DATABASE, NAME_FORMAT, POLL, RestoreReport,
    VERIFIED_FILE, VerifyReport,
};

/// What the log of a recovery that ran out of WAL before its target says.
const TARGET_NOT_REACHED: &str = "recovery ended before configured recovery target was reached";

/// A recovery under way: from which backup, to which time.
#[derive(Clone, Debug)]
struct Recovery {
    backup: BaseBackup,
    target: Option<DateTime<Utc>>,
}

impl Cluster {
    /// A temporary cluster at `ROOT.purpose` with its own socket folder, recovering from this
    /// cluster's archive up to `target`. With `archive`, its new timeline goes to the archive.
    fn scratch(
        &self,
        purpose: &str,
        archive: bool,
        target: Option<DateTime<Utc>>,
    ) -> Result<Cluster, ClusterError> {
        let name = self
            .root
            .file_name()
            .map_or_else(|| "pg".to_string(), |n| n.to_string_lossy().into_owned());
        let root = self.root.with_file_name(format!("{name}.{purpose}"));
        let socket = root.join("socket").join(format!(".s.PGSQL.{}", self.port));
        let len = socket.as_os_str().len();
        if len > MAX_SOCKET_PATH {
            return Err(ClusterError::SocketPathTooLong {
                path: socket,
                len,
                max: MAX_SOCKET_PATH,
            });
        }
        Ok(Cluster {
            root,
            listen_tcp: false,
            archive,
            recovery: Some(self.recovery_conf(target)),
            ..self.clone()
        })
    }

    /// Stops a temporary cluster's server if one runs and removes its folder.
    async fn discard_scratch(&self, scratch: &Cluster) -> Result<(), ClusterError> {
        if !scratch.root.exists() {
            return Ok(());
        }
        scratch.stop().await?;
        // Its parent is this cluster's (trusted) parent; std's removal follows no link.
        match std::fs::remove_dir_all(&scratch.root) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_error("remove", &scratch.root, e)),
        }
    }

    /// Checks the base backup against its manifest and the archive (`pg_verifybackup`).
    fn check_base_backup(&self, backup: &BaseBackup) -> Result<(), ClusterError> {
        let mut cmd = self.command("pg_verifybackup");
        cmd.arg("--wal-directory")
            .arg(self.wal_dir())
            .arg(&backup.path);
        let out = self.run_required(cmd, "pg_verifybackup", LONG_TIMEOUT)?;
        if out.status.success() {
            return Ok(());
        }
        Err(ClusterError::BackupDamaged {
            backup: backup.path.clone(),
            detail: out.text(),
        })
    }

    /// Copies the checked base backup into the temporary cluster's data folder and marks it
    /// for recovery.
    fn stage_backup(&self, scratch: &Cluster, backup: &BaseBackup) -> Result<(), ClusterError> {
        self.check_base_backup(backup)?;
        let root = scratch
            .open_root(true)?
            .ok_or_else(|| io_error("open", &scratch.root, std::io::ErrorKind::NotFound.into()))?;
        let data = scratch.data_dir();
        self.run_tool("cp", &[Path::new("-a"), &backup.path, &data], "cp")?;
        let data_dir = root
            .subdir("data", None)?
            .ok_or_else(|| io_error("open", &data, std::io::ErrorKind::NotFound.into()))?;
        data_dir.write("recovery.signal", "")
    }

    /// Recovers `recovery` in `scratch` until it has been promoted and takes writes.
    async fn recover(&self, scratch: &Cluster, recovery: &Recovery) -> Result<(), ClusterError> {
        self.discard_scratch(scratch).await?;
        let (me, s, b) = (self.clone(), scratch.clone(), recovery.backup.clone());
        blocking(move || me.stage_backup(&s, &b)).await?;
        tracing::info!(
            "recovering {} in {}",
            recovery.backup.path.display(),
            scratch.root.display()
        );
        if let Err(e) = scratch.ensure_running().await {
            return Err(scratch.recovery_error(recovery, e.to_string()));
        }
        scratch.wait_promoted(recovery).await
    }

    /// Waits until the recovering server has left recovery (promoted).
    async fn wait_promoted(&self, recovery: &Recovery) -> Result<(), ClusterError> {
        let deadline = Instant::now() + LONG_TIMEOUT;
        loop {
            let state = match self.connect_owner("postgres").await {
                Ok(mut conn) => sqlx::query_scalar::<_, bool>("SELECT pg_is_in_recovery()")
                    .fetch_one(&mut conn)
                    .await
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            match state {
                Ok(false) => return Ok(()),
                Ok(true) => {}
                Err(detail) if !self.status()?.running => {
                    return Err(self.recovery_error(recovery, detail));
                }
                Err(_) => {}
            }
            if Instant::now() > deadline {
                return Err(ClusterError::Timeout {
                    what: "recovering the backup".to_string(),
                    secs: LONG_TIMEOUT.as_secs(),
                    log: self.log_file(),
                });
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// The error of a recovery that stopped: its target not reached, or what its log says.
    fn recovery_error(&self, recovery: &Recovery, detail: String) -> ClusterError {
        let log_tail = match self.open_root(false) {
            Ok(Some(root)) => root.tail(LOG_FILE, 0, 20),
            Ok(None) => "(no log)".to_string(),
            Err(e) => format!("(could not read it: {e})"),
        };
        if let Some(target) = recovery.target
            && log_tail.contains(TARGET_NOT_REACHED)
        {
            return ClusterError::RecoveryTargetNotReached {
                target: target.to_rfc3339(),
            };
        }
        ClusterError::RecoveryFailed {
            backup: recovery.backup.path.clone(),
            detail,
            log: self.log_file(),
            log_tail,
        }
    }

    /// The newest base backup started before `target` (the newest of all without one).
    fn backup_for(&self, target: Option<DateTime<Utc>>) -> Result<BaseBackup, ClusterError> {
        let backups = self.base_backups()?;
        let no_backup = || ClusterError::NoBackup {
            dir: self.base_dir(),
        };
        let oldest = backups.first().ok_or_else(no_backup)?;
        if let Some(target) = target
            && target <= oldest.started
        {
            return Err(ClusterError::TargetBeforeOldestBackup {
                target: target.to_rfc3339(),
                oldest: oldest.started.to_rfc3339(),
            });
        }
        backups
            .iter()
            .rev()
            .find(|b| target.is_none_or(|t| b.started < t))
            .cloned()
            .ok_or_else(no_backup)
    }

    /// Restores the cluster to `target` (or to the newest archived state): recovers the newest
    /// base backup before it in a new data folder, checks that it answers, then stops the
    /// cluster, moves the old data folder aside (kept) and starts the restored one.
    pub async fn restore(
        &self,
        target: Option<DateTime<Utc>>,
    ) -> Result<RestoreReport, ClusterError> {
        let backup = self.backup_for(target)?;
        // Archive what the live cluster has not yet, when it can run.
        let warning = match self.ensure_running().await {
            Ok(()) => self.archive_current_wal().await.err(),
            Err(e) => Some(e),
        }
        .map(|e| format!("the newest WAL of the current cluster could not be archived ({e})"));
        let root = self.open_root_created().await?;
        let lock = self.lock_named(&root, BACKUP_LOCK).await?;
        let scratch = self.scratch("restore", true, target)?;
        let recovery = Recovery { backup, target };
        let checked = async {
            self.recover(&scratch, &recovery).await?;
            let version = scratch.snapshot(MAIN_DATABASE).await?.schema_version;
            scratch.stop().await?;
            Ok::<_, ClusterError>(version)
        }
        .await;
        let schema_version = match checked {
            Ok(version) => version,
            Err(e) => {
                let _ = self.discard_scratch(&scratch).await;
                return Err(e);
            }
        };
        let old_data = self.switch_to(&scratch).await?;
        self.discard_scratch(&scratch).await?;
        drop(lock);
        self.ensure_running().await?;
        Ok(RestoreReport {
            backup: recovery.backup,
            target,
            old_data,
            schema_version,
            warning,
        })
    }

    /// Stops the cluster, moves its data folder aside and the recovered one into its place.
    async fn switch_to(&self, scratch: &Cluster) -> Result<Option<PathBuf>, ClusterError> {
        let root = self.open_root_created().await?;
        let lock = self.lock(&root).await?;
        let (me, scratch) = (self.clone(), scratch.clone());
        blocking(move || {
            let result = me.switch_locked(&root, &scratch);
            drop(lock);
            result
        })
        .await
    }

    fn switch_locked(
        &self,
        root: &Dir,
        scratch: &Cluster,
    ) -> Result<Option<PathBuf>, ClusterError> {
        self.stop_locked(root)?;
        let aside = format!("data.before-restore-{}", Utc::now().format(NAME_FORMAT));
        let old_data = if root.exists("data")? {
            root.rename("data", &aside)?;
            Some(self.root.join(&aside))
        } else {
            None
        };
        let scratch_root = scratch
            .open_root(false)?
            .ok_or_else(|| io_error("open", &scratch.root, std::io::ErrorKind::NotFound.into()))?;
        scratch_root.move_to("data", root, "data")?;
        tracing::info!(
            "the embedded cluster now runs on the restored data; the old data folder is {}",
            old_data
                .as_ref()
                .map_or("(none)".to_string(), |p| p.display().to_string())
        );
        Ok(old_data)
    }

    /// The weekly restore test: archives the newest WAL, recovers the newest base backup in a
    /// temporary cluster and compares its row counts and schema version with the live
    /// database. A match is recorded as the last successful verification.
    pub async fn verify_backup(&self) -> Result<VerifyReport, ClusterError> {
        self.ensure_running().await?;
        self.require_archiving().await?;
        let backup = self.backup_for(None)?;
        let root = self.open_root_created().await?;
        let lock = self.lock_named(&root, BACKUP_LOCK).await?;
        // A damaged backup or archive is named before anything waits on it.
        self.check_base_backup(&backup)?;
        let live = self.snapshot(MAIN_DATABASE).await?;
        self.archive_current_wal().await?;
        // No archiving: the copy's own timeline must never reach the real archive.
        let scratch = self.scratch("verify", false, None)?;
        let recovery = Recovery {
            backup: backup.clone(),
            target: None,
        };
        let restored = async {
            self.recover(&scratch, &recovery).await?;
            scratch.snapshot(MAIN_DATABASE).await
        }
        .await;
        let discarded = self.discard_scratch(&scratch).await;
        let restored = restored?;
        discarded?;
        let differences = live.differences(&restored);
        if differences.is_empty() {
            self.run_tool("touch", &[&self.backup_dir.join(VERIFIED_FILE)], "touch")?;
        }
        drop(lock);
        Ok(VerifyReport {
            backup,
            live,
            restored,
            differences,
        })
    }
}
