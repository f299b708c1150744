//! `ifind demo`: the embedded cluster, a demo database of realistic data, and the Finder logged
//! in as a demo administrator.

use crate::domain::users::Role;
use anyhow::{Context, Result};

use super::Ctx;
use crate::db::{Db, sites, users};

/// The demo's own database in the embedded cluster, so demo data never mixes with real data.
pub const DEMO_DATABASE: &str = "ifind_demo";
const DEMO_USER: &str = "demo";

pub async fn demo(ctx: &Ctx) -> Result<()> {
    let url = demo_url(ctx).await?;
    // The data is made as the owner; the Finder runs on the application role, as in real use.
    let db = crate::db::pool::connect(&url, &ctx.config.database.db_options()).await?;
    let user_id = ensure_demo_data(&db).await?;
    // The largest site makes the best first impression.
    let (site_id, site_name): (i32, String) = sqlx::query_as(
        "SELECT s.site_id, s.name FROM sites s JOIN interactions i USING (site_id) \
         GROUP BY s.site_id, s.name ORDER BY count(*) DESC, s.site_id LIMIT 1",
    )
    .fetch_one(&db.pool)
    .await
    .context("the demo database has no interactions; drop it to let `ifind demo` rebuild it")?;
    let mut conn = db.pool.acquire().await?;
    let demo_sites = sites::for_user(&mut conn, user_id, true).await?;
    drop(conn);
    db.pool.close().await;
    // The Finder runs as the demo admin's own database role, as a real login does.
    let app = crate::db::logins::connect_as(
        &url,
        DEMO_USER,
        Some(DEMO_PASSWORD),
        &ctx.config.database.db_options(),
    )
    .await
    .map_err(|e| anyhow::anyhow!("cannot log in as the demo admin: {e}"))?;
    {
        let mut conn = app.pool.acquire().await?;
        crate::db::logins::session_start(&mut conn).await?;
    }
    crate::tui::run_as(
        &ctx.config,
        &ctx.paths,
        app,
        crate::tui::Person {
            user_id,
            user: DEMO_USER.into(),
            role: Role::Admin,
            site_id,
            site: site_name,
            sites: demo_sites,
        },
        super::dbcmd::revive(ctx)?,
    )
    .await
}

/// The demo database's URL (as the owner), the embedded cluster started and the database made
/// if need be; refused when a database URL is configured (the demo never goes there).
async fn demo_url(ctx: &Ctx) -> Result<String> {
    match ctx.config.database_url() {
        Some(_) => anyhow::bail!(
            "the demo uses the embedded cluster, but a database URL is configured; unset \
             IFIND_DATABASE_URL (and database.url) to use the demo"
        ),
        None => super::dbcmd::embedded_url(ctx, DEMO_DATABASE).await,
    }
}

/// For a command run with `--demo`: the demo database filled as `ifind demo` fills it, on first
/// use (saying so on standard error).
pub async fn prepare(ctx: &Ctx) -> Result<()> {
    let url = demo_url(ctx).await?;
    let db = crate::db::pool::connect(&url, &ctx.config.database.db_options()).await?;
    let filled = ensure_demo_data(&db).await;
    db.pool.close().await;
    filled.map(|_| ())
}

/// The demo admin's password: the demo is a local, one-person database.
const DEMO_PASSWORD: &str = "demo-password";

/// Creates the demo admin and a few sites of data on first use; returns the demo user's id.
async fn ensure_demo_data(db: &Db) -> Result<i32> {
    let mut conn = db.pool.acquire().await?;
    let existing = users::by_name(&mut conn, DEMO_USER).await?;
    let has_sites = !sites::list(&mut conn).await?.is_empty();
    drop(conn);
    if !has_sites {
        eprintln!("ifind: creating the demo database (a few seconds, once)...");
        let opts = crate::seed::SeedOptions {
            sites: 6,
            interactions: 5000,
            seed: 2026,
        };
        crate::seed::seed(db, &opts, &|_, _| {}).await?;
    }
    let mut tx = db.begin_as(None).await?;
    let user = match existing {
        Some(user) => user,
        None => users::add(&mut tx, DEMO_USER, "demo@example.org", true).await?,
    };
    // Its own login role (made once; a demo database from before login roles gets it now).
    let has_role: bool =
        sqlx::query_scalar("SELECT db_role IS NOT NULL FROM users WHERE user_id = $1")
            .bind(user.user_id)
            .fetch_one(&mut *tx)
            .await?;
    if !has_role {
        crate::db::logins::set_login(&mut tx, DEMO_USER, DEMO_PASSWORD).await?;
    }
    tx.commit().await?;
    Ok(user.user_id)
}
