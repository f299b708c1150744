//! `ifind seed`: deterministic, realistic demo and benchmark data at any scale.
//!
//! The same options on an empty database give the same rows (apart from the one password hash,
//! whose password is random on purpose): sites with a home timezone and Zipf-skewed sizes, a
//! handful of users per site with roles, and interactions whose text draws on a large English
//! vocabulary with a natural word-frequency skew. Dates are relative to the first day of the
//! current month (UTC), so the data covers the last three years and the next few months.
//!
//! Loading: sites, users and roles go in with one transaction, then the interactions with COPY
//! on two connections at once (the stored tsvector is computed by the inserting backend, so
//! two backends use two cores) while a thread generates the rows; both COPY transactions commit
//! only when all rows are in. Rows carry explicit ids from a reserved range, so the result does
//! not depend on which connection took which chunk. When the interactions table starts empty,
//! its secondary indexes are dropped first and re-created from `SECONDARY_INDEXES` afterwards,
//! far faster than maintaining them row by row. If a run is killed in between, the next run
//! (or anyone calling [`restore_indexes`]) re-creates the missing ones; a run that fails
//! removes what it had committed.

mod lists;
mod load;
mod plan;
mod rows;
mod text;

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::{DateTime, Datelike, TimeZone, Utc};
use sqlx::PgConnection;

use crate::db::Db;
pub use load::{SECONDARY_INDEXES, restore_indexes};
use plan::Plan;
use rows::Ids;

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedOptions {
    /// Number of sites (at least one).
    pub sites: u32,
    /// Number of interactions, spread over the sites with a Zipf-like skew.
    pub interactions: u64,
    /// The random seed: the same seed gives the same data.
    pub seed: u64,
}

/// What was generated.
#[derive(Debug, Clone)]
pub struct SeedReport {
    /// Every created site: id, name and number of interactions, in id order.
    pub sites: Vec<(i32, String, u64)>,
    /// Number of created users.
    pub users: u32,
    /// Number of created interactions.
    pub interactions: u64,
    /// Wall time of the whole run.
    pub elapsed: Duration,
}

/// Most sites one run makes.
pub const MAX_SITES: u32 = 100_000;

/// The numbers of sites and interactions `opts` asks for are within what one run makes.
fn check_options(opts: &SeedOptions) -> anyhow::Result<()> {
    if opts.sites == 0 || opts.sites > MAX_SITES {
        bail!(
            "--sites must be between 1 and {MAX_SITES}; got {}.",
            opts.sites
        );
    }
    if opts.interactions > i32::MAX as u64 / 2 {
        bail!(
            "--interactions must be at most {}; got {}.",
            i32::MAX / 2,
            opts.interactions
        );
    }
    Ok(())
}

/// Generates and loads the data of `opts`, calling `progress(done, total)` with interaction rows
/// after every chunk sent to the server.
pub async fn seed(
    db: &Db,
    opts: &SeedOptions,
    progress: &(dyn Fn(u64, u64) + Send + Sync),
) -> anyhow::Result<SeedReport> {
    let started = Instant::now();
    check_options(opts)?;
    // Indexes an interrupted earlier seed may have left dropped.
    load::restore_indexes(db).await?;
    let anchor = month_start(Utc::now());
    let mut conn = db
        .pool
        .acquire()
        .await
        .context("cannot connect to the database")?;
    let taken = taken_user_names(&mut conn).await?;
    drop(conn);
    let (seed, sites, total) = (opts.seed, opts.sites, opts.interactions);
    let plan = tokio::task::spawn_blocking(move || Plan::build(seed, sites, total, anchor, &taken))
        .await
        .context("the seed planner stopped unexpectedly")?;
    let password_hash = tokio::task::spawn_blocking(locked_password_hash)
        .await
        .context("the password hasher stopped unexpectedly")??;

    // Sites, users and roles first: the loaders' foreign keys need them committed.
    let mut tx = db.begin_as(None).await?;
    check_site_names(&mut tx, &plan).await?;
    let site_ids = insert_sites(&mut tx, &plan).await?;
    let user_ids = insert_users(&mut tx, &plan, &password_hash).await?;
    insert_mappings(&mut tx, &plan, &site_ids, &user_ids).await?;
    let first_interaction = reserve_ids(&mut tx, total).await?;
    // From the COMMIT on (its answer may be lost although it was made), a failure removes
    // whatever of this seed is in the database.
    let ids = Ids {
        first_interaction,
        sites: site_ids.clone(),
        users: user_ids.clone(),
    };
    let loaded = match tx.commit().await {
        Ok(()) => load_interactions(db, plan.clone(), ids, progress).await,
        Err(e) => Err(e.into()),
    };
    if let Err(e) = loaded {
        return Err(removed_after(db, e, &site_ids, &user_ids).await);
    }
    analyze(db).await;

    Ok(SeedReport {
        sites: site_ids
            .iter()
            .zip(&plan.sites)
            .map(|(&id, s)| (id, s.name.clone(), s.rows))
            .collect(),
        users: plan.users.len() as u32,
        interactions: total,
        elapsed: started.elapsed(),
    })
}

/// Why a seed stopped after its sites may have been committed, and whether what it made is
/// gone again.
#[derive(Debug, thiserror::Error)]
pub enum SeedStopped {
    /// Everything it made was removed again: nothing was seeded (the cause is the source).
    #[error("seeding stopped, and what it had made was removed again: nothing was seeded")]
    Removed,
    /// What it made could not be removed.
    #[error(
        "seeding stopped ({cause}), and removing what it had made failed too ({cleanup}): its \
         sites may be in the database; `ifind site list` shows them and `ifind site delete NAME \
         --with-interactions` removes one"
    )]
    NotRemoved { cause: String, cleanup: String },
}

/// The seed failed with `e` after its sites may have been committed: removes what of it is in
/// the database (waiting for the server if the connection was lost), and says so.
async fn removed_after(
    db: &Db,
    e: anyhow::Error,
    site_ids: &[i32],
    user_ids: &[i32],
) -> anyhow::Error {
    let settled =
        crate::db::faults::wait_until_settled(db, std::time::Duration::from_secs(60)).await;
    let cleanup = if settled {
        remove(db, site_ids, user_ids).await
    } else {
        Err(anyhow::anyhow!(
            "the database did not answer again within 60 s"
        ))
    };
    match cleanup {
        Ok(()) => e.context(SeedStopped::Removed),
        Err(cleanup) => anyhow::Error::new(SeedStopped::NotRemoved {
            cause: format!("{e:#}"),
            cleanup: format!("{cleanup:#}"),
        }),
    }
}

/// VACUUM also sets the visibility map, so counts by site are index-only scans at once. The
/// rows are in either way: a failure here (the connection lost) is only logged.
async fn analyze(db: &Db) {
    // (VACUUM cannot share a multi-statement string, so it goes alone.)
    for sql in [
        "VACUUM (ANALYZE) interactions",
        "ANALYZE sites; ANALYZE users; ANALYZE user_site_mapping",
    ] {
        if let Err(e) = sqlx::raw_sql(sql).execute(&db.pool).await {
            tracing::warn!("after seeding, {sql} failed: {e}; autovacuum will catch up");
        }
    }
}

/// Loads the rows, without the secondary indexes when the table starts empty, and makes sure
/// the indexes exist again afterwards, whatever happened.
async fn load_interactions(
    db: &Db,
    plan: Plan,
    ids: Ids,
    progress: &(dyn Fn(u64, u64) + Send + Sync),
) -> anyhow::Result<()> {
    let timing = Instant::now();
    let dropped = plan.total_rows >= BULK_ROWS && load::drop_indexes_if_empty(db).await?;
    let copied = load::copy_interactions(db, plan, ids, progress).await;
    tracing::debug!(?dropped, elapsed = ?timing.elapsed(), "seed rows copied");
    let restored = load::restore_indexes(db).await;
    tracing::debug!(elapsed = ?timing.elapsed(), "seed indexes ready");
    copied?;
    restored?;
    Ok(())
}

/// Loads of at least this many rows into an empty table drop and re-create the indexes.
const BULK_ROWS: u64 = 10_000;

/// Deletes what a failed seed committed: its interactions, roles, users and sites.
async fn remove(db: &Db, site_ids: &[i32], user_ids: &[i32]) -> anyhow::Result<()> {
    let mut tx = db.begin_as(None).await?;
    sqlx::query("DELETE FROM interactions WHERE site_id = ANY($1)")
        .bind(site_ids)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM user_site_mapping WHERE site_id = ANY($1) OR user_id = ANY($2)")
        .bind(site_ids)
        .bind(user_ids)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM users WHERE user_id = ANY($1)")
        .bind(user_ids)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM sites WHERE site_id = ANY($1)")
        .bind(site_ids)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// The first instant of the month of `now`, in UTC.
fn month_start(now: DateTime<Utc>) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(now.year(), now.month(), 1, 0, 0, 0)
        .single()
        .unwrap_or(now)
}

async fn taken_user_names(conn: &mut PgConnection) -> anyhow::Result<HashSet<String>> {
    let rows: Vec<String> = sqlx::query_scalar(
        "SELECT lower(username) FROM users UNION ALL SELECT lower(email) FROM users",
    )
    .fetch_all(&mut *conn)
    .await
    .context("cannot read the existing users")?;
    Ok(rows.into_iter().collect())
}

async fn check_site_names(conn: &mut PgConnection, plan: &Plan) -> anyhow::Result<()> {
    let names: Vec<String> = plan.sites.iter().map(|s| s.name.clone()).collect();
    let existing: Vec<String> =
        sqlx::query_scalar("SELECT name FROM sites WHERE name = ANY($1) ORDER BY name")
            .bind(&names)
            .fetch_all(&mut *conn)
            .await?;
    if let Some(first) = existing.first() {
        let what = match existing.len() {
            1 => format!("Site \"{first}\" already exists"),
            n => format!("Sites \"{first}\" and {} more already exist", n - 1),
        };
        bail!(
            "{what}, so this seed's data is (partly) loaded already. Use another --seed, seed \
             an empty database, or delete what an interrupted seed left: `ifind site delete \
             NAME --with-interactions` for each of its sites."
        );
    }
    Ok(())
}

/// An Argon2id hash of a random, discarded password: seeded users cannot log in until an admin
/// sets their password.
fn locked_password_hash() -> anyhow::Result<String> {
    use argon2::password_hash::rand_core::{OsRng, RngCore};
    use argon2::password_hash::{PasswordHasher, SaltString};
    use argon2::{Algorithm, Argon2, Params, Version};
    let params = Params::new(19_456, 2, 1, None)
        .map_err(|e| anyhow::anyhow!("bad Argon2 parameters: {e}"))?;
    let mut secret = [0u8; 32];
    OsRng.fill_bytes(&mut secret);
    let salt = SaltString::generate(&mut OsRng);
    let hash = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password(&secret, &salt)
        .map_err(|e| anyhow::anyhow!("cannot hash the seed users' password: {e}"))?;
    Ok(hash.to_string())
}

async fn insert_sites(conn: &mut PgConnection, plan: &Plan) -> anyhow::Result<Vec<i32>> {
    let names: Vec<String> = plan.sites.iter().map(|s| s.name.clone()).collect();
    let descriptions: Vec<String> = plan.sites.iter().map(|s| s.description.clone()).collect();
    sqlx::query(
        "INSERT INTO sites (name, description) \
         SELECT n, d FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS t(n, d, i) ORDER BY i",
    )
    .bind(&names)
    .bind(&descriptions)
    .execute(&mut *conn)
    .await
    .context("cannot create the seed sites")?;
    ids_in_order(
        conn,
        "SELECT name, site_id FROM sites WHERE name = ANY($1)",
        &names,
        "a created site is missing",
    )
    .await
}

/// The ids that `sql` (name, id for the names in $1) gives, in the order of `names`.
async fn ids_in_order(
    conn: &mut PgConnection,
    sql: &'static str,
    names: &[String],
    missing: &'static str,
) -> anyhow::Result<Vec<i32>> {
    let rows: Vec<(String, i32)> = sqlx::query_as(sql)
        .bind(names)
        .fetch_all(&mut *conn)
        .await?;
    let by_name: HashMap<String, i32> = rows.into_iter().collect();
    names
        .iter()
        .map(|n| by_name.get(n).copied().context(missing))
        .collect()
}

async fn insert_users(
    conn: &mut PgConnection,
    plan: &Plan,
    hash: &str,
) -> anyhow::Result<Vec<i32>> {
    let names: Vec<String> = plan.users.iter().map(|u| u.username.clone()).collect();
    let emails: Vec<String> = plan.users.iter().map(|u| u.email.clone()).collect();
    let created: Vec<DateTime<Utc>> = plan.users.iter().map(|u| u.created_at).collect();
    sqlx::query(
        "INSERT INTO users (username, password_hash, email, created_at) \
         SELECT n, $4, e, c FROM unnest($1::text[], $2::text[], $3::timestamptz[]) \
         WITH ORDINALITY AS t(n, e, c, i) ORDER BY i",
    )
    .bind(&names)
    .bind(&emails)
    .bind(&created)
    .bind(hash)
    .execute(&mut *conn)
    .await
    .context("cannot create the seed users")?;
    ids_in_order(
        conn,
        "SELECT username, user_id FROM users WHERE username = ANY($1)",
        &names,
        "a created user is missing",
    )
    .await
}

async fn insert_mappings(
    conn: &mut PgConnection,
    plan: &Plan,
    site_ids: &[i32],
    user_ids: &[i32],
) -> anyhow::Result<()> {
    let users: Vec<i32> = plan.mappings.iter().map(|m| user_ids[m.user]).collect();
    let sites: Vec<i32> = plan.mappings.iter().map(|m| site_ids[m.site]).collect();
    let roles: Vec<String> = plan.mappings.iter().map(|m| m.role.to_string()).collect();
    let at: Vec<DateTime<Utc>> = plan.mappings.iter().map(|m| m.assigned_at).collect();
    sqlx::query(
        "INSERT INTO user_site_mapping (user_id, site_id, role, assigned_at) \
         SELECT u, s, r, a FROM unnest($1::int[], $2::int[], $3::text[], $4::timestamptz[]) \
         WITH ORDINALITY AS t(u, s, r, a, i) ORDER BY i",
    )
    .bind(&users)
    .bind(&sites)
    .bind(&roles)
    .bind(&at)
    .execute(&mut *conn)
    .await
    .context("cannot create the seed users' roles")?;
    Ok(())
}

/// Reserves `n` consecutive interaction ids and returns the first. The lock (held until the
/// transaction ends) keeps concurrent inserts from taking ids out of the range meanwhile.
async fn reserve_ids(conn: &mut PgConnection, n: u64) -> anyhow::Result<i64> {
    sqlx::query("LOCK TABLE interactions IN SHARE ROW EXCLUSIVE MODE")
        .execute(&mut *conn)
        .await?;
    let first: i64 = sqlx::query_scalar(
        "SELECT nextval(pg_get_serial_sequence('interactions', 'interaction_id'))",
    )
    .fetch_one(&mut *conn)
    .await?;
    if first + n as i64 - 1 > i64::from(i32::MAX) {
        bail!("The interaction ids would pass 2^31; seed fewer interactions.");
    }
    if n > 1 {
        sqlx::query("SELECT setval(pg_get_serial_sequence('interactions', 'interaction_id'), $1)")
            .bind(first + n as i64 - 1)
            .execute(&mut *conn)
            .await?;
    }
    Ok(first)
}
