//! Snapshots and keys of the Health screen.

use crossterm::event::KeyCode;

use crate::app::test_support::App;
use crate::app::update::{Event, Msg};
use crate::ui::test_support::{PAIRED, finder, key, render};

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
    for (width, height) in PAIRED {
        let app = health_screen(width, height);
        let name = format!("health_{width}x{height}");
        insta::assert_snapshot!(name, render(&app.state, width, height).backend());
    }
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
