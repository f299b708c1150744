//! The Finder benchmark's measuring code, shared by `cargo bench --bench finder` (main.rs) and
//! the quick check in the test suite (tests/bench_smoke.rs).

pub mod detail;
pub mod import;
pub mod keys;
pub mod latency;
pub mod mix;
pub mod report;
pub mod setup;
pub mod sql;
pub mod startup;
pub mod stats;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use ifind::app::db_backend::DbSearchBackend;

use setup::Env;

/// What to measure and how much.
#[derive(Clone, Debug)]
pub struct Config {
    /// Queries per class of the mix.
    pub per_class: usize,
    pub latency: latency::Options,
    pub typing: keys::Typing,
    /// Queries typed for keystroke-to-screen (each a few words).
    pub typed_queries: usize,
    /// Frames drawn per pane layout.
    pub frames: usize,
    pub import_rows: i64,
    pub import_reps: usize,
    pub detail_clients: Vec<usize>,
    /// Loads per side and level.
    pub detail_loads: usize,
    /// Warm starts of the binary (0: skip the terminal section).
    pub starts: usize,
    /// Measure the embedded cluster's cold start.
    pub cold_start: bool,
    /// The `ifind` binary.
    pub bin: PathBuf,
    /// PostgreSQL's client binaries (psql, pgbench): `IFIND_BENCH_PGBIN`, or Debian's
    /// `/usr/lib/postgresql/15/bin`.
    pub pg_bin: PathBuf,
    /// Only these sections (None: all): first, tenth, keys, terminal, detail, import, cold,
    /// explain.
    pub sections: Option<Vec<String>>,
    /// Only these classes of the mix (None: all).
    pub classes: Option<Vec<String>>,
}

impl Config {
    /// The benchmark's defaults.
    pub fn standard(bin: PathBuf) -> Config {
        Config {
            per_class: 5,
            latency: latency::Options {
                reps: 10,
                budget: Duration::from_secs(20),
            },
            typing: keys::Typing {
                key_interval: Duration::from_millis(80),
                pause: Duration::from_millis(700),
                debounce: Duration::from_millis(ifind::config::SearchConfig::default().debounce_ms),
            },
            typed_queries: 8,
            frames: 300,
            import_rows: 20_000,
            import_reps: 2,
            detail_clients: vec![1, 8, 32],
            detail_loads: 20_000,
            starts: 5,
            cold_start: true,
            bin,
            pg_bin: std::env::var_os("IFIND_BENCH_PGBIN").map_or_else(
                || PathBuf::from("/usr/lib/postgresql/15/bin"),
                PathBuf::from,
            ),
            sections: None,
            classes: None,
        }
    }

    /// Whether section `name` runs.
    pub fn wants(&self, name: &str) -> bool {
        self.sections
            .as_ref()
            .is_none_or(|s| s.iter().any(|x| x == name))
    }
}

/// The sections, for `--sections`.
pub const SECTIONS: [&str; 8] = [
    "first", "tenth", "keys", "terminal", "detail", "import", "cold", "explain",
];

/// Everything one run measured.
#[derive(Debug, Default)]
pub struct Results {
    pub mixes: Vec<(String, mix::Mix)>,
    pub first_pages: Vec<latency::Row>,
    pub tenth_pages: Vec<latency::Row>,
    pub keystrokes: keys::Keystrokes,
    pub frames_list: Vec<Duration>,
    pub frames_detail: Vec<Duration>,
    pub imports: Vec<import::Load>,
    pub detail: Vec<detail::Level>,
    pub terminal: startup::Terminal,
    pub cold: Vec<(&'static str, Duration)>,
    /// (label, EXPLAIN ANALYZE text) of the slowest classes.
    pub explains: Vec<(String, String)>,
}

/// Queries to type, from the mix: a medium then a common word, a common word then a prefix,
/// and so on, each line a few words.
pub fn typed_queries(m: &mix::Mix, n: usize) -> Vec<String> {
    let words = |class: &str| -> Vec<String> {
        m.class(class)
            .iter()
            .map(|c| c.query.trim().to_string())
            .collect()
    };
    let (medium, common, rare) = (
        words("medium word"),
        words("common word"),
        words("rare word"),
    );
    let pick = |v: &Vec<String>, i: usize| v.get(i % v.len().max(1)).cloned().unwrap_or_default();
    (0..n)
        .map(|i| match i % 3 {
            0 => format!("{} {}", pick(&medium, i), pick(&common, i)),
            1 => format!("{} {}", pick(&common, i), pick(&rare, i)),
            _ => format!(
                "{} {} {}",
                pick(&common, i),
                pick(&medium, i + 1),
                pick(&common, i + 2)
            ),
        })
        .map(|q| q.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|q| !q.is_empty())
        .collect()
}

/// Runs every section on `env`.
pub async fn run(env: &Env, cfg: &Config) -> Result<Results> {
    let mut r = Results::default();
    let mut conn = setup::connect(&env.url).await?;
    for (label, site) in [("largest", env.largest()), ("typical", env.typical())] {
        eprintln!(
            "building the query mix of the {label} site ({} rows)...",
            site.rows
        );
        let m = mix::build(&mut conn, site, cfg.per_class).await?;
        r.mixes.push((label.to_string(), m));
    }
    let backend = DbSearchBackend::new(env.db.clone(), Some(env.user_id));
    let mut raw = latency::raw_connection(&env.url).await?;
    for (label, m) in &r.mixes {
        let mut m = m.clone();
        if let Some(classes) = &cfg.classes {
            m.cases.retain(|c| classes.iter().any(|x| x == c.class));
            m.deep.retain(|c| classes.iter().any(|x| x == c.class));
        }
        let m = &m;
        if cfg.wants("first") {
            eprintln!("first pages, {label} site...");
            let rows = latency::first_pages(&backend, &mut raw, m, label, cfg.latency).await?;
            r.first_pages.extend(rows);
        }
        if cfg.wants("tenth") {
            eprintln!("10th pages, {label} site...");
            let rows = latency::tenth_pages(&backend, &mut raw, m, label, cfg.latency).await?;
            r.tenth_pages.extend(rows);
        }
    }

    let queries = typed_queries(&r.mixes[0].1, cfg.typed_queries);
    if cfg.wants("keys") {
        eprintln!("keystroke to screen...");
        let (keystrokes, mut state) =
            keys::keystrokes(&env.db, env.user_id, env.largest(), &queries, cfg.typing).await?;
        r.keystrokes = keystrokes;
        eprintln!("drawing frames...");
        let (list, detail) = keys::frames(&mut state, cfg.frames)?;
        r.frames_list = list;
        r.frames_detail = detail;
    }

    if cfg.starts > 0 && cfg.wants("terminal") {
        eprintln!("the terminal app: warm starts and memory...");
        let site = env.largest().clone();
        let typed = queries.clone();
        let queries: Vec<String> = queries.iter().take(3).cloned().collect();
        let (env, bin, starts) = (env.clone(), cfg.bin.clone(), cfg.starts);
        r.terminal = tokio::task::spawn_blocking(move || {
            startup::terminal(&env, &bin, &site, &queries, &typed, starts)
        })
        .await??;
    }

    if cfg.wants("detail") {
        eprintln!("detail loads...");
        r.detail = detail::compare(env, &cfg.pg_bin, &cfg.detail_clients, cfg.detail_loads).await?;
    }

    if cfg.wants("import") {
        eprintln!("import...");
        r.imports =
            import::compare(env, &cfg.bin, &cfg.pg_bin, cfg.import_rows, cfg.import_reps).await?;
    }

    if cfg.cold_start && cfg.wants("cold") {
        eprintln!("cold start of the embedded cluster...");
        r.cold = startup::cold_start().await?;
    }

    if cfg.wants("explain") {
        eprintln!("EXPLAIN of the slowest classes...");
        r.explains = explain_slowest(&mut raw, &r).await?;
    }
    Ok(r)
}

/// EXPLAIN (ANALYZE, BUFFERS) of the app's statements for the classes that most need it: the
/// two slowest by app p95, and the three (of other classes) furthest from the plain
/// hand-written query at the median (app p50 / ref p50), each class once per list.
async fn explain_slowest(
    raw: &mut sqlx::PgConnection,
    r: &Results,
) -> Result<Vec<(String, String)>> {
    let app = |row: &latency::Row| stats::summarize(&row.app);
    let p95 = |row: &latency::Row| app(row).map_or(0.0, |s| s.p95);
    let vs_ref = |row: &latency::Row| {
        let (a, f) = (app(row), stats::summarize(&row.reference));
        a.zip(f).map_or(0.0, |(a, f)| a.p50 / f.p50.max(1e-9))
    };
    let mut picks: Vec<(&latency::Row, String)> = Vec::new();
    for (n, key, what) in [(2, 0, "slowest"), (3, 1, "furthest from the plain query")] {
        let mut rows: Vec<&latency::Row> = r.first_pages.iter().collect();
        let score = |row: &latency::Row| if key == 0 { p95(row) } else { vs_ref(row) };
        rows.sort_by(|a, b| score(b).total_cmp(&score(a)));
        let mut taken: Vec<&str> = Vec::new();
        for row in rows {
            if taken.len() >= n {
                break;
            }
            let seen = picks.iter().any(|(p, _)| {
                p.class == row.class && (key == 0 || p.site == row.site && p.sort == row.sort)
            });
            if taken.contains(&row.class.as_str()) || seen {
                continue;
            }
            taken.push(&row.class);
            picks.push((row, what.to_string()));
        }
    }
    let mut out = Vec::new();
    for (row, why) in picks {
        let Some((_, m)) = r.mixes.iter().find(|(l, _)| *l == row.site) else {
            continue;
        };
        let prepared = sql::prepare(raw, m.site.id, &row.example).await?;
        let text = sql::explain(
            raw,
            m.site.id,
            &prepared,
            row.sort,
            ifind::db::search::DEFAULT_COUNT_CAP,
        )
        .await?;
        let (a50, f50) = (
            app(row).map_or(0.0, |s| s.p50),
            stats::summarize(&row.reference).map_or(0.0, |s| s.p50),
        );
        out.push((
            format!(
                "{why}: {} site, {} ({}), `{}`: app p50 {} ms, p95 {} ms; plain query p50 {} ms",
                row.site,
                row.class,
                row.sort,
                row.example.trim(),
                stats::ms(a50),
                stats::ms(p95(row)),
                stats::ms(f50)
            ),
            text,
        ));
    }
    Ok(out)
}
