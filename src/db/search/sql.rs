//! The statements of a search, built from fixed fragments with every value bound: the
//! conditions ([`push_where_in`]), a page ([`PageSpec`]), a count and the near matches.

use chrono::{DateTime, Days, NaiveDate, Utc};
use sqlx::{Postgres, QueryBuilder};

use super::candidates::{Candidates, Text};
use super::cursor::Cursor;
use super::{Sort, effective_sort};
use crate::domain::interaction::INTERACTION_COLUMNS;
use crate::domain::query::{FieldMatch, Filters};

/// Wraps a page's query (ordered and limited) so that only its rows get their usernames.
pub(super) const NAMES_OPEN: &str = "SELECT h.*, ifind_username(h.created_by) AS created_by_name, \
     ifind_username(h.updated_by) AS updated_by_name FROM (";
/// Closes [`NAMES_OPEN`]; an `ORDER BY` on `h` must follow (a join does not keep the order).
pub(super) const NAMES_CLOSE: &str = ") AS h";

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
    format!("%{}%", like_pattern(value))
}

/// The `LIKE` pattern of exactly `value` (its `\`, `%` and `_` escaped): with `ILIKE`, the whole
/// value in any case.
pub fn like_pattern(value: &str) -> String {
    let mut p = String::new();
    for c in value.chars() {
        if matches!(c, '\\' | '%' | '_') {
            p.push('\\');
        }
        p.push(c);
    }
    p
}

/// The regular expression (for `~*`) of a word starting with `value`: at the start of the field
/// or after a character that is neither a letter nor a digit. Every character of `value` that
/// is not a letter or digit is escaped, so it stands for itself.
pub fn word_start_regex(value: &str) -> String {
    let mut p = String::from("(^|[^[:alnum:]])");
    for c in value.chars() {
        if !c.is_alphanumeric() {
            p.push('\\');
        }
        p.push(c);
    }
    p
}

/// The `ILIKE` pattern that `ifind_match_ids` and `ifind_match_count` narrow a field filter by:
/// the whole value for a quoted one (exact), any row containing it for a bare one (the word
/// start is checked by the statement).
pub fn narrowing_pattern(m: &FieldMatch) -> String {
    if m.whole {
        like_pattern(&m.value)
    } else {
        contains_pattern(&m.value)
    }
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
    pub(super) fn name(self) -> &'static str {
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
    push_text(qb, text, many);
    push_filters(qb, f, many);
}

/// The text condition of [`push_where_in`]: as a function no index serves on a walked site; with
/// many matches written so that the planner expects it to keep almost every row (as the policy
/// test is), so that a date-ordered walk stops after a page whatever the planner's statistics
/// (it has none for search_vector) say.
fn push_text(qb: &mut QueryBuilder<'_, Postgres>, text: &Text, many: bool) {
    let Some(t) = &text.matches else {
        return;
    };
    let (open, close) = if text.walk {
        (" AND ts_match_vq(search_vector, ", "::tsquery)")
    } else if many {
        (
            " AND NULLIF(search_vector @@ (",
            "::tsquery), false) IS NOT NULL",
        )
    } else {
        (" AND search_vector @@ (", "::tsquery)")
    };
    qb.push(open).push_bind(t.clone()).push(close);
}

/// The filters of [`push_where_in`]: `type:`, `lead:`, `location:`, `from:`, `to:`.
fn push_filters(qb: &mut QueryBuilder<'_, Postgres>, f: &Filters, many: bool) {
    // With many candidates these are common too: written, like the text condition, so that the
    // planner expects them to keep most rows (under the policies it has no statistics for
    // ILIKE, and would read the whole site to sort it).
    let (open, close) = if many {
        (" AND NULLIF(", ", false) IS NOT NULL")
    } else {
        (" AND (", ")")
    };
    for (column, field) in [
        ("type", &f.kind),
        ("lead", &f.lead),
        ("location", &f.location),
    ] {
        if let Some(field) = field {
            qb.push(open)
                .push(column)
                .push(" ILIKE ")
                .push_bind(narrowing_pattern(field));
            if !field.whole {
                qb.push(" AND ")
                    .push(column)
                    .push(" ~* ")
                    .push_bind(word_start_regex(&field.value));
            }
            qb.push(close);
        }
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
    if let Some(start) = f.starts_from {
        qb.push(" AND start_datetime >= ").push_bind(start);
    }
    if let Some(to) = f.to {
        if let Some(hi) = utc_midnight(to, 2) {
            qb.push(" AND start_datetime < ").push_bind(hi);
        }
        qb.push(" AND (start_datetime AT TIME ZONE timezone)::date <= ")
            .push_bind(to);
    }
}

/// Where a page continues: the previous page's last row's sort key.
#[derive(Clone, Copy, Debug)]
pub struct PageAfter {
    /// Its rank (its tier's weight); None for newest/oldest.
    pub rank: Option<f32>,
    pub start: DateTime<Utc>,
    pub id: i32,
}

/// The page statement a live-table search sends, after `prefix` (e.g. `EXPLAIN ...`), with the
/// normalised tsquery texts `matches` and `rank` and the candidates [`match_candidates`] gave: what the Finder benchmark's raw side sends,
/// so that both compare the same statement.
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
) -> QueryBuilder<'static, Postgres> {
    let text = TextSpec {
        matches,
        rank,
        walk,
        candidates,
        exact: false,
        heading: None,
    };
    ranked_page_statement(prefix, site_id, text, filters, sort, after, limit)
}

/// The text conditions of [`ranked_page_statement`]: the normalised tsquery texts, whether the
/// site is walked, the candidates [`match_candidates`] gave and, for relevance over many
/// matches, the heading tier's ([`heading_candidates`]).
///
/// [`heading_candidates`]: super::heading_candidates
#[derive(Clone, Copy, Debug)]
pub struct TextSpec<'a> {
    pub matches: Option<&'a str>,
    pub rank: Option<&'a str>,
    pub walk: bool,
    pub candidates: &'a Candidates,
    /// The candidates are exactly the matches ([`exact_for`](super::exact_for)).
    pub exact: bool,
    pub heading: Option<&'a Candidates>,
}

/// [`page_statement`] with the heading tier's candidates, as the search sends it for relevance
/// over many matches.
pub fn ranked_page_statement(
    prefix: &'static str,
    site_id: i32,
    spec: TextSpec<'_>,
    filters: &Filters,
    sort: Sort,
    after: Option<PageAfter>,
    limit: i64,
) -> QueryBuilder<'static, Postgres> {
    let text = Text {
        matches: spec.matches.map(str::to_string),
        rank: spec.rank.map(str::to_string),
        walk: spec.walk,
        candidates: Some(spec.candidates.clone()),
        exact: spec.exact,
        heading: spec.heading.cloned(),
        ..Text::default()
    };
    let sort = effective_sort(sort, &text);
    let cursor = after.map(|a| Cursor::position(a.rank, a.start, a.id));
    let spec = PageSpec {
        site_id,
        text: &text,
        filters,
        sort,
        backward: false,
        after: cursor.as_ref(),
        limit,
        archive: false,
    };
    // What the search reads for this page (`read_of`): picked listed ids, a first page of
    // them, or every candidate.
    match super::read_of(&spec) {
        super::Read::Picked(picked) => {
            let text = Text {
                candidates: Some(Candidates::Ids(picked.clone())),
                heading: None,
                ..text.clone()
            };
            page_query(prefix, &super::picked_spec(&spec, &text, picked.len()))
        }
        super::Read::Head(head) => page_query(
            prefix,
            &PageSpec {
                text: &head,
                ..spec
            },
        ),
        super::Read::All => page_query(prefix, &spec),
    }
}

/// What a count counts: the matches of `text` under `filters` at a site, up to `cap + 1` rows
/// (per table).
#[derive(Clone, Copy)]
pub(super) struct CountSpec<'a> {
    pub(super) site_id: i32,
    pub(super) text: &'a Text,
    pub(super) filters: &'a Filters,
    pub(super) cap: i64,
    /// The archive's rows too.
    pub(super) archive: bool,
}

impl<'a> CountSpec<'a> {
    /// The count of `req`'s site and archive flag for `text` and `filters`, up to `cap`.
    pub(super) fn of(
        req: &super::SearchRequest,
        text: &'a Text,
        filters: &'a Filters,
        cap: i64,
    ) -> CountSpec<'a> {
        CountSpec {
            site_id: req.site_id,
            text,
            filters,
            cap,
            archive: req.archive,
        }
    }
}

/// The count statement of [`count`](super::count), after `prefix`, for the live table.
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
    let spec = CountSpec {
        site_id,
        text: &text,
        filters,
        cap,
        archive: false,
    };
    count_query(prefix, &spec)
}

/// One page of a search: where, what, in which order, after which row, how many.
#[derive(Clone, Copy)]
pub(super) struct PageSpec<'a> {
    pub(super) site_id: i32,
    pub(super) text: &'a Text,
    pub(super) filters: &'a Filters,
    pub(super) sort: Sort,
    /// Walk the relevance order backwards (the lowest tier first, oldest first within a tier):
    /// the pages of a search read from its end. Newest and oldest read backwards are each
    /// other, so this is only set with [`Sort::Relevance`].
    pub(super) backward: bool,
    /// Continue after this row (None: the first page).
    pub(super) after: Option<&'a Cursor>,
    /// Rows per page (the statement asks for one more, to know whether another page follows).
    pub(super) limit: i64,
    /// The archive's rows too.
    pub(super) archive: bool,
}

/// The statement of [`page`](super::page), after `prefix`.
pub(super) fn page_query(
    prefix: &'static str,
    spec: &PageSpec<'_>,
) -> QueryBuilder<'static, Postgres> {
    let mut qb = QueryBuilder::<Postgres>::new(prefix);
    qb.push(NAMES_OPEN);
    let order = if spec.archive {
        qb.push("SELECT * FROM ((");
        push_source(&mut qb, Table::Live, spec);
        qb.push(") UNION ALL (");
        let order = push_source(&mut qb, Table::Archive, spec);
        qb.push(")) AS u ORDER BY ")
            .push(order.join(", "))
            .push(" LIMIT ")
            .push_bind(spec.limit + 1);
        order
    } else {
        push_source(&mut qb, Table::Live, spec)
    };
    let outer: Vec<String> = order.iter().map(|o| format!("h.{o}")).collect();
    qb.push(NAMES_CLOSE)
        .push(" ORDER BY ")
        .push(outer.join(", "));
    qb
}

/// One source of a page: `SELECT ... FROM table ... ORDER BY ... LIMIT limit + 1`. Returns the
/// order, as column terms, for the caller to order the merged rows the same way.
fn push_source(
    qb: &mut QueryBuilder<'_, Postgres>,
    table: Table,
    spec: &PageSpec<'_>,
) -> Vec<&'static str> {
    let archived = if table == Table::Archive {
        ", true AS archived"
    } else {
        ", false AS archived"
    };
    let order = match (spec.sort, spec.text.rank.as_deref()) {
        (Sort::Relevance, Some(rank)) => push_ranked(qb, table, spec, archived, rank),
        _ => push_by_date(qb, table, spec, archived),
    };
    qb.push(" ORDER BY ")
        .push(order.join(", "))
        .push(" LIMIT ")
        .push_bind(spec.limit + 1);
    order
}

/// The relevance tiers, best first: the weight a row gets (its `rank`) when the positive terms
/// of the query match it within these fields of `search_vector` (`ts_filter` by weight label:
/// A the title, B the lead, type and location: the heading) and not within the tier before.
/// The last tier takes every other match (the words need the description or the notes). Two
/// tiers because each boundary needs an index to stay fast (migration 0017 indexes the
/// heading): without one, a word absent from a tier made its walk read the whole site.
pub const TIERS: [(f32, Option<&str>); 2] = [(1.0, Some("{a,b}")), (0.1, None)];

/// The tier of a cursor's rank (None: not a tier's weight, a cursor from another ranking).
pub(super) fn tier_of(rank: f32) -> Option<usize> {
    TIERS
        .iter()
        .position(|(weight, _)| (weight - rank).abs() < 1e-6)
}

/// `rank` of a row: [`TIERS`] as one expression (for rows that are all read anyway).
fn push_tier_case(qb: &mut QueryBuilder<'_, Postgres>, rank: &str) {
    qb.push("CASE");
    for (weight, labels) in TIERS {
        match labels {
            Some(labels) => {
                qb.push(" WHEN ts_filter(search_vector, '")
                    .push(labels)
                    .push("') @@ ")
                    .push_bind(rank.to_string())
                    .push("::tsquery THEN ")
                    .push(weight.to_string());
            }
            None => {
                qb.push(" ELSE ").push(weight.to_string());
            }
        }
    }
    qb.push(" END::real");
}

/// The condition that a match is in tier `tier` of [`TIERS`]: within its fields and not within
/// the tier before. With many matches written, like the text condition, so that the planner
/// expects it to keep most rows and walks the date order.
fn push_tier_condition(qb: &mut QueryBuilder<'_, Postgres>, tier: usize, rank: &str, many: bool) {
    let (open, close) = if many {
        (" AND NULLIF(", ", false) IS NOT NULL")
    } else {
        (" AND (", ")")
    };
    if let Some(labels) = TIERS[tier].1 {
        qb.push(open)
            .push("ts_filter(search_vector, '")
            .push(labels)
            .push("') @@ ")
            .push_bind(rank.to_string())
            .push("::tsquery")
            .push(close);
    }
    if let Some(before) = tier.checked_sub(1).and_then(|t| TIERS[t].1) {
        qb.push(open)
            .push("NOT ts_filter(search_vector, '")
            .push(before)
            .push("') @@ ")
            .push_bind(rank.to_string())
            .push("::tsquery")
            .push(close);
    }
}

/// [`push_source`] by relevance: every match ranked by its tier ([`TIERS`]), newest first within
/// a tier, after the cursor's (rank, start, id). The order is exact over all matches. When the
/// candidates are listed (every match is among a few thousand ids) each row's tier is computed
/// and the rows sorted; otherwise (many matches, or a small site walked) each tier is a walk of
/// the site's rows newest first that stops after a page (the heading tier read by its listed
/// ids when there are few), the tiers one after another under one `LIMIT`, so that the walk
/// of the lower tier never starts once the heading fills the page.
fn push_ranked(
    qb: &mut QueryBuilder<'_, Postgres>,
    table: Table,
    spec: &PageSpec<'_>,
    archived: &'static str,
    rank: &str,
) -> Vec<&'static str> {
    let many = spec
        .text
        .candidates
        .as_ref()
        .is_some_and(Candidates::is_many);
    if many || spec.text.walk {
        push_tiers(qb, table, spec, archived, rank);
    } else {
        qb.push("SELECT * FROM (SELECT ")
            .push(INTERACTION_COLUMNS)
            .push(archived)
            .push(", ");
        push_tier_case(qb, rank);
        qb.push(" AS rank");
        push_where_in(qb, table, spec.site_id, spec.text, spec.filters);
        qb.push(") AS m");
        if let Some(c) = spec.after {
            qb.push(" WHERE (rank, start_datetime, interaction_id) ")
                .push(if spec.backward { ">" } else { "<" })
                .push(" (")
                .push_bind(c.rank)
                .push("::real, ")
                .push_bind(c.start)
                .push(", ")
                .push_bind(c.id)
                .push(")");
        }
    }
    if spec.backward {
        vec!["rank ASC", "start_datetime ASC", "interaction_id ASC"]
    } else {
        vec!["rank DESC", "start_datetime DESC", "interaction_id DESC"]
    }
}

/// The text of the heading tier's part of [`push_tiers`] narrowed to the heading matches that
/// `ifind_heading_ids` listed: all of them, or the newest page's worth on a first page; None
/// (walk) when they are dense or more than listed past the first page.
fn heading_text(spec: &PageSpec<'_>) -> Option<Text> {
    let ids = match spec.text.heading.as_ref()? {
        Candidates::Ids(ids) => ids.clone(),
        // The newest listed heading matches are the page's only when each is a match: no
        // exclusion (the heading ids are the positive terms') and no filter left to check.
        Candidates::Newest(ids)
            if spec.after.is_none()
                && !spec.backward
                && spec.text.matches == spec.text.rank
                && spec.filters.is_empty() =>
        {
            let n = usize::try_from(spec.limit + 1).ok()?;
            ids.iter().copied().take(n).collect()
        }
        _ => return None,
    };
    Some(Text {
        candidates: Some(Candidates::Ids(ids)),
        ..spec.text.clone()
    })
}

/// The tier-by-tier walks of [`push_ranked`]: `SELECT * FROM (SELECT * FROM ((tier 1 newest
/// first LIMIT n) UNION ALL (tier 2 ...) ...) AS u LIMIT n) AS m`, from the cursor's tier on.
/// An Append without an order runs its parts in turn, so the Limit stops it as soon as it has
/// a page (the search turns parallel plans off, which could interleave them).
fn push_tiers(
    qb: &mut QueryBuilder<'_, Postgres>,
    table: Table,
    spec: &PageSpec<'_>,
    archived: &'static str,
    rank: &str,
) {
    // The tiers in the walk's order, from the cursor's tier on.
    let order: Vec<usize> = if spec.backward {
        (0..TIERS.len()).rev().collect()
    } else {
        (0..TIERS.len()).collect()
    };
    let from = spec.after.and_then(|c| c.rank.and_then(tier_of));
    let skip = from
        .and_then(|t| order.iter().position(|&o| o == t))
        .unwrap_or(0);
    let (cmp, direction) = if spec.backward {
        (">", "ASC")
    } else {
        ("<", "DESC")
    };
    qb.push("SELECT * FROM (SELECT * FROM (");
    for (n, &tier) in order.iter().enumerate().skip(skip) {
        if n > skip {
            qb.push(" UNION ALL ");
        }
        qb.push("(SELECT ")
            .push(INTERACTION_COLUMNS)
            .push(archived)
            .push(", ")
            .push(TIERS[tier].0.to_string())
            .push("::real AS rank");
        let narrowed = (tier == 0 && table == Table::Live)
            .then(|| heading_text(spec))
            .flatten();
        let text = narrowed.as_ref().unwrap_or(spec.text);
        let many = text.candidates.as_ref().is_some_and(Candidates::is_many);
        push_where_in(qb, table, spec.site_id, text, spec.filters);
        push_tier_condition(qb, tier, rank, many);
        if let Some(c) = spec.after.filter(|_| n == skip) {
            push_after_in_date_order(qb, cmp, c);
        }
        qb.push(format!(
            " ORDER BY start_datetime {direction}, interaction_id {direction} LIMIT "
        ))
        .push_bind(spec.limit + 1)
        .push(")");
    }
    qb.push(") AS u LIMIT ")
        .push_bind(spec.limit + 1)
        .push(") AS m");
}

/// The rows after the cursor's (start, id) in date order, `cmp` `<` walking newest first and
/// `>` oldest first. The plain bound on the start lets the (site_id, start_datetime) index skip
/// to the cursor.
fn push_after_in_date_order(qb: &mut QueryBuilder<'_, Postgres>, cmp: &str, c: &Cursor) {
    qb.push(" AND start_datetime ")
        .push(cmp)
        .push("= ")
        .push_bind(c.start)
        .push(" AND (start_datetime, interaction_id) ")
        .push(cmp)
        .push(" (")
        .push_bind(c.start)
        .push(", ")
        .push_bind(c.id)
        .push(")");
}

/// [`push_source`] newest or oldest first, after the cursor's (start, id).
fn push_by_date(
    qb: &mut QueryBuilder<'_, Postgres>,
    table: Table,
    spec: &PageSpec<'_>,
    archived: &'static str,
) -> Vec<&'static str> {
    let oldest = spec.sort == Sort::Oldest;
    let cmp = if oldest { ">" } else { "<" };
    qb.push("SELECT ")
        .push(INTERACTION_COLUMNS)
        .push(archived)
        .push(", NULL::real AS rank");
    push_where_in(qb, table, spec.site_id, spec.text, spec.filters);
    if let Some(c) = spec.after {
        push_after_in_date_order(qb, cmp, c);
    }
    if oldest {
        vec!["start_datetime ASC", "interaction_id ASC"]
    } else {
        vec!["start_datetime DESC", "interaction_id DESC"]
    }
}

/// The statement of [`count`], after `prefix`.
pub(super) fn count_query(
    prefix: &'static str,
    spec: &CountSpec<'_>,
) -> QueryBuilder<'static, Postgres> {
    let CountSpec {
        site_id,
        text,
        filters,
        cap,
        archive,
    } = *spec;
    // A walked site (see [`walk_small_site`](super::walk_small_site)) and a dense condition are
    // read by the site's date index, newest first, as the page is: the synthetic statistics
    // (migration 0012) make a site look like a twentieth of the table, and the planner then
    // chose to read the whole primary key for its rows.
    let order = if text.walk || text.candidates.as_ref().is_some_and(Candidates::is_many) {
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

/// The statement of the near-match fallback (`near_matches`), after `prefix`, narrowed to the
/// ids `ifind_near_ids` gave (None: not narrowed; the statement tests the site's rows itself).
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
