//! The interaction form: one row per single-line field, boxes for description and notes, each
//! field's problems under it, timezone suggestions under the Timezone field, and a footer with
//! the save state and the keys. Also the question box (discard? restore a draft?).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Padding, Paragraph, Wrap};

use super::layout::centered;
use super::theme::Theme;
use crate::app::action::Action;
use crate::app::form::{Confirm, FormState, FormTarget};
use crate::app::keymap::KeyMap;
use crate::app::pane::{self, Hint};
use crate::app::state::{Area, Mode, State};
use crate::domain::interaction::Field;

/// Columns taken by a field's label (marker, name, space).
pub const LABEL: u16 = 13;

/// Where each part of the form goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormAreas {
    pub header: Rect,
    /// Each field's editor (without its label), in [`Field::ALL`] order.
    pub fields: Vec<(Field, Rect)>,
    /// Each field's problems, under it (empty when it has none on screen).
    pub problems: Vec<(Field, Rect)>,
    pub footer: Rect,
    pub status: Rect,
    /// The fields do not all fit: they scroll with the cursor.
    pub scrolled: bool,
}

/// Rows a text takes when wrapped to `width` (at least one).
fn rows(text: &str, width: u16) -> u16 {
    let width = usize::from(width.max(1));
    let chars = text.chars().count().max(1);
    u16::try_from(chars.div_ceil(width)).unwrap_or(u16::MAX)
}

fn problem_text(form: &FormState, field: Field) -> String {
    form.problems(field)
        .map(|p| format!("✗ {}", p.message))
        .collect::<Vec<_>>()
        .join(" ")
}

fn footer_text(form: &FormState) -> Option<&str> {
    form.failure.as_deref()
}

/// Rows a field takes: one for a single-line field; for description and notes a title row and
/// at least two of text.
fn field_rows(field: Field) -> u16 {
    if field.is_multi_line() { 3 } else { 1 }
}

/// Splits `area` for `form`. Pure geometry, shared with `update` (clicks). When the fields do not
/// fit, they scroll so that the focused one (with its problems) is always in view.
fn areas(area: Rect, form: &FormState) -> FormAreas {
    let inner_width = area.width.saturating_sub(LABEL);
    let problem_rows: Vec<u16> = Field::ALL
        .into_iter()
        .map(|field| {
            let problems = problem_text(form, field);
            if problems.is_empty() {
                0
            } else {
                rows(&problems, inner_width)
            }
        })
        .collect();
    let footer_rows = footer_text(form).map_or(1, |t| rows(t, area.width.saturating_sub(1)).min(3));
    let needed: u16 = Field::ALL
        .into_iter()
        .zip(&problem_rows)
        .map(|(field, p)| field_rows(field) + p)
        .sum();
    if needed + footer_rows + 2 > area.height {
        return scrolled(area, form, &problem_rows, footer_rows);
    }
    let mut constraints = vec![Constraint::Length(1)];
    for (field, problems) in Field::ALL.into_iter().zip(&problem_rows) {
        if field.is_multi_line() {
            constraints.push(Constraint::Min(3));
        } else {
            constraints.push(Constraint::Length(1));
        }
        constraints.push(Constraint::Length(*problems));
    }
    constraints.push(Constraint::Length(footer_rows));
    constraints.push(Constraint::Length(1));
    let parts = Layout::vertical(constraints).split(area);
    let part = |i: usize| parts.get(i).copied().unwrap_or_default();
    let mut fields = Vec::new();
    let mut problems = Vec::new();
    for (n, field) in Field::ALL.into_iter().enumerate() {
        fields.push((field, editor_of(field, part(1 + 2 * n))));
        problems.push((field, problems_of(part(2 + 2 * n))));
    }
    let n = parts.len();
    FormAreas {
        header: part(0),
        fields,
        problems,
        footer: part(n.saturating_sub(2)),
        status: part(n.saturating_sub(1)),
        scrolled: false,
    }
}

/// The editor's part of a field's rows: right of the label, or under the title row of a
/// multi-line field.
fn editor_of(field: Field, row: Rect) -> Rect {
    if field.is_multi_line() {
        // A title row, then the text indented under the labels' column.
        Rect {
            x: row.x + 2,
            y: row.y + 1,
            width: row.width.saturating_sub(3),
            height: row.height.saturating_sub(1),
        }
    } else {
        Rect {
            x: row.x + LABEL.min(row.width),
            width: row.width.saturating_sub(LABEL),
            ..row
        }
    }
}

/// Where a field's problems go: under its text, right of the labels' column.
fn problems_of(below: Rect) -> Rect {
    Rect {
        x: below.x + LABEL.min(below.width),
        width: below.width.saturating_sub(LABEL),
        ..below
    }
}

/// [`areas`] when the fields are taller than the screen: each field at its least height, the
/// view scrolled to show the focused field (and its problems) with the row above it for context;
/// the others not wholly in view are not drawn (zero height: a text area drawn cut would keep
/// its cut scroll position when it has room again).
fn scrolled(area: Rect, form: &FormState, problem_rows: &[u16], footer_rows: u16) -> FormAreas {
    let [header, body, footer, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(footer_rows),
        Constraint::Length(1),
    ])
    .areas(area);
    // Rows from the top of the whole form, as (field rows, problem rows) of each field.
    let mut spans = Vec::new();
    let mut top = 0u16;
    for (field, problems) in Field::ALL.into_iter().zip(problem_rows) {
        let rows = field_rows(field);
        spans.push((field, top, rows, *problems));
        top += rows + problems;
    }
    let total = top;
    let focused = form.focused();
    let (first, last) = spans
        .iter()
        .find(|(f, ..)| *f == focused)
        .map_or((0, 0), |(_, top, rows, problems)| {
            (*top, top + rows + problems)
        });
    let mut offset = first
        .saturating_sub(1)
        .min(total.saturating_sub(body.height));
    if last > offset + body.height {
        offset = first;
    }
    let hidden = |rows: Rect| Rect { height: 0, ..rows };
    let mut fields = Vec::new();
    let mut problems = Vec::new();
    for (field, top, rows, problem) in spans {
        let place = |top: u16, height: u16| -> Rect {
            let row = Rect {
                x: body.x,
                y: body.y + top.saturating_sub(offset),
                width: body.width,
                height,
            };
            let inside = top >= offset && top + height <= offset + body.height;
            if inside {
                row
            } else if field == focused && top >= offset {
                // Taller than the whole view: as much of it as fits.
                row.intersection(body)
            } else {
                hidden(row)
            }
        };
        fields.push((field, editor_of(field, place(top, rows))));
        problems.push((field, problems_of(place(top + rows, problem))));
    }
    FormAreas {
        header,
        fields,
        problems,
        footer,
        status,
        scrolled: true,
    }
}

/// The rows a click focuses each field by: its label and its editor, the screen's width.
fn click_areas(areas: &FormAreas, screen: Rect) -> Vec<(Field, Area)> {
    areas
        .fields
        .iter()
        .map(|(field, r)| {
            let top = if field.is_multi_line() {
                r.y.saturating_sub(1)
            } else {
                r.y
            };
            let area = Area {
                x: screen.x,
                y: top,
                width: screen.width,
                height: r.bottom().saturating_sub(top),
            };
            (*field, area)
        })
        .collect()
}

/// Draws the form over `area`: the status line's area (the caller draws it) and where each
/// field went, for clicks.
pub fn draw(
    frame: &mut Frame,
    state: &State,
    keymap: &KeyMap,
    theme: &Theme,
    area: Rect,
) -> (Rect, Vec<(Field, Area)>) {
    let Some(form) = state.form() else {
        return (area, Vec::new());
    };
    let areas = areas(area, form);
    let header = match form.target {
        FormTarget::New => format!(" New interaction · {}", state.session.site),
        FormTarget::Edit {
            interaction_id,
            version,
        } => format!(
            " Edit interaction {interaction_id} (version {version}) · {}",
            state.session.site
        ),
    };
    frame.render_widget(
        Paragraph::new(Line::from(Span::styled(header, theme.accent))),
        areas.header,
    );
    if areas.scrolled {
        // Where the cursor is among the fields, at the right end of the header (over its end).
        let n = Field::ALL
            .iter()
            .position(|f| *f == form.focused())
            .unwrap_or(0)
            + 1;
        let at = format!(" {n}/{} ", Field::ALL.len());
        let width = u16::try_from(at.len()).unwrap_or(0).min(areas.header.width);
        let corner = Rect {
            x: areas.header.right().saturating_sub(width),
            width,
            ..areas.header
        };
        frame.render_widget(Clear, corner);
        frame.render_widget(Paragraph::new(Span::styled(at, theme.dim)), corner);
    }
    let focused = form.focused();
    for (field, editor_area) in &areas.fields {
        draw_field(frame, form, theme, *field, *field == focused, *editor_area);
    }
    for (field, problem_area) in &areas.problems {
        let text = problem_text(form, *field);
        // On a very narrow screen the label column takes every cell: nothing to draw into.
        if !text.is_empty() && !problem_area.is_empty() {
            frame.render_widget(
                Paragraph::new(Span::styled(text, theme.error)).wrap(Wrap { trim: true }),
                *problem_area,
            );
        }
    }
    let footer = match (&form.failure, &form.saving) {
        (_, Some(_)) => Line::from(Span::styled(" saving…", theme.dim)),
        (Some(failure), None) => Line::from(Span::styled(format!(" {failure}"), theme.error)),
        (None, None) => Line::from(Span::styled(
            hints(state, keymap, state.base_mode()),
            theme.dim,
        )),
    };
    frame.render_widget(
        Paragraph::new(footer).wrap(Wrap { trim: false }),
        areas.footer,
    );
    if !form.suggestions.is_empty()
        && state.confirm.is_none()
        && let Some((_, field_area)) = areas.fields.iter().find(|(f, _)| *f == focused)
    {
        draw_suggestions(frame, form, theme, *field_area, area);
    }
    (areas.status, click_areas(&areas, area))
}

/// One field: its label (a line above a multi-line field, a column left of the others) and its
/// editor.
fn draw_field(
    frame: &mut Frame,
    form: &FormState,
    theme: &Theme,
    field: Field,
    is_focused: bool,
    editor_area: Rect,
) {
    if editor_area.height == 0 {
        // Scrolled out of view.
        return;
    }
    let (mark, label_style) = if is_focused {
        ("▶", theme.accent)
    } else {
        (" ", theme.dim)
    };
    let label = format!(
        "{mark} {:<width$}",
        field.label(),
        width = usize::from(LABEL) - 3
    );
    if field.is_multi_line() {
        let row = Rect {
            x: editor_area.x.saturating_sub(2),
            y: editor_area.y.saturating_sub(1),
            width: editor_area.width + 3,
            height: 1,
        };
        let block = Block::new()
            .borders(Borders::TOP)
            .border_style(if is_focused {
                theme.accent
            } else {
                theme.border
            })
            .title(Span::styled(
                format!("{mark} {} ", field.label()),
                label_style,
            ));
        frame.render_widget(block, row);
    } else {
        let label_area = Rect {
            x: editor_area.x.saturating_sub(LABEL),
            width: LABEL.min(editor_area.x),
            ..editor_area
        };
        if !label_area.is_empty() {
            frame.render_widget(Paragraph::new(Span::styled(label, label_style)), label_area);
        }
    }
    if let Some(editor) = form.editor(field)
        && !editor_area.is_empty()
    {
        frame.render_widget(editor, editor_area);
    }
}

/// " ctrl-s save · tab next field · esc back": the first key of each, from the live key map.
fn hints(state: &State, keymap: &KeyMap, mode: Mode) -> String {
    let parts: Vec<String> = pane::hints(state, mode)
        .into_iter()
        .filter_map(|Hint { actions, what }| {
            let keys: Option<Vec<String>> = actions
                .iter()
                .map(|a| keymap.keys_for(mode, *a).first().map(ToString::to_string))
                .collect();
            keys.map(|keys| format!("{} {what}", keys.join("/")))
        })
        .collect();
    format!(" {}", parts.join(" · "))
}

/// The timezone names offered for the typed text, in a box under the field.
fn draw_suggestions(frame: &mut Frame, form: &FormState, theme: &Theme, field: Rect, screen: Rect) {
    let width = form
        .suggestions
        .iter()
        .map(|s| s.chars().count())
        .max()
        .unwrap_or(0)
        + 5;
    let height = form.suggestions.len() + 2;
    let y = field.y + 1;
    let rect = Rect {
        x: field.x,
        y,
        width: u16::try_from(width).unwrap_or(u16::MAX),
        height: u16::try_from(height).unwrap_or(u16::MAX),
    }
    .intersection(screen);
    if rect.is_empty() {
        return;
    }
    let lines: Vec<Line> = form
        .suggestions
        .iter()
        .enumerate()
        .map(|(i, name)| {
            if Some(i) == form.suggestion {
                Line::from(Span::styled(format!("▶ {name}"), theme.selected))
            } else {
                Line::from(Span::styled(format!("  {name}"), theme.text))
            }
        })
        .collect();
    let block = Block::bordered()
        .border_style(theme.border)
        .title(Span::styled(
            if form.suggestion.is_some() {
                " tab takes "
            } else {
                " down picks "
            },
            theme.dim,
        ));
    frame.render_widget(Clear, rect);
    frame.render_widget(Paragraph::new(lines).block(block), rect);
}

/// The question on screen, centred over `area`, with its answers' keys from the key map; for the
/// conflict question, how far its values can scroll.
pub fn draw_confirm(
    frame: &mut Frame,
    state: &State,
    keymap: &KeyMap,
    theme: &Theme,
    area: Rect,
) -> Option<u16> {
    let Some(question) = &state.confirm else {
        return None;
    };
    if let Confirm::Conflict(view) = question {
        return Some(conflict::draw(frame, view, keymap, theme, area));
    }
    let key = |action: Action| {
        keymap
            .keys_for(Mode::Confirm, action)
            .first()
            .map_or_else(String::new, ToString::to_string)
    };
    let width = area.width.clamp(20, 72);
    let inner_width = width.saturating_sub(4);
    let Question {
        title,
        text,
        yes,
        no,
        back,
    } = question_of(question, state.settings.trash_days);
    let mut lines = vec![Line::from(Span::styled(text, theme.text))];
    lines.extend([
        Line::default(),
        Line::from(Span::styled(
            format!(
                "{}: {yes}  ·  {}: {no}  ·  {}: {back}",
                key(Action::Yes),
                key(Action::No),
                key(Action::Back)
            ),
            theme.accent,
        )),
    ]);
    let height = lines
        .iter()
        .map(|l| rows(&l.to_string(), inner_width))
        .sum::<u16>()
        + 2;
    let rect = centered(area, width, height);
    let block = Block::bordered()
        .border_style(theme.accent)
        .padding(Padding::horizontal(1))
        .title(Span::styled(title, theme.accent));
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        rect,
    );
    None
}

/// A question's words: its title, its text, and what yes, no and back do.
struct Question {
    title: &'static str,
    text: String,
    yes: &'static str,
    no: &'static str,
    back: &'static str,
}

/// The words of `question` (`trash_days`: how long the trash keeps what is deleted).
fn question_of(question: &Confirm, trash_days: u32) -> Question {
    let (title, text, yes, no, back) = match question {
        // Drawn by `conflict::draw`, never through here.
        Confirm::Conflict(_) => (
            " Someone saved first ",
            String::new(),
            "save",
            "take theirs",
            "keep editing",
        ),
        Confirm::Delete { title, .. } => (
            " Delete? ",
            format!(
                "Move \"{title}\" to the trash? It leaves every search at once; site admins can \
                 restore it from the trash (t) for {} days.",
                trash_days
            ),
            "delete it",
            "keep it",
            "keep it",
        ),
        Confirm::Discard => (
            " Discard changes? ",
            "This form has changes that are not saved.".to_string(),
            "discard them",
            "keep editing",
            "keep editing",
        ),
        Confirm::RestoreDraft(draft) => {
            let what = match draft.target {
                FormTarget::New => "a new interaction".to_string(),
                FormTarget::Edit { interaction_id, .. } => {
                    format!("your edit of interaction {interaction_id}")
                }
            };
            let when = draft.saved_at.map_or_else(String::new, |t| {
                format!(" from {}", t.format("%Y-%m-%d %H:%M UTC"))
            });
            let title = if draft.input.title.trim().is_empty() {
                String::new()
            } else {
                format!(" \"{}\"", draft.input.title.trim())
            };
            (
                " Unsaved draft ",
                format!(
                    "You have an unsaved draft of {what}{title}{when}, left when ifind last stopped."
                ),
                "restore it",
                "discard it",
                "decide later",
            )
        }
    };
    Question {
        title,
        text,
        yes,
        no,
        back,
    }
}

mod conflict;
#[cfg(test)]
mod tests;
