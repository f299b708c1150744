//! Users and their site roles.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgConnection;

/// The role [`grant`] gives and [`role_at`] reads (a domain type, named here for callers of
/// this module).
pub use crate::domain::users::Role;

/// A user as listed by admins (never carries the password hash).
#[derive(Clone, Debug, PartialEq, Serialize, sqlx::FromRow)]
pub struct User {
    pub user_id: i32,
    pub username: String,
    pub email: String,
    pub last_login: Option<DateTime<Utc>>,
    pub is_active: bool,
    pub is_global_admin: bool,
}

const USER_COLUMNS: &str = "user_id, username, email, last_login, is_active, is_global_admin";

// A user's own connection reads users and roles at sites only through the database's functions
// (migration 0013): `ifind_users`, `ifind_user_by_name`, `ifind_user_by_id`, `ifind_username`
// and `ifind_mappings` return what the session may see (everything for the owner), and the
// writes that change or remove a row are functions that check the right the policies check.

/// How many users the connection may see (the owner: all of them).
pub async fn count(conn: &mut PgConnection) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT count(*) FROM ifind_users()")
        .fetch_one(conn)
        .await
}

/// The users the connection may see, by name.
pub async fn list(conn: &mut PgConnection) -> sqlx::Result<Vec<User>> {
    sqlx::query_as(&format!(
        "SELECT {USER_COLUMNS} FROM ifind_users() ORDER BY username"
    ))
    .fetch_all(conn)
    .await
}

/// The user named `username`, if the connection may see them.
pub async fn by_name(conn: &mut PgConnection, username: &str) -> sqlx::Result<Option<User>> {
    sqlx::query_as(&format!(
        "SELECT {USER_COLUMNS} FROM ifind_user_by_name($1)"
    ))
    .bind(username)
    .fetch_optional(conn)
    .await
}

/// The stored password hash of a user, for verification (the owner's connection only).
pub async fn password_hash(conn: &mut PgConnection, user_id: i32) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT password_hash FROM users WHERE user_id = $1")
        .bind(user_id)
        .fetch_optional(conn)
        .await
}

pub async fn insert(
    conn: &mut PgConnection,
    username: &str,
    email: &str,
    password_hash: &str,
    global_admin: bool,
) -> sqlx::Result<User> {
    sqlx::query_as(&format!(
        "INSERT INTO users (username, email, password_hash, is_global_admin) \
         VALUES ($1, $2, $3, $4) RETURNING {USER_COLUMNS}"
    ))
    .bind(username)
    .bind(email)
    .bind(password_hash)
    .bind(global_admin)
    .fetch_one(conn)
    .await
}

/// Adds a user whose password will be their login role's ([`super::logins::set_login`]): the
/// row holds no hash. Works for the owner and, under the policies, for a global administrator
/// (an INSERT without RETURNING, which needs no right to read the table; the new row is then
/// read back through `ifind_user_by_name`).
pub async fn add(
    conn: &mut PgConnection,
    username: &str,
    email: &str,
    global_admin: bool,
) -> sqlx::Result<User> {
    sqlx::query("INSERT INTO users (username, email, is_global_admin) VALUES ($1, $2, $3)")
        .bind(username)
        .bind(email)
        .bind(global_admin)
        .execute(&mut *conn)
        .await?;
    by_name(conn, username)
        .await?
        .ok_or(sqlx::Error::RowNotFound)
}

/// Replaces the stored password hash (the owner's; users from before login roles).
pub async fn set_password(
    conn: &mut PgConnection,
    user_id: i32,
    password_hash: &str,
) -> sqlx::Result<bool> {
    let r = sqlx::query("UPDATE users SET password_hash = $2 WHERE user_id = $1")
        .bind(user_id)
        .bind(password_hash)
        .execute(conn)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Activates or deactivates a user (global administrators and the owner); false when nothing
/// was changed (no such user, or the connection may not).
pub async fn set_active(conn: &mut PgConnection, user_id: i32, active: bool) -> sqlx::Result<bool> {
    sqlx::query_scalar("SELECT ifind_set_user_active($1, $2)")
        .bind(user_id)
        .bind(active)
        .fetch_one(conn)
        .await
}

/// The first active global administrator, the default acting user of admin commands (the
/// owner's connection only).
pub async fn first_global_admin(conn: &mut PgConnection) -> sqlx::Result<Option<User>> {
    sqlx::query_as(&format!(
        "SELECT {USER_COLUMNS} FROM users WHERE is_global_admin AND is_active \
         ORDER BY user_id LIMIT 1"
    ))
    .fetch_optional(conn)
    .await
}

/// Whether the database has any user, through the `ifind_has_users` function (which also works
/// on the application role's connection, whose policies show no user before a login).
pub async fn any_exist(conn: &mut PgConnection) -> sqlx::Result<bool> {
    sqlx::query_scalar("SELECT ifind_has_users()")
        .fetch_one(conn)
        .await
}

/// Gives `user_id` `role` at `site_id`, replacing any earlier role there. The database refuses
/// (42501) unless the connection is an admin of the site, a global administrator or the owner.
pub async fn grant(
    conn: &mut PgConnection,
    user_id: i32,
    site_id: i32,
    role: Role,
) -> sqlx::Result<()> {
    sqlx::query("SELECT ifind_grant_role($1, $2, $3)")
        .bind(user_id)
        .bind(site_id)
        .bind(role.as_str())
        .execute(conn)
        .await?;
    Ok(())
}

/// Removes the user's role at the site; false when there was none that the connection may
/// remove.
pub async fn revoke(conn: &mut PgConnection, user_id: i32, site_id: i32) -> sqlx::Result<bool> {
    sqlx::query_scalar("SELECT ifind_revoke_role($1, $2)")
        .bind(user_id)
        .bind(site_id)
        .fetch_one(conn)
        .await
}

/// The user's role at a site, if any (and the connection may see it).
pub async fn role_at(
    conn: &mut PgConnection,
    user_id: i32,
    site_id: i32,
) -> sqlx::Result<Option<Role>> {
    let role: Option<String> =
        sqlx::query_scalar("SELECT role FROM ifind_mappings($1) WHERE site_id = $2")
            .bind(user_id)
            .bind(site_id)
            .fetch_optional(conn)
            .await?;
    Ok(role.as_deref().and_then(Role::parse))
}

/// The username of `user_id`, if that user exists (user names are public: each is a login
/// role).
pub async fn name_of(conn: &mut PgConnection, user_id: i32) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT ifind_username($1)")
        .bind(user_id)
        .fetch_one(conn)
        .await
}

/// Whether `user_id` is active and may create and edit interactions of `site_id`: a global
/// administrator, or an editor or admin there.
pub async fn may_edit(conn: &mut PgConnection, user_id: i32, site_id: i32) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM ifind_user_by_id($1) u WHERE u.is_active \
           AND (u.is_global_admin OR EXISTS (SELECT 1 FROM ifind_mappings($1) m \
             WHERE m.site_id = $2 AND m.role IN ('editor', 'admin'))))",
    )
    .bind(user_id)
    .bind(site_id)
    .fetch_one(conn)
    .await
}

/// Whether `user_id` is active and a site admin of `site_id` (or a global administrator): who
/// may delete, restore and see the trash there.
pub async fn may_admin(conn: &mut PgConnection, user_id: i32, site_id: i32) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM ifind_user_by_id($1) u WHERE u.is_active \
           AND (u.is_global_admin OR EXISTS (SELECT 1 FROM ifind_mappings($1) m \
             WHERE m.site_id = $2 AND m.role = 'admin')))",
    )
    .bind(user_id)
    .bind(site_id)
    .fetch_one(conn)
    .await
}

/// How many sites each user has a role at (among the roles the connection may see), keyed by
/// user id.
pub async fn site_counts(conn: &mut PgConnection) -> sqlx::Result<Vec<(i32, i64)>> {
    sqlx::query_as("SELECT user_id, count(*) FROM ifind_mappings() GROUP BY user_id")
        .fetch_all(conn)
        .await
}
