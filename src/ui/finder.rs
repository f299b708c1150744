//! The Finder pane: the query line, the info line (count, time, sort, filters, notes) and the
//! result list. Reads the state only.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::layout::{FinderAreas, ROWS_PER_HIT};
use super::theme::Theme;
use crate::app::action::Action;
use crate::app::keymap::KeyMap;
use crate::app::search_types::{Hit, MatchCount};
use crate::app::state::{Connection, Focus, Mode, State};
use crate::domain::interaction::format_in;

/// The prompt before the query text.
const PROMPT: &str = " / ";

/// Draws the query line, the info line and the result list.
pub fn draw(frame: &mut Frame, state: &State, keymap: &KeyMap, theme: &Theme, areas: &FinderAreas) {
    draw_query(frame, state, theme, areas.query);
    draw_info(frame, state, theme, areas.info);
    draw_list(frame, state, keymap, theme, areas.list);
}

/// What the list says when there is nothing to show: for an empty query the site is empty,
/// and the way to fill it is said (the new-interaction key from the key map, or an import);
/// otherwise the query is too narrow.
fn nothing_to_show(state: &State, keymap: &KeyMap, query: &str) -> [String; 2] {
    if !query.trim().is_empty() {
        return [
            " No interactions match.".into(),
            " Try fewer words, or remove a filter.".into(),
        ];
    }
    let add = match keymap.keys_for(Mode::List, Action::NewInteraction).first() {
        Some(key) if state.session.role.may_edit() => {
            format!(" Press {key} in the list to add one, or load a CSV file: ")
        }
        _ => " An editor can add one, or load a CSV file: ".into(),
    };
    [
        format!(" {} has no interactions yet.", state.session.site),
        format!(
            "{add}ifind import FILE.csv --site \"{}\"",
            state.session.site
        ),
    ]
}

fn draw_query(frame: &mut Frame, state: &State, theme: &Theme, area: Rect) {
    let focused = state.finder.focus == Focus::Query && !state.help_open;
    let prompt_style = if focused { theme.accent } else { theme.dim };
    let prompt_width = PROMPT.len() as u16;
    frame.render_widget(Paragraph::new(Span::styled(PROMPT, prompt_style)), area);
    if area.width <= prompt_width {
        return;
    }
    let field = Rect {
        x: area.x + prompt_width,
        width: area.width - prompt_width,
        ..area
    };
    let value = state.finder.query.value();
    let width = usize::from(field.width.saturating_sub(1));
    let scroll = state.finder.query.visual_scroll(width);
    let text = if value.is_empty() && !focused {
        Span::styled("press / to search", theme.dim)
    } else {
        Span::styled(value, theme.text)
    };
    frame.render_widget(
        Paragraph::new(text).scroll((0, u16::try_from(scroll).unwrap_or(u16::MAX))),
        field,
    );
    if focused && field.height > 0 {
        let column = state.finder.query.visual_cursor().saturating_sub(scroll);
        let x = field
            .x
            .saturating_add(u16::try_from(column).unwrap_or(u16::MAX));
        if x < field.right() {
            frame.set_cursor_position((x, field.y));
        }
    }
}

/// The first span of the info line: how many matched (or what is happening).
fn count_span<'a>(state: &State, theme: &Theme) -> Span<'a> {
    match &state.finder.results {
        None if state.finder.error.is_some() => Span::styled("search failed", theme.error),
        None => Span::styled("searching…", theme.dim),
        Some(r) if r.fuzzy && !r.hits.is_empty() => Span::styled(
            format!(
                "≈ {}",
                crate::domain::similar::announcement(&r.highlight, &r.similar)
            ),
            theme.fuzzy,
        ),
        Some(r) => {
            let text = match &r.count {
                Some(count) => {
                    let one = matches!(count, MatchCount::Exact(1));
                    format!("{count} {}", if one { "match" } else { "matches" })
                }
                None if state.finder.count_in_flight.is_some() => {
                    format!("{}+ matches, counting…", r.hits.len())
                }
                None => format!("{} shown", r.hits.len()),
            };
            if r.approximate && !r.hits.is_empty() {
                return Span::styled(
                    format!(
                        "≈ {} · {text}",
                        crate::domain::similar::announcement(&r.highlight, &r.similar)
                    ),
                    theme.fuzzy,
                );
            }
            // A new query could not run (the connection is lost, or its search failed): the
            // count on screen is the earlier query's, and says so.
            let failed =
                state.finder.error.is_some() || matches!(state.connection, Connection::Lost { .. });
            if failed && r.query.trim() != state.finder.query.value().trim() {
                let earlier = if r.query.trim().is_empty() {
                    "everything".to_string()
                } else {
                    format!("\"{}\"", r.query.trim())
                };
                return Span::styled(
                    format!("{text} for {earlier} (stale: this query has not run)"),
                    theme.dim,
                );
            }
            Span::styled(text, theme.accent)
        }
    }
}

fn draw_info(frame: &mut Frame, state: &State, theme: &Theme, area: Rect) {
    let sep = || Span::styled(" · ", theme.dim);
    let mut spans = vec![Span::raw(" "), count_span(state, theme)];
    if let Some(r) = &state.finder.results
        && r.earlier_cursor.is_some()
    {
        spans.push(sep());
        spans.push(Span::styled(
            format!("the last {} (g: the first)", r.hits.len()),
            theme.dim,
        ));
    } else if state.finder.earlier_in_flight.is_some() {
        spans.push(sep());
        spans.push(Span::styled("reading the last results…", theme.dim));
    }
    if state.finder.results.as_ref().is_some_and(|r| r.cached) {
        spans.push(sep());
        spans.push(Span::styled("cached", theme.dim));
    } else if let Some(time) = state.finder.last_query_time {
        spans.push(sep());
        spans.push(Span::styled(format_duration(time), theme.dim));
    }
    spans.push(sep());
    spans.push(Span::styled(
        format!("sort: {}", state.finder.sort),
        theme.dim,
    ));
    if state.finder.include_archive {
        spans.push(sep());
        spans.push(Span::styled("+ archive (⌂ read-only)", theme.accent));
    }
    if state.finder.searching() && state.finder.results.is_some() {
        spans.push(sep());
        spans.push(Span::styled("searching…", theme.dim));
    }
    // The filters the query line's parser applies: an ignored one (a bad date) is not shown as
    // active; its note follows.
    let filters = crate::domain::query::parse(state.finder.query.value()).applied;
    if !filters.is_empty() {
        spans.push(sep());
        for (i, filter) in filters.into_iter().enumerate() {
            if i > 0 {
                spans.push(Span::raw(" "));
            }
            spans.push(Span::styled(format!("[{filter}]"), theme.accent));
        }
    }
    if let Some(r) = &state.finder.results {
        for note in &r.ignored {
            spans.push(sep());
            // Each note is a sentence of its own ("ignored from:2026-13-45: dates are ...").
            spans.push(Span::styled(note.clone(), theme.fuzzy));
        }
    }
    let line = Line::from(spans);
    // The month histogram takes the room the line leaves on the right, up to 40 columns.
    let free = usize::from(area.width).saturating_sub(line.width() + 4);
    let bars = state
        .finder
        .histogram
        .as_ref()
        .filter(|h| {
            state
                .finder
                .results
                .as_ref()
                .is_some_and(|r| r.generation == h.generation)
        })
        .and_then(|h| super::histogram::sparkline(&h.months, free.min(40)));
    render_clipped(frame, line, area);
    if let Some(bars) = bars {
        let width = u16::try_from(bars.chars().count() + 1).unwrap_or(u16::MAX);
        let right = Rect {
            x: area.right().saturating_sub(width),
            width: width.min(area.width),
            ..area
        };
        frame.render_widget(Paragraph::new(Span::styled(bars, theme.dim)), right);
    }
}

fn draw_list(frame: &mut Frame, state: &State, keymap: &KeyMap, theme: &Theme, area: Rect) {
    let Some(results) = &state.finder.results else {
        return;
    };
    if results.hits.is_empty() {
        let [first, second] = nothing_to_show(state, keymap, &results.query);
        let lines = vec![
            Line::from(Span::styled(first, theme.text)),
            Line::from(Span::styled(second, theme.dim)),
        ];
        frame.render_widget(Paragraph::new(lines), area);
        return;
    }
    let capacity = usize::from(area.height / ROWS_PER_HIT);
    let offset = visible_offset(state.finder.offset, state.finder.selected, capacity);
    let rows = results.hits.iter().enumerate().skip(offset).take(capacity);
    for (row, (index, hit)) in rows.enumerate() {
        let y = area.y + (row as u16) * ROWS_PER_HIT;
        let rect = Rect::new(area.x, y, area.width, ROWS_PER_HIT);
        let selected = index == state.finder.selected;
        let row = HitRow {
            hit,
            selected,
            fuzzy: results.fuzzy,
            terms: &results.highlight,
            zone: state.settings.display_zone,
        };
        draw_hit(frame, theme, rect, &row);
        if selected {
            frame.buffer_mut().set_style(rect, theme.selected);
        }
    }
}

/// The offset the list is drawn from: the state's, corrected so the selection is on screen even
/// if the size changed since `update` last saw it.
fn visible_offset(offset: usize, selected: usize, capacity: usize) -> usize {
    if capacity == 0 || selected < offset {
        selected
    } else if selected >= offset + capacity {
        selected + 1 - capacity
    } else {
        offset
    }
}

/// One result as the list draws it.
pub struct HitRow<'a> {
    pub hit: &'a Hit,
    pub selected: bool,
    /// A near match from the typo-tolerant fallback.
    pub fuzzy: bool,
    /// Words to highlight.
    pub terms: &'a [String],
    /// The display zone the start is shown in.
    pub zone: chrono_tz::Tz,
}

/// Draws one result in two rows: the title with its start (in the display zone) on the right,
/// then type, lead and location.
pub fn draw_hit(frame: &mut Frame, theme: &Theme, rect: Rect, row: &HitRow<'_>) {
    let HitRow {
        hit,
        selected,
        fuzzy,
        terms,
        zone,
    } = *row;
    let i = &hit.interaction;
    // The second column marks near matches (≈) and archived, read-only records (⌂).
    let marker = format!(
        "{}{} ",
        if selected { '▶' } else { ' ' },
        if fuzzy {
            '≈'
        } else if hit.archived {
            '⌂'
        } else {
            ' '
        }
    );
    let start = format_in(i.start_datetime, zone);
    // The start, right-aligned with a one-column margin, when the row is wide enough for it.
    let start_width = start.chars().count() as u16 + 2;
    let show_start = rect.width > start_width + 12;
    let mut title = vec![Span::styled(marker, theme.fuzzy)];
    title.extend(highlighted(&i.title, terms, Style::new(), theme.matched));
    let title_area = Rect {
        width: if show_start {
            rect.width - start_width - 1
        } else {
            rect.width
        },
        height: 1,
        ..rect
    };
    render_clipped(frame, Line::from(title), title_area);
    if show_start {
        let start_area = Rect {
            x: rect.right() - start_width,
            width: start_width,
            height: 1,
            ..rect
        };
        frame.render_widget(
            Paragraph::new(Span::styled(format!(" {start} "), theme.dim)),
            start_area,
        );
    }
    if rect.height < 2 {
        return;
    }
    let mut second = vec![Span::raw("   ")];
    second.extend(highlighted(&i.kind, terms, theme.accent, theme.matched));
    second.push(Span::styled(" · ", theme.dim));
    second.extend(highlighted(&i.lead, terms, theme.dim, theme.matched));
    if let Some(location) = i.location.as_deref().filter(|l| !l.is_empty()) {
        second.push(Span::styled(" · ", theme.dim));
        second.extend(highlighted(location, terms, theme.dim, theme.matched));
    }
    let second_area = Rect {
        y: rect.y + 1,
        height: 1,
        ..rect
    };
    render_clipped(frame, Line::from(second), second_area);
}

/// Renders one line into a one-row `area`, ending it with "…" when it does not fit.
pub fn render_clipped(frame: &mut Frame, line: Line<'_>, area: Rect) {
    let too_wide = line.width() > usize::from(area.width);
    frame.render_widget(Paragraph::new(line), area);
    if too_wide
        && area.width > 0
        && area.height > 0
        && let Some(cell) = frame.buffer_mut().cell_mut((area.right() - 1, area.y))
    {
        cell.set_symbol("…");
    }
}

/// `text` as spans, with every word that starts with one of `terms` (ignoring case) in `matched`
/// style and the rest in `base`.
pub fn highlighted<'a>(
    text: &'a str,
    terms: &[String],
    base: Style,
    matched: Style,
) -> Vec<Span<'a>> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut marks = vec![false; chars.len()];
    for term in terms {
        let term: Vec<char> = term.chars().flat_map(char::to_lowercase).collect();
        if term.is_empty() {
            continue;
        }
        for start in 0..chars.len() {
            let word_start = start == 0 || !chars[start - 1].1.is_alphanumeric();
            if !word_start || start + term.len() > chars.len() {
                continue;
            }
            let same = chars[start..start + term.len()]
                .iter()
                .zip(&term)
                .all(|((_, c), t)| c.to_lowercase().eq(t.to_lowercase()));
            if same {
                marks[start..start + term.len()].fill(true);
            }
        }
    }
    let mut spans = Vec::new();
    let mut run_start = 0;
    for k in 1..=chars.len() {
        if k == chars.len() || marks[k] != marks[run_start] {
            let from = chars[run_start].0;
            let to = chars.get(k).map_or(text.len(), |(b, _)| *b);
            let style = if marks[run_start] { matched } else { base };
            spans.push(Span::styled(&text[from..to], style));
            run_start = k;
        }
    }
    spans
}

/// "3.2 ms", "250 ms", "1.4 s".
pub fn format_duration(d: std::time::Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.1} ms")
    } else if ms < 1000.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{:.1} s", ms / 1000.0)
    }
}
