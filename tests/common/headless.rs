//! The app without a terminal: the real `update`, the real runner and the real backends, with
//! answers fed back as the event loop does, and the screen drawn into ratatui's `TestBackend`
//! whenever a test wants to read it.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use ifind::app::action::Action;
use ifind::app::keymap::KeyMap;
use ifind::app::runner::{Runner, SearchBackend};
use ifind::app::state::{Session, Settings, State};
use ifind::app::update::{Effect, Event, Msg, start, update};
use ifind::ui::theme::{Theme, ThemeName};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::sync::mpsc;

/// One app, headless.
pub struct App {
    pub state: State,
    runner: Runner,
    answers: mpsc::UnboundedReceiver<Msg>,
}

impl App {
    /// The Finder of `session` on `backend`, every operation limited to `limit`; the first
    /// search is started.
    pub fn start(backend: Arc<dyn SearchBackend>, session: Session, limit: Duration) -> App {
        let (tx, answers) = mpsc::unbounded_channel();
        let runner = Runner::new(backend, tx).with_timeout(limit);
        let settings = Settings {
            query_timeout: limit,
            ..Settings::default()
        };
        let mut state = State::new(session, settings, Instant::now());
        state.wall_clock = chrono::Utc::now();
        let effects = start(&mut state);
        let mut app = App {
            state,
            runner,
            answers,
        };
        app.perform(effects);
        app
    }

    fn perform(&mut self, effects: Vec<Effect>) {
        // Drafts, the clipboard and quitting belong to the terminal loop; they are not needed.
        let _rest = self.runner.perform(effects);
    }

    /// Applies an event as the event loop would.
    pub fn event(&mut self, event: Event) {
        let effects = update(&mut self.state, event);
        self.perform(effects);
    }

    /// A key-map action.
    pub fn act(&mut self, action: Action) {
        self.event(Event::Action(action));
    }

    /// Pastes `text` into the focused field.
    pub fn paste(&mut self, text: &str) {
        self.event(Event::Paste(text.to_string()));
    }

    /// Types `query` into the query line and lets the debounce pass.
    pub fn search(&mut self, query: &str) {
        self.act(Action::FocusQuery);
        self.state.finder.query = tui_input::Input::new(query.to_string());
        let due = Instant::now() + self.state.settings.debounce * 2;
        self.state.finder.search_due = Some(Instant::now());
        self.event(Event::Msg(Msg::Tick(due)));
    }

    /// Feeds answers into `update` until `done` holds; panics after `limit` with the screen.
    pub async fn until(&mut self, what: &str, limit: Duration, done: impl Fn(&State) -> bool) {
        let deadline = tokio::time::Instant::now() + limit;
        while !done(&self.state) {
            tokio::select! {
                msg = self.answers.recv() => match msg {
                    Some(msg) => self.event(Event::Msg(msg)),
                    None => panic!("{what}: the runner went away"),
                },
                () = tokio::time::sleep_until(deadline) => {
                    panic!("{what}: not within {limit:?}; the screen:\n{}", self.screen());
                }
            }
        }
    }

    /// The screen as text, 100x30.
    pub fn screen(&self) -> String {
        let Ok(mut terminal) = Terminal::new(TestBackend::new(100, 30));
        let theme = Theme::new(ThemeName::Dark, true);
        let keymap = KeyMap::defaults();
        let drawn = terminal.draw(|frame| {
            ifind::ui::draw(frame, &self.state, &keymap, &theme);
        });
        if drawn.is_err() {
            return String::new();
        }
        let buffer = terminal.backend().buffer();
        let mut out = String::new();
        for y in 0..buffer.area.height {
            for x in 0..buffer.area.width {
                out.push_str(buffer[(x, y)].symbol());
            }
            out.push('\n');
        }
        out
    }

    /// The status line (the last row of the screen).
    pub fn status(&self) -> String {
        self.screen()
            .lines()
            .last()
            .unwrap_or_default()
            .trim()
            .to_string()
    }
}
