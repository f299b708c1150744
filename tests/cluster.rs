//! The embedded cluster against the machine's real PostgreSQL server binaries. Each test has
//! its own root directory under /tmp, so they run in parallel with each other and with other
//! test binaries. Run as root (CI) the server runs as the `postgres` OS user; run as anyone
//! else it runs as that user.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use ifind::db::cluster::{Cluster, ClusterError, ClusterSettings, LockoutSettings};
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
    settings.lockout = LOCKOUT;
    settings
}

/// The login lockout these clusters load (ifind_auth, which `scripts/test` installs).
const LOCKOUT: LockoutSettings = LockoutSettings {
    max_failures: 3,
    lockout_secs: 2,
};

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

/// `postmaster.pid` removed while the server runs: the server is found by its socket's lock
/// file; status says it runs and what happened; the next start stops it cleanly and starts it
/// again (instead of failing beside it until PostgreSQL shuts itself down); `db stop` stops it.
#[tokio::test]
async fn a_server_whose_pid_file_was_removed_is_found_by_its_socket_lock() {
    let tmp = temp_root();
    let cluster = cluster(tmp.path());
    cluster.ensure_running().await.expect("start");
    let first = cluster.status().expect("status").pid.expect("a pid");
    let pid_file = cluster.data_dir().join("postmaster.pid");
    fs::remove_file(&pid_file).expect("remove postmaster.pid");

    let status = cluster.status().expect("status");
    assert!(status.running, "{status:?}");
    assert_eq!(status.pid, Some(first));
    assert!(status.pid_file_missing);

    cluster
        .ensure_running()
        .await
        .expect("start again despite the server left running");
    let status = cluster.status().expect("status");
    assert!(status.running && !status.pid_file_missing, "{status:?}");
    assert_ne!(status.pid, Some(first), "a new server, started cleanly");
    let mut conn = PgConnection::connect(&cluster.url("postgres"))
        .await
        .expect("it answers");
    let one: i32 = sqlx::query_scalar("SELECT 1")
        .fetch_one(&mut conn)
        .await
        .expect("query");
    assert_eq!(one, 1);
    conn.close().await.ok();

    let second = status.pid.expect("a pid");
    fs::remove_file(&pid_file).expect("remove postmaster.pid again");
    assert!(
        cluster.stop().await.expect("stop by its pid"),
        "it was running"
    );
    assert!(
        !Path::new("/proc")
            .join(second.to_string())
            .join("cwd")
            .exists()
            || fs::read_to_string(Path::new("/proc").join(second.to_string()).join("stat"))
                .is_ok_and(|stat| stat.contains(") Z")),
        "the server of pid {second} has ended"
    );
    let status = cluster.status().expect("status");
    assert!(!status.running, "{status:?}");

    // A socket lock file left by a server that was killed and not yet reaped (a zombie, which
    // PostgreSQL itself takes for a live server) is removed, and the server starts.
    let mut zombie = std::process::Command::new("true")
        .spawn()
        .expect("spawn true");
    let zombie_pid = zombie.id();
    let stat = Path::new("/proc").join(zombie_pid.to_string()).join("stat");
    while !fs::read_to_string(&stat).is_ok_and(|s| s.contains(") Z")) {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let lock = status.socket_dir.join(".s.PGSQL.5432.lock");
    fs::write(
        &lock,
        format!("{zombie_pid}\n{}\n", cluster.data_dir().display()),
    )
    .expect("plant the lock file");
    cluster
        .ensure_running()
        .await
        .expect("start despite the lock file of a zombie");
    assert!(cluster.status().expect("status").running);
    zombie.wait().expect("reap");
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

// ---------------------------------------------------------------------------------------------
// Root safety: the `postgres` OS user owns everything inside the cluster root and may plant
// links there (and in any folder it can write). As root, ifind must refuse them, name them, and
// change nothing they point at.

use std::os::unix::fs::MetadataExt;

/// The `postgres` OS user's uid and gid.
fn postgres_ids() -> (u32, u32) {
    let user = nix::unistd::User::from_name("postgres")
        .expect("look up postgres")
        .expect("the postgres OS user exists");
    (user.uid.as_raw(), user.gid.as_raw())
}

/// What must not change about a file or folder: content (or sorted entries), owner, group, mode.
#[derive(Debug, PartialEq, Eq)]
struct Snapshot {
    content: Vec<String>,
    uid: u32,
    gid: u32,
    mode: u32,
}

fn snapshot(path: &Path) -> Snapshot {
    let meta = fs::symlink_metadata(path).expect("victim exists");
    let content = if meta.is_dir() {
        let mut names: Vec<String> = fs::read_dir(path)
            .expect("list victim")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    } else {
        vec![fs::read_to_string(path).expect("read victim")]
    };
    Snapshot {
        content,
        uid: meta.uid(),
        gid: meta.gid(),
        mode: meta.mode(),
    }
}

/// A root-owned folder (0755) holding a root-owned file (0644), outside any cluster root.
fn victims(tmp: &Path) -> (PathBuf, PathBuf) {
    let dir = tmp.join("victim");
    fs::create_dir(&dir).expect("mkdir victim");
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).expect("chmod victim");
    let file = dir.join("secret.conf");
    fs::write(&file, "root's own settings\n").expect("write victim");
    fs::set_permissions(&file, fs::Permissions::from_mode(0o644)).expect("chmod victim file");
    (dir, file)
}

/// Plants `link` -> `target` as the postgres OS user would (the link is postgres's).
fn plant(link: &Path, target: &Path) {
    std::os::unix::fs::symlink(target, link).expect("plant the link");
    let (uid, gid) = postgres_ids();
    std::os::unix::fs::lchown(link, Some(uid), Some(gid)).expect("lchown the link");
}

/// Starts `cluster`, expecting the refusal of a planted link at `link`.
async fn assert_start_refused(cluster: &Cluster, link: &Path) -> String {
    let err = cluster
        .ensure_running()
        .await
        .expect_err("a planted link must stop the start");
    let message = err.to_string();
    assert!(
        matches!(err, ClusterError::SymlinkRefused { .. }),
        "{message}"
    );
    assert!(
        message.contains(&link.display().to_string()),
        "the message names {}: {message}",
        link.display()
    );
    message
}

/// A cluster that was started once and stopped, as root.
async fn stopped_cluster(tmp: &Path) -> Cluster {
    let cluster = cluster(tmp);
    cluster.ensure_running().await.expect("first start");
    assert!(cluster.stop().await.expect("stop"));
    cluster
}

#[tokio::test]
async fn as_root_a_link_planted_at_ifind_conf_is_refused() {
    if !is_root() {
        println!("skipped: links planted by the server's user only matter to root");
        return;
    }
    let tmp = temp_root();
    let (victim_dir, victim) = victims(tmp.path());
    let cluster = stopped_cluster(tmp.path()).await;
    let link = cluster.data_dir().join("ifind.conf");
    fs::remove_file(&link).expect("remove ifind.conf");
    plant(&link, &victim);
    let (before, before_dir) = (snapshot(&victim), snapshot(&victim_dir));
    assert_start_refused(&cluster, &link).await;
    assert_eq!(snapshot(&victim), before, "the target is unchanged");
    assert_eq!(snapshot(&victim_dir), before_dir, "nothing new next to it");
    assert!(fs::symlink_metadata(&link).expect("link").is_symlink());
    assert!(!cluster.status().expect("status").running);

    // A hard link (possible where fs.protected_hardlinks is off) is refused as well.
    fs::remove_file(&link).expect("remove the link");
    fs::hard_link(&victim, &link).expect("hard link");
    let err = cluster.ensure_running().await.expect_err("a hard link");
    assert!(matches!(err, ClusterError::UnsafeEntry { .. }), "{err}");
    assert!(err.to_string().contains("hard links"), "{err}");
    assert_eq!(snapshot(&victim), before);
}

#[tokio::test]
async fn as_root_a_link_planted_at_the_hba_file_or_a_leftover_temp_file_is_handled() {
    if !is_root() {
        println!("skipped: links planted by the server's user only matter to root");
        return;
    }
    let tmp = temp_root();
    let (_, victim) = victims(tmp.path());
    let cluster = stopped_cluster(tmp.path()).await;
    let before = snapshot(&victim);
    // A link where ifind's new file is made first is removed (never followed): the start works.
    let temp_link = cluster.data_dir().join(".ifind.conf.ifind-new");
    plant(&temp_link, &victim);
    fs::write(cluster.data_dir().join("ifind.conf"), "# stale\n").expect("stale ifind.conf");
    cluster.ensure_running().await.expect("start");
    assert!(cluster.stop().await.expect("stop"));
    assert!(
        fs::symlink_metadata(&temp_link).is_err(),
        "the link is gone"
    );
    assert_eq!(snapshot(&victim), before);
    // A link at the generated HBA file is refused.
    let link = cluster.data_dir().join("ifind_hba.conf");
    fs::remove_file(&link).expect("remove ifind_hba.conf");
    plant(&link, &victim);
    assert_start_refused(&cluster, &link).await;
    assert_eq!(snapshot(&victim), before);
}

#[tokio::test]
async fn as_root_a_link_planted_at_the_socket_folder_is_refused() {
    if !is_root() {
        println!("skipped: links planted by the server's user only matter to root");
        return;
    }
    let tmp = temp_root();
    let (victim_dir, _) = victims(tmp.path());
    let cluster = stopped_cluster(tmp.path()).await;
    let link = cluster.socket_dir();
    fs::remove_dir_all(&link).expect("remove the socket folder");
    plant(&link, &victim_dir);
    let before = snapshot(&victim_dir);
    assert_start_refused(&cluster, &link).await;
    assert_eq!(snapshot(&victim_dir), before, "not chowned, not chmodded");
}

#[tokio::test]
async fn as_root_a_link_planted_at_the_lock_file_is_refused() {
    if !is_root() {
        println!("skipped: links planted by the server's user only matter to root");
        return;
    }
    let tmp = temp_root();
    let (victim_dir, victim) = victims(tmp.path());
    let cluster = stopped_cluster(tmp.path()).await;
    let link = cluster.root().join("cluster.lock");
    fs::remove_file(&link).expect("remove the lock file");
    plant(&link, &victim);
    let (before, before_dir) = (snapshot(&victim), snapshot(&victim_dir));
    assert_start_refused(&cluster, &link).await;
    let err = cluster.stop().await.expect_err("stop refuses too");
    assert!(matches!(err, ClusterError::SymlinkRefused { .. }), "{err}");
    // A dangling link would have been created by a following open: it must not be.
    fs::remove_file(&link).expect("remove the link");
    let missing = victim_dir.join("made-by-root");
    plant(&link, &missing);
    assert_start_refused(&cluster, &link).await;
    assert!(!missing.exists(), "no file made through the link");
    assert_eq!(snapshot(&victim), before);
    assert_eq!(snapshot(&victim_dir), before_dir);
}

#[tokio::test]
async fn as_root_a_link_planted_at_the_data_folder_or_its_files_is_refused() {
    if !is_root() {
        println!("skipped: links planted by the server's user only matter to root");
        return;
    }
    let tmp = temp_root();
    let (victim_dir, victim) = victims(tmp.path());
    let cluster = stopped_cluster(tmp.path()).await;
    // A file the start reads: PG_VERSION.
    let data = cluster.data_dir();
    let pg_version = data.join("PG_VERSION");
    let version = fs::read_to_string(&pg_version).expect("PG_VERSION");
    fs::remove_file(&pg_version).expect("remove PG_VERSION");
    plant(&pg_version, &victim);
    assert_start_refused(&cluster, &pg_version).await;
    fs::remove_file(&pg_version).expect("remove the link");
    fs::write(&pg_version, version).expect("restore PG_VERSION");
    // The data folder itself.
    fs::rename(&data, tmp.path().join("pg").join("data.moved")).expect("move data aside");
    plant(&data, &victim_dir);
    let (before, before_dir) = (snapshot(&victim), snapshot(&victim_dir));
    assert_start_refused(&cluster, &data).await;
    let err = cluster.status().expect_err("status refuses too");
    assert!(matches!(err, ClusterError::SymlinkRefused { .. }), "{err}");
    assert_eq!(snapshot(&victim), before);
    assert_eq!(snapshot(&victim_dir), before_dir, "no files, no chown");
}

#[tokio::test]
async fn as_root_a_link_or_an_untrusted_folder_above_the_cluster_root_is_refused() {
    if !is_root() {
        println!("skipped: links planted by the server's user only matter to root");
        return;
    }
    let tmp = temp_root();
    let (victim_dir, _) = victims(tmp.path());
    let before = snapshot(&victim_dir);
    let (uid, gid) = postgres_ids();

    // A folder like /tmp (root's, world-writable, sticky) where postgres plants the root.
    let sticky = tmp.path().join("sticky");
    fs::create_dir(&sticky).expect("mkdir");
    fs::set_permissions(&sticky, fs::Permissions::from_mode(0o1777)).expect("chmod 1777");
    let link = sticky.join("pg");
    plant(&link, &victim_dir);
    let mut planted = ClusterSettings::new(link.clone());
    planted.fallback_dir = tmp.path().join("fallback");
    let cluster = Cluster::new(planted).expect("cluster");
    assert_start_refused(&cluster, &link).await;
    assert_eq!(snapshot(&victim_dir), before);

    // A folder postgres owns above the root (the data folder's grandparent): not trusted,
    // whatever sits in it.
    let theirs = tmp.path().join("theirs");
    fs::create_dir(&theirs).expect("mkdir");
    std::os::unix::fs::chown(&theirs, Some(uid), Some(gid)).expect("chown to postgres");
    plant(&theirs.join("pg"), &victim_dir);
    let mut settings = ClusterSettings::new(theirs.join("pg"));
    settings.fallback_dir = tmp.path().join("fallback");
    let cluster = Cluster::new(settings).expect("cluster");
    let err = cluster
        .ensure_running()
        .await
        .expect_err("untrusted folder");
    let message = err.to_string();
    assert!(
        matches!(err, ClusterError::UntrustedFolder { .. }),
        "{message}"
    );
    assert!(message.contains(&theirs.display().to_string()), "{message}");
    assert_eq!(snapshot(&victim_dir), before);

    // An existing folder of another user at the root itself is not taken over.
    let alien = tmp.path().join("alien");
    fs::create_dir(&alien).expect("mkdir");
    std::os::unix::fs::chown(&alien, Some(65534), Some(65534)).expect("chown to nobody");
    let mut settings = ClusterSettings::new(alien.clone());
    settings.fallback_dir = tmp.path().join("fallback");
    let cluster = Cluster::new(settings).expect("cluster");
    let err = cluster
        .ensure_running()
        .await
        .expect_err("someone else's folder");
    assert!(matches!(err, ClusterError::UnsafeEntry { .. }), "{err}");
    assert_eq!(fs::metadata(&alien).expect("alien").uid(), 65534);

    // Nor a folder of root's that holds other files (embedded.data_dir set to a busy folder).
    let busy = tmp.path().join("busy");
    fs::create_dir(&busy).expect("mkdir");
    fs::write(busy.join("notes.txt"), "root's notes").expect("write");
    let mut settings = ClusterSettings::new(busy.clone());
    settings.fallback_dir = tmp.path().join("fallback");
    let cluster = Cluster::new(settings).expect("cluster");
    let err = cluster.ensure_running().await.expect_err("a busy folder");
    assert!(matches!(err, ClusterError::UnsafeEntry { .. }), "{err}");
    assert!(err.to_string().contains("notes.txt"), "{err}");
    let meta = fs::metadata(&busy).expect("busy");
    assert_eq!(meta.uid(), 0, "still root's");
}

/// Every path under `dir` (not following links) owned by `uid`.
fn owned_by(dir: &Path, uid: u32, found: &mut Vec<PathBuf>) {
    let Ok(meta) = fs::symlink_metadata(dir) else {
        return;
    };
    if meta.uid() == uid {
        found.push(dir.to_path_buf());
    }
    if meta.is_dir() {
        for entry in fs::read_dir(dir).expect("list").flatten() {
            owned_by(&entry.path(), uid, found);
        }
    }
}

#[tokio::test]
async fn as_root_only_the_cluster_root_is_given_to_postgres() {
    if !is_root() {
        println!("skipped: the server's OS user only differs from the caller as root");
        return;
    }
    let tmp = temp_root();
    // As with $XDG_DATA_HOME/ifind/pg when $XDG_DATA_HOME/ifind does not exist yet.
    let xdg = tmp.path().join("xdg");
    fs::create_dir(&xdg).expect("mkdir xdg");
    fs::set_permissions(&xdg, fs::Permissions::from_mode(0o755)).expect("chmod");
    let root = xdg.join("ifind").join("pg");
    let mut settings = ClusterSettings::new(root.clone());
    settings.fallback_dir = tmp.path().join("fallback");
    let cluster = Cluster::new(settings).expect("cluster");
    cluster.ensure_running().await.expect("start");
    let (uid, _) = postgres_ids();
    let mut found = Vec::new();
    owned_by(tmp.path(), uid, &mut found);
    assert!(found.contains(&root), "{found:?}");
    let outside: Vec<&PathBuf> = found.iter().filter(|p| !p.starts_with(&root)).collect();
    assert!(outside.is_empty(), "given to postgres: {outside:?}");
    let made = fs::metadata(xdg.join("ifind")).expect("ifind folder");
    assert_eq!((made.uid(), made.mode() & 0o7777), (0, 0o711));
    let root_meta = fs::metadata(&root).expect("root");
    assert_eq!((root_meta.uid(), root_meta.mode() & 0o7777), (uid, 0o700));
    assert!(cluster.stop().await.expect("stop"));
}

// ---------------------------------------------------------------------------------------------
// Authentication: the owner and ifind_app are trusted over the socket; every other role needs
// its SCRAM password; TCP only when asked, passwords only.

fn sqlstate(err: &sqlx::Error) -> Option<String> {
    match err {
        sqlx::Error::Database(db) => db.code().map(|c| c.into_owned()),
        _ => None,
    }
}

async fn owner_exec(cluster: &Cluster, sql: &str) {
    let mut conn = PgConnection::connect(&cluster.url("postgres"))
        .await
        .expect("owner connects without a password");
    sqlx::raw_sql(sql).execute(&mut conn).await.expect(sql);
    conn.close().await.expect("close");
}

#[tokio::test]
async fn password_roles_log_in_over_the_socket_with_the_right_password_only() {
    let tmp = temp_root();
    let cluster = cluster(tmp.path());
    cluster.ensure_running().await.expect("first start");
    assert!(cluster.stop().await.expect("stop"));
    // A cluster from before: its ifind.conf names no HBA file (initdb's trusts every local
    // login). The next start must switch it over.
    let conf = cluster.data_dir().join("ifind.conf");
    let old = fs::read_to_string(&conf).expect("ifind.conf");
    let old: String = old
        .lines()
        .filter(|l| !l.starts_with("hba_file") && !l.starts_with("password_encryption"))
        .map(|l| format!("{l}\n"))
        .collect();
    fs::write(&conf, old).expect("write the old ifind.conf");
    fs::remove_file(cluster.data_dir().join("ifind_hba.conf")).expect("remove the HBA file");
    cluster.ensure_running().await.expect("start again");

    owner_exec(
        &cluster,
        "CREATE ROLE staff_alice LOGIN PASSWORD 'correct horse'; CREATE ROLE ifind_app LOGIN",
    )
    .await;
    let mut owner = PgConnection::connect(&cluster.url("postgres"))
        .await
        .expect("owner");
    let encryption: String = sqlx::query_scalar("SHOW password_encryption")
        .fetch_one(&mut owner)
        .await
        .expect("show");
    assert_eq!(encryption, "scram-sha-256");
    let verifier: String =
        sqlx::query_scalar("SELECT rolpassword FROM pg_authid WHERE rolname = 'staff_alice'")
            .fetch_one(&mut owner)
            .await
            .expect("verifier");
    assert!(verifier.starts_with("SCRAM-SHA-256$"), "{verifier}");
    let rules: Vec<(String, Vec<String>, Vec<String>, String)> = sqlx::query_as(
        "SELECT type, database, user_name, auth_method FROM pg_hba_file_rules \
          ORDER BY line_number",
    )
    .fetch_all(&mut owner)
    .await
    .expect("hba rules");
    let rules: Vec<String> = rules
        .into_iter()
        .map(|(t, d, u, m)| format!("{t} {} {} {m}", d.join(","), u.join(",")))
        .collect();
    // The owner's replication line is for pg_basebackup (`ifind db backup`), over the socket.
    assert_eq!(
        rules,
        [
            "local all ifind trust",
            "local all ifind_app trust",
            "local replication ifind trust",
            "local all all scram-sha-256"
        ]
    );
    if cluster.has_auth_delay() {
        let delay: String = sqlx::query_scalar("SHOW auth_delay.milliseconds")
            .fetch_one(&mut owner)
            .await
            .expect("auth_delay is loaded");
        assert_eq!(delay, "500ms");
    } else {
        println!("auth_delay.so is not installed: failed logins are not slowed down");
    }
    // The lockout module is required: `scripts/test` (the README's test command) installs it.
    assert!(
        cluster.has_ifind_auth(),
        "ifind_auth.so is not installed in the server's pkglibdir: run the tests with \
         scripts/test, which builds and installs pg/ifind_auth"
    );
    let lockout: (String, String) = sqlx::query_as(
        "SELECT current_setting('ifind_auth.max_failures'), \
                current_setting('ifind_auth.lockout_seconds')",
    )
    .fetch_one(&mut owner)
    .await
    .expect("ifind_auth is loaded");
    assert_eq!(lockout, ("3".to_string(), "2s".to_string()));
    let status = cluster.status().expect("status");
    assert_eq!(status.lockout, Some(LOCKOUT));
    assert!(!status.needs_restart, "{status:?}");
    owner.close().await.expect("close");

    let alice = cluster.connect_options_as("staff_alice", "postgres");
    let mut conn = PgConnection::connect_with(&alice.clone().password("correct horse"))
        .await
        .expect("the right password");
    let me: String = sqlx::query_scalar("SELECT session_user::text")
        .fetch_one(&mut conn)
        .await
        .expect("query");
    assert_eq!(me, "staff_alice");
    conn.close().await.expect("close");

    let started = std::time::Instant::now();
    let err = PgConnection::connect_with(&alice.clone().password("wrong horse"))
        .await
        .expect_err("a wrong password");
    println!(
        "a failed socket login took {} ms",
        started.elapsed().as_millis()
    );
    assert_eq!(sqlstate(&err).as_deref(), Some("28P01"), "{err}");
    PgConnection::connect_with(&alice)
        .await
        .expect_err("no password");

    let app = PgConnection::connect(&cluster.url_as("ifind_app", "postgres"))
        .await
        .expect("ifind_app is trusted over the socket");
    app.close().await.expect("close");
    assert!(cluster.stop().await.expect("stop"));
}

#[tokio::test]
async fn the_tcp_option_listens_on_localhost_for_passwords_only() {
    let tmp = temp_root();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let mut settings = settings(tmp.path());
    settings.listen_tcp = Some(port);
    let cluster = Cluster::new(settings).expect("cluster");
    assert_eq!(cluster.port(), port);
    cluster.ensure_running().await.expect("start");
    owner_exec(
        &cluster,
        "CREATE ROLE staff_bob LOGIN PASSWORD 'bob s secret'",
    )
    .await;

    let mut owner = PgConnection::connect(&cluster.url("postgres"))
        .await
        .expect("the owner still uses the socket");
    let listen: String = sqlx::query_scalar("SHOW listen_addresses")
        .fetch_one(&mut owner)
        .await
        .expect("show");
    assert_eq!(listen, "127.0.0.1");
    owner.close().await.expect("close");

    let tcp = sqlx::postgres::PgConnectOptions::new()
        .host("127.0.0.1")
        .port(port)
        .database("postgres");
    let mut bob =
        PgConnection::connect_with(&tcp.clone().username("staff_bob").password("bob s secret"))
            .await
            .expect("a password login over TCP");
    let me: String = sqlx::query_scalar("SELECT session_user::text")
        .fetch_one(&mut bob)
        .await
        .expect("query");
    assert_eq!(me, "staff_bob");
    bob.close().await.expect("close");

    let started = std::time::Instant::now();
    let err = PgConnection::connect_with(&tcp.clone().username("staff_bob").password("guess"))
        .await
        .expect_err("a wrong password over TCP");
    println!(
        "a failed TCP login took {} ms (auth_delay loaded: {})",
        started.elapsed().as_millis(),
        cluster.has_auth_delay()
    );
    assert_eq!(sqlstate(&err).as_deref(), Some("28P01"), "{err}");
    let err = PgConnection::connect_with(&tcp.clone().username("ifind"))
        .await
        .expect_err("the owner is not trusted over TCP");
    println!("the owner over TCP: {err}");
    assert!(cluster.stop().await.expect("stop"));
}
