//! Adding users (each with their own database login role) and sites: what `ifind user add`,
//! `ifind site add` and the terminal UI's first-run screen all do, so that a user made by any of
//! them has the same login, the same group role and the same rights. Checks come first, from
//! `domain::users`; the writes run as the connection's own identity (the owner, or a logged-in
//! global administrator), so the database's policies decide.

use std::fmt;

use crate::db::{Db, sites, users};
use crate::domain::users::{check_email, check_site_name, check_username};

/// Why a user or a site was not added: each says what to do instead.
#[derive(Debug)]
pub enum SetupError {
    /// A value that cannot be used (the message names it and the fix).
    Invalid(String),
    /// The name or email is someone else's already.
    Taken(String),
    /// The database refused: the connection may not do this.
    Refused(String),
    /// The first run was asked for, but the database has users now.
    NotFirst,
    /// The database failed.
    Database(sqlx::Error),
}

impl fmt::Display for SetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetupError::Invalid(m) | SetupError::Taken(m) | SetupError::Refused(m) => {
                f.write_str(m)
            }
            SetupError::NotFirst => f.write_str(
                "the database has users now (someone else created the first one); quit and \
                 start ifind again to log in",
            ),
            SetupError::Database(e) => write!(f, "the database failed: {e}"),
        }
    }
}

impl std::error::Error for SetupError {}

impl From<sqlx::Error> for SetupError {
    fn from(e: sqlx::Error) -> SetupError {
        SetupError::Database(e)
    }
}

/// A new user, before anything is written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewUser {
    pub username: String,
    pub email: String,
    /// Ask for a global administrator (the first user of a database is one anyway).
    pub admin: bool,
}

impl NewUser {
    /// The user with its name and email trimmed and checked.
    pub fn checked(username: &str, email: &str, admin: bool) -> Result<NewUser, SetupError> {
        let username = username.trim().to_string();
        check_username(&username).map_err(SetupError::Invalid)?;
        let email = email.trim().to_string();
        check_email(&email).map_err(SetupError::Invalid)?;
        Ok(NewUser {
            username,
            email,
            admin,
        })
    }
}

/// A user that was added.
#[derive(Clone, Debug)]
pub struct Added {
    pub user: users::User,
    /// The database had no user before: this one is its first global administrator.
    pub first: bool,
}

/// Checks a new password as every way of setting one does.
pub fn check_password(password: &str) -> Result<(), SetupError> {
    crate::password::check_new(password).map_err(SetupError::Invalid)
}

/// Adds `new` with its own database login role and `password` (the first user of a database
/// becomes a global administrator), in one transaction.
pub async fn add_user(db: &Db, new: &NewUser, password: &str) -> Result<Added, SetupError> {
    check_password(password)?;
    let mut tx = db.begin_as(None).await?;
    let added = insert_user(&mut tx, new, password).await?;
    tx.commit().await?;
    Ok(added)
}

/// The writes of [`add_user`] in the caller's transaction.
async fn insert_user(
    conn: &mut sqlx::PgConnection,
    new: &NewUser,
    password: &str,
) -> Result<Added, SetupError> {
    if users::by_name(conn, &new.username).await?.is_some() {
        return Err(taken_name(&new.username));
    }
    let first = users::count(conn).await? == 0;
    let user = users::add(conn, &new.username, &new.email, new.admin || first)
        .await
        .map_err(|e| match unique_violation(&e) {
            Some(c) if c.contains("email") => SetupError::Taken(format!(
                "the email {:?} belongs to another user; use another",
                new.email
            )),
            Some(_) => taken_name(&new.username),
            None => refused(e, "add users"),
        })?;
    // The user's own database login, with the password just given.
    crate::db::logins::set_login(conn, &user.username, password)
        .await
        .map_err(|e| refused(e, "add users"))?;
    Ok(Added { user, first })
}

/// Adds the site `name` (trimmed and checked first).
pub async fn add_site(
    db: &Db,
    name: &str,
    description: Option<&str>,
) -> Result<sites::Site, SetupError> {
    let name = name.trim();
    check_site_name(name).map_err(SetupError::Invalid)?;
    if let Some(message) = description
        .and_then(|d| crate::domain::format::forbidden_message("the description", d, true))
    {
        return Err(SetupError::Invalid(message));
    }
    let mut tx = db.begin_as(None).await?;
    let site = insert_site(&mut tx, name, description).await?;
    tx.commit().await?;
    Ok(site)
}

async fn insert_site(
    conn: &mut sqlx::PgConnection,
    name: &str,
    description: Option<&str>,
) -> Result<sites::Site, SetupError> {
    if sites::by_name(conn, name).await?.is_some() {
        return Err(SetupError::Taken(format!(
            "a site named {name:?} already exists; choose another name"
        )));
    }
    sites::insert(conn, name, description)
        .await
        .map_err(|e| refused(e, "add sites (global administrators do)"))
}

/// Whether the first run may be offered on `db`: the database has no user yet, and the
/// connection's role may make login roles (the owner of the embedded cluster, or an owner URL
/// with CREATEROLE).
pub async fn first_run_possible(db: &Db) -> sqlx::Result<bool> {
    let mut conn = db.pool.acquire().await?;
    if users::any_exist(&mut conn).await? {
        return Ok(false);
    }
    crate::db::roles::may_create_roles(&mut conn).await
}

/// The first run: the first global administrator `new` with `password`, and the first site
/// `site`, in one transaction, only while the database has no user.
pub async fn first_run(
    db: &Db,
    site: &str,
    new: &NewUser,
    password: &str,
) -> Result<(Added, sites::Site), SetupError> {
    let site = site.trim();
    check_site_name(site).map_err(SetupError::Invalid)?;
    check_password(password)?;
    let mut tx = db.begin_as(None).await?;
    // Two first runs at once: the second waits here, then finds the first one's user.
    sqlx::query("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE")
        .execute(&mut *tx)
        .await?;
    if users::any_exist(&mut tx).await? {
        return Err(SetupError::NotFirst);
    }
    let new = NewUser {
        admin: true,
        ..new.clone()
    };
    let added = insert_user(&mut tx, &new, password).await?;
    let site = insert_site(&mut tx, site, None).await?;
    tx.commit().await?;
    Ok((added, site))
}

fn taken_name(username: &str) -> SetupError {
    SetupError::Taken(format!(
        "a user named {username:?} already exists; choose another name"
    ))
}

/// A database refusal (permission, policy) as the sentence a person needs; other errors as
/// they are.
fn refused(e: sqlx::Error, what: &str) -> SetupError {
    if let sqlx::Error::Database(d) = &e
        && matches!(d.code().as_deref(), Some("42501"))
    {
        return SetupError::Refused(format!(
            "the database refused: you may not {what}; nothing was changed ({})",
            d.message()
        ));
    }
    SetupError::Database(e)
}

fn unique_violation(e: &sqlx::Error) -> Option<String> {
    match e {
        sqlx::Error::Database(db) if db.code().as_deref() == Some("23505") => {
            Some(db.constraint().unwrap_or_default().to_string())
        }
        _ => None,
    }
}
