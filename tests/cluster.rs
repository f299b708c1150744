//! The embedded cluster against the machine's real PostgreSQL server binaries. Each test has
//! its own root directory under /tmp, so they run in parallel with each other and with other
//! test binaries. Run as root (CI) the server runs as the `postgres` OS user; run as anyone
//! else it runs as that user.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use ifind::db::cluster::{Cluster, ClusterError, ClusterSettings};
use sqlx::Connection;
use sqlx::postgres::PgConnection;

/// A temporary directory under /tmp that the server's OS user can traverse.
fn temp_root() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("ifind-cl-")
        .tempdir_in("/tmp")
        .expect("create a temp dir under /tmp");
    // tempfile makes 0700 dirs; as root the server runs as another user that must get in.
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).expect("chmod temp dir");
    dir
}

fn settings(dir: &Path) -> ClusterSettings {
    let mut settings = ClusterSettings::new(dir.join("pg"));
    settings.fallback_dir = dir.join("fallback");
    settings
}

fn cluster(dir: &Path) -> Cluster {
    Cluster::new(settings(dir)).expect("server binaries are installed")
}

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

#[tokio::test]
async fn init_start_query_create_database_stop() {
    let tmp = temp_root();
    let cluster = cluster(tmp.path());
    let before = cluster.status().expect("status");
    assert!(!before.running && !before.initialized && !before.used_fallback);
    assert_eq!(before.os_user.is_some(), is_root());

    cluster.ensure_running().await.expect("first start");
    let status = cluster.status().expect("status");
    assert!(status.running && status.initialized, "{status:?}");
    assert!(status.pid.is_some());
    assert_eq!(status.root, tmp.path().join("pg"));
    let socket_mode = fs::metadata(&status.socket_dir)
        .expect("socket dir")
        .permissions()
        .mode();
    assert_eq!(socket_mode & 0o777, 0o700);

    // Idempotent: a second call finds the server running.
    cluster.ensure_running().await.expect("second call");
    assert_eq!(cluster.status().expect("status").pid, status.pid);

    let mut conn = PgConnection::connect(&cluster.url("postgres"))
        .await
        .expect("connect over url()");
    let (user, listen, encoding): (String, String, String) = sqlx::query_as(
        "SELECT current_user::text, current_setting('listen_addresses'), \
         pg_encoding_to_char(encoding) FROM pg_database WHERE datname = current_database()",
    )
    .fetch_one(&mut conn)
    .await
    .expect("query");
    assert_eq!(
        (user.as_str(), listen.as_str(), encoding.as_str()),
        ("ifind", "", "UTF8")
    );
    let shared_buffers: String = sqlx::query_scalar("SHOW shared_buffers")
        .fetch_one(&mut conn)
        .await
        .expect("show");
    assert_eq!(shared_buffers, "512MB");
    conn.close().await.expect("close");

    cluster
        .ensure_database("ifind_demo")
        .await
        .expect("create database");
    cluster
        .ensure_database("ifind_demo")
        .await
        .expect("database already there");
    let mut demo = PgConnection::connect(&cluster.url("ifind_demo"))
        .await
        .expect("connect to the new database");
    let one: i32 = sqlx::query_scalar("SELECT 1")
        .fetch_one(&mut demo)
        .await
        .expect("query");
    assert_eq!(one, 1);
    demo.close().await.expect("close");
    for bad in ["", "Demo", "a-b", "x\"; DROP", &"a".repeat(64)] {
        let err = cluster
            .ensure_database(bad)
            .await
            .expect_err("invalid name");
        assert!(
            matches!(err, ClusterError::InvalidDatabaseName { .. }),
            "{err}"
        );
    }

    assert!(cluster.stop().await.expect("stop"), "it was running");
    let after = cluster.status().expect("status");
    assert!(!after.running && after.pid.is_none() && after.initialized);
    assert!(
        !cluster.stop().await.expect("second stop"),
        "it was not running"
    );
}

#[tokio::test]
async fn two_concurrent_starts_on_a_new_dir_both_succeed() {
    let tmp = temp_root();
    let (a, b) = (cluster(tmp.path()), cluster(tmp.path()));
    let (ra, rb) = tokio::join!(a.ensure_running(), b.ensure_running());
    ra.expect("first caller");
    rb.expect("second caller");
    assert!(a.status().expect("status").running);
    let mut conn = PgConnection::connect(&b.url("postgres"))
        .await
        .expect("connect");
    sqlx::query("SELECT 1")
        .execute(&mut conn)
        .await
        .expect("query");
    conn.close().await.expect("close");
    assert!(a.stop().await.expect("stop"));
}

#[tokio::test]
async fn stale_postmaster_pid_is_removed_and_the_server_starts() {
    let tmp = temp_root();
    let cluster = cluster(tmp.path());
    cluster.ensure_running().await.expect("start");
    assert!(cluster.stop().await.expect("stop"));

    // A pid that is certainly gone: a child we started and reaped.
    let mut child = std::process::Command::new("true")
        .spawn()
        .expect("spawn true");
    let dead_pid = child.id();
    child.wait().expect("reap");
    let pid_file = cluster.data_dir().join("postmaster.pid");
    fs::write(
        &pid_file,
        format!("{dead_pid}\n{}\n", cluster.data_dir().display()),
    )
    .expect("write pid file");
    assert!(
        !cluster.status().expect("status").running,
        "a stale pid file is not a running server"
    );

    cluster
        .ensure_running()
        .await
        .expect("start despite the stale pid file");
    let status = cluster.status().expect("status");
    assert!(status.running);
    assert_ne!(status.pid, Some(dead_pid));
    assert!(cluster.stop().await.expect("stop"));
}

#[tokio::test]
async fn pid_file_naming_another_live_process_is_refused() {
    let tmp = temp_root();
    let cluster = cluster(tmp.path());
    cluster.ensure_running().await.expect("start");
    assert!(cluster.stop().await.expect("stop"));
    // This test process is alive and is not a PostgreSQL server.
    let pid_file = cluster.data_dir().join("postmaster.pid");
    fs::write(&pid_file, format!("{}\n", std::process::id())).expect("write pid file");
    let err = cluster.ensure_running().await.expect_err("must not start");
    assert!(matches!(err, ClusterError::ForeignProcess { .. }), "{err}");
    assert!(err.to_string().contains("delete"), "{err}");
    assert!(!cluster.status().expect("status").running);
}

#[tokio::test]
async fn data_dir_from_another_major_version_is_refused() {
    let tmp = temp_root();
    let cluster = cluster(tmp.path());
    let major = cluster
        .status()
        .expect("status")
        .server_version
        .split('.')
        .next()
        .unwrap_or("")
        .to_string();
    let other = if major == "14" { "13" } else { "14" };
    fs::create_dir_all(cluster.data_dir()).expect("mkdir data");
    fs::write(cluster.data_dir().join("PG_VERSION"), format!("{other}\n"))
        .expect("write PG_VERSION");
    let err = cluster
        .ensure_running()
        .await
        .expect_err("version mismatch");
    let message = err.to_string();
    assert!(
        matches!(err, ClusterError::VersionMismatch { .. }),
        "{message}"
    );
    assert!(
        message.contains(&format!("PostgreSQL {other}")),
        "{message}"
    );
    assert!(
        message.contains(&format!("PostgreSQL {major}")),
        "{message}"
    );
    assert!(message.contains("embedded.bindir"), "{message}");
}

#[tokio::test]
async fn non_cluster_data_dir_is_refused() {
    let tmp = temp_root();
    let cluster = cluster(tmp.path());
    fs::create_dir_all(cluster.data_dir()).expect("mkdir data");
    fs::write(cluster.data_dir().join("notes.txt"), "not a cluster").expect("write");
    let err = cluster.ensure_running().await.expect_err("not a cluster");
    assert!(matches!(err, ClusterError::NotACluster { .. }), "{err}");
    assert!(
        cluster.data_dir().join("notes.txt").exists(),
        "nothing is deleted"
    );
}

#[test]
fn bindir_without_binaries_is_refused() {
    let tmp = temp_root();
    let empty = tmp.path().join("bin");
    fs::create_dir(&empty).expect("mkdir");
    let mut settings = settings(tmp.path());
    settings.bindir = Some(empty);
    let err = Cluster::new(settings).expect_err("no binaries");
    let message = err.to_string();
    assert!(
        matches!(err, ClusterError::BinariesMissing { .. }),
        "{message}"
    );
    assert!(
        message.contains("initdb") && message.contains("embedded.bindir"),
        "{message}"
    );
}

#[test]
fn too_long_socket_path_is_refused() {
    let tmp = temp_root();
    let long: PathBuf = tmp.path().join("d".repeat(100)).join("pg");
    let err = Cluster::new(ClusterSettings::new(long)).expect_err("too long");
    assert!(
        matches!(err, ClusterError::SocketPathTooLong { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("embedded.data_dir"), "{err}");
}

#[tokio::test]
async fn as_root_an_unreachable_data_dir_falls_back() {
    if !is_root() {
        println!("skipped: the fallback directory only applies when ifind runs as root");
        return;
    }
    let tmp = temp_root();
    let private = tmp.path().join("private");
    fs::create_dir(&private).expect("mkdir");
    fs::set_permissions(&private, fs::Permissions::from_mode(0o700)).expect("chmod 0700");
    let mut settings = ClusterSettings::new(private.join("pg"));
    settings.fallback_dir = tmp.path().join("fallback").join("pg");
    let cluster = Cluster::new(settings).expect("cluster");
    let status = cluster.status().expect("status");
    assert!(status.used_fallback, "{status:?}");
    assert_eq!(status.root, tmp.path().join("fallback").join("pg"));
    assert_eq!(status.os_user.as_deref(), Some("postgres"));

    cluster
        .ensure_running()
        .await
        .expect("start in the fallback dir");
    assert!(cluster.status().expect("status").running);
    assert!(
        !private.join("pg").exists(),
        "nothing is made in the unreachable dir"
    );
    assert!(cluster.stop().await.expect("stop"));
}

#[test]
fn as_root_a_missing_os_user_is_named() {
    if !is_root() {
        println!("skipped: the OS user only matters when ifind runs as root");
        return;
    }
    let tmp = temp_root();
    let mut settings = settings(tmp.path());
    settings.os_user = "ifind-no-such-user".to_string();
    let err = Cluster::new(settings).expect_err("no such user");
    assert!(matches!(err, ClusterError::OsUserMissing { .. }), "{err}");
    assert!(err.to_string().contains("embedded.os_user"), "{err}");
}
