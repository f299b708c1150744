//! The effect runner: performs the I/O that `update` asks for, on tokio tasks, and answers over
//! a channel with [`Msg`]s tagged with the request id.
//!
//! Each search runs in its own task; the runner keeps its `JoinHandle` so that
//! [`Effect::CancelSearch`] aborts it, then tells the backend ([`SearchBackend::cancel`]), which
//! is where a database backend cancels the statement on the server (dropping a future does not
//! stop PostgreSQL).

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinHandle;

use super::form::{FormTarget, Lookups, SaveError};
use super::login::{LoginOk, Secret};
use super::search_types::{MatchCount, SearchPage, SearchRequest};
use super::update::{Effect, Msg};
use crate::db::audit::AuditEntry;
use crate::db::health::Check;
use crate::db::histogram::MonthCount;
use crate::db::trash::TrashItem;
use crate::domain::interaction::{Interaction, ValidInteraction};

/// A boxed, sendable future (what [`SearchBackend`] returns; no async-trait dependency).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Where searches go. The real one runs `crate::db::search::search` (see `db_backend.rs`);
/// tests use a fake.
pub trait SearchBackend: Send + Sync + 'static {
    /// Runs one search. `request_id` names it for [`SearchBackend::cancel`]. The error is a
    /// message for the status line.
    fn search(
        &self,
        request_id: u64,
        request: SearchRequest,
    ) -> BoxFuture<'_, Result<SearchPage, String>>;

    /// Counts the matches of `request` up to its cap (after its first page is on screen).
    /// `request_id` names it for [`SearchBackend::cancel`].
    fn count(
        &self,
        request_id: u64,
        request: SearchRequest,
    ) -> BoxFuture<'_, Result<MatchCount, String>>;

    /// Counts the matches of `request` by month within `budget_ms` on the server; None when
    /// that was too costly. `request_id` names it for [`SearchBackend::cancel`].
    fn histogram(
        &self,
        request_id: u64,
        request: SearchRequest,
        budget_ms: u32,
    ) -> BoxFuture<'_, Result<Option<Vec<MonthCount>>, String>>;

    /// Creates (`FormTarget::New`) or updates an interaction of `site_id` as the backend's
    /// user, in one transaction: all of it is written or none.
    fn save(
        &self,
        site_id: i32,
        target: FormTarget,
        interaction: ValidInteraction,
    ) -> BoxFuture<'_, Result<Interaction, SaveError>>;

    /// The database health checks.
    fn health(&self) -> BoxFuture<'_, Result<Vec<Check>, String>>;

    /// The site's types, leads and locations in use, for completion.
    fn lookups(&self, site_id: i32) -> BoxFuture<'_, Result<Lookups, String>>;

    /// The change history of interaction `interaction_id` of `site_id`, oldest first.
    fn history(
        &self,
        site_id: i32,
        interaction_id: i32,
    ) -> BoxFuture<'_, Result<Vec<AuditEntry>, String>>;

    /// The site's deleted interactions, deleted within the last `days`, newest first.
    fn trash(&self, site_id: i32, days: u32) -> BoxFuture<'_, Result<Vec<TrashItem>, String>>;

    /// Moves an interaction to the trash if it is still at `version` (site admins).
    fn delete(
        &self,
        site_id: i32,
        interaction_id: i32,
        version: i32,
    ) -> BoxFuture<'_, Result<Interaction, SaveError>>;

    /// Takes an interaction out of the trash if it was deleted within `days` (site admins).
    fn restore(
        &self,
        site_id: i32,
        interaction_id: i32,
        days: u32,
    ) -> BoxFuture<'_, Result<Interaction, SaveError>>;

    /// Called after the task of search `request_id` was aborted: the hook for cancelling it on
    /// the server too (`pg_cancel_backend`). Does nothing by default.
    fn cancel(&self, request_id: u64) {
        let _ = request_id;
    }
}

/// Where logins are checked, and the search backend for a logged-in user. The real one is
/// `DbLoginBackend` (see `db_backend.rs`).
pub trait LoginBackend: Send + Sync + 'static {
    /// Checks a username and password. The error is the message for the Login screen.
    fn login(&self, username: String, password: Secret) -> BoxFuture<'_, Result<LoginOk, String>>;

    /// The search backend that acts as `user_id`.
    fn search_as(&self, user_id: i32) -> Arc<dyn SearchBackend>;
}

/// Performs effects. Searches and logins go to the backends; the effects that touch the terminal (copying,
/// quitting) are handed back to the caller, which owns the terminal.
pub struct Runner {
    backend: Arc<dyn SearchBackend>,
    login: Option<Arc<dyn LoginBackend>>,
    answers: UnboundedSender<Msg>,
    tasks: HashMap<u64, JoinHandle<()>>,
}

impl Runner {
    /// A runner that answers on `answers`. Must be used inside a tokio runtime.
    pub fn new(backend: Arc<dyn SearchBackend>, answers: UnboundedSender<Msg>) -> Runner {
        Runner {
            backend,
            login: None,
            answers,
            tasks: HashMap::new(),
        }
    }

    /// The same runner, checking logins with `login` and searching as the user who logged in.
    pub fn with_login(mut self, login: Arc<dyn LoginBackend>) -> Runner {
        self.login = Some(login);
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
                Effect::Save {
                    request_id,
                    site_id,
                    target,
                    interaction,
                } => {
                    // Never cancelled: a save's outcome always reaches the form.
                    let backend = Arc::clone(&self.backend);
                    self.answer(async move {
                        let result = backend
                            .save(site_id, target, interaction)
                            .await
                            .map(Box::new);
                        Msg::SaveDone { request_id, result }
                    });
                }
                Effect::LoadHealth { request_id } => {
                    let backend = Arc::clone(&self.backend);
                    self.answer(async move {
                        let result = backend.health().await;
                        Msg::HealthLoaded { request_id, result }
                    });
                }
                Effect::LoadLookups {
                    request_id,
                    site_id,
                } => {
                    let backend = Arc::clone(&self.backend);
                    self.answer(async move {
                        let result = backend.lookups(site_id).await;
                        Msg::LookupsLoaded { request_id, result }
                    });
                }
                Effect::LoadHistory {
                    request_id,
                    site_id,
                    interaction_id,
                } => {
                    let backend = Arc::clone(&self.backend);
                    self.answer(async move {
                        let result = backend.history(site_id, interaction_id).await;
                        Msg::HistoryLoaded { request_id, result }
                    });
                }
                Effect::LoadTrash {
                    request_id,
                    site_id,
                    days,
                } => {
                    let backend = Arc::clone(&self.backend);
                    self.answer(async move {
                        let result = backend.trash(site_id, days).await;
                        Msg::TrashLoaded { request_id, result }
                    });
                }
                Effect::Delete {
                    request_id,
                    site_id,
                    interaction_id,
                    version,
                } => {
                    let backend = Arc::clone(&self.backend);
                    self.answer(async move {
                        let result = backend
                            .delete(site_id, interaction_id, version)
                            .await
                            .map(Box::new);
                        Msg::Deleted { request_id, result }
                    });
                }
                Effect::Restore {
                    request_id,
                    site_id,
                    interaction_id,
                    days,
                } => {
                    let backend = Arc::clone(&self.backend);
                    self.answer(async move {
                        let result = backend
                            .restore(site_id, interaction_id, days)
                            .await
                            .map(Box::new);
                        Msg::Restored { request_id, result }
                    });
                }
                Effect::BeginSession { user_id } => {
                    if let Some(login) = &self.login {
                        self.backend = login.search_as(user_id);
                    }
                }
                other => rest.push(other),
            }
        }
        rest
    }

    /// How many search tasks are still running.
    pub fn running(&self) -> usize {
        self.tasks.values().filter(|t| !t.is_finished()).count()
    }

    fn start(&mut self, request_id: u64, request: SearchRequest) {
        let backend = Arc::clone(&self.backend);
        let answers = self.answers.clone();
        let task = tokio::spawn(async move {
            let started = Instant::now();
            let msg = match backend.search(request_id, request).await {
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
        let task = tokio::spawn(async move {
            let result = backend.count(request_id, request).await;
            let _ = answers.send(Msg::Counted { request_id, result });
        });
        self.tasks.insert(request_id, task);
    }

    fn count_months(&mut self, request_id: u64, request: SearchRequest, budget_ms: u32) {
        let backend = Arc::clone(&self.backend);
        let answers = self.answers.clone();
        let task = tokio::spawn(async move {
            let months = match backend.histogram(request_id, request, budget_ms).await {
                Ok(months) => months,
                Err(message) => {
                    // A missing picture is no reason to bother the person: it is only logged.
                    tracing::warn!("the month histogram failed: {message}");
                    None
                }
            };
            let _ = answers.send(Msg::HistogramDone { request_id, months });
        });
        self.tasks.insert(request_id, task);
    }

    fn check_login(&mut self, request_id: u64, username: String, password: Secret) {
        let answers = self.answers.clone();
        let Some(login) = self.login.clone() else {
            let _ = answers.send(Msg::LoginDone {
                request_id,
                result: Err("logging in is not possible here; run `ifind` to log in".into()),
            });
            return;
        };
        // Not kept in `tasks`: a login check is never cancelled (its answer is dropped if late).
        tokio::spawn(async move {
            let result = login.login(username, password).await;
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
        for (request_id, task) in self.tasks.drain() {
            if !task.is_finished() {
                task.abort();
                self.backend.cancel(request_id);
            }
        }
    }
}

/// The OSC 52 escape sequence that puts `text` on the terminal's clipboard (works over SSH).
pub fn osc52(text: &str) -> String {
    format!("\x1b]52;c;{}\x07", STANDARD.encode(text))
}

#[cfg(test)]
mod tests;
