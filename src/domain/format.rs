//! Formatting shared by the commands and the screens: numbers, and text made safe to print.
//!
//! # Text that stays data
//!
//! A stored value must never act on the terminal (or the clipboard, or a spreadsheet) that
//! shows it. Two kinds of characters are refused in every stored text field, by the app first
//! ([`first_forbidden`]) and by the database's CHECK constraints as the backstop (migration
//! 0010), and escaped wherever text is printed ([`escape`], [`escape_multi_line`]):
//! - control characters: C0 (U+0001–U+001F), DEL (U+007F) and C1 (U+0080–U+009F); multi-line
//!   fields (an interaction's description and notes, a site's description) keep line feeds,
//!   tabs and the carriage return of a CRLF line end;
//! - the bidirectional overrides and isolates U+202A–U+202E and U+2066–U+2069, which reorder how
//!   the rest of a line is displayed ("Trojan Source"). The marks U+200E/U+200F only set the
//!   direction of neutral characters and stay allowed.
//!
//! The escaped form of a character is `\u{1b}` (its code in hex), visible and one line.

use std::borrow::Cow;
use std::time::Duration;

/// A duration as people read it: "800 ms", "2 s", "1.5 s".
pub fn show_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms} ms")
    } else if ms.is_multiple_of(1000) {
        format!("{} s", ms / 1000)
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// Among `names`, the one `typed` names regardless of case (when exactly one does), else the
/// names close to it (case aside, at most one edit apart per four letters typed and never more
/// than two, or containing it), best first, at most three: for "did you mean".
pub fn match_name<'a>(typed: &str, names: &'a [String]) -> Result<&'a str, Vec<&'a str>> {
    let lower = typed.to_lowercase();
    let same: Vec<&str> = names
        .iter()
        .filter(|n| n.to_lowercase() == lower)
        .map(String::as_str)
        .collect();
    if let [one] = same.as_slice() {
        return Ok(one);
    }
    // A short name is near nothing but itself: one edit turns "B" into any one-letter name.
    let length = lower.chars().count();
    let allowed = (length / 4).min(2);
    let mut near: Vec<(usize, &str)> = names
        .iter()
        .filter_map(|n| {
            let candidate = n.to_lowercase();
            let distance = super::similar::levenshtein(&lower, &candidate);
            (distance <= allowed || (length >= 3 && candidate.contains(&lower)))
                .then_some((distance, n.as_str()))
        })
        .collect();
    near.sort();
    Err(near.into_iter().take(3).map(|(_, n)| n).collect())
}

/// A count with its noun in the right number, the count with thousands separators:
/// "1 interaction", "1,500 interactions".
pub fn counted(n: impl Into<i128>, one: &str, many: &str) -> String {
    let n = n.into();
    format!("{} {}", thousands(n), if n == 1 { one } else { many })
}

/// An integer with thousands separators: 1234567 -> "1,234,567", -1000 -> "-1,000".
pub fn thousands(n: impl Into<i128>) -> String {
    let n: i128 = n.into();
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A bidirectional override or isolate (U+202A–U+202E, U+2066–U+2069).
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// A character no stored text may hold and no output prints as it is: a control character
/// (C0, DEL, C1) or a bidirectional override or isolate. Line feeds and tabs count too; see
/// [`first_forbidden`] for where they are allowed.
pub fn is_unsafe_char(c: char) -> bool {
    c.is_control() || is_bidi_control(c)
}

/// What a refused character is, for messages: "a control character (U+001B)", "a line break",
/// "a bidirectional override (U+202E)".
pub fn describe_char(c: char) -> String {
    let code = u32::from(c);
    match c {
        '\n' => "a line break (U+000A)".to_string(),
        '\r' => "a carriage return (U+000D)".to_string(),
        '\t' => "a tab (U+0009)".to_string(),
        '\u{202a}'..='\u{202e}' => format!("a bidirectional override (U+{code:04X})"),
        '\u{2066}'..='\u{2069}' => format!("a bidirectional isolate (U+{code:04X})"),
        _ => format!("a control character (U+{code:04X})"),
    }
}

/// The first character `text` may not hold, with its 1-based position in characters. Single-line
/// text refuses every [`is_unsafe_char`]; multi-line text allows line feeds, tabs and a carriage
/// return directly followed by a line feed (a CRLF line end). The database's CHECK constraints
/// (migration 0010) apply the same rule.
pub fn first_forbidden(text: &str, multi_line: bool) -> Option<(usize, char)> {
    let mut chars = text.chars().enumerate().peekable();
    while let Some((i, c)) = chars.next() {
        if !is_unsafe_char(c) {
            continue;
        }
        let allowed = multi_line
            && match c {
                '\n' | '\t' => true,
                '\r' => chars.peek().is_some_and(|&(_, next)| next == '\n'),
                _ => false,
            };
        if !allowed {
            return Some((i + 1, c));
        }
    }
    None
}

/// The message for a refused character in a field: "title contains a control character
/// (U+001B) at character 5; remove it". `field` is how the person knows the field.
pub fn forbidden_message(field: &str, text: &str, multi_line: bool) -> Option<String> {
    let (pos, c) = first_forbidden(text, multi_line)?;
    let fix = if multi_line || !matches!(c, '\n' | '\r' | '\t') {
        "remove it"
    } else {
        "it must be one line of text, so remove it"
    };
    Some(format!(
        "{field} contains {} at character {pos}; {fix}.",
        describe_char(c)
    ))
}

fn push_escaped(out: &mut String, c: char) {
    out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
}

fn escape_where(text: &str, keep: impl Fn(char, Option<char>) -> bool) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if is_unsafe_char(c) && !keep(c, chars.peek().copied()) {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `text` for a one-line output: every [`is_unsafe_char`] (line breaks and tabs included)
/// becomes its visible escape, e.g. ESC becomes `\u{1b}`.
pub fn escape(text: &str) -> Cow<'_, str> {
    escape_where(text, |_, _| false)
}

/// `text` for an output that may span lines (CSV cells, the clipboard's description): line
/// feeds, tabs and CRLF line ends stay, every other [`is_unsafe_char`] becomes its escape.
pub fn escape_multi_line(text: &str) -> Cow<'_, str> {
    escape_where(text, |c, next| match c {
        '\n' | '\t' => true,
        '\r' => next == Some('\n'),
        _ => false,
    })
}

/// Serialised JSON made safe for a terminal, with the same meaning: serde_json escapes C0
/// itself, and this writes DEL, C1 and the bidirectional controls as `\uXXXX` escapes too
/// (they can only occur inside strings, where the escape means the same character).
pub fn escape_json(json: String) -> String {
    // C0 characters in serialised JSON are its own whitespace (line breaks of pretty output):
    // inside strings serde_json has escaped them already.
    let needs = |c: char| (is_unsafe_char(c) && !c.is_ascii_control()) || c == '\u{7f}';
    if !json.chars().any(needs) {
        return json;
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if needs(c) {
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_by_three() {
        assert_eq!(thousands(0u64), "0");
        assert_eq!(thousands(999i64), "999");
        assert_eq!(thousands(1000u64), "1,000");
        assert_eq!(thousands(1_234_567i64), "1,234,567");
        assert_eq!(thousands(-1000i64), "-1,000");
    }

    #[test]
    fn names_match_regardless_of_case_and_near_misses_are_offered() {
        let names: Vec<String> = ["Leeds", "Leeds Office", "Harbor Street Office", "York"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(match_name("leeds", &names), Ok("Leeds"));
        assert_eq!(match_name("YORK", &names), Ok("York"));
        assert_eq!(match_name("Yorkk", &names), Err(vec!["York"]));
        // Closest first.
        assert_eq!(
            match_name("office", &names),
            Err(vec!["Leeds Office", "Harbor Street Office"])
        );
        assert_eq!(match_name("Paris", &names), Err(Vec::new()));
        // One letter is near no other one letter.
        let letters: Vec<String> = vec!["A".into(), "C".into()];
        assert_eq!(match_name("B", &letters), Err(Vec::new()));
        assert_eq!(crate::domain::similar::levenshtein("kitten", "sitting"), 3);
    }
}

#[cfg(test)]
mod text_tests {
    use super::*;

    #[test]
    fn classifies_controls_and_bidi() {
        for c in [
            '\u{1}', '\u{1b}', '\u{7f}', '\u{80}', '\u{9b}', '\u{9f}', '\u{202a}', '\u{202e}',
            '\u{2066}', '\u{2069}', '\n', '\t', '\r',
        ] {
            assert!(is_unsafe_char(c), "{c:?}");
        }
        for c in [
            'a', ' ', 'é', '\u{200e}', '\u{200f}', '\u{200d}', '\u{a0}', '\u{2029}',
        ] {
            assert!(!is_unsafe_char(c), "{c:?}");
        }
    }

    #[test]
    fn finds_the_first_forbidden_character() {
        assert_eq!(
            first_forbidden("abcd\u{1b}[31m", false),
            Some((5, '\u{1b}'))
        );
        assert_eq!(first_forbidden("plain", false), None);
        assert_eq!(first_forbidden("a\nb", false), Some((2, '\n')));
        assert_eq!(first_forbidden("a\nb\tc\r\nd", true), None);
        assert_eq!(first_forbidden("a\rb", true), Some((2, '\r')));
        assert_eq!(first_forbidden("a\r", true), Some((2, '\r')));
        assert_eq!(first_forbidden("x\u{202e}y", true), Some((2, '\u{202e}')));
        assert_eq!(
            forbidden_message("Title", "abcd\u{1b}", false).as_deref(),
            Some("Title contains a control character (U+001B) at character 5; remove it.")
        );
        assert_eq!(
            forbidden_message("Notes", "\u{2067}x", true).as_deref(),
            Some("Notes contains a bidirectional isolate (U+2067) at character 1; remove it.")
        );
    }

    #[test]
    fn escapes_visibly() {
        assert_eq!(escape("plain text"), "plain text");
        assert!(matches!(escape("plain"), Cow::Borrowed(_)));
        assert_eq!(escape("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(escape("a\nb\tc"), "a\\u{a}b\\u{9}c");
        assert_eq!(escape("\u{202e}fdp.exe"), "\\u{202e}fdp.exe");
        assert_eq!(escape("\u{9b}31m\u{7f}"), "\\u{9b}31m\\u{7f}");
        assert_eq!(
            escape_multi_line("one\r\ntwo\n\tthree\rfour\u{7}"),
            "one\r\ntwo\n\tthree\\u{d}four\\u{7}"
        );
        for text in ["a\u{1b}b", "\u{202e}x\u{2066}", "\u{85}\u{9f}", "\r\n\t"] {
            assert!(!escape(text).chars().any(is_unsafe_char), "{text:?}");
        }
    }

    #[test]
    fn json_escapes_keep_the_meaning() {
        let value = serde_json::json!({ "t": "a\u{1b}b\u{7f}c\u{9b}d\u{202e}e\nf" });
        let text = escape_json(value.to_string());
        assert!(!text.chars().any(is_unsafe_char), "{text}");
        assert!(
            text.contains("\\u007f") && text.contains("\\u202e"),
            "{text}"
        );
        let back: serde_json::Value = serde_json::from_str(&text).expect("still JSON");
        assert_eq!(back, value);
        let pretty = escape_json(serde_json::to_string_pretty(&value).expect("pretty"));
        let back: serde_json::Value = serde_json::from_str(&pretty).expect("still JSON");
        assert_eq!(back, value);
    }
}

/// The text form of a UUID with the version 4 and variant bits set in `bytes`
/// (xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx).
pub fn uuid_v4_text(mut bytes: [u8; 16]) -> String {
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}
