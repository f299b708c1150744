//! The real search backend: `crate::db::search::search` in a transaction that carries the acting
//! user.
//!
//! Server-side cancellation (`pg_cancel_backend`) is still to do: [`SearchBackend::cancel`] gets
//! the request id; record `pg_backend_pid()` per request id in `search` and cancel that pid in
//! `cancel`, taking care that the connection may already serve another request.

use crate::db::Db;
use crate::db::search::{self, SearchPage, SearchRequest};

use super::runner::{BoxFuture, SearchBackend};

/// Searches the database as `user_id` (None: no acting user, for tools and tests).
#[derive(Clone, Debug)]
pub struct DbSearchBackend {
    pub db: Db,
    pub user_id: Option<i32>,
}

impl SearchBackend for DbSearchBackend {
    fn search(
        &self,
        _request_id: u64,
        request: SearchRequest,
    ) -> BoxFuture<'_, Result<SearchPage, String>> {
        Box::pin(async move {
            let unreachable = |e: sqlx::Error| {
                format!(
                    "the search could not reach the database ({e}); check the connection and try again"
                )
            };
            let mut tx = self.db.begin_as(self.user_id).await.map_err(unreachable)?;
            let page = search::search(&mut tx, &request)
                .await
                .map_err(|e| e.to_string())?;
            tx.commit().await.map_err(unreachable)?;
            Ok(page)
        })
    }
}
