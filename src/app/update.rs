//! `update`: the only place the state changes. Synchronous, no I/O: it returns [`Effect`]s for
//! the runner, which answers with [`Msg`]s tagged with the request id they belong to.
//!
//! Time is injected: every [`Msg::Tick`] carries the current instant and moves
//! [`State::clock`]. The runner sends one before each batch of key events and one when
//! [`State::next_deadline`] passes, so typing arms the debounce from a fresh clock and nothing
//! here ever sleeps or reads the system clock.

use std::time::{Duration, Instant};

use crossterm::event::{Event as TermEvent, KeyEvent, MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::{Position, Rect};
use tui_input::backend::crossterm::to_input_request;

use chrono::{DateTime, Utc};

use super::action::Action;
use super::cache;
use super::drafts::Draft;
use super::form::{self, FormTarget, Lookups, SaveError};
use super::keymap::KeyMap;
use super::login::{self, LoginOk, Secret};
use super::search_types::{MatchCount, SearchPage, SearchRequest, Sort};
use super::state::{
    Connection, Focus, HealthState, Histogram, HistoryState, InFlight, Results, Screen, State,
};
use crate::domain::audit::AuditEntry;
use crate::domain::failure::Failure;
use crate::domain::health::Check;
use crate::domain::histogram::MonthCount;
use crate::domain::interaction::{Interaction, ValidInteraction, format_wall_clock};
use crate::domain::trash::TrashItem;
use crate::ui::layout;

/// Something for `update` to handle.
#[derive(Clone, Debug)]
pub enum Event {
    /// A user intent from the key map.
    Action(Action),
    /// A key for the focused text field (the key map had no action for it).
    Input(KeyEvent),
    /// A left click at this screen cell.
    Click { column: u16, row: u16 },
    /// Text pasted into the terminal (bracketed paste): goes to the focused text field whole.
    Paste(String),
    /// An answer from the runner or the clock.
    Msg(Msg),
}

/// Answers from the effect runner and the clock.
#[derive(Clone, Debug)]
pub enum Msg {
    SearchDone {
        request_id: u64,
        result: SearchPage,
        /// How long the search took.
        elapsed: Duration,
    },
    SearchFailed {
        request_id: u64,
        message: Failure,
    },
    /// The answer to [`Effect::Login`]: the user and their sites, or a message to show.
    LoginDone {
        request_id: u64,
        result: Result<LoginOk, Failure>,
    },
    /// The answer to [`Effect::Save`]: the stored interaction, or why nothing was written.
    SaveDone {
        request_id: u64,
        result: Result<Box<Interaction>, SaveError>,
    },
    /// The answer to [`Effect::Count`].
    Counted {
        request_id: u64,
        result: Result<MatchCount, Failure>,
    },
    /// The answer to [`Effect::Histogram`]: None when it was too costly or failed.
    HistogramDone {
        request_id: u64,
        months: Option<Vec<MonthCount>>,
    },
    /// The answer to [`Effect::LoadLookups`].
    LookupsLoaded {
        request_id: u64,
        result: Result<Lookups, Failure>,
    },
    /// The answer to [`Effect::LoadHistory`].
    HistoryLoaded {
        request_id: u64,
        result: Result<Vec<AuditEntry>, Failure>,
    },
    /// The answer to [`Effect::LoadHealth`].
    HealthLoaded {
        request_id: u64,
        result: Result<Vec<Check>, Failure>,
    },
    /// The answer to [`Effect::LoadTrash`].
    TrashLoaded {
        request_id: u64,
        result: Result<Vec<TrashItem>, Failure>,
    },
    /// The answer to [`Effect::Delete`].
    Deleted {
        request_id: u64,
        result: Result<Box<Interaction>, SaveError>,
    },
    /// The answer to [`Effect::Restore`].
    Restored {
        request_id: u64,
        result: Result<Box<Interaction>, SaveError>,
    },
    /// The answer to [`Effect::LookForDraft`].
    DraftFound(Result<Option<Box<Draft>>, Failure>),
    /// Someone committed a change to an interaction of this site (LISTEN/NOTIFY).
    Changed {
        site_id: i32,
    },
    /// A check of the connection failed (`attempt` in a row); the next comes in `retry_in`.
    ConnectionLost {
        attempt: u32,
        retry_in: Duration,
        message: Failure,
    },
    /// The database answers again, `after` the first failed check.
    ConnectionBack {
        after: Duration,
    },
    /// Save `request_id` lost its connection at a moment where it may or may not have been
    /// stored; its [`Msg::SaveDone`] follows once that is known.
    SaveUncertain {
        request_id: u64,
        message: Failure,
    },
    /// The live-updates listener lost its connection (changes may be missed meanwhile).
    LiveUpdatesLost,
    /// The live-updates listener listens again; changes made meanwhile were not signalled.
    LiveUpdatesBack,
    /// The time now.
    Tick(Instant),
    /// The date and time now (for defaults such as a new interaction's start).
    WallClock(DateTime<Utc>),
    /// Something the person should know, for the status line (e.g. a draft cannot be written).
    Notice(String),
    /// The terminal's new size in columns and rows.
    Resize {
        width: u16,
        height: u16,
    },
}

/// Work for the runner.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    /// Run a search and answer with [`Msg::SearchDone`] or [`Msg::SearchFailed`]. A request with
    /// `after` set is the next page of the current results.
    Search {
        request_id: u64,
        request: SearchRequest,
    },
    /// Count the matches of a first page that has more pages, up to the request's cap; answer
    /// with [`Msg::Counted`].
    Count {
        request_id: u64,
        request: SearchRequest,
    },
    /// Count the matches of a first page by month; answer with [`Msg::HistogramDone`].
    /// Cancelled like a search.
    Histogram {
        request_id: u64,
        request: SearchRequest,
        budget_ms: u32,
    },
    /// Stop a search that is no longer wanted (its answer would be dropped anyway).
    CancelSearch { request_id: u64 },
    /// Put this text on the clipboard (OSC 52).
    CopyToClipboard(String),
    /// Check a username and password; answer with [`Msg::LoginDone`].
    Login {
        request_id: u64,
        username: String,
        password: Secret,
    },
    /// From now on, search as this user.
    BeginSession { user_id: i32 },
    /// Remember this site name for the next start's picker.
    RememberSite(String),
    /// Write the interaction to the database as the session's user; answer with
    /// [`Msg::SaveDone`].
    Save {
        request_id: u64,
        site_id: i32,
        target: FormTarget,
        interaction: ValidInteraction,
        /// The form's id for a create, so that a retry never stores it twice.
        client_id: Option<String>,
    },
    /// Check that the database answers; report with [`Msg::ConnectionLost`] and
    /// [`Msg::ConnectionBack`].
    CheckConnection,
    /// Read the site's types, leads and locations; answer with [`Msg::LookupsLoaded`].
    LoadLookups { request_id: u64, site_id: i32 },
    /// Read an interaction's change history; answer with [`Msg::HistoryLoaded`].
    LoadHistory {
        request_id: u64,
        site_id: i32,
        interaction_id: i32,
    },
    /// Run the database health checks; answer with [`Msg::HealthLoaded`].
    LoadHealth { request_id: u64 },
    /// List the site's trash (deleted within `days`); answer with [`Msg::TrashLoaded`].
    LoadTrash {
        request_id: u64,
        site_id: i32,
        days: u32,
    },
    /// Move an interaction to the trash if still at `version`; answer with [`Msg::Deleted`].
    Delete {
        request_id: u64,
        site_id: i32,
        interaction_id: i32,
        version: i32,
    },
    /// Take an interaction out of the trash (if deleted within `days`); answer with
    /// [`Msg::Restored`].
    Restore {
        request_id: u64,
        site_id: i32,
        interaction_id: i32,
        days: u32,
    },
    /// Keep this unsaved form content in the user's draft file for the site.
    WriteDraft(Draft),
    /// Remove the user's draft for the site (saved or discarded).
    DeleteDraft { user: String, site_id: i32 },
    /// Read the user's draft for the site, if any; answer with [`Msg::DraftFound`].
    LookForDraft { user: String, site_id: i32 },
    /// Restore the terminal and exit.
    Quit,
}

/// What a key press means in the current mode: an action, a key for the focused text field, or
/// nothing.
pub fn key_event(keymap: &KeyMap, state: &State, key: KeyEvent) -> Option<Event> {
    let mode = state.mode();
    match keymap.action(mode, &key) {
        Some(action) => Some(Event::Action(action)),
        None if mode.is_text() => Some(Event::Input(key)),
        None => None,
    }
}

/// The effects of starting the Finder: the first search, at once (an empty query lists the
/// site's latest interactions).
pub fn start(state: &mut State) -> Vec<Effect> {
    let mut effects = Vec::new();
    search_now(state, &mut effects);
    effects.push(form::look_for_draft(state));
    load_lookups(state, &mut effects);
    effects
}

/// Reads the open site's completion values (again).
pub(super) fn load_lookups(state: &mut State, effects: &mut Vec<Effect>) {
    let request_id = next_id(state);
    state.lookups_loading = Some(request_id);
    effects.push(Effect::LoadLookups {
        request_id,
        site_id: state.session.site_id,
    });
}

/// Applies one event to the state and returns the work it calls for.
pub fn update(state: &mut State, event: Event) -> Vec<Effect> {
    let mut effects = Vec::new();
    match event {
        Event::Action(action) => {
            state.notice = None;
            act(state, action, &mut effects);
        }
        Event::Input(key) => {
            if state.screen == Screen::Form {
                form::type_key(state, key, &mut effects);
            } else {
                type_key(state, key);
            }
        }
        Event::Paste(text) => paste(state, &text, &mut effects),
        Event::Click { column, row } => {
            state.notice = None;
            click(state, column, row, &mut effects);
        }
        Event::Msg(msg) => receive(state, msg, &mut effects),
    }
    effects
}

/// What a mouse event means: the wheel moves the selection, a left click selects (or opens, on
/// the selected row) or focuses the query line. Other mouse events mean nothing.
pub fn mouse_event(state: &State, mouse: MouseEvent) -> Option<Event> {
    let over_detail = state.screen == Screen::Finder && {
        let (width, height) = state.size;
        layout::finder(Rect::new(0, 0, width, height), state.detail_open)
            .detail
            .is_some_and(|d| d.contains(Position::new(mouse.column, mouse.row)))
    };
    match mouse.kind {
        MouseEventKind::ScrollDown if over_detail => Some(Event::Action(Action::DetailDown)),
        MouseEventKind::ScrollUp if over_detail => Some(Event::Action(Action::DetailUp)),
        MouseEventKind::ScrollDown => Some(Event::Action(Action::MoveDown)),
        MouseEventKind::ScrollUp => Some(Event::Action(Action::MoveUp)),
        MouseEventKind::Down(MouseButton::Left) => Some(Event::Click {
            column: mouse.column,
            row: mouse.row,
        }),
        _ => None,
    }
}

fn click(state: &mut State, column: u16, row: u16, effects: &mut Vec<Effect>) {
    if state.screen == Screen::Form && state.confirm.is_none() && !state.help_open {
        let (width, height) = state.size;
        if let Some(form) = state.form.as_mut() {
            let areas = crate::ui::form::areas(Rect::new(0, 0, width, height), form);
            // A click on a field's row (its label or its text) puts the cursor there.
            let hit = areas.fields.iter().find(|(field, r)| {
                let top = if field.is_multi_line() {
                    r.y.saturating_sub(1)
                } else {
                    r.y
                };
                (top..r.bottom()).contains(&row)
            });
            if let Some((field, _)) = hit {
                form.focus_field(*field);
            }
        }
        return;
    }
    if state.screen != Screen::Finder {
        return;
    }
    if state.help_open {
        state.help_open = false;
        return;
    }
    let (width, height) = state.size;
    let areas = layout::finder(Rect::new(0, 0, width, height), state.detail_open);
    let at = Position::new(column, row);
    if areas.query.contains(at) {
        act(state, Action::FocusQuery, effects);
    } else if areas.list.contains(at) {
        let index = state.offset + usize::from((row - areas.list.y) / layout::ROWS_PER_HIT);
        if index >= state.hits().len() {
            return;
        }
        if index == state.selected && state.focus == Focus::List {
            act(state, Action::Open, effects);
        } else {
            state.focus = Focus::List;
            select(state, index, effects);
        }
    }
}

fn act(state: &mut State, action: Action, effects: &mut Vec<Effect>) {
    if state.confirm.is_some() {
        return form::act_confirm(state, action, effects);
    }
    if state.help_open {
        match action {
            Action::MoveDown => return state.help_scroll = state.help_scroll.saturating_add(1),
            Action::MoveUp => return state.help_scroll = state.help_scroll.saturating_sub(1),
            Action::Help | Action::Back => state.help_scroll = 0,
            _ => {}
        }
    }
    match state.screen {
        Screen::Login => return login::act_login(state, action, effects),
        Screen::SitePicker if !state.help_open => {
            return login::act_picker(state, action, effects);
        }
        Screen::Form if !state.help_open => return form::act_form(state, action, effects),
        Screen::Trash if !state.help_open => return super::trash::act(state, action, effects),
        Screen::Health if !state.help_open => return act_health(state, action, effects),
        _ => {}
    }
    act_finder(state, action, effects);
}

/// An action on the Finder (the results, the detail, the help over them).
fn act_finder(state: &mut State, action: Action, effects: &mut Vec<Effect>) {
    match action {
        Action::FocusQuery => {
            state.help_open = false;
            state.focus = Focus::Query;
        }
        Action::MoveDown => select(state, state.selected.saturating_add(1), effects),
        Action::MoveUp => select(state, state.selected.saturating_sub(1), effects),
        Action::Top => select(state, 0, effects),
        Action::Bottom => select(state, usize::MAX, effects),
        Action::PageDown => {
            let step = page_step(state);
            select(state, state.selected.saturating_add(step), effects);
        }
        Action::PageUp => {
            let step = page_step(state);
            select(state, state.selected.saturating_sub(step), effects);
        }
        Action::Open => open_selected(state),
        Action::History => {
            state.history_open = !state.history_open;
            if state.history_open {
                state.detail_open = true;
                load_history(state, effects);
            }
        }
        Action::DetailDown => {
            state.detail_open = true;
            state.detail_scroll = state
                .detail_scroll
                .saturating_add(1)
                .min(detail_lines(state));
        }
        Action::DetailUp => state.detail_scroll = state.detail_scroll.saturating_sub(1),
        Action::Back => {
            if state.help_open {
                state.help_open = false;
            } else if state.focus == Focus::Query {
                state.focus = Focus::List;
            } else if state.detail_open {
                state.detail_open = false;
                keep_selection_visible(state);
            }
        }
        Action::NewInteraction => form::open_new(state),
        Action::Edit => form::open_edit(state),
        Action::SwitchSite => login::switch_site(state, effects),
        Action::Delete => super::trash::ask_delete(state),
        Action::Trash => super::trash::open(state, effects),
        Action::Health => open_health(state, effects),
        Action::Restore => {}
        Action::Copy => copy_selected(state, effects),
        Action::CycleSort => {
            state.sort = match state.sort {
                Sort::Relevance => Sort::Newest,
                Sort::Newest => Sort::Oldest,
                Sort::Oldest => Sort::Relevance,
            };
            search_now(state, effects);
        }
        Action::ToggleArchive => toggle_archive(state, effects),
        Action::Help => state.help_open = !state.help_open,
        Action::NextField
        | Action::PrevField
        | Action::Submit
        | Action::Save
        | Action::ClearField
        | Action::Yes
        | Action::No => {}
        Action::Quit | Action::ForceQuit => {
            state.quit = true;
            effects.push(Effect::Quit);
        }
    }
}

/// Opens the selected interaction's detail.
fn open_selected(state: &mut State) {
    if state.selected_hit().is_some() {
        state.detail_open = true;
        state.focus = Focus::List;
        keep_selection_visible(state);
    } else {
        state.notice = Some("nothing selected to open".into());
    }
}

/// Copies the selected interaction as text.
fn copy_selected(state: &mut State, effects: &mut Vec<Effect>) {
    match state.selected_hit() {
        Some(hit) => {
            effects.push(Effect::CopyToClipboard(as_text(&hit.interaction)));
            state.notice = Some(format!("copied \"{}\"", hit.interaction.title));
        }
        None => state.notice = Some("select an interaction to copy".into()),
    }
}

/// Searches the archive too, or no longer.
fn toggle_archive(state: &mut State, effects: &mut Vec<Effect>) {
    state.include_archive = !state.include_archive;
    state.notice = Some(if state.include_archive {
        "searching the archive too (archived records are read-only)".into()
    } else {
        "searching live records only".into()
    });
    search_now(state, effects);
}

/// Feeds a key to the query line; a changed value arms the debounce.
fn type_key(state: &mut State, key: KeyEvent) {
    if state.screen != Screen::Finder {
        return login::type_key(state, key);
    }
    if state.focus != Focus::Query || state.help_open {
        return;
    }
    let Some(request) = to_input_request(&TermEvent::Key(key)) else {
        return;
    };
    if let Some(changed) = state.query.handle(request)
        && changed.value
    {
        state.search_due = Some(state.clock + state.settings.debounce);
    }
}

/// Pasted text goes whole into the focused text field (line breaks become spaces in one-line
/// fields), so a paste never triggers a key binding.
fn paste(state: &mut State, text: &str, effects: &mut Vec<Effect>) {
    if state.help_open || state.confirm.is_some() {
        return;
    }
    let one_line = || text.replace("\r\n", " ").replace(['\n', '\r'], " ");
    let field = match state.screen {
        Screen::Form => return form::paste(state, text, effects),
        Screen::Finder if state.focus == Focus::Query => &mut state.query,
        Screen::Finder | Screen::Trash | Screen::Health => return,
        Screen::SitePicker => &mut state.picker.filter,
        Screen::Login => match state.login.field {
            login::LoginField::Username => &mut state.login.username,
            login::LoginField::Password => &mut state.login.password,
        },
    };
    let value = field.value();
    let at = value
        .char_indices()
        .nth(field.cursor())
        .map_or(value.len(), |(i, _)| i);
    let pasted = one_line();
    let new = format!("{}{pasted}{}", &value[..at], &value[at..]);
    let cursor = field.cursor() + pasted.chars().count();
    *field = tui_input::Input::new(new).with_cursor(cursor);
    match state.screen {
        Screen::Finder => state.search_due = Some(state.clock + state.settings.debounce),
        Screen::SitePicker => {
            state.picker.selected = 0;
            state.picker.refilter();
        }
        _ => {}
    }
}

fn receive(state: &mut State, msg: Msg, effects: &mut Vec<Effect>) {
    match msg {
        Msg::WallClock(now) => state.wall_clock = now,
        Msg::Changed { site_id } => changed_elsewhere(state, site_id, effects),
        Msg::Notice(text) => state.notice = Some(text),
        Msg::SaveDone { request_id, result } => form::save_done(state, request_id, result, effects),
        Msg::SaveUncertain {
            request_id,
            message,
        } => super::link::save_uncertain(state, request_id, message.message()),
        Msg::ConnectionLost {
            attempt,
            retry_in,
            message,
        } => super::link::lost(state, attempt, retry_in, message.to_string()),
        Msg::ConnectionBack { after } => super::link::back(state, after, effects),
        Msg::LiveUpdatesLost => effects.push(Effect::CheckConnection),
        Msg::LiveUpdatesBack => super::link::resync(state, effects),
        Msg::DraftFound(found) => form::draft_found(state, found.map_err(|e| e.to_string())),
        Msg::LookupsLoaded { request_id, result } => lookups_loaded(state, request_id, result),
        Msg::HistoryLoaded { request_id, result } => {
            if let Some(h) = state.history.as_mut()
                && h.loading.take_if(|id| *id == request_id).is_some()
            {
                match result {
                    Ok(entries) => h.entries = entries,
                    Err(message) => h.error = Some(message.to_string()),
                }
            }
        }
        Msg::HealthLoaded { request_id, result } => health_loaded(state, request_id, result),
        Msg::TrashLoaded { request_id, result } => {
            super::trash::loaded(state, request_id, result.map_err(|e| e.to_string()));
        }
        Msg::Deleted { request_id, result } => {
            super::trash::deleted(state, request_id, result, effects);
        }
        Msg::Restored { request_id, result } => super::trash::restored(state, request_id, result),
        Msg::Counted { request_id, result } => counted(state, request_id, result),
        Msg::HistogramDone { request_id, months } => histogram_done(state, request_id, months),
        Msg::Tick(now) => {
            state.clock = now;
            if state.search_due.is_some_and(|due| due <= now) {
                search_now(state, effects);
            }
        }
        Msg::LoginDone { request_id, result } => {
            let result = result.map_err(|e| e.to_string());
            login::login_done(state, request_id, result, effects);
        }
        Msg::Resize { width, height } => {
            state.size = (width, height);
            keep_selection_visible(state);
        }
        Msg::SearchDone {
            request_id,
            result,
            elapsed,
        } => search_done(state, request_id, result, elapsed, effects),
        Msg::SearchFailed {
            request_id,
            message,
        } => {
            let ours = |f: &mut InFlight| f.request_id == request_id;
            if state.in_flight.take_if(ours).is_none()
                && state.more_in_flight.take_if(ours).is_none()
            {
                return;
            }
            state.connection = Connection::Failing;
            state.error = Some(message.to_string());
        }
    }
}

/// The completion values for the form, when they are the ones asked for last.
fn lookups_loaded(state: &mut State, request_id: u64, result: Result<Lookups, Failure>) {
    if state
        .lookups_loading
        .take_if(|id| *id == request_id)
        .is_none()
    {
        return;
    }
    match result {
        Ok(lookups) => {
            let lookups = std::sync::Arc::new(lookups);
            state.lookups = Some(lookups.clone());
            if let Some(form) = state.form.as_mut()
                && lookups.site_id == state.session.site_id
            {
                form.set_lookups(lookups);
            }
        }
        // Completion is a help, not a need: the form works without it.
        Err(message) => {
            tracing::warn!("completion values unavailable");
            tracing::debug!("completion values unavailable: {message}");
        }
    }
}

/// The health checks, with the page cache's own check added.
fn health_loaded(state: &mut State, request_id: u64, result: Result<Vec<Check>, Failure>) {
    if let Some(h) = state.health.as_mut()
        && h.loading.take_if(|id| *id == request_id).is_some()
    {
        match result {
            Ok(mut checks) => {
                checks.push(state.cache.check());
                h.checks = checks;
                h.error = None;
            }
            Err(message) => h.error = Some(message.to_string()),
        }
    }
}

/// Whether the results on screen are those of `generation` (an answer for older results is
/// dropped).
fn on_screen(state: &State, generation: u64) -> bool {
    state
        .results
        .as_ref()
        .is_some_and(|r| r.generation == generation)
}

/// The match count of the results on screen (cached for the same search).
fn counted(state: &mut State, request_id: u64, result: Result<MatchCount, Failure>) {
    let Some(f) = state
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
            state.cache.set_count(&key, count);
            if let Some(r) = state.results.as_mut() {
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
fn histogram_done(state: &mut State, request_id: u64, months: Option<Vec<MonthCount>>) {
    let Some(f) = state
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
        state.cache.set_months(&key, months.clone());
    }
    state.histogram = months.map(|months| Histogram {
        generation: f.generation,
        months,
    });
}

/// A first page (then its count and histogram are asked), or a further page of the results on
/// screen; a late answer to a search nobody wants any more is dropped.
fn search_done(
    state: &mut State,
    request_id: u64,
    result: SearchPage,
    elapsed: Duration,
    effects: &mut Vec<Effect>,
) {
    if let Some(f) = state.in_flight.take_if(|f| f.request_id == request_id) {
        let fuzzy = result.fuzzy;
        let key = flight_key(state, &f);
        state.cache.insert(key, result.clone());
        apply_first_page(state, &f, result, effects);
        if !fuzzy {
            count_matches(state, &f, effects);
            count_months(state, &f, effects);
        }
    } else if let Some(f) = state.more_in_flight.take_if(|f| f.request_id == request_id) {
        match state.results.as_mut() {
            Some(results) if results.generation == f.generation => {
                results.hits.extend(result.hits);
                results.next_cursor = result.next_cursor;
            }
            _ => return, // a page of other results
        }
    } else {
        return;
    }
    state.connection = Connection::Connected;
    state.error = None;
    state.last_query_time = Some(elapsed);
    load_more_if_near_end(state, effects);
}

/// A change on `site_id` by someone (or some other window): refresh what is on screen, unless a
/// search is already on its way (it will see the change) or the site is not the one open.
pub(super) fn changed_elsewhere(state: &mut State, site_id: i32, effects: &mut Vec<Effect>) {
    state.cache.invalidate(site_id);
    if site_id != state.session.site_id
        || matches!(state.screen, Screen::Login | Screen::SitePicker)
    {
        return;
    }
    if state.lookups_loading.is_none() {
        load_lookups(state, effects);
    }
    if state.screen == Screen::Trash {
        return super::trash::reload(state, effects);
    }
    if state.in_flight.is_some() || state.search_due.is_some() || state.results.is_none() {
        return;
    }
    state.keep_selection = state.selected_hit().map(|h| h.interaction.interaction_id);
    // The history shown may have grown too.
    state.history = None;
    let query = state.results.as_ref().map(|r| (r.query.clone(), r.sort));
    search_now(state, effects);
    // Refresh what is on screen, even if the query line has been edited since (that edit has its
    // own search coming).
    if let (Some((query, sort)), Some(f)) = (query, state.in_flight.as_mut()) {
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
    if state.history_open {
        load_history(state, effects);
    }
}

/// Asks for the match count of the first page that just arrived for `first` (or came from the
/// cache) when it has more pages and no count yet.
fn count_matches(state: &mut State, first: &InFlight, effects: &mut Vec<Effect>) {
    if let Some(old) = state.count_in_flight.take() {
        effects.push(Effect::CancelSearch {
            request_id: old.request_id,
        });
    }
    if state
        .results
        .as_ref()
        .is_none_or(|r| r.count.is_some() || r.next_cursor.is_none())
    {
        return;
    }
    let (flight, request) = follow_up(state, first);
    let request_id = flight.request_id;
    state.count_in_flight = Some(flight);
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
    if let Some(old) = state.histogram_in_flight.take() {
        effects.push(Effect::CancelSearch {
            request_id: old.request_id,
        });
    }
    let (flight, request) = follow_up(state, first);
    let request_id = flight.request_id;
    state.histogram_in_flight = Some(flight);
    effects.push(Effect::Histogram {
        request_id,
        request,
        budget_ms: state.settings.histogram_budget_ms,
    });
}

/// Cancels the searches in flight and the one due.
pub(super) fn cancel_searches(state: &mut State, effects: &mut Vec<Effect>) {
    state.search_due = None;
    for f in [
        state.in_flight.take(),
        state.more_in_flight.take(),
        state.histogram_in_flight.take(),
        state.count_in_flight.take(),
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
    if let Some(entry) = state.cache.lookup(&cache_key(&request)) {
        // Seen since the site last changed: shown at once, no query.
        apply_first_page(state, &flight, entry.page, effects);
        if let Some(results) = state.results.as_mut() {
            results.cached = true;
        }
        state.histogram = entry.months.map(|months| Histogram {
            generation: request_id,
            months,
        });
        count_matches(state, &flight, effects);
        load_more_if_near_end(state, effects);
        return;
    }
    state.in_flight = Some(flight);
    // The first page goes alone; its count follows it (Effect::Count).
    let mut request = request;
    request.count_cap = 0;
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
        archive: state.include_archive,
    }
}

/// Shows a first page as the results of `f`, keeping a live refresh's selection.
fn apply_first_page(state: &mut State, f: &InFlight, page: SearchPage, effects: &mut Vec<Effect>) {
    state.results = Some(Results::first(f.generation, f.query.clone(), f.sort, page));
    state.selected = 0;
    state.offset = 0;
    state.detail_scroll = 0;
    state.histogram = None;
    // A live refresh keeps the interaction that was selected, wherever it is now.
    if let Some(id) = state.keep_selection.take()
        && let Some(at) = state
            .hits()
            .iter()
            .position(|h| h.interaction.interaction_id == id)
    {
        state.selected = at;
        keep_selection_visible(state);
    }
    if state.history_open {
        load_history(state, effects);
    }
}

/// Asks for the next page when the selection is near the end of the loaded rows, the current
/// results have more, and nothing newer is on its way.
fn load_more_if_near_end(state: &mut State, effects: &mut Vec<Effect>) {
    if state.in_flight.is_some() || state.more_in_flight.is_some() || state.search_due.is_some() {
        return;
    }
    let Some(results) = state.results.as_ref() else {
        return;
    };
    let Some(cursor) = results.next_cursor.clone() else {
        return;
    };
    if state.selected + state.settings.load_more_within < results.hits.len() {
        return;
    }
    let (generation, query, sort) = (results.generation, results.query.clone(), results.sort);
    let request_id = next_id(state);
    let mut request = request(state, Some(cursor));
    request.query = query.clone();
    request.sort = sort;
    state.more_in_flight = Some(InFlight {
        request_id,
        generation,
        query,
        sort,
    });
    effects.push(Effect::Search {
        request_id,
        request,
    });
}

pub(super) fn next_id(state: &mut State) -> u64 {
    state.last_request_id += 1;
    state.last_request_id
}

fn request(state: &State, after: Option<String>) -> SearchRequest {
    SearchRequest {
        site_id: state.session.site_id,
        query: state.query.value().to_string(),
        sort: state.sort,
        limit: state.settings.page_size,
        after,
        count_cap: state.settings.count_cap,
        archive: state.include_archive,
        rank_window: state.settings.rank_window,
    }
}

/// Selects hit `index` (clamped to the loaded rows), scrolls to it, and loads more if near the end.
fn select(state: &mut State, index: usize, effects: &mut Vec<Effect>) {
    let len = state.hits().len();
    let before = state.selected;
    state.selected = if len == 0 { 0 } else { index.min(len - 1) };
    if state.selected != before {
        state.detail_scroll = 0;
        if state.history_open {
            load_history(state, effects);
        }
    }
    keep_selection_visible(state);
    load_more_if_near_end(state, effects);
}

/// `H` on the list: the database dashboard, for site admins and global administrators.
fn open_health(state: &mut State, effects: &mut Vec<Effect>) {
    if state.session.role != "admin" {
        state.notice = Some(format!(
            "the health screen is for admins; you are a {} at {}",
            state.session.role, state.session.site
        ));
        return;
    }
    state.help_open = false;
    state.screen = Screen::Health;
    state.health = Some(HealthState::default());
    load_health(state, effects);
}

fn load_health(state: &mut State, effects: &mut Vec<Effect>) {
    let request_id = next_id(state);
    if let Some(h) = state.health.as_mut() {
        h.loading = Some(request_id);
    }
    effects.push(Effect::LoadHealth { request_id });
}

fn act_health(state: &mut State, action: Action, effects: &mut Vec<Effect>) {
    match action {
        Action::Health if state.health.as_ref().is_some_and(|h| h.loading.is_none()) => {
            load_health(state, effects);
        }
        Action::Back => {
            state.health = None;
            state.screen = Screen::Finder;
        }
        Action::Help => state.help_open = true,
        Action::Quit | Action::ForceQuit => {
            state.quit = true;
            effects.push(Effect::Quit);
        }
        _ => {}
    }
}

/// Loads the change history of the selected interaction, unless it is already there.
fn load_history(state: &mut State, effects: &mut Vec<Effect>) {
    let Some(id) = state.selected_hit().map(|h| h.interaction.interaction_id) else {
        return;
    };
    if state
        .history
        .as_ref()
        .is_some_and(|h| h.interaction_id == id && h.error.is_none())
    {
        return;
    }
    let request_id = next_id(state);
    state.history = Some(HistoryState {
        interaction_id: id,
        loading: Some(request_id),
        entries: Vec::new(),
        error: None,
    });
    effects.push(Effect::LoadHistory {
        request_id,
        site_id: state.session.site_id,
        interaction_id: id,
    });
}

/// An upper bound on the lines the selected interaction's detail takes at the narrowest detail
/// pane (30 columns): the furthest the detail may scroll.
fn detail_lines(state: &State) -> u16 {
    let Some(hit) = state.selected_hit() else {
        return 0;
    };
    let i = &hit.interaction;
    let text_lines = |t: &Option<String>| {
        t.as_deref().map_or(1, |t| {
            t.split('\n')
                .map(|l| l.chars().count() / 30 + 1)
                .sum::<usize>()
        })
    };
    let lines =
        14 + i.title.chars().count() / 30 + text_lines(&i.description) + text_lines(&i.notes);
    u16::try_from(lines).unwrap_or(u16::MAX)
}

/// How many hits one screen shows.
fn page_step(state: &State) -> usize {
    layout::list_capacity(state.size.0, state.size.1, state.detail_open).max(1)
}

/// Moves the scroll offset just enough for the selected hit to be on screen.
fn keep_selection_visible(state: &mut State) {
    let capacity = page_step(state);
    if state.selected < state.offset {
        state.offset = state.selected;
    } else if state.selected >= state.offset + capacity {
        state.offset = state.selected + 1 - capacity;
    }
}

/// An interaction as plain text, for the clipboard. Control and bidirectional characters are
/// escaped (`\u{1b}`; description and notes keep their line breaks and tabs), so that pasting
/// the text into a terminal or an editor never runs or reorders anything.
pub fn as_text(i: &Interaction) -> String {
    use crate::domain::format::{escape, escape_multi_line};
    let mut out = format!(
        "{}\nType: {}\nLead: {}\nStart: {} ({})\nEnd: {}\n",
        escape(&i.title),
        escape(&i.kind),
        escape(&i.lead),
        format_wall_clock(i.start_datetime, &i.timezone),
        escape(&i.timezone),
        format_wall_clock(i.end_datetime, &i.timezone),
    );
    if let Some(location) = i.location.as_deref().filter(|s| !s.is_empty()) {
        out.push_str(&format!("Location: {}\n", escape(location)));
    }
    if let Some(description) = i.description.as_deref().filter(|s| !s.is_empty()) {
        out.push_str(&format!("\n{}\n", escape_multi_line(description)));
    }
    if let Some(notes) = i.notes.as_deref().filter(|s| !s.is_empty()) {
        out.push_str(&format!("\nNotes:\n{}\n", escape_multi_line(notes)));
    }
    out
}

#[cfg(test)]
mod tests;
