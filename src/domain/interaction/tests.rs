//! Validation and wall-clock time tests.
use super::*;
use chrono::TimeZone;

fn good() -> InteractionInput {
    InteractionInput {
        title: "Quarterly review".into(),
        kind: "Meeting".into(),
        lead: "Ana Lima".into(),
        start: "2026-11-21 14:00".into(),
        end: "2026-11-21 15:30".into(),
        timezone: "Europe/London".into(),
        location: "Room 4".into(),
        description: "Agenda".into(),
        notes: String::new(),
    }
}

fn errors_of(input: &InteractionInput) -> Vec<FieldError> {
    validate(input).expect_err("should be invalid")
}

fn fields(errors: &[FieldError]) -> Vec<Field> {
    errors.iter().map(|e| e.field).collect()
}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
        .single()
        .expect("valid")
}

#[test]
fn a_good_input_validates() {
    let v = validate(&good()).expect("valid");
    assert_eq!(v.title, "Quarterly review");
    assert_eq!(v.start_datetime, utc(2026, 11, 21, 14, 0));
    assert_eq!(v.end_datetime, utc(2026, 11, 21, 15, 30));
    assert_eq!(v.timezone, "Europe/London");
    assert_eq!(v.location.as_deref(), Some("Room 4"));
    assert_eq!(v.notes, None);
}

#[test]
fn summer_time_is_applied() {
    let mut i = good();
    i.start = "2026-07-01 14:00".into();
    i.end = "2026-07-01 15:00".into();
    assert_eq!(
        validate(&i).expect("valid").start_datetime,
        utc(2026, 7, 1, 13, 0)
    );
    i.timezone = "America/New_York".into();
    assert_eq!(
        validate(&i).expect("valid").start_datetime,
        utc(2026, 7, 1, 18, 0)
    );
}

#[test]
fn every_missing_required_field_is_reported() {
    let e = errors_of(&InteractionInput {
        location: "x".into(),
        title: "   ".into(),
        ..Default::default()
    });
    assert_eq!(
        fields(&e),
        vec![
            Field::Title,
            Field::Type,
            Field::Lead,
            Field::Start,
            Field::End,
            Field::Timezone
        ]
    );
    assert_eq!(e[0].message, "Title is required.");
}

#[test]
fn all_errors_not_just_the_first() {
    let mut i = good();
    i.title = "a\u{7}b".into();
    i.lead = "x".repeat(101);
    i.timezone = "Mars/Base".into();
    i.start = "tomorrow".into();
    let e = errors_of(&i);
    assert_eq!(
        fields(&e),
        vec![Field::Title, Field::Lead, Field::Start, Field::Timezone]
    );
    assert!(
        e[2].message.contains("YYYY-MM-DD HH:MM"),
        "{}",
        e[2].message
    );
}

#[test]
fn lengths_count_characters_not_bytes() {
    let mut i = good();
    i.title = "é".repeat(MAX_TITLE);
    i.kind = "日".repeat(MAX_TYPE);
    i.lead = "🎉".repeat(MAX_LEAD);
    i.location = "\u{05e9}".repeat(MAX_LOCATION);
    let v = validate(&i).expect("at the limit is fine");
    assert_eq!(v.lead.chars().count(), MAX_LEAD);

    i.title = "é".repeat(MAX_TITLE + 1);
    i.kind = "日".repeat(MAX_TYPE + 1);
    i.lead = "🎉".repeat(MAX_LEAD + 1);
    i.location = "\u{05e9}".repeat(MAX_LOCATION + 1);
    let e = errors_of(&i);
    assert_eq!(
        fields(&e),
        vec![Field::Title, Field::Type, Field::Lead, Field::Location]
    );
    assert_eq!(
        e[2].message,
        "Lead is 101 characters long; the most allowed is 100."
    );
}

#[test]
fn length_is_counted_after_trimming() {
    let mut i = good();
    i.kind = format!("  {}  ", "t".repeat(MAX_TYPE));
    assert_eq!(validate(&i).expect("valid").kind.len(), MAX_TYPE);
}

#[test]
fn text_survives_unchanged_apart_from_outer_whitespace() {
    let mut i = good();
    i.title = "  Café\u{301} 🎉 مرحبا بالعالم \u{200f}x  ".into();
    i.lead = "\u{05d3}\u{05d5}\u{05d3} Z\u{0351}a\u{0352}".into();
    i.notes = "  line one, \"quoted\"\r\n\tline two 👩‍👩‍👧\n".into();
    i.description = " leading space kept".into();
    let v = validate(&i).expect("valid");
    assert_eq!(v.title, "Café\u{301} 🎉 مرحبا بالعالم \u{200f}x");
    assert_eq!(v.lead, i.lead);
    assert_eq!(v.notes.as_deref(), Some(i.notes.as_str()));
    assert_eq!(v.description.as_deref(), Some(" leading space kept"));
}

#[test]
fn blank_optional_fields_become_none() {
    let mut i = good();
    i.location = "  ".into();
    i.description = "\n \n".into();
    i.notes = String::new();
    let v = validate(&i).expect("valid");
    assert_eq!((v.location, v.description, v.notes), (None, None, None));
}

#[test]
fn control_characters_are_refused_with_the_field_named() {
    let mut i = good();
    i.title = "two\nlines".into();
    i.kind = "tab\there".into();
    i.location = "esc\u{1b}[31m".into();
    i.notes = "bell\u{7}".into();
    i.description = "ok\nwith\ttab and\r\nCRLF".into();
    let e = errors_of(&i);
    assert_eq!(
        fields(&e),
        vec![Field::Title, Field::Type, Field::Location, Field::Notes]
    );
    assert!(
        e[0].message.starts_with("Title contains a line break"),
        "{}",
        e[0].message
    );
    assert!(
        e[1].message.starts_with("Type contains a tab"),
        "{}",
        e[1].message
    );
    assert!(e[2].message.contains("U+001B"), "{}", e[2].message);
    assert!(
        e[3].message
            .starts_with("Notes contains a control character (U+0007)")
    );
}

#[test]
fn end_not_before_start() {
    let mut i = good();
    i.end = "2026-11-21 13:59".into();
    let e = errors_of(&i);
    assert_eq!(fields(&e), vec![Field::End]);
    assert!(e[0].message.contains("before start"), "{}", e[0].message);
    i.end = i.start.clone();
    assert!(validate(&i).is_ok(), "a zero-length interaction is fine");
}

#[test]
fn date_formats() {
    let tz = chrono_tz::Europe::London;
    let want = utc(2026, 11, 21, 14, 0);
    for text in [
        "2026-11-21 14:00",
        " 2026-11-21   14:00 ",
        "2026-11-21 14:00:00",
        "2026-11-21T14:00",
        "2026-11-21T14:00:00",
        "2026-11-21 14:00 +00:00",
        "2026-11-21 14:00Z",
        "2026-11-21 14:00+0000",
    ] {
        assert_eq!(parse_wall_clock(text, tz), Ok(want), "{text}");
    }
    assert_eq!(
        parse_wall_clock("2026-11-21", tz),
        Ok(utc(2026, 11, 21, 0, 0)),
        "a bare date means midnight"
    );
    assert_eq!(
        parse_wall_clock("2026-11-21 14:00:30.25", tz),
        Ok(want + chrono::Duration::milliseconds(30_250))
    );
    let e = parse_wall_clock("21/11/2026 14:00", tz).expect_err("wrong format");
    assert!(e.contains("YYYY-MM-DD HH:MM"), "{e}");
    let e = parse_wall_clock("2026-02-30 10:00", tz).expect_err("no such day");
    assert!(e.contains("not a real date"), "{e}");
    let e = parse_wall_clock("2026-11-21 25:00", tz).expect_err("no such hour");
    assert!(e.contains("not a real date"), "{e}");
    let e = parse_wall_clock("2026-11-21 14:00 +1", tz).expect_err("bad offset");
    assert!(e.contains("+01:00"), "{e}");
}

#[test]
fn spring_forward_gap_europe_london() {
    let e = parse_wall_clock("2026-03-29 01:30", chrono_tz::Europe::London)
        .expect_err("does not exist");
    assert!(
        e.starts_with(
            "2026-03-29 01:30 does not exist in Europe/London (clocks go forward); \
             pick a time outside the change"
        ),
        "{e}"
    );
    assert!(e.contains("before 01:00 or from 02:00"), "{e}");
    let mut i = good();
    i.start = "2026-03-29 01:30".into();
    i.end = "2026-03-29 03:00".into();
    let errs = errors_of(&i);
    assert_eq!(fields(&errs), vec![Field::Start]);
    assert!(
        errs[0]
            .message
            .starts_with("Start: 2026-03-29 01:30 does not exist")
    );
    // Either side of the gap is fine.
    assert_eq!(
        parse_wall_clock("2026-03-29 00:59", chrono_tz::Europe::London),
        Ok(utc(2026, 3, 29, 0, 59))
    );
    assert_eq!(
        parse_wall_clock("2026-03-29 02:00", chrono_tz::Europe::London),
        Ok(utc(2026, 3, 29, 1, 0))
    );
}

#[test]
fn spring_forward_gap_new_york() {
    let e = parse_wall_clock("2026-03-08 02:30", chrono_tz::America::New_York)
        .expect_err("does not exist");
    assert!(
        e.starts_with("2026-03-08 02:30 does not exist in America/New_York (clocks go forward)"),
        "{e}"
    );
    assert!(e.contains("before 02:00 or from 03:00"), "{e}");
    // Even with an offset, a time in the gap does not exist.
    assert!(parse_wall_clock("2026-03-08 02:30 -05:00", chrono_tz::America::New_York).is_err());
}

#[test]
fn fall_back_overlap_europe_london() {
    let tz = chrono_tz::Europe::London;
    let e = parse_wall_clock("2026-10-25 01:30", tz).expect_err("ambiguous");
    assert!(e.contains("ambiguous in Europe/London"), "{e}");
    assert!(e.contains("\"2026-10-25 01:30 +01:00\" (BST)"), "{e}");
    assert!(e.contains("\"2026-10-25 01:30 +00:00\" (GMT)"), "{e}");
    assert_eq!(
        parse_wall_clock("2026-10-25 01:30 +01:00", tz),
        Ok(utc(2026, 10, 25, 0, 30))
    );
    assert_eq!(
        parse_wall_clock("2026-10-25 01:30 +00:00", tz),
        Ok(utc(2026, 10, 25, 1, 30))
    );
    let e = parse_wall_clock("2026-10-25 01:30 +02:00", tz).expect_err("wrong offset");
    assert!(e.contains("it is +01:00 or +00:00"), "{e}");
    let e = parse_wall_clock("2026-07-01 12:00 +05:00", tz).expect_err("wrong offset");
    assert!(e.contains("it is +01:00"), "{e}");
}

#[test]
fn fall_back_overlap_new_york() {
    let tz = chrono_tz::America::New_York;
    let e = parse_wall_clock("2026-11-01 01:30", tz).expect_err("ambiguous");
    assert!(
        e.contains("EDT") && e.contains("EST") && e.contains("-04:00"),
        "{e}"
    );
    assert_eq!(
        parse_wall_clock("2026-11-01 01:30 -04:00", tz),
        Ok(utc(2026, 11, 1, 5, 30))
    );
    assert_eq!(
        parse_wall_clock("2026-11-01 01:30-05:00", tz),
        Ok(utc(2026, 11, 1, 6, 30))
    );
    let mut i = good();
    i.timezone = "America/New_York".into();
    i.start = "2026-11-01 01:30".into();
    i.end = "2026-11-01 01:45".into();
    assert_eq!(fields(&errors_of(&i)), vec![Field::Start, Field::End]);
}

#[test]
fn formatting_and_round_trips_across_dst_changes() {
    assert_eq!(
        format_wall_clock(utc(2026, 7, 1, 13, 0), "Europe/London"),
        "2026-07-01 14:00"
    );
    assert_eq!(
        format_wall_clock(utc(2026, 7, 1, 13, 0), "Nowhere/Land"),
        "2026-07-01 13:00"
    );
    assert_eq!(
        format_wall_clock(utc(2026, 7, 1, 13, 0) + chrono::Duration::seconds(5), "UTC"),
        "2026-07-01 13:00:05"
    );
    assert_eq!(
        format_wall_clock_unambiguous(utc(2026, 10, 25, 0, 30), "Europe/London"),
        "2026-10-25 01:30 +01:00"
    );
    assert_eq!(
        format_wall_clock_unambiguous(utc(2026, 10, 25, 1, 30), "Europe/London"),
        "2026-10-25 01:30 +00:00"
    );
    assert_eq!(
        format_wall_clock_unambiguous(utc(2026, 10, 25, 2, 30), "Europe/London"),
        "2026-10-25 02:30"
    );
    for (zone, days) in [
        ("Europe/London", [(3, 29), (10, 25)]),
        ("America/New_York", [(3, 8), (11, 1)]),
        ("Australia/Lord_Howe", [(4, 5), (10, 4)]),
    ] {
        let tz = parse_timezone(zone).expect("real zone");
        for (m, d) in days {
            let mut t = utc(2026, m, d, 0, 0) - chrono::Duration::hours(12);
            for _ in 0..(48 * 4) {
                let text = format_wall_clock_unambiguous(t, zone);
                assert_eq!(parse_wall_clock(&text, tz), Ok(t), "{zone} {t} -> {text}");
                t += chrono::Duration::minutes(15);
            }
        }
    }
}

#[test]
fn timezones_are_real_iana_names_with_suggestions() {
    assert_eq!(
        parse_timezone(" Europe/London "),
        Ok(chrono_tz::Europe::London)
    );
    assert_eq!(parse_timezone("UTC"), Ok(chrono_tz::UTC));
    let e = parse_timezone("europe/london").expect_err("case matters");
    assert_eq!(
        e,
        "Timezone \"europe/london\" is not a known IANA name; did you mean Europe/London?"
    );
    let e = parse_timezone("London").expect_err("a city alone is not a zone");
    assert!(e.contains("Europe/London"), "{e}");
    let e = parse_timezone("Amercia/New_York").expect_err("typo");
    assert!(e.contains("America/New_York"), "{e}");
    let e = parse_timezone("new york").expect_err("spaces");
    assert!(e.contains("America/New_York"), "{e}");
    let e = parse_timezone("Qwzx/Plorb").expect_err("nothing close");
    assert!(e.contains("such as Europe/London"), "{e}");
    assert_eq!(timezone_suggestions("", 5), Vec::<&str>::new());
    assert_eq!(timezone_suggestions("europe/lon", 1), vec!["Europe/London"]);
}

#[test]
fn an_existing_interaction_fills_the_form_and_validates_back() {
    let stored = Interaction {
        interaction_id: 1,
        site_id: 1,
        title: "T".into(),
        kind: "K".into(),
        lead: "L".into(),
        start_datetime: utc(2026, 10, 25, 0, 30),
        timezone: "Europe/London".into(),
        end_datetime: utc(2026, 10, 25, 1, 30),
        location: None,
        description: Some("d".into()),
        notes: None,
        created_by: 1,
        created_at: utc(2026, 1, 1, 0, 0),
        updated_by: None,
        updated_at: None,
        version: 1,
    };
    let input = InteractionInput::from_interaction(&stored);
    assert_eq!(input.start, "2026-10-25 01:30 +01:00");
    let v = validate(&input).expect("valid");
    assert_eq!(v.start_datetime, stored.start_datetime);
    assert_eq!(v.end_datetime, stored.end_datetime);
}

#[test]
fn times_past_the_year_9999_in_utc_are_refused_by_field() {
    let input = InteractionInput {
        title: "Far future".into(),
        kind: "Meeting".into(),
        lead: "Maria".into(),
        start: "9999-12-31 10:00".into(),
        end: "9999-12-31 23:00".into(),
        timezone: "America/Los_Angeles".into(),
        ..InteractionInput::default()
    };
    let errors = validate(&input).expect_err("the end is in the year 10000 in UTC");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].field, Field::End);
    assert!(
        errors[0].message.contains("year 10000"),
        "{}",
        errors[0].message
    );
    let fine = InteractionInput {
        end: "9999-12-31 15:00".into(),
        ..input
    };
    assert!(validate(&fine).is_ok());
}
