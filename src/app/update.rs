//! `update`: the only place the state changes. Synchronous, no I/O: it returns [`Effect`]s for
//! the runner, which answers with [`Msg`]s tagged with the request id they belong to.
//!
//! Time is injected: every [`Msg::Tick`] carries the current instant and moves
//! [`State::clock`]. The runner sends one before each batch of key events and one when
//! [`State::next_deadline`] passes, so typing arms the debounce from a fresh clock and nothing
//! here ever sleeps or reads the system clock.

use std::time::{Duration, Instant};

use crossterm::event::{Event as TermEvent, KeyEvent, MouseButton, MouseEvent, MouseEventKind};
use tui_input::backend::crossterm::to_input_request;

use chrono::{DateTime, Utc};

use super::action::Action;
use super::drafts::{Draft, Found};
use super::finder;
use super::form::{self, FormTarget, Lookups, SaveError};
use super::keymap::KeyMap;
use super::login::{self, LoginOk, Secret};
use super::search_types::{MatchCount, SearchPage, SearchRequest};
use super::state::{Connection, Drawn, Focus, InFlight, Pane, Screen, State};
use crate::domain::audit::AuditEntry;
use crate::domain::failure::Failure;
use crate::domain::health::Check;
use crate::domain::histogram::MonthCount;
use crate::domain::interaction::{Interaction, ValidInteraction, format_wall_clock};
use crate::domain::trash::TrashItem;

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
    /// The answer to [`Effect::CreateFirst`]: who and what was created, or why not.
    FirstRunDone {
        request_id: u64,
        result: Result<super::first_run::FirstCreated, Failure>,
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
    /// The answer to [`Effect::LookForDraft`]: every draft of the user on the site.
    DraftFound(Result<Found, Failure>),
    /// Someone committed a change to an interaction of this site (LISTEN/NOTIFY).
    Changed {
        site_id: i32,
    },
    /// A check of the connection failed (`attempt` in a row); the next comes at `retry_at`.
    ConnectionLost {
        attempt: u32,
        retry_at: Instant,
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
    /// What the frame just drawn laid out (the terminal loop sends it when it changed).
    Drawn(Drawn),
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
    /// Create the first global administrator (with `password`) and the first site; answer with
    /// [`Msg::FirstRunDone`].
    CreateFirst {
        request_id: u64,
        setup: super::first_run::FirstSetup,
        password: Secret,
    },
    /// Check a username and password; answer with [`Msg::LoginDone`].
    Login {
        request_id: u64,
        username: String,
        password: Secret,
    },
    /// From now on, search as this user.
    BeginSession { user_id: i32 },
    /// Write what the Login screen remembers (the last user, each user's last site) for the
    /// next start.
    Remember(crate::app::remember::Remembered),
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
    DeleteDraft {
        user: String,
        site_id: i32,
        /// The form whose draft it is ([`Draft::form_id`]).
        form_id: String,
    },
    /// Read the user's drafts for the site, if any; answer with [`Msg::DraftFound`].
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
    finder::search_now(state, &mut effects);
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
            if state.screen() == Screen::Form {
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
    let over_detail = state.screen() == Screen::Finder
        && state
            .drawn
            .detail
            .is_some_and(|d| d.contains(mouse.column, mouse.row));
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
    if state.screen() == Screen::Form && state.confirm.is_none() && !state.help_open {
        // A click on a field's row (its label or its text) puts the cursor there.
        let hit = state
            .drawn
            .form_fields
            .iter()
            .find(|(_, area)| area.contains(column, row))
            .map(|(field, _)| *field);
        if let (Some(field), Some(form)) = (hit, state.form_mut()) {
            form.focus_field(field);
        }
        return;
    }
    if state.screen() != Screen::Finder {
        return;
    }
    if state.help_open {
        state.help_open = false;
        return;
    }
    if state
        .drawn
        .query
        .is_some_and(|query| query.contains(column, row))
    {
        act(state, Action::FocusQuery, effects);
    } else if let Some(on_screen) = state.drawn.hit_at(column, row) {
        let index = state.finder.offset + on_screen;
        if index >= state.finder.hits().len() {
            return;
        }
        if index == state.finder.selected && state.finder.focus == Focus::List {
            act(state, Action::Open, effects);
        } else {
            state.finder.focus = Focus::List;
            finder::select(state, index, effects);
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
    match state.screen() {
        Screen::FirstRun => return super::first_run::act(state, action, effects),
        Screen::Login => return login::act_login(state, action, effects),
        Screen::SitePicker if !state.help_open => {
            return login::act_picker(state, action, effects);
        }
        Screen::Form if !state.help_open => return form::act_form(state, action, effects),
        Screen::Trash if !state.help_open => return super::trash::act(state, action, effects),
        Screen::Health if !state.help_open => return super::health::act(state, action, effects),
        Screen::Agenda if !state.help_open => return super::agenda::act(state, action, effects),
        _ => {}
    }
    finder::act(state, action, effects);
}

/// Feeds a key to the query line; a changed value arms the debounce.
fn type_key(state: &mut State, key: KeyEvent) {
    if state.screen() == Screen::Agenda {
        return super::agenda::type_key(state, key);
    }
    if state.screen() == Screen::FirstRun {
        return super::first_run::type_key(state, key);
    }
    if state.screen() != Screen::Finder {
        return login::type_key(state, key);
    }
    if state.finder.focus != Focus::Query || state.help_open {
        return;
    }
    let Some(request) = to_input_request(&TermEvent::Key(key)) else {
        return;
    };
    if let Some(changed) = state.finder.query.handle(request)
        && changed.value
    {
        arm_search(state);
    }
}

/// The query changed: search at the next tick (the runner sends one as soon as it has handled
/// the keys already waiting) when no first-page search is running, so that a key typed at an
/// idle database is answered at once; while one runs, after the debounce, each key putting it
/// off again, and the new search then cancels the stale one.
fn arm_search(state: &mut State) {
    let wait = if state.finder.in_flight.is_some() {
        state.settings.debounce
    } else {
        Duration::ZERO
    };
    state.finder.search_due = Some(state.clock + wait);
}

/// Pasted text goes whole into the focused text field (line breaks become spaces in one-line
/// fields), so a paste never triggers a key binding.
fn paste(state: &mut State, text: &str, effects: &mut Vec<Effect>) {
    if state.help_open || state.confirm.is_some() {
        return;
    }
    let one_line = || text.replace("\r\n", " ").replace(['\n', '\r'], " ");
    let field = match &mut state.pane {
        Pane::Form(_) => return form::paste(state, text, effects),
        Pane::FirstRun(_) => return super::first_run::paste(state, text),
        Pane::Finder if state.finder.focus == Focus::Query => &mut state.finder.query,
        Pane::Agenda(_) => return super::agenda::paste(state, text),
        Pane::Finder | Pane::Trash(_) | Pane::Health(_) => return,
        Pane::SitePicker => &mut state.picker.filter,
        Pane::Login(login) => match login.field {
            login::LoginField::Username => &mut login.username,
            login::LoginField::Password => &mut login.password,
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
    match state.screen() {
        Screen::Finder => arm_search(state),
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
        Msg::Changed { site_id } => finder::changed_elsewhere(state, site_id, effects),
        Msg::Notice(text) => state.notice = Some(text),
        Msg::SaveDone { request_id, result } => form::save_done(state, request_id, result, effects),
        Msg::SaveUncertain {
            request_id,
            message,
        } => super::link::save_uncertain(state, request_id, message.message()),
        Msg::ConnectionLost {
            attempt,
            retry_at,
            message,
        } => super::link::lost(state, attempt, retry_at, message.to_string()),
        Msg::ConnectionBack { after } => super::link::back(state, after, effects),
        Msg::LiveUpdatesLost => effects.push(Effect::CheckConnection),
        Msg::LiveUpdatesBack => super::link::resync(state, effects),
        Msg::DraftFound(found) => form::draft_found(state, found.map_err(|e| e.to_string())),
        Msg::LookupsLoaded { request_id, result } => lookups_loaded(state, request_id, result),
        Msg::HistoryLoaded { request_id, result } => {
            super::history::loaded(state, request_id, result);
        }
        Msg::HealthLoaded { request_id, result } => {
            super::health::loaded(state, request_id, result)
        }
        Msg::TrashLoaded { request_id, result } => {
            super::trash::loaded(state, request_id, result.map_err(|e| e.to_string()));
        }
        Msg::Deleted { request_id, result } => {
            super::trash::deleted(state, request_id, result, effects);
        }
        Msg::Restored { request_id, result } => super::trash::restored(state, request_id, result),
        Msg::Counted { request_id, result } => finder::counted(state, request_id, result),
        Msg::HistogramDone { request_id, months } => {
            finder::histogram_done(state, request_id, months)
        }
        Msg::Tick(now) => {
            state.clock = now;
            super::agenda::tick(state, now, effects);
            if state.finder.search_due.is_some_and(|due| due <= now) {
                finder::search_now(state, effects);
            }
        }
        Msg::FirstRunDone { request_id, result } => {
            super::first_run::done(state, request_id, result.map_err(|e| e.to_string()));
        }
        Msg::LoginDone { request_id, result } => {
            let result = result.map_err(|e| e.to_string());
            login::login_done(state, request_id, result, effects);
        }
        Msg::Resize { width, height } => state.size = (width, height),
        Msg::Drawn(drawn) => {
            state.drawn = drawn;
            finder::keep_selection_visible(state);
        }
        Msg::SearchDone {
            request_id, result, ..
        } if super::agenda::owns(state, request_id) => {
            super::agenda::search_done(state, request_id, result, effects);
        }
        Msg::SearchDone {
            request_id,
            result,
            elapsed,
        } => finder::search_done(state, request_id, result, elapsed, effects),
        Msg::SearchFailed {
            request_id,
            message,
        } if super::agenda::owns(state, request_id) => {
            super::agenda::search_failed(state, request_id, &message);
        }
        Msg::SearchFailed {
            request_id,
            message,
        } => {
            let ours = |f: &mut InFlight| f.request_id == request_id;
            if state.finder.in_flight.take_if(ours).is_none()
                && state.finder.more_in_flight.take_if(ours).is_none()
                && state.finder.earlier_in_flight.take_if(ours).is_none()
            {
                return;
            }
            state.connection = Connection::Failing;
            state.finder.error = Some(message.to_string());
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
            let site_id = state.session.site_id;
            if let Some(form) = state.form_mut()
                && lookups.site_id == site_id
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

pub(super) fn next_id(state: &mut State) -> u64 {
    state.last_request_id += 1;
    state.last_request_id
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
