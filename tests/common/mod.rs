//! Test harness: a real PostgreSQL for every test.
//!
//! The server is `IFIND_TEST_DATABASE_URL` when set (a URL whose user may create databases), or
//! else a private cluster started from the machine's server binaries with the same code as the
//! embedded default. The migrations are applied once, by the owner (the server URL's user), to a
//! template database named after their checksum; every test gets a fresh database cloned from
//! it. The application role `ifind_app` (made by migration 0003) may log in, so tests can also
//! connect as it ([`TestDb::app_db`], [`TestDb::app_url`], [`ifind_app`]) and meet the
//! row-level security policies.

#![allow(dead_code)]

pub mod tmux;

use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};

use std::io::Write;
use std::process::{Command, Output, Stdio};

use ifind::db::Db;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgConnection};

/// A fresh database with the current schema, dropped when the value is dropped.
pub struct TestDb {
    /// A pool as the owner (a superuser, so policies do not apply).
    pub db: Db,
    /// An owner URL for this database, for running the `ifind` binary's admin commands.
    pub url: String,
    /// The same database as the application role `ifind_app`, which the policies apply to.
    pub app_url: String,
    pub name: String,
    admin_url: String,
}

/// The password the harness gives `ifind_app` on an external test server
/// (`IFIND_TEST_DATABASE_URL`); the private test cluster trusts the owner and `ifind_app` over
/// its socket (every other role logs in with its password there too).
const APP_TEST_PASSWORD: &str = "ifind-app-test";

fn external_server() -> bool {
    std::env::var("IFIND_TEST_DATABASE_URL").is_ok_and(|u| !u.trim().is_empty())
}

/// `url` with its user (and password) replaced.
pub fn with_user(url: &str, user: &str, password: Option<&str>) -> String {
    ifind::db::logins::url_with_user(url, user, password)
}

/// The application role's URL for a database whose owner URL is `url`.
pub fn app_url_of(url: &str) -> String {
    let password = external_server().then_some(APP_TEST_PASSWORD);
    with_user(url, ifind::db::roles::APP_ROLE, password)
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// The login lockout of the test clusters (ifind_auth, which `scripts/test` installs): small,
/// so that a test's failed logins lock nothing for long.
pub const TEST_LOCKOUT: ifind::db::cluster::LockoutSettings = ifind::db::cluster::LockoutSettings {
    max_failures: 3,
    lockout_secs: 2,
};

/// The server's base URL (any database on it; the harness picks the database).
pub fn server_url() -> String {
    if let Ok(url) = std::env::var("IFIND_TEST_DATABASE_URL")
        && !url.trim().is_empty()
    {
        return url;
    }
    test_cluster_url()
}

/// Starts (or reuses) the private test cluster: one per OS user, shared by every test process
/// (the cluster code serialises concurrent starts with a file lock), under /tmp so that the
/// `postgres` OS user can reach it when the tests run as root.
fn test_cluster_url() -> String {
    static URL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    URL.get_or_init(|| {
        let uid = nix::unistd::geteuid().as_raw();
        let root = std::path::PathBuf::from(format!("/tmp/ifind-test-pg-{uid}"));
        let mut settings = ifind::db::cluster::ClusterSettings::new(root.clone());
        settings.fallback_dir = root;
        settings.lockout = TEST_LOCKOUT;
        // Run on a thread with its own runtime: callers may already be inside a runtime.
        std::thread::spawn(move || {
            let cluster = ifind::db::cluster::Cluster::new(settings)
                .unwrap_or_else(|e| panic!("test cluster: {e}"));
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(cluster.ensure_running())
                .unwrap_or_else(|e| panic!("cannot start the test cluster: {e}"));
            cluster.url("postgres")
        })
        .join()
        .expect("test cluster thread")
    })
    .clone()
}

/// Replaces the database name of a `postgres://` URL.
pub fn with_database(url: &str, name: &str) -> String {
    let (main, query) = match url.split_once('?') {
        Some((m, q)) => (m, Some(q)),
        None => (url, None),
    };
    let scheme_end = main.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match main[scheme_end..].find('/') {
        Some(i) => &main[..scheme_end + i],
        None => main,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

async fn connect(url: &str) -> PgConnection {
    let opts = PgConnectOptions::from_str(url)
        .unwrap_or_else(|e| panic!("bad test database URL {url}: {e}"))
        .disable_statement_logging();
    opts.connect()
        .await
        .unwrap_or_else(|e| panic!("cannot connect to the test server at {url}: {e}"))
}

fn template_name() -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for m in ifind::db::migrate::MIGRATIONS {
        for b in m.sql.bytes() {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("ifind_tpl_{:016x}", hash)
}

async fn ensure_template(admin: &mut PgConnection, admin_url: &str) -> String {
    let tpl = template_name();
    sqlx::query("SELECT pg_advisory_lock(7301)")
        .execute(&mut *admin)
        .await
        .expect("advisory lock");
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(&tpl)
            .fetch_one(&mut *admin)
            .await
            .expect("look up template");
    if !exists {
        let building = format!("{tpl}_building");
        sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {building}"))
            .execute(&mut *admin)
            .await
            .expect("drop half-built template");
        sqlx::raw_sql(&format!("CREATE DATABASE {building}"))
            .execute(&mut *admin)
            .await
            .expect("create template");
        {
            let mut conn = connect(&with_database(admin_url, &building)).await;
            ifind::db::migrate::run(&mut conn)
                .await
                .expect("migrate template");
            conn.close().await.expect("close template connection");
        }
        sqlx::raw_sql(&format!("ALTER DATABASE {building} RENAME TO {tpl}"))
            .execute(&mut *admin)
            .await
            .expect("publish template");
    }
    // Roles belong to the whole server: let the application role log in (once; under the lock,
    // as concurrent ALTER ROLEs fail).
    if external_server() {
        sqlx::raw_sql(&format!(
            "ALTER ROLE ifind_app LOGIN PASSWORD '{APP_TEST_PASSWORD}'"
        ))
        .execute(&mut *admin)
        .await
        .expect("let ifind_app log in");
    } else {
        ifind::db::roles::enable_app_login(&mut *admin)
            .await
            .expect("let ifind_app log in");
    }
    sqlx::query("SELECT pg_advisory_unlock(7301)")
        .execute(&mut *admin)
        .await
        .expect("advisory unlock");
    tpl
}

/// SQL that drops the login roles of database `name` (`name.user`, see `ifind::db::logins`):
/// roles belong to the whole cluster and outlive their database.
fn drop_login_roles(name: &str) -> String {
    format!(
        "DO $$ DECLARE r text; BEGIN \
           FOR r IN SELECT rolname FROM pg_roles WHERE starts_with(rolname, '{name}.') LOOP \
             EXECUTE format('DROP ROLE %I', r); \
           END LOOP; \
         END $$"
    )
}

/// A fresh, migrated database for one test.
pub async fn fresh_db() -> TestDb {
    let base = server_url();
    let admin_url = with_database(&base, "postgres");
    let mut admin = connect(&admin_url).await;
    let tpl = ensure_template(&mut admin, &admin_url).await;
    let name = format!(
        "ifind_test_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    );
    sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name}"))
        .execute(&mut admin)
        .await
        .expect("drop old test database");
    // An earlier run's process of the same id may have left its database's login roles.
    sqlx::raw_sql(&drop_login_roles(&name))
        .execute(&mut admin)
        .await
        .expect("drop old test login roles");
    sqlx::raw_sql(&format!("CREATE DATABASE {name} TEMPLATE {tpl}"))
        .execute(&mut admin)
        .await
        .expect("clone template");
    admin.close().await.ok();
    let url = with_database(&base, &name);
    let opts = PgConnectOptions::from_str(&url).expect("test URL parses");
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .connect_with(opts)
        .await
        .expect("connect to the test database");
    TestDb {
        db: Db { pool },
        app_url: app_url_of(&url),
        url,
        name,
        admin_url,
    }
}

impl TestDb {
    /// A pool of up to `max_connections` on this database as the application role, which the
    /// row-level security policies apply to.
    pub async fn app_db_with(&self, max_connections: u32) -> Db {
        let opts = PgConnectOptions::from_str(&self.app_url)
            .expect("app URL parses")
            .disable_statement_logging();
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .connect_with(opts)
            .await
            .unwrap_or_else(|e| panic!("cannot connect as ifind_app to {}: {e}", self.name));
        Db { pool }
    }

    /// [`TestDb::app_db_with`] four connections.
    pub async fn app_db(&self) -> Db {
        self.app_db_with(4).await
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        // Drop the database from a thread with its own runtime: Drop cannot await, and the pool's
        // connections belong to the test's runtime, so FORCE ends them instead of closing them.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                if let Ok(mut admin) = PgConnection::connect(&admin_url).await {
                    let _ = sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&mut admin)
                        .await;
                    let _ = sqlx::raw_sql(&drop_login_roles(&name))
                        .execute(&mut admin)
                        .await;
                    let _ = admin.close().await;
                }
            });
        })
        .join();
    }
}

/// Runs the real binary against the test database, with its own empty config and log dirs.
pub fn ifind(url: &str, args: &[&str], stdin: Option<&str>) -> Output {
    run_ifind(Some(url), args, stdin)
}

/// Runs the real binary with no database URL, so it uses the embedded cluster of its config.
pub fn ifind_embedded(args: &[&str], stdin: Option<&str>) -> Output {
    run_ifind(None, args, stdin)
}

/// Runs the real binary as a deployment would: the application role in `IFIND_DATABASE_URL`
/// (the TUI, `search`, `export`) and the owner in `IFIND_OWNER_URL` (migrations, admin).
pub fn ifind_app(t: &TestDb, args: &[&str], stdin: Option<&str>) -> Output {
    run_ifind_env(Some(&t.app_url), Some(&t.url), args, stdin)
}

fn run_ifind(url: Option<&str>, args: &[&str], stdin: Option<&str>) -> Output {
    run_ifind_env(url, None, args, stdin)
}

fn run_ifind_env(
    url: Option<&str>,
    owner_url: Option<&str>,
    args: &[&str],
    stdin: Option<&str>,
) -> Output {
    run_ifind_into(url, owner_url, args, stdin, Stdio::piped())
}

/// [`ifind_app`] with its standard output going to `stdout` (a pipe nobody reads, a full
/// device), its standard error captured.
pub fn ifind_app_into(t: &TestDb, args: &[&str], stdout: Stdio) -> Output {
    run_ifind_into(Some(&t.app_url), Some(&t.url), args, None, stdout)
}

fn run_ifind_into(
    url: Option<&str>,
    owner_url: Option<&str>,
    args: &[&str],
    stdin: Option<&str>,
    stdout: Stdio,
) -> Output {
    let home = tempfile::tempdir().expect("temp home");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ifind"));
    match url {
        Some(url) => cmd.env("IFIND_DATABASE_URL", url),
        None => cmd.env_remove("IFIND_DATABASE_URL"),
    };
    match owner_url {
        Some(url) => cmd.env("IFIND_OWNER_URL", url),
        None => cmd.env_remove("IFIND_OWNER_URL"),
    };
    cmd.args(args)
        .env_remove("DATABASE_URL")
        .env_remove("IFIND_USER")
        // `--as NAME` logs in as NAME's own database role: test users' password.
        .env("IFIND_PASSWORD", TEST_PASSWORD)
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("XDG_STATE_HOME", home.path().join("state"))
        .env("XDG_DATA_HOME", home.path().join("data"))
        .stdin(Stdio::piped())
        .stdout(stdout)
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("run ifind");
    if let (Some(mut pipe), Some(text)) = (child.stdin.take(), stdin) {
        pipe.write_all(text.as_bytes()).expect("write stdin");
    }
    child.wait_with_output().expect("ifind finishes")
}

pub fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "ifind failed ({:?}):\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn fails(out: &Output, code: i32) -> String {
    assert_eq!(
        out.status.code(),
        Some(code),
        "expected exit {code}:\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `ifind user add ada ...`: the first user of a test database (a global administrator).
pub const ADD_ADA: [&str; 6] = [
    "user",
    "add",
    "ada",
    "--email",
    "ada@example.org",
    "--password-stdin",
];
/// Ada's password ([`TEST_PASSWORD`]), as standard input for [`ADD_ADA`].
pub const ADA_PASSWORD: &str = "first password\n";

/// The password of test users made with [`give_login`] (and of users added through the
/// binary with it on standard input); `ifind --as NAME` run by these helpers logs in with it.
pub const TEST_PASSWORD: &str = "first password";

/// Gives the users `names` their own database login (as `ifind user add` does), with
/// [`TEST_PASSWORD`], through the owner's pool `db`.
pub async fn give_login(db: &Db, names: &[&str]) {
    let mut conn = db.pool.acquire().await.expect("owner connection");
    for name in names {
        ifind::db::logins::set_login(&mut conn, name, TEST_PASSWORD)
            .await
            .unwrap_or_else(|e| panic!("login role for {name}: {e}"));
    }
}

/// Imports the CSV text `csv` into site `site` as the owner (the file is written to a
/// temporary folder first) and returns what the command printed.
pub fn import_csv(url: &str, site: &str, csv: &str) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("rows.csv");
    std::fs::write(&file, csv).expect("write the CSV");
    let path = file.to_str().expect("utf-8 path");
    ok(&ifind(url, &["import", path, "--site", site], None))
}

/// Adds ada, the first user (and so a global administrator), through the binary.
pub fn add_ada(url: &str) -> String {
    ok(&ifind(url, &ADD_ADA, Some(ADA_PASSWORD)))
}

/// The settings of a new cluster of the test's own, in a kept temporary folder under /tmp (the
/// `postgres` OS user, which runs the server when the tests run as root, must get in), listening
/// on a free port of 127.0.0.1: (the folder, the port, the settings).
pub fn own_tcp_cluster(
    prefix: &str,
) -> (std::path::PathBuf, u16, ifind::db::cluster::ClusterSettings) {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in("/tmp")
        .expect("temp dir")
        .keep();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let mut settings = ifind::db::cluster::ClusterSettings::new(dir.join("pg"));
    settings.fallback_dir = dir.join("fallback");
    settings.listen_tcp = Some(port);
    (dir, port, settings)
}
