//! The real backends: the service's searcher and writes (`crate::service`) as the Finder's
//! [`SearchBackend`] (its [`Finder`], [`Records`] and [`Health`]), and the login check. Every
//! database error is classified here or below (`crate::db::failure`) into a [`Failure`].

use std::sync::{Arc, Mutex};

use crate::db::audit;
use crate::db::failure::{failure, plain};
use crate::db::replicas::ReadRouter;
use crate::db::search::{MatchCount, SearchPage, SearchRequest};
use crate::db::{Db, interactions, sites};
use crate::domain::audit::AuditEntry;
use crate::domain::failure::Failure;
use crate::domain::health::Check;
use crate::domain::histogram::MonthCount;
use crate::domain::interaction::{Interaction, ValidInteraction};
use crate::domain::trash::TrashItem;
use crate::service::records::{
    FormTarget, SaveError, delete, list_trash, resolve_save, resolve_trash_move, restore, save,
    save_once,
};
/// The Finder's searches: the service's [`Searcher`](crate::service::search::Searcher), as a
/// [`SearchBackend`].
pub use crate::service::search::Searcher as DbSearchBackend;

use super::first_run::{FirstCreated, FirstSetup};
use super::form::Lookups;
use super::login::{INVALID, LoginOk, Secret};
use super::runner::{
    BoxFuture, Finder, Health, LoginBackend, Records, SearchBackend, SetupBackend,
};

impl Finder for DbSearchBackend {
    fn search(
        &self,
        request_id: u64,
        request: SearchRequest,
    ) -> BoxFuture<'_, Result<SearchPage, Failure>> {
        Box::pin(self.search_page(request_id, request))
    }

    fn count(
        &self,
        request_id: u64,
        request: SearchRequest,
    ) -> BoxFuture<'_, Result<MatchCount, Failure>> {
        Box::pin(self.match_count(request_id, request))
    }

    fn histogram(
        &self,
        request_id: u64,
        request: SearchRequest,
        budget_ms: u32,
    ) -> BoxFuture<'_, Result<Option<Vec<MonthCount>>, Failure>> {
        Box::pin(self.month_counts(request_id, request, budget_ms))
    }

    fn cancel(&self, request_id: u64) {
        self.cancel_search(request_id);
    }
}

impl Records for DbSearchBackend {
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

    fn lookups(&self, site_id: i32) -> BoxFuture<'_, Result<Lookups, Failure>> {
        Box::pin(async move {
            let failed =
                |e: sqlx::Error| failure(&e, format!("cannot read the completion values ({e})"));
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
    ) -> BoxFuture<'_, Result<Vec<AuditEntry>, Failure>> {
        Box::pin(async move {
            let failed = |e: sqlx::Error| {
                let message = format!(
                    "the history could not be read ({e}); check the connection and try again"
                );
                failure(&e, message)
            };
            let mut tx = self.db.begin_as(self.user_id).await.map_err(failed)?;
            let entries = audit::history(&mut tx, site_id, interaction_id)
                .await
                .map_err(failed)?;
            tx.commit().await.map_err(failed)?;
            Ok(entries)
        })
    }

    fn trash(&self, site_id: i32, days: u32) -> BoxFuture<'_, Result<Vec<TrashItem>, Failure>> {
        Box::pin(async move { list_trash(&self.db, self.user_id, site_id, days).await })
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

    fn resolve_trash_move(
        &self,
        site_id: i32,
        interaction_id: i32,
        to_trash: bool,
    ) -> BoxFuture<'_, Result<Option<Interaction>, Failure>> {
        Box::pin(async move {
            resolve_trash_move(&self.db, self.user_id, site_id, interaction_id, to_trash).await
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
    ) -> BoxFuture<'_, Result<Option<Interaction>, Failure>> {
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
        })
    }
}

impl Health for DbSearchBackend {
    fn health(&self) -> BoxFuture<'_, Result<Vec<Check>, Failure>> {
        Box::pin(async move {
            let mut checks = crate::db::health::checks(&self.db, &[])
                .await
                .map_err(|e| failure(&e, format!("the health checks could not run ({e})")))?;
            if let Some(reads) = self.reads() {
                checks.extend(crate::db::health::replica_checks(reads).await);
            }
            Ok(checks)
        })
    }

    fn ping(&self) -> BoxFuture<'_, Result<(), Failure>> {
        Box::pin(async move {
            sqlx::query("SELECT 1")
                .execute(&self.db.pool)
                .await
                .map(drop)
                .map_err(|e| plain(&e))
        })
    }
}

/// Logs in by connecting as the user's own PostgreSQL login role (migration 0009): PostgreSQL
/// checks the password (throttles failures with auth_delay and locks a name out after repeated
/// failures with ifind_auth, where the server loads them), the database records the login, and
/// every later search and save of the session runs on that user's own connections, so the
/// database knows who is acting without being told.
pub struct PgLoginBackend {
    /// The database's URL; the login puts the user's role (and password) in it.
    url: String,
    cfg: crate::db::DbOptions,
    /// Read replicas (`database.read_urls`): the login puts the user's role in them too.
    read_urls: Vec<String>,
    /// The logged-in user's pool and read replicas (`database.read_urls`, as the same user),
    /// once there is one.
    session: Mutex<Option<(Db, Option<ReadRouter>)>>,
    /// Used by [`LoginBackend::search_as`] before any login succeeded (it then finds nothing).
    fallback: Db,
}

impl PgLoginBackend {
    /// A login on the database of `url` (its user and password are replaced at each login).
    pub fn new(url: String, cfg: crate::db::DbOptions) -> anyhow::Result<PgLoginBackend> {
        let fallback = crate::db::pool::connect_lazy(&url, &cfg)?;
        Ok(PgLoginBackend {
            url,
            cfg,
            read_urls: Vec::new(),
            session: Mutex::new(None),
            fallback,
        })
    }

    /// The same login with searches sent to the read replicas of `read_urls` as the user.
    pub fn with_read_urls(mut self, read_urls: Vec<String>) -> PgLoginBackend {
        self.read_urls = read_urls;
        self
    }

    async fn log_in(&self, username: &str, password: &str) -> Result<LoginOk, Failure> {
        use crate::db::logins::{self, LoginFailure};
        if username.trim().is_empty() {
            return Err(Failure::Refused(INVALID.to_string()));
        }
        let db = match logins::connect_as(&self.url, username, Some(password), &self.cfg).await {
            Ok(db) => db,
            Err(LoginFailure::Invalid) => {
                tracing::info!("login refused");
                return Err(Failure::Refused(INVALID.to_string()));
            }
            Err(e @ LoginFailure::LockedOut(_)) => {
                tracing::info!("login refused: the name is locked out for now");
                return Err(Failure::Refused(e.to_string()));
            }
            Err(LoginFailure::Unavailable(e)) => {
                return Err(Failure::Connection(format!(
                    "cannot check the login ({e}); check the database connection and try again"
                )));
            }
        };
        let unavailable = |e: sqlx::Error| {
            let message = format!(
                "cannot check the login ({e}); check the database connection and try again"
            );
            failure(&e, message)
        };
        let mut conn = db.pool.acquire().await.map_err(unavailable)?;
        let Some(user) = logins::session_start(&mut conn)
            .await
            .map_err(unavailable)?
        else {
            db.pool.close().await;
            return Err(Failure::Refused(INVALID.to_string()));
        };
        let sites = sites::for_user(&mut conn, user.user_id, user.is_global_admin)
            .await
            .map_err(unavailable)?;
        drop(conn);
        let role = logins::role_name(&logins::database_of(&self.url), username);
        let read_urls: Vec<String> = self
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
    fn login(&self, username: String, password: Secret) -> BoxFuture<'_, Result<LoginOk, Failure>> {
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

/// The first run over the owner's connection (the embedded cluster's OS account, or
/// `database.owner_url`): the service's [`first_run`](crate::service::setup::first_run), the
/// same code as `ifind user add` and `ifind site add`. The pool is closed once the creation
/// succeeded: the screen goes on as the new user's own login.
pub struct PgSetupBackend {
    owner: Db,
}

impl PgSetupBackend {
    pub fn new(owner: Db) -> PgSetupBackend {
        PgSetupBackend { owner }
    }

    async fn create(&self, setup: FirstSetup, password: Secret) -> Result<FirstCreated, Failure> {
        use crate::service::setup::{NewUser, SetupError, first_run};
        let result = match NewUser::checked(&setup.username, &setup.email, true) {
            Ok(new) => first_run(&self.owner, &setup.site, &new, &password.0).await,
            Err(e) => Err(e),
        };
        match result {
            Ok((added, site)) => {
                tracing::info!("first run: the first administrator and site were created");
                self.owner.pool.close().await;
                Ok(FirstCreated {
                    username: added.user.username,
                    site: site.name,
                })
            }
            Err(SetupError::Database(e)) => Err(failure(
                &e,
                format!("the database failed ({e}); nothing was created, try again"),
            )),
            Err(e @ SetupError::Refused(_)) => Err(Failure::Refused(e.to_string())),
            Err(e) => Err(Failure::Other(e.to_string())),
        }
    }
}

impl SetupBackend for PgSetupBackend {
    fn create_first(
        &self,
        setup: FirstSetup,
        password: Secret,
    ) -> BoxFuture<'_, Result<FirstCreated, Failure>> {
        Box::pin(self.create(setup, password))
    }
}
