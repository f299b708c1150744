//! Read replicas against a real streaming replica: a private primary on a Unix socket (port
//! 5620), a replica made from it with `pg_basebackup -R` (port 5621), both in a fresh directory
//! under /tmp and stopped by a guard even when the test fails.
//!
//! Searches go to the replica (shown by a stale answer while its replay is paused); after the
//! user's own save they come from the primary until the replica has replayed it; a replica
//! whose replay is paused falls behind the bound and is skipped; after resuming, reads return
//! to it; a search cancelled by a recovery conflict and a replica that is stopped are both
//! answered by the primary without an error.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use ifind::app::db_backend::DbSearchBackend;
use ifind::app::runner::{Finder, Records};
use ifind::db::health::replica_checks;
use ifind::db::replicas::{ReadRouter, RouterOptions};
use ifind::db::search::SearchRequest;
use ifind::db::{Db, sites, users};
use ifind::domain::health::Verdict;
use ifind::domain::interaction::{InteractionInput, validate};
use ifind::service::records::FormTarget;
use sqlx::{Connection, PgConnection};

const PRIMARY_PORT: u16 = 5620;
const REPLICA_PORT: u16 = 5621;

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// The newest PostgreSQL server binaries on the machine.
fn bindir() -> PathBuf {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL server binaries under /usr/lib/postgresql")
        .filter_map(Result::ok)
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("pg_basebackup").exists().then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().expect("a PostgreSQL with pg_basebackup").1
}

/// Runs a server program as the `postgres` OS user when we are root (initdb and postgres refuse
/// root), and checks that it worked.
fn pg(program: &str, args: &[&str]) -> Output {
    let path = bindir().join(program);
    let mut cmd = if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(&path);
        c
    } else {
        Command::new(&path)
    };
    let out = cmd.args(args).output().expect("run a PostgreSQL program");
    assert!(
        out.status.success(),
        "{program} {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The two clusters; stopped (immediately) and removed when dropped.
struct Clusters {
    dir: tempfile::TempDir,
}

impl Clusters {
    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn data(&self, name: &str) -> String {
        self.root().join(name).display().to_string()
    }

    fn start(&self, name: &str, port: u16, extra: &str) {
        let options = format!(
            "-k {} -c listen_addresses='' -p {port} -c fsync=off {extra}",
            self.root().display()
        );
        let log = self
            .root()
            .join(format!("{name}.log"))
            .display()
            .to_string();
        pg(
            "pg_ctl",
            &[
                "-D",
                &self.data(name),
                "-o",
                &options,
                "-l",
                &log,
                "-w",
                "start",
            ],
        );
    }

    fn stop(&self, name: &str) {
        pg(
            "pg_ctl",
            &["-D", &self.data(name), "-m", "fast", "-w", "stop"],
        );
    }

    fn url(&self, user: &str, port: u16) -> String {
        format!(
            "postgres://{user}@localhost:{port}/ifind?host={}",
            self.root().display()
        )
    }
}

impl Clusters {
    /// Runs the `ifind` binary as eddie with the application role on the primary, the owner
    /// for admin work and the replica in `database.read_urls`; returns its standard output.
    fn ifind(&self, args: &[&str]) -> String {
        let home = tempfile::tempdir().expect("temp home");
        let config = home.path().join("config.toml");
        std::fs::write(
            &config,
            format!(
                "[database]\nread_urls = [\"{}\"]\nmax_replica_lag_ms = 600000\n",
                self.url("ifind_app", REPLICA_PORT)
            ),
        )
        .expect("write config");
        let out = Command::new(env!("CARGO_BIN_EXE_ifind"))
            .arg("--config")
            .arg(&config)
            .args(["--as", "eddie"])
            .args(args)
            .env("IFIND_DATABASE_URL", self.url("ifind_app", PRIMARY_PORT))
            .env("IFIND_OWNER_URL", self.url("ifind", PRIMARY_PORT))
            .env_remove("DATABASE_URL")
            .env_remove("IFIND_READ_URLS")
            .env_remove("IFIND_USER")
            .env("IFIND_PASSWORD", common::TEST_PASSWORD)
            .env("XDG_CONFIG_HOME", home.path().join("config"))
            .env("XDG_STATE_HOME", home.path().join("state"))
            .env("XDG_DATA_HOME", home.path().join("data"))
            .output()
            .expect("run ifind");
        assert!(
            out.status.success(),
            "ifind {args:?} failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Clusters {
    fn drop(&mut self) {
        for name in ["replica", "primary"] {
            let data = self.data(name);
            if Path::new(&data).join("postmaster.pid").exists() {
                let path = bindir().join("pg_ctl");
                let mut cmd = if is_root() {
                    let mut c = Command::new("runuser");
                    c.args(["-u", "postgres", "--"]).arg(&path);
                    c
                } else {
                    Command::new(&path)
                };
                let _ = cmd
                    .args(["-D", &data, "-m", "immediate", "-w", "stop"])
                    .output();
            }
        }
    }
}

/// A primary with ifind's schema, and a replica of it, both running.
async fn clusters() -> Clusters {
    let dir = tempfile::Builder::new()
        .prefix("pg-replicas-")
        .tempdir_in("/tmp")
        .expect("temp dir under /tmp");
    if is_root() {
        let status = Command::new("chown")
            .arg("postgres")
            .arg(dir.path())
            .status()
            .expect("chown");
        assert!(status.success(), "chown the cluster dir to postgres");
    }
    let c = Clusters { dir };
    pg(
        "initdb",
        &[
            "-D",
            &c.data("primary"),
            "-U",
            "ifind",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C",
        ],
    );
    c.start("primary", PRIMARY_PORT, "-c wal_level=replica");
    let mut owner = PgConnection::connect(
        &c.url("ifind", PRIMARY_PORT)
            .replace("/ifind?", "/postgres?"),
    )
    .await
    .expect("connect to the primary");
    sqlx::raw_sql("CREATE DATABASE ifind")
        .execute(&mut owner)
        .await
        .expect("create database");
    owner.close().await.ok();
    let mut owner = PgConnection::connect(&c.url("ifind", PRIMARY_PORT))
        .await
        .expect("connect to the new database");
    ifind::db::migrate::run(&mut owner).await.expect("migrate");
    ifind::db::roles::enable_app_login(&mut owner)
        .await
        .expect("let ifind_app log in");
    owner.close().await.ok();
    let conninfo = format!("host={} port={PRIMARY_PORT} user=ifind", c.root().display());
    pg(
        "pg_basebackup",
        &[
            "-D",
            &c.data("replica"),
            "-R",
            "-X",
            "stream",
            "-c",
            "fast",
            "-d",
            &conninfo,
        ],
    );
    // Conflicting queries are cancelled after 100 ms instead of 30 s.
    c.start(
        "replica",
        REPLICA_PORT,
        "-c max_standby_streaming_delay=100ms -c hot_standby_feedback=off",
    );
    c
}

/// Polls `check` every 20 ms until it holds, failing after `secs` seconds.
async fn eventually<F, Fut>(secs: u64, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn input(title: &str) -> InteractionInput {
    InteractionInput {
        title: title.into(),
        kind: "Meeting".into(),
        lead: "Jun Park".into(),
        start: "2026-12-01 09:30".into(),
        end: "2026-12-01 10:15".into(),
        timezone: "Europe/Berlin".into(),
        location: "Pier 7".into(),
        description: String::new(),
        notes: String::new(),
    }
}

fn options(max_lag_ms: u64, recheck_ms: u64, retry_after_secs: u64) -> RouterOptions {
    RouterOptions {
        max_lag: Duration::from_millis(max_lag_ms),
        recheck: Duration::from_millis(recheck_ms),
        probe_timeout: Duration::from_secs(2),
        retry_after: Duration::from_secs(retry_after_secs),
    }
}

fn pool(url: &str) -> Db {
    let cfg = ifind::db::DbOptions {
        min_connections: 0,
        max_connections: 4,
        connect_timeout_secs: 5,
        ..Default::default()
    };
    ifind::db::pool::connect_lazy(url, &cfg).expect("pool")
}

async fn titles(backend: &DbSearchBackend, site: i32, query: &str) -> Vec<String> {
    backend
        .search(1, SearchRequest::new(site, query))
        .await
        .unwrap_or_else(|e| panic!("search {query:?}: {e}"))
        .hits
        .into_iter()
        .map(|h| h.interaction.title)
        .collect()
}

async fn on(db: &Db, sql: &str) {
    sqlx::raw_sql(sql)
        .execute(&db.pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn searches_use_the_replica_but_never_miss_own_writes_or_a_sick_replica() {
    let c = clusters().await;
    let owner = pool(&c.url("ifind", PRIMARY_PORT));
    let replica_owner = pool(&c.url("ifind", REPLICA_PORT));
    let primary = pool(&c.url("ifind_app", PRIMARY_PORT));
    let replica = pool(&c.url("ifind_app", REPLICA_PORT));

    // An editor at one site, with one interaction.
    let mut tx = owner.begin_as(None).await.expect("begin");
    let hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";
    let editor = users::insert(&mut tx, "eddie", "eddie@example.org", hash, false)
        .await
        .expect("user")
        .user_id;
    let site = sites::insert(&mut tx, "North", None)
        .await
        .expect("site")
        .site_id;
    users::grant(&mut tx, editor, site, users::Role::Editor)
        .await
        .expect("grant");
    ifind::db::logins::set_login(&mut tx, "eddie", common::TEST_PASSWORD)
        .await
        .expect("eddie's login");
    tx.commit().await.expect("commit");
    let alpha = ifind::service::records::save(
        &primary,
        Some(editor),
        site,
        FormTarget::New,
        validate(&input("Alpha harbour meeting")).expect("valid"),
    )
    .await
    .expect("saved")
    .interaction_id;

    let router = ReadRouter::new(
        primary.clone(),
        vec![("replica".into(), replica.clone())],
        options(2000, 100, 30),
    );
    let backend = DbSearchBackend::new(primary.clone(), Some(editor)).with_reads(Some(router));
    eventually(10, "the replica has the first interaction", || async {
        backend.read_target().await.replica == Some(0)
            && titles(&backend, site, "alpha").await == ["Alpha harbour meeting"]
    })
    .await;

    // Overhead: choosing the target with a cached status costs no round trip.
    let started = Instant::now();
    for _ in 0..1000 {
        backend.read_target().await;
    }
    let per_pick = started.elapsed() / 1000;
    // A search through a router (status checked every second, as configured by default)
    // against one sent straight to the replica, alternating.
    let measured =
        DbSearchBackend::new(primary.clone(), Some(editor)).with_reads(Some(ReadRouter::new(
            primary.clone(),
            vec![("replica".into(), replica.clone())],
            options(2000, 1000, 30),
        )));
    let direct_backend = DbSearchBackend::new(replica.clone(), Some(editor));
    let (mut routed, mut direct) = (Duration::ZERO, Duration::ZERO);
    for _ in 0..100 {
        let started = Instant::now();
        titles(&measured, site, "alpha").await;
        routed += started.elapsed();
        let started = Instant::now();
        titles(&direct_backend, site, "alpha").await;
        direct += started.elapsed();
    }
    let (routed, direct) = (routed / 100, direct / 100);
    eprintln!(
        "pick {per_pick:?}; search via the router {routed:?}, straight to the replica {direct:?}"
    );
    assert!(
        per_pick < Duration::from_millis(1),
        "a pick took {per_pick:?}"
    );

    // Replay paused, someone else renames the interaction on the primary: within the bound the
    // search is still answered by the replica, which proves where searches go.
    on(&replica_owner, "SELECT pg_wal_replay_pause()").await;
    eventually(10, "replay is paused", || async {
        sqlx::query_scalar::<_, String>("SELECT pg_get_wal_replay_pause_state()")
            .fetch_one(&replica_owner.pool)
            .await
            .is_ok_and(|s| s == "paused")
    })
    .await;
    sqlx::query(
        "UPDATE interactions SET title = 'Omega harbour meeting' WHERE interaction_id = $1",
    )
    .bind(alpha)
    .execute(&owner.pool)
    .await
    .expect("rename on the primary");
    assert_eq!(
        titles(&backend, site, "harbour").await,
        ["Alpha harbour meeting"],
        "a search within the lag bound is answered by the (paused) replica"
    );

    // `ifind search` and `ifind health` with the replica configured (a generous bound, so the
    // paused replica still serves): the stale title shows the search went to the replica.
    let out = c.ifind(&["search", "--site", "North", "harbour", "--format", "csv"]);
    assert!(
        out.contains("Alpha harbour meeting") && !out.contains("Omega"),
        "{out}"
    );
    let out = c.ifind(&["health"]);
    assert!(
        out.contains("read replica") && out.contains("replay paused"),
        "{out}"
    );

    // The user's own save is found at once, from the primary, although replay is paused.
    backend
        .save(
            site,
            FormTarget::New,
            validate(&input("Zephyr workshop")).expect("valid"),
        )
        .await
        .expect("saved through the backend");
    assert_eq!(titles(&backend, site, "zephyr").await, ["Zephyr workshop"]);
    assert_eq!(
        titles(&backend, site, "harbour").await,
        ["Omega harbour meeting"],
        "after a save, searches come from the primary"
    );
    assert_eq!(backend.read_target().await.replica, None);

    // Another process (no writes of its own): the paused replica falls behind the bound and
    // is skipped; health says so.
    let other = ReadRouter::new(
        primary.clone(),
        vec![("replica".into(), replica.clone())],
        options(1000, 100, 30),
    );
    let other_backend =
        DbSearchBackend::new(primary.clone(), Some(editor)).with_reads(Some(other.clone()));
    eventually(15, "the paused replica is too far behind", || async {
        other_backend.read_target().await.replica.is_none()
    })
    .await;
    assert_eq!(
        titles(&other_backend, site, "harbour").await,
        ["Omega harbour meeting"]
    );
    let lines = replica_checks(&other).await;
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].verdict, Verdict::Degraded, "{lines:?}");
    assert!(lines[0].value.contains("replay paused"), "{lines:?}");
    assert!(lines[0].threshold.contains("1.0 s"), "{lines:?}");

    // Replay resumed: once the replica has replayed the save, reads return to it.
    on(&replica_owner, "SELECT pg_wal_replay_resume()").await;
    eventually(15, "reads return to the replica", || async {
        backend.read_target().await.replica == Some(0)
            && other_backend.read_target().await.replica == Some(0)
    })
    .await;
    assert_eq!(titles(&backend, site, "zephyr").await, ["Zephyr workshop"]);
    let lines = replica_checks(&other).await;
    assert_eq!(lines[0].verdict, Verdict::Ok, "{lines:?}");

    // A recovery conflict: the replica's search (with the archive) holds `interactions` and
    // waits for `interactions_archive`, which replay holds; replay then needs `interactions` and
    // cancels the search after max_standby_streaming_delay. The user still gets an answer, from
    // the primary.
    let mut locker = PgConnection::connect(&c.url("ifind", PRIMARY_PORT))
        .await
        .expect("connect");
    sqlx::raw_sql("BEGIN; LOCK TABLE interactions_archive IN ACCESS EXCLUSIVE MODE")
        .execute(&mut locker)
        .await
        .expect("lock the archive");
    on(&owner, "SELECT txid_current()").await; // flushes the lock's WAL record
    eventually(
        10,
        "the replica holds the archive's lock in replay",
        || async {
            sqlx::query_scalar::<_, i64>(
                "SELECT count(*) FROM pg_locks WHERE relation = 'interactions_archive'::regclass \
               AND mode = 'AccessExclusiveLock'",
            )
            .fetch_one(&replica_owner.pool)
            .await
            .is_ok_and(|n| n > 0)
        },
    )
    .await;
    assert_eq!(backend.read_target().await.replica, Some(0));
    let searching = {
        let backend = backend.clone();
        let mut request = SearchRequest::new(site, "zephyr");
        request.archive = true;
        tokio::spawn(async move { backend.search(7, request).await })
    };
    eventually(10, "the replica's search waits for the lock", || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM pg_stat_activity \
              WHERE application_name LIKE 'ifind search %-7' AND wait_event_type = 'Lock'",
        )
        .fetch_one(&replica_owner.pool)
        .await
        .is_ok_and(|n| n > 0)
    })
    .await;
    on(
        &owner,
        "BEGIN; LOCK TABLE interactions IN ACCESS EXCLUSIVE MODE; COMMIT",
    )
    .await;
    sqlx::raw_sql("ROLLBACK")
        .execute(&mut locker)
        .await
        .expect("unlock the archive");
    locker.close().await.ok();
    let page = tokio::time::timeout(Duration::from_secs(20), searching)
        .await
        .expect("the search ends")
        .expect("search task")
        .expect("the conflict is not the user's problem");
    assert_eq!(page.hits.len(), 1);
    assert_eq!(
        backend.read_target().await.replica,
        None,
        "a replica that cancelled a search is left alone for a while"
    );

    // A replica that stops: the next search is answered by the primary, without an error.
    let third = ReadRouter::new(
        primary.clone(),
        vec![("replica".into(), replica.clone())],
        options(5000, 60_000, 30),
    );
    let third_backend =
        DbSearchBackend::new(primary.clone(), Some(editor)).with_reads(Some(third.clone()));
    assert_eq!(third_backend.read_target().await.replica, Some(0));
    replica_owner.pool.close().await;
    c.stop("replica");
    assert_eq!(
        titles(&third_backend, site, "zephyr").await,
        ["Zephyr workshop"]
    );
    assert_eq!(third_backend.read_target().await.replica, None);
    let lines = replica_checks(&third).await;
    assert_eq!(lines[0].verdict, Verdict::Degraded, "{lines:?}");
    assert!(lines[0].value.contains("unreachable"), "{lines:?}");
}
