//! The Agenda drawn: days in the display zone with today's marked, at 80x24 and 60x20.

use chrono::{Duration, TimeZone, Utc};
use chrono_tz::Tz;
use crossterm::event::KeyCode;

use crate::app::search_types::SearchPage;
use crate::app::test_support::{App, ch, code, hit, searches};
use crate::app::update::{Event, Msg};
use crate::ui::test_support::render;

/// The agenda at `width` x `height` at 23:30 UTC on 1 December 2026 (08:30 on the 2nd in Tokyo,
/// the display zone), holding items on both sides of Tokyo's midnight and a later day.
fn agenda(width: u16, height: u16) -> App {
    let mut app = App::loaded(5, false);
    app.state.settings.display_zone = Tz::Asia__Tokyo;
    app.update(Event::Msg(Msg::Resize { width, height }));
    app.press(code(KeyCode::Esc));
    let at = |d, h, m| {
        Utc.with_ymd_and_hms(2026, 12, d, h, m, 0)
            .single()
            .unwrap_or_default()
    };
    app.update(Event::Msg(Msg::WallClock(at(1, 23, 30))));
    let effects = app.press(ch('A'));
    let (id, _) = searches(&effects)[0].clone();
    let starts = [
        at(1, 22, 0),  // 07:00 on the 2nd in Tokyo: today, already past
        at(2, 1, 0),   // 10:00 on the 2nd
        at(2, 14, 30), // 23:30 on the 2nd, ending after midnight
        at(2, 15, 0),  // 00:00 on the 3rd: tomorrow
        at(4, 0, 30),  // 09:30 on the 4th
    ];
    let hits = starts
        .iter()
        .enumerate()
        .map(|(n, start)| {
            let mut h = hit(n);
            h.interaction.start_datetime = *start;
            h.interaction.end_datetime = *start + Duration::minutes(90);
            h
        })
        .collect();
    app.done(
        id,
        SearchPage {
            hits,
            next_cursor: None,
            count: None,
            fuzzy: false,
            approximate: false,
            similar: Vec::new(),
            ignored: Vec::new(),
            highlight: Vec::new(),
        },
    );
    app
}

#[test]
fn agenda_80x24_groups_by_day_in_the_display_zone_with_today_marked() {
    let mut app = agenda(80, 24);
    app.press(ch('j'));
    let screen = app.screen();
    assert!(screen.contains("● Today · Wed 2 Dec 2026"), "{screen}");
    assert!(screen.contains("Tomorrow · Thu 3 Dec 2026"), "{screen}");
    assert!(screen.contains("Fri 4 Dec 2026"), "{screen}");
    assert!(screen.contains("times in Asia/Tokyo"), "{screen}");
    assert!(
        screen.contains("23:30–01:00+1d"),
        "an end after midnight: {screen}"
    );
    // 00:00 on the 3rd sits under tomorrow, after the heading.
    let tomorrow = screen.find("Tomorrow").unwrap_or(usize::MAX);
    let midnight = screen.find("00:00–01:30").unwrap_or(0);
    assert!(tomorrow < midnight, "{screen}");
    insta::assert_snapshot!(render(&app.state, 80, 24).backend());
}

#[test]
fn agenda_60x20() {
    let app = agenda(60, 20);
    insta::assert_snapshot!(render(&app.state, 60, 20).backend());
}

#[test]
fn an_empty_agenda_says_so() {
    let mut app = agenda(80, 24);
    let effects = app.keys("/zzz");
    let _ = effects;
    let effects = app.tick(5_000);
    let (id, _) = searches(&effects)[0].clone();
    app.done(
        id,
        SearchPage {
            hits: Vec::new(),
            next_cursor: None,
            count: None,
            fuzzy: false,
            approximate: false,
            similar: Vec::new(),
            ignored: Vec::new(),
            highlight: Vec::new(),
        },
    );
    let screen = app.screen();
    assert!(screen.contains("Nothing coming up matches"), "{screen}");
}
