//! Colours. Three themes (dark, light, the terminal's own colours) and `NO_COLOR`. Meaning never
//! rests on colour alone: the selection is reversed and bold with a marker, matches are bold and
//! underlined, near matches carry a sign.

use std::str::FromStr;

use ratatui::style::{Color, Modifier, Style};

/// The themes a config can name.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ThemeName {
    #[default]
    Dark,
    Light,
    /// The terminal's default foreground and background with its basic palette only.
    Terminal,
}

impl FromStr for ThemeName {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "dark" => Ok(ThemeName::Dark),
            "light" => Ok(ThemeName::Light),
            "terminal" => Ok(ThemeName::Terminal),
            _ => Err(format!(
                "unknown theme \"{s}\"; use dark, light or terminal"
            )),
        }
    }
}

/// The styles every pane draws with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Theme {
    pub text: Style,
    /// Secondary text: labels, type/lead lines, hints.
    pub dim: Style,
    /// Prompts, titles, the focused pane's border.
    pub accent: Style,
    /// Matched terms.
    pub matched: Style,
    /// The selected row (patched over its cells).
    pub selected: Style,
    pub error: Style,
    /// Near-match sign and notes.
    pub fuzzy: Style,
    pub border: Style,
    pub status: Style,
}

impl Theme {
    /// The theme `name`, without colour when `no_color` is set.
    pub fn new(name: ThemeName, no_color: bool) -> Theme {
        let bold = Modifier::BOLD;
        let plain = Theme {
            text: Style::new(),
            dim: Style::new(),
            accent: Style::new().add_modifier(bold),
            matched: Style::new().add_modifier(bold | Modifier::UNDERLINED),
            selected: Style::new().add_modifier(bold | Modifier::REVERSED),
            error: Style::new().add_modifier(bold),
            fuzzy: Style::new().add_modifier(Modifier::ITALIC),
            border: Style::new(),
            status: Style::new().add_modifier(Modifier::REVERSED),
        };
        if no_color {
            return plain;
        }
        let (dim, accent, matched, error, fuzzy) = match name {
            ThemeName::Dark => (
                Color::Gray,
                Color::Cyan,
                Color::Yellow,
                Color::LightRed,
                Color::Magenta,
            ),
            ThemeName::Light => (
                Color::DarkGray,
                Color::Blue,
                Color::Rgb(160, 90, 0),
                Color::Red,
                Color::Magenta,
            ),
            ThemeName::Terminal => (
                Color::Reset,
                Color::Reset,
                Color::Reset,
                Color::Red,
                Color::Reset,
            ),
        };
        Theme {
            dim: plain.dim.fg(dim),
            accent: plain.accent.fg(accent),
            matched: plain.matched.fg(matched),
            error: plain.error.fg(error),
            fuzzy: plain.fuzzy.fg(fuzzy),
            border: plain.border.fg(dim),
            ..plain
        }
    }

    /// The theme `name`, honouring `NO_COLOR` (any non-empty value turns colour off). Call once,
    /// at startup.
    pub fn from_env(name: ThemeName) -> Theme {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Theme::new(name, no_color)
    }
}

impl Default for Theme {
    fn default() -> Self {
        Theme::new(ThemeName::Dark, false)
    }
}
