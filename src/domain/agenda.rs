//! The agenda's days: upcoming interactions grouped by the calendar day they start on in the
//! display timezone, today's marked. Pure: the clock and the zone are given.

use chrono::{DateTime, Duration, LocalResult, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

use super::interaction::day_in;

/// One day of the agenda: its date in the display zone, whether it is today there, and which of
/// the items (indices into the slice given to [`days`], in order) start on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Day {
    pub date: NaiveDate,
    pub today: bool,
    pub items: std::ops::Range<usize>,
}

/// The items' days, in the order given: `starts` are the items' starts, oldest first (as the
/// agenda's search returns them); consecutive items on the same day in `zone` share a [`Day`].
pub fn days(starts: &[DateTime<Utc>], now: DateTime<Utc>, zone: Tz) -> Vec<Day> {
    let today = day_in(now, zone);
    let mut out: Vec<Day> = Vec::new();
    for (i, start) in starts.iter().enumerate() {
        let date = day_in(*start, zone);
        match out.last_mut() {
            Some(day) if day.date == date => day.items.end = i + 1,
            _ => out.push(Day {
                date,
                today: date == today,
                items: i..i + 1,
            }),
        }
    }
    out
}

/// The first instant of the day `now` falls on in `zone`: midnight there, or, where the clocks
/// skip midnight, the first time that exists that day.
pub fn start_of_today(now: DateTime<Utc>, zone: Tz) -> DateTime<Utc> {
    let date = day_in(now, zone);
    let midnight = date.and_time(chrono::NaiveTime::MIN);
    // A gap lasts at most a few hours; a quarter of an hour is the finest step zones use.
    for step in 0..=(24 * 4) {
        let local = midnight + Duration::minutes(15 * step);
        match zone.from_local_datetime(&local) {
            LocalResult::Single(t) => return t.with_timezone(&Utc),
            LocalResult::Ambiguous(first, _) => return first.with_timezone(&Utc),
            LocalResult::None => {}
        }
    }
    now
}

/// A day's heading: `Today · Wed 2 Dec 2026`, `Tomorrow · Thu 3 Dec 2026`, else
/// `Fri 4 Dec 2026`.
pub fn heading(day: &Day, now: DateTime<Utc>, zone: Tz) -> String {
    let date = day.date.format("%a %-d %b %Y");
    let today = day_in(now, zone);
    if day.today {
        format!("Today · {date}")
    } else if today.succ_opt() == Some(day.date) {
        format!("Tomorrow · {date}")
    } else {
        date.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .expect("an RFC 3339 time")
            .with_timezone(&Utc)
    }

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("a date")
    }

    #[test]
    fn items_are_grouped_by_their_day_in_the_display_zone_across_its_midnight() {
        // Tokyo is UTC+9: its midnight between 2 and 3 December is 15:00 UTC on the 2nd.
        let zone = Tz::Asia__Tokyo;
        let now = utc("2026-12-02T01:00:00Z"); // 10:00 on the 2nd in Tokyo
        let starts = [
            utc("2026-12-02T02:00:00Z"), // 11:00 on the 2nd
            utc("2026-12-02T14:59:00Z"), // 23:59 on the 2nd
            utc("2026-12-02T15:00:00Z"), // 00:00 on the 3rd
            utc("2026-12-02T20:00:00Z"), // 05:00 on the 3rd
            utc("2026-12-05T09:00:00Z"), // 18:00 on the 5th
        ];
        let grouped = days(&starts, now, zone);
        assert_eq!(
            grouped,
            [
                Day {
                    date: date("2026-12-02"),
                    today: true,
                    items: 0..2
                },
                Day {
                    date: date("2026-12-03"),
                    today: false,
                    items: 2..4
                },
                Day {
                    date: date("2026-12-05"),
                    today: false,
                    items: 4..5
                },
            ]
        );
        // In UTC the same starts fall on other days: the zone decides, not the server's.
        let in_utc = days(&starts, now, Tz::UTC);
        assert_eq!(
            in_utc.iter().map(|d| d.items.clone()).collect::<Vec<_>>(),
            [0..4, 4..5]
        );
        let headings: Vec<String> = grouped.iter().map(|d| heading(d, now, zone)).collect();
        assert_eq!(
            headings,
            [
                "Today · Wed 2 Dec 2026",
                "Tomorrow · Thu 3 Dec 2026",
                "Sat 5 Dec 2026"
            ]
        );
        // Late on the 2nd in UTC, it is already the 3rd in Tokyo: the 3rd is today.
        let later = utc("2026-12-02T16:00:00Z");
        let grouped = days(&starts, later, zone);
        assert_eq!(
            grouped.iter().map(|d| d.today).collect::<Vec<_>>(),
            [false, true, false]
        );
        assert!(days(&[], now, zone).is_empty());
    }

    #[test]
    fn today_starts_at_the_display_zones_midnight() {
        let now = utc("2026-12-02T01:00:00Z");
        assert_eq!(
            start_of_today(now, Tz::Asia__Tokyo),
            utc("2026-12-01T15:00:00Z")
        );
        assert_eq!(
            start_of_today(now, Tz::America__New_York),
            utc("2026-12-01T05:00:00Z")
        );
        assert_eq!(start_of_today(now, Tz::UTC), utc("2026-12-02T00:00:00Z"));
        // Santiago skipped midnight on 6 September 2026 (clocks went from 00:00 to 01:00): the
        // day began at 01:00 local, 04:00 UTC.
        let now = utc("2026-09-06T15:00:00Z");
        assert_eq!(
            start_of_today(now, Tz::America__Santiago),
            utc("2026-09-06T04:00:00Z")
        );
    }
}
