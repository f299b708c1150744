//! The terminal loop: set the terminal up, draw the first frame before the first query, then
//! turn terminal events and runner answers into `update` calls, redrawing after each batch (never
//! on a timer while idle). The terminal is restored on every way out: return, error, panic.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
    Event as TermEvent, EventStream, KeyEventKind,
};
use std::task::Poll;

use futures::StreamExt;
use ratatui::DefaultTerminal;
use tokio::sync::mpsc;

use super::drafts::DraftStore;
use super::keymap::KeyMap;
use super::login::SiteChoice;
use super::runner::{LoginBackend, Runner, SearchBackend, osc52};
use super::state::{ClientIds, Screen, Session, Settings, State};
use super::update::{Effect, Event, Msg, key_event, mouse_event, start, update};
use crate::db::Db;
use crate::ui::{self, Theme};

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
}

/// How the app starts when a login comes first.
pub struct LoginStart {
    pub login: Arc<dyn LoginBackend>,
    /// The file that remembers the last site picked (its name, on one line).
    pub last_site_file: PathBuf,
}

/// Restores the terminal when dropped, also while unwinding.
struct Restore {
    mouse: bool,
}

impl Drop for Restore {
    fn drop(&mut self) {
        let _ = crossterm::execute!(std::io::stdout(), DisableBracketedPaste);
        if self.mouse {
            let _ = crossterm::execute!(std::io::stdout(), DisableMouseCapture);
        }
        ratatui::restore();
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
    if options.mouse {
        // Runs before ratatui's own hook, which then restores the rest of the terminal.
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let _ = crossterm::execute!(std::io::stdout(), DisableMouseCapture);
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
        mouse: _,
        drafts,
        sites,
        listen,
        reads,
    } = options;
    let (tx, mut answers) = mpsc::unbounded_channel();
    let _listener =
        listen.map(|db| ListenerTask(tokio::spawn(listen_for_changes(db, reads, tx.clone()))));
    let mut runner = Runner::new(backend, tx).with_timeout(settings.query_timeout);
    let mut events = EventStream::new();
    let (mut state, last_site_file) = match login {
        Some(start) => {
            runner = runner.with_login(start.login);
            let last = read_last_site(&start.last_site_file);
            let state = State::login(settings, Instant::now(), last);
            (state, Some(start.last_site_file))
        }
        None => (signed_in(session, settings, sites), None),
    };
    // The one random draw of the app's state: where the form's client ids start.
    state.client_ids = ClientIds::from_seed(rand::random());
    let size = terminal.size()?;
    update(
        &mut state,
        Event::Msg(Msg::Resize {
            width: size.width,
            height: size.height,
        }),
    );
    update(&mut state, Event::Msg(Msg::WallClock(chrono::Utc::now())));
    terminal.draw(|frame| ui::draw(frame, &state, &keymap, &theme))?;
    let mut effects = if state.screen == Screen::Finder {
        start(&mut state)
    } else {
        Vec::new()
    };
    loop {
        // Effects answered at once (reading a draft) feed straight back into `update`.
        while !effects.is_empty() {
            let (quit, answers) =
                perform(&mut runner, effects, last_site_file.as_deref(), &drafts)?;
            if quit {
                return Ok(());
            }
            effects = answers
                .into_iter()
                .flat_map(|msg| update(&mut state, Event::Msg(msg)))
                .collect();
        }
        terminal.draw(|frame| ui::draw(frame, &state, &keymap, &theme))?;
        effects = Vec::new();
        let Some(batch) = gather(&mut state, &mut events, &mut answers, &mut effects).await? else {
            return Ok(());
        };
        for event in batch {
            effects.extend(terminal_event(&mut state, &keymap, event));
            if state.quit {
                break;
            }
        }
    }
}

/// Waits for the next terminal event, answer or deadline (answers and deadlines go to `update`
/// at once, their effects into `effects`), then takes everything else already waiting, so that
/// the caller draws once for all of it. The terminal events, in order; None when the terminal
/// has closed.
async fn gather(
    state: &mut State,
    events: &mut EventStream,
    answers: &mut mpsc::UnboundedReceiver<Msg>,
    effects: &mut Vec<Effect>,
) -> Result<Option<Vec<TermEvent>>> {
    let deadline = state.next_deadline().map(tokio::time::Instant::from_std);
    let first = tokio::select! {
        event = events.next() => match event {
            Some(event) => Some(event.context("cannot read from the terminal")?),
            None => return Ok(None),
        },
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
    Ok(Some(batch))
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

/// Forwards the sites of other people's changes as [`Msg::Changed`]; reconnects with a growing
/// pause when the connection is lost (the Finder works on without live updates meanwhile).
/// A lost connection is reported ([`Msg::LiveUpdatesLost`], which starts the app's connection
/// check), and so is listening again ([`Msg::LiveUpdatesBack`]: changes made meanwhile were
/// not signalled, so the app refreshes). With read replicas, a change keeps searches on the
/// primary until a replica has replayed it.
pub(super) async fn listen_for_changes(
    db: Db,
    reads: Option<crate::db::replicas::ReadRouter>,
    answers: mpsc::UnboundedSender<Msg>,
) {
    use super::runner::{FIRST_RETRY, MAX_RETRY};
    let mut pause = FIRST_RETRY;
    let mut lost = false;
    loop {
        match crate::db::notify::Changes::listen(&db).await {
            Ok(mut changes) => {
                pause = FIRST_RETRY;
                if std::mem::take(&mut lost) && answers.send(Msg::LiveUpdatesBack).is_err() {
                    return;
                }
                loop {
                    let msg = match changes.next_change().await {
                        Ok(crate::db::notify::Change::Site(site_id)) => {
                            if let Some(reads) = &reads {
                                reads.note_write().await;
                            }
                            Msg::Changed { site_id }
                        }
                        Ok(crate::db::notify::Change::Reconnected) => {
                            tracing::info!("live updates listen again after a lost connection");
                            Msg::LiveUpdatesBack
                        }
                        Err(e) => {
                            tracing::warn!("live updates stopped: {e}");
                            break;
                        }
                    };
                    if answers.send(msg).is_err() {
                        return;
                    }
                }
            }
            Err(e) => tracing::warn!("cannot listen for live updates: {e}"),
        }
        if !lost {
            lost = true;
            if answers.send(Msg::LiveUpdatesLost).is_err() {
                return;
            }
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(MAX_RETRY);
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

/// The site name remembered in `path`, if the file exists and holds one.
fn read_last_site(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let name = text.lines().next()?.trim();
    (!name.is_empty()).then(|| name.to_string())
}

/// Remembers `name` in `path` (0600 in a 0700 folder). Failing to is no reason to stop: it is
/// only logged.
fn write_last_site(path: &Path, name: &str) {
    let written = crate::private_files::write_private(path, format!("{name}\n").as_bytes());
    if let Err(e) = written {
        tracing::warn!("cannot remember the last site in {}: {e}", path.display());
    }
}

/// Performs effects; true when the app should exit, and the answers that are ready at once.
fn perform(
    runner: &mut Runner,
    effects: Vec<Effect>,
    last_site: Option<&Path>,
    drafts: &DraftStore,
) -> Result<(bool, Vec<Msg>)> {
    let mut answers = Vec::new();
    for effect in runner.perform(effects) {
        match effect {
            Effect::Quit => return Ok((true, answers)),
            Effect::WriteDraft(draft) => {
                if let Err(e) = drafts.write(&draft, chrono::Utc::now()) {
                    tracing::warn!("cannot write the draft: {e}");
                    answers.push(Msg::Notice(format!(
                        "your typing cannot be kept in a draft ({e}); save soon, and check the \
                         state directory {}",
                        drafts.path(&draft.user, draft.site_id).display()
                    )));
                }
            }
            Effect::DeleteDraft { user, site_id } => {
                if let Err(e) = drafts.remove(&user, site_id) {
                    tracing::warn!("cannot remove the draft of {user} at site {site_id}: {e}");
                }
            }
            Effect::LookForDraft { user, site_id } => {
                answers.push(Msg::DraftFound(
                    drafts
                        .read(&user, site_id)
                        .map(|d| d.map(Box::new))
                        .map_err(crate::domain::failure::Failure::from),
                ));
            }
            Effect::CopyToClipboard(text) => {
                let mut out = std::io::stdout();
                out.write_all(osc52(&text).as_bytes())?;
                out.flush()?;
            }
            Effect::RememberSite(name) => {
                if let Some(path) = last_site {
                    write_last_site(path, &name);
                }
            }
            Effect::Search { .. }
            | Effect::CancelSearch { .. }
            | Effect::Login { .. }
            | Effect::Save { .. }
            | Effect::CheckConnection
            | Effect::Histogram { .. }
            | Effect::Count { .. }
            | Effect::LoadTrash { .. }
            | Effect::LoadHistory { .. }
            | Effect::LoadLookups { .. }
            | Effect::LoadHealth { .. }
            | Effect::Delete { .. }
            | Effect::Restore { .. }
            | Effect::BeginSession { .. } => {}
        }
    }
    Ok((false, answers))
}
