//! `ifind demo`: the embedded cluster, a demo database of realistic data, and the Finder logged
//! in as a demo administrator.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};

use super::Ctx;
use crate::app::db_backend::DbSearchBackend;
use crate::app::drafts::DraftStore;
use crate::app::run::{Options, run};
use crate::app::state::{Session, Settings};
use crate::db::{Db, sites, users};
use crate::ui::theme::Theme;

/// The demo's own database in the embedded cluster, so demo data never mixes with real data.
pub const DEMO_DATABASE: &str = "ifind_demo";
const DEMO_USER: &str = "demo";

pub async fn demo(ctx: &Ctx) -> Result<()> {
    let url = match ctx.config.database_url() {
        Some(_) => anyhow::bail!(
            "`ifind demo` uses the embedded cluster, but a database URL is configured; unset \
             IFIND_DATABASE_URL (and database.url) to run the demo"
        ),
        None => super::dbcmd::embedded_url(ctx, DEMO_DATABASE).await?,
    };
    // The data is made as the owner; the Finder runs on the application role, as in real use.
    let db = crate::db::pool::connect(&url, &ctx.config.database).await?;
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
    let app =
        crate::db::logins::connect_as(&url, DEMO_USER, Some(DEMO_PASSWORD), &ctx.config.database)
            .await
            .map_err(|e| anyhow::anyhow!("cannot log in as the demo admin: {e}"))?;
    {
        let mut conn = app.pool.acquire().await?;
        crate::db::logins::session_start(&mut conn).await?;
    }
    let options = options(
        ctx,
        Session {
            user: DEMO_USER.into(),
            site_id,
            site: site_name,
            role: "admin".into(),
        },
        &app,
    );
    let mut options = options;
    options.sites = Some((user_id, demo_sites));
    let backend = Arc::new(DbSearchBackend::new(app, Some(user_id)));
    run(backend, options).await
}

/// The terminal UI's options from the config, starting on `session` (the Finder's session, or
/// a placeholder before a login), keeping drafts apart per database.
pub(super) fn options(ctx: &Ctx, session: Session, db: &Db) -> Options {
    let database = db
        .pool
        .connect_options()
        .get_database()
        .unwrap_or("default")
        .to_string();
    let search = &ctx.config.search;
    Options {
        session,
        settings: Settings {
            debounce: Duration::from_millis(search.debounce_ms),
            page_size: i64::from(search.page_size),
            count_cap: i64::from(search.count_cap),
            rank_window: i64::from(search.rank_window),
            query_timeout: Duration::from_millis(ctx.config.database.query_timeout_ms),
            ..Settings::default()
        },
        keymap: ctx.config.keymap(),
        theme: Theme::from_env(ctx.config.ui.theme),
        mouse: ctx.config.ui.mouse,
        drafts: DraftStore::new(drafts_dir(ctx, &database)),
        sites: None,
        listen: Some(db.clone()),
        reads: None,
    }
}

/// Where drafts of forms on `database` are kept: one directory per database name, so the demo's
/// drafts never meet real ones.
fn drafts_dir(ctx: &Ctx, database: &str) -> std::path::PathBuf {
    let name: String = database
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    ctx.paths.state_dir.join("drafts").join(name)
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
        eprintln!("ifind demo: creating the demo database (a few seconds, once)...");
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
