//! The raw side of the comparison: SQL written by hand, sent on a plain connection.
//!
//! Two forms per query line, both from the app's own parse of the line
//! (`ifind::domain::query::parse`), values always bound:
//! - "raw": the statements the Finder's search sends for a first page, with the same text
//!   (`src/db/search.rs`) and the same binds: the page (`limit + 1` rows, the username join, the
//!   same WHERE with the tsquery text normalised beforehand and bound as `$n::tsquery`, the same
//!   ORDER BY) and, when there is another page, the capped count. What the app does besides (a
//!   transaction, the acting user, the cancel tag, normalising the tsquery text in a statement
//!   of its own, a savepoint) is what the app/raw ratio shows.
//! - "ref": the hand-written query of the reference figures: one statement, the first
//!   50 rows, no count, no join, plain filters (`type = $t`, dates as UTC days), later pages by
//!   OFFSET.

use chrono::{DateTime, Utc};
use ifind::db::search::{self, Sort, contains_pattern, utc_midnight};
use ifind::domain::interaction::INTERACTION_COLUMNS;
use ifind::domain::query::{Filters, ParsedQuery};

use sqlx::{PgConnection, Postgres, QueryBuilder};

/// Where a later page starts: the previous page's last `(rank, start_datetime, id)`.
#[derive(Clone, Copy, Debug)]
pub struct After {
    pub rank: Option<f32>,
    pub start: DateTime<Utc>,
    pub id: i32,
}

const NAMES_OPEN: &str =
    "SELECT h.*, cu.username AS created_by_name, uu.username AS updated_by_name FROM (SELECT ";
const EXPLAIN: &str = "EXPLAIN (ANALYZE, BUFFERS) ";
const NAMES_CLOSE: &str = ") AS h LEFT JOIN users cu ON cu.user_id = h.created_by \
     LEFT JOIN users uu ON uu.user_id = h.updated_by";

/// A query line as the app's search has it after its first statement: parsed, and the tsquery
/// texts normalised by `to_tsquery('english', ...)` (the app binds those as `$n::tsquery`).
#[derive(Clone, Debug)]
pub struct Prepared {
    pub parsed: ParsedQuery,
    /// `search_vector @@` this; None: no text condition.
    pub matches: Option<String>,
    /// `ts_rank` by this; None: nothing to rank by.
    pub rank: Option<String>,
}

/// Parses `query` and normalises its tsquery texts (untimed, on `conn`).
pub async fn prepare(conn: &mut PgConnection, query: &str) -> sqlx::Result<Prepared> {
    let parsed = ifind::domain::query::parse(query);
    let (matches, rank): (Option<String>, Option<String>) =
        sqlx::query_as("SELECT to_tsquery('english', $1)::text, to_tsquery('english', $2)::text")
            .bind(&parsed.tsquery)
            .bind(&parsed.rank_tsquery)
            .fetch_one(&mut *conn)
            .await?;
    let some = |s: Option<String>| s.filter(|s| !s.is_empty());
    Ok(Prepared {
        parsed,
        matches: some(matches),
        rank: some(rank),
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

/// The app's WHERE (site, live rows, text, filters in local calendar days): the Finder's own
/// builder, so the raw side sends exactly the app's statement.
fn app_where(qb: &mut QueryBuilder<'_, Postgres>, site: i32, text: Option<&str>, f: &Filters) {
    search::push_where(qb, site, text, f);
}

/// The app's page statement: `limit + 1` rows after `after`, with the usernames.
fn app_page(
    prefix: &'static str,
    site: i32,
    p: &Prepared,
    sort: Sort,
    after: Option<After>,
    limit: i64,
) -> QueryBuilder<'static, Postgres> {
    let mut qb = QueryBuilder::<Postgres>::new(prefix);
    qb.push(NAMES_OPEN);
    let text = p.matches.as_deref();
    let outer = match (effective(sort, p), p.rank.as_deref()) {
        (Sort::Relevance, Some(rank)) => {
            qb.push("* FROM (SELECT ")
                .push(INTERACTION_COLUMNS)
                .push(", ts_rank(search_vector, ")
                .push_bind(rank.to_string())
                .push("::tsquery) AS rank");
            app_where(&mut qb, site, text, &p.parsed.filters);
            qb.push(") AS m");
            if let Some(a) = after {
                qb.push(" WHERE (rank, start_datetime, interaction_id) < (")
                    .push_bind(a.rank)
                    .push("::real, ")
                    .push_bind(a.start)
                    .push(", ")
                    .push_bind(a.id)
                    .push(")");
            }
            qb.push(" ORDER BY rank DESC, start_datetime DESC, interaction_id DESC");
            "h.rank DESC, h.start_datetime DESC, h.interaction_id DESC"
        }
        (s, _) => {
            let (cmp, dir) = if s == Sort::Oldest {
                (">", "ASC")
            } else {
                ("<", "DESC")
            };
            qb.push(INTERACTION_COLUMNS).push(", NULL::real AS rank");
            app_where(&mut qb, site, text, &p.parsed.filters);
            if let Some(a) = after {
                qb.push(" AND start_datetime ")
                    .push(cmp)
                    .push("= ")
                    .push_bind(a.start)
                    .push(" AND (start_datetime, interaction_id) ")
                    .push(cmp)
                    .push(" (")
                    .push_bind(a.start)
                    .push(", ")
                    .push_bind(a.id)
                    .push(")");
            }
            qb.push(" ORDER BY start_datetime ")
                .push(dir)
                .push(", interaction_id ")
                .push(dir);
            if s == Sort::Oldest {
                "h.start_datetime ASC, h.interaction_id ASC"
            } else {
                "h.start_datetime DESC, h.interaction_id DESC"
            }
        }
    };
    qb.push(" LIMIT ").push_bind(limit + 1);
    qb.push(NAMES_CLOSE).push(" ORDER BY ").push(outer);
    qb
}

/// The app's count statement: matches up to `cap + 1` rows.
fn app_count(
    prefix: &'static str,
    site: i32,
    p: &Prepared,
    cap: i64,
) -> QueryBuilder<'static, Postgres> {
    let mut qb = QueryBuilder::<Postgres>::new(prefix);
    qb.push("SELECT count(*) FROM (SELECT 1");
    app_where(&mut qb, site, p.matches.as_deref(), &p.parsed.filters);
    qb.push(" LIMIT ").push_bind(cap + 1).push(") AS s");
    qb
}

/// The app's statements for one page, sent raw: the page, and on a full first page the count
/// capped at `cap + 1` rows. Returns the number of rows of the page.
pub async fn raw(
    conn: &mut PgConnection,
    site: i32,
    p: &Prepared,
    sort: Sort,
    after: Option<After>,
    cap: i64,
) -> sqlx::Result<usize> {
    let limit = ifind::db::search::DEFAULT_LIMIT;
    let rows = app_page("", site, p, sort, after, limit)
        .build()
        .fetch_all(&mut *conn)
        .await?;
    if after.is_none() && rows.len() as i64 > limit {
        let n: i64 = app_count("", site, p, cap)
            .build_query_scalar()
            .fetch_one(&mut *conn)
            .await?;
        std::hint::black_box(n);
    }
    Ok(rows.len())
}

/// The plain hand-written query: one statement, 50 rows from `offset`.
pub async fn reference(
    conn: &mut PgConnection,
    site: i32,
    p: &Prepared,
    sort: Sort,
    offset: i64,
) -> sqlx::Result<usize> {
    let parsed = &p.parsed;
    let limit = ifind::db::search::DEFAULT_LIMIT;
    let mut qb = QueryBuilder::<Postgres>::new("SELECT ");
    qb.push(INTERACTION_COLUMNS)
        .push(" FROM interactions WHERE site_id = ")
        .push_bind(site)
        .push(" AND deleted_at IS NULL");
    if let Some(t) = &parsed.tsquery {
        qb.push(" AND search_vector @@ to_tsquery('english', ")
            .push_bind(t.clone())
            .push(")");
    }
    let f = &parsed.filters;
    if let Some(kind) = &f.kind {
        qb.push(" AND type = ").push_bind(kind.clone());
    }
    if let Some(lead) = &f.lead {
        qb.push(" AND lead ILIKE ")
            .push_bind(contains_pattern(lead));
    }
    if let Some(lo) = f.from.and_then(|d| utc_midnight(d, 0)) {
        qb.push(" AND start_datetime >= ").push_bind(lo);
    }
    if let Some(hi) = f.to.and_then(|d| utc_midnight(d, 1)) {
        qb.push(" AND start_datetime < ").push_bind(hi);
    }
    match (effective(sort, p), &parsed.rank_tsquery) {
        (Sort::Relevance, Some(rank)) => {
            qb.push(" ORDER BY ts_rank(search_vector, to_tsquery('english', ")
                .push_bind(rank.clone())
                .push(")) DESC, start_datetime DESC, interaction_id DESC");
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
    Ok(rows.len())
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
