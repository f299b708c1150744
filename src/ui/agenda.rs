//! The Agenda: the query line, what the list holds, and the upcoming interactions under a
//! heading per day in the display zone (today's marked). Reads the state only.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::finder::{highlighted, render_clipped};
use super::theme::Theme;
use crate::app::agenda::AgendaState;
use crate::app::search_types::Hit;
use crate::app::state::{Focus, State};
use crate::domain::agenda::{days, heading};
use crate::domain::interaction::day_in;

/// One row of the list: a day's heading (today's marked) or an item.
enum Row {
    Heading { text: String, today: bool },
    Item(usize),
}

/// Draws the Agenda over `area`; returns the row left for the status line.
pub fn draw(frame: &mut Frame, state: &State, theme: &Theme, area: Rect) -> Rect {
    let [query, info, list, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(area);
    let Some(agenda) = state.agenda() else {
        return status;
    };
    draw_query(frame, state, agenda, theme, query);
    render_clipped(frame, info_line(state, agenda, theme), info);
    let (list, detail) = match agenda.selected_item().filter(|_| agenda.detail_open) {
        Some(hit) => {
            let beside = area.width >= super::layout::WIDE;
            let (list, detail) = split(list, beside);
            (list, Some((hit, detail, beside)))
        }
        None => (list, None),
    };
    draw_list(frame, state, agenda, theme, list);
    if let Some((hit, area, beside)) = detail {
        let text_area = super::detail::pane(frame, theme, area, beside);
        let lines =
            super::detail::lines_of(hit, &agenda.highlight, state.settings.display_zone, theme);
        frame.render_widget(
            Paragraph::new(lines).wrap(ratatui::widgets::Wrap { trim: false }),
            text_area,
        );
    }
    status
}

/// The list and the detail, beside it on a wide screen or below it, as in the Finder.
fn split(list: Rect, beside: bool) -> (Rect, Rect) {
    let [a, b] = if beside {
        Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(list)
    } else {
        Layout::vertical([Constraint::Percentage(45), Constraint::Percentage(55)]).areas(list)
    };
    (a, b)
}

fn draw_query(frame: &mut Frame, state: &State, agenda: &AgendaState, theme: &Theme, area: Rect) {
    let focused = agenda.focus == Focus::Query && !state.help_open;
    let prompt = " / ";
    let value = agenda.query.value();
    let text = if value.is_empty() && !focused {
        Span::styled("press / to filter the agenda", theme.dim)
    } else {
        Span::styled(value, theme.text)
    };
    let prompt_style = if focused { theme.accent } else { theme.dim };
    let width = usize::from(area.width.saturating_sub(4));
    let scroll = agenda.query.visual_scroll(width);
    let line = Line::from(vec![Span::styled(prompt, prompt_style), text]);
    frame.render_widget(
        Paragraph::new(line).scroll((0, u16::try_from(scroll).unwrap_or(u16::MAX))),
        area,
    );
    if focused {
        let column = agenda.query.visual_cursor().saturating_sub(scroll) + prompt.len();
        let x = area
            .x
            .saturating_add(u16::try_from(column).unwrap_or(u16::MAX));
        if x < area.right() {
            frame.set_cursor_position((x, area.y));
        }
    }
}

/// "Agenda · Albert Street · 12 coming up · times in Europe/London", or what is happening.
fn info_line<'a>(state: &State, agenda: &AgendaState, theme: &Theme) -> Line<'a> {
    let sep = || Span::styled(" · ", theme.dim);
    let mut spans = vec![
        Span::styled(" Agenda", theme.accent),
        sep(),
        Span::styled(state.session.site.clone(), theme.text),
        sep(),
    ];
    let count = agenda.items.len();
    spans.push(match (&agenda.error, agenda.loaded) {
        (Some(error), _) => Span::styled(error.clone(), theme.error),
        (None, false) => Span::styled("loading…", theme.dim),
        (None, true) if agenda.next_cursor.is_some() => {
            Span::styled(format!("{count}+ coming up"), theme.accent)
        }
        (None, true) => Span::styled(format!("{count} coming up"), theme.accent),
    });
    spans.push(sep());
    spans.push(Span::styled(
        format!("times in {}", state.settings.display_zone.name()),
        theme.dim,
    ));
    for note in &agenda.ignored {
        spans.push(sep());
        spans.push(Span::styled(note.clone(), theme.fuzzy));
    }
    Line::from(spans)
}

fn rows(state: &State, agenda: &AgendaState) -> Vec<Row> {
    let (now, zone) = (state.wall_clock, state.settings.display_zone);
    let starts: Vec<_> = agenda
        .items
        .iter()
        .map(|h| h.interaction.start_datetime)
        .collect();
    let mut rows = Vec::with_capacity(starts.len() + 8);
    for day in days(&starts, now, zone) {
        rows.push(Row::Heading {
            text: heading(&day, now, zone),
            today: day.today,
        });
        rows.extend(day.items.map(Row::Item));
    }
    rows
}

fn draw_list(frame: &mut Frame, state: &State, agenda: &AgendaState, theme: &Theme, area: Rect) {
    if agenda.loaded && agenda.items.is_empty() {
        let text = if agenda.query.value().trim().is_empty() {
            format!(
                " Nothing coming up at {} from today on.",
                state.session.site
            )
        } else {
            " Nothing coming up matches; try fewer words.".to_string()
        };
        frame.render_widget(Paragraph::new(Span::styled(text, theme.dim)), area);
        return;
    }
    let rows = rows(state, agenda);
    let height = usize::from(area.height);
    let at = rows
        .iter()
        .position(|r| matches!(r, Row::Item(i) if *i == agenda.selected))
        .unwrap_or(0);
    // The selection on screen, with its day's heading above it when there is room.
    let offset = (at + 1).saturating_sub(height);
    for (n, row) in rows.iter().skip(offset).take(height).enumerate() {
        let rect = Rect {
            y: area.y + u16::try_from(n).unwrap_or(u16::MAX),
            height: 1,
            ..area
        };
        match row {
            Row::Heading { text, today } => {
                let (mark, style) = if *today {
                    ("● ", theme.accent)
                } else {
                    ("  ", theme.dim)
                };
                let line = Line::from(vec![
                    Span::styled(format!(" {mark}"), style),
                    Span::styled(text.clone(), style),
                ]);
                render_clipped(frame, line, rect);
            }
            Row::Item(i) => {
                let Some(hit) = agenda.items.get(*i) else {
                    continue;
                };
                let selected = *i == agenda.selected;
                render_clipped(frame, item_line(state, agenda, hit, selected, theme), rect);
                if selected {
                    frame.buffer_mut().set_style(rect, theme.selected);
                }
            }
        }
    }
}

/// `▶ 09:30–11:00  Title · Type · Lead · Location`, in the display zone (an end on a later day
/// says how many days later); a start already past is dimmed.
fn item_line<'a>(
    state: &State,
    agenda: &'a AgendaState,
    hit: &'a Hit,
    selected: bool,
    theme: &Theme,
) -> Line<'a> {
    let zone = state.settings.display_zone;
    let i = &hit.interaction;
    let start = i.start_datetime.with_timezone(&zone);
    let end = i.end_datetime.with_timezone(&zone);
    let later = (day_in(i.end_datetime, zone) - day_in(i.start_datetime, zone)).num_days();
    let end_text = if later > 0 {
        format!("{}+{later}d", end.format("%H:%M"))
    } else {
        end.format("%H:%M").to_string()
    };
    let past = i.start_datetime < state.wall_clock;
    let time_style = if past { theme.dim } else { theme.accent };
    // A moment (no duration: an email, a note) is its start alone.
    let span = if i.end_datetime == i.start_datetime {
        start.format("%H:%M").to_string()
    } else {
        format!("{}–{end_text}", start.format("%H:%M"))
    };
    let mut spans = vec![
        Span::raw(if selected { "   ▶ " } else { "     " }),
        Span::styled(format!("{span:<11}  "), time_style),
    ];
    let title_style = if past { theme.dim } else { Style::new() };
    spans.extend(highlighted(
        &i.title,
        &agenda.highlight,
        title_style,
        theme.matched,
    ));
    for part in [
        Some(i.kind.as_str()),
        Some(i.lead.as_str()),
        i.location.as_deref(),
    ]
    .into_iter()
    .flatten()
    .filter(|p| !p.is_empty())
    {
        spans.push(Span::styled(" · ", theme.dim));
        spans.extend(highlighted(
            part,
            &agenda.highlight,
            theme.dim,
            theme.matched,
        ));
    }
    Line::from(spans)
}

#[cfg(test)]
mod tests;
