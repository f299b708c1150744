//! What each pane offers, declared by the pane itself next to the reducer that handles it: its
//! commands (an action, its default keys, and what it does there) and the items of its hint
//! line. The key map's defaults, the help overlay and the hint lines are all built from these
//! declarations (gitui's `Component::commands`), so adding a key to a pane is one line in that
//! pane's module.

use super::action::Action;
use super::state::{Mode, State};

/// One command of a pane: `action` on `keys` (by default) in `mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Command {
    pub mode: Mode,
    pub action: Action,
    /// The default keys, as config strings ("ctrl-s", "j", "pagedown").
    pub keys: &'static [&'static str],
    /// What it does here, where that says more than [`Action::description`].
    what: Option<&'static str>,
}

impl Command {
    /// `action` on `keys` in `mode`, described by [`Action::description`].
    pub const fn new(mode: Mode, action: Action, keys: &'static [&'static str]) -> Command {
        Command {
            mode,
            action,
            keys,
            what: None,
        }
    }

    /// The same command described as `what` in the help.
    pub const fn says(self, what: &'static str) -> Command {
        Command {
            what: Some(what),
            ..self
        }
    }

    /// What the help says it does.
    pub fn what(&self) -> &'static str {
        self.what.unwrap_or_else(|| self.action.description())
    }
}

/// One item of a pane's hint line: the first key of each of `actions` (joined by "/") and
/// what they do there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hint {
    pub actions: &'static [Action],
    pub what: &'static str,
}

impl Hint {
    pub const fn new(actions: &'static [Action], what: &'static str) -> Hint {
        Hint { actions, what }
    }
}

/// The help overlay's own commands (it is open over any pane).
const HELP: &[Command] = &[
    Command::new(Mode::Help, Action::MoveDown, &["j", "down"]),
    Command::new(Mode::Help, Action::MoveUp, &["k", "up"]),
    Command::new(Mode::Help, Action::Back, &["esc"]),
    Command::new(Mode::Help, Action::Help, &["?", "f1"]),
    Command::new(Mode::Help, Action::Quit, &["q"]),
    Command::new(Mode::Help, Action::ForceQuit, &["ctrl-c"]),
];

/// Every pane's commands, in the order the key map binds them.
pub fn all() -> impl Iterator<Item = &'static Command> {
    [
        super::first_run::COMMANDS,
        super::login::LOGIN_COMMANDS,
        super::login::PICKER_COMMANDS,
        super::finder::QUERY_COMMANDS,
        super::finder::LIST_COMMANDS,
        super::form::FORM_COMMANDS,
        super::form::FORM_TEXT_COMMANDS,
        super::trash::COMMANDS,
        super::health::COMMANDS,
        super::agenda::COMMANDS,
        super::agenda::QUERY_COMMANDS,
        super::form::CONFIRM_COMMANDS,
        super::form::CONFLICT_COMMANDS,
        HELP,
    ]
    .into_iter()
    .flatten()
}

/// The command of `action` in `mode`, if that mode offers it.
pub fn command(mode: Mode, action: Action) -> Option<&'static Command> {
    all().find(|c| c.mode == mode && c.action == action)
}

/// What `action` does in `mode`, as the help overlay says it.
pub fn what(mode: Mode, action: Action) -> &'static str {
    command(mode, action).map_or_else(|| action.description(), Command::what)
}

/// The items of the hint line of the pane in front, in `mode`.
pub fn hints(state: &State, mode: Mode) -> Vec<Hint> {
    match mode {
        Mode::Setup => super::first_run::HINTS.to_vec(),
        Mode::Login => super::login::LOGIN_HINTS.to_vec(),
        Mode::Picker => super::login::picker_hints(state),
        Mode::Form | Mode::FormText => super::form::FORM_HINTS.to_vec(),
        Mode::List => super::finder::LIST_HINTS.to_vec(),
        Mode::Agenda => super::agenda::HINTS.to_vec(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mode_offers_help_or_answers_and_a_way_out() {
        for mode in Mode::ALL {
            let offers = |action| command(mode, action).is_some();
            assert!(offers(Action::ForceQuit), "{mode:?} has no ctrl-c");
            assert!(offers(Action::Back), "{mode:?} has no way back");
            assert!(
                offers(Action::Help) || matches!(mode, Mode::Confirm | Mode::Conflict),
                "{mode:?} has no help"
            );
        }
    }

    #[test]
    fn no_mode_declares_an_action_twice_and_every_hint_is_a_command() {
        let mut seen = std::collections::HashSet::new();
        for c in all() {
            assert!(seen.insert((c.mode, c.action)), "{c:?} declared twice");
        }
        for (mode, hints) in [
            (Mode::Setup, super::super::first_run::HINTS),
            (Mode::Login, super::super::login::LOGIN_HINTS),
            (Mode::Form, super::super::form::FORM_HINTS),
        ] {
            for hint in hints {
                for action in hint.actions {
                    assert!(command(mode, *action).is_some(), "{mode:?} {action:?}");
                }
            }
        }
    }
}
