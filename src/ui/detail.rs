//! The detail pane: every field of the selected interaction, matched terms highlighted.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::finder::highlighted;
use super::theme::Theme;
use crate::app::search_types::Hit;
use crate::app::state::State;
use crate::domain::audit::{AuditEntry, Creation};
use crate::domain::interaction::{Interaction, format_minute_in, own_zone_span, span_in};

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
    let text_area = pane(frame, theme, area, beside);
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
    let zone = state.settings.display_zone;
    let mut lines = lines_of(hit, terms, zone, theme);
    if state.finder.history_open {
        lines.push(Line::default());
        lines.extend(history_lines(state, i.interaction_id, zone, theme));
    }
    let text = Paragraph::new(lines).wrap(Wrap { trim: false });
    let overflow = text
        .line_count(text_area.width)
        .saturating_sub(usize::from(text_area.height));
    frame.render_widget(text.scroll((state.finder.detail_scroll, 0)), text_area);
    // Lines below the bottom: say so, and how to reach them, in the last row's right end.
    let below = overflow.saturating_sub(usize::from(state.finder.detail_scroll));
    if below > 0 && text_area.height > 0 {
        let marker = format!(" ↓ {below} more: J ");
        let width = u16::try_from(marker.chars().count()).unwrap_or(u16::MAX);
        if width < text_area.width {
            let at = Rect {
                x: text_area.right() - width,
                y: text_area.bottom() - 1,
                width,
                height: 1,
            };
            frame.render_widget(Paragraph::new(Span::styled(marker, theme.dim)), at);
        }
    }
    Some((
        i.interaction_id,
        u16::try_from(overflow).unwrap_or(u16::MAX),
    ))
}

/// The detail's frame in `area` (a left border when beside a list, a top border when below it,
/// titled "Detail"); answers the area its text goes in, one column in.
pub fn pane(frame: &mut Frame, theme: &Theme, area: Rect, beside: bool) -> Rect {
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
    Rect {
        x: inner.x.saturating_add(1).min(inner.right()),
        width: inner.width.saturating_sub(1),
        ..inner
    }
}

/// Every field of `hit`, then who created and changed it: times in the display zone `zone`,
/// `terms` highlighted.
pub fn lines_of(hit: &Hit, terms: &[String], zone: Tz, theme: &Theme) -> Vec<Line<'static>> {
    let mut lines = field_lines(&hit.interaction, terms, zone, theme);
    lines.push(Line::default());
    lines.extend(record_lines(hit, zone, theme));
    lines
}

/// A labelled line.
fn field(label: &str, value: Vec<Span<'static>>, theme: &Theme) -> Line<'static> {
    let mut spans = vec![Span::styled(format!("{label:<LABEL$}"), theme.dim)];
    spans.extend(value);
    Line::from(spans)
}

/// The interaction's own fields, matched `terms` highlighted: title, type, lead, times (in the
/// display zone `zone`, then in the interaction's own zone with its name when that reads
/// differently), location, description and notes.
fn field_lines(i: &Interaction, terms: &[String], zone: Tz, theme: &Theme) -> Vec<Line<'static>> {
    let plain = |text: String| vec![Span::styled(text, theme.text)];
    let marked = |text: &str| owned(highlighted(text, terms, theme.text, theme.matched));
    let title = owned(highlighted(&i.title, terms, theme.accent, theme.matched));
    let mut lines = vec![
        Line::from(title),
        field("Type", marked(&i.kind), theme),
        field("Lead", marked(&i.lead), theme),
        field(
            "When",
            plain(span_in(i.start_datetime, i.end_datetime, zone)),
            theme,
        ),
    ];
    if let Some(theirs) = own_zone_span(i.start_datetime, i.end_datetime, &i.timezone, zone) {
        lines.push(field("", plain(theirs), theme));
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

/// Who created and last changed the record, when (to the minute, in the display zone `zone`),
/// and its id and version.
fn record_lines(hit: &Hit, zone: Tz, theme: &Theme) -> Vec<Line<'static>> {
    let i = &hit.interaction;
    let plain = |text: String| vec![Span::styled(text, theme.text)];
    let stamp = |t| format_minute_in(t, zone);
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
/// values (long values cut to one line); times in the display zone `zone`.
fn history_lines(state: &State, id: i32, zone: Tz, theme: &Theme) -> Vec<Line<'static>> {
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
    let minute = |t: DateTime<Utc>| format_minute_in(t, zone);
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

fn owned(spans: Vec<Span<'_>>) -> Vec<Span<'static>> {
    spans
        .into_iter()
        .map(|s| Span::styled(s.content.into_owned(), s.style))
        .collect()
}

#[cfg(test)]
mod tests;
