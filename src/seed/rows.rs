//! Interaction rows, written straight into PostgreSQL's COPY text format. A chunk's rows depend
//! only on the plan, the chunk number and the ids, so chunks can be made in any order.

use std::fmt::Write as _;

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use rand::Rng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::lists;
use super::plan::{Plan, person, pick, stream};
use super::text::Vocabulary;

/// The columns written, in order.
pub const COPY_COLUMNS: &str = "interaction_id, site_id, title, type, lead, start_datetime, \
     timezone, end_datetime, location, description, notes, created_by, created_at, updated_by, \
     updated_at, version";

/// Database ids the rows refer to.
#[derive(Debug, Clone)]
pub struct Ids {
    /// The id of the plan's first row; the others follow in chunk order.
    pub first_interaction: i64,
    /// Per planned site.
    pub sites: Vec<i32>,
    /// Per planned user.
    pub users: Vec<i32>,
}

/// Writes chunk `chunk` into `out` (appending) and returns its number of rows.
pub fn write_chunk(
    plan: &Plan,
    vocab: &Vocabulary,
    ids: &Ids,
    chunk: usize,
    out: &mut Vec<u8>,
) -> u64 {
    let mut rng = stream(plan.seed, chunk as u64 + 1);
    let mut order: Vec<u32> = Vec::new();
    for s in 0..plan.sites.len() {
        let n = plan.site_rows_in_chunk(s, chunk);
        order.extend(std::iter::repeat_n(s as u32, n as usize));
    }
    order.shuffle(&mut rng);
    let first = plan.chunk_first.get(chunk).copied().unwrap_or(0) as i64;
    let mut line = String::with_capacity(4096);
    for (i, &s) in order.iter().enumerate() {
        line.clear();
        let id = ids.first_interaction + first + i as i64;
        row(plan, vocab, ids, s as usize, id, &mut rng, &mut line);
        out.extend_from_slice(line.as_bytes());
    }
    order.len() as u64
}

/// One row.
fn row(
    plan: &Plan,
    vocab: &Vocabulary,
    ids: &Ids,
    s: usize,
    id: i64,
    rng: &mut ChaCha8Rng,
    line: &mut String,
) {
    let site = &plan.sites[s];
    let total = site.types.last().map(|t| t.1).unwrap_or(1);
    let x = rng.gen_range(0..total);
    let kind = site.types[site.types.partition_point(|t| t.1 <= x)].0;
    let tz_name = if rng.gen_ratio(17, 20) {
        site.timezone
    } else {
        pick(rng, lists::TIMEZONES)
    };
    let tz: Tz = tz_name.parse().unwrap_or(Tz::UTC);
    let lead = &site.leads[site.lead_zipf.sample(rng)];
    let company = &site.companies[site.company_zipf.sample(rng)];
    let topic = pick(rng, lists::TOPICS);
    let contact = person(rng);

    let (start, future) = start_time(plan.anchor, tz, rng);
    let end = start + Duration::minutes(duration_minutes(kind, rng));
    let title = title(kind, company, topic, &contact, rng);
    let location = location(kind, company, site.town, rng);
    let description = (!rng.gen_ratio(1, 20)).then(|| vocab.description(rng, topic));
    let notes = rng.gen_ratio(2, 5).then(|| vocab.notes(rng, topic));

    let latest = plan.anchor - Duration::hours(1);
    let created_at = if future || rng.gen_ratio(13, 20) {
        (start - Duration::minutes(rng.gen_range(60..43_200))).min(latest)
    } else {
        (end + Duration::minutes(rng.gen_range(5..4_320))).min(latest)
    };
    let writer =
        |rng: &mut ChaCha8Rng| ids.users[site.writers[rng.gen_range(0..site.writers.len())]];
    let created_by = writer(rng);
    let updated = rng.gen_ratio(1, 3).then(|| {
        let at = (created_at + Duration::minutes(rng.gen_range(10..64_800))).min(plan.anchor);
        (
            writer(rng),
            at,
            2 + rng.gen_range(0..3) * rng.gen_range(0..2),
        )
    });

    let _ = write!(line, "{id}\t{}\t", ids.sites[s]);
    escape(line, &clamp(&title, 255));
    line.push('\t');
    escape(line, kind);
    line.push('\t');
    escape(line, lead);
    line.push('\t');
    timestamp(line, start);
    line.push('\t');
    escape(line, tz_name);
    line.push('\t');
    timestamp(line, end);
    line.push('\t');
    optional(line, location.as_deref().map(|l| clamp(l, 255)).as_deref());
    line.push('\t');
    optional(line, description.as_deref());
    line.push('\t');
    optional(line, notes.as_deref());
    let _ = write!(line, "\t{created_by}\t");
    timestamp(line, created_at);
    match updated {
        Some((by, at, version)) => {
            let _ = write!(line, "\t{by}\t");
            timestamp(line, at);
            let _ = write!(line, "\t{version}");
        }
        None => line.push_str("\t\\N\t\\N\t1"),
    }
    line.push('\n');
}

/// A start in working hours of `tz`: mostly over the last three years (more recent years
/// busier), one in fourteen in the next four months. Returns whether it lies ahead.
fn start_time(anchor: DateTime<Utc>, tz: Tz, rng: &mut ChaCha8Rng) -> (DateTime<Utc>, bool) {
    let today = anchor.date_naive();
    let future = rng.gen_ratio(1, 14);
    let offset = if future {
        rng.gen_range(0..120)
    } else {
        -1 - (1094.0 * rng.r#gen::<f64>().powf(1.3)) as i64
    };
    let mut date = today + Duration::days(offset);
    if !rng.gen_ratio(1, 15) {
        date = match date.weekday() {
            Weekday::Sat => date - Duration::days(1),
            Weekday::Sun => date + Duration::days(1),
            _ => date,
        };
    }
    const HOURS: [(u32, u32); 10] = [
        (8, 5),
        (9, 19),
        (10, 35),
        (11, 49),
        (12, 55),
        (13, 65),
        (14, 79),
        (15, 91),
        (16, 99),
        (17, 103),
    ];
    let x = rng.gen_range(0..103);
    let hour = HOURS[HOURS.partition_point(|h| h.1 <= x)].0;
    let minute = match rng.gen_range(0..10) {
        0..=4 => 0,
        5..=7 => 30,
        8 => 15,
        _ => 45,
    };
    (local_to_utc(tz, date, hour, minute), future)
}

/// A wall-clock time in `tz` as an instant; a time skipped by a DST change moves an hour on.
fn local_to_utc(tz: Tz, date: NaiveDate, hour: u32, minute: u32) -> DateTime<Utc> {
    let Some(naive) = date.and_hms_opt(hour, minute, 0) else {
        return Utc.from_utc_datetime(&date.and_time(chrono::NaiveTime::MIN));
    };
    for shift in [0, 1, 2] {
        if let Some(t) = tz
            .from_local_datetime(&(naive + Duration::hours(shift)))
            .earliest()
        {
            return t.with_timezone(&Utc);
        }
    }
    Utc.from_utc_datetime(&naive)
}

/// Minutes an interaction of this type lasts: 15 min to 3 h mostly, some full days.
fn duration_minutes(kind: &str, rng: &mut ChaCha8Rng) -> i64 {
    let short = matches!(kind, "Email" | "Phone call" | "Check-in" | "Video call");
    if !short && rng.gen_ratio(1, 50) {
        return 8 * 60;
    }
    let q = |rng: &mut ChaCha8Rng, lo: i64, hi: i64| rng.gen_range(lo / 15..=hi / 15) * 15;
    match kind {
        "Email" => 0,
        "Phone call" | "Check-in" => rng.gen_range(1..10) * 5,
        "Workshop" | "Training" | "Planning session" | "Presentation" | "Lecture" => {
            if rng.gen_ratio(1, 10) {
                8 * 60
            } else {
                q(rng, 60, 180)
            }
        }
        "Site visit" | "Inspection" | "Audit" | "Open day" | "Stock count" => q(rng, 60, 240),
        "Conference" => match rng.gen_range(0..4) {
            0 => 2 * 24 * 60 + 8 * 60,
            1 => 24 * 60 + 8 * 60,
            _ => 8 * 60,
        },
        _ => *[15, 30, 30, 45, 60, 60, 60, 90, 120, 180]
            .choose(rng)
            .unwrap_or(&60),
    }
}

fn title(kind: &str, company: &str, topic: &str, contact: &str, rng: &mut ChaCha8Rng) -> String {
    let v = rng.gen_range(0..4);
    let period = pick(rng, lists::PERIODS);
    let role = pick(rng, lists::ROLES);
    let cap = capitalise(topic.strip_prefix("the ").unwrap_or(topic));
    match (kind, v) {
        ("Meeting", 0) | ("Review", 0) => format!("{period} review with {company}"),
        ("Meeting", 1) => format!("Meeting with {company} about {topic}"),
        ("Meeting", 2) => format!("{cap} meeting"),
        ("Phone call", 0 | 1) | ("Video call", 0) => format!("Call with {contact} about {topic}"),
        ("Phone call", _) => format!("Call: {company} re {topic}"),
        ("Video call", _) => format!("Video call with {company}"),
        ("Site visit", 0 | 1) => format!("Site visit to {company}"),
        ("Site visit", _) => format!("Visit to {company} with {contact}"),
        ("Workshop", _) => format!("Workshop on {topic}"),
        ("Interview", 0 | 1) => format!("Interview: {role} candidate {contact}"),
        ("Interview", _) => format!("Second interview for {role}"),
        ("Training", 0 | 1) => format!("Training on {topic}"),
        ("Training", _) => format!("{cap} training for new staff"),
        ("Review", _) => format!("Review of {topic}"),
        ("Inspection", _) => format!("Inspection: {topic}"),
        ("Email", _) => format!("Email to {contact} about {topic}"),
        ("Conference", _) => format!("{company} annual conference"),
        (_, 0) => format!("{kind} with {company} about {topic}"),
        (_, 1) => format!("{kind} with {contact}"),
        (_, 2) => format!("{kind}: {topic}"),
        _ => format!("{kind} with {contact} ({company})"),
    }
}

fn location(kind: &str, company: &str, town: &str, rng: &mut ChaCha8Rng) -> Option<String> {
    match kind {
        "Email" => None,
        "Phone call" => rng.gen_ratio(1, 4).then(|| "Phone".to_string()),
        "Video call" => Some(pick(rng, &lists::ONLINE[..4]).to_string()),
        "Site visit" | "Inspection" | "Audit" => Some(match rng.gen_range(0..3) {
            0 => format!("{company} offices"),
            1 => format!("{company} warehouse, {town}"),
            _ => format!(
                "{} {} {}, {town}",
                rng.gen_range(1..300),
                pick(rng, lists::STREETS),
                pick(rng, lists::STREET_KINDS)
            ),
        }),
        _ => match rng.gen_range(0..20) {
            0..=1 => None,
            2..=7 => Some(format!(
                "Room {}",
                rng.gen_range(1..5) * 100 + rng.gen_range(1..50)
            )),
            8..=12 => Some(pick(rng, lists::ROOMS).to_string()),
            13..=15 => Some(format!("{company} offices")),
            _ => Some(pick(rng, lists::ONLINE).to_string()),
        },
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// At most `max` characters (varchar limits count characters).
fn clamp(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

fn timestamp(line: &mut String, t: DateTime<Utc>) {
    let _ = write!(line, "{}+00", t.format("%Y-%m-%d %H:%M:%S"));
}

fn optional(line: &mut String, value: Option<&str>) {
    match value {
        Some(v) => escape(line, v),
        None => line.push_str("\\N"),
    }
}

/// Escapes a value for COPY's text format.
fn escape(line: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => line.push_str("\\\\"),
            '\t' => line.push_str("\\t"),
            '\n' => line.push_str("\\n"),
            '\r' => line.push_str("\\r"),
            c => line.push(c),
        }
    }
}
