//! Snapshots of the Finder on a fixed fake page, at the sizes the design promises, through
//! ratatui's `TestBackend`. No terminal, no database.

use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::*;
use crate::app::state::Settings;
use crate::app::test_support::{page, session};
use crate::app::update::{Event, Msg, key_event, start, update};

/// The Finder after typing "meet type:meeting" and getting the fixed page back.
fn finder(width: u16, height: u16) -> State {
    let t0 = Instant::now();
    let mut state = State::new(session(), Settings::default(), t0);
    update(&mut state, Event::Msg(Msg::Resize { width, height }));
    start(&mut state);
    let keymap = KeyMap::defaults();
    for c in "meet type:meeting".chars() {
        let key = KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
        if let Some(event) = key_event(&keymap, &state, key) {
            update(&mut state, event);
        }
    }
    update(
        &mut state,
        Event::Msg(Msg::Tick(t0 + Duration::from_secs(1))),
    );
    let request_id = state.finder.in_flight.as_ref().map_or(0, |f| f.request_id);
    let mut result = page(0, 50, true);
    // The parser's own note on a bad filter.
    result.ignored = crate::domain::query::parse("from:yesterday").ignored;
    update(
        &mut state,
        Event::Msg(Msg::SearchDone {
            request_id,
            result,
            elapsed: Duration::from_micros(3200),
        }),
    );
    settle(&mut state);
    state
}

fn render(state: &State, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    let theme = Theme::new(ThemeName::Dark, false);
    terminal
        .draw(|frame| {
            draw(frame, state, &KeyMap::defaults(), &theme);
        })
        .unwrap();
    terminal
}

fn press(state: &mut State, code: KeyCode) {
    if let Some(event) = key_event(
        &KeyMap::defaults(),
        state,
        KeyEvent::new(code, KeyModifiers::NONE),
    ) {
        update(state, event);
        settle(state);
    }
}

/// Draws a frame at the state's size and hands its layout to `update`, as the terminal loop
/// does after each batch of events.
fn settle(state: &mut State) {
    let (width, height) = state.size;
    let mut drawn = crate::app::state::Drawn::default();
    let theme = Theme::new(ThemeName::Dark, false);
    Terminal::new(TestBackend::new(width, height))
        .unwrap()
        .draw(|frame| drawn = draw(frame, state, &KeyMap::defaults(), &theme))
        .unwrap();
    update(state, Event::Msg(Msg::Drawn(drawn)));
}

#[test]
fn finder_80x24_with_the_detail_below() {
    let mut state = finder(80, 24);
    press(&mut state, KeyCode::Down);
    press(&mut state, KeyCode::Enter);
    insta::assert_snapshot!(render(&state, 80, 24).backend());
}

#[test]
fn finder_120x40_with_the_detail_beside() {
    let mut state = finder(120, 40);
    press(&mut state, KeyCode::Enter);
    insta::assert_snapshot!(render(&state, 120, 40).backend());
}

#[test]
fn finder_60x20_list_only() {
    let mut state = finder(60, 20);
    press(&mut state, KeyCode::Esc);
    for _ in 0..12 {
        press(&mut state, KeyCode::Char('j'));
    }
    insta::assert_snapshot!(render(&state, 60, 20).backend());
}

#[test]
fn finder_near_matches_are_marked() {
    let mut state = finder(80, 24);
    if let Some(results) = state.finder.results.as_mut() {
        results.fuzzy = true;
        results.highlight = vec!["budgte".to_string()];
        results.similar = vec!["budget".to_string()];
        results.hits.truncate(3);
        results.next_cursor = None;
        results.count = None;
        results.ignored.clear();
    }
    insta::assert_snapshot!(render(&state, 80, 24).backend());
}

#[test]
fn help_overlay_80x24() {
    let mut state = finder(80, 24);
    press(&mut state, KeyCode::Esc);
    press(&mut state, KeyCode::Char('?'));
    insta::assert_snapshot!(render(&state, 80, 24).backend());
}

#[test]
fn help_overlay_60x20_scrolls() {
    let mut state = finder(60, 20);
    press(&mut state, KeyCode::Esc);
    press(&mut state, KeyCode::Char('?'));
    insta::assert_snapshot!(render(&state, 60, 20).backend());
}

#[test]
fn help_on_a_tiny_screen_says_what_it_cannot_show() {
    let mut state = finder(40, 12);
    press(&mut state, KeyCode::Esc);
    press(&mut state, KeyCode::Char('?'));
    let text = rows(&render(&state, 40, 12)).join("\n");
    assert!(text.contains("lines 1-6 of 45: j/k scroll"), "{text}");
    assert!(text.contains("search: type"), "{text}");
    for _ in 0..3 {
        press(&mut state, KeyCode::Char('j'));
    }
    let text = rows(&render(&state, 40, 12)).join("\n");
    assert!(
        !text.contains("search: type"),
        "scrolled past the first row: {text}"
    );
    assert_eq!(
        state.finder.selected, 0,
        "j scrolls the help, not the list under it"
    );
}

/// The screen's rows as text.
fn rows(terminal: &Terminal<TestBackend>) -> Vec<String> {
    let buffer = terminal.backend().buffer();
    let area = buffer.area;
    (area.top()..area.bottom())
        .map(|y| {
            (area.left()..area.right())
                .map(|x| buffer[(x, y)].symbol())
                .collect()
        })
        .collect()
}

#[test]
fn wrapped_description_lines_keep_the_margin() {
    let mut state = finder(60, 30);
    press(&mut state, KeyCode::Enter);
    if let Some(hit) = state
        .finder
        .results
        .as_mut()
        .and_then(|r| r.hits.first_mut())
    {
        hit.interaction.description = Some("word ".repeat(40).trim_end().to_string());
    }
    let rows = rows(&render(&state, 60, 30));
    let wrapped: Vec<&String> = rows
        .iter()
        .filter(|r| r.trim_start().starts_with("word"))
        .collect();
    assert!(wrapped.len() >= 3, "the description wraps: {rows:#?}");
    for row in wrapped {
        assert!(row.starts_with(" word"), "{row:?} in {rows:#?}");
    }
}

#[test]
fn the_detail_shows_times_in_the_display_zone_and_labels_the_records_own() {
    let mut state = finder(120, 40);
    press(&mut state, KeyCode::Enter);
    let screen = |state: &mut State, zone| {
        state.settings.display_zone = zone;
        let rows = rows(&render(state, 120, 40));
        rows.iter()
            .map(|r| r.trim_end())
            .collect::<Vec<_>>()
            .join("\n")
    };
    // The first hit is in Europe/London, 10:30 – 12:00 there (09:30 UTC; Sydney is UTC+10 until
    // its summer time starts on 4 October). Created two days before, updated one day before.
    let text = screen(&mut state, chrono_tz::Tz::Australia__Sydney);
    assert!(
        text.contains("When      2026-10-01 19:30 – 21:00\n"),
        "the display zone, unlabelled: {text}"
    );
    assert!(
        text.contains("          10:30 – 12:00 Europe/London"),
        "the record's own zone, labelled: {text}"
    );
    assert!(text.contains("Created   2026-09-29 19:30 by ana"), "{text}");
    assert!(text.contains("Updated   2026-09-30 19:30 by tom"), "{text}");
    // The list row shows the start in the display zone too.
    assert!(text.contains("2026-10-01 19:30"), "{text}");
    let text = screen(&mut state, chrono_tz::Tz::Europe__London);
    assert!(
        text.contains("When      2026-10-01 10:30 – 12:00\n"),
        "{text}"
    );
    assert!(
        !text.contains("Europe/London"),
        "same zone, no label: {text}"
    );
    assert!(text.contains("Updated   2026-09-30 10:30 by tom"), "{text}");
    // Another name for the same clock (Lisbon keeps London's time): nothing to add.
    let text = screen(&mut state, chrono_tz::Tz::Europe__Lisbon);
    assert!(!text.contains("Europe/London"), "same wall clock: {text}");
    // A missing username falls back to the id.
    if let Some(hit) = state
        .finder
        .results
        .as_mut()
        .and_then(|r| r.hits.first_mut())
    {
        hit.created_by_name = None;
    }
    let text = screen(&mut state, chrono_tz::Tz::UTC);
    assert!(text.contains("by user #3"), "{text}");
}

#[test]
fn list_rows_in_several_zones_read_in_order_in_the_display_zone() {
    // Newest first, each in its own zone: 09:30 Los Angeles, 11:30 London, 14:00 Tokyo on one
    // day read 17:00, 11:30, 14:00 when each is shown in its own zone; in one zone they descend.
    let mut state = finder(100, 24);
    let at = |h, m| {
        chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 9, 22, h, m, 0)
            .single()
            .expect("a time")
    };
    let rows_in = [
        ("America/Los_Angeles", at(16, 30)),
        ("Europe/London", at(10, 30)),
        ("Asia/Tokyo", at(5, 0)),
    ];
    if let Some(results) = state.finder.results.as_mut() {
        results.hits.truncate(3);
        for (hit, (zone, start)) in results.hits.iter_mut().zip(rows_in) {
            hit.interaction.timezone = zone.into();
            hit.interaction.start_datetime = start;
            hit.interaction.end_datetime = start + chrono::Duration::hours(1);
        }
    }
    state.settings.display_zone = chrono_tz::Tz::Europe__Berlin;
    let text = rows(&render(&state, 100, 24));
    let starts: Vec<&str> = text
        .iter()
        .filter_map(|r| r.split_whitespace().next_back())
        .filter(|w| w.len() == 5 && w.as_bytes()[2] == b':')
        .collect();
    assert_eq!(starts, ["18:30", "12:30", "07:00"], "{text:#?}");
}

#[test]
fn help_overlay_120x40() {
    let mut state = finder(120, 40);
    press(&mut state, KeyCode::Esc);
    press(&mut state, KeyCode::Char('?'));
    insta::assert_snapshot!(render(&state, 120, 40).backend());
}

#[test]
fn help_overlay_on_the_query_line_80x24() {
    let mut state = finder(80, 24);
    press(&mut state, KeyCode::F(1));
    insta::assert_snapshot!(render(&state, 80, 24).backend());
}

#[test]
fn every_theme_shows_the_selection_without_colour() {
    use ratatui::style::Modifier;
    let themes = [ThemeName::Dark, ThemeName::Light, ThemeName::Terminal];
    let mut picking = crate::app::login::tests::App::picking(None);
    picking.press(KeyCode::Down);
    for (name, no_color) in themes.into_iter().flat_map(|t| [(t, false), (t, true)]) {
        let theme = Theme::new(name, no_color);
        assert!(
            theme.selected.add_modifier.contains(Modifier::REVERSED),
            "{name:?} no_color={no_color}"
        );
        let draw_with = |state: &State| {
            let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
            terminal
                .draw(|frame| {
                    draw(frame, state, &KeyMap::defaults(), &theme);
                })
                .unwrap();
            terminal
        };
        // The Finder: a marker and reversed cells on the selected row only.
        let terminal = draw_with(&finder(80, 24));
        let text = rows(&terminal);
        assert!(text[2].starts_with("▶  Quarterly"), "{name:?}: {text:#?}");
        assert!(!text[4].starts_with('▶'));
        let buffer = terminal.backend().buffer();
        assert!(buffer[(10, 2)].modifier.contains(Modifier::REVERSED));
        assert!(!buffer[(10, 4)].modifier.contains(Modifier::REVERSED));
        // The picker: the same on the highlighted site.
        let terminal = draw_with(&picking.state);
        let text = rows(&terminal);
        assert!(text[4].starts_with("▶ Leeds "), "{name:?}: {text:#?}");
        assert!(text[3].starts_with("  Berlin"), "{name:?}: {text:#?}");
        let buffer = terminal.backend().buffer();
        assert!(buffer[(3, 4)].modifier.contains(Modifier::REVERSED));
        assert!(!buffer[(3, 3)].modifier.contains(Modifier::REVERSED));
    }
}

#[test]
fn tiny_terminals_do_not_panic() {
    let mut state = finder(80, 24);
    press(&mut state, KeyCode::Enter);
    for (w, h) in [(1, 1), (2, 1), (5, 3), (20, 5), (99, 2), (100, 3)] {
        update(
            &mut state,
            Event::Msg(Msg::Resize {
                width: w,
                height: h,
            }),
        );
        render(&state, w, h);
        state.help_open = true;
        render(&state, w, h);
        state.help_open = false;
    }
}

#[test]
fn the_selection_is_marked_without_colour() {
    let state = finder(80, 24);
    let terminal = render(&state, 80, 24);
    let text = format!("{}", terminal.backend());
    assert!(text.contains("▶  Quarterly review meeting"), "{text}");
}

#[test]
fn without_colour_the_selection_is_reversed_and_bold_and_matches_underlined() {
    use ratatui::style::{Color, Modifier};
    let state = finder(80, 24);
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    let theme = Theme::new(ThemeName::Dark, true);
    terminal
        .draw(|frame| {
            draw(frame, &state, &KeyMap::defaults(), &theme);
        })
        .unwrap();
    let buffer = terminal.backend().buffer();
    let selected = &buffer[(10, 2)];
    assert!(
        selected
            .modifier
            .contains(Modifier::REVERSED | Modifier::BOLD)
    );
    // "Meet the new volunteers" is the second hit; its first word matches "meet".
    let matched = &buffer[(3, 4)];
    assert_eq!(matched.symbol(), "M");
    assert!(
        matched
            .modifier
            .contains(Modifier::UNDERLINED | Modifier::BOLD)
    );
    let coloured = buffer
        .content()
        .iter()
        .any(|c| c.fg != Color::Reset || c.bg != Color::Reset);
    assert!(!coloured, "NO_COLOR draws no colour");
}

#[test]
fn matched_words_are_highlighted_at_word_starts() {
    let base = ratatui::style::Style::new();
    let hl = ratatui::style::Style::new().add_modifier(ratatui::style::Modifier::BOLD);
    let spans = finder::highlighted("Meeting to meet Émile; remeet", &["meet".into()], base, hl);
    let marked: Vec<&str> = spans
        .iter()
        .filter(|s| s.style == hl)
        .map(|s| s.content.as_ref())
        .collect();
    assert_eq!(marked, vec!["Meet", "meet"]);
    let spans = finder::highlighted("ÉMILE", &["émile".into()], base, hl);
    assert_eq!(spans.len(), 1);
    assert_eq!(spans[0].style, hl);
}

#[test]
fn the_active_filters_are_those_the_query_applies() {
    let parsed =
        crate::domain::query::parse("meet type:call lead:\"Ana Souza\" from:2026-01-01 to:");
    assert_eq!(
        parsed.applied,
        vec!["type:call", "lead:\"Ana Souza\"", "from:2026-01-01"]
    );
    // A bad date is not active; its note says why, once ("ignored", not "ignored: ignored").
    let parsed = crate::domain::query::parse("meet from:2026-13-45");
    assert!(parsed.applied.is_empty(), "{:?}", parsed.applied);
    assert_eq!(parsed.ignored.len(), 1);
    assert!(parsed.ignored[0].starts_with("ignored from:2026-13-45"));
}

/// The info line shows an ignored filter as its note only, not as an active filter.
#[test]
fn an_ignored_filter_is_not_shown_as_active() {
    let mut state = finder(120, 40);
    state.finder.query = tui_input::Input::new("meet from:2026-13-45".into());
    if let Some(results) = state.finder.results.as_mut() {
        results.ignored = crate::domain::query::parse("meet from:2026-13-45").ignored;
    }
    let screen = format!("{:?}", render(&state, 120, 40).backend());
    assert!(!screen.contains("[from:2026-13-45]"), "{screen}");
    assert!(screen.contains("ignored from:2026-13-45"), "{screen}");
    assert!(!screen.contains("ignored: ignored"), "{screen}");
}

mod login_and_picker {
    use crossterm::event::KeyCode;

    use super::render;
    use crate::app::login::INVALID;
    use crate::app::login::tests::App;

    /// The Login screen after a failed attempt, with the password typed again.
    fn failed_login() -> App {
        let mut app = App::new(None);
        let id = app.submit("maria", "wrong");
        app.answer(id, Err(INVALID.into()));
        app.keys("hunter22");
        app
    }

    #[test]
    fn the_password_is_masked_on_screen() {
        let app = failed_login();
        let screen = format!("{:?}", render(&app.state, 80, 24).backend());
        assert!(!screen.contains("hunter22"), "{screen}");
        assert!(screen.contains("••••••••"), "{screen}");
        assert!(screen.contains("maria"));
    }

    /// Snapshots `app` at 80×24 and at 120×40, as `<screen>_80x24` and `<screen>_120x40`.
    fn snapshot_at_80x24_and_120x40(screen: &str, app: &App) {
        for (width, height) in [(80, 24), (120, 40)] {
            insta::assert_snapshot!(
                format!("{screen}_{width}x{height}"),
                render(&app.state, width, height).backend()
            );
        }
    }

    #[test]
    fn login_at_80x24_and_120x40() {
        snapshot_at_80x24_and_120x40("login", &failed_login());
    }

    #[test]
    fn login_60x20() {
        let mut app = App::new(None);
        app.keys("maria");
        insta::assert_snapshot!(render(&app.state, 60, 20).backend());
    }

    #[test]
    fn picker_at_80x24_and_120x40() {
        // Leeds highlighted (a remembered site would open at once).
        let mut app = App::picking(None);
        app.press(KeyCode::Down);
        snapshot_at_80x24_and_120x40("picker", &app);
    }

    #[test]
    fn help_on_login_at_80x24_and_120x40() {
        let mut app = App::new(None);
        app.keys("maria");
        app.press(KeyCode::F(1));
        snapshot_at_80x24_and_120x40("help_on_login", &app);
    }

    #[test]
    fn help_on_picker_80x24() {
        let mut app = App::picking(None);
        app.press(KeyCode::F(1));
        insta::assert_snapshot!(render(&app.state, 80, 24).backend());
    }

    #[test]
    fn help_on_picker_120x40() {
        let mut app = App::picking(None);
        app.keys("lee");
        app.press(KeyCode::F(1));
        insta::assert_snapshot!(render(&app.state, 120, 40).backend());
    }

    #[test]
    fn picker_60x20_filtered() {
        let mut app = App::picking(None);
        app.keys("lee");
        app.press(KeyCode::Down);
        insta::assert_snapshot!(render(&app.state, 60, 20).backend());
    }
}

/// An empty site says so and how to fill it (the key from the key map, or an import); a query
/// that finds nothing says to widen it.
#[test]
fn an_empty_site_says_how_to_add_interactions() {
    let mut state = finder(100, 30);
    if let Some(results) = state.finder.results.as_mut() {
        results.hits.clear();
        results.query = String::new();
    }
    let screen = format!("{:?}", render(&state, 100, 30).backend());
    assert!(
        screen.contains("Leeds has no interactions yet."),
        "{screen}"
    );
    assert!(
        screen.contains("Press n in the list to add one")
            && screen.contains("ifind import FILE.csv --site \"Leeds\""),
        "{screen}"
    );
    if let Some(results) = state.finder.results.as_mut() {
        results.query = "nothing like this".into();
    }
    let screen = format!("{:?}", render(&state, 100, 30).backend());
    assert!(screen.contains("No interactions match."), "{screen}");
}

/// A notice longer than the status line is shown whole, wrapped just above it, and the status
/// line points to it; a short one stays on the line (issue 15 item 9).
#[test]
fn a_long_notice_is_shown_whole_above_the_status_line() {
    for width in [60, 120] {
        let mut state = finder(width, 20);
        let long = "not saved: 3 problems to fix, marked in the form: Title is empty; End is \
                    before Start; Timezone \"Europe/Berlinn\" is not a timezone (did you mean \
                    Europe/Berlin?)";
        state.notice = Some(long.to_string());
        let rows = rows(&render(&state, width, 20));
        let status = rows.last().cloned().unwrap_or_default();
        assert!(status.contains('↑'), "{status:?}");
        let shown: String = rows[..rows.len() - 1]
            .iter()
            .map(|r| r.trim())
            .collect::<Vec<_>>()
            .join(" ");
        for word in ["3 problems", "Europe/Berlin?)", "Title is empty"] {
            assert!(shown.contains(word), "{word} at {width}: {rows:#?}");
        }
        state.notice = Some("saved \"Budget\"".to_string());
        let rows = super::tests::rows(&render(&state, width, 20));
        let status = rows.last().cloned().unwrap_or_default();
        if width >= 120 {
            assert!(status.contains("saved \"Budget\""), "{status:?}");
        } else {
            assert!(
                rows.iter().any(|r| r.contains("saved \"Budget\"")),
                "{rows:#?}"
            );
        }
    }
}

/// The status line is never blank, whatever the width: the list's key hints take the room left
/// beside the user, site and connection, and the left part is always drawn.
#[test]
fn the_status_line_shows_the_session_and_help_at_every_width() {
    for width in 40..=200 {
        let state = finder(width, 12);
        let rows = rows(&render(&state, width, 12));
        let status = rows.last().cloned().unwrap_or_default();
        assert!(status.contains("maria@Leeds"), "{width}: {status:?}");
        assert!(status.contains("help") || width < 60, "{width}: {status:?}");
    }
}

mod first_run {
    use crossterm::event::KeyCode;

    use super::render;
    use crate::app::first_run::tests::App;

    /// The first run with every field filled, the two passwords differing.
    fn mismatched() -> App {
        let mut app = App::new();
        app.fill([
            "Harbor Street Office",
            "ada",
            "ada@example.org",
            "correct horse",
            "correct horsf",
        ]);
        app
    }

    #[test]
    fn first_run_80x24() {
        let app = mismatched();
        let screen = format!("{:?}", render(&app.state, 80, 24).backend());
        assert!(
            !screen.contains("correct"),
            "the passwords are masked: {screen}"
        );
        assert!(screen.contains("▶    Repeat •••••••••••••"), "{screen}");
        insta::assert_snapshot!(render(&app.state, 80, 24).backend());
    }

    #[test]
    fn first_run_60x20() {
        let mut app = App::new();
        app.keys("Harbor Street Office");
        app.press(KeyCode::Tab);
        app.keys("ada");
        insta::assert_snapshot!(render(&app.state, 60, 20).backend());
    }
}
