//! Snapshots of the detail pane.

use crossterm::event::KeyCode;

use crate::app::update::{Event, Msg};
use crate::ui::test_support::{finder, key, render, utc};

/// Presses `h` on the Finder: the history's load request id.
fn open_history(app: &mut crate::app::test_support::App) -> u64 {
    app.press(key(KeyCode::Char('h')));
    app.state
        .finder
        .history
        .as_ref()
        .and_then(|h| h.loading)
        .unwrap_or(0)
}

#[test]
fn detail_with_history_120x40() {
    use crate::domain::audit::{AuditEntry, FieldChange, Operation};
    let mut app = finder(120, 40);
    let request_id = open_history(&mut app);
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

/// A seeded or imported record: its history starts with the creation the Created line shows
/// (the date and the person the row records), then says when and by whom it was loaded; it
/// never says the record began on the day of the load.
#[test]
fn the_history_of_a_loaded_record_agrees_with_its_created_line() {
    use crate::domain::audit::{AuditEntry, FieldChange, Operation};
    let mut app = finder(120, 40);
    let request_id = open_history(&mut app);
    let hit = app.state.finder.selected_hit().cloned().expect("a hit");
    let created_at = hit.interaction.created_at;
    let new = |field: &str, value: serde_json::Value| FieldChange {
        field: field.into(),
        old: None,
        new: Some(value),
    };
    let loaded_at = utc(2026, 12, 1, 8, 5, 0);
    let load = AuditEntry {
        id: 1,
        at: loaded_at,
        txid: 100,
        table: "interactions".into(),
        row_id: hit.interaction.interaction_id,
        site_id: Some(7),
        site_name: Some("Leeds".into()),
        operation: Operation::Insert,
        user_id: None,
        username: None,
        actor: Some("ifind (OS user root)".into()),
        changes: vec![
            new("title", serde_json::json!(hit.interaction.title)),
            new("created_by", serde_json::json!(hit.interaction.created_by)),
            new("created_at", serde_json::json!(created_at.to_rfc3339())),
        ],
    };
    app.update(Event::Msg(Msg::HistoryLoaded {
        request_id,
        result: Ok(vec![load]),
    }));
    let screen = format!("{:?}", render(&app.state, 120, 40).backend());
    assert!(
        screen.contains("Created   2026-09-29 09:30 by ana"),
        "{screen}"
    );
    assert!(
        screen.contains("2026-09-29 09:30  ana  created"),
        "{screen}"
    );
    assert!(
        screen.contains("imported 2026-12-01 08:05 by ifind (OS user root)"),
        "{screen}"
    );
    assert!(!screen.contains("insert"), "{screen}");
    insta::assert_snapshot!(render(&app.state, 120, 40).backend());
}
