//! What the UI's snapshot tests share: the Finder on the fixed page at a given size, keys,
//! and a frame drawn at a size.

use chrono::{DateTime, TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use crate::app::keymap::KeyMap;
use crate::app::state::State;
use crate::app::test_support::App;
use crate::app::update::{Event, Msg};
use crate::ui::{Theme, ThemeName, draw};

/// The two sizes a screen is snapshotted at when both matter.
pub const PAIRED: [(u16, u16); 2] = [(80, 24), (120, 40)];

/// The Finder at `width` x `height`, list focused, clock at 2026-11-21 13:20 UTC.
pub fn finder(width: u16, height: u16) -> App {
    let mut app = App::loaded(5, false);
    app.update(Event::Msg(Msg::Resize { width, height }));
    app.update(Event::Msg(Msg::WallClock(utc(2026, 11, 21, 13, 20, 0))));
    app.press(key(KeyCode::Esc));
    app
}

/// The UTC time of the date and time given, or the epoch if they name none.
pub fn utc(year: i32, month: u32, day: u32, hour: u32, minute: u32, second: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(year, month, day, hour, minute, second)
        .single()
        .unwrap_or_default()
}

pub fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

pub fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        let code = if c == '\n' {
            KeyCode::Enter
        } else {
            KeyCode::Char(c)
        };
        app.press(key(code));
    }
}

pub fn render(state: &State, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("test terminal");
    let theme = Theme::new(ThemeName::Dark, false);
    terminal
        .draw(|frame| {
            draw(frame, state, &KeyMap::defaults(), &theme);
        })
        .expect("draw");
    terminal
}
