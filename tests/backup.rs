//! Backups of the embedded cluster against the machine's real PostgreSQL: WAL archiving, base
//! backups, point-in-time restore and the restore test (`verify-backup`), each on a private
//! cluster under /tmp (run as root, the server runs as the `postgres` OS user).

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use chrono::{DateTime, Utc};
use ifind::db::cluster::{Cluster, ClusterError, ClusterSettings, LockoutSettings};
use sqlx::Connection;
use sqlx::postgres::PgConnection;

fn temp_root() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("ifind-bk-")
        .tempdir_in("/tmp")
        .expect("create a temp dir under /tmp");
    // tempfile makes 0700 dirs; as root the server runs as another user that must get in.
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).expect("chmod temp dir");
    dir
}

const LOCKOUT: LockoutSettings = LockoutSettings {
    max_failures: 3,
    lockout_secs: 2,
};

fn cluster(dir: &Path) -> Cluster {
    let mut settings = ClusterSettings::new(dir.join("pg"));
    settings.fallback_dir = dir.join("fallback");
    settings.lockout = LOCKOUT;
    Cluster::new(settings).expect("server binaries are installed")
}

/// The running cluster with a migrated `ifind` database and a table of numbered rows.
async fn prepared(dir: &Path) -> Cluster {
    let cluster = cluster(dir);
    cluster.ensure_running().await.expect("start");
    cluster.ensure_database("ifind").await.expect("database");
    let mut conn = connect(&cluster).await;
    ifind::db::migrate::run(&mut conn).await.expect("migrate");
    sqlx::raw_sql("CREATE TABLE numbered (n integer PRIMARY KEY)")
        .execute(&mut conn)
        .await
        .expect("create table");
    conn.close().await.expect("close");
    cluster
}

async fn connect(cluster: &Cluster) -> PgConnection {
    PgConnection::connect(&cluster.url("ifind"))
        .await
        .expect("connect")
}

async fn insert(cluster: &Cluster, numbers: std::ops::RangeInclusive<i32>) {
    let mut conn = connect(cluster).await;
    sqlx::query("INSERT INTO numbered SELECT generate_series($1, $2)")
        .bind(numbers.start())
        .bind(numbers.end())
        .execute(&mut conn)
        .await
        .expect("insert");
    conn.close().await.expect("close");
}

async fn numbers(cluster: &Cluster) -> Vec<i32> {
    let mut conn = connect(cluster).await;
    let rows = sqlx::query_scalar("SELECT n FROM numbered ORDER BY n")
        .fetch_all(&mut conn)
        .await
        .expect("select");
    conn.close().await.expect("close");
    rows
}

async fn server_time(cluster: &Cluster) -> DateTime<Utc> {
    let mut conn = connect(cluster).await;
    let now: DateTime<Utc> = sqlx::query_scalar("SELECT clock_timestamp()")
        .fetch_one(&mut conn)
        .await
        .expect("time");
    conn.close().await.expect("close");
    now
}

async fn switch_wal(cluster: &Cluster) {
    let mut conn = connect(cluster).await;
    sqlx::query("SELECT pg_switch_wal()")
        .execute(&mut conn)
        .await
        .expect("switch wal");
    conn.close().await.expect("close");
}

/// Runs the real binary on the cluster in `dir` (its config names the cluster's folder).
fn ifind(dir: &Path, args: &[&str]) -> Output {
    let config = dir.join("config.toml");
    let text = format!(
        "[embedded]\ndata_dir = \"{}\"\nfallback_dir = \"{}\"\nlogin_max_failures = {}\n\
         login_lockout_secs = {}\n",
        dir.join("pg").display(),
        dir.join("fallback").display(),
        LOCKOUT.max_failures,
        LOCKOUT.lockout_secs
    );
    fs::write(&config, text).expect("write config");
    let home = tempfile::tempdir().expect("temp home");
    Command::new(env!("CARGO_BIN_EXE_ifind"))
        .arg("--config")
        .arg(&config)
        .args(args)
        .env_remove("IFIND_DATABASE_URL")
        .env_remove("DATABASE_URL")
        .env_remove("IFIND_OWNER_URL")
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("XDG_STATE_HOME", home.path().join("state"))
        .env("XDG_DATA_HOME", home.path().join("data"))
        .output()
        .expect("run ifind")
}

fn text(out: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[tokio::test]
async fn restore_to_a_time_between_two_batches_gives_exactly_the_rows_up_to_it() {
    let tmp = temp_root();
    let cluster = prepared(tmp.path()).await;
    let conf = fs::read_to_string(tmp.path().join("pg/data/ifind.conf")).expect("ifind.conf");
    for line in ["archive_mode = on", "archive_timeout = 3600"] {
        assert!(conf.lines().any(|l| l == line), "{line} in\n{conf}");
    }
    assert!(conf.contains("archive_command = 'test ! -f ''"), "{conf}");

    let refused = cluster.restore(None).await.expect_err("no backup yet");
    assert!(
        matches!(refused, ClusterError::NoBackup { .. }),
        "{refused}"
    );

    insert(&cluster, 1..=3).await;
    let report = cluster.backup(30).await.expect("backup");
    assert!(report.backup.path.join("backup_label").exists());
    assert!(report.removed.is_empty());
    let status = cluster.backup_status().expect("status");
    assert_eq!(status.backups.len(), 1);

    insert(&cluster, 4..=6).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let between = server_time(&cluster).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    insert(&cluster, 7..=9).await;
    switch_wal(&cluster).await;

    let early = report.backup.started - chrono::Duration::hours(1);
    let refused = cluster.restore(Some(early)).await.expect_err("too early");
    assert!(
        matches!(refused, ClusterError::TargetBeforeOldestBackup { .. }),
        "{refused}"
    );

    let restored = cluster.restore(Some(between)).await.expect("restore");
    assert_eq!(numbers(&cluster).await, (1..=6).collect::<Vec<_>>());
    let old = restored.old_data.expect("the old data folder is kept");
    assert!(old.join("PG_VERSION").exists(), "{}", old.display());
    assert!(restored.schema_version.is_some());
    assert!(!tmp.path().join("pg.restore").exists());

    // The restored cluster keeps archiving on its new timeline, and its backups verify.
    insert(&cluster, 100..=101).await;
    let verified = cluster.verify_backup().await.expect("verify after restore");
    assert!(verified.differences.is_empty(), "{verified:?}");
}

#[tokio::test]
async fn verify_backup_passes_on_a_good_backup_and_names_a_damaged_one() {
    let tmp = temp_root();
    let cluster = prepared(tmp.path()).await;
    let refused = cluster.verify_backup().await.expect_err("no backup yet");
    assert!(
        matches!(refused, ClusterError::NoBackup { .. }),
        "{refused}"
    );
    insert(&cluster, 1..=5).await;
    let first = cluster.backup(30).await.expect("backup");
    insert(&cluster, 6..=8).await;

    let report = cluster.verify_backup().await.expect("verify");
    assert!(report.differences.is_empty(), "{report:?}");
    assert_eq!(report.live, report.restored);
    assert!(report.live.schema_version.is_some());
    assert!(
        cluster
            .backup_status()
            .expect("status")
            .last_verified
            .is_some()
    );
    assert!(!tmp.path().join("pg.verify").exists());

    let out = ifind(tmp.path(), &["db", "verify-backup"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("OK"),
        "{}",
        text(&out)
    );
    let out = ifind(tmp.path(), &["db", "status"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("same disk"),
        "{}",
        text(&out)
    );

    // A base backup file cut short.
    let control = first.backup.path.join("global/pg_control");
    fs::OpenOptions::new()
        .write(true)
        .open(&control)
        .and_then(|f| f.set_len(100))
        .expect("truncate");
    let err = cluster.verify_backup().await.expect_err("damaged");
    assert!(matches!(err, ClusterError::BackupDamaged { .. }), "{err}");
    let message = err.to_string();
    assert!(message.contains("pg_control"), "{message}");
    assert!(message.contains("ifind db backup"), "{message}");
    let out = ifind(tmp.path(), &["db", "verify-backup"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("damaged"),
        "{}",
        text(&out)
    );

    // A WAL segment the newest backup needs, missing from the archive.
    let second = cluster.backup(30).await.expect("second backup");
    let label = fs::read_to_string(second.backup.path.join("backup_label")).expect("label");
    let segment = label
        .split("(file ")
        .nth(1)
        .and_then(|rest| rest.get(..24))
        .expect("start segment");
    fs::remove_file(tmp.path().join("pg/backup/wal").join(segment)).expect("remove segment");
    let err = cluster.verify_backup().await.expect_err("missing WAL");
    assert!(matches!(err, ClusterError::BackupDamaged { .. }), "{err}");
    assert!(err.to_string().contains("ifind db backup"), "{err}");
    cluster.stop().await.expect("stop");
}
