//! Sites.

use serde::Serialize;
use sqlx::PgConnection;

use crate::domain::users::Role;

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

/// The site called `name` among those the connection may read: exactly, else regardless of case
/// when one name matches so; otherwise the names close to it (for "did you mean"), only ever
/// among the sites the connection may read.
pub async fn resolve(
    conn: &mut PgConnection,
    name: &str,
) -> sqlx::Result<Result<Site, Vec<String>>> {
    if let Some(site) = by_name(&mut *conn, name).await? {
        return Ok(Ok(site));
    }
    let names = names(&mut *conn).await?;
    match crate::domain::format::match_name(name, &names) {
        Ok(exact) => {
            let exact = exact.to_string();
            Ok(by_name(conn, &exact).await?.ok_or_else(Vec::new))
        }
        Err(near) => Ok(Err(near.into_iter().map(str::to_string).collect())),
    }
}

/// The names of the sites the connection may read (in no order).
pub async fn names(conn: &mut PgConnection) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar("SELECT name::text FROM ifind_my_sites()")
        .fetch_all(conn)
        .await
}

/// "; did you mean "A" or "B"?" for the names close to what was typed (nothing when none are).
pub fn did_you_mean(near: &[String]) -> String {
    match near {
        [] => String::new(),
        [one] => format!("; did you mean {one:?}?"),
        [first @ .., last] => {
            let first: Vec<String> = first.iter().map(|n| format!("{n:?}")).collect();
            format!("; did you mean {} or {last:?}?", first.join(", "))
        }
    }
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

/// Deletes site `site_id` (migration 0015's `ifind_delete_site`): the number of interactions it
/// held and that went with it; minus that number when it holds some and `with_interactions` is
/// false (nothing was deleted); None when the session may not delete sites or there is no such
/// site.
pub async fn delete(
    conn: &mut PgConnection,
    site_id: i32,
    with_interactions: bool,
) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar("SELECT ifind_delete_site($1, $2)")
        .bind(site_id)
        .bind(with_interactions)
        .fetch_one(conn)
        .await
}

pub use crate::domain::users::SiteChoice;

/// A row of [`for_user`]'s query.
#[derive(sqlx::FromRow)]
struct SiteChoiceRow {
    site_id: i32,
    name: String,
    role: String,
    interactions: i64,
}

impl From<SiteChoiceRow> for SiteChoice {
    fn from(row: SiteChoiceRow) -> SiteChoice {
        SiteChoice {
            site_id: row.site_id,
            name: row.name,
            // The mappings table allows the three roles only; anything else would get the
            // least of them.
            role: Role::parse(&row.role).unwrap_or(Role::Viewer),
            interactions: row.interactions,
        }
    }
}

/// The active sites `user_id` may open, by name: the sites mapped to the user, or every active
/// site for a global admin. One query.
pub async fn for_user(
    conn: &mut PgConnection,
    user_id: i32,
    global_admin: bool,
) -> sqlx::Result<Vec<SiteChoice>> {
    let rows: Vec<SiteChoiceRow> = sqlx::query_as(
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
    .await?;
    Ok(rows.into_iter().map(SiteChoice::from).collect())
}
