//! Drawing. Every function here only reads the state: no awaits, no queries, no changes.
//! One file per pane; `layout` says where each goes.

pub mod agenda;
pub mod detail;
pub mod finder;
pub mod first_run;
pub mod form;
pub mod health;
pub mod help;
pub mod histogram;
pub mod layout;
pub mod login;
pub mod picker;
pub mod status;
pub mod theme;
pub mod trash;

use ratatui::Frame;
use ratatui::layout::Rect;

use crate::app::keymap::KeyMap;
use crate::app::state::{Area, Drawn, Screen, State};
pub use theme::{Theme, ThemeName};

/// The smallest screen the panes are drawn on (the design promises 60x20 to be usable).
pub const MIN_WIDTH: u16 = 20;
/// See [`MIN_WIDTH`].
pub const MIN_HEIGHT: u16 = 5;

/// An area of the screen as the app records it.
fn area_of(r: Rect) -> Area {
    Area {
        x: r.x,
        y: r.y,
        width: r.width,
        height: r.height,
    }
}

/// Draws the whole screen for `state`, and hands back where it put what keys and clicks depend
/// on (television's `render.rs` hands its layout back the same way).
pub fn draw(frame: &mut Frame, state: &State, keymap: &KeyMap, theme: &Theme) -> Drawn {
    let area = frame.area();
    let mut drawn = Drawn::default();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        // Panes need room: below this a one-column pane cannot even hold a wide character.
        let text = format!(
            "ifind needs {MIN_WIDTH}x{MIN_HEIGHT}; this terminal is {}x{}. Make it larger.",
            area.width, area.height
        );
        frame.render_widget(
            ratatui::widgets::Paragraph::new(text).wrap(ratatui::widgets::Wrap { trim: true }),
            area,
        );
        return drawn;
    }
    match state.screen() {
        Screen::FirstRun => first_run::draw(frame, state, keymap, theme, area),
        Screen::Login => login::draw(frame, state, keymap, theme, area),
        Screen::SitePicker => picker::draw(frame, state, keymap, theme, area),
        Screen::Finder => {
            let areas = layout::finder(area, state.finder.detail_open);
            finder::draw(frame, state, keymap, theme, &areas);
            drawn.query = Some(area_of(areas.query));
            drawn.list = Some(area_of(areas.list));
            drawn.rows_per_hit = layout::ROWS_PER_HIT;
            if let Some(detail) = areas.detail {
                let beside = detail.y == areas.list.y && detail.x > areas.list.x;
                drawn.detail = Some(area_of(detail));
                drawn.detail_overflow = detail::draw(frame, state, theme, detail, beside);
            }
            status::draw(frame, state, keymap, theme, areas.status);
        }
        Screen::Health => {
            let status_area = health::draw(frame, state, theme, area);
            status::draw(frame, state, keymap, theme, status_area);
        }
        Screen::Agenda => {
            let status_area = agenda::draw(frame, state, theme, area);
            status::draw(frame, state, keymap, theme, status_area);
        }
        Screen::Trash => {
            let status_area = trash::draw(frame, state, theme, area);
            status::draw(frame, state, keymap, theme, status_area);
        }
        Screen::Form => {
            let (status_area, fields) = form::draw(frame, state, keymap, theme, area);
            drawn.form_fields = fields;
            status::draw(frame, state, keymap, theme, status_area);
        }
    }
    if state.help_open {
        help::draw(frame, state, keymap, theme, area);
    }
    drawn.conflict_scroll = form::draw_confirm(frame, state, keymap, theme, area).unwrap_or(0);
    drawn
}

#[cfg(test)]
mod tests;

#[cfg(test)]
pub(crate) mod test_support;
