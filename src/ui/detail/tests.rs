//! Snapshots of the detail pane.

use crossterm::event::KeyCode;

use crate::app::update::{Event, Msg};
use crate::ui::test_support::{finder, key, render, utc};

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
