//! The archive (design document, section 4.3): interactions untouched for a long time move, whole,
//! to `interactions_archive`, where the Finder can still find them (read-only).
//!
//! Each batch is one statement, a DELETE whose RETURNING rows feed the INSERT into the archive,
//! in one transaction: a kill at any moment leaves every row in exactly one of the two tables,
//! and the next run simply carries on.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use crate::domain::interaction::Interaction;

/// Every stored column of `interactions` (the generated `search_vector` is recomputed).
const STORED_COLUMNS: &str = "interaction_id, site_id, title, type, lead, start_datetime, \
     timezone, end_datetime, location, description, notes, created_by, created_at, updated_by, \
     updated_at, version, deleted_at, deleted_by, client_id";

/// Moves up to `batch` live interactions last touched (updated, else created) before
/// `untouched_before` to the archive; returns how many. The audit trail records each as
/// `archive`. Call in its own transaction and commit; repeat until it returns 0.
pub async fn archive_batch(
    conn: &mut PgConnection,
    untouched_before: DateTime<Utc>,
    batch: i64,
) -> sqlx::Result<u64> {
    sqlx::query("SELECT set_config('ifind.archiving', 'on', true)")
        .execute(&mut *conn)
        .await?;
    let sql = format!(
        "WITH moved AS ( \
           DELETE FROM interactions WHERE (interaction_id, site_id) IN ( \
             SELECT interaction_id, site_id FROM interactions \
              WHERE deleted_at IS NULL AND coalesce(updated_at, created_at) < $1 \
              LIMIT $2 FOR UPDATE SKIP LOCKED) \
           RETURNING {STORED_COLUMNS}) \
         INSERT INTO interactions_archive ({STORED_COLUMNS}) SELECT {STORED_COLUMNS} FROM moved"
    );
    let done = sqlx::query(&sql)
        .bind(untouched_before)
        .bind(batch)
        .execute(&mut *conn)
        .await?;
    sqlx::query("SELECT set_config('ifind.archiving', '', true)")
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected())
}

/// How many live interactions were last touched before `untouched_before`.
pub async fn archivable(
    conn: &mut PgConnection,
    untouched_before: DateTime<Utc>,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "SELECT count(*) FROM interactions \
          WHERE deleted_at IS NULL AND coalesce(updated_at, created_at) < $1",
    )
    .bind(untouched_before)
    .fetch_one(conn)
    .await
}

/// How many interactions the archive holds.
pub async fn count(conn: &mut PgConnection) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT count(*) FROM interactions_archive")
        .fetch_one(conn)
        .await
}

/// One archived interaction of `site_id` by id (read-only).
pub async fn get(
    conn: &mut PgConnection,
    site_id: i32,
    id: i32,
) -> sqlx::Result<Option<Interaction>> {
    crate::db::interactions::get_from(conn, site_id, id, "interactions_archive WHERE").await
}

/// Whether the archive holds interaction `interaction_id` of `site_id` (as the connection's
/// user sees it: only sites they may read).
pub async fn holds(
    conn: &mut PgConnection,
    site_id: i32,
    interaction_id: i32,
) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM interactions_archive \
                         WHERE site_id = $1 AND interaction_id = $2)",
    )
    .bind(site_id)
    .bind(interaction_id)
    .fetch_one(conn)
    .await
}
