//! Keystroke to screen, and drawing one frame: the real `update`, `Runner`, `DbSearchBackend`
//! and `ui::draw` on ratatui's `TestBackend` (no terminal), driven the way `tui::run`'s event
//! loop drives them: a `Tick` before each key, the debounce deadline as a timer, the runner's
//! answers as they come, and one draw after each batch.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ifind::app::action::Action;
use ifind::app::db_backend::DbSearchBackend;
use ifind::app::keymap::KeyMap;
use ifind::app::runner::Runner;
use ifind::app::state::{Drawn, Session, Settings, State};
use ifind::app::update::{Effect, Event, Msg, key_event, start, update};
use ifind::db::Db;
use ifind::ui::{self, Theme};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::sync::mpsc;

use super::setup::{BENCH_USER, Site};

/// The terminal size of the measurements.
pub const WIDTH: u16 = 200;
pub const HEIGHT: u16 = 50;

/// How the person types.
#[derive(Clone, Copy, Debug)]
pub struct Typing {
    /// Between two keys of a word (and before the space after a pause).
    pub key_interval: Duration,
    /// After the last key of a word, before the next key.
    pub pause: Duration,
    /// The Finder's debounce (the config default, `search.debounce_ms`).
    pub debounce: Duration,
}

/// Keystroke-to-screen results.
#[derive(Clone, Debug, Default)]
pub struct Keystrokes {
    /// From the last key of a word to the end of drawing the first frame with its results.
    pub to_screen: Vec<Duration>,
    /// Words whose results had not been drawn when the next key came.
    pub missed: usize,
    /// How long drawing one frame took while this ran (every frame of the run).
    pub frames: Vec<Duration>,
}

/// One scripted key.
struct Press {
    at: Duration,
    key: KeyEvent,
    /// Set on a word's last key: measure until results for the line as it is after this key.
    measure: bool,
}

fn script(queries: &[String], typing: Typing) -> VecDeque<Press> {
    let mut out = VecDeque::new();
    let mut at = typing.pause;
    let key = |c: KeyCode| KeyEvent::new(c, KeyModifiers::NONE);
    for q in queries {
        let chars: Vec<char> = q.chars().collect();
        for (i, c) in chars.iter().enumerate() {
            let word_end = *c != ' ' && chars.get(i + 1).is_none_or(|n| *n == ' ');
            out.push_back(Press {
                at,
                key: key(KeyCode::Char(*c)),
                measure: word_end,
            });
            at += if word_end {
                typing.pause
            } else {
                typing.key_interval
            };
        }
        for _ in 0..chars.len() {
            out.push_back(Press {
                at,
                key: key(KeyCode::Backspace),
                measure: false,
            });
            at += Duration::from_millis(15);
        }
        at += typing.pause;
    }
    out
}

/// A Finder on `site` as the benchmark user, the way `ifind` opens one after the Site picker.
pub fn finder_state(site: &Site, debounce: Duration, now: Instant) -> State {
    let session = Session {
        user: BENCH_USER.into(),
        site_id: site.id,
        site: site.name.clone(),
        role: ifind::domain::users::Role::Admin,
    };
    let settings = Settings {
        debounce,
        ..Settings::default()
    };
    let mut state = State::new(session, settings, now);
    update(
        &mut state,
        Event::Msg(Msg::Resize {
            width: WIDTH,
            height: HEIGHT,
        }),
    );
    update(&mut state, Event::Msg(Msg::WallClock(chrono::Utc::now())));
    state
}

/// Types `queries` into a Finder on `site` (each query word by word, then erased) against the
/// real database, and measures each word's last key to the frame that shows its results.
pub async fn keystrokes(
    db: &Db,
    user_id: i32,
    site: &Site,
    queries: &[String],
    typing: Typing,
) -> Result<(Keystrokes, State)> {
    let backend = Arc::new(DbSearchBackend::new(db.clone(), Some(user_id)));
    let (tx, mut answers) = mpsc::unbounded_channel();
    let mut runner = Runner::new(backend, tx);
    let keymap = KeyMap::defaults();
    let theme = Theme::default();
    let mut terminal = Terminal::new(TestBackend::new(WIDTH, HEIGHT))?;
    let t0 = Instant::now();
    let mut state = finder_state(site, typing.debounce, t0);
    let mut steps = script(queries, typing);
    let mut result = Keystrokes::default();
    let mut pending: Option<(String, Instant)> = None;
    let mut effects = start(&mut state);
    let last_at = steps.back().map_or(Duration::ZERO, |p| p.at);
    loop {
        while !effects.is_empty() {
            let answers_now: Vec<Msg> = runner
                .perform(std::mem::take(&mut effects))
                .into_iter()
                .filter_map(|e| match e {
                    Effect::LookForDraft { .. } => Some(Msg::DraftFound(Ok(Default::default()))),
                    _ => None,
                })
                .collect();
            for msg in answers_now {
                effects.extend(update(&mut state, Event::Msg(msg)));
            }
        }
        let t = Instant::now();
        let mut laid = Drawn::default();
        terminal.draw(|frame| laid = ui::draw(frame, &state, &keymap, &theme))?;
        if laid != state.drawn {
            update(&mut state, Event::Msg(Msg::Drawn(laid)));
        }
        let drawn = Instant::now();
        result.frames.push(drawn - t);
        if let Some((expected, pressed)) = &pending {
            let shown = state
                .finder
                .results
                .as_ref()
                .is_some_and(|r| r.query == *expected)
                && state.finder.in_flight.is_none()
                && state.finder.search_due.is_none();
            if shown {
                result.to_screen.push(drawn - *pressed);
                pending = None;
            } else if state.finder.query.value() != expected {
                result.missed += 1;
                pending = None;
            }
        }
        if steps.is_empty() && pending.is_none() && !state.finder.searching() {
            break;
        }
        if t0.elapsed() > last_at + Duration::from_secs(60) {
            bail!("the Finder did not settle within a minute after the last key");
        }
        let next_key = steps
            .front()
            .map(|p| tokio::time::Instant::from_std(t0 + p.at));
        let deadline = state.next_deadline().map(tokio::time::Instant::from_std);
        tokio::select! {
            () = sleep_until(next_key), if next_key.is_some() => {
                if let Some(p) = steps.pop_front() {
                    let now = Instant::now();
                    effects.extend(update(&mut state, Event::Msg(Msg::Tick(now))));
                    effects.extend(update(
                        &mut state,
                        Event::Msg(Msg::WallClock(chrono::Utc::now())),
                    ));
                    if let Some(event) = key_event(&keymap, &state, p.key) {
                        effects.extend(update(&mut state, event));
                    }
                    if p.measure {
                        if pending.take().is_some() {
                            result.missed += 1;
                        }
                        pending = Some((state.finder.query.value().to_string(), now));
                    }
                }
            }
            Some(msg) = answers.recv() => {
                effects.extend(update(&mut state, Event::Msg(msg)));
            }
            () = sleep_until(deadline), if deadline.is_some() => {
                effects.extend(update(&mut state, Event::Msg(Msg::Tick(Instant::now()))));
            }
        }
        while let Ok(msg) = answers.try_recv() {
            effects.extend(update(&mut state, Event::Msg(msg)));
        }
    }
    Ok((result, state))
}

async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Draw times of `n` frames of the Finder in `state` (which should hold a page of results), the
/// selection moving one row per frame so that every frame changes: with the detail pane closed
/// and then open.
pub fn frames(state: &mut State, n: usize) -> Result<(Vec<Duration>, Vec<Duration>)> {
    let keymap = KeyMap::defaults();
    let theme = Theme::default();
    let mut terminal = Terminal::new(TestBackend::new(WIDTH, HEIGHT))?;
    if state.finder.hits().is_empty() {
        bail!("the Finder has no results to draw");
    }
    let mut out = (Vec::with_capacity(n), Vec::with_capacity(n));
    for detail in [false, true] {
        state.finder.detail_open = detail;
        for i in 0..n {
            let action = if (i / state.finder.hits().len().max(1)).is_multiple_of(2) {
                Action::MoveDown
            } else {
                Action::MoveUp
            };
            update(state, Event::Action(action));
            let t = Instant::now();
            let mut laid = Drawn::default();
            terminal.draw(|frame| laid = ui::draw(frame, state, &keymap, &theme))?;
            let d = t.elapsed();
            if laid != state.drawn {
                update(state, Event::Msg(Msg::Drawn(laid)));
            }
            if detail {
                out.1.push(d);
            } else {
                out.0.push(d);
            }
        }
    }
    Ok(out)
}
