//! Live updates: other people's changes to the open site, heard over LISTEN/NOTIFY on the
//! logged-in user's own connection, as messages for `update`.

use tokio::sync::mpsc;

use super::runner::{FIRST_RETRY, MAX_RETRY};
use super::update::Msg;
use crate::db::Db;

/// Forwards the sites of other people's changes as [`Msg::Changed`]; reconnects with a growing
/// pause when the connection is lost (the Finder works on without live updates meanwhile).
/// A lost connection is reported ([`Msg::LiveUpdatesLost`], which starts the app's connection
/// check), and so is listening again ([`Msg::LiveUpdatesBack`]: changes made meanwhile were
/// not signalled, so the app refreshes). With read replicas, a change keeps searches on the
/// primary until a replica has replayed it.
pub async fn listen_for_changes(
    db: Db,
    reads: Option<crate::db::replicas::ReadRouter>,
    answers: mpsc::UnboundedSender<Msg>,
) {
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
                        // The connection was lost (sqlx would reconnect on the next call and
                        // wait there, saying nothing): report it and listen anew, which says
                        // when it listens again.
                        Ok(crate::db::notify::Change::Reconnected) => {
                            tracing::warn!("live updates lost their connection");
                            break;
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
