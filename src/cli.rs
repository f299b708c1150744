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

    /// Act as this ifind user in admin and data commands (default: the first global admin).
    #[arg(long = "as", global = true, value_name = "USER", env = "IFIND_USER")]
    pub acting_user: Option<String>,

    #[command(subcommand)]
    pub command: Option<Command>,
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
    },
    /// Manage users.
    User {
        #[command(subcommand)]
        action: UserAction,
    },
    /// Give a user a role at a site (replacing any role they had there).
    Grant {
        user: String,
        site: String,
        #[arg(value_enum)]
        role: Role,
    },
    /// Remove a user's role at a site.
    Revoke { user: String, site: String },
    /// Search a site's interactions with the Finder's query language.
    Search(SearchArgs),
    /// Import interactions from a CSV file into a site: all rows or none.
    Import {
        file: PathBuf,
        #[arg(long)]
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
    },
    /// Export a site's interactions (optionally only those matching QUERY).
    Export {
        #[arg(long)]
        site: String,
        /// Query in the Finder's language; all interactions when omitted.
        query: Option<String>,
        #[arg(long, value_enum, default_value_t = ExportFormat::Csv)]
        format: ExportFormat,
        /// Write to this file instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// List a site's deleted interactions that can still be restored (site admins).
    Trash {
        #[arg(long)]
        site: String,
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
    },
    /// Take a deleted interaction out of the trash (site admins).
    Restore {
        id: i32,
        #[arg(long)]
        site: String,
    },
    /// Remove for good interactions deleted more than retention.trash_days ago.
    Purge {
        /// Only say how many would be removed.
        #[arg(long)]
        dry_run: bool,
    },
    /// Apply every retention rule of [retention]: trash and archive removed after their keep,
    /// the person in audit and access records older than a year made a pseudonym, old access
    /// and audit records removed. In batches; safe to stop and run again.
    Retention {
        /// Only say what each rule would do.
        #[arg(long)]
        dry_run: bool,
        /// Rows per transaction.
        #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(i64).range(1..=100_000))]
        batch: i64,
    },
    /// Move interactions untouched for retention.archive_after_days to the archive.
    Archive {
        /// Only say how many would be moved.
        #[arg(long)]
        dry_run: bool,
        /// Rows moved per transaction.
        #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(i64).range(1..=100_000))]
        batch: i64,
    },
    /// Anonymise a person everywhere: live interactions, the archive and the audit trail's values.
    Erase {
        /// The person's name as it appears in the lead field.
        #[arg(long)]
        lead: String,
        /// Only say where the name appears.
        #[arg(long)]
        dry_run: bool,
    },
    /// Check the database: pool, latency, cache hit rate, replica lag, sizes, dead tuples, schema
    /// version and recent errors, each with a verdict (exit 1 when one is critical).
    Health {
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
    },
    /// Print the audit trail of an interaction or of a user, oldest first.
    Audit(AuditArgs),
    /// Fill the database with deterministic, realistic data.
    Seed {
        #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=100_000))]
        sites: u32,
        #[arg(long, default_value_t = 10_000)]
        interactions: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
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
        name: String,
        #[arg(long)]
        description: Option<String>,
    },
    /// List sites with their sizes.
    List {
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
    },
    /// Deactivate a site (its data stays).
    Deactivate { name: String },
    /// Activate a site again.
    Activate { name: String },
    /// Delete a site that holds no interactions (one added by mistake, or left half made by an
    /// interrupted seed); with --with-interactions, its interactions go too, for good.
    Delete {
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
        username: String,
        #[arg(long)]
        email: String,
        /// Make the user a global administrator (every site, admin commands).
        #[arg(long)]
        admin: bool,
        #[command(flatten)]
        password: PasswordSource,
    },
    /// List users.
    List {
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
    },
    /// Deactivate a user (they can no longer log in).
    Deactivate { username: String },
    /// Activate a user again (they can log in with their password).
    Activate { username: String },
    /// Change a user's password (asks for the current one unless --reset).
    Passwd {
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
    #[arg(long)]
    pub site: String,
    /// Query in the Finder's language: words, "phrases", -exclude, or, type:, lead:,
    /// location:, from:YYYY-MM-DD, to:YYYY-MM-DD.
    pub query: Option<String>,
    #[arg(long, value_enum, default_value_t = SortArg::Relevance)]
    pub sort: SortArg,
    /// Rows per page (1-500).
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(i64).range(1..=500))]
    pub limit: i64,
    /// Continue after this cursor (printed with the previous page).
    #[arg(long)]
    pub after: Option<String>,
    /// Also search the archive (interactions moved there by `ifind archive`; read-only).
    #[arg(long)]
    pub archive: bool,
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
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
