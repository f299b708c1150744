//! The Finder's query language: one line of words, phrases, exclusions, `or` and field filters.
//!
//! [`parse`] turns the line into a PostgreSQL `to_tsquery` text plus filters. It is pure and never
//! fails: whatever it cannot use is left out and explained in [`ParsedQuery::ignored`].
//!
//! The language:
//! - `budget review`: every word must match, with English stemming (`meetings` finds `meeting`).
//! - `"quarterly budget"`: the words next to each other, in that order (tsquery `<->`).
//! - `-draft`, `-"first draft"`: rows containing the word or phrase are left out.
//! - `budget or invoice`: either. `or` (any case) binds two neighbouring terms and binds tighter
//!   than the implied AND, as in web search: `a b or c d` means `a & (b | c) & d`.
//! - The last word typed matches as a prefix (`meet` finds `meeting`) unless the line ends with
//!   whitespace. The stored vector holds stems (`meeting` is stored as `meet`), so a partly typed
//!   word can run past its stem (`meetin`) and find nothing. For that case the parser also gives a
//!   relaxed query in which a prefix of five letters or more also tries itself shortened by up to
//!   three letters, keeping four (`meetin:* | meeti:* | meet:*`); the search uses it only when the
//!   normal query finds nothing, so a whole word like `policy` never widens to `poli:*`.
//! - Filters, anywhere in the line and always ANDed with the rest: `type:call`, `lead:maria`,
//!   `location:harbor` (a word of the field starting with the value, any case: `type:call` finds
//!   "Phone call" and "Video call", `lead:lop` finds "Maria Lopez"), `type:"phone call"`,
//!   `location:"old harbor"` (quoted: the whole value, any case),
//!   `from:2024-03-01` and `to:2024-03-31` (inclusive calendar days in each interaction's own
//!   time zone). A later filter of the same kind replaces an earlier one.
//! - A `name:` that is not a filter (`typ:call`, `re:budget`) is dropped with a note and what
//!   follows it is searched: it is most likely a mistyped filter or a prefix such as `re:`.
//!   Only letters before the colon make a name: `10:30` is searched as the words `10 30`.
//!
//! Safety: operands are reduced to runs of Unicode letters and digits before they are quoted into
//! the tsquery text, so the text is always valid `to_tsquery` input; stemming and stop words are
//! PostgreSQL's (`to_tsquery('english', $1)` stems every operand). A word with inner punctuation
//! (`follow-up`, `O'Brien`) becomes its pieces as a phrase, which matches how PostgreSQL indexes
//! it; tokens PostgreSQL keeps whole (`3.14`, `x@y.com`) are therefore not found by their pieces.

use chrono::{DateTime, NaiveDate, Utc};

/// The longest query line used; the rest is ignored with a note.
pub const MAX_QUERY_CHARS: usize = 1000;
/// The longest word used; longer runs of letters are ignored with a note.
pub const MAX_WORD_CHARS: usize = 100;
/// The filters, as listed in notes.
pub const FILTER_NAMES: &str = "type:, lead:, location:, from:, to:";

/// The language in examples, for the help: what to type, and what it finds.
pub const SYNTAX: &[(&str, &str)] = &[
    ("budget review", "both words (meetings finds meeting)"),
    ("rev", "the last word as a prefix: review, revenue"),
    ("\"budget review\"", "the phrase"),
    ("-draft  -\"first draft\"", "without it"),
    ("budget or invoice", "either"),
    ("type:call", "a word of the type: Phone call, Video call"),
    ("type:\"phone call\"", "the whole type (any case)"),
    (
        "lead:lop  location:\"board room\"",
        "a word of the lead; the whole location",
    ),
    (
        "from:2026-01-01  to:2026-03-31",
        "starting within these days",
    ),
];

/// How a `type:`, `lead:` or `location:` filter compares with its field, always ignoring case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldMatch {
    /// The value as typed, without its quotes.
    pub value: String,
    /// Quoted (`type:"phone call"`): the whole field. Bare (`type:call`): a word of the field
    /// starting with the value (a word starts the field or follows a character that is neither
    /// a letter nor a digit).
    pub whole: bool,
}

impl FieldMatch {
    /// A bare value: a word of the field starting with `value`.
    pub fn word(value: &str) -> FieldMatch {
        FieldMatch {
            value: value.to_string(),
            whole: false,
        }
    }

    /// A quoted value: the whole field.
    pub fn whole(value: &str) -> FieldMatch {
        FieldMatch {
            value: value.to_string(),
            whole: true,
        }
    }
}

/// Field filters, ANDed with the text terms.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filters {
    /// `type:`.
    pub kind: Option<FieldMatch>,
    /// `lead:`.
    pub lead: Option<FieldMatch>,
    /// `location:`.
    pub location: Option<FieldMatch>,
    /// `from:` — first local calendar day, inclusive.
    pub from: Option<NaiveDate>,
    /// `to:` — last local calendar day, inclusive.
    pub to: Option<NaiveDate>,
    /// Not part of the language: the caller's lower bound on the start (the agenda's "from the
    /// start of today on"), inclusive.
    pub starts_from: Option<DateTime<Utc>>,
}

impl Filters {
    /// True when no filter is set.
    pub fn is_empty(&self) -> bool {
        *self == Filters::default()
    }
}

/// The result of [`parse`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ParsedQuery {
    /// Text for `to_tsquery('english', ...)`, or None when the line has no text terms.
    pub tsquery: Option<String>,
    /// The same without the excluded terms, for ranking; None when nothing positive is left
    /// (then relevance has nothing to rank by).
    pub rank_tsquery: Option<String>,
    /// [`Self::tsquery`] with the last word's prefix relaxed (see the module docs); None when the
    /// line has no prefix word of five letters or more.
    pub relaxed_tsquery: Option<String>,
    /// [`Self::rank_tsquery`] of the relaxed query.
    pub relaxed_rank_tsquery: Option<String>,
    /// The word the relaxed query shortens, lower-cased (`budgte`); None without one.
    pub relaxed_word: Option<String>,
    pub filters: Filters,
    /// The filters in use as they were typed (`type:call`, `from:2026-01-01`), type, lead,
    /// location, from, to: what the Finder shows as active. A filter that was ignored (a bad
    /// date, a filter repeated later) is not among them.
    pub applied: Vec<String>,
    /// Human notes on what was ignored or reinterpreted, in input order.
    pub ignored: Vec<String>,
    /// Lower-cased words of the positive words and phrases, for highlighting.
    pub highlight: Vec<String>,
    /// The highlight words joined by spaces, for the typo-tolerant trigram fallback.
    pub fuzzy_text: Option<String>,
    /// Words typed on their own (positive or excluded), to report the ones PostgreSQL drops as
    /// stop words.
    pub words: Vec<String>,
}

/// One text term: pieces that must be adjacent (a phrase, or a word with inner punctuation).
#[derive(Clone, Debug)]
struct Term {
    negate: bool,
    pieces: Vec<String>,
    /// Typed as one plain word.
    single_word: bool,
    prefix: bool,
}

#[derive(Clone, Debug)]
enum Item {
    Term(Term),
    Or,
}

/// Parses one query line. Never fails and never panics.
pub fn parse(input: &str) -> ParsedQuery {
    let mut p = Parser::default();
    let total = input.chars().count();
    // Control characters (tabs, newlines, NUL) are whitespace: NUL cannot reach PostgreSQL text.
    p.chars = input
        .chars()
        .take(MAX_QUERY_CHARS)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if total > MAX_QUERY_CHARS {
        p.ignored.push(format!(
            "ignored the text after the first {MAX_QUERY_CHARS} characters"
        ));
    }
    p.run();
    let ends_open = total <= MAX_QUERY_CHARS && p.chars.last().is_some_and(|c| !c.is_whitespace());
    if ends_open
        && let Some(Item::Term(t)) = p.last_open.and_then(|i| p.items.get_mut(i))
        && !t.negate
    {
        t.prefix = true;
    }
    p.finish()
}

#[derive(Default)]
struct Parser {
    chars: Vec<char>,
    pos: usize,
    items: Vec<Item>,
    /// The item made by the current (so far last) token, when a prefix may apply to it.
    last_open: Option<usize>,
    filters: Filters,
    /// Raw text of the filter token in force, per field, for "replaced" notes.
    /// What each filter was written as last, by [`Filter`] (to say which of two is used).
    filter_raw: [Option<String>; Filter::ALL.len()],
    ignored: Vec<String>,
}

fn is_quote(c: char) -> bool {
    matches!(c, '"' | '\u{201c}' | '\u{201d}')
}

/// Shortens text for a note.
fn shown(raw: &str) -> String {
    const MAX: usize = 40;
    if raw.chars().count() <= MAX {
        raw.to_string()
    } else {
        let mut s: String = raw.chars().take(MAX).collect();
        s.push('…');
        s
    }
}

/// A field a filter (`name:value`) narrows the search by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Filter {
    Type,
    Lead,
    Location,
    From,
    To,
}

impl Filter {
    const ALL: [Filter; 5] = [
        Filter::Type,
        Filter::Lead,
        Filter::Location,
        Filter::From,
        Filter::To,
    ];

    /// The name the query language writes before the colon.
    fn name(self) -> &'static str {
        match self {
            Filter::Type => "type",
            Filter::Lead => "lead",
            Filter::Location => "location",
            Filter::From => "from",
            Filter::To => "to",
        }
    }

    /// The filter called `name` (any case), if there is one.
    fn named(name: &str) -> Option<Filter> {
        Filter::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(name))
    }

    /// A filter of this field written right, for messages.
    fn example(self) -> &'static str {
        match self {
            Filter::Type => "type:meeting",
            Filter::Lead => "lead:\"Maria Lopez\"",
            Filter::Location => "location:berlin",
            Filter::From => "from:2024-03-01",
            Filter::To => "to:2024-03-31",
        }
    }
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn raw(&self, start: usize) -> String {
        self.chars[start..self.pos].iter().collect()
    }

    fn run(&mut self) {
        loop {
            while self.peek().is_some_and(char::is_whitespace) {
                self.pos += 1;
            }
            let Some(c) = self.peek() else { break };
            self.last_open = None;
            let start = self.pos;
            let negate = c == '-';
            if negate {
                self.pos += 1;
                if self.peek().is_none_or(char::is_whitespace) {
                    self.ignored.push(
                        "ignored -: put the word to exclude right after the dash, as in -draft"
                            .to_string(),
                    );
                    continue;
                }
            }
            if self.peek().is_some_and(is_quote) {
                self.quoted(negate, start);
                continue;
            }
            let mut token = self.read_bare();
            if !negate && token.eq_ignore_ascii_case("or") {
                self.items.push(Item::Or);
                continue;
            }
            if let Some((name, value)) = token.split_once(':')
                && !name.is_empty()
                && name.chars().all(char::is_alphabetic)
            {
                if let Some(filter) = Filter::named(name) {
                    self.field(filter, negate, value, start);
                    continue;
                }
                // Most likely a mistyped filter (`typ:call`) or a prefix such as `re:`: drop the
                // name, search what follows it.
                self.ignored.push(format!(
                    "ignored {}: because it is not a filter (the filters are {FILTER_NAMES})",
                    shown(name)
                ));
                let value = value.to_string();
                if value.is_empty() {
                    if self.peek().is_some_and(is_quote) {
                        self.quoted(negate, start);
                    }
                    continue;
                }
                token = value;
            }
            let raw = self.raw(start);
            if self.push_term(negate, &token, true, &raw) {
                self.last_open = Some(self.items.len() - 1);
            }
        }
    }

    /// A quoted phrase starting at the current quote; `start` is where its token began.
    fn quoted(&mut self, negate: bool, start: usize) {
        let (text, closed) = self.read_quoted();
        let raw = self.raw(start);
        if self.push_term(negate, &text, false, &raw) && !closed {
            self.ignored.push(format!(
                "the closing quote was missing, so {} was searched as a phrase",
                shown(&raw)
            ));
            self.last_open = Some(self.items.len() - 1);
        }
    }

    /// Reads `"..."` from the opening quote; returns the content and whether it was closed.
    fn read_quoted(&mut self) -> (String, bool) {
        self.pos += 1;
        let mut text = String::new();
        while let Some(c) = self.peek() {
            self.pos += 1;
            if is_quote(c) {
                return (text, true);
            }
            text.push(c);
        }
        (text, false)
    }

    /// Reads up to whitespace or a quote.
    fn read_bare(&mut self) -> String {
        let mut text = String::new();
        while let Some(c) = self.peek() {
            if c.is_whitespace() || is_quote(c) {
                break;
            }
            text.push(c);
            self.pos += 1;
        }
        text
    }

    /// Adds a text term made of the letter/digit runs of `text`; false when none is usable.
    fn push_term(&mut self, negate: bool, text: &str, bare: bool, raw: &str) -> bool {
        let mut pieces = Vec::new();
        let mut too_long = false;
        for piece in text.split(|c: char| !c.is_alphanumeric()) {
            if piece.is_empty() {
                continue;
            }
            if piece.chars().count() > MAX_WORD_CHARS {
                self.ignored.push(format!(
                    "ignored a word longer than {MAX_WORD_CHARS} characters"
                ));
                too_long = true;
                continue;
            }
            // Lower-casing can add combining marks ('İ' becomes "i\u{307}"): keep letters/digits.
            let lower: String = piece
                .to_lowercase()
                .chars()
                .filter(|c| c.is_alphanumeric())
                .collect();
            if !lower.is_empty() {
                pieces.push(lower);
            }
        }
        if pieces.is_empty() && too_long {
            return false;
        }
        if pieces.is_empty() {
            self.ignored.push(format!(
                "ignored {}: it has no letters or digits to search for",
                shown(raw)
            ));
            return false;
        }
        let single_word = bare && pieces.len() == 1;
        self.items.push(Item::Term(Term {
            negate,
            pieces,
            single_word,
            prefix: false,
        }));
        true
    }

    /// Applies `name:value` for a known field; a quoted value may follow an empty one.
    fn field(&mut self, filter: Filter, negate: bool, value: &str, start: usize) {
        let mut value = value.to_string();
        let mut quoted = false;
        if value.is_empty() && self.peek().is_some_and(is_quote) {
            quoted = true;
            let (text, closed) = self.read_quoted();
            if !closed {
                self.ignored.push(format!(
                    "the closing quote was missing after {}, so the rest of the line was used as its value",
                    shown(&self.raw(start))
                ));
            }
            value = text;
        }
        let raw = self.raw(start);
        if negate {
            self.ignored.push(format!(
                "ignored {}: filters cannot be excluded",
                shown(&raw)
            ));
            return;
        }
        let value = value.trim();
        if value.is_empty() {
            self.ignored.push(format!(
                "ignored {} because a filter needs a value, as in {}",
                shown(&raw),
                filter.example()
            ));
            return;
        }
        match filter {
            Filter::Type | Filter::Lead | Filter::Location => {
                let matched = FieldMatch {
                    value: value.to_string(),
                    whole: quoted,
                };
                match filter {
                    Filter::Type => self.filters.kind = Some(matched),
                    Filter::Lead => self.filters.lead = Some(matched),
                    _ => self.filters.location = Some(matched),
                }
            }
            Filter::From | Filter::To => {
                let Some(date) = parse_date(value) else {
                    let why = if date_shaped(value) {
                        "there is no such day".to_string()
                    } else {
                        format!("dates are YYYY-MM-DD, as in {}:2024-03-01", filter.name())
                    };
                    self.ignored.push(format!("ignored {}: {why}", shown(&raw)));
                    return;
                };
                if filter == Filter::From {
                    self.filters.from = Some(date);
                } else {
                    self.filters.to = Some(date);
                }
            }
        }
        let given = &mut self.filter_raw[filter as usize];
        if let Some(old) = given.replace(raw.clone()) {
            self.ignored.push(format!(
                "ignored {}: the later {} is used",
                shown(&old),
                shown(&raw)
            ));
        }
    }

    fn finish(mut self) -> ParsedQuery {
        if let (Some(from), Some(to)) = (self.filters.from, self.filters.to)
            && from > to
        {
            self.ignored.push(format!(
                "from:{from} is after to:{to}, so no day is in the range; swap them"
            ));
        }
        let groups = self.groups();
        let mut highlight: Vec<String> = Vec::new();
        let mut words: Vec<String> = Vec::new();
        for t in groups.iter().flatten() {
            if t.single_word && !words.contains(&t.pieces[0]) {
                words.push(t.pieces[0].clone());
            }
            if !t.negate {
                for p in &t.pieces {
                    if !highlight.contains(p) {
                        highlight.push(p.clone());
                    }
                }
            }
        }
        let positive: Vec<Vec<Term>> = groups
            .iter()
            .map(|g| g.iter().filter(|t| !t.negate).cloned().collect::<Vec<_>>())
            .filter(|g| !g.is_empty())
            .collect();
        let relaxed_word = groups
            .iter()
            .flatten()
            .filter(|t| t.prefix)
            .filter_map(|t| t.pieces.last())
            .find(|p| !truncations(p).is_empty())
            .map(|p| p.to_lowercase());
        let relaxable = relaxed_word.is_some();
        ParsedQuery {
            tsquery: render(&groups, false),
            rank_tsquery: render(&positive, false),
            relaxed_tsquery: if relaxable {
                render(&groups, true)
            } else {
                None
            },
            relaxed_rank_tsquery: if relaxable {
                render(&positive, true)
            } else {
                None
            },
            relaxed_word,
            filters: self.filters,
            applied: self.filter_raw.iter().flatten().cloned().collect(),
            ignored: self.ignored,
            fuzzy_text: (!highlight.is_empty()).then(|| highlight.join(" ")),
            highlight,
            words,
        }
    }

    /// Resolves `or` into alternatives: AND groups of OR'ed terms.
    fn groups(&mut self) -> Vec<Vec<Term>> {
        // Collapse runs of `or`.
        let mut items: Vec<Item> = Vec::new();
        for item in std::mem::take(&mut self.items) {
            if matches!(item, Item::Or) && matches!(items.last(), Some(Item::Or)) {
                continue;
            }
            items.push(item);
        }
        let mut groups: Vec<Vec<Term>> = Vec::new();
        let mut join_next = false;
        for (i, item) in items.iter().enumerate() {
            match item {
                Item::Or => {
                    let before = i > 0 && matches!(items[i - 1], Item::Term(_));
                    let after = matches!(items.get(i + 1), Some(Item::Term(_)));
                    if before && after {
                        join_next = true;
                    } else {
                        self.ignored.push(
                            "ignored or: put a word on each side, as in budget or invoice"
                                .to_string(),
                        );
                    }
                }
                Item::Term(t) => match groups.last_mut() {
                    Some(g) if join_next => g.push(t.clone()),
                    _ => groups.push(vec![t.clone()]),
                },
            }
            if matches!(item, Item::Term(_)) {
                join_next = false;
            }
        }
        groups
    }
}

/// `YYYY-MM-DD`, strictly, and a real calendar day.
/// `s` is written as YYYY-MM-DD (whether or not that day exists).
fn date_shaped(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

fn parse_date(s: &str) -> Option<NaiveDate> {
    if !date_shaped(s) {
        return None;
    }
    let year = s[0..4].parse().ok()?;
    let month = s[5..7].parse().ok()?;
    let day = s[8..10].parse().ok()?;
    if year < 1 {
        return None;
    }
    NaiveDate::from_ymd_opt(year, month, day)
}

/// Shorter forms a partly typed word may have been stemmed to: the word less one to three
/// letters, keeping four; only for words of letters.
fn truncations(piece: &str) -> Vec<String> {
    let n = piece.chars().count();
    if n < 5 || !piece.chars().all(char::is_alphabetic) {
        return Vec::new();
    }
    (1..=3)
        .take_while(|k| n - k >= 4)
        .map(|k| piece.chars().take(n - k).collect())
        .collect()
}

/// One operand, quoted; pieces hold only letters and digits, so quoting cannot break out.
fn operand(piece: &str, prefix: bool, relax: bool) -> String {
    let q = |s: &str| format!("'{}'", s.replace('\'', "''"));
    if !prefix {
        return q(piece);
    }
    let mut alts = vec![format!("{}:*", q(piece))];
    if relax {
        alts.extend(truncations(piece).iter().map(|s| format!("{}:*", q(s))));
    }
    if alts.len() == 1 {
        alts.remove(0)
    } else {
        format!("( {} )", alts.join(" | "))
    }
}

fn render_term(t: &Term, relax: bool) -> String {
    let last = t.pieces.len() - 1;
    let ops: Vec<String> = t
        .pieces
        .iter()
        .enumerate()
        .map(|(i, p)| operand(p, t.prefix && i == last, relax))
        .collect();
    let body = if ops.len() == 1 {
        ops.into_iter().next().unwrap_or_default()
    } else {
        format!("( {} )", ops.join(" <-> "))
    };
    if t.negate { format!("!{body}") } else { body }
}

fn render(groups: &[Vec<Term>], relax: bool) -> Option<String> {
    let parts: Vec<String> = groups
        .iter()
        .map(|g| {
            let alts: Vec<String> = g.iter().map(|t| render_term(t, relax)).collect();
            if alts.len() == 1 {
                alts.into_iter().next().unwrap_or_default()
            } else {
                format!("( {} )", alts.join(" | "))
            }
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join(" & "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn d(s: &str) -> Option<NaiveDate> {
        parse_date(s)
    }

    /// (input, expected tsquery, expected notes: each must appear, in order, and no others).
    #[rustfmt::skip]
    const TEXT_CASES: &[(&str, Option<&str>, &[&str])] = &[
        ("", None, &[]),
        ("   \t ", None, &[]),
        ("budget", Some("'budget':*"), &[]),
        ("budget ", Some("'budget'"), &[]),
        ("Meetings review ", Some("'meetings' & 'review'"), &[]),
        ("meetings review", Some("'meetings' & 'review':*"), &[]),
        ("\"quarterly budget\"", Some("( 'quarterly' <-> 'budget' )"), &[]),
        ("\u{201c}quarterly budget\u{201d}", Some("( 'quarterly' <-> 'budget' )"), &[]),
        ("\"quarterly budget", Some("( 'quarterly' <-> 'budget':* )"),
            &["the closing quote was missing, so \"quarterly budget was searched as a phrase"]),
        ("\"quarterly budget ", Some("( 'quarterly' <-> 'budget' )"), &["closing quote was missing"]),
        ("budget -draft", Some("'budget' & !'draft'"), &[]),
        ("budget -\"first draft\" ", Some("'budget' & !( 'first' <-> 'draft' )"), &[]),
        ("budget or invoice ", Some("( 'budget' | 'invoice' )"), &[]),
        ("a b or c d ", Some("'a' & ( 'b' | 'c' ) & 'd'"), &[]),
        ("a OR b Or c ", Some("( 'a' | 'b' | 'c' )"), &[]),
        ("a or or b ", Some("( 'a' | 'b' )"), &[]),
        ("a or -b ", Some("( 'a' | !'b' )"), &[]),
        ("or budget ", Some("'budget'"), &["ignored or: put a word on each side"]),
        ("budget or", Some("'budget'"), &["ignored or: put a word on each side"]),
        ("budget type:call or invoice ", Some("( 'budget' | 'invoice' )"), &[]),
        ("\"or\" ", Some("'or'"), &[]),
        ("-or ", Some("!'or'"), &[]),
        ("budget - ", Some("'budget'"), &["ignored -: put the word to exclude right after the dash"]),
        ("-", None, &["ignored -: put the word"]),
        ("from:notadate budget ", Some("'budget'"),
            &["ignored from:notadate: dates are YYYY-MM-DD, as in from:2024-03-01"]),
        ("from:2026-02-30 budget ", Some("'budget'"),
            &["ignored from:2026-02-30: there is no such day"]),
        ("to:2026-13-01 budget ", Some("'budget'"), &["ignored to:2026-13-01: there is no such day"]),
        ("from:2027-01-01 to:2026-01-01 ", None,
            &["from:2027-01-01 is after to:2026-01-01, so no day is in the range; swap them"]),
        ("re:budget ", Some("'budget'"),
            &["ignored re: because it is not a filter (the filters are type:, lead:, location:, from:, to:)"]),
        ("typ:call", Some("'call':*"), &["ignored typ: because it is not a filter"]),
        ("Note: budget ", Some("'budget'"), &["ignored Note: because it is not a filter"]),
        ("-re:\"first draft\" budget ", Some("!( 'first' <-> 'draft' ) & 'budget'"), &["ignored re:"]),
        ("http://example.com/a ", Some("( 'example' <-> 'com' <-> 'a' )"), &["ignored http:"]),
        ("10:30 ", Some("( '10' <-> '30' )"), &[]),
        ("the of and ", Some("'the' & 'of' & 'and'"), &[]),
        ("'; DROP TABLE interactions; --", Some("'drop' & 'table' & 'interactions'"),
            &["ignored ';: it has no letters or digits", "ignored --: it has no letters or digits"]),
        ("x' OR 1=1 --", Some("( 'x' | ( '1' <-> '1' ) )"), &["ignored --"]),
        ("follow-up", Some("( 'follow' <-> 'up':* )"), &[]),
        ("O'Brien ", Some("( 'o' <-> 'brien' )"), &[]),
        ("Café Zürich 東京 ", Some("'café' & 'zürich' & '東京'"), &[]),
        ("budget\u{0}draft\nx", Some("'budget' & 'draft' & 'x':*"), &[]),
        ("-\"\" budget ", Some("'budget'"), &["ignored -\"\": it has no letters or digits"]),
        ("\"", None, &["ignored \": it has no letters or digits"]),
        ("-type:call budget ", Some("'budget'"), &["ignored -type:call: filters cannot be excluded"]),
        ("type: budget ", Some("'budget'"), &["ignored type: because a filter needs a value, as in type:meeting"]),
        ("to:2024-02-30 to:2024-3-1 from:+2024-03-01", None,
            &["ignored to:2024-02-30: there is no such day", "ignored to:2024-3-1: dates are", "ignored from:+2024-03-01: dates are"]),
        ("lead:\"Maria Lo", None, &["the closing quote was missing after lead:\"Maria Lo"]),
        ("Type:call TYPE:meeting", None, &["ignored Type:call: the later TYPE:meeting is used"]),
    ];

    fn check_notes(input: &str, got: &[String], want: &[&str]) {
        assert_eq!(got.len(), want.len(), "notes for {input:?}: {got:?}");
        for (g, w) in got.iter().zip(want) {
            assert!(
                g.contains(w),
                "note for {input:?}: {g:?} should contain {w:?}"
            );
        }
    }

    #[test]
    fn text_table() {
        for (input, tsquery, notes) in TEXT_CASES {
            let p = parse(input);
            assert_eq!(p.tsquery.as_deref(), *tsquery, "tsquery for {input:?}");
            check_notes(input, &p.ignored, notes);
        }
    }

    #[test]
    fn filters_table() {
        let cases: &[(&str, Filters)] = &[
            (
                "type:Meeting lead:\"Maria Lopez\" location:berlin from:2024-03-01 to:2024-03-31",
                Filters {
                    kind: Some(FieldMatch::word("Meeting")),
                    lead: Some(FieldMatch::whole("Maria Lopez")),
                    location: Some(FieldMatch::word("berlin")),
                    from: d("2024-03-01"),
                    to: d("2024-03-31"),
                    starts_from: None,
                },
            ),
            (
                "TYPE:\"phone call\" LOCATION:\"old harbor\" budget",
                Filters {
                    kind: Some(FieldMatch::whole("phone call")),
                    location: Some(FieldMatch::whole("old harbor")),
                    ..Filters::default()
                },
            ),
            (
                "Type:call TYPE:meeting",
                Filters {
                    kind: Some(FieldMatch::word("meeting")),
                    ..Filters::default()
                },
            ),
            (
                "lead:\"Maria Lo",
                Filters {
                    lead: Some(FieldMatch::whole("Maria Lo")),
                    ..Filters::default()
                },
            ),
            (
                "lead:50%_off",
                Filters {
                    lead: Some(FieldMatch::word("50%_off")),
                    ..Filters::default()
                },
            ),
            ("from:notadate -type:x type:", Filters::default()),
            (
                "to:2024-02-29",
                Filters {
                    to: d("2024-02-29"),
                    ..Filters::default()
                },
            ),
        ];
        for (input, want) in cases {
            assert_eq!(&parse(input).filters, want, "filters for {input:?}");
        }
        let p = parse("type:call lead:x budget");
        assert!(!p.filters.is_empty());
        assert!(parse("budget").filters.is_empty());
    }

    #[test]
    fn rank_relaxed_highlight_and_words() {
        let p = parse("Budget -draft \"Weekly Sync\" budget or memo meetin");
        assert_eq!(
            p.tsquery.as_deref(),
            Some(
                "'budget' & !'draft' & ( 'weekly' <-> 'sync' ) & ( 'budget' | 'memo' ) & 'meetin':*"
            )
        );
        assert_eq!(
            p.rank_tsquery.as_deref(),
            Some("'budget' & ( 'weekly' <-> 'sync' ) & ( 'budget' | 'memo' ) & 'meetin':*")
        );
        assert_eq!(
            p.relaxed_tsquery.as_deref(),
            Some(
                "'budget' & !'draft' & ( 'weekly' <-> 'sync' ) & ( 'budget' | 'memo' ) & ( 'meetin':* | 'meeti':* | 'meet':* )"
            )
        );
        assert_eq!(
            p.relaxed_rank_tsquery.as_deref(),
            Some(
                "'budget' & ( 'weekly' <-> 'sync' ) & ( 'budget' | 'memo' ) & ( 'meetin':* | 'meeti':* | 'meet':* )"
            )
        );
        assert_eq!(p.highlight, ["budget", "weekly", "sync", "memo", "meetin"]);
        assert_eq!(
            p.fuzzy_text.as_deref(),
            Some("budget weekly sync memo meetin")
        );
        assert_eq!(p.words, ["budget", "draft", "memo", "meetin"]);

        // Only exclusions: nothing to rank by, nothing to highlight or to fall back on.
        let p = parse("-draft -\"first draft\"");
        assert_eq!(
            p.tsquery.as_deref(),
            Some("!'draft' & !( 'first' <-> 'draft' )")
        );
        assert_eq!(p.rank_tsquery, None);
        assert!(p.highlight.is_empty() && p.fuzzy_text.is_none());

        // Short, numeric and finished words are never relaxed.
        for q in ["meet", "20245", "meetin ", "-meetin", "\"weekly meetin\""] {
            assert_eq!(parse(q).relaxed_tsquery, None, "{q:?}");
        }
        assert_eq!(
            parse("\"weekly meetin").relaxed_tsquery.as_deref(),
            Some("( 'weekly' <-> ( 'meetin':* | 'meeti':* | 'meet':* ) )")
        );
    }

    #[test]
    fn limits() {
        let long = "budget ".repeat(200);
        let p = parse(&long);
        assert_eq!(p.ignored.len(), 1, "{:?}", p.ignored);
        assert!(p.ignored[0].contains("first 1000 characters"));
        assert!(p.tsquery.is_some_and(|t| !t.contains(":*")));

        let p = parse(&format!("{} budget", "a".repeat(MAX_WORD_CHARS + 1)));
        assert_eq!(p.tsquery.as_deref(), Some("'budget':*"));
        assert_eq!(p.ignored, ["ignored a word longer than 100 characters"]);
    }

    /// Every operand is quoted letters/digits; outside quotes only operators remain.
    fn assert_safe(input: &str, tsquery: &str) {
        let mut in_quote = false;
        for c in tsquery.chars() {
            if c == '\'' {
                in_quote = !in_quote;
            } else if in_quote {
                assert!(
                    c.is_alphanumeric(),
                    "{c:?} inside an operand for {input:?}: {tsquery}"
                );
            } else {
                assert!(
                    "&|!()<-> :*".contains(c),
                    "{c:?} outside operands for {input:?}: {tsquery}"
                );
            }
        }
        assert!(!in_quote, "unbalanced quotes for {input:?}: {tsquery}");
    }

    #[test]
    fn random_lines_never_panic_and_stay_safe() {
        const PARTS: &[&str] = &[
            "a",
            "budget",
            "Meetings",
            "or",
            "OR",
            " ",
            "  ",
            "\"",
            "\u{201c}",
            "-",
            "--",
            ":",
            "type:",
            "lead:",
            "location:",
            "from:",
            "to:",
            "2024-03-01",
            "2024-13-45",
            "'",
            "''",
            "\\",
            ";",
            "%",
            "_",
            "*",
            "&",
            "|",
            "!",
            "<->",
            "(",
            ")",
            "é",
            "e\u{301}",
            "東京",
            "🦀",
            "\u{0}",
            "\t",
            "\n",
            "\u{7f}",
            "\u{200b}",
            "ß",
            "İ",
            "x:y",
            "9",
        ];
        let mut rng = ChaCha8Rng::seed_from_u64(0x1f1d);
        for _ in 0..5000 {
            let n = rng.gen_range(0..16);
            let mut line = String::new();
            for _ in 0..n {
                if rng.gen_bool(0.1) {
                    line.push(char::from_u32(rng.gen_range(0..0x3_0000)).unwrap_or('?'));
                } else {
                    line.push_str(PARTS[rng.gen_range(0..PARTS.len())]);
                }
            }
            let p = parse(&line);
            for t in [
                &p.tsquery,
                &p.rank_tsquery,
                &p.relaxed_tsquery,
                &p.relaxed_rank_tsquery,
            ]
            .into_iter()
            .flatten()
            {
                assert_safe(&line, t);
            }
            for v in [&p.filters.kind, &p.filters.lead, &p.filters.location]
                .into_iter()
                .flatten()
            {
                assert!(
                    !v.value.contains('\0') && !v.value.is_empty(),
                    "filter value for {line:?}"
                );
            }
        }
    }
}
