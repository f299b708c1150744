//! The Trash: the site's deleted interactions, newest deletion first, with who deleted each
//! and how many days are left to restore it.

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::finder::render_clipped;
use super::theme::Theme;
use crate::app::state::State;
use crate::app::trash::TrashState;
use crate::domain::format::thousands;
use crate::domain::interaction::{format_in, format_minute_in};

/// Draws the Trash over `area`; returns the row left for the status line.
pub fn draw(frame: &mut Frame, state: &State, theme: &Theme, area: Rect) -> Rect {
    let [header, info, list, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(area);
    frame.render_widget(
        Paragraph::new(Span::styled(
            format!(" Trash · {}", state.session.site),
            theme.accent,
        )),
        header,
    );
    let Some(trash) = state.trash() else {
        return status;
    };
    let days = state.settings.trash_days;
    let note = match (&trash.error, trash.loading) {
        (Some(error), _) => Span::styled(format!(" {error}"), theme.error),
        (None, Some(_)) => Span::styled(" loading…", theme.dim),
        (None, None) if trash.items.is_empty() => Span::styled(
            format!(" Nothing deleted in the last {days} days."),
            theme.dim,
        ),
        (None, None) => Span::styled(
            format!(
                " {} deleted in the last {days} days · r restores the selected one",
                thousands(i64::try_from(trash.items.len()).unwrap_or(i64::MAX))
            ),
            theme.dim,
        ),
    };
    frame.render_widget(Paragraph::new(note), info);
    draw_items(frame, state, trash, theme, list);
    status
}

/// The deleted interactions, two lines each, around the selection.
fn draw_items(frame: &mut Frame, state: &State, trash: &TrashState, theme: &Theme, list: Rect) {
    let days = state.settings.trash_days;
    let now = state.wall_clock;
    let zone = state.settings.display_zone;
    let capacity = usize::from(list.height / 2).max(1);
    let offset = trash.selected.saturating_sub(capacity - 1);
    for (row, (index, item)) in trash
        .items
        .iter()
        .enumerate()
        .skip(offset)
        .take(capacity)
        .enumerate()
    {
        let i = &item.interaction;
        let selected = index == trash.selected;
        let y = list.y + u16::try_from(row * 2).unwrap_or(u16::MAX);
        let (mark, title_style) = if selected {
            ("▶ ", theme.selected)
        } else {
            ("  ", theme.text)
        };
        let first = Line::from(vec![
            Span::styled(mark, title_style),
            Span::styled(i.title.clone(), title_style),
            Span::styled(
                format!("  {}", format_in(i.start_datetime, zone)),
                theme.dim,
            ),
        ]);
        let by = item.deleted_by_name.clone().unwrap_or_else(|| {
            item.deleted_by
                .map_or_else(|| "?".into(), |u| format!("user #{u}"))
        });
        let second = Line::from(Span::styled(
            format!(
                "  {} · {} · deleted {} by {by} · {}",
                i.kind,
                i.lead,
                format_minute_in(item.deleted_at, zone),
                days_left(item.deleted_at, now, days)
            ),
            theme.dim,
        ));
        for (dy, line) in [(0, first), (1, second)] {
            let rect = Rect {
                y: y + dy,
                height: 1,
                ..list
            };
            if rect.y < list.bottom() {
                render_clipped(frame, line, rect);
            }
        }
    }
}

/// "12 days left" to restore something deleted at `deleted`, out of `days`.
fn days_left(deleted: DateTime<Utc>, now: DateTime<Utc>, days: u32) -> String {
    let left = i64::from(days) - (now - deleted).num_days();
    match left {
        i64::MIN..=0 => "restorable today only".to_string(),
        1 => "1 day left".to_string(),
        n => format!("{n} days left"),
    }
}

#[cfg(test)]
mod tests;
