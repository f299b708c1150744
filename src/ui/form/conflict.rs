//! The conflict question: who saved first, what the merge kept without asking, and each field
//! both edits changed with both values in full (wrapped), the side taken marked by a ✓ (not by
//! colour alone). Values longer than the screen scroll; the field with the cursor is always in
//! view.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Padding, Paragraph};

use crate::app::action::Action;
use crate::app::form::ConflictView;
use crate::app::keymap::KeyMap;
use crate::app::state::Mode;
use crate::domain::interaction::Field;
use crate::domain::interaction::merge::Side;
use crate::ui::layout::centered;
use crate::ui::theme::Theme;

/// Below this many columns inside the box, a value goes under its label instead of beside it.
const STACK_BELOW: usize = 60;

/// The widest the question gets, in columns.
const MAX_WIDTH: u16 = 100;

/// Display columns of `text` in a terminal.
fn columns(text: &str) -> usize {
    Span::raw(text).width()
}

/// `text` wrapped to `width` columns: at spaces where it can, inside a word where it must; each
/// line of the text starts a row, tabs become four spaces.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut rows = Vec::new();
    for line in text.split('\n') {
        let line = line.replace('\t', "    ");
        let mut row = String::new();
        let mut used = 0;
        for word in line.split_inclusive(' ') {
            let word_width = columns(word.trim_end());
            if used + word_width > width && !row.is_empty() && word_width <= width {
                rows.push(row.trim_end().to_string());
                row.clear();
                used = 0;
            }
            for c in word.chars() {
                let mut buf = [0u8; 4];
                let w = columns(c.encode_utf8(&mut buf));
                if used + w > width && c != ' ' {
                    rows.push(row.trim_end().to_string());
                    row.clear();
                    used = 0;
                }
                if c == ' ' && used + w > width {
                    continue;
                }
                row.push(c);
                used += w;
            }
        }
        rows.push(row.trim_end().to_string());
    }
    rows
}

/// The first key of `action` in the conflict question, from the live key map.
fn key(keymap: &KeyMap, action: Action) -> String {
    keymap
        .keys_for(Mode::Conflict, action)
        .first()
        .map_or_else(String::new, ToString::to_string)
}

fn names(fields: &[Field]) -> String {
    fields
        .iter()
        .map(|f| f.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The sentences above the fields.
fn head(view: &ConflictView) -> Vec<String> {
    let when = view.theirs.updated_at.map_or_else(String::new, |t| {
        format!(" at {}", t.format("%Y-%m-%d %H:%M UTC"))
    });
    let mut text = vec![format!(
        "Version {} was saved by {}{when} while you were editing. Nothing was overwritten.",
        view.theirs.version,
        view.who(),
    )];
    let (theirs, mine) = (&view.merge.theirs_only, &view.merge.mine_only);
    let kept: Vec<String> = [(theirs, "their"), (mine, "your")]
        .into_iter()
        .filter(|(fields, _)| !fields.is_empty())
        .map(|(fields, whose)| format!("{whose} {}", names(fields)))
        .collect();
    if !kept.is_empty() {
        text.push(format!(
            "Kept without asking (only one of you changed them): {}.",
            kept.join("; ")
        ));
    }
    let n = view.merge.clashes.len();
    text.push(format!(
        "Both of you changed {n} field{}: choose yours or theirs for each, then save.",
        if n == 1 { "" } else { "s" }
    ));
    text
}

/// The fields both changed, as rows of `width` columns, and the row each field starts at.
fn body(view: &ConflictView, width: usize, theme: &Theme) -> (Vec<Line<'static>>, Vec<usize>) {
    let who = view.who();
    let theirs_label = format!("theirs ({who})");
    // Narrow: each side's label on a row of its own, the value under it.
    let stacked = width < STACK_BELOW;
    let label_width = if stacked {
        columns(&theirs_label)
    } else {
        columns(&theirs_label).max(5).min(width / 3)
    };
    let gutter = if stacked { 4 } else { 4 + label_width + 3 };
    let value_width = width.saturating_sub(gutter).max(1);
    let mut lines = Vec::new();
    let mut starts = Vec::new();
    for (i, (clash, taken)) in view.merge.clashes.iter().zip(&view.takes).enumerate() {
        starts.push(lines.len());
        let selected = i == view.selected;
        let (mark, style) = if selected {
            ("▶ ", theme.accent.add_modifier(Modifier::BOLD))
        } else {
            ("  ", theme.text)
        };
        lines.push(Line::from(Span::styled(
            format!("{mark}{}", clash.field.label()),
            style,
        )));
        for (side, label, value) in [
            (Side::Theirs, theirs_label.as_str(), &clash.theirs),
            (Side::Mine, "yours", &clash.mine),
        ] {
            let chosen = *taken == side;
            let style = if chosen { theme.text } else { theme.dim };
            let label: String = label.chars().take(label_width).collect();
            let mut rows = wrap(value, value_width);
            let empty = value.trim().is_empty();
            if empty {
                rows = vec!["(empty)".to_string()];
            }
            if stacked {
                let mark = if chosen { "✓" } else { " " };
                lines.push(Line::from(Span::styled(
                    format!("  {mark} {label}:"),
                    style,
                )));
            }
            for (n, row) in rows.into_iter().enumerate() {
                let prefix = if stacked {
                    " ".repeat(gutter)
                } else if n == 0 {
                    format!(
                        "  {} {label:<label_width$} │ ",
                        if chosen { "✓" } else { " " }
                    )
                } else {
                    format!("{:>gutter$}", "│ ")
                };
                let value_style = if empty { theme.dim } else { style };
                lines.push(Line::from(vec![
                    Span::styled(prefix, style),
                    Span::styled(row, value_style),
                ]));
            }
        }
    }
    (lines, starts)
}

/// The keys line, from the live key map.
fn keys_line(keymap: &KeyMap) -> String {
    let k = |a| key(keymap, a);
    format!(
        "{}/{}: field · {}: yours · {}: theirs · {}: save · {}: drop yours, take theirs · {}: \
         keep editing",
        k(Action::MoveUp),
        k(Action::MoveDown),
        k(Action::PickMine),
        k(Action::PickTheirs),
        k(Action::Yes),
        k(Action::No),
        k(Action::Back)
    )
}

/// A short keys line for small screens: the keys alone.
fn short_keys_line(keymap: &KeyMap) -> String {
    let k = |a| key(keymap, a);
    format!(
        "{}/{} field {}/{} side {} save {} back",
        k(Action::MoveUp),
        k(Action::MoveDown),
        k(Action::PickMine),
        k(Action::PickTheirs),
        k(Action::Yes),
        k(Action::Back)
    )
}

/// The rows above and below the fields, as many as leave room for a few rows of the fields:
/// the full sentences and keys, else short ones, else the keys alone.
fn frame_rows(
    view: &ConflictView,
    keymap: &KeyMap,
    inner: usize,
    room: usize,
    body: usize,
) -> (Vec<String>, Vec<String>, bool) {
    let wrapped =
        |texts: &[String]| -> Vec<String> { texts.iter().flat_map(|t| wrap(t, inner)).collect() };
    let n = view.merge.clashes.len();
    let short_head = vec![format!(
        "Version {} by {}: {n} field{} changed by both of you.",
        view.theirs.version,
        view.who(),
        if n == 1 { "" } else { "s" }
    )];
    let heads = [wrapped(&head(view)), wrapped(&short_head), Vec::new()];
    let keys = [
        wrap(&keys_line(keymap), inner),
        wrap(&short_keys_line(keymap), inner),
    ];
    let want = body.min(4);
    for head in &heads {
        for blanks in [true, false] {
            for keys in &keys {
                let fixed = head.len() + keys.len() + if blanks { 2 } else { 0 };
                if fixed + want <= room {
                    return (head.clone(), keys.clone(), blanks);
                }
            }
        }
    }
    (Vec::new(), keys[1].iter().take(1).cloned().collect(), false)
}

/// Draws the conflict question centred over `area`; answers how far its values can scroll down
/// from the field with the cursor.
pub fn draw(
    frame: &mut Frame,
    view: &ConflictView,
    keymap: &KeyMap,
    theme: &Theme,
    area: Rect,
) -> u16 {
    let width = area.width.min(MAX_WIDTH);
    let inner = usize::from(width.saturating_sub(4));
    let room = usize::from(area.height.saturating_sub(2));
    let (body, starts) = body(view, inner, theme);
    let (head, keys, blanks) = frame_rows(view, keymap, inner, room, body.len());
    let fixed = head.len() + keys.len() + if blanks { 2 } else { 0 };
    let shown = body.len().min(room.saturating_sub(fixed).max(1));
    // The field with the cursor starts the view when everything does not fit; the scroll moves
    // within its values.
    let start = starts.get(view.selected).copied().unwrap_or(0);
    let offset = (start + usize::from(view.scroll)).min(body.len().saturating_sub(shown));
    let mut lines: Vec<Line> = head
        .into_iter()
        .map(|row| Line::from(Span::styled(row, theme.text)))
        .collect();
    if blanks {
        lines.push(Line::default());
    }
    lines.extend(body.iter().skip(offset).take(shown).cloned());
    if blanks {
        lines.push(Line::default());
    }
    lines.extend(
        keys.into_iter()
            .map(|row| Line::from(Span::styled(row, theme.accent))),
    );
    let height = u16::try_from(lines.len() + 2).unwrap_or(u16::MAX);
    let rect = centered(area, width, height);
    let mut block = Block::bordered()
        .border_style(theme.accent)
        .padding(Padding::horizontal(1))
        .title(Span::styled(" Someone saved first ", theme.accent));
    if shown < body.len() {
        block = block.title_bottom(Span::styled(
            format!(
                " {}-{} of {} rows, {} scrolls ",
                offset + 1,
                offset + shown,
                body.len(),
                key(keymap, Action::PageDown)
            ),
            theme.dim,
        ));
    }
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines).block(block).style(Style::default()),
        rect,
    );
    let most = body.len().saturating_sub(shown).saturating_sub(start);
    u16::try_from(most).unwrap_or(u16::MAX)
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn wrap_breaks_at_spaces_keeps_lines_and_cuts_long_words() {
        assert_eq!(
            wrap("Budget review with Delta Shipping", 12),
            vec!["Budget", "review with", "Delta", "Shipping"]
        );
        assert_eq!(wrap("one\ntwo", 10), vec!["one", "two"]);
        assert_eq!(wrap("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
        assert_eq!(wrap("東京東京", 4), vec!["東京", "東京"], "wide characters");
        assert_eq!(wrap("", 5), vec![""]);
    }
}
