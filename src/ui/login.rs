//! The Login screen: a centred box with the username and the masked password.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use tui_input::Input;

use super::help::hint_line;
use super::layout::centered;
use super::theme::Theme;
use crate::app::keymap::KeyMap;
use crate::app::login::LoginField;
use crate::app::pane;
use crate::app::state::{Mode, State};

const LABEL: u16 = 11;

/// Draws the Login screen over `area`; the hint line shows the user's own keys.
pub fn draw(frame: &mut Frame, state: &State, keymap: &KeyMap, theme: &Theme, area: Rect) {
    let Some(login) = state.login_form() else {
        return;
    };
    let rect = centered(area, 60, 9);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(Span::styled(" ifind · log in ", theme.accent));
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let masked = "•".repeat(login.password.value().chars().count());
    let message = match (&login.error, login.pending) {
        (_, Some(_)) => Span::styled("checking…", theme.dim),
        (Some(error), None) => Span::styled(error.clone(), theme.error),
        // What happened just before (the first run's "created ..."), until the next key.
        (None, None) => Span::styled(state.notice.clone().unwrap_or_default(), theme.accent),
    };
    let lines = vec![
        Line::default(),
        field_line(
            "Username",
            login.username.value(),
            login.field == LoginField::Username,
            theme,
        ),
        field_line(
            "Password",
            &masked,
            login.field == LoginField::Password,
            theme,
        ),
        Line::default(),
        Line::from(vec![Span::raw(" "), message]),
        Line::from(Span::styled(
            hint_line(
                keymap,
                Mode::Login,
                &[],
                &pane::hints(state, Mode::Login),
                usize::from(inner.width),
            ),
            theme.dim,
        )),
    ];
    frame.render_widget(Paragraph::new(lines), inner);
    let (input, row): (&Input, u16) = match login.field {
        LoginField::Username => (&login.username, 1),
        LoginField::Password => (&login.password, 2),
    };
    if login.pending.is_none() && !state.help_open && inner.height > row {
        let x = inner.x + LABEL + u16::try_from(input.visual_cursor()).unwrap_or(u16::MAX);
        if x < inner.right() {
            frame.set_cursor_position((x, inner.y + row));
        }
    }
}

/// One labelled field; the focused one is marked by a `▶` (as every selection is) and the
/// accent colour.
fn field_line(label: &str, value: &str, focused: bool, theme: &Theme) -> Line<'static> {
    let (mark, style) = if focused {
        ("▶", theme.accent)
    } else {
        (" ", theme.text)
    };
    Line::from(vec![
        Span::styled(format!("{mark}{label:>9} "), style),
        Span::styled(value.to_string(), theme.text),
    ])
}
