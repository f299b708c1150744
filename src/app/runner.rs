//! The effect runner: performs the I/O that `update` asks for, on tokio tasks, and answers over
//! a channel with [`Msg`]s tagged with the request id.
//!
//! Each search runs in its own task; the runner keeps its `JoinHandle` so that
//! [`Effect::CancelSearch`] aborts it, then tells the backend ([`Finder::cancel`]), which
//! is where a database backend cancels the statement on the server (dropping a future does not
//! stop PostgreSQL).

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinHandle;

use super::files::Files;
use super::first_run::{FirstCreated, FirstSetup};
use super::form::{FormTarget, Lookups, SaveError};
use super::login::{LoginOk, Secret};
use super::search_types::{MatchCount, SearchPage, SearchRequest};
use super::update::{Effect, Msg};
use crate::domain::audit::AuditEntry;
use crate::domain::failure::Failure;
use crate::domain::format::show_duration;
use crate::domain::health::Check;
use crate::domain::histogram::MonthCount;
use crate::domain::interaction::{Interaction, ValidInteraction};
use crate::domain::trash::TrashItem;

/// A boxed, sendable future (what [`SearchBackend`] returns; no async-trait dependency).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Finding interactions: a search, its count and its month histogram, and cancelling them on
/// the server. The real one is the service's searcher (see `db_backend.rs`); tests use fakes.
pub trait Finder: Send + Sync + 'static {
    /// Runs one search. `request_id` names it for [`Finder::cancel`]. The failure's message is
    /// for the status line.
    fn search(
        &self,
        request_id: u64,
        request: SearchRequest,
    ) -> BoxFuture<'_, Result<SearchPage, Failure>>;

    /// Counts the matches of `request` up to its cap (after its first page is on screen).
    /// `request_id` names it for [`Finder::cancel`].
    fn count(
        &self,
        request_id: u64,
        request: SearchRequest,
    ) -> BoxFuture<'_, Result<MatchCount, Failure>>;

    /// Counts the matches of `request` by month within `budget_ms` on the server; None when
    /// that was too costly. `request_id` names it for [`Finder::cancel`].
    fn histogram(
        &self,
        request_id: u64,
        request: SearchRequest,
        budget_ms: u32,
    ) -> BoxFuture<'_, Result<Option<Vec<MonthCount>>, Failure>>;

    /// Called after the task of search `request_id` was aborted: the hook for cancelling it on
    /// the server too (`pg_cancel_backend`). Does nothing by default.
    fn cancel(&self, request_id: u64) {
        let _ = request_id;
    }
}

/// Reading and writing the records of a site: saves, the Trash (list, delete, restore), the
/// change history, and the values the form completes from.
pub trait Records: Send + Sync + 'static {
    /// Creates (`FormTarget::New`) or updates an interaction of `site_id` as the backend's
    /// user, in one transaction: all of it is written or none.
    fn save(
        &self,
        site_id: i32,
        target: FormTarget,
        interaction: ValidInteraction,
    ) -> BoxFuture<'_, Result<Interaction, SaveError>>;

    /// [`Records::save`] of a create that carries `client_id`, the id the form made for it:
    /// a backend that stores it makes retrying the same create harmless (never a second
    /// record). When the connection is lost at a moment where the write may or may not have
    /// committed, the answer is [`SaveError::Unknown`]. By default the id is ignored.
    fn save_once(
        &self,
        site_id: i32,
        target: FormTarget,
        interaction: ValidInteraction,
        client_id: Option<String>,
    ) -> BoxFuture<'_, Result<Interaction, SaveError>> {
        let _ = client_id;
        self.save(site_id, target, interaction)
    }

    /// After a save whose outcome is unknown: the stored record if that save reached the
    /// database (`Some`), None if it did not. An error means it cannot be told yet (the
    /// connection is still down). By default: not saved.
    fn resolve_save(
        &self,
        site_id: i32,
        target: FormTarget,
        interaction: ValidInteraction,
        client_id: Option<String>,
    ) -> BoxFuture<'_, Result<Option<Interaction>, Failure>> {
        let _ = (site_id, target, interaction, client_id);
        Box::pin(async { Ok(None) })
    }

    /// Moves an interaction to the trash if it is still at `version` (site admins).
    fn delete(
        &self,
        site_id: i32,
        interaction_id: i32,
        version: i32,
    ) -> BoxFuture<'_, Result<Interaction, SaveError>>;

    /// After a delete (`to_trash`) or restore whose outcome is unknown: the record as it is
    /// now if the change is in effect, None if it is not. An error means it cannot be told yet.
    /// By default: not made.
    fn resolve_trash_move(
        &self,
        site_id: i32,
        interaction_id: i32,
        to_trash: bool,
    ) -> BoxFuture<'_, Result<Option<Interaction>, Failure>> {
        let _ = (site_id, interaction_id, to_trash);
        Box::pin(async { Ok(None) })
    }

    /// Takes an interaction out of the trash if it was deleted within `days` (site admins).
    fn restore(
        &self,
        site_id: i32,
        interaction_id: i32,
        days: u32,
    ) -> BoxFuture<'_, Result<Interaction, SaveError>>;

    /// The site's types, leads and locations in use, for completion.
    fn lookups(&self, site_id: i32) -> BoxFuture<'_, Result<Lookups, Failure>>;

    /// The change history of interaction `interaction_id` of `site_id`, oldest first.
    fn history(
        &self,
        site_id: i32,
        interaction_id: i32,
    ) -> BoxFuture<'_, Result<Vec<AuditEntry>, Failure>>;

    /// The site's deleted interactions, deleted within the last `days`, newest first.
    fn trash(&self, site_id: i32, days: u32) -> BoxFuture<'_, Result<Vec<TrashItem>, Failure>>;
}

/// The database's health: its checks, and whether it answers at all.
pub trait Health: Send + Sync + 'static {
    /// The database health checks.
    fn health(&self) -> BoxFuture<'_, Result<Vec<Check>, Failure>>;

    /// Checks that the database answers (a cheap round trip). By default it always does.
    fn ping(&self) -> BoxFuture<'_, Result<(), Failure>> {
        Box::pin(async { Ok(()) })
    }
}

/// Everything the runner asks of the database, as one object: a [`Finder`], [`Records`] and
/// [`Health`]. Any type that is all three is one.
pub trait SearchBackend: Finder + Records + Health {}

impl<T: Finder + Records + Health> SearchBackend for T {}

pub use crate::service::Revive;

/// Where logins are checked, and the search backend for a logged-in user. The real one is
/// `DbLoginBackend` (see `db_backend.rs`).
pub trait LoginBackend: Send + Sync + 'static {
    /// Checks a username and password. The failure's message is for the Login screen.
    fn login(&self, username: String, password: Secret) -> BoxFuture<'_, Result<LoginOk, Failure>>;

    /// The search backend that acts as `user_id`.
    fn search_as(&self, user_id: i32) -> Arc<dyn SearchBackend>;

    /// The logged-in user's own pool, for what runs beside the searches (live updates); None
    /// when the backend has none (tests).
    fn session_db(&self) -> Option<crate::db::Db> {
        None
    }
}

/// Where the first run creates the first global administrator and the first site. The real
/// one is `PgSetupBackend` (see `db_backend.rs`), over the owner's connection.
pub trait SetupBackend: Send + Sync + 'static {
    /// Creates both, or says why not (the message is for the first-run screen).
    fn create_first(
        &self,
        setup: FirstSetup,
        password: Secret,
    ) -> BoxFuture<'_, Result<FirstCreated, Failure>>;
}

/// Performs effects. Searches, saves and logins go to the backends, drafts and the last site to
/// [`Files`]; the effects that touch the terminal (copying, quitting) are handed back to the
/// caller, which owns the terminal.
pub struct Runner {
    backend: Arc<dyn SearchBackend>,
    login: Option<Arc<dyn LoginBackend>>,
    /// The first run's, when the database has no user yet.
    setup: Option<Arc<dyn SetupBackend>>,
    answers: UnboundedSender<Msg>,
    tasks: HashMap<u64, JoinHandle<()>>,
    watch: Watch,
    /// Live updates on the logged-in user's own connection, once there is one.
    listener: Option<JoinHandle<()>>,
    /// Pings the database while nothing else does (see [`Runner::with_heartbeat`]).
    heartbeat: Option<(Duration, JoinHandle<()>)>,
    /// Drafts and the last site, when the runner has them (see [`Files`]).
    files: Option<Files>,
}

impl Runner {
    /// A runner that answers on `answers`. Must be used inside a tokio runtime.
    pub fn new(backend: Arc<dyn SearchBackend>, answers: UnboundedSender<Msg>) -> Runner {
        Runner {
            backend,
            login: None,
            setup: None,
            watch: Watch::new(answers.clone(), Duration::ZERO),
            answers,
            tasks: HashMap::new(),
            listener: None,
            heartbeat: None,
            files: None,
        }
    }

    /// The same runner, pinging the database every `every` (the session's backend once someone
    /// has logged in), so that a server that died while the screen is idle shows as lost within
    /// about twice `every`, and the embedded cluster is started again at once.
    pub fn with_heartbeat(mut self, every: Duration) -> Runner {
        self.heartbeat = Some((every, tokio::spawn(async {})));
        if self.login.is_none() {
            self.beat(every);
        }
        self
    }

    /// (Re)starts the heartbeat on the current backend.
    fn beat(&mut self, every: Duration) {
        if let Some((_, old)) = self.heartbeat.take() {
            old.abort();
        }
        let backend = Arc::clone(&self.backend);
        let watch = self.watch.clone();
        let task = tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                if watch.probing.load(Ordering::SeqCst) {
                    continue;
                }
                if let Err(why) = watch
                    .ping_within(backend.as_ref(), every.max(HEARTBEAT_LIMIT))
                    .await
                {
                    watch.lost(Arc::clone(&backend), why);
                }
            }
        });
        self.heartbeat = Some((every, task));
    }

    /// The same runner, performing the effects on drafts and the last site with `files`.
    pub fn with_files(mut self, files: Files) -> Runner {
        self.files = Some(files);
        self
    }

    /// Waits until every draft and last-site write asked for is performed (call on the way
    /// out).
    pub async fn finish(&mut self) {
        if let Some(files) = self.files.take() {
            files.finish().await;
        }
    }

    /// The same runner, giving every database operation at most `limit` (zero: no limit). A
    /// search or list that takes longer fails with a message that says so; a save that takes
    /// longer has an unknown outcome, which is looked up once the connection answers again.
    pub fn with_timeout(mut self, limit: Duration) -> Runner {
        self.watch.limit = limit;
        self
    }

    /// The same runner, starting the database again with `revive` when it stops answering.
    pub fn with_revive(mut self, revive: Option<Revive>) -> Runner {
        self.watch.revive = revive;
        self
    }

    /// The same runner, checking logins with `login` and searching as the user who logged in.
    pub fn with_login(mut self, login: Arc<dyn LoginBackend>) -> Runner {
        self.login = Some(login);
        self
    }

    /// The same runner, creating the first administrator and site with `setup`.
    pub fn with_setup(mut self, setup: Arc<dyn SetupBackend>) -> Runner {
        self.setup = Some(setup);
        self
    }

    /// Starts or cancels searches and login checks; returns the other effects, in order, for the caller.
    pub fn perform(&mut self, effects: Vec<Effect>) -> Vec<Effect> {
        self.tasks.retain(|_, task| !task.is_finished());
        let mut rest = Vec::new();
        for effect in effects {
            match effect {
                Effect::Search {
                    request_id,
                    request,
                } => self.start(request_id, request),
                Effect::Histogram {
                    request_id,
                    request,
                    budget_ms,
                } => self.count_months(request_id, request, budget_ms),
                Effect::Count {
                    request_id,
                    request,
                } => self.count(request_id, request),
                Effect::CancelSearch { request_id } => self.cancel(request_id),
                Effect::Login {
                    request_id,
                    username,
                    password,
                } => self.check_login(request_id, username, password),
                Effect::CreateFirst {
                    request_id,
                    setup,
                    password,
                } => self.create_first(request_id, setup, password),
                Effect::Save {
                    request_id,
                    site_id,
                    target,
                    interaction,
                    client_id,
                } => {
                    let save = Save {
                        site_id,
                        target,
                        interaction,
                        client_id,
                    };
                    self.save(request_id, save);
                }
                Effect::CheckConnection => self.watch.suspect(Arc::clone(&self.backend)),
                Effect::BeginSession { user_id } => self.begin_session(user_id),
                load @ (Effect::LoadHealth { .. }
                | Effect::LoadLookups { .. }
                | Effect::LoadHistory { .. }
                | Effect::LoadTrash { .. }) => self.load(load),
                write @ (Effect::Delete { .. } | Effect::Restore { .. }) => self.write(write),
                file @ (Effect::WriteDraft(_)
                | Effect::DeleteDraft { .. }
                | Effect::LookForDraft { .. }
                | Effect::Remember(_)) => match &self.files {
                    Some(files) => files.send(file),
                    None => rest.push(file),
                },
                other => rest.push(other),
            }
        }
        rest
    }

    /// A save: never cancelled, so that its outcome always reaches the form.
    fn save(&mut self, request_id: u64, save: Save) {
        let backend = Arc::clone(&self.backend);
        let watch = self.watch.clone();
        self.answer(async move {
            let result = watch.save(backend, request_id, save).await.map(Box::new);
            Msg::SaveDone { request_id, result }
        });
    }

    /// A read for a pane (health, completion values, history, trash), answered as its message.
    fn load(&mut self, effect: Effect) {
        let (backend, watch) = (Arc::clone(&self.backend), self.watch.clone());
        match effect {
            Effect::LoadHealth { request_id } => self.answer(async move {
                let result = watch.run(&backend, backend.health()).await;
                Msg::HealthLoaded { request_id, result }
            }),
            Effect::LoadLookups {
                request_id,
                site_id,
            } => self.answer(async move {
                let result = watch.run(&backend, backend.lookups(site_id)).await;
                Msg::LookupsLoaded { request_id, result }
            }),
            Effect::LoadHistory {
                request_id,
                site_id,
                interaction_id,
            } => self.answer(async move {
                let work = backend.history(site_id, interaction_id);
                let result = watch.run(&backend, work).await;
                Msg::HistoryLoaded { request_id, result }
            }),
            Effect::LoadTrash {
                request_id,
                site_id,
                days,
            } => self.answer(async move {
                let result = watch.run(&backend, backend.trash(site_id, days)).await;
                Msg::TrashLoaded { request_id, result }
            }),
            _ => {}
        }
    }

    /// A delete or a restore from the trash, answered as its message.
    fn write(&mut self, effect: Effect) {
        let (backend, watch) = (Arc::clone(&self.backend), self.watch.clone());
        match effect {
            Effect::Delete {
                request_id,
                site_id,
                interaction_id,
                version,
            } => self.answer(async move {
                let work = backend.delete(site_id, interaction_id, version);
                let moved = TrashMove {
                    site_id,
                    interaction_id,
                    to_trash: true,
                };
                let result = watch.write(&backend, work, moved).await.map(Box::new);
                Msg::Deleted { request_id, result }
            }),
            Effect::Restore {
                request_id,
                site_id,
                interaction_id,
                days,
            } => self.answer(async move {
                let work = backend.restore(site_id, interaction_id, days);
                let moved = TrashMove {
                    site_id,
                    interaction_id,
                    to_trash: false,
                };
                let result = watch.write(&backend, work, moved).await.map(Box::new);
                Msg::Restored { request_id, result }
            }),
            _ => {}
        }
    }

    /// The signed-in user's backend, and live updates on their session's connection.
    fn begin_session(&mut self, user_id: i32) {
        let Some(login) = self.login.clone() else {
            return;
        };
        self.backend = login.search_as(user_id);
        if let Some(every) = self.heartbeat.as_ref().map(|(every, _)| *every) {
            self.beat(every);
        }
        if let Some(db) = login.session_db() {
            if let Some(old) = self.listener.take() {
                old.abort();
            }
            let answers = self.answers.clone();
            self.listener = Some(tokio::spawn(super::live::listen_for_changes(
                db, None, answers,
            )));
        }
    }

    /// How many search tasks are still running.
    pub fn running(&self) -> usize {
        self.tasks.values().filter(|t| !t.is_finished()).count()
    }

    fn start(&mut self, request_id: u64, request: SearchRequest) {
        let backend = Arc::clone(&self.backend);
        let answers = self.answers.clone();
        let watch = self.watch.clone();
        let task = tokio::spawn(async move {
            let started = Instant::now();
            let result = match within(watch.limit, backend.search(request_id, request)).await {
                Some(result) => result,
                None => {
                    backend.cancel(request_id);
                    Err(Failure::Timeout(format!(
                        "the search got no answer within {} and was stopped; check the network \
                         and the database server (database.query_timeout_ms sets the limit)",
                        show_duration(watch.limit)
                    )))
                }
            };
            if result.is_err() {
                watch.suspect(Arc::clone(&backend));
            }
            let msg = match result {
                Ok(result) => Msg::SearchDone {
                    request_id,
                    result,
                    elapsed: started.elapsed(),
                },
                Err(message) => Msg::SearchFailed {
                    request_id,
                    message,
                },
            };
            // The receiver is gone only when the app is exiting.
            let _ = answers.send(msg);
        });
        self.tasks.insert(request_id, task);
    }

    /// Runs `work` on a task and sends its message; such work is never cancelled (writes, and
    /// lists whose answer is checked against the request id).
    fn answer(&self, work: impl Future<Output = Msg> + Send + 'static) {
        let answers = self.answers.clone();
        tokio::spawn(async move {
            let msg = work.await;
            let _ = answers.send(msg);
        });
    }

    fn count(&mut self, request_id: u64, request: SearchRequest) {
        let backend = Arc::clone(&self.backend);
        let answers = self.answers.clone();
        let limit = self.watch.limit;
        let task = tokio::spawn(async move {
            let result = match within(limit, backend.count(request_id, request)).await {
                Some(result) => result,
                None => {
                    backend.cancel(request_id);
                    Err(no_answer_within(limit))
                }
            };
            let _ = answers.send(Msg::Counted { request_id, result });
        });
        self.tasks.insert(request_id, task);
    }

    fn count_months(&mut self, request_id: u64, request: SearchRequest, budget_ms: u32) {
        let backend = Arc::clone(&self.backend);
        let answers = self.answers.clone();
        let limit = self.watch.limit;
        let task = tokio::spawn(async move {
            let work = backend.histogram(request_id, request, budget_ms);
            let result = match within(limit, work).await {
                Some(result) => result,
                None => {
                    backend.cancel(request_id);
                    Err(no_answer_within(limit))
                }
            };
            let months = match result {
                Ok(months) => months,
                Err(message) => {
                    // A missing picture is no reason to bother the person: it is only logged,
                    // and the database's words (which may quote the query) only at debug.
                    tracing::warn!(request_id, "the month histogram failed");
                    tracing::debug!(request_id, "the month histogram failed: {message}");
                    None
                }
            };
            let _ = answers.send(Msg::HistogramDone { request_id, months });
        });
        self.tasks.insert(request_id, task);
    }

    /// The first run's creation: never cancelled, never retried (its answer says what is done).
    fn create_first(&mut self, request_id: u64, setup: FirstSetup, password: Secret) {
        let answers = self.answers.clone();
        let Some(backend) = self.setup.clone() else {
            let _ = answers.send(Msg::FirstRunDone {
                request_id,
                result: Err(Failure::Other(
                    "the first administrator cannot be created here; use `ifind user add`".into(),
                )),
            });
            return;
        };
        let limit = self.watch.limit;
        tokio::spawn(async move {
            let result = within(limit, backend.create_first(setup, password))
                .await
                .unwrap_or_else(|| {
                    Err(Failure::Timeout(format!(
                        "the database did not answer within {}; quit and start ifind again to                          see whether the administrator was created",
                        show_duration(limit)
                    )))
                });
            let _ = answers.send(Msg::FirstRunDone { request_id, result });
        });
    }

    fn check_login(&mut self, request_id: u64, username: String, password: Secret) {
        let answers = self.answers.clone();
        let Some(login) = self.login.clone() else {
            let _ = answers.send(Msg::LoginDone {
                request_id,
                result: Err(Failure::Other(
                    "logging in is not possible here; run `ifind` to log in".into(),
                )),
            });
            return;
        };
        // Not kept in `tasks`: a login check is never cancelled (its answer is dropped if late).
        let limit = self.watch.limit;
        tokio::spawn(async move {
            let result = within(limit, login.login(username, password))
                .await
                .unwrap_or_else(|| {
                    Err(Failure::Timeout(format!(
                        "cannot check the login: the database did not answer within {}; check \
                         the network and the server, then try again",
                        show_duration(limit)
                    )))
                });
            let _ = answers.send(Msg::LoginDone { request_id, result });
        });
    }

    fn cancel(&mut self, request_id: u64) {
        if let Some(task) = self.tasks.remove(&request_id) {
            let was_running = !task.is_finished();
            task.abort();
            if was_running {
                self.backend.cancel(request_id);
            }
        }
    }
}

impl Drop for Runner {
    fn drop(&mut self) {
        if let Some(listener) = self.listener.take() {
            listener.abort();
        }
        for (request_id, task) in self.tasks.drain() {
            if !task.is_finished() {
                task.abort();
                self.backend.cancel(request_id);
            }
        }
    }
}

/// The first pause before the connection is checked again after a failed check.
pub const FIRST_RETRY: Duration = Duration::from_millis(250);
/// The longest pause between two checks of a lost connection.
pub const MAX_RETRY: Duration = Duration::from_secs(5);
/// The longest a heartbeat's ping may take before the connection counts as lost.
pub const HEARTBEAT_LIMIT: Duration = Duration::from_secs(1);

/// The failure of work that got no answer within `limit`.
fn no_answer_within(limit: Duration) -> Failure {
    Failure::Timeout(format!("no answer within {}", show_duration(limit)))
}

/// `work`, or None when it takes longer than `limit` (zero: no limit).
async fn within<T>(limit: Duration, work: impl Future<Output = T>) -> Option<T> {
    if limit.is_zero() {
        return Some(work.await);
    }
    tokio::time::timeout(limit, work).await.ok()
}

/// One save, as the runner hands it to the backend (and again to resolve an unknown outcome).
struct Save {
    site_id: i32,
    target: FormTarget,
    interaction: ValidInteraction,
    client_id: Option<String>,
}

/// Watches the connection: applies the time limit to each operation, and after a failure checks
/// the database with [`Health::ping`], at growing intervals ([`FIRST_RETRY`] doubling up
/// to [`MAX_RETRY`]) while it does not answer, telling the app with [`Msg::ConnectionLost`]
/// after every failed check and [`Msg::ConnectionBack`] once it answers again. One check runs at
/// a time.
#[derive(Clone)]
struct Watch {
    probing: Arc<AtomicBool>,
    answers: UnboundedSender<Msg>,
    limit: Duration,
    /// Starts the database again while it does not answer (the embedded cluster).
    revive: Option<Revive>,
}

impl Watch {
    fn new(answers: UnboundedSender<Msg>, limit: Duration) -> Watch {
        Watch {
            probing: Arc::default(),
            answers,
            limit,
            revive: None,
        }
    }

    /// Something failed: check the connection, unless a check is already running.
    fn suspect(&self, backend: Arc<dyn SearchBackend>) {
        self.check(backend, None);
    }

    /// A ping just failed with `why`: the connection is lost; say so at once and check until
    /// it answers, unless a check is already running.
    fn lost(&self, backend: Arc<dyn SearchBackend>, why: Failure) {
        self.check(backend, Some(why));
    }

    fn check(&self, backend: Arc<dyn SearchBackend>, failed: Option<Failure>) {
        if self.probing.swap(true, Ordering::SeqCst) {
            return;
        }
        let me = self.clone();
        tokio::spawn(async move {
            me.probe(backend.as_ref(), failed).await;
            me.probing.store(false, Ordering::SeqCst);
        });
    }

    /// Pings until the database answers (the first answer is `failed`, when a ping already
    /// failed); reports each failure and the recovery.
    async fn probe(&self, backend: &dyn SearchBackend, mut failed: Option<Failure>) {
        let started = Instant::now();
        let mut attempt = 0;
        let mut pause = FIRST_RETRY;
        loop {
            let answer = match failed.take() {
                Some(why) => Err(why),
                None => self.ping(backend).await,
            };
            match answer {
                Ok(()) => {
                    if attempt > 0 {
                        tracing::info!(attempt, "the database answers again");
                        let _ = self.answers.send(Msg::ConnectionBack {
                            after: started.elapsed(),
                        });
                    }
                    return;
                }
                Err(message) => {
                    attempt += 1;
                    tracing::warn!(attempt, "the database does not answer: {message}");
                    let lost = Msg::ConnectionLost {
                        attempt,
                        retry_at: Instant::now() + pause,
                        message,
                    };
                    if self.answers.send(lost).is_err() {
                        return; // the app is exiting
                    }
                    if let Some(revive) = &self.revive {
                        match (revive.0)().await {
                            Ok(()) => tracing::info!(attempt, "the embedded cluster runs"),
                            Err(e) => tracing::warn!(attempt, "cannot start the database: {e}"),
                        }
                    }
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(MAX_RETRY);
                }
            }
        }
    }

    async fn ping(&self, backend: &dyn SearchBackend) -> Result<(), Failure> {
        // A check never waits longer than the pause cap: a stalled network must not hold it.
        let limit = if self.limit.is_zero() {
            MAX_RETRY
        } else {
            self.limit.min(MAX_RETRY)
        };
        self.ping_within(backend, limit).await
    }

    async fn ping_within(
        &self,
        backend: &dyn SearchBackend,
        limit: Duration,
    ) -> Result<(), Failure> {
        within(limit, backend.ping())
            .await
            .unwrap_or_else(|| Err(no_answer_within(limit)))
    }

    /// Runs a read under the time limit; a failure starts a connection check.
    async fn run<T>(
        &self,
        backend: &Arc<dyn SearchBackend>,
        work: BoxFuture<'_, Result<T, Failure>>,
    ) -> Result<T, Failure> {
        let result = within(self.limit, work).await.unwrap_or_else(|| {
            Err(Failure::Timeout(format!(
                "the database did not answer within {}; check the network and the server \
                 (database.query_timeout_ms sets the limit)",
                show_duration(self.limit)
            )))
        });
        if result.is_err() {
            self.suspect(Arc::clone(backend));
        }
        result
    }

    /// Runs a delete or restore under the time limit; a failure starts a connection check.
    /// When the outcome is unknown (the answer to the COMMIT was lost, or none came in time),
    /// says so on the status line and asks the backend, at growing intervals until the database
    /// answers, whether the change was made: the answer is the truth, never a guess.
    async fn write(
        &self,
        backend: &Arc<dyn SearchBackend>,
        work: BoxFuture<'_, Result<Interaction, SaveError>>,
        moved: TrashMove,
    ) -> Result<Interaction, SaveError> {
        let result = within(self.limit, work).await.unwrap_or_else(|| {
            Err(SaveError::Unknown(Failure::Timeout(format!(
                "the database did not answer within {}",
                show_duration(self.limit)
            ))))
        });
        if matches!(result, Err(SaveError::Failed(_) | SaveError::Unknown(_))) {
            self.suspect(Arc::clone(backend));
        }
        let Err(SaveError::Unknown(why)) = result else {
            return result;
        };
        let what = moved.what();
        tracing::warn!("{what} outcome unknown: {why}");
        let _ = self.answers.send(Msg::Notice(format!(
            "the connection was lost during the {what} ({why}); checking whether it was made…"
        )));
        let mut pause = FIRST_RETRY;
        loop {
            let ask =
                backend.resolve_trash_move(moved.site_id, moved.interaction_id, moved.to_trash);
            match within(self.limit, ask).await {
                Some(Ok(Some(now))) => {
                    tracing::info!("the {what} had reached the database");
                    return Ok(now);
                }
                Some(Ok(None)) => {
                    tracing::info!("the {what} had not reached the database");
                    return Err(SaveError::Failed(why.reworded(|why| {
                        format!(
                            "the connection was lost ({why}) before the {what} reached the \
                             database; nothing was changed"
                        )
                    })));
                }
                Some(Err(e)) => tracing::debug!("cannot resolve the {what} yet: {e}"),
                None => tracing::debug!("cannot resolve the {what} yet: no answer"),
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(MAX_RETRY);
        }
    }

    /// Saves; when the outcome is unknown (the connection was lost or stalled at a moment where
    /// the write may have committed), tells the form with [`Msg::SaveUncertain`] and then asks
    /// the backend, at growing intervals until the database answers, whether it was stored.
    async fn save(
        &self,
        backend: Arc<dyn SearchBackend>,
        request_id: u64,
        save: Save,
    ) -> Result<Interaction, SaveError> {
        let work = backend.save_once(
            save.site_id,
            save.target,
            save.interaction.clone(),
            save.client_id.clone(),
        );
        let result = within(self.limit, work).await.unwrap_or_else(|| {
            Err(SaveError::Unknown(Failure::Timeout(format!(
                "the database did not answer within {}",
                show_duration(self.limit)
            ))))
        });
        let why = match result {
            Err(SaveError::Unknown(why)) => why,
            Err(SaveError::Failed(why)) => {
                self.suspect(Arc::clone(&backend));
                return Err(SaveError::Failed(why));
            }
            other => return other,
        };
        tracing::warn!(request_id, "save outcome unknown: {why}");
        let _ = self.answers.send(Msg::SaveUncertain {
            request_id,
            message: why.clone(),
        });
        self.suspect(Arc::clone(&backend));
        let mut pause = FIRST_RETRY;
        loop {
            let ask = backend.resolve_save(
                save.site_id,
                save.target,
                save.interaction.clone(),
                save.client_id.clone(),
            );
            match within(self.limit, ask).await {
                Some(Ok(Some(stored))) => {
                    tracing::info!(request_id, "the save had reached the database");
                    return Ok(stored);
                }
                Some(Ok(None)) => {
                    tracing::info!(request_id, "the save had not reached the database");
                    return Err(SaveError::Failed(why.reworded(|why| {
                        format!(
                            "the connection was lost ({why}) before the save reached the \
                             database; nothing was stored"
                        )
                    })));
                }
                Some(Err(e)) => tracing::debug!(request_id, "cannot resolve the save yet: {e}"),
                None => tracing::debug!(request_id, "cannot resolve the save yet: no answer"),
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(MAX_RETRY);
        }
    }
}

/// A delete or restore in flight: which record, and which way it moves.
#[derive(Clone, Copy)]
struct TrashMove {
    site_id: i32,
    interaction_id: i32,
    to_trash: bool,
}

impl TrashMove {
    fn what(self) -> &'static str {
        if self.to_trash { "delete" } else { "restore" }
    }
}

/// The OSC 52 escape sequence that puts `text` on the terminal's clipboard (works over SSH).
pub fn osc52(text: &str) -> String {
    format!("\x1b]52;c;{}\x07", STANDARD.encode(text))
}

#[cfg(test)]
mod tests;
