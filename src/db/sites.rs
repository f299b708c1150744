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

// A user's own connection reads sites only through the database's functions (migration 0013):
// `ifind_my_sites` and `ifind_site_by_name` return the sites the session may read (every site
// for the owner and global administrators), `ifind_mappings` the roles it may see.

/// Adds a site (global administrators and the owner; the database refuses anyone else). An
/// INSERT without RETURNING, which needs no right to read the table; the new row is then read
/// back through `ifind_site_by_name`.
pub async fn insert(
    conn: &mut PgConnection,
    name: &str,
    description: Option<&str>,
) -> sqlx::Result<Site> {
    sqlx::query("INSERT INTO sites (name, description) VALUES ($1, $2)")
        .bind(name)
        .bind(description)
        .execute(&mut *conn)
        .await?;
    by_name(conn, name).await?.ok_or(sqlx::Error::RowNotFound)
}

/// The site named `name`, if the connection may read it.
pub async fn by_name(conn: &mut PgConnection, name: &str) -> sqlx::Result<Option<Site>> {
    sqlx::query_as("SELECT site_id, name, description, is_active FROM ifind_site_by_name($1)")
        .bind(name)
        .fetch_optional(conn)
        .await
}

/// The sites the connection may read, by name, with their live interactions and the members
/// the connection may see.
pub async fn list(conn: &mut PgConnection) -> sqlx::Result<Vec<SiteSummary>> {
    sqlx::query_as(
        "SELECT s.site_id, s.name, s.description, s.is_active, \
                coalesce(ifind_live_count(s.site_id), 0) AS interactions, \
                coalesce(m.members, 0) AS members \
           FROM ifind_my_sites() s \
           LEFT JOIN (SELECT site_id, count(*) AS members FROM ifind_mappings() \
                       GROUP BY site_id) m ON m.site_id = s.site_id \
          ORDER BY s.name",
    )
    .fetch_all(conn)
    .await
}

/// Activates or deactivates a site (global administrators and the owner); false when nothing
/// was changed (no such site, or the connection may not).
pub async fn set_active(conn: &mut PgConnection, site_id: i32, active: bool) -> sqlx::Result<bool> {
    sqlx::query_scalar("SELECT ifind_set_site_active($1, $2)")
        .bind(site_id)
        .bind(active)
        .fetch_one(conn)
        .await
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
           FROM ifind_my_sites() s \
           LEFT JOIN ifind_mappings($1) m ON m.site_id = s.site_id \
          WHERE s.is_active AND (m.user_id IS NOT NULL OR $2) \
          ORDER BY s.name",
    )
    .bind(user_id)
    .bind(global_admin)
    .fetch_all(conn)
    .await
}
