//! The connection's ups and downs, as `update` sees them: a lost connection shows on the status
//! line with the retry pause; when the database answers again, what failed meanwhile is done
//! again (the search on screen, the completion values) and the page cache is dropped, since
//! changes made meanwhile were not signalled. Nothing typed is ever touched: the query line,
//! the form and its draft stay as they are.

use std::time::Duration;

use super::state::{Connection, Screen, State};
use super::update::{Effect, changed_elsewhere, load_lookups, search_now};

/// A check of the connection failed.
pub fn lost(state: &mut State, attempt: u32, retry_in: Duration, message: String) {
    tracing::debug!("connection check {attempt} failed: {message}");
    state.connection = Connection::Lost { attempt, retry_in };
}

/// The database answers again after `after`: redo what the outage broke.
pub fn back(state: &mut State, after: Duration, effects: &mut Vec<Effect>) {
    let was_lost = matches!(state.connection, Connection::Lost { .. });
    state.connection = Connection::Connected;
    if was_lost {
        state.notice = Some(format!(
            "connection back after {}",
            crate::db::faults::show_duration(after)
        ));
    }
    resync(state, effects);
}

/// Changes may have been missed: forget cached pages and refresh what is on screen, running
/// again a search that failed.
pub fn resync(state: &mut State, effects: &mut Vec<Effect>) {
    state.cache.clear();
    if matches!(state.screen, Screen::Login | Screen::SitePicker) {
        return;
    }
    let failed = state.error.take().is_some();
    if state.lookups.is_none() && state.lookups_loading.is_none() {
        load_lookups(state, effects);
    }
    if state.in_flight.is_some() || state.search_due.is_some() {
        return;
    }
    if failed || state.results.is_none() {
        search_now(state, effects);
    } else {
        changed_elsewhere(state, state.session.site_id, effects);
    }
}

/// Save `request_id` may or may not have been stored: say so on the form until it is known.
pub fn save_uncertain(state: &mut State, request_id: u64, message: &str) {
    if let Some(form) = state.form.as_mut()
        && form
            .saving
            .as_ref()
            .is_some_and(|(id, _)| *id == request_id)
    {
        form.failure = Some(format!(
            "the connection was lost while saving ({message}); whether it was saved is checked \
             as soon as the database answers. Your text is kept."
        ));
    }
}
