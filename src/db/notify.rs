//! Live updates: a dedicated connection LISTENs on `ifind_changes` (migration 0006) and reports
//! the site of every committed change of an interaction. Since migration 0009 the payload is not
//! the site id but the site's token (`ifind_site_token`), which only those who may read the site
//! can ask for, so a listener learns nothing of other sites' activity but that some change was
//! made somewhere. The tokens of one's own sites come from `ifind_site_tokens` (migration 0013:
//! the sites table itself is not readable).

use sqlx::postgres::PgListener;

use super::Db;

/// The channel the interactions trigger signals.
pub const CHANNEL: &str = "ifind_changes";

/// Listens for changes; [`Changes::next`] waits for the next changed site.
pub struct Changes {
    listener: PgListener,
    db: Db,
    /// The tokens of the sites this connection may read.
    sites: std::collections::HashMap<String, i32>,
}

impl Changes {
    /// Opens a listening connection from `db`'s pool settings.
    pub async fn listen(db: &Db) -> sqlx::Result<Changes> {
        let mut listener = PgListener::connect_with(&db.pool).await?;
        listener.listen(CHANNEL).await?;
        let mut changes = Changes {
            listener,
            db: db.clone(),
            sites: Default::default(),
        };
        changes.learn_sites().await?;
        Ok(changes)
    }

    /// The tokens of the sites this connection may read (asked again when an unknown token
    /// arrives: a role at a new site).
    async fn learn_sites(&mut self) -> sqlx::Result<()> {
        let rows: Vec<(i32, Option<String>)> =
            sqlx::query_as("SELECT site_id, token FROM ifind_site_tokens()")
                .fetch_all(&self.db.pool)
                .await?;
        self.sites = rows
            .into_iter()
            .filter_map(|(id, token)| token.map(|t| (t, id)))
            .collect();
        Ok(())
    }

    async fn site_of(&mut self, payload: &str) -> Option<i32> {
        let token = payload.trim();
        if let Some(site) = self.sites.get(token) {
            return Some(*site);
        }
        if self.learn_sites().await.is_err() {
            return None;
        }
        self.sites.get(token).copied()
    }

    /// The next change, or [`Change::Reconnected`] when the listening connection was lost
    /// and made again meanwhile (changes made in between were not signalled). An error means
    /// it could not be made again.
    pub async fn next_change(&mut self) -> sqlx::Result<Change> {
        loop {
            match self.listener.try_recv().await? {
                None => return Ok(Change::Reconnected),
                Some(n) => {
                    if let Some(site) = self.site_of(n.payload()).await {
                        return Ok(Change::Site(site));
                    }
                }
            }
        }
    }

    /// The site id of the next change. A lost connection is re-established by sqlx (changes made
    /// meanwhile are not replayed; the caller refreshes anyway on the next one).
    pub async fn next(&mut self) -> sqlx::Result<i32> {
        loop {
            let n = self.listener.recv().await?;
            if let Some(site) = self.site_of(n.payload()).await {
                return Ok(site);
            }
        }
    }
}

/// What [`Changes::next_change`] saw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// A committed change of an interaction of this site.
    Site(i32),
    /// The connection was lost and listens again; changes may have been missed.
    Reconnected,
}
