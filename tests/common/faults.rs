//! Fault injection for tests: a private PostgreSQL cluster that a test may stop (`-m fast` or
//! `-m immediate`) and start again without touching the shared test cluster, and a TCP proxy on
//! loopback in front of it that passes, delays, stalls or cuts the traffic on command.

#![allow(dead_code)]

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use ifind::db::Db;
use ifind::db::cluster::{Cluster, ClusterSettings};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgConnection};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, UnixStream};
use tokio::sync::watch;

/// The database the private cluster's tests use.
pub const DATABASE: &str = "faults";

/// A cluster of the test's own, in a temporary directory under /tmp; stopped when dropped.
pub struct PrivateCluster {
    pub cluster: Cluster,
    /// The owner (superuser) over the Unix socket.
    pub owner_url: String,
    /// The application role over the Unix socket.
    pub app_url: String,
    bindir: PathBuf,
    os_user: Option<String>,
    _dir: tempfile::TempDir,
}

impl PrivateCluster {
    /// Makes, starts and migrates a cluster; the application role may log in.
    pub async fn start() -> PrivateCluster {
        let dir = tempfile::Builder::new()
            .prefix("pg-faults-")
            .tempdir_in("/tmp")
            .expect("temp dir under /tmp");
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
            .expect("chmod temp dir");
        let mut settings = ClusterSettings::new(dir.path().join("pg"));
        settings.fallback_dir = dir.path().join("fallback");
        settings.lockout = crate::common::TEST_LOCKOUT;
        let cluster = Cluster::new(settings).expect("server binaries are installed");
        cluster.ensure_running().await.expect("start the cluster");
        cluster
            .ensure_database(DATABASE)
            .await
            .expect("create the database");
        let owner_url = cluster.url(DATABASE);
        let mut conn = PgConnection::connect(&owner_url).await.expect("connect");
        ifind::db::migrate::run(&mut conn).await.expect("migrate");
        ifind::db::roles::enable_app_login(&mut conn)
            .await
            .expect("let ifind_app log in");
        conn.close().await.ok();
        let status = cluster.status().expect("status");
        PrivateCluster {
            app_url: cluster.url_as(ifind::db::roles::APP_ROLE, DATABASE),
            owner_url,
            bindir: status.bindir,
            os_user: status.os_user,
            cluster,
            _dir: dir,
        }
    }

    /// The server's Unix socket file.
    pub fn socket(&self) -> PathBuf {
        self.cluster
            .socket_dir()
            .join(format!(".s.PGSQL.{}", ifind::db::cluster::PORT))
    }

    /// A pool as the owner, with at most `max` connections.
    pub async fn owner_db(&self, max: u32) -> Db {
        let opts: PgConnectOptions = self.owner_url.parse().expect("owner URL parses");
        let pool = PgPoolOptions::new()
            .max_connections(max)
            .connect_with(opts.disable_statement_logging())
            .await
            .expect("connect as the owner");
        Db { pool }
    }

    /// Stops the server with `pg_ctl stop -m MODE` ("fast" or "immediate") and waits for it.
    pub async fn stop(&self, mode: &str) {
        let pg_ctl = self.bindir.join("pg_ctl");
        let data = self.cluster.data_dir();
        let mut cmd = match &self.os_user {
            Some(user) => {
                let mut c = tokio::process::Command::new("runuser");
                c.args(["-u", user, "--"]).arg(&pg_ctl);
                c
            }
            None => tokio::process::Command::new(&pg_ctl),
        };
        cmd.arg("stop")
            .arg("-D")
            .arg(&data)
            .args(["-m", mode, "-w", "-t", "60", "-s"])
            .current_dir("/tmp");
        let out = cmd.output().await.expect("run pg_ctl stop");
        assert!(
            out.status.success(),
            "pg_ctl stop -m {mode}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Starts the server again (after [`PrivateCluster::stop`]); waits until it answers.
    pub async fn start_again(&self) {
        self.cluster
            .ensure_running()
            .await
            .expect("start the cluster again");
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        let pg_ctl = self.bindir.join("pg_ctl");
        let mut cmd = match &self.os_user {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(&pg_ctl);
                c
            }
            None => Command::new(&pg_ctl),
        };
        let _ = cmd
            .arg("stop")
            .arg("-D")
            .arg(self.cluster.data_dir())
            .args(["-m", "immediate", "-w", "-s"])
            .current_dir("/tmp")
            .output();
    }
}

/// What the proxy does with traffic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Forward everything at once.
    Pass,
    /// Forward every chunk after this long.
    Delay(Duration),
    /// Accept connections and hold every byte (both ways) until the mode changes.
    Stall,
    /// Close every connection, and every new one at once.
    Cut,
}

/// A TCP proxy on 127.0.0.1 in front of the server's Unix socket. Stops when dropped.
pub struct Proxy {
    pub port: u16,
    mode: Arc<watch::Sender<Mode>>,
    trip: Arc<Trip>,
    task: tokio::task::JoinHandle<()>,
}

/// The statements the clients sent through the proxy (simple queries and extended-protocol
/// executes, over every connection), and the one at which the proxy stalls everything so that a
/// test can kill the server at that exact point.
#[derive(Default)]
pub struct Trip {
    count: std::sync::atomic::AtomicU64,
    /// Stall when the count reaches this; 0: never.
    at: std::sync::atomic::AtomicU64,
    /// Send the tripping statement to the server first (its answer is then lost), or hold it
    /// (the server never sees it).
    forward: std::sync::atomic::AtomicBool,
    tripped: tokio::sync::Notify,
}

/// Frames the client side of the PostgreSQL protocol to count statements: untyped startup
/// messages (an SSL request keeps the connection untyped), then typed ones.
#[derive(Default)]
struct Framer {
    typed: bool,
    header: Vec<u8>,
    remaining: usize,
}

impl Framer {
    /// How many statements (`Q` simple query, `E` execute) begin in `bytes`.
    fn statements(&mut self, mut bytes: &[u8]) -> u64 {
        let mut count = 0;
        while !bytes.is_empty() {
            if self.remaining > 0 {
                let skip = self.remaining.min(bytes.len());
                self.remaining -= skip;
                bytes = &bytes[skip..];
                continue;
            }
            let need = if self.typed { 5 } else { 4 };
            let take = (need - self.header.len()).min(bytes.len());
            self.header.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if self.header.len() < need {
                break;
            }
            let length = &self.header[need - 4..need];
            let length = u32::from_be_bytes([length[0], length[1], length[2], length[3]]) as usize;
            self.remaining = length.saturating_sub(4);
            if !self.typed {
                // 8 bytes: an SSL or GSS encryption request; the startup message follows.
                self.typed = length != 8;
            } else if matches!(self.header[0], b'Q' | b'E') {
                count += 1;
            }
            self.header.clear();
        }
        count
    }
}

impl Proxy {
    /// Starts a proxy to `socket`, passing traffic.
    pub async fn start(socket: PathBuf) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let port = listener.local_addr().expect("proxy address").port();
        let (tx, _) = watch::channel(Mode::Pass);
        let mode = Arc::new(tx);
        let modes = Arc::clone(&mode);
        let trip = Arc::new(Trip::default());
        let trips = Arc::clone(&trip);
        let task = tokio::spawn(async move {
            let mut links = tokio::task::JoinSet::new();
            while let Ok((client, _)) = listener.accept().await {
                let rx = modes.subscribe();
                let socket = socket.clone();
                let counting = Some((Arc::clone(&trips), Arc::clone(&modes)));
                links.spawn(async move {
                    if *rx.borrow() == Mode::Cut {
                        return;
                    }
                    let Ok(server) = UnixStream::connect(&socket).await else {
                        return;
                    };
                    let (cr, cw) = client.into_split();
                    let (sr, sw) = server.into_split();
                    tokio::select! {
                        () = pump(cr, sw, rx.clone(), counting) => {}
                        () = pump(sr, cw, rx, None) => {}
                    }
                });
                while links.try_join_next().is_some() {}
            }
        });
        Proxy {
            port,
            mode,
            trip,
            task,
        }
    }

    /// What the proxy does now (it stalls by itself once tripped).
    pub fn mode(&self) -> Mode {
        *self.mode.borrow()
    }

    /// How many statements the clients have sent through the proxy so far.
    pub fn statements(&self) -> u64 {
        self.trip.count.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Stalls all traffic when statement number `at` (counted as [`Proxy::statements`]) is
    /// sent: after sending it to the server when `forward` (the server may carry it out; its
    /// answer never arrives), before otherwise. 0 disarms.
    pub fn trip_at(&self, at: u64, forward: bool) {
        use std::sync::atomic::Ordering::SeqCst;
        self.trip.forward.store(forward, SeqCst);
        self.trip.at.store(at, SeqCst);
    }

    /// Waits until the proxy has tripped (see [`Proxy::trip_at`]).
    pub async fn tripped(&self) {
        self.trip.tripped.notified().await;
    }

    /// Changes what the proxy does, for open connections too.
    pub fn set(&self, mode: Mode) {
        self.mode.send_replace(mode);
    }

    /// `url` (a Unix-socket URL of the private cluster) made to go through the proxy.
    pub fn url_for(&self, user: &str) -> String {
        format!("postgres://{user}@127.0.0.1:{}/{DATABASE}", self.port)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.set(Mode::Cut);
        self.task.abort();
    }
}

/// Copies `from` to `to` chunk by chunk as the mode says; returns when either side closes or
/// the mode is [`Mode::Cut`].
async fn pump(
    mut from: impl AsyncReadExt + Unpin,
    mut to: impl AsyncWriteExt + Unpin,
    mut mode: watch::Receiver<Mode>,
    counting: Option<(Arc<Trip>, Arc<watch::Sender<Mode>>)>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    let mut framer = Framer::default();
    loop {
        let n = tokio::select! {
            read = from.read(&mut buf) => match read {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            },
            changed = mode.wait_for(|m| *m == Mode::Cut) => {
                let _ = changed;
                return;
            }
        };
        if let Some((trip, modes)) = &counting {
            use std::sync::atomic::Ordering::SeqCst;
            let sent = framer.statements(&buf[..n]);
            let before = trip.count.fetch_add(sent, SeqCst);
            let at = trip.at.load(SeqCst);
            if sent > 0 && at > before && at <= before + sent && trip.at.swap(0, SeqCst) == at {
                if trip.forward.load(SeqCst) && to.write_all(&buf[..n]).await.is_err() {
                    return;
                }
                modes.send_replace(Mode::Stall);
                trip.tripped.notify_one();
                if trip.forward.load(SeqCst) {
                    continue;
                }
            }
        }
        // Hold the chunk while stalled; give up on it when cut.
        loop {
            let now = *mode.borrow_and_update();
            match now {
                Mode::Pass => break,
                Mode::Delay(d) => {
                    tokio::time::sleep(d).await;
                    break;
                }
                Mode::Cut => return,
                Mode::Stall => {
                    if mode.changed().await.is_err() {
                        return;
                    }
                }
            }
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

/// Connects as the application role through `url` into a pool like the app's, with
/// `max` connections and `acquire` as the time to get one.
pub async fn app_pool(url: &str, max: u32, acquire: Duration) -> Db {
    let mut cfg = ifind::db::DbOptions {
        min_connections: 0,
        max_connections: max,
        connect_timeout_secs: acquire.as_secs().max(1),
        ..Default::default()
    };
    cfg.auto_migrate = false;
    ifind::db::pool::connect_unchecked(url, &cfg)
        .await
        .expect("connect the app pool")
}

/// Polls `check` every 50 ms until it is true or `limit` passes; true if it became true.
pub async fn eventually(limit: Duration, mut check: impl AsyncFnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if check().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
