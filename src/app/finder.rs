//! The Finder's own state: the query line, the results and the selection, the detail pane and
//! the searches in flight, and its reducers: its keys, its searches (debounced, cancelled when
//! replaced, paged, counted, cached) and their answers. `update.rs` hands it what is its own;
//! the detail pane's change history is in `history.rs`.

use std::time::{Duration, Instant};

use tui_input::Input;

use super::action::Action;
use super::cache::{self, PageCache};
use super::history::HistoryState;
use super::pane::{Command, Hint};
use super::search_types::{Hit, MatchCount, SearchPage, SearchRequest, Sort};
use super::state::Mode;
use super::state::{Connection, Focus, Histogram, InFlight, Results, Screen, State};
use super::update::{Effect, as_text, next_id};
use crate::domain::failure::Failure;
use crate::domain::histogram::MonthCount;

/// The list's footer (the status line's right side, as room allows): the few keys a person
/// needs first.
pub const LIST_HINTS: &[Hint] = &[
    Hint::new(&[Action::Help], "help"),
    Hint::new(&[Action::FocusQuery], "search"),
    Hint::new(&[Action::Open], "open"),
    Hint::new(&[Action::NewInteraction], "new"),
    Hint::new(&[Action::CycleSort], "sort"),
];

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
    /// The search reading the results from the end in flight, if any: the last page (`G`), or
    /// the page before the loaded end.
    pub earlier_in_flight: Option<InFlight>,
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
            earlier_in_flight: None,
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

/// An action on the Finder (the results, the detail, the help over them).
pub(super) fn act(state: &mut State, action: Action, effects: &mut Vec<Effect>) {
    match action {
        Action::FocusQuery => {
            state.help_open = false;
            state.finder.focus = Focus::Query;
        }
        Action::MoveDown => select(state, state.finder.selected.saturating_add(1), effects),
        Action::MoveUp => select(state, state.finder.selected.saturating_sub(1), effects),
        Action::Top => to_first(state, effects),
        Action::Bottom => to_last(state, effects),
        Action::PageDown => {
            let step = page_step(state);
            select(state, state.finder.selected.saturating_add(step), effects);
        }
        Action::PageUp => {
            let step = page_step(state);
            select(state, state.finder.selected.saturating_sub(step), effects);
        }
        Action::Open => open_selected(state),
        Action::History => {
            state.finder.history_open = !state.finder.history_open;
            if state.finder.history_open {
                state.finder.detail_open = true;
                super::history::load(state, effects);
            }
        }
        Action::DetailDown => {
            state.finder.detail_open = true;
            state.finder.detail_scroll = state
                .finder
                .detail_scroll
                .saturating_add(1)
                .min(detail_limit(state));
        }
        Action::DetailUp => {
            state.finder.detail_scroll = state.finder.detail_scroll.saturating_sub(1)
        }
        Action::Back => {
            if state.help_open {
                state.help_open = false;
            } else if state.finder.focus == Focus::Query {
                state.finder.focus = Focus::List;
            } else if state.finder.detail_open {
                state.finder.detail_open = false;
                keep_selection_visible(state);
            }
        }
        Action::NewInteraction => super::form::open_new(state),
        Action::Edit => super::form::open_edit(state),
        Action::SwitchSite => super::login::switch_site(state, effects),
        Action::Delete => super::trash::ask_delete(state),
        Action::Trash => super::trash::open(state, effects),
        Action::Health => super::health::open(state, effects),
        Action::Restore => {}
        Action::Copy => copy_selected(state, effects),
        Action::CycleSort => {
            state.finder.sort = match state.finder.sort {
                Sort::Relevance => Sort::Newest,
                Sort::Newest => Sort::Oldest,
                Sort::Oldest => Sort::Relevance,
            };
            search_now(state, effects);
        }
        Action::ToggleArchive => toggle_archive(state, effects),
        Action::Agenda => super::agenda::open(state, effects),
        Action::Help => state.help_open = !state.help_open,
        Action::NextField
        | Action::PrevField
        | Action::Submit
        | Action::Save
        | Action::ClearField
        | Action::PickMine
        | Action::PickTheirs
        | Action::Yes
        | Action::No => {}
        Action::Quit | Action::ForceQuit => {
            state.quit = true;
            effects.push(Effect::Quit);
        }
    }
}

/// Opens the selected interaction's detail.
pub(super) fn open_selected(state: &mut State) {
    if state.finder.selected_hit().is_some() {
        state.finder.detail_open = true;
        state.finder.focus = Focus::List;
        keep_selection_visible(state);
    } else {
        state.notice = Some("nothing selected to open".into());
    }
}

/// Copies the selected interaction as text.
pub(super) fn copy_selected(state: &mut State, effects: &mut Vec<Effect>) {
    match state.finder.selected_hit() {
        Some(hit) => {
            effects.push(Effect::CopyToClipboard(as_text(&hit.interaction)));
            state.notice = Some(format!("copied \"{}\"", hit.interaction.title));
        }
        None => state.notice = Some("select an interaction to copy".into()),
    }
}

/// Searches the archive too, or no longer.
pub(super) fn toggle_archive(state: &mut State, effects: &mut Vec<Effect>) {
    state.finder.include_archive = !state.finder.include_archive;
    state.notice = Some(if state.finder.include_archive {
        "searching the archive too (archived records are read-only)".into()
    } else {
        "searching live records only".into()
    });
    search_now(state, effects);
}

/// Whether the results on screen are those of `generation` (an answer for older results is
/// dropped).
pub(super) fn on_screen(state: &State, generation: u64) -> bool {
    state
        .finder
        .results
        .as_ref()
        .is_some_and(|r| r.generation == generation)
}

/// The match count of the results on screen (cached for the same search).
pub(super) fn counted(state: &mut State, request_id: u64, result: Result<MatchCount, Failure>) {
    let Some(f) = state
        .finder
        .count_in_flight
        .take_if(|f| f.request_id == request_id)
    else {
        return;
    };
    if !on_screen(state, f.generation) {
        return;
    }
    match result {
        Ok(count) => {
            let key = flight_key(state, &f);
            state.finder.cache.set_count(&key, count);
            if let Some(r) = state.finder.results.as_mut() {
                r.count = Some(count);
            }
        }
        // The page is there; only the number is missing. Logged, not shown.
        // The database's words may quote the query: only at debug level.
        Err(message) => {
            tracing::warn!(request_id, "the match count failed");
            tracing::debug!(request_id, "the match count failed: {message}");
        }
    }
}

/// The month histogram of the results on screen (None: not counted within its budget).
pub(super) fn histogram_done(state: &mut State, request_id: u64, months: Option<Vec<MonthCount>>) {
    let Some(f) = state
        .finder
        .histogram_in_flight
        .take_if(|f| f.request_id == request_id)
    else {
        return;
    };
    if !on_screen(state, f.generation) {
        return;
    }
    if let Some(months) = &months {
        let key = flight_key(state, &f);
        state.finder.cache.set_months(&key, months.clone());
    }
    state.finder.histogram = months.map(|months| Histogram {
        generation: f.generation,
        months,
    });
}

/// A first page (then its count and histogram are asked), or a further page of the results on
/// screen; a late answer to a search nobody wants any more is dropped.
pub(super) fn search_done(
    state: &mut State,
    request_id: u64,
    result: SearchPage,
    elapsed: Duration,
    effects: &mut Vec<Effect>,
) {
    if let Some(f) = state
        .finder
        .in_flight
        .take_if(|f| f.request_id == request_id)
    {
        let fuzzy = result.fuzzy;
        let key = flight_key(state, &f);
        state.finder.cache.insert(key, result.clone());
        apply_first_page(state, &f, result, effects);
        if !fuzzy {
            count_matches(state, &f, effects);
            count_months(state, &f, effects);
        }
    } else if let Some(f) = state
        .finder
        .more_in_flight
        .take_if(|f| f.request_id == request_id)
    {
        match state.finder.results.as_mut() {
            Some(results) if results.generation == f.generation => {
                results.hits.extend(result.hits);
                results.next_cursor = result.next_cursor;
            }
            _ => return, // a page of other results
        }
    } else if let Some(f) = state
        .finder
        .earlier_in_flight
        .take_if(|f| f.request_id == request_id)
    {
        if !earlier_page_done(state, &f, result) {
            return;
        }
        if state.finder.history_open {
            super::history::load(state, effects);
        }
    } else {
        return;
    }
    state.connection = Connection::Connected;
    state.finder.error = None;
    state.finder.last_query_time = Some(elapsed);
    load_more_if_near_end(state, effects);
    load_earlier_if_near_start(state, effects);
}

/// A page read from the end arrived for `f` (last result first): the last page replaces the
/// loaded rows and selects the last result; a page before the loaded end goes in front of
/// them, the selection staying on the same row. False when it belongs to other results.
fn earlier_page_done(state: &mut State, f: &InFlight, page: SearchPage) -> bool {
    let finder = &mut state.finder;
    let Some(results) = finder.results.as_mut() else {
        return false;
    };
    if results.generation != f.generation {
        return false;
    }
    let mut rows = page.hits;
    rows.reverse();
    if results.earlier_cursor.is_none() {
        // `G`: the last page.
        results.hits = rows;
        results.next_cursor = None;
        finder.selected = results.hits.len().saturating_sub(1);
        finder.detail_scroll = 0;
    } else {
        let added = rows.len();
        rows.append(&mut results.hits);
        results.hits = rows;
        finder.selected += added;
        finder.offset += added;
    }
    results.earlier_cursor = page.next_cursor;
    keep_selection_visible(state);
    true
}

/// `G`: the last result. When every row up to the last is loaded it is selected at once;
/// otherwise the last page is read from the end of the results (a keyset page from the other
/// end, not every page in between).
fn to_last(state: &mut State, effects: &mut Vec<Effect>) {
    let Some(results) = state.finder.results.as_ref() else {
        return;
    };
    if results.next_cursor.is_none() {
        return select(state, usize::MAX, effects);
    }
    if state.finder.earlier_in_flight.is_some() || state.finder.in_flight.is_some() {
        return;
    }
    if let Some(more) = state.finder.more_in_flight.take() {
        effects.push(Effect::CancelSearch {
            request_id: more.request_id,
        });
    }
    ask_from_end(state, None, effects);
}

/// `g`: the first result; when the rows loaded are the end of the results, the first page is
/// shown again (from the page cache when it is there).
fn to_first(state: &mut State, effects: &mut Vec<Effect>) {
    let from_end = state
        .finder
        .results
        .as_ref()
        .is_some_and(|r| r.earlier_cursor.is_some());
    if from_end {
        search_now(state, effects);
    } else {
        select(state, 0, effects);
    }
}

/// Asks for a page of the results on screen read from the end, after `cursor` (None: the last
/// page).
fn ask_from_end(state: &mut State, cursor: Option<String>, effects: &mut Vec<Effect>) {
    let Some((flight, mut request)) = page_of_results(state, cursor) else {
        return;
    };
    request.from_end = true;
    request.count_cap = 0;
    let request_id = flight.request_id;
    state.finder.earlier_in_flight = Some(flight);
    effects.push(Effect::Search {
        request_id,
        request,
    });
}

/// A request for a further page (after `cursor`) of the results on screen, whatever the query
/// line says now, and its flight; None before any results.
fn page_of_results(state: &mut State, cursor: Option<String>) -> Option<(InFlight, SearchRequest)> {
    let results = state.finder.results.as_ref()?;
    let (generation, query, sort) = (results.generation, results.query.clone(), results.sort);
    let request_id = next_id(state);
    let mut request = request(state, cursor);
    request.query = query.clone();
    request.sort = sort;
    let flight = InFlight {
        request_id,
        generation,
        query,
        sort,
    };
    Some((flight, request))
}

/// Asks for the page before the loaded rows when they are the end of the results and the
/// selection is near their start.
fn load_earlier_if_near_start(state: &mut State, effects: &mut Vec<Effect>) {
    if state.finder.in_flight.is_some()
        || state.finder.earlier_in_flight.is_some()
        || state.finder.search_due.is_some()
        || state.finder.selected >= state.settings.load_more_within
    {
        return;
    }
    let Some(cursor) = state
        .finder
        .results
        .as_ref()
        .and_then(|r| r.earlier_cursor.clone())
    else {
        return;
    };
    ask_from_end(state, Some(cursor), effects);
}

/// A change on `site_id` by someone (or some other window): refresh what is on screen, unless a
/// search is already on its way (it will see the change) or the site is not the one open.
pub(super) fn changed_elsewhere(state: &mut State, site_id: i32, effects: &mut Vec<Effect>) {
    state.finder.cache.invalidate(site_id);
    if site_id != state.session.site_id
        || matches!(
            state.screen(),
            Screen::FirstRun | Screen::Login | Screen::SitePicker
        )
    {
        return;
    }
    if state.lookups_loading.is_none() {
        super::update::load_lookups(state, effects);
    }
    if state.screen() == Screen::Trash {
        return super::trash::reload(state, effects);
    }
    if state.screen() == Screen::Agenda {
        return super::agenda::changed_elsewhere(state, effects);
    }
    if state.finder.in_flight.is_some()
        || state.finder.search_due.is_some()
        || state.finder.results.is_none()
    {
        return;
    }
    state.finder.keep_selection = state
        .finder
        .selected_hit()
        .map(|h| h.interaction.interaction_id);
    // The history shown may have grown too.
    state.finder.history = None;
    let query = state
        .finder
        .results
        .as_ref()
        .map(|r| (r.query.clone(), r.sort));
    search_now(state, effects);
    // Refresh what is on screen, even if the query line has been edited since (that edit has its
    // own search coming).
    if let (Some((query, sort)), Some(f)) = (query, state.finder.in_flight.as_mut()) {
        f.query = query.clone();
        f.sort = sort;
        for e in effects.iter_mut() {
            if let Effect::Search { request, .. } = e
                && request.after.is_none()
            {
                request.query = query.clone();
                request.sort = sort;
            }
        }
    }
    if state.finder.history_open {
        super::history::load(state, effects);
    }
}

/// Asks for the match count of the first page that just arrived for `first` (or came from the
/// cache) when it has more pages and no count yet.
fn count_matches(state: &mut State, first: &InFlight, effects: &mut Vec<Effect>) {
    if let Some(old) = state.finder.count_in_flight.take() {
        effects.push(Effect::CancelSearch {
            request_id: old.request_id,
        });
    }
    if state
        .finder
        .results
        .as_ref()
        .is_none_or(|r| r.count.is_some() || r.next_cursor.is_none())
    {
        return;
    }
    let (flight, request) = follow_up(state, first);
    let request_id = flight.request_id;
    state.finder.count_in_flight = Some(flight);
    effects.push(Effect::Count {
        request_id,
        request,
    });
}

/// A new request for the first page `first` answered (its query and sort, whatever the query
/// line says now) and its flight, for the work that follows a first page.
fn follow_up(state: &mut State, first: &InFlight) -> (InFlight, SearchRequest) {
    let request_id = next_id(state);
    let mut request = request(state, None);
    request.query = first.query.clone();
    request.sort = first.sort;
    let flight = InFlight {
        request_id,
        generation: first.generation,
        query: first.query.clone(),
        sort: first.sort,
    };
    (flight, request)
}

/// Asks for the month histogram of the first page that just arrived for `first`.
fn count_months(state: &mut State, first: &InFlight, effects: &mut Vec<Effect>) {
    if let Some(old) = state.finder.histogram_in_flight.take() {
        effects.push(Effect::CancelSearch {
            request_id: old.request_id,
        });
    }
    let (flight, request) = follow_up(state, first);
    let request_id = flight.request_id;
    state.finder.histogram_in_flight = Some(flight);
    effects.push(Effect::Histogram {
        request_id,
        request,
        budget_ms: state.settings.histogram_budget_ms,
    });
}

/// Cancels the searches in flight and the one due.
pub(super) fn cancel_searches(state: &mut State, effects: &mut Vec<Effect>) {
    state.finder.search_due = None;
    for f in [
        state.finder.in_flight.take(),
        state.finder.more_in_flight.take(),
        state.finder.earlier_in_flight.take(),
        state.finder.histogram_in_flight.take(),
        state.finder.count_in_flight.take(),
    ]
    .into_iter()
    .flatten()
    {
        effects.push(Effect::CancelSearch {
            request_id: f.request_id,
        });
    }
}

/// Starts a first-page search for the current query and sort, cancelling any search in flight.
pub(super) fn search_now(state: &mut State, effects: &mut Vec<Effect>) {
    cancel_searches(state, effects);
    let request_id = next_id(state);
    let request = request(state, None);
    let flight = InFlight {
        request_id,
        generation: request_id,
        query: request.query.clone(),
        sort: request.sort,
    };
    if let Some(entry) = state.finder.cache.lookup(&cache_key(&request)) {
        // Seen since the site last changed: shown at once, no query.
        apply_first_page(state, &flight, entry.page, effects);
        if let Some(results) = state.finder.results.as_mut() {
            results.cached = true;
        }
        state.finder.histogram = entry.months.map(|months| Histogram {
            generation: request_id,
            months,
        });
        count_matches(state, &flight, effects);
        load_more_if_near_end(state, effects);
        return;
    }
    state.finder.in_flight = Some(flight);
    // The first page is not held up by counting: it brings its count only when that costs
    // nothing; otherwise the count follows it (Effect::Count).
    let mut request = request;
    request.count_if_free = true;
    effects.push(Effect::Search {
        request_id,
        request,
    });
}

fn cache_key(request: &SearchRequest) -> cache::Key {
    cache::Key {
        site_id: request.site_id,
        query: request.query.clone(),
        sort: request.sort,
        archive: request.archive,
    }
}

/// The key of the results answering `f` on the open site.
fn flight_key(state: &State, f: &InFlight) -> cache::Key {
    cache::Key {
        site_id: state.session.site_id,
        query: f.query.clone(),
        sort: f.sort,
        archive: state.finder.include_archive,
    }
}

/// Shows a first page as the results of `f`, keeping a live refresh's selection.
fn apply_first_page(state: &mut State, f: &InFlight, page: SearchPage, effects: &mut Vec<Effect>) {
    state.finder.results = Some(Results::first(f.generation, f.query.clone(), f.sort, page));
    state.finder.selected = 0;
    state.finder.offset = 0;
    state.finder.detail_scroll = 0;
    state.finder.histogram = None;
    // A live refresh keeps the interaction that was selected, wherever it is now.
    if let Some(id) = state.finder.keep_selection.take()
        && let Some(at) = state
            .finder
            .hits()
            .iter()
            .position(|h| h.interaction.interaction_id == id)
    {
        state.finder.selected = at;
        keep_selection_visible(state);
    }
    if state.finder.history_open {
        super::history::load(state, effects);
    }
}

/// Asks for the next page when the selection is near the end of the loaded rows, the current
/// results have more, and nothing newer is on its way.
fn load_more_if_near_end(state: &mut State, effects: &mut Vec<Effect>) {
    if state.finder.in_flight.is_some()
        || state.finder.more_in_flight.is_some()
        || state.finder.search_due.is_some()
    {
        return;
    }
    let Some(results) = state.finder.results.as_ref() else {
        return;
    };
    let Some(cursor) = results.next_cursor.clone() else {
        return;
    };
    if state.finder.selected + state.settings.load_more_within < results.hits.len() {
        return;
    }
    let Some((flight, request)) = page_of_results(state, Some(cursor)) else {
        return;
    };
    let request_id = flight.request_id;
    state.finder.more_in_flight = Some(flight);
    effects.push(Effect::Search {
        request_id,
        request,
    });
}

pub(super) fn request(state: &State, after: Option<String>) -> SearchRequest {
    SearchRequest {
        site_id: state.session.site_id,
        query: state.finder.query.value().to_string(),
        sort: state.finder.sort,
        limit: state.settings.page_size,
        after,
        count_cap: state.settings.count_cap,
        count_if_free: false,
        archive: state.finder.include_archive,
        from_end: false,
        starts_from: None,
    }
}

/// Selects hit `index` (clamped to the loaded rows), scrolls to it, and loads more if near the end.
pub(super) fn select(state: &mut State, index: usize, effects: &mut Vec<Effect>) {
    let len = state.finder.hits().len();
    let before = state.finder.selected;
    state.finder.selected = if len == 0 { 0 } else { index.min(len - 1) };
    if state.finder.selected != before {
        state.finder.detail_scroll = 0;
        if state.finder.history_open {
            super::history::load(state, effects);
        }
    }
    keep_selection_visible(state);
    load_more_if_near_end(state, effects);
    load_earlier_if_near_start(state, effects);
}

/// How far the detail pane can scroll: as far as its last drawing of the selected interaction
/// had lines that did not fit (nothing before it was drawn).
fn detail_limit(state: &State) -> u16 {
    match (state.drawn.detail_overflow, state.finder.selected_hit()) {
        (Some((shown, overflow)), Some(hit)) if shown == hit.interaction.interaction_id => overflow,
        _ => 0,
    }
}

/// How many hits one screen shows, as last drawn.
fn page_step(state: &State) -> usize {
    state.drawn.list_capacity()
}

/// Moves the scroll offset just enough for the selected hit to be on screen.
pub(super) fn keep_selection_visible(state: &mut State) {
    let capacity = page_step(state);
    if state.finder.selected < state.finder.offset {
        state.finder.offset = state.finder.selected;
    } else if state.finder.selected >= state.finder.offset + capacity {
        state.finder.offset = state.finder.selected + 1 - capacity;
    }
    // A taller screen (after a resize) shows more rows above rather than blank ones below.
    if capacity > 0 {
        let len = state.finder.hits().len();
        state.finder.offset = state.finder.offset.min(len.saturating_sub(capacity));
    }
}

/// The Finder's commands while the query line has the cursor.
pub const QUERY_COMMANDS: &[Command] = &[
    Command::new(Mode::Query, Action::MoveDown, &["down", "ctrl-n"]),
    Command::new(Mode::Query, Action::MoveUp, &["up", "ctrl-p"]),
    Command::new(Mode::Query, Action::PageDown, &["pagedown"]),
    Command::new(Mode::Query, Action::PageUp, &["pageup"]),
    Command::new(Mode::Query, Action::Open, &["enter"]),
    Command::new(Mode::Query, Action::Back, &["esc"]).says("leave the query line for the results"),
    Command::new(Mode::Query, Action::CycleSort, &["ctrl-o"]),
    Command::new(Mode::Query, Action::Help, &["f1"]),
    Command::new(Mode::Query, Action::ForceQuit, &["ctrl-c"]),
];

/// The Finder's commands while the result list has the focus.
pub const LIST_COMMANDS: &[Command] = &[
    Command::new(Mode::List, Action::FocusQuery, &["/"]),
    Command::new(Mode::List, Action::MoveDown, &["j", "down"]),
    Command::new(Mode::List, Action::MoveUp, &["k", "up"]),
    Command::new(Mode::List, Action::Top, &["g", "home"]),
    Command::new(Mode::List, Action::Bottom, &["G", "end"]),
    Command::new(Mode::List, Action::PageDown, &["pagedown", "ctrl-d"]),
    Command::new(Mode::List, Action::PageUp, &["pageup", "ctrl-u"]),
    Command::new(Mode::List, Action::Open, &["enter"]),
    Command::new(Mode::List, Action::History, &["h"]),
    Command::new(Mode::List, Action::DetailDown, &["J", "shift-down"]),
    Command::new(Mode::List, Action::DetailUp, &["K", "shift-up"]),
    Command::new(Mode::List, Action::Back, &["esc"]),
    Command::new(Mode::List, Action::NewInteraction, &["n"]),
    Command::new(Mode::List, Action::Edit, &["e"]),
    Command::new(Mode::List, Action::SwitchSite, &["s"]),
    Command::new(Mode::List, Action::Copy, &["y"]),
    Command::new(Mode::List, Action::Delete, &["d", "delete"]),
    Command::new(Mode::List, Action::Trash, &["t"]),
    Command::new(Mode::List, Action::Health, &["H"]),
    Command::new(Mode::List, Action::CycleSort, &["o", "ctrl-o"]),
    Command::new(Mode::List, Action::ToggleArchive, &["a"]),
    Command::new(Mode::List, Action::Agenda, &["A"]),
    Command::new(Mode::List, Action::Help, &["?", "f1"]),
    Command::new(Mode::List, Action::Quit, &["q"]),
    Command::new(Mode::List, Action::ForceQuit, &["ctrl-c"]),
];
