//! The month histogram above the result list: one row of bars, oldest month on the left, with
//! the first and last years as labels ("2019 ▁▂▃▅█▇▅▃ 2027"). Months without matches count as
//! zero; when there are more months than columns, neighbouring months share a bar.

use chrono::{Datelike, NaiveDate};

use crate::domain::histogram::MonthCount;

const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// Months since year 0, for spans and gaps.
fn index(d: NaiveDate) -> i64 {
    i64::from(d.year()) * 12 + i64::from(d.month0())
}

/// The histogram in at most `width` columns, or None when it would say nothing (no months) or
/// does not fit (fewer than 12 columns).
pub fn sparkline(months: &[MonthCount], width: usize) -> Option<String> {
    let first = months.first()?;
    let last = months.last()?;
    let (from, to) = (index(first.month), index(last.month));
    let labels = format!("{} ", first.month.year()).len() + format!(" {}", last.month.year()).len();
    let room = width.checked_sub(labels)?;
    if room < 4 || to < from {
        return None;
    }
    let span = usize::try_from(to - from + 1).ok()?;
    let columns = span.min(room);
    let mut sums = vec![0i64; columns];
    for m in months {
        let offset = usize::try_from(index(m.month) - from).ok()?;
        let column = offset * columns / span;
        if let Some(sum) = sums.get_mut(column) {
            *sum += m.count;
        }
    }
    let max = sums.iter().copied().max().unwrap_or(0);
    if max <= 0 {
        return None;
    }
    let bars: String = sums
        .iter()
        .map(|&n| {
            if n <= 0 {
                ' '
            } else {
                let level = usize::try_from((n * 8 - 1) / max).unwrap_or(0).min(7);
                BARS[level]
            }
        })
        .collect();
    Some(format!(
        "{} {bars} {}",
        first.month.year(),
        last.month.year()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(y: i32, mo: u32, count: i64) -> MonthCount {
        MonthCount {
            month: NaiveDate::from_ymd_opt(y, mo, 1).unwrap_or_default(),
            count,
        }
    }

    #[test]
    fn one_bar_per_month_with_gaps_as_blanks() {
        let line = sparkline(&[m(2025, 11, 8), m(2026, 1, 1), m(2026, 2, 4)], 40);
        assert_eq!(line.as_deref(), Some("2025 █ ▁▄ 2026"));
    }

    #[test]
    fn many_months_share_columns_to_fit() {
        let months: Vec<MonthCount> = (0..120)
            .map(|i| {
                m(
                    2016 + i / 12,
                    u32::try_from(i % 12).unwrap_or(0) + 1,
                    1 + i64::from(i),
                )
            })
            .collect();
        let line = sparkline(&months, 30).unwrap_or_default();
        assert_eq!(line.chars().count(), 30);
        assert!(
            line.starts_with("2016 ") && line.ends_with(" 2025"),
            "{line}"
        );
        assert!(
            line.ends_with("█ 2025"),
            "the busiest end is the tallest: {line}"
        );
    }

    #[test]
    fn nothing_to_show_or_no_room_gives_none() {
        assert_eq!(sparkline(&[], 40), None);
        assert_eq!(sparkline(&[m(2026, 1, 3)], 11), None);
        assert_eq!(sparkline(&[m(2026, 1, 0)], 40), None);
    }
}
