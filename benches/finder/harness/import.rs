//! `ifind import` against `psql \copy` of the same file.
//!
//! The file is written with the app's exporter (`ifind::csvio::Exporter`) from the largest
//! site's rows. Each run loads it into a fresh site of the benchmark database (so the table and
//! its indexes have their full size), timed as a whole process from start to exit:
//! - `ifind import FILE --site S` (the real binary: parse and validate every row, then one COPY
//!   in one transaction);
//! - `psql -f script`: in one transaction, `\copy` of the same CSV into a temporary table, then
//!   one `INSERT ... SELECT` that turns the wall-clock times in each row's timezone into
//!   instants (what a hand-written load of this file has to do; the file is not in the table's
//!   column layout).
//!
//! Both write through the same table triggers (the audit log) and indexes. The sites and rows
//! are removed afterwards.

use std::io::BufWriter;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use ifind::csvio::{ExportFormat, Exporter};
use ifind::domain::interaction::{INTERACTION_COLUMNS, Interaction};

use super::setup::{self, Env, IMPORT_SITE_PREFIX};

/// One load of the file.
#[derive(Clone, Debug)]
pub struct Load {
    /// "ifind import" or "psql \copy".
    pub tool: &'static str,
    pub rows: u64,
    /// The whole process, start to exit.
    pub wall: Duration,
    /// The rate `ifind import` printed (its COPY transaction only).
    pub reported: Option<f64>,
}

impl Load {
    pub fn rate(&self) -> f64 {
        self.rows as f64 / self.wall.as_secs_f64().max(1e-9)
    }
}

/// Writes `rows` rows of the largest site to `path` with the exporter; returns how many.
async fn write_file(env: &Env, path: &Path, rows: i64) -> Result<u64> {
    let sql = format!(
        "SELECT {INTERACTION_COLUMNS} FROM interactions WHERE site_id = $1 \
         AND deleted_at IS NULL ORDER BY interaction_id LIMIT $2"
    );
    let items: Vec<Interaction> = sqlx::query_as(&sql)
        .bind(env.largest().id)
        .bind(rows)
        .fetch_all(&env.db.pool)
        .await?;
    let file =
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut exporter = Exporter::new(BufWriter::new(file), ExportFormat::Csv)?;
    for i in &items {
        exporter.write(i)?;
    }
    let n = exporter.rows();
    exporter.finish()?;
    Ok(n)
}

async fn new_site(env: &Env, name: &str) -> Result<i32> {
    let mut tx = env.db.begin_as(Some(env.user_id)).await?;
    let site = ifind::db::sites::insert(&mut tx, name, Some("benchmark import")).await?;
    tx.commit().await?;
    Ok(site.site_id)
}

async fn count(env: &Env, site: i32) -> Result<u64> {
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM interactions WHERE site_id = $1")
        .bind(site)
        .fetch_one(&env.db.pool)
        .await?;
    Ok(n as u64)
}

/// The rate in "imported N interactions into S in T s (R rows/s)".
fn reported_rate(stdout: &str) -> Option<f64> {
    let open = stdout.rfind('(')?;
    let close = stdout[open..].find(" rows/s")? + open;
    stdout[open + 1..close].replace(',', "").trim().parse().ok()
}

async fn ifind_import(env: &Env, bin: &Path, home: &Path, file: &Path, site: &str) -> Result<Load> {
    let started = Instant::now();
    // As the owner (the URL's user), whose load the raw COPY it is compared with also is.
    let out = tokio::process::Command::new(bin)
        .arg("import")
        .arg(file)
        .arg("--site")
        .arg(site)
        .env("IFIND_DATABASE_URL", &env.url)
        .env_remove("DATABASE_URL")
        .env_remove("IFIND_USER")
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env("XDG_DATA_HOME", home.join("data"))
        .output()
        .await
        .with_context(|| format!("cannot run {}", bin.display()))?;
    let wall = started.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        bail!(
            "ifind import failed: {}{}",
            stdout,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(Load {
        tool: "ifind import",
        rows: 0,
        wall,
        reported: reported_rate(&stdout),
    })
}

async fn psql_copy(env: &Env, psql: &Path, dir: &Path, file: &Path, site: i32) -> Result<Load> {
    // The file name is the benchmark's own temporary path, not input.
    let script = format!(
        "\\set ON_ERROR_STOP 1\n\
         BEGIN;\n\
         SELECT set_config('ifind.user_id', :'uid', true);\n\
         CREATE TEMP TABLE stage (title text, type text, lead text, start text, \"end\" text, \
           timezone text, location text, description text, notes text, interaction_id text, \
           created_by text, created_at text, updated_by text, updated_at text, version text) \
           ON COMMIT DROP;\n\
         \\copy stage FROM '{}' WITH (FORMAT csv, HEADER true)\n\
         INSERT INTO interactions (site_id, title, type, lead, start_datetime, end_datetime, \
           timezone, location, description, notes, created_by) \
         SELECT :site, title, type, lead, \
           CASE WHEN start ~ ' [+-]\\d\\d:\\d\\d$' THEN start::timestamptz \
                ELSE start::timestamp AT TIME ZONE timezone END, \
           CASE WHEN \"end\" ~ ' [+-]\\d\\d:\\d\\d$' THEN \"end\"::timestamptz \
                ELSE \"end\"::timestamp AT TIME ZONE timezone END, \
           timezone, nullif(location, ''), nullif(description, ''), nullif(notes, ''), :uid \
         FROM stage;\n\
         COMMIT;\n",
        file.display()
    );
    let path = dir.join("copy.sql");
    std::fs::write(&path, script)?;
    let started = Instant::now();
    let out = tokio::process::Command::new(psql)
        .arg("-X")
        .arg("-q")
        .arg("-v")
        .arg(format!("site={site}"))
        .arg("-v")
        .arg(format!("uid={}", env.user_id))
        .arg("-f")
        .arg(&path)
        .arg(&env.url)
        .output()
        .await
        .with_context(|| format!("cannot run {}", psql.display()))?;
    let wall = started.elapsed();
    if !out.status.success() {
        bail!(
            "psql \\copy failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(Load {
        tool: "psql \\copy",
        rows: 0,
        wall,
        reported: None,
    })
}

/// Loads a file of `rows` rows `reps` times with each tool, alternating which goes first.
pub async fn compare(
    env: &Env,
    bin: &Path,
    pg_bin: &Path,
    rows: i64,
    reps: usize,
) -> Result<Vec<Load>> {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("interactions.csv");
    let written = write_file(env, &file, rows).await?;
    let mut loads = Vec::new();
    let result = async {
        for rep in 0..reps.max(1) {
            for k in 0..2 {
                let psql_turn = (rep + k) % 2 == 1;
                let name = format!(
                    "{IMPORT_SITE_PREFIX} {} {rep} {}",
                    std::process::id(),
                    if psql_turn { "psql" } else { "ifind" }
                );
                let site = new_site(env, &name).await?;
                let mut load = if psql_turn {
                    psql_copy(env, &pg_bin.join("psql"), dir.path(), &file, site).await?
                } else {
                    ifind_import(env, bin, dir.path(), &file, &name).await?
                };
                load.rows = count(env, site).await?;
                if load.rows != written {
                    bail!("{} loaded {} rows of {written}", load.tool, load.rows);
                }
                eprintln!(
                    "  {}: {} rows in {:.2} s ({:.0} rows/s)",
                    load.tool,
                    load.rows,
                    load.wall.as_secs_f64(),
                    load.rate()
                );
                loads.push(load);
            }
        }
        Ok(())
    }
    .await;
    let mut conn = setup::connect(&env.url).await?;
    setup::remove_import_sites(&mut conn).await?;
    result.map(|()| loads)
}
