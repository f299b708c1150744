//! Sites.

use serde::Serialize;
use sqlx::PgConnection;

#[derive(Clone, Debug, PartialEq, Serialize, sqlx::FromRow)]
pub struct Site {
    pub site_id: i32,
    pub name: String,
    pub description: Option<String>,
    pub is_active: bool,
}

/// A site with its size and membership, for lists.
#[derive(Clone, Debug, PartialEq, Serialize, sqlx::FromRow)]
pub struct SiteSummary {
    pub site_id: i32,
    pub name: String,
    pub description: Option<String>,
    pub is_active: bool,
    pub interactions: i64,
    pub members: i64,
}

pub async fn insert(
    conn: &mut PgConnection,
    name: &str,
    description: Option<&str>,
) -> sqlx::Result<Site> {
    sqlx::query_as(
        "INSERT INTO sites (name, description) VALUES ($1, $2) \
         RETURNING site_id, name, description, is_active",
    )
    .bind(name)
    .bind(description)
    .fetch_one(conn)
    .await
}

pub async fn by_name(conn: &mut PgConnection, name: &str) -> sqlx::Result<Option<Site>> {
    sqlx::query_as("SELECT site_id, name, description, is_active FROM sites WHERE name = $1")
        .bind(name)
        .fetch_optional(conn)
        .await
}

pub async fn list(conn: &mut PgConnection) -> sqlx::Result<Vec<SiteSummary>> {
    sqlx::query_as(
        "SELECT s.site_id, s.name, s.description, s.is_active, \
                coalesce(ifind_live_count(s.site_id), 0) AS interactions, \
                (SELECT count(*) FROM user_site_mapping m WHERE m.site_id = s.site_id) AS members \
           FROM sites s ORDER BY s.name",
    )
    .fetch_all(conn)
    .await
}

pub async fn set_active(conn: &mut PgConnection, site_id: i32, active: bool) -> sqlx::Result<bool> {
    let r = sqlx::query("UPDATE sites SET is_active = $2 WHERE site_id = $1")
        .bind(site_id)
        .bind(active)
        .execute(conn)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// A site the user may open, with the user's role there and its number of live interactions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct SiteChoice {
    pub site_id: i32,
    pub name: String,
    /// The user's role at the site; "admin" for a global admin without a mapping there.
    pub role: String,
    /// Interactions that are not deleted.
    pub interactions: i64,
}

/// The active sites `user_id` may open, by name: the sites mapped to the user, or every active
/// site for a global admin. One query.
pub async fn for_user(
    conn: &mut PgConnection,
    user_id: i32,
    global_admin: bool,
) -> sqlx::Result<Vec<SiteChoice>> {
    sqlx::query_as(
        "SELECT s.site_id, s.name, COALESCE(m.role, 'admin')::text AS role, \
                coalesce(ifind_live_count(s.site_id), 0) AS interactions \
           FROM sites s \
           LEFT JOIN user_site_mapping m ON m.site_id = s.site_id AND m.user_id = $1 \
          WHERE s.is_active AND (m.user_id IS NOT NULL OR $2) \
          ORDER BY s.name",
    )
    .bind(user_id)
    .bind(global_admin)
    .fetch_all(conn)
    .await
}
