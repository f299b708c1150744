//! The Finder's month histogram: how the matches of a search spread over the months
//! (`crate::db::histogram` counts them).

use chrono::NaiveDate;

/// Matches in one month.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MonthCount {
    /// The first day of the month.
    pub month: NaiveDate,
    pub count: i64,
}
