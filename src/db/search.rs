//! The Finder's search: one site's live interactions matching a query line (see
//! [`crate::domain::query`] for the language), sorted, a page at a time by keyset cursor.
//!
//! How a search runs, inside its own transaction (a savepoint when the caller already has one):
//! 1. One statement sets `plan_cache_mode = force_custom_plan` and the trigram word-similarity
//!    threshold for the transaction, and normalises the parser's tsquery texts with
//!    `to_tsquery('english', $n)` (stemming and stop words are PostgreSQL's), returning them as
//!    text together with the typed words PostgreSQL drops as stop words. Custom plans because a
//!    generic plan for full-text queries can be very bad (newest-first over common words went from
//!    1 ms to 75 ms). A query whose words are all stop words has no text condition.
//!    The same statement asks the search entry point `ifind_match_ids` (migration 0011) for the
//!    candidates ([`Candidates`]): no LEAKPROOF mark lets `@@`, ILIKE or `<%` in the Finder's
//!    own statement run before the row-level security policies or use an index (that was an
//!    oracle on other sites' rows), so the entry point, a SECURITY DEFINER function that first
//!    checks that the session may search the site, evaluates the text, `lead:` and `location:`
//!    conditions with the indexes as the owner and returns the ids of the site's matches,
//!    newest first: all of them, or the newest [`MATCH_CAP`] + 1 when more match (a first page
//!    is then the first of those ids), or NULL when the condition is dense among the site's
//!    newest rows (a common word: the walk below finds a page within a few hundred rows).
//! 2. The page: `site_id = $1 AND deleted_at IS NULL`, the candidates (`interaction_id = ANY
//!    ($ids)`, read by primary key; for a dense condition, or a page past the listed ids,
//!    nothing, and the text condition is
//!    written so that the planner walks the date order and stops after a page), the text
//!    condition `search_vector @@ $q::tsquery` and the filters (all still tested, now after the
//!    policies, so the results are what the conditions alone give), ordered by the sort with a
//!    unique tiebreak,
//!    `limit + 1` rows to know whether another page exists. Later pages continue after the cursor's
//!    sort key with a row-value comparison, never OFFSET. Relevance ranks the newest
//!    `rank_window` matches (a date-ordered walk that stops there, however many rows match)
//!    and, past them, lists the older matches newest first: ranking every match of a common
//!    word or a one-letter prefix read and ranked up to 150,000 rows before the first one could
//!    be shown (0.4-1.1 s at a million rows; BENCHMARKS.md).
//! 3. On the first page only: the match count (from the page itself when it is the last page,
//!    or from the candidates when the entry point evaluated every condition, else, when
//!    `count_cap` is above 0, `count(*)` over at most `count_cap + 1` rows; the
//!    Finder leaves it to [`count_in`] after the page is on screen), and when nothing matched, first the
//!    relaxed prefix query (see the query module; its later pages keep using it through the
//!    cursor) and then the typo-tolerant fallback: titles and leads similar to the positive words
//!    (`<%` with threshold [`FUZZY_THRESHOLD`], served by the trigram indexes inside the entry
//!    point `ifind_near_ids`, which answers the most similar ids first), filters still
//!    applied, most similar first whatever the sort, one page of at most `limit` rows, no cursor,
//!    marked `fuzzy`.
//!
//! The settings are transaction-local (`set_config(..., true)`): when the caller passed a
//! connection inside its own transaction they last until that transaction ends.
//!
//! The cursor is URL-safe base64 (no padding) of a small JSON: the sort used, the last row's
//! `(rank, start_datetime, interaction_id)` (rank as the exact `real` PostgreSQL returned) and an
//! FNV-1a fingerprint of the site, sort and exact query text, so that a cursor used with another
//! search is refused instead of silently skipping rows.
//!
//! Every page query is wrapped in an outer query that joins `users` for the creator's and the
//! last editor's usernames: the join only ever sees the page's rows.
//!
//! Every value reaches SQL as a bind parameter; the SQL text is built only from fixed fragments.
//!
//! Known costs (for the benchmark): text conditions on a large site pay for the site's key in the
//! `(site_id, search_vector)` GIN index, and matches up to the cap are read twice (by the entry
//! point, then by key); short prefixes expand to every lexeme of the table that
//! starts with them; `type:` is served by `(site_id, lower(type), start_datetime)` (migration
//! 0007); `lead:` can use the trigram index for values of three or more characters,
//! `location:` has no index; the day filters narrow by the `(site_id, start_datetime)` index
//! first, with statistics on the local day (migration 0007).

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Days, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{Connection, PgConnection, Postgres, QueryBuilder};

use crate::domain::interaction::{INTERACTION_COLUMNS, Interaction};
use crate::domain::query::{self, Filters};

/// Rows per page when the caller has no preference (the Finder's page).
pub const DEFAULT_LIMIT: i64 = 50;
/// The largest page.
pub const MAX_LIMIT: i64 = 500;
/// Counts stop here and show as "1,000+".
pub const DEFAULT_COUNT_CAP: i64 = 1000;
/// Relevance ranks at most this many of the newest matches (see [`SearchRequest::rank_window`]).
pub const DEFAULT_RANK_WINDOW: i64 = 200;
/// `pg_trgm.word_similarity_threshold` for near matches (PostgreSQL's default 0.6 misses most
/// transposed letters, as in "reveiw").
pub const FUZZY_THRESHOLD: &str = "0.4";

/// The order of results.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Sort {
    /// Best match first (title beats lead/type/location beats description beats notes), then
    /// newest. Without positive text terms it is the same as [`Sort::Newest`].
    #[default]
    Relevance,
    /// Latest start first.
    Newest,
    /// Earliest start first.
    Oldest,
}

impl Sort {
    /// Every sort, in menu order.
    pub const ALL: [Sort; 3] = [Sort::Relevance, Sort::Newest, Sort::Oldest];

    /// The name used on the command line and in config files.
    pub fn as_str(self) -> &'static str {
        match self {
            Sort::Relevance => "relevance",
            Sort::Newest => "newest",
            Sort::Oldest => "oldest",
        }
    }
}

impl fmt::Display for Sort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Sort {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Sort::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| format!("unknown sort \"{s}\"; use relevance, newest or oldest"))
    }
}

/// One search: a site, a query line, a sort, a page size and where to continue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchRequest {
    pub site_id: i32,
    pub query: String,
    pub sort: Sort,
    /// Rows per page, clamped to 1..=[`MAX_LIMIT`].
    pub limit: i64,
    /// [`SearchPage::next_cursor`] of the previous page of the same search.
    pub after: Option<String>,
    /// The count stops here; 0 or less means no count.
    pub count_cap: i64,
    /// Also search the archive (read-only records moved there by `ifind archive`).
    pub archive: bool,
    /// Relevance ranks the newest `rank_window` matches, best first; older matches follow them
    /// newest first. 0 ranks every match (slow for words that match tens of thousands of rows:
    /// every match is read and ranked before the first row can be shown). Archive searches rank
    /// every match.
    pub rank_window: i64,
}

impl SearchRequest {
    /// The first page of `query` in `site_id`, by relevance, with the default page size and cap.
    pub fn new(site_id: i32, query: impl Into<String>) -> Self {
        SearchRequest {
            site_id,
            query: query.into(),
            sort: Sort::Relevance,
            limit: DEFAULT_LIMIT,
            after: None,
            count_cap: DEFAULT_COUNT_CAP,
            archive: false,
            rank_window: DEFAULT_RANK_WINDOW,
        }
    }
}

/// One result row.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct Hit {
    #[sqlx(flatten)]
    pub interaction: Interaction,
    /// `ts_rank` for relevance, word similarity for near matches, None otherwise (also for the
    /// matches older than a relevance search's rank window).
    pub rank: Option<f32>,
    /// The username of [`Interaction::created_by`] (None only if that user is gone).
    pub created_by_name: Option<String>,
    /// The username of [`Interaction::updated_by`], when there is one.
    pub updated_by_name: Option<String>,
    /// The row comes from the archive: read-only.
    #[sqlx(default)]
    pub archived: bool,
}

/// Wraps a page's query (ordered and limited) so that only its rows get their usernames.
const NAMES_OPEN: &str = "SELECT h.*, ifind_username(h.created_by) AS created_by_name, \
     ifind_username(h.updated_by) AS updated_by_name FROM (";
/// Closes [`NAMES_OPEN`]; an `ORDER BY` on `h` must follow (a join does not keep the order).
const NAMES_CLOSE: &str = ") AS h";

/// How many rows match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatchCount {
    Exact(i64),
    /// More than the cap; shows as "1,000+".
    AtLeast(i64),
}

impl fmt::Display for MatchCount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let grouped = |n: i64| crate::domain::format::thousands(n);
        match *self {
            MatchCount::Exact(n) => f.write_str(&grouped(n)),
            MatchCount::AtLeast(n) => write!(f, "{}+", grouped(n)),
        }
    }
}

/// One page of results.
#[derive(Clone, Debug, PartialEq)]
pub struct SearchPage {
    pub hits: Vec<Hit>,
    /// Pass as [`SearchRequest::after`] for the next page; None on the last page.
    pub next_cursor: Option<String>,
    /// On the first page only: exact when the page holds every match, else counted up to the
    /// cap (None when `after` was set, or when more pages follow and the cap is 0: the Finder
    /// then asks [`count_in`] after showing the page).
    pub count: Option<MatchCount>,
    /// The hits are near matches from the typo-tolerant fallback (one page, no cursor).
    pub fuzzy: bool,
    /// Notes on what the query line had that was not used.
    pub ignored: Vec<String>,
    /// Words to highlight in titles and text.
    pub highlight: Vec<String>,
}

/// Why a search failed. Malformed query lines never fail; only cursors and the database can.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("{0}")]
    BadCursor(&'static str),
    #[error(
        "the search failed in the database ({0}); check that the database is reachable and try again"
    )]
    Database(#[from] sqlx::Error),
}

const CURSOR_OTHER: &str = "the cursor belongs to another search; start from the first page";
const CURSOR_INVALID: &str = "the cursor is not one this program made (it may have been cut short); start from the first page";

/// The opaque cursor: the last row's sort key and a fingerprint of the search it belongs to.
#[derive(Debug, Serialize, Deserialize)]
struct Cursor {
    v: u8,
    /// Fingerprint of site, sort and query text.
    h: String,
    /// The sort actually used (relevance without text terms runs as newest).
    s: String,
    /// Whether the relaxed prefix query was in use.
    x: bool,
    /// Relevance only: the last row is past the rank window, where rows follow newest first.
    #[serde(default)]
    w: bool,
    r: Option<f32>,
    t: DateTime<Utc>,
    i: i32,
}

impl Cursor {
    /// A position only (no search fingerprint): for continuing inside this module, never
    /// encoded.
    fn position(r: Option<f32>, t: DateTime<Utc>, i: i32, w: bool) -> Cursor {
        Cursor {
            v: 1,
            h: String::new(),
            s: String::new(),
            x: false,
            w,
            r,
            t,
            i,
        }
    }

    fn encode(&self) -> Option<String> {
        serde_json::to_vec(self)
            .ok()
            .map(|j| URL_SAFE_NO_PAD.encode(j))
    }

    fn decode(text: &str, fingerprint: &str) -> Result<Cursor, SearchError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(text.trim())
            .map_err(|_| SearchError::BadCursor(CURSOR_INVALID))?;
        let c: Cursor =
            serde_json::from_slice(&bytes).map_err(|_| SearchError::BadCursor(CURSOR_INVALID))?;
        if c.v != 1 {
            return Err(SearchError::BadCursor(CURSOR_INVALID));
        }
        if c.h != fingerprint {
            return Err(SearchError::BadCursor(CURSOR_OTHER));
        }
        Ok(c)
    }
}

/// FNV-1a of the site, the sort and the exact query text.
fn fingerprint(req: &SearchRequest) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let parts: [&[u8]; 5] = [
        &req.site_id.to_le_bytes(),
        req.sort.as_str().as_bytes(),
        &[0],
        &[u8::from(req.archive)],
        req.query.as_bytes(),
    ];
    for b in parts.into_iter().flatten() {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

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
    /// `ts_rank` by this; None when nothing positive is left.
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
}

/// Runs one search in its own transaction (a savepoint when `conn` is in one). See the module
/// documentation for the steps.
pub async fn search(
    conn: &mut PgConnection,
    req: &SearchRequest,
) -> Result<SearchPage, SearchError> {
    let mut tx = conn.begin().await?;
    let page = search_in(&mut tx, req).await?;
    tx.commit().await?;
    Ok(page)
}

/// [`search`] inside the caller's transaction, which must be open: the settings it makes are
/// transaction-local and last until that transaction ends. One round trip fewer than
/// [`search`] when the caller has a transaction anyway (the Finder's searches do).
pub async fn search_in(
    conn: &mut PgConnection,
    req: &SearchRequest,
) -> Result<SearchPage, SearchError> {
    let parsed = query::parse(&req.query);
    let limit = req.limit.clamp(1, MAX_LIMIT);
    let fp = fingerprint(req);
    let cursor = match req.after.as_deref() {
        Some(text) => Some(Cursor::decode(text, &fp)?),
        None => None,
    };
    let first_page = cursor.is_none();

    let tx = conn;
    let want_relaxed = cursor.as_ref().is_some_and(|c| c.x);
    let Prepared {
        mut normal,
        mut relaxed,
        stop_words,
    } = prepare(
        &mut *tx,
        &parsed,
        req.site_id,
        req.archive,
        MATCH_CAP,
        want_relaxed,
    )
    .await?;
    walk_small_site(&mut *tx, req.site_id, [&mut normal, &mut relaxed]).await?;
    if want_relaxed {
        ensure_candidates(
            &mut *tx,
            req.site_id,
            &mut relaxed,
            &parsed.filters,
            req.archive,
        )
        .await?;
    }
    let mut ignored = parsed.ignored.clone();
    if !stop_words.is_empty() {
        ignored.push(format!(
            "ignored {}: too common to search for",
            stop_words.join(", ")
        ));
    }

    let mut use_relaxed = cursor.as_ref().is_some_and(|c| c.x);
    let text = if use_relaxed { &relaxed } else { &normal };
    let mut sort = effective_sort(req.sort, text);
    if let Some(c) = &cursor
        && (c.s != sort.as_str() || (sort == Sort::Relevance && c.r.is_none() && !c.w))
    {
        return Err(SearchError::BadCursor(CURSOR_INVALID));
    }
    let window = if req.archive {
        0
    } else {
        req.rank_window.max(0)
    };
    let mut rows = windowed_page(
        &mut *tx,
        req.site_id,
        text,
        &parsed.filters,
        sort,
        cursor.as_ref(),
        limit,
        req.archive,
        window,
    )
    .await?;
    if first_page && rows.is_empty() && relaxed.matches.is_some() {
        use_relaxed = true;
        ensure_candidates(
            &mut *tx,
            req.site_id,
            &mut relaxed,
            &parsed.filters,
            req.archive,
        )
        .await?;
        sort = effective_sort(req.sort, &relaxed);
        rows = windowed_page(
            &mut *tx,
            req.site_id,
            &relaxed,
            &parsed.filters,
            sort,
            None,
            limit,
            req.archive,
            window,
        )
        .await?;
    }
    let text = if use_relaxed { &relaxed } else { &normal };

    let mut result = SearchPage {
        hits: Vec::new(),
        next_cursor: None,
        count: None,
        fuzzy: false,
        ignored,
        highlight: parsed.highlight.clone(),
    };
    if first_page
        && rows.is_empty()
        && normal.rank.is_some()
        && let Some(words) = &parsed.fuzzy_text
    {
        result.hits = near_matches(&mut *tx, req.site_id, words, &parsed.filters, limit).await?;
        result.fuzzy = true;
        result.count = Some(MatchCount::Exact(result.hits.len() as i64));
        return Ok(result);
    }

    if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        if let Some(last) = rows.last() {
            let c = Cursor {
                v: 1,
                h: fp,
                s: sort.as_str().to_string(),
                x: use_relaxed,
                w: sort == Sort::Relevance && last.rank.is_none(),
                r: last.rank,
                t: last.interaction.start_datetime,
                i: last.interaction.interaction_id,
            };
            result.next_cursor = c.encode();
        }
    }
    if first_page && result.next_cursor.is_none() {
        // The whole result is on this page: its count costs nothing.
        result.count = Some(MatchCount::Exact(rows.len() as i64));
    } else if first_page && req.count_cap > 0 {
        result.count = Some(
            count(
                &mut *tx,
                req.site_id,
                text,
                &parsed.filters,
                req.count_cap,
                req.archive,
            )
            .await?,
        );
    }
    result.hits = rows;
    Ok(result)
}

/// The number of matches of `req` (its text as the first page used it: the relaxed prefix query
/// when the exact one matches nothing), counted up to `req.count_cap + 1` rows, inside the
/// caller's open transaction. The Finder asks for it after the first page is on screen.
pub async fn count_in(
    conn: &mut PgConnection,
    req: &SearchRequest,
) -> Result<MatchCount, SearchError> {
    let parsed = query::parse(&req.query);
    let Prepared {
        mut normal,
        mut relaxed,
        ..
    } = prepare(
        &mut *conn,
        &parsed,
        req.site_id,
        req.archive,
        MATCH_CAP,
        false,
    )
    .await?;
    walk_small_site(&mut *conn, req.site_id, [&mut normal, &mut relaxed]).await?;
    let cap = req.count_cap.max(1);
    let n = count(
        &mut *conn,
        req.site_id,
        &normal,
        &parsed.filters,
        cap,
        req.archive,
    )
    .await?;
    if n == MatchCount::Exact(0) && relaxed.matches.is_some() {
        ensure_candidates(
            &mut *conn,
            req.site_id,
            &mut relaxed,
            &parsed.filters,
            req.archive,
        )
        .await?;
        return Ok(count(
            &mut *conn,
            req.site_id,
            &relaxed,
            &parsed.filters,
            cap,
            req.archive,
        )
        .await?);
    }
    Ok(n)
}

fn effective_sort(sort: Sort, text: &Text) -> Sort {
    if sort == Sort::Relevance && text.rank.is_none() {
        Sort::Newest
    } else {
        sort
    }
}

/// The definer entry points return ids for at most this many matches (more: NULL, and the
/// statement walks the site in date order). Above the count cap, so that a count is known
/// from the answer alone; small enough that the ids cost less to fetch twice than the walk
/// (words dense among the newest rows are left to the walk whatever their number).
pub const MATCH_CAP: i64 = 2000;
/// The cap for the near matches' entry point `ifind_near_ids`.
pub const NEAR_CAP: i64 = 2000;

/// Conditions of `filters` that `ifind_match_ids` evaluates too.
fn narrowing(filters: &Filters) -> (Option<String>, Option<String>) {
    (
        filters.lead.as_deref().map(contains_pattern),
        filters.location.as_deref().map(contains_pattern),
    )
}

/// Whether `ifind_match_ids` given `text_given` (whether it got the text condition, or there is
/// none) evaluates every condition of the statement.
fn exact_for(filters: &Filters, text_given: bool) -> bool {
    text_given && filters.kind.is_none() && filters.from.is_none() && filters.to.is_none()
}

/// The candidates of one text variant from `ifind_match_ids`' answer (asked with `cap`).
fn candidates_of(asked: bool, ids: Option<Vec<i32>>, cap: i64) -> Candidates {
    match (asked, ids) {
        (false, _) => Candidates::All,
        (true, Some(ids)) if ids.len() as i64 > cap => Candidates::Newest(ids),
        (true, Some(ids)) => Candidates::Ids(ids),
        (true, None) => Candidates::Many,
    }
}

impl Candidates {
    /// More matches than the statement is narrowed to: it tests the site's rows itself.
    fn is_many(&self) -> bool {
        matches!(self, Candidates::Many | Candidates::Newest(_))
    }
}

impl Text {
    /// This text with only the first `n` candidates (the last `n` for `oldest`), when the
    /// candidates are exactly the matches: the first `n` matches in date order. The newest
    /// matches of [`Candidates::Newest`] serve the first `n` (not the last).
    fn head(&self, n: i64, oldest: bool) -> Option<Text> {
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
    parsed: &query::ParsedQuery,
    site_id: i32,
    archive: bool,
    cap: i64,
    want_relaxed: bool,
) -> Result<Prepared, sqlx::Error> {
    let short = |t: &Option<String>| t.as_deref().is_some_and(has_short_prefix);
    let small = if short(&parsed.tsquery) || short(&parsed.relaxed_tsquery) {
        site_is_small(&mut *conn, site_id).await?
    } else {
        false
    };
    let skip_text = small && short(&parsed.tsquery);
    let skip_relaxed_text = small && short(&parsed.relaxed_tsquery);
    let (lead, location) = narrowing(&parsed.filters);
    type Row = (
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
    let row: Row = sqlx::query_as(
        "WITH q AS MATERIALIZED ( \
           SELECT set_config('plan_cache_mode', 'force_custom_plan', true) AS pcm, \
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
                                        OR $9::text IS NOT NULL), false) AS asked) AS x",
    )
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
    };
    let relaxed = Text {
        exact: exact_for(&parsed.filters, xm.is_none() || !skip_relaxed_text),
        matches: xm,
        rank: xr,
        walk: false,
        candidates: x_asked.then(|| candidates_of(true, x_ids, cap)),
        cap,
    };
    Ok(Prepared {
        normal,
        relaxed,
        stop_words,
    })
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

/// Sites with at most this many live rows are "small" for [`walk_small_site`].
pub const SMALL_SITE_ROWS: i64 = 2000;
/// How long a site's size is remembered.
const SITE_SIZE_TTL: std::time::Duration = std::time::Duration::from_secs(60);

/// Whether the tsquery text has a prefix term of at most three characters (`'ho':*`).
fn has_short_prefix(tsquery: &str) -> bool {
    let mut chars = tsquery.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\'' {
            continue;
        }
        let mut len = 0;
        while let Some(c) = chars.next() {
            if c == '\'' {
                if chars.peek() == Some(&'\'') {
                    chars.next();
                } else {
                    break;
                }
            }
            len += 1;
        }
        let prefix = chars.peek() == Some(&':') && {
            let rest: String = chars.clone().take(3).collect();
            rest.starts_with(":*") || rest.contains('*')
        };
        if prefix && len <= 3 {
            return true;
        }
    }
    false
}

/// A short prefix (`h`, `ho`, `hot` as typed) expands in the `(site_id, search_vector)` index
/// to every lexeme of the whole table that starts with it, whatever the site: on a site of
/// 1,686 rows a 2-letter prefix read 1,500 index pages (61 ms, its count 85-135 ms). On a
/// small site walking the site's own rows is cheaper, so such texts are matched with a
/// function no index serves and the plan walks the site (2 ms and 6 ms). Whether a site is
/// small ([`SMALL_SITE_ROWS`]) is counted once a minute per process; a stale answer costs time,
/// never results.
pub(crate) async fn walk_small_site(
    conn: &mut PgConnection,
    site_id: i32,
    texts: [&mut Text; 2],
) -> Result<(), sqlx::Error> {
    let short = |t: &Text| t.matches.as_deref().is_some_and(has_short_prefix);
    if !texts.iter().any(|t| short(t)) {
        return Ok(());
    }
    if site_is_small(conn, site_id).await? {
        for t in texts {
            t.walk = short(t);
        }
    }
    Ok(())
}

/// Whether the site has at most [`SMALL_SITE_ROWS`] live rows (that this session can read),
/// counted once a minute per process.
async fn site_is_small(conn: &mut PgConnection, site_id: i32) -> Result<bool, sqlx::Error> {
    use std::collections::HashMap;
    use std::sync::Mutex;
    use std::time::Instant;
    static SIZES: OnceLock<Mutex<HashMap<i32, (bool, Instant)>>> = OnceLock::new();
    let sizes = SIZES.get_or_init(Mutex::default);
    let known = sizes
        .lock()
        .ok()
        .and_then(|m| m.get(&site_id).copied())
        .filter(|(_, at)| at.elapsed() < SITE_SIZE_TTL)
        .map(|(small, _)| small);
    if let Some(small) = known {
        return Ok(small);
    }
    crate::db::pool::enter_site(&mut *conn, site_id).await?;
    let n: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT 1 FROM interactions \
          WHERE site_id = $1 AND deleted_at IS NULL LIMIT $2) s",
    )
    .bind(site_id)
    .bind(SMALL_SITE_ROWS + 1)
    .fetch_one(&mut *conn)
    .await?;
    // A site this user cannot read counts 0: not remembered, so it says nothing about
    // the site for anyone else in this process.
    if n > 0
        && let Ok(mut m) = sizes.lock()
    {
        m.insert(site_id, (n <= SMALL_SITE_ROWS, Instant::now()));
    }
    Ok(n <= SMALL_SITE_ROWS)
}

/// Whether a search of `site_id` for the normalised tsquery text `matches` walks the site's
/// rows instead of using the text index (see [`walk_small_site`]); for the benchmark's raw side,
/// which must send the statement the app sends.
pub async fn walks(
    conn: &mut PgConnection,
    site_id: i32,
    matches: Option<&str>,
) -> Result<bool, sqlx::Error> {
    crate::db::pool::enter_site(&mut *conn, site_id).await?;
    let mut text = Text {
        matches: matches.map(str::to_string),
        ..Text::default()
    };
    let mut none = Text::default();
    walk_small_site(conn, site_id, [&mut text, &mut none]).await?;
    Ok(text.walk)
}

/// The same day's midnight in UTC moved by `days` (negative for earlier).
pub fn utc_midnight(day: NaiveDate, days: i64) -> Option<DateTime<Utc>> {
    let moved = if days < 0 {
        day.checked_sub_days(Days::new(days.unsigned_abs()))
    } else {
        day.checked_add_days(Days::new(days.unsigned_abs()))
    }?;
    moved.and_hms_opt(0, 0, 0).map(|t| t.and_utc())
}

/// A case-insensitive "contains" pattern for ILIKE with `\`, `%` and `_` taken literally.
pub fn contains_pattern(value: &str) -> String {
    let mut p = String::from("%");
    for c in value.chars() {
        if matches!(c, '\\' | '%' | '_') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// `WHERE` for the site's live rows, the text condition and the filters (also what the Finder
/// benchmark's raw side sends, so both compare the same statement).
pub fn push_where(
    qb: &mut QueryBuilder<'_, Postgres>,
    site_id: i32,
    text: Option<&str>,
    f: &Filters,
) {
    let text = Text {
        matches: text.map(str::to_string),
        ..Text::default()
    };
    push_where_in(qb, Table::Live, site_id, &text, f);
}

/// Where rows come from: the live table or the archive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Table {
    Live,
    Archive,
}

impl Table {
    fn name(self) -> &'static str {
        match self {
            Table::Live => "interactions",
            Table::Archive => "interactions_archive",
        }
    }
}

/// [`push_where`] on `table`.
pub(crate) fn push_where_in(
    qb: &mut QueryBuilder<'_, Postgres>,
    table: Table,
    site_id: i32,
    text: &Text,
    f: &Filters,
) {
    qb.push(" FROM ")
        .push(table.name())
        .push(" WHERE site_id = ")
        .push_bind(site_id)
        .push(" AND deleted_at IS NULL");
    let many = text.candidates.as_ref().is_some_and(Candidates::is_many);
    if let Some(Candidates::Ids(ids)) = &text.candidates {
        // The primary key serves it; the conditions below then test those rows only.
        qb.push(" AND interaction_id = ANY (")
            .push_bind(ids.clone())
            .push(")");
    }
    if let Some(t) = &text.matches {
        if text.walk {
            qb.push(" AND ts_match_vq(search_vector, ")
                .push_bind(t.clone())
                .push("::tsquery)");
        } else if many {
            // More than the cap match: estimated as keeping almost every row (as the policy
            // test is), so that a date-ordered walk stops after a page whatever the planner's
            // statistics (it has none for search_vector) say.
            qb.push(" AND NULLIF(search_vector @@ (")
                .push_bind(t.clone())
                .push("::tsquery), false) IS NOT NULL");
        } else {
            qb.push(" AND search_vector @@ (")
                .push_bind(t.clone())
                .push("::tsquery)");
        }
    }
    if let Some(kind) = &f.kind {
        qb.push(" AND lower(type) = lower(")
            .push_bind(kind.clone())
            .push(")");
    }
    // With many candidates these are common too: written, like the text condition, so that the
    // planner expects them to keep most rows (under the policies it has no statistics for
    // ILIKE, and would read the whole site to sort it).
    let (open, close) = if many {
        (" AND NULLIF(", " IS NOT NULL")
    } else {
        (" AND (", "")
    };
    let close_ilike = if many { ", false)" } else { ")" };
    if let Some(lead) = &f.lead {
        qb.push(open)
            .push("lead ILIKE ")
            .push_bind(contains_pattern(lead))
            .push(close_ilike)
            .push(close);
    }
    if let Some(location) = &f.location {
        qb.push(open)
            .push("location ILIKE ")
            .push_bind(contains_pattern(location))
            .push(close_ilike)
            .push(close);
    }
    // A local calendar day starts within a day of the same date's UTC midnight (UTC offsets are
    // under 24 hours), so a range on start_datetime lets the (site_id, start_datetime) index
    // narrow the rows before the exact local-day check.
    if let Some(from) = f.from {
        if let Some(lo) = utc_midnight(from, -1) {
            qb.push(" AND start_datetime >= ").push_bind(lo);
        }
        qb.push(" AND (start_datetime AT TIME ZONE timezone)::date >= ")
            .push_bind(from);
    }
    if let Some(to) = f.to {
        if let Some(hi) = utc_midnight(to, 2) {
            qb.push(" AND start_datetime < ").push_bind(hi);
        }
        qb.push(" AND (start_datetime AT TIME ZONE timezone)::date <= ")
            .push_bind(to);
    }
}

/// [`page`] with relevance bounded to the newest `window` matches (0: no bound). A page that
/// reaches the end of a full window continues with the older matches, newest first and
/// unranked; a cursor in those rows (`w`) continues there.
#[allow(clippy::too_many_arguments)]
async fn windowed_page(
    conn: &mut PgConnection,
    site_id: i32,
    text: &Text,
    filters: &Filters,
    sort: Sort,
    after: Option<&Cursor>,
    limit: i64,
    archive: bool,
    window: i64,
) -> Result<Vec<Hit>, sqlx::Error> {
    let ranked = sort == Sort::Relevance && window > 0;
    // A first page needs only the first matches in date order, which are the first candidates
    // when the entry point evaluated every condition (its ids come newest first): the
    // statement then reads a page's rows by key instead of every candidate.
    let head = match (after, sort) {
        (None, Sort::Newest) => text.head(limit + 1, false),
        (None, Sort::Oldest) => text.head(limit + 1, true),
        (None, Sort::Relevance) if window > 0 => text.head(window, false),
        _ => None,
    };
    if ranked && after.is_some_and(|c| c.w) {
        return page(
            conn,
            site_id,
            text,
            filters,
            Sort::Newest,
            after,
            limit,
            archive,
            0,
        )
        .await;
    }
    let mut rows = page(
        conn,
        site_id,
        head.as_ref().unwrap_or(text),
        filters,
        sort,
        after,
        limit,
        archive,
        window,
    )
    .await?;
    if !ranked || rows.len() as i64 > limit || (after.is_none() && (rows.len() as i64) < window) {
        // More rows follow in the window, or a first page that is not full holds the whole
        // window and it was not full either.
        return Ok(rows);
    }
    // The window's last rows are on this page: is there anything older than the window?
    let mut qb = QueryBuilder::<Postgres>::new("SELECT start_datetime, interaction_id");
    push_where_in(&mut qb, Table::Live, site_id, text, filters);
    qb.push(" ORDER BY start_datetime DESC, interaction_id DESC OFFSET ")
        .push_bind(window - 1)
        .push(" LIMIT 1");
    let edge: Option<(DateTime<Utc>, i32)> = qb.build_query_as().fetch_optional(&mut *conn).await?;
    if let Some((t, i)) = edge {
        let boundary = Cursor::position(None, t, i, true);
        let older = page(
            conn,
            site_id,
            text,
            filters,
            Sort::Newest,
            Some(&boundary),
            limit - rows.len() as i64,
            archive,
            0,
        )
        .await?;
        rows.extend(older);
    }
    Ok(rows)
}

/// Up to `limit + 1` rows after the cursor in the given sort, from the live table and, when
/// `archive` is set, the archive too (each side ordered and limited, then merged). Relevance
/// ranks the newest `window` matches only (0: every match).
#[allow(clippy::too_many_arguments)]
async fn page(
    conn: &mut PgConnection,
    site_id: i32,
    text: &Text,
    filters: &Filters,
    sort: Sort,
    after: Option<&Cursor>,
    limit: i64,
    archive: bool,
    window: i64,
) -> Result<Vec<Hit>, sqlx::Error> {
    page_query(
        "", site_id, text, filters, sort, after, limit, archive, window,
    )
    .build_query_as::<Hit>()
    .fetch_all(conn)
    .await
}

/// Where a page continues: the previous page's last row's sort key.
#[derive(Clone, Copy, Debug)]
pub struct PageAfter {
    /// Its rank; None for newest/oldest and past a relevance window.
    pub rank: Option<f32>,
    pub start: DateTime<Utc>,
    pub id: i32,
}

/// The page statement a live-table search sends, after `prefix` (e.g. `EXPLAIN ...`), with the
/// normalised tsquery texts `matches` and `rank` and the candidates [`match_candidates`] gave: what the Finder benchmark's raw side sends,
/// so that both compare the same statement. A relevance `after` without a rank continues past
/// the rank window, newest first, as the search does.
#[allow(clippy::too_many_arguments)]
pub fn page_statement(
    prefix: &'static str,
    site_id: i32,
    matches: Option<&str>,
    rank: Option<&str>,
    walk: bool,
    candidates: &Candidates,
    filters: &Filters,
    sort: Sort,
    after: Option<PageAfter>,
    limit: i64,
    window: i64,
) -> QueryBuilder<'static, Postgres> {
    let text = Text {
        matches: matches.map(str::to_string),
        rank: rank.map(str::to_string),
        walk,
        candidates: Some(candidates.clone()),
        ..Text::default()
    };
    let sort = effective_sort(sort, &text);
    let cursor = after.map(|a| {
        Cursor::position(
            a.rank,
            a.start,
            a.id,
            sort == Sort::Relevance && a.rank.is_none(),
        )
    });
    let sort = if cursor.as_ref().is_some_and(|c| c.w) {
        Sort::Newest
    } else {
        sort
    };
    page_query(
        prefix,
        site_id,
        &text,
        filters,
        sort,
        cursor.as_ref(),
        limit,
        false,
        window,
    )
}

/// The count statement of [`count`], after `prefix`, for the live table.
pub fn count_statement(
    prefix: &'static str,
    site_id: i32,
    matches: Option<&str>,
    walk: bool,
    candidates: &Candidates,
    filters: &Filters,
    cap: i64,
) -> QueryBuilder<'static, Postgres> {
    let text = Text {
        matches: matches.map(str::to_string),
        walk,
        candidates: Some(candidates.clone()),
        ..Text::default()
    };
    count_query(prefix, site_id, &text, filters, cap, false)
}

/// The statement of [`page`], after `prefix`.
#[allow(clippy::too_many_arguments)]
fn page_query(
    prefix: &'static str,
    site_id: i32,
    text: &Text,
    filters: &Filters,
    sort: Sort,
    after: Option<&Cursor>,
    limit: i64,
    archive: bool,
    window: i64,
) -> QueryBuilder<'static, Postgres> {
    let mut qb = QueryBuilder::<Postgres>::new(prefix);
    qb.push(NAMES_OPEN);
    let order = if archive {
        qb.push("SELECT * FROM ((");
        push_source(
            &mut qb,
            Table::Live,
            site_id,
            text,
            filters,
            sort,
            after,
            limit,
            window,
        );
        qb.push(") UNION ALL (");
        let order = push_source(
            &mut qb,
            Table::Archive,
            site_id,
            text,
            filters,
            sort,
            after,
            limit,
            window,
        );
        qb.push(")) AS u ORDER BY ")
            .push(order.join(", "))
            .push(" LIMIT ")
            .push_bind(limit + 1);
        order
    } else {
        push_source(
            &mut qb,
            Table::Live,
            site_id,
            text,
            filters,
            sort,
            after,
            limit,
            window,
        )
    };
    let outer: Vec<String> = order.iter().map(|o| format!("h.{o}")).collect();
    qb.push(NAMES_CLOSE)
        .push(" ORDER BY ")
        .push(outer.join(", "));
    qb
}

/// One source of [`page`]: `SELECT ... FROM table ... ORDER BY ... LIMIT limit + 1`. Returns the
/// order, as column terms, for the caller to order the merged rows the same way.
#[allow(clippy::too_many_arguments)]
fn push_source(
    qb: &mut QueryBuilder<'_, Postgres>,
    table: Table,
    site_id: i32,
    text: &Text,
    filters: &Filters,
    sort: Sort,
    after: Option<&Cursor>,
    limit: i64,
    window: i64,
) -> Vec<&'static str> {
    let archived = if table == Table::Archive {
        ", true AS archived"
    } else {
        ", false AS archived"
    };
    let order = match (sort, text.rank.as_deref()) {
        (Sort::Relevance, Some(rank)) => {
            qb.push("SELECT * FROM (SELECT ")
                .push(INTERACTION_COLUMNS)
                .push(archived)
                .push(", ts_rank(search_vector, ")
                .push_bind(rank.to_string())
                .push("::tsquery) AS rank");
            if window > 0 {
                // The newest matches only: walking the date index stops after `window` of them
                // however many match, where ranking them all reads every match first.
                qb.push(" FROM (SELECT ")
                    .push(INTERACTION_COLUMNS)
                    .push(", search_vector");
                push_where_in(qb, table, site_id, text, filters);
                qb.push(" ORDER BY start_datetime DESC, interaction_id DESC LIMIT ")
                    .push_bind(window)
                    .push(") AS w");
            } else {
                push_where_in(qb, table, site_id, text, filters);
            }
            qb.push(") AS m");
            if let Some(c) = after {
                qb.push(" WHERE (rank, start_datetime, interaction_id) < (")
                    .push_bind(c.r)
                    .push("::real, ")
                    .push_bind(c.t)
                    .push(", ")
                    .push_bind(c.i)
                    .push(")");
            }
            vec!["rank DESC", "start_datetime DESC", "interaction_id DESC"]
        }
        _ => {
            let cmp = if sort == Sort::Oldest { ">" } else { "<" };
            qb.push("SELECT ")
                .push(INTERACTION_COLUMNS)
                .push(archived)
                .push(", NULL::real AS rank");
            push_where_in(qb, table, site_id, text, filters);
            if let Some(c) = after {
                // The plain bound lets the (site_id, start_datetime) index skip to the cursor.
                qb.push(" AND start_datetime ")
                    .push(cmp)
                    .push("= ")
                    .push_bind(c.t)
                    .push(" AND (start_datetime, interaction_id) ")
                    .push(cmp)
                    .push(" (")
                    .push_bind(c.t)
                    .push(", ")
                    .push_bind(c.i)
                    .push(")");
            }
            if sort == Sort::Oldest {
                vec!["start_datetime ASC", "interaction_id ASC"]
            } else {
                vec!["start_datetime DESC", "interaction_id DESC"]
            }
        }
    };
    qb.push(" ORDER BY ")
        .push(order.join(", "))
        .push(" LIMIT ")
        .push_bind(limit + 1);
    order
}

/// The count that `ifind_match_ids`' answer already gives, when its conditions were every
/// condition of the search: the number of ids.
fn known_count(text: &Text, cap: i64) -> Option<MatchCount> {
    if !text.exact {
        return None;
    }
    match text.candidates.as_ref()? {
        Candidates::Ids(ids) => {
            let n = ids.len() as i64;
            Some(if n > cap {
                MatchCount::AtLeast(cap)
            } else {
                MatchCount::Exact(n)
            })
        }
        // More than listed, and more than the count's cap: "cap+".
        Candidates::Newest(ids) if ids.len() as i64 > cap => Some(MatchCount::AtLeast(cap)),
        _ => None,
    }
}

/// The number of matches, counted up to `cap + 1` rows (or known from the candidates).
async fn count(
    conn: &mut PgConnection,
    site_id: i32,
    text: &Text,
    filters: &Filters,
    cap: i64,
    archive: bool,
) -> Result<MatchCount, sqlx::Error> {
    if let Some(known) = known_count(text, cap) {
        return Ok(known);
    }
    let n: i64 = if counts_through_index(text, filters, cap) {
        // More matches than the entry point lists, and nothing it cannot evaluate: counted
        // through the text and trigram indexes by `ifind_match_count` (migration 0012), which
        // a walk over the site's rows would not use.
        let (lead, location) = narrowing(filters);
        sqlx::query_scalar("SELECT ifind_match_count($1, $2::tsquery, $3, $4, $5, $6)")
            .bind(site_id)
            .bind(text.matches.as_deref())
            .bind(lead)
            .bind(location)
            .bind(archive)
            .bind(i32::try_from(cap).unwrap_or(i32::MAX))
            .fetch_one(conn)
            .await?
    } else {
        count_query("", site_id, text, filters, cap, archive)
            .build_query_scalar()
            .fetch_one(conn)
            .await?
    };
    Ok(if n > cap {
        MatchCount::AtLeast(cap)
    } else {
        MatchCount::Exact(n)
    })
}

/// Whether [`count`] asks `ifind_match_count`: the entry point found more matches than it
/// lists, it was given the text (not a short prefix walked on a small site) and it evaluates
/// every condition (no `type:` or dates). Not for a text alone that is dense among the site's
/// newest rows, counted up to the Finder's cap: the statement's own date-ordered walk finds
/// the cap within a few thousand rows, as the entry point's would, without its second look at
/// the newest rows (1.5-2 ms at 1,000,000 rows). A dense `lead:` or `location:` is counted
/// through its trigram index (a name common lately but rare before: the walk read the whole
/// site), and so is any count above [`DEFAULT_COUNT_CAP`].
fn counts_through_index(text: &Text, filters: &Filters, cap: i64) -> bool {
    let dense_text = text.candidates == Some(Candidates::Many)
        && filters.lead.is_none()
        && filters.location.is_none()
        && cap <= DEFAULT_COUNT_CAP;
    text.candidates.as_ref().is_some_and(Candidates::is_many)
        && !text.walk
        && !dense_text
        && (text.matches.is_some() || filters.lead.is_some() || filters.location.is_some())
        && exact_for(filters, true)
}

/// The statement of [`count`], after `prefix`.
fn count_query(
    prefix: &'static str,
    site_id: i32,
    text: &Text,
    filters: &Filters,
    cap: i64,
    archive: bool,
) -> QueryBuilder<'static, Postgres> {
    // A walked site (see [`walk_small_site`]) and a dense condition are read by the site's
    // date index, newest first, as the page is: the synthetic statistics (migration 0012) make
    // a site look like a twentieth of the table, and the planner then chose to read the whole
    // primary key for its rows.
    let order = if text.walk || text.candidates == Some(Candidates::Many) {
        " ORDER BY start_datetime DESC LIMIT "
    } else {
        " LIMIT "
    };
    let mut qb = QueryBuilder::<Postgres>::new(prefix);
    qb.push("SELECT count(*) FROM ((SELECT 1");
    push_where_in(&mut qb, Table::Live, site_id, text, filters);
    qb.push(order).push_bind(cap.saturating_add(1)).push(")");
    if archive {
        qb.push(" UNION ALL (SELECT 1");
        push_where_in(&mut qb, Table::Archive, site_id, text, filters);
        qb.push(order).push_bind(cap.saturating_add(1)).push(")");
    }
    qb.push(") AS s");
    qb
}

/// The typo-tolerant fallback: rows whose title or lead has words similar to `words`, most
/// similar first, filters applied. The site-scoped trigram indexes serve `<%` inside the
/// definer entry point `ifind_near_ids`, which answers the [`NEAR_CAP`] + 1 most similar ids in
/// the statement's order (migration 0014); the statement is narrowed to them (to the first
/// `limit` without filters). Only when more rows are similar than listed and fewer than a page
/// of the listed pass the filters does the statement test the site's rows itself.
async fn near_matches(
    conn: &mut PgConnection,
    site_id: i32,
    words: &str,
    filters: &Filters,
    limit: i64,
) -> Result<Vec<Hit>, sqlx::Error> {
    let ids: Option<Vec<i32>> = sqlx::query_scalar("SELECT ifind_near_ids($1, $2, $3)")
        .bind(site_id)
        .bind(words)
        .bind(i32::try_from(NEAR_CAP).unwrap_or(i32::MAX))
        .fetch_one(&mut *conn)
        .await?;
    let Some(mut ids) = ids else {
        // Not an answer the entry point gives (migration 0014); test the site's rows.
        return near_page(conn, site_id, words, None, filters, limit).await;
    };
    let listed_all = ids.len() as i64 <= NEAR_CAP;
    let unfiltered = filters.kind.is_none()
        && filters.lead.is_none()
        && filters.location.is_none()
        && filters.from.is_none()
        && filters.to.is_none();
    if unfiltered {
        // The ids come in the statement's order: the page is the first of them.
        ids.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    }
    let rows = near_page(&mut *conn, site_id, words, Some(ids), filters, limit).await?;
    if listed_all || unfiltered || rows.len() as i64 >= limit {
        return Ok(rows);
    }
    // More near matches than listed, and too few of the listed passed the filters.
    near_page(conn, site_id, words, None, filters, limit).await
}

/// One statement of [`near_matches`].
async fn near_page(
    conn: &mut PgConnection,
    site_id: i32,
    words: &str,
    ids: Option<Vec<i32>>,
    filters: &Filters,
    limit: i64,
) -> Result<Vec<Hit>, sqlx::Error> {
    near_statement("", site_id, words, ids, filters, limit)
        .build_query_as::<Hit>()
        .fetch_all(conn)
        .await
}

/// The statement of [`near_matches`], after `prefix`, for the candidates `ids` that
/// `ifind_near_ids` gave (None: more than the cap).
pub fn near_statement(
    prefix: &'static str,
    site_id: i32,
    words: &str,
    ids: Option<Vec<i32>>,
    filters: &Filters,
    limit: i64,
) -> QueryBuilder<'static, Postgres> {
    let mut qb = QueryBuilder::<Postgres>::new(prefix);
    qb.push(NAMES_OPEN);
    qb.push("SELECT ")
        .push(INTERACTION_COLUMNS)
        .push(", greatest(word_similarity(")
        .push_bind(words.to_string())
        .push(", title), word_similarity(")
        .push_bind(words.to_string())
        .push(", lead)) AS rank");
    let text = Text {
        candidates: Some(ids.map_or(Candidates::Many, Candidates::Ids)),
        ..Text::default()
    };
    push_where_in(&mut qb, Table::Live, site_id, &text, filters);
    qb.push(" AND (")
        .push_bind(words.to_string())
        .push(" <% title OR ")
        .push_bind(words.to_string())
        .push(" <% lead)")
        .push(" ORDER BY rank DESC, start_datetime DESC, interaction_id DESC LIMIT ")
        .push_bind(limit)
        .push(NAMES_CLOSE)
        .push(" ORDER BY h.rank DESC, h.start_datetime DESC, h.interaction_id DESC");
    qb
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_names_round_trip() {
        for s in Sort::ALL {
            assert_eq!(s.to_string().parse::<Sort>(), Ok(s));
        }
        assert_eq!("Newest".parse::<Sort>(), Ok(Sort::Newest));
        assert!(
            "best"
                .parse::<Sort>()
                .is_err_and(|e| e.contains("relevance, newest or oldest"))
        );
    }

    #[test]
    fn counts_display_with_separators() {
        assert_eq!(MatchCount::Exact(0).to_string(), "0");
        assert_eq!(MatchCount::Exact(999).to_string(), "999");
        assert_eq!(MatchCount::Exact(1234).to_string(), "1,234");
        assert_eq!(MatchCount::Exact(1_234_567).to_string(), "1,234,567");
        assert_eq!(MatchCount::AtLeast(1000).to_string(), "1,000+");
    }

    #[test]
    fn short_prefixes_are_found() {
        assert!(has_short_prefix("'ho':*"));
        assert!(has_short_prefix("'meet' & 'c':*"));
        assert!(has_short_prefix("'o''b':*"));
        assert!(!has_short_prefix("'hote':*"));
        assert!(!has_short_prefix("'ho'"));
        assert!(!has_short_prefix("'ho' <-> 'tel'"));
        assert!(!has_short_prefix(""));
    }

    #[test]
    fn like_patterns_are_literal() {
        assert_eq!(contains_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
    }

    #[test]
    fn bad_cursors_are_rejected() {
        assert!(matches!(
            Cursor::decode("not base64!", "x"),
            Err(SearchError::BadCursor(CURSOR_INVALID))
        ));
        let c = Cursor {
            v: 1,
            h: "aaaa".into(),
            s: "newest".into(),
            x: false,
            w: false,
            r: Some(0.1),
            t: Utc::now(),
            i: 7,
        };
        let text = c.encode().unwrap_or_default();
        assert!(Cursor::decode(&text, "aaaa").is_ok());
        assert!(matches!(
            Cursor::decode(&text, "bbbb"),
            Err(SearchError::BadCursor(CURSOR_OTHER))
        ));
    }
}
