//! The Health screen: the database dashboard of `ifind health`, one check per row, the verdict
//! marked in words and symbols (not colour alone), with its threshold under it.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::finder::render_clipped;
use super::theme::Theme;
use crate::app::state::State;
use crate::domain::health::Verdict;

/// Draws the Health screen over `area`; returns the row left for the status line.
pub fn draw(frame: &mut Frame, state: &State, theme: &Theme, area: Rect) -> Rect {
    let [header, info, list, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(area);
    frame.render_widget(
        Paragraph::new(Span::styled(" Database health", theme.accent)),
        header,
    );
    let Some(health) = state.health() else {
        return status;
    };
    let note = match (&health.error, health.loading) {
        (Some(error), _) => Span::styled(format!(" {error}"), theme.error),
        (None, Some(_)) => Span::styled(" checking…", theme.dim),
        (None, None) => Span::styled(" r checks again · esc back", theme.dim),
    };
    frame.render_widget(Paragraph::new(note), info);
    let width = health
        .checks
        .iter()
        .map(|c| c.name.len())
        .max()
        .unwrap_or(0);
    let mut y = list.y;
    for check in &health.checks {
        if y + 1 >= list.bottom() {
            break;
        }
        let (mark, style) = match check.verdict {
            Verdict::Ok => ("✓ ok      ", theme.text),
            Verdict::Degraded => ("! degraded", theme.fuzzy),
            Verdict::Critical => ("✗ critical", theme.error),
        };
        let first = Line::from(vec![
            Span::styled(format!(" {:<width$}  ", check.name), theme.accent),
            Span::styled(mark, style),
            Span::styled(format!("  {}", check.value), theme.text),
        ]);
        let second = Line::from(Span::styled(
            format!(" {:<width$}  {}", "", check.threshold),
            theme.dim,
        ));
        for (dy, line) in [(0, first), (1, second)] {
            render_clipped(
                frame,
                line,
                Rect {
                    y: y + dy,
                    height: 1,
                    ..list
                },
            );
        }
        y += 2;
    }
    status
}

#[cfg(test)]
mod tests;
