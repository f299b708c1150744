//! The first-run screen: a centred box that says why it is there, the five fields (the
//! passwords masked), what is wrong or under way, and the hint line.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::help::hint_line;
use super::layout::centered;
use super::theme::Theme;
use crate::app::first_run::{FirstRunState, SetupField};
use crate::app::keymap::KeyMap;
use crate::app::pane;
use crate::app::state::{Mode, State};

/// The labels' column, with the focus mark.
const LABEL: u16 = 12;

/// Draws the first-run screen over `area`; the hint line shows the user's own keys.
pub fn draw(frame: &mut Frame, state: &State, keymap: &KeyMap, theme: &Theme, area: Rect) {
    let Some(form) = state.first_run_form() else {
        return;
    };
    let rect = centered(area, 64, 14);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(Span::styled(" ifind · first run ", theme.accent));
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let [intro, fields, message, hint] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Length(6),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(inner);
    frame.render_widget(
        Paragraph::new(Line::from(Span::styled(
            "No users yet: create the first administrator and site.",
            theme.text,
        )))
        .wrap(Wrap { trim: false }),
        indented(intro),
    );
    let lines: Vec<Line> = SetupField::ALL
        .iter()
        .map(|&field| field_line(form, field, theme))
        .collect();
    frame.render_widget(Paragraph::new(lines), fields);
    frame.render_widget(
        Paragraph::new(Line::from(message_span(form, theme))).wrap(Wrap { trim: false }),
        indented(message),
    );
    frame.render_widget(
        Paragraph::new(Span::styled(
            hint_line(
                keymap,
                Mode::Setup,
                &[],
                &pane::hints(state, Mode::Setup),
                usize::from(hint.width),
            ),
            theme.dim,
        )),
        hint,
    );
    let row = SetupField::ALL
        .iter()
        .position(|f| *f == form.field)
        .and_then(|at| u16::try_from(at).ok())
        .unwrap_or(0);
    let cursor = u16::try_from(form.input(form.field).visual_cursor()).unwrap_or(u16::MAX);
    let x = fields.x.saturating_add(LABEL).saturating_add(cursor);
    if form.pending.is_none() && !state.help_open && row < fields.height && x < fields.right() {
        frame.set_cursor_position((x, fields.y + row));
    }
}

/// One labelled field; the focused one is marked by a `▶` and the accent colour.
fn field_line(form: &FirstRunState, field: SetupField, theme: &Theme) -> Line<'static> {
    let focused = form.field == field;
    let (mark, style) = if focused {
        ("▶", theme.accent)
    } else {
        (" ", theme.text)
    };
    let value = form.input(field).value();
    let shown = if field.is_secret() {
        "•".repeat(value.chars().count())
    } else {
        value.to_string()
    };
    Line::from(vec![
        Span::styled(format!("{mark}{:>10} ", field.label()), style),
        Span::styled(shown, theme.text),
    ])
}

/// What is wrong, what is under way, or what the focused field wants.
fn message_span(form: &FirstRunState, theme: &Theme) -> Span<'static> {
    if form.pending.is_some() {
        return Span::styled("creating…", theme.dim);
    }
    if let Some((_, error)) = &form.error {
        return Span::styled(error.clone(), theme.error);
    }
    let help: String = match form.field {
        SetupField::Site => "the site interactions belong to; more can be added later".into(),
        SetupField::Username => "one word, such as j.smith; you log in with it".into(),
        SetupField::Email => "the administrator's email address".into(),
        SetupField::Password => format!(
            "at least {} characters; ifind keeps no copy",
            crate::password::MIN_LENGTH
        ),
        SetupField::Repeat => "the same password again; enter creates both".into(),
    };
    Span::styled(help, theme.dim)
}

/// `area` without its first column, so that wrapped lines start where the first did.
fn indented(area: Rect) -> Rect {
    Rect {
        x: area.x.saturating_add(1),
        width: area.width.saturating_sub(1),
        ..area
    }
}
