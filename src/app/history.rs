//! The change history of the selected interaction, as the detail pane shows it: asked for when
//! the history is opened or the selection moves while it is open.

use super::state::State;
use super::update::{Effect, next_id};
use crate::domain::audit::AuditEntry;
use crate::domain::failure::Failure;

/// The change history of one interaction, as the detail pane shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct HistoryState {
    pub interaction_id: i32,
    /// The listing in flight.
    pub loading: Option<u64>,
    pub entries: Vec<AuditEntry>,
    pub error: Option<String>,
}

/// Loads the change history of the selected interaction, unless it is already there.
pub(super) fn load(state: &mut State, effects: &mut Vec<Effect>) {
    let Some(id) = state
        .finder
        .selected_hit()
        .map(|h| h.interaction.interaction_id)
    else {
        return;
    };
    if state
        .finder
        .history
        .as_ref()
        .is_some_and(|h| h.interaction_id == id && h.error.is_none())
    {
        return;
    }
    let request_id = next_id(state);
    state.finder.history = Some(HistoryState {
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

/// The answer to a history listing, when it is the one asked for last.
pub(super) fn loaded(state: &mut State, request_id: u64, result: Result<Vec<AuditEntry>, Failure>) {
    if let Some(h) = state.finder.history.as_mut()
        && h.loading.take_if(|id| *id == request_id).is_some()
    {
        match result {
            Ok(entries) => h.entries = entries,
            Err(message) => h.error = Some(message.to_string()),
        }
    }
}
