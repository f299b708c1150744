//! The errors of the embedded cluster; each message names the cause and the fix.

use std::io;
use std::path::PathBuf;

/// Why the embedded cluster could not be used. Each message names the cause and the fix.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error(
        "No PostgreSQL server binaries (initdb, pg_ctl, postgres) were found (looked in: {searched}). Install the server (e.g. `apt-get install postgresql`), or set database.url in the config (or IFIND_DATABASE_URL) to use an existing server."
    )]
    ServerNotInstalled { searched: String },
    #[error(
        "embedded.bindir {bindir} has no {missing}. Point embedded.bindir at the directory holding initdb, pg_ctl and postgres (e.g. /usr/lib/postgresql/15/bin), or remove the key to let ifind find them."
    )]
    BinariesMissing { bindir: PathBuf, missing: String },
    #[error(
        "Could not tell the version of {bindir}/postgres ({detail}). Check that the server binaries work, or point embedded.bindir at a working installation."
    )]
    UnknownServerVersion { bindir: PathBuf, detail: String },
    #[error(
        "ifind runs as root, so it runs PostgreSQL as OS user `{user}`, but that user does not exist. Create it (e.g. `useradd --system {user}`) or set embedded.os_user to an existing unprivileged user."
    )]
    OsUserMissing { user: String },
    #[error(
        "embedded.os_user `{user}` is a superuser account, and PostgreSQL refuses to run as root. Set embedded.os_user to an unprivileged user such as `postgres`."
    )]
    OsUserIsRoot { user: String },
    #[error(
        "OS user `{user}` can reach neither {data_dir} ({blocker} is not searchable by it) nor the fallback {fallback} ({fallback_blocker} is not). Set embedded.data_dir to a directory that user can reach."
    )]
    Unreachable {
        user: String,
        data_dir: PathBuf,
        blocker: PathBuf,
        fallback: PathBuf,
        fallback_blocker: PathBuf,
    },
    #[error(
        "The cluster directory {path} contains a character PostgreSQL's configuration cannot carry (one of ' \" , \\ $ ` or a control character). Set embedded.data_dir to a plainer path."
    )]
    UnsafePath { path: PathBuf },
    #[error(
        "{path} is a symbolic link where ifind, running as root, expects a real file or folder of the embedded cluster (another OS user may have planted it). ifind does not follow such links, so it stopped without changing anything. Remove the link (and find out who made it), or set embedded.data_dir to a path without links, then try again."
    )]
    SymlinkRefused { path: PathBuf },
    #[error(
        "{path} {problem}. ifind runs as root and uses only files and folders in the embedded cluster that it made or has checked, so it stopped without changing anything. Remove or fix it (and find out who made it), then try again."
    )]
    UnsafeEntry { path: PathBuf, problem: String },
    #[error(
        "{path} {problem}, and it lies on the way to the embedded cluster. ifind runs as root and reaches the cluster only through folders that only root can change, so it stopped without changing anything. Make it root's and not writable by others (e.g. `chown root: {path} && chmod go-w {path}`), or set embedded.data_dir to such a folder."
    )]
    UntrustedFolder { path: PathBuf, problem: String },
    #[error(
        "The server's socket path {path} would be {len} bytes, over the {max}-byte limit of Unix sockets. Set embedded.data_dir to a shorter directory."
    )]
    SocketPathTooLong {
        path: PathBuf,
        len: usize,
        max: usize,
    },
    #[error(
        "The cluster in {data_dir} was made by PostgreSQL {data_version}, but the binaries in {bindir} are PostgreSQL {server_version}. Point embedded.bindir at PostgreSQL {data_version} binaries, or move {data_dir} aside so ifind creates a new cluster."
    )]
    VersionMismatch {
        data_dir: PathBuf,
        data_version: String,
        server_version: String,
        bindir: PathBuf,
    },
    #[error(
        "{data_dir} exists but is not a PostgreSQL cluster ({detail}). Move it aside so ifind can create the cluster there, or set embedded.data_dir to another directory."
    )]
    NotACluster { data_dir: PathBuf, detail: String },
    #[error(
        "{pid_file} names process {pid} ({what}), not this cluster's server, so ifind will not start it. If no server is using this cluster, delete {pid_file} and try again."
    )]
    ForeignProcess {
        pid_file: PathBuf,
        pid: u32,
        what: String,
    },
    #[error(
        "Another ifind process has held the cluster lock {path} for over {secs} seconds. Wait for it to finish (or stop it) and try again."
    )]
    LockTimeout { path: PathBuf, secs: u64 },
    #[error(
        "{what} did not finish within {secs} seconds and was stopped. Check the machine's load and disk, and see {log}."
    )]
    Timeout {
        what: String,
        secs: u64,
        log: PathBuf,
    },
    #[error("{what} failed ({status}): {output}\nFix the cause above and try again.")]
    CommandFailed {
        what: String,
        status: String,
        output: String,
    },
    #[error(
        "The embedded PostgreSQL server did not start: {output}\nLast lines of {log}:\n{log_tail}\nFix the cause above and try again, or set database.url to use another server."
    )]
    StartFailed {
        output: String,
        log: PathBuf,
        log_tail: String,
    },
    #[error("Could not {action} {path}: {err}. Check the permissions and free space there.")]
    Io {
        action: &'static str,
        path: PathBuf,
        err: io::Error,
    },
    #[error(
        "`{name}` is not a valid database name for the embedded cluster: use 1 to 63 lowercase letters, digits or underscores."
    )]
    InvalidDatabaseName { name: String },
    #[error(
        "Could not {action} in the embedded cluster: {err}. Check that it is running (`ifind db status`) and see {log}."
    )]
    Sql {
        action: &'static str,
        err: sqlx::Error,
        log: PathBuf,
    },
    #[error(
        "Could not prepare the backup folder {dir} ({output}). Make sure OS user `{user}` (the server's) can create and write it, or set backup.dir to a folder it can write."
    )]
    BackupFolder {
        dir: PathBuf,
        user: String,
        output: String,
    },
    #[error(
        "The embedded cluster runs without WAL archiving (it was started by an older ifind or with other settings), so a backup now could not be restored. Run `ifind db stop` (the next command starts it with archiving on), then take the backup again."
    )]
    ArchivingOff,
    #[error(
        "WAL segment {segment} did not reach the archive {wal_dir} within {secs} seconds (last failure: {last_failed}). Check that the server's OS user can write there and that the disk has room, and see {log}."
    )]
    ArchiveStuck {
        segment: String,
        wal_dir: PathBuf,
        secs: u64,
        last_failed: String,
        log: PathBuf,
    },
    #[error(
        "There is no base backup in {dir}. Take one with `ifind db backup` (the archived WAL alone cannot be restored without one)."
    )]
    NoBackup { dir: PathBuf },
    #[error(
        "{target} is before the oldest base backup ({oldest}), so no backup can be rolled forward to it. Give a later --to time (backups older than backup.keep_days are removed)."
    )]
    TargetBeforeOldestBackup { target: String, oldest: String },
    #[error(
        "The backup {backup} is damaged or incomplete: {detail}\nDo not rely on it: take a new base backup now with `ifind db backup` and run `ifind db verify-backup` again; keep a copy of the backup folder on another disk."
    )]
    BackupDamaged { backup: PathBuf, detail: String },
    #[error(
        "The archive holds no transaction after {target}, so recovery could not stop exactly there. Restore without --to to get the newest state, or give an earlier time."
    )]
    RecoveryTargetNotReached { target: String },
    #[error(
        "Recovering the backup {backup} failed: {detail}\nLast lines of {log}:\n{log_tail}\nThe backup or the WAL archive is damaged or incomplete: take a new base backup with `ifind db backup`, and keep a copy of the backup folder on another disk."
    )]
    RecoveryFailed {
        backup: PathBuf,
        detail: String,
        log: PathBuf,
        log_tail: String,
    },
    #[error(
        "A background task of the cluster manager failed ({0}). Try again; if it persists, report it as a bug."
    )]
    Task(String),
}
