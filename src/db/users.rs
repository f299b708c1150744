//! Users and their site roles.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgConnection;

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

/// A role at one site.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    Editor,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Editor => "editor",
            Role::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "viewer" => Some(Role::Viewer),
            "editor" => Some(Role::Editor),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

const USER_COLUMNS: &str = "user_id, username, email, last_login, is_active, is_global_admin";

pub async fn count(conn: &mut PgConnection) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(conn)
        .await
}

pub async fn list(conn: &mut PgConnection) -> sqlx::Result<Vec<User>> {
    sqlx::query_as(&format!(
        "SELECT {USER_COLUMNS} FROM users ORDER BY username"
    ))
    .fetch_all(conn)
    .await
}

pub async fn by_name(conn: &mut PgConnection, username: &str) -> sqlx::Result<Option<User>> {
    sqlx::query_as(&format!(
        "SELECT {USER_COLUMNS} FROM users WHERE username = $1"
    ))
    .bind(username)
    .fetch_optional(conn)
    .await
}

/// The stored password hash of a user, for verification.
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
/// row holds no hash. Works for the owner and, under the policies, for a global administrator.
pub async fn add(
    conn: &mut PgConnection,
    username: &str,
    email: &str,
    global_admin: bool,
) -> sqlx::Result<User> {
    sqlx::query_as(&format!(
        "INSERT INTO users (username, email, is_global_admin) \
         VALUES ($1, $2, $3) RETURNING {USER_COLUMNS}"
    ))
    .bind(username)
    .bind(email)
    .bind(global_admin)
    .fetch_one(conn)
    .await
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

pub async fn set_active(conn: &mut PgConnection, user_id: i32, active: bool) -> sqlx::Result<bool> {
    let r = sqlx::query("UPDATE users SET is_active = $2 WHERE user_id = $1")
        .bind(user_id)
        .bind(active)
        .execute(conn)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// The first active global administrator, the default acting user of admin commands.
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

/// Gives `user_id` `role` at `site_id`, replacing any earlier role there.
pub async fn grant(
    conn: &mut PgConnection,
    user_id: i32,
    site_id: i32,
    role: Role,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO user_site_mapping (user_id, site_id, role) VALUES ($1, $2, $3) \
         ON CONFLICT (user_id, site_id) DO UPDATE \
         SET role = EXCLUDED.role, assigned_at = CURRENT_TIMESTAMP",
    )
    .bind(user_id)
    .bind(site_id)
    .bind(role.as_str())
    .execute(conn)
    .await?;
    Ok(())
}

/// Removes the user's role at the site; false when there was none.
pub async fn revoke(conn: &mut PgConnection, user_id: i32, site_id: i32) -> sqlx::Result<bool> {
    let r = sqlx::query("DELETE FROM user_site_mapping WHERE user_id = $1 AND site_id = $2")
        .bind(user_id)
        .bind(site_id)
        .execute(conn)
        .await?;
    Ok(r.rows_affected() > 0)
}

/// The user's role at a site, if any.
pub async fn role_at(
    conn: &mut PgConnection,
    user_id: i32,
    site_id: i32,
) -> sqlx::Result<Option<Role>> {
    let role: Option<String> = sqlx::query_scalar(
        "SELECT role FROM user_site_mapping WHERE user_id = $1 AND site_id = $2",
    )
    .bind(user_id)
    .bind(site_id)
    .fetch_optional(conn)
    .await?;
    Ok(role.as_deref().and_then(Role::parse))
}

/// The username of `user_id`, if that user exists (and may be seen).
pub async fn name_of(conn: &mut PgConnection, user_id: i32) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT username FROM users WHERE user_id = $1")
        .bind(user_id)
        .fetch_optional(conn)
        .await
}

/// Whether `user_id` is active and may create and edit interactions of `site_id`: a global
/// administrator, or an editor or admin there.
pub async fn may_edit(conn: &mut PgConnection, user_id: i32, site_id: i32) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM users u WHERE u.user_id = $1 AND u.is_active            AND (u.is_global_admin OR EXISTS (SELECT 1 FROM user_site_mapping m              WHERE m.user_id = u.user_id AND m.site_id = $2 AND m.role IN ('editor', 'admin'))))",
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
        "SELECT EXISTS (SELECT 1 FROM users u WHERE u.user_id = $1 AND u.is_active \
           AND (u.is_global_admin OR EXISTS (SELECT 1 FROM user_site_mapping m \
             WHERE m.user_id = u.user_id AND m.site_id = $2 AND m.role = 'admin')))",
    )
    .bind(user_id)
    .bind(site_id)
    .fetch_one(conn)
    .await
}

/// How many sites each user has a role at, keyed by user id.
pub async fn site_counts(conn: &mut PgConnection) -> sqlx::Result<Vec<(i32, i64)>> {
    sqlx::query_as("SELECT user_id, count(*) FROM user_site_mapping GROUP BY user_id")
        .fetch_all(conn)
        .await
}
