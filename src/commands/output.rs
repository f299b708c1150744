//! Plain text tables for command output.
//!
//! Every cell is printed escaped ([`escape`]): a stored value never acts on the terminal.

use crate::domain::format::escape;

/// Prints rows under a header, columns padded to their widest cell (in characters). Control
/// and bidirectional characters in a cell are shown escaped (`\u{1b}`), so a row is one line.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|row| row.iter().map(|cell| escape(cell).into_owned()).collect())
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let mut out = String::new();
    let mut line = |cells: Vec<&str>| {
        let last = cells.len().saturating_sub(1);
        for (i, cell) in cells.iter().enumerate() {
            out.push_str(cell);
            if i < last {
                let pad = widths[i].saturating_sub(cell.chars().count()) + 2;
                out.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push('\n');
    };
    line(header.to_vec());
    for row in &rows {
        line(row.iter().map(String::as_str).collect());
    }
    out
}

/// Shortens text to `max` characters with an ellipsis, on one line: line breaks and tabs become
/// spaces, any other control or bidirectional character its escape (`\u{1b}`).
pub fn clip(text: &str, max: usize) -> String {
    let spaced: String = text
        .chars()
        .map(|c| {
            if matches!(c, '\n' | '\r' | '\t') {
                ' '
            } else {
                c
            }
        })
        .collect();
    let one_line = escape(&spaced).into_owned();
    if one_line.chars().count() <= max {
        one_line
    } else {
        let mut s: String = one_line.chars().take(max.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}

pub use crate::domain::format::thousands;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(clip("abc\ndef", 10), "abc def");
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(clip("a\u{1b}[2Jb\u{202e}", 20), "a\\u{1b}[2Jb\\u{202e}");
        assert_eq!(
            table(&["a"], &[vec!["x\u{9b}y\nz".into()]]),
            "a\nx\\u{9b}y\\u{a}z\n"
        );
        assert_eq!(
            table(&["a", "bb"], &[vec!["xyz".into(), "1".into()]]),
            "a    bb\nxyz  1\n"
        );
    }
}
