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
mod reconnect;
mod usage;

use std::io::IsTerminal;

use anyhow::{Context, Result, bail};

use crate::cli::Command;
use crate::config::{Config, Paths};
use crate::db::Db;

/// `println!` that hands back a failed write instead of panicking: a closed pipe
/// (`ifind user list | head -1`) ends the command quietly with 0 (see [`main`]), a full disk is
/// an error that says so.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout(), $($arg)*)
            .map_err(|e| anyhow::Error::new(e).context("cannot write the output"))
    }};
}
pub(crate) use say;

/// [`say!`] without the line break (`print!`).
macro_rules! say_inline {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        write!(std::io::stdout(), $($arg)*)
            .map_err(|e| anyhow::Error::new(e).context("cannot write the output"))
    }};
}
pub(crate) use say_inline;

/// What every command gets: the configuration and where things live.
pub struct Ctx {
    pub config: Config,
    pub paths: Paths,
    pub acting_user: Option<String>,
    /// `--demo`: the commands work on the embedded cluster's demo database
    /// ([`demo::DEMO_DATABASE`]) instead of its main one.
    pub demo: bool,
    /// The password `--as` logged in with (kept for a second login of the same command and the
    /// read replicas' connections).
    pub password: std::sync::Mutex<Option<String>>,
}

/// Runs the command line and returns the process exit code.
pub fn main() -> i32 {
    let parsed = match usage::parse() {
        Ok(parsed) => parsed,
        Err(code) => return code,
    };
    let cli = parsed.cli;
    // Printing what the clap definitions say needs no configuration, log or database.
    match &cli.command {
        Some(Command::Completions { shell, .. }) => return usage::completions(*shell),
        Some(Command::Man { command, .. }) => return usage::man(command),
        _ => {}
    }
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
        // The terminal UI's screen cannot take log lines; a command's standard error can.
        let screen = matches!(cli.command, None | Some(Command::Demo));
        if screen {
            eprintln!("ifind: note: {problem}; logging is off while the screen is in use");
        } else {
            eprintln!("ifind: note: {problem}; logging to standard error instead");
            crate::logging::init_stderr(&config.log.level);
        }
    }
    // Only the command's name: its arguments hold queries, names to erase and the like, which
    // the log file must not keep (they reach it at debug level only).
    let command = command_name(cli.command.as_ref());
    tracing::info!(version = env!("CARGO_PKG_VERSION"), command, "start");
    tracing::debug!(arguments = ?cli.command, "start");
    let ctx = Ctx {
        config,
        paths,
        acting_user: parsed.acting_user,
        demo: parsed.demo,
        password: std::sync::Mutex::new(None),
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
        // The reader went away (`| head`): what it wanted it has; nothing failed.
        Err(e) if closed_output(&e) => 0,
        Err(e) => {
            // The message may quote what the person typed (a name, a query): the log file gets
            // it at debug level only; the person sees it on stderr.
            // A person's mistake (an unknown site, a bad file) is not the server's trouble:
            // only failures of the database or the machine are errors, which `ifind health`
            // counts.
            if is_fault(&e) {
                tracing::error!(command, "the command failed");
            } else {
                tracing::warn!(command, "the command was refused");
            }
            tracing::debug!("{e:#}");
            eprintln!("ifind: {}", message(&e));
            1
        }
    }
}

/// Whether `e` is a fault of the database, the embedded cluster or the machine (a lost or
/// refused connection, a timeout, an I/O error) rather than a refusal of what was asked (an
/// unknown name, a bad file, a rule of the data).
fn is_fault(e: &anyhow::Error) -> bool {
    use crate::domain::failure::Kind;
    e.chain().any(|cause| {
        if let Some(db) = cause.downcast_ref::<sqlx::Error>() {
            return matches!(
                crate::db::failure::classify(db),
                Kind::Connection | Kind::Timeout | Kind::Replica
            );
        }
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind::{InvalidData, InvalidInput, NotFound, PermissionDenied};
            return !matches!(
                io.kind(),
                NotFound | PermissionDenied | InvalidInput | InvalidData
            );
        }
        cause
            .downcast_ref::<crate::db::cluster::ClusterError>()
            .is_some()
            || cause
                .downcast_ref::<crate::db::pool::Unreachable>()
                .is_some()
    })
}

/// Whether `e` is a write to a pipe whose reader has gone: an I/O error of the command itself
/// (not one from the database driver, which wraps its own).
fn closed_output(e: &anyhow::Error) -> bool {
    e.downcast_ref::<std::io::Error>()
        .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
}

/// The subcommand's name as the log shows it (`Search`, `Erase`, ... or `Tui`), without its
/// arguments: the first word of its `Debug` form, which is the variant's name.
fn command_name(command: Option<&Command>) -> String {
    match command {
        None => "Tui".to_string(),
        Some(c) => format!("{c:?}")
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .collect(),
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
    if ctx.demo {
        // `ifind --demo` alone is `ifind demo`; a command fills the demo database first.
        if command.is_none() {
            return demo::demo(ctx).await;
        }
        demo::prepare(ctx).await?;
    }
    match command {
        None => tui(ctx).await,
        // Printed in `main` before the configuration is read.
        Some(Command::Completions { .. } | Command::Man { .. }) => Ok(()),
        Some(Command::Demo) => demo::demo(ctx).await,
        Some(Command::Migrate) => dbcmd::migrate(ctx).await,
        Some(Command::Db { action }) => dbcmd::db(ctx, action).await,
        Some(Command::Site { action, .. }) => admin::site(ctx, action).await,
        Some(Command::User { action, .. }) => admin::user(ctx, action).await,
        Some(Command::Grant {
            user, site, role, ..
        }) => admin::grant(ctx, &user, &site, role).await,
        Some(Command::Revoke { user, site, .. }) => admin::revoke(ctx, &user, &site).await,
        Some(Command::Search(args)) => data::search(ctx, args).await,
        Some(Command::Import {
            file,
            site,
            again,
            update,
            ..
        }) => data::import(ctx, &file, &site, again, update).await,
        Some(Command::Export {
            site,
            query,
            format,
            output,
            ..
        }) => {
            data::export(
                ctx,
                site.as_deref(),
                query.as_deref(),
                format,
                output.as_deref(),
            )
            .await
        }
        Some(Command::Trash { site, format, .. }) => lifecycle::list(ctx, &site, format).await,
        Some(Command::Restore { id, site, .. }) => lifecycle::restore(ctx, id, &site).await,
        Some(Command::Purge { dry_run, .. }) => lifecycle::purge(ctx, dry_run).await,
        Some(Command::Retention { dry_run, batch, .. }) => {
            lifecycle::retention(ctx, dry_run, batch).await
        }
        Some(Command::Archive { dry_run, batch, .. }) => {
            lifecycle::archive(ctx, dry_run, batch).await
        }
        Some(Command::Erase { lead, dry_run, .. }) => {
            lifecycle::erase_lead(ctx, &lead, dry_run).await
        }
        Some(Command::Audit(args)) => audit::audit(ctx, args).await,
        Some(Command::Health { format, .. }) => health::health(ctx, format).await,
        Some(Command::Seed {
            sites,
            interactions,
            seed,
            ..
        }) => data::seed(ctx, sites, interactions, seed).await,
    }
}

/// `ifind` with no subcommand: Login, then the Site picker, then the Finder. The login connects
/// as the user's own database role (see [`crate::db::logins`]). On a database with no user yet,
/// the first run comes first, when the owner's connection may make login roles.
async fn tui(ctx: &Ctx) -> Result<()> {
    let (url, setup) = match ctx.login_target(EMBEDDED_DATABASE).await? {
        LoginTarget::Login(url) => (url, None),
        // The first-run screen needs a terminal; without one, the way to do it on the command
        // line.
        LoginTarget::FirstRun { owner, .. }
            if !(std::io::stdin().is_terminal() && std::io::stdout().is_terminal()) =>
        {
            owner.pool.close().await;
            bail!("{NO_USERS}")
        }
        LoginTarget::FirstRun { url, owner } => (url, Some(owner)),
    };
    if ctx.config.database_url().is_some() {
        ctx.preflight(&url).await?;
    }
    let revive = dbcmd::revive(ctx)?;
    dbcmd::spawn_daily_backup(ctx);
    crate::tui::run_with_login(&ctx.config, &ctx.paths, url, revive, setup).await
}

/// Where the owner and the application connections of one database go.
struct Urls {
    owner: String,
    app: String,
    /// The embedded cluster: ifind made both roles and lets the application role log in.
    embedded: bool,
}

impl Ctx {
    /// The owner connection (migrations, seed, import and the admin commands): the configured
    /// database (`database.owner_url`, else `database.url`), or the embedded cluster's main
    /// database. Brings the schema up to date when `database.auto_migrate` is on.
    pub async fn db(&self) -> Result<Db> {
        // A connection lost while connecting (the server restarting) is tried again for a while,
        // also while the server then refuses connections: it was there a moment ago. A server
        // that is simply not there is reported at once.
        let until = std::time::Instant::now() + reconnect::WAIT_FOR_SERVER;
        let mut pause = std::time::Duration::from_millis(100);
        let mut told = false;
        loop {
            let connected = match &self.acting_user {
                Some(name) => self.user_db(name, self.database()).await,
                None => self.owner_db().await,
            };
            match connected {
                Err(e) if (told || reconnect::is_lost(&e)) && std::time::Instant::now() < until => {
                    if !told {
                        eprintln!(
                            "the connection to the database was lost while connecting ({e:#}); \
                             trying again…"
                        );
                        told = true;
                    }
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(std::time::Duration::from_secs(2));
                }
                other => return other,
            }
        }
    }

    /// The read replicas of `database.read_urls` behind `primary`, None when there are none.
    /// Their pools connect lazily: a replica that is down is skipped, never an error.
    pub fn read_router(&self, primary: &Db) -> Result<Option<crate::db::replicas::ReadRouter>> {
        let urls = &self.config.database.read_urls;
        if urls.is_empty() {
            return Ok(None);
        }
        if self.config.database_url().is_none() {
            tracing::warn!("database.read_urls is ignored: the embedded cluster has no replicas");
            return Ok(None);
        }
        // A user logged in with --as reads the replicas as themselves too.
        let urls: Vec<String> = match &self.acting_user {
            Some(name) => {
                let password = self.password.lock().ok().and_then(|p| p.clone());
                urls.iter()
                    .map(|u| {
                        let role =
                            crate::db::logins::role_name(&crate::db::logins::database_of(u), name);
                        crate::db::logins::url_with_user(u, &role, password.as_deref())
                    })
                    .collect()
            }
            None => urls.clone(),
        };
        let router = crate::db::replicas::ReadRouter::connect(
            primary.clone(),
            &urls,
            &self.config.database.db_options(),
        )?;
        Ok(Some(router))
    }

    /// The owner connection; see [`Ctx::db`].
    pub async fn owner_db(&self) -> Result<Db> {
        let urls = self.urls(self.database()).await?;
        owner_connect(&urls, &self.config.database.db_options()).await
    }

    /// The application connection (the TUI, `ifind search`, `ifind export`): `database.url`,
    /// or the embedded cluster's main database as `ifind_app`. The schema is brought up to date
    /// through the owner first (when `database.auto_migrate` is on), and the connection's role
    /// must pass [`crate::db::roles::check_app_role`]: ifind refuses to act for users on a role
    /// that row-level security would not hold.
    pub async fn app_db(&self) -> Result<Db> {
        self.app_db_on(self.database()).await
    }

    /// The connection of `search` and `export`: [`Ctx::app_db`] when it is a user's own
    /// (`--as`, or a `database.url` that names an ifind user's role); else, where an owner
    /// connection is configured (the embedded cluster, `database.owner_url`), the owner's own,
    /// which reads as itself and names no user.
    pub async fn data_db(&self) -> Result<Db> {
        let db = self.app_db().await?;
        if self.acting_user.is_some() || self.logged_in(&db).await?.is_some() {
            return Ok(db);
        }
        let urls = self.urls(self.database()).await?;
        if urls.owner == urls.app {
            return Ok(db);
        }
        db.pool.close().await;
        self.owner_db().await
    }

    /// [`Ctx::app_db`] on `database` of the embedded cluster when no URL is configured.
    pub async fn app_db_on(&self, embedded_database: &str) -> Result<Db> {
        if let Some(name) = &self.acting_user {
            return self.user_db(name, embedded_database).await;
        }
        let urls = self.urls(embedded_database).await?;
        let mut cfg = self.config.database.db_options();
        if urls.owner != urls.app {
            if urls.embedded || cfg.auto_migrate {
                let mut once = cfg.clone();
                once.min_connections = 0;
                once.max_connections = 1;
                let owner = owner_connect(&urls, &once).await?;
                owner.pool.close().await;
            }
            cfg.auto_migrate = false;
        }
        // The role is checked before anything else touches the database, and again once the
        // schema is in place (with one URL for both, the migrations make that role the owner).
        let db = crate::db::pool::connect_unchecked(&urls.app, &cfg).await?;
        crate::db::roles::check_app_db(&db).await?;
        crate::db::pool::prepare_schema(&db, &cfg).await?;
        crate::db::roles::check_app_db(&db).await?;
        Ok(db)
    }

    /// The embedded cluster's database the commands work on: the main one, or with `--demo`
    /// the demo's.
    pub fn database(&self) -> &'static str {
        if self.demo {
            demo::DEMO_DATABASE
        } else {
            EMBEDDED_DATABASE
        }
    }

    async fn urls(&self, embedded_database: &str) -> Result<Urls> {
        match self.config.database_url() {
            Some(_) if self.demo => bail!(
                "--demo uses the demo database of the embedded cluster, but a database URL is \
                 configured; unset IFIND_DATABASE_URL (and database.url) to use it"
            ),
            Some(url) => Ok(Urls {
                owner: self.config.owner_url().unwrap_or(url).to_string(),
                app: url.to_string(),
                embedded: false,
            }),
            None => {
                let cluster = dbcmd::cluster(self)?;
                cluster.ensure_running().await?;
                cluster.ensure_database(embedded_database).await?;
                Ok(Urls {
                    owner: cluster.url(embedded_database),
                    app: cluster.url_as(crate::db::roles::APP_ROLE, embedded_database),
                    embedded: true,
                })
            }
        }
    }

    /// The user a command acts as: the ifind user the connection logged in as (`--as USER`,
    /// or a `database.url` that names a user's own role). On the owner's connection (the
    /// embedded cluster's OS account, or `database.owner_url`), the first active global admin
    /// is used where a row needs a person (an import's creator); the audit trail still names
    /// the owner, who did it.
    pub async fn acting_user(&self, db: &Db) -> Result<crate::db::users::User> {
        let mut conn = db.pool.acquire().await?;
        if let Some(user) = crate::db::logins::whoami(&mut conn).await? {
            return Ok(user);
        }
        if let Some(name) = &self.acting_user {
            bail!("{name:?} is not an active ifind user; check --as (or IFIND_USER)");
        }
        let owner: bool = sqlx::query_scalar("SELECT ifind_is_owner()")
            .fetch_one(&mut *conn)
            .await?;
        if !owner {
            let role: String = sqlx::query_scalar("SELECT session_user::text")
                .fetch_one(&mut *conn)
                .await?;
            bail!(
                "the database user {role:?} is not an ifind user; log in as one with --as NAME \
                 (or a database.url that names your own user)"
            );
        }
        crate::db::users::first_global_admin(&mut conn)
            .await?
            .context(
                "there is no administrator yet; create one with `ifind user add NAME --email \
                 ADDRESS` (the first user becomes a global administrator)",
            )
    }

    /// The ifind user `db` is logged in as; None for the owner's own connection.
    pub async fn logged_in(&self, db: &Db) -> Result<Option<crate::db::users::User>> {
        let mut conn = db.pool.acquire().await?;
        Ok(crate::db::logins::whoami(&mut conn).await?)
    }

    /// The URL a login connects to (its user is replaced by the one logging in), after
    /// bringing the schema up to date through the owner where ifind may (the embedded cluster,
    /// or `database.auto_migrate` with an owner URL). In the embedded cluster, a database with
    /// no user yet is refused with the way to make the first one.
    pub async fn login_url(&self, embedded_database: &str) -> Result<String> {
        match self.login_target(embedded_database).await? {
            LoginTarget::Login(url) => Ok(url),
            LoginTarget::FirstRun { owner, .. } => {
                owner.pool.close().await;
                bail!("{NO_USERS}")
            }
        }
    }

    /// Where the terminal UI starts: the login at the URL of [`Ctx::login_url`], or, on a
    /// database with no user yet whose owner connection may make login roles, the first run
    /// over that connection (else the message of [`Ctx::login_url`]).
    async fn login_target(&self, embedded_database: &str) -> Result<LoginTarget> {
        let urls = self.urls(embedded_database).await?;
        if urls.embedded || urls.owner != urls.app {
            let mut once = self.config.database.db_options();
            once.min_connections = 0;
            once.max_connections = 1;
            let owner = if urls.embedded || once.auto_migrate {
                owner_connect(&urls, &once).await?
            } else {
                crate::db::pool::connect_unchecked(&urls.owner, &once).await?
            };
            let any = {
                let mut conn = owner.pool.acquire().await?;
                crate::db::users::any_exist(&mut conn).await?
            };
            if !any {
                if crate::service::setup::first_run_possible(&owner).await? {
                    return Ok(LoginTarget::FirstRun {
                        url: urls.app,
                        owner,
                    });
                }
                owner.pool.close().await;
                bail!("{NO_USERS}");
            }
            owner.pool.close().await;
        }
        Ok(LoginTarget::Login(urls.app))
    }

    /// Before the terminal is touched: a configured URL that connects as it is (a password in
    /// it, a `.pgpass` entry, a trusted or certificate login) must be a role the policies hold
    /// ([`crate::db::roles::check_app_role`]); one that needs a password is left to the login;
    /// a server that cannot be reached is reported now. A URL with no credentials of its own
    /// is first asked about without a password ([`crate::db::logins::first_answer`]), so that
    /// starting ifind is never a failed login (the server may lock a name out after a few);
    /// over TCP with TLS it is then only checked to be reachable.
    async fn preflight(&self, url: &str) -> Result<()> {
        let mut once = self.config.database.db_options();
        once.min_connections = 0;
        once.max_connections = 1;
        let timeout = std::time::Duration::from_secs(once.connect_timeout_secs);
        // With no password of its own the probe would send an empty one: a failed login that
        // counts towards locking the name out. Ask how the server answers first.
        if !crate::db::logins::has_credentials(url) {
            use crate::db::logins::FirstAnswer;
            match tokio::time::timeout(timeout, crate::db::logins::first_answer(url)).await {
                Err(_) => bail!(
                    "cannot connect to the database at {}: no answer within {} s; check that \
                     the server is up and reachable (database.url or IFIND_DATABASE_URL)",
                    crate::db::pool::redact(url),
                    once.connect_timeout_secs
                ),
                Ok(Err(e)) => bail!(
                    "cannot connect to the database at {}: {e}; check database.url (or \
                     IFIND_DATABASE_URL) and that the server is running",
                    crate::db::pool::redact(url)
                ),
                // The password is asked at the login.
                Ok(Ok(FirstAnswer::WantsPassword | FirstAnswer::NotAsked)) => return Ok(()),
                Ok(Ok(FirstAnswer::LetsIn)) => {}
            }
        }
        let db = crate::db::pool::connect_lazy(url, &once)?;
        let result = tokio::time::timeout(timeout, db.pool.acquire()).await;
        let outcome = match result {
            Err(_) => Err(anyhow::anyhow!(
                "cannot connect to the database at {}: no answer within {} s; check that the \
                 server is up and reachable (database.url or IFIND_DATABASE_URL)",
                crate::db::pool::redact(url),
                once.connect_timeout_secs
            )),
            Ok(Err(e)) if crate::db::logins::is_auth_failure(&e) => Ok(()),
            Ok(Err(e)) => Err(anyhow::anyhow!(
                "cannot connect to the database at {}: {e}; check database.url (or \
                 IFIND_DATABASE_URL) and that the server is running",
                crate::db::pool::redact(url)
            )),
            Ok(Ok(mut conn)) => crate::db::roles::check_app_role(&mut conn)
                .await
                .map_err(anyhow::Error::from),
        };
        db.pool.close().await;
        outcome
    }

    /// Whether `password` is ifind user `username`'s: for a user from before login roles (no
    /// role yet), the Argon2id hash they had, which only the owner's connection `db` can read;
    /// else the database accepts it for their login role. The hash comes first, so a user
    /// without a role is never tried with a login that can only fail (and would count towards
    /// locking the name out).
    pub async fn password_is(&self, db: &Db, username: &str, password: String) -> Result<bool> {
        let legacy = {
            let mut conn = db.pool.acquire().await?;
            match crate::db::users::by_name(&mut conn, username).await? {
                Some(user) => crate::db::users::password_hash(&mut conn, user.user_id)
                    .await
                    .ok()
                    .flatten()
                    .filter(|stored| stored.starts_with("$argon2")),
                None => None,
            }
        };
        if let Some(stored) = legacy {
            return Ok(tokio::task::spawn_blocking(move || {
                crate::password::verify(&password, &stored)
            })
            .await?);
        }
        let url = self.login_url(self.database()).await?;
        match crate::db::logins::connect_as(
            &url,
            username,
            Some(&password),
            &self.config.database.db_options(),
        )
        .await
        {
            Ok(user_db) => {
                user_db.pool.close().await;
                Ok(true)
            }
            Err(crate::db::logins::LoginFailure::Invalid) => Ok(false),
            Err(e @ crate::db::logins::LoginFailure::LockedOut(_)) => bail!("{e}"),
            Err(crate::db::logins::LoginFailure::Unavailable(e)) => bail!("{e}"),
        }
    }

    /// A connection as ifind user `name`, authenticated by the database: the password comes
    /// from `IFIND_PASSWORD`, else a prompt on the terminal, else PGPASSWORD, a `.pgpass`
    /// entry or whatever pg_hba.conf accepts (a certificate, GSSAPI, peer).
    pub async fn user_db(&self, name: &str, embedded_database: &str) -> Result<Db> {
        let url = self.login_url(embedded_database).await?;
        // A command that logs in twice (its owner's and its application's view are both the
        // user's own for a login) asks for the password once.
        let typed = self.password.lock().ok().and_then(|kept| kept.clone());
        let password = match std::env::var("IFIND_PASSWORD") {
            Ok(p) => Some(p),
            Err(_) if typed.is_some() => typed,
            Err(_) if std::io::stdin().is_terminal() => Some(
                rpassword::prompt_password(format!("Password for {name}: "))
                    .context("cannot read the password from the terminal; set IFIND_PASSWORD")?,
            ),
            Err(_) => None,
        };
        match crate::db::logins::connect_as(
            &url,
            name,
            password.as_deref(),
            &self.config.database.db_options(),
        )
        .await
        {
            Ok(db) => {
                if let Ok(mut kept) = self.password.lock() {
                    *kept = password;
                }
                Ok(db)
            }
            Err(crate::db::logins::LoginFailure::Invalid) => bail!(
                "invalid username or password for {name:?}; check --as (or IFIND_USER) and the \
                 password (typed, IFIND_PASSWORD, or your .pgpass)"
            ),
            // "too many attempts; try again in N s", for any name.
            Err(e @ crate::db::logins::LoginFailure::LockedOut(_)) => bail!("{e}"),
            Err(crate::db::logins::LoginFailure::Unavailable(e)) => bail!("{e}"),
        }
    }
}

/// The embedded cluster's main database.
const EMBEDDED_DATABASE: &str = "ifind";

/// What a login on a database without users is told (where the first run cannot be offered).
const NO_USERS: &str =
    "no users yet: create the first administrator with `ifind user add NAME --email ADDRESS`";

/// Where the terminal UI starts ([`Ctx::login_target`]).
enum LoginTarget {
    /// The Login, at this URL.
    Login(String),
    /// The first run over the owner's connection, then the Login at `url`.
    FirstRun { url: String, owner: Db },
}

/// Connects as the owner (migrating when configured to); in the embedded cluster also lets the
/// application role log in.
async fn owner_connect(urls: &Urls, cfg: &crate::db::DbOptions) -> Result<Db> {
    let db = crate::db::pool::connect(&urls.owner, cfg).await?;
    if urls.embedded {
        let mut conn = db.pool.acquire().await?;
        crate::db::roles::enable_app_login(&mut conn)
            .await
            .context("cannot let the ifind_app role log in to the embedded cluster")?;
    }
    Ok(db)
}

/// Whether progress bars may be drawn (stderr is a terminal).
pub fn interactive() -> bool {
    std::io::stderr().is_terminal()
}
