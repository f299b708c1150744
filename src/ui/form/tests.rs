//! Snapshots of the form and its questions at the sizes the design promises, through ratatui's
//! `TestBackend`, driven by real key sequences on the fake Finder page.

use chrono::{DateTime, TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use crate::app::drafts::Draft;
use crate::app::form::{FormTarget, SaveError};
use crate::app::keymap::KeyMap;
use crate::app::state::State;
use crate::app::test_support::App;
use crate::app::update::{Event, Msg};
use crate::domain::interaction::InteractionInput;
use crate::ui::{Theme, ThemeName, draw};

/// The Finder at `width` x `height`, list focused, clock at 2026-11-21 13:20 UTC.
fn finder(width: u16, height: u16) -> App {
    let mut app = App::loaded(5, false);
    app.update(Event::Msg(Msg::Resize { width, height }));
    app.update(Event::Msg(Msg::WallClock(utc(2026, 11, 21, 13, 20, 0))));
    app.press(key(KeyCode::Esc));
    app
}

/// The UTC time of the date and time given, or the epoch if they name none.
fn utc(year: i32, month: u32, day: u32, hour: u32, minute: u32, second: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(year, month, day, hour, minute, second)
        .single()
        .unwrap_or_default()
}

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        let code = if c == '\n' {
            KeyCode::Enter
        } else {
            KeyCode::Char(c)
        };
        app.press(key(code));
    }
}

fn render(state: &State, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("test terminal");
    let theme = Theme::new(ThemeName::Dark, false);
    terminal
        .draw(|frame| {
            draw(frame, state, &KeyMap::defaults(), &theme);
        })
        .expect("draw");
    terminal
}

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
    };
    app.update(Event::Msg(Msg::DraftFound(Ok(Some(Box::new(draft))))));
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

fn conflict(width: u16, height: u16) -> App {
    let mut app = finder(width, height);
    app.press(key(KeyCode::Char('e')));
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

/// Snapshots the screen `build` makes at 80×24 and at 120×40, as `<screen>_80x24` and
/// `<screen>_120x40`.
fn snapshot_at_80x24_and_120x40(screen: &str, build: fn(u16, u16) -> App) {
    for (width, height) in [(80, 24), (120, 40)] {
        let app = build(width, height);
        insta::assert_snapshot!(
            format!("{screen}_{width}x{height}"),
            render(&app.state, width, height).backend()
        );
    }
}

#[test]
fn conflict_at_80x24_and_120x40() {
    snapshot_at_80x24_and_120x40("conflict", conflict);
}

fn trash_screen(width: u16, height: u16) -> App {
    use crate::domain::trash::TrashItem;
    let mut app = finder(width, height);
    app.state.session.role = crate::domain::users::Role::Admin;
    app.press(key(KeyCode::Char('t')));
    let request_id = app.state.trash().and_then(|t| t.loading).unwrap_or(0);
    let now = utc(2026, 11, 21, 13, 20, 0);
    let items = (0..3)
        .map(|n| TrashItem {
            interaction: crate::app::test_support::hit(n).interaction,
            deleted_at: now - chrono::Duration::days(i64::try_from(n * 11).unwrap_or(0)),
            deleted_by: Some(3),
            deleted_by_name: Some("tom".into()),
        })
        .collect();
    app.update(Event::Msg(Msg::TrashLoaded {
        request_id,
        result: Ok(items),
    }));
    app.press(key(KeyCode::Char('j')));
    app
}

#[test]
fn trash_at_80x24_and_120x40() {
    snapshot_at_80x24_and_120x40("trash", trash_screen);
}

#[test]
fn delete_question_80x24() {
    let mut app = finder(80, 24);
    app.state.session.role = crate::domain::users::Role::Admin;
    app.press(key(KeyCode::Char('d')));
    insta::assert_snapshot!(render(&app.state, 80, 24).backend());
}

#[test]
fn detail_with_history_120x40() {
    use crate::domain::audit::{AuditEntry, FieldChange, Operation};
    let mut app = finder(120, 40);
    app.press(key(KeyCode::Char('h')));
    let request_id = app
        .state
        .finder
        .history
        .as_ref()
        .and_then(|h| h.loading)
        .unwrap_or(0);
    let at = utc(2026, 11, 20, 9, 15, 42);
    let entry = |id: i64, op: Operation, who: &str, changes: Vec<FieldChange>| AuditEntry {
        id,
        at: at + chrono::Duration::hours(id),
        txid: 100 + id,
        table: "interactions".into(),
        row_id: 1000,
        site_id: Some(7),
        site_name: Some("Leeds".into()),
        operation: op,
        user_id: Some(3),
        username: Some(who.into()),
        actor: None,
        changes,
    };
    let change = |field: &str, old: &str, new: &str| FieldChange {
        field: field.into(),
        old: Some(serde_json::Value::String(old.into())),
        new: Some(serde_json::Value::String(new.into())),
    };
    app.update(Event::Msg(Msg::HistoryLoaded {
        request_id,
        result: Ok(vec![
            entry(1, Operation::Insert, "maria", Vec::new()),
            entry(
                2,
                Operation::Update,
                "tom",
                vec![
                    change("location", "Leeds, Room 3", "Leeds, Room 4"),
                    change("version", "1", "2"),
                ],
            ),
        ]),
    }));
    insta::assert_snapshot!(render(&app.state, 120, 40).backend());
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

fn health_screen(width: u16, height: u16) -> App {
    use crate::domain::health::{Check, Verdict};
    let mut app = finder(width, height);
    app.state.session.role = crate::domain::users::Role::Admin;
    app.press(key(KeyCode::Char('H')));
    let request_id = app.state.health().and_then(|h| h.loading).unwrap_or(0);
    let check = |name: &'static str, value: &str, verdict: Verdict, threshold: &str| Check {
        name,
        value: value.into(),
        verdict,
        threshold: threshold.into(),
    };
    app.update(Event::Msg(Msg::HealthLoaded {
        request_id,
        result: Ok(vec![
            check(
                "pool",
                "1 in use, 4 idle, 20 max",
                Verdict::Ok,
                "degraded from 70% of max in use, critical from 90%",
            ),
            check(
                "latency",
                "p50 0.21 ms · p95 0.80 ms · p99 1.90 ms (20 round trips)",
                Verdict::Ok,
                "p95 degraded from 20 ms, critical from 200 ms",
            ),
            check(
                "cache hit rate",
                "97.10% of 1203344 block reads",
                Verdict::Degraded,
                "degraded below 99%, critical below 90%",
            ),
            check(
                "dead tuples",
                "41200 dead of 80000 interactions rows (51.5%)",
                Verdict::Critical,
                "degraded from 20% dead, critical from 50%",
            ),
        ]),
    }));
    app
}

#[test]
fn health_at_80x24_and_120x40() {
    snapshot_at_80x24_and_120x40("health", health_screen);
}

#[test]
fn health_is_for_admins_and_r_checks_again() {
    let mut app = finder(80, 24);
    app.press(key(KeyCode::Char('H')));
    assert!(app.state.health().is_none(), "an editor gets a notice");
    assert!(
        app.state
            .notice
            .as_deref()
            .is_some_and(|n| n.contains("for admins"))
    );
    let app2 = health_screen(80, 24);
    let mut app = app2;
    let effects = app.press(key(KeyCode::Char('r')));
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, crate::app::update::Effect::LoadHealth { .. }))
    );
    app.press(key(KeyCode::Esc));
    assert!(app.state.health().is_none());
}
