//! The terminal loop: set the terminal up, draw the first frame before the first query, then
//! turn terminal events and runner answers into `update` calls, redrawing after each batch (never
//! on a timer while idle). The terminal is restored on every way out: return, error, panic.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use crossterm::event::{
    EnableBracketedPaste, EnableMouseCapture, Event as TermEvent, EventStream, KeyCode,
    KeyEventKind, KeyModifiers,
};
use std::task::Poll;

use futures::StreamExt;
use ratatui::DefaultTerminal;
use tokio::sync::mpsc;

use crate::app::drafts::DraftStore;
use crate::app::files::Files;
use crate::app::keymap::KeyMap;
use crate::app::live;
use crate::app::login::SiteChoice;
use crate::app::remember::Remembered;
use crate::app::runner::{LoginBackend, Revive, Runner, SearchBackend, SetupBackend, osc52};
use crate::app::state::{ClientIds, Drawn, Screen, Session, Settings, State};
use crate::app::update::{Effect, Event, Msg, key_event, mouse_event, start, update};
use crate::db::Db;
use crate::ui::{self, Theme};

use super::signals::{self, Asked, Signals};

/// How often the screen's runner pings the database while nothing else does: a server lost
/// while the screen is idle shows within two beats.
const HEARTBEAT: std::time::Duration = std::time::Duration::from_millis(900);

/// Everything the terminal UI needs besides the search backend.
#[derive(Clone, Debug)]
pub struct Options {
    pub session: Session,
    pub settings: Settings,
    pub keymap: KeyMap,
    pub theme: Theme,
    /// Capture the mouse (wheel and clicks); off leaves the terminal's own selection working.
    pub mouse: bool,
    /// Where the form keeps unsaved text.
    pub drafts: DraftStore,
    /// Without a login (the demo): the user and the sites `s` switches between.
    pub sites: Option<(i32, Vec<SiteChoice>)>,
    /// Listen on this database for other people's changes, to refresh what is on screen.
    pub listen: Option<Db>,
    /// The read replicas searches use: a change announced by `listen` keeps searches on the
    /// primary until a replica has replayed it, so the refresh shows it.
    pub reads: Option<crate::db::replicas::ReadRouter>,
    /// Starts the embedded cluster again when it stops answering (None for a server of one's
    /// own).
    pub revive: Option<Revive>,
}

/// How the app starts when a login comes first.
pub struct LoginStart {
    pub login: Arc<dyn LoginBackend>,
    /// The file that remembers the last user and each user's last site
    /// ([`Remembered`]).
    pub login_file: PathBuf,
    /// The first run's backend, when the database has no user yet: the first-run screen comes
    /// before the Login.
    pub setup: Option<Arc<dyn SetupBackend>>,
}

/// Restores the terminal when dropped, also while unwinding.
struct Restore {
    mouse: bool,
}

impl Drop for Restore {
    fn drop(&mut self) {
        signals::release(self.mouse);
    }
}

/// Runs the Finder until the user quits. Call from inside the tokio runtime after the config is
/// loaded and validated (nothing here reads it); errors come back after the terminal is restored.
pub async fn run(backend: Arc<dyn SearchBackend>, options: Options) -> Result<()> {
    run_app(backend, None, options).await
}

/// Runs the app from the Login screen, through the Site picker, to the Finder. `backend` serves
/// until the login; then the login backend's search backend for the user takes over.
pub async fn run_with_login(
    backend: Arc<dyn SearchBackend>,
    start: LoginStart,
    options: Options,
) -> Result<()> {
    run_app(backend, Some(start), options).await
}

async fn run_app(
    backend: Arc<dyn SearchBackend>,
    login: Option<LoginStart>,
    options: Options,
) -> Result<()> {
    // try_init installs a panic hook that restores the terminal before the panic message.
    let mut terminal = ratatui::try_init().context(
        "cannot set up the terminal; run ifind in an interactive terminal (not through a pipe)",
    )?;
    let _restore = Restore {
        mouse: options.mouse,
    };
    // A crashed ifind may have left its screen (the alternate screen stays on): the first frame
    // only draws what differs from a blank screen, so blank it for real first.
    terminal
        .clear()
        .context("cannot clear the terminal; run ifind in an interactive terminal")?;
    if options.mouse {
        // Runs before ratatui's own hook, which then restores the rest of the terminal.
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let _ = crossterm::execute!(std::io::stdout(), crossterm::event::DisableMouseCapture);
            previous(info);
        }));
        crossterm::execute!(std::io::stdout(), EnableMouseCapture)
            .context("cannot turn on mouse capture; set the mouse option off")?;
    }
    // Pasted text arrives whole, so a line break in it cannot press Enter.
    crossterm::execute!(std::io::stdout(), EnableBracketedPaste)
        .context("cannot turn on bracketed paste in this terminal")?;
    event_loop(&mut terminal, backend, login, options).await
}

async fn event_loop(
    terminal: &mut DefaultTerminal,
    backend: Arc<dyn SearchBackend>,
    login: Option<LoginStart>,
    options: Options,
) -> Result<()> {
    let Options {
        session,
        settings,
        keymap,
        theme,
        mouse,
        drafts,
        sites,
        listen,
        reads,
        revive,
    } = options;
    let (tx, mut answers) = mpsc::unbounded_channel();
    let _listener = listen.map(|db| {
        ListenerTask(tokio::spawn(live::listen_for_changes(
            db,
            reads,
            tx.clone(),
        )))
    });
    let mut runner = Runner::new(backend, tx.clone())
        .with_timeout(settings.query_timeout)
        .with_revive(revive);
    let (mut state, login_file) = match login {
        Some(start) => {
            runner = runner.with_login(start.login);
            let remembered = Remembered::read(&start.login_file);
            let state = match start.setup {
                Some(setup) => {
                    runner = runner.with_setup(setup);
                    State::first_run(settings, Instant::now(), remembered)
                }
                None => State::login(settings, Instant::now(), remembered),
            };
            (state, Some(start.login_file))
        }
        None => (signed_in(session, settings, sites), None),
    };
    // A server that dies while the screen is idle shows within 2 s (two beats at most).
    runner = runner
        .with_files(Files::start(drafts, login_file, tx))
        .with_heartbeat(HEARTBEAT);
    // The one random draw of the app's state: where the form's client ids start.
    state.client_ids = ClientIds::from_seed(rand::random());
    let drawing = Drawing {
        keymap,
        theme,
        mouse,
        frames: FrameLog::from_env(),
    };
    let result = drive(terminal, &mut runner, &mut state, &drawing, &mut answers).await;
    // On every way out: what the person typed reaches the disk before the app ends.
    runner.finish().await;
    result
}

/// What drawing needs besides the state.
struct Drawing {
    keymap: KeyMap,
    theme: Theme,
    /// Mouse capture is on (to turn it on again after a stop).
    mouse: bool,
    /// `IFIND_FRAME_LOG`, when set.
    frames: Option<FrameLog>,
}

/// A log of the frames written to the terminal, for the benchmark's keystroke-to-screen
/// measurement in a real terminal (`IFIND_FRAME_LOG=<file>`; nothing is written without it):
/// one line per frame, after the terminal is flushed: `CLOCK_MONOTONIC` in nanoseconds (the
/// clock every process on the machine shares), whether the results' count is on screen, and
/// the query line the results on screen answer. Tabs and line ends in it become spaces.
struct FrameLog(std::fs::File);

impl FrameLog {
    fn from_env() -> Option<FrameLog> {
        let path = std::env::var_os("IFIND_FRAME_LOG")?;
        match std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
        {
            Ok(file) => Some(FrameLog(file)),
            Err(e) => {
                tracing::warn!("IFIND_FRAME_LOG: cannot open {path:?}: {e}");
                None
            }
        }
    }

    fn record(&self, state: &State) {
        let Some(results) = &state.finder.results else {
            return;
        };
        let Ok(now) = nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC) else {
            return;
        };
        let ns = i128::from(now.tv_sec()) * 1_000_000_000 + i128::from(now.tv_nsec());
        let query = results.query.replace(['\t', '\n', '\r'], " ");
        let line = format!("{ns}\t{}\t{query}\n", results.count.is_some());
        // One write, so that a reader never sees half a line.
        let _ = (&self.0).write_all(line.as_bytes());
    }
}

/// What the loop waited for.
enum Gathered {
    /// Terminal events, in order (answers and deadlines already went to `update`).
    Events(Vec<TermEvent>),
    /// The terminal has closed.
    Closed,
    /// A signal asked for something.
    Signal(Asked),
}

/// The loop: draw, wait for events and answers, update, perform, until the person quits or the
/// terminal closes.
async fn drive(
    terminal: &mut DefaultTerminal,
    runner: &mut Runner,
    state: &mut State,
    drawing: &Drawing,
    answers: &mut mpsc::UnboundedReceiver<Msg>,
) -> Result<()> {
    let Drawing {
        keymap,
        theme,
        mouse,
        frames,
    } = drawing;
    let frames = frames.as_ref();
    let mut events = EventStream::new();
    let mut signals = Signals::listen()?;
    let size = terminal.size()?;
    update(
        state,
        Event::Msg(Msg::Resize {
            width: size.width,
            height: size.height,
        }),
    );
    update(state, Event::Msg(Msg::WallClock(chrono::Utc::now())));
    draw(terminal, state, keymap, theme, frames)?;
    let mut effects = if state.screen() == Screen::Finder {
        start(state)
    } else {
        Vec::new()
    };
    loop {
        if perform(runner, std::mem::take(&mut effects))? {
            return Ok(());
        }
        draw(terminal, state, keymap, theme, frames)?;
        let batch = match gather(state, &mut events, &mut signals, answers, &mut effects).await? {
            Gathered::Events(batch) => batch,
            Gathered::Closed => return Ok(()),
            Gathered::Signal(Asked::End) => {
                tracing::info!("ended by a signal");
                return Ok(());
            }
            Gathered::Signal(Asked::Suspend) => {
                signals::suspend(terminal, *mouse)?;
                continue;
            }
            Gathered::Signal(Asked::Resumed) => {
                signals::take(terminal, *mouse)?;
                continue;
            }
        };
        for event in batch {
            if is_ctrl_z(&event) {
                signals::suspend(terminal, *mouse)?;
                continue;
            }
            effects.extend(terminal_event(state, keymap, event));
            if state.quit {
                break;
            }
        }
    }
}

/// Draws a frame and tells `update` what it laid out when that changed (a resize, another
/// screen, the detail pane opened or showing another interaction); draws once more only when
/// `update` then moved the list's scroll offset to keep the selection on screen, the one thing
/// it changes in answer.
fn draw(
    terminal: &mut DefaultTerminal,
    state: &mut State,
    keymap: &KeyMap,
    theme: &Theme,
    frames: Option<&FrameLog>,
) -> Result<()> {
    let mut drawn = Drawn::default();
    terminal.draw(|frame| drawn = ui::draw(frame, state, keymap, theme))?;
    if drawn != state.drawn {
        let offset = state.finder.offset;
        update(state, Event::Msg(Msg::Drawn(drawn)));
        if state.finder.offset != offset {
            terminal.draw(|frame| {
                ui::draw(frame, state, keymap, theme);
            })?;
        }
    }
    if let Some(log) = frames {
        log.record(state);
    }
    Ok(())
}

/// Waits for the next terminal event, answer or deadline (answers and deadlines go to `update`
/// at once, their effects into `effects`), then takes everything else already waiting, so that
/// the caller draws once for all of it. The terminal events, in order; None when the terminal
/// has closed.
async fn gather(
    state: &mut State,
    events: &mut EventStream,
    signals: &mut Signals,
    answers: &mut mpsc::UnboundedReceiver<Msg>,
    effects: &mut Vec<Effect>,
) -> Result<Gathered> {
    let deadline = state.next_deadline().map(tokio::time::Instant::from_std);
    let first = tokio::select! {
        event = events.next() => match event {
            Some(event) => Some(event.context("cannot read from the terminal")?),
            None => return Ok(Gathered::Closed),
        },
        asked = signals.next() => return Ok(Gathered::Signal(asked)),
        Some(msg) = answers.recv() => {
            effects.extend(update(state, Event::Msg(msg)));
            None
        }
        () = sleep_until(deadline), if deadline.is_some() => {
            effects.extend(update(state, Event::Msg(Msg::Tick(Instant::now()))));
            None
        }
    };
    let mut batch: Vec<TermEvent> = first.into_iter().collect();
    while let Some(event) = ready_event(events).await {
        batch.push(event.context("cannot read from the terminal")?);
    }
    while let Ok(msg) = answers.try_recv() {
        effects.extend(update(state, Event::Msg(msg)));
    }
    if !batch.is_empty() {
        effects.extend(update(state, Event::Msg(Msg::Tick(Instant::now()))));
        effects.extend(update(
            state,
            Event::Msg(Msg::WallClock(chrono::Utc::now())),
        ));
    }
    Ok(Gathered::Events(batch))
}

/// The state of a session that starts signed in (the CLI's own user, the demo), with the
/// sites to switch between when the user has several.
fn signed_in(session: Session, settings: Settings, sites: Option<(i32, Vec<SiteChoice>)>) -> State {
    let mut state = State::new(session, settings, Instant::now());
    if let Some((user_id, sites)) = sites {
        state.picker.user_id = Some(user_id);
        state.picker.last_site = Some(state.session.site.clone());
        state.picker.sites = sites;
        state.picker.refilter();
    }
    state
}

/// Aborts the listener when the app ends.
struct ListenerTask(tokio::task::JoinHandle<()>);

impl Drop for ListenerTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The next terminal event if one is ready now, without waiting. Polls with this task's own
/// waker: crossterm's stream keeps the first waker it is given while it waits, so polling it with
/// a no-op waker (as `now_or_never` does) would lose the wake-up for the next key.
async fn ready_event(events: &mut EventStream) -> Option<std::io::Result<TermEvent>> {
    std::future::poll_fn(|cx| match events.poll_next_unpin(cx) {
        Poll::Ready(event) => Poll::Ready(event),
        Poll::Pending => Poll::Ready(None),
    })
    .await
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Ctrl-Z, which suspends ifind as it does any terminal program (the shell's `fg` resumes it).
fn is_ctrl_z(event: &TermEvent) -> bool {
    matches!(event, TermEvent::Key(key)
        if key.kind != KeyEventKind::Release
            && key.code == KeyCode::Char('z')
            && key.modifiers.contains(KeyModifiers::CONTROL))
}

fn terminal_event(state: &mut State, keymap: &KeyMap, event: TermEvent) -> Vec<Effect> {
    match event {
        TermEvent::Key(key) if key.kind != KeyEventKind::Release => {
            match key_event(keymap, state, key) {
                Some(event) => update(state, event),
                None => Vec::new(),
            }
        }
        TermEvent::Mouse(mouse) => match mouse_event(state, mouse) {
            Some(event) => update(state, event),
            None => Vec::new(),
        },
        TermEvent::Resize(width, height) => {
            update(state, Event::Msg(Msg::Resize { width, height }))
        }
        TermEvent::Paste(text) => update(state, Event::Paste(text)),
        _ => Vec::new(),
    }
}

/// Performs effects (the runner takes all but those on the terminal itself); true when the
/// app should exit.
fn perform(runner: &mut Runner, effects: Vec<Effect>) -> Result<bool> {
    for effect in runner.perform(effects) {
        match effect {
            Effect::Quit => return Ok(true),
            Effect::CopyToClipboard(text) => {
                let mut out = std::io::stdout();
                out.write_all(osc52(&text).as_bytes())?;
                out.flush()?;
            }
            other => tracing::warn!("an effect nobody performs: {other:?}"),
        }
    }
    Ok(false)
}
