//! The Agenda as key sequences: `A` opens it with an upcoming-only search, typing filters it
//! through the same search, late answers are dropped, and Esc returns to the Finder as it was.

use chrono::{TimeZone, Utc};
use chrono_tz::Tz;
use crossterm::event::KeyCode;

use super::*;
use crate::app::state::{Mode, Screen};
use crate::app::test_support::{App, ch, code, hit, page, searches};
use crate::app::update::{Event, Msg};

/// The Finder with its list focused, at 23:30 UTC on 1 December 2026: already 2 December in the
/// display zone, Tokyo (UTC+9).
fn finder_in_tokyo() -> App {
    let mut app = App::loaded(5, false);
    app.state.settings.display_zone = Tz::Asia__Tokyo;
    app.press(code(KeyCode::Esc));
    let now = Utc.with_ymd_and_hms(2026, 12, 1, 23, 30, 0).single();
    app.update(Event::Msg(Msg::WallClock(now.unwrap_or_default())));
    app
}

fn tokyo_midnight() -> chrono::DateTime<Utc> {
    // Midnight starting 2 December in Tokyo is 15:00 UTC on 1 December.
    Utc.with_ymd_and_hms(2026, 12, 1, 15, 0, 0)
        .single()
        .unwrap_or_default()
}

#[test]
fn a_opens_the_agenda_with_an_upcoming_search_and_esc_returns_to_the_finder() {
    let mut app = finder_in_tokyo();
    let finder_query = app.state.finder.query.value().to_string();
    let finder_hits = app.state.finder.hits().len();
    let effects = app.press(ch('A'));
    assert_eq!(app.state.screen(), Screen::Agenda);
    assert_eq!(app.state.mode(), Mode::Agenda, "the list has the keys");
    let asked = searches(&effects);
    assert_eq!(asked.len(), 1, "{effects:?}");
    let (id, request) = asked[0].clone();
    assert_eq!(request.sort, Sort::Oldest, "soonest first");
    assert_eq!(request.query, "");
    assert_eq!(request.site_id, app.state.session.site_id, "the open site");
    assert_eq!(
        request.starts_from,
        Some(tokyo_midnight()),
        "from the start of today in the display zone"
    );
    app.done(id, page(0, 3, false));
    assert_eq!(app.state.agenda().map(|a| a.items.len()), Some(3));
    // Moving in the agenda moves the agenda's selection, not the Finder's.
    app.press(ch('j'));
    assert_eq!(app.state.agenda().map(|a| a.selected), Some(1));
    assert_eq!(app.state.finder.selected, 0);

    // Enter shows the selected interaction's detail; Esc closes it first.
    app.press(code(KeyCode::Enter));
    assert_eq!(app.state.agenda().map(|a| a.detail_open), Some(true));
    let screen = app.screen();
    assert!(
        screen.contains("Detail") && screen.contains("When"),
        "{screen}"
    );
    app.press(code(KeyCode::Esc));
    assert_eq!(app.state.screen(), Screen::Agenda);
    assert_eq!(app.state.agenda().map(|a| a.detail_open), Some(false));

    app.press(code(KeyCode::Esc));
    assert_eq!(app.state.screen(), Screen::Finder);
    assert_eq!(app.state.mode(), Mode::List);
    assert_eq!(app.state.finder.query.value(), finder_query);
    assert_eq!(
        app.state.finder.hits().len(),
        finder_hits,
        "the Finder as it was"
    );
}

#[test]
fn typing_filters_the_agenda_through_the_same_search_and_late_answers_are_dropped() {
    let mut app = finder_in_tokyo();
    let effects = app.press(ch('A'));
    let (first, _) = searches(&effects)[0].clone();
    app.press(ch('/'));
    assert_eq!(app.state.mode(), Mode::AgendaQuery);
    // `q` types in the query line instead of quitting.
    app.keys("budget type:meeting q");
    assert!(!app.state.quit);
    let effects = app.tick(2_000);
    let asked = searches(&effects);
    let Some((id, request)) = asked.last().cloned() else {
        panic!("a search for the typed query: {effects:?}");
    };
    assert_eq!(request.query, "budget type:meeting q");
    assert_eq!(request.starts_from, Some(tokyo_midnight()));
    assert_eq!(request.sort, Sort::Oldest);
    // The first search's answer comes late: dropped.
    app.done(first, page(0, 5, false));
    assert_eq!(app.state.agenda().map(|a| a.loaded), Some(false));
    let mut answer = page(0, 1, false);
    answer.hits = vec![hit(4)];
    app.done(id, answer);
    let agenda = app.state.agenda().expect("the agenda");
    assert_eq!(agenda.items.len(), 1);
    assert_eq!(agenda.items[0].interaction.interaction_id, 1004);
    // Esc leaves the query line for the list, then returns to the Finder; its query untouched.
    app.press(code(KeyCode::Esc));
    assert_eq!(app.state.mode(), Mode::Agenda);
    app.press(code(KeyCode::Esc));
    assert_eq!(app.state.screen(), Screen::Finder);
    assert_eq!(
        app.state.finder.query.value(),
        "",
        "the Finder's own query is untouched"
    );
}

#[test]
fn a_change_heard_in_the_agenda_searches_it_again_and_the_finder_on_the_way_back() {
    let mut app = finder_in_tokyo();
    let effects = app.press(ch('A'));
    let (id, _) = searches(&effects)[0].clone();
    app.done(id, page(0, 2, false));
    let site_id = app.state.session.site_id;
    let effects = app.update(Event::Msg(Msg::Changed { site_id }));
    let again = searches(&effects);
    assert_eq!(again.len(), 1, "{effects:?}");
    assert_eq!(
        again[0].1.starts_from,
        Some(tokyo_midnight()),
        "the agenda's own"
    );
    app.done(again[0].0, page(0, 2, false));
    let effects = app.press(code(KeyCode::Esc));
    let finder = searches(&effects);
    assert_eq!(finder.len(), 1, "the Finder is refreshed: {effects:?}");
    assert_eq!(finder[0].1.starts_from, None);
    // Without a change, returning searches nothing.
    app.press(ch('A'));
    let effects = app.press(code(KeyCode::Esc));
    assert!(searches(&effects).is_empty(), "{effects:?}");
}

#[test]
fn the_agenda_loads_the_next_page_near_the_end_and_help_lists_its_keys() {
    let mut app = finder_in_tokyo();
    let effects = app.press(ch('A'));
    let (id, _) = searches(&effects)[0].clone();
    let effects = app.done(id, page(0, 5, true));
    let more = searches(&effects);
    assert_eq!(more.len(), 1, "five items are near the end: {effects:?}");
    assert_eq!(more[0].1.after.as_deref(), Some("cursor-5"));
    assert_eq!(more[0].1.starts_from, Some(tokyo_midnight()));
    app.done(more[0].0, page(5, 3, false));
    assert_eq!(app.state.agenda().map(|a| a.items.len()), Some(8));
    app.press(ch('?'));
    let screen = app.screen();
    assert!(screen.contains("back to the Finder"), "{screen}");
    assert!(screen.contains("filter: type a query"), "{screen}");
}
