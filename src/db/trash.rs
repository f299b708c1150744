//! Soft delete, the Trash, restore and purge (the design document's section 4.3: deleted records
//! are kept 30 days with a recovery option, then removed for good).
//!
//! Deleting sets `deleted_at`/`deleted_by` and bumps the version, so the row leaves every search
//! and count at once (they all read `deleted_at IS NULL`) but stays whole for a restore. Purging
//! is the only hard DELETE and runs as the owner, in batches, oldest first.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, Postgres};

use crate::domain::interaction::{INTERACTION_COLUMNS, Interaction};
use crate::domain::trash::TrashItem;

/// Moves interaction `id` of `site_id` to the trash if it is live and still at
/// `expected_version`; returns the row as stored, or None when it is gone, already deleted or
/// changed since (the caller tells those apart with `interactions::get`).
pub async fn soft_delete(
    conn: &mut PgConnection,
    site_id: i32,
    id: i32,
    expected_version: i32,
    acting_user: i32,
) -> sqlx::Result<Option<Interaction>> {
    let sql = format!(
        "UPDATE interactions SET deleted_at = CURRENT_TIMESTAMP, deleted_by = $1, \
         version = version + 1 \
         WHERE interaction_id = $2 AND site_id = $3 AND version = $4 AND deleted_at IS NULL \
         RETURNING {INTERACTION_COLUMNS}"
    );
    let row = RowUpdate {
        site_id,
        id,
        acting_user,
    };
    row.run(conn, &sql, expected_version).await
}

/// Takes interaction `id` of `site_id` out of the trash, if it was deleted after
/// `deleted_since` (older ones are past their restore window); records `acting_user` as the
/// last change. None when there is no such deleted row.
pub async fn restore(
    conn: &mut PgConnection,
    site_id: i32,
    id: i32,
    deleted_since: DateTime<Utc>,
    acting_user: i32,
) -> sqlx::Result<Option<Interaction>> {
    let sql = format!(
        "UPDATE interactions SET deleted_at = NULL, deleted_by = NULL, \
         updated_by = $1, updated_at = CURRENT_TIMESTAMP, version = version + 1 \
         WHERE interaction_id = $2 AND site_id = $3 AND deleted_at IS NOT NULL \
           AND deleted_at >= $4 \
         RETURNING {INTERACTION_COLUMNS}"
    );
    let row = RowUpdate {
        site_id,
        id,
        acting_user,
    };
    row.run(conn, &sql, deleted_since).await
}

/// Interaction `id` of `site_id` if it is in the trash (deleted, not yet purged), whatever its
/// restore window.
pub async fn get_deleted(
    conn: &mut PgConnection,
    site_id: i32,
    id: i32,
) -> sqlx::Result<Option<Interaction>> {
    let source = "interactions WHERE deleted_at IS NOT NULL AND";
    crate::db::interactions::get_from(conn, site_id, id, source).await
}

/// One interaction that a trash statement (delete or restore) changes, and who changes it.
struct RowUpdate {
    site_id: i32,
    id: i32,
    acting_user: i32,
}

impl RowUpdate {
    /// Runs `sql` in the row's site: an UPDATE returning [`INTERACTION_COLUMNS`] whose
    /// parameters are $1 the acting user, $2 the interaction id, $3 the site id and $4
    /// `condition` (what the row must still be). The row as stored after, or None if it did not
    /// match.
    async fn run<'q, T>(
        &self,
        conn: &mut PgConnection,
        sql: &'q str,
        condition: T,
    ) -> sqlx::Result<Option<Interaction>>
    where
        T: 'q + Send + sqlx::Encode<'q, Postgres> + sqlx::Type<Postgres>,
    {
        crate::db::pool::enter_site(&mut *conn, self.site_id).await?;
        sqlx::query_as::<_, Interaction>(sql)
            .bind(self.acting_user)
            .bind(self.id)
            .bind(self.site_id)
            .bind(condition)
            .fetch_optional(conn)
            .await
    }
}

/// The site's deleted interactions still within their restore window (deleted after
/// `deleted_since`), most recently deleted first, at most `limit`.
pub async fn list(
    conn: &mut PgConnection,
    site_id: i32,
    deleted_since: DateTime<Utc>,
    limit: i64,
) -> sqlx::Result<Vec<TrashItem>> {
    crate::db::pool::enter_site(&mut *conn, site_id).await?;
    let columns = INTERACTION_COLUMNS
        .split(", ")
        .map(|c| format!("i.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT {columns}, i.deleted_at, i.deleted_by, \
                ifind_username(i.deleted_by) AS deleted_by_name \
           FROM interactions i \
          WHERE i.site_id = $1 AND i.deleted_at IS NOT NULL AND i.deleted_at >= $2 \
          ORDER BY i.deleted_at DESC, i.interaction_id DESC LIMIT $3"
    );
    let rows = sqlx::query(&sql)
        .bind(site_id)
        .bind(deleted_since)
        .bind(limit)
        .fetch_all(conn)
        .await?;
    rows.iter()
        .map(|row| {
            use sqlx::{FromRow, Row};
            Ok(TrashItem {
                interaction: Interaction::from_row(row)?,
                deleted_at: row.try_get("deleted_at")?,
                deleted_by: row.try_get("deleted_by")?,
                deleted_by_name: row.try_get("deleted_by_name")?,
            })
        })
        .collect()
}

/// Removes for good up to `batch` interactions deleted before `deleted_before`, oldest first;
/// returns how many. Call until it returns 0. Each call is one short transaction, so a purge can
/// be stopped at any moment and run again.
pub async fn purge_batch(
    conn: &mut PgConnection,
    deleted_before: DateTime<Utc>,
    batch: i64,
) -> sqlx::Result<u64> {
    let done = sqlx::query(
        "DELETE FROM interactions WHERE (interaction_id, site_id) IN ( \
           SELECT interaction_id, site_id FROM interactions \
            WHERE deleted_at IS NOT NULL AND deleted_at < $1 \
            ORDER BY deleted_at LIMIT $2)",
    )
    .bind(deleted_before)
    .bind(batch)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// How many interactions are waiting to be purged (deleted before `deleted_before`).
pub async fn purgeable(
    conn: &mut PgConnection,
    deleted_before: DateTime<Utc>,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "SELECT count(*) FROM interactions WHERE deleted_at IS NOT NULL AND deleted_at < $1",
    )
    .bind(deleted_before)
    .fetch_one(conn)
    .await
}
