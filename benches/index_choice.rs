//! Which full-text index serves site-scoped search best: a btree_gin `(site_id, search_vector)`
//! GIN (the schema's choice) or a plain GIN on `search_vector` next to the btree on `site_id`.
//!
//! `cargo bench --bench index_choice -- --url URL [--reps N]` (or `IFIND_BENCH_URL`), where URL is
//! a database filled by `ifind seed`. It runs the same literal SQL under both index designs in
//! one run and prints p50/p95 per query class. The schema's index is restored at the end.

use std::str::FromStr;
use std::time::{Duration, Instant};

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, PgConnection, Row};

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn percentile(samples: &mut [Duration], p: f64) -> f64 {
    samples.sort();
    let idx = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[idx].as_secs_f64() * 1000.0
}

const NEWEST: &str = "SELECT interaction_id FROM interactions \
    WHERE site_id = $1 AND deleted_at IS NULL AND search_vector @@ to_tsquery('english', $2) \
    ORDER BY start_datetime DESC, interaction_id DESC LIMIT 50";
const RANKED: &str = "SELECT interaction_id FROM interactions \
    WHERE site_id = $1 AND deleted_at IS NULL AND search_vector @@ to_tsquery('english', $2) \
    ORDER BY ts_rank(search_vector, to_tsquery('english', $2)) DESC, start_datetime DESC, \
    interaction_id DESC LIMIT 50";
const COUNT: &str = "SELECT count(*) FROM (SELECT 1 FROM interactions \
    WHERE site_id = $1 AND deleted_at IS NULL AND search_vector @@ to_tsquery('english', $2) \
    LIMIT 1001) s";

async fn time_query(
    conn: &mut PgConnection,
    sql: &str,
    site: i32,
    q: &str,
    reps: usize,
) -> Vec<Duration> {
    let mut out = Vec::with_capacity(reps);
    for _ in 0..reps {
        let t = Instant::now();
        let rows = sqlx::query(sql)
            .bind(site)
            .bind(q)
            .fetch_all(&mut *conn)
            .await
            .expect("query");
        std::hint::black_box(rows.len());
        out.push(t.elapsed());
    }
    out
}

/// Words of the site's vectors by how many rows hold them, picked by frequency band.
async fn words(conn: &mut PgConnection, site: i32) -> Vec<(String, String)> {
    let rows = sqlx::query(
        "SELECT word, ndoc FROM ts_stat(format('SELECT search_vector FROM interactions \
         WHERE site_id = %s', $1::int)) WHERE length(word) > 3 ORDER BY ndoc DESC",
    )
    .bind(site)
    .fetch_all(&mut *conn)
    .await
    .expect("ts_stat");
    let stats: Vec<(String, i32)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    let pick = |lo: i32, hi: i32, n: usize| -> Vec<String> {
        stats
            .iter()
            .filter(|(_, d)| *d >= lo && *d <= hi)
            .step_by(7)
            .take(n)
            .map(|(w, _)| w.clone())
            .collect()
    };
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM interactions WHERE site_id = $1")
        .bind(site)
        .fetch_one(&mut *conn)
        .await
        .expect("count");
    let total = total as i32;
    let mut out = Vec::new();
    for w in pick(10, 60, 5) {
        out.push(("rare".to_string(), w));
    }
    for w in pick(200, 3000.max(total / 50), 5) {
        out.push(("medium".to_string(), w));
    }
    for w in pick(total / 6, total, 5) {
        out.push(("common".to_string(), w));
    }
    for w in stats
        .iter()
        .take(400)
        .step_by(80)
        .map(|(w, _)| w.chars().take(2).collect::<String>())
    {
        out.push(("prefix2".to_string(), format!("{w}:*")));
    }
    out
}

async fn run_mix(
    conn: &mut PgConnection,
    sites: &[(i32, &str)],
    mixes: &[Vec<(String, String)>],
    reps: usize,
) -> Vec<(String, f64, f64)> {
    let mut results = Vec::new();
    for ((site, label), mix) in sites.iter().zip(mixes) {
        for (shape, sql) in [("newest", NEWEST), ("ranked", RANKED), ("count", COUNT)] {
            for class in ["rare", "medium", "common", "prefix2"] {
                let mut samples = Vec::new();
                for (_, q) in mix.iter().filter(|(c, _)| c == class) {
                    samples.extend(time_query(conn, sql, *site, q, reps).await);
                }
                if samples.is_empty() {
                    continue;
                }
                let p50 = percentile(&mut samples, 0.5);
                let p95 = percentile(&mut samples, 0.95);
                results.push((format!("{label:8} {shape:7} {class:8}"), p50, p95));
            }
        }
    }
    results
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let url = arg("--url")
        .or_else(|| std::env::var("IFIND_BENCH_URL").ok())
        .expect("give --url or IFIND_BENCH_URL (a database seeded with `ifind seed`)");
    let reps: usize = arg("--reps").and_then(|r| r.parse().ok()).unwrap_or(5);
    let opts = PgConnectOptions::from_str(&url)
        .expect("url")
        .disable_statement_logging();
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(opts)
        .await
        .expect("connect");
    let mut conn = pool.acquire().await.expect("conn");
    sqlx::query("SET plan_cache_mode = force_custom_plan")
        .execute(&mut *conn)
        .await
        .expect("set");
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM interactions")
        .fetch_one(&mut *conn)
        .await
        .expect("count");
    let sites: Vec<(i32, i64)> = sqlx::query_as(
        "SELECT site_id, count(*) FROM interactions GROUP BY site_id ORDER BY count(*) DESC",
    )
    .fetch_all(&mut *conn)
    .await
    .expect("sites");
    let largest = sites[0];
    let typical = sites[sites.len() / 2];
    println!(
        "rows: {rows}; largest site {} ({} rows); typical site {} ({} rows); reps {reps}",
        largest.0, largest.1, typical.0, typical.1
    );
    let chosen = [(largest.0, "largest"), (typical.0, "typical")];
    let mixes = vec![
        words(&mut conn, largest.0).await,
        words(&mut conn, typical.0).await,
    ];

    println!("\n== A: btree_gin (site_id, search_vector) [schema]");
    let a = run_mix(&mut conn, &chosen, &mixes, reps).await;

    println!("== B: gin (search_vector) + btree (site_id) — building...");
    let t = Instant::now();
    sqlx::raw_sql("SET maintenance_work_mem = '512MB'; CREATE INDEX bench_ft_plain ON interactions USING gin (search_vector); DROP INDEX ftidx_interactions_text; ANALYZE interactions;")
        .execute(&mut *conn).await.expect("swap to B");
    println!("   built in {:.1} s", t.elapsed().as_secs_f64());
    let b = run_mix(&mut conn, &chosen, &mixes, reps).await;
    let t = Instant::now();
    sqlx::raw_sql("CREATE INDEX ftidx_interactions_text ON interactions USING gin (site_id, search_vector); DROP INDEX bench_ft_plain; ANALYZE interactions;")
        .execute(&mut *conn).await.expect("restore A");
    println!(
        "   schema index rebuilt in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let size_a: String =
        sqlx::query_scalar("SELECT pg_size_pretty(pg_relation_size('ftidx_interactions_text'))")
            .fetch_one(&mut *conn)
            .await
            .expect("size");
    println!("   size of the btree_gin index: {size_a}");

    println!(
        "\n{:28} {:>10} {:>10}   {:>10} {:>10}   {:>6}",
        "site    shape   class", "A p50 ms", "A p95 ms", "B p50 ms", "B p95 ms", "B/A"
    );
    for ((name, a50, a95), (_, b50, b95)) in a.iter().zip(&b) {
        println!(
            "{name:28} {a50:>10.2} {a95:>10.2}   {b50:>10.2} {b95:>10.2}   {:>6.2}",
            b50 / a50.max(1e-6)
        );
    }
}
