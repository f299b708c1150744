//! Key sequences driving `update` with an injected clock: no terminal, no sleeping.

use std::collections::BTreeMap;

use crossterm::event::{KeyCode, KeyModifiers};

use super::*;
use crate::app::search_types::Sort;
use crate::app::search_types::{SearchPage, SearchRequest};
use crate::app::state::Mode;
use crate::app::test_support::{App, ch, code, ctrl, only_search, page, searches};

#[test]
fn start_searches_the_site_at_once() {
    let mut app = App::new();
    let (_, request) = only_search(&start(&mut app.state));
    assert_eq!(request.site_id, 7);
    assert_eq!(request.query, "");
    assert_eq!(request.after, None);
    assert_eq!(request.limit, 50);
}

#[test]
fn keys_typed_while_no_search_runs_search_at_the_next_tick_once() {
    let mut app = App::loaded(3, false);
    app.tick(0);
    assert!(app.keys("meet").is_empty(), "typing alone never searches");
    let effects = app.tick(1);
    let (_, request) = only_search(&effects);
    assert_eq!(
        request.query, "meet",
        "the keys of one batch make one search"
    );
    assert!(app.tick(1000).is_empty(), "the due search fires once");
}

#[test]
fn the_runner_is_told_when_the_next_tick_is_needed() {
    let mut app = App::loaded(3, false);
    assert_eq!(app.state.next_deadline(), None, "idle: no timer");
    app.tick(10);
    app.keys("m");
    assert_eq!(app.state.next_deadline(), Some(app.at(10)), "idle: at once");
    only_search(&app.tick(11));
    app.keys("e");
    assert_eq!(
        app.state.next_deadline(),
        Some(app.at(131)),
        "a search runs: after the debounce"
    );
    app.tick(131);
    assert_eq!(app.state.next_deadline(), None);
}

#[test]
fn while_a_search_runs_each_keystroke_restarts_the_debounce() {
    let mut app = App::loaded(3, false);
    app.tick(0);
    app.keys("m");
    only_search(&app.tick(1));
    app.keys("e");
    app.tick(100);
    app.keys("et");
    assert!(
        app.tick(150).is_empty(),
        "120 ms after the first keys, but not after the last"
    );
    let effects = app.tick(221);
    assert_eq!(only_search(&effects).1.query, "meet");
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::CancelSearch { .. })),
        "the stale search is cancelled: {effects:?}"
    );
}

#[test]
fn a_new_search_cancels_the_one_in_flight() {
    let mut app = App::new();
    let (first, _) = only_search(&start(&mut app.state));
    app.tick(0);
    app.keys("m");
    let effects = app.tick(200);
    assert!(effects.contains(&Effect::CancelSearch { request_id: first }));
    assert_ne!(only_search(&effects).0, first);
}

#[test]
fn a_late_answer_for_an_old_request_is_dropped() {
    let mut app = App::new();
    let (old, _) = only_search(&start(&mut app.state));
    app.tick(0);
    app.keys("meet");
    let (new, _) = only_search(&app.tick(200));
    app.done(old, page(0, 5, false));
    assert!(
        app.state.finder.results.is_none(),
        "the old answer was dropped"
    );
    app.done(new, page(0, 2, false));
    let results = app
        .state
        .finder
        .results
        .as_ref()
        .map(|r| (r.query.clone(), r.hits.len()));
    assert_eq!(results, Some(("meet".to_string(), 2)));
    // A second copy of an answer already taken is dropped too.
    app.done(new, page(0, 9, false));
    assert_eq!(app.state.finder.hits().len(), 2);
}

#[test]
fn a_failure_for_an_old_request_is_dropped_and_a_current_one_shown() {
    let mut app = App::new();
    let (old, _) = only_search(&start(&mut app.state));
    app.tick(0);
    app.keys("x");
    let (new, _) = only_search(&app.tick(200));
    let fail = |id| {
        Event::Msg(Msg::SearchFailed {
            request_id: id,
            message: "the database is unreachable".into(),
        })
    };
    app.update(fail(old));
    assert_eq!(app.state.finder.error, None);
    app.update(fail(new));
    assert_eq!(
        app.state.finder.error.as_deref(),
        Some("the database is unreachable")
    );
    assert_eq!(app.state.connection, Connection::Failing);
}

#[test]
fn results_keep_the_query_they_answer_even_if_typing_went_on() {
    let mut app = App::new();
    start(&mut app.state);
    app.tick(0);
    app.keys("me");
    let (id, _) = only_search(&app.tick(200));
    app.keys("et");
    app.done(id, page(0, 2, false));
    assert_eq!(
        app.state.finder.results.as_ref().map(|r| r.query.as_str()),
        Some("me")
    );
}

#[test]
fn vim_keys_and_arrows_move_the_selection() {
    let mut app = App::loaded(5, false);
    app.press(code(KeyCode::Esc));
    assert_eq!(app.state.mode(), Mode::List);
    app.keys("jj");
    assert_eq!(app.state.finder.selected, 2);
    app.press(code(KeyCode::Down));
    assert_eq!(app.state.finder.selected, 3);
    app.press(ch('k'));
    app.press(code(KeyCode::Up));
    assert_eq!(app.state.finder.selected, 1);
    app.press(ch('G'));
    assert_eq!(app.state.finder.selected, 4);
    app.keys("jjj");
    assert_eq!(app.state.finder.selected, 4, "stops at the last row");
    app.press(ch('g'));
    assert_eq!(app.state.finder.selected, 0);
    app.press(ch('k'));
    assert_eq!(app.state.finder.selected, 0, "stops at the first row");
}

#[test]
fn arrows_move_from_the_query_line_and_letters_type() {
    let mut app = App::loaded(5, false);
    app.press(code(KeyCode::Down));
    app.press(ctrl('n'));
    assert_eq!(app.state.finder.selected, 2);
    app.keys("jk");
    assert_eq!(app.state.finder.query.value(), "jk");
    assert_eq!(app.state.finder.selected, 2);
}

#[test]
fn esc_backs_out_one_level_at_a_time() {
    let mut app = App::loaded(5, false);
    app.press(code(KeyCode::Enter));
    assert!(app.state.finder.detail_open);
    assert_eq!(
        app.state.mode(),
        Mode::List,
        "opening moves the focus to the list"
    );
    app.press(ch('?'));
    assert_eq!(app.state.mode(), Mode::Help);
    app.press(code(KeyCode::Esc));
    assert_eq!(app.state.mode(), Mode::List, "esc closes the help first");
    assert!(app.state.finder.detail_open);
    app.press(ch('/'));
    assert_eq!(app.state.mode(), Mode::Query);
    app.press(code(KeyCode::Esc));
    assert_eq!(app.state.mode(), Mode::List, "then leaves the query line");
    assert!(app.state.finder.detail_open);
    app.press(code(KeyCode::Esc));
    assert!(!app.state.finder.detail_open, "then closes the detail");
    assert!(!app.state.quit);
}

#[test]
fn q_quits_outside_text_fields_and_types_inside() {
    let mut app = App::loaded(2, false);
    assert_eq!(app.state.mode(), Mode::Query);
    assert!(app.press(ch('q')).is_empty());
    assert_eq!(app.state.finder.query.value(), "q");
    assert!(!app.state.quit);
    app.press(code(KeyCode::Esc));
    assert_eq!(app.press(ch('q')), vec![Effect::Quit]);
    assert!(app.state.quit);
}

#[test]
fn ctrl_c_always_quits() {
    for setup in ["", "esc", "esc ?"] {
        let mut app = App::loaded(2, false);
        for step in setup.split_whitespace() {
            match step {
                "esc" => app.press(code(KeyCode::Esc)),
                _ => app.keys(step),
            };
        }
        assert_eq!(app.press(ctrl('c')), vec![Effect::Quit], "after {setup:?}");
        assert!(app.state.quit);
    }
}

#[test]
fn help_rows_and_keys_follow_an_overridden_binding() {
    let overrides = BTreeMap::from([("quit".to_string(), vec!["ctrl-q".to_string()])]);
    let keymap = KeyMap::with_overrides(&overrides).unwrap_or_default();
    let rows = keymap.help_rows(Mode::List);
    assert!(
        rows.contains(&("ctrl-q".to_string(), "quit".to_string())),
        "{rows:?}"
    );
    assert!(!rows.iter().any(|(k, _)| k == "q"));
    let mut app = App::loaded(2, false);
    app.keymap = keymap;
    app.press(code(KeyCode::Esc));
    assert!(app.press(ch('q')).is_empty(), "q is no longer bound");
    assert_eq!(app.press(ctrl('q')), vec![Effect::Quit]);
}

/// Presses `j` until a search goes out; returns it and how many presses it took.
fn down_until_a_search(app: &mut App) -> ((u64, SearchRequest), usize) {
    for n in 1..=200 {
        let found = searches(&app.press(ch('j')));
        if let Some(first) = found.first() {
            assert_eq!(found.len(), 1, "one search at a time");
            return (first.clone(), n);
        }
    }
    panic!("no search after 200 presses of j");
}

#[test]
fn scrolling_near_the_end_loads_the_next_page_of_the_same_query() {
    let mut app = App::loaded(50, true);
    app.press(code(KeyCode::Esc));
    let effects = app.keys("jjj");
    assert!(searches(&effects).is_empty(), "far from the end");
    let ((id, request), _) = down_until_a_search(&mut app);
    assert_eq!(request.after.as_deref(), Some("cursor-50"));
    assert!(!request.from_end);
    assert_eq!(request.query, "");
    assert!(
        searches(&app.press(ch('j'))).is_empty(),
        "one next page at a time"
    );
    let selected = app.state.finder.selected;
    app.done(id, page(50, 50, false));
    assert_eq!(app.state.finder.hits().len(), 100);
    assert_eq!(
        app.state.finder.selected, selected,
        "the selection stays put"
    );
    assert!(searches(&app.press(ch('G'))).is_empty(), "no more pages");
    assert_eq!(app.state.finder.selected, 99, "G: the last of every row");
}

#[test]
fn a_next_page_of_an_older_query_is_never_appended() {
    let mut app = App::loaded(50, true);
    app.press(code(KeyCode::Esc));
    let ((more, _), _) = down_until_a_search(&mut app);
    app.press(ch('/'));
    app.tick(0);
    app.keys("x");
    let effects = app.tick(200);
    assert!(effects.contains(&Effect::CancelSearch { request_id: more }));
    app.done(more, page(50, 50, false));
    assert_eq!(app.state.finder.hits().len(), 50);
}

/// `n` hits from `from` read from the end: last first, continuing at `cursor`.
fn backwards(from: usize, n: usize, cursor: Option<&str>) -> SearchPage {
    let mut p = page(from, n, false);
    p.hits.reverse();
    p.count = None;
    p.next_cursor = cursor.map(str::to_string);
    p
}

#[test]
fn big_g_reads_the_last_page_from_the_end_and_g_returns_to_the_first() {
    let mut app = App::loaded(50, true);
    app.press(code(KeyCode::Esc));
    let first_id = app.state.finder.hits()[0].interaction.interaction_id;
    // G: one search for the last page, read from the end; not the 19 pages in between.
    let (id, request) = only_search(&app.press(ch('G')));
    assert!(request.from_end);
    assert_eq!((request.after, request.query.as_str()), (None, ""));
    assert!(app.screen().contains("reading the last results"));
    assert!(searches(&app.press(ch('G'))).is_empty(), "one at a time");
    app.done(id, backwards(950, 50, Some("back-950")));
    let hits = app.state.finder.hits();
    assert_eq!(hits.len(), 50);
    assert_eq!(
        hits[0].interaction.interaction_id,
        page(950, 1, false).hits[0].interaction.interaction_id
    );
    assert_eq!(app.state.finder.selected, 49, "the last result is selected");
    assert!(
        app.screen().contains("the last 50 (g: the first)"),
        "{}",
        app.screen()
    );
    // Up towards the start of the loaded end: the page before it, put in front, the
    // selection staying on its row.
    let mut asked = None;
    for _ in 0..49 {
        if let Some(found) = searches(&app.press(ch('k'))).first() {
            asked = Some(found.clone());
            break;
        }
    }
    let (id, request) = asked.expect("the page before the loaded end");
    assert!(request.from_end);
    assert_eq!(request.after.as_deref(), Some("back-950"));
    let selected_row = app
        .state
        .finder
        .selected_hit()
        .map(|h| h.interaction.interaction_id);
    app.done(id, backwards(900, 50, Some("back-900")));
    assert_eq!(app.state.finder.hits().len(), 100);
    assert_eq!(
        app.state
            .finder
            .selected_hit()
            .map(|h| h.interaction.interaction_id),
        selected_row
    );
    // g: the first page again (from the cache), the first result selected.
    app.press(ch('g'));
    assert_eq!(app.state.finder.selected, 0);
    assert_eq!(
        app.state.finder.hits()[0].interaction.interaction_id,
        first_id
    );
    assert!(
        app.state
            .finder
            .results
            .as_ref()
            .is_some_and(|r| r.earlier_cursor.is_none())
    );
}

#[test]
fn cycling_the_sort_searches_at_once() {
    let mut app = App::loaded(2, false);
    let (_, request) = only_search(&app.press(ctrl('o')));
    assert_eq!(request.sort, Sort::Newest);
    app.press(code(KeyCode::Esc));
    let (_, request) = only_search(&app.press(ch('o')));
    assert_eq!(request.sort, Sort::Oldest);
}

#[test]
fn copy_puts_the_selected_interaction_on_the_clipboard() {
    let mut app = App::loaded(2, false);
    app.press(code(KeyCode::Esc));
    let effects = app.press(ch('y'));
    match effects.as_slice() {
        [Effect::CopyToClipboard(text)] => {
            assert!(text.starts_with("Quarterly review meeting"), "{text}");
            assert!(text.contains("Lead: Ana Souza"));
        }
        other => panic!("expected one copy, got {other:?}"),
    }
}

#[test]
fn page_down_moves_by_a_screen_and_the_offset_follows() {
    let mut app = App::loaded(40, false);
    app.update(Event::Msg(Msg::Resize {
        width: 80,
        height: 24,
    }));
    app.press(code(KeyCode::Esc));
    // 80x24: the query line, the info line and the status line leave 21 rows, two per result.
    let capacity = 10;
    assert_eq!(app.state.drawn.list_capacity(), capacity);
    app.press(code(KeyCode::PageDown));
    assert_eq!(app.state.finder.selected, capacity);
    assert!(app.state.finder.offset <= app.state.finder.selected);
    assert!(app.state.finder.selected < app.state.finder.offset + capacity);
}

#[test]
fn the_wheel_moves_and_clicks_select_then_open() {
    use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
    let mut app = App::loaded(10, false);
    let mouse = |kind, column, row| MouseEvent {
        kind,
        column,
        row,
        modifiers: KeyModifiers::NONE,
    };
    let wheel = mouse_event(&app.state, mouse(MouseEventKind::ScrollDown, 5, 5));
    assert!(matches!(wheel, Some(Event::Action(Action::MoveDown))));
    app.update(wheel.unwrap_or(Event::Action(Action::Top)));
    assert_eq!(app.state.finder.selected, 1);
    // Rows 0 and 1 are the query and info lines; hit n starts at row 2 + 2n.
    let click = |app: &mut App, row| {
        let event = mouse_event(
            &app.state,
            mouse(MouseEventKind::Down(MouseButton::Left), 10, row),
        );
        app.update(event.unwrap_or(Event::Action(Action::Top)))
    };
    click(&mut app, 7);
    assert_eq!(
        (app.state.finder.selected, app.state.mode()),
        (2, Mode::List)
    );
    assert!(!app.state.finder.detail_open);
    click(&mut app, 6);
    assert!(
        app.state.finder.detail_open,
        "a click on the selected row opens it"
    );
    click(&mut app, 0);
    assert_eq!(app.state.mode(), Mode::Query);
    let moved = mouse_event(&app.state, mouse(MouseEventKind::Moved, 1, 1));
    assert!(moved.is_none());
    // At 80x24 the open detail sits below the list: the wheel there scrolls the detail.
    let wheel = mouse_event(&app.state, mouse(MouseEventKind::ScrollDown, 5, 20));
    assert!(matches!(wheel, Some(Event::Action(Action::DetailDown))));
}

#[test]
fn the_detail_scrolls_and_starts_at_the_top_for_each_selection() {
    let mut app = App::loaded(10, false);
    app.press(code(KeyCode::Esc));
    app.press(code(KeyCode::Enter));
    for _ in 0..3 {
        app.press(ch('J'));
    }
    assert_eq!(app.state.finder.detail_scroll, 3);
    app.press(ch('K'));
    assert_eq!(app.state.finder.detail_scroll, 2);
    for _ in 0..500 {
        app.press(ch('J'));
    }
    let overflow = app
        .state
        .drawn
        .detail_overflow
        .map_or(0, |(_, lines)| lines);
    assert!(
        overflow > 0,
        "at 80x24 the detail does not fit below the list"
    );
    assert_eq!(
        app.state.finder.detail_scroll, overflow,
        "stops where the last line of the text, as drawn, is on screen"
    );
    app.press(ch('j'));
    assert_eq!(
        app.state.finder.detail_scroll, 0,
        "a new selection starts at the top"
    );
}

/// The requests a first page is followed by: its month histogram and its count.
#[derive(Clone, Copy)]
enum FollowUp {
    Histogram,
    Count,
}

/// The request id and request of each `kind` effect, in order.
fn follow_ups(effects: &[Effect], kind: FollowUp) -> Vec<(u64, SearchRequest)> {
    effects
        .iter()
        .filter_map(|e| match (kind, e) {
            (
                FollowUp::Histogram,
                Effect::Histogram {
                    request_id,
                    request,
                    ..
                },
            )
            | (
                FollowUp::Count,
                Effect::Count {
                    request_id,
                    request,
                },
            ) => Some((*request_id, request.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn each_first_page_is_followed_by_its_month_histogram() {
    use chrono::NaiveDate;
    let mut app = App::new();
    let (id, _) = only_search(&start(&mut app.state));
    let effects = app.done(id, page(0, 5, true));
    let asked = follow_ups(&effects, FollowUp::Histogram);
    assert_eq!(asked.len(), 1, "{effects:?}");
    let (hid, request) = asked[0].clone();
    assert_eq!((request.query.as_str(), request.site_id), ("", 7));
    let months = vec![crate::domain::histogram::MonthCount {
        month: NaiveDate::from_ymd_opt(2026, 10, 1).unwrap_or_default(),
        count: 5,
    }];
    app.update(Event::Msg(Msg::HistogramDone {
        request_id: hid,
        months: Some(months.clone()),
    }));
    assert_eq!(
        app.state
            .finder
            .histogram
            .as_ref()
            .map(|h| h.months.clone()),
        Some(months)
    );
}

#[test]
fn a_new_query_cancels_the_histogram_and_drops_its_late_answer() {
    let mut app = App::new();
    let (id, _) = only_search(&start(&mut app.state));
    let (hid, _) = follow_ups(&app.done(id, page(0, 5, true)), FollowUp::Histogram)[0].clone();
    app.tick(0);
    app.keys("m");
    let effects = app.tick(500);
    assert!(
        effects.contains(&Effect::CancelSearch { request_id: hid }),
        "{effects:?}"
    );
    app.update(Event::Msg(Msg::HistogramDone {
        request_id: hid,
        months: Some(Vec::new()),
    }));
    assert_eq!(app.state.finder.histogram, None);
}

#[test]
fn near_matches_get_no_histogram() {
    let mut app = App::new();
    let (id, _) = only_search(&start(&mut app.state));
    let mut near = page(0, 2, false);
    near.fuzzy = true;
    assert!(follow_ups(&app.done(id, near), FollowUp::Histogram).is_empty());
}

fn history_requests(effects: &[Effect]) -> Vec<(u64, i32)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::LoadHistory {
                request_id,
                interaction_id,
                ..
            } => Some((*request_id, *interaction_id)),
            _ => None,
        })
        .collect()
}

#[test]
fn h_shows_the_history_of_the_selected_interaction_and_follows_the_selection() {
    let mut app = App::loaded(5, false);
    app.press(code(KeyCode::Esc));
    let asked = history_requests(&app.press(ch('h')));
    assert_eq!(asked.len(), 1);
    assert!(app.state.finder.detail_open && app.state.finder.history_open);
    let first = app.state.finder.hits()[0].interaction.interaction_id;
    assert_eq!(asked[0].1, first);
    let moved = history_requests(&app.press(ch('j')));
    let second = app.state.finder.hits()[1].interaction.interaction_id;
    assert_eq!(moved.iter().map(|m| m.1).collect::<Vec<_>>(), vec![second]);
    // The answer for the first selection comes late: dropped.
    app.update(Event::Msg(Msg::HistoryLoaded {
        request_id: asked[0].0,
        result: Ok(Vec::new()),
    }));
    let h = app.state.finder.history.as_ref().expect("history");
    assert_eq!((h.interaction_id, h.loading), (second, Some(moved[0].0)));
    app.update(Event::Msg(Msg::HistoryLoaded {
        request_id: moved[0].0,
        result: Err("the history could not be read".into()),
    }));
    assert!(
        app.state
            .finder
            .history
            .as_ref()
            .is_some_and(|h| h.error.is_some())
    );
    app.press(ch('h'));
    assert!(!app.state.finder.history_open);
    assert!(
        history_requests(&app.press(ch('k'))).is_empty(),
        "closed: nothing loads"
    );
}

#[test]
fn a_change_elsewhere_refreshes_the_results_and_keeps_the_selection() {
    let mut app = App::loaded(5, false);
    app.press(code(KeyCode::Esc));
    app.press(ch('j'));
    app.press(ch('j'));
    let kept = app.state.finder.hits()[2].interaction.interaction_id;
    assert!(
        app.update(Event::Msg(Msg::Changed { site_id: 99 }))
            .is_empty(),
        "another site's change is not ours"
    );
    let effects = app.update(Event::Msg(Msg::Changed { site_id: 7 }));
    let (id, request) = only_search(&effects);
    assert_eq!(request.query, "");
    // The refreshed page has a new row on top: the same interaction stays selected.
    let mut fresh = page(0, 5, false);
    fresh.hits.insert(0, crate::app::test_support::hit(40));
    app.done(id, fresh);
    assert_eq!(
        app.state
            .finder
            .selected_hit()
            .map(|h| h.interaction.interaction_id),
        Some(kept)
    );
    assert_eq!(app.state.finder.selected, 3);
}

#[test]
fn a_change_while_a_search_is_coming_waits_for_it() {
    let mut app = App::loaded(5, false);
    app.tick(0);
    app.keys("m");
    assert!(
        app.update(Event::Msg(Msg::Changed { site_id: 7 }))
            .is_empty()
    );
}

#[test]
fn a_query_seen_since_the_last_change_comes_back_from_the_cache() {
    let mut app = App::loaded(5, false);
    app.tick(0);
    app.keys("m");
    let (id, request) = only_search(&app.tick(500));
    assert_eq!(request.query, "m");
    app.done(id, page(0, 2, false));
    // Backspace: the empty query's page is cached from the start.
    app.press(code(KeyCode::Backspace));
    let effects = app.tick(1000);
    assert!(searches(&effects).is_empty(), "no query: {effects:?}");
    let results = app.state.finder.results.as_ref().expect("results");
    assert!(results.cached);
    assert_eq!((results.query.as_str(), results.hits.len()), ("", 5));
    assert_eq!(
        (app.state.finder.cache.hits, app.state.finder.cache.misses),
        (1, 2)
    );

    // A change on the site (anyone's) makes the next look a real query again.
    app.press(code(KeyCode::Esc));
    let (id, _) = only_search(&app.update(Event::Msg(Msg::Changed { site_id: 7 })));
    app.done(id, page(0, 6, false));
    assert!(
        app.state
            .finder
            .results
            .as_ref()
            .is_some_and(|r| !r.cached && r.hits.len() == 6)
    );
    app.press(ch('/'));
    app.keys("m");
    let effects = app.tick(2000);
    assert_eq!(
        searches(&effects).len(),
        1,
        "\"m\" was dropped with the change"
    );
}

#[test]
fn the_first_page_goes_without_its_count_and_the_count_follows() {
    let mut app = App::new();
    let (id, request) = only_search(&start(&mut app.state));
    assert!(
        request.count_if_free,
        "the page is not held up by counting: it brings only a count that costs nothing"
    );
    let mut first = page(0, 5, true);
    first.count = None;
    let asked = follow_ups(&app.done(id, first), FollowUp::Count);
    assert_eq!(asked.len(), 1);
    let (cid, count_request) = asked[0].clone();
    assert_eq!(count_request.count_cap, app.state.settings.count_cap);
    assert_eq!(
        app.state.finder.results.as_ref().and_then(|r| r.count),
        None,
        "shown as counting until the answer comes"
    );
    app.update(Event::Msg(Msg::Counted {
        request_id: cid,
        result: Ok(MatchCount::AtLeast(1000)),
    }));
    assert_eq!(
        app.state.finder.results.as_ref().and_then(|r| r.count),
        Some(MatchCount::AtLeast(1000))
    );

    // A last page carries its own count: nothing more is asked.
    let mut app = App::new();
    let (id, _) = only_search(&start(&mut app.state));
    assert!(follow_ups(&app.done(id, page(0, 5, false)), FollowUp::Count).is_empty());
}

#[test]
fn a_late_count_of_an_older_query_is_dropped() {
    let mut app = App::new();
    let (id, _) = only_search(&start(&mut app.state));
    let mut first = page(0, 5, true);
    first.count = None;
    let (cid, _) = follow_ups(&app.done(id, first), FollowUp::Count)[0].clone();
    app.tick(0);
    app.keys("m");
    let effects = app.tick(500);
    assert!(
        effects.contains(&Effect::CancelSearch { request_id: cid }),
        "{effects:?}"
    );
    app.update(Event::Msg(Msg::Counted {
        request_id: cid,
        result: Ok(MatchCount::Exact(3)),
    }));
    assert_ne!(
        app.state.finder.results.as_ref().and_then(|r| r.count),
        Some(MatchCount::Exact(3))
    );
}

#[test]
fn the_clipboard_text_shows_control_and_bidi_characters_escaped() {
    let mut i = crate::app::test_support::hit(0).interaction;
    i.title = "Pay \u{1b}]52;c;ZXZpbA==\u{7}now".into();
    i.lead = "\u{202e}gnp.exe".into();
    i.description = Some("line one\n\tline two\u{9b}2J".into());
    i.notes = Some("a\u{2066}b".into());
    let text = as_text(&i);
    assert!(
        !text
            .chars()
            .any(|c| crate::domain::format::is_unsafe_char(c) && !matches!(c, '\n' | '\t')),
        "{text:?}"
    );
    assert!(
        text.starts_with("Pay \\u{1b}]52;c;ZXZpbA==\\u{7}now\n"),
        "{text}"
    );
    assert!(text.contains("Lead: \\u{202e}gnp.exe\n"), "{text}");
    assert!(text.contains("line one\n\tline two\\u{9b}2J"), "{text}");
    assert!(text.contains("a\\u{2066}b"), "{text}");
}

#[test]
fn a_shortened_last_word_is_announced_in_the_header() {
    let mut app = App::new();
    let (id, _) = only_search(&start(&mut app.state));
    let mut first = page(0, 5, false);
    first.approximate = true;
    first.highlight = vec!["budgte".into()];
    first.similar = vec!["budget".into()];
    app.done(id, first);
    let screen = app.screen();
    assert!(
        screen.contains("≈ no match for budgte; showing similar: budget · 5 matches"),
        "{screen}"
    );
}

#[test]
fn a_taller_screen_after_a_resize_fills_the_list_instead_of_leaving_blank_rows() {
    let mut app = App::loaded(30, false);
    app.update(Event::Msg(Msg::Resize {
        width: 60,
        height: 20,
    }));
    app.press(code(KeyCode::Esc));
    app.press(ch('G'));
    assert_eq!(app.state.finder.selected, 29);
    app.update(Event::Msg(Msg::Resize {
        width: 40,
        height: 10,
    }));
    app.update(Event::Msg(Msg::Resize {
        width: 60,
        height: 20,
    }));
    let capacity = app.state.drawn.list_capacity();
    assert!(capacity > 2);
    assert_eq!(
        app.state.finder.offset,
        30 - capacity,
        "the last rows fill the screen"
    );
    assert_eq!(app.state.finder.selected, 29);
}
