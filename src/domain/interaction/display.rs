//! Times as a person reads them: one display timezone (`ui.timezone`, else the machine's), and
//! every time shown in another zone carrying that zone's name.

use std::path::Path;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use super::time::show;

/// An instant as wall-clock text in `zone` (`2026-11-21 14:00`; seconds only when non-zero).
pub fn format_in(t: DateTime<Utc>, zone: Tz) -> String {
    show(t.with_timezone(&zone).naive_local())
}

/// An instant to the minute in `zone`: for record times (created, updated, history), whose
/// seconds mean nothing to a reader.
pub fn format_minute_in(t: DateTime<Utc>, zone: Tz) -> String {
    t.with_timezone(&zone)
        .naive_local()
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// The calendar day an instant falls on in `zone`.
pub fn day_in(t: DateTime<Utc>, zone: Tz) -> NaiveDate {
    t.with_timezone(&zone).date_naive()
}

/// A span in `zone`: `2026-10-02 12:30 – 14:00`, the end's date only when it differs.
pub fn span_in(start: DateTime<Utc>, end: DateTime<Utc>, zone: Tz) -> String {
    let (start, end) = (format_in(start, zone), format_in(end, zone));
    let end = match (start.split_once(' '), end.split_once(' ')) {
        (Some((start_day, _)), Some((end_day, end_time))) if start_day == end_day => {
            end_time.to_string()
        }
        _ => end,
    };
    format!("{start} – {end}")
}

/// The span in the interaction's own zone `own`, labelled with that zone's name
/// (`2026-10-02 12:30 – 14:00 Europe/Berlin`; the start's date left out when it is the same
/// day as in the display zone: `12:30 – 14:00 Europe/Berlin`), when it reads differently from
/// the display zone `display`; None when the wall clock is the same in both (the display zone's
/// text then needs no second line). An unknown `own` zone reads as UTC, as
/// [`super::format_wall_clock`] does.
pub fn own_zone_span(
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    own: &str,
    display: Tz,
) -> Option<String> {
    let own_zone = Tz::from_str(own.trim()).unwrap_or(Tz::UTC);
    let theirs = span_in(start, end, own_zone);
    if theirs == span_in(start, end, display) {
        return None;
    }
    let same_day = day_in(start, own_zone) == day_in(start, display);
    let shown = match theirs.split_once(' ') {
        Some((_, rest)) if same_day => rest.to_string(),
        _ => theirs,
    };
    Some(format!("{shown} {}", own_zone.name()))
}

/// The machine's zone from its three sources, the first that names an IANA zone winning: `TZ`
/// (`Europe/Berlin`, `:Europe/Berlin` or a path under a `zoneinfo` directory), the text of
/// `/etc/timezone`, the target of the `/etc/localtime` link; else UTC.
pub fn zone_from(tz: Option<&str>, etc_timezone: Option<&str>, localtime: Option<&Path>) -> Tz {
    let named = |text: &str| {
        let text = text.trim().trim_start_matches(':');
        let name = match text.rsplit_once("zoneinfo/") {
            Some((_, name)) => name,
            None => text,
        };
        Tz::from_str(name).ok()
    };
    tz.and_then(named)
        .or_else(|| etc_timezone.and_then(named))
        .or_else(|| localtime.and_then(Path::to_str).and_then(named))
        .unwrap_or(Tz::UTC)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
            .single()
            .expect("a real time")
    }

    #[test]
    fn instants_are_shown_in_the_display_zone() {
        // Three meetings in three zones, newest first: in the display zone they read in order.
        let la = utc(2026, 9, 22, 16, 30); // 09:30 in Los Angeles
        let london = utc(2026, 9, 22, 10, 30); // 11:30 in London
        let tokyo = utc(2026, 9, 22, 5, 0); // 14:00 in Tokyo
        let shown: Vec<String> = [la, london, tokyo]
            .iter()
            .map(|t| format_in(*t, Tz::Europe__Paris))
            .collect();
        assert_eq!(
            shown,
            ["2026-09-22 18:30", "2026-09-22 12:30", "2026-09-22 07:00"]
        );
        assert_eq!(
            format_in(utc(2026, 1, 5, 9, 0), Tz::UTC),
            "2026-01-05 09:00"
        );
        let with_seconds = utc(2026, 1, 5, 9, 0) + chrono::Duration::seconds(7);
        assert_eq!(format_in(with_seconds, Tz::UTC), "2026-01-05 09:00:07");
        assert_eq!(format_minute_in(with_seconds, Tz::UTC), "2026-01-05 09:00");
    }

    #[test]
    fn spans_give_the_end_date_only_when_it_differs() {
        let zone = Tz::America__New_York;
        assert_eq!(
            span_in(utc(2026, 3, 2, 14, 0), utc(2026, 3, 2, 15, 30), zone),
            "2026-03-02 09:00 – 10:30"
        );
        assert_eq!(
            span_in(utc(2026, 3, 3, 4, 0), utc(2026, 3, 3, 6, 0), zone),
            "2026-03-02 23:00 – 2026-03-03 01:00"
        );
    }

    #[test]
    fn the_own_zone_is_labelled_only_when_it_reads_differently() {
        let (start, end) = (utc(2026, 10, 1, 9, 30), utc(2026, 10, 1, 11, 0));
        assert_eq!(
            own_zone_span(start, end, "Europe/London", Tz::Australia__Sydney).as_deref(),
            Some("10:30 – 12:00 Europe/London")
        );
        // Another day there than in the display zone: the date is given.
        let (late, later) = (utc(2026, 10, 1, 23, 30), utc(2026, 10, 2, 1, 0));
        assert_eq!(
            own_zone_span(late, later, "America/New_York", Tz::Asia__Tokyo).as_deref(),
            Some("2026-10-01 19:30 – 21:00 America/New_York")
        );
        // The same day in both: the date is said once, on the display zone's line.
        assert_eq!(
            own_zone_span(start, end, "Europe/London", Tz::Europe__Berlin).as_deref(),
            Some("10:30 – 12:00 Europe/London")
        );
        assert_eq!(
            own_zone_span(start, end, "Europe/London", Tz::Europe__London),
            None
        );
        // Another name for the same clock: nothing to add.
        assert_eq!(
            own_zone_span(start, end, "Europe/Lisbon", Tz::Europe__London),
            None
        );
        // An unknown zone reads as UTC, and says so.
        assert_eq!(
            own_zone_span(start, end, "Mars/Olympus", Tz::Asia__Tokyo).as_deref(),
            Some("09:30 – 11:00 UTC")
        );
    }

    #[test]
    fn days_are_the_display_zones() {
        // 23:30 UTC on the 1st is already the 2nd in Berlin and still the 1st in New York.
        let t = utc(2026, 6, 1, 23, 30);
        assert_eq!(
            day_in(t, Tz::Europe__Berlin),
            NaiveDate::from_ymd_opt(2026, 6, 2).unwrap()
        );
        assert_eq!(
            day_in(t, Tz::America__New_York),
            NaiveDate::from_ymd_opt(2026, 6, 1).unwrap()
        );
    }

    #[test]
    fn the_machine_zone_comes_from_tz_then_etc_timezone_then_localtime() {
        let link = Path::new("/usr/share/zoneinfo/Asia/Tokyo");
        assert_eq!(
            zone_from(Some("Europe/Berlin"), Some("Asia/Kolkata\n"), Some(link)),
            Tz::Europe__Berlin
        );
        assert_eq!(
            zone_from(Some(":Europe/Berlin"), None, None),
            Tz::Europe__Berlin
        );
        assert_eq!(
            zone_from(Some("/usr/share/zoneinfo/America/New_York"), None, None),
            Tz::America__New_York
        );
        // A POSIX rule is not an IANA name: the next source decides.
        assert_eq!(
            zone_from(Some("CET-1CEST"), Some("Asia/Kolkata\n"), Some(link)),
            Tz::Asia__Kolkata
        );
        assert_eq!(zone_from(None, Some(""), Some(link)), Tz::Asia__Tokyo);
        assert_eq!(zone_from(Some(""), None, None), Tz::UTC);
    }
}
