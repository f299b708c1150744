//! The detail pane: every field of the selected interaction, matched terms highlighted.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::finder::highlighted;
use super::theme::Theme;
use crate::app::state::State;
use crate::domain::interaction::format_wall_clock;

/// Width of the field labels.
const LABEL: usize = 10;

/// Draws the selected interaction into `area`: with a left border when beside the list, a top
/// border when below it.
pub fn draw(frame: &mut Frame, state: &State, theme: &Theme, area: Rect, beside: bool) {
    let borders = if beside {
        Borders::LEFT | Borders::TOP
    } else {
        Borders::TOP
    };
    let block = Block::new()
        .borders(borders)
        .border_style(theme.border)
        .title(Span::styled(" Detail ", theme.accent));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(hit) = state.selected_hit() else {
        frame.render_widget(
            Paragraph::new(Span::styled(" Nothing selected.", theme.dim)),
            inner,
        );
        return;
    };
    let i = &hit.interaction;
    let terms = state
        .results
        .as_ref()
        .map_or(&[][..], |r| r.highlight.as_slice());
    let when = |t| format_wall_clock(t, &i.timezone);
    let field = |label: &str, value: Vec<Span<'static>>| {
        let mut spans = vec![Span::styled(format!(" {label:<LABEL$}"), theme.dim)];
        spans.extend(value);
        Line::from(spans)
    };
    let plain = |text: String| vec![Span::styled(text, theme.text)];
    let marked = |text: &str| owned(highlighted(text, terms, theme.text, theme.matched));

    let mut title = vec![Span::raw(" ")];
    title.extend(owned(highlighted(
        &i.title,
        terms,
        theme.accent,
        theme.matched,
    )));
    let mut lines = vec![
        Line::from(title),
        field("Type", marked(&i.kind)),
        field("Lead", marked(&i.lead)),
        field(
            "When",
            plain(span_of_time(
                &when(i.start_datetime),
                &when(i.end_datetime),
                &i.timezone,
            )),
        ),
        field("Location", marked(i.location.as_deref().unwrap_or("—"))),
        Line::default(),
    ];
    for (label, text) in [("Description", &i.description), ("Notes", &i.notes)] {
        lines.push(Line::from(Span::styled(format!(" {label}"), theme.dim)));
        match text.as_deref().filter(|t| !t.trim().is_empty()) {
            Some(text) => {
                for paragraph in text.lines() {
                    let mut spans = vec![Span::raw(" ")];
                    spans.extend(marked(paragraph));
                    lines.push(Line::from(spans));
                }
            }
            None => lines.push(Line::from(Span::styled(" —", theme.dim))),
        }
    }
    lines.push(Line::default());
    lines.push(field(
        "Created",
        plain(format!("{} by user #{}", when(i.created_at), i.created_by)),
    ));
    let updated = match (i.updated_at, i.updated_by) {
        (Some(at), Some(by)) => format!("{} by user #{by}", when(at)),
        (Some(at), None) => when(at),
        _ => "never".to_string(),
    };
    lines.push(field("Updated", plain(updated)));
    lines.push(field(
        "ID",
        plain(format!("{} (version {})", i.interaction_id, i.version)),
    ));
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

/// "2026-10-02 12:30 – 14:00 Europe/Berlin": the end's date only when it differs.
fn span_of_time(start: &str, end: &str, timezone: &str) -> String {
    let end = match (start.split_once(' '), end.split_once(' ')) {
        (Some((start_day, _)), Some((end_day, end_time))) if start_day == end_day => end_time,
        _ => end,
    };
    format!("{start} – {end} {timezone}")
}

fn owned(spans: Vec<Span<'_>>) -> Vec<Span<'static>> {
    spans
        .into_iter()
        .map(|s| Span::styled(s.content.into_owned(), s.style))
        .collect()
}
