//! The first-run screen: on a database with no user yet (and a connection that may make login
//! roles), the person at the keyboard creates the first global administrator and the first site
//! here, like an installer, instead of being sent to the command line. The values are checked
//! with the same rules as `ifind user add` and `ifind site add`; [`Effect::CreateFirst`] then
//! creates both through the same service code (`service::setup::first_run`), and the answer,
//! [`Msg::FirstRunDone`](super::update::Msg::FirstRunDone), opens the normal Login with the new
//! name filled in. The passwords stay in the state only until they are accepted, and are shown
//! masked.

use std::fmt;

use crossterm::event::{Event as TermEvent, KeyEvent};
use tui_input::Input;
use tui_input::backend::crossterm::to_input_request;

use super::action::Action;
use super::login::{LoginState, Secret};
use super::pane::{Command, Hint};
use super::state::{Mode, Pane, State};
use super::update::{Effect, next_id};
use crate::domain::users::{check_email, check_site_name, check_username};

/// The first run's fields, in the order they are filled.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SetupField {
    #[default]
    Site,
    Username,
    Email,
    Password,
    Repeat,
}

impl SetupField {
    pub const ALL: [SetupField; 5] = [
        SetupField::Site,
        SetupField::Username,
        SetupField::Email,
        SetupField::Password,
        SetupField::Repeat,
    ];

    /// Its label on screen.
    pub fn label(self) -> &'static str {
        match self {
            SetupField::Site => "Site name",
            SetupField::Username => "Username",
            SetupField::Email => "Email",
            SetupField::Password => "Password",
            SetupField::Repeat => "Repeat",
        }
    }

    /// Whether it is shown masked.
    pub fn is_secret(self) -> bool {
        matches!(self, SetupField::Password | SetupField::Repeat)
    }

    fn next(self) -> SetupField {
        let at = SetupField::ALL.iter().position(|f| *f == self).unwrap_or(0);
        SetupField::ALL[(at + 1) % SetupField::ALL.len()]
    }

    fn prev(self) -> SetupField {
        let at = SetupField::ALL.iter().position(|f| *f == self).unwrap_or(0);
        SetupField::ALL[(at + SetupField::ALL.len() - 1) % SetupField::ALL.len()]
    }
}

/// What the first run creates, without the password.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FirstSetup {
    pub site: String,
    pub username: String,
    pub email: String,
}

/// What was created: the administrator's name and the site's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FirstCreated {
    pub username: String,
    pub site: String,
}

/// The first-run screen.
#[derive(Clone, Default)]
pub struct FirstRunState {
    pub site: Input,
    pub username: Input,
    pub email: Input,
    pub password: Input,
    pub repeat: Input,
    pub field: SetupField,
    /// The creation in flight.
    pub pending: Option<u64>,
    /// What is wrong, and with which field (None: the database's answer).
    pub error: Option<(Option<SetupField>, String)>,
}

impl fmt::Debug for FirstRunState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FirstRunState")
            .field("site", &self.site.value())
            .field("username", &self.username.value())
            .field("email", &self.email.value())
            .field("password", &"***")
            .field("repeat", &"***")
            .field("field", &self.field)
            .field("pending", &self.pending)
            .field("error", &self.error)
            .finish()
    }
}

impl FirstRunState {
    /// The input of `field`.
    pub fn input(&self, field: SetupField) -> &Input {
        match field {
            SetupField::Site => &self.site,
            SetupField::Username => &self.username,
            SetupField::Email => &self.email,
            SetupField::Password => &self.password,
            SetupField::Repeat => &self.repeat,
        }
    }

    /// The input of `field`, to change.
    pub fn input_mut(&mut self, field: SetupField) -> &mut Input {
        match field {
            SetupField::Site => &mut self.site,
            SetupField::Username => &mut self.username,
            SetupField::Email => &mut self.email,
            SetupField::Password => &mut self.password,
            SetupField::Repeat => &mut self.repeat,
        }
    }

    /// The first field whose value cannot be used, with what to do; None when all can.
    pub fn problem(&self) -> Option<(SetupField, String)> {
        let checks: [(SetupField, Result<(), String>); 4] = [
            (SetupField::Site, check_site_name(self.site.value().trim())),
            (
                SetupField::Username,
                check_username(self.username.value().trim()),
            ),
            (SetupField::Email, check_email(self.email.value().trim())),
            (
                SetupField::Password,
                crate::password::check_new(self.password.value()),
            ),
        ];
        if let Some((field, Err(message))) = checks.into_iter().find(|(_, r)| r.is_err()) {
            return Some((field, message));
        }
        (self.password.value() != self.repeat.value()).then(|| {
            (
                SetupField::Repeat,
                "the two passwords differ; type the same password again".to_string(),
            )
        })
    }
}

/// Handles an action on the first-run screen.
pub fn act(state: &mut State, action: Action, effects: &mut Vec<Effect>) {
    if state.help_open {
        match action {
            Action::Back | Action::Help => state.help_open = false,
            Action::Quit | Action::ForceQuit => quit(state, effects),
            _ => {}
        }
        return;
    }
    match action {
        Action::Help => state.help_open = true,
        Action::Back | Action::Quit | Action::ForceQuit => quit(state, effects),
        Action::NextField | Action::MoveDown => move_to(state, SetupField::next),
        Action::PrevField | Action::MoveUp => move_to(state, SetupField::prev),
        Action::Submit => submit(state, effects),
        _ => {}
    }
}

fn quit(state: &mut State, effects: &mut Vec<Effect>) {
    state.quit = true;
    effects.push(Effect::Quit);
}

fn move_to(state: &mut State, step: fn(SetupField) -> SetupField) {
    if let Some(form) = first_run_mut(state) {
        form.field = step(form.field);
    }
}

/// Enter: on any field but the last, the next field (as Tab); on the last, the values are
/// checked and, when all can be used, sent to be created.
fn submit(state: &mut State, effects: &mut Vec<Effect>) {
    let Some(form) = first_run_mut(state) else {
        return;
    };
    if form.pending.is_some() {
        return;
    }
    if form.field != SetupField::Repeat {
        form.field = form.field.next();
        return;
    }
    if let Some((field, message)) = form.problem() {
        form.field = field;
        form.error = Some((Some(field), message));
        return;
    }
    let setup = FirstSetup {
        site: form.site.value().trim().to_string(),
        username: form.username.value().trim().to_string(),
        email: form.email.value().trim().to_string(),
    };
    let password = Secret(form.password.value().to_string());
    form.error = None;
    let request_id = next_id(state);
    if let Some(form) = first_run_mut(state) {
        form.pending = Some(request_id);
    }
    effects.push(Effect::CreateFirst {
        request_id,
        setup,
        password,
    });
}

/// Applies the answer to creation `request_id`: the Login with the new name filled in (and the
/// new site remembered as theirs), or the reason on this screen with everything still typed.
pub fn done(state: &mut State, request_id: u64, result: Result<FirstCreated, String>) {
    let Some(form) = first_run_mut(state).filter(|f| f.pending == Some(request_id)) else {
        return;
    };
    form.pending = None;
    match result {
        Ok(created) => {
            state
                .picker
                .remembered
                .sites
                .insert(created.username.clone(), created.site.clone());
            state.pane = Pane::Login(LoginState::remembering(Some(&created.username)));
            state.notice = Some(format!(
                "created {} and site {}; now log in",
                created.username, created.site
            ));
        }
        Err(message) => form.error = Some((None, message)),
    }
}

/// Feeds a key to the focused field.
pub fn type_key(state: &mut State, key: KeyEvent) {
    let Some(request) = to_input_request(&TermEvent::Key(key)) else {
        return;
    };
    if let Some(form) = first_run_mut(state).filter(|f| f.pending.is_none()) {
        let field = form.field;
        if form
            .input_mut(field)
            .handle(request)
            .is_some_and(|c| c.value)
            && form.error.as_ref().is_some_and(|(f, _)| *f == Some(field))
        {
            form.error = None;
        }
    }
}

/// Pasted text, on one line, into the focused field.
pub fn paste(state: &mut State, text: &str) {
    let Some(form) = first_run_mut(state).filter(|f| f.pending.is_none()) else {
        return;
    };
    let pasted = text.replace("\r\n", " ").replace(['\n', '\r'], " ");
    let input = form.input_mut(form.field);
    let value = input.value();
    let at = value
        .char_indices()
        .nth(input.cursor())
        .map_or(value.len(), |(i, _)| i);
    let new = format!("{}{pasted}{}", &value[..at], &value[at..]);
    let cursor = input.cursor() + pasted.chars().count();
    *input = Input::new(new).with_cursor(cursor);
}

fn first_run_mut(state: &mut State) -> Option<&mut FirstRunState> {
    match &mut state.pane {
        Pane::FirstRun(form) => Some(form),
        _ => None,
    }
}

/// The first-run screen's commands.
pub const COMMANDS: &[Command] = &[
    Command::new(Mode::Setup, Action::NextField, &["tab", "down"]),
    Command::new(Mode::Setup, Action::PrevField, &["backtab", "up"]),
    Command::new(Mode::Setup, Action::Submit, &["enter"])
        .says("next field; on Repeat, create both"),
    Command::new(Mode::Setup, Action::Back, &["esc"]).says("quit (nothing is created)"),
    Command::new(Mode::Setup, Action::Help, &["f1"]),
    Command::new(Mode::Setup, Action::ForceQuit, &["ctrl-c"]),
];

/// The first-run screen's hint line.
pub const HINTS: &[Hint] = &[
    Hint::new(&[Action::NextField], "next field"),
    Hint::new(&[Action::Submit], "next / create"),
    Hint::new(&[Action::Help], "help"),
    Hint::new(&[Action::Back], "quit"),
];

#[cfg(test)]
pub(crate) mod tests;
