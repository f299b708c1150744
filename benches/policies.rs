//! What the row-level security policies cost the Finder's site-scoped search: the same searches
//! (`ifind::db::search::search`, the Finder's own code, in a transaction that carries the acting
//! user) with the policies on (the application role `ifind_app`) and off (the owner, a superuser
//! or BYPASSRLS role, to which they do not apply), in one run, alternating on and off so that
//! both see the same machine load. Prints p50/p95 per query class and the ratio of the medians.
//!
//! `cargo bench --bench policies -- --url URL [--app-url URL] [--reps N] [--class NAME]` (or
//! `IFIND_BENCH_URL`),
//! where URL is the owner's URL of a database filled by `ifind seed`; the application role's URL
//! defaults to the same server and database as `ifind_app` (trusted local connections, as in the
//! embedded cluster). The bench lets `ifind_app` log in and adds a global administrator,
//! `ifind_bench_admin`, if there is none.
//!
//! Classes, on the largest and a typical site, each as the site's own viewer and as a global
//! administrator: `browse` (empty query, newest first), whole words picked from the site's own
//! `ts_stat` by how many rows hold them (`rare` 10-60, `medium` 200-3,000, `common` over 1/6 of
//! the site) by relevance and by newest, `prefix2` (two letters, as the first keystrokes give),
//! `lead:` with part of a lead's name (ILIKE, trigram index), and `typo` (a rare word with two
//! letters swapped: nothing matches, so the near-match fallback runs). First page of 50 with the
//! capped count, as the Finder asks. Per class: p50/p95 on and off, the ratio of the p50s, and
//! the median of the differences of the back-to-back pairs ("pair p50", in ms).

use std::str::FromStr;
use std::time::{Duration, Instant};

use ifind::db::Db;
use ifind::db::search::{SearchRequest, Sort, search};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, PgConnection};

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

async fn pool(opts: PgConnectOptions, connections: u32) -> Db {
    let pool = PgPoolOptions::new()
        .max_connections(connections)
        .connect_with(opts.disable_statement_logging())
        .await
        .expect("connect");
    Db { pool }
}

/// One Finder search as `user`: begin (setting the acting user), search, commit.
async fn time_search(db: &Db, user: i32, req: &SearchRequest) -> (Duration, usize) {
    let started = Instant::now();
    let mut tx = db.begin_as(Some(user)).await.expect("begin");
    let page = search(&mut tx, req).await.expect("search");
    tx.commit().await.expect("commit");
    (started.elapsed(), page.hits.len())
}

/// Query lines of each class for `site`.
async fn classes(conn: &mut PgConnection, site: i32) -> Vec<(&'static str, Sort, String)> {
    let stats: Vec<(String, i32)> = sqlx::query_as(
        "SELECT word, ndoc FROM ts_stat(format('SELECT search_vector FROM interactions \
         WHERE site_id = %s', $1::int)) \
         WHERE length(word) > 3 AND word ~ '^[a-z]+$' ORDER BY ndoc DESC, word",
    )
    .bind(site)
    .fetch_all(&mut *conn)
    .await
    .expect("ts_stat");
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM interactions WHERE site_id = $1")
        .bind(site)
        .fetch_one(&mut *conn)
        .await
        .expect("count");
    let total = total as i32;
    let pick = |lo: i32, hi: i32| -> Vec<String> {
        stats
            .iter()
            .filter(|(_, d)| *d >= lo && *d <= hi)
            .step_by(7)
            .take(4)
            .map(|(w, _)| w.clone())
            .collect()
    };
    let mut out = vec![("browse", Sort::Newest, String::new())];
    let rare = pick(10, 60);
    for (class, words) in [
        ("rare", rare.clone()),
        ("medium", pick(200, 3000.max(total / 50))),
        ("common", pick(total / 6, total)),
    ] {
        for w in words {
            // A trailing space: a whole word, not a prefix.
            out.push((class, Sort::Relevance, format!("{w} ")));
            out.push((class, Sort::Newest, format!("{w} ")));
        }
    }
    for (w, _) in stats.iter().take(400).step_by(100) {
        out.push(("prefix2", Sort::Relevance, w.chars().take(2).collect()));
    }
    let leads: Vec<String> = sqlx::query_scalar(
        "SELECT lead FROM interactions WHERE site_id = $1 GROUP BY lead \
         ORDER BY count(*) DESC, lead LIMIT 3",
    )
    .bind(site)
    .fetch_all(&mut *conn)
    .await
    .expect("leads");
    for lead in leads {
        let part: String = lead.split_whitespace().last().unwrap_or("").to_lowercase();
        out.push(("lead:", Sort::Newest, format!("lead:{part}")));
    }
    for w in rare.iter().take(3) {
        let mut c: Vec<char> = w.chars().collect();
        c.swap(1, 2);
        let typo: String = c.into_iter().collect();
        out.push(("typo", Sort::Relevance, format!("{typo} ")));
    }
    out
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let url = arg("--url")
        .or_else(|| std::env::var("IFIND_BENCH_URL").ok())
        .expect("give --url or IFIND_BENCH_URL (the owner's URL of a database seeded by ifind)");
    let reps: usize = arg("--reps").and_then(|r| r.parse().ok()).unwrap_or(10);
    // `--class NAME` measures one class only (browse, rare, medium, common, prefix2, lead:, typo).
    let only = arg("--class");
    let owner_opts = PgConnectOptions::from_str(&url).expect("url");
    let app_opts = match arg("--app-url") {
        Some(u) => PgConnectOptions::from_str(&u).expect("app url"),
        None => owner_opts.clone().username(ifind::db::roles::APP_ROLE),
    };
    // One connection for the setup queries, one for the searches.
    let owner = pool(owner_opts, 2).await;
    let mut conn = owner.pool.acquire().await.expect("conn");
    let (me, bypass): (String, bool) = sqlx::query_as(
        "SELECT rolname::text, rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user",
    )
    .fetch_one(&mut *conn)
    .await
    .expect("role");
    assert!(bypass, "the owner URL's role `{me}` must bypass RLS");
    ifind::db::roles::enable_app_login(&mut conn)
        .await
        .expect("let ifind_app log in");
    sqlx::query(
        "INSERT INTO users (username, email, password_hash, is_global_admin) \
         SELECT 'ifind_bench_admin', 'ifind_bench_admin@example.org', 'x', true \
          WHERE NOT EXISTS (SELECT 1 FROM users WHERE is_global_admin AND is_active)",
    )
    .execute(&mut *conn)
    .await
    .expect("admin");
    let admin: i32 = sqlx::query_scalar(
        "SELECT user_id FROM users WHERE is_global_admin AND is_active ORDER BY user_id LIMIT 1",
    )
    .fetch_one(&mut *conn)
    .await
    .expect("admin");
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
    let chosen = [("largest", sites[0]), ("typical", sites[sites.len() / 2])];
    let app = pool(app_opts, 1).await;
    ifind::db::roles::check_app_db(&app)
        .await
        .expect("the application role must be subject to the policies");
    println!(
        "rows: {rows}; largest site {} ({} rows); typical site {} ({} rows); reps {reps}",
        sites[0].0, sites[0].1, chosen[1].1.0, chosen[1].1.1
    );

    let mut all_on = Vec::new();
    let mut all_off = Vec::new();
    let mut ratios = Vec::new();
    let mut all_diffs = Vec::new();
    println!(
        "\n{:32} {:>9} {:>9}   {:>9} {:>9}   {:>6} {:>8}",
        "site    user    class   sort",
        "on p50",
        "on p95",
        "off p50",
        "off p95",
        "on/off",
        "pair p50"
    );
    for (label, (site, _)) in chosen {
        let viewer: i32 = sqlx::query_scalar(
            "SELECT m.user_id FROM user_site_mapping m JOIN users u USING (user_id) \
              WHERE m.site_id = $1 AND u.is_active AND NOT u.is_global_admin \
              ORDER BY (m.role = 'viewer') DESC, m.user_id LIMIT 1",
        )
        .bind(site)
        .fetch_one(&mut *conn)
        .await
        .expect("a member of the site");
        let lines = classes(&mut conn, site).await;
        for (who, user) in [("viewer", viewer), ("admin", admin)] {
            let mut groups: Vec<(String, Vec<Duration>, Vec<Duration>)> = Vec::new();
            for (class, sort, line) in &lines {
                if only.as_deref().is_some_and(|c| c != *class) {
                    continue;
                }
                let key = format!("{label:7} {who:7} {class:7} {:9}", sort.as_str());
                let mut req = SearchRequest::new(site, line.clone());
                req.sort = *sort;
                // Warm both connections' caches, and check both see the same rows.
                let (_, n_on) = time_search(&app, user, &req).await;
                let (_, n_off) = time_search(&owner, user, &req).await;
                assert_eq!(n_on, n_off, "{key} {line:?}: the same rows on and off");
                let at = match groups.iter().position(|(k, _, _)| *k == key) {
                    Some(i) => i,
                    None => {
                        groups.push((key, Vec::new(), Vec::new()));
                        groups.len() - 1
                    }
                };
                for rep in 0..reps {
                    // Alternate which goes first.
                    let (on, off) = if rep % 2 == 0 {
                        let on = time_search(&app, user, &req).await.0;
                        (on, time_search(&owner, user, &req).await.0)
                    } else {
                        let off = time_search(&owner, user, &req).await.0;
                        (time_search(&app, user, &req).await.0, off)
                    };
                    groups[at].1.push(on);
                    groups[at].2.push(off);
                }
            }
            for (key, mut on, mut off) in groups {
                // The difference of each back-to-back pair: robust against the machine's load.
                let mut diffs: Vec<f64> = on
                    .iter()
                    .zip(&off)
                    .map(|(a, b)| (a.as_secs_f64() - b.as_secs_f64()) * 1000.0)
                    .collect();
                diffs.sort_by(f64::total_cmp);
                let diff50 = diffs[diffs.len() / 2];
                all_diffs.extend(diffs);
                all_on.extend(on.iter().copied());
                all_off.extend(off.iter().copied());
                let (on50, on95) = (percentile(&mut on, 0.5), percentile(&mut on, 0.95));
                let (off50, off95) = (percentile(&mut off, 0.5), percentile(&mut off, 0.95));
                let ratio = on50 / off50.max(1e-6);
                ratios.push(ratio);
                println!(
                    "{key:32} {on50:>9.2} {on95:>9.2}   {off50:>9.2} {off95:>9.2}   {ratio:>6.3} \
                     {diff50:>+8.2}"
                );
            }
        }
    }
    let (on50, off50) = (percentile(&mut all_on, 0.5), percentile(&mut all_off, 0.5));
    ratios.sort_by(f64::total_cmp);
    all_diffs.sort_by(f64::total_cmp);
    println!(
        "\nall searches: on p50 {on50:.2} ms, off p50 {off50:.2} ms, ratio {:.3}; \
         median of the per-class ratios {:.3} (min {:.3}, max {:.3}); median on-off pair \
         difference {:+.2} ms",
        on50 / off50.max(1e-6),
        ratios[ratios.len() / 2],
        ratios[0],
        ratios[ratios.len() - 1],
        all_diffs[all_diffs.len() / 2]
    );
}
