//! The drafts the terminal UI keeps on this machine (`crate::app::drafts`), as far as the
//! command line reaches them: erasing a person's name from them (`ifind erase`).

use std::path::Path;

/// Erasure (`ifind erase --lead NAME`) on this machine's drafts: every mention of `name` (as a
/// whole word, any case, as the database's erasure matches it) in the typed text of every draft
/// under `root` (the drafts of every database: `root` and its folders) becomes `replacement`.
/// Returns how many draft files changed. A file that is not a draft is left alone.
pub fn erase_name(root: &Path, name: &str, replacement: &str) -> std::io::Result<usize> {
    let mut files = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        for entry in entries {
            let entry = entry?;
            let kind = entry.file_type()?;
            if kind.is_dir() {
                dirs.push(entry.path());
            } else if kind.is_file() {
                files.push(entry.path());
            }
        }
    }
    let mut changed = 0;
    for path in files {
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
            continue;
        };
        let Some(input) = value
            .get_mut("input")
            .and_then(serde_json::Value::as_object_mut)
        else {
            continue;
        };
        let mut any = false;
        for field in input.values_mut() {
            if let serde_json::Value::String(text) = field
                && let Some(new) = replace_word(text, name, replacement)
            {
                *text = new;
                any = true;
            }
        }
        if any {
            let json = serde_json::to_vec_pretty(&value).map_err(std::io::Error::other)?;
            crate::private_files::write_private(&path, &json)?;
            changed += 1;
        }
    }
    Ok(changed)
}

/// `text` with every whole-word, any-case mention of `name` replaced, or None when it has none.
fn replace_word(text: &str, name: &str, replacement: &str) -> Option<String> {
    let name = name.trim();
    let needle: Vec<char> = name.chars().collect();
    if needle.is_empty() {
        return None;
    }
    let hay: Vec<char> = text.chars().collect();
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let same = |a: char, b: char| a == b || a.to_lowercase().eq(b.to_lowercase());
    let mut out = String::with_capacity(text.len());
    let mut changed = false;
    let mut i = 0;
    while i < hay.len() {
        let end = i + needle.len();
        let found = end <= hay.len()
            && (i == 0 || !word(hay[i - 1]))
            && (end == hay.len() || !word(hay[end]))
            && hay[i..end].iter().zip(&needle).all(|(&a, &b)| same(a, b));
        if found {
            out.push_str(replacement);
            changed = true;
            i = end;
        } else {
            out.push(hay[i]);
            i += 1;
        }
    }
    changed.then_some(out)
}
