//! Interaction reads and writes: typed, parameterised queries on a caller-chosen connection
//! (usually a transaction from [`Db::begin_as`](crate::db::Db::begin_as)).

use sqlx::postgres::{PgArguments, PgRow};
use sqlx::query::QueryAs;
use sqlx::{PgConnection, Postgres};

use crate::domain::interaction::{INTERACTION_COLUMNS, Interaction, ValidInteraction};

/// A statement that returns [`Interaction`] rows, with its parameters bound so far.
type InteractionQuery<'q> = QueryAs<'q, Postgres, Interaction, PgArguments>;

/// `query` with the nine fields a user writes bound as its next parameters, in this order:
/// title, type, lead, start_datetime, end_datetime, timezone, location, description, notes.
fn bind_fields<'q>(query: InteractionQuery<'q>, v: &'q ValidInteraction) -> InteractionQuery<'q> {
    query
        .bind(&v.title)
        .bind(&v.kind)
        .bind(&v.lead)
        .bind(v.start_datetime)
        .bind(v.end_datetime)
        .bind(&v.timezone)
        .bind(&v.location)
        .bind(&v.description)
        .bind(&v.notes)
}

/// A row of [`INTERACTION_COLUMNS`] (by column name, so a select may hold other columns too, as
/// a search's hits do): `type` goes to [`Interaction::kind`], every other column to the field
/// of its name.
impl<'r> sqlx::FromRow<'r, PgRow> for Interaction {
    fn from_row(row: &'r PgRow) -> sqlx::Result<Interaction> {
        use sqlx::Row;
        Ok(Interaction {
            interaction_id: row.try_get("interaction_id")?,
            site_id: row.try_get("site_id")?,
            title: row.try_get("title")?,
            kind: row.try_get("type")?,
            lead: row.try_get("lead")?,
            start_datetime: row.try_get("start_datetime")?,
            timezone: row.try_get("timezone")?,
            end_datetime: row.try_get("end_datetime")?,
            location: row.try_get("location")?,
            description: row.try_get("description")?,
            notes: row.try_get("notes")?,
            created_by: row.try_get("created_by")?,
            created_at: row.try_get("created_at")?,
            updated_by: row.try_get("updated_by")?,
            updated_at: row.try_get("updated_at")?,
            version: row.try_get("version")?,
        })
    }
}

/// One interaction of `site_id` by id; None if it does not exist there or is deleted.
pub async fn get(
    conn: &mut PgConnection,
    site_id: i32,
    id: i32,
) -> sqlx::Result<Option<Interaction>> {
    get_from(
        conn,
        site_id,
        id,
        "interactions WHERE deleted_at IS NULL AND",
    )
    .await
}

/// Interaction `id` of `site_id` from `source`: a table and the start of its conditions
/// ("interactions WHERE deleted_at IS NULL AND", "interactions_archive WHERE"), a fixed
/// fragment; the id and the site are bound. The one row read of [`get`], the trash's and the
/// archive's.
pub(crate) async fn get_from(
    conn: &mut PgConnection,
    site_id: i32,
    id: i32,
    source: &'static str,
) -> sqlx::Result<Option<Interaction>> {
    crate::db::pool::enter_site(&mut *conn, site_id).await?;
    let sql =
        format!("SELECT {INTERACTION_COLUMNS} FROM {source} interaction_id = $1 AND site_id = $2");
    sqlx::query_as::<_, Interaction>(&sql)
        .bind(id)
        .bind(site_id)
        .fetch_optional(conn)
        .await
}

/// Creates an interaction in `site_id`, created by `acting_user`, and returns the stored row.
pub async fn insert(
    conn: &mut PgConnection,
    site_id: i32,
    acting_user: i32,
    v: &ValidInteraction,
) -> sqlx::Result<Interaction> {
    insert_row(conn, site_id, acting_user, v, None)
        .await?
        .ok_or(sqlx::Error::RowNotFound)
}

/// Replaces every editable field of interaction `id` if its version is still
/// `expected_version`: bumps the version and records `acting_user` and the time as the last
/// change. Returns None when someone else saved first (stale version) or the row is gone or
/// deleted; the caller tells those apart with [`get`].
pub async fn update(
    conn: &mut PgConnection,
    site_id: i32,
    id: i32,
    expected_version: i32,
    acting_user: i32,
    v: &ValidInteraction,
) -> sqlx::Result<Option<Interaction>> {
    crate::db::pool::enter_site(&mut *conn, site_id).await?;
    let sql = format!(
        "UPDATE interactions SET title = $1, type = $2, lead = $3, start_datetime = $4, \
         end_datetime = $5, timezone = $6, location = $7, description = $8, notes = $9, \
         updated_by = $10, updated_at = CURRENT_TIMESTAMP, version = version + 1 \
         WHERE interaction_id = $11 AND site_id = $12 AND version = $13 AND deleted_at IS NULL \
         RETURNING {INTERACTION_COLUMNS}"
    );
    bind_fields(sqlx::query_as::<_, Interaction>(&sql), v)
        .bind(acting_user)
        .bind(id)
        .bind(site_id)
        .bind(expected_version)
        .fetch_optional(conn)
        .await
}

/// Writes the fields of `v` over interaction `id` of `site_id` whatever its version (re-importing
/// an export with `--update`), as `acting_user`: true when it was there (live) to be written.
pub async fn overwrite(
    conn: &mut PgConnection,
    site_id: i32,
    id: i32,
    acting_user: i32,
    v: &ValidInteraction,
) -> sqlx::Result<bool> {
    crate::db::pool::enter_site(&mut *conn, site_id).await?;
    let sql = format!(
        "UPDATE interactions SET title = $1, type = $2, lead = $3, start_datetime = $4, \
         end_datetime = $5, timezone = $6, location = $7, description = $8, notes = $9, \
         updated_by = $10, updated_at = CURRENT_TIMESTAMP, version = version + 1 \
         WHERE interaction_id = $11 AND site_id = $12 AND deleted_at IS NULL \
         RETURNING {INTERACTION_COLUMNS}"
    );
    let row = bind_fields(sqlx::query_as::<_, Interaction>(&sql), v)
        .bind(acting_user)
        .bind(id)
        .bind(site_id)
        .fetch_optional(conn)
        .await?;
    Ok(row.is_some())
}

/// Which of `ids` are live interactions of `site_id`.
pub async fn live_ids(
    conn: &mut PgConnection,
    site_id: i32,
    ids: &[i32],
) -> sqlx::Result<Vec<i32>> {
    crate::db::pool::enter_site(&mut *conn, site_id).await?;
    sqlx::query_scalar(
        "SELECT interaction_id FROM interactions \
          WHERE site_id = $1 AND interaction_id = ANY($2) AND deleted_at IS NULL",
    )
    .bind(site_id)
    .bind(ids)
    .fetch_all(conn)
    .await
}

/// The distinct types in use in `site_id` (not counting deleted rows), sorted, for completion.
pub async fn distinct_types(conn: &mut PgConnection, site_id: i32) -> sqlx::Result<Vec<String>> {
    // Served by idx_interactions_type.
    distinct_values(conn, site_id, "type").await
}

/// The distinct leads in `site_id` (not counting deleted rows), sorted, for completion.
pub async fn distinct_leads(conn: &mut PgConnection, site_id: i32) -> sqlx::Result<Vec<String>> {
    // Served by idx_interactions_lead.
    distinct_values(conn, site_id, "lead").await
}

/// The distinct values of `column` (a fixed column name chosen by the callers above, never
/// input) in `site_id`, sorted: a skip scan over the `(site_id, column)` index, one index probe
/// per distinct value, so it stays fast on a site with millions of rows and a few dozen values.
async fn distinct_values(
    conn: &mut PgConnection,
    site_id: i32,
    column: &'static str,
) -> sqlx::Result<Vec<String>> {
    crate::db::pool::enter_site(&mut *conn, site_id).await?;
    let sql = format!(
        "WITH RECURSIVE v(val) AS ( \
           (SELECT {column} FROM interactions \
             WHERE site_id = $1 AND deleted_at IS NULL ORDER BY {column} LIMIT 1) \
           UNION ALL \
           SELECT (SELECT i.{column} FROM interactions i \
                    WHERE i.site_id = $1 AND i.{column} > v.val AND i.deleted_at IS NULL \
                    ORDER BY i.{column} LIMIT 1) \
             FROM v WHERE v.val IS NOT NULL) \
         SELECT val FROM v WHERE val IS NOT NULL"
    );
    sqlx::query_scalar(&sql).bind(site_id).fetch_all(conn).await
}

/// Up to 2,000 distinct locations in use in `site_id` (not counting deleted rows), the most used
/// first, for completion.
pub async fn distinct_locations(
    conn: &mut PgConnection,
    site_id: i32,
) -> sqlx::Result<Vec<String>> {
    crate::db::pool::enter_site(&mut *conn, site_id).await?;
    sqlx::query_scalar(
        "SELECT location FROM interactions \
          WHERE site_id = $1 AND deleted_at IS NULL AND location IS NOT NULL AND location <> '' \
          GROUP BY location ORDER BY count(*) DESC, location LIMIT 2000",
    )
    .bind(site_id)
    .fetch_all(conn)
    .await
}

/// Creates an interaction like [`insert`], carrying `client_id` (a UUID in text form, see
/// [`crate::db::faults::new_client_id`]): when `site_id` already holds a record with that id
/// (an earlier attempt of the same create reached the database), nothing is inserted and that
/// record is returned instead, with `true` for "it was already there". A deleted record is
/// returned too; the caller decides what that means.
pub async fn insert_once(
    conn: &mut PgConnection,
    site_id: i32,
    acting_user: i32,
    v: &ValidInteraction,
    client_id: &str,
) -> sqlx::Result<(Interaction, bool)> {
    match insert_row(&mut *conn, site_id, acting_user, v, Some(client_id)).await? {
        Some(row) => Ok((row, false)),
        None => by_client_id(conn, site_id, client_id)
            .await?
            .map(|row| (row, true))
            .ok_or(sqlx::Error::RowNotFound),
    }
}

/// The one INSERT of [`insert`] and [`insert_once`]: None when `client_id` is already stored
/// in `site_id` (a NULL id never conflicts).
async fn insert_row(
    conn: &mut PgConnection,
    site_id: i32,
    acting_user: i32,
    v: &ValidInteraction,
    client_id: Option<&str>,
) -> sqlx::Result<Option<Interaction>> {
    crate::db::pool::enter_site(&mut *conn, site_id).await?;
    let sql = format!(
        "INSERT INTO interactions (site_id, title, type, lead, start_datetime, end_datetime, \
         timezone, location, description, notes, created_by, client_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::uuid) \
         ON CONFLICT (site_id, client_id) DO NOTHING \
         RETURNING {INTERACTION_COLUMNS}"
    );
    let query = sqlx::query_as::<_, Interaction>(&sql).bind(site_id);
    bind_fields(query, v)
        .bind(acting_user)
        .bind(client_id)
        .fetch_optional(conn)
        .await
}

/// The record of `site_id` created with `client_id`, deleted or not; None if no create with that
/// id ever reached the database.
pub async fn by_client_id(
    conn: &mut PgConnection,
    site_id: i32,
    client_id: &str,
) -> sqlx::Result<Option<Interaction>> {
    crate::db::pool::enter_site(&mut *conn, site_id).await?;
    let sql = format!(
        "SELECT {INTERACTION_COLUMNS} FROM interactions \
         WHERE site_id = $1 AND client_id = $2::uuid"
    );
    sqlx::query_as::<_, Interaction>(&sql)
        .bind(site_id)
        .bind(client_id)
        .fetch_optional(conn)
        .await
}

/// True when interaction `id` of `site_id` is in the trash.
pub async fn is_deleted(conn: &mut PgConnection, site_id: i32, id: i32) -> sqlx::Result<bool> {
    crate::db::pool::enter_site(&mut *conn, site_id).await?;
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM interactions \
          WHERE interaction_id = $1 AND site_id = $2 AND deleted_at IS NOT NULL)",
    )
    .bind(id)
    .bind(site_id)
    .fetch_one(conn)
    .await
}

/// True when `stored` holds exactly the fields of `v` (what a save of `v` would have written).
pub fn holds(stored: &Interaction, v: &ValidInteraction) -> bool {
    let text = |a: &Option<String>, b: &Option<String>| {
        a.as_deref().unwrap_or("") == b.as_deref().unwrap_or("")
    };
    stored.title == v.title
        && stored.kind == v.kind
        && stored.lead == v.lead
        && stored.start_datetime == v.start_datetime
        && stored.end_datetime == v.end_datetime
        && stored.timezone == v.timezone
        && text(&stored.location, &v.location)
        && text(&stored.description, &v.description)
        && text(&stored.notes, &v.notes)
}
