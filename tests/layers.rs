//! The direction of imports (issue 12): `domain` <- `db` <- `service` <- `app` <- `ui` <- `tui`
//! (the terminal loop), with `commands` beside `app` over `service`. Every source file under
//! `src/` is read and each `crate::MODULE` it names (and each `sqlx::` / `ratatui::`) is checked against the layer the
//! file belongs to (its first folder or file name under `src/`).
//!
//! Until the structure work is done the loops that exist are listed in `KNOWN` (file, what it
//! names): the test fails for any loop not listed, and for a listed one that is gone (so that the
//! list only shrinks, and says what is left).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// What each layer may not name.
const RULES: &[(&str, &[&str])] = &[
    (
        "domain",
        &[
            "db", "service", "app", "ui", "commands", "config", "sqlx", "ratatui",
        ],
    ),
    ("db", &["service", "app", "ui", "commands", "config"]),
    ("service", &["app", "ui", "commands", "config"]),
    ("ui", &["db", "service", "commands"]),
    ("app", &["commands", "ui"]),
    ("commands", &["app", "ui"]),
];

/// What a test file (`tests.rs`, `test_support.rs`) of a layer may name besides: the app's
/// tests draw frames, as the terminal loop does.
const TESTS_MAY_NAME: &[(&str, &[&str])] = &[("app", &["ui"])];

/// Files held to more than their layer: the reducers know no screen geometry (they read the
/// layout the last draw reported, `app::state::Drawn`).
const FILE_RULES: &[(&str, &[&str])] = &[
    ("app/update.rs", &["ratatui", "ui"]),
    ("app/finder.rs", &["ratatui", "ui"]),
];

/// Whether a file under src/ holds tests only.
fn is_test_file(relative: &Path) -> bool {
    relative
        .file_name()
        .is_some_and(|n| n == "tests.rs" || n == "test_support.rs")
}

/// Loops still in the code: (file under src/, what it names). Remove a line when its loop goes.
const KNOWN: &[(&str, &str)] = &[];

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The layer of a file: its first component under src/, without `.rs`.
fn layer(relative: &Path) -> String {
    let first = relative
        .components()
        .next()
        .map(|c| c.as_os_str().to_string_lossy().to_string())
        .unwrap_or_default();
    first.trim_end_matches(".rs").to_string()
}

/// The modules and crates a file's text names, outside comments.
fn named(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or("");
        for (at, _) in code.match_indices("crate::") {
            let before = code[..at].chars().last();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue; // e.g. `some_crate::`
            }
            let rest = &code[at + "crate::".len()..];
            // `crate::{db::x, app}`: every first name at the top level of the group.
            let heads: Vec<&str> = match rest.strip_prefix('{') {
                Some(group) => top_level_items(group),
                None => vec![rest],
            };
            for head in heads {
                let module: String = head
                    .trim_start()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !module.is_empty() {
                    out.insert(module);
                }
            }
        }
        for krate in ["sqlx", "ratatui"] {
            let mut from = 0;
            while let Some(i) = code[from..].find(krate) {
                let at = from + i;
                let before = code[..at].chars().last();
                let after = &code[at + krate.len()..];
                if !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':')
                    && (after.starts_with("::") || after.starts_with(';'))
                {
                    out.insert(krate.to_string());
                }
                from = at + krate.len();
            }
        }
    }
    out
}

/// The items of a `{...}` group up to its closing brace, split at its top-level commas.
fn top_level_items(group: &str) -> Vec<&str> {
    let mut items = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    for (i, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => {
                items.push(&group[start..i]);
                return items;
            }
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&group[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&group[start..]);
    items
}

#[test]
fn imports_run_one_way() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&root, &mut files);
    files.sort();
    assert!(files.len() > 50, "the sources were found: {}", files.len());
    let mut found = BTreeSet::new();
    for file in &files {
        let relative = file.strip_prefix(&root).expect("under src");
        let layer = layer(relative);
        let Some((_, banned)) = RULES.iter().find(|(l, _)| *l == layer) else {
            continue;
        };
        let allowed: &[&str] = match TESTS_MAY_NAME.iter().find(|(l, _)| *l == layer) {
            Some((_, names)) if is_test_file(relative) => names,
            _ => &[],
        };
        let text = std::fs::read_to_string(file).expect("read");
        let own: &[&str] = FILE_RULES
            .iter()
            .find(|(f, _)| Path::new(f) == relative)
            .map_or(&[], |(_, names)| names);
        for name in named(&text) {
            let name_banned = banned.contains(&name.as_str()) || own.contains(&name.as_str());
            if name_banned && !allowed.contains(&name.as_str()) {
                found.insert((relative.display().to_string(), name));
            }
        }
    }
    let known: BTreeSet<(String, String)> = KNOWN
        .iter()
        .map(|(f, n)| (f.to_string(), n.to_string()))
        .collect();
    let new: Vec<_> = found.difference(&known).collect();
    let gone: Vec<_> = known.difference(&found).collect();
    assert!(
        new.is_empty(),
        "imports against the layers (domain <- db <- service <- app <- ui; commands over \
         service): {new:#?}"
    );
    assert!(
        gone.is_empty(),
        "these loops are gone: remove them from KNOWN: {gone:#?}"
    );
}

#[test]
fn the_scanner_sees_what_a_file_names() {
    let text = "use crate::db::search::Sort;\n\
                // crate::ui in a comment\n\
                fn f() -> sqlx::Result<()> { crate::app::x(); ratatui::init(); }\n\
                use other_crate::thing;\n";
    let names: Vec<String> = named(text).into_iter().collect();
    assert_eq!(names, ["app", "db", "ratatui", "sqlx"]);
    let grouped = "use crate::{domain::query, ui::{theme, layout}, config};\n";
    let names: Vec<String> = named(grouped).into_iter().collect();
    assert_eq!(names, ["config", "domain", "ui"]);
}
