//! The benchmark's database: found or made, filled by `ifind seed`, with a user to act as.

use std::str::FromStr;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use ifind::config::{Config, Paths};
use ifind::db::Db;
use ifind::db::DbOptions;
use ifind::db::cluster::Cluster;
use ifind::seed::SeedOptions;
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, PgConnection};

/// The user the benchmark acts as (a global administrator; the TUI run logs in as it).
pub const BENCH_USER: &str = "ifind_bench";
/// Its password (a benchmark database holds only generated data).
pub const BENCH_PASSWORD: &str = "ifind bench password";
/// Sites the import section creates start with this (left-overs are removed at the start).
pub const IMPORT_SITE_PREFIX: &str = "ifind bench import";

/// One site of the benchmark data.
#[derive(Clone, Debug)]
pub struct Site {
    pub id: i32,
    pub name: String,
    pub rows: i64,
}

/// A ready benchmark database.
#[derive(Clone)]
pub struct Env {
    /// A URL for the database (sqlx and libpq both read it).
    pub url: String,
    /// A pool opened exactly as the app opens one.
    pub db: Db,
    pub user_id: i32,
    /// Live interactions in the database.
    pub rows: i64,
    /// Every site with interactions, largest first.
    pub sites: Vec<Site>,
    /// How long seeding took when this run seeded (None when the data was already there).
    pub seeded_in: Option<std::time::Duration>,
}

impl Env {
    /// The largest site.
    pub fn largest(&self) -> &Site {
        &self.sites[0]
    }

    /// The median site by size.
    pub fn typical(&self) -> &Site {
        &self.sites[self.sites.len() / 2]
    }

    /// The site whose size is closest to `rows`.
    pub fn closest(&self, rows: i64) -> &Site {
        self.sites
            .iter()
            .min_by_key(|s| (s.rows - rows).abs())
            .unwrap_or(&self.sites[0])
    }
}

/// The URL of `database` in the embedded cluster the way `ifind` runs it (its config's
/// `embedded.*` keys), started if needed, the database created if missing.
pub async fn embedded_url(database: &str) -> Result<String> {
    let paths = Paths::platform();
    let config = Config::load(None, &paths).context("cannot read the ifind configuration")?;
    let cluster = Cluster::new(config.cluster_settings(&paths))?;
    cluster.ensure_running().await?;
    cluster.ensure_database(database).await?;
    Ok(cluster.url(database))
}

/// A plain connection (no pool, no statement logging) for the benchmark's own queries.
pub async fn connect(url: &str) -> Result<PgConnection> {
    let opts = PgConnectOptions::from_str(url)
        .with_context(|| format!("the benchmark URL {url} is not valid"))?
        .application_name("ifind bench")
        .disable_statement_logging();
    opts.connect()
        .await
        .with_context(|| format!("cannot connect to {url}; check that the server runs"))
}

/// Brings `url` to the current schema, seeds it with `rows` interactions over `sites` sites
/// unless it already holds exactly that many, and makes the benchmark user.
pub async fn prepare(url: &str, rows: u64, sites: u32, seed: u64) -> Result<Env> {
    let mut conn = connect(url).await?;
    ifind::db::migrate::run(&mut conn).await?;
    remove_import_sites(&mut conn).await?;
    let have: i64 = sqlx::query_scalar("SELECT count(*) FROM interactions")
        .fetch_one(&mut conn)
        .await?;
    let mut cfg = DbOptions {
        min_connections: 0,
        ..DbOptions::default()
    };
    cfg.auto_migrate = false;
    let db = ifind::db::pool::connect(url, &cfg).await?;
    let mut seeded_in = None;
    if have == 0 {
        let started = Instant::now();
        let opts = SeedOptions {
            sites,
            interactions: rows,
            seed,
        };
        let step = (rows / 10).max(1);
        let next = std::sync::atomic::AtomicU64::new(step);
        eprintln!("seeding {rows} interactions over {sites} sites (seed {seed})...");
        ifind::seed::seed(&db, &opts, &|done, total| {
            if done >= next.load(std::sync::atomic::Ordering::Relaxed) {
                next.fetch_add(step, std::sync::atomic::Ordering::Relaxed);
                eprintln!("  {done} of {total} rows sent");
            }
        })
        .await?;
        seeded_in = Some(started.elapsed());
        eprintln!("seeded in {:.1} s", started.elapsed().as_secs_f64());
    } else if have != rows as i64 {
        bail!(
            "the benchmark database holds {have} interactions, not {rows}; pass --rows {have}, \
             or drop the database to let the benchmark seed it again"
        );
    }
    let user_id = bench_user(&mut conn).await?;
    let live: i64 =
        sqlx::query_scalar("SELECT count(*) FROM interactions WHERE deleted_at IS NULL")
            .fetch_one(&mut conn)
            .await?;
    let sites: Vec<(i32, String, i64)> = sqlx::query_as(
        "SELECT s.site_id, s.name, count(*) FROM sites s \
         JOIN interactions i ON i.site_id = s.site_id AND i.deleted_at IS NULL \
         GROUP BY s.site_id, s.name ORDER BY count(*) DESC, s.site_id",
    )
    .fetch_all(&mut conn)
    .await?;
    if sites.is_empty() {
        bail!("the benchmark database has no interactions; drop it and run again");
    }
    conn.close().await.ok();
    Ok(Env {
        url: url.to_string(),
        db,
        user_id,
        rows: live,
        sites: sites
            .into_iter()
            .map(|(id, name, rows)| Site { id, name, rows })
            .collect(),
        seeded_in,
    })
}

/// The benchmark user's id, creating it (a global administrator) the first time.
async fn bench_user(conn: &mut PgConnection) -> Result<i32> {
    let mut tx = conn.begin().await?;
    ifind::db::pool::set_acting_user(&mut tx, None).await?;
    let u = match ifind::db::users::by_name(&mut tx, BENCH_USER).await? {
        Some(u) => u,
        None => ifind::db::users::add(&mut tx, BENCH_USER, "ifind-bench@example.org", true).await?,
    };
    // The TUI logs in as the user's own database role.
    ifind::db::logins::set_login(&mut tx, BENCH_USER, BENCH_PASSWORD).await?;
    tx.commit().await?;
    Ok(u.user_id)
}

/// Removes the sites (and their rows and audit entries) that the import section made, so that
/// the database holds only the seeded data again. Needs a superuser: it turns the triggers off
/// for this session to delete without writing (or being refused by) the append-only audit log.
pub async fn remove_import_sites(conn: &mut PgConnection) -> Result<()> {
    let ids: Vec<i32> = sqlx::query_scalar("SELECT site_id FROM sites WHERE name LIKE $1 || '%'")
        .bind(IMPORT_SITE_PREFIX)
        .fetch_all(&mut *conn)
        .await?;
    if ids.is_empty() {
        return Ok(());
    }
    let mut tx = conn.begin().await?;
    sqlx::query("SET LOCAL session_replication_role = replica")
        .execute(&mut *tx)
        .await
        .context("removing the import sites needs a superuser connection")?;
    for sql in [
        "DELETE FROM interactions WHERE site_id = ANY($1)",
        "DELETE FROM audit_log WHERE site_id = ANY($1)",
        "DELETE FROM user_site_mapping WHERE site_id = ANY($1)",
        "DELETE FROM sites WHERE site_id = ANY($1)",
    ] {
        sqlx::query(sql).bind(&ids).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    sqlx::raw_sql("VACUUM (ANALYZE) interactions")
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The machine, for the report: CPUs, memory, the server's version and settings, load.
pub async fn machine(url: &str) -> Result<String> {
    let mut conn = connect(url).await?;
    let version: String = sqlx::query_scalar("SHOW server_version")
        .fetch_one(&mut conn)
        .await?;
    let settings: Vec<(String, String)> = sqlx::query_as(
        "SELECT name, current_setting(name) FROM pg_settings WHERE name IN \
         ('shared_buffers', 'work_mem', 'effective_cache_size', 'random_page_cost', 'jit') \
         ORDER BY name",
    )
    .fetch_all(&mut conn)
    .await?;
    conn.close().await.ok();
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|l| l.trim_start_matches([' ', '\t', ':']).to_string())
        .unwrap_or_else(|| "unknown CPU".into());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_gib = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|l| l.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map(|kb| kb / 1024.0 / 1024.0)
        .unwrap_or(0.0);
    let settings = settings
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ");
    Ok(format!(
        "{model}, {cpus} CPUs (nproc), {mem_gib:.1} GiB RAM; PostgreSQL {version} ({settings}); \
         load average at start {}",
        load_average()
    ))
}

/// The 1-minute load average.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}
