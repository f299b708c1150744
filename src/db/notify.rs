//! Live updates: a dedicated connection LISTENs on `ifind_changes` (migration 0006) and reports
//! the site of every committed change of an interaction.

use sqlx::postgres::PgListener;

use super::Db;

/// The channel the interactions trigger signals.
pub const CHANNEL: &str = "ifind_changes";

/// Listens for changes; [`Changes::next`] waits for the next changed site.
pub struct Changes {
    listener: PgListener,
}

impl Changes {
    /// Opens a listening connection from `db`'s pool settings.
    pub async fn listen(db: &Db) -> sqlx::Result<Changes> {
        let mut listener = PgListener::connect_with(&db.pool).await?;
        listener.listen(CHANNEL).await?;
        Ok(Changes { listener })
    }

    /// The next change, or [`Change::Reconnected`] when the listening connection was lost
    /// and made again meanwhile (changes made in between were not signalled). An error means
    /// it could not be made again.
    pub async fn next_change(&mut self) -> sqlx::Result<Change> {
        loop {
            match self.listener.try_recv().await? {
                None => return Ok(Change::Reconnected),
                Some(n) => {
                    if let Ok(site) = n.payload().trim().parse::<i32>() {
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
            if let Ok(site) = n.payload().trim().parse::<i32>() {
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
