//! First-page (and 10th-page) latency of the mix: the app's search against the same SQL sent
//! raw and against the plain hand-written query, interleaved in one run.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow};
use ifind::app::db_backend::DbSearchBackend;
use ifind::app::runner::Finder;
use ifind::db::search::{DEFAULT_COUNT_CAP, DEFAULT_LIMIT, SearchPage, SearchRequest, Sort};
use sqlx::PgConnection;

use super::mix::{CLASSES, Case, Mix};
use super::sql::{self, After, Prepared};

/// How much to measure.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Timed runs of every query of a class (fewer when the budget runs out).
    pub reps: usize,
    /// Time one class (all its queries, all three sides) may take before repetitions stop;
    /// every query still runs at least once.
    pub budget: Duration,
}

/// The timings of one class under one sort on one site.
#[derive(Clone, Debug)]
pub struct Row {
    pub site: String,
    pub class: String,
    pub sort: Sort,
    /// The median number of matches of the class's queries.
    pub matches: i64,
    pub app: Vec<Duration>,
    pub raw: Vec<Duration>,
    pub reference: Vec<Duration>,
    /// The match count the Finder asks for after a full first page: through the backend, and
    /// its statement sent raw (first pages under relevance only; empty otherwise).
    pub count_app: Vec<Duration>,
    pub count_raw: Vec<Duration>,
    /// One query of the class (the slowest for the app), for EXPLAIN.
    pub example: String,
    /// First pages by relevance without filters: how many of the class's queries had the
    /// app's first page equal to the naive statement's (every match ranked by the documented
    /// function), of how many checked. None: not checked (another sort, a later page,
    /// filters).
    pub exact: Option<(usize, usize)>,
}

static REQUEST_IDS: AtomicU64 = AtomicU64::new(1);

/// One search through the Finder's backend as the Finder sends it (a pooled connection, a
/// transaction with the acting user and the cancel tag, `ifind::db::search::search_in`; a first
/// page brings its count only when that costs nothing, else the Finder asks for it after
/// showing the page).
pub async fn app(
    backend: &DbSearchBackend,
    site: i32,
    query: &str,
    sort: Sort,
    after: Option<String>,
) -> Result<SearchPage> {
    let req = SearchRequest {
        site_id: site,
        query: query.to_string(),
        sort,
        limit: DEFAULT_LIMIT,
        count_cap: if after.is_none() {
            DEFAULT_COUNT_CAP
        } else {
            0
        },
        count_if_free: true,
        after,
        archive: false,
        from_end: false,
        starts_from: None,
    };
    backend
        .search(REQUEST_IDS.fetch_add(1, Ordering::Relaxed), req)
        .await
        .map_err(|e| anyhow!("the app's search for {query:?} failed: {e}"))
}

/// The match count through the Finder's backend, as the Finder asks for it after a full first
/// page.
pub async fn app_count(backend: &DbSearchBackend, site: i32, query: &str) -> Result<()> {
    let req = SearchRequest {
        count_cap: DEFAULT_COUNT_CAP,
        count_if_free: false,
        ..SearchRequest::new(site, query)
    };
    let n = backend
        .count(REQUEST_IDS.fetch_add(1, Ordering::Relaxed), req)
        .await
        .map_err(|e| anyhow!("the app's count for {query:?} failed: {e}"))?;
    std::hint::black_box(n);
    Ok(())
}

/// A connection for the raw side: custom plans, as literal SQL would get.
pub async fn raw_connection(url: &str) -> Result<PgConnection> {
    let mut conn = super::setup::connect(url).await?;
    sqlx::query("SET plan_cache_mode = force_custom_plan")
        .execute(&mut conn)
        .await?;
    Ok(conn)
}

/// What one timed step runs.
enum Step {
    App(Option<String>),
    Raw(Option<After>),
    Ref(i64),
    Count,
    RawCount,
}

#[allow(clippy::too_many_arguments)]
async fn run_step(
    backend: &DbSearchBackend,
    raw: &mut PgConnection,
    site: i32,
    case: &Case,
    prepared: &Prepared,
    sort: Sort,
    step: &Step,
    counted: bool,
) -> Result<Duration> {
    if counted && matches!(step, Step::Count) {
        // The first page brought its count: the Finder asks for none.
        return Ok(Duration::ZERO);
    }
    let t = Instant::now();
    match step {
        Step::App(after) => {
            let page = app(backend, site, &case.query, sort, after.clone()).await?;
            std::hint::black_box(page.hits.len());
        }
        Step::Raw(after) => {
            let n = sql::raw(raw, site, prepared, sort, *after).await?;
            std::hint::black_box(n);
        }
        Step::Count => app_count(backend, site, &case.query).await?,
        Step::RawCount => {
            let n = sql::raw_count(raw, site, prepared, DEFAULT_COUNT_CAP).await?;
            std::hint::black_box(n);
        }
        Step::Ref(offset) => {
            let ids = sql::reference(raw, site, prepared, sort, *offset).await?;
            std::hint::black_box(ids.len());
        }
    }
    Ok(t.elapsed())
}

/// Times `cases` (one class) under `sort`: a warm-up run of each, then repetitions with the
/// three sides interleaved in a rotating order.
#[allow(clippy::too_many_arguments)]
async fn time_class(
    backend: &DbSearchBackend,
    raw: &mut PgConnection,
    site: &str,
    site_id: i32,
    class: &str,
    cases: &[(&Case, Vec<Step>)],
    sort: Sort,
    opts: Options,
) -> Result<Row> {
    let mut parsed = Vec::with_capacity(cases.len());
    for (c, _) in cases {
        parsed.push(sql::prepare(raw, site_id, &c.query).await?);
    }
    // Whether each case's first page brings its count (then the Finder asks for none).
    let mut counted = Vec::with_capacity(cases.len());
    for (case, _) in cases {
        let page = app(backend, site_id, &case.query, sort, None).await?;
        counted.push(page.count.is_some());
    }
    for (((case, steps), p), counted) in cases.iter().zip(&parsed).zip(&counted) {
        for step in steps {
            run_step(backend, raw, site_id, case, p, sort, step, *counted).await?;
        }
    }
    let exact = ranking_exactness(backend, raw, site_id, cases, &parsed, sort).await?;
    let mut row = Row {
        site: site.to_string(),
        class: class.to_string(),
        sort,
        matches: median(cases.iter().map(|(c, _)| c.matches).collect()),
        app: Vec::new(),
        raw: Vec::new(),
        reference: Vec::new(),
        count_app: Vec::new(),
        count_raw: Vec::new(),
        example: String::new(),
        exact,
    };
    let mut slowest = Duration::ZERO;
    let started = Instant::now();
    for rep in 0..opts.reps.max(1) {
        if rep > 0 && started.elapsed() > opts.budget {
            break;
        }
        for (i, (((case, steps), p), counted)) in
            cases.iter().zip(&parsed).zip(&counted).enumerate()
        {
            let n = steps.len();
            for k in 0..n {
                let step = &steps[(rep + i + k) % n];
                let d = run_step(backend, raw, site_id, case, p, sort, step, *counted).await?;
                match step {
                    Step::App(_) => {
                        if d > slowest {
                            slowest = d;
                            row.example = case.query.clone();
                        }
                        row.app.push(d);
                    }
                    Step::Raw(_) => row.raw.push(d),
                    Step::Ref(_) => row.reference.push(d),
                    Step::Count => row.count_app.push(d),
                    Step::RawCount => row.count_raw.push(d),
                }
            }
        }
    }
    Ok(row)
}

/// The check of [`Row::exact`]: for each first page by relevance of a query without filters,
/// whether the app's ids are the naive statement's.
async fn ranking_exactness(
    backend: &DbSearchBackend,
    raw: &mut PgConnection,
    site_id: i32,
    cases: &[(&Case, Vec<Step>)],
    parsed: &[Prepared],
    sort: Sort,
) -> Result<Option<(usize, usize)>> {
    let first_page = cases
        .iter()
        .all(|(_, steps)| steps.iter().any(|s| matches!(s, Step::App(None))));
    if sort != Sort::Relevance || !first_page {
        return Ok(None);
    }
    let (mut exact, mut checked) = (0, 0);
    for ((case, _), p) in cases.iter().zip(parsed) {
        if p.parsed.filters != ifind::domain::query::Filters::default()
            || sql::effective(sort, p) != Sort::Relevance
        {
            continue;
        }
        let page = app(backend, site_id, &case.query, sort, None).await?;
        let got: Vec<i32> = page
            .hits
            .iter()
            .map(|h| h.interaction.interaction_id)
            .collect();
        let want = sql::reference(raw, site_id, p, sort, 0).await?;
        checked += 1;
        if got == want {
            exact += 1;
        } else {
            eprintln!(
                "  ranking differs for {:?}: app {got:?}, naive {want:?}",
                case.query
            );
        }
    }
    Ok((checked > 0).then_some((exact, checked)))
}

fn median(mut v: Vec<i64>) -> i64 {
    v.sort_unstable();
    v.get(v.len() / 2).copied().unwrap_or(0)
}

/// First pages of every class of `mix` under every sort.
pub async fn first_pages(
    backend: &DbSearchBackend,
    raw: &mut PgConnection,
    mix: &Mix,
    label: &str,
    opts: Options,
) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for sort in Sort::ALL {
        for class in CLASSES {
            let cases: Vec<(&Case, Vec<Step>)> = mix
                .class(class)
                .into_iter()
                .map(|c| {
                    let mut steps = vec![Step::App(None), Step::Raw(None), Step::Ref(0)];
                    // The count does not depend on the sort: timed once, with relevance, for
                    // the queries whose first page is full (the Finder asks only for those).
                    if sort == Sort::Relevance && c.matches > DEFAULT_LIMIT {
                        steps.extend([Step::Count, Step::RawCount]);
                    }
                    (c, steps)
                })
                .collect();
            if cases.is_empty() {
                continue;
            }
            let row =
                time_class(backend, raw, label, mix.site.id, class, &cases, sort, opts).await?;
            eprintln!(
                "  {label} {sort} {class}: app p50 {:.2} ms, raw p50 {:.2} ms (n {})",
                p50(&row.app),
                p50(&row.raw),
                row.app.len()
            );
            rows.push(row);
        }
    }
    Ok(rows)
}

fn p50(v: &[Duration]) -> f64 {
    super::stats::summarize(v).map_or(0.0, |s| s.p50)
}

/// The 10th page (by cursor for the app and the raw SQL, by OFFSET 450 for the plain query) of
/// the mix's queries with ten pages or more, under every sort that differs.
pub async fn tenth_pages(
    backend: &DbSearchBackend,
    raw: &mut PgConnection,
    mix: &Mix,
    label: &str,
    opts: Options,
) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for sort in Sort::ALL {
        for class in ["common word", "type:"] {
            let mut cases = Vec::new();
            for case in mix.deep.iter().filter(|c| c.class == class) {
                let prepared = sql::prepare(raw, mix.site.id, &case.query).await?;
                if sort != sql::effective(sort, &prepared) {
                    continue;
                }
                let mut cursor = None;
                let mut last = None;
                for _ in 0..9 {
                    let page = app(backend, mix.site.id, &case.query, sort, cursor).await?;
                    last = page.hits.last().map(|h| After {
                        rank: h.rank,
                        start: h.interaction.start_datetime,
                        id: h.interaction.interaction_id,
                    });
                    cursor = page.next_cursor;
                    if cursor.is_none() {
                        break;
                    }
                }
                if let (Some(c), Some(after)) = (cursor, last) {
                    cases.push((
                        case,
                        vec![Step::App(Some(c)), Step::Raw(Some(after)), Step::Ref(450)],
                    ));
                }
            }
            if cases.is_empty() {
                continue;
            }
            let name = format!("10th page: {class}");
            let row =
                time_class(backend, raw, label, mix.site.id, &name, &cases, sort, opts).await?;
            eprintln!(
                "  {label} {sort} {name}: app p50 {:.2} ms, raw p50 {:.2} ms (n {})",
                p50(&row.app),
                p50(&row.raw),
                row.app.len()
            );
            rows.push(row);
        }
    }
    Ok(rows)
}
