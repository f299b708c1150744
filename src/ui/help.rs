//! The help overlay, generated from the live key map, so it always shows the user's own keys.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use super::layout::centered;
use super::theme::Theme;
use crate::app::action::Action;
use crate::app::keymap::KeyMap;
use crate::app::pane::Hint;
use crate::app::state::{Mode, State};

/// A hint line from the live key map: `"tab: next field · enter: log in"`, each of the pane's
/// hints ([`pane::hints`]) the first key of its actions in `mode` (joined by "/" when it has
/// several actions, unbound ones left out) and `extra` text first; items that would pass
/// `width` columns are dropped.
pub fn hint_line(
    keymap: &KeyMap,
    mode: Mode,
    extra: &[&str],
    hints: &[Hint],
    width: usize,
) -> String {
    let mut parts: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
    for Hint { actions, what } in hints {
        let keys: Option<Vec<String>> = actions
            .iter()
            .map(|a| keymap.keys_for(mode, *a).first().map(ToString::to_string))
            .collect();
        if let Some(keys) = keys {
            parts.push(format!("{}: {what}", keys.join("/")));
        }
    }
    let mut line = String::new();
    for part in parts {
        let next = if line.is_empty() {
            format!(" {part}")
        } else {
            format!("{line} · {part}")
        };
        if next.chars().count() > width {
            break;
        }
        line = next;
    }
    line
}

/// The key rows laid out to fit `area` with `footer` more lines under them: one column when
/// they fit, two side by side when the screen is short but wide enough, else the rows that fit
/// and a line saying there are more.
fn fit<'a>(
    rows: Vec<Line<'a>>,
    footer: usize,
    area: Rect,
    scroll: u16,
    theme: &Theme,
) -> Vec<Line<'a>> {
    let available = usize::from(area.height).saturating_sub(2 + footer);
    if rows.len() <= available {
        return rows;
    }
    let column = rows.iter().map(Line::width).max().unwrap_or(0) + 2;
    let half = rows.len().div_ceil(2);
    if half <= available && 2 * column + 3 <= usize::from(area.width) {
        let mut left: Vec<Line> = rows;
        let right = left.split_off(half);
        let mut right = right.into_iter();
        return left
            .into_iter()
            .map(|mut line| {
                let pad = column.saturating_sub(line.width());
                line.spans.push(Span::raw(" ".repeat(pad)));
                if let Some(r) = right.next() {
                    line.spans.extend(r.spans);
                }
                line
            })
            .collect();
    }
    let keep = available.saturating_sub(1);
    let hidden = rows.len().saturating_sub(keep);
    let skip = usize::from(scroll).min(hidden);
    let total = rows.len();
    let mut shown: Vec<Line> = rows.into_iter().skip(skip).take(keep).collect();
    shown.push(Line::from(Span::styled(
        format!(
            " … lines {}-{} of {total}: j/k scroll",
            skip + 1,
            skip + shown.len()
        ),
        theme.dim,
    )));
    shown
}

/// Draws the help for the mode under the overlay, centred over `area`.
pub fn draw(frame: &mut Frame, state: &State, keymap: &KeyMap, theme: &Theme, area: Rect) {
    let under = state.base_mode();
    let rows = keymap.help_rows(under);
    let key_width = rows
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    let mut lines: Vec<Line> = rows
        .iter()
        .map(|(keys, what)| {
            Line::from(vec![
                Span::styled(format!(" {keys:>key_width$}  "), theme.accent),
                Span::styled(what.as_str(), theme.text),
            ])
        })
        .collect();
    // Under the Finder: the query language, in examples.
    if matches!(under, Mode::List | Mode::Query) {
        let example_width = crate::domain::query::SYNTAX
            .iter()
            .map(|(e, _)| e.chars().count())
            .max()
            .unwrap_or(0);
        lines.push(Line::default());
        lines.push(Line::from(Span::styled(" Search", theme.accent)));
        // Inside the border and its margin; an example and what it finds that do not fit side
        // by side go on two lines, so that neither is cut.
        let inner = usize::from(area.width).saturating_sub(4);
        for (example, finds) in crate::domain::query::SYNTAX {
            if example_width + 3 + finds.chars().count() <= inner {
                lines.push(Line::from(vec![
                    Span::styled(format!(" {example:<example_width$}  "), theme.text),
                    Span::styled(*finds, theme.dim),
                ]));
            } else {
                lines.push(Line::from(Span::styled(format!(" {example}"), theme.text)));
                lines.push(Line::from(Span::styled(format!("     {finds}"), theme.dim)));
            }
        }
    }
    let close: Vec<String> = [Action::Back, Action::Help]
        .into_iter()
        .flat_map(|a| keymap.keys_for(Mode::Help, a))
        .map(|k| k.to_string())
        .collect();
    let mut footer = vec![Line::default()];
    if under.is_text() {
        footer.push(Line::from(Span::styled(
            " other keys type into the field",
            theme.dim,
        )));
    }
    footer.push(Line::from(Span::styled(
        " ctrl-z suspends, fg resumes",
        theme.dim,
    )));
    if !close.is_empty() {
        footer.push(Line::from(Span::styled(
            format!(" {} closes this help", close.join(" or ")),
            theme.dim,
        )));
    }
    // As wide as its widest line, shown or scrolled past, so that scrolling keeps the box still.
    let widest = lines.iter().map(Line::width).max().unwrap_or(0);
    lines = fit(lines, footer.len(), area, state.help_scroll, theme);
    lines.extend(footer);
    let width = lines.iter().map(Line::width).max().unwrap_or(0).max(widest) + 3;
    let height = lines.len() + 2;
    let rect = centered(
        area,
        u16::try_from(width).unwrap_or(u16::MAX),
        u16::try_from(height).unwrap_or(u16::MAX),
    );
    let block = Block::bordered()
        .border_style(theme.accent)
        .title(Span::styled(
            format!(" Keys {} ", under.title()),
            theme.accent,
        ));
    frame.render_widget(Clear, rect);
    frame.render_widget(Paragraph::new(lines).block(block), rect);
}
