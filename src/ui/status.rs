//! The status line: user, site, role, connection state, last query time, and the latest notice
//! or error.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::finder::format_duration;
use super::theme::Theme;
use crate::app::action::Action;
use crate::app::keymap::KeyMap;
use crate::app::state::{Connection, State};

/// Draws the status line into `area` (one row).
pub fn draw(frame: &mut Frame, state: &State, keymap: &KeyMap, theme: &Theme, area: Rect) {
    let s = &state.session;
    let connection = match &state.connection {
        Connection::Connecting => "connecting…".to_string(),
        Connection::Connected => "connected".to_string(),
        Connection::Failing => "connection trouble".to_string(),
        Connection::Lost { attempt, retry_in } => format!(
            "connection lost, retrying in {} (attempt {attempt})",
            crate::domain::format::show_duration(*retry_in)
        ),
    };
    let mut spans = vec![
        Span::raw(format!(" {}@{} ({})", s.user, s.site, s.role)),
        Span::raw(" │ "),
        if matches!(state.connection, Connection::Lost { .. }) {
            Span::styled(connection, theme.error)
        } else {
            Span::raw(connection)
        },
    ];
    if let Some(time) = state.finder.last_query_time {
        spans.push(Span::raw(format!(" │ {}", format_duration(time))));
    }
    if let Some(rate) = state
        .finder
        .cache
        .hit_rate()
        .filter(|_| state.finder.cache.hits > 0)
    {
        spans.push(Span::raw(format!(" │ cache {:.0}%", rate * 100.0)));
    }
    if let Some(error) = &state.finder.error {
        spans.push(Span::raw(" │ "));
        spans.push(Span::styled(error.clone(), theme.error));
    } else if let Some(notice) = &state.notice {
        spans.push(Span::raw(format!(" │ {notice}")));
    }
    let help: Vec<String> = keymap
        .keys_for(state.mode(), Action::Help)
        .iter()
        .take(1)
        .map(|k| format!("{k} help "))
        .collect();
    let hint = help.concat();
    let line = Line::from(spans);
    frame.render_widget(Paragraph::new("").style(theme.status), area);
    let hint_width = hint.chars().count() as u16;
    let show_hint = !hint.is_empty() && area.width > hint_width + 40;
    // The left part stops a column short of the hint, so a long notice never runs into it.
    let left = Rect {
        width: if show_hint {
            area.width - hint_width - 1
        } else {
            area.width
        },
        ..area
    };
    frame.render_widget(Paragraph::new(line).style(theme.status), left);
    if show_hint {
        let right = Rect {
            x: area.right() - hint_width,
            width: hint_width,
            ..area
        };
        frame.render_widget(Paragraph::new(hint).style(theme.status), right);
    }
}
