//! The connection's ups and downs, as `update` sees them: a lost connection shows on the status
//! line with the retry pause; when the database answers again, what failed meanwhile is done
//! again (the search on screen, the completion values) and the page cache is dropped, since
//! changes made meanwhile were not signalled. Nothing typed is ever touched: the query line,
//! the form and its draft stay as they are.

use std::time::{Duration, Instant};

use super::finder::{changed_elsewhere, search_now};
use super::state::{Connection, Screen, State};
use super::update::{Effect, load_lookups};

/// A check of the connection failed.
pub fn lost(state: &mut State, attempt: u32, retry_at: Instant, message: String) {
    tracing::debug!("connection check {attempt} failed: {message}");
    state.connection = Connection::Lost { attempt, retry_at };
}

/// The database answers again after `after`: redo what the outage broke.
pub fn back(state: &mut State, after: Duration, effects: &mut Vec<Effect>) {
    let was_lost = matches!(state.connection, Connection::Lost { .. });
    state.connection = Connection::Connected;
    if was_lost {
        state.notice = Some(format!(
            "connection back after {}",
            crate::domain::format::show_duration(after)
        ));
    }
    resync(state, effects);
}

/// Changes may have been missed: forget cached pages and refresh what is on screen, running
/// again a search that failed.
pub fn resync(state: &mut State, effects: &mut Vec<Effect>) {
    state.finder.cache.clear();
    if matches!(
        state.screen(),
        Screen::FirstRun | Screen::Login | Screen::SitePicker
    ) {
        return;
    }
    let failed = state.finder.error.take().is_some();
    if state.lookups.is_none() && state.lookups_loading.is_none() {
        load_lookups(state, effects);
    }
    if state.finder.in_flight.is_some() || state.finder.search_due.is_some() {
        return;
    }
    if failed || state.finder.results.is_none() {
        search_now(state, effects);
    } else {
        changed_elsewhere(state, state.session.site_id, effects);
    }
}

/// Save `request_id` may or may not have been stored: say so on the form until it is known.
pub fn save_uncertain(state: &mut State, request_id: u64, message: &str) {
    if let Some(form) = state.form_mut()
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::app::state::Connection;
    use crate::app::test_support::{App, only_search};
    use crate::app::update::{Effect, Event, Msg, update};

    fn msg(app: &mut App, msg: Msg) -> Vec<Effect> {
        update(&mut app.state, Event::Msg(msg))
    }

    #[test]
    fn a_failed_search_is_run_again_when_the_connection_is_back() {
        let mut app = App::loaded(3, false);
        app.keys("harbour");
        let (id, _) = only_search(&app.tick(1000));
        msg(
            &mut app,
            Msg::SearchFailed {
                request_id: id,
                message: "the connection was lost".into(),
            },
        );
        let retry_at = app.state.clock + Duration::from_millis(2500);
        let lost = Msg::ConnectionLost {
            attempt: 2,
            retry_at,
            message: "refused".into(),
        };
        assert!(
            msg(&mut app, lost).is_empty(),
            "a lost connection only shows"
        );
        assert_eq!(
            app.state.connection,
            Connection::Lost {
                attempt: 2,
                retry_at
            }
        );
        // The status line counts the retry down, a tick a second.
        let status = |app: &App| app.screen().lines().last().unwrap_or_default().to_string();
        assert!(
            status(&app).contains("retrying in 3 s (attempt 2)"),
            "{}",
            status(&app)
        );
        assert_eq!(
            app.state.next_deadline(),
            Some(app.state.clock + Duration::from_secs(1))
        );
        let later = app.state.clock + Duration::from_millis(1200);
        msg(&mut app, Msg::Tick(later));
        assert!(status(&app).contains("retrying in 2 s"), "{}", status(&app));
        // The query typed meanwhile could not run: the count on screen is the earlier one's.
        assert!(
            app.screen().contains("(stale: this query has not run)"),
            "{}",
            app.screen()
        );
        let effects = msg(
            &mut app,
            Msg::ConnectionBack {
                after: Duration::from_secs(3),
            },
        );
        let (_, request) = only_search(&effects);
        assert_eq!(
            request.query, "harbour",
            "the query typed meanwhile is kept"
        );
        assert_eq!(app.state.connection, Connection::Connected);
        assert_eq!(
            app.state.notice.as_deref(),
            Some("connection back after 3 s")
        );
        assert!(app.state.finder.error.is_none());
    }

    #[test]
    fn a_listener_that_lost_its_connection_asks_for_a_check_and_a_refresh_after() {
        let mut app = App::loaded(3, false);
        assert_eq!(
            msg(&mut app, Msg::LiveUpdatesLost),
            vec![Effect::CheckConnection]
        );
        let effects = msg(&mut app, Msg::LiveUpdatesBack);
        assert!(
            effects.iter().any(|e| matches!(e, Effect::Search { .. })),
            "changes may have been missed: the page is read again ({effects:?})"
        );
    }
}
