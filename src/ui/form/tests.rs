//! Snapshots of the form and its questions at the sizes the design promises, through ratatui's
//! `TestBackend`, driven by real key sequences on the fake Finder page.

use chrono::{TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::app::drafts::Draft;
use crate::app::form::{FormTarget, SaveError};
use crate::app::test_support::App;
use crate::app::update::{Event, Msg};
use crate::domain::interaction::InteractionInput;
use crate::ui::test_support::{PAIRED, finder, key, render, type_text};

#[test]
fn new_form_80x24_with_a_problem_shown() {
    let mut app = finder(80, 24);
    app.press(key(KeyCode::Char('n')));
    type_text(&mut app, "Harbour inspection\n\n");
    insta::assert_snapshot!(render(&app.state, 80, 24).backend());
}

#[test]
fn edit_form_120x40_in_the_description() {
    let mut app = finder(120, 40);
    app.press(key(KeyCode::Char('j')));
    app.press(key(KeyCode::Char('e')));
    for _ in 0..7 {
        app.press(key(KeyCode::Tab));
    }
    type_text(&mut app, "\nA third line, typed now.");
    insta::assert_snapshot!(render(&app.state, 120, 40).backend());
}

#[test]
fn new_form_60x20_with_timezone_suggestions() {
    let mut app = finder(60, 20);
    app.press(key(KeyCode::Char('n')));
    for _ in 0..5 {
        app.press(key(KeyCode::Tab));
    }
    app.press(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
    type_text(&mut app, "europe/be");
    insta::assert_snapshot!(render(&app.state, 60, 20).backend());
}

#[test]
fn a_failed_save_80x24() {
    let mut app = finder(80, 24);
    app.press(key(KeyCode::Char('e')));
    // An edit (an unchanged one is not sent).
    app.press(key(KeyCode::Char('!')));
    app.press(KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL));
    let request_id = app
        .state
        .form()
        .and_then(|f| f.saving.as_ref())
        .map_or(0, |s| s.0);
    app.update(Event::Msg(Msg::SaveDone {
        request_id,
        result: Err(SaveError::Failed(
            "the database could not be reached (connection refused)".into(),
        )),
    }));
    insta::assert_snapshot!(render(&app.state, 80, 24).backend());
}

#[test]
fn discard_question_80x24() {
    let mut app = finder(80, 24);
    app.press(key(KeyCode::Char('n')));
    type_text(&mut app, "Half a thought");
    app.press(key(KeyCode::Esc));
    insta::assert_snapshot!(render(&app.state, 80, 24).backend());
}

#[test]
fn draft_offer_120x40() {
    let mut app = finder(120, 40);
    let draft = Draft {
        user: "maria".into(),
        site_id: 7,
        site: "Leeds".into(),
        target: FormTarget::Edit {
            interaction_id: 1003,
            version: 2,
        },
        input: InteractionInput {
            title: "Site visit: warehouse safety".into(),
            ..InteractionInput::default()
        },
        client_id: None,
        saved_at: Utc.with_ymd_and_hms(2026, 11, 20, 17, 5, 0).single(),
        form_id: String::new(),
        base: None,
    };
    app.update(Event::Msg(Msg::DraftFound(Ok(crate::app::drafts::Found {
        drafts: vec![draft],
        damaged: Vec::new(),
    }))));
    insta::assert_snapshot!(render(&app.state, 120, 40).backend());
}

#[test]
fn the_form_survives_any_size() {
    let mut app = finder(80, 24);
    app.press(key(KeyCode::Char('n')));
    type_text(&mut app, "x\n\n\n\n\n\n");
    for (w, h) in [(1, 1), (2, 3), (10, 5), (30, 8), (200, 60)] {
        app.update(Event::Msg(Msg::Resize {
            width: w,
            height: h,
        }));
        let terminal = render(&app.state, w, h);
        assert_eq!(terminal.backend().buffer().area.width, w);
    }
}

/// Draws the app at `width`x`height` and hands what was laid out back to `update`, as the
/// terminal loop does.
fn report_drawn(app: &mut App, width: u16, height: u16) {
    let mut terminal =
        ratatui::Terminal::new(ratatui::backend::TestBackend::new(width, height)).expect("term");
    let theme = crate::ui::theme::Theme::new(crate::ui::theme::ThemeName::Dark, false);
    let mut drawn = None;
    terminal
        .draw(|frame| {
            drawn = Some(crate::ui::draw(
                frame,
                &app.state,
                &crate::app::keymap::KeyMap::defaults(),
                &theme,
            ));
        })
        .expect("draw");
    if let Some(drawn) = drawn {
        app.update(Event::Msg(Msg::Drawn(drawn)));
    }
}

/// The screen's rows as text.
fn screen_rows(app: &App, width: u16, height: u16) -> Vec<String> {
    let terminal = render(&app.state, width, height);
    let buffer = terminal.backend().buffer();
    (0..height)
        .map(|y| (0..width).map(|x| buffer[(x, y)].symbol()).collect())
        .collect()
}

/// At 40x10 the form is taller than the screen: after every Tab (and Backtab) the field with
/// the cursor is on screen, marked, with its text.
#[test]
fn the_focused_field_stays_in_view_at_40x10() {
    let mut app = finder(40, 10);
    app.press(key(KeyCode::Char('e')));
    let labels = |app: &App| {
        let form = app.state.form().expect("the form");
        let field = form.focused();
        // The cursor is at the end of the text: its last characters are in view.
        let text = form
            .input()
            .get(field)
            .lines()
            .last()
            .unwrap_or_default()
            .to_string();
        (field, text)
    };
    for step in 0..12 {
        let (field, text) = labels(&app);
        let rows = screen_rows(&app, 40, 10);
        let marked = format!("▶ {}", field.label());
        let at = rows
            .iter()
            .position(|r| r.contains(&marked))
            .unwrap_or_else(|| panic!("step {step}: {marked} not on screen:\n{}", rows.join("\n")));
        let skip = text.chars().count().saturating_sub(8);
        let shown: String = text.chars().skip(skip).collect();
        assert!(
            rows.iter().skip(at).take(3).any(|r| r.contains(&shown)),
            "step {step}: the text of {field:?} ({shown}) is not shown:\n{}",
            rows.join("\n")
        );
        if step == 6 {
            insta::assert_snapshot!(
                "form_40x10_after_six_tabs",
                render(&app.state, 40, 10).backend()
            );
        }
        app.press(key(KeyCode::Tab));
    }
    for _ in 0..4 {
        app.press(KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT));
        let marked = format!("▶ {}", labels(&app).0.label());
        assert!(
            screen_rows(&app, 40, 10)
                .iter()
                .any(|r| r.contains(&marked)),
            "{marked} after Backtab"
        );
    }
}

const MY_TITLE: &str = "Budget review with Delta Shipping: final figures for the fourth quarter, \
                        moved to Thursday";
const THEIR_TITLE: &str = "Budget review with Delta Shipping: preliminary figures only, postponed \
                           to January";

/// Hit 0 edited: my new title and location; tom saved version 2 first with another title,
/// another location and a new description.
fn conflict(width: u16, height: u16) -> App {
    let mut app = finder(width, height);
    app.press(key(KeyCode::Char('e')));
    app.press(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
    type_text(&mut app, MY_TITLE);
    for _ in 0..6 {
        app.press(key(KeyCode::Tab));
    }
    app.press(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
    type_text(&mut app, "Leeds, Room 6");
    app.press(KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL));
    let request_id = app
        .state
        .form()
        .and_then(|f| f.saving.as_ref())
        .map_or(0, |s| s.0);
    let mut theirs = crate::app::test_support::hit(0).interaction;
    theirs.version = 2;
    theirs.title = THEIR_TITLE.into();
    theirs.location = Some("Leeds, Room 5".into());
    theirs.description = Some("Went through the quarter's figures.\nMoved to January.".into());
    theirs.updated_at = Utc.with_ymd_and_hms(2026, 11, 21, 13, 5, 0).single();
    app.update(Event::Msg(Msg::SaveDone {
        request_id,
        result: Err(SaveError::Conflict {
            current: Box::new(theirs),
            by: Some("tom".into()),
        }),
    }));
    app
}

/// The screen's text, rows joined by spaces with runs of blanks and borders squeezed out.
fn screen_text(app: &App, width: u16, height: u16) -> String {
    let terminal = render(&app.state, width, height);
    let buffer = terminal.backend().buffer();
    let mut text = String::new();
    for y in 0..height {
        for x in 0..width {
            text.push_str(buffer[(x, y)].symbol());
        }
        text.push(' ');
    }
    text.replace('│', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn conflict_at_80x24_and_120x40() {
    for (width, height) in PAIRED {
        let app = conflict(width, height);
        let name = format!("conflict_{width}x{height}");
        insta::assert_snapshot!(name, render(&app.state, width, height).backend());
    }
}

/// Both values of a field both changed are shown whole, wrapped, at any width; at 40x10 the
/// field with the cursor stays in view as it moves, and long values scroll.
#[test]
fn conflicting_values_are_shown_in_full_and_the_selected_field_stays_in_view() {
    for (width, height) in [(120, 40), (80, 24), (60, 20)] {
        let app = conflict(width, height);
        let text = screen_text(&app, width, height);
        for title in [MY_TITLE, THEIR_TITLE] {
            assert!(
                text.contains(title),
                "{width}x{height}: {title} not whole in {text}"
            );
        }
        assert!(
            !text.contains('…'),
            "{width}x{height}: nothing is cut: {text}"
        );
    }
    let mut app = conflict(40, 10);
    assert!(screen_text(&app, 40, 10).contains("▶ Title"));
    // Scrolling stops at the end of the values: one step back up shows more of the start.
    let rows_note = |app: &mut App| {
        report_drawn(app, 40, 10);
        screen_rows(app, 40, 10).last().cloned().unwrap_or_default()
    };
    let first = rows_note(&mut app);
    assert!(first.contains(" 1-"), "{first}");
    for _ in 0..20 {
        app.press(key(KeyCode::PageDown));
        rows_note(&mut app);
    }
    let end = rows_note(&mut app);
    app.press(key(KeyCode::PageUp));
    let back = rows_note(&mut app);
    assert!(end != first && back != end, "{first} / {end} / {back}");
    app.press(key(KeyCode::Down));
    let text = screen_text(&app, 40, 10);
    assert!(text.contains("▶ Location"), "{text}");
    app.press(key(KeyCode::PageDown));
    app.press(key(KeyCode::Up));
    let text = screen_text(&app, 40, 10);
    assert!(text.contains("▶ Title"), "back up: {text}");
}

mod fuzz {
    use proptest::prelude::*;

    use super::*;

    #[derive(Clone, Debug)]
    enum Step {
        Key(KeyEvent),
        Paste(String),
        Resize(u16, u16),
    }

    fn step() -> impl Strategy<Value = Step> {
        let keys = prop_oneof![
            any::<char>().prop_map(|c| key(KeyCode::Char(c))),
            Just(key(KeyCode::Tab)),
            Just(KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT)),
            Just(key(KeyCode::Enter)),
            Just(key(KeyCode::Esc)),
            Just(key(KeyCode::Down)),
            Just(key(KeyCode::Up)),
            Just(key(KeyCode::Backspace)),
            Just(key(KeyCode::Char('n'))),
            Just(key(KeyCode::Char('e'))),
            Just(key(KeyCode::Char('y'))),
            Just(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL)),
            Just(KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL)),
        ];
        prop_oneof![
            8 => keys.prop_map(Step::Key),
            1 => "\\PC{0,40}".prop_map(Step::Paste),
            1 => (1u16..200, 1u16..60).prop_map(|(w, h)| Step::Resize(w, h)),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Any keys, pastes and sizes, on every screen the keys lead to: no panic, and every
        /// frame draws.
        #[test]
        fn any_keys_pastes_and_sizes_never_panic(steps in prop::collection::vec(step(), 1..60)) {
            let mut app = finder(80, 24);
            app.state.session.role = crate::domain::users::Role::Admin;
            let (mut w, mut h) = (80u16, 24u16);
            for step in steps {
                match step {
                    Step::Key(k) => {
                        app.press(k);
                    }
                    Step::Paste(text) => {
                        app.update(Event::Paste(text));
                    }
                    Step::Resize(nw, nh) => {
                        (w, h) = (nw, nh);
                        app.update(Event::Msg(Msg::Resize { width: w, height: h }));
                    }
                }
                if app.state.quit {
                    break;
                }
                let terminal = render(&app.state, w, h);
                prop_assert_eq!(terminal.backend().buffer().area.width, w);
            }
        }
    }
}
