//! The terminal UI's logic: key -> [`action::Action`] (through [`keymap::KeyMap`]) ->
//! [`update::update`] changes the [`state::State`] and returns [`update::Effect`]s -> the
//! [`runner::Runner`] performs them on tokio tasks and answers with [`update::Msg`]s tagged with
//! their request id. Drawing (in `crate::ui`) only reads the state and hands back its layout.
//! `crate::tui::run` owns the terminal and ties these together; nothing in `app` draws.
//!
//! Adding a screen (login, site picker, form, full detail):
//! 1. a variant of [`state::Pane`] that owns its state (a module of its own with the state and
//!    its reducer, like `trash.rs` or `health.rs`), and of [`state::Screen`];
//! 2. a [`state::Mode`] per way keys behave on it (text modes type printable keys), and the
//!    pane's commands in its module ([`pane::Command`]: action, default keys, what it does
//!    there; listed in [`pane::all`]) and hint line ([`pane::Hint`]), so the key map, the help
//!    and overrides cover it at once;
//! 3. new intents in [`action::Action`] (with a config name and a help line), handled by the
//!    pane's reducer, dispatched from `update.rs`; I/O as new [`update::Effect`]s answered by new
//!    [`update::Msg`]s that carry a request id, checked like `in_flight` before they are applied;
//! 4. a pane file under `src/ui/` drawn from `ui::draw`, and snapshots at 80x24 and 60x20.

pub mod action;
pub mod agenda;
pub mod cache;
pub mod db_backend;
pub mod drafts;
pub mod files;
pub mod finder;
pub mod first_run;
pub mod form;
pub mod health;
pub mod history;
pub mod keymap;
pub mod link;
pub mod live;
pub mod login;
pub mod pane;
pub mod remember;
pub mod runner;
pub mod search_types;
pub mod state;
pub mod trash;
pub mod update;

#[cfg(test)]
pub(crate) mod test_support;
