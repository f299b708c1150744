//! Deleting and the Trash as key sequences: who may, the question first, the version sent, the
//! answers, and restoring.

use chrono::{Duration, TimeZone, Utc};
use crossterm::event::KeyCode;

use super::*;
use crate::app::state::Mode;
use crate::app::test_support::{App, ch, code, hit, searches};
use crate::app::update::{Event, Msg};

fn admin_finder() -> App {
    let mut app = App::loaded(5, false);
    app.state.session.role = crate::domain::users::Role::Admin;
    app.press(code(KeyCode::Esc));
    let now = Utc.with_ymd_and_hms(2026, 11, 21, 13, 20, 0).single();
    app.update(Event::Msg(Msg::WallClock(now.unwrap_or_default())));
    app
}

fn item(n: usize, days_ago: i64) -> TrashItem {
    let now = Utc
        .with_ymd_and_hms(2026, 11, 21, 13, 20, 0)
        .single()
        .unwrap_or_default();
    TrashItem {
        interaction: hit(n).interaction,
        deleted_at: now - Duration::days(days_ago),
        deleted_by: Some(3),
        deleted_by_name: Some("tom".into()),
    }
}

#[test]
fn d_asks_first_then_deletes_the_version_that_was_seen() {
    let mut app = admin_finder();
    app.press(ch('j'));
    let effects = app.press(ch('d'));
    assert!(effects.is_empty(), "nothing happens before the answer");
    assert!(matches!(app.state.confirm, Some(Confirm::Delete { .. })));
    assert_eq!(app.state.mode(), Mode::Confirm);
    let effects = app.press(ch('y'));
    let sent: Vec<(i32, i32)> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::Delete {
                interaction_id,
                version,
                site_id: 7,
                ..
            } => Some((*interaction_id, *version)),
            _ => None,
        })
        .collect();
    let seen = hit(1).interaction;
    assert_eq!(sent, vec![(seen.interaction_id, seen.version)]);
    let request_id = app.state.deleting.as_ref().map_or(0, |d| d.0);
    let effects = app.update(Event::Msg(Msg::Deleted {
        request_id,
        result: Ok(Box::new(seen)),
    }));
    assert_eq!(searches(&effects).len(), 1, "the list is refreshed");
    let notice = app.state.notice.clone().unwrap_or_default();
    assert!(
        notice.contains("moved") && notice.contains("30 days"),
        "{notice}"
    );
}

#[test]
fn n_keeps_it_and_non_admins_cannot_delete() {
    let mut app = admin_finder();
    app.press(ch('d'));
    assert!(app.press(ch('n')).is_empty());
    assert!(app.state.confirm.is_none());
    app.state.session.role = crate::domain::users::Role::Editor;
    app.press(ch('d'));
    assert!(app.state.confirm.is_none());
    assert!(
        app.state
            .notice
            .as_deref()
            .is_some_and(|n| n.contains("only site admins") && n.contains("you are an editor"))
    );
    app.press(ch('t'));
    assert_eq!(app.state.screen(), Screen::Finder, "no trash for editors");
}

#[test]
fn a_changed_record_is_not_deleted_unseen() {
    let mut app = admin_finder();
    app.press(ch('d'));
    app.press(ch('y'));
    let request_id = app.state.deleting.as_ref().map_or(0, |d| d.0);
    app.update(Event::Msg(Msg::Deleted {
        request_id,
        result: Err(SaveError::Conflict {
            current: Box::new(hit(0).interaction),
            by: Some("tom".into()),
        }),
    }));
    let notice = app.state.notice.clone().unwrap_or_default();
    assert!(
        notice.contains("not deleted") && notice.contains("tom"),
        "{notice}"
    );
}

#[test]
fn the_trash_lists_restores_and_goes_back() {
    let mut app = admin_finder();
    let effects = app.press(ch('t'));
    assert_eq!(app.state.screen(), Screen::Trash);
    assert_eq!(app.state.mode(), Mode::Trash);
    let request_id = effects
        .iter()
        .find_map(|e| match e {
            Effect::LoadTrash {
                request_id,
                site_id: 7,
                days: 30,
            } => Some(*request_id),
            _ => None,
        })
        .expect("the trash is loaded");
    app.update(Event::Msg(Msg::TrashLoaded {
        request_id,
        result: Ok(vec![item(2, 1), item(3, 12)]),
    }));
    app.press(ch('j'));
    let effects = app.press(ch('r'));
    let (rid, id) = effects
        .iter()
        .find_map(|e| match e {
            Effect::Restore {
                request_id,
                interaction_id,
                ..
            } => Some((*request_id, *interaction_id)),
            _ => None,
        })
        .expect("a restore");
    assert_eq!(id, hit(3).interaction.interaction_id);
    app.update(Event::Msg(Msg::Restored {
        request_id: rid,
        result: Ok(Box::new(hit(3).interaction)),
    }));
    let trash = app.state.trash().expect("still open");
    assert_eq!(trash.items.len(), 1);
    assert_eq!(trash.selected, 0);
    let effects = app.press(code(KeyCode::Esc));
    assert_eq!(app.state.screen(), Screen::Finder);
    assert_eq!(
        searches(&effects).len(),
        1,
        "restored records come back into the results"
    );
}

#[test]
fn a_late_listing_is_ignored() {
    let mut app = admin_finder();
    app.press(ch('t'));
    app.update(Event::Msg(Msg::TrashLoaded {
        request_id: 9999,
        result: Ok(vec![item(2, 1)]),
    }));
    assert!(app.state.trash().is_some_and(|t| t.items.is_empty()));
}
