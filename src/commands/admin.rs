//! Sites, users and roles.

use super::{say, say_inline};
use std::io::BufRead;

use anyhow::{Context, Result, bail};

use super::Ctx;
use super::output::{table, thousands};
use crate::cli::{ListFormat, PasswordSource, SiteAction, UserAction};
use crate::db::{Db, sites, users};
use crate::domain::format::{counted, escape, escape_json};
use crate::domain::users::Role;
use crate::service::setup;

pub async fn site(ctx: &Ctx, action: SiteAction) -> Result<()> {
    let db = ctx.db().await?;
    match action {
        SiteAction::Add { name, description } => {
            let site = setup::add_site(&db, &name, description.as_deref()).await?;
            say!("added site {} (id {})", escape(&site.name), site.site_id)?;
        }
        SiteAction::List { format } => {
            let mut conn = db.pool.acquire().await?;
            let list = sites::list(&mut conn).await?;
            match format {
                ListFormat::Json => {
                    say!("{}", escape_json(serde_json::to_string_pretty(&list)?))?;
                }
                ListFormat::Table => {
                    let rows: Vec<Vec<String>> = list
                        .iter()
                        .map(|s| {
                            vec![
                                s.site_id.to_string(),
                                s.name.clone(),
                                if s.is_active { "active" } else { "inactive" }.into(),
                                thousands(s.interactions),
                                s.members.to_string(),
                            ]
                        })
                        .collect();
                    say_inline!(
                        "{}",
                        table(&["ID", "NAME", "STATUS", "INTERACTIONS", "MEMBERS"], &rows)
                    )?;
                }
            }
        }
        SiteAction::Deactivate { name } => site_set_active(&db, &name, false).await?,
        SiteAction::Activate { name } => site_set_active(&db, &name, true).await?,
        SiteAction::Delete {
            name,
            with_interactions,
        } => site_delete(&db, &name, with_interactions).await?,
    }
    Ok(())
}

/// `ifind site delete NAME [--with-interactions]`.
async fn site_delete(db: &Db, name: &str, with_interactions: bool) -> Result<()> {
    let mut tx = db.begin_as(None).await?;
    let site = find_site(&mut tx, name).await?;
    let shown = escape(&site.name);
    match sites::delete(&mut tx, site.site_id, with_interactions).await? {
        None => bail!(
            "the database refused: only a global administrator may delete sites; nothing was \
             changed"
        ),
        Some(held) if held < 0 => bail!(
            "site {shown} holds {}, so nothing was deleted; deactivate it to keep \
             them (`ifind site deactivate`), or add --with-interactions to delete them with it \
             (for good: they cannot be restored)",
            counted(-held, "interaction", "interactions")
        ),
        Some(held) => {
            tx.commit().await?;
            if held == 0 {
                say!("deleted site {shown} (it held no interactions)")?;
            } else {
                say!(
                    "deleted site {shown} and its {}",
                    counted(held, "interaction", "interactions")
                )?;
            }
        }
    }
    Ok(())
}

pub async fn user(ctx: &Ctx, action: UserAction) -> Result<()> {
    let db = ctx.db().await?;
    match action {
        UserAction::Add {
            username,
            email,
            admin,
            password,
        } => user_add(&db, username, email, admin, &password).await,
        UserAction::List { format } => user_list(&db, format).await,
        UserAction::Deactivate { username } => user_set_active(&db, &username, false).await,
        UserAction::Activate { username } => user_set_active(&db, &username, true).await,
        UserAction::Passwd {
            username,
            reset,
            password,
        } => user_passwd(ctx, &db, &username, reset, &password).await,
    }
}

/// `ifind user add`: checks the name and the email, reads the new password, adds the user and
/// their database login (the first user of a database is its first global administrator),
/// through the same service as the terminal UI's first run.
async fn user_add(
    db: &Db,
    username: String,
    email: String,
    admin: bool,
    password: &PasswordSource,
) -> Result<()> {
    let new = setup::NewUser::checked(&username, &email, admin)?;
    // Said before the password is asked for, so that nobody types one in vain.
    {
        let mut conn = db.pool.acquire().await?;
        if users::by_name(&mut conn, &new.username).await?.is_some() {
            bail!(
                "a user named {:?} already exists; choose another name",
                new.username
            );
        }
    }
    let secret = read_new_password(password, None)?;
    let setup::Added { user, first } = setup::add_user(db, &new, &secret).await?;
    if first && !admin {
        say!(
            "added user {} (id {}) as the first global administrator",
            escape(&user.username),
            user.user_id
        )?;
    } else {
        say!(
            "added user {} (id {}){}",
            escape(&user.username),
            user.user_id,
            if user.is_global_admin {
                " as a global administrator"
            } else {
                ""
            }
        )?;
    }
    Ok(())
}

/// `ifind user list`.
async fn user_list(db: &Db, format: ListFormat) -> Result<()> {
    let mut conn = db.pool.acquire().await?;
    let list = users::list(&mut conn).await?;
    let counts = users::site_counts(&mut conn).await?;
    match format {
        ListFormat::Json => {
            say!("{}", escape_json(serde_json::to_string_pretty(&list)?))?;
        }
        ListFormat::Table => {
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|u| {
                    let n = counts
                        .iter()
                        .find(|(id, _)| *id == u.user_id)
                        .map(|(_, n)| *n)
                        .unwrap_or(0);
                    vec![
                        u.user_id.to_string(),
                        u.username.clone(),
                        u.email.clone(),
                        if u.is_active { "active" } else { "inactive" }.into(),
                        if u.is_global_admin { "yes" } else { "" }.into(),
                        if u.is_global_admin {
                            "all".into()
                        } else {
                            n.to_string()
                        },
                        u.last_login
                            .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                            .unwrap_or_else(|| "never".into()),
                    ]
                })
                .collect();
            say_inline!(
                "{}",
                table(
                    &[
                        "ID",
                        "USERNAME",
                        "EMAIL",
                        "STATUS",
                        "GLOBAL ADMIN",
                        "SITES",
                        "LAST LOGIN"
                    ],
                    &rows
                )
            )?;
        }
    }
    Ok(())
}

/// `ifind user deactivate`.
/// "activate" or "deactivate".
fn verb(active: bool) -> &'static str {
    if active { "activate" } else { "deactivate" }
}

/// `ifind user activate|deactivate NAME`; one already so is said to be, and nothing changes.
async fn user_set_active(db: &Db, username: &str, active: bool) -> Result<()> {
    let mut tx = db.begin_as(None).await?;
    let user = find_user(&mut tx, username).await?;
    let shown = escape(&user.username);
    if user.is_active == active {
        say!(
            "user {shown} was already {}; nothing changed",
            state_word(active)
        )?;
        return Ok(());
    }
    if !users::set_active(&mut tx, user.user_id, active).await? {
        bail!(
            "the database refused: only a global administrator may {} users; nothing was \
             changed",
            verb(active)
        );
    }
    tx.commit().await?;
    say!("{}d user {shown}", verb(active))?;
    Ok(())
}

/// `ifind site activate|deactivate NAME`; one already so is said to be, and nothing changes.
async fn site_set_active(db: &Db, name: &str, active: bool) -> Result<()> {
    let mut tx = db.begin_as(None).await?;
    let site = find_site(&mut tx, name).await?;
    let shown = escape(&site.name);
    if site.is_active == active {
        say!(
            "site {shown} was already {}; nothing changed",
            state_word(active)
        )?;
        return Ok(());
    }
    if !sites::set_active(&mut tx, site.site_id, active).await? {
        bail!(
            "the database refused: only a global administrator may {} sites; nothing was \
             changed",
            verb(active)
        );
    }
    tx.commit().await?;
    say!("{}d site {shown}", verb(active))?;
    Ok(())
}

/// "active" or "inactive".
fn state_word(active: bool) -> &'static str {
    if active { "active" } else { "inactive" }
}

/// `ifind user passwd`: the current password first (unless `--reset`), then the new one, from
/// the terminal or standard input.
async fn user_passwd(
    ctx: &Ctx,
    db: &Db,
    username: &str,
    reset: bool,
    password: &PasswordSource,
) -> Result<()> {
    let user = {
        let mut conn = db.pool.acquire().await?;
        find_user(&mut conn, username).await?
    };
    let mut stdin_lines = if password.password_stdin {
        Some(std::io::stdin().lock().lines())
    } else {
        None
    };
    if !reset {
        let current = match stdin_lines.as_mut() {
            Some(lines) => lines
                .next()
                .context("standard input ended before the current password")??,
            None => rpassword::prompt_password(format!("Current password for {}: ", user.username))
                .context("cannot read the password from the terminal; use --password-stdin")?,
        };
        if !ctx.password_is(db, &user.username, current).await? {
            bail!(
                "the current password is wrong; nothing was changed (an administrator \
                 can use --reset)"
            );
        }
    }
    let secret = match stdin_lines.as_mut() {
        Some(lines) => {
            let line = lines
                .next()
                .context("standard input ended before the new password")??;
            crate::password::check_new(&line).map_err(anyhow::Error::msg)?;
            line
        }
        None => read_new_password(password, Some(&user.username))?,
    };
    let mut tx = db.begin_as(None).await?;
    crate::db::logins::set_login(&mut tx, &user.username, &secret)
        .await
        .map_err(|e| refused(e, "change another user's password"))?;
    tx.commit().await?;
    say!("changed the password of {}", escape(&user.username))?;
    Ok(())
}

pub async fn grant(ctx: &Ctx, username: &str, site_name: &str, role: Role) -> Result<()> {
    let db = ctx.db().await?;
    let mut tx = db.begin_as(None).await?;
    let user = find_user(&mut tx, username).await?;
    let site = find_site(&mut tx, site_name).await?;
    users::grant(&mut tx, user.user_id, site.site_id, role)
        .await
        .map_err(|e| {
            refused(
                e,
                &format!(
                    "give roles at {} (site admins and global administrators do)",
                    site.name
                ),
            )
        })?;
    tx.commit().await?;
    say!(
        "{} is now {} at {}",
        escape(&user.username),
        role.as_str(),
        escape(&site.name)
    )?;
    Ok(())
}

pub async fn revoke(ctx: &Ctx, username: &str, site_name: &str) -> Result<()> {
    let db = ctx.db().await?;
    let mut tx = db.begin_as(None).await?;
    let user = find_user(&mut tx, username).await?;
    let site = find_site(&mut tx, site_name).await?;
    if !users::revoke(&mut tx, user.user_id, site.site_id).await? {
        bail!(
            "{} has no role at {} that you may change (site admins change their site's roles); \
             nothing was revoked",
            user.username,
            site.name
        );
    }
    tx.commit().await?;
    say!(
        "{} no longer has a role at {}",
        escape(&user.username),
        escape(&site.name)
    )?;
    Ok(())
}

/// The user named `name`, or an error that says how to list users.
pub async fn find_user(conn: &mut sqlx::PgConnection, name: &str) -> Result<users::User> {
    users::by_name(conn, name)
        .await?
        .with_context(|| no_user(name))
}

/// The site named `name`, or an error that says how to list sites.
pub async fn find_site(conn: &mut sqlx::PgConnection, name: &str) -> Result<sites::Site> {
    match sites::resolve(conn, name).await? {
        Ok(site) => Ok(site),
        Err(near) => bail!("{}{}", no_site(name), sites::did_you_mean(&near)),
    }
}

fn no_user(name: &str) -> String {
    format!("there is no user named {name:?}; `ifind user list` shows the users")
}

fn no_site(name: &str) -> String {
    format!("there is no site named {name:?}; `ifind site list` shows the sites")
}

/// A database refusal (permission, policy) as the sentence a person needs; other errors as
/// they are.
fn refused(e: sqlx::Error, what: &str) -> anyhow::Error {
    if let sqlx::Error::Database(d) = &e
        && matches!(d.code().as_deref(), Some("42501"))
    {
        return anyhow::anyhow!(
            "the database refused: you may not {what}; nothing was changed ({})",
            d.message()
        );
    }
    e.into()
}

/// Reads a new password from stdin (one line) or from a no-echo prompt, asked twice.
fn read_new_password(source: &PasswordSource, username: Option<&str>) -> Result<String> {
    let secret = if source.password_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from standard input")?;
        line.trim_end_matches(['\n', '\r']).to_string()
    } else {
        let who = username.map(|u| format!(" for {u}")).unwrap_or_default();
        let first = rpassword::prompt_password(format!("New password{who}: "))
            .context("cannot read the password from the terminal; use --password-stdin")?;
        setup::check_password(&first)?;
        let again = rpassword::prompt_password("Repeat the password: ")
            .context("cannot read the password from the terminal; use --password-stdin")?;
        if first != again {
            bail!("the two passwords differ; nothing was changed, try again");
        }
        first
    };
    setup::check_password(&secret)?;
    Ok(secret)
}
