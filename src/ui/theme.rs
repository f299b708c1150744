//! Colours. Three themes (dark, light, the terminal's own colours) and `NO_COLOR`. Meaning never
//! rests on colour alone: the selection is reversed and bold with a marker, matches are bold and
//! underlined, near matches carry a sign.
//!
//! The theme also carries the viewer's timezone, found once at startup ([`viewer_zone`]), so that
//! drawing never reads the environment.

use std::path::Path;
use std::str::FromStr;

use chrono_tz::Tz;
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
    /// The viewer's timezone: the detail pane adds the times in it when the interaction's own
    /// timezone shows them differently.
    pub viewer_zone: Tz,
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
            viewer_zone: Tz::UTC,
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

    /// The theme `name`, honouring `NO_COLOR` (any non-empty value turns colour off), with the
    /// viewer's timezone from the environment ([`viewer_zone`]). Call once, at startup.
    pub fn from_env(name: ThemeName) -> Theme {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Theme::new(name, no_color).with_viewer_zone(viewer_zone())
    }

    /// The same theme for a viewer in `zone`.
    pub fn with_viewer_zone(self, zone: Tz) -> Theme {
        Theme {
            viewer_zone: zone,
            ..self
        }
    }
}

/// The viewer's timezone: `TZ` when it names an IANA zone (`Europe/Berlin`, `:Europe/Berlin`
/// or a path under a `zoneinfo` directory), else `/etc/timezone`, else the zone `/etc/localtime`
/// links to, else UTC.
pub fn viewer_zone() -> Tz {
    let tz = std::env::var("TZ").ok();
    let etc_timezone = std::fs::read_to_string("/etc/timezone").ok();
    let localtime = std::fs::read_link("/etc/localtime").ok();
    zone_from(tz.as_deref(), etc_timezone.as_deref(), localtime.as_deref())
}

/// [`viewer_zone`] from its three sources, the first that names a zone winning.
fn zone_from(tz: Option<&str>, etc_timezone: Option<&str>, localtime: Option<&Path>) -> Tz {
    let named = |text: &str| {
        let text = text.trim().trim_start_matches(':');
        let name = match text.rsplit_once("zoneinfo/") {
            Some((_, name)) => name,
            None => text,
        };
        Tz::from_str(name).ok()
    };
    tz.and_then(named)
        .or_else(|| etc_timezone.and_then(named))
        .or_else(|| localtime.and_then(Path::to_str).and_then(named))
        .unwrap_or(Tz::UTC)
}

impl Default for Theme {
    fn default() -> Self {
        Theme::new(ThemeName::Dark, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_viewer_zone_comes_from_tz_then_etc_timezone_then_localtime() {
        let link = Path::new("/usr/share/zoneinfo/Asia/Tokyo");
        assert_eq!(
            zone_from(Some("Europe/Berlin"), Some("Asia/Kolkata\n"), Some(link)),
            Tz::Europe__Berlin
        );
        assert_eq!(
            zone_from(Some(":Europe/Berlin"), None, None),
            Tz::Europe__Berlin
        );
        assert_eq!(
            zone_from(Some("/usr/share/zoneinfo/America/New_York"), None, None),
            Tz::America__New_York
        );
        // A POSIX rule is not an IANA name: the next source decides.
        assert_eq!(
            zone_from(Some("CET-1CEST"), Some("Asia/Kolkata\n"), Some(link)),
            Tz::Asia__Kolkata
        );
        assert_eq!(zone_from(None, Some(""), Some(link)), Tz::Asia__Tokyo);
        assert_eq!(zone_from(Some(""), None, None), Tz::UTC);
        assert_eq!(Theme::default().viewer_zone, Tz::UTC);
    }
}
