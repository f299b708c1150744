//! No oracle (issue 11, point 3): as the application role `ifind_app`, with no acting user and
//! as a user of site Alpha, nothing in `EXPLAIN (ANALYZE)` of a statement over site Beta tells
//! whether a word is in Beta's rows: the plans of a word that Beta holds and of one that no row
//! holds are the same, row counts, "Rows Removed" and estimates included. The search entry
//! points (migration 0011) answer an empty array for a site the caller may not read, and the
//! Finder's statements still reach their rows through an index.

mod common;

use ifind::db::search::{self, Candidates, MATCH_CAP, SearchRequest, Sort};
use ifind::db::{Db, sites, users};
use ifind::domain::query::Filters;
use serde_json::Value;

/// In Beta's titles only.
const SECRET: &str = "zanzibar";
/// In no row.
const ABSENT: &str = "quokkam";
/// In a few of Alpha's titles only.
const RARE: &str = "marmalade";

struct World {
    t: common::TestDb,
    app: Db,
    alpha: i32,
    beta: i32,
    /// Editor at Alpha only.
    alice: i32,
}

async fn world() -> World {
    let t = common::fresh_db().await;
    let mut tx = t.db.begin_as(None).await.expect("begin");
    let hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";
    let alice = users::insert(&mut tx, "alice", "alice@example.org", hash, false)
        .await
        .expect("user")
        .user_id;
    let alpha = sites::insert(&mut tx, "Alpha", None)
        .await
        .expect("site")
        .site_id;
    let beta = sites::insert(&mut tx, "Beta", None)
        .await
        .expect("site")
        .site_id;
    users::grant(&mut tx, alice, alpha, users::Role::Editor)
        .await
        .expect("grant");
    tx.commit().await.expect("commit");
    // 3,001 rows in each site (enough that the indexes matter, and more than the 3,000 under
    // which `ifind_match_ids` collects every match whatever its density: migration 0014); the
    // secret word in 25 of Beta's titles, the rare word in 7 of Alpha's.
    sqlx::query(
        "INSERT INTO interactions (site_id, title, type, lead, start_datetime, timezone, \
                                   end_datetime, location, created_by) \
         SELECT s, 'Weekly call number ' || n \
                   || CASE WHEN s = $2 AND n % 120 = 0 THEN ' ' || $4 ELSE '' END \
                   || CASE WHEN s = $1 AND n % 400 = 0 THEN ' ' || $5 ELSE '' END, \
                'Call', 'Jun Park', now() - n * interval '1 hour', 'UTC', \
                now() - n * interval '1 hour', 'Room ' || (n % 7), $3 \
           FROM unnest(ARRAY[$1, $2]) AS s, generate_series(1, 3001) AS n",
    )
    .bind(alpha)
    .bind(beta)
    .bind(alice)
    .bind(SECRET)
    .bind(RARE)
    .execute(&t.db.pool)
    .await
    .expect("rows");
    sqlx::query("ANALYZE")
        .execute(&t.db.pool)
        .await
        .expect("analyze");
    World {
        app: t.app_db().await,
        t,
        alpha,
        beta,
        alice,
    }
}

/// The plan with what varies from run to run (times, buffers) left out, and the word
/// replaced by a placeholder (it is the caller's own constant).
fn normalised(plan: &Value, word: &str) -> Value {
    const VARYING: [&str; 6] = [
        "Actual Startup Time",
        "Actual Total Time",
        "Planning Time",
        "Execution Time",
        "Planning",
        "Triggers",
    ];
    match plan {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| !VARYING.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), normalised(v, word)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(|v| normalised(v, word)).collect()),
        Value::String(s) => Value::String(s.replace(word, "WORD")),
        other => other.clone(),
    }
}

/// Every value of `key` in the plan.
fn values_of(plan: &Value, key: &str, out: &mut Vec<Value>) {
    match plan {
        Value::Object(map) => {
            for (k, v) in map {
                if k == key {
                    out.push(v.clone());
                }
                values_of(v, key, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| values_of(v, key, out)),
        _ => {}
    }
}

/// The conditions an attacker would try, with `$2` the word.
const PROBES: [&str; 5] = [
    "title ILIKE '%' || $2 || '%'",
    "search_vector @@ to_tsquery('english', $2)",
    "word_similarity($2, title) > 0.3",
    "$2 <% title",
    "$2 <% lead",
];

async fn explain_analyze(db: &Db, user: Option<i32>, site: i32, probe: &str, word: &str) -> Value {
    let mut tx = db.begin_as(user).await.expect("begin");
    let sql = format!(
        "EXPLAIN (ANALYZE, VERBOSE, FORMAT JSON) SELECT 1 FROM interactions \
          WHERE site_id = $1 AND {probe}"
    );
    let plan: Value = sqlx::query_scalar(&sql)
        .bind(site)
        .bind(word)
        .fetch_one(&mut *tx)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    tx.rollback().await.expect("rollback");
    plan
}

#[tokio::test]
async fn explain_analyze_tells_nothing_about_a_site_one_may_not_read() {
    let w = world().await;
    // The owner sees the difference: the word is there.
    let there: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM interactions WHERE site_id = $1 AND title ILIKE '%' || $2 || '%'",
    )
    .bind(w.beta)
    .bind(SECRET)
    .fetch_one(&w.t.db.pool)
    .await
    .expect("owner count");
    assert_eq!(there, 25);
    for user in [None, Some(w.alice)] {
        for probe in PROBES {
            let what = format!("{probe} as {user:?}");
            let secret = explain_analyze(&w.app, user, w.beta, probe, SECRET).await;
            let absent = explain_analyze(&w.app, user, w.beta, probe, ABSENT).await;
            assert_eq!(
                normalised(&secret, SECRET),
                normalised(&absent, ABSENT),
                "{what}: the plans differ\n{secret:#}\n{absent:#}"
            );
            // Nothing comes back, and no index was asked about the word.
            let mut rows = Vec::new();
            values_of(&secret, "Actual Rows", &mut rows);
            assert_eq!(rows.first().and_then(Value::as_i64), Some(0), "{what}");
            let mut conds = Vec::new();
            values_of(&secret, "Index Cond", &mut conds);
            values_of(&secret, "Recheck Cond", &mut conds);
            for c in conds {
                let c = c.as_str().unwrap_or_default().to_string();
                assert!(
                    !c.contains(SECRET),
                    "{what}: the word is an index condition: {c}"
                );
            }
        }
    }
}

/// What the entry points answered Alice: `ifind_match_ids` by text, `ifind_near_ids`,
/// `ifind_heading_ids`.
type AliceAnswers = (Option<Vec<i32>>, Option<Vec<i32>>, Option<Vec<i32>>);

/// What the entry points answered: `ifind_match_ids` by text, by lead, `ifind_near_ids`,
/// `ifind_heading_ids`.
type Answers = (
    Option<Vec<i32>>,
    Option<Vec<i32>>,
    Option<Vec<i32>>,
    Option<Vec<i32>>,
);

#[tokio::test]
async fn the_entry_points_answer_nothing_for_a_site_one_may_not_read() {
    let w = world().await;
    let ids = |site: i32, word: &'static str| {
        let db = w.app.clone();
        async move {
            let mut tx = db.begin_as(None).await.expect("begin");
            let out: Answers = sqlx::query_as(
                "SELECT ifind_match_ids($1, to_tsquery('english', $2), NULL, NULL, true, 2000), \
                        ifind_match_ids($1, NULL, '%' || $2 || '%', NULL, false, 2000), \
                        ifind_near_ids($1, $2, 2000), \
                        ifind_heading_ids($1, to_tsquery('english', $2), 2000)",
            )
            .bind(site)
            .bind(word)
            .fetch_one(&mut *tx)
            .await
            .expect("entry points");
            tx.rollback().await.expect("rollback");
            out
        }
    };
    let nothing = (Some(vec![]), Some(vec![]), Some(vec![]), Some(vec![]));
    // No acting user: nothing anywhere, whether the word or the site exists or not.
    for site in [w.alpha, w.beta, 999_999] {
        for word in [SECRET, ABSENT, RARE] {
            assert_eq!(ids(site, word).await, nothing, "site {site}, {word}");
        }
    }
    let as_alice = |site: i32, word: &'static str, cap: i32| {
        let db = w.app.clone();
        let alice = w.alice;
        async move {
            let mut tx = db.begin_as(Some(alice)).await.expect("begin");
            let out: AliceAnswers = sqlx::query_as(
                "SELECT ifind_match_ids($1, to_tsquery('english', $2), NULL, NULL, false, $3), \
                        ifind_near_ids($1, $2, $3), \
                        ifind_heading_ids($1, to_tsquery('english', $2), $3)",
            )
            .bind(site)
            .bind(word)
            .bind(cap)
            .fetch_one(&mut *tx)
            .await
            .expect("entry points");
            tx.rollback().await.expect("rollback");
            out
        }
    };
    // Alice and Beta (or a site that does not exist): the same empty answer.
    for site in [w.beta, 999_999] {
        for word in [SECRET, ABSENT, "weekly"] {
            assert_eq!(
                as_alice(site, word, 2000).await,
                (Some(vec![]), Some(vec![]), Some(vec![])),
                "site {site}, {word}"
            );
        }
    }
    // Her own site: the ids; NULL for a word in every row (the walk finds its pages); the
    // 2,001 most similar rows of the 3,001 that are near "weekly".
    let (rare, _, heading) = as_alice(w.alpha, RARE, 2000).await;
    assert_eq!(rare.map(|v| v.len()), Some(7));
    assert_eq!(heading.map(|v| v.len()), Some(7), "in the titles");
    let (common, near, heading) = as_alice(w.alpha, "weekly", 2000).await;
    assert_eq!(common, None, "a word in every row is dense");
    assert_eq!(heading, None, "dense in the headings too");
    assert_eq!(near.map(|v| v.len()), Some(2001));
    // A deactivated site is not searched.
    let mut conn = w.t.db.pool.acquire().await.expect("connection");
    sites::set_active(&mut conn, w.alpha, false)
        .await
        .expect("deactivate");
    assert_eq!(
        as_alice(w.alpha, RARE, 2000).await,
        (Some(vec![]), Some(vec![]), Some(vec![]))
    );
}

/// The first value of `key` anywhere in the plan, as text.
fn first(plan: &Value, key: &str) -> String {
    let mut out = Vec::new();
    values_of(plan, key, &mut out);
    out.iter()
        .map(|v| {
            v.as_str()
                .map(str::to_string)
                .unwrap_or_else(|| v.to_string())
        })
        .collect::<Vec<_>>()
        .join(" | ")
}

#[tokio::test]
async fn searches_still_reach_their_rows_through_an_index() {
    let w = world().await;
    let filters = Filters::default();
    let mut tx = w.app.begin_as(Some(w.alice)).await.expect("begin");
    sqlx::query("SELECT set_config('plan_cache_mode', 'force_custom_plan', true)")
        .execute(&mut *tx)
        .await
        .expect("custom plans");
    // A rare word: the statement the Finder sends reads the entry point's ids by primary key.
    let normalise = |word: &'static str| {
        let db = w.app.clone();
        async move {
            let mut conn = db.pool.acquire().await.expect("connection");
            let text: String = sqlx::query_scalar("SELECT to_tsquery('english', $1)::text")
                .bind(word)
                .fetch_one(&mut *conn)
                .await
                .expect("normalise");
            text
        }
    };
    let rare = normalise(RARE).await;
    let candidates =
        search::match_candidates(&mut tx, w.alpha, Some(&rare), &filters, false, MATCH_CAP)
            .await
            .expect("candidates");
    let Candidates::Ids(ids) = &candidates else {
        panic!("a rare word has ids: {candidates:?}");
    };
    assert_eq!(ids.len(), 7);
    for sort in [Sort::Relevance, Sort::Newest] {
        let plan: Value = search::page_statement(
            "EXPLAIN (FORMAT JSON) ",
            w.alpha,
            Some(&rare),
            Some(&rare),
            false,
            &candidates,
            &filters,
            sort,
            None,
            50,
        )
        .build_query_scalar()
        .fetch_one(&mut *tx)
        .await
        .expect("explain");
        let index = first(&plan, "Index Name");
        let cond = first(&plan, "Index Cond");
        assert!(index.contains("pk_interactions"), "{sort}: {plan:#}");
        assert!(cond.contains("interaction_id = ANY"), "{sort}: {plan:#}");
    }
    // A common word (more than the cap): the date-ordered walk that stops after a page.
    let common = normalise("weekly").await;
    let candidates =
        search::match_candidates(&mut tx, w.alpha, Some(&common), &filters, false, MATCH_CAP)
            .await
            .expect("candidates");
    assert_eq!(candidates, Candidates::Many);
    let plan: Value = search::page_statement(
        "EXPLAIN (FORMAT JSON) ",
        w.alpha,
        Some(&common),
        Some(&common),
        false,
        &candidates,
        &filters,
        Sort::Newest,
        None,
        50,
    )
    .build_query_scalar()
    .fetch_one(&mut *tx)
    .await
    .expect("explain");
    assert!(
        first(&plan, "Index Name").contains("idx_interactions_dates"),
        "{plan:#}"
    );
    assert!(first(&plan, "Node Type").contains("Limit"), "{plan:#}");
    tx.rollback().await.expect("rollback");

    // Inside the entry point the owner's statement uses the text index (what
    // ifind_match_ids runs, planned for its values as EXECUTE plans it) once the site is large
    // enough for it to pay: 20,000 more rows.
    let mut conn = w.t.db.pool.acquire().await.expect("connection");
    sqlx::query(
        "INSERT INTO interactions (site_id, title, type, lead, start_datetime, timezone, \
                                   end_datetime, created_by) \
         SELECT $1, 'Monthly review number ' || n, 'Call', 'Jun Park', \
                now() - n * interval '1 minute', 'UTC', now() - n * interval '1 minute', $2 \
           FROM generate_series(1, 20000) AS n",
    )
    .bind(w.alpha)
    .bind(w.alice)
    .execute(&mut *conn)
    .await
    .expect("more rows");
    sqlx::query("ANALYZE interactions")
        .execute(&mut *conn)
        .await
        .expect("analyze");
    let plan: Value = sqlx::query_scalar(
        "EXPLAIN (FORMAT JSON) SELECT interaction_id FROM interactions \
          WHERE site_id = $1 AND deleted_at IS NULL AND search_vector @@ $2::tsquery LIMIT $3",
    )
    .bind(w.alpha)
    .bind(&rare)
    .bind(MATCH_CAP + 1)
    .fetch_one(&mut *conn)
    .await
    .expect("explain");
    assert!(
        first(&plan, "Index Name").contains("ftidx_interactions_text"),
        "{plan:#}"
    );

    // And the search through the app finds exactly what the owner finds.
    let mut tx = w.app.begin_as(Some(w.alice)).await.expect("begin");
    let page = search::search(&mut tx, &SearchRequest::new(w.alpha, format!("{RARE} ")))
        .await
        .expect("search");
    tx.rollback().await.expect("rollback");
    let owner: Vec<i32> = sqlx::query_scalar(
        "SELECT interaction_id FROM interactions WHERE site_id = $1 \
          AND search_vector @@ to_tsquery('english', $2) ORDER BY interaction_id",
    )
    .bind(w.alpha)
    .bind(RARE)
    .fetch_all(&mut *conn)
    .await
    .expect("owner");
    let mut got: Vec<i32> = page
        .hits
        .iter()
        .map(|h| h.interaction.interaction_id)
        .collect();
    got.sort_unstable();
    assert_eq!(got, owner);
    assert_eq!(page.count, Some(search::MatchCount::Exact(7)));
}

/// Prints `EXPLAIN (ANALYZE, BUFFERS)` of the statements the Finder sends for a first page (its
/// own builders; the entry point's ids trimmed as a first page trims them; the count statement
/// when the ids do not give the count) on the largest site (`IFIND_EXPLAIN_SITE=typical`: the
/// median site) of a database filled by `ifind seed`, as `ifind_app` acting as a viewer of that
/// site (else another member, never a global administrator) with the site entered as the Finder
/// enters it (`ifind.site`, migration 0012), for BENCHMARKS.md: the classes of `benches/policies.rs` (the first word it picks for
/// each) and the near-match fallback, and what `ifind_match_ids` runs inside for the rare and
/// medium words (as the owner).
/// `IFIND_EXPLAIN_URL=<owner URL> cargo test --test oracle -- --ignored --nocapture explain`
#[tokio::test]
#[ignore = "needs IFIND_EXPLAIN_URL, a seeded database"]
async fn explain_the_finder_statements() {
    use sqlx::Connection;
    let Ok(url) = std::env::var("IFIND_EXPLAIN_URL") else {
        eprintln!("IFIND_EXPLAIN_URL is not set");
        return;
    };
    let mut owner = sqlx::PgConnection::connect(&url).await.expect("owner");
    ifind::db::roles::enable_app_login(&mut owner)
        .await
        .expect("app login");
    // The site as benches/policies.rs picks it: the largest, or with IFIND_EXPLAIN_SITE=typical
    // the median.
    let sites: Vec<(i32, i64)> = sqlx::query_as(
        "SELECT site_id, count(*) FROM interactions GROUP BY site_id ORDER BY count(*) DESC",
    )
    .fetch_all(&mut owner)
    .await
    .expect("sites");
    let typical = std::env::var("IFIND_EXPLAIN_SITE").is_ok_and(|s| s == "typical");
    let (site, rows) = if typical {
        sites[sites.len() / 2]
    } else {
        sites[0]
    };
    // The words benches/policies.rs picks (the first of each class).
    let words: Vec<(String, i32)> = sqlx::query_as(
        "SELECT word, ndoc FROM ts_stat(format('SELECT search_vector FROM interactions \
         WHERE site_id = %s', $1::int)) \
         WHERE length(word) > 3 AND word ~ '^[a-z]+$' ORDER BY ndoc DESC, word",
    )
    .bind(site)
    .fetch_all(&mut owner)
    .await
    .expect("words");
    let total = rows as i32;
    let pick = |lo: i32, hi: i32| {
        words
            .iter()
            .find(|(_, n)| (lo..=hi).contains(n))
            .cloned()
            .unwrap_or_default()
    };
    let rare = pick(10, 60);
    let medium = pick(200, 3000.max(total / 50));
    let common = pick(total / 6, total);
    // The bench's two-letter prefixes (of the words ranked 1, 101, 201 and 301): the first that
    // is not a stop word (a stop word leaves no text, as an empty query).
    let mut prefix2 = String::new();
    for (w, _) in words.iter().take(400).step_by(100) {
        let p: String = w.chars().take(2).collect();
        let kept: Option<String> =
            sqlx::query_scalar("SELECT NULLIF(to_tsquery('english', $1 || ':*')::text, '')")
                .bind(&p)
                .fetch_one(&mut owner)
                .await
                .expect("prefix");
        if kept.is_some() {
            prefix2 = p;
            break;
        }
    }
    let lead: String = sqlx::query_scalar(
        "SELECT lead FROM interactions WHERE site_id = $1 GROUP BY lead \
         ORDER BY count(*) DESC, lead LIMIT 1",
    )
    .bind(site)
    .fetch_one(&mut owner)
    .await
    .expect("lead");
    let lead = lead.split_whitespace().last().unwrap_or("").to_lowercase();
    let mut typo: Vec<char> = rare.0.chars().collect();
    typo.swap(1, 2);
    let typo: String = typo.into_iter().collect();
    let (viewer, role): (i32, String) = sqlx::query_as(
        "SELECT m.user_id, m.role::text FROM user_site_mapping m JOIN users u USING (user_id) \
          WHERE m.site_id = $1 AND u.is_active AND NOT u.is_global_admin \
          ORDER BY (m.role = 'viewer') DESC, m.user_id LIMIT 1",
    )
    .bind(site)
    .fetch_one(&mut owner)
    .await
    .expect("a member of the site");
    println!(
        "{} site {site} ({rows} rows); rare {rare:?}, medium {medium:?}, common \
         {common:?}, prefix2 {prefix2:?}, lead {lead:?}, typo {typo:?}; acting user {viewer} \
         ({role} of the site) as ifind_app",
        if typical { "typical" } else { "largest" }
    );

    let app_url = common::app_url_of(&url);
    let mut app = sqlx::PgConnection::connect(&app_url).await.expect("app");
    let mut tx = app.begin().await.expect("begin");
    ifind::db::pool::set_acting_user(&mut tx, Some(viewer))
        .await
        .expect("acting user");
    ifind::db::pool::enter_site(&mut tx, site)
        .await
        .expect("enter the site");
    sqlx::query(
        "SELECT set_config('plan_cache_mode', 'force_custom_plan', true), \
                set_config('pg_trgm.word_similarity_threshold', $1, true)",
    )
    .bind(search::FUZZY_THRESHOLD)
    .execute(&mut *tx)
    .await
    .expect("settings");
    const EXPLAIN: &str = "EXPLAIN (ANALYZE, BUFFERS) ";
    let limit = search::DEFAULT_LIMIT;
    let cases = [
        ("browse", String::new(), Sort::Newest),
        ("rare word", format!("{} ", rare.0), Sort::Relevance),
        ("rare word", format!("{} ", rare.0), Sort::Newest),
        ("medium word", format!("{} ", medium.0), Sort::Relevance),
        ("medium word", format!("{} ", medium.0), Sort::Newest),
        ("common word", format!("{} ", common.0), Sort::Relevance),
        ("common word", format!("{} ", common.0), Sort::Newest),
        ("prefix2", prefix2.clone(), Sort::Relevance),
        ("lead:", format!("lead:{lead}"), Sort::Newest),
    ];
    for (label, line, sort) in cases {
        let parsed = ifind::domain::query::parse(&line);
        let (matches, rank): (Option<String>, Option<String>) = sqlx::query_as(
            "SELECT NULLIF(to_tsquery('english', $1)::text, ''), \
                    NULLIF(to_tsquery('english', $2)::text, '')",
        )
        .bind(&parsed.tsquery)
        .bind(&parsed.rank_tsquery)
        .fetch_one(&mut *tx)
        .await
        .expect("normalise");
        // A short prefix on a small site walks the site's rows: the entry point is not given
        // the text (search::walk_small_site).
        let walk = search::walks(&mut tx, site, matches.as_deref())
            .await
            .expect("walks");
        let given = if walk { None } else { matches.as_deref() };
        let started = std::time::Instant::now();
        let candidates =
            search::match_candidates(&mut tx, site, given, &parsed.filters, false, MATCH_CAP)
                .await
                .expect("candidates");
        let took = started.elapsed();
        let took = format!("in {:.2} ms", took.as_secs_f64() * 1000.0);
        let summary = match &candidates {
            Candidates::Ids(ids) => format!("ifind_match_ids: {} ids {took}", ids.len()),
            Candidates::Newest(ids) => {
                format!(
                    "ifind_match_ids: the newest {} ids (more match) {took}",
                    ids.len()
                )
            }
            Candidates::All if walk => "ifind_match_ids not asked: the site is walked".into(),
            Candidates::All => "ifind_match_ids not asked".into(),
            other => format!("ifind_match_ids: {other:?} {took}"),
        };
        // As the search: ids that are exactly the matches are trimmed to a first page's (the
        // first limit + 1 newest first; relevance reads every listed match), and give the count.
        let exact = parsed.filters.kind.is_none()
            && parsed.filters.from.is_none()
            && parsed.filters.to.is_none()
            && (matches.is_none() || !walk);
        let ranked = sort == Sort::Relevance && rank.is_some();
        let head = (limit + 1) as usize;
        let sent = match &candidates {
            _ if ranked => candidates.clone(),
            Candidates::Ids(ids) if exact && ids.len() > head => {
                Candidates::Ids(ids[..head].to_vec())
            }
            Candidates::Newest(ids) if exact && ids.len() >= head => {
                Candidates::Ids(ids[..head].to_vec())
            }
            other => other.clone(),
        };
        let plan: Vec<String> = search::page_statement(
            EXPLAIN,
            site,
            matches.as_deref(),
            rank.as_deref(),
            walk,
            &sent,
            &parsed.filters,
            sort,
            None,
            limit,
        )
        .build_query_scalar()
        .fetch_all(&mut *tx)
        .await
        .expect("explain");
        let shown = match &sent {
            Candidates::Ids(ids) if ids.len() < summary_len(&candidates) => {
                format!(", the page given the first {}", ids.len())
            }
            _ => String::new(),
        };
        println!(
            "\n### {label} `{line}` ({sort}); {summary}{shown}\n\n```\n{}\n```",
            plan.join("\n")
        );
        if exact && matches!(candidates, Candidates::Ids(_)) {
            println!("\ncount: the number of ids");
            continue;
        }
        if exact && matches!(candidates, Candidates::Newest(_)) {
            println!(
                "\ncount: more ids than the count's cap ({}+)",
                search::DEFAULT_COUNT_CAP
            );
            continue;
        }
        let by_name = parsed.filters.lead.is_some() || parsed.filters.location.is_some();
        if exact && by_name && !walk && matches!(candidates, Candidates::Many) {
            // A dense name: the search counts through `ifind_match_count` (a dense text alone
            // is counted by the statement's own date-ordered walk, below).
            let started = std::time::Instant::now();
            let n: i64 =
                sqlx::query_scalar("SELECT ifind_match_count($1, $2::tsquery, $3, $4, $5, $6)")
                    .bind(site)
                    .bind(matches.as_deref())
                    .bind(parsed.filters.lead.as_ref().map(search::narrowing_pattern))
                    .bind(
                        parsed
                            .filters
                            .location
                            .as_ref()
                            .map(search::narrowing_pattern),
                    )
                    .bind(false)
                    .bind(search::DEFAULT_COUNT_CAP as i32)
                    .fetch_one(&mut *tx)
                    .await
                    .expect("ifind_match_count");
            println!(
                "\ncount: ifind_match_count answered {n} in {:.2} ms",
                started.elapsed().as_secs_f64() * 1000.0
            );
            continue;
        }
        let plan: Vec<String> = search::count_statement(
            EXPLAIN,
            site,
            matches.as_deref(),
            walk,
            &candidates,
            &parsed.filters,
            search::DEFAULT_COUNT_CAP,
        )
        .build_query_scalar()
        .fetch_all(&mut *tx)
        .await
        .expect("explain count");
        println!(
            "\n#### its count (cap {})\n\n```\n{}\n```",
            search::DEFAULT_COUNT_CAP,
            plan.join("\n")
        );
    }
    let started = std::time::Instant::now();
    let near: Option<Vec<i32>> = sqlx::query_scalar("SELECT ifind_near_ids($1, $2, $3)")
        .bind(site)
        .bind(&typo)
        .bind(search::NEAR_CAP as i32)
        .fetch_one(&mut *tx)
        .await
        .expect("near ids");
    let took = started.elapsed();
    let summary = near
        .as_ref()
        .map_or("NULL".to_string(), |v| format!("{} ids", v.len()));
    // No filters: the page is the first ids, in the statement's order (search::near_matches).
    let near = near.map(|mut ids| {
        ids.truncate(search::DEFAULT_LIMIT as usize);
        ids
    });
    let plan: Vec<String> = search::near_statement(
        EXPLAIN,
        site,
        &typo,
        near,
        &Filters::default(),
        search::DEFAULT_LIMIT,
    )
    .build_query_scalar()
    .fetch_all(&mut *tx)
    .await
    .expect("explain");
    println!(
        "\n### near matches for `{typo}`; ifind_near_ids: {summary} in {:.2} ms\n\n```\n{}\n```",
        took.as_secs_f64() * 1000.0,
        plan.join("\n")
    );
    tx.rollback().await.ok();

    // Inside the entry point, as the owner, as EXECUTE plans them: the probe of the site's 200
    // newest rows, then the enumeration of the matches (up to the cap + 1).
    for word in [&rare.0, &medium.0] {
        let probe: Vec<String> = sqlx::query_scalar(
            "EXPLAIN (ANALYZE, BUFFERS) SELECT count(*) FROM (SELECT search_vector, lead, \
               location FROM interactions WHERE site_id = $1 AND deleted_at IS NULL \
               ORDER BY start_datetime DESC LIMIT 200) AS n \
              WHERE true AND n.search_vector @@ to_tsquery('english', $2)",
        )
        .bind(site)
        .bind(word)
        .fetch_all(&mut owner)
        .await
        .expect("explain probe");
        let plan: Vec<String> = sqlx::query_scalar(
            "EXPLAIN (ANALYZE, BUFFERS) SELECT array_agg(i ORDER BY t DESC, i DESC) FROM \
               (SELECT interaction_id, start_datetime FROM interactions \
                 WHERE site_id = $1 AND deleted_at IS NULL \
                   AND search_vector @@ to_tsquery('english', $2) LIMIT $3) AS s (i, t)",
        )
        .bind(site)
        .bind(word)
        .bind(MATCH_CAP + 1)
        .fetch_all(&mut owner)
        .await
        .expect("explain");
        println!(
            "\n### inside ifind_match_ids for `{word}` (as the owner)\n\n```\n{}\n```\n\n```\n{}\n```",
            probe.join("\n"),
            plan.join("\n")
        );
    }
}

/// How many ids the entry point answered (0 for anything but ids).
fn summary_len(c: &Candidates) -> usize {
    match c {
        Candidates::Ids(ids) => ids.len(),
        _ => 0,
    }
}

/// More matches than the entry point lists (`Candidates::Many`): the Finder's count asks
/// `ifind_match_count`, which counts through the text index as the owner after checking the
/// site; the number is the owner's, and nothing for a site one may not read.
#[tokio::test]
async fn a_count_above_the_cap_goes_through_the_index_and_is_exact() {
    let w = world().await;
    let owner: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM interactions WHERE site_id = $1 AND deleted_at IS NULL \
          AND search_vector @@ to_tsquery('english', 'weekly')",
    )
    .bind(w.alpha)
    .fetch_one(&w.t.db.pool)
    .await
    .expect("owner count");
    assert!(owner > MATCH_CAP, "more than the cap: {owner}");
    let mut tx = w.app.begin_as(Some(w.alice)).await.expect("begin");
    let mut req = SearchRequest::new(w.alpha, "weekly");
    req.count_cap = 10_000;
    let counted = search::count_in(&mut tx, &req).await.expect("count");
    assert_eq!(
        counted,
        ifind::db::search::MatchCount::Exact(owner),
        "the app's count"
    );
    req.count_cap = 1_000;
    let capped = search::count_in(&mut tx, &req).await.expect("count");
    assert_eq!(capped, ifind::db::search::MatchCount::AtLeast(1_000));
    // The entry point itself, for the site alice may not read: nothing.
    let other: i64 = sqlx::query_scalar(
        "SELECT ifind_match_count($1, to_tsquery('english', 'weekly'), NULL, NULL, false, 10000)",
    )
    .bind(w.beta)
    .fetch_one(&mut *tx)
    .await
    .expect("count at beta");
    assert_eq!(other, 0, "nothing of a site alice may not read");
    tx.rollback().await.expect("rollback");
}
