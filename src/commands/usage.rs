//! The command line as typed: parsing (with a plain word for `--as` or `--demo` given to a
//! command they do not apply to), and the commands that only print what the clap definitions
//! say: shell completions and manual pages.

use std::io::Write as _;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{CommandFactory, Parser};

use crate::cli::{Cli, Command};

/// The command line, with `--as` and `--demo` settled wherever they were given.
pub struct Parsed {
    pub cli: Cli,
    /// `--as` (after the command's name, else before it), else `IFIND_USER`; None for a command
    /// that takes no `--as`.
    pub acting_user: Option<String>,
    pub demo: bool,
}

/// Parses the command line; on a usage error (or `--help`, `--version`) prints what clap or
/// ifind has to say and hands back the exit code.
pub fn parse() -> Result<Parsed, i32> {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            if e.kind() == ErrorKind::UnknownArgument
                && let Some(option) = misplaced_option(&e)
            {
                let path = command_path(std::env::args().skip(1));
                return Err(does_not_apply(option, &path));
            }
            // Help and version go to standard output; a closed pipe there is no failure.
            let _ = e.print();
            return Err(e.exit_code());
        }
    };
    let from_env = || {
        std::env::var("IFIND_USER")
            .ok()
            .filter(|name| !name.trim().is_empty())
    };
    let (acting_user, demo) = match cli.command.as_ref().map(Command::actor) {
        Some(Some(actor)) => (
            actor
                .acting_user
                .clone()
                .or_else(|| cli.acting_user.clone())
                .or_else(from_env),
            actor.demo || cli.demo,
        ),
        Some(None) => {
            let path = command_path(std::env::args().skip(1));
            if cli.acting_user.is_some() {
                return Err(does_not_apply("--as", &path));
            }
            if cli.demo {
                return Err(does_not_apply("--demo", &path));
            }
            (None, false)
        }
        None => {
            if cli.acting_user.is_some() {
                return Err(usage_error(
                    &[],
                    "`--as` does not apply to the terminal UI, which asks who you are at its login \
                     screen; it applies to the commands that read or change data"
                        .to_string(),
                ));
            }
            (None, cli.demo)
        }
    };
    Ok(Parsed {
        cli,
        acting_user,
        demo,
    })
}

/// `--as` or `--demo` when that is the unknown argument of `e` (given to a command that does
/// not take it).
fn misplaced_option(e: &clap::Error) -> Option<&'static str> {
    let Some(ContextValue::String(arg)) = e.get(ContextKind::InvalidArg) else {
        return None;
    };
    ["--as", "--demo"]
        .into_iter()
        .find(|option| arg == option || arg.starts_with(&format!("{option}=")))
}

/// The names of the (sub)commands in `args`, as far as they go: `["db", "status"]`.
fn command_path(args: impl Iterator<Item = String>) -> Vec<String> {
    let mut cmd = Cli::command();
    cmd.build();
    let mut path = Vec::new();
    let mut at = &cmd;
    for arg in args {
        if let Some(sub) = at.find_subcommand(&arg) {
            path.push(sub.get_name().to_string());
            at = sub;
        }
    }
    path
}

/// The commands that take `--as` and `--demo`.
fn commands_with_actor() -> Vec<String> {
    Cli::command()
        .get_subcommands()
        .filter(|sub| sub.get_arguments().any(|a| a.get_id() == "acting_user"))
        .map(|sub| sub.get_name().to_string())
        .collect()
}

/// "`--as` does not apply to `ifind db status`", as a usage error (exit 2).
fn does_not_apply(option: &str, path: &[String]) -> i32 {
    let shown = if path.is_empty() {
        "ifind".to_string()
    } else {
        format!("ifind {}", path.join(" "))
    };
    let what = match (option, path.first().map(String::as_str)) {
        ("--as", _) => "it does not act as an ifind user",
        (_, Some("demo")) => "it is the demo already",
        _ => "it reads and changes no interactions, sites or users",
    };
    usage_error(
        path,
        format!(
            "`{option}` does not apply to `{shown}`: {what}; it applies to the commands that \
             read or change data ({})",
            commands_with_actor().join(", ")
        ),
    )
}

/// Prints `message` as clap prints a usage error, with the usage of the command at `path`, and
/// returns clap's exit code for it (2).
fn usage_error(path: &[String], message: String) -> i32 {
    let mut root = Cli::command();
    root.build();
    let mut at = &root;
    for name in path {
        let Some(sub) = at.find_subcommand(name) else {
            break;
        };
        at = sub;
    }
    let e = at.clone().error(ErrorKind::ArgumentConflict, message);
    let _ = e.print();
    e.exit_code()
}

/// `ifind completions SHELL`: the completion script, made from the clap definitions.
pub fn completions(shell: clap_complete::Shell) -> i32 {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "ifind", &mut script);
    print_out(&script)
}

/// `ifind man [COMMAND]...`: the manual page of ifind or of one of its commands, in roff.
pub fn man(path: &[String]) -> i32 {
    let mut root = Cli::command().disable_help_subcommand(true);
    root.build();
    let mut page = &root;
    for (i, name) in path.iter().enumerate() {
        match page.find_subcommand(name).filter(|sub| !sub.is_hide_set()) {
            Some(sub) => page = sub,
            None => {
                let names: Vec<&str> = page.get_subcommands().map(|s| s.get_name()).collect();
                let message = if names.is_empty() {
                    format!(
                        "`ifind {}` has no commands of its own; its page is `ifind man {}`",
                        path[..i].join(" "),
                        path[..i].join(" ")
                    )
                } else {
                    format!(
                        "`{name}` is not a command of `{}`; its commands are {}",
                        page.get_bin_name().unwrap_or("ifind"),
                        names.join(", ")
                    )
                };
                return usage_error(&["man".to_string()], message);
            }
        }
    }
    let mut roff = Vec::new();
    if let Err(e) = clap_mangen::Man::new(page.clone()).render(&mut roff) {
        eprintln!("ifind: cannot make the manual page: {e}");
        return 1;
    }
    print_out(&roff)
}

/// Writes `bytes` to standard output: 0, also when the reader has gone (`| head`); 1 with a
/// message when the write fails otherwise (a full disk).
fn print_out(bytes: &[u8]) -> i32 {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => 0,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
        Err(e) => {
            eprintln!("ifind: cannot write the output: {e}");
            1
        }
    }
}
