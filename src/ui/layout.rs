//! Where each pane goes. Pure geometry for drawing (`update` learns where things went from what
//! the last draw reports, `app::state::Drawn`). Works at any size, down to 1x1, without panicking.

use ratatui::layout::{Constraint, Layout, Rect};

/// From this many columns up, the detail pane sits beside the list; below it, under the list.
pub const WIDE: u16 = 100;
/// Screen rows each result takes (title line, then type, lead and location).
pub const ROWS_PER_HIT: u16 = 2;

/// The Finder's panes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FinderAreas {
    pub query: Rect,
    /// Match count, query time, sort, filters and notes.
    pub info: Rect,
    pub list: Rect,
    /// Present when the detail pane is open.
    pub detail: Option<Rect>,
    pub status: Rect,
}

/// Splits the screen for the Finder.
pub fn finder(area: Rect, detail_open: bool) -> FinderAreas {
    let [query, info, body, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(area);
    let (list, detail) = if !detail_open {
        (body, None)
    } else if area.width >= WIDE {
        let [list, detail] =
            Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)])
                .areas(body);
        (list, Some(detail))
    } else {
        let [list, detail] =
            Layout::vertical([Constraint::Percentage(45), Constraint::Percentage(55)]).areas(body);
        (list, Some(detail))
    };
    FinderAreas {
        query,
        info,
        list,
        detail,
        status,
    }
}

/// A `width` x `height` box centred in `area`, clipped to it.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect::new(
        area.x + (area.width - width) / 2,
        area.y + (area.height - height) / 2,
        width,
        height,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detail_beside_when_wide_and_below_when_narrow() {
        let wide = finder(Rect::new(0, 0, 120, 40), true);
        let detail = wide.detail.unwrap_or_default();
        assert_eq!(detail.y, wide.list.y);
        assert!(detail.x > wide.list.x);
        let narrow = finder(Rect::new(0, 0, 80, 24), true);
        let detail = narrow.detail.unwrap_or_default();
        assert_eq!(detail.x, narrow.list.x);
        assert!(detail.y > narrow.list.y);
    }

    #[test]
    fn tiny_sizes_do_not_panic() {
        for (w, h) in [(0, 0), (1, 1), (3, 2), (60, 20)] {
            for open in [false, true] {
                let _ = finder(Rect::new(0, 0, w, h), open);
            }
        }
        assert_eq!(
            centered(Rect::new(0, 0, 1, 1), 50, 20),
            Rect::new(0, 0, 1, 1)
        );
    }
}
