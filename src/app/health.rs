//! The Health screen (admins): the database's checks, loaded when it opens and again on its
//! key, with the page cache's own check added.

use super::action::Action;
use super::pane::Command;
use super::state::Mode;
use super::state::{Pane, State};
use super::update::{Effect, next_id};
use crate::domain::failure::Failure;
use crate::domain::health::Check;
use crate::domain::users::Role;

/// The Health screen: the checks, once loaded.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HealthState {
    pub checks: Vec<Check>,
    pub loading: Option<u64>,
    pub error: Option<String>,
}

/// The health checks, with the page cache's own check added.
pub(super) fn loaded(state: &mut State, request_id: u64, result: Result<Vec<Check>, Failure>) {
    let cache_check = state.finder.cache.check();
    if let Some(h) = state.health_mut()
        && h.loading.take_if(|id| *id == request_id).is_some()
    {
        match result {
            Ok(mut checks) => {
                checks.push(cache_check);
                h.checks = checks;
                h.error = None;
            }
            Err(message) => h.error = Some(message.to_string()),
        }
    }
}

/// `H` on the list: the database dashboard, for site admins and global administrators.
pub(super) fn open(state: &mut State, effects: &mut Vec<Effect>) {
    if state.session.role != Role::Admin {
        state.notice = Some(format!(
            "the health screen is for admins; you are {} at {}",
            state.session.role.with_article(),
            state.session.site
        ));
        return;
    }
    state.help_open = false;
    state.pane = Pane::Health(HealthState::default());
    load(state, effects);
}

/// Asks for the checks (again).
fn load(state: &mut State, effects: &mut Vec<Effect>) {
    let request_id = next_id(state);
    if let Some(h) = state.health_mut() {
        h.loading = Some(request_id);
    }
    effects.push(Effect::LoadHealth { request_id });
}

/// A key on the Health screen.
pub(super) fn act(state: &mut State, action: Action, effects: &mut Vec<Effect>) {
    match action {
        Action::Health if state.health().is_some_and(|h| h.loading.is_none()) => {
            load(state, effects);
        }
        Action::Back => {
            state.pane = Pane::Finder;
        }
        Action::Help => state.help_open = true,
        Action::Quit | Action::ForceQuit => {
            state.quit = true;
            effects.push(Effect::Quit);
        }
        _ => {}
    }
}

/// The Health screen's commands.
pub const COMMANDS: &[Command] = &[
    Command::new(Mode::Health, Action::Health, &["r", "H"]),
    Command::new(Mode::Health, Action::Back, &["esc"]),
    Command::new(Mode::Health, Action::Help, &["?", "f1"]),
    Command::new(Mode::Health, Action::Quit, &["q"]),
    Command::new(Mode::Health, Action::ForceQuit, &["ctrl-c"]),
];
