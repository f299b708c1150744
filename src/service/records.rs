//! Writing interactions as a person: create and edit (exactly once, with the stale-version
//! conflict told apart from a record that is gone), and the Trash (list, delete, restore), each
//! in one transaction that carries the acting user and checks their role at the site first. The
//! terminal UI's form and Trash and the `ifind trash`/`ifind restore` commands both go through
//! here.

use serde::{Deserialize, Serialize};

use crate::db::failure::failure;
use crate::db::trash;
use crate::db::{Db, access, interactions, users};
use crate::domain::failure::Failure;
use crate::domain::interaction::{Interaction, ValidInteraction};
use crate::domain::trash::TrashItem;

/// What saving the form does: create an interaction, or replace the fields of one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FormTarget {
    New,
    /// `version` is the version the edit started from: saving over a newer one is refused.
    Edit {
        interaction_id: i32,
        version: i32,
    },
}

/// Why a save did not happen. Nothing was written in any of these cases.
#[derive(Clone, Debug, PartialEq)]
pub enum SaveError {
    /// Someone saved a newer version since the form was opened: the stored one, and the name
    /// of who saved it.
    Conflict {
        current: Box<Interaction>,
        by: Option<String>,
    },
    /// The interaction was deleted meanwhile (or is not on this site).
    Gone,
    /// The interaction was moved to the archive meanwhile (untouched for long): it is read-only
    /// there.
    Archived,
    /// The user may not do this here; the failure's message says why.
    NotPermitted(Failure),
    /// The save could not be made; the failure names the cause.
    Failed(Failure),
    /// The connection was lost at a moment where the save may or may not have been stored; the
    /// runner finds out which before anything is retried.
    Unknown(Failure),
}

impl SaveError {
    /// As a [`Failure`] that says [`SaveError::message`]: of the kind of the failure it holds;
    /// a newer version saved first is a [`Kind::Conflict`](crate::domain::failure::Kind), a
    /// record that is gone [`Kind::Other`](crate::domain::failure::Kind).
    pub fn failure(&self) -> Failure {
        use crate::domain::failure::Kind;
        let kind = match self {
            SaveError::Conflict { .. } => Kind::Conflict,
            SaveError::Gone | SaveError::Archived => Kind::Other,
            SaveError::NotPermitted(why) | SaveError::Failed(why) | SaveError::Unknown(why) => {
                why.kind()
            }
        };
        Failure::new(kind, self.message())
    }

    /// Why a read (the trash's listing), a delete or a restore failed, without a save's wording
    /// ("not saved", "your text is still here"): the cause itself.
    pub fn reason(&self) -> Failure {
        match self {
            SaveError::NotPermitted(why) | SaveError::Failed(why) | SaveError::Unknown(why) => {
                why.clone()
            }
            other => other.failure(),
        }
    }

    /// What the form shows: the cause, that the text is safe, and what to do.
    pub fn message(&self) -> String {
        match self {
            SaveError::Conflict { current, by } => format!(
                "not saved: {} saved this interaction since you opened it (it is now version {}); \
                 nothing was overwritten and your text is still here. Ctrl-S shows the choices \
                 again.",
                by.as_deref().unwrap_or("someone else"),
                current.version
            ),
            SaveError::Gone => "not saved: this interaction was deleted since you opened it; your \
                                text is still here (and in your draft)."
                .to_string(),
            SaveError::Archived => {
                "not saved: this interaction was moved to the archive since you \
                                    opened it (it had not changed for a long time), where it is \
                                    read-only; `a` in the Finder shows the archive. Your text is \
                                    still here (and in your draft): Esc keeps it as a draft."
                    .to_string()
            }
            SaveError::NotPermitted(why) => format!("not saved: {why}"),
            SaveError::Failed(why) => format!(
                "not saved: {why}. Your text is still here and in your draft; press Ctrl-S to try \
                 again."
            ),
            SaveError::Unknown(why) => format!(
                "the connection was lost while saving ({why}); whether it was saved is checked as \
                 soon as the database answers. Your text is kept."
            ),
        }
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
    let Some(user_id) = user_id else {
        return Err(SaveError::NotPermitted(Failure::Refused(
            "saving needs a logged-in user; run `ifind` to log in".into(),
        )));
    };
    let mut tx = db.begin_as(Some(user_id)).await.map_err(failed)?;
    if !users::may_edit(&mut tx, user_id, site_id)
        .await
        .map_err(failed)?
    {
        drop(tx);
        log_refusal(db, user_id, site_id, "save").await;
        return Err(SaveError::NotPermitted(Failure::Refused(
            "you may not create or edit interactions on this site (any more); ask a site admin \
             for the editor role"
                .into(),
        )));
    }
    let stored = match (target, client_id) {
        (FormTarget::New, Some(client_id)) => {
            let (stored, earlier) =
                interactions::insert_once(&mut tx, site_id, user_id, &v, client_id)
                    .await
                    .map_err(failed)?;
            if earlier {
                return stored_before(tx, site_id, user_id, stored).await;
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
        ) => match interactions::update(&mut tx, site_id, interaction_id, version, user_id, &v)
            .await
            .map_err(failed)?
        {
            Some(stored) => stored,
            None => {
                return why_not_updated(&mut tx, site_id, interaction_id, version, user_id, &v)
                    .await;
            }
        },
    };
    tx.commit().await.map_err(commit_failed)?;
    tracing::info!(
        user_id,
        site_id,
        interaction_id = stored.interaction_id,
        "interaction saved"
    );
    Ok(stored)
}

/// A COMMIT that failed: when the connection broke, the COMMIT may have been carried out
/// without its answer reaching us ([`SaveError::Unknown`]); otherwise it was refused.
fn commit_failed(e: sqlx::Error) -> SaveError {
    if crate::db::faults::is_connection_lost(&e) {
        SaveError::Unknown(failure(
            &e,
            format!("the connection broke during the commit: {e}"),
        ))
    } else {
        failed(e)
    }
}

/// A save that failed in the database: lost connection or refused write.
fn failed(e: sqlx::Error) -> SaveError {
    let lost = crate::db::faults::is_connection_lost(&e);
    let message = if lost {
        format!("the connection to the database was lost ({e})")
    } else {
        format!("the database could not be reached or refused the write ({e})")
    };
    SaveError::Failed(failure(&e, message))
}

/// An earlier attempt of this same create is stored: that is the answer (Gone if it has been
/// deleted since).
async fn stored_before(
    mut tx: sqlx::Transaction<'static, sqlx::Postgres>,
    site_id: i32,
    user_id: i32,
    stored: Interaction,
) -> Result<Interaction, SaveError> {
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
    if deleted {
        Err(SaveError::Gone)
    } else {
        Ok(stored)
    }
}

/// An edit from `version` that updated nothing: this very edit stored by an earlier attempt
/// (the stored record), someone else's newer version (a conflict, with their name), or gone.
async fn why_not_updated(
    tx: &mut sqlx::PgConnection,
    site_id: i32,
    interaction_id: i32,
    version: i32,
    user_id: i32,
    v: &ValidInteraction,
) -> Result<Interaction, SaveError> {
    match interactions::get(&mut *tx, site_id, interaction_id)
        .await
        .map_err(failed)?
    {
        Some(current) if is_this_edit(&current, version, user_id, v) => Ok(current),
        Some(current) => Err(conflict(tx, current).await.map_err(failed)?),
        None => Err(gone_or_archived(tx, site_id, interaction_id)
            .await
            .map_err(failed)?),
    }
}

/// Why interaction `interaction_id` of `site_id` is not among the live ones: moved to the
/// archive, or deleted (or never on this site).
async fn gone_or_archived(
    conn: &mut sqlx::PgConnection,
    site_id: i32,
    interaction_id: i32,
) -> sqlx::Result<SaveError> {
    Ok(
        if crate::db::archive::holds(conn, site_id, interaction_id).await? {
            SaveError::Archived
        } else {
            SaveError::Gone
        },
    )
}

/// Someone saved `current` (a newer version) first: the conflict, with the name of who saved it.
async fn conflict(tx: &mut sqlx::PgConnection, current: Interaction) -> sqlx::Result<SaveError> {
    let by = match current.updated_by {
        Some(id) => users::name_of(&mut *tx, id).await?,
        None => None,
    };
    Ok(SaveError::Conflict {
        current: Box::new(current),
        by,
    })
}

/// True when `current` is the result of the edit of `v` from `version` by `user_id`.
fn is_this_edit(current: &Interaction, version: i32, user_id: i32, v: &ValidInteraction) -> bool {
    current.version == version + 1
        && current.updated_by == Some(user_id)
        && interactions::holds(current, v)
}

/// After a save whose outcome is unknown: the stored record if it reached the database, None if
/// it did not; an error while the database cannot be asked, or while it cannot tell yet (a write
/// transaction of the same login is still open on the server: the save may still be committing,
/// or its backend died and the server has not recovered yet, after which the commit may show;
/// answering "not stored" then would be untrue). A create is looked up by its
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
) -> Result<Option<Interaction>, Failure> {
    let Some(user_id) = user_id else {
        return Ok(None);
    };
    let plain = |e: sqlx::Error| crate::db::failure::plain(&e);
    let mut tx = db.begin_as(Some(user_id)).await.map_err(plain)?;
    if crate::db::faults::writes_in_flight(&mut tx)
        .await
        .map_err(plain)?
    {
        return Err(Failure::Other(
            "a write of this login is still open on the server; the save is looked up again \
             once it has ended"
                .into(),
        ));
    }
    let found = lookup_save(&mut tx, site_id, user_id, target, v, client_id)
        .await
        .map_err(plain)?;
    tx.commit().await.map_err(plain)?;
    Ok(found)
}

/// After a delete or restore whose outcome is unknown: the record as it is now if the change
/// is in effect (in the trash after a delete, live after a restore), None if it is not; an
/// error while the database cannot be asked or cannot tell yet (a write of this login still
/// open on the server, as for [`resolve_save`]).
pub async fn resolve_trash_move(
    db: &Db,
    user_id: Option<i32>,
    site_id: i32,
    interaction_id: i32,
    to_trash: bool,
) -> Result<Option<Interaction>, Failure> {
    let plain = |e: sqlx::Error| crate::db::failure::plain(&e);
    let mut tx = db.begin_as(user_id).await.map_err(plain)?;
    if crate::db::faults::writes_in_flight(&mut tx)
        .await
        .map_err(plain)?
    {
        return Err(Failure::Other(
            "a write of this login is still open on the server; the change is looked up again \
             once it has ended"
                .into(),
        ));
    }
    let found = if to_trash {
        trash::get_deleted(&mut tx, site_id, interaction_id).await
    } else {
        interactions::get(&mut tx, site_id, interaction_id).await
    }
    .map_err(plain)?;
    tx.commit().await.map_err(plain)?;
    Ok(found)
}

/// The record a save of `v` stored, if it is there: a create by its client id, an edit as the
/// next version by `user_id` with the same fields.
async fn lookup_save(
    tx: &mut sqlx::PgConnection,
    site_id: i32,
    user_id: i32,
    target: FormTarget,
    v: &ValidInteraction,
    client_id: Option<&str>,
) -> sqlx::Result<Option<Interaction>> {
    let found = match (target, client_id) {
        (FormTarget::New, Some(client_id)) => {
            interactions::by_client_id(&mut *tx, site_id, client_id).await?
        }
        (FormTarget::New, None) => None,
        (
            FormTarget::Edit {
                interaction_id,
                version,
            },
            _,
        ) => interactions::get(&mut *tx, site_id, interaction_id)
            .await?
            .filter(|current| is_this_edit(current, version, user_id, v)),
    };
    Ok(found)
}

fn unreachable(e: sqlx::Error) -> SaveError {
    SaveError::Failed(cannot_reach(e))
}

/// The database could not be reached, or refused the work.
fn cannot_reach(e: sqlx::Error) -> Failure {
    let message = format!("the database could not be reached or refused the change ({e})");
    failure(&e, message)
}

/// Begins a unit of work as `user_id`, who must be a site admin of `site_id`.
async fn as_site_admin(
    db: &Db,
    user_id: Option<i32>,
    site_id: i32,
    what: &str,
) -> Result<(sqlx::Transaction<'static, sqlx::Postgres>, i32), SaveError> {
    let Some(user_id) = user_id else {
        return Err(SaveError::NotPermitted(Failure::Refused(format!(
            "{what} needs a logged-in site admin; run `ifind` to log in"
        ))));
    };
    let mut tx = db.begin_as(Some(user_id)).await.map_err(unreachable)?;
    if !users::may_admin(&mut tx, user_id, site_id)
        .await
        .map_err(unreachable)?
    {
        drop(tx);
        log_refusal(db, user_id, site_id, what).await;
        return Err(SaveError::NotPermitted(Failure::Refused(format!(
            "only site admins {what} here; ask one to do it, or for the admin role"
        ))));
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
) -> Result<Vec<TrashItem>, Failure> {
    let (mut tx, _) = as_site_admin(db, user_id, site_id, "see the trash")
        .await
        .map_err(|e| e.reason())?;
    let items = trash::list(&mut tx, site_id, restore_window(days), 500)
        .await
        .map_err(cannot_reach)?;
    tx.commit().await.map_err(cannot_reach)?;
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
            tx.commit().await.map_err(commit_failed)?;
            tracing::info!(user_id, site_id, interaction_id = id, "interaction deleted");
            Ok(deleted)
        }
        None => match interactions::get(&mut tx, site_id, id)
            .await
            .map_err(unreachable)?
        {
            Some(current) => Err(conflict(&mut tx, current).await.map_err(unreachable)?),
            None => Err(gone_or_archived(&mut tx, site_id, id)
                .await
                .map_err(unreachable)?),
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
    tx.commit().await.map_err(commit_failed)?;
    tracing::info!(
        user_id,
        site_id,
        interaction_id = id,
        "interaction restored"
    );
    Ok(restored)
}
