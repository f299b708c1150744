//! The real backends: `crate::db::search::search` in a transaction that carries the acting
//! user, and the login check.
//!
//! A search replaced by a newer one is cancelled on the server too (`crate::db::cancel`): each
//! search labels its transaction with this process's token and its request id, in the same
//! round trip as BEGIN and the acting user; [`SearchBackend::cancel`] cancels the backend that
//! carries that label, if any still does.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use sqlx::PgConnection;

use crate::db::access;
use crate::db::audit::{self, AuditEntry};
use crate::db::health::Check;
use crate::db::histogram::{self, MonthCount};
use crate::db::replicas::{self, ReadRouter};
use crate::db::search::{self, MatchCount, SearchPage, SearchRequest};
use crate::db::trash::{self, TrashItem};
use crate::db::{Db, interactions, sites, users};
use crate::domain::interaction::{Interaction, ValidInteraction};

use super::form::{FormTarget, Lookups, SaveError};
use super::login::{INVALID, LoginOk, Secret};
use super::runner::{BoxFuture, LoginBackend, SearchBackend};

/// Searches the database as `user_id` (None: no acting user, for tools and tests).
#[derive(Clone, Debug)]
pub struct DbSearchBackend {
    pub db: Db,
    pub user_id: Option<i32>,
    /// The pool (server) of each search in flight, by request id.
    running: Arc<Mutex<HashMap<u64, sqlx::PgPool>>>,
    /// Read replicas for searches and histograms (`database.read_urls`); writes stay on `db`.
    reads: Option<ReadRouter>,
}

impl DbSearchBackend {
    pub fn new(db: Db, user_id: Option<i32>) -> DbSearchBackend {
        DbSearchBackend {
            db,
            user_id,
            running: Arc::default(),
            reads: None,
        }
    }

    /// The same backend with searches and histograms sent through `reads` (see
    /// [`crate::db::replicas`]).
    pub fn with_reads(mut self, reads: Option<ReadRouter>) -> DbSearchBackend {
        self.reads = reads;
        self
    }

    /// Where the next search goes: a replica or the primary (`db`).
    pub async fn read_target(&self) -> replicas::Pick {
        match &self.reads {
            Some(reads) => reads.pick().await,
            None => replicas::Pick {
                db: self.db.clone(),
                replica: None,
            },
        }
    }

    /// After a committed write: reads stay on the primary until a replica has replayed it.
    async fn wrote<T, E>(&self, result: Result<T, E>) -> Result<T, E> {
        if let (Ok(_), Some(reads)) = (&result, &self.reads) {
            reads.note_write().await;
        }
        result
    }

    /// The label of request `request_id`'s transaction: unique to this process (a random token
    /// made once) so that a cancel by label never reaches another ifind's search.
    fn label(request_id: u64) -> String {
        static TOKEN: OnceLock<u64> = OnceLock::new();
        let token = TOKEN.get_or_init(rand::random::<u64>);
        format!("ifind search {token:x}-{request_id}")
    }

    /// Runs `work` in a transaction acting as the backend's user, tagged with request
    /// `request_id`'s label and its server pid recorded while it runs, so that
    /// [`SearchBackend::cancel`] can stop it on the server. `unreachable` words a failure to
    /// begin, tag or commit. With read replicas it runs on [`Self::read_target`], and once more
    /// on the primary when the replica fails ([`replicas::is_replica_failure`]).
    async fn tagged<T>(
        &self,
        request_id: u64,
        unreachable: fn(sqlx::Error) -> String,
        work: impl for<'c> Fn(&'c mut PgConnection) -> BoxFuture<'c, Result<T, String>>,
    ) -> Result<T, String> {
        let target = self.read_target().await;
        let result = self
            .tagged_on(&target.db, request_id, unreachable, &work)
            .await;
        match (result, target.replica, &self.reads) {
            (Err(e), Some(replica), Some(reads)) if replicas::is_replica_failure(&e) => {
                reads.mark_failed(replica, &e);
                self.tagged_on(&self.db, request_id, unreachable, &work)
                    .await
            }
            (result, _, _) => result,
        }
    }

    async fn tagged_on<T>(
        &self,
        db: &Db,
        request_id: u64,
        unreachable: fn(sqlx::Error) -> String,
        work: &impl for<'c> Fn(&'c mut PgConnection) -> BoxFuture<'c, Result<T, String>>,
    ) -> Result<T, String> {
        let mut tx = db
            .begin_tagged(self.user_id, Some(&Self::label(request_id)))
            .await
            .map_err(unreachable)?;
        if let Ok(mut running) = self.running.lock() {
            running.insert(request_id, db.pool.clone());
        }
        let result = work(&mut tx).await;
        if let Ok(mut running) = self.running.lock() {
            running.remove(&request_id);
        }
        let value = result?;
        tx.commit().await.map_err(unreachable)?;
        Ok(value)
    }
}

fn search_unreachable(e: sqlx::Error) -> String {
    format!("the search could not reach the database ({e}); check the connection and try again")
}

impl SearchBackend for DbSearchBackend {
    fn search(
        &self,
        request_id: u64,
        request: SearchRequest,
    ) -> BoxFuture<'_, Result<SearchPage, String>> {
        Box::pin(self.tagged(request_id, search_unreachable, move |conn| {
            let request = request.clone();
            Box::pin(async move {
                search::search_in(conn, &request)
                    .await
                    .map_err(|e| e.to_string())
            })
        }))
    }

    fn count(
        &self,
        request_id: u64,
        request: SearchRequest,
    ) -> BoxFuture<'_, Result<MatchCount, String>> {
        Box::pin(self.tagged(request_id, search_unreachable, move |conn| {
            let request = request.clone();
            Box::pin(async move {
                search::count_in(conn, &request)
                    .await
                    .map_err(|e| e.to_string())
            })
        }))
    }

    fn histogram(
        &self,
        request_id: u64,
        request: SearchRequest,
        budget_ms: u32,
    ) -> BoxFuture<'_, Result<Option<Vec<MonthCount>>, String>> {
        Box::pin(self.tagged(
            request_id,
            |e| e.to_string(),
            move |conn| {
                let request = request.clone();
                Box::pin(async move {
                    histogram::histogram(conn, &request, budget_ms)
                        .await
                        .map_err(|e| e.to_string())
                })
            },
        ))
    }

    fn save(
        &self,
        site_id: i32,
        target: FormTarget,
        interaction: ValidInteraction,
    ) -> BoxFuture<'_, Result<Interaction, SaveError>> {
        Box::pin(async move {
            self.wrote(save(&self.db, self.user_id, site_id, target, interaction).await)
                .await
        })
    }

    fn health(&self) -> BoxFuture<'_, Result<Vec<Check>, String>> {
        Box::pin(async move {
            let mut checks = crate::db::health::checks(&self.db, &[])
                .await
                .map_err(|e| format!("the health checks could not run ({e})"))?;
            if let Some(reads) = &self.reads {
                checks.extend(crate::db::health::replica_checks(reads).await);
            }
            Ok(checks)
        })
    }

    fn lookups(&self, site_id: i32) -> BoxFuture<'_, Result<Lookups, String>> {
        Box::pin(async move {
            let failed = |e: sqlx::Error| format!("cannot read the completion values ({e})");
            let mut tx = self.db.begin_as(self.user_id).await.map_err(failed)?;
            let types = interactions::distinct_types(&mut tx, site_id)
                .await
                .map_err(failed)?;
            let leads = interactions::distinct_leads(&mut tx, site_id)
                .await
                .map_err(failed)?;
            let locations = interactions::distinct_locations(&mut tx, site_id)
                .await
                .map_err(failed)?;
            tx.commit().await.map_err(failed)?;
            Ok(Lookups {
                site_id,
                types,
                leads,
                locations,
            })
        })
    }

    fn history(
        &self,
        site_id: i32,
        interaction_id: i32,
    ) -> BoxFuture<'_, Result<Vec<AuditEntry>, String>> {
        Box::pin(async move {
            let failed = |e: sqlx::Error| {
                format!("the history could not be read ({e}); check the connection and try again")
            };
            let mut tx = self.db.begin_as(self.user_id).await.map_err(failed)?;
            let entries = audit::history(&mut tx, site_id, interaction_id)
                .await
                .map_err(failed)?;
            tx.commit().await.map_err(failed)?;
            Ok(entries)
        })
    }

    fn trash(&self, site_id: i32, days: u32) -> BoxFuture<'_, Result<Vec<TrashItem>, String>> {
        Box::pin(async move {
            list_trash(&self.db, self.user_id, site_id, days)
                .await
                .map_err(|e| e.message())
        })
    }

    fn delete(
        &self,
        site_id: i32,
        interaction_id: i32,
        version: i32,
    ) -> BoxFuture<'_, Result<Interaction, SaveError>> {
        Box::pin(async move {
            self.wrote(delete(&self.db, self.user_id, site_id, interaction_id, version).await)
                .await
        })
    }

    fn restore(
        &self,
        site_id: i32,
        interaction_id: i32,
        days: u32,
    ) -> BoxFuture<'_, Result<Interaction, SaveError>> {
        Box::pin(async move {
            self.wrote(restore(&self.db, self.user_id, site_id, interaction_id, days).await)
                .await
        })
    }

    fn save_once(
        &self,
        site_id: i32,
        target: FormTarget,
        interaction: ValidInteraction,
        client_id: Option<String>,
    ) -> BoxFuture<'_, Result<Interaction, SaveError>> {
        Box::pin(async move {
            save_once(
                &self.db,
                self.user_id,
                site_id,
                target,
                interaction,
                client_id.as_deref(),
            )
            .await
        })
    }

    fn resolve_save(
        &self,
        site_id: i32,
        target: FormTarget,
        interaction: ValidInteraction,
        client_id: Option<String>,
    ) -> BoxFuture<'_, Result<Option<Interaction>, String>> {
        Box::pin(async move {
            let v = &interaction;
            resolve_save(
                &self.db,
                self.user_id,
                site_id,
                target,
                v,
                client_id.as_deref(),
            )
            .await
            .map_err(|e| e.to_string())
        })
    }

    fn ping(&self) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async move {
            sqlx::query("SELECT 1")
                .execute(&self.db.pool)
                .await
                .map(drop)
                .map_err(|e| e.to_string())
        })
    }

    fn cancel(&self, request_id: u64) {
        let pid = self
            .running
            .lock()
            .ok()
            .and_then(|mut running| running.remove(&request_id));
        let (Some(pool), Ok(handle)) = (pid, tokio::runtime::Handle::try_current()) else {
            return;
        };
        handle.spawn(async move {
            if let Err(e) =
                crate::db::cancel::cancel_labelled(&pool, &Self::label(request_id)).await
            {
                tracing::warn!("could not cancel search {request_id} on the server: {e}");
            }
        });
    }
}

/// Creates or updates an interaction of `site_id` as `user_id`, in one transaction that
/// carries the acting user: checks the user may edit there, writes, and tells a stale version
/// (someone saved first) from a record that is gone. See [`save_once`] for creates that carry
/// the form's client id.
pub async fn save(
    db: &Db,
    user_id: Option<i32>,
    site_id: i32,
    target: FormTarget,
    v: ValidInteraction,
) -> Result<Interaction, SaveError> {
    save_once(db, user_id, site_id, target, v, None).await
}

/// [`save`], exactly once: a create with `client_id` stores at most one record however often it
/// is retried (a retry finds the record the first attempt stored and answers with it), and an
/// edit retried after it was stored (its version is one past the one it started from, written by
/// the same user with the same fields) answers with the stored record rather than a conflict.
/// When the connection is lost at the COMMIT, the outcome is [`SaveError::Unknown`]: see
/// [`resolve_save`].
pub async fn save_once(
    db: &Db,
    user_id: Option<i32>,
    site_id: i32,
    target: FormTarget,
    v: ValidInteraction,
    client_id: Option<&str>,
) -> Result<Interaction, SaveError> {
    let failed = |e: sqlx::Error| {
        let lost = crate::db::faults::is_connection_lost(&e);
        SaveError::Failed(if lost {
            format!("the connection to the database was lost ({e})")
        } else {
            format!("the database could not be reached or refused the write ({e})")
        })
    };
    let Some(user_id) = user_id else {
        return Err(SaveError::NotPermitted(
            "saving needs a logged-in user; run `ifind` to log in".into(),
        ));
    };
    let mut tx = db.begin_as(Some(user_id)).await.map_err(failed)?;
    if !users::may_edit(&mut tx, user_id, site_id)
        .await
        .map_err(failed)?
    {
        drop(tx);
        log_refusal(db, user_id, site_id, "save").await;
        return Err(SaveError::NotPermitted(
            "you may not create or edit interactions on this site (any more); ask a site admin \
             for the editor role"
                .into(),
        ));
    }
    let stored = match (target, client_id) {
        (FormTarget::New, Some(client_id)) => {
            let (stored, earlier) =
                interactions::insert_once(&mut tx, site_id, user_id, &v, client_id)
                    .await
                    .map_err(failed)?;
            if earlier {
                // An earlier attempt of this same create is stored: that is the answer.
                let deleted = interactions::is_deleted(&mut tx, site_id, stored.interaction_id)
                    .await
                    .map_err(failed)?;
                tx.commit().await.map_err(failed)?;
                tracing::info!(
                    user_id,
                    site_id,
                    interaction_id = stored.interaction_id,
                    "create already stored by an earlier attempt"
                );
                return if deleted {
                    Err(SaveError::Gone)
                } else {
                    Ok(stored)
                };
            }
            stored
        }
        (FormTarget::New, None) => interactions::insert(&mut tx, site_id, user_id, &v)
            .await
            .map_err(failed)?,
        (
            FormTarget::Edit {
                interaction_id,
                version,
            },
            _,
        ) => {
            match interactions::update(&mut tx, site_id, interaction_id, version, user_id, &v)
                .await
                .map_err(failed)?
            {
                Some(stored) => stored,
                None => {
                    return match interactions::get(&mut tx, site_id, interaction_id)
                        .await
                        .map_err(failed)?
                    {
                        Some(current) if is_this_edit(&current, version, user_id, &v) => {
                            // This very edit, stored by an earlier attempt.
                            Ok(current)
                        }
                        Some(current) => {
                            let by = match current.updated_by {
                                Some(id) => users::name_of(&mut tx, id).await.map_err(failed)?,
                                None => None,
                            };
                            Err(SaveError::Conflict {
                                current: Box::new(current),
                                by,
                            })
                        }
                        None => Err(SaveError::Gone),
                    };
                }
            }
        }
    };
    tx.commit().await.map_err(|e| {
        if crate::db::faults::is_connection_lost(&e) {
            // The COMMIT may have been carried out without its answer reaching us.
            SaveError::Unknown(format!("the connection broke during the commit: {e}"))
        } else {
            failed(e)
        }
    })?;
    tracing::info!(
        user_id,
        site_id,
        interaction_id = stored.interaction_id,
        "interaction saved"
    );
    Ok(stored)
}

/// True when `current` is the result of the edit of `v` from `version` by `user_id`.
fn is_this_edit(current: &Interaction, version: i32, user_id: i32, v: &ValidInteraction) -> bool {
    current.version == version + 1
        && current.updated_by == Some(user_id)
        && interactions::holds(current, v)
}

/// After a save whose outcome is unknown: the stored record if it reached the database, None if
/// it did not; an error while the database cannot be asked. A create is looked up by its
/// client id; an edit is stored when the record is one version past the one it started from,
/// written by `user_id` with the same fields. A create without a client id cannot be found and
/// counts as not stored.
pub async fn resolve_save(
    db: &Db,
    user_id: Option<i32>,
    site_id: i32,
    target: FormTarget,
    v: &ValidInteraction,
    client_id: Option<&str>,
) -> sqlx::Result<Option<Interaction>> {
    let Some(user_id) = user_id else {
        return Ok(None);
    };
    let mut tx = db.begin_as(Some(user_id)).await?;
    let found = match (target, client_id) {
        (FormTarget::New, Some(client_id)) => {
            interactions::by_client_id(&mut tx, site_id, client_id).await?
        }
        (FormTarget::New, None) => None,
        (
            FormTarget::Edit {
                interaction_id,
                version,
            },
            _,
        ) => interactions::get(&mut tx, site_id, interaction_id)
            .await?
            .filter(|current| is_this_edit(current, version, user_id, v)),
    };
    tx.commit().await?;
    Ok(found)
}

fn unreachable(e: sqlx::Error) -> SaveError {
    SaveError::Failed(format!(
        "the database could not be reached or refused the change ({e})"
    ))
}

/// Begins a unit of work as `user_id`, who must be a site admin of `site_id`.
async fn as_site_admin(
    db: &Db,
    user_id: Option<i32>,
    site_id: i32,
    what: &str,
) -> Result<(sqlx::Transaction<'static, sqlx::Postgres>, i32), SaveError> {
    let Some(user_id) = user_id else {
        return Err(SaveError::NotPermitted(format!(
            "{what} needs a logged-in site admin; run `ifind` to log in"
        )));
    };
    let mut tx = db.begin_as(Some(user_id)).await.map_err(unreachable)?;
    if !users::may_admin(&mut tx, user_id, site_id)
        .await
        .map_err(unreachable)?
    {
        drop(tx);
        log_refusal(db, user_id, site_id, what).await;
        return Err(SaveError::NotPermitted(format!(
            "only site admins {what} here; ask one to do it, or for the admin role"
        )));
    }
    Ok((tx, user_id))
}

/// Writes a refused write to the access log, in its own transaction; failing to is only logged.
async fn log_refusal(db: &Db, user_id: i32, site_id: i32, what: &str) {
    if let Err(e) = access::record_refusal(db, user_id, site_id, what).await {
        tracing::warn!("could not write the refused {what} to the access log: {e}");
    }
}

fn restore_window(days: u32) -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now() - chrono::Duration::days(i64::from(days))
}

/// The trash of `site_id` as `user_id` (a site admin): deleted within `days`, newest first.
pub async fn list_trash(
    db: &Db,
    user_id: Option<i32>,
    site_id: i32,
    days: u32,
) -> Result<Vec<TrashItem>, SaveError> {
    let (mut tx, _) = as_site_admin(db, user_id, site_id, "see the trash").await?;
    let items = trash::list(&mut tx, site_id, restore_window(days), 500)
        .await
        .map_err(unreachable)?;
    tx.commit().await.map_err(unreachable)?;
    Ok(items)
}

/// Moves interaction `id` of `site_id` to the trash as `user_id` (a site admin), if it is still
/// at `version`: a record changed since is a conflict, a deleted or missing one is gone.
pub async fn delete(
    db: &Db,
    user_id: Option<i32>,
    site_id: i32,
    id: i32,
    version: i32,
) -> Result<Interaction, SaveError> {
    let (mut tx, user_id) = as_site_admin(db, user_id, site_id, "delete interactions").await?;
    match trash::soft_delete(&mut tx, site_id, id, version, user_id)
        .await
        .map_err(unreachable)?
    {
        Some(deleted) => {
            tx.commit().await.map_err(unreachable)?;
            tracing::info!(user_id, site_id, interaction_id = id, "interaction deleted");
            Ok(deleted)
        }
        None => match interactions::get(&mut tx, site_id, id)
            .await
            .map_err(unreachable)?
        {
            Some(current) => {
                let by = match current.updated_by {
                    Some(u) => users::name_of(&mut tx, u).await.map_err(unreachable)?,
                    None => None,
                };
                Err(SaveError::Conflict {
                    current: Box::new(current),
                    by,
                })
            }
            None => Err(SaveError::Gone),
        },
    }
}

/// Takes interaction `id` of `site_id` out of the trash as `user_id` (a site admin), if it was
/// deleted within `days`.
pub async fn restore(
    db: &Db,
    user_id: Option<i32>,
    site_id: i32,
    id: i32,
    days: u32,
) -> Result<Interaction, SaveError> {
    let (mut tx, user_id) = as_site_admin(db, user_id, site_id, "restore interactions").await?;
    let restored = trash::restore(&mut tx, site_id, id, restore_window(days), user_id)
        .await
        .map_err(unreachable)?
        .ok_or(SaveError::Gone)?;
    tx.commit().await.map_err(unreachable)?;
    tracing::info!(
        user_id,
        site_id,
        interaction_id = id,
        "interaction restored"
    );
    Ok(restored)
}

/// Logs in by connecting as the user's own PostgreSQL login role (migration 0009): PostgreSQL
/// checks the password (throttles failures with auth_delay and locks a name out after repeated
/// failures with ifind_auth, where the server loads them), the database records the login, and
/// every later search and save of the session runs on that user's own connections, so the
/// database knows who is acting without being told.
pub struct PgLoginBackend {
    /// The database's URL; the login puts the user's role (and password) in it.
    url: String,
    cfg: crate::config::DatabaseConfig,
    /// The logged-in user's pool and read replicas (`database.read_urls`, as the same user),
    /// once there is one.
    session: Mutex<Option<(Db, Option<ReadRouter>)>>,
    /// Used by [`LoginBackend::search_as`] before any login succeeded (it then finds nothing).
    fallback: Db,
}

impl PgLoginBackend {
    /// A login on the database of `url` (its user and password are replaced at each login).
    pub fn new(url: String, cfg: crate::config::DatabaseConfig) -> anyhow::Result<PgLoginBackend> {
        let fallback = crate::db::pool::connect_lazy(&url, &cfg)?;
        Ok(PgLoginBackend {
            url,
            cfg,
            session: Mutex::new(None),
            fallback,
        })
    }

    async fn log_in(&self, username: &str, password: &str) -> Result<LoginOk, String> {
        use crate::db::logins::{self, LoginFailure};
        if username.trim().is_empty() {
            return Err(INVALID.to_string());
        }
        let db = match logins::connect_as(&self.url, username, Some(password), &self.cfg).await {
            Ok(db) => db,
            Err(LoginFailure::Invalid) => {
                tracing::info!("login refused");
                return Err(INVALID.to_string());
            }
            Err(e @ LoginFailure::LockedOut(_)) => {
                tracing::info!("login refused: the name is locked out for now");
                return Err(e.to_string());
            }
            Err(LoginFailure::Unavailable(e)) => {
                return Err(format!(
                    "cannot check the login ({e}); check the database connection and try again"
                ));
            }
        };
        let unavailable = |e: sqlx::Error| {
            format!("cannot check the login ({e}); check the database connection and try again")
        };
        let mut conn = db.pool.acquire().await.map_err(unavailable)?;
        let Some(user) = logins::session_start(&mut conn)
            .await
            .map_err(unavailable)?
        else {
            db.pool.close().await;
            return Err(INVALID.to_string());
        };
        let sites = sites::for_user(&mut conn, user.user_id, user.is_global_admin)
            .await
            .map_err(unavailable)?;
        drop(conn);
        let role = logins::role_name(&logins::database_of(&self.url), username);
        let read_urls: Vec<String> = self
            .cfg
            .read_urls
            .iter()
            .map(|u| logins::url_with_user(u, &role, Some(password)))
            .collect();
        let reads = if read_urls.is_empty() {
            None
        } else {
            ReadRouter::connect(db.clone(), &read_urls, &self.cfg)
                .map_err(|e| format!("{e:#}"))
                .ok()
        };
        if let Ok(mut slot) = self.session.lock() {
            *slot = Some((db, reads));
        }
        tracing::info!("login");
        Ok(LoginOk {
            user_id: user.user_id,
            username: user.username,
            sites,
        })
    }
}

impl LoginBackend for PgLoginBackend {
    fn login(&self, username: String, password: Secret) -> BoxFuture<'_, Result<LoginOk, String>> {
        Box::pin(async move { self.log_in(&username, &password.0).await })
    }

    fn search_as(&self, user_id: i32) -> Arc<dyn SearchBackend> {
        let (db, reads) = self
            .session
            .lock()
            .ok()
            .and_then(|s| s.clone())
            .unwrap_or_else(|| (self.fallback.clone(), None));
        Arc::new(DbSearchBackend::new(db, Some(user_id)).with_reads(reads))
    }

    fn session_db(&self) -> Option<Db> {
        self.session
            .lock()
            .ok()
            .and_then(|s| s.as_ref().map(|(db, _)| db.clone()))
    }
}
