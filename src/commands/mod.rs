//! Command dispatch: parse arguments, load config, start logging, run one command.
//!
//! Exit codes: 0 success, 1 runtime failure, 2 usage error. Errors go to stderr in one or two
//! plain sentences that name the cause and the fix.

mod admin;
mod audit;
mod data;
mod dbcmd;
mod demo;
mod health;
mod lifecycle;
mod output;

use std::io::IsTerminal;

use anyhow::{Context, Result};
use clap::Parser;

use crate::cli::{Cli, Command};
use crate::config::{Config, Paths};
use crate::db::Db;

/// What every command gets: the configuration and where things live.
pub struct Ctx {
    pub config: Config,
    pub paths: Paths,
    pub acting_user: Option<String>,
}

/// Runs the command line and returns the process exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    let paths = Paths::platform();
    let config = match Config::load(cli.config.as_deref(), &paths) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("ifind: {e}");
            return 2;
        }
    };
    let log_dir = if config.log.dir.trim().is_empty() {
        paths.state_dir.clone()
    } else {
        config.log.dir.clone().into()
    };
    let (_log, log_problem) = crate::logging::init(&log_dir, &config.log.level);
    if let Some(problem) = log_problem {
        eprintln!("ifind: note: {problem}");
    }
    tracing::info!(version = env!("CARGO_PKG_VERSION"), command = ?cli.command, "start");
    let ctx = Ctx {
        config,
        paths,
        acting_user: cli.acting_user,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ifind: cannot start the async runtime: {e}");
            return 1;
        }
    };
    let result = runtime.block_on(run(&ctx, cli.command));
    match result {
        Ok(()) => 0,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("ifind: {}", message(&e));
            1
        }
    }
}

/// The user-facing text of an error: its outermost message, then causes not already in it.
fn message(e: &anyhow::Error) -> String {
    let mut text = e.to_string();
    for cause in e.chain().skip(1) {
        let c = cause.to_string();
        if !text.contains(&c) {
            text.push_str(": ");
            text.push_str(&c);
        }
    }
    text
}

async fn run(ctx: &Ctx, command: Option<Command>) -> Result<()> {
    match command {
        None => tui(ctx).await,
        Some(Command::Demo) => demo::demo(ctx).await,
        Some(Command::Migrate) => dbcmd::migrate(ctx).await,
        Some(Command::Db { action }) => dbcmd::db(ctx, action).await,
        Some(Command::Site { action }) => admin::site(ctx, action).await,
        Some(Command::User { action }) => admin::user(ctx, action).await,
        Some(Command::Grant { user, site, role }) => admin::grant(ctx, &user, &site, role).await,
        Some(Command::Revoke { user, site }) => admin::revoke(ctx, &user, &site).await,
        Some(Command::Search(args)) => data::search(ctx, args).await,
        Some(Command::Import { file, site }) => data::import(ctx, &file, &site).await,
        Some(Command::Export {
            site,
            query,
            format,
            output,
        }) => data::export(ctx, &site, query.as_deref(), format, output.as_deref()).await,
        Some(Command::Trash { site, format }) => lifecycle::list(ctx, &site, format).await,
        Some(Command::Restore { id, site }) => lifecycle::restore(ctx, id, &site).await,
        Some(Command::Purge { dry_run }) => lifecycle::purge(ctx, dry_run).await,
        Some(Command::Archive { dry_run, batch }) => lifecycle::archive(ctx, dry_run, batch).await,
        Some(Command::Erase { lead, dry_run }) => lifecycle::erase_lead(ctx, &lead, dry_run).await,
        Some(Command::Audit(args)) => audit::audit(ctx, args).await,
        Some(Command::Health { format }) => health::health(ctx, format).await,
        Some(Command::Seed {
            sites,
            interactions,
            seed,
        }) => data::seed(ctx, sites, interactions, seed).await,
    }
}

/// `ifind` with no subcommand: Login, then the Site picker, then the Finder.
async fn tui(ctx: &Ctx) -> Result<()> {
    let db = ctx.db().await?;
    let mut conn = db.pool.acquire().await?;
    let users = crate::db::users::count(&mut conn).await?;
    drop(conn);
    if users == 0 {
        anyhow::bail!(
            "no users yet: create the first administrator with `ifind user add NAME --email \
             ADDRESS`"
        );
    }
    let placeholder = crate::app::state::Session {
        user: String::new(),
        site_id: 0,
        site: String::new(),
        role: String::new(),
    };
    let start = crate::app::run::LoginStart {
        login: std::sync::Arc::new(crate::app::db_backend::DbLoginBackend { db: db.clone() }),
        last_site_file: ctx.paths.state_dir.join("last_site"),
    };
    let options = demo::options(ctx, placeholder, &db);
    let backend = std::sync::Arc::new(crate::app::db_backend::DbSearchBackend::new(db, None));
    crate::app::run::run_with_login(backend, start, options).await
}

impl Ctx {
    /// Connects to the configured database, or to the embedded cluster's main database.
    pub async fn db(&self) -> Result<Db> {
        let url = match self.config.database_url() {
            Some(url) => url.to_string(),
            None => dbcmd::embedded_url(self, "ifind").await?,
        };
        crate::db::pool::connect(&url, &self.config.database).await
    }

    /// The acting user for commands that write: `--as USER`, or the first global admin.
    pub async fn acting_user(&self, db: &Db) -> Result<crate::db::users::User> {
        let mut conn = db.pool.acquire().await?;
        match &self.acting_user {
            Some(name) => crate::db::users::by_name(&mut conn, name)
                .await?
                .filter(|u| u.is_active)
                .with_context(|| {
                    format!("no active user named {name:?}; check --as (or IFIND_USER)")
                }),
            None => crate::db::users::first_global_admin(&mut conn)
                .await?
                .context(
                    "there is no administrator yet; create one with `ifind user add NAME --email \
                     ADDRESS` (the first user becomes a global administrator)",
                ),
        }
    }
}

/// Whether progress bars may be drawn (stderr is a terminal).
pub fn interactive() -> bool {
    std::io::stderr().is_terminal()
}
