//! Mirror of the search API's types (`crate::db::search` on the `search` branch), so that the
//! terminal UI builds and is tested without it. At merge, replace this file's body with
//! `pub use crate::db::search::{Hit, MatchCount, SearchPage, SearchRequest, Sort};`: the shapes
//! are the same.

use std::fmt;
use std::str::FromStr;

use crate::domain::interaction::Interaction;

/// The order of results.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Sort {
    /// Best match first, then newest.
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
    /// Rows per page.
    pub limit: i64,
    /// [`SearchPage::next_cursor`] of the previous page of the same search.
    pub after: Option<String>,
    /// The count stops here; 0 or less means no count.
    pub count_cap: i64,
}

/// One result row.
#[derive(Clone, Debug, PartialEq)]
pub struct Hit {
    pub interaction: Interaction,
    /// `ts_rank` for relevance, word similarity for near matches, None otherwise.
    pub rank: Option<f32>,
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
        let grouped = |n: i64| {
            let digits = n.unsigned_abs().to_string();
            let mut out = String::new();
            for (i, c) in digits.chars().enumerate() {
                if i > 0 && (digits.len() - i).is_multiple_of(3) {
                    out.push(',');
                }
                out.push(c);
            }
            if n < 0 { format!("-{out}") } else { out }
        };
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
    /// On the first page only.
    pub count: Option<MatchCount>,
    /// The hits are near matches from the typo-tolerant fallback (one page, no cursor).
    pub fuzzy: bool,
    /// Notes on what the query line had that was not used.
    pub ignored: Vec<String>,
    /// Words to highlight in titles and text.
    pub highlight: Vec<String>,
}
