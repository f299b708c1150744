//! The Agenda (`A` on the list): what is coming up at the site, from the start of today in the
//! display timezone on, oldest first, grouped by day (`crate::domain::agenda`). Typing filters it
//! with the Finder's query language through the same search (site-scoped, row-level security),
//! bounded by [`SearchRequest::starts_from`]; pages load as the selection nears the end.

use std::time::{Duration, Instant};

use crossterm::event::{Event as TermEvent, KeyEvent};
use tui_input::Input;
use tui_input::backend::crossterm::to_input_request;

use super::action::Action;
use super::pane::{Command, Hint};
use super::search_types::{Hit, SearchPage, SearchRequest, Sort};
use super::state::{Focus, Mode, Pane, State};
use super::update::{Effect, next_id};
use crate::domain::agenda::start_of_today;
use crate::domain::failure::Failure;

/// Load the next page when the selection comes this close to the end of the loaded items.
const LOAD_MORE_WITHIN: usize = 10;

/// The Agenda's state: its own query line, the upcoming items and the searches in flight.
#[derive(Clone, Debug)]
pub struct AgendaState {
    /// Where keys go: the query line or the list.
    pub focus: Focus,
    pub query: Input,
    /// The items loaded so far, oldest first.
    pub items: Vec<Hit>,
    /// Index of the selected item.
    pub selected: usize,
    /// The selected item's detail is shown beside (or below) the list.
    pub detail_open: bool,
    /// Where the next page starts; None when every item is loaded.
    pub next_cursor: Option<String>,
    /// The instant the list starts at (the start of today in the display zone, when it opened).
    pub from: chrono::DateTime<chrono::Utc>,
    /// The first-page search in flight and the query it answers.
    pub loading: Option<(u64, String)>,
    /// The next-page search in flight.
    pub loading_more: Option<u64>,
    /// When the debounced search is due.
    pub search_due: Option<Instant>,
    /// Notes on parts of the query that were not used, and words to highlight.
    pub ignored: Vec<String>,
    pub highlight: Vec<String>,
    /// Whether the first page has answered.
    pub loaded: bool,
    /// Why the last search failed, until the next answer.
    pub error: Option<String>,
    /// Someone changed the site while the agenda was open: the Finder is searched again on the
    /// way back.
    pub changed: bool,
}

impl AgendaState {
    /// The selected item.
    pub fn selected_item(&self) -> Option<&Hit> {
        self.items.get(self.selected)
    }
}

fn agenda_mut(state: &mut State) -> Option<&mut AgendaState> {
    match &mut state.pane {
        Pane::Agenda(agenda) => Some(agenda),
        _ => None,
    }
}

/// `A` on the list: opens the agenda, list focused, from the start of today on.
pub(super) fn open(state: &mut State, effects: &mut Vec<Effect>) {
    state.help_open = false;
    let from = start_of_today(state.wall_clock, state.settings.display_zone);
    state.pane = Pane::Agenda(Box::new(AgendaState {
        focus: Focus::List,
        query: Input::default(),
        items: Vec::new(),
        selected: 0,
        detail_open: false,
        next_cursor: None,
        from,
        loading: None,
        loading_more: None,
        search_due: None,
        ignored: Vec::new(),
        highlight: Vec::new(),
        loaded: false,
        error: None,
        changed: false,
    }));
    search_now(state, effects);
}

/// Searches the agenda's query now, cancelling what is in flight.
pub(super) fn search_now(state: &mut State, effects: &mut Vec<Effect>) {
    let request_id = next_id(state);
    let Pane::Agenda(agenda) = &mut state.pane else {
        return;
    };
    for old in [
        agenda.loading.take().map(|(id, _)| id),
        agenda.loading_more.take(),
    ]
    .into_iter()
    .flatten()
    {
        effects.push(Effect::CancelSearch { request_id: old });
    }
    agenda.search_due = None;
    let request = request_of(&state.session, &state.settings, agenda, None);
    agenda.loading = Some((request_id, request.query.clone()));
    effects.push(Effect::Search {
        request_id,
        request,
    });
}

/// The request for the agenda's query from `from` on, oldest first.
fn request_of(
    session: &super::state::Session,
    settings: &super::state::Settings,
    agenda: &AgendaState,
    after: Option<String>,
) -> SearchRequest {
    SearchRequest {
        site_id: session.site_id,
        query: agenda.query.value().to_string(),
        sort: Sort::Oldest,
        limit: settings.page_size,
        after,
        count_cap: 0,
        count_if_free: false,
        archive: false,
        from_end: false,
        starts_from: Some(agenda.from),
    }
}

/// Whether `request_id` is one of the agenda's searches.
pub(super) fn owns(state: &State, request_id: u64) -> bool {
    match &state.pane {
        Pane::Agenda(a) => {
            a.loading.as_ref().is_some_and(|(id, _)| *id == request_id)
                || a.loading_more == Some(request_id)
        }
        _ => false,
    }
}

/// A page for the agenda: the first (replacing the list) or the next one.
pub(super) fn search_done(
    state: &mut State,
    request_id: u64,
    page: SearchPage,
    effects: &mut Vec<Effect>,
) {
    let Some(agenda) = agenda_mut(state) else {
        return;
    };
    if agenda
        .loading
        .take_if(|(id, _)| *id == request_id)
        .is_some()
    {
        agenda.items = page.hits;
        agenda.selected = 0;
        agenda.ignored = page.ignored;
        agenda.highlight = page.highlight;
        agenda.loaded = true;
    } else if agenda
        .loading_more
        .take_if(|id| *id == request_id)
        .is_some()
    {
        agenda.items.extend(page.hits);
    } else {
        return;
    }
    agenda.next_cursor = page.next_cursor;
    agenda.error = None;
    load_more_if_near_end(state, effects);
}

/// A failed agenda search: said in the agenda, the list kept.
pub(super) fn search_failed(state: &mut State, request_id: u64, failure: &Failure) {
    if let Some(agenda) = agenda_mut(state) {
        let ours = agenda
            .loading
            .take_if(|(id, _)| *id == request_id)
            .is_some()
            || agenda
                .loading_more
                .take_if(|id| *id == request_id)
                .is_some();
        if ours {
            agenda.error = Some(failure.to_string());
        }
    }
}

fn load_more_if_near_end(state: &mut State, effects: &mut Vec<Effect>) {
    let Pane::Agenda(agenda) = &state.pane else {
        return;
    };
    let near_end = agenda.selected + LOAD_MORE_WITHIN >= agenda.items.len();
    if agenda.loading.is_some() || agenda.loading_more.is_some() || !near_end {
        return;
    }
    let Some(cursor) = agenda.next_cursor.clone() else {
        return;
    };
    let request = request_of(&state.session, &state.settings, agenda, Some(cursor));
    let request_id = next_id(state);
    if let Some(agenda) = agenda_mut(state) {
        agenda.loading_more = Some(request_id);
    }
    effects.push(Effect::Search {
        request_id,
        request,
    });
}

/// The tick: a due search runs.
pub(super) fn tick(state: &mut State, now: Instant, effects: &mut Vec<Effect>) {
    if let Pane::Agenda(agenda) = &state.pane
        && agenda.search_due.is_some_and(|due| due <= now)
    {
        search_now(state, effects);
    }
}

/// When the agenda's debounced search is due, if one is.
pub fn due(state: &State) -> Option<Instant> {
    match &state.pane {
        Pane::Agenda(agenda) => agenda.search_due,
        _ => None,
    }
}

/// A key for the agenda's query line; a changed query arms the search (at once when none runs,
/// else after the debounce).
pub(super) fn type_key(state: &mut State, key: KeyEvent) {
    let (clock, debounce) = (state.clock, state.settings.debounce);
    let Some(agenda) = agenda_mut(state) else {
        return;
    };
    if agenda.focus != Focus::Query {
        return;
    }
    let Some(request) = to_input_request(&TermEvent::Key(key)) else {
        return;
    };
    if let Some(changed) = agenda.query.handle(request)
        && changed.value
    {
        arm(agenda, clock, debounce);
    }
}

/// Pasted text goes into the query line whole, on one line.
pub(super) fn paste(state: &mut State, text: &str) {
    let (clock, debounce) = (state.clock, state.settings.debounce);
    let Some(agenda) = agenda_mut(state).filter(|a| a.focus == Focus::Query) else {
        return;
    };
    let pasted = text.replace("\r\n", " ").replace(['\n', '\r'], " ");
    let value = agenda.query.value();
    let at = value
        .char_indices()
        .nth(agenda.query.cursor())
        .map_or(value.len(), |(i, _)| i);
    let new = format!("{}{pasted}{}", &value[..at], &value[at..]);
    let cursor = agenda.query.cursor() + pasted.chars().count();
    agenda.query = Input::new(new).with_cursor(cursor);
    arm(agenda, clock, debounce);
}

fn arm(agenda: &mut AgendaState, clock: Instant, debounce: Duration) {
    let wait = if agenda.loading.is_some() {
        debounce
    } else {
        Duration::ZERO
    };
    agenda.search_due = Some(clock + wait);
}

/// A key on the agenda.
pub(super) fn act(state: &mut State, action: Action, effects: &mut Vec<Effect>) {
    let Some(agenda) = agenda_mut(state) else {
        return;
    };
    let last = agenda.items.len().saturating_sub(1);
    match action {
        Action::MoveDown => agenda.selected = (agenda.selected + 1).min(last),
        Action::MoveUp => agenda.selected = agenda.selected.saturating_sub(1),
        Action::Top => agenda.selected = 0,
        Action::Bottom => agenda.selected = last,
        Action::PageDown => agenda.selected = (agenda.selected + 10).min(last),
        Action::PageUp => agenda.selected = agenda.selected.saturating_sub(10),
        Action::FocusQuery => agenda.focus = Focus::Query,
        Action::Open if agenda.focus == Focus::Query => agenda.focus = Focus::List,
        Action::Back if agenda.focus == Focus::Query => agenda.focus = Focus::List,
        Action::Open if !agenda.items.is_empty() => agenda.detail_open = !agenda.detail_open,
        Action::Back if agenda.detail_open => agenda.detail_open = false,
        Action::Back | Action::Agenda => close(state, effects),
        Action::Help => state.help_open = true,
        Action::Quit | Action::ForceQuit => {
            state.quit = true;
            effects.push(Effect::Quit);
        }
        _ => {}
    }
    load_more_if_near_end(state, effects);
}

/// Back to the Finder, as it was (searched again if the site changed meanwhile); the agenda's
/// searches are cancelled.
fn close(state: &mut State, effects: &mut Vec<Effect>) {
    let changed = state.agenda().is_some_and(|a| a.changed);
    if let Some(agenda) = agenda_mut(state) {
        for id in [
            agenda.loading.take().map(|(id, _)| id),
            agenda.loading_more.take(),
        ]
        .into_iter()
        .flatten()
        {
            effects.push(Effect::CancelSearch { request_id: id });
        }
    }
    state.pane = Pane::Finder;
    if changed {
        super::finder::search_now(state, effects);
    }
}

/// Someone changed the site: the agenda on screen is searched again (unless a search is on its
/// way, which will see the change).
pub(super) fn changed_elsewhere(state: &mut State, effects: &mut Vec<Effect>) {
    if let Some(agenda) = agenda_mut(state) {
        agenda.changed = true;
    }
    if let Pane::Agenda(agenda) = &state.pane
        && agenda.loading.is_none()
        && agenda.search_due.is_none()
    {
        search_now(state, effects);
    }
}

/// The agenda's list: moving, searching, back to the Finder.
pub const COMMANDS: &[Command] = &[
    Command::new(Mode::Agenda, Action::FocusQuery, &["/"]).says("filter: type a query"),
    Command::new(Mode::Agenda, Action::MoveDown, &["j", "down"]).says("next interaction"),
    Command::new(Mode::Agenda, Action::MoveUp, &["k", "up"]).says("previous interaction"),
    Command::new(Mode::Agenda, Action::Top, &["g", "home"]).says("the first (soonest)"),
    Command::new(Mode::Agenda, Action::Bottom, &["G", "end"]).says("the last loaded"),
    Command::new(Mode::Agenda, Action::PageDown, &["pagedown", "ctrl-d"]),
    Command::new(Mode::Agenda, Action::PageUp, &["pageup", "ctrl-u"]),
    Command::new(Mode::Agenda, Action::Open, &["enter"]).says("show or hide the detail"),
    Command::new(Mode::Agenda, Action::Back, &["esc"]).says("close the detail, or back"),
    Command::new(Mode::Agenda, Action::Agenda, &["A"]).says("back to the Finder"),
    Command::new(Mode::Agenda, Action::Help, &["?", "f1"]),
    Command::new(Mode::Agenda, Action::Quit, &["q"]),
    Command::new(Mode::Agenda, Action::ForceQuit, &["ctrl-c"]),
];

/// The agenda's query line.
pub const QUERY_COMMANDS: &[Command] = &[
    Command::new(Mode::AgendaQuery, Action::MoveDown, &["down", "ctrl-n"]).says("next interaction"),
    Command::new(Mode::AgendaQuery, Action::MoveUp, &["up", "ctrl-p"]).says("previous interaction"),
    Command::new(Mode::AgendaQuery, Action::Open, &["enter"]).says("to the list"),
    Command::new(Mode::AgendaQuery, Action::Back, &["esc"]).says("to the list"),
    Command::new(Mode::AgendaQuery, Action::Help, &["f1"]),
    Command::new(Mode::AgendaQuery, Action::ForceQuit, &["ctrl-c"]),
];

/// The agenda's hint line.
pub const HINTS: &[Hint] = &[
    Hint::new(&[Action::Help], "help"),
    Hint::new(&[Action::FocusQuery], "filter"),
    Hint::new(&[Action::Open], "detail"),
    Hint::new(&[Action::Back], "back"),
];

#[cfg(test)]
mod tests;
