//! The record of each import (migration 0015): written in the import's own transaction, so that
//! an import whose answer was lost can be looked up by its id, and a file already imported into
//! a site is recognised by its SHA-256.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

/// One import, as recorded.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct ImportRecord {
    /// The id the import was given before it started (a UUID, as text).
    pub import_id: String,
    pub file_name: String,
    pub row_count: i32,
    pub imported_at: DateTime<Utc>,
}

/// Records import `import_id` of `row_count` rows from the file named `file_name` (SHA-256
/// `file_sha256`, lower-case hex) into `site_id` by `imported_by`. Call in the import's
/// transaction.
pub async fn record(
    conn: &mut PgConnection,
    site_id: i32,
    import_id: &str,
    file_sha256: &str,
    file_name: &str,
    row_count: i32,
    imported_by: i32,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO imports (site_id, import_id, file_sha256, file_name, row_count, imported_by) \
         VALUES ($1, $2::uuid, $3, $4, $5, $6)",
    )
    .bind(site_id)
    .bind(import_id)
    .bind(file_sha256)
    .bind(file_name)
    .bind(row_count)
    .bind(imported_by)
    .execute(conn)
    .await
    .map(drop)
}

/// What [`ImportRecord`] reads.
const RECORD: &str = "SELECT import_id::text, file_name, row_count, imported_at FROM imports";

/// The latest import of the file with SHA-256 `file_sha256` into `site_id`, if any.
pub async fn of_file(
    conn: &mut PgConnection,
    site_id: i32,
    file_sha256: &str,
) -> sqlx::Result<Option<ImportRecord>> {
    sqlx::query_as(&format!(
        "{RECORD} WHERE site_id = $1 AND file_sha256 = $2 ORDER BY imported_at DESC LIMIT 1"
    ))
    .bind(site_id)
    .bind(file_sha256)
    .fetch_optional(conn)
    .await
}

/// Import `import_id` into `site_id`, if it was committed.
pub async fn by_id(
    conn: &mut PgConnection,
    site_id: i32,
    import_id: &str,
) -> sqlx::Result<Option<ImportRecord>> {
    sqlx::query_as(&format!(
        "{RECORD} WHERE site_id = $1 AND import_id = $2::uuid"
    ))
    .bind(site_id)
    .bind(import_id)
    .fetch_optional(conn)
    .await
}
