//! What the definer entry point `ifind_match_ids` answers for a search ([`Candidates`]), and
//! the one statement that prepares a search ([`prepare`]): its settings, its normalised texts
//! and the candidates of each.

use crate::domain::query::FieldMatch;
use sqlx::PgConnection;

use super::site_size::{SiteSizes, has_short_prefix};
use super::*;

/// What the definer entry point `ifind_match_ids` (migration 0011) said about a search's rows:
/// the index-served conditions (text, `lead:`, `location:`) evaluated as the owner, after it
/// checked that the session may search the site.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Candidates {
    /// Not narrowed (nothing for the entry point to narrow by): the statement as it is.
    #[default]
    All,
    /// Every match is among these ids (at most the cap; none when the site may not be
    /// searched): the statement adds `interaction_id = ANY (ids)` and keeps its own conditions,
    /// which then run, after the policies, on those rows only.
    Ids(Vec<i32>),
    /// More matches than the cap: the newest `cap + 1` of them, newest first (migration 0014).
    /// A first page in date order, or the newest matches relevance ranks, are the first of
    /// these ids, read by key ([`Text::head`]); any other statement treats this as [`Many`].
    ///
    /// [`Many`]: Candidates::Many
    Newest(Vec<i32>),
    /// At least a tenth of the site's newest rows match (a common
    /// word, a short prefix): the statement walks the site's rows in date order with the text
    /// condition as a filter and stops after a page; the condition is written so that the
    /// planner expects it to keep most rows (it does), whatever its statistics say.
    Many,
}

/// The normalised text conditions of one variant (normal or relaxed).
#[derive(Clone, Debug, Default)]
pub(crate) struct Text {
    /// `search_vector @@` this, as tsquery text; None for no text condition.
    pub(crate) matches: Option<String>,
    /// Relevance tiers by this ([`TIERS`]); None when nothing positive is left.
    pub(crate) rank: Option<String>,
    /// Match with `ts_match_vq(search_vector, ...)`, which no index serves, instead of `@@`: the
    /// plan then walks the site's own rows (see [`walk_small_site`]).
    pub(crate) walk: bool,
    /// What `ifind_match_ids` answered; None: not asked yet.
    pub(crate) candidates: Option<Candidates>,
    /// The entry point evaluated every condition of the statement (no `type:` or dates, and the
    /// text given to it): its ids are exactly the matches, and their number is the count.
    pub(crate) exact: bool,
    /// The cap to ask the entry point with.
    pub(crate) cap: i64,
    /// Relevance over many matches: the heading tier's candidates from `ifind_heading_ids`
    /// (migration 0017); None: not asked.
    pub(crate) heading: Option<Candidates>,
}

/// The definer entry points return ids for at most this many matches (more: NULL, and the
/// statement walks the site in date order). Above the count cap, so that a count is known
/// from the answer alone; small enough that the ids cost less to fetch twice than the walk
/// (words dense among the newest rows are left to the walk whatever their number).
pub const MATCH_CAP: i64 = 2000;
/// Relevance over more listed matches than this asks `ifind_heading_ids` too, and picks the
/// page from the two lists instead of ranking every listed match.
pub const LISTED_RANKED: usize = 200;
/// The cap for the near matches' entry point `ifind_near_ids`.
pub const NEAR_CAP: i64 = 2000;

/// Conditions of `filters` that `ifind_match_ids` evaluates too.
pub(super) fn narrowing(filters: &Filters) -> (Option<String>, Option<String>) {
    (
        filters.lead.as_ref().map(narrowing_pattern),
        filters.location.as_ref().map(narrowing_pattern),
    )
}

/// Whether `ifind_match_ids` given `text_given` (whether it got the text condition, or there is
/// none) evaluates every condition of the statement.
pub fn exact_for(filters: &Filters, text_given: bool) -> bool {
    let whole = |f: &Option<FieldMatch>| f.as_ref().is_none_or(|m| m.whole);
    text_given
        && filters.kind.is_none()
        && whole(&filters.lead)
        && whole(&filters.location)
        && filters.from.is_none()
        && filters.to.is_none()
        && filters.starts_from.is_none()
}

/// The candidates of one text variant from `ifind_match_ids`' answer (asked with `cap`).
pub(super) fn candidates_of(asked: bool, ids: Option<Vec<i32>>, cap: i64) -> Candidates {
    match (asked, ids) {
        (false, _) => Candidates::All,
        (true, Some(ids)) if ids.len() as i64 > cap => Candidates::Newest(ids),
        (true, Some(ids)) => Candidates::Ids(ids),
        (true, None) => Candidates::Many,
    }
}

impl Candidates {
    /// More matches than the statement is narrowed to: it tests the site's rows itself.
    pub fn is_many(&self) -> bool {
        matches!(self, Candidates::Many | Candidates::Newest(_))
    }
}

impl Text {
    /// This text with only the first `n` candidates (the last `n` for `oldest`), when the
    /// candidates are exactly the matches: the first `n` matches in date order. The newest
    /// matches of [`Candidates::Newest`] serve the first `n` (not the last).
    pub(super) fn head(&self, n: i64, oldest: bool) -> Option<Text> {
        let n = usize::try_from(n).ok()?;
        let ids = match &self.candidates {
            Some(Candidates::Ids(ids)) if ids.len() > n => ids,
            Some(Candidates::Newest(ids)) if ids.len() >= n && !oldest => ids,
            _ => return None,
        };
        if !self.exact {
            return None;
        }
        let kept = if oldest {
            ids[ids.len() - n..].to_vec()
        } else {
            ids[..n].to_vec()
        };
        Some(Text {
            candidates: Some(Candidates::Ids(kept)),
            ..self.clone()
        })
    }
}

/// What [`prepare`] found.
pub(crate) struct Prepared {
    pub(crate) normal: Text,
    pub(crate) relaxed: Text,
    /// Typed words PostgreSQL drops as stop words.
    pub(crate) stop_words: Vec<String>,
}

/// One statement: sets the transaction's plan cache mode and trigram threshold and the site the session works
/// on (`ifind.site`, which the statements after it need: migration 0012), normalises the
/// tsquery texts, finds the typed words that are stop words, and asks `ifind_match_ids` (cap
/// `cap`) for the normal text's candidates, and for the relaxed text's too when the normal text
/// has none or `want_relaxed` (a later page of the relaxed query). A short prefix on a small
/// site (see [`walk_small_site`]) is not given to the entry point, whose text index would expand
/// it over every site's lexemes.
pub(crate) async fn prepare(
    conn: &mut PgConnection,
    sizes: &SiteSizes,
    parsed: &query::ParsedQuery,
    site_id: i32,
    archive: bool,
    cap: i64,
    want_relaxed: bool,
) -> Result<Prepared, sqlx::Error> {
    let short = |t: &Option<String>| t.as_deref().is_some_and(has_short_prefix);
    let small = if short(&parsed.tsquery) || short(&parsed.relaxed_tsquery) {
        sizes.is_small(&mut *conn, site_id).await?
    } else {
        false
    };
    let skip_text = small && short(&parsed.tsquery);
    let skip_relaxed_text = small && short(&parsed.relaxed_tsquery);
    let (lead, location) = narrowing(&parsed.filters);
    let row: PreparedRow = sqlx::query_as(PREPARE_SQL)
        .bind(FUZZY_THRESHOLD)
        .bind(&parsed.tsquery)
        .bind(&parsed.rank_tsquery)
        .bind(&parsed.relaxed_tsquery)
        .bind(&parsed.relaxed_rank_tsquery)
        .bind(&parsed.words)
        .bind(site_id)
        .bind(lead)
        .bind(location)
        .bind(archive)
        .bind(i32::try_from(cap).unwrap_or(i32::MAX))
        .bind(skip_text)
        .bind(skip_relaxed_text)
        .bind(want_relaxed)
        .bind(site_id.to_string())
        .fetch_one(&mut *conn)
        .await?;
    let (m, r, xm, xr, stop_words, asked, ids, x_asked, x_ids) = row;
    let normal = Text {
        exact: exact_for(&parsed.filters, m.is_none() || !skip_text),
        matches: m,
        rank: r,
        walk: false,
        candidates: Some(candidates_of(asked, ids, cap)),
        cap,
        heading: None,
    };
    let relaxed = Text {
        exact: exact_for(&parsed.filters, xm.is_none() || !skip_relaxed_text),
        matches: xm,
        rank: xr,
        walk: false,
        candidates: x_asked.then(|| candidates_of(true, x_ids, cap)),
        cap,
        heading: None,
    };
    Ok(Prepared {
        normal,
        relaxed,
        stop_words,
    })
}

/// What [`PREPARE_SQL`] answers: the normalised texts (matches, rank, relaxed matches, relaxed
/// rank), the stop words, whether the normal text's candidates were asked and the answer, the
/// same for the relaxed text.
type PreparedRow = (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Vec<String>,
    bool,
    Option<Vec<i32>>,
    bool,
    Option<Vec<i32>>,
);

/// The statement of [`prepare`]. $1 the trigram threshold, $2-$5 the parser's tsquery texts
/// (matches, rank, relaxed matches, relaxed rank), $6 the typed words, $7 the site, $8/$9 the
/// `lead:`/`location:` patterns, $10 the archive flag, $11 the cap, $12/$13 whether the normal
/// and the relaxed text are kept from the entry point (short prefixes on a small site), $14
/// whether the relaxed text's candidates are wanted anyway, $15 the site as text.
const PREPARE_SQL: &str = "WITH q AS MATERIALIZED ( \
       SELECT set_config('plan_cache_mode', 'force_custom_plan', true) AS pcm, \
              set_config('max_parallel_workers_per_gather', '0', true) AS par, \
              set_config('pg_trgm.word_similarity_threshold', $1, true) AS thr, \
              set_config('ifind.site', $15, false) AS site, \
              NULLIF(to_tsquery('english', $2)::text, '') AS m, \
              NULLIF(to_tsquery('english', $3)::text, '') AS r, \
              NULLIF(to_tsquery('english', $4)::text, '') AS xm, \
              NULLIF(to_tsquery('english', $5)::text, '') AS xr, \
              ARRAY(SELECT w FROM unnest($6::text[]) AS w \
                    WHERE ts_lexize('english_stem', w) = '{}'::text[]) AS stop), \
     n AS MATERIALIZED ( \
       SELECT q.*, (q.m IS NOT NULL AND NOT $12) OR $8::text IS NOT NULL \
                   OR $9::text IS NOT NULL AS asked FROM q), \
     c AS MATERIALIZED ( \
       SELECT n.*, CASE WHEN n.asked THEN ifind_match_ids($7, \
                     CASE WHEN NOT $12 THEN n.m::tsquery END, $8, $9, $10, $11) END AS ids \
         FROM n) \
     SELECT c.m, c.r, c.xm, c.xr, c.stop, c.asked, c.ids, x.asked, \
            CASE WHEN x.asked THEN ifind_match_ids($7, \
              CASE WHEN NOT $13 THEN c.xm::tsquery END, $8, $9, $10, $11) END \
       FROM c, LATERAL (SELECT coalesce(c.xm IS NOT NULL \
                               AND ($14 OR c.ids = '{}'::integer[]) \
                               AND (NOT $13 OR $8::text IS NOT NULL \
                                    OR $9::text IS NOT NULL), false) AS asked) AS x";

/// Asks `ifind_heading_ids` for the heading tier's candidates of `text` ([`Text::heading`])
/// when relevance walks the tiers: many matches, the live table, text to rank by.
pub(crate) async fn ensure_heading(
    conn: &mut PgConnection,
    site_id: i32,
    text: &mut Text,
    archive: bool,
) -> Result<(), sqlx::Error> {
    let Some(rank) = text.rank.as_deref() else {
        return Ok(());
    };
    let wanted = text
        .candidates
        .as_ref()
        .is_some_and(|c| wants_heading(c, text.exact));
    if text.heading.is_some() || !wanted || text.walk || archive {
        return Ok(());
    }
    text.heading = Some(heading_candidates(conn, site_id, rank, text.cap).await?);
    Ok(())
}

/// Whether relevance over `candidates` (`exact`: they are exactly the matches) asks for the
/// heading tier's ids: over many matches, or over enough listed ones that reading each to rank
/// it costs more than listing the heading tier (the page is then picked from the two lists:
/// `listed_page`). Not for a walked site. Also the benchmark's raw side's test.
pub fn wants_heading(candidates: &Candidates, exact: bool) -> bool {
    candidates.is_many()
        || (exact && matches!(candidates, Candidates::Ids(ids) if ids.len() > LISTED_RANKED))
}

/// `ifind_heading_ids` for the normalised tsquery text `rank`, capped at `cap`: the heading
/// tier's candidates (also for the benchmark's raw side, which must send the app's statement).
pub async fn heading_candidates(
    conn: &mut PgConnection,
    site_id: i32,
    rank: &str,
    cap: i64,
) -> Result<Candidates, sqlx::Error> {
    let ids: Option<Vec<i32>> = sqlx::query_scalar("SELECT ifind_heading_ids($1, $2::tsquery, $3)")
        .bind(site_id)
        .bind(rank)
        .bind(i32::try_from(cap).unwrap_or(i32::MAX))
        .fetch_one(&mut *conn)
        .await?;
    Ok(candidates_of(true, ids, cap))
}

/// Asks `ifind_match_ids` for the candidates of `text` when [`prepare`] did not (the relaxed
/// text, when the normal one had candidates but no row passed the other filters).
pub(crate) async fn ensure_candidates(
    conn: &mut PgConnection,
    site_id: i32,
    text: &mut Text,
    filters: &Filters,
    archive: bool,
) -> Result<(), sqlx::Error> {
    if text.candidates.is_some() {
        return Ok(());
    }
    let given = if text.walk {
        None
    } else {
        text.matches.as_deref()
    };
    text.exact = exact_for(filters, text.matches.is_none() || given.is_some());
    text.candidates =
        Some(match_candidates(conn, site_id, given, filters, archive, text.cap).await?);
    Ok(())
}

/// `ifind_match_ids` for the normalised tsquery text `matches` (None: no text condition) and
/// the `lead:`/`location:` filters of `filters`, capped at `cap`; [`Candidates::All`] when there
/// is nothing to narrow by. What the Finder's statements get, for the benchmark's raw side and
/// the tests, which must send the statement the app sends.
pub async fn match_candidates(
    conn: &mut PgConnection,
    site_id: i32,
    matches: Option<&str>,
    filters: &Filters,
    archive: bool,
    cap: i64,
) -> Result<Candidates, sqlx::Error> {
    let (lead, location) = narrowing(filters);
    if matches.is_none() && lead.is_none() && location.is_none() {
        return Ok(Candidates::All);
    }
    let ids: Option<Vec<i32>> =
        sqlx::query_scalar("SELECT ifind_match_ids($1, $2::tsquery, $3, $4, $5, $6)")
            .bind(site_id)
            .bind(matches)
            .bind(lead)
            .bind(location)
            .bind(archive)
            .bind(i32::try_from(cap).unwrap_or(i32::MAX))
            .fetch_one(&mut *conn)
            .await?;
    Ok(candidates_of(true, ids, cap))
}
