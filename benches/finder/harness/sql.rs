//! The raw side of the comparison: SQL written by hand, sent on a plain connection.
//!
//! Two forms per query line, both from the app's own parse of the line
//! (`ifind::domain::query::parse`), values always bound:
//! - "raw": the page statement the Finder's search sends for a page, built by the app's own
//!   builder (`ifind::db::search::page_statement`) with the same binds (`limit + 1` rows, the
//!   username join, the tsquery text normalised beforehand and bound as `$n::tsquery`, the rank
//!   window); and, timed separately, the capped count the Finder asks for after a full first
//!   page (`count_statement`). What the app does besides (a transaction, the acting user and
//!   the cancel tag, normalising the tsquery text in a statement of its own) is what the
//!   app/raw ratio shows.
//! - "ref": the hand-written query of the reference figures: one statement, the first
//!   50 rows, no count, no join, plain filters (`type = $t`, dates as UTC days), later pages by
//!   OFFSET; relevance ranks every match by the documented function (the tier of the fields
//!   matched, [`search::TIERS`], then newest) computed for each row and sorted: the naive
//!   statement, and the check of the app's ranking (its first page must be this one's).

use chrono::{DateTime, Utc};
use ifind::db::search::{self, Sort, utc_midnight, word_start_regex};
use ifind::domain::interaction::INTERACTION_COLUMNS;
use ifind::domain::query::ParsedQuery;

use sqlx::{PgConnection, Postgres, QueryBuilder};

/// Where a later page starts: the previous page's last `(rank, start_datetime, id)`.
#[derive(Clone, Copy, Debug)]
pub struct After {
    pub rank: Option<f32>,
    pub start: DateTime<Utc>,
    pub id: i32,
}

const EXPLAIN: &str = "EXPLAIN (ANALYZE, BUFFERS) ";

/// A query line as the app's search has it after its first statement: parsed, and the tsquery
/// texts normalised by `to_tsquery('english', ...)` (the app binds those as `$n::tsquery`).
#[derive(Clone, Debug)]
pub struct Prepared {
    pub parsed: ParsedQuery,
    /// `search_vector @@` this; None: no text condition.
    pub matches: Option<String>,
    /// `ts_rank` by this; None: nothing to rank by.
    pub rank: Option<String>,
    /// The app walks the site's rows for this text (a short prefix on a small site).
    pub walk: bool,
    /// What the app's definer entry point `ifind_match_ids` answers for this text and filters
    /// (asked untimed here, as the normalisation; the app asks in its first statement).
    pub candidates: search::Candidates,
    /// The candidates are exactly the matches (the entry point checked every condition).
    pub exact: bool,
    /// For relevance over many matches: what `ifind_heading_ids` answers (the app asks before
    /// the page), untimed here too.
    pub heading: Option<search::Candidates>,
}

/// Parses `query` and normalises its tsquery texts (untimed, on `conn`), and asks the app
/// whether it would walk `site`'s rows for it.
pub async fn prepare(conn: &mut PgConnection, site: i32, query: &str) -> sqlx::Result<Prepared> {
    let parsed = ifind::domain::query::parse(query);
    let (matches, rank): (Option<String>, Option<String>) =
        sqlx::query_as("SELECT to_tsquery('english', $1)::text, to_tsquery('english', $2)::text")
            .bind(&parsed.tsquery)
            .bind(&parsed.rank_tsquery)
            .fetch_one(&mut *conn)
            .await?;
    let some = |s: Option<String>| s.filter(|s| !s.is_empty());
    let matches = some(matches);
    let walk = search::walks(conn, site, matches.as_deref()).await?;
    let candidates = search::match_candidates(
        conn,
        site,
        if walk { None } else { matches.as_deref() },
        &parsed.filters,
        false,
        search::MATCH_CAP,
    )
    .await?;
    let rank = some(rank);
    // As the app: exact when the entry point checked every condition; the heading tier asked
    // for relevance over many matches, or over enough listed ones.
    let exact = search::exact_for(&parsed.filters, matches.is_none() || !walk);
    let heading = match &rank {
        Some(r) if search::wants_heading(&candidates, exact) && !walk => {
            Some(search::heading_candidates(conn, site, r, search::MATCH_CAP).await?)
        }
        _ => None,
    };
    Ok(Prepared {
        parsed,
        matches,
        rank,
        walk,
        candidates,
        exact,
        heading,
    })
}

/// The sort the app really uses: relevance without positive words is newest first.
pub fn effective(sort: Sort, p: &Prepared) -> Sort {
    if sort == Sort::Relevance && p.rank.is_none() {
        Sort::Newest
    } else {
        sort
    }
}

/// Where a later page starts: the previous page's last `(rank, start_datetime, id)`.
fn after_of(a: After) -> search::PageAfter {
    search::PageAfter {
        rank: a.rank,
        start: a.start,
        id: a.id,
    }
}

/// The app's page statement (the Finder's own builder): `limit + 1` rows after `after`, with
/// the usernames, relevance ranking every match by its tier ([`search::TIERS`]).
fn app_page(
    prefix: &'static str,
    site: i32,
    p: &Prepared,
    sort: Sort,
    after: Option<After>,
    limit: i64,
) -> QueryBuilder<'static, Postgres> {
    let text = search::TextSpec {
        matches: p.matches.as_deref(),
        rank: p.rank.as_deref(),
        walk: p.walk,
        candidates: &p.candidates,
        exact: p.exact,
        heading: p.heading.as_ref(),
    };
    search::ranked_page_statement(
        prefix,
        site,
        text,
        &p.parsed.filters,
        sort,
        after.map(after_of),
        limit,
    )
}

/// The app's count statement (the Finder's own builder): matches up to `cap + 1` rows.
fn app_count(
    prefix: &'static str,
    site: i32,
    p: &Prepared,
    cap: i64,
) -> QueryBuilder<'static, Postgres> {
    search::count_statement(
        prefix,
        site,
        p.matches.as_deref(),
        p.walk,
        &p.candidates,
        &p.parsed.filters,
        cap,
    )
}

/// The app's page statement for one page, sent raw. Returns the number of rows.
pub async fn raw(
    conn: &mut PgConnection,
    site: i32,
    p: &Prepared,
    sort: Sort,
    after: Option<After>,
) -> sqlx::Result<usize> {
    let limit = ifind::db::search::DEFAULT_LIMIT;
    let rows = app_page("", site, p, sort, after, limit)
        .build()
        .fetch_all(&mut *conn)
        .await?;
    Ok(rows.len())
}

/// The app's count statement, sent raw (what the Finder asks after a full first page).
pub async fn raw_count(
    conn: &mut PgConnection,
    site: i32,
    p: &Prepared,
    cap: i64,
) -> sqlx::Result<i64> {
    app_count("", site, p, cap)
        .build_query_scalar()
        .fetch_one(&mut *conn)
        .await
}

/// The plain hand-written query: one statement, 50 rows from `offset`. Returns their ids.
pub async fn reference(
    conn: &mut PgConnection,
    site: i32,
    p: &Prepared,
    sort: Sort,
    offset: i64,
) -> sqlx::Result<Vec<i32>> {
    let parsed = &p.parsed;
    let limit = ifind::db::search::DEFAULT_LIMIT;
    let mut qb = QueryBuilder::<Postgres>::new("SELECT ");
    qb.push(INTERACTION_COLUMNS)
        .push(", search_vector")
        .push(" FROM interactions WHERE site_id = ")
        .push_bind(site)
        .push(" AND deleted_at IS NULL");
    if let Some(t) = &parsed.tsquery {
        qb.push(" AND search_vector @@ to_tsquery('english', ")
            .push_bind(t.clone())
            .push(")");
    }
    let f = &parsed.filters;
    for (column, field) in [
        ("type", &f.kind),
        ("lead", &f.lead),
        ("location", &f.location),
    ] {
        match field {
            Some(m) if m.whole => {
                qb.push(format!(" AND lower({column}) = lower("))
                    .push_bind(m.value.clone())
                    .push(")");
            }
            Some(m) => {
                qb.push(format!(" AND {column} ~* "))
                    .push_bind(word_start_regex(&m.value));
            }
            None => {}
        }
    }
    if let Some(lo) = f.from.and_then(|d| utc_midnight(d, 0)) {
        qb.push(" AND start_datetime >= ").push_bind(lo);
    }
    if let Some(hi) = f.to.and_then(|d| utc_midnight(d, 1)) {
        qb.push(" AND start_datetime < ").push_bind(hi);
    }
    match (effective(sort, p), &parsed.rank_tsquery) {
        (Sort::Relevance, Some(rank)) => {
            qb.push(" ORDER BY CASE");
            for (weight, labels) in search::TIERS {
                match labels {
                    Some(labels) => {
                        qb.push(" WHEN ts_filter(search_vector, ")
                            .push_bind(labels)
                            .push("::\"char\"[]) @@ to_tsquery('english', ")
                            .push_bind(rank.clone())
                            .push(") THEN ")
                            .push_bind(weight);
                    }
                    None => {
                        qb.push(" ELSE ").push_bind(weight);
                    }
                }
            }
            qb.push(" END DESC, start_datetime DESC, interaction_id DESC");
        }
        (Sort::Oldest, _) => {
            qb.push(" ORDER BY start_datetime, interaction_id");
        }
        _ => {
            qb.push(" ORDER BY start_datetime DESC, interaction_id DESC");
        }
    }
    qb.push(" LIMIT ").push_bind(limit);
    if offset > 0 {
        qb.push(" OFFSET ").push_bind(offset);
    }
    let rows = qb.build().fetch_all(&mut *conn).await?;
    rows.iter()
        .map(|row| sqlx::Row::try_get(row, "interaction_id"))
        .collect()
}

/// `EXPLAIN (ANALYZE, BUFFERS)` of the app's first-page statement and its count for one
/// case, as text.
pub async fn explain(
    conn: &mut PgConnection,
    site: i32,
    p: &Prepared,
    sort: Sort,
    cap: i64,
) -> sqlx::Result<String> {
    let limit = ifind::db::search::DEFAULT_LIMIT;
    let page: Vec<String> = app_page(EXPLAIN, site, p, sort, None, limit)
        .build_query_scalar()
        .fetch_all(&mut *conn)
        .await?;
    let count: Vec<String> = app_count(EXPLAIN, site, p, cap)
        .build_query_scalar()
        .fetch_all(&mut *conn)
        .await?;
    Ok(format!(
        "page:\n{}\ncount:\n{}",
        page.join("\n"),
        count.join("\n")
    ))
}
