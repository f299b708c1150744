//! ifind's private embedded PostgreSQL cluster, used when no database URL is configured.
//!
//! The cluster is made from the PostgreSQL server binaries already on the machine and lives in
//! one root directory:
//!
//! ```text
//! ROOT/data/         PGDATA (postgresql.conf includes the generated ifind.conf, which names
//!                    the generated ifind_hba.conf)
//! ROOT/socket/       the Unix socket directory (mode 0700); by default no TCP port
//! ROOT/server.log    the server's log
//! ROOT/cluster.lock  serialises starting and stopping between ifind processes
//! ROOT/backup/       the backups (configurable, see `backup`): `wal/` (the WAL archive) and
//!                    `base/` (base backups named by their UTC start time)
//! ```
//!
//! `initdb` and `postgres` refuse to run as root, so when ifind runs as root they run as an
//! unprivileged OS user (default `postgres`); if that user cannot reach the preferred directory
//! (as under `/root`), the cluster lives in a fallback directory instead. The server keeps
//! running after ifind exits. Every child process runs with a time limit.
//!
//! As root, ifind treats everything inside ROOT as the server user's and so untrusted: it
//! reaches ROOT only through folders only root can change, never follows a link inside it, and
//! gives that user nothing but ROOT (see `fsutil`).
//!
//! Authentication: the owner (`ifind`) and the local delegate role (`ifind_app`) are trusted over
//! the socket, whose folder only the OS account (and root) can enter; every other role logs in
//! with a SCRAM-SHA-256 password, throttled by `auth_delay` where the server has it and locked
//! out after repeated failures by ifind's own module `ifind_auth` (`pg/ifind_auth`) where it is
//! installed ([`ClusterSettings::lockout`]). TCP (only on 127.0.0.1, and only when
//! [`ClusterSettings::listen_tcp`] asks) takes passwords only.

mod backup;
mod binaries;
mod error;
mod fsutil;
mod process;

pub use backup::{
    ARCHIVE_TIMEOUT_SECS, BackupReport, BackupStatus, BaseBackup, DAILY as DAILY_BACKUP,
    DbSnapshot, MAIN_DATABASE, RestoreReport, VerifyReport,
};
pub use error::ClusterError;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use nix::fcntl::{Flock, FlockArg};
use nix::unistd::{User, geteuid, getgrouplist};
use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection};

use crate::db::roles::APP_ROLE;
use binaries::{discover_bindir, server_version};
use fsutil::{Dir, RunAs, first_blocker, io_error, is_unsafe_path};
use process::{Output, PidFile, inspect_pid_file, run};

/// The port number; with no TCP listener it only names the socket file (`.s.PGSQL.5432`).
pub const PORT: u16 = 5432;
/// The superuser role created by `initdb`.
pub const SUPERUSER: &str = "ifind";
/// The generated client authentication file in PGDATA.
const HBA_FILE: &str = "ifind_hba.conf";
const LOG_FILE: &str = "server.log";
const LOCK_FILE: &str = "cluster.lock";
/// `auth_delay.milliseconds` when the server has the auth_delay module.
const AUTH_DELAY_MS: u32 = 500;
/// The login lockout module (ifind's `pg/ifind_auth`), in the server's pkglibdir.
const IFIND_AUTH_MODULE: &str = "ifind_auth.so";
/// How to get the lockout module, for messages that say it is missing.
pub const LOCKOUT_INSTALL_HINT: &str = "install it from ifind's source with `make -C \
     pg/ifind_auth with_llvm=no install` as root (it needs the server's headers, e.g. Debian's \
     postgresql-server-dev-15); see README, Security model";
/// Unix socket paths longer than this do not fit in `sockaddr_un`.
const MAX_SOCKET_PATH: usize = 107;
const LOCK_TIMEOUT: Duration = Duration::from_secs(120);
const INITDB_TIMEOUT: Duration = Duration::from_secs(300);
/// pg_ctl's own wait (`-t 30`) plus a margin.
const PG_CTL_TIMEOUT: Duration = Duration::from_secs(45);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// Where and how to run the embedded cluster (the config's `embedded.*` keys).
#[derive(Clone, Debug)]
pub struct ClusterSettings {
    /// `embedded.bindir`: the directory holding initdb, pg_ctl and postgres; None = discover.
    pub bindir: Option<PathBuf>,
    /// Preferred root directory of the cluster (platform data dir + "/pg").
    pub data_dir: PathBuf,
    /// Unprivileged OS user that runs the server when ifind runs as root.
    pub os_user: String,
    /// Root directory used when ifind runs as root and `os_user` cannot reach `data_dir`.
    pub fallback_dir: PathBuf,
    /// Also listen on 127.0.0.1 at this port (password logins only); None = the socket only.
    /// The port also names the socket file.
    pub listen_tcp: Option<u16>,
    /// The login lockout, when the server has the `ifind_auth` module.
    pub lockout: LockoutSettings,
    /// Where WAL is archived and base backups go (`backup.dir`); None = ROOT/backup.
    pub backup_dir: Option<PathBuf>,
}

/// The login lockout of the `ifind_auth` server module: after `max_failures` consecutive failed
/// password logins a user name is refused for `lockout_secs` seconds, whatever the password
/// (`embedded.login_max_failures`, `embedded.login_lockout_secs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LockoutSettings {
    /// 0 turns the lockout off.
    pub max_failures: u32,
    pub lockout_secs: u32,
}

impl Default for LockoutSettings {
    fn default() -> Self {
        LockoutSettings {
            max_failures: 5,
            lockout_secs: 300,
        }
    }
}

impl ClusterSettings {
    /// Settings with the defaults for everything but the preferred root directory.
    pub fn new(data_dir: PathBuf) -> ClusterSettings {
        ClusterSettings {
            bindir: None,
            data_dir,
            os_user: "postgres".to_string(),
            fallback_dir: PathBuf::from("/var/lib/ifind/pg"),
            listen_tcp: None,
            lockout: LockoutSettings::default(),
            backup_dir: None,
        }
    }
}

/// A snapshot of the cluster, for `ifind db status`.
#[derive(Clone, Debug)]
pub struct ClusterStatus {
    pub running: bool,
    /// The postmaster's pid when running.
    pub pid: Option<u32>,
    /// The cluster's root directory (data_dir or the fallback).
    pub root: PathBuf,
    /// PGDATA.
    pub data_dir: PathBuf,
    pub socket_dir: PathBuf,
    pub bindir: PathBuf,
    /// The binaries' version, e.g. "15.14".
    pub server_version: String,
    /// The OS user the server runs as (None: the current user).
    pub os_user: Option<String>,
    /// True when the cluster lives in the fallback directory.
    pub used_fallback: bool,
    /// True once `initdb` has made the cluster.
    pub initialized: bool,
    /// The login lockout the server loads (at its next start, when `needs_restart`); None when
    /// the `ifind_auth` module is not installed (failed logins are then only delayed).
    pub lockout: Option<LockoutSettings>,
    /// The server's pkglibdir, where `ifind_auth.so` belongs (None: not found).
    pub module_dir: Option<PathBuf>,
    /// True when the running server was started with other settings than ifind would give it
    /// now (e.g. before ifind_auth was installed): `ifind db stop` and start it again.
    pub needs_restart: bool,
    /// True when the server runs but its `postmaster.pid` is gone (removed by hand or by a
    /// cleaning tool): it was found by its socket's lock file, and PostgreSQL shuts itself down
    /// within a minute of noticing.
    pub pid_file_missing: bool,
}

/// ifind's private cluster: where it lives, which binaries run it, and as whom.
#[derive(Clone, Debug)]
pub struct Cluster {
    bindir: PathBuf,
    server_version: String,
    /// The major version as PG_VERSION spells it ("15", or "9.6" for old servers).
    server_major: String,
    root: PathBuf,
    run_as: Option<RunAs>,
    used_fallback: bool,
    /// The port: the TCP port when `listen_tcp`, else it only names the socket file.
    port: u16,
    listen_tcp: bool,
    /// True when the server's pkglibdir has auth_delay.so.
    auth_delay: bool,
    /// The server's pkglibdir.
    module_dir: Option<PathBuf>,
    /// True when the server's pkglibdir has ifind_auth.so.
    ifind_auth: bool,
    lockout: LockoutSettings,
    /// Where WAL is archived (`wal/`) and base backups go (`base/`).
    backup_dir: PathBuf,
    /// False only for the temporary cluster of `verify-backup`, which must not add its own
    /// timeline to the archive.
    archive: bool,
    /// Extra settings of a cluster being recovered from a backup (restore_command...).
    recovery: Option<String>,
}

impl Cluster {
    /// Finds the server binaries and decides where the cluster lives and who runs it. Creates
    /// nothing; the only processes it runs are `pg_config --bindir` and `postgres --version`.
    pub fn new(settings: ClusterSettings) -> Result<Cluster, ClusterError> {
        let bindir = discover_bindir(settings.bindir.as_deref())?;
        let (server_version, server_major) = server_version(&bindir)?;
        let data_dir = absolute(&settings.data_dir)?;
        let (root, run_as, used_fallback) = if geteuid().is_root() {
            let user = lookup_user(&settings.os_user)?;
            match first_blocker(&data_dir, &user) {
                None => (data_dir, Some(user), false),
                Some(blocker) => {
                    let fallback = absolute(&settings.fallback_dir)?;
                    if let Some(fallback_blocker) = first_blocker(&fallback, &user) {
                        return Err(ClusterError::Unreachable {
                            user: user.name,
                            data_dir,
                            blocker,
                            fallback,
                            fallback_blocker,
                        });
                    }
                    tracing::info!(
                        "OS user {} cannot reach {} ({} blocks it); the embedded cluster lives in {}",
                        user.name,
                        data_dir.display(),
                        blocker.display(),
                        fallback.display()
                    );
                    (fallback, Some(user), true)
                }
            }
        } else {
            (data_dir, None, false)
        };
        if is_unsafe_path(&root) {
            return Err(ClusterError::UnsafePath { path: root });
        }
        let port = settings.listen_tcp.unwrap_or(PORT);
        let socket = root.join("socket").join(format!(".s.PGSQL.{port}"));
        let len = socket.as_os_str().len();
        if len > MAX_SOCKET_PATH {
            return Err(ClusterError::SocketPathTooLong {
                path: socket,
                len,
                max: MAX_SOCKET_PATH,
            });
        }
        let backup_dir = match &settings.backup_dir {
            Some(dir) => absolute(dir)?,
            None => root.join("backup"),
        };
        if is_unsafe_path(&backup_dir) {
            return Err(ClusterError::UnsafePath { path: backup_dir });
        }
        let module_dir = binaries::pkglibdir(&bindir);
        let auth_delay = binaries::has_module(&bindir, "auth_delay.so");
        let ifind_auth = binaries::has_module(&bindir, IFIND_AUTH_MODULE);
        Ok(Cluster {
            bindir,
            server_version,
            server_major,
            root,
            run_as,
            used_fallback,
            port,
            listen_tcp: settings.listen_tcp.is_some(),
            auth_delay,
            module_dir,
            ifind_auth,
            lockout: settings.lockout,
            backup_dir,
            archive: true,
            recovery: None,
        })
    }

    /// The cluster's root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// PGDATA.
    pub fn data_dir(&self) -> PathBuf {
        self.root.join("data")
    }

    /// The directory holding the server's Unix socket.
    pub fn socket_dir(&self) -> PathBuf {
        self.root.join("socket")
    }

    /// The server's log file.
    pub fn log_file(&self) -> PathBuf {
        self.root.join(LOG_FILE)
    }

    /// The server's port: the TCP port with [`ClusterSettings::listen_tcp`], else [`PORT`]
    /// (which then only names the socket file).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// True when the server has the auth_delay module, so ifind loads it (failed logins wait).
    pub fn has_auth_delay(&self) -> bool {
        self.auth_delay
    }

    /// True when the server has ifind's `ifind_auth` module, so ifind loads it (a user name is
    /// locked out after repeated failed logins).
    pub fn has_ifind_auth(&self) -> bool {
        self.ifind_auth
    }

    /// Opens the cluster root (see [`Dir::open_root`]); as root every check applies.
    fn open_root(&self, create: bool) -> Result<Option<Dir>, ClusterError> {
        Dir::open_root(&self.root, self.run_as.as_ref(), create)
    }

    /// Reports whether the server runs and where everything lives. Starts nothing.
    pub fn status(&self) -> Result<ClusterStatus, ClusterError> {
        let data_dir = self.data_dir();
        let data = match self.open_root(false)? {
            Some(root) => root.subdir("data", None)?,
            None => None,
        };
        let root = self.open_root(false)?;
        let (pid, initialized, needs_restart, pid_file_missing) = match (&root, &data) {
            (Some(root), Some(data)) => {
                let (pid, missing) = match self.pid_state(data)? {
                    PidFile::Ours(pid) => (Some(pid), false),
                    _ => match self.socket_lock_state(root, data)? {
                        PidFile::Ours(pid) => (Some(pid), true),
                        _ => (None, false),
                    },
                };
                let needs_restart = pid.is_some() && !missing && !self.settings_current(data)?;
                (pid, data.exists("PG_VERSION")?, needs_restart, missing)
            }
            _ => (None, false, false, false),
        };
        Ok(ClusterStatus {
            running: pid.is_some(),
            pid,
            root: self.root.clone(),
            initialized,
            data_dir,
            socket_dir: self.socket_dir(),
            bindir: self.bindir.clone(),
            server_version: self.server_version.clone(),
            os_user: self.run_as.as_ref().map(|u| u.name.clone()),
            used_fallback: self.used_fallback,
            lockout: self.ifind_auth.then_some(self.lockout),
            module_dir: self.module_dir.clone(),
            needs_restart,
            pid_file_missing,
        })
    }

    /// True when the data folder's generated files are what ifind would write now.
    fn settings_current(&self, data: &Dir) -> Result<bool, ClusterError> {
        Ok(data
            .read("ifind.conf")?
            .is_some_and(|c| c == self.settings_conf())
            && data.read(HBA_FILE)?.is_some_and(|h| h == self.hba_conf()))
    }

    /// Makes the cluster on first use and starts the server if it is not running. Idempotent,
    /// and safe when several processes call it at once (they take turns on a file lock).
    pub async fn ensure_running(&self) -> Result<(), ClusterError> {
        let me = self.clone();
        let root = blocking(move || {
            me.open_root(true)?
                .ok_or_else(|| io_error("open", &me.root, io::Error::from(io::ErrorKind::NotFound)))
        })
        .await?;
        let lock = self.lock(&root).await?;
        let me = self.clone();
        blocking(move || {
            let result = me.ensure_running_locked(&root);
            drop(lock);
            result
        })
        .await
    }

    /// Stops the server (`pg_ctl stop -m fast`). Returns true if it was running.
    pub async fn stop(&self) -> Result<bool, ClusterError> {
        let me = self.clone();
        let Some(root) = blocking(move || me.open_root(false)).await? else {
            return Ok(false);
        };
        let lock = self.lock(&root).await?;
        let me = self.clone();
        blocking(move || {
            let result = me.stop_locked(&root);
            drop(lock);
            result
        })
        .await
    }

    /// The sqlx URL of `database` over the Unix socket, as the `ifind` superuser.
    pub fn url(&self, database: &str) -> String {
        self.url_as(SUPERUSER, database)
    }

    /// The sqlx URL of `database` over the Unix socket, as the role `user`, without a
    /// password: the owner and the local delegate role `ifind_app` are trusted over the socket;
    /// any other role needs a password ([`Cluster::connect_options_as`]).
    pub fn url_as(&self, user: &str, database: &str) -> String {
        let host = super::pool::percent_encode(&self.socket_dir().to_string_lossy(), b"/");
        format!(
            "postgres://{}@localhost:{}/{}?host={host}",
            super::pool::percent_encode(user, b"/"),
            self.port,
            super::pool::percent_encode(database, b"/")
        )
    }

    /// Connection options equivalent to [`Cluster::url`].
    pub fn connect_options(&self, database: &str) -> PgConnectOptions {
        self.connect_options_as(SUPERUSER, database)
    }

    /// Connection options for `database` over the Unix socket as the role `user` (add a
    /// password with [`PgConnectOptions::password`] for roles other than the trusted two).
    pub fn connect_options_as(&self, user: &str, database: &str) -> PgConnectOptions {
        PgConnectOptions::new()
            .socket(self.socket_dir())
            .port(self.port)
            .username(user)
            .database(database)
    }

    /// Creates database `name` if it does not exist. The server must be running
    /// ([`Cluster::ensure_running`]).
    pub async fn ensure_database(&self, name: &str) -> Result<(), ClusterError> {
        let valid = (1..=63).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !valid {
            return Err(ClusterError::InvalidDatabaseName {
                name: name.to_string(),
            });
        }
        let sql_err = |action, err| ClusterError::Sql {
            action,
            err,
            log: self.log_file(),
        };
        let options = self.connect_options("postgres");
        let connect = PgConnection::connect_with(&options);
        let mut conn = match tokio::time::timeout(CONNECT_TIMEOUT, connect).await {
            Ok(conn) => conn.map_err(|e| sql_err("connect", e))?,
            Err(_) => {
                let slow = io::Error::new(io::ErrorKind::TimedOut, "no answer within 15 seconds");
                return Err(sql_err("connect", sqlx::Error::Io(slow)));
            }
        };
        let exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
                .bind(name)
                .fetch_one(&mut conn)
                .await
                .map_err(|e| sql_err("look up the database", e))?;
        if !exists {
            // An identifier cannot be a bind parameter; `name` was checked against
            // [a-z0-9_]{1,63} above, so it cannot break out of the quotes.
            let sql = format!("CREATE DATABASE \"{name}\"");
            match sqlx::raw_sql(&sql).execute(&mut conn).await {
                Ok(_) => tracing::info!("created database {name} in the embedded cluster"),
                // Someone else created it at the same moment.
                Err(sqlx::Error::Database(e))
                    if matches!(e.code().as_deref(), Some("42P04" | "23505")) => {}
                Err(e) => return Err(sql_err("create the database", e)),
            }
        }
        let _ = conn.close().await;
        Ok(())
    }

    /// Takes the cluster's file lock on a blocking thread, giving up after [`LOCK_TIMEOUT`].
    /// Should the wait time out, the blocked thread releases the lock as soon as it gets it.
    async fn lock(&self, root: &Dir) -> Result<Flock<fs::File>, ClusterError> {
        self.lock_named(root, LOCK_FILE).await
    }

    /// Takes the lock file `name` in the cluster root, as [`Cluster::lock`] does.
    async fn lock_named(&self, root: &Dir, name: &str) -> Result<Flock<fs::File>, ClusterError> {
        let path = root.path().join(name);
        // No link followed, a regular file of root's or the server user's (see Dir::open_lock).
        let file = root.open_lock(name)?;
        // flock(2) (what std's File::lock does; nix's keeps the crate's MSRV). Each open file
        // description locks separately, so two calls in one process take turns too.
        let waiting = tokio::task::spawn_blocking(move || {
            Flock::lock(file, FlockArg::LockExclusive).map_err(|(_, errno)| io::Error::from(errno))
        });
        match tokio::time::timeout(LOCK_TIMEOUT, waiting).await {
            Ok(Ok(Ok(file))) => Ok(file),
            Ok(Ok(Err(e))) => Err(io_error("lock", &path, e)),
            Ok(Err(e)) => Err(ClusterError::Task(e.to_string())),
            Err(_) => Err(ClusterError::LockTimeout {
                path,
                secs: LOCK_TIMEOUT.as_secs(),
            }),
        }
    }

    /// What the lock file of the server's socket (`socket/.s.PGSQL.PORT.lock`, the postmaster's
    /// pid on its first line) says: the way to find a server whose `postmaster.pid` is gone.
    fn socket_lock_state(&self, root: &Dir, data: &Dir) -> Result<PidFile, ClusterError> {
        let Some(socket) = root.subdir("socket", None)? else {
            return Ok(PidFile::Absent);
        };
        let text = socket.read(&self.socket_lock_name())?;
        Ok(inspect_pid_file(text.as_deref(), &data.real_path()))
    }

    fn socket_lock_name(&self) -> String {
        format!(".s.PGSQL.{}.lock", self.port)
    }

    /// Stops the server of `pid` (found by its socket's lock file, its `postmaster.pid` gone, so
    /// `pg_ctl` cannot) with a fast shutdown (SIGINT), and waits until it has ended.
    fn stop_by_pid(&self, pid: u32) -> Result<(), ClusterError> {
        use nix::sys::signal::{Signal, kill};
        use nix::unistd::Pid;
        let raw = i32::try_from(pid).unwrap_or(i32::MAX);
        let _ = kill(Pid::from_raw(raw), Signal::SIGINT);
        let until = std::time::Instant::now() + PG_CTL_TIMEOUT;
        while std::time::Instant::now() < until {
            let gone = kill(Pid::from_raw(raw), None).is_err()
                || process::is_ended(&Path::new("/proc").join(pid.to_string()));
            if gone {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(ClusterError::Timeout {
            what: format!("stopping the server of pid {pid}"),
            secs: PG_CTL_TIMEOUT.as_secs(),
            log: self.log_file(),
        })
    }

    /// With no `postmaster.pid`: a server of this cluster still running (found by its socket's
    /// lock file) is stopped cleanly, since PostgreSQL shuts itself down within a minute of
    /// noticing its pid file gone and a new server cannot start beside it; a lock file left by a
    /// server that has ended (or was killed and not yet reaped) is removed. True when a server
    /// was stopped.
    fn clear_socket(&self, root: &Dir, data: &Dir) -> Result<bool, ClusterError> {
        match self.socket_lock_state(root, data)? {
            PidFile::Ours(pid) => {
                tracing::warn!(
                    "the embedded cluster's server (pid {pid}) runs but its postmaster.pid was \
                     removed (found by its socket's lock file); stopping it cleanly"
                );
                self.stop_by_pid(pid)?;
                Ok(true)
            }
            PidFile::Stale(pid) => {
                if let Some(socket) = root.subdir("socket", None)? {
                    tracing::warn!(
                        "removing the stale lock file of the server's socket (names {}, which \
                         is gone)",
                        pid.map_or("an unreadable pid".to_string(), |p| format!("pid {p}"))
                    );
                    socket.remove_file(&self.socket_lock_name())?;
                }
                Ok(false)
            }
            PidFile::Absent | PidFile::Foreign { .. } => Ok(false),
        }
    }

    /// What `postmaster.pid` in the open data folder says.
    fn pid_state(&self, data: &Dir) -> Result<PidFile, ClusterError> {
        let text = data.read("postmaster.pid")?;
        Ok(inspect_pid_file(text.as_deref(), &data.real_path()))
    }

    fn ensure_running_locked(&self, root: &Dir) -> Result<(), ClusterError> {
        let data_dir = self.data_dir();
        root.subdir("socket", Some(0o700))?;
        let data = self.ensure_initialized(root)?;
        match self.pid_state(&data)? {
            PidFile::Ours(pid) => {
                tracing::info!("embedded cluster already running (pid {pid})");
                if !self.settings_current(&data)? {
                    tracing::warn!(
                        "the embedded cluster (pid {pid}) runs with older settings or \
                         authentication rules; `ifind db stop` and start it again to apply them"
                    );
                }
                return Ok(());
            }
            PidFile::Stale(pid) => {
                let pid_file = data_dir.join("postmaster.pid");
                let pid = pid.map_or("an unreadable pid".to_string(), |p| format!("pid {p}"));
                tracing::warn!(
                    "removing stale {} (names {pid}, which is gone)",
                    pid_file.display()
                );
                data.remove_file("postmaster.pid")?;
            }
            PidFile::Foreign { pid, what } => {
                return Err(ClusterError::ForeignProcess {
                    pid_file: data_dir.join("postmaster.pid"),
                    pid,
                    what,
                });
            }
            PidFile::Absent => {}
        }
        self.clear_socket(root, &data)?;
        if self.archive {
            self.prepare_backup_dir()?;
        }
        // Regenerated at every start, so clusters made before a change pick it up.
        data.write(HBA_FILE, &self.hba_conf())?;
        data.write("ifind.conf", &self.settings_conf())?;
        self.start(root)
    }

    /// Checks an existing cluster, or makes one with `initdb` (into a staging directory that is
    /// renamed into place, so an interrupted initdb never leaves a half-made cluster). Returns
    /// the open data folder.
    fn ensure_initialized(&self, root: &Dir) -> Result<Dir, ClusterError> {
        let data_dir = self.data_dir();
        if let Some(data) = root.subdir("data", None)? {
            if let Some(version) = data.read("PG_VERSION")? {
                let version = version.trim();
                if version != self.server_major {
                    return Err(ClusterError::VersionMismatch {
                        data_dir,
                        data_version: version.to_string(),
                        server_version: self.server_major.clone(),
                        bindir: self.bindir.clone(),
                    });
                }
                let has_control = match data.subdir("global", None)? {
                    Some(global) => global.exists("pg_control")?,
                    None => false,
                };
                if !has_control {
                    let detail = "PG_VERSION is there but global/pg_control is missing".to_string();
                    return Err(ClusterError::NotACluster { data_dir, detail });
                }
                return Ok(data);
            }
            // An empty folder is replaced by the new cluster; one with files is left alone.
            if !root.remove_empty_dir("data")? {
                let detail = "it has files but no PG_VERSION".to_string();
                return Err(ClusterError::NotACluster { data_dir, detail });
            }
        }
        const STAGING: &str = "data.initdb";
        if root.exists(STAGING)? {
            tracing::warn!(
                "removing {} left by an interrupted initdb",
                root.path().join(STAGING).display()
            );
            root.remove_tree(STAGING)?;
        }
        tracing::info!(
            "creating the embedded cluster in {} with {}",
            data_dir.display(),
            self.bindir.display()
        );
        let started = Instant::now();
        let mut cmd = self.command("initdb");
        cmd.arg("-D").arg(root.path().join(STAGING)).args([
            "-U",
            SUPERUSER,
            "--auth-local=trust",
            "--auth-host=reject",
            "--encoding=UTF8",
            "--locale=C",
        ]);
        self.run_checked(cmd, "initdb", INITDB_TIMEOUT)?;
        let staging = root.subdir(STAGING, None)?.ok_or_else(|| {
            let path = root.path().join(STAGING);
            io_error("open", &path, io::Error::from(io::ErrorKind::NotFound))
        })?;
        let mut text = staging.read("postgresql.conf")?.unwrap_or_default();
        text.push_str("\n# Added by ifind: its settings for the embedded cluster, regenerated at each start.\n");
        text.push_str("include_if_exists = 'ifind.conf'\n");
        staging.write("postgresql.conf", &text)?;
        drop(staging);
        root.rename(STAGING, "data")?;
        tracing::info!("initdb took {} ms", started.elapsed().as_millis());
        root.subdir("data", None)?
            .ok_or_else(|| io_error("open", &data_dir, io::Error::from(io::ErrorKind::NotFound)))
    }

    /// The generated `ifind.conf`. Override any of it with ALTER SYSTEM (postgresql.auto.conf
    /// is read later and wins).
    fn settings_conf(&self) -> String {
        let socket = self.socket_dir();
        let hba = self.data_dir().join(HBA_FILE);
        let listen = if self.listen_tcp { "127.0.0.1" } else { "" };
        // auth_delay first: ifind_auth's hook then runs first and tells auth_delay's that a
        // refused attempt failed, so it waits as for a wrong password.
        let mut libraries = Vec::new();
        let mut modules = String::new();
        if self.auth_delay {
            libraries.push("auth_delay");
            modules.push_str(&format!("auth_delay.milliseconds = {AUTH_DELAY_MS}\n"));
        } else {
            modules
                .push_str("# auth_delay.so is not installed: failed logins are not slowed down.\n");
        }
        if self.ifind_auth {
            libraries.push("ifind_auth");
            modules.push_str(&format!(
                "ifind_auth.max_failures = {}\n\
                 ifind_auth.lockout_seconds = {}\n",
                self.lockout.max_failures, self.lockout.lockout_secs
            ));
        } else {
            modules.push_str(
                "# ifind_auth.so is not installed: no lockout after repeated failed logins.\n",
            );
        }
        if !libraries.is_empty() {
            modules = format!(
                "shared_preload_libraries = '{}'\n{modules}",
                libraries.join(",")
            );
        }
        format!(
            "# Generated by ifind at each start of its embedded cluster; do not edit.\n\
             # Use ALTER SYSTEM to override (postgresql.auto.conf wins).\n\
             listen_addresses = '{listen}'\n\
             unix_socket_directories = '{}'\n\
             port = {}\n\
             hba_file = '{}'\n\
             password_encryption = scram-sha-256\n\
             {modules}\
             shared_buffers = 512MB\n\
             work_mem = 16MB\n\
             maintenance_work_mem = 512MB\n\
             effective_cache_size = 4GB\n\
             random_page_cost = 1.1\n\
             max_wal_size = 2GB\n\
             {}{}",
            socket.display(),
            self.port,
            hba.display(),
            self.archive_conf(),
            self.recovery.as_deref().unwrap_or_default()
        )
    }

    /// The generated `ifind_hba.conf`: the owner and the local delegate role are trusted over
    /// the socket (whose folder only the OS account can enter); everyone else gives a password.
    fn hba_conf(&self) -> String {
        let mut text = format!(
            "# Generated by ifind at each start of its embedded cluster; do not edit.\n\
             # TYPE  DATABASE  USER  ADDRESS  METHOD\n\
             local all {SUPERUSER} trust\n\
             local all {APP_ROLE} trust\n\
             local replication {SUPERUSER} trust\n\
             local all all scram-sha-256\n"
        );
        if self.listen_tcp {
            text.push_str("host all all 127.0.0.1/32 scram-sha-256\n");
        }
        text
    }

    fn start(&self, root: &Dir) -> Result<(), ClusterError> {
        let log = self.log_file();
        tracing::info!("starting the embedded cluster in {}", self.root.display());
        let started = Instant::now();
        let log_len = root.file_len(LOG_FILE);
        let mut cmd = self.command("pg_ctl");
        cmd.arg("start")
            .arg("-D")
            .arg(self.data_dir())
            .args(["-w", "-t", "30", "-s", "-l"])
            .arg(&log);
        // Keep the server out of our process group, so a Ctrl-C meant for ifind spares it.
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let out = self.run_required(cmd, "pg_ctl start", PG_CTL_TIMEOUT)?;
        if !out.status.success() {
            return Err(ClusterError::StartFailed {
                output: out.text(),
                log_tail: root.tail(LOG_FILE, log_len, 15),
                log,
            });
        }
        tracing::info!(
            "embedded cluster started in {} ms",
            started.elapsed().as_millis()
        );
        Ok(())
    }

    fn stop_locked(&self, root: &Dir) -> Result<bool, ClusterError> {
        let Some(data) = root.subdir("data", None)? else {
            return Ok(false);
        };
        match self.pid_state(&data)? {
            PidFile::Ours(pid) => {
                tracing::info!("stopping the embedded cluster (pid {pid})");
                let mut cmd = self.command("pg_ctl");
                cmd.arg("stop")
                    .arg("-D")
                    .arg(self.data_dir())
                    .args(["-m", "fast", "-w", "-t", "30", "-s"]);
                self.run_checked(cmd, "pg_ctl stop", PG_CTL_TIMEOUT)?;
                Ok(true)
            }
            _ => self.clear_socket(root, &data),
        }
    }

    /// A command for one of the server binaries, run as the server's OS user in the root dir.
    fn command(&self, program: &str) -> Command {
        self.command_as_server(self.bindir.join(program))
    }

    /// A command for `program` (a path, or a name looked up in PATH), run as the server's OS
    /// user in the root dir.
    fn command_as_server(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        use std::os::unix::process::CommandExt;
        let mut cmd = Command::new(program);
        cmd.current_dir(&self.root);
        for var in [
            "PGDATA",
            "PGHOST",
            "PGPORT",
            "PGUSER",
            "PGDATABASE",
            "PGOPTIONS",
        ] {
            cmd.env_remove(var);
        }
        if let Some(user) = &self.run_as {
            // std drops root's supplementary groups (setgroups(0)) before switching user.
            cmd.uid(user.uid.as_raw()).gid(user.gid.as_raw());
            cmd.env("HOME", &user.home)
                .env("USER", &user.name)
                .env("LOGNAME", &user.name);
        }
        cmd
    }

    fn run_required(
        &self,
        cmd: Command,
        what: &str,
        timeout: Duration,
    ) -> Result<Output, ClusterError> {
        let program = PathBuf::from(cmd.get_program());
        run(cmd, what, timeout, &self.log_file())?
            .ok_or_else(|| io_error("run", &program, io::Error::from(io::ErrorKind::NotFound)))
    }

    fn run_checked(
        &self,
        cmd: Command,
        what: &str,
        timeout: Duration,
    ) -> Result<Output, ClusterError> {
        let out = self.run_required(cmd, what, timeout)?;
        if !out.status.success() {
            return Err(ClusterError::CommandFailed {
                what: what.to_string(),
                status: out.status.to_string(),
                output: out.text(),
            });
        }
        Ok(out)
    }
}

/// Runs blocking cluster work off the async runtime.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ClusterError> + Send + 'static,
) -> Result<T, ClusterError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ClusterError::Task(e.to_string()))?
}

fn lookup_user(name: &str) -> Result<RunAs, ClusterError> {
    let missing = || ClusterError::OsUserMissing {
        user: name.to_string(),
    };
    let user = User::from_name(name).ok().flatten().ok_or_else(missing)?;
    if user.uid.is_root() {
        return Err(ClusterError::OsUserIsRoot {
            user: name.to_string(),
        });
    }
    let mut groups = std::ffi::CString::new(name)
        .ok()
        .and_then(|c| getgrouplist(&c, user.gid).ok())
        .unwrap_or_default();
    groups.push(user.gid);
    Ok(RunAs {
        name: user.name,
        uid: user.uid,
        gid: user.gid,
        home: user.dir,
        groups,
    })
}

fn absolute(path: &Path) -> Result<PathBuf, ClusterError> {
    std::path::absolute(path).map_err(|e| io_error("resolve", path, e))
}

/// Percent-encodes everything but unreserved characters and '/'.
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_encoding_keeps_paths_readable() {
        assert_eq!(
            crate::db::pool::percent_encode("/tmp/a b/pg", b"/"),
            "/tmp/a%20b/pg"
        );
        assert_eq!(crate::db::pool::percent_encode("x&y=z", b"/"), "x%26y%3Dz");
    }

    fn sample(listen_tcp: bool, auth_delay: bool) -> Cluster {
        sample_with(listen_tcp, auth_delay, false)
    }

    fn sample_with(listen_tcp: bool, auth_delay: bool, ifind_auth: bool) -> Cluster {
        Cluster {
            bindir: PathBuf::from("/usr/lib/postgresql/15/bin"),
            server_version: "15.14".to_string(),
            server_major: "15".to_string(),
            root: PathBuf::from("/tmp/ifind-unit/pg"),
            run_as: None,
            used_fallback: false,
            port: if listen_tcp { 54_321 } else { PORT },
            listen_tcp,
            auth_delay,
            module_dir: Some(PathBuf::from("/usr/lib/postgresql/15/lib")),
            ifind_auth,
            lockout: LockoutSettings {
                max_failures: 3,
                lockout_secs: 7,
            },
            backup_dir: PathBuf::from("/tmp/ifind-unit/pg/backup"),
            archive: true,
            recovery: None,
        }
    }

    #[test]
    fn hba_trusts_the_owner_and_the_delegate_over_the_socket_and_asks_everyone_else() {
        let rules = |c: &Cluster| -> Vec<String> {
            c.hba_conf()
                .lines()
                .filter(|l| !l.starts_with('#'))
                .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
                .collect()
        };
        assert_eq!(
            rules(&sample(false, true)),
            [
                "local all ifind trust",
                "local all ifind_app trust",
                "local replication ifind trust",
                "local all all scram-sha-256"
            ]
        );
        let tcp = rules(&sample(true, true));
        assert_eq!(tcp.len(), 5);
        assert_eq!(tcp[4], "host all all 127.0.0.1/32 scram-sha-256");
        assert!(
            !tcp.iter()
                .any(|r| r.starts_with("host") && r.ends_with("trust"))
        );
    }

    #[test]
    fn settings_name_the_hba_file_scram_and_auth_delay_only_when_installed() {
        let conf = sample(false, true).settings_conf();
        for line in [
            "listen_addresses = ''",
            "port = 5432",
            "hba_file = '/tmp/ifind-unit/pg/data/ifind_hba.conf'",
            "password_encryption = scram-sha-256",
            "shared_preload_libraries = 'auth_delay'",
            "auth_delay.milliseconds = 500",
        ] {
            assert!(conf.lines().any(|l| l == line), "{line} in\n{conf}");
        }
        let without = sample(false, false).settings_conf();
        assert!(!without.contains("shared_preload_libraries"), "{without}");
        assert!(!without.contains("auth_delay.milliseconds"), "{without}");
        let tcp = sample(true, false).settings_conf();
        assert!(tcp.contains("listen_addresses = '127.0.0.1'\nunix_socket_directories"));
        assert!(tcp.contains("port = 54321\n"), "{tcp}");
        assert!(sample(true, false).url("x").contains(":54321/"));
    }

    #[test]
    fn settings_load_ifind_auth_after_auth_delay_with_the_lockout_only_when_installed() {
        let both = sample_with(false, true, true).settings_conf();
        for line in [
            "shared_preload_libraries = 'auth_delay,ifind_auth'",
            "auth_delay.milliseconds = 500",
            "ifind_auth.max_failures = 3",
            "ifind_auth.lockout_seconds = 7",
        ] {
            assert!(both.lines().any(|l| l == line), "{line} in\n{both}");
        }
        let alone = sample_with(false, false, true).settings_conf();
        assert!(
            alone
                .lines()
                .any(|l| l == "shared_preload_libraries = 'ifind_auth'"),
            "{alone}"
        );
        let without = sample_with(false, true, false).settings_conf();
        assert!(!without.contains("ifind_auth.max_failures"), "{without}");
        assert!(
            without
                .lines()
                .any(|l| l == "shared_preload_libraries = 'auth_delay'"),
            "{without}"
        );
    }

    #[test]
    fn unsafe_paths_are_refused() {
        assert!(is_unsafe_path(Path::new("/tmp/it's")));
        assert!(is_unsafe_path(Path::new("/tmp/a,b")));
        assert!(!is_unsafe_path(Path::new("/home/me/.local/share/ifind/pg")));
    }
}
