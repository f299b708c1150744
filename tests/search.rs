//! The Finder's search against a real PostgreSQL: a fixed fixture, a table of queries with their
//! expected ids, each checked against an equivalent hand-written SQL query, keyset paging,
//! counts, the typo-tolerant fallback and malformed input.

mod common;

use ifind::db::search::{MatchCount, SearchError, SearchPage, SearchRequest, Sort, search};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sqlx::{Connection, PgConnection};

const NORTH: i32 = 1;
const SOUTH: i32 = 2;
const DELETED: i32 = 21;

/// Two sites, two users; site 1 has 20 live rows and a soft-deleted one (21) that would match
/// most queries; site 2 has rows that would match too (22..24).
const FIXTURE: &str = r#"
INSERT INTO users (user_id, username, password_hash, email) VALUES
  (1, 'ana', 'x', 'ana@example.org'), (2, 'ben', 'x', 'ben@example.org');
INSERT INTO sites (site_id, name) VALUES (1, 'North'), (2, 'South');
INSERT INTO interactions (interaction_id, site_id, title, type, lead, start_datetime, timezone,
                          end_datetime, location, description, notes, created_by) VALUES
 (1, 1, 'Quarterly budget review', 'Meeting', 'Maria Lopez', '2024-01-10 09:00Z', 'Europe/Berlin', '2024-01-10 10:00Z', 'Berlin office', 'Review of the quarterly budget with finance.', NULL, 1),
 (2, 1, 'Budget draft for the quarterly plan', 'Meeting', 'Ben Okafor', '2024-01-12 14:00Z', 'UTC', '2024-01-12 15:00Z', NULL, 'First draft of the budget', 'quarterly numbers pending', 1),
 (3, 1, 'Invoice dispute with supplier', 'Call', 'Maria Lopez', '2024-02-01 16:00Z', 'America/New_York', '2024-02-01 16:30Z', NULL, 'Supplier disputes invoice 4411', NULL, 1),
 (4, 1, 'Contract renewal', 'Call', 'Sam O''Brien', '2024-02-03 10:00Z', 'Europe/London', '2024-02-03 10:30Z', 'Old Harbor pier', 'Renew the cleaning contract', NULL, 2),
 (5, 1, 'Weekly team meeting', 'Meeting', 'ops_team', '2024-02-05 08:00Z', 'Europe/Berlin', '2024-02-05 09:00Z', 'Berlin office', 'Standing weekly meeting', NULL, 2),
 (6, 1, 'Meetup with local makers', 'Event', 'Ms Tan', '2024-02-07 18:00Z', 'Asia/Tokyo', '2024-02-07 20:00Z', 'Tokyo hub', 'Community meetup', NULL, 2),
 (7, 1, 'Harbor inspection', 'Inspection', 'Maria Lopez', '2024-02-10 07:00Z', 'Europe/Berlin', '2024-02-10 09:00Z', 'Hamburg port', 'Checked the cranes', NULL, 1),
 (8, 1, 'Crane maintenance', 'Inspection', 'Ben Okafor', '2024-02-11 07:00Z', 'Europe/Berlin', '2024-02-11 09:00Z', 'Old Harbor dock', 'Routine maintenance', NULL, 1),
 (9, 1, 'Safety walk', 'Inspection', 'Ben Okafor', '2024-02-12 07:00Z', 'Europe/Berlin', '2024-02-12 08:00Z', NULL, 'Walked the harbor perimeter', NULL, 1),
 (10, 1, 'Fence repair', 'Maintenance', 'Lee Park', '2024-02-13 07:00Z', 'Europe/Berlin', '2024-02-13 08:00Z', NULL, 'Fixed the fence', 'near the harbor gate', 2),
 (11, 1, 'Late call with Los Angeles', 'Phone Call', 'Maria Lopez', '2024-03-11 06:30Z', 'America/Los_Angeles', '2024-03-11 07:00Z', NULL, NULL, NULL, 1),
 (12, 1, 'Early call with Kiritimati', 'Phone Call', 'Lee Park', '2024-03-10 11:00Z', 'Pacific/Kiritimati', '2024-03-10 11:30Z', NULL, NULL, NULL, 2),
 (13, 1, 'Tokyo morning sync', 'Meeting', 'Ms Tan', '2024-03-10 15:30Z', 'Asia/Tokyo', '2024-03-10 16:00Z', 'Tokyo hub', NULL, NULL, 2),
 (14, 1, 'Pago Pago evening call', 'Phone Call', 'Lee Park', '2024-03-11 07:00Z', 'Pacific/Pago_Pago', '2024-03-11 07:30Z', NULL, NULL, NULL, 2),
 (15, 1, 'UTC midnight review', 'Meeting', 'Ben Okafor', '2024-03-12 00:00Z', 'UTC', '2024-03-12 01:00Z', NULL, NULL, NULL, 1),
 (16, 1, 'Invoice follow-up', 'Email', 'Maria Lopez', '2024-04-01 09:00Z', 'UTC', '2024-04-01 09:00Z', NULL, 'Sent the invoice reminder e-mail', NULL, 1),
 (17, 1, 'Invoice archive', 'Email', 'Ben Okafor', '2024-04-01 09:00Z', 'UTC', '2024-04-01 09:00Z', NULL, 'Archived invoices', NULL, 1),
 (18, 1, 'Budget meeting minutes', 'Meeting', 'Maria Lopez', '2024-04-05 10:00Z', 'Europe/Berlin', '2024-04-05 11:00Z', 'Berlin office', 'Minutes of the budget meeting', 'draft', 1),
 (19, 1, 'Conference call about 50% discount', 'Conference Call', 'Ben Okafor', '2024-04-08 15:00Z', 'UTC', '2024-04-08 16:00Z', NULL, 'Discount talks', NULL, 2),
 (20, 1, 'Plain note', 'Note', 'Lee Park', '2024-04-10 12:00Z', 'UTC', '2024-04-10 12:05Z', NULL, NULL, NULL, 2),
 (21, 1, 'Quarterly budget meeting (deleted)', 'Meeting', 'Maria Lopez', '2024-03-11 10:00Z', 'UTC', '2024-03-11 11:00Z', 'Berlin office', 'quarterly budget harbor invoice meeting inspection', 'draft', 1),
 (22, 2, 'Quarterly budget review', 'Meeting', 'Maria Lopez', '2024-01-15 10:00Z', 'UTC', '2024-01-15 11:00Z', 'Berlin office', 'quarterly budget harbor invoice meeting', NULL, 1),
 (23, 2, 'Harbor inspection', 'Inspection', 'Maria Lopez', '2024-03-10 16:00Z', 'Asia/Tokyo', '2024-03-10 17:00Z', 'Old Harbor pier', 'meet at the harbor', NULL, 2),
 (24, 2, 'Budgett planning', 'Meeting', 'Ben Okafor', '2024-02-20 10:00Z', 'UTC', '2024-02-20 11:00Z', NULL, NULL, NULL, 2);
UPDATE interactions SET deleted_at = '2024-05-01Z', deleted_by = 1 WHERE interaction_id = 21;
"#;

/// All of site 1's live rows, newest first.
const ALL_NEWEST: &[i32] = &[
    20, 19, 18, 17, 16, 15, 14, 11, 13, 12, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1,
];
const ALL_OLDEST: &[i32] = &[
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 13, 11, 14, 15, 16, 17, 18, 19, 20,
];

struct Case {
    site: i32,
    query: &'static str,
    sort: Sort,
    ids: &'static [i32],
    /// The equivalent hand-written SQL; `$1` is the site.
    sql: &'static str,
    /// Substrings of the expected notes, in order (and no other notes).
    notes: &'static [&'static str],
    fuzzy: bool,
}

const fn case(query: &'static str, sort: Sort, ids: &'static [i32], sql: &'static str) -> Case {
    Case {
        site: NORTH,
        query,
        sort,
        ids,
        sql,
        notes: &[],
        fuzzy: false,
    }
}

const fn noted(mut c: Case, notes: &'static [&'static str]) -> Case {
    c.notes = notes;
    c
}

const fn near(mut c: Case) -> Case {
    c.fuzzy = true;
    c
}

const fn in_site(mut c: Case, site: i32) -> Case {
    c.site = site;
    c
}

use Sort::{Newest, Oldest, Relevance};

#[rustfmt::skip]
const CASES: &[Case] = &[
    // Stemming: "invoices" finds "Invoice" and "invoices".
    case("invoices ", Newest, &[17, 16, 3],
        "SELECT interaction_id FROM interactions WHERE site_id = $1 AND deleted_at IS NULL \
         AND search_vector @@ to_tsquery('english', 'invoices') \
         ORDER BY start_datetime DESC, interaction_id DESC"),
    case("meetings ", Newest, &[18, 15, 13, 5, 2, 1],
        "SELECT interaction_id FROM interactions WHERE site_id = $1 AND deleted_at IS NULL \
         AND search_vector @@ to_tsquery('english', 'meeting') \
         ORDER BY start_datetime DESC, interaction_id DESC"),
    // Relevance by tier (`tier('q')` is the hand-written tiers of TIER_SQL): the heading
    // (title 7, location 8 and 4: newest first), then the rest (description 9, notes 10:
    // newest first).
    case("harbor ", Relevance, &[8, 7, 4, 10, 9],
        "SELECT interaction_id FROM interactions WHERE site_id = $1 AND deleted_at IS NULL \
         AND search_vector @@ to_tsquery('english', 'harbor') \
         ORDER BY tier('harbor') DESC, \
                  start_datetime DESC, interaction_id DESC"),
    case("harbor ", Newest, &[10, 9, 8, 7, 4],
        "SELECT interaction_id FROM interactions WHERE site_id = $1 AND deleted_at IS NULL \
         AND search_vector @@ to_tsquery('english', 'harbor') \
         ORDER BY start_datetime DESC, interaction_id DESC"),
    case("harbor ", Oldest, &[4, 7, 8, 9, 10],
        "SELECT interaction_id FROM interactions WHERE site_id = $1 AND deleted_at IS NULL \
         AND search_vector @@ to_tsquery('english', 'harbor') \
         ORDER BY start_datetime ASC, interaction_id ASC"),
    // AND.
    case("quarterly budget ", Newest, &[2, 1],
        "SELECT interaction_id FROM interactions WHERE site_id = $1 AND deleted_at IS NULL \
         AND search_vector @@ to_tsquery('english', 'quarterly & budget') \
         ORDER BY start_datetime DESC, interaction_id DESC"),
    case("budget review ", Relevance, &[1],
        "SELECT interaction_id FROM interactions WHERE site_id = $1 AND deleted_at IS NULL \
         AND search_vector @@ to_tsquery('english', 'budget & review') \
         ORDER BY tier('budget & review') DESC, \
                  start_datetime DESC, interaction_id DESC"),
    // Phrase: 2 has both words, not adjacent.
    case("\"quarterly budget\"", Newest, &[1],
        "SELECT interaction_id FROM interactions WHERE site_id = $1 AND deleted_at IS NULL \
         AND search_vector @@ to_tsquery('english', 'quarterly <-> budget') \
         ORDER BY start_datetime DESC, interaction_id DESC"),
    // Exclusions: 18 has "draft" only in its notes.
    case("budget -draft ", Newest, &[1],
        "SELECT interaction_id FROM interactions WHERE site_id = $1 AND deleted_at IS NULL \
         AND search_vector @@ to_tsquery('english', 'budget & !draft') \
         ORDER BY start_datetime DESC, interaction_id DESC"),
    case("budget -\"quarterly budget\" ", Newest, &[18, 2],
        "SELECT interaction_id FROM interactions WHERE site_id = $1 AND deleted_at IS NULL \
         AND search_vector @@ to_tsquery('english', 'budget & !(quarterly <-> budget)') \
         ORDER BY start_datetime DESC, interaction_id DESC"),
    // OR, and its precedence: (harbor | invoice) & dispute.
    case("invoice or contract ", Newest, &[17, 16, 4, 3],
        "SELECT interaction_id FROM interactions WHERE site_id = $1 AND deleted_at IS NULL \
         AND search_vector @@ to_tsquery('english', 'invoice | contract') \
         ORDER BY start_datetime DESC, interaction_id DESC"),
    case("harbor OR invoice dispute ", Newest, &[3],
        "SELECT interaction_id FROM interactions WHERE site_id = $1 AND deleted_at IS NULL \
         AND search_vector @@ to_tsquery('english', '(harbor | invoice) & dispute') \
         ORDER BY start_datetime DESC, interaction_id DESC"),
    // Prefix on the last word; a trailing space ends it (6 is "Meetup").
    case("meet", Newest, &[18, 15, 13, 6, 5, 2, 1],
        "SELECT interaction_id FROM interactions WHERE site_id = $1 AND deleted_at IS NULL \
         AND search_vector @@ to_tsquery('english', 'meet:*') \
         ORDER BY start_datetime DESC, interaction_id DESC"),
    case("meet ", Newest, &[18, 15, 13, 5, 2, 1],
        "SELECT interaction_id FROM interactions WHERE site_id = $1 AND deleted_at IS NULL \
         AND search_vector @@ to_tsquery('english', 'meet') \
         ORDER BY start_datetime DESC, interaction_id DESC"),
    case("quarterly budg", Newest, &[2, 1],
        "SELECT interaction_id FROM interactions WHERE site_id = $1 AND deleted_at IS NULL \
         AND search_vector @@ to_tsquery('english', 'quarterly & budg:*') \
         ORDER BY start_datetime DESC, interaction_id DESC"),
    case("meet", Relevance, &[18, 15, 13, 6, 5, 2, 1],
        "SELECT interaction_id FROM interactions WHERE site_id = $1 AND deleted_at IS NULL \
         AND search_vector @@ to_tsquery('english', 'meet:*') \
         ORDER BY tier('meet:*') DESC, \
                  start_datetime DESC, interaction_id DESC"),
    // A partly typed word past its stem: the relaxed prefix query.
    case("meetin", Newest, &[18, 15, 13, 6, 5, 2, 1],
        "SELECT interaction_id FROM interactions WHERE site_id = $1 AND deleted_at IS NULL \
         AND search_vector @@ to_tsquery('english', 'meetin:* | meeti:* | meet:*') \
         ORDER BY start_datetime DESC, interaction_id DESC"),
    // Filters.
    // A bare value is a word of the field starting with it ("Call", "Phone Call",
    // "Conference Call"); a quoted one the whole value.
    case("type:call", Newest, &[19, 14, 11, 12, 4, 3],
        "SELECT interaction_id FROM interactions WHERE site_id = $1 AND deleted_at IS NULL \
         AND type ~* '(^|[^[:alnum:]])call' ORDER BY start_datetime DESC, interaction_id DESC"),
    case("type:cal", Newest, &[19, 14, 11, 12, 4, 3],
        "SELECT interaction_id FROM interactions WHERE site_id = $1 AND deleted_at IS NULL \
         AND type ~* '(^|[^[:alnum:]])cal' ORDER BY start_datetime DESC, interaction_id DESC"),
    case("type:all", Newest, &[],
        "SELECT interaction_id FROM interactions WHERE site_id = $1 AND deleted_at IS NULL \
         AND type ~* '(^|[^[:alnum:]])all' ORDER BY start_datetime DESC, interaction_id DESC"),
    case("TYPE:\"PHONE CALL\"", Oldest, &[12, 11, 14],
        "SELECT interaction_id FROM interactions WHERE site_id = $1 AND deleted_at IS NULL \
         AND lower(type) = 'phone call' ORDER BY start_datetime, interaction_id"),
    case("type:\"call\"", Newest, &[4, 3],
        "SELECT interaction_id FROM interactions WHERE site_id = $1 AND deleted_at IS NULL \
         AND lower(type) = 'call' ORDER BY start_datetime DESC, interaction_id DESC"),
    case("lead:\"maria lopez\"", Newest, &[18, 16, 11, 7, 3, 1],
        "SELECT interaction_id FROM interactions WHERE site_id = $1 AND deleted_at IS NULL \
         AND lower(lead) = 'maria lopez' ORDER BY start_datetime DESC, interaction_id DESC"),
    case("lead:\"maria lo\"", Newest, &[],
        "SELECT interaction_id FROM interactions WHERE site_id = $1 AND deleted_at IS NULL \
         AND lower(lead) = 'maria lo' ORDER BY start_datetime DESC, interaction_id DESC"),
    case("lead:LOP", Newest, &[18, 16, 11, 7, 3, 1],
        "SELECT interaction_id FROM interactions WHERE site_id = $1 AND deleted_at IS NULL \
         AND lead ~* '(^|[^[:alnum:]])lop' ORDER BY start_datetime DESC, interaction_id DESC"),
    case("lead:opez", Newest, &[],
        "SELECT interaction_id FROM interactions WHERE site_id = $1 AND deleted_at IS NULL \
         AND lead ~* '(^|[^[:alnum:]])opez' ORDER BY start_datetime DESC, interaction_id DESC"),
    // `_` separates words ("ops_team" has the word "team") and is literal in a value:
    // "Ms Tan" would match an unescaped `ms_t`.
    case("lead:team", Newest, &[5],
        "SELECT interaction_id FROM interactions WHERE site_id = $1 AND deleted_at IS NULL \
         AND lead ~* '(^|[^[:alnum:]])team' ORDER BY start_datetime DESC, interaction_id DESC"),
    case("lead:ops_t", Newest, &[5],
        "SELECT interaction_id FROM interactions WHERE site_id = $1 AND deleted_at IS NULL \
         AND strpos(lower(lead), 'ops_t') = 1 ORDER BY start_datetime DESC, interaction_id DESC"),
    case("lead:ms_t", Newest, &[],
        "SELECT interaction_id FROM interactions WHERE site_id = $1 AND deleted_at IS NULL \
         AND strpos(lower(lead), 'ms_t') > 0 ORDER BY start_datetime DESC, interaction_id DESC"),
    case("lead:%", Newest, &[],
        "SELECT interaction_id FROM interactions WHERE site_id = $1 AND deleted_at IS NULL \
         AND strpos(lead, '%') > 0 ORDER BY start_datetime DESC, interaction_id DESC"),
    case("location:HARBOR", Newest, &[8, 4],
        "SELECT interaction_id FROM interactions WHERE site_id = $1 AND deleted_at IS NULL \
         AND location ~* '(^|[^[:alnum:]])harbor' ORDER BY start_datetime DESC, interaction_id DESC"),
    case("location:\"old harbor\"", Newest, &[],
        "SELECT interaction_id FROM interactions WHERE site_id = $1 AND deleted_at IS NULL \
         AND lower(location) = 'old harbor' ORDER BY start_datetime DESC, interaction_id DESC"),
    case("location:\"berlin office\" budget ", Relevance, &[18, 1],
        "SELECT interaction_id FROM interactions WHERE site_id = $1 AND deleted_at IS NULL \
         AND lower(location) = 'berlin office' \
         AND search_vector @@ to_tsquery('english', 'budget') \
         ORDER BY tier('budget') DESC, \
                  start_datetime DESC, interaction_id DESC"),
    // Local calendar days: 12 (UTC+14) and 13 (UTC+9) start on March 11 locally while their
    // UTC start is March 10; 11 (UTC-7) and 14 (UTC-11) the other way round.
    case("from:2024-03-11 to:2024-03-11", Newest, &[13, 12],
        "SELECT interaction_id FROM interactions WHERE site_id = $1 AND deleted_at IS NULL \
         AND (start_datetime AT TIME ZONE timezone)::date = DATE '2024-03-11' \
         ORDER BY start_datetime DESC, interaction_id DESC"),
    case("from:2024-03-10 to:2024-03-10", Newest, &[14, 11],
        "SELECT interaction_id FROM interactions WHERE site_id = $1 AND deleted_at IS NULL \
         AND (start_datetime AT TIME ZONE timezone)::date = DATE '2024-03-10' \
         ORDER BY start_datetime DESC, interaction_id DESC"),
    case("from:2024-03-12", Oldest, &[15, 16, 17, 18, 19, 20],
        "SELECT interaction_id FROM interactions WHERE site_id = $1 AND deleted_at IS NULL \
         AND (start_datetime AT TIME ZONE timezone)::date >= DATE '2024-03-12' \
         ORDER BY start_datetime, interaction_id"),
    case("to:2024-01-31", Oldest, &[1, 2],
        "SELECT interaction_id FROM interactions WHERE site_id = $1 AND deleted_at IS NULL \
         AND (start_datetime AT TIME ZONE timezone)::date <= DATE '2024-01-31' \
         ORDER BY start_datetime, interaction_id"),
    case("type:meeting from:2024-03-01 to:2024-03-31", Oldest, &[13, 15],
        "SELECT interaction_id FROM interactions WHERE site_id = $1 AND deleted_at IS NULL \
         AND type ~* '(^|[^[:alnum:]])meeting' \
         AND (start_datetime AT TIME ZONE timezone)::date BETWEEN '2024-03-01' AND '2024-03-31' \
         ORDER BY start_datetime, interaction_id"),
    // Every sort without text; relevance without text is newest.
    case("", Newest, ALL_NEWEST,
        "SELECT interaction_id FROM interactions WHERE site_id = $1 AND deleted_at IS NULL \
         ORDER BY start_datetime DESC, interaction_id DESC"),
    case("", Relevance, ALL_NEWEST,
        "SELECT interaction_id FROM interactions WHERE site_id = $1 AND deleted_at IS NULL \
         ORDER BY start_datetime DESC, interaction_id DESC"),
    case("", Oldest, ALL_OLDEST,
        "SELECT interaction_id FROM interactions WHERE site_id = $1 AND deleted_at IS NULL \
         ORDER BY start_datetime, interaction_id"),
    // Malformed input degrades and says so.
    noted(case("\"quarterly budg", Newest, &[1],
        "SELECT interaction_id FROM interactions WHERE site_id = $1 AND deleted_at IS NULL \
         AND search_vector @@ to_tsquery('english', 'quarterly <-> budg:*') \
         ORDER BY start_datetime DESC, interaction_id DESC"),
        &["the closing quote was missing"]),
    noted(case("budget - ", Newest, &[18, 2, 1],
        "SELECT interaction_id FROM interactions WHERE site_id = $1 AND deleted_at IS NULL \
         AND search_vector @@ to_tsquery('english', 'budget') \
         ORDER BY start_datetime DESC, interaction_id DESC"),
        &["ignored -: put the word to exclude right after the dash"]),
    noted(case("from:notadate budget ", Newest, &[18, 2, 1],
        "SELECT interaction_id FROM interactions WHERE site_id = $1 AND deleted_at IS NULL \
         AND search_vector @@ to_tsquery('english', 'budget') \
         ORDER BY start_datetime DESC, interaction_id DESC"),
        &["ignored from:notadate: dates are YYYY-MM-DD"]),
    noted(case("locaton:harbor ", Relevance, &[8, 7, 4, 10, 9],
        "SELECT interaction_id FROM interactions WHERE site_id = $1 AND deleted_at IS NULL \
         AND search_vector @@ to_tsquery('english', 'harbor') \
         ORDER BY tier('harbor') DESC, \
                  start_datetime DESC, interaction_id DESC"),
        &["ignored locaton: because it is not a filter"]),
    noted(case("The of AND ", Relevance, ALL_NEWEST,
        "SELECT interaction_id FROM interactions WHERE site_id = $1 AND deleted_at IS NULL \
         ORDER BY start_datetime DESC, interaction_id DESC"),
        &["ignored the, of, and: too common to search for"]),
    noted(case("the harbor ", Newest, &[10, 9, 8, 7, 4],
        "SELECT interaction_id FROM interactions WHERE site_id = $1 AND deleted_at IS NULL \
         AND search_vector @@ to_tsquery('english', 'the & harbor') \
         ORDER BY start_datetime DESC, interaction_id DESC"),
        &["ignored the: too common"]),
    noted(case("-", Oldest, ALL_OLDEST,
        "SELECT interaction_id FROM interactions WHERE site_id = $1 AND deleted_at IS NULL \
         ORDER BY start_datetime, interaction_id"),
        &["ignored -"]),
    noted(case("-type:call \"", Oldest, ALL_OLDEST,
        "SELECT interaction_id FROM interactions WHERE site_id = $1 AND deleted_at IS NULL \
         ORDER BY start_datetime, interaction_id"),
        &["ignored -type:call: filters cannot be excluded", "ignored \": it has no letters"]),
    // Only exclusions: everything else, newest first even for relevance.
    case("-harbor -meeting", Relevance, &[20, 19, 17, 16, 14, 11, 12, 6, 3],
        "SELECT interaction_id FROM interactions WHERE site_id = $1 AND deleted_at IS NULL \
         AND search_vector @@ to_tsquery('english', '!harbor & !meeting') \
         ORDER BY start_datetime DESC, interaction_id DESC"),
    noted(near(case("'; DROP TABLE interactions; --", Relevance, &[],
        "SELECT interaction_id FROM interactions WHERE site_id = $1 AND deleted_at IS NULL \
         AND (word_similarity('drop table interactions', title) >= 0.4 \
              OR word_similarity('drop table interactions', lead) >= 0.4)")),
        &["ignored ';", "ignored --"]),
    // Typo-tolerant fallback: near matches in titles and leads, most similar first; site 2's
    // exact "Budgett planning" never shows.
    near(case("inspektion ", Relevance, &[7],
        "SELECT interaction_id FROM interactions WHERE site_id = $1 AND deleted_at IS NULL \
         AND (word_similarity('inspektion', title) >= 0.4 \
              OR word_similarity('inspektion', lead) >= 0.4) \
         ORDER BY greatest(word_similarity('inspektion', title), \
                           word_similarity('inspektion', lead)) DESC, \
                  start_datetime DESC, interaction_id DESC")),
    // Still typing: the relaxed prefix query finds "budget" before any fallback.
    case("budgett", Newest, &[18, 2, 1],
        "SELECT interaction_id FROM interactions WHERE site_id = $1 AND deleted_at IS NULL \
         AND search_vector @@ to_tsquery('english', 'budgett:* | budget:* | budge:* | budg:*') \
         ORDER BY start_datetime DESC, interaction_id DESC"),
    near(case("budgett ", Newest, &[18, 2, 1],
        "SELECT interaction_id FROM interactions WHERE site_id = $1 AND deleted_at IS NULL \
         AND (word_similarity('budgett', title) >= 0.4 \
              OR word_similarity('budgett', lead) >= 0.4) \
         ORDER BY greatest(word_similarity('budgett', title), \
                           word_similarity('budgett', lead)) DESC, \
                  start_datetime DESC, interaction_id DESC")),
    near(case("budgett from:2024-01-11", Oldest, &[18, 2],
        "SELECT interaction_id FROM interactions WHERE site_id = $1 AND deleted_at IS NULL \
         AND (start_datetime AT TIME ZONE timezone)::date >= '2024-01-11' \
         AND (word_similarity('budgett', title) >= 0.4 \
              OR word_similarity('budgett', lead) >= 0.4) \
         ORDER BY greatest(word_similarity('budgett', title), \
                           word_similarity('budgett', lead)) DESC, \
                  start_datetime DESC, interaction_id DESC")),
    near(case("lopes ", Relevance, &[18, 16, 11, 7, 3, 1],
        "SELECT interaction_id FROM interactions WHERE site_id = $1 AND deleted_at IS NULL \
         AND (word_similarity('lopes', title) >= 0.4 \
              OR word_similarity('lopes', lead) >= 0.4) \
         ORDER BY greatest(word_similarity('lopes', title), \
                           word_similarity('lopes', lead)) DESC, \
                  start_datetime DESC, interaction_id DESC")),
    // Transposed letters score under PostgreSQL's default threshold (0.6) but above ours.
    near(case("reveiw ", Relevance, &[15, 1],
        "SELECT interaction_id FROM interactions WHERE site_id = $1 AND deleted_at IS NULL \
         AND (word_similarity('reveiw', title) >= 0.4 \
              OR word_similarity('reveiw', lead) >= 0.4) \
         ORDER BY greatest(word_similarity('reveiw', title), \
                           word_similarity('reveiw', lead)) DESC, \
                  start_datetime DESC, interaction_id DESC")),
    // The other site sees its own rows only.
    in_site(case("harbor ", Newest, &[23, 22],
        "SELECT interaction_id FROM interactions WHERE site_id = $1 AND deleted_at IS NULL \
         AND search_vector @@ to_tsquery('english', 'harbor') \
         ORDER BY start_datetime DESC, interaction_id DESC"), SOUTH),
    in_site(case("budgett ", Newest, &[24],
        "SELECT interaction_id FROM interactions WHERE site_id = $1 AND deleted_at IS NULL \
         AND search_vector @@ to_tsquery('english', 'budgett') \
         ORDER BY start_datetime DESC, interaction_id DESC"), SOUTH),
];

async fn fixture() -> common::TestDb {
    let t = common::fresh_db().await;
    sqlx::raw_sql(FIXTURE)
        .execute(&t.db.pool)
        .await
        .expect("load the fixture");
    t
}

fn request(site: i32, query: &str, sort: Sort, limit: i64) -> SearchRequest {
    SearchRequest {
        site_id: site,
        query: query.to_string(),
        sort,
        limit,
        after: None,
        count_cap: 1000,
        count_if_free: false,
        archive: false,
        from_end: false,
        starts_from: None,
    }
}

fn ids(page: &SearchPage) -> Vec<i32> {
    page.hits
        .iter()
        .map(|h| h.interaction.interaction_id)
        .collect()
}

/// `sql` with each `tier('q')` written out as [`TIER_SQL`] for the tsquery text `q`.
fn hand_tiers(sql: &str) -> String {
    let mut out = String::new();
    let mut rest = sql;
    while let Some(at) = rest.find("tier('") {
        out.push_str(&rest[..at]);
        let after = &rest[at + "tier('".len()..];
        let end = after.find("')").expect("tier('...') closed");
        let text = format!("'{}'", &after[..end]);
        out.push('(');
        out.push_str(&TIER_SQL.replace("$2", &text));
        out.push(')');
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

#[tokio::test]
async fn queries_match_expected_ids_and_hand_written_sql() {
    let t = fixture().await;
    let mut conn = t.db.pool.acquire().await.expect("connection");
    for c in CASES {
        let what = format!("{:?} sorted {} in site {}", c.query, c.sort, c.site);
        let page = search(&mut conn, &request(c.site, c.query, c.sort, 500))
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(ids(&page), c.ids, "{what}");
        let sql = hand_tiers(c.sql);
        let hand: Vec<i32> = sqlx::query_scalar(&sql)
            .bind(c.site)
            .fetch_all(&mut *conn)
            .await
            .unwrap_or_else(|e| panic!("hand-written SQL for {what}: {e}"));
        if c.fuzzy && c.ids.is_empty() {
            assert!(hand.is_empty(), "{what}: hand-written SQL found {hand:?}");
        } else {
            assert_eq!(hand, c.ids, "hand-written SQL for {what}");
        }
        assert_eq!(page.fuzzy, c.fuzzy, "fuzzy for {what}");
        assert_eq!(
            page.ignored.len(),
            c.notes.len(),
            "notes for {what}: {:?}",
            page.ignored
        );
        for (got, want) in page.ignored.iter().zip(c.notes) {
            assert!(
                got.contains(want),
                "note for {what}: {got:?} lacks {want:?}"
            );
        }
        assert_eq!(
            page.count,
            Some(MatchCount::Exact(c.ids.len() as i64)),
            "count for {what}"
        );
        assert_eq!(page.next_cursor, None, "{what}");
        for h in &page.hits {
            assert_eq!(h.interaction.site_id, c.site, "{what}");
            assert_ne!(h.interaction.interaction_id, DELETED, "{what}");
        }
    }
    // The injection attempt was only ever text.
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM interactions")
        .fetch_one(&mut *conn)
        .await
        .expect("table still there");
    assert_eq!(n, 24);
}

#[tokio::test]
async fn fallback_threshold_applies_before_pg_trgm_is_loaded() {
    let t = fixture().await;
    // The pool's first connection is a new backend: the search sets the threshold before
    // anything has loaded pg_trgm's library.
    let mut conn = t.db.pool.acquire().await.expect("connection");
    let page = search(&mut conn, &request(NORTH, "reveiw ", Relevance, 50))
        .await
        .expect("search");
    assert!(page.fuzzy);
    assert_eq!(ids(&page), [15, 1]);
    assert_eq!(
        page.similar,
        ["review"],
        "the fallback says what it took instead"
    );
    let sim: f32 = sqlx::query_scalar("SELECT word_similarity('reveiw', 'UTC midnight review')")
        .fetch_one(&mut *conn)
        .await
        .expect("similarity");
    assert!(sim < 0.6, "{sim}");
}

/// A last word typed as a prefix that matches nothing is tried shortened (for words typed past
/// their stem: `meetin` finds "meeting"); when no row found so holds a word starting with it as
/// typed (`budgte`), the page says it is approximate and which words it shows instead.
#[tokio::test]
async fn a_shortened_last_word_is_announced_unless_the_rows_hold_it() {
    let t = fixture().await;
    let mut conn = t.db.pool.acquire().await.expect("connection");
    let page = search(&mut conn, &request(NORTH, "budgte", Relevance, 50))
        .await
        .expect("search");
    assert!(!page.hits.is_empty());
    assert!(page.approximate && !page.fuzzy);
    assert_eq!(page.similar, ["budget"]);
    assert_eq!(
        ifind::domain::similar::announcement(&page.highlight, &page.similar),
        "no match for budgte; showing similar: budget"
    );
    let page = search(&mut conn, &request(NORTH, "meetin", Relevance, 50))
        .await
        .expect("search");
    assert!(!page.hits.is_empty());
    assert!(!page.approximate, "the rows hold \"meeting\"");
    assert!(page.similar.is_empty());
    let page = search(&mut conn, &request(NORTH, "budget", Relevance, 50))
        .await
        .expect("search");
    assert!(!page.approximate, "found as typed");
}

/// Near matches must be near: a row the trigram test finds for a word that only shares a few
/// letters with the typed one ("café" and "Catherine") is not offered.
#[tokio::test]
async fn near_matches_hold_a_word_a_few_edits_away() {
    let t = fixture().await;
    let mut conn = t.db.pool.acquire().await.expect("connection");
    sqlx::query(
        "INSERT INTO interactions (interaction_id, site_id, title, type, lead, start_datetime, \
                                   timezone, end_datetime, created_by) \
         SELECT 900, $1, 'Meeting with Catherine Ahmed', 'Meeting', 'Catherine Ahmed', now(), 'UTC', \
                now(), created_by FROM interactions WHERE site_id = $1 LIMIT 1",
    )
    .bind(NORTH)
    .execute(&mut *conn)
    .await
    .expect("insert");
    let trigram: bool = sqlx::query_scalar(
        "SELECT set_config('pg_trgm.word_similarity_threshold', '0.4', false) IS NOT NULL \
            AND 'cathe' <% 'Meeting with Catherine Ahmed'",
    )
    .fetch_one(&mut *conn)
    .await
    .expect("similarity");
    assert!(trigram, "the trigram test alone takes it");
    let page = search(&mut conn, &request(NORTH, "cathe ", Relevance, 50))
        .await
        .expect("search");
    assert!(page.hits.is_empty(), "{:?}", ids(&page));
    let page = search(&mut conn, &request(NORTH, "cathrine ", Relevance, 50))
        .await
        .expect("search");
    assert!(page.fuzzy && !page.hits.is_empty());
    assert_eq!(page.similar, ["catherine"]);
}

#[tokio::test]
async fn highlight_and_rank_are_reported() {
    let t = fixture().await;
    let mut conn = t.db.pool.acquire().await.expect("connection");
    let page = search(
        &mut conn,
        &request(NORTH, "Harbor -crane \"old harbor\"", Relevance, 50),
    )
    .await
    .expect("search");
    assert_eq!(page.highlight, ["harbor", "old"]);
    assert_eq!(ids(&page), [4]);
    assert!(page.hits[0].rank.is_some_and(|r| r > 0.0));
    let page = search(&mut conn, &request(NORTH, "harbor", Newest, 50))
        .await
        .expect("search");
    assert!(page.hits.iter().all(|h| h.rank.is_none()));
}

/// Pages through with `limit` 2 and checks the pages add up to the full list.
async fn check_paging(conn: &mut PgConnection, query: &str, sort: Sort) {
    let what = format!("{query:?} sorted {sort}");
    let full = search(conn, &request(NORTH, query, sort, 500))
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let mut req = request(NORTH, query, sort, 2);
    let mut seen: Vec<i32> = Vec::new();
    let mut pages = 0;
    loop {
        let page = search(conn, &req)
            .await
            .unwrap_or_else(|e| panic!("{what}, page {pages}: {e}"));
        assert!(page.hits.len() <= 2, "{what}");
        if pages == 0 {
            assert_eq!(
                page.count,
                Some(MatchCount::Exact(full.hits.len() as i64)),
                "{what}"
            );
        } else {
            assert_eq!(page.count, None, "{what}");
        }
        seen.extend(ids(&page));
        pages += 1;
        assert!(pages <= 20, "{what}: too many pages");
        match page.next_cursor {
            Some(c) => {
                assert_eq!(page.hits.len(), 2, "{what}: short page with a cursor");
                req.after = Some(c);
            }
            None => break,
        }
    }
    assert_eq!(seen, ids(&full), "{what}: pages joined");
    let mut unique = seen.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "{what}: duplicates");
    // Read from the end (the Finder's G): the same rows, last first, with the same count.
    let mut req = request(NORTH, query, sort, 2);
    req.from_end = true;
    let first = search(conn, &req)
        .await
        .unwrap_or_else(|e| panic!("{what} from the end: {e}"));
    assert_eq!(first.count, Some(MatchCount::Exact(full.hits.len() as i64)));
    let mut backwards = from_the_end(conn, req, 20).await;
    backwards.reverse();
    assert_eq!(
        backwards,
        ids(&full),
        "{what}: pages from the end, reversed"
    );
}

/// The ids of up to `max` pages of `req`, in order, and whether the last page was the end.
async fn read_pages(
    conn: &mut PgConnection,
    mut req: SearchRequest,
    max: usize,
) -> (Vec<i32>, bool) {
    let mut seen = Vec::new();
    for _ in 0..max {
        let page = search(conn, &req).await.expect("a page");
        seen.extend(ids(&page));
        match page.next_cursor {
            Some(c) => req.after = Some(c),
            None => return (seen, true),
        }
    }
    (seen, false)
}

/// The ids of up to `max` pages of `req`, in order.
async fn pages(conn: &mut PgConnection, req: SearchRequest, max: usize) -> Vec<i32> {
    read_pages(conn, req, max).await.0
}

/// Every page of `req` read from the end (at most `max` pages), last result first.
async fn from_the_end(conn: &mut PgConnection, mut req: SearchRequest, max: usize) -> Vec<i32> {
    req.from_end = true;
    let (seen, ended) = read_pages(conn, req, max).await;
    assert!(ended, "more than {max} pages from the end");
    seen
}

#[tokio::test]
async fn keyset_pages_add_up_for_every_sort() {
    let t = fixture().await;
    let mut tx = t.db.begin_as(Some(1)).await.expect("transaction");
    for sort in Sort::ALL {
        for query in [
            "",
            "harbor",
            "meet",
            "meetin",
            "invoice or contract ",
            "type:\"phone call\"",
            "the of and ",
            "-harbor",
        ] {
            check_paging(&mut tx, query, sort).await;
        }
    }
    // The search's settings are local to the caller's transaction.
    let mode: String = sqlx::query_scalar("SELECT current_setting('plan_cache_mode')")
        .fetch_one(&mut *tx)
        .await
        .expect("setting");
    assert_eq!(mode, "force_custom_plan");
    tx.rollback().await.expect("rollback");
}

#[tokio::test]
async fn cursors_from_other_searches_are_rejected() {
    let t = fixture().await;
    let mut conn = t.db.pool.acquire().await.expect("connection");
    let first = search(&mut conn, &request(NORTH, "meet", Newest, 2))
        .await
        .expect("first page");
    let cursor = first.next_cursor.expect("more pages");
    for (site, query, sort) in [
        (NORTH, "harbor", Newest),
        (NORTH, "meet", Oldest),
        (NORTH, "meet ", Newest),
        (SOUTH, "meet", Newest),
    ] {
        let mut req = request(site, query, sort, 2);
        req.after = Some(cursor.clone());
        match search(&mut conn, &req).await {
            Err(e @ SearchError::BadCursor(_)) => assert_eq!(
                e.to_string(),
                "the cursor belongs to another search; start from the first page"
            ),
            other => panic!("{query:?} {sort} in {site}: expected a bad cursor, got {other:?}"),
        }
    }
    // A forward cursor does not continue the same search read from the end.
    let mut req = request(NORTH, "meet", Newest, 2);
    req.after = Some(cursor.clone());
    req.from_end = true;
    assert!(matches!(
        search(&mut conn, &req).await,
        Err(SearchError::BadCursor(_))
    ));
    for garbage in ["", "%%%", "eyJ2IjoxfQ", &cursor[..cursor.len() / 2]] {
        let mut req = request(NORTH, "meet", Newest, 2);
        req.after = Some(garbage.to_string());
        let err = search(&mut conn, &req).await.expect_err("garbage cursor");
        assert!(
            err.to_string().contains("start from the first page"),
            "{err}"
        );
    }
    // The connection is still usable, outside any transaction.
    let mode: String = sqlx::query_scalar("SELECT current_setting('plan_cache_mode')")
        .fetch_one(&mut *conn)
        .await
        .expect("setting");
    assert_eq!(mode, "auto");
}

#[tokio::test]
async fn counts_are_exact_or_capped() {
    let t = fixture().await;
    let mut conn = t.db.pool.acquire().await.expect("connection");
    let mut req = request(NORTH, "", Newest, 2);
    let page = search(&mut conn, &req).await.expect("search");
    assert_eq!(page.count, Some(MatchCount::Exact(20)));
    req.count_cap = 5;
    let page = search(&mut conn, &req).await.expect("search");
    assert_eq!(page.count, Some(MatchCount::AtLeast(5)));
    assert_eq!(page.count.map(|c| c.to_string()).as_deref(), Some("5+"));
    req.count_cap = 20;
    let page = search(&mut conn, &req).await.expect("search");
    assert_eq!(page.count, Some(MatchCount::Exact(20)));
    req.count_cap = 0;
    let page = search(&mut conn, &req).await.expect("search");
    assert_eq!(
        page.count, None,
        "more pages follow: counting is left to count_in"
    );
    let mut all = req.clone();
    all.limit = 50;
    let page = search(&mut conn, &all).await.expect("search");
    assert_eq!(
        page.count,
        Some(MatchCount::Exact(20)),
        "one page holds them all: the count is free"
    );
    let mut tx = conn.begin().await.expect("begin");
    req.count_cap = 5;
    let counted = ifind::db::search::count_in(&mut tx, &req)
        .await
        .expect("count");
    assert_eq!(counted, MatchCount::AtLeast(5));
    req.count_cap = 100;
    let counted = ifind::db::search::count_in(&mut tx, &req)
        .await
        .expect("count");
    assert_eq!(counted, MatchCount::Exact(20));
    tx.rollback().await.expect("rollback");
    req.count_cap = 0;
    // Limits are clamped.
    req.limit = 0;
    let page = search(&mut conn, &req).await.expect("search");
    assert_eq!(page.hits.len(), 1);
    req.limit = 10_000;
    let page = search(&mut conn, &req).await.expect("search");
    assert_eq!(page.hits.len(), 20);
}

#[tokio::test]
async fn random_lines_never_fail() {
    let t = fixture().await;
    let mut conn = t.db.pool.acquire().await.expect("connection");
    const PARTS: &[&str] = &[
        "budget",
        "meet",
        "harbor",
        "or",
        " ",
        " ",
        "\"",
        "-",
        ":",
        "type:",
        "lead:",
        "location:",
        "from:",
        "to:",
        "2024-03-11",
        "'",
        ";",
        "\\",
        "%",
        "_",
        "&",
        "|",
        "!",
        "(",
        ")",
        "<->",
        ":*",
        "é",
        "東京",
        "\u{0}",
        "\t",
        "the",
        "DROP TABLE",
        "x:y",
    ];
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    for _ in 0..300 {
        let n = rng.gen_range(0..10);
        let line: String = (0..n)
            .map(|_| PARTS[rng.gen_range(0..PARTS.len())])
            .collect();
        let sort = Sort::ALL[rng.gen_range(0..3)];
        let page = search(&mut conn, &request(NORTH, &line, sort, 3))
            .await
            .unwrap_or_else(|e| panic!("{line:?}: {e}"));
        assert!(
            page.hits
                .iter()
                .all(|h| h.interaction.site_id == NORTH && h.interaction.interaction_id != DELETED)
        );
        if let Some(c) = page.next_cursor {
            let mut req = request(NORTH, &line, sort, 3);
            req.after = Some(c);
            search(&mut conn, &req)
                .await
                .unwrap_or_else(|e| panic!("{line:?}, page 2: {e}"));
        }
    }
}

#[tokio::test]
async fn hits_carry_the_creator_and_editor_usernames() {
    let t = fixture().await;
    let mut conn = t.db.pool.acquire().await.expect("connection");
    sqlx::query(
        "UPDATE interactions SET updated_by = 1, updated_at = now() WHERE interaction_id = 4",
    )
    .execute(&mut *conn)
    .await
    .expect("mark an edit");
    let names = |page: &SearchPage| -> Vec<(i32, Option<String>, Option<String>)> {
        page.hits
            .iter()
            .map(|h| {
                (
                    h.interaction.interaction_id,
                    h.created_by_name.clone(),
                    h.updated_by_name.clone(),
                )
            })
            .collect()
    };
    let s = |n: &str| Some(n.to_string());
    // Relevance, newest and oldest pages, and a later page, all join the names.
    let page = search(&mut conn, &request(NORTH, "harbor", Relevance, 50))
        .await
        .expect("search");
    assert!(
        names(&page).contains(&(4, s("ben"), s("ana"))),
        "{:?}",
        names(&page)
    );
    assert!(
        names(&page).contains(&(7, s("ana"), None)),
        "{:?}",
        names(&page)
    );
    for sort in [Newest, Oldest] {
        let mut req = request(NORTH, "", sort, 3);
        let first = search(&mut conn, &req).await.expect("first page");
        req.after = first.next_cursor.clone();
        let second = search(&mut conn, &req).await.expect("second page");
        for page in [&first, &second] {
            assert_eq!(page.hits.len(), 3);
            assert!(page.hits.iter().all(|h| h.created_by_name.is_some()));
        }
    }
    let all = search(&mut conn, &request(NORTH, "", Oldest, 500))
        .await
        .expect("all");
    let four = all.hits.iter().find(|h| h.interaction.interaction_id == 4);
    assert_eq!(four.and_then(|h| h.updated_by_name.as_deref()), Some("ana"));
    // Near matches too.
    let page = search(&mut conn, &request(NORTH, "contrakt ", Relevance, 50))
        .await
        .expect("near matches");
    assert!(page.fuzzy);
    assert_eq!(names(&page), [(4, s("ben"), s("ana"))]);
}

/// The tiers of relevance computed by hand from the fields themselves (not from the weight
/// labels of `search_vector` the app filters on): the heading (title, lead, type, location),
/// then anything else. `$2` is the tsquery text.
const TIER_SQL: &str = "CASE \
      WHEN to_tsvector('english', concat_ws(' ', title, lead, type, location)) \
           @@ to_tsquery('english', $2) THEN 1.0 \
      ELSE 0.1 END";

/// Relevance is exact over every match: the tier of the fields the words match in, newest
/// first within a tier, as a hand-written statement ranks every match; the same read in one
/// page or two rows at a time, each row's `rank` its tier's weight, never rising.
#[tokio::test]
async fn relevance_ranks_every_match_by_its_best_fields_then_newest() {
    let t = fixture().await;
    let mut conn = t.db.pool.acquire().await.expect("connection");
    let mut owner = t.db.pool.acquire().await.expect("owner");
    let by_hand = format!(
        "SELECT interaction_id, ({TIER_SQL})::real FROM interactions \
          WHERE site_id = $1 AND deleted_at IS NULL \
            AND search_vector @@ to_tsquery('english', $2) \
          ORDER BY 2 DESC, start_datetime DESC, interaction_id DESC"
    );
    for (query, tsquery) in [
        ("harbor ", "harbor"),
        ("meet", "meet:*"),
        ("budget or invoice or call ", "budget | invoice | call"),
        ("b", "b:*"),
    ] {
        let expected: Vec<(i32, f32)> = sqlx::query_as(&by_hand)
            .bind(NORTH)
            .bind(tsquery)
            .fetch_all(&mut *owner)
            .await
            .expect("by hand");
        assert!(expected.len() >= 4, "{query}: too few matches to test");
        let tiers: std::collections::BTreeSet<i64> = expected
            .iter()
            .map(|(_, r)| (r * 10.0).round() as i64)
            .collect();
        let mut req = request(NORTH, query, Relevance, 500);
        let whole = search(&mut conn, &req).await.expect("whole");
        let got: Vec<(i32, f32)> = whole
            .hits
            .iter()
            .map(|h| (h.interaction.interaction_id, h.rank.unwrap_or(-1.0)))
            .collect();
        assert_eq!(got, expected, "{query:?}: one page (tiers {tiers:?})");
        assert_eq!(whole.count, Some(MatchCount::Exact(expected.len() as i64)));

        req.limit = 2;
        let mut seen = Vec::new();
        for _ in 0..200 {
            let page = search(&mut conn, &req).await.expect("page");
            seen.extend(
                page.hits
                    .iter()
                    .map(|h| (h.interaction.interaction_id, h.rank.unwrap_or(-1.0))),
            );
            match page.next_cursor {
                Some(c) => req.after = Some(c),
                None => break,
            }
        }
        assert_eq!(seen, expected, "{query:?}: paged two at a time");
        assert!(
            seen.windows(2).all(|w| w[0].1 >= w[1].1),
            "{query:?}: rank rose"
        );
    }
}

/// Short prefixes on a small site walk the site's rows (`ts_match_vq`) instead of the text
/// index: the same rows, in every sort, as the index-served `@@` of the hand-written SQL, and
/// the same counts.
#[tokio::test]
async fn short_prefixes_walked_on_a_small_site_match_what_the_index_finds() {
    let t = fixture().await;
    let mut conn = t.db.pool.acquire().await.expect("connection");
    for (query, tsquery, normalised) in [
        ("b", "b:*", "'b':*"),
        ("cr", "cr:*", "'cr':*"),
        ("har", "har:*", "'har':*"),
    ] {
        assert!(
            ifind::db::search::walks(&mut conn, NORTH, Some(normalised))
                .await
                .expect("walks"),
            "{query}: a 20-row site is small, so a short prefix walks it"
        );
        let hand: Vec<i32> = sqlx::query_scalar(
            "SELECT interaction_id FROM interactions WHERE site_id = $1 AND deleted_at IS NULL \
               AND search_vector @@ to_tsquery('simple', $2) \
             ORDER BY start_datetime DESC, interaction_id DESC",
        )
        .bind(NORTH)
        .bind(tsquery)
        .fetch_all(&mut *conn)
        .await
        .expect("hand-written");
        assert!(!hand.is_empty(), "{query}: the fixture has matches");
        let newest = search(&mut conn, &request(NORTH, query, Newest, 500))
            .await
            .expect("newest");
        assert_eq!(ids(&newest), hand, "{query} newest");
        let mut oldest_hand = hand.clone();
        oldest_hand.reverse();
        let oldest = search(&mut conn, &request(NORTH, query, Oldest, 500))
            .await
            .expect("oldest");
        assert_eq!(ids(&oldest), oldest_hand, "{query} oldest");
        let mut by_rank = ids(&search(&mut conn, &request(NORTH, query, Relevance, 500))
            .await
            .expect("relevance"));
        by_rank.sort_unstable();
        let mut all = hand.clone();
        all.sort_unstable();
        assert_eq!(by_rank, all, "{query} relevance: the same rows");
        let mut req = request(NORTH, query, Newest, 1);
        req.count_cap = 1000;
        let mut tx = conn.begin().await.expect("begin");
        let counted = ifind::db::search::count_in(&mut tx, &req)
            .await
            .expect("count");
        tx.rollback().await.expect("rollback");
        assert_eq!(counted, MatchCount::Exact(hand.len() as i64), "{query}");
    }
}

/// Ids of `sql` (one integer column) as the owner, `site` bound as $1 and `text` as $2.
async fn owner_ids(conn: &mut PgConnection, sql: &str, site: i32, text: &str) -> Vec<i32> {
    sqlx::query_scalar(sql)
        .bind(site)
        .bind(text)
        .fetch_all(&mut *conn)
        .await
        .expect("hand-written")
}

/// A fresh database with one site named `name` and a viewer of it, vera: (database, vera's
/// id, the site's id).
async fn viewer_of_a_new_site(name: &str) -> (common::TestDb, i32, i32) {
    use ifind::db::{sites, users};
    let t = common::fresh_db().await;
    let mut tx = t.db.begin_as(None).await.expect("begin");
    let hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";
    let viewer = users::insert(&mut tx, "vera", "vera@example.org", hash, false)
        .await
        .expect("user")
        .user_id;
    let site = sites::insert(&mut tx, name, None)
        .await
        .expect("site")
        .site_id;
    users::grant(&mut tx, viewer, site, users::Role::Viewer)
        .await
        .expect("grant");
    tx.commit().await.expect("commit");
    (t, viewer, site)
}

/// Hundreds of listed matches (more than `LISTED_RANKED`, fewer than the cap): relevance picks
/// each page from the two lists (every match, the heading matches) and reads only its rows;
/// newest and oldest pick theirs from the matches. Every sort, forwards and from the end, is
/// what the hand-written statement gives, and so is a page after a cursor whose row moved.
#[tokio::test]
async fn listed_matches_page_by_key_in_every_order() {
    let (t, viewer, site) = viewer_of_a_new_site("Workshops").await;
    // 3,000 rows an hour apart; "widget" in the titles of 130 older ones and the notes of 390
    // others, none among the 400 newest (so the word is not dense there).
    sqlx::query(
        "INSERT INTO interactions (site_id, title, type, lead, start_datetime, timezone, \
                                   end_datetime, notes, created_by) \
         SELECT $1, CASE WHEN n > 400 AND n % 20 = 0 THEN 'Widget review ' || n \
                         ELSE 'Workshop ' || n END, \
                'Meeting', 'Jun Park', now() - n * interval '1 hour', 'UTC', \
                now() - n * interval '1 hour', \
                CASE WHEN n > 400 AND n % 5 = 0 AND n % 20 <> 0 THEN 'bring the widget' END, $2 \
           FROM generate_series(1, 3000) AS n",
    )
    .bind(site)
    .bind(viewer)
    .execute(&t.db.pool)
    .await
    .expect("rows");
    let mut owner = t.db.pool.acquire().await.expect("owner");
    let app = t.app_db().await;
    let mut tx = app.begin_as(Some(viewer)).await.expect("begin");
    let hand = |order: &str| {
        format!(
            "SELECT interaction_id FROM interactions WHERE site_id = $1 AND deleted_at IS NULL \
               AND search_vector @@ to_tsquery('english', $2) ORDER BY {order}"
        )
    };
    let by_relevance = hand(&format!(
        "({TIER_SQL}) DESC, start_datetime DESC, interaction_id DESC"
    ));
    let relevance = owner_ids(&mut owner, &by_relevance, site, "widget").await;
    assert_eq!(relevance.len(), 520);
    let newest = owner_ids(
        &mut owner,
        &hand("start_datetime DESC, interaction_id DESC"),
        site,
        "widget",
    )
    .await;
    assert_ne!(relevance, newest, "the heading matches come first");
    // The first page by relevance is read by key: the statement the search sends (the same one
    // `ranked_page_statement` builds) reads the page's 51 rows, not each of the 520 matches.
    {
        use ifind::db::search::{self as s, Candidates, MATCH_CAP, TextSpec};
        ifind::db::pool::enter_site(&mut tx, site)
            .await
            .expect("enter the site");
        let filters = ifind::domain::query::Filters::default();
        let matches =
            s::match_candidates(&mut tx, site, Some("'widget'"), &filters, false, MATCH_CAP)
                .await
                .expect("candidates");
        assert!(matches!(&matches, Candidates::Ids(ids) if ids.len() == 520));
        let heading = s::heading_candidates(&mut tx, site, "'widget'", MATCH_CAP)
            .await
            .expect("heading");
        let text = TextSpec {
            matches: Some("'widget'"),
            rank: Some("'widget'"),
            walk: false,
            candidates: &matches,
            exact: true,
            heading: Some(&heading),
        };
        let plan: Vec<String> = s::ranked_page_statement(
            "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ",
            site,
            text,
            &filters,
            Relevance,
            None,
            s::DEFAULT_LIMIT,
        )
        .build_query_scalar()
        .fetch_all(&mut *tx)
        .await
        .expect("explain");
        // The rows the table scan hands on (a bitmap of the site's rows may list more, each
        // dropped by its id before any text is read).
        let most = plan
            .iter()
            .filter(|l| l.contains(" on interactions") && !l.contains("Bitmap Index Scan"))
            .filter_map(|l| l.split("actual rows=").nth(1))
            .filter_map(|r| r.split_whitespace().next()?.parse::<i64>().ok())
            .max()
            .unwrap_or(0);
        assert_eq!(most, s::DEFAULT_LIMIT + 1, "{}", plan.join("\n"));
    }
    let mut oldest = newest.clone();
    oldest.reverse();
    for (sort, want) in [
        (Relevance, &relevance),
        (Newest, &newest),
        (Oldest, &oldest),
    ] {
        let seen = pages(&mut tx, request(site, "widget ", sort, 50), 20).await;
        assert_eq!(&seen, want, "{sort}, every page");
        let mut backwards = from_the_end(&mut tx, request(site, "widget ", sort, 50), 20).await;
        backwards.reverse();
        assert_eq!(&backwards, want, "{sort}, from the end");
    }
    // The count comes with the first page when it costs nothing: every match was listed.
    let mut req = request(site, "widget ", Relevance, 50);
    req.count_if_free = true;
    let first = search(&mut tx, &req).await.expect("first page");
    assert_eq!(first.count, Some(MatchCount::Exact(520)));
    // Not when the entry point's list did not check every condition (a date filter).
    let mut req = request(site, "widget to:2100-01-01 ", Relevance, 50);
    req.count_if_free = true;
    let first = search(&mut tx, &req).await.expect("first page");
    assert_eq!(
        first.count, None,
        "counted by the Finder's follow-up instead"
    );

    // The cursor's row moves (its start set a day earlier, its end with it) between two
    // pages: the next page is the rows after the cursor's place in the order, as keyset paging
    // defines it (the moved row comes again further on).
    let mut req = request(site, "widget ", Relevance, 50);
    let first = search(&mut tx, &req).await.expect("first page");
    let last = first.hits.last().expect("a row");
    let (id, start, rank) = (
        last.interaction.interaction_id,
        last.interaction.start_datetime,
        last.rank,
    );
    sqlx::query(
        "UPDATE interactions SET start_datetime = start_datetime - interval '1 day', \
                end_datetime = end_datetime - interval '1 day' WHERE interaction_id = $1",
    )
    .bind(id)
    .execute(&mut *owner)
    .await
    .expect("move");
    let after: Vec<i32> = sqlx::query_scalar(&format!(
        "SELECT interaction_id FROM interactions WHERE site_id = $1 AND deleted_at IS NULL \
           AND search_vector @@ to_tsquery('english', $2) \
           AND (({TIER_SQL})::real, start_datetime, interaction_id) < ($3, $4, $5) \
         ORDER BY ({TIER_SQL}) DESC, start_datetime DESC, interaction_id DESC LIMIT 50"
    ))
    .bind(site)
    .bind("widget")
    .bind(rank)
    .bind(start)
    .bind(id)
    .fetch_all(&mut *owner)
    .await
    .expect("keyset by hand");
    assert!(after.contains(&id), "the moved row comes again");
    req.after = first.next_cursor.clone();
    let second = search(&mut tx, &req).await.expect("second page");
    assert_eq!(ids(&second), after, "after a moved row");
}

/// The ids of every match of the tsquery text `text` at `site`, in the order relevance gives
/// (the hand-written tiers of [`TIER_SQL`]), read as the owner.
async fn ranked_by_hand(owner: &mut PgConnection, site: i32, text: &str) -> Vec<i32> {
    owner_ids(
        owner,
        &format!(
            "SELECT interaction_id FROM interactions WHERE site_id = $1 AND deleted_at IS NULL \
               AND search_vector @@ to_tsquery('english', $2) \
             ORDER BY ({TIER_SQL}) DESC, start_datetime DESC, interaction_id DESC"
        ),
        site,
        text,
    )
    .await
}

/// More matches than the entry points list (migration 0014): `ifind_match_ids` answers the
/// newest `MATCH_CAP + 1` matches and `ifind_near_ids` the `NEAR_CAP + 1` most similar, and the
/// Finder's pages, count and near-match fallback (filtered to rows past the listed ones too)
/// are what the hand-written statements give, as a viewer through `ifind_app`.
#[tokio::test]
async fn more_matches_than_the_cap_page_from_the_newest_ids() {
    use ifind::db::search::{Candidates, MATCH_CAP, match_candidates};
    use ifind::domain::query::Filters;
    let (t, viewer, site) = viewer_of_a_new_site("Audits").await;
    // 2,600 audits, one hour apart, every third one an "audit audit" (a higher rank), under
    // 300 newer stand-ups: more audits than the cap, and none among the 200 newest rows.
    sqlx::query(
        "INSERT INTO interactions (site_id, title, type, lead, start_datetime, timezone, \
                                   end_datetime, created_by) \
         SELECT $1, CASE WHEN n <= 300 THEN 'Daily standup ' || n \
                         WHEN n % 3 = 0 THEN 'Quarterly audit audit ' || n \
                         ELSE 'Quarterly audit ' || n END, \
                'Meeting', 'Jun Park', now() - n * interval '1 hour', 'UTC', \
                now() - n * interval '1 hour', $2 \
           FROM generate_series(1, 2900) AS n",
    )
    .bind(site)
    .bind(viewer)
    .execute(&t.db.pool)
    .await
    .expect("rows");
    let mut owner = t.db.pool.acquire().await.expect("owner");
    let app = t.app_db().await;
    let mut tx = app.begin_as(Some(viewer)).await.expect("begin");
    let newest_sql = "SELECT interaction_id FROM interactions WHERE site_id = $1 \
                        AND deleted_at IS NULL AND search_vector @@ to_tsquery('english', $2) \
                      ORDER BY start_datetime DESC, interaction_id DESC";
    let newest = owner_ids(&mut owner, newest_sql, site, "audit").await;
    assert_eq!(newest.len(), 2600);

    let cap = usize::try_from(MATCH_CAP).expect("cap");
    let candidates = match_candidates(
        &mut tx,
        site,
        Some("'audit'"),
        &Filters::default(),
        false,
        MATCH_CAP,
    )
    .await
    .expect("candidates");
    assert_eq!(candidates, Candidates::Newest(newest[..=cap].to_vec()));

    // Newest first: two pages, then the count.
    let mut req = request(site, "audit ", Newest, 50);
    let first = search(&mut tx, &req).await.expect("newest");
    assert_eq!(ids(&first), newest[..50].to_vec(), "first page");
    assert_eq!(first.count, Some(MatchCount::AtLeast(1000)));
    req.after = first.next_cursor.clone();
    let second = search(&mut tx, &req).await.expect("page 2");
    assert_eq!(ids(&second), newest[50..100].to_vec(), "second page");

    // Relevance: every audit is a title match (one tier), so the newest come first, read
    // by the tier walks (more matches than the cap). With "or park" every row matches, the
    // stand-ups by their lead only: all 2,600 audits come first, then the 300 stand-ups,
    // newest first in each, across pages, as the hand-written statement ranks every match.
    let ranked = search(&mut tx, &request(site, "audit ", Relevance, 50))
        .await
        .expect("relevance");
    assert_eq!(ids(&ranked), newest[..50].to_vec(), "relevance");
    assert!(ranked.hits.iter().all(|h| h.rank == Some(1.0)));
    let every = ranked_by_hand(&mut owner, site, "audit | park").await;
    assert_eq!(every.len(), 2900);
    let seen = pages(&mut tx, request(site, "audit or park ", Relevance, 500), 10).await;
    assert_eq!(seen, every, "relevance over every match, paged");
    let mut backwards =
        from_the_end(&mut tx, request(site, "audit or park ", Relevance, 500), 10).await;
    backwards.reverse();
    assert_eq!(
        backwards, every,
        "relevance read from the end, by the tier walks"
    );

    // An exclusion that removes some of the newest heading matches: the heading tier's listed
    // ids are the positive word's, so the statement must not take only a page's worth of them.
    sqlx::query(
        "UPDATE interactions SET description = 'excluded' \
          WHERE site_id = $1 AND interaction_id IN ( \
                SELECT interaction_id FROM interactions WHERE site_id = $1 \
                   AND title LIKE 'Quarterly audit%' ORDER BY start_datetime DESC LIMIT 40)",
    )
    .bind(site)
    .execute(&mut *owner)
    .await
    .expect("exclusions");
    let every = ranked_by_hand(&mut owner, site, "audit & !excluded").await;
    assert_eq!(every.len(), 2560);
    let seen = pages(&mut tx, request(site, "audit -excluded ", Relevance, 50), 3).await;
    assert_eq!(seen, every[..150].to_vec(), "three pages with an exclusion");
    // A filter the listed heading ids do not check: the same.
    let to: chrono::NaiveDate = sqlx::query_scalar("SELECT (now() - interval '14 days')::date")
        .fetch_one(&mut *owner)
        .await
        .expect("date");
    let every: Vec<i32> = sqlx::query_scalar(&format!(
        "SELECT interaction_id FROM interactions WHERE site_id = $1 AND deleted_at IS NULL \
           AND search_vector @@ to_tsquery('english', $2) \
           AND (start_datetime AT TIME ZONE timezone)::date <= $3 \
         ORDER BY ({TIER_SQL}) DESC, start_datetime DESC, interaction_id DESC LIMIT 100"
    ))
    .bind(site)
    .bind("audit")
    .bind(to)
    .fetch_all(&mut *owner)
    .await
    .expect("filtered");
    let mut req = request(site, &format!("audit to:{to} "), Relevance, 50);
    let first = search(&mut tx, &req).await.expect("with a filter");
    req.after = first.next_cursor.clone();
    let second = search(&mut tx, &req).await.expect("with a filter, page 2");
    assert_eq!(
        [ids(&first), ids(&second)].concat(),
        every,
        "two pages with a filter"
    );

    // A word in the notes of 2,500 rows and in the titles of five older ones: more matches
    // than the cap, few in the headings (listed by `ifind_heading_ids`): the five come first.
    sqlx::query(
        "UPDATE interactions SET notes = 'budget notes' \
          WHERE site_id = $1 AND interaction_id IN ( \
                SELECT interaction_id FROM interactions WHERE site_id = $1 \
                 ORDER BY start_datetime DESC LIMIT 2500)",
    )
    .bind(site)
    .execute(&mut *owner)
    .await
    .expect("notes");
    sqlx::query(
        "UPDATE interactions SET title = title || ' budget' \
          WHERE site_id = $1 AND interaction_id IN ( \
                SELECT interaction_id FROM interactions WHERE site_id = $1 \
                 ORDER BY start_datetime LIMIT 5)",
    )
    .bind(site)
    .execute(&mut *owner)
    .await
    .expect("titles");
    let every = ranked_by_hand(&mut owner, site, "budget").await;
    assert_eq!(every.len(), 2505);
    let seen = pages(&mut tx, request(site, "budget ", Relevance, 200), 20).await;
    assert_eq!(
        seen, every,
        "the five heading matches first, then the notes, paged"
    );
    let mut backwards = from_the_end(&mut tx, request(site, "budget ", Relevance, 200), 20).await;
    backwards.reverse();
    assert_eq!(
        backwards, every,
        "the notes from the oldest, then the headings"
    );

    // A typo: every audit is as similar, so the most similar are the newest; with `to:` only
    // rows older than every listed one pass, and the fallback still finds them.
    let near_sql = "SELECT interaction_id FROM interactions WHERE site_id = $1 \
                      AND deleted_at IS NULL AND ($2 <% title OR $2 <% lead) \
                      AND (start_datetime AT TIME ZONE timezone)::date <= $3::date \
                    ORDER BY greatest(word_similarity($2, title), word_similarity($2, lead)) DESC, \
                             start_datetime DESC, interaction_id DESC LIMIT 50";
    let day: chrono::NaiveDate = sqlx::query_scalar("SELECT (now() - interval '2700 hours')::date")
        .fetch_one(&mut *owner)
        .await
        .expect("day");
    for (line, last_day) in [
        ("qaurterly".to_string(), chrono::NaiveDate::MAX),
        (format!("qaurterly to:{day}"), day),
    ] {
        let mut owner_tx = owner.begin().await.expect("begin");
        sqlx::query("SELECT set_config('pg_trgm.word_similarity_threshold', '0.4', true)")
            .execute(&mut *owner_tx)
            .await
            .expect("threshold");
        let expected: Vec<i32> = sqlx::query_scalar(near_sql)
            .bind(site)
            .bind("qaurterly")
            .bind(last_day.min(chrono::NaiveDate::from_ymd_opt(9999, 12, 31).expect("day")))
            .fetch_all(&mut *owner_tx)
            .await
            .expect("near");
        owner_tx.rollback().await.expect("rollback");
        assert!(
            expected.len() == 50,
            "{line}: {} near matches",
            expected.len()
        );
        assert!(
            last_day == chrono::NaiveDate::MAX
                || expected.iter().all(|i| !newest[..=cap].contains(i)),
            "{line}: the filter passes only rows past the listed ones"
        );
        let page = search(&mut tx, &request(site, &line, Relevance, 50))
            .await
            .expect("near");
        assert!(page.fuzzy, "{line}: the near-match fallback");
        assert_eq!(ids(&page), expected, "{line}");
    }
    tx.rollback().await.expect("rollback");
}

#[tokio::test]
async fn a_lower_bound_on_the_start_keeps_only_upcoming_rows_on_every_path() {
    // The agenda's search: the query language as the Finder's, oldest first, from an instant on.
    let t = fixture().await;
    let mut tx = t.db.begin_as(Some(1)).await.expect("transaction");
    let from = chrono::DateTime::parse_from_rfc3339("2024-03-11T07:00:00Z")
        .expect("a time")
        .with_timezone(&chrono::Utc);
    let upcoming = |query: &str, limit| SearchRequest {
        starts_from: Some(from),
        ..request(NORTH, query, Sort::Oldest, limit)
    };
    // Everything from 07:00 on 11 March (14 starts exactly then: the bound is inclusive).
    let page = search(&mut tx, &upcoming("", 50)).await.expect("search");
    assert_eq!(ids(&page), [14, 15, 16, 17, 18, 19, 20]);
    assert_eq!(page.count, Some(MatchCount::Exact(7)));
    // Words, filters and the bound together, through the text entry point.
    let page = search(&mut tx, &upcoming("budget", 50))
        .await
        .expect("search");
    assert_eq!(ids(&page), [18]);
    let page = search(&mut tx, &upcoming("type:email", 50))
        .await
        .expect("search");
    assert_eq!(ids(&page), [16, 17]);
    // Pages of two add up, and the cursor belongs to the bounded search only.
    let mut seen = Vec::new();
    let mut req = upcoming("", 2);
    loop {
        let page = search(&mut tx, &req).await.expect("page");
        seen.extend(ids(&page));
        match page.next_cursor {
            Some(cursor) => req.after = Some(cursor),
            None => break,
        }
    }
    assert_eq!(seen, [14, 15, 16, 17, 18, 19, 20]);
    let first = search(&mut tx, &upcoming("", 2)).await.expect("page");
    let unbounded = SearchRequest {
        after: first.next_cursor,
        ..request(NORTH, "", Sort::Oldest, 2)
    };
    assert!(
        matches!(
            search(&mut tx, &unbounded).await,
            Err(SearchError::BadCursor(_))
        ),
        "a cursor of the bounded search is refused by the unbounded one"
    );
    tx.rollback().await.expect("rollback");
}
