//! The Login and Site picker screens: their state, and their part of `update`.
//!
//! Login: the username and the (masked) password go to the runner as [`Effect::Login`]; the
//! password leaves the state at once. The answer, [`Msg::LoginDone`] (see `update.rs`), counts
//! only when its request id is the pending one. Success opens the Finder on the site the user
//! opened last (when they still may), else the picker on the user's sites; picking one starts
//! the Finder there. The user's name and their site are remembered ([`Remembered`]) for the
//! next start, whose login has the name filled in.

use std::fmt;

use crossterm::event::{Event as TermEvent, KeyEvent};
use nucleo_matcher::pattern::{CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher};
use tui_input::Input;
use tui_input::backend::crossterm::to_input_request;

use super::action::Action;
use super::finder::{cancel_searches, search_now};
use super::pane::{Command, Hint};
use super::remember::Remembered;
use super::state::Mode;
use super::state::{Connection, Focus, Pane, Screen, Session, State};
use super::update::Effect;
pub use crate::db::sites::SiteChoice;

/// What every failed login says, whatever failed; the one other answer is the server's lockout
/// ("too many attempts; try again in N s", for any name: [`crate::db::logins::LoginFailure`]).
pub const INVALID: &str = "invalid username or password";

/// A password on its way to be checked: its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// A successful login: who, and the sites they may open.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginOk {
    pub user_id: i32,
    pub username: String,
    pub sites: Vec<SiteChoice>,
}

/// The login field with the cursor.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LoginField {
    #[default]
    Username,
    Password,
}

/// The Login screen.
#[derive(Clone, Default)]
pub struct LoginState {
    pub username: Input,
    /// Cleared as soon as it is submitted.
    pub password: Input,
    pub field: LoginField,
    /// The request id of the check in flight.
    pub pending: Option<u64>,
    pub error: Option<String>,
}

impl LoginState {
    /// The form with `user` filled in and the cursor on the password, or empty with the cursor
    /// on the username.
    pub fn remembering(user: Option<&str>) -> LoginState {
        match user.filter(|u| !u.is_empty()) {
            Some(user) => LoginState {
                username: Input::new(user.to_string()),
                field: LoginField::Password,
                ..LoginState::default()
            },
            None => LoginState::default(),
        }
    }
}

impl fmt::Debug for LoginState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginState")
            .field("username", &self.username.value())
            .field("password", &"***")
            .field("field", &self.field)
            .field("pending", &self.pending)
            .field("error", &self.error)
            .finish()
    }
}

/// The Site picker.
#[derive(Clone, Debug, Default)]
pub struct PickerState {
    /// The logged-in user; None in the demo, which has no picker.
    pub user_id: Option<i32>,
    pub sites: Vec<SiteChoice>,
    pub filter: Input,
    /// Indices into `sites` that match the filter, best first.
    pub visible: Vec<usize>,
    /// Index into `visible`.
    pub selected: usize,
    /// The site picked last time (or this session), pre-selected.
    pub last_site: Option<String>,
    /// The last user and each user's last site, written after each login and pick.
    pub remembered: Remembered,
}

impl PickerState {
    /// The highlighted site, if any matches.
    pub fn selected_site(&self) -> Option<&SiteChoice> {
        self.visible
            .get(self.selected)
            .and_then(|&i| self.sites.get(i))
    }

    /// Recomputes `visible` for the filter (fuzzy, case-insensitive; all sites by name when
    /// empty) and keeps the selection in range.
    pub fn refilter(&mut self) {
        let filter = self.filter.value();
        self.visible = if filter.trim().is_empty() {
            (0..self.sites.len()).collect()
        } else {
            let pattern = Pattern::parse(filter, CaseMatching::Ignore, Normalization::Smart);
            let mut matcher = Matcher::new(Config::DEFAULT);
            let names = self
                .sites
                .iter()
                .enumerate()
                .map(|(i, s)| Named(i, &s.name));
            pattern
                .match_list(names, &mut matcher)
                .into_iter()
                .map(|(named, _)| named.0)
                .collect()
        };
        self.selected = self.selected.min(self.visible.len().saturating_sub(1));
    }

    /// Selects the last site if it is visible, else the first.
    fn select_last(&mut self) {
        let last = self.last_site.as_deref();
        self.selected = self
            .visible
            .iter()
            .position(|&i| self.sites.get(i).map(|s| s.name.as_str()) == last)
            .unwrap_or(0);
    }
}

/// A site's index with its name, for the matcher.
struct Named<'a>(usize, &'a str);

impl AsRef<str> for Named<'_> {
    fn as_ref(&self) -> &str {
        self.1
    }
}

/// Handles an action while the help overlay is open over the Login screen or the picker: Back
/// or Help closes it, the quit actions quit, anything else waits until it is closed.
fn act_help(state: &mut State, action: Action, effects: &mut Vec<Effect>) {
    match action {
        Action::Back | Action::Help => state.help_open = false,
        Action::Quit | Action::ForceQuit => {
            state.quit = true;
            effects.push(Effect::Quit);
        }
        _ => {}
    }
}

/// Handles an action on the Login screen.
pub fn act_login(state: &mut State, action: Action, effects: &mut Vec<Effect>) {
    if state.help_open {
        return act_help(state, action, effects);
    }
    match action {
        Action::Help => state.help_open = true,
        Action::NextField | Action::PrevField | Action::MoveDown | Action::MoveUp => {
            if let Some(login) = state.login_form_mut() {
                login.field = match login.field {
                    LoginField::Username => LoginField::Password,
                    LoginField::Password => LoginField::Username,
                };
            }
        }
        Action::Submit => submit(state, effects),
        Action::Back | Action::Quit | Action::ForceQuit => {
            state.quit = true;
            effects.push(Effect::Quit);
        }
        _ => {}
    }
}

/// Sends the username and password to be checked; the password leaves the state.
fn submit(state: &mut State, effects: &mut Vec<Effect>) {
    let request_id = state.last_request_id + 1;
    let Some(login) = state.login_form_mut() else {
        return;
    };
    let password = std::mem::take(&mut login.password);
    let username = login.username.value().trim().to_string();
    if username.is_empty() {
        login.error = Some("type your username".into());
        login.field = LoginField::Username;
        return;
    }
    login.pending = Some(request_id);
    login.error = None;
    login.field = LoginField::Password;
    state.last_request_id = request_id;
    effects.push(Effect::Login {
        request_id,
        username,
        password: Secret(password.value().to_string()),
    });
}

/// Applies the answer to login check `request_id`; answers to older checks are dropped.
pub fn login_done(
    state: &mut State,
    request_id: u64,
    result: Result<LoginOk, String>,
    effects: &mut Vec<Effect>,
) {
    let Some(login) = state
        .login_form_mut()
        .filter(|login| login.pending == Some(request_id))
    else {
        return;
    };
    login.pending = None;
    match result {
        Ok(ok) => {
            effects.push(Effect::BeginSession {
                user_id: ok.user_id,
            });
            let picker = &mut state.picker;
            picker.remembered.user = Some(ok.username.clone());
            picker.last_site = picker.remembered.site_of(&ok.username).map(str::to_string);
            effects.push(Effect::Remember(picker.remembered.clone()));
            state.session.user = ok.username;
            picker.user_id = Some(ok.user_id);
            picker.sites = ok.sites;
            picker.filter = Input::default();
            picker.refilter();
            picker.select_last();
            state.pane = Pane::SitePicker;
            // The site this user opened last, if they still may: straight to its Finder (`s`
            // switches); else the picker.
            let last = picker.last_site.as_deref();
            if last.is_some() && picker.selected_site().map(|s| s.name.as_str()) == last {
                pick(state, effects);
            }
        }
        Err(message) => {
            if let Some(login) = state.login_form_mut() {
                login.error = Some(message);
                login.field = LoginField::Password;
            }
        }
    }
}

/// Handles an action on the Site picker.
pub fn act_picker(state: &mut State, action: Action, effects: &mut Vec<Effect>) {
    if state.help_open {
        return act_help(state, action, effects);
    }
    let picker = &mut state.picker;
    let last = picker.visible.len().saturating_sub(1);
    match action {
        Action::Help => state.help_open = true,
        Action::MoveDown => picker.selected = (picker.selected + 1).min(last),
        Action::MoveUp => picker.selected = picker.selected.saturating_sub(1),
        Action::Top => picker.selected = 0,
        Action::Bottom => picker.selected = last,
        Action::Submit | Action::Open => pick(state, effects),
        Action::Back => {
            if !picker.filter.value().is_empty() {
                picker.filter = Input::default();
                picker.refilter();
                picker.select_last();
            } else if state.session.site_id != 0 {
                // Back to the Finder on the site already open.
                state.pane = Pane::Finder;
                search_now(state, effects);
            }
        }
        Action::Quit | Action::ForceQuit => {
            state.quit = true;
            effects.push(Effect::Quit);
        }
        _ => {}
    }
}

/// Opens the Finder on the highlighted site.
fn pick(state: &mut State, effects: &mut Vec<Effect>) {
    let Some(site) = state.picker.selected_site().cloned() else {
        state.notice = Some("no site matches the filter".into());
        return;
    };
    state.picker.last_site = Some(site.name.clone());
    let remembered = &mut state.picker.remembered;
    remembered
        .sites
        .insert(state.session.user.clone(), site.name.clone());
    effects.push(Effect::Remember(remembered.clone()));
    state.session = Session {
        user: std::mem::take(&mut state.session.user),
        site_id: site.site_id,
        site: site.name,
        role: site.role,
    };
    state.pane = Pane::Finder;
    state.finder.focus = Focus::Query;
    state.finder.query = Input::default();
    state.finder.results = None;
    state.finder.selected = 0;
    state.finder.offset = 0;
    state.finder.detail_open = false;
    state.finder.error = None;
    state.connection = Connection::Connecting;
    state.parked_drafts.clear();
    search_now(state, effects);
    effects.push(super::form::look_for_draft(state));
    state.lookups = None;
    super::update::load_lookups(state, effects);
}

/// Leaves the Finder for the picker (the `s` key); only after a login.
pub fn switch_site(state: &mut State, effects: &mut Vec<Effect>) {
    if state.picker.user_id.is_none() {
        state.notice = Some("switching sites needs a login; run `ifind` to log in".into());
        return;
    }
    cancel_searches(state, effects);
    state.help_open = false;
    state.picker.filter = Input::default();
    state.picker.refilter();
    state.picker.select_last();
    state.pane = Pane::SitePicker;
}

/// Feeds a key to the focused login field or the picker's filter.
pub fn type_key(state: &mut State, key: KeyEvent) {
    let Some(request) = to_input_request(&TermEvent::Key(key)) else {
        return;
    };
    match state.screen() {
        Screen::Login => {
            let Some(login) = state.login_form_mut() else {
                return;
            };
            let field = match login.field {
                LoginField::Username => &mut login.username,
                LoginField::Password => &mut login.password,
            };
            field.handle(request);
        }
        Screen::SitePicker => {
            let picker = &mut state.picker;
            if picker.filter.handle(request).is_some_and(|c| c.value) {
                picker.selected = 0;
                picker.refilter();
            }
        }
        Screen::FirstRun
        | Screen::Finder
        | Screen::Form
        | Screen::Trash
        | Screen::Health
        | Screen::Agenda => {}
    }
}

#[cfg(test)]
pub(crate) mod tests;

/// The Login screen's commands.
pub const LOGIN_COMMANDS: &[Command] = &[
    Command::new(Mode::Login, Action::NextField, &["tab", "down"]),
    Command::new(Mode::Login, Action::PrevField, &["backtab", "up"]),
    Command::new(Mode::Login, Action::Submit, &["enter"]).says("log in"),
    Command::new(Mode::Login, Action::Back, &["esc"]).says("quit"),
    Command::new(Mode::Login, Action::Help, &["f1"]),
    Command::new(Mode::Login, Action::ForceQuit, &["ctrl-c"]),
];

/// The Site picker's commands.
pub const PICKER_COMMANDS: &[Command] = &[
    Command::new(Mode::Picker, Action::MoveDown, &["down", "ctrl-n"]).says("next site"),
    Command::new(Mode::Picker, Action::MoveUp, &["up", "ctrl-p"]).says("previous site"),
    Command::new(Mode::Picker, Action::Submit, &["enter"]).says("open the highlighted site"),
    Command::new(Mode::Picker, Action::Back, &["esc"])
        .says("clear the filter, or back to the open site"),
    Command::new(Mode::Picker, Action::Help, &["f1"]),
    Command::new(Mode::Picker, Action::ForceQuit, &["ctrl-c"]),
];

/// The Login screen's hint line.
pub const LOGIN_HINTS: &[Hint] = &[
    Hint::new(&[Action::NextField], "next field"),
    Hint::new(&[Action::Submit], "log in"),
    Hint::new(&[Action::Help], "help"),
    Hint::new(&[Action::Back], "quit"),
];

/// The Site picker's hint line: Esc clears the filter, or goes back to the site already open,
/// else it does nothing and is not offered.
pub fn picker_hints(state: &State) -> Vec<Hint> {
    let back = if !state.picker.filter.value().is_empty() {
        Some("clear the filter")
    } else if state.session.site_id != 0 {
        Some("back")
    } else {
        None
    };
    let mut hints = vec![
        Hint::new(&[Action::Submit], "open"),
        Hint::new(&[Action::MoveDown, Action::MoveUp], "move"),
        Hint::new(&[Action::Help], "help"),
    ];
    if let Some(back) = back {
        hints.push(Hint::new(&[Action::Back], back));
    }
    hints.push(Hint::new(&[Action::ForceQuit], "quit"));
    hints
}
