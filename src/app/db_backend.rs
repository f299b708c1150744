//! The real backends: `crate::db::search::search` in a transaction that carries the acting
//! user, and the login check.
//!
//! A search replaced by a newer one is cancelled on the server too (`crate::db::cancel`): each
//! search tags its transaction with a label naming its request id and records its backend pid;
//! [`SearchBackend::cancel`] cancels that pid only while it still carries the label.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use crate::db::search::{self, SearchPage, SearchRequest};
use crate::db::{Db, interactions, sites, users};
use crate::domain::interaction::{Interaction, ValidInteraction};
use crate::password;

use super::form::{FormTarget, SaveError};
use super::login::{INVALID, LoginOk, Secret};
use super::runner::{BoxFuture, LoginBackend, SearchBackend};

/// Searches the database as `user_id` (None: no acting user, for tools and tests).
#[derive(Clone, Debug)]
pub struct DbSearchBackend {
    pub db: Db,
    pub user_id: Option<i32>,
    /// Server pids of the searches in flight, by request id.
    running: Arc<Mutex<HashMap<u64, i32>>>,
}

impl DbSearchBackend {
    pub fn new(db: Db, user_id: Option<i32>) -> DbSearchBackend {
        DbSearchBackend {
            db,
            user_id,
            running: Arc::default(),
        }
    }

    fn label(request_id: u64) -> String {
        format!("ifind search {request_id}")
    }
}

impl SearchBackend for DbSearchBackend {
    fn search(
        &self,
        request_id: u64,
        request: SearchRequest,
    ) -> BoxFuture<'_, Result<SearchPage, String>> {
        Box::pin(async move {
            let unreachable = |e: sqlx::Error| {
                format!(
                    "the search could not reach the database ({e}); check the connection and try again"
                )
            };
            let mut tx = self.db.begin_as(self.user_id).await.map_err(unreachable)?;
            let pid = crate::db::cancel::tag(&mut tx, &Self::label(request_id))
                .await
                .map_err(unreachable)?;
            if let Ok(mut running) = self.running.lock() {
                running.insert(request_id, pid);
            }
            let result = search::search(&mut tx, &request).await;
            if let Ok(mut running) = self.running.lock() {
                running.remove(&request_id);
            }
            let page = result.map_err(|e| e.to_string())?;
            tx.commit().await.map_err(unreachable)?;
            Ok(page)
        })
    }

    fn save(
        &self,
        site_id: i32,
        target: FormTarget,
        interaction: ValidInteraction,
    ) -> BoxFuture<'_, Result<Interaction, SaveError>> {
        Box::pin(save(&self.db, self.user_id, site_id, target, interaction))
    }

    fn cancel(&self, request_id: u64) {
        let pid = self
            .running
            .lock()
            .ok()
            .and_then(|mut running| running.remove(&request_id));
        let (Some(pid), Ok(handle)) = (pid, tokio::runtime::Handle::try_current()) else {
            return;
        };
        let pool = self.db.pool.clone();
        handle.spawn(async move {
            if let Err(e) = crate::db::cancel::cancel(&pool, pid, &Self::label(request_id)).await {
                tracing::warn!("could not cancel search {request_id} on the server: {e}");
            }
        });
    }
}

/// Creates or updates an interaction of `site_id` as `user_id`, in one transaction that
/// carries the acting user: checks the user may edit there, writes, and tells a stale version
/// (someone saved first) from a record that is gone.
pub async fn save(
    db: &Db,
    user_id: Option<i32>,
    site_id: i32,
    target: FormTarget,
    v: ValidInteraction,
) -> Result<Interaction, SaveError> {
    let failed = |e: sqlx::Error| {
        SaveError::Failed(format!(
            "the database could not be reached or refused the write ({e})"
        ))
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
        return Err(SaveError::NotPermitted(
            "you may not create or edit interactions on this site (any more); ask a site admin              for the editor role"
                .into(),
        ));
    }
    let stored = match target {
        FormTarget::New => interactions::insert(&mut tx, site_id, user_id, &v)
            .await
            .map_err(failed)?,
        FormTarget::Edit {
            interaction_id,
            version,
        } => {
            match interactions::update(&mut tx, site_id, interaction_id, version, user_id, &v)
                .await
                .map_err(failed)?
            {
                Some(stored) => stored,
                None => {
                    return Err(
                        match interactions::get(&mut tx, site_id, interaction_id)
                            .await
                            .map_err(failed)?
                        {
                            Some(current) => SaveError::Conflict {
                                current: Box::new(current),
                            },
                            None => SaveError::Gone,
                        },
                    );
                }
            }
        }
    };
    tx.commit().await.map_err(failed)?;
    tracing::info!(
        user_id,
        site_id,
        interaction_id = stored.interaction_id,
        "interaction saved"
    );
    Ok(stored)
}

/// Why a login failed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LoginError {
    /// Unknown user, wrong password or inactive user: all look the same.
    #[error("{}", INVALID)]
    Invalid,
    /// The check could not be made.
    #[error("cannot check the login ({0}); check the database connection and try again")]
    Unavailable(String),
}

/// A hash to verify against when the user does not exist, so that an unknown name costs the
/// same time as a wrong password.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| password::hash("ifind: no such user").unwrap_or_default())
}

/// Checks `username` and `password` against the database: an active user whose stored Argon2id
/// hash matches. On success records `last_login` and returns the user's sites. Every failure
/// of the credentials is [`LoginError::Invalid`]. The password is never logged.
pub async fn check_login(db: &Db, username: &str, password: &str) -> Result<LoginOk, LoginError> {
    let unavailable = |e: sqlx::Error| LoginError::Unavailable(e.to_string());
    let mut conn = db.pool.acquire().await.map_err(unavailable)?;
    // Through `ifind_login_user`: before the login there is no acting user, so the application
    // role's policies show no user row.
    let (user, stored) = match users::login_record(&mut conn, username)
        .await
        .map_err(unavailable)?
    {
        Some((user, hash)) => (Some(user), Some(hash)),
        None => (None, None),
    };
    drop(conn);
    let hash = stored.unwrap_or_else(|| dummy_hash().to_string());
    let typed = password.to_string();
    let matches = tokio::task::spawn_blocking(move || password::verify(&typed, &hash))
        .await
        .map_err(|e| LoginError::Unavailable(e.to_string()))?;
    let user = match user {
        Some(u) if matches && u.is_active => u,
        _ => {
            tracing::info!(username, "login refused");
            return Err(LoginError::Invalid);
        }
    };
    let mut tx = db.begin_as(Some(user.user_id)).await.map_err(unavailable)?;
    users::set_last_login(&mut tx, user.user_id)
        .await
        .map_err(unavailable)?;
    let sites = sites::for_user(&mut tx, user.user_id, user.is_global_admin)
        .await
        .map_err(unavailable)?;
    tx.commit().await.map_err(unavailable)?;
    tracing::info!(username, "login");
    Ok(LoginOk {
        user_id: user.user_id,
        username: user.username,
        sites,
    })
}

/// Checks logins against the database; a logged-in user searches through [`DbSearchBackend`].
#[derive(Clone, Debug)]
pub struct DbLoginBackend {
    pub db: Db,
}

impl LoginBackend for DbLoginBackend {
    fn login(&self, username: String, password: Secret) -> BoxFuture<'_, Result<LoginOk, String>> {
        Box::pin(async move {
            check_login(&self.db, &username, &password.0)
                .await
                .map_err(|e| e.to_string())
        })
    }

    fn search_as(&self, user_id: i32) -> Arc<dyn SearchBackend> {
        Arc::new(DbSearchBackend::new(self.db.clone(), Some(user_id)))
    }
}
