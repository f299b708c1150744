//! Starting the terminal UI: its options from the configuration, then the Login (`ifind`) or
//! a person already logged in (`ifind demo`). The commands decide where to connect; this is the
//! one place outside `app` and `ui` that names them, so that `commands` never does.

use crate::domain::users::Role;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;

use crate::app::db_backend::{DbSearchBackend, PgLoginBackend, PgSetupBackend};
use crate::app::drafts::DraftStore;
use crate::app::runner::Revive;
use crate::app::state::{Session, Settings};
use crate::config::{Config, Paths};
use crate::db::Db;
use crate::db::sites::SiteChoice;
use crate::ui::theme::Theme;
use run::{LoginStart, Options};

pub mod run;
pub mod signals;

/// `ifind` with no subcommand: Login, then the Site picker, then the Finder, on the database of
/// `url` (the login puts the user's own role in it; see [`crate::db::logins`]).
pub async fn run_with_login(
    config: &Config,
    paths: &Paths,
    url: String,
    revive: Option<Revive>,
    setup: Option<Db>,
) -> Result<()> {
    let placeholder = Session {
        user: String::new(),
        site_id: 0,
        site: String::new(),
        role: Role::Viewer,
    };
    let login = PgLoginBackend::new(url.clone(), config.database.db_options())?
        .with_read_urls(config.database.read_urls.clone());
    let start = LoginStart {
        login: Arc::new(login),
        login_file: paths.state_dir.join(crate::app::remember::FILE_NAME),
        setup: setup.map(|owner| {
            Arc::new(PgSetupBackend::new(owner)) as Arc<dyn crate::app::runner::SetupBackend>
        }),
    };
    let idle = crate::db::pool::connect_lazy(&url, &config.database.db_options())?;
    let mut options = options(config, paths, placeholder, &idle);
    // Live updates listen on the user's own connection once they have logged in.
    options.listen = None;
    options.revive = revive;
    let backend = Arc::new(DbSearchBackend::new(idle, None));
    run::run_with_login(backend, start, options).await
}

/// Who the Finder runs as when there is no login (the demo): the user on `db`, the site it
/// starts on, and the sites `s` switches between.
pub struct Person {
    pub user_id: i32,
    pub user: String,
    pub role: Role,
    pub site_id: i32,
    pub site: String,
    pub sites: Vec<SiteChoice>,
}

/// The Finder on `db` as `person`, without a login.
pub async fn run_as(
    config: &Config,
    paths: &Paths,
    db: Db,
    person: Person,
    revive: Option<Revive>,
) -> Result<()> {
    let mut options = options(
        config,
        paths,
        Session {
            user: person.user,
            site_id: person.site_id,
            site: person.site,
            role: person.role,
        },
        &db,
    );
    options.sites = Some((person.user_id, person.sites));
    options.revive = revive;
    let backend = Arc::new(DbSearchBackend::new(db, Some(person.user_id)));
    run::run(backend, options).await
}

/// The terminal UI's options from the config, starting on `session` (the Finder's session, or
/// a placeholder before a login), keeping drafts apart per database.
fn options(config: &Config, paths: &Paths, session: Session, db: &Db) -> Options {
    let database = db
        .pool
        .connect_options()
        .get_database()
        .unwrap_or("default")
        .to_string();
    let search = &config.search;
    Options {
        session,
        settings: Settings {
            debounce: Duration::from_millis(search.debounce_ms),
            page_size: i64::from(search.page_size),
            count_cap: i64::from(search.count_cap),
            query_timeout: Duration::from_millis(config.database.query_timeout_ms),
            display_zone: config.display_zone(),
            ..Settings::default()
        },
        keymap: config.keymap(),
        theme: Theme::from_env(config.ui.theme),
        mouse: config.ui.mouse,
        drafts: DraftStore::new(drafts_dir(paths, &database)),
        sites: None,
        listen: Some(db.clone()),
        reads: None,
        revive: None,
    }
}

/// Where drafts of forms on `database` are kept: one directory per database name, so the demo's
/// drafts never meet real ones.
fn drafts_dir(paths: &Paths, database: &str) -> std::path::PathBuf {
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
    paths.state_dir.join("drafts").join(name)
}
