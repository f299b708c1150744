//! Fixed, realistic data for the UI's tests (key sequences and snapshots).

use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::keymap::KeyMap;
use super::search_types::{Hit, MatchCount, SearchPage, SearchRequest};
use super::state::{Session, Settings, State};
use super::update::{Effect, Event, Msg, key_event, start, update};
use crate::domain::interaction::Interaction;

/// A viewer's session on site 7.
pub fn session() -> Session {
    Session {
        user: "maria".into(),
        site_id: 7,
        site: "Leeds".into(),
        role: crate::domain::users::Role::Editor,
    }
}

const ROWS: [(&str, &str, &str, &str, Option<&str>); 8] = [
    (
        "Quarterly review meeting with the regional office",
        "Meeting",
        "Ana Souza",
        "Europe/London",
        Some("Leeds, Room 4"),
    ),
    (
        "Meet the new volunteers",
        "Workshop",
        "Tom Becker",
        "Europe/Berlin",
        Some("Community hall"),
    ),
    ("Budget call", "Call", "Priya Nair", "Asia/Kolkata", None),
    (
        "Site visit: warehouse safety",
        "Visit",
        "Jon Meeker",
        "America/New_York",
        Some("Dock 3"),
    ),
    (
        "Meeting notes follow-up",
        "Email",
        "Ana Souza",
        "Europe/London",
        None,
    ),
    (
        "Training: first aid",
        "Training",
        "Li Wei",
        "Asia/Shanghai",
        Some("Training room B"),
    ),
    (
        "Partner meeting",
        "Meeting",
        "Sam O'Neil",
        "Australia/Sydney",
        Some("Sydney office"),
    ),
    (
        "Year-end meetup",
        "Social",
        "Ana Souza",
        "Europe/London",
        Some("The Crown"),
    ),
];

/// Hit number `n` (0-based, cycling through a fixed set of interactions).
pub fn hit(n: usize) -> Hit {
    let (title, kind, lead, tz, location) = ROWS[n % ROWS.len()];
    let day = u32::try_from(n % 28).unwrap_or(0) + 1;
    let start = Utc
        .with_ymd_and_hms(2026, 10, day, 9 + u32::try_from(n % 8).unwrap_or(0), 30, 0)
        .single()
        .unwrap_or_default();
    Hit {
        interaction: Interaction {
            interaction_id: 1000 + i32::try_from(n).unwrap_or(0),
            site_id: 7,
            title: title.into(),
            kind: kind.into(),
            lead: lead.into(),
            start_datetime: start,
            timezone: tz.into(),
            end_datetime: start + chrono::Duration::minutes(90),
            location: location.map(Into::into),
            description: Some(
                "Went through the quarter's figures.\nAgreed to meet again in January.".into(),
            ),
            notes: n
                .is_multiple_of(2)
                .then(|| "Bring the printed agenda.".into()),
            created_by: 3,
            created_at: start - chrono::Duration::days(2),
            updated_by: n.is_multiple_of(3).then_some(4),
            updated_at: n
                .is_multiple_of(3)
                .then(|| start - chrono::Duration::days(1)),
            version: 1 + i32::try_from(n % 3).unwrap_or(0),
        },
        rank: Some(0.5),
        archived: false,
        created_by_name: Some("ana".into()),
        updated_by_name: n.is_multiple_of(3).then(|| "tom".into()),
    }
}

/// A page of `len` hits starting at hit `from`, with a cursor when `more`.
pub fn page(from: usize, len: usize, more: bool) -> SearchPage {
    SearchPage {
        hits: (from..from + len).map(hit).collect(),
        next_cursor: more.then(|| format!("cursor-{}", from + len)),
        count: (from == 0).then_some(if more {
            MatchCount::AtLeast(1000)
        } else {
            MatchCount::Exact(i64::try_from(len).unwrap_or(0))
        }),
        fuzzy: false,
        approximate: false,
        similar: Vec::new(),
        ignored: Vec::new(),
        highlight: vec!["meet".into()],
    }
}

/// The app's state and key map, driven by key presses and messages at injected times.
pub struct App {
    pub state: State,
    pub keymap: KeyMap,
    pub t0: Instant,
}

impl App {
    pub fn new() -> App {
        let t0 = Instant::now();
        App {
            state: State::new(session(), Settings::default(), t0),
            keymap: KeyMap::defaults(),
            t0,
        }
    }

    /// Started, with the first page answered: `len` hits, more to come when `more`.
    pub fn loaded(len: usize, more: bool) -> App {
        let mut app = App::new();
        let effects = start(&mut app.state);
        let id = only_search(&effects).0;
        app.done(id, page(0, len, more));
        app
    }

    pub fn at(&self, ms: u64) -> Instant {
        self.t0 + Duration::from_millis(ms)
    }

    pub fn tick(&mut self, ms: u64) -> Vec<Effect> {
        let now = self.at(ms);
        self.update(Event::Msg(Msg::Tick(now)))
    }

    pub fn press(&mut self, key: KeyEvent) -> Vec<Effect> {
        match key_event(&self.keymap, &self.state, key) {
            Some(event) => self.update(event),
            None => Vec::new(),
        }
    }

    /// `update`, then a frame drawn at the state's terminal size whose layout goes back into
    /// `update` when it changed, as the terminal loop does after each batch of events.
    pub fn update(&mut self, event: Event) -> Vec<Effect> {
        let effects = update(&mut self.state, event);
        self.draw();
        effects
    }

    /// Draws a frame at the state's terminal size and hands its layout to `update`, as the
    /// terminal loop does.
    pub fn draw(&mut self) {
        let (width, height) = self.state.size;
        let backend = ratatui::backend::TestBackend::new(width, height);
        let Ok(mut terminal) = ratatui::Terminal::new(backend);
        let theme = crate::ui::Theme::default();
        let mut drawn = crate::app::state::Drawn::default();
        let result = terminal.draw(|frame| {
            drawn = crate::ui::draw(frame, &self.state, &self.keymap, &theme);
        });
        if result.is_ok() && drawn != self.state.drawn {
            update(&mut self.state, Event::Msg(Msg::Drawn(drawn)));
        }
    }

    /// The screen as text, one line per row, drawn at the state's terminal size.
    pub fn screen(&self) -> String {
        let (width, height) = self.state.size;
        let backend = ratatui::backend::TestBackend::new(width, height);
        let Ok(mut terminal) = ratatui::Terminal::new(backend);
        let theme = crate::ui::Theme::default();
        if terminal
            .draw(|frame| {
                crate::ui::draw(frame, &self.state, &self.keymap, &theme);
            })
            .is_err()
        {
            return String::new();
        }
        let buffer = terminal.backend().buffer();
        (0..buffer.area.height)
            .map(|y| {
                (0..buffer.area.width)
                    .map(|x| buffer[(x, y)].symbol())
                    .collect::<String>()
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    pub fn keys(&mut self, text: &str) -> Vec<Effect> {
        text.chars().flat_map(|c| self.press(ch(c))).collect()
    }

    pub fn done(&mut self, request_id: u64, result: SearchPage) -> Vec<Effect> {
        self.update(Event::Msg(Msg::SearchDone {
            request_id,
            result,
            elapsed: Duration::from_micros(3200),
        }))
    }
}

/// `key` pressed on `state` with `keymap`, without drawing (the screens before the Finder):
/// the effects `update` asks for.
pub fn press_key(state: &mut State, keymap: &KeyMap, key: KeyEvent) -> Vec<Effect> {
    match key_event(keymap, state, key) {
        Some(event) => update(state, event),
        None => Vec::new(),
    }
}

/// The characters of `text` pressed one by one with [`press_key`].
pub fn type_keys(state: &mut State, keymap: &KeyMap, text: &str) -> Vec<Effect> {
    text.chars()
        .flat_map(|c| press_key(state, keymap, ch(c)))
        .collect()
}

pub fn ch(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
}

pub fn code(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

pub fn ctrl(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
}

pub fn searches(effects: &[Effect]) -> Vec<(u64, SearchRequest)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Search {
                request_id,
                request,
            } => Some((*request_id, request.clone())),
            _ => None,
        })
        .collect()
}

pub fn only_search(effects: &[Effect]) -> (u64, SearchRequest) {
    let all = searches(effects);
    assert_eq!(all.len(), 1, "expected exactly one search in {effects:?}");
    all[0].clone()
}
