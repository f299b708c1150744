//! Configuration: an embedded default plus the user's TOML file, validated before anything else
//! happens. An unknown key or a bad value is an error naming the file, line and key.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};

use chrono_tz::Tz;
use serde::{Deserialize, Deserializer};

use crate::app::keymap::{KeyMap, KeysError};
use crate::db::DbOptions;
use crate::ui::theme::ThemeName;

/// The whole configuration. Every key is documented with its default in `config.example.toml`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub database: DatabaseConfig,
    pub embedded: EmbeddedConfig,
    pub search: SearchConfig,
    pub log: LogConfig,
    pub ui: UiConfig,
    pub retention: RetentionConfig,
    pub backup: BackupConfig,
    /// Key bindings that replace the defaults: an action name (see [`Action::name`]) to its
    /// keys, e.g. `move_down = ["j", "down"]`. Validated at load time; see [`Config::keymap`].
    pub keys: BTreeMap<String, Vec<String>>,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// PostgreSQL URL; empty means the embedded cluster. `IFIND_DATABASE_URL` or `DATABASE_URL`
    /// override it.
    pub url: String,
    /// Read replicas for Finder searches (writes stay on `url`). `IFIND_READ_URLS` (URLs
    /// separated by commas) overrides it.
    pub read_urls: Vec<String>,
    /// A replica further behind the primary than this (milliseconds) is skipped for the primary.
    pub max_replica_lag_ms: u64,
    /// Owner connection for migrations and admin commands on remote setups; empty = `url`.
    pub owner_url: String,
    pub min_connections: u32,
    pub max_connections: u32,
    pub connect_timeout_secs: u64,
    pub idle_timeout_secs: u64,
    pub max_lifetime_secs: u64,
    /// Server-side bound on any one statement, in milliseconds (0 = none).
    pub statement_timeout_ms: u64,
    /// Apply pending forward-only migrations at startup.
    pub auto_migrate: bool,
    /// Client-side bound on any one database operation of the terminal UI, in milliseconds
    /// (0 = none): a stalled network fails within it with a clear message.
    pub query_timeout_ms: u64,
}

impl DatabaseConfig {
    /// What the database layer needs of this section (the URLs and the terminal UI's own
    /// client-side bound stay here).
    pub fn db_options(&self) -> DbOptions {
        DbOptions {
            min_connections: self.min_connections,
            max_connections: self.max_connections,
            connect_timeout_secs: self.connect_timeout_secs,
            idle_timeout_secs: self.idle_timeout_secs,
            max_lifetime_secs: self.max_lifetime_secs,
            statement_timeout_ms: self.statement_timeout_ms,
            auto_migrate: self.auto_migrate,
            max_replica_lag_ms: self.max_replica_lag_ms,
        }
    }
}

/// The default of `database.query_timeout_ms` (the terminal UI's).
pub use crate::app::state::DEFAULT_QUERY_TIMEOUT_MS;

impl Default for DatabaseConfig {
    fn default() -> Self {
        // The pools' defaults are db's own (written once, in DbOptions::default).
        let db = DbOptions::default();
        DatabaseConfig {
            url: String::new(),
            read_urls: Vec::new(),
            max_replica_lag_ms: db.max_replica_lag_ms,
            owner_url: String::new(),
            min_connections: db.min_connections,
            max_connections: db.max_connections,
            connect_timeout_secs: db.connect_timeout_secs,
            idle_timeout_secs: db.idle_timeout_secs,
            max_lifetime_secs: db.max_lifetime_secs,
            statement_timeout_ms: db.statement_timeout_ms,
            auto_migrate: db.auto_migrate,
            query_timeout_ms: DEFAULT_QUERY_TIMEOUT_MS,
        }
    }
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct EmbeddedConfig {
    /// Directory holding initdb, pg_ctl and postgres; empty = `pg_config --bindir`, then the
    /// newest `/usr/lib/postgresql/*/bin`.
    pub bindir: String,
    /// Where the cluster lives; empty = the platform data dir (`~/.local/share/ifind/pg`).
    pub data_dir: String,
    /// The unprivileged OS user that runs the server when ifind runs as root.
    pub os_user: String,
    /// Used instead of `data_dir` when running as root and `os_user` cannot reach `data_dir`.
    pub fallback_dir: String,
    /// Stop the cluster when ifind exits (it keeps running by default, so starts are instant).
    pub stop_on_exit: bool,
    /// Consecutive failed password logins after which a user name is locked out, when the
    /// server has ifind's `ifind_auth` module (0: no lockout).
    pub login_max_failures: u32,
    /// How long a locked-out user name is refused, in seconds.
    pub login_lockout_secs: u32,
}

impl Default for EmbeddedConfig {
    fn default() -> Self {
        EmbeddedConfig {
            bindir: String::new(),
            data_dir: String::new(),
            os_user: "postgres".into(),
            fallback_dir: "/var/lib/ifind/pg".into(),
            stop_on_exit: false,
            login_max_failures: 5,
            login_lockout_secs: 300,
        }
    }
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SearchConfig {
    /// Rows per page (keyset pagination).
    pub page_size: u32,
    /// Match counts above this are shown as "N+".
    pub count_cap: u32,
    /// While a search runs, the delay after the last keystroke before the next is sent, in
    /// milliseconds (a key typed while none runs is searched at once); 0: at once, the stale
    /// search cancelled.
    pub debounce_ms: u64,
    /// No longer used (relevance is exact over every match since schema 1.15); accepted so that
    /// configuration files written before still load.
    pub rank_window: Option<u32>,
}

impl Default for SearchConfig {
    fn default() -> Self {
        SearchConfig {
            page_size: 50,
            count_cap: 1000,
            debounce_ms: 0,
            rank_window: None,
        }
    }
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// error, warn, info, debug, trace or off.
    pub level: String,
    /// Log directory; empty = the platform state dir (`~/.local/state/ifind`).
    pub dir: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            level: "info".into(),
            dir: String::new(),
        }
    }
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct UiConfig {
    /// dark, light or terminal; `NO_COLOR` in the environment turns colour off whatever this says.
    #[serde(deserialize_with = "theme_name")]
    pub theme: ThemeName,
    /// Capture the mouse (wheel and clicks); false leaves the terminal's own text selection.
    pub mouse: bool,
    /// The IANA zone every time is shown in (times in another zone carry its name); empty = the
    /// machine's ([`machine_zone`]).
    pub timezone: String,
}

impl Default for UiConfig {
    fn default() -> Self {
        UiConfig {
            theme: ThemeName::Dark,
            mouse: true,
            timezone: String::new(),
        }
    }
}

/// The machine's timezone: `TZ` when it names an IANA zone, else `/etc/timezone`, else the zone
/// `/etc/localtime` links to, else UTC ([`crate::domain::interaction::zone_from`]).
pub fn machine_zone() -> Tz {
    let tz = std::env::var("TZ").ok();
    let etc_timezone = std::fs::read_to_string("/etc/timezone").ok();
    let localtime = std::fs::read_link("/etc/localtime").ok();
    crate::domain::interaction::zone_from(
        tz.as_deref(),
        etc_timezone.as_deref(),
        localtime.as_deref(),
    )
}

/// How long deleted and old interactions are kept where they are (design document, 4.3 and 6.1).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionConfig {
    /// Deleted interactions can be restored for this many days; `ifind purge` removes older ones.
    pub trash_days: u32,
    /// `ifind archive` moves interactions untouched for this many days to the archive.
    pub archive_after_days: u32,
    /// `ifind retention` removes archived interactions this many days after archiving (5 years).
    pub archive_keep_days: u32,
    /// ... replaces the person in audit and access records older than this by a pseudonym.
    pub anonymise_after_days: u32,
    /// ... removes access (authentication) records older than this (2 years).
    pub access_log_days: u32,
    /// ... removes audit records of data changes older than this (2 years).
    pub audit_data_days: u32,
    /// ... removes audit records of admin actions (users, sites, roles) older than this (3 years).
    pub audit_admin_days: u32,
    /// ... removes who ran a schema change after this (5 years; the change itself stays).
    pub schema_changes_days: u32,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        RetentionConfig {
            trash_days: 30,
            archive_after_days: 730,
            archive_keep_days: 1826,
            anonymise_after_days: 365,
            access_log_days: 730,
            audit_data_days: 730,
            audit_admin_days: 1095,
            schema_changes_days: 1826,
        }
    }
}

impl RetentionConfig {
    /// The keeps of `ifind retention`, as the database code takes them.
    pub fn keep(&self) -> crate::domain::retention::Keep {
        crate::domain::retention::Keep {
            trash_days: self.trash_days,
            archive_keep_days: self.archive_keep_days,
            anonymise_after_days: self.anonymise_after_days,
            access_log_days: self.access_log_days,
            audit_data_days: self.audit_data_days,
            audit_admin_days: self.audit_admin_days,
            schema_changes_days: self.schema_changes_days,
        }
    }

    /// The first keep of `ifind retention` out of range (1 day to 100 years), with its name.
    fn keep_problem(&self) -> Option<(&'static str, &'static str, String)> {
        [
            ("archive_keep_days", self.archive_keep_days, 1826),
            ("anonymise_after_days", self.anonymise_after_days, 365),
            ("access_log_days", self.access_log_days, 730),
            ("audit_data_days", self.audit_data_days, 730),
            ("audit_admin_days", self.audit_admin_days, 1095),
            ("schema_changes_days", self.schema_changes_days, 1826),
        ]
        .into_iter()
        .find_map(|(key, days, default)| {
            out_of_range(
                "retention",
                key,
                days.into(),
                1..=36500,
                &format!("; use 1 to 36500 (the default is {default})"),
            )
        })
    }
}

/// Backups of the embedded cluster (design document 6.2 and 7.2).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct BackupConfig {
    /// Where WAL is archived and base backups go; empty = `backup` in the cluster's folder
    /// (the same disk: copy it elsewhere too).
    pub dir: String,
    /// Base backups are kept this many days (the newest always); older WAL goes with them.
    pub keep_days: u32,
}

impl Default for BackupConfig {
    fn default() -> Self {
        BackupConfig {
            dir: String::new(),
            keep_days: 30,
        }
    }
}

fn theme_name<'de, D: Deserializer<'de>>(deserializer: D) -> Result<ThemeName, D::Error> {
    let text = String::deserialize(deserializer)?;
    text.parse().map_err(serde::de::Error::custom)
}

/// A configuration problem, located in its file.
#[derive(Debug, PartialEq)]
pub struct ConfigError {
    pub path: PathBuf,
    pub line: Option<usize>,
    pub key: Option<String>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(line) = self.line {
            write!(f, ", line {line}")?;
        }
        if let Some(key) = &self.key {
            write!(f, ", key `{key}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ConfigError {}

/// The platform directories ifind uses.
#[derive(Clone, Debug)]
pub struct Paths {
    pub config_file: PathBuf,
    pub data_dir: PathBuf,
    pub state_dir: PathBuf,
}

impl Paths {
    /// The platform defaults (`$XDG_CONFIG_HOME/ifind/config.toml` and friends on Linux).
    pub fn platform() -> Paths {
        match directories::ProjectDirs::from("", "", "ifind") {
            Some(dirs) => Paths {
                config_file: dirs.config_dir().join("config.toml"),
                data_dir: dirs.data_dir().to_path_buf(),
                state_dir: dirs
                    .state_dir()
                    .unwrap_or_else(|| dirs.data_local_dir())
                    .to_path_buf(),
            },
            None => Paths {
                config_file: PathBuf::from("ifind.toml"),
                data_dir: PathBuf::from(".ifind"),
                state_dir: PathBuf::from(".ifind"),
            },
        }
    }
}

/// The first `[database]` setting that is out of range: its section, key and what is wrong.
fn database_problem(db: &DatabaseConfig) -> Option<(&'static str, &'static str, String)> {
    if db.max_connections == 0 {
        return Some(("database", "max_connections", "must be at least 1".into()));
    }
    if db.min_connections > db.max_connections {
        return Some((
            "database",
            "min_connections",
            format!(
                "is {} but max_connections is {}; make it no larger than max_connections",
                db.min_connections, db.max_connections
            ),
        ));
    }
    if db.connect_timeout_secs == 0 {
        return Some((
            "database",
            "connect_timeout_secs",
            "must be at least 1 second".into(),
        ));
    }
    for (key, url) in [("url", &db.url), ("owner_url", &db.owner_url)] {
        if !url.is_empty() && !is_postgres_url(url) {
            return Some((
                "database",
                key,
                "must start with postgres:// or postgresql://".into(),
            ));
        }
    }
    if db.read_urls.iter().any(|u| !is_postgres_url(u)) {
        return Some((
            "database",
            "read_urls",
            "every entry must start with postgres:// or postgresql://".into(),
        ));
    }
    out_of_range(
        "database",
        "max_replica_lag_ms",
        db.max_replica_lag_ms,
        1..=3_600_000,
        "; use 1 to 3600000 milliseconds (the default is 5000)",
    )
}

/// The problem of a number setting outside `allowed`: its section, its key and "is <value>"
/// followed by `advice`. None when the value is allowed.
fn out_of_range(
    section: &'static str,
    key: &'static str,
    value: u64,
    allowed: RangeInclusive<u64>,
    advice: &str,
) -> Option<(&'static str, &'static str, String)> {
    (!allowed.contains(&value)).then(|| (section, key, format!("is {value}{advice}")))
}

/// Why a config file could not be read as text.
struct Unreadable {
    path: PathBuf,
    /// There is no file at the path.
    not_found: bool,
    /// The cause in words, when it is not about access (not UTF-8).
    content: Option<String>,
    io: Option<std::io::Error>,
}

impl Unreadable {
    /// The error to show: the content's problem, or the I/O error with `advice` (what to check
    /// for a file that cannot be opened).
    fn advise(self, advice: &str) -> ConfigError {
        let message = match (self.content, self.io) {
            (Some(content), _) => content,
            (None, Some(e)) => format!("cannot read the config file ({e}); {advice}"),
            (None, None) => format!("cannot read the config file; {advice}"),
        };
        ConfigError {
            path: self.path,
            line: None,
            key: None,
            message,
        }
    }
}

/// The text of the config file at `path`: read as bytes, then checked to be UTF-8 (TOML is), so
/// that a file in another encoding is said to be one, not taken for a permissions problem.
fn read_text(path: &Path) -> Result<String, Unreadable> {
    let unreadable = |not_found, content, io| Unreadable {
        path: path.to_path_buf(),
        not_found,
        content,
        io,
    };
    let bytes = std::fs::read(path)
        .map_err(|e| unreadable(e.kind() == std::io::ErrorKind::NotFound, None, Some(e)))?;
    String::from_utf8(bytes).map_err(|e| {
        let good = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = good.iter().filter(|b| **b == b'\n').count() + 1;
        unreadable(
            false,
            Some(format!(
                "the config file is not UTF-8 text (the first byte that is not is on line \
                 {line}); save it as UTF-8"
            )),
            None,
        )
    })
}

impl Config {
    /// The embedded cluster as this configuration describes it (its folder defaults to `pg`
    /// under the platform's data folder).
    pub fn cluster_settings(&self, paths: &Paths) -> crate::db::cluster::ClusterSettings {
        let e = &self.embedded;
        let data_dir = if e.data_dir.trim().is_empty() {
            paths.data_dir.join("pg")
        } else {
            PathBuf::from(e.data_dir.trim())
        };
        let backup_dir = self.backup.dir.trim();
        crate::db::cluster::ClusterSettings {
            bindir: (!e.bindir.trim().is_empty()).then(|| PathBuf::from(e.bindir.trim())),
            data_dir,
            os_user: e.os_user.clone(),
            fallback_dir: PathBuf::from(e.fallback_dir.trim()),
            listen_tcp: None,
            lockout: crate::db::cluster::LockoutSettings {
                max_failures: e.login_max_failures,
                lockout_secs: e.login_lockout_secs,
            },
            backup_dir: (!backup_dir.is_empty()).then(|| PathBuf::from(backup_dir)),
        }
    }

    /// Loads the configuration: `explicit` (from `--config`, which must exist) or the platform
    /// file (optional), then the environment's database URL.
    pub fn load(explicit: Option<&Path>, paths: &Paths) -> Result<Config, ConfigError> {
        let mut config = match explicit {
            Some(path) => match read_text(path) {
                Ok(text) => Config::parse(&text, path)?,
                Err(e) => return Err(e.advise("check the --config path")),
            },
            None => match read_text(&paths.config_file) {
                Ok(text) => Config::parse(&text, &paths.config_file)?,
                Err(e) if e.not_found => Config::default(),
                Err(e) => return Err(e.advise("fix its permissions")),
            },
        };
        for var in ["IFIND_DATABASE_URL", "DATABASE_URL"] {
            if let Ok(url) = std::env::var(var)
                && !url.trim().is_empty()
            {
                config.database.url = url;
                break;
            }
        }
        if let Ok(urls) = std::env::var("IFIND_READ_URLS")
            && !urls.trim().is_empty()
        {
            config.database.read_urls = split_urls(&urls);
        }
        if let Ok(url) = std::env::var("IFIND_OWNER_URL")
            && !url.trim().is_empty()
        {
            config.database.owner_url = url;
        }
        Ok(config)
    }

    /// Parses and validates one TOML document; `path` is only used in messages.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| line_of(text, s.start));
            let key = e.span().and_then(|s| key_at(text, s.start));
            let mut message = e.message().trim().to_string();
            if message.starts_with("unknown field") {
                message.push_str("; remove it or check its spelling against config.example.toml");
            } else if message.contains("expected a sequence") {
                message.push_str("; write a list in brackets, e.g. [\"a\", \"b\"]");
            } else if message.contains("; ") {
                // The message already says how to fix it.
            } else {
                message.push_str("; see config.example.toml for the expected value");
            }
            ConfigError {
                path: path.to_path_buf(),
                line,
                key,
                message,
            }
        })?;
        config.validate(text, path)?;
        Ok(config)
    }

    fn validate(&self, text: &str, path: &Path) -> Result<(), ConfigError> {
        let problem = database_problem(&self.database).or_else(|| self.other_problem());
        if let Some((section, key, message)) = problem {
            return Err(ConfigError {
                path: path.to_path_buf(),
                line: find_key_line(text, section, key),
                key: Some(format!("{section}.{key}")),
                message,
            });
        }
        self.validate_keys(text, path)
    }

    /// The first setting outside `[database]` that is out of range: its section, key and what
    /// is wrong.
    fn other_problem(&self) -> Option<(&'static str, &'static str, String)> {
        let (search, retention) = (&self.search, &self.retention);
        out_of_range(
            "search",
            "page_size",
            search.page_size.into(),
            1..=500,
            "; use 1 to 500",
        )
        .or_else(|| {
            (search.count_cap == 0).then(|| ("search", "count_cap", "must be at least 1".into()))
        })
        .or_else(|| {
            out_of_range(
                "retention",
                "trash_days",
                retention.trash_days.into(),
                1..=3650,
                "; use 1 to 3650 (the default is 30)",
            )
        })
        .or_else(|| {
            out_of_range(
                "retention",
                "archive_after_days",
                retention.archive_after_days.into(),
                1..=36500,
                "; use 1 to 36500 (the default is 730, two years)",
            )
        })
        .or_else(|| retention.keep_problem())
        .or_else(|| {
            out_of_range(
                "search",
                "debounce_ms",
                search.debounce_ms,
                0..=2000,
                " ms; use at most 2000 (the default is 0)",
            )
        })
        .or_else(|| {
            out_of_range(
                "backup",
                "keep_days",
                self.backup.keep_days.into(),
                1..=3650,
                "; use 1 to 3650 (the default is 30)",
            )
        })
        .or_else(|| self.embedded_problem())
    }

    /// The first `[embedded]` or `[log]` setting that is out of range.
    fn embedded_problem(&self) -> Option<(&'static str, &'static str, String)> {
        let embedded = &self.embedded;
        let os_user_problem = embedded.os_user.trim().is_empty().then(|| {
            let message = "must name an OS user (the default is postgres)";
            ("embedded", "os_user", message.into())
        });
        os_user_problem
            .or_else(|| {
                out_of_range(
                    "embedded",
                    "login_max_failures",
                    embedded.login_max_failures.into(),
                    0..=1000,
                    "; use 0 (no lockout) to 1000 (the default is 5)",
                )
            })
            .or_else(|| {
                out_of_range(
                    "embedded",
                    "login_lockout_secs",
                    embedded.login_lockout_secs.into(),
                    1..=604_800,
                    "; use 1 to 604800 (a week; the default is 300)",
                )
            })
            .or_else(|| self.log_level_problem())
            .or_else(|| self.timezone_problem())
    }

    /// The `[ui]` timezone's problem, if it is set and names no IANA zone.
    fn timezone_problem(&self) -> Option<(&'static str, &'static str, String)> {
        let name = self.ui.timezone.trim();
        if name.is_empty() {
            return None;
        }
        let message = crate::domain::interaction::parse_timezone(name).err()?;
        let message = format!(
            "{} Fix the name, or leave it out to show times in this machine's zone ({})",
            message.trim_end(),
            machine_zone().name()
        );
        Some(("ui", "timezone", message))
    }

    /// The `[log]` level's problem, if it names no level.
    fn log_level_problem(&self) -> Option<(&'static str, &'static str, String)> {
        let known = matches!(
            self.log.level.to_ascii_lowercase().as_str(),
            "error" | "warn" | "info" | "debug" | "trace" | "off"
        );
        (!known).then(|| {
            let message = format!(
                "`{}` is not a log level; use error, warn, info, debug or trace",
                self.log.level
            );
            ("log", "level", message)
        })
    }

    /// Checks the `[keys]` table ([`KeyMap::checked`]); an error names the entry's line.
    fn validate_keys(&self, text: &str, path: &Path) -> Result<(), ConfigError> {
        KeyMap::checked(&self.keys)
            .map(drop)
            .map_err(|KeysError { entry, message }| ConfigError {
                path: path.to_path_buf(),
                line: entry
                    .as_deref()
                    .and_then(|name| find_key_line(text, "keys", name)),
                key: Some(match &entry {
                    Some(name) => format!("keys.{name}"),
                    None => "keys".to_string(),
                }),
                message,
            })
    }

    /// The key map: the defaults with the `[keys]` overrides (the defaults alone if the
    /// overrides were never validated and do not apply).
    pub fn keymap(&self) -> KeyMap {
        KeyMap::with_overrides(&self.keys).unwrap_or_default()
    }

    /// The zone times are shown in: `ui.timezone`, else the machine's ([`machine_zone`]).
    pub fn display_zone(&self) -> Tz {
        crate::domain::interaction::parse_timezone(&self.ui.timezone)
            .unwrap_or_else(|_| machine_zone())
    }

    /// The database URL the user configured, if any (None = embedded cluster).
    pub fn database_url(&self) -> Option<&str> {
        let url = self.database.url.trim();
        (!url.is_empty()).then_some(url)
    }

    /// The owner connection's URL: `database.owner_url` (or `IFIND_OWNER_URL`), else the
    /// configured URL; None when both are empty (the embedded cluster, whose owner ifind knows).
    pub fn owner_url(&self) -> Option<&str> {
        let url = self.database.owner_url.trim();
        if url.is_empty() {
            self.database_url()
        } else {
            Some(url)
        }
    }
}

/// The URLs of a comma-separated list (`IFIND_READ_URLS`), blanks dropped.
fn split_urls(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(str::to_string)
        .collect()
}

fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The dotted key whose value or name sits at `offset`, from the line and the table header above.
fn key_at(text: &str, offset: usize) -> Option<String> {
    let offset = offset.min(text.len());
    let start = text[..offset].rfind('\n').map(|i| i + 1).unwrap_or(0);
    let line = text[start..].lines().next().unwrap_or("");
    let section = text[..start]
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('[') && l.ends_with(']'))
        .map(|l| l.trim_matches(|c| c == '[' || c == ']').trim().to_string());
    let trimmed = line.trim();
    if trimmed.starts_with('[') {
        return Some(
            trimmed
                .trim_matches(|c| c == '[' || c == ']')
                .trim()
                .to_string(),
        );
    }
    let key = trimmed.split('=').next()?.trim().trim_matches('"');
    if key.is_empty() {
        return section;
    }
    Some(match section {
        Some(s) => format!("{s}.{key}"),
        None => key.to_string(),
    })
}

fn find_key_line(text: &str, section: &str, key: &str) -> Option<usize> {
    let mut current = String::new();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.starts_with('[') && t.ends_with(']') {
            current = t.trim_matches(|c| c == '[' || c == ']').trim().to_string();
        } else if current == section
            && t.split('=').next().map(|k| k.trim().trim_matches('"')) == Some(key)
        {
            return Some(i + 1);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::action::Action;
    use crate::app::state::Mode;
    use crossterm::event::KeyEvent;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("/etc/ifind.toml"))
    }

    #[test]
    fn empty_file_gives_defaults() {
        let c = parse("").expect("empty config parses");
        assert_eq!(c, Config::default());
        assert_eq!(c.database.min_connections, 5);
        assert_eq!(c.database.max_connections, 20);
        assert_eq!(c.database.connect_timeout_secs, 30);
        assert_eq!(c.database.idle_timeout_secs, 600);
        assert_eq!(c.database.max_lifetime_secs, 1800);
    }

    #[test]
    fn the_database_options_default_as_the_config_does() {
        assert_eq!(DatabaseConfig::default().db_options(), DbOptions::default());
    }

    #[test]
    fn example_file_parses_to_the_defaults() {
        let text = include_str!("../config.example.toml");
        let c = parse(text).expect("config.example.toml parses");
        assert_eq!(c, Config::default(), "the example documents the defaults");
    }

    #[test]
    fn unknown_key_names_file_line_and_key() {
        let e = parse("[database]\nurl = \"\"\nmax_conections = 3\n").expect_err("unknown key");
        assert_eq!(e.line, Some(3));
        assert_eq!(e.key.as_deref(), Some("database.max_conections"));
        let text = e.to_string();
        assert!(text.starts_with("/etc/ifind.toml, line 3, key `database.max_conections`"));
        assert!(text.contains("unknown field"), "{text}");
    }

    #[test]
    fn bad_value_names_file_line_and_key() {
        let e = parse("[search]\n\npage_size = \"lots\"\n").expect_err("bad type");
        assert_eq!(e.line, Some(3));
        assert_eq!(e.key.as_deref(), Some("search.page_size"));
    }

    #[test]
    fn unknown_section_is_named() {
        let e = parse("[databse]\nurl = \"x\"\n").expect_err("unknown table");
        assert_eq!(e.line, Some(1));
        assert!(e.to_string().contains("databse"), "{e}");
    }

    #[test]
    fn semantic_checks_name_the_key() {
        let e = parse("[database]\nmin_connections = 30\n").expect_err("min > max");
        assert_eq!(e.key.as_deref(), Some("database.min_connections"));
        assert_eq!(e.line, Some(2));
        let e = parse("[database]\nurl = \"mysql://x\"\n").expect_err("not postgres");
        assert_eq!(e.key.as_deref(), Some("database.url"));
        let e = parse("[log]\nlevel = \"loud!!\"\n").expect_err("bad level");
        assert_eq!(e.key.as_deref(), Some("log.level"));
        let e = parse("[search]\npage_size = 0\n").expect_err("zero page");
        assert_eq!(e.key.as_deref(), Some("search.page_size"));
    }

    #[test]
    fn read_replicas_are_read_and_checked() {
        let c = parse(
            "[database]\nread_urls = [\"postgres://r1/x\", \"postgresql://r2/x\"]\n\
             max_replica_lag_ms = 250\n",
        )
        .expect("replicas parse");
        assert_eq!(c.database.read_urls.len(), 2);
        assert_eq!(c.database.max_replica_lag_ms, 250);
        assert_eq!(Config::default().database.max_replica_lag_ms, 5000);
        let e = parse("[database]\n\nread_urls = [\"mysql://r1\"]\n").expect_err("not postgres");
        assert_eq!(e.key.as_deref(), Some("database.read_urls"));
        assert_eq!(e.line, Some(3));
        let e = parse("[database]\nmax_replica_lag_ms = 0\n").expect_err("zero bound");
        assert_eq!(e.key.as_deref(), Some("database.max_replica_lag_ms"));
        assert_eq!(e.line, Some(2));
        assert!(e.to_string().contains("default is 5000"), "{e}");
        assert_eq!(
            split_urls(" postgres://a/x ,, postgres://b/x,"),
            vec!["postgres://a/x", "postgres://b/x"]
        );
    }

    #[test]
    fn ui_and_keys_are_read() {
        let c = parse(
            "[ui]\ntheme = \"light\"\nmouse = false\n\n[keys]\nmove_down = [\"ctrl-j\", \"down\"]\n\
             quit = [\"x\"]\n",
        )
        .expect("good [ui] and [keys]");
        assert_eq!(c.ui.theme, ThemeName::Light);
        assert!(!c.ui.mouse);
        let map = c.keymap();
        let key = |code, modifiers| KeyEvent::new(code, modifiers);
        use crossterm::event::{KeyCode, KeyModifiers};
        assert_eq!(
            map.action(Mode::List, &key(KeyCode::Char('j'), KeyModifiers::CONTROL)),
            Some(Action::MoveDown)
        );
        assert_eq!(
            map.action(Mode::List, &key(KeyCode::Char('j'), KeyModifiers::NONE)),
            None,
            "the override replaces the default keys"
        );
        assert_eq!(
            map.action(Mode::List, &key(KeyCode::Char('x'), KeyModifiers::NONE)),
            Some(Action::Quit)
        );
        assert_eq!(
            map.action(Mode::List, &key(KeyCode::Char('q'), KeyModifiers::NONE)),
            None
        );
        assert_eq!(
            parse("[ui]\ntheme = \"Terminal\"\n").map(|c| c.ui.theme),
            Ok(ThemeName::Terminal)
        );
    }

    #[test]
    fn the_display_timezone_is_read_and_a_wrong_one_says_how_to_fix_it() {
        let c = parse("[ui]\ntimezone = \"America/New_York\"\n").expect("a real zone");
        assert_eq!(c.display_zone(), Tz::America__New_York);
        assert_eq!(Config::default().ui.timezone, "");
        assert_eq!(Config::default().display_zone(), machine_zone());
        let e = parse("[ui]\nmouse = true\ntimezone = \"Europe/Lodnon\"\n").expect_err("a typo");
        assert_eq!(e.line, Some(3));
        assert_eq!(e.key.as_deref(), Some("ui.timezone"));
        let text = e.to_string();
        assert!(
            text.contains("\"Europe/Lodnon\" is not a known IANA name"),
            "{text}"
        );
        assert!(text.contains("did you mean Europe/London"), "{text}");
        assert!(text.contains("leave it out"), "{text}");
        let e = parse("[ui]\ntimezone = \"CEST\"\n").expect_err("an abbreviation");
        assert_eq!(e.key.as_deref(), Some("ui.timezone"));
    }

    #[test]
    fn unknown_action_names_line_and_key() {
        let e = parse("[keys]\nquit = [\"q\"]\n\"fly\" = [\"x\"]\n").expect_err("unknown action");
        assert_eq!(e.line, Some(3));
        assert_eq!(e.key.as_deref(), Some("keys.fly"));
        let text = e.to_string();
        assert!(
            text.starts_with("/etc/ifind.toml, line 3, key `keys.fly`"),
            "{text}"
        );
        assert!(text.contains("unknown action \"fly\""), "{text}");
        assert!(text.contains("move_down"), "lists the names: {text}");
    }

    #[test]
    fn bad_key_names_line_and_key() {
        let e = parse("[ui]\nmouse = true\n\n[keys]\n\nquit = [\"q\", \"ctrl-\"]\n")
            .expect_err("bad key");
        assert_eq!(e.line, Some(6));
        assert_eq!(e.key.as_deref(), Some("keys.quit"));
        assert!(e.to_string().contains("cannot read key \"ctrl-\""), "{e}");
        let e = parse("[keys]\nquit = \"q\"\n").expect_err("not a list");
        assert_eq!(e.line, Some(2));
        assert_eq!(e.key.as_deref(), Some("keys.quit"));
    }

    #[test]
    fn one_key_for_two_actions_is_refused() {
        let e = parse("[keys]\ncopy = [\"x\"]\nquit = [\"x\"]\n").expect_err("conflict");
        assert_eq!(e.key.as_deref(), Some("keys.copy"));
        assert_eq!(e.line, Some(2));
        assert!(e.to_string().contains("also given to \"quit\""), "{e}");
        // Taking a key from an action that keeps its defaults is how rebinding works.
        assert!(parse("[keys]\nquit = [\"j\"]\n").is_ok());
    }

    #[test]
    fn bad_theme_names_line_and_key() {
        let e = parse("[ui]\nmouse = false\ntheme = \"neon\"\n").expect_err("bad theme");
        assert_eq!(e.line, Some(3));
        assert_eq!(e.key.as_deref(), Some("ui.theme"));
        let text = e.to_string();
        assert!(text.contains("unknown theme \"neon\""), "{text}");
        assert!(text.contains("dark, light or terminal"), "{text}");
    }
}
