//! Searching as a person: a search, its count and its month histogram in a transaction that
//! carries the acting user, on a read replica when there is one that is fresh enough (and once
//! more on the primary when the replica fails). A search replaced by a newer one is cancelled on
//! the server too (`crate::db::cancel`): each search labels its transaction with this process's
//! token and its request id, in the same round trip as BEGIN and the acting user;
//! [`Searcher::cancel_search`] cancels the backend that carries that label, if any still does.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};

use sqlx::PgConnection;

use crate::db::Db;
use crate::db::failure::failure;
use crate::db::histogram;
use crate::db::replicas::{self, ReadRouter};
use crate::db::search::{self, MatchCount, SearchError, SearchPage, SearchRequest};
use crate::domain::failure::Failure;
use crate::domain::histogram::MonthCount;

/// The future of one piece of work on a connection.
type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Searches the database as `user_id` (None: no acting user, for tools and tests): the
/// Finder's backend (`crate::app::db_backend`) and `ifind search`.
#[derive(Clone, Debug)]
pub struct Searcher {
    pub db: Db,
    pub user_id: Option<i32>,
    /// The pool (server) of each search in flight, by request id.
    running: Arc<Mutex<HashMap<u64, sqlx::PgPool>>>,
    /// Read replicas for searches and histograms (`database.read_urls`); writes stay on `db`.
    reads: Option<ReadRouter>,
}

impl Searcher {
    pub fn new(db: Db, user_id: Option<i32>) -> Searcher {
        Searcher {
            db,
            user_id,
            running: Arc::default(),
            reads: None,
        }
    }

    /// The same backend with searches and histograms sent through `reads` (see
    /// [`crate::db::replicas`]).
    pub fn with_reads(mut self, reads: Option<ReadRouter>) -> Searcher {
        self.reads = reads;
        self
    }

    /// The read replicas searches go to, if any.
    pub fn reads(&self) -> Option<&ReadRouter> {
        self.reads.as_ref()
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
    pub async fn wrote<T, E>(&self, result: Result<T, E>) -> Result<T, E> {
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
    /// [`Searcher::cancel_search`] can stop it on the server. `unreachable` words a failure to
    /// begin, tag or commit. With read replicas it runs on [`Self::read_target`], and once more
    /// on the primary when the replica fails ([`Failure::is_replica_problem`]).
    async fn tagged<T>(
        &self,
        request_id: u64,
        unreachable: fn(sqlx::Error) -> Failure,
        work: impl for<'c> Fn(&'c mut PgConnection) -> BoxFuture<'c, Result<T, Failure>>,
    ) -> Result<T, Failure> {
        let target = self.read_target().await;
        let result = self
            .tagged_on(&target.db, request_id, unreachable, &work)
            .await;
        match (result, target.replica, &self.reads) {
            (Err(e), Some(replica), Some(reads)) if e.is_replica_problem() => {
                reads.mark_failed(replica, e.message());
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
        unreachable: fn(sqlx::Error) -> Failure,
        work: &impl for<'c> Fn(&'c mut PgConnection) -> BoxFuture<'c, Result<T, Failure>>,
    ) -> Result<T, Failure> {
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

    /// Runs `work` on `request` as request `request_id` (see [`Self::tagged`]); its error is
    /// the search's own message, classified.
    async fn on_request<T: Send>(
        &self,
        request_id: u64,
        request: SearchRequest,
        unreachable: fn(sqlx::Error) -> Failure,
        work: impl for<'c> Fn(
            &'c mut PgConnection,
            &'c SearchRequest,
        ) -> BoxFuture<'c, Result<T, SearchError>>
        + Copy
        + Send
        + Sync
        + 'static,
    ) -> Result<T, Failure> {
        self.tagged(request_id, unreachable, move |conn| {
            let request = request.clone();
            Box::pin(async move { work(conn, &request).await.map_err(Failure::from) })
        })
        .await
    }

    /// One page of `request`'s matches (request `request_id`, which [`Searcher::cancel_search`]
    /// stops).
    pub async fn search_page(
        &self,
        request_id: u64,
        request: SearchRequest,
    ) -> Result<SearchPage, Failure> {
        self.on_request(request_id, request, search_unreachable, |conn, request| {
            Box::pin(search::search_in(conn, request))
        })
        .await
    }

    /// How many rows match `request` (capped).
    pub async fn match_count(
        &self,
        request_id: u64,
        request: SearchRequest,
    ) -> Result<MatchCount, Failure> {
        self.on_request(request_id, request, search_unreachable, |conn, request| {
            Box::pin(search::count_in(conn, request))
        })
        .await
    }

    /// The matches of `request` per month, None when they cannot be counted within
    /// `budget_ms`.
    pub async fn month_counts(
        &self,
        request_id: u64,
        request: SearchRequest,
        budget_ms: u32,
    ) -> Result<Option<Vec<MonthCount>>, Failure> {
        let unreachable = |e: sqlx::Error| failure(&e, e.to_string());
        self.on_request(request_id, request, unreachable, move |conn, request| {
            Box::pin(histogram::histogram(conn, request, budget_ms))
        })
        .await
    }

    /// Cancels request `request_id` on the server, if it still runs there.
    pub fn cancel_search(&self, request_id: u64) {
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

fn search_unreachable(e: sqlx::Error) -> Failure {
    failure(
        &e,
        format!(
            "the search could not reach the database ({e}); check the connection and try again"
        ),
    )
}
