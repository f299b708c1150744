//! Detail-pane loads per second: `ifind::db::interactions::get` by key at 1, 8 and 32 concurrent
//! clients, against `pgbench` running the same select by key.
//!
//! Both sides pick ids uniformly from the table's id range (the seed's ids are dense). The app
//! knows each row's site (the Finder always does) and selects by the full key
//! `(interaction_id, site_id)`; pgbench has no way to look the site up without a second
//! statement, so it selects by `interaction_id` alone. Both are one probe of the primary key
//! `(interaction_id, site_id)`. Two app variants: `get` on a pooled connection (one round trip),
//! and `get` inside the app's unit of work (`Db::begin_as`: BEGIN, set the acting user, select,
//! COMMIT). pgbench uses prepared statements (`-M prepared`), as sqlx does.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use ifind::db::DbOptions;
use ifind::domain::interaction::INTERACTION_COLUMNS;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::setup::Env;

/// One measured level.
#[derive(Clone, Debug)]
pub struct Level {
    pub clients: usize,
    /// Loads per second: app `get` on a pooled connection.
    pub app_plain: f64,
    /// Loads per second: app `get` in a `begin_as` transaction.
    pub app_tx: f64,
    /// Transactions (one select each) per second reported by pgbench.
    pub pgbench: f64,
}

/// Ids and their sites, indexed by `id - first`.
struct Keys {
    first: i32,
    sites: Vec<i32>,
}

async fn keys(env: &Env) -> Result<Keys> {
    let (first, last): (i32, i32) =
        sqlx::query_as("SELECT min(interaction_id), max(interaction_id) FROM interactions")
            .fetch_one(&env.db.pool)
            .await?;
    let rows: Vec<(i32, i32)> = sqlx::query_as("SELECT interaction_id, site_id FROM interactions")
        .fetch_all(&env.db.pool)
        .await?;
    let mut sites = vec![0; (last - first + 1) as usize];
    for (id, site) in rows {
        sites[(id - first) as usize] = site;
    }
    Ok(Keys { first, sites })
}

async fn app_rate(
    env: &Env,
    keys: &Arc<Keys>,
    clients: usize,
    loads: usize,
    tx: bool,
) -> Result<f64> {
    let cfg = DbOptions {
        min_connections: clients as u32,
        max_connections: clients as u32,
        auto_migrate: false,
        ..DbOptions::default()
    };
    let db = ifind::db::pool::connect(&env.url, &cfg).await?;
    // Open every connection before the clock starts (pgbench reports without connecting too).
    let mut held = Vec::new();
    for _ in 0..clients {
        held.push(db.pool.acquire().await?);
    }
    drop(held);
    let per_client = loads.div_ceil(clients);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (db, keys, user) = (db.clone(), Arc::clone(keys), env.user_id);
        tasks.push(tokio::spawn(async move {
            let mut rng = ChaCha8Rng::seed_from_u64(c as u64 + 1);
            let mut found = 0usize;
            for _ in 0..per_client {
                let i = rng.gen_range(0..keys.sites.len());
                let (id, site) = (keys.first + i as i32, keys.sites[i]);
                let row = if tx {
                    let mut t = db.begin_as(Some(user)).await?;
                    let row = ifind::db::interactions::get(&mut t, site, id).await?;
                    t.commit().await?;
                    row
                } else {
                    let mut conn = db.pool.acquire().await?;
                    ifind::db::interactions::get(&mut conn, site, id).await?
                };
                found += usize::from(row.is_some());
            }
            Ok::<usize, sqlx::Error>(found)
        }));
    }
    for t in tasks {
        t.await.context("a detail client stopped")??;
    }
    let secs = started.elapsed().as_secs_f64();
    db.pool.close().await;
    Ok((per_client * clients) as f64 / secs)
}

async fn pgbench_rate(
    env: &Env,
    pgbench: &Path,
    keys: &Keys,
    clients: usize,
    loads: usize,
) -> Result<f64> {
    let dir = tempfile::tempdir()?;
    let script = dir.path().join("detail.sql");
    let last = keys.first + keys.sites.len() as i32 - 1;
    std::fs::write(
        &script,
        format!(
            "\\set id random({}, {last})\n\
             SELECT {INTERACTION_COLUMNS} FROM interactions \
             WHERE interaction_id = :id AND deleted_at IS NULL;\n",
            keys.first
        ),
    )?;
    let per_client = loads.div_ceil(clients);
    let out = tokio::process::Command::new(pgbench)
        .args(["-n", "-M", "prepared", "-c"])
        .arg(clients.to_string())
        .arg("-j")
        .arg(clients.min(2).to_string())
        .arg("-t")
        .arg(per_client.to_string())
        .arg("-f")
        .arg(&script)
        .arg(&env.url)
        .output()
        .await
        .with_context(|| format!("cannot run {}", pgbench.display()))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        bail!(
            "pgbench failed: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("tps = "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .with_context(|| format!("no tps in pgbench's output: {stdout}"))
}

/// Measures every level in `clients` with `loads` loads per side and level.
pub async fn compare(
    env: &Env,
    pg_bin: &Path,
    clients: &[usize],
    loads: usize,
) -> Result<Vec<Level>> {
    let keys = Arc::new(keys(env).await?);
    let mut out = Vec::new();
    for &c in clients {
        let pgbench = pgbench_rate(env, &pg_bin.join("pgbench"), &keys, c, loads).await?;
        let app_plain = app_rate(env, &keys, c, loads, false).await?;
        let app_tx = app_rate(env, &keys, c, loads, true).await?;
        eprintln!(
            "  {c} clients: app {app_plain:.0}/s, app in a transaction {app_tx:.0}/s, \
             pgbench {pgbench:.0}/s"
        );
        out.push(Level {
            clients: c,
            app_plain,
            app_tx,
            pgbench,
        });
    }
    Ok(out)
}
