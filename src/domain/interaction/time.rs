//! Wall-clock times in IANA zones: parsing what a person typed (including the DST gap and overlap
//! cases), and formatting instants back as wall-clock text in an interaction's own zone.

use std::cell::RefCell;
use std::collections::HashMap;
use std::str::FromStr;

use chrono::format::ParseErrorKind;
use chrono::{
    DateTime, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, Offset, TimeZone, Timelike, Utc,
};
use chrono_tz::{GapInfo, OffsetName, TZ_VARIANTS, Tz};

/// The wall-clock date-times [`parse_wall_clock`] accepts (chrono formats), tried in order.
pub const WALL_CLOCK_FORMATS: [&str; 4] = [
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%dT%H:%M:%S%.f",
];

/// A bare date [`parse_wall_clock`] accepts (chrono format): 00:00 that day.
pub const DATE_FORMAT: &str = "%Y-%m-%d";

/// The UTC offsets [`parse_wall_clock`] accepts after a date-time, as examples.
pub const OFFSET_EXAMPLES: [&str; 4] = ["+01:00", "-0500", "+01", "Z"];

const FORMAT_HINT: &str = "type it as YYYY-MM-DD HH:MM, for example 2026-11-21 14:00";

/// Parses a wall-clock time typed in zone `tz` into an instant.
///
/// Accepted: `YYYY-MM-DD HH:MM`, `YYYY-MM-DD HH:MM:SS` (with optional fractional seconds),
/// `YYYY-MM-DDTHH:MM[:SS]`, and a bare `YYYY-MM-DD`, which means 00:00 that day. An optional UTC
/// offset suffix (`+01:00`, `-0500`, `Z`) picks one of the two instants of an ambiguous
/// (clocks-go-back) time; it must be an offset the zone really uses at that moment.
/// A time inside a clocks-go-forward gap is refused, as is an ambiguous time without an offset.
pub fn parse_wall_clock(text: &str, tz: Tz) -> Result<DateTime<Utc>, String> {
    let (naive, offset) = check_format(text)?;
    let shown = show(naive);
    let name = tz.name();
    let local = tz.from_local_datetime(&naive);
    match offset {
        Some(off) => {
            let valid: Vec<FixedOffset> = match local {
                LocalResult::Single(t) => vec![t.offset().fix()],
                LocalResult::Ambiguous(a, b) => vec![a.offset().fix(), b.offset().fix()],
                LocalResult::None => return Err(gap_message(&shown, naive, tz)),
            };
            if !valid.contains(&off) {
                let list: Vec<String> = valid.iter().map(|o| o.to_string()).collect();
                return Err(format!(
                    "{off} is not the UTC offset of {name} at {shown} (it is {}); correct the \
                     offset or leave it out.",
                    list.join(" or ")
                ));
            }
            match off.from_local_datetime(&naive) {
                LocalResult::Single(t) => Ok(t.with_timezone(&Utc)),
                _ => Err(format!(
                    "\"{}\" is out of range; {FORMAT_HINT}.",
                    text.trim()
                )),
            }
        }
        None => match local {
            LocalResult::Single(t) => Ok(t.with_timezone(&Utc)),
            LocalResult::Ambiguous(a, b) => {
                let (first, second) = if a <= b { (a, b) } else { (b, a) };
                let describe = |t: &DateTime<Tz>| {
                    let off = t.offset().fix();
                    match t.offset().abbreviation() {
                        Some(abbr) if !abbr.starts_with(['+', '-']) => {
                            format!("\"{shown} {off}\" ({abbr})")
                        }
                        _ => format!("\"{shown} {off}\""),
                    }
                };
                Err(format!(
                    "{shown} is ambiguous in {name}: it happens twice because the clocks go back. \
                     Add the UTC offset to pick one: {} for the first or {} for the second.",
                    describe(&first),
                    describe(&second)
                ))
            }
            LocalResult::None => Err(gap_message(&shown, naive, tz)),
        },
    }
}

fn gap_message(shown: &str, naive: NaiveDateTime, tz: Tz) -> String {
    let mut message = format!(
        "{shown} does not exist in {} (clocks go forward); pick a time outside the change",
        tz.name()
    );
    if let Some(gap) = GapInfo::new(&naive, &tz)
        && let (Some((begin, _)), Some(end)) = (gap.begin, gap.end)
    {
        message.push_str(&format!(
            ", before {} or from {}",
            begin.format("%H:%M"),
            end.naive_local().format("%H:%M")
        ));
    }
    message.push('.');
    message
}

/// Checks the format only (for when the zone is unknown): the wall-clock time and the optional
/// offset suffix.
pub(super) fn check_format(text: &str) -> Result<(NaiveDateTime, Option<FixedOffset>), String> {
    let trimmed = text.trim();
    let (body, offset) = split_offset(trimmed)?;
    let body: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut impossible = false;
    for f in WALL_CLOCK_FORMATS {
        match NaiveDateTime::parse_from_str(&body, f) {
            Ok(t) => return Ok((t, offset)),
            Err(e) => {
                impossible |= matches!(
                    e.kind(),
                    ParseErrorKind::OutOfRange | ParseErrorKind::Impossible
                )
            }
        }
    }
    match NaiveDate::parse_from_str(&body, DATE_FORMAT) {
        Ok(d) => return Ok((d.and_time(chrono::NaiveTime::MIN), offset)),
        Err(e) => {
            impossible |= matches!(
                e.kind(),
                ParseErrorKind::OutOfRange | ParseErrorKind::Impossible
            )
        }
    }
    if impossible {
        Err(format!(
            "\"{trimmed}\" is not a real date and time; check the month, day, hour and minute."
        ))
    } else {
        Err(format!(
            "\"{trimmed}\" is not a date and time; {FORMAT_HINT}."
        ))
    }
}

/// Splits an optional UTC offset suffix (`+01:00`, `+0100`, `+01`, `Z`) off a date-time.
fn split_offset(text: &str) -> Result<(&str, Option<FixedOffset>), String> {
    if let Some(body) = text.strip_suffix(['Z', 'z'])
        && body.ends_with(|c: char| c.is_ascii_digit() || c.is_whitespace())
    {
        return Ok((body.trim_end(), FixedOffset::east_opt(0)));
    }
    // "YYYY-MM-DD" is 10 bytes; a sign after it starts an offset.
    let Some(i) = text.rfind(['+', '-']).filter(|&i| i >= 10) else {
        return Ok((text, None));
    };
    let (body, suffix) = text.split_at(i);
    let bad = || {
        format!(
            "\"{}\" is not a UTC offset; write it as +01:00 or -05:00.",
            suffix.trim()
        )
    };
    let sign = if suffix.starts_with('-') { -1 } else { 1 };
    let digits: String = suffix[1..].trim().chars().filter(|&c| c != ':').collect();
    if !digits.chars().all(|c| c.is_ascii_digit()) || !matches!(digits.len(), 2 | 4) {
        return Err(bad());
    }
    let hours: i32 = digits[..2].parse().map_err(|_| bad())?;
    let minutes: i32 = if digits.len() == 4 {
        digits[2..].parse().map_err(|_| bad())?
    } else {
        0
    };
    if hours > 23 || minutes > 59 {
        return Err(bad());
    }
    let offset = FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60)).ok_or_else(bad)?;
    Ok((body.trim_end(), Some(offset)))
}

/// `YYYY-MM-DD HH:MM`, with seconds (and fractions) only when there are any.
pub(super) fn show(t: NaiveDateTime) -> String {
    let mut s = t.format("%Y-%m-%d %H:%M").to_string();
    if t.second() != 0 || t.nanosecond() != 0 {
        s.push_str(&t.format(":%S").to_string());
    }
    if t.nanosecond() != 0 {
        s.push_str(&t.format("%.f").to_string());
    }
    s
}

fn zone_or_utc(tz: &str) -> Tz {
    Tz::from_str(tz.trim()).unwrap_or(Tz::UTC)
}

/// An instant as wall-clock text in zone `tz` (`2026-11-21 14:00`; seconds appear only when
/// non-zero). An unknown zone falls back to UTC.
pub fn format_wall_clock(t: DateTime<Utc>, tz: &str) -> String {
    show(t.with_timezone(&zone_or_utc(tz)).naive_local())
}

/// Like [`format_wall_clock`], but adds the UTC offset (`2026-10-25 01:30 +01:00`) when the
/// wall-clock time alone is ambiguous in that zone, so that [`parse_wall_clock`] gives back
/// exactly the same instant. Use it for export and for filling an edit form.
pub fn format_wall_clock_unambiguous(t: DateTime<Utc>, tz: &str) -> String {
    let zone = zone_or_utc(tz);
    let local = t.with_timezone(&zone);
    let text = show(local.naive_local());
    match zone.from_local_datetime(&local.naive_local()) {
        LocalResult::Single(_) => text,
        _ => format!("{text} {}", local.offset().fix()),
    }
}

thread_local! {
    /// Messages for names already missed: an import with many rows of one bad zone computes the
    /// suggestions once.
    static MISSES: RefCell<HashMap<String, String>> = RefCell::new(HashMap::new());
}

/// Parses a real IANA timezone name (exact spelling, e.g. `Europe/London`). On a miss the
/// message suggests close names: a different capitalisation, a city, or a near spelling.
pub fn parse_timezone(name: &str) -> Result<Tz, String> {
    let name = name.trim();
    if name.is_empty() {
        return Err("Timezone is required; type an IANA name such as Europe/London.".to_string());
    }
    if let Ok(tz) = Tz::from_str(name) {
        return Ok(tz);
    }
    if let Some(m) = MISSES.with(|m| m.borrow().get(name).cloned()) {
        return Err(m);
    }
    let mut suggestions = timezone_suggestions(name, 3);
    if suggestions
        .first()
        .is_some_and(|s| s.eq_ignore_ascii_case(name))
    {
        suggestions.truncate(1);
    }
    let message = match suggestions.as_slice() {
        [] => format!(
            "Timezone \"{name}\" is not a known IANA name; use one such as Europe/London or \
             America/New_York."
        ),
        [one] => format!("Timezone \"{name}\" is not a known IANA name; did you mean {one}?"),
        [rest @ .., last] => format!(
            "Timezone \"{name}\" is not a known IANA name; did you mean {} or {last}?",
            rest.join(", ")
        ),
    };
    MISSES.with(|m| {
        let mut m = m.borrow_mut();
        if m.len() >= 256 {
            m.clear();
        }
        m.insert(name.to_string(), message.clone());
    });
    Err(message)
}

/// Up to `limit` IANA names close to `text`, best first: the same name in other capitals, names
/// starting with it, names with a part (`London`, `New_York`) starting with it, names containing
/// it, then near spellings. Spaces count as underscores. Empty text gives nothing.
pub fn timezone_suggestions(text: &str, limit: usize) -> Vec<&'static str> {
    let q = text.trim().to_lowercase().replace(' ', "_");
    if q.is_empty() || limit == 0 {
        return Vec::new();
    }
    let max_distance = (q.chars().count() / 4).max(2);
    let mut scored: Vec<(usize, usize, &'static str)> = TZ_VARIANTS
        .iter()
        .filter_map(|tz| {
            let name = tz.name();
            let lower = name.to_lowercase();
            let score = if lower == q {
                0
            } else if lower.starts_with(&q) {
                1
            } else if lower.split('/').any(|part| part.starts_with(&q)) {
                2
            } else if lower.contains(&q) {
                3
            } else {
                let last = lower.rsplit('/').next().unwrap_or(&lower);
                let d = crate::domain::similar::levenshtein(&q, &lower)
                    .min(crate::domain::similar::levenshtein(&q, last));
                if d > max_distance {
                    return None;
                }
                4 + d
            };
            Some((score, name.len(), name))
        })
        .collect();
    scored.sort();
    scored.into_iter().take(limit).map(|(_, _, n)| n).collect()
}
