//! The Site picker: a filter line, the matching sites with the user's role and their number of
//! interactions, and a hint line.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::help::hint_line;
use super::theme::Theme;
use crate::app::keymap::KeyMap;
use crate::app::pane;
use crate::app::state::{Mode, State};

/// The widest the table of sites gets, in columns.
const MAX_TABLE_WIDTH: usize = 80;

/// Draws the Site picker over `area`; the hint line shows the user's own keys.
pub fn draw(frame: &mut Frame, state: &State, keymap: &KeyMap, theme: &Theme, area: Rect) {
    let [title, filter, header, list, hint] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(area);
    draw_heading(frame, state, theme, title, filter);
    draw_sites(frame, state, theme, header, list);
    draw_hint(frame, state, keymap, theme, hint);
}

/// The title line and the filter line (with the cursor in it).
fn draw_heading(frame: &mut Frame, state: &State, theme: &Theme, title: Rect, filter: Rect) {
    let picker = &state.picker;
    let shown = format!("{} of {}", picker.visible.len(), picker.sites.len());
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(" Pick a site", theme.accent),
            Span::styled(format!(" · {} · {shown}", state.session.user), theme.dim),
        ])),
        title,
    );
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(" / ", theme.accent),
            Span::styled(picker.filter.value().to_string(), theme.text),
        ])),
        filter,
    );
    let x = filter.x + 3 + u16::try_from(picker.filter.visual_cursor()).unwrap_or(u16::MAX);
    if x < filter.right() && filter.height > 0 && !state.help_open {
        frame.set_cursor_position((x, filter.y));
    }
}

/// The table of sites: its header, then the visible sites around the selection.
fn draw_sites(frame: &mut Frame, state: &State, theme: &Theme, header: Rect, list: Rect) {
    let picker = &state.picker;
    let rows = usize::from(list.height);
    let offset = (picker.selected + 1).saturating_sub(rows);
    // On wide terminals the role and count stay near the name instead of at the far edge.
    let width = usize::from(list.width).min(MAX_TABLE_WIDTH);
    let columns = |name: &str, role: &str, count: &str| {
        let right = format!("{role:<6}  {count:>12} ");
        let name_width = width.saturating_sub(right.chars().count() + 3);
        let name: String = name.chars().take(name_width).collect();
        format!("{name:<name_width$} {right}")
    };
    frame.render_widget(
        Paragraph::new(Span::styled(
            format!("  {}", columns("site", "role", "interactions")),
            theme.dim,
        )),
        header,
    );
    let mut lines: Vec<Line> = Vec::new();
    if picker.sites.is_empty() {
        lines.push(Line::from(Span::styled(
            " You have no sites yet; ask an administrator to grant you one.",
            theme.dim,
        )));
    } else if picker.visible.is_empty() {
        lines.push(Line::from(Span::styled(
            " No site matches the filter.",
            theme.dim,
        )));
    }
    for (n, &i) in picker.visible.iter().enumerate().skip(offset).take(rows) {
        let Some(site) = picker.sites.get(i) else {
            continue;
        };
        let selected = n == picker.selected;
        let mark = if selected { "▶" } else { " " };
        let line = format!(
            "{mark} {}",
            columns(
                &site.name,
                site.role.as_str(),
                &crate::domain::format::thousands(site.interactions)
            )
        );
        let style = if selected { theme.selected } else { theme.text };
        lines.push(Line::from(Span::styled(line, style)));
    }
    frame.render_widget(Paragraph::new(lines), list);
}

/// The hint line (or the notice in its place), with the user's own keys.
fn draw_hint(frame: &mut Frame, state: &State, keymap: &KeyMap, theme: &Theme, hint: Rect) {
    let note = match &state.notice {
        Some(notice) => format!(" {notice}"),
        None => hint_line(
            keymap,
            Mode::Picker,
            &["type to filter"],
            &pane::hints(state, Mode::Picker),
            usize::from(hint.width),
        ),
    };
    frame.render_widget(Paragraph::new(Span::styled(note, theme.status)), hint);
}
