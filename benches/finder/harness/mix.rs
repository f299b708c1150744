//! The query mix: Finder query lines per class, picked from one site's own data so that the
//! same seed gives the same mix.
//!
//! Words come from the site's `ts_stat` (lexemes of four or more letters that `to_tsquery`
//! keeps as they are), by how many of the site's rows hold them: rare 10-60 rows, medium
//! 200-3,400 rows (below a sixth of the site), common more than a sixth of the site; smaller
//! sites fall back to the nearest bands they have. Whole words are typed with a trailing space
//! (so the parser does not make them prefixes); the prefix classes are the first 1-4 letters
//! of medium and common words as a person types them. Every case has at least one match, so the
//! mix measures the normal search path (not the relaxed-prefix or typo fallbacks).

use std::collections::HashMap;

use anyhow::Result;
use ifind::db::search::{MatchCount, SearchRequest, Sort};
use sqlx::PgConnection;

use super::setup::Site;

/// One Finder query line of a class.
#[derive(Clone, Debug)]
pub struct Case {
    pub class: &'static str,
    pub query: String,
    /// Live rows it matches in its site.
    pub matches: i64,
}

/// The classes, in report order.
pub const CLASSES: [&str; 15] = [
    "rare word",
    "medium word",
    "common word",
    "two words",
    "three words",
    "phrase",
    "prefix 1",
    "prefix 2",
    "prefix 3",
    "prefix 4",
    "type:",
    "lead:",
    "from:/to:",
    "word+filters",
    "empty",
];

/// The mix of one site.
#[derive(Clone, Debug)]
pub struct Mix {
    pub site: Site,
    pub cases: Vec<Case>,
    /// Queries with at least ten pages of matches, for the 10th-page measurement.
    pub deep: Vec<Case>,
}

impl Mix {
    /// The cases of one class.
    pub fn class(&self, class: &str) -> Vec<&Case> {
        self.cases.iter().filter(|c| c.class == class).collect()
    }
}

/// Words of the site by document frequency, most frequent first.
async fn words(conn: &mut PgConnection, site: i32) -> Result<Vec<(String, i64)>> {
    let rows: Vec<(String, i32)> = sqlx::query_as(
        "SELECT word, ndoc FROM ts_stat(format('SELECT search_vector FROM interactions \
         WHERE site_id = %s AND deleted_at IS NULL', $1::int)) \
         WHERE word ~ '^[a-z]{4,}$' AND to_tsquery('english', word)::text = quote_literal(word) \
         ORDER BY ndoc DESC, word",
    )
    .bind(site)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.into_iter().map(|(w, n)| (w, i64::from(n))).collect())
}

/// Up to `n` words evenly spread over those whose frequency is within `lo..=hi`.
fn band(words: &[(String, i64)], lo: i64, hi: i64, n: usize) -> Vec<String> {
    let inside: Vec<String> = words
        .iter()
        .filter(|(_, d)| *d >= lo && *d <= hi)
        .map(|(w, _)| w.clone())
        .collect();
    spread(&inside, n)
}

fn spread<T: Clone>(items: &[T], n: usize) -> Vec<T> {
    if items.len() <= n {
        return items.to_vec();
    }
    (0..n).map(|i| items[i * items.len() / n].clone()).collect()
}

/// How many live rows of the site `query` matches, through the app's own search (an exact
/// count); 0 when only the relaxed or typo-tolerant fallbacks found something.
pub async fn matches(conn: &mut PgConnection, site: i32, query: &str) -> Result<i64> {
    let req = SearchRequest {
        site_id: site,
        query: query.to_string(),
        sort: Sort::Newest,
        limit: 1,
        after: None,
        count_cap: i64::from(i32::MAX),
        count_if_free: false,
        archive: false,
        from_end: false,
        starts_from: None,
    };
    let page = ifind::db::search::search(conn, &req).await?;
    Ok(match page.count {
        _ if page.fuzzy => 0,
        Some(MatchCount::Exact(n)) | Some(MatchCount::AtLeast(n)) => n,
        None => 0,
    })
}

/// Builds the mix of `site` with up to `per_class` queries per class.
pub async fn build(conn: &mut PgConnection, site: &Site, per_class: usize) -> Result<Mix> {
    let words = words(conn, site.id).await?;
    let total = site.rows;
    let n = per_class;
    let mut rare = band(&words, 10, 60, n);
    if rare.len() < n {
        let mut tail: Vec<String> = words
            .iter()
            .rev()
            .filter(|(_, d)| *d >= 2)
            .map(|(w, _)| w.clone())
            .take(n * 3)
            .collect();
        tail.retain(|w| !rare.contains(w));
        rare.extend(spread(&tail, n - rare.len()));
    }
    let sixth = (total / 6).max(2);
    let mut common = band(&words, sixth, i64::MAX, n);
    if common.len() < n {
        common = words.iter().take(n).map(|(w, _)| w.clone()).collect();
    }
    let mut medium = band(&words, 200, 3400.min(sixth - 1), n);
    if medium.len() < n {
        medium = band(&words, (total / 100).max(11), sixth - 1, n);
    }
    if medium.is_empty() {
        let mid: Vec<String> = words.iter().map(|(w, _)| w.clone()).collect();
        medium = spread(&mid[mid.len() / 4..mid.len() / 2], n);
    }

    let mut candidates: Vec<(&'static str, String)> = Vec::new();
    for w in &rare {
        candidates.push(("rare word", format!("{w} ")));
    }
    for w in &medium {
        candidates.push(("medium word", format!("{w} ")));
    }
    for w in &common {
        candidates.push(("common word", format!("{w} ")));
    }
    let at = |v: &Vec<String>, i: usize| v[i % v.len().max(1)].clone();
    for i in 0..n * 2 {
        candidates.push((
            "two words",
            format!("{} {} ", at(&common, i), at(&medium, i)),
        ));
    }
    for i in 0..n * 3 {
        candidates.push((
            "three words",
            format!(
                "{} {} {} ",
                at(&common, i),
                at(&common, i + 1),
                at(&medium, i / 2)
            ),
        ));
    }
    for p in phrases(conn, site.id, &words, n * 2).await? {
        candidates.push(("phrase", format!("\"{p}\"")));
    }
    let typed: Vec<String> = (0..n)
        .map(|i| {
            if i % 2 == 0 {
                at(&common, i / 2)
            } else {
                at(&medium, i / 2)
            }
        })
        .collect();
    for (k, class) in [
        (1, "prefix 1"),
        (2, "prefix 2"),
        (3, "prefix 3"),
        (4, "prefix 4"),
    ] {
        let mut seen = Vec::new();
        for w in &typed {
            let p: String = w.chars().take(k).collect();
            if !seen.contains(&p) {
                seen.push(p.clone());
                candidates.push((class, p));
            }
        }
    }
    let kinds: Vec<(String, i64)> = sqlx::query_as(
        "SELECT type, count(*) FROM interactions WHERE site_id = $1 AND deleted_at IS NULL \
         GROUP BY type ORDER BY count(*) DESC, type LIMIT $2",
    )
    .bind(site.id)
    .bind(n as i64)
    .fetch_all(&mut *conn)
    .await?;
    for (k, _) in &kinds {
        candidates.push(("type:", format!("type:\"{k}\"")));
    }
    let leads: Vec<(String, i64)> = sqlx::query_as(
        "SELECT lead, count(*) FROM interactions WHERE site_id = $1 AND deleted_at IS NULL \
         GROUP BY lead ORDER BY count(*) DESC, lead LIMIT $2",
    )
    .bind(site.id)
    .bind(n as i64)
    .fetch_all(&mut *conn)
    .await?;
    for (lead, _) in &leads {
        let part = lead
            .split_whitespace()
            .rfind(|p| p.chars().all(char::is_alphabetic))
            .unwrap_or(lead.as_str());
        candidates.push(("lead:", format!("lead:{part}")));
    }
    let months: Vec<(chrono::NaiveDate, chrono::NaiveDate)> = sqlx::query_as(
        "SELECT m::date, (m + interval '1 month' - interval '1 day')::date FROM ( \
           SELECT date_trunc('month', start_datetime AT TIME ZONE 'UTC') AS m, count(*) AS c \
           FROM interactions WHERE site_id = $1 AND deleted_at IS NULL GROUP BY 1) s \
         ORDER BY c DESC, m LIMIT $2",
    )
    .bind(site.id)
    .bind(n as i64)
    .fetch_all(&mut *conn)
    .await?;
    for (from, to) in &months {
        candidates.push(("from:/to:", format!("from:{from} to:{to}")));
    }
    for i in 0..n * 2 {
        let (k, _) = &kinds[i % kinds.len().max(1)];
        let line = match months.get(i % months.len().max(1)) {
            Some((from, _)) if i % 2 == 0 => {
                let to = *from + chrono::Days::new(180);
                format!("{} type:\"{k}\" from:{from} to:{to}", at(&common, i))
            }
            _ => format!("{} type:\"{k}\" ", at(&common, i)),
        };
        candidates.push(("word+filters", line));
    }
    candidates.push(("empty", String::new()));

    let mut cases = Vec::new();
    let mut taken: HashMap<&'static str, usize> = HashMap::new();
    let mut deep = Vec::new();
    for (class, query) in candidates {
        let quota = if class == "empty" { 1 } else { n };
        if taken.get(class).copied().unwrap_or(0) >= quota {
            continue;
        }
        if cases
            .iter()
            .any(|c: &Case| c.class == class && c.query == query)
        {
            continue;
        }
        let m = matches(conn, site.id, &query).await?;
        if m == 0 {
            continue;
        }
        *taken.entry(class).or_default() += 1;
        let case = Case {
            class,
            query,
            matches: m,
        };
        let deep_of_class = deep.iter().filter(|c: &&Case| c.class == class).count();
        if matches!(class, "common word" | "type:") && m > 450 && deep_of_class < n {
            deep.push(case.clone());
        }
        cases.push(case);
    }
    Ok(Mix {
        site: site.clone(),
        cases,
        deep,
    })
}

/// Two-word phrases from the site's titles, most frequent first (both words indexed as typed).
async fn phrases(
    conn: &mut PgConnection,
    site: i32,
    words: &[(String, i64)],
    n: usize,
) -> Result<Vec<String>> {
    let titles: Vec<String> = sqlx::query_scalar(
        "SELECT title FROM interactions WHERE site_id = $1 AND deleted_at IS NULL \
         ORDER BY interaction_id LIMIT 2000",
    )
    .bind(site)
    .fetch_all(&mut *conn)
    .await?;
    let indexed: std::collections::HashSet<&str> = words.iter().map(|(w, _)| w.as_str()).collect();
    let mut counts: HashMap<String, usize> = HashMap::new();
    for t in &titles {
        let lower = t.to_lowercase();
        let ws: Vec<&str> = lower
            .split(|c: char| !c.is_alphabetic())
            .filter(|w| !w.is_empty())
            .collect();
        for pair in ws.windows(2) {
            if indexed.contains(pair[0]) && indexed.contains(pair[1]) {
                *counts
                    .entry(format!("{} {}", pair[0], pair[1]))
                    .or_default() += 1;
            }
        }
    }
    let mut ranked: Vec<(String, usize)> = counts.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let all: Vec<String> = ranked.into_iter().map(|(p, _)| p).collect();
    Ok(spread(&all[..all.len().min(n * 4)], n))
}
