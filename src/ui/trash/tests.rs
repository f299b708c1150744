//! Snapshots of the trash and the delete question.

use crossterm::event::KeyCode;

use crate::app::test_support::App;
use crate::app::update::{Event, Msg};
use crate::ui::test_support::{PAIRED, finder, key, render, utc};

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
    for (width, height) in PAIRED {
        let app = trash_screen(width, height);
        let name = format!("trash_{width}x{height}");
        insta::assert_snapshot!(name, render(&app.state, width, height).backend());
    }
}

#[test]
fn delete_question_80x24() {
    let mut app = finder(80, 24);
    app.state.session.role = crate::domain::users::Role::Admin;
    app.press(key(KeyCode::Char('d')));
    insta::assert_snapshot!(render(&app.state, 80, 24).backend());
}
