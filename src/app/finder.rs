//! The Finder's own state: the query line, the results and the selection, the detail pane and
//! the searches in flight. Its reducers are in `update.rs` (keys, answers) and `history.rs`
//! (the detail pane's change history).

use std::time::{Duration, Instant};

use tui_input::Input;

use super::cache::PageCache;
use super::history::HistoryState;
use super::search_types::{Hit, Sort};
use super::state::{Focus, Histogram, InFlight, Results};

/// Everything the Finder shows and waits for. It stays while the form, the trash or the health
/// screen is in front, so returning finds the same query, results and selection.
#[derive(Clone, Debug)]
pub struct FinderState {
    /// Where keys go: the query line or the result list.
    pub focus: Focus,
    /// The detail pane of the selected interaction is shown.
    pub detail_open: bool,
    pub query: Input,
    pub sort: Sort,
    /// Searches include the archive.
    pub include_archive: bool,
    /// None until the first answer.
    pub results: Option<Results>,
    /// Index of the selected hit.
    pub selected: usize,
    /// Index of the first hit on screen.
    pub offset: usize,
    /// Lines of the detail pane scrolled past (back to 0 when the selection changes).
    pub detail_scroll: u16,
    /// The interaction to select again when a live refresh's results arrive.
    pub keep_selection: Option<i32>,
    /// The detail pane shows the selected interaction's change history.
    pub history_open: bool,
    /// The history on screen (or loading), for one interaction.
    pub history: Option<HistoryState>,
    /// How long the last answered search took.
    pub last_query_time: Option<Duration>,
    /// The last search failure, until the next answer.
    pub error: Option<String>,
    /// When the debounced search is due.
    pub search_due: Option<Instant>,
    /// The first-page search in flight, if any.
    pub in_flight: Option<InFlight>,
    /// The next-page search in flight, if any.
    pub more_in_flight: Option<InFlight>,
    /// The month histogram of the current results, once counted.
    pub histogram: Option<Histogram>,
    /// The histogram count in flight, if any.
    pub histogram_in_flight: Option<InFlight>,
    /// The match count asked for after a first page with more pages.
    pub count_in_flight: Option<InFlight>,
    /// First pages of recent searches, dropped per site on every change heard of.
    pub cache: PageCache,
}

impl Default for FinderState {
    fn default() -> Self {
        FinderState {
            focus: Focus::Query,
            detail_open: false,
            query: Input::default(),
            sort: Sort::default(),
            include_archive: false,
            results: None,
            selected: 0,
            offset: 0,
            detail_scroll: 0,
            keep_selection: None,
            history_open: false,
            history: None,
            last_query_time: None,
            error: None,
            search_due: None,
            in_flight: None,
            more_in_flight: None,
            histogram: None,
            histogram_in_flight: None,
            count_in_flight: None,
            cache: PageCache::default(),
        }
    }
}

impl FinderState {
    /// The loaded hits (none before the first answer).
    pub fn hits(&self) -> &[Hit] {
        self.results.as_ref().map_or(&[], |r| r.hits.as_slice())
    }

    /// The selected hit, if there is one.
    pub fn selected_hit(&self) -> Option<&Hit> {
        self.hits().get(self.selected)
    }

    /// A search is running (or due).
    pub fn searching(&self) -> bool {
        self.in_flight.is_some() || self.search_due.is_some()
    }
}
