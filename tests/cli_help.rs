//! The command line's own description: every argument explained, `import --help` true to the
//! importer, completions and manual pages made from the same definitions, options offered only
//! where they apply, and `--demo` reaching the demo database. The real binary throughout.

mod common;

use clap::CommandFactory;
use common::{fails, ifind_embedded, ok};
use ifind::cli::Cli;

/// Every argument of every command, at every depth, after clap has built the tree (so global
/// options are counted where they are offered): (command path, argument id) of those without
/// help text.
fn undocumented(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
    if cmd.get_about().is_none() && cmd.get_long_about().is_none() {
        missing.push(format!("`{path}` itself"));
    }
    for arg in cmd.get_arguments() {
        if arg.is_hide_set() {
            continue;
        }
        let help = arg
            .get_help()
            .or_else(|| arg.get_long_help())
            .map(|h| h.to_string())
            .unwrap_or_default();
        if help.trim().is_empty() {
            missing.push(format!("`{path}` {}", arg.get_id()));
        }
    }
    for sub in cmd.get_subcommands() {
        undocumented(sub, &format!("{path} {}", sub.get_name()), missing);
    }
}

#[test]
fn every_argument_of_every_command_has_a_description() {
    let mut cmd = Cli::command();
    cmd.build();
    let mut missing = Vec::new();
    undocumented(&cmd, "ifind", &mut missing);
    assert!(
        missing.is_empty(),
        "arguments without help:\n{}",
        missing.join("\n")
    );
}

/// The help as a person sees it: every entry under Arguments and Options of every `--help` page
/// of the real binary has words with it, on its line or the next.
#[test]
fn every_help_page_explains_its_options() {
    let mut cmd = Cli::command();
    cmd.build();
    let mut paths: Vec<Vec<String>> = vec![vec![]];
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        paths.push(vec![sub.get_name().to_string()]);
        for leaf in sub.get_subcommands().filter(|s| s.get_name() != "help") {
            paths.push(vec![
                sub.get_name().to_string(),
                leaf.get_name().to_string(),
            ]);
        }
    }
    assert!(paths.len() > 30, "{paths:?}");
    for path in paths {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let out = ok(&ifind_embedded(&args, None));
        let lines: Vec<&str> = out.lines().collect();
        let mut in_lists = false;
        let mut entries = 0;
        for (i, line) in lines.iter().enumerate() {
            if line.starts_with("Arguments:") || line.starts_with("Options:") {
                in_lists = true;
                continue;
            }
            if !line.is_empty() && !line.starts_with(' ') {
                in_lists = false;
            }
            let trimmed = line.trim_start();
            let indent = line.len() - trimmed.len();
            let is_entry =
                in_lists && (2..=6).contains(&indent) && trimmed.starts_with(['-', '[', '<']);
            if !is_entry {
                continue;
            }
            entries += 1;
            // `  --name <VALUE>  words`, or the words on the next, deeper line.
            let same_line = trimmed
                .split_once("  ")
                .is_some_and(|(_, words)| !words.trim().is_empty());
            let next_line = lines.get(i + 1).is_some_and(|next| {
                let words = next.trim_start();
                !words.is_empty() && next.len() - words.len() > indent
            });
            assert!(
                same_line || next_line,
                "`ifind {}`: {trimmed:?} has no description\n{out}",
                path.join(" ")
            );
        }
        assert!(
            entries > 0,
            "`ifind {}`: no entries read in\n{out}",
            path.join(" ")
        );
        if path
            .first()
            .is_some_and(|p| p == "db" || p == "migrate" || p == "demo")
        {
            assert!(!out.contains("--as") && !out.contains("--demo"), "{out}");
        }
    }
}

#[test]
fn import_help_lists_the_columns_and_formats() {
    let out = ok(&ifind_embedded(&["import", "--help"], None));
    for column in ifind::csvio::COLUMNS
        .iter()
        .chain(ifind::csvio::EXTRA_COLUMNS.iter())
    {
        assert!(out.contains(column), "no {column} in:\n{out}");
    }
    let required = out
        .lines()
        .find(|l| l.trim_start().starts_with("required:"))
        .unwrap_or_default();
    for column in ifind::csvio::REQUIRED_COLUMNS {
        assert!(required.contains(column), "{required}");
    }
    for shown in [
        "YYYY-MM-DD HH:MM",
        "YYYY-MM-DDTHH:MM:SS[.fff]",
        "IANA",
        "Europe/London",
        "+01:00",
    ] {
        assert!(out.contains(shown), "no {shown} in:\n{out}");
    }
    // The short help stays short.
    let short = ok(&ifind_embedded(&["import", "-h"], None));
    assert!(!short.contains("required:"), "{short}");
    // The example it shows is a file the importer takes, row for row.
    let rows = ifind::csvio::read_csv(ifind::csvio::EXAMPLE_CSV.as_bytes())
        .unwrap_or_else(|e| panic!("the help's example does not import: {e}"));
    assert_eq!(rows.len(), 2);
    for line in ifind::csvio::EXAMPLE_CSV.lines() {
        assert!(out.contains(line), "the example is not shown whole:\n{out}");
    }
    // Each offset the help names is one the parser takes.
    for (offset, zone) in [
        ("+01:00", chrono_tz::Etc::GMTMinus1),
        ("-0500", chrono_tz::Etc::GMTPlus5),
        ("+01", chrono_tz::Etc::GMTMinus1),
        ("Z", chrono_tz::UTC),
    ] {
        assert!(
            ifind::domain::interaction::OFFSET_EXAMPLES.contains(&offset),
            "{offset}"
        );
        let text = format!("2026-03-02 14:00 {offset}");
        ifind::domain::interaction::parse_wall_clock(&text, zone)
            .unwrap_or_else(|e| panic!("{text}: {e}"));
    }
}

#[test]
fn completions_are_printed_for_each_shell() {
    let bash = ok(&ifind_embedded(&["completions", "bash"], None));
    assert!(bash.contains("ifind"), "{bash}");
    for name in ["search", "import", "export", "completions", "man", "db"] {
        assert!(bash.contains(name), "no {name} in the bash script");
    }
    for shell in ["zsh", "fish"] {
        let script = ok(&ifind_embedded(&["completions", shell], None));
        assert!(
            script.contains("ifind") && script.contains("search"),
            "{shell}"
        );
    }
    let err = fails(&ifind_embedded(&["completions", "tcsh"], None), 2);
    assert!(err.contains("tcsh"), "{err}");
}

#[test]
fn man_pages_are_roff() {
    let page = ok(&ifind_embedded(&["man"], None));
    assert!(page.starts_with(".ie") || page.starts_with(".TH"), "{page}");
    assert!(page.contains(".TH ifind 1"), "{page}");
    assert!(page.contains("search"), "{page}");
    let page = ok(&ifind_embedded(&["man", "db", "restore"], None));
    assert!(
        page.contains(".TH ifind\\-db\\-restore 1") || page.contains(".TH ifind-db-restore 1"),
        "{page}"
    );
    assert!(page.contains("\\-\\-to"), "{page}");
    let page = ok(&ifind_embedded(&["man", "import"], None));
    assert!(page.contains("timezone"), "{page}");
    let err = fails(&ifind_embedded(&["man", "nonsense"], None), 2);
    assert!(err.contains("nonsense") && err.contains("search"), "{err}");
}

/// A reader that has gone (`ifind man | head -1`) ends the command quietly with 0; a full disk
/// is an error that says so.
#[test]
fn printing_into_a_closed_pipe_is_quiet_and_a_full_disk_is_not() {
    use std::process::{Command, Stdio};
    let run = |args: &[&str], stdout: Stdio| {
        Command::new(env!("CARGO_BIN_EXE_ifind"))
            .args(args)
            .stdout(stdout)
            .stderr(Stdio::piped())
            .output()
            .expect("run ifind")
    };
    for args in [&["man"][..], &["completions", "zsh"][..]] {
        let (reader, writer) = std::io::pipe().expect("a pipe");
        drop(reader);
        let out = run(args, writer.into());
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
        assert!(err.is_empty(), "{args:?}: {err}");

        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full");
        let out = run(args, full.into());
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains("cannot write the output") && err.contains("No space left on device"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn as_and_demo_are_refused_where_they_do_not_apply() {
    for args in [
        &["db", "status", "--as", "x"][..],
        &["db", "--as=x", "status"][..],
        &["--as", "x", "db", "status"][..],
        &["migrate", "--as", "x"][..],
        &["demo", "--as", "x"][..],
        &["--as", "x", "demo"][..],
        &["completions", "bash", "--as", "x"][..],
    ] {
        let err = fails(&ifind_embedded(args, None), 2);
        assert!(
            err.contains("`--as` does not apply to `ifind"),
            "{args:?}: {err}"
        );
        assert!(err.contains("search"), "names where it applies: {err}");
    }
    let err = fails(&ifind_embedded(&["db", "status", "--demo"], None), 2);
    assert!(
        err.contains("`--demo` does not apply to `ifind db status`"),
        "{err}"
    );
    let err = fails(&ifind_embedded(&["--demo", "migrate"], None), 2);
    assert!(
        err.contains("`--demo` does not apply to `ifind migrate`"),
        "{err}"
    );
    let err = fails(&ifind_embedded(&["--as", "x"], None), 2);
    assert!(err.contains("terminal UI"), "{err}");
    // Where it applies, both places are offered.
    let help = ok(&ifind_embedded(&["search", "--help"], None));
    assert!(
        help.contains("--as <USER>") && help.contains("--demo"),
        "{help}"
    );
    let help = ok(&ifind_embedded(&["site", "list", "--help"], None));
    assert!(help.contains("--as <USER>"), "{help}");
    let help = ok(&ifind_embedded(&["db", "status", "--help"], None));
    assert!(!help.contains("--as") && !help.contains("--demo"), "{help}");
    let help = ok(&ifind_embedded(&["completions", "--help"], None));
    assert!(!help.contains("--config"), "{help}");
}

/// Stops the embedded cluster of a test's own config when the test ends, passed or not.
struct StopCluster(String);

impl Drop for StopCluster {
    fn drop(&mut self) {
        let _ = ifind_embedded(&["--config", &self.0, "db", "stop"], None);
    }
}

/// `--demo` runs the commands for scripts on the demo database `ifind demo` shows, filling it
/// on first use.
#[test]
fn demo_search_reads_the_demo_database() {
    let home = tempfile::Builder::new()
        .prefix("ifind-demo-")
        .tempdir_in("/tmp")
        .expect("dir");
    // The server's OS user must reach the directory when we run as root.
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(home.path(), std::fs::Permissions::from_mode(0o755))
            .expect("chmod");
    }
    let config = home.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[embedded]\ndata_dir = \"{}\"\nfallback_dir = \"{}\"\n",
            home.path().join("pg").display(),
            home.path().join("fallback").display()
        ),
    )
    .expect("config");
    let cfg = config.to_str().expect("utf8").to_string();
    let _stop = StopCluster(cfg.clone());
    let run = |args: &[&str]| {
        let mut all = vec!["--config", cfg.as_str()];
        all.extend_from_slice(args);
        ifind_embedded(&all, None)
    };

    // The first use fills the demo database, and says so on standard error.
    let out = run(&["--demo", "site", "list", "--format", "json"]);
    let sites = ok(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("creating the demo database"), "{stderr}");
    let list: serde_json::Value = serde_json::from_str(&sites).expect("json");
    let site = list
        .as_array()
        .and_then(|a| a.first())
        .and_then(|s| s.get("name"))
        .and_then(|n| n.as_str())
        .unwrap_or_else(|| panic!("no site in {sites}"))
        .to_string();

    // Search, before or after the command's name, finds the demo's rows.
    let found = ok(&run(&[
        "--demo", "search", "--site", &site, "--format", "json",
    ]));
    let doc: serde_json::Value = serde_json::from_str(&found).expect("json");
    let hits = doc
        .get("hits")
        .or_else(|| doc.get("results"))
        .and_then(|h| h.as_array())
        .map(Vec::len)
        .unwrap_or(0);
    assert!(hits > 0, "{found}");
    let out = run(&["search", "--site", &site, "--demo", "--limit", "3"]);
    let table = ok(&out);
    assert!(table.lines().count() >= 3, "{table}");
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("creating"),
        "filled once"
    );
    let csv = ok(&run(&["export", "--demo", "--site", &site]));
    assert!(
        csv.starts_with("title,type,lead,start,end,timezone"),
        "{csv}"
    );

    // The main database is another: it has no users, so no such site.
    let err = fails(&run(&["search", "--site", &site]), 1);
    assert!(!err.is_empty());
}
