//! The terminal UI's logic: key -> [`action::Action`] (through [`keymap::KeyMap`]) ->
//! [`update::update`] changes the [`state::State`] and returns [`update::Effect`]s -> the
//! [`runner::Runner`] performs them on tokio tasks and answers with [`update::Msg`]s tagged with
//! their request id. Drawing (in `crate::ui`) only reads the state.

pub mod action;
pub mod keymap;
pub mod run;
pub mod runner;
pub mod search_types;
pub mod state;
pub mod update;

#[cfg(test)]
pub(crate) mod test_support;
