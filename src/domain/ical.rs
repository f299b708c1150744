//! iCalendar (RFC 5545) text for interactions: one VEVENT each, inside a VCALENDAR, so that a
//! search lands in a calendar (`ifind export --format ics`).
//!
//! Times are UTC (`DTSTART:20261121T140000Z`); the interaction's own zone is named in the
//! description. TEXT values are escaped (backslash, semicolon, comma, line breaks), control and
//! bidirectional characters first shown as escapes as every other output does, and every content
//! line is folded at 75 octets without splitting a character. Lines end in CRLF.

use chrono::{DateTime, Utc};

use super::format::escape_multi_line;
use super::interaction::Interaction;

/// The line end RFC 5545 requires.
const CRLF: &str = "\r\n";
/// The longest content line, in octets, before folding (the line end not counted).
const FOLD_AT: usize = 75;

/// A TEXT value escaped per RFC 5545 (3.3.11): `\` as `\\`, `;` as `\;`, `,` as `\,`, and
/// every line break (LF, CRLF or a lone CR) as `\n`.
pub fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            c => out.push(c),
        }
    }
    out
}

/// One content line folded per RFC 5545 (3.1): at most 75 octets per line, each continuation
/// starting with one space (which counts), never splitting a UTF-8 character; every line ends in
/// CRLF.
pub fn fold(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + line.len() / 60 * 3 + 2);
    let mut used = 0;
    for c in line.chars() {
        let len = c.len_utf8();
        if used + len > FOLD_AT {
            out.push_str(CRLF);
            out.push(' ');
            used = 1;
        }
        out.push(c);
        used += len;
    }
    out.push_str(CRLF);
    out
}

/// An instant as an RFC 5545 UTC date-time: `20261121T140000Z`.
pub fn utc_stamp(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

/// The calendar's opening lines; `name` (the site) becomes its display name.
pub fn begin_calendar(name: &str) -> String {
    [
        "BEGIN:VCALENDAR".to_string(),
        "VERSION:2.0".to_string(),
        format!("PRODID:-//ifind//ifind {}//EN", env!("CARGO_PKG_VERSION")),
        "CALSCALE:GREGORIAN".to_string(),
        "METHOD:PUBLISH".to_string(),
        format!("X-WR-CALNAME:{}", text(name)),
    ]
    .iter()
    .map(|l| fold(l))
    .collect()
}

/// The calendar's closing line.
pub fn end_calendar() -> String {
    fold("END:VCALENDAR")
}

/// A TEXT value as written: control characters shown as escapes, then RFC 5545 escaping.
fn text(value: &str) -> String {
    escape_text(&escape_multi_line(value))
}

/// The VEVENT of `i`, stamped `stamp` (when the export ran). Its UID is stable across exports
/// (`interaction-ID@ifind`), so importing a newer export updates the events, and SEQUENCE
/// follows the record's version.
pub fn event(i: &Interaction, stamp: DateTime<Utc>) -> String {
    let mut description = format!(
        "Type: {}\nLead: {}\nTimezone: {}",
        i.kind, i.lead, i.timezone
    );
    if let Some(d) = i.description.as_deref().filter(|d| !d.trim().is_empty()) {
        description.push_str("\n\n");
        description.push_str(d);
    }
    if let Some(n) = i.notes.as_deref().filter(|n| !n.trim().is_empty()) {
        description.push_str("\n\nNotes:\n");
        description.push_str(n);
    }
    let mut lines = vec![
        "BEGIN:VEVENT".to_string(),
        format!("UID:interaction-{}@ifind", i.interaction_id),
        format!("DTSTAMP:{}", utc_stamp(stamp)),
        format!("DTSTART:{}", utc_stamp(i.start_datetime)),
        format!("DTEND:{}", utc_stamp(i.end_datetime)),
        format!("SUMMARY:{}", text(&i.title)),
    ];
    if let Some(location) = i.location.as_deref().filter(|l| !l.trim().is_empty()) {
        lines.push(format!("LOCATION:{}", text(location)));
    }
    lines.push(format!("DESCRIPTION:{}", text(&description)));
    lines.push(format!("CATEGORIES:{}", text(&i.kind)));
    lines.push(format!("CREATED:{}", utc_stamp(i.created_at)));
    lines.push(format!(
        "LAST-MODIFIED:{}",
        utc_stamp(i.updated_at.unwrap_or(i.created_at))
    ));
    lines.push(format!("SEQUENCE:{}", (i.version - 1).max(0)));
    lines.push("END:VEVENT".to_string());
    lines.iter().map(|l| fold(l)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn interaction() -> Interaction {
        let start = Utc
            .with_ymd_and_hms(2026, 11, 21, 14, 0, 0)
            .single()
            .expect("a time");
        Interaction {
            interaction_id: 42,
            site_id: 7,
            title: "Budget review; Q4, draft \\ final".into(),
            kind: "Meeting".into(),
            lead: "Ana Souza".into(),
            start_datetime: start,
            timezone: "Europe/London".into(),
            end_datetime: start + chrono::Duration::minutes(90),
            location: Some("Room 4, Leeds".into()),
            description: Some("Line one\nLine two\r\nLine three".into()),
            notes: None,
            created_by: 3,
            created_at: start - chrono::Duration::days(2),
            updated_by: None,
            updated_at: None,
            version: 3,
        }
    }

    #[test]
    fn text_is_escaped_as_rfc_5545_says() {
        assert_eq!(escape_text("a,b;c\\d"), "a\\,b\\;c\\\\d");
        assert_eq!(
            escape_text("one\ntwo\r\nthree\rfour"),
            "one\\ntwo\\nthree\\nfour"
        );
        assert_eq!(escape_text("plain: words"), "plain: words");
        // Control characters never reach the file raw.
        assert_eq!(text("bell\u{7}"), "bell\\\\u{7}");
    }

    #[test]
    fn lines_fold_at_75_octets_without_splitting_a_character() {
        let short = "SUMMARY:short";
        assert_eq!(fold(short), "SUMMARY:short\r\n");
        let exactly = format!("SUMMARY:{}", "x".repeat(75 - 8));
        assert_eq!(fold(&exactly), format!("{exactly}\r\n"), "75 octets fit");
        let long = format!("DESCRIPTION:{}", "é".repeat(100));
        let folded = fold(&long);
        let lines: Vec<&str> = folded.split("\r\n").filter(|l| !l.is_empty()).collect();
        assert!(lines.len() > 2, "{folded}");
        for (n, line) in lines.iter().enumerate() {
            assert!(
                line.len() <= 75,
                "line {n} has {} octets: {line:?}",
                line.len()
            );
            assert_eq!(
                n > 0,
                line.starts_with(' '),
                "continuations start with a space"
            );
        }
        // Unfolding (remove CRLF + one space) gives the line back, every é whole.
        assert_eq!(folded.replace("\r\n ", "").trim_end_matches("\r\n"), long);
        assert_eq!(
            lines[0].len(),
            74,
            "a two-octet character that would pass 75 moves on"
        );
    }

    #[test]
    fn an_event_has_the_fields_a_calendar_needs() {
        let stamp = Utc
            .with_ymd_and_hms(2026, 11, 1, 8, 0, 5)
            .single()
            .expect("a time");
        let ics = event(&interaction(), stamp);
        let unfolded = ics.replace("\r\n ", "");
        let lines: Vec<&str> = unfolded.split("\r\n").collect();
        for expected in [
            "BEGIN:VEVENT",
            "UID:interaction-42@ifind",
            "DTSTAMP:20261101T080005Z",
            "DTSTART:20261121T140000Z",
            "DTEND:20261121T153000Z",
            "SUMMARY:Budget review\\; Q4\\, draft \\\\ final",
            "LOCATION:Room 4\\, Leeds",
            "DESCRIPTION:Type: Meeting\\nLead: Ana Souza\\nTimezone: Europe/London\\n\\nLine \
             one\\nLine two\\nLine three",
            "SEQUENCE:2",
            "END:VEVENT",
        ] {
            assert!(
                lines.contains(&expected),
                "{expected} missing from {lines:#?}"
            );
        }
        assert!(ics.ends_with("END:VEVENT\r\n"));
        assert!(!ics.replace("\r\n", "").contains('\n'), "no bare line feed");
        let calendar = begin_calendar("North, \"Leeds\"") + &ics + &end_calendar();
        assert!(calendar.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:"));
        assert!(calendar.contains("X-WR-CALNAME:North\\, \"Leeds\"\r\n"));
        assert!(calendar.ends_with("END:VCALENDAR\r\n"));
    }
}
