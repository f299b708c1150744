//! Command-line interface (clap). `ifind` alone opens the terminal UI.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::domain::users::Role;

#[derive(Debug, Parser)]
#[command(
    name = "ifind",
    version,
    about = "Search and edit the interactions of your sites, in the terminal",
    long_about = "ifind searches a site's interactions as you type and edits them through forms. \
                  With no subcommand it opens the terminal UI. With no database configured it \
                  runs its own private PostgreSQL cluster."
)]
pub struct Cli {
    /// Configuration file (default: $XDG_CONFIG_HOME/ifind/config.toml).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Act as this ifind user (the commands that read or change data; the same as `--as` after
    /// the command's name).
    #[arg(long = "as", value_name = "USER")]
    pub acting_user: Option<String>,

    /// Use the demo database that `ifind demo` fills (the commands that read or change data;
    /// the same as `--demo` after the command's name). With no command: `ifind demo`.
    #[arg(long)]
    pub demo: bool,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Who a command acts as and on which database: the options of every command that reads or
/// changes data (global within it, so `ifind site list --as ada` works as `ifind site --as ada
/// list` does).
#[derive(Clone, Debug, Default, Args)]
pub struct Actor {
    /// Act as this ifind user: log in as their own database role (the password from
    /// IFIND_PASSWORD, a prompt, or .pgpass; default user: IFIND_USER). Without it: the database
    /// URL's user, or the owner in the embedded cluster.
    #[arg(long = "as", value_name = "USER", global = true)]
    pub acting_user: Option<String>,
    /// Run on the demo database of the embedded cluster (the one `ifind demo` shows), filling it
    /// first if it is not there yet.
    #[arg(long, global = true)]
    pub demo: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open the terminal UI on a demo database filled with realistic data.
    Demo,
    /// Apply pending schema migrations and print the schema version.
    Migrate,
    /// Manage the embedded PostgreSQL cluster.
    Db {
        #[command(subcommand)]
        action: DbAction,
    },
    /// Manage sites.
    Site {
        #[command(subcommand)]
        action: SiteAction,
        #[command(flatten)]
        actor: Actor,
    },
    /// Manage users.
    User {
        #[command(subcommand)]
        action: UserAction,
        #[command(flatten)]
        actor: Actor,
    },
    /// Give a user a role at a site (replacing any role they had there).
    Grant {
        /// The user's username.
        user: String,
        /// The site's name.
        site: String,
        /// The role: viewer (reads), editor (also creates and edits), admin (also deletes,
        /// restores and manages the site).
        #[arg(value_enum)]
        role: Role,
        #[command(flatten)]
        actor: Actor,
    },
    /// Remove a user's role at a site.
    Revoke {
        /// The user's username.
        user: String,
        /// The site's name.
        site: String,
        #[command(flatten)]
        actor: Actor,
    },
    /// Search a site's interactions with the Finder's query language.
    Search(SearchArgs),
    /// Import interactions from a CSV (or JSON) file into a site: all rows or none.
    #[command(after_long_help = crate::csvio::import_help())]
    Import {
        /// The file to import: CSV with a header row, or a JSON array as `export --format json`
        /// writes (the columns and formats are below, under `--help`).
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// The site to import into (its name).
        #[arg(long, value_name = "NAME")]
        site: String,
        /// Import the file even though it was imported into the site before, or carries the
        /// interaction_id of interactions already in the site (its rows are then stored
        /// twice).
        #[arg(long, conflicts_with = "update")]
        again: bool,
        /// Rows that carry the interaction_id of an interaction in the site (an export of the
        /// site, edited) are written over that interaction instead of added; rows without one
        /// are added.
        #[arg(long)]
        update: bool,
        #[command(flatten)]
        actor: Actor,
    },
    /// Export a site's interactions (optionally only those matching QUERY).
    Export {
        /// The site to export (its name); may be left out by someone who may read only one site.
        #[arg(long, value_name = "NAME")]
        site: Option<String>,
        /// Query in the Finder's language; all interactions when omitted.
        #[arg(value_name = "QUERY")]
        query: Option<String>,
        /// csv (what `import` reads back, and spreadsheets open), json (an array of objects) or
        /// ics (iCalendar: one event per interaction, times in UTC, for a calendar).
        #[arg(long, value_enum, default_value_t = ExportFormat::Csv)]
        format: ExportFormat,
        /// Write to this file instead of standard output.
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
        #[command(flatten)]
        actor: Actor,
    },
    /// List a site's deleted interactions that can still be restored (site admins).
    Trash {
        /// The site (its name).
        #[arg(long, value_name = "NAME")]
        site: String,
        /// table for people, json for scripts.
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
        #[command(flatten)]
        actor: Actor,
    },
    /// Take a deleted interaction out of the trash (site admins).
    Restore {
        /// The interaction's id (as `ifind trash` lists it).
        #[arg(value_name = "ID")]
        id: i32,
        /// The site the interaction belongs to (its name).
        #[arg(long, value_name = "NAME")]
        site: String,
        #[command(flatten)]
        actor: Actor,
    },
    /// Remove for good interactions deleted more than retention.trash_days ago.
    Purge {
        /// Only say how many would be removed.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        actor: Actor,
    },
    /// Apply every retention rule of [retention]: trash and archive removed after their keep,
    /// the person in audit and access records older than a year made a pseudonym, old access
    /// and audit records removed. In batches; safe to stop and run again.
    Retention {
        /// Only say what each rule would do.
        #[arg(long)]
        dry_run: bool,
        /// Rows per transaction (1-100000).
        #[arg(long, value_name = "N", default_value_t = 1000, value_parser = clap::value_parser!(i64).range(1..=100_000))]
        batch: i64,
        #[command(flatten)]
        actor: Actor,
    },
    /// Move interactions untouched for retention.archive_after_days to the archive.
    Archive {
        /// Only say how many would be moved.
        #[arg(long)]
        dry_run: bool,
        /// Rows moved per transaction (1-100000).
        #[arg(long, value_name = "N", default_value_t = 1000, value_parser = clap::value_parser!(i64).range(1..=100_000))]
        batch: i64,
        #[command(flatten)]
        actor: Actor,
    },
    /// Anonymise a person everywhere: live interactions, the archive and the audit trail's values.
    Erase {
        /// The person's name as it appears in the lead field.
        #[arg(long, value_name = "NAME")]
        lead: String,
        /// Only say where the name appears.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        actor: Actor,
    },
    /// Check the database: pool, latency, cache hit rate, replica lag, sizes, dead tuples, schema
    /// version and recent errors, each with a verdict (exit 1 when one is critical).
    Health {
        /// table for people, json for scripts.
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
        #[command(flatten)]
        actor: Actor,
    },
    /// Print the audit trail of an interaction or of a user, oldest first.
    Audit(AuditArgs),
    /// Fill the database with deterministic, realistic data.
    Seed {
        /// How many sites to make (1-100000).
        #[arg(long, value_name = "N", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=100_000))]
        sites: u32,
        /// How many interactions to make, spread over the sites (at least one per site).
        #[arg(long, value_name = "N", default_value_t = 10_000)]
        interactions: u64,
        /// The random seed: the same seed and sizes give the same data.
        #[arg(long, value_name = "S", default_value_t = 1)]
        seed: u64,
        #[command(flatten)]
        actor: Actor,
    },
    /// Print a shell completion script to standard output (e.g. `ifind completions bash >
    /// ~/.local/share/bash-completion/completions/ifind`).
    Completions {
        /// The shell to complete in.
        #[arg(value_enum, value_name = "SHELL")]
        shell: clap_complete::Shell,
        #[command(flatten)]
        no_config: NoConfig,
    },
    /// Print the manual page (roff) of ifind, or of one of its commands, to standard output
    /// (e.g. `ifind man | man -l -`, `ifind man db restore > ifind-db-restore.1`).
    Man {
        /// The command whose page to print (e.g. `import`, or `db restore`); ifind's own page
        /// (every command listed) when omitted.
        #[arg(value_name = "COMMAND")]
        command: Vec<String>,
        #[command(flatten)]
        no_config: NoConfig,
    },
}

/// Takes the place of the global `--config` where it means nothing (printing completions or a
/// manual page reads no configuration): hidden from the help, and ignored.
#[derive(Clone, Debug, Default, Args)]
pub struct NoConfig {
    #[arg(long = "config", id = "config", hide = true, value_name = "PATH")]
    pub ignored: Option<PathBuf>,
}

impl Command {
    /// The `--as`/`--demo` options of the command; None for a command that takes neither (it
    /// does not read or change data as anyone).
    pub fn actor(&self) -> Option<&Actor> {
        match self {
            Command::Demo
            | Command::Migrate
            | Command::Db { .. }
            | Command::Completions { .. }
            | Command::Man { .. } => None,
            Command::Site { actor, .. }
            | Command::User { actor, .. }
            | Command::Grant { actor, .. }
            | Command::Revoke { actor, .. }
            | Command::Import { actor, .. }
            | Command::Export { actor, .. }
            | Command::Trash { actor, .. }
            | Command::Restore { actor, .. }
            | Command::Purge { actor, .. }
            | Command::Retention { actor, .. }
            | Command::Archive { actor, .. }
            | Command::Erase { actor, .. }
            | Command::Health { actor, .. }
            | Command::Seed { actor, .. } => Some(actor),
            Command::Search(args) => Some(&args.actor),
            Command::Audit(args) => Some(&args.actor),
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum DbAction {
    /// Show where the embedded cluster lives and whether it runs.
    Status,
    /// Start the embedded cluster (initialising it on first use).
    Start,
    /// Stop the embedded cluster.
    Stop,
    /// Take a base backup of the embedded cluster now, and remove backups older than
    /// backup.keep_days (WAL is archived continuously into the same folder).
    Backup,
    /// Restore the embedded cluster from its backups into a new data folder, then switch to it
    /// (the old data folder is kept; its path is printed).
    Restore {
        /// Restore the state as of this time (`2026-03-01 14:00[:SS]` in local time, or RFC
        /// 3339 such as `2026-03-01T13:00:00Z`); default: the newest archived state.
        #[arg(long, value_name = "TIME", value_parser = parse_restore_time)]
        to: Option<chrono::DateTime<chrono::Utc>>,
    },
    /// Restore the newest backup into a temporary cluster and compare its row counts and
    /// schema version with the live database (the weekly restore test).
    VerifyBackup,
}

/// A `--to` time: RFC 3339, or `YYYY-MM-DD HH:MM[:SS]` in the local time zone.
pub fn parse_restore_time(text: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    use chrono::{DateTime, Local, NaiveDateTime, TimeZone, Utc};
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    let naive = ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
        .ok_or_else(|| {
            format!("`{text}` is not a time: use `2026-03-01 14:00` (local time) or RFC 3339")
        })?;
    Local
        .from_local_datetime(&naive)
        .single()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| {
            format!(
                "`{text}` does not exist or is ambiguous in the local time zone (a clock \
                 change): give it in RFC 3339 with an offset"
            )
        })
}

#[derive(Debug, Subcommand)]
pub enum SiteAction {
    /// Add a site.
    Add {
        /// The site's name (unique).
        name: String,
        /// A line about the site, shown in `site list`.
        #[arg(long, value_name = "TEXT")]
        description: Option<String>,
    },
    /// List sites with their sizes.
    List {
        /// table for people, json for scripts.
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
    },
    /// Deactivate a site (its data stays).
    Deactivate {
        /// The site's name.
        name: String,
    },
    /// Activate a site again.
    Activate {
        /// The site's name.
        name: String,
    },
    /// Delete a site that holds no interactions (one added by mistake, or left half made by an
    /// interrupted seed); with --with-interactions, its interactions go too, for good.
    Delete {
        /// The site's name.
        name: String,
        /// Also delete every interaction of the site (live, deleted and archived).
        #[arg(long)]
        with_interactions: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserAction {
    /// Add a user. The first user becomes a global administrator.
    Add {
        /// The new user's username (what they log in with).
        username: String,
        /// The user's email address.
        #[arg(long, value_name = "ADDRESS")]
        email: String,
        /// Make the user a global administrator (every site, admin commands).
        #[arg(long)]
        admin: bool,
        #[command(flatten)]
        password: PasswordSource,
    },
    /// List users.
    List {
        /// table for people, json for scripts.
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
    },
    /// Deactivate a user (they can no longer log in).
    Deactivate {
        /// The user's username.
        username: String,
    },
    /// Activate a user again (they can log in with their password).
    Activate {
        /// The user's username.
        username: String,
    },
    /// Change a user's password (asks for the current one unless --reset).
    Passwd {
        /// The user whose password to change (their username).
        username: String,
        /// Set a new password without the current one (administrators).
        #[arg(long)]
        reset: bool,
        #[command(flatten)]
        password: PasswordSource,
    },
}

#[derive(Debug, Args)]
pub struct PasswordSource {
    /// Read the password(s) from standard input, one per line, instead of prompting.
    /// For `passwd` without --reset: the current password, then the new one.
    #[arg(long)]
    pub password_stdin: bool,
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// The site to search (its name); may be left out by someone who may read only one site.
    #[arg(long, value_name = "NAME")]
    pub site: Option<String>,
    /// Query in the Finder's language: words, "phrases", -exclude, or, type:, lead:,
    /// location:, from:YYYY-MM-DD, to:YYYY-MM-DD; every interaction when omitted.
    #[arg(value_name = "QUERY")]
    pub query: Option<String>,
    /// The order of the results: relevance (best match first), newest or oldest (by start).
    #[arg(long, value_enum, default_value_t = SortArg::Relevance)]
    pub sort: SortArg,
    /// Rows per page (1-500).
    #[arg(long, value_name = "N", default_value_t = 50, value_parser = clap::value_parser!(i64).range(1..=500))]
    pub limit: i64,
    /// Continue after this cursor (printed with the previous page).
    #[arg(long, value_name = "CURSOR")]
    pub after: Option<String>,
    /// Also search the archive (interactions moved there by `ifind archive`; read-only).
    #[arg(long)]
    pub archive: bool,
    /// table for people; json (with the cursor of the next page) or csv for scripts.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
    #[command(flatten)]
    pub actor: Actor,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("subject").required(true).args(["interaction", "user"])))]
pub struct AuditArgs {
    /// The interaction's id: every change of it, from its creation on.
    #[arg(long, value_name = "ID")]
    pub interaction: Option<i32>,
    /// A username: the changes this user made, and the changes to their account.
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,
    /// text for people, json for scripts.
    #[arg(long, value_enum, default_value_t = AuditFormat::Text)]
    pub format: AuditFormat,
    #[command(flatten)]
    pub actor: Actor,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AuditFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SortArg {
    Relevance,
    Newest,
    Oldest,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Table,
    Json,
    Csv,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    Csv,
    Json,
    Ics,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Table,
    Json,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
