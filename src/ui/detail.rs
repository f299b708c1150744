//! The detail pane: every field of the selected interaction, matched terms highlighted.

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::finder::highlighted;
use super::theme::Theme;
use crate::app::search_types::Hit;
use crate::app::state::State;
use crate::domain::audit::{AuditEntry, Creation};
use crate::domain::interaction::{Interaction, format_wall_clock};

/// Width of the field labels.
const LABEL: usize = 10;

/// Draws the selected interaction into `area`: with a left border when beside the list, a top
/// border when below it. Answers which interaction it showed and how many of its lines did not
/// fit (how far it can scroll).
pub fn draw(
    frame: &mut Frame,
    state: &State,
    theme: &Theme,
    area: Rect,
    beside: bool,
) -> Option<(i32, u16)> {
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
    // Every line, wrapped ones too, starts one column in.
    let text_area = Rect {
        x: inner.x.saturating_add(1).min(inner.right()),
        width: inner.width.saturating_sub(1),
        ..inner
    };
    let Some(hit) = state.finder.selected_hit() else {
        frame.render_widget(
            Paragraph::new(Span::styled("Nothing selected.", theme.dim)),
            text_area,
        );
        return None;
    };
    let i = &hit.interaction;
    let terms = state
        .finder
        .results
        .as_ref()
        .map_or(&[][..], |r| r.highlight.as_slice());
    let mut lines = field_lines(i, terms, theme);
    lines.push(Line::default());
    lines.extend(record_lines(hit, theme));
    if state.finder.history_open {
        lines.push(Line::default());
        lines.extend(history_lines(state, i.interaction_id, &i.timezone, theme));
    }
    let text = Paragraph::new(lines).wrap(Wrap { trim: false });
    let overflow = text
        .line_count(text_area.width)
        .saturating_sub(usize::from(text_area.height));
    frame.render_widget(text.scroll((state.finder.detail_scroll, 0)), text_area);
    Some((
        i.interaction_id,
        u16::try_from(overflow).unwrap_or(u16::MAX),
    ))
}

/// A labelled line.
fn field(label: &str, value: Vec<Span<'static>>, theme: &Theme) -> Line<'static> {
    let mut spans = vec![Span::styled(format!("{label:<LABEL$}"), theme.dim)];
    spans.extend(value);
    Line::from(spans)
}

/// The interaction's own fields, matched `terms` highlighted: title, type, lead, times,
/// location, description and notes.
fn field_lines(i: &Interaction, terms: &[String], theme: &Theme) -> Vec<Line<'static>> {
    let when = |t| format_wall_clock(t, &i.timezone);
    let plain = |text: String| vec![Span::styled(text, theme.text)];
    let marked = |text: &str| owned(highlighted(text, terms, theme.text, theme.matched));
    let title = owned(highlighted(&i.title, terms, theme.accent, theme.matched));
    let own_time = span_of_time(&when(i.start_datetime), &when(i.end_datetime), &i.timezone);
    let mut lines = vec![
        Line::from(title),
        field("Type", marked(&i.kind), theme),
        field("Lead", marked(&i.lead), theme),
        field("When", plain(own_time), theme),
    ];
    if let Some(yours) = viewer_time(i.start_datetime, i.end_datetime, &i.timezone, theme) {
        lines.push(field("Your time", plain(yours), theme));
    }
    lines.push(field(
        "Location",
        marked(i.location.as_deref().unwrap_or("—")),
        theme,
    ));
    lines.push(Line::default());
    for (label, text) in [("Description", &i.description), ("Notes", &i.notes)] {
        lines.push(Line::from(Span::styled(label, theme.dim)));
        match text.as_deref().filter(|t| !t.trim().is_empty()) {
            Some(text) => lines.extend(text.lines().map(|p| Line::from(marked(p)))),
            None => lines.push(Line::from(Span::styled("—", theme.dim))),
        }
    }
    lines
}

/// Who created and last changed the record, when (to the minute), and its id and version.
fn record_lines(hit: &Hit, theme: &Theme) -> Vec<Line<'static>> {
    let i = &hit.interaction;
    let plain = |text: String| vec![Span::styled(text, theme.text)];
    // Record times to the minute: the seconds of a save mean nothing to a reader.
    let stamp = |t: chrono::DateTime<chrono::Utc>| {
        use chrono::Timelike;
        format_wall_clock(
            t.with_second(0)
                .and_then(|t| t.with_nanosecond(0))
                .unwrap_or(t),
            &i.timezone,
        )
    };
    let who = |name: &Option<String>, id: i32| match name {
        Some(name) => name.clone(),
        None => format!("user #{id}"),
    };
    let created = format!(
        "{} by {}",
        stamp(i.created_at),
        who(&hit.created_by_name, i.created_by)
    );
    let updated = match (i.updated_at, i.updated_by) {
        (Some(at), Some(by)) => format!("{} by {}", stamp(at), who(&hit.updated_by_name, by)),
        (Some(at), None) => stamp(at),
        _ => "never".to_string(),
    };
    let id = format!(
        "{} (version {}){}",
        i.interaction_id,
        i.version,
        if hit.archived {
            " · archived, read-only"
        } else {
            ""
        }
    );
    vec![
        field("Created", plain(created), theme),
        field("Updated", plain(updated), theme),
        field("ID", plain(id), theme),
    ]
}

/// The History section: each change, oldest first, with who made it and its fields' old and new
/// values (long values cut to one line).
fn history_lines(state: &State, id: i32, timezone: &str, theme: &Theme) -> Vec<Line<'static>> {
    let mut lines = vec![Line::from(Span::styled("History", theme.dim))];
    let Some(history) = state
        .finder
        .history
        .as_ref()
        .filter(|h| h.interaction_id == id)
    else {
        return lines;
    };
    if history.loading.is_some() {
        lines.push(Line::from(Span::styled("loading…", theme.dim)));
        return lines;
    }
    if let Some(error) = &history.error {
        lines.push(Line::from(Span::styled(error.clone(), theme.error)));
        return lines;
    }
    if history.entries.is_empty() {
        lines.push(Line::from(Span::styled(
            "no recorded changes (made before the audit trail began)",
            theme.dim,
        )));
    }
    let short = |text: String| {
        let one = text.replace('\n', " ⏎ ");
        if one.chars().count() > 40 {
            let mut cut: String = one.chars().take(39).collect();
            cut.push('…');
            cut
        } else {
            one
        }
    };
    let minute = |t: DateTime<Utc>| {
        use chrono::Timelike;
        let t = t
            .with_second(0)
            .and_then(|m| m.with_nanosecond(0))
            .unwrap_or(t);
        format_wall_clock(t, timezone)
    };
    for entry in &history.entries {
        if let Some(creation) = entry.creation() {
            lines.extend(creation_lines(state, entry, &creation, &minute, theme));
            continue;
        }
        lines.push(Line::from(vec![
            Span::styled(minute(entry.at), theme.text),
            Span::styled(format!("  {}  ", entry.who()), theme.accent),
            Span::styled(entry.operation.to_string(), theme.text),
        ]));
        if matches!(
            entry.operation,
            crate::domain::audit::Operation::Insert | crate::domain::audit::Operation::Delete
        ) {
            continue;
        }
        for change in &entry.changes {
            if matches!(
                change.field.as_str(),
                "version" | "updated_at" | "updated_by" | "deleted_at" | "deleted_by"
            ) {
                continue;
            }
            lines.push(Line::from(Span::styled(
                format!(
                    "  {}: {} → {}",
                    change.field,
                    short(change.old_text()),
                    short(change.new_text())
                ),
                theme.dim,
            )));
        }
    }
    lines
}

/// The history's first entry, the insert, told as the Created line tells it: when and by whom
/// the record was created, then, for a record an import or a seed loaded later or in another's
/// name, when and by whom it was loaded.
fn creation_lines(
    state: &State,
    entry: &AuditEntry,
    creation: &Creation,
    minute: &dyn Fn(DateTime<Utc>) -> String,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let hit = state.finder.selected_hit();
    let name = match creation.by {
        Some(id) if hit.is_some_and(|h| h.interaction.created_by == id) => hit
            .and_then(|h| h.created_by_name.clone())
            .unwrap_or_else(|| format!("user #{id}")),
        Some(id) if entry.user_id == Some(id) => entry.who(),
        Some(id) => format!("user #{id}"),
        None => entry.who(),
    };
    let mut lines = vec![Line::from(vec![
        Span::styled(minute(creation.at), theme.text),
        Span::styled(format!("  {name}  "), theme.accent),
        Span::styled("created", theme.text),
    ])];
    if let Some((at, by)) = &creation.loaded {
        lines.push(Line::from(Span::styled(
            format!("  imported {} by {by}", minute(*at)),
            theme.dim,
        )));
    }
    lines
}

/// The interaction's time span in the viewer's zone, when it reads differently there.
fn viewer_time(
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    timezone: &str,
    theme: &Theme,
) -> Option<String> {
    let zone = theme.viewer_zone.name();
    let own = (
        format_wall_clock(start, timezone),
        format_wall_clock(end, timezone),
    );
    let yours = (format_wall_clock(start, zone), format_wall_clock(end, zone));
    (zone != timezone && own != yours).then(|| span_of_time(&yours.0, &yours.1, zone))
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

#[cfg(test)]
mod tests;
