//! The help overlay, generated from the live key map, so it always shows the user's own keys.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use super::layout::centered;
use super::theme::Theme;
use crate::app::action::Action;
use crate::app::keymap::KeyMap;
use crate::app::state::{Mode, State};

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
                Span::styled(what.clone(), theme.text),
            ])
        })
        .collect();
    let close: Vec<String> = [Action::Back, Action::Help]
        .into_iter()
        .flat_map(|a| keymap.keys_for(Mode::Help, a))
        .map(|k| k.to_string())
        .collect();
    if !close.is_empty() {
        lines.push(Line::default());
        lines.push(Line::from(Span::styled(
            format!(" {} closes this help", close.join(" or ")),
            theme.dim,
        )));
    }
    let width = lines.iter().map(Line::width).max().unwrap_or(0) + 3;
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
