//! Bulk loading: COPY on parallel connections, and the secondary indexes of `interactions`,
//! which are dropped for a load into an empty table and re-created afterwards.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, bail};
use sqlx::{PgConnection, Postgres, Transaction};
use tokio::sync::{Mutex, mpsc};

use super::plan::Plan;
use super::rows::{self, Ids};
use super::text::Vocabulary;
use crate::db::Db;

/// The secondary indexes of `interactions` as the migrations create them (normalised the way
/// `pg_get_indexdef` prints them). A test checks this list against the migrated schema, so a
/// migration that changes these indexes must change this list too.
pub const SECONDARY_INDEXES: &[(&str, &str)] = &[
    (
        "ftidx_interactions_heading",
        "CREATE INDEX ftidx_interactions_heading ON interactions USING gin (site_id, \
         ((setweight(to_tsvector('english'::regconfig, (COALESCE(title, ''::character varying))::text), 'A'::\"char\") || \
         setweight(to_tsvector('english'::regconfig, (((((COALESCE(lead, ''::character varying))::text || ' '::text) || \
         (COALESCE(type, ''::character varying))::text) || ' '::text) || (COALESCE(location, ''::character varying))::text)), 'B'::\"char\"))))",
    ),
    (
        "ftidx_interactions_text",
        "CREATE INDEX ftidx_interactions_text ON interactions USING gin (site_id, search_vector)",
    ),
    (
        "idx_interactions_dates",
        "CREATE INDEX idx_interactions_dates ON interactions USING btree (site_id, start_datetime, end_datetime)",
    ),
    (
        "idx_interactions_deleted",
        "CREATE INDEX idx_interactions_deleted ON interactions USING btree (site_id, deleted_at) WHERE (deleted_at IS NOT NULL)",
    ),
    (
        "idx_interactions_lead",
        "CREATE INDEX idx_interactions_lead ON interactions USING btree (site_id, lead)",
    ),
    (
        "idx_interactions_lead_trgm",
        "CREATE INDEX idx_interactions_lead_trgm ON interactions USING gin (site_id, lead gin_trgm_ops)",
    ),
    (
        "idx_interactions_site",
        "CREATE INDEX idx_interactions_site ON interactions USING btree (site_id)",
    ),
    (
        "idx_interactions_site_live",
        "CREATE INDEX idx_interactions_site_live ON interactions USING btree (site_id) WHERE (deleted_at IS NULL)",
    ),
    (
        "idx_interactions_title",
        "CREATE INDEX idx_interactions_title ON interactions USING btree (site_id, title)",
    ),
    (
        "idx_interactions_title_trgm",
        "CREATE INDEX idx_interactions_title_trgm ON interactions USING gin (site_id, title gin_trgm_ops)",
    ),
    (
        "idx_interactions_type",
        "CREATE INDEX idx_interactions_type ON interactions USING btree (site_id, type)",
    ),
    (
        "idx_interactions_type_ci",
        "CREATE INDEX idx_interactions_type_ci ON interactions USING btree (site_id, lower((type)::text), start_datetime) WHERE (deleted_at IS NULL)",
    ),
];

/// Connections that COPY at the same time: the stored tsvector is computed by the backend that
/// inserts, so two backends use both cores of a small machine.
const LOADERS: usize = 2;

/// The names of the secondary indexes that are missing.
async fn missing_indexes(conn: &mut PgConnection) -> anyhow::Result<Vec<&'static str>> {
    let names: Vec<&str> = SECONDARY_INDEXES.iter().map(|i| i.0).collect();
    let present: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_class c \
         WHERE c.relkind = 'i' AND c.relname = ANY($1) \
           AND c.relnamespace = (SELECT relnamespace FROM pg_class WHERE oid = 'interactions'::regclass)",
    )
    .bind(&names)
    .fetch_all(&mut *conn)
    .await
    .context("cannot read the indexes of interactions")?;
    Ok(names
        .into_iter()
        .filter(|n| !present.iter().any(|p| p == n))
        .collect())
}

/// Re-creates any secondary index of `interactions` that is missing, such as after a seed that
/// was killed while loading into an empty table. Returns the names it re-created. Runs the
/// builds on up to two connections at once.
pub async fn restore_indexes(db: &Db) -> anyhow::Result<Vec<&'static str>> {
    let mut conn = db.pool.acquire().await?;
    let missing = missing_indexes(&mut conn).await?;
    drop(conn);
    if missing.is_empty() {
        return Ok(missing);
    }
    // Largest first, each to the builder with less work so far.
    let cost = |name: &str| match name {
        "ftidx_interactions_text" => 10,
        "ftidx_interactions_heading" => 5,
        "idx_interactions_title_trgm" => 4,
        "idx_interactions_lead_trgm" => 2,
        _ => 1,
    };
    let mut sorted = missing.clone();
    sorted.sort_by_key(|n| std::cmp::Reverse(cost(n)));
    let mut lanes: [Vec<&'static str>; 2] = [Vec::new(), Vec::new()];
    let mut work = [0, 0];
    for name in sorted {
        let lane = if work[0] <= work[1] { 0 } else { 1 };
        work[lane] += cost(name);
        lanes[lane].push(name);
    }
    let build = |names: Vec<&'static str>| async move {
        if names.is_empty() {
            return anyhow::Ok(());
        }
        let mut tx = db.begin_as(None).await?;
        sqlx::query("SET LOCAL statement_timeout = 0")
            .execute(&mut *tx)
            .await?;
        // Made-up rows are nobody's change: the owner switches the audit trail off for them.
        sqlx::query("SELECT set_config('ifind.bulk_load', 'on', true)")
            .execute(&mut *tx)
            .await?;
        sqlx::query("SET LOCAL maintenance_work_mem = '512MB'")
            .execute(&mut *tx)
            .await?;
        for name in names {
            if let Some((_, definition)) = SECONDARY_INDEXES.iter().find(|i| i.0 == name) {
                // IF NOT EXISTS: another run may be restoring the same index.
                let definition =
                    definition.replacen("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1);
                sqlx::raw_sql(&definition)
                    .execute(&mut *tx)
                    .await
                    .with_context(|| format!("cannot re-create index {name}"))?;
            }
        }
        tx.commit().await?;
        Ok(())
    };
    let [a, b] = lanes;
    tokio::try_join!(build(a), build(b))?;
    Ok(missing)
}

/// Drops the secondary indexes of `interactions` if the table is empty, in a transaction of
/// its own, and returns whether it did. `restore_indexes` puts them back.
pub async fn drop_indexes_if_empty(db: &Db) -> anyhow::Result<bool> {
    let mut tx = db.begin_as(None).await?;
    // The lock keeps rows from arriving between the check and the drop.
    sqlx::query("LOCK TABLE interactions IN SHARE ROW EXCLUSIVE MODE")
        .execute(&mut *tx)
        .await?;
    let any: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM interactions)")
        .fetch_one(&mut *tx)
        .await?;
    if any {
        return Ok(false);
    }
    let missing = missing_indexes(&mut tx).await?;
    for (name, _) in SECONDARY_INDEXES {
        if missing.contains(name) {
            continue;
        }
        // A fixed name from the list above, never input.
        sqlx::raw_sql(&format!("DROP INDEX {name}"))
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// Generates the planned rows on a thread and COPYs them on parallel connections, each in its
/// own transaction; commits only when every connection has finished.
pub async fn copy_interactions(
    db: &Db,
    plan: Plan,
    ids: Ids,
    progress: &(dyn Fn(u64, u64) + Send + Sync),
) -> anyhow::Result<()> {
    let total = plan.total_rows;
    progress(0, total);
    if total == 0 {
        return Ok(());
    }
    let (sender, receiver) = mpsc::channel::<(Vec<u8>, u64)>(2 * LOADERS);
    let generator = std::thread::spawn(move || {
        let vocab = Vocabulary::load();
        for chunk in 0..plan.chunk_rows.len() {
            let mut buf = Vec::with_capacity(2 << 20);
            let n = rows::write_chunk(&plan, &vocab, &ids, chunk, &mut buf);
            if sender.blocking_send((buf, n)).is_err() {
                return;
            }
        }
    });
    let receiver = Arc::new(Mutex::new(receiver));
    let done = AtomicU64::new(0);
    let loaders = LOADERS.min(db.pool.options().get_max_connections().max(1) as usize);
    let mut txs = Vec::new();
    for _ in 0..loaders {
        let mut tx = db.begin_as(None).await?;
        sqlx::query("SET LOCAL statement_timeout = 0")
            .execute(&mut *tx)
            .await?;
        txs.push(tx);
    }
    let loads = txs
        .into_iter()
        .map(|tx| load_one(tx, Arc::clone(&receiver), &done, total, progress));
    // On an error, the other loaders stop and their transactions roll back as they drop.
    let results = futures::future::try_join_all(loads).await?;
    let mut txs = Vec::new();
    let mut written = 0;
    for (tx, n) in results {
        txs.push(tx);
        written += n;
    }
    if generator.join().is_err() || written != total {
        bail!("The row generator stopped after {written} of {total} rows.");
    }
    for tx in txs {
        tx.commit().await?;
    }
    Ok(())
}

type Chunks = Arc<Mutex<mpsc::Receiver<(Vec<u8>, u64)>>>;

/// One loader: COPYs chunks until there are no more and hands back its open transaction.
async fn load_one(
    mut tx: Transaction<'static, Postgres>,
    chunks: Chunks,
    done: &AtomicU64,
    total: u64,
    progress: &(dyn Fn(u64, u64) + Send + Sync),
) -> anyhow::Result<(Transaction<'static, Postgres>, u64)> {
    let statement = format!(
        "COPY interactions ({}) FROM STDIN WITH (FORMAT text)",
        rows::COPY_COLUMNS
    );
    let mut copy = tx.copy_in_raw(&statement).await?;
    loop {
        let next = chunks.lock().await.recv().await;
        let Some((buf, n)) = next else { break };
        copy.send(buf)
            .await
            .context("the server stopped accepting rows")?;
        let now = done.fetch_add(n, Ordering::Relaxed) + n;
        progress(now, total);
    }
    let written = copy.finish().await.context("the server refused the rows")?;
    Ok((tx, written))
}
