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
        Connection::Lost { attempt, retry_at } => {
            let left = retry_at.saturating_duration_since(state.clock);
            if left.is_zero() {
                format!("connection lost, retrying now (attempt {attempt})")
            } else {
                // Whole seconds, rounded up, so that it counts 3, 2, 1.
                let secs = left.as_millis().div_ceil(1000);
                format!("connection lost, retrying in {secs} s (attempt {attempt})")
            }
        }
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
    // The latest error or notice: on the line when it fits, else begun there and shown whole
    // just above it (until the next key), so nothing important is cut.
    let message = match (&state.finder.error, &state.notice) {
        (Some(error), _) => Some((error.as_str(), theme.error)),
        (None, Some(notice)) => Some((notice.as_str(), theme.status)),
        (None, None) => None,
    };
    let help: Vec<String> = keymap
        .keys_for(state.mode(), Action::Help)
        .iter()
        .take(1)
        .map(|k| format!("{k} help "))
        .collect();
    // On the list and the agenda, the few keys a person needs first, as room allows beside the rest.
    let used: usize = spans.iter().map(Span::width).sum();
    let room = usize::from(area.width).saturating_sub(used + 24).min(60);
    let hints = crate::app::pane::hints(state, state.mode());
    let hint = match state.mode() {
        crate::app::state::Mode::List | crate::app::state::Mode::Agenda if !hints.is_empty() => {
            let line = super::help::hint_line(keymap, state.mode(), &[], &hints, room);
            if line.matches(':').count() >= 2 {
                format!("{} ", line.trim())
            } else {
                help.concat()
            }
        }
        _ => help.concat(),
    };
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
    // Too little room: the query time and cache rate go first, then a long site name gives way
    // (cut, with an ellipsis) before the connection state does.
    let width = |spans: &[Span]| spans.iter().map(Span::width).sum::<usize>();
    if width(&spans) > usize::from(left.width) {
        spans.truncate(3);
    }
    let site_width = Span::raw(s.site.as_str()).width();
    let total = width(&spans);
    if total > usize::from(left.width) && site_width > 1 {
        let keep = site_width
            .saturating_sub(total - usize::from(left.width))
            .max(1);
        spans[0] = Span::raw(format!(
            " {}@{} ({})",
            s.user,
            ellipsized(&s.site, keep),
            s.role
        ));
    }
    if let Some((text, style)) = message {
        spans.push(Span::raw(" │ "));
        let used: usize = spans.iter().map(Span::width).sum();
        let room = usize::from(left.width).saturating_sub(used);
        if Span::raw(text).width() <= room {
            spans.push(Span::styled(text.to_string(), style));
        } else {
            let marker = if room >= 12 { "↑ see above" } else { "↑" };
            spans.push(Span::styled(marker, style));
            draw_whole(frame, text, theme.status.patch(style), area);
        }
    }
    frame.render_widget(Paragraph::new(Line::from(spans)).style(theme.status), left);
    if show_hint {
        let right = Rect {
            x: area.right() - hint_width,
            width: hint_width,
            ..area
        };
        frame.render_widget(Paragraph::new(hint).style(theme.status), right);
    }
}

/// `text` cut to `width` characters, its last one an ellipsis when cut.
fn ellipsized(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// A message too long for the status line, whole and wrapped in the rows just above it (at most
/// half the screen above `status`).
fn draw_whole(frame: &mut Frame, text: &str, style: ratatui::style::Style, status: Rect) {
    use ratatui::widgets::{Clear, Wrap};
    let paragraph = Paragraph::new(format!(" {text}"))
        .wrap(Wrap { trim: false })
        .style(style);
    let rows = u16::try_from(paragraph.line_count(status.width)).unwrap_or(u16::MAX);
    let rows = rows.min(status.y / 2).max(1).min(status.y);
    if rows == 0 {
        return;
    }
    let above = Rect {
        y: status.y - rows,
        height: rows,
        ..status
    };
    frame.render_widget(Clear, above);
    frame.render_widget(paragraph, above);
}
