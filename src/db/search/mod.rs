//! The Finder's search: one site's live interactions matching a query line (see
//! [`crate::domain::query`] for the language), sorted, a page at a time by keyset cursor.
//!
//! How a search runs, inside its own transaction (a savepoint when the caller already has one):
//! 1. One statement sets `plan_cache_mode = force_custom_plan` and the trigram word-similarity
//!    threshold for the transaction, and normalises the parser's tsquery texts with
//!    `to_tsquery('english', $n)` (stemming and stop words are PostgreSQL's), returning them as
//!    text together with the typed words PostgreSQL drops as stop words. Custom plans because a
//!    generic plan for full-text queries can be very bad for newest-first over common words
//!    (the figures are in BENCHMARKS.md). A query whose words are all stop words has no text condition.
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
//!    sort key with a row-value comparison, never OFFSET. Relevance is exact over every match:
//!    a row's rank is 1.0 when its positive terms match within the heading (title, lead, type,
//!    location) and 0.1 otherwise ([`TIERS`]), and rows of a tier follow newest first. When the
//!    candidates are listed each row's tier is computed and the rows sorted; for a common word
//!    the heading tier is read by the ids `ifind_heading_ids` lists (migration 0017) or, when
//!    dense, walked newest first, then the other tier is walked, the two in turn under one
//!    LIMIT, so that a page of heading matches never reads the other tier.
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
//! first (migration 0012 dropped 0007's statistics on the local day, which counted every site).

mod candidates;
mod cursor;
mod site_size;
mod sql;

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};

use sqlx::{Connection, PgConnection};

use crate::domain::interaction::Interaction;
use crate::domain::query::{self, Filters};
use crate::domain::similar;

pub use candidates::exact_for;
use candidates::narrowing;
pub use candidates::{
    Candidates, MATCH_CAP, NEAR_CAP, heading_candidates, match_candidates, wants_heading,
};
pub(crate) use candidates::{Prepared, Text, ensure_candidates, ensure_heading, prepare};
use cursor::{CURSOR_INVALID, Cursor, fingerprint};
pub(crate) use site_size::walk_small_site;
pub use site_size::{SMALL_SITE_ROWS, SiteSizes, walks};
use sql::{CountSpec, PageSpec, count_query, page_query};
pub use sql::{
    PageAfter, TIERS, TextSpec, contains_pattern, count_statement, like_pattern, narrowing_pattern,
    near_statement, page_statement, push_where, ranked_page_statement, utc_midnight,
    word_start_regex,
};
pub(crate) use sql::{Table, push_where_in};

/// Rows per page when the caller has no preference (the Finder's page).
pub const DEFAULT_LIMIT: i64 = 50;
/// The largest page.
pub const MAX_LIMIT: i64 = 500;
/// Counts stop here and show as "1,000+".
pub const DEFAULT_COUNT_CAP: i64 = 1000;
/// `pg_trgm.word_similarity_threshold` for near matches (PostgreSQL's default 0.6 misses most
/// transposed letters, as in "reveiw").
pub const FUZZY_THRESHOLD: &str = "0.4";

/// The order of results.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Sort {
    /// Best match first: the tier of the fields the query's positive terms match in (the
    /// heading, title/lead/type/location, beats description and notes, [`TIERS`]), newest first
    /// within a tier, over every match. Without positive text terms it is the same as
    /// [`Sort::Newest`].
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
    /// Count only when it costs nothing: every match is on the page, or the entry point listed
    /// every match. The Finder sends its first page so, and asks [`count_in`] after showing it
    /// when the page came without a count.
    pub count_if_free: bool,
    /// Also search the archive (read-only records moved there by `ifind archive`).
    pub archive: bool,
    /// Walk the results from the last one backwards (the Finder's `G`): the first page holds
    /// the last `limit` results, last first, and its cursor continues towards the first. The
    /// order is the same, read from the other end; counts are unchanged.
    pub from_end: bool,
    /// Only interactions starting at or after this instant (the agenda's upcoming times); None
    /// for every time.
    pub starts_from: Option<DateTime<Utc>>,
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
            count_if_free: false,
            archive: false,
            from_end: false,
            starts_from: None,
        }
    }
}

/// One result row.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct Hit {
    #[sqlx(flatten)]
    pub interaction: Interaction,
    /// The tier's weight for relevance ([`TIERS`]), word similarity for near matches, None
    /// otherwise.
    pub rank: Option<f32>,
    /// The username of [`Interaction::created_by`] (None only if that user is gone).
    pub created_by_name: Option<String>,
    /// The username of [`Interaction::updated_by`], when there is one.
    pub updated_by_name: Option<String>,
    /// The row comes from the archive: read-only.
    #[sqlx(default)]
    pub archived: bool,
}

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
    /// No row holds the last word as typed (`budgte`): the hits are those of its shorter forms
    /// (`budg…`, the relaxed prefix, which is there for words typed past their stem, as
    /// `meetin`), and `similar` names the words they hold. Set on the first page.
    pub approximate: bool,
    /// With `fuzzy`: the words of the near matches that were taken for the typed ones
    /// ("budget" for "budgte"), lower-cased, each once, in the order of the hits.
    pub similar: Vec<String>,
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
    search_with(conn, SiteSizes::shared(), req).await
}

/// [`search_in`] with the site sizes remembered in `sizes` (see [`walk_small_site`]).
pub async fn search_with(
    conn: &mut PgConnection,
    sizes: &SiteSizes,
    req: &SearchRequest,
) -> Result<SearchPage, SearchError> {
    let parsed = parsed(req);
    let limit = req.limit.clamp(1, MAX_LIMIT);
    let fp = fingerprint(req);
    let cursor = match req.after.as_deref() {
        Some(text) => Some(Cursor::decode(text, &fp)?),
        None => None,
    };
    let (mut texts, ignored) = prepare_texts(conn, sizes, req, &parsed, cursor.as_ref()).await?;
    let found = first_rows(
        conn,
        req,
        &parsed.filters,
        &mut texts,
        cursor.as_ref(),
        limit,
    )
    .await?;
    let mut result = SearchPage {
        hits: Vec::new(),
        next_cursor: None,
        count: None,
        fuzzy: false,
        approximate: false,
        similar: Vec::new(),
        ignored,
        highlight: parsed.highlight.clone(),
    };
    let first_page = cursor.is_none();
    if first_page
        && found.rows.is_empty()
        && texts.normal.rank.is_some()
        && let Some(words) = &parsed.fuzzy_text
    {
        let near = near_matches(conn, req.site_id, words, &parsed.filters, limit).await?;
        (result.hits, result.similar) = keep_near(near, &parsed.highlight);
        result.fuzzy = true;
        result.count = Some(MatchCount::Exact(result.hits.len() as i64));
        return Ok(result);
    }
    let text = texts.get(found.relaxed);
    let mut rows = found.rows;
    if first_page
        && found.relaxed
        && let Some(word) = &parsed.relaxed_word
    {
        (result.approximate, result.similar) = shorter_forms(&rows, word);
    }
    if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        result.next_cursor = rows.last().and_then(|last| {
            Cursor {
                version: cursor::VERSION,
                search: fp,
                sort: Some(found.sort),
                relaxed: found.relaxed,
                rank: last.rank,
                start: last.interaction.start_datetime,
                id: last.interaction.interaction_id,
            }
            .encode()
        });
    }
    if first_page && result.next_cursor.is_none() {
        // The whole result is on this page: its count costs nothing.
        result.count = Some(MatchCount::Exact(rows.len() as i64));
    } else if first_page && req.count_cap > 0 {
        result.count = if req.count_if_free {
            known_count(text, req.count_cap)
        } else {
            let spec = CountSpec::of(req, text, &parsed.filters, req.count_cap);
            Some(count(conn, &spec).await?)
        };
    }
    result.hits = rows;
    Ok(result)
}

/// Whether the rows the relaxed prefix found for `word` hold no word starting with it as typed
/// (`budgte`: they hold `budget`, found by `budg…`), and then the words they hold instead.
fn shorter_forms(rows: &[Hit], word: &str) -> (bool, Vec<String>) {
    fn texts(h: &Hit) -> [&str; 6] {
        let i = &h.interaction;
        [
            i.title.as_str(),
            i.lead.as_str(),
            i.kind.as_str(),
            i.location.as_deref().unwrap_or(""),
            i.description.as_deref().unwrap_or(""),
            i.notes.as_deref().unwrap_or(""),
        ]
    }
    let as_typed = rows
        .iter()
        .any(|h| texts(h).iter().any(|t| similar::has_word_starting(t, word)));
    if as_typed || rows.is_empty() {
        return (false, Vec::new());
    }
    let floor: String = word.chars().take(4).collect();
    let words = similar::words_starting(rows.iter().flat_map(texts), &floor, 3);
    (true, words)
}

/// The two texts of a search: as typed, and relaxed to prefixes (see the query module).
pub(crate) struct Texts {
    pub(crate) normal: Text,
    pub(crate) relaxed: Text,
}

impl Texts {
    fn get(&self, relaxed: bool) -> &Text {
        if relaxed { &self.relaxed } else { &self.normal }
    }
}

/// Step 1 of a search: the prepared texts (candidates asked, small sites walked; the relaxed
/// text's candidates too when `cursor` continues it) and the notes on ignored words.
async fn prepare_texts(
    conn: &mut PgConnection,
    sizes: &SiteSizes,
    req: &SearchRequest,
    parsed: &query::ParsedQuery,
    cursor: Option<&Cursor>,
) -> Result<(Texts, Vec<String>), SearchError> {
    let want_relaxed = cursor.is_some_and(|c| c.relaxed);
    let Prepared {
        mut normal,
        mut relaxed,
        stop_words,
    } = prepare(
        &mut *conn,
        sizes,
        parsed,
        req.site_id,
        req.archive,
        MATCH_CAP,
        want_relaxed,
    )
    .await?;
    walk_small_site(&mut *conn, sizes, req.site_id, [&mut normal, &mut relaxed]).await?;
    if want_relaxed {
        ensure_candidates(
            conn,
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
    Ok((Texts { normal, relaxed }, ignored))
}

/// What step 2 found: up to `limit + 1` rows, in `sort`, of the normal or the relaxed text.
struct Found {
    rows: Vec<Hit>,
    sort: Sort,
    relaxed: bool,
}

/// Step 2 of a search: the page's rows after `cursor` (checked against the sort in use); on a
/// first page with no rows, the relaxed text's.
async fn first_rows(
    conn: &mut PgConnection,
    req: &SearchRequest,
    filters: &Filters,
    texts: &mut Texts,
    cursor: Option<&Cursor>,
    limit: i64,
) -> Result<Found, SearchError> {
    let relaxed = cursor.is_some_and(|c| c.relaxed);
    let sort = effective_sort(req.sort, texts.get(relaxed));
    if let Some(c) = cursor
        && (c.sort != Some(sort)
            || (sort == Sort::Relevance && c.rank.and_then(sql::tier_of).is_none()))
    {
        return Err(SearchError::BadCursor(CURSOR_INVALID));
    }
    if sort == Sort::Relevance {
        let text = if relaxed {
            &mut texts.relaxed
        } else {
            &mut texts.normal
        };
        ensure_heading(&mut *conn, req.site_id, text, req.archive).await?;
    }
    let (walk, backward) = walk_order(sort, req.from_end);
    let spec = PageSpec {
        site_id: req.site_id,
        text: texts.get(relaxed),
        filters,
        sort: walk,
        backward,
        after: cursor,
        limit,
        archive: req.archive,
    };
    let rows = first_or_next_page(conn, &spec).await?;
    if cursor.is_some() || !rows.is_empty() || texts.relaxed.matches.is_none() {
        return Ok(Found {
            rows,
            sort,
            relaxed,
        });
    }
    ensure_candidates(
        &mut *conn,
        req.site_id,
        &mut texts.relaxed,
        filters,
        req.archive,
    )
    .await?;
    let sort = effective_sort(req.sort, &texts.relaxed);
    if sort == Sort::Relevance {
        ensure_heading(&mut *conn, req.site_id, &mut texts.relaxed, req.archive).await?;
    }
    let (walk, backward) = walk_order(sort, req.from_end);
    let spec = PageSpec {
        site_id: req.site_id,
        text: &texts.relaxed,
        filters,
        sort: walk,
        backward,
        after: None,
        limit,
        archive: req.archive,
    };
    Ok(Found {
        rows: first_or_next_page(conn, &spec).await?,
        sort,
        relaxed: true,
    })
}

/// The number of matches of `req` (its text as the first page used it: the relaxed prefix query
/// when the exact one matches nothing), counted up to `req.count_cap + 1` rows, inside the
/// caller's open transaction. The Finder asks for it after the first page is on screen.
pub async fn count_in(
    conn: &mut PgConnection,
    req: &SearchRequest,
) -> Result<MatchCount, SearchError> {
    let parsed = parsed(req);
    let (mut texts, _) = prepare_texts(conn, SiteSizes::shared(), req, &parsed, None).await?;
    let cap = req.count_cap.max(1);
    let n = count(
        conn,
        &CountSpec::of(req, &texts.normal, &parsed.filters, cap),
    )
    .await?;
    if n == MatchCount::Exact(0) && texts.relaxed.matches.is_some() {
        let relaxed = &mut texts.relaxed;
        ensure_candidates(conn, req.site_id, relaxed, &parsed.filters, req.archive).await?;
        return Ok(count(conn, &CountSpec::of(req, relaxed, &parsed.filters, cap)).await?);
    }
    Ok(n)
}

/// How a page statement walks `sort` (the effective one) read forwards or, with `from_end`,
/// backwards: newest read backwards is oldest, and the reverse; relevance read backwards keeps
/// its sort and walks it backwards (the lowest tier first, oldest first within a tier).
fn walk_order(sort: Sort, from_end: bool) -> (Sort, bool) {
    match (sort, from_end) {
        (_, false) => (sort, false),
        (Sort::Newest, true) => (Sort::Oldest, false),
        (Sort::Oldest, true) => (Sort::Newest, false),
        (Sort::Relevance, true) => (Sort::Relevance, true),
    }
}

/// The query line of `req` parsed, with the request's own bound on the start among its filters.
pub(crate) fn parsed(req: &SearchRequest) -> query::ParsedQuery {
    let mut parsed = query::parse(&req.query);
    parsed.filters.starts_from = req.starts_from;
    parsed
}

fn effective_sort(sort: Sort, text: &Text) -> Sort {
    if sort == Sort::Relevance && text.rank.is_none() {
        Sort::Newest
    } else {
        sort
    }
}

/// What the statement of a page reads: picked by key from listed ids, the first page of listed
/// ids in date order, or the candidates as they are.
enum Read {
    /// These listed ids in the page's order, the cursor's row first when there is a cursor
    /// ([`listed_page`]).
    Picked(Vec<i32>),
    /// The first page of the listed ids in date order: the entry point's ids come newest first,
    /// so the page is the first (or last) of them.
    Head(Text),
    /// The candidates as they are.
    All,
}

/// How [`first_or_next_page`] reads `spec` (also what the benchmark's raw side sends, through
/// [`ranked_page_statement`]).
fn read_of(spec: &PageSpec<'_>) -> Read {
    if let Some(picked) = listed_pick(spec) {
        return Read::Picked(picked);
    }
    let head = match (spec.after, spec.sort) {
        (None, Sort::Newest) => spec.text.head(spec.limit + 1, false),
        (None, Sort::Oldest) => spec.text.head(spec.limit + 1, true),
        _ => None,
    };
    head.map_or(Read::All, Read::Head)
}

/// `spec` reading the picked ids `text` holds: all of them, without the cursor's condition
/// (the cursor's row is among them, to be checked).
fn picked_spec<'a>(spec: &PageSpec<'a>, text: &'a Text, picked: usize) -> PageSpec<'a> {
    PageSpec {
        text,
        after: None,
        limit: i64::try_from(picked).unwrap_or(i64::MAX),
        ..*spec
    }
}

/// [`page`], reading by key what [`read_of`] says can be read so.
async fn first_or_next_page(
    conn: &mut PgConnection,
    spec: &PageSpec<'_>,
) -> Result<Vec<Hit>, sqlx::Error> {
    match read_of(spec) {
        Read::Picked(picked) => {
            if let Some(rows) = listed_page(conn, spec, picked).await? {
                return Ok(rows);
            }
            page(conn, spec).await
        }
        Read::Head(text) => {
            page(
                conn,
                &PageSpec {
                    text: &text,
                    ..*spec
                },
            )
            .await
        }
        Read::All => page(conn, spec).await,
    }
}

/// The page of `picked` ([`listed_pick`]): when every match is listed (at most the cap, every
/// condition checked by the entry point) and so is, for relevance, the heading tier, the order
/// of the matches is known from the lists alone (they come newest first; relevance puts the
/// heading matches first), so the page's ids are picked from it after the cursor's row and only
/// they are read, instead of every candidate. The cursor's row is read with them and must still
/// have the cursor's rank and start (else it moved, and its position in the lists is not the
/// cursor's place in the order), and every picked row must come back in the picked order. None
/// when that check fails: the caller's statement then orders every candidate.
async fn listed_page(
    conn: &mut PgConnection,
    spec: &PageSpec<'_>,
    picked: Vec<i32>,
) -> Result<Option<Vec<Hit>>, sqlx::Error> {
    let text = Text {
        candidates: Some(Candidates::Ids(picked.clone())),
        heading: None,
        ..spec.text.clone()
    };
    let mut rows = page(conn, &picked_spec(spec, &text, picked.len())).await?;
    if rows.len() != picked.len() {
        return Ok(None);
    }
    let with_cursor = usize::from(spec.after.is_some());
    if let Some(c) = spec.after {
        let unmoved = rows.first().is_some_and(|r| {
            r.interaction.interaction_id == c.id
                && r.interaction.start_datetime == c.start
                && r.rank.map(|x| x.to_bits()) == c.rank.map(|x| x.to_bits())
        });
        if !unmoved {
            return Ok(None);
        }
        rows.remove(0);
    }
    let in_order = rows
        .iter()
        .map(|r| r.interaction.interaction_id)
        .eq(picked.iter().skip(with_cursor).copied());
    Ok(in_order.then_some(rows))
}

/// The ids a page of `spec` reads when the lists give the order ([`listed_order`]): the
/// cursor's row (when there is a cursor) and the `limit + 1` after it.
fn listed_pick(spec: &PageSpec<'_>) -> Option<Vec<i32>> {
    let order = listed_order(spec)?;
    let n = usize::try_from(spec.limit + 1).unwrap_or(usize::MAX);
    let (start, with_cursor) = match spec.after {
        None => (0, 0),
        Some(c) => (order.iter().position(|&id| id == c.id)?, 1),
    };
    Some(
        order
            .iter()
            .skip(start)
            .take(n + with_cursor)
            .copied()
            .collect(),
    )
}

/// The ids of every match in the page's order, when the lists give it ([`listed_page`]).
fn listed_order(spec: &PageSpec<'_>) -> Option<Vec<i32>> {
    if spec.archive || !spec.text.exact {
        return None;
    }
    let Some(Candidates::Ids(matches)) = &spec.text.candidates else {
        return None;
    };
    let mut order = match (spec.sort, &spec.text.heading) {
        (Sort::Relevance, Some(Candidates::Ids(heading))) => {
            let heading: std::collections::HashSet<i32> = heading.iter().copied().collect();
            let (top, rest): (Vec<i32>, Vec<i32>) =
                matches.iter().partition(|id| heading.contains(id));
            [top, rest].concat()
        }
        (Sort::Relevance, _) => return None,
        (Sort::Newest | Sort::Oldest, _) => matches.clone(),
    };
    if spec.sort == Sort::Oldest || spec.backward {
        order.reverse();
    }
    Some(order)
}

/// Up to `limit + 1` rows after the cursor in the given sort, from the live table and, when
/// `archive` is set, the archive too (each side ordered and limited, then merged).
async fn page(conn: &mut PgConnection, spec: &PageSpec<'_>) -> Result<Vec<Hit>, sqlx::Error> {
    page_query("", spec)
        .build_query_as::<Hit>()
        .fetch_all(conn)
        .await
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
async fn count(conn: &mut PgConnection, spec: &CountSpec<'_>) -> Result<MatchCount, sqlx::Error> {
    let cap = spec.cap;
    if let Some(known) = known_count(spec.text, cap) {
        return Ok(known);
    }
    let n: i64 = if counts_through_index(spec.text, spec.filters, cap) {
        // More matches than the entry point lists, and nothing it cannot evaluate: counted
        // through the text and trigram indexes by `ifind_match_count` (migration 0012), which
        // a walk over the site's rows would not use.
        let (lead, location) = narrowing(spec.filters);
        sqlx::query_scalar("SELECT ifind_match_count($1, $2::tsquery, $3, $4, $5, $6)")
            .bind(spec.site_id)
            .bind(spec.text.matches.as_deref())
            .bind(lead)
            .bind(location)
            .bind(spec.archive)
            .bind(i32::try_from(cap).unwrap_or(i32::MAX))
            .fetch_one(conn)
            .await?
    } else {
        count_query("", spec)
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
/// the newest rows (BENCHMARKS.md, schema 1.12.0). A dense `lead:` or `location:` is counted
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
        && filters.to.is_none()
        && filters.starts_from.is_none();
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

/// The near matches whose title or lead holds a word near a typed one ([`similar::is_near`]:
/// the trigram test that found them also takes words that merely share letters), and those
/// words.
///
/// [`similar::is_near`]: crate::domain::similar::is_near
fn keep_near(hits: Vec<Hit>, typed: &[String]) -> (Vec<Hit>, Vec<String>) {
    let mut similar: Vec<String> = Vec::new();
    let mut kept = Vec::with_capacity(hits.len());
    for hit in hits {
        let i = &hit.interaction;
        let text = format!("{} {}", i.title, i.lead);
        let words = crate::domain::similar::near_words(typed, &text);
        if words.is_empty() {
            continue;
        }
        for word in words {
            if !similar.contains(&word) {
                similar.push(word);
            }
        }
        kept.push(hit);
    }
    (kept, similar)
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
    fn like_patterns_are_literal() {
        assert_eq!(contains_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
    }
}
