//! The Finder's month histogram: how the matches of a search spread over the months (each
//! interaction's month in its own timezone). It runs after the first page, in the background,
//! under a small time budget of its own: when counting would cost more than the budget (a huge
//! site and a common word), the server cancels it and the Finder shows no histogram instead of
//! a slow one.

use chrono::NaiveDate;
use sqlx::{Connection, PgConnection, Postgres, QueryBuilder};

use super::search::{
    Prepared, SearchError, SearchRequest, SiteSizes, Table, Text, ensure_candidates, prepare,
    push_where_in, walk_small_site,
};
use crate::domain::histogram::MonthCount;
use crate::domain::query;

/// The histogram counts every match: it asks the definer entry point for more ids than a page
/// does (up to this many, the statement reads those rows by key; beyond, it tests the site's
/// rows itself, under the time budget).
const HISTOGRAM_MATCH_CAP: i64 = 20_000;

/// PostgreSQL's "canceling statement due to statement timeout".
const QUERY_CANCELED: &str = "57014";

/// The matches of `req` per month, oldest first (an empty query gives the site's activity over
/// time); None when they could not be counted within `budget_ms`, and then nothing is shown.
pub async fn histogram(
    conn: &mut PgConnection,
    req: &SearchRequest,
    budget_ms: u32,
) -> Result<Option<Vec<MonthCount>>, SearchError> {
    let parsed = crate::db::search::parsed(req);
    let mut tx = conn.begin().await?;
    crate::db::pool::enter_site(&mut tx, req.site_id).await?;
    // The budget covers the candidates' entry point too.
    sqlx::query("SELECT set_config('statement_timeout', $1, true)")
        .bind(budget_ms.max(1).to_string())
        .execute(&mut *tx)
        .await?;
    let sizes = SiteSizes::shared();
    let prepared = prepare(
        &mut tx,
        sizes,
        &parsed,
        req.site_id,
        false,
        HISTOGRAM_MATCH_CAP,
        false,
    )
    .await;
    let Prepared {
        mut normal,
        mut relaxed,
        ..
    } = match prepared {
        Ok(p) => p,
        Err(e) if is_timeout(&e) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    match walk_small_site(&mut tx, sizes, req.site_id, [&mut normal, &mut relaxed]).await {
        Ok(()) => {}
        Err(e) if is_timeout(&e) => return Ok(None),
        Err(e) => return Err(e.into()),
    }
    let mut months = match count_by_month(&mut tx, req.site_id, &normal, &parsed.filters).await {
        Ok(m) => m,
        Err(e) if is_timeout(&e) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    if months.is_empty() && relaxed.matches.is_some() {
        let counted =
            match ensure_candidates(&mut tx, req.site_id, &mut relaxed, &parsed.filters, false)
                .await
            {
                Ok(()) => count_by_month(&mut tx, req.site_id, &relaxed, &parsed.filters).await,
                Err(e) => Err(e),
            };
        months = match counted {
            Ok(m) => m,
            Err(e) if is_timeout(&e) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
    }
    tx.commit().await?;
    Ok(Some(months))
}

fn is_timeout(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .and_then(|d| d.code())
        .is_some_and(|c| c == QUERY_CANCELED)
}

async fn count_by_month(
    conn: &mut PgConnection,
    site_id: i32,
    text: &Text,
    filters: &query::Filters,
) -> Result<Vec<MonthCount>, sqlx::Error> {
    let mut qb = QueryBuilder::<Postgres>::new(
        "SELECT date_trunc('month', start_datetime AT TIME ZONE timezone)::date AS month, \
         count(*) AS n",
    );
    push_where_in(&mut qb, Table::Live, site_id, text, filters);
    qb.push(" GROUP BY 1 ORDER BY 1");
    let rows: Vec<(NaiveDate, i64)> = qb.build_query_as().fetch_all(conn).await?;
    Ok(rows
        .into_iter()
        .map(|(month, count)| MonthCount { month, count })
        .collect())
}
