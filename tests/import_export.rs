//! Import, export and the interaction queries against a real PostgreSQL.

mod common;

use std::sync::Mutex;

use chrono::{DateTime, TimeZone, Utc};
use ifind::csvio::{self, ExportFormat, ImportError, Place};
use ifind::db::interactions;
use ifind::domain::interaction::{
    Field, INTERACTION_COLUMNS, Interaction, InteractionInput, ValidInteraction, validate,
};

const HEADER: &str = "title,type,lead,start,end,timezone,location,description,notes";

async fn site_and_user(t: &common::TestDb, site: &str, user: &str) -> (i32, i32) {
    let mut conn = t.db.pool.acquire().await.expect("connection");
    let site_id: i32 = sqlx::query_scalar("INSERT INTO sites (name) VALUES ($1) RETURNING site_id")
        .bind(site)
        .fetch_one(&mut *conn)
        .await
        .expect("insert site");
    let user_id: i32 = sqlx::query_scalar(
        "INSERT INTO users (username, password_hash, email) VALUES ($1, 'x', $1 || '@example.org') \
         RETURNING user_id",
    )
    .bind(user)
    .fetch_one(&mut *conn)
    .await
    .expect("insert user");
    (site_id, user_id)
}

async fn rows_of(t: &common::TestDb, site_id: i32) -> Vec<Interaction> {
    let mut conn = t.db.pool.acquire().await.expect("connection");
    let sql = format!(
        "SELECT {INTERACTION_COLUMNS} FROM interactions WHERE site_id = $1 ORDER BY interaction_id"
    );
    sqlx::query_as(&sql)
        .bind(site_id)
        .fetch_all(&mut *conn)
        .await
        .expect("read rows")
}

async fn count(t: &common::TestDb) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM interactions")
        .fetch_one(&t.db.pool)
        .await
        .expect("count")
}

fn no_progress(_: u64, _: u64) {}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
        .single()
        .expect("valid")
}

/// Text that must survive import and export byte for byte.
const TRICKY_CSV: &str = concat!(
    "\u{feff}title,type,lead,start,end,timezone,location,description,notes\r\n",
    "\"Board, budget\",Meeting,Ana Lima,2026-11-21 14:00,2026-11-21 15:30,Europe/London,",
    "\"Room \"\"A\"\"\",,\"line one, \"\"quoted\"\"\r\nline two\n\n  indented 🎉\"\r\n",
    "مراجعة الميزانية,اجتماع,\u{05d3}\u{05d5}\u{05d3} כהן,2026-10-25 01:30 +00:00,",
    "2026-10-25 02:30,Europe/London,,Cafe\u{301} ñ 👩\u{200d}👩\u{200d}👧 \u{200f}x,\r\n",
    "Fall back,Call,Z\u{0351}o\u{0352}e,2026-11-01 01:30 -04:00,2026-11-01 01:30 -05:00,",
    "America/New_York,\"Desk 7\",\" leading and trailing \",\"tab\there\"\r\n",
    "Seconds,Visit,Bo,2026-03-29 02:00:30,2026-03-29 02:00:30.5,Europe/London,,,\r\n",
);

#[test]
fn tricky_text_parses_exactly() {
    let rows = csvio::read_csv(TRICKY_CSV.as_bytes()).expect("valid file");
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[0].title, "Board, budget");
    assert_eq!(rows[0].location.as_deref(), Some("Room \"A\""));
    assert_eq!(rows[0].description, None);
    assert_eq!(
        rows[0].notes.as_deref(),
        Some("line one, \"quoted\"\r\nline two\n\n  indented 🎉")
    );
    assert_eq!(rows[1].title, "مراجعة الميزانية");
    assert_eq!(rows[1].start_datetime, utc(2026, 10, 25, 1, 30));
    assert_eq!(
        rows[1].description.as_deref(),
        Some("Cafe\u{301} ñ 👩\u{200d}👩\u{200d}👧 \u{200f}x")
    );
    assert_eq!(rows[2].start_datetime, utc(2026, 11, 1, 5, 30));
    assert_eq!(rows[2].end_datetime, utc(2026, 11, 1, 6, 30));
    assert_eq!(
        rows[2].description.as_deref(),
        Some(" leading and trailing ")
    );
    assert_eq!(
        rows[3].start_datetime,
        utc(2026, 3, 29, 1, 0) + chrono::Duration::seconds(30)
    );
}

#[test]
fn bad_rows_are_all_reported_with_physical_lines_and_fields() {
    let file = [
        HEADER,
        "Good,Meeting,Ana,2026-11-21 14:00,2026-11-21 15:00,Europe/London,,,",
        "Multi,Meeting,Ana,2026-11-21 14:00,2026-11-21 15:00,Europe/London,,,\"one",
        "two",
        "three\"",
        ",Meeting,Ana,2026-11-21 14:00,2026-11-21 15:00,Europe/London,,,",
        &format!(
            "Long lead,Meeting,{},2026-11-21 14:00,2026-11-21 15:00,Europe/London,,,",
            "é".repeat(101)
        ),
        "Bad date,Meeting,Ana,21/11/2026 14:00,2026-11-21 15:00,Europe/London,,,",
        "Gap,Meeting,Ana,2026-03-29 01:30,2026-03-29 03:00,Europe/London,,,",
        "Backwards,Meeting,Ana,2026-11-21 14:00,2026-11-21 13:00,Europe/London,,,",
        "Zone,Meeting,Ana,2026-11-21 14:00,2026-11-21 15:00,Europe/Londn,,,",
        "Short row,Meeting",
        "Good again,Meeting,Ana,2026-11-21 14:00,2026-11-21 15:00,Europe/London,,,",
    ]
    .join("\r\n");
    let Err(ImportError::Rows { errors, total_bad }) = csvio::read_csv(file.as_bytes()) else {
        panic!("the file has bad rows");
    };
    let got: Vec<(u64, Option<Field>)> = errors
        .iter()
        .map(|e| (e.line().expect("a CSV line"), e.field))
        .collect();
    assert_eq!(
        got,
        vec![
            (6, Some(Field::Title)),
            (7, Some(Field::Lead)),
            (8, Some(Field::Start)),
            (9, Some(Field::Start)),
            (10, Some(Field::End)),
            (11, Some(Field::Timezone)),
            (12, None),
        ]
    );
    assert_eq!(total_bad, 7);
    assert!(
        errors[3]
            .message
            .contains("does not exist in Europe/London")
    );
    assert!(errors[5].message.contains("did you mean Europe/London"));
    let text = ImportError::Rows { errors, total_bad }.to_string();
    assert!(
        text.starts_with("Nothing was imported: the file has 7 problems."),
        "{text}"
    );
    assert!(
        text.contains("line 6, field title: Title is required."),
        "{text}"
    );
    assert!(
        text.contains("line 7, field lead: Lead is 101 characters long; the most allowed is 100."),
        "{text}"
    );
}

#[test]
fn many_bad_rows_are_capped_in_the_message() {
    let mut file = String::from(HEADER);
    for _ in 0..1200 {
        file.push_str("\n,Meeting,Ana,2026-11-21 14:00,2026-11-21 15:00,Europe/London,,,");
    }
    let err = csvio::read_csv(file.as_bytes()).expect_err("all bad");
    let ImportError::Rows { errors, total_bad } = &err else {
        panic!("row errors expected: {err}");
    };
    assert_eq!(*total_bad, 1200);
    assert_eq!(errors.len(), 1000);
    let text = err.to_string();
    assert_eq!(text.lines().count(), 1 + 50 + 1, "{text}");
    assert!(text.contains("and 1150 more."), "{text}");
}

#[test]
fn header_problems_and_empty_files() {
    let header_err = |text: &str| match csvio::read_csv(text.as_bytes()) {
        Err(ImportError::Header(m)) => m,
        other => panic!("expected a header error for {text:?}, got {other:?}"),
    };
    assert!(matches!(csvio::read_csv(&b""[..]), Err(ImportError::Empty)));
    assert!(matches!(
        csvio::read_csv(&b"\xEF\xBB\xBF"[..]),
        Err(ImportError::Empty)
    ));
    assert!(matches!(
        csvio::read_csv(&b"\r\n\r\n"[..]),
        Err(ImportError::Empty)
    ));
    assert!(ImportError::Empty.to_string().contains("header row"));
    // A header and no rows is a valid (empty) import: an export of nothing reads back.
    assert_eq!(csvio::read_csv(HEADER.as_bytes()).expect("ok").len(), 0);

    let m = header_err(&HEADER.replace(',', ";"));
    assert!(m.contains("semicolons"), "{m}");
    let m = header_err("title,type,lead,start,end,timezone,colour");
    assert!(
        m.contains("\"colour\"") && m.contains("the columns are title, type"),
        "{m}"
    );
    let m = header_err("title,location,start");
    assert!(
        m.contains("required columns type, lead, end, timezone"),
        "{m}"
    );
    let m = header_err("title,type,lead,start,end,timezone,title");
    assert!(m.contains("twice"), "{m}");
    let m = header_err("{\"not\": \"csv\"}");
    assert!(m.contains("unknown column"), "{m}");
    // Case and spaces in the header are forgiven; optional columns may be left out.
    let ok = " Title , TYPE,lead,start,end,timezone\nT,K,L,2026-01-01 10:00,2026-01-01 11:00,UTC";
    assert_eq!(csvio::read_csv(ok.as_bytes()).expect("ok").len(), 1);
}

#[tokio::test]
async fn good_file_imports_in_one_go() {
    let t = common::fresh_db().await;
    let (site, user) = site_and_user(&t, "North", "ana").await;
    let rows = csvio::read_csv(TRICKY_CSV.as_bytes()).expect("valid");
    let calls = Mutex::new(Vec::new());
    let progress = |done: u64, total: u64| calls.lock().expect("lock").push((done, total));
    let report = csvio::import(&t.db, site, user, &rows, &progress)
        .await
        .expect("imports");
    assert_eq!(report.rows, 4);
    assert!(report.to_string().starts_with("Imported 4 rows in "));
    assert_eq!(calls.lock().expect("lock").last(), Some(&(4, 4)));
    let stored = rows_of(&t, site).await;
    assert_eq!(stored.len(), 4);
    for (s, v) in stored.iter().zip(&rows) {
        assert_eq!(s.created_by, user);
        assert_eq!(s.version, 1);
        assert_eq!(s.updated_by, None);
        assert_same(s, v);
    }
}

fn assert_same(s: &Interaction, v: &ValidInteraction) {
    assert_eq!(s.title, v.title);
    assert_eq!(s.kind, v.kind);
    assert_eq!(s.lead, v.lead);
    assert_eq!(s.start_datetime, v.start_datetime, "start of {}", s.title);
    assert_eq!(s.end_datetime, v.end_datetime, "end of {}", s.title);
    assert_eq!(s.timezone, v.timezone);
    assert_eq!(s.location, v.location);
    assert_eq!(s.description, v.description);
    assert_eq!(s.notes, v.notes);
}

fn sample(i: usize) -> ValidInteraction {
    let start = utc(2026, 1, 1, 9, 0) + chrono::Duration::minutes(37 * i as i64);
    ValidInteraction {
        title: format!("Interaction {i} — ünïcödé \\ back\\slash \\N"),
        kind: ["Meeting", "Call", "Visit"][i % 3].to_string(),
        lead: format!("Lead {}", i % 17),
        start_datetime: start,
        end_datetime: start + chrono::Duration::minutes(45),
        timezone: ["Europe/London", "America/New_York", "Asia/Kolkata"][i % 3].to_string(),
        location: i.is_multiple_of(2).then(|| "Room \\N 1".to_string()),
        description: Some(format!("Row {i}\twith a tab\nsecond line\r\nthird \\N \\t")),
        notes: None,
    }
}

#[tokio::test]
async fn a_failure_part_way_leaves_nothing() {
    let t = common::fresh_db().await;
    let (site, user) = site_and_user(&t, "North", "ana").await;
    let mut rows: Vec<ValidInteraction> = (0..12_000).map(sample).collect();
    // Passes nothing but the database's own check, which fails on the very last row.
    let last = rows.len() - 1;
    rows[last].end_datetime = rows[last].start_datetime - chrono::Duration::minutes(1);
    let err = csvio::import(&t.db, site, user, &rows, &no_progress)
        .await
        .expect_err("the last row breaks a constraint");
    assert!(matches!(err, ImportError::Db(_)), "{err}");
    assert!(err.to_string().contains("nothing was imported"), "{err}");
    assert_eq!(count(&t).await, 0);

    // The same rows without the bad one import, over several COPY chunks.
    rows.pop();
    let calls = Mutex::new(0u32);
    let progress = |_: u64, _: u64| *calls.lock().expect("lock") += 1;
    let report = csvio::import(&t.db, site, user, &rows, &progress)
        .await
        .expect("imports");
    assert_eq!(report.rows, rows.len() as u64);
    assert!(
        *calls.lock().expect("lock") > 2,
        "progress reported per chunk"
    );
    assert!(report.rows_per_second() > 0.0);
    eprintln!("{report}");
    let stored = rows_of(&t, site).await;
    assert_eq!(stored.len(), rows.len());
    for (s, v) in stored.iter().zip(&rows).step_by(997) {
        assert_same(s, v);
    }
}

#[tokio::test]
async fn a_bad_file_imports_nothing() {
    let t = common::fresh_db().await;
    let (site, user) = site_and_user(&t, "North", "ana").await;
    let file = format!(
        "{HEADER}\nGood,Meeting,Ana,2026-11-21 14:00,2026-11-21 15:00,Europe/London,,,\n\
         ,Meeting,Ana,2026-11-21 14:00,2026-11-21 15:00,Europe/London,,,\n"
    );
    // The command's flow: validate everything, import only when all rows are good.
    match csvio::read_csv(file.as_bytes()) {
        Ok(rows) => {
            csvio::import(&t.db, site, user, &rows, &no_progress)
                .await
                .expect("import");
            panic!("the file has a bad row");
        }
        Err(e) => assert!(matches!(e, ImportError::Rows { total_bad: 1, .. }), "{e}"),
    }
    assert_eq!(count(&t).await, 0);
}

#[tokio::test]
async fn export_then_import_gives_identical_rows() {
    let t = common::fresh_db().await;
    let (first, user) = site_and_user(&t, "North", "ana").await;
    let second: i32 =
        sqlx::query_scalar("INSERT INTO sites (name) VALUES ('South') RETURNING site_id")
            .fetch_one(&t.db.pool)
            .await
            .expect("second site");
    let third: i32 =
        sqlx::query_scalar("INSERT INTO sites (name) VALUES ('East') RETURNING site_id")
            .fetch_one(&t.db.pool)
            .await
            .expect("third site");
    let mut rows = csvio::read_csv(TRICKY_CSV.as_bytes()).expect("valid");
    rows.extend((0..50).map(sample));
    csvio::import(&t.db, first, user, &rows, &no_progress)
        .await
        .expect("import");
    let original = rows_of(&t, first).await;

    let mut csv = Vec::new();
    csvio::write_csv(&mut csv, &original).expect("export csv");
    let text = String::from_utf8(csv.clone()).expect("utf-8");
    assert!(text.starts_with(
        "title,type,lead,start,end,timezone,location,description,notes,interaction_id,\
         created_by,created_at,updated_by,updated_at,version\n"
    ));
    // The ambiguous fall-back hour is written with its offset; other times are plain.
    assert!(
        text.contains(",2026-10-25 01:30 +00:00,2026-10-25 02:30,"),
        "{text}"
    );
    assert!(
        text.contains(",2026-11-01 01:30 -04:00,2026-11-01 01:30 -05:00,"),
        "{text}"
    );
    assert!(
        text.contains(",2026-11-21 14:00,2026-11-21 15:30,"),
        "{text}"
    );

    let back = csvio::read_csv(&csv[..]).expect("export reads back unchanged");
    csvio::import(&t.db, second, user, &back, &no_progress)
        .await
        .expect("re-import");
    let copy = rows_of(&t, second).await;
    assert_eq!(copy.len(), original.len());
    for (a, b) in original.iter().zip(&copy) {
        assert_eq!(strip(a), strip(b));
    }

    let mut json = Vec::new();
    csvio::write_json(&mut json, &original).expect("export json");
    let parsed: serde_json::Value = serde_json::from_slice(&json).expect("valid JSON");
    assert_eq!(parsed[1]["start"], "2026-10-25 01:30 +00:00");
    assert_eq!(parsed[0]["type"], "Meeting");
    assert_eq!(parsed[0]["description"], serde_json::Value::Null);
    let back = csvio::read_auto(&json[..]).expect("JSON reads back");
    csvio::import(&t.db, third, user, &back, &no_progress)
        .await
        .expect("re-import json");
    let copy = rows_of(&t, third).await;
    for (a, b) in original.iter().zip(&copy) {
        assert_eq!(strip(a), strip(b));
    }
    // read_auto also takes CSV.
    assert_eq!(
        csvio::read_auto(&csv[..]).expect("csv").len(),
        original.len()
    );
}

/// The fields an import carries (ids, sites and timestamps differ by design).
fn strip(i: &Interaction) -> InteractionInput {
    InteractionInput {
        start: i.start_datetime.to_rfc3339(),
        end: i.end_datetime.to_rfc3339(),
        ..InteractionInput::from_interaction(i)
    }
}

#[test]
fn streaming_export_of_nothing() {
    let mut out = Vec::new();
    let e = csvio::Exporter::new(&mut out, ExportFormat::Json).expect("start");
    e.finish().expect("finish");
    assert_eq!(String::from_utf8(out).expect("utf-8"), "[]\n");
    let mut out = Vec::new();
    csvio::write_csv(&mut out, &[]).expect("csv");
    assert_eq!(csvio::read_csv(&out[..]).expect("reads back").len(), 0);
}

#[test]
fn json_problems_name_the_record() {
    let json = r#"[{"title": "A", "type": "K", "lead": "L", "start": "2026-01-01 10:00",
        "end": "2026-01-01 11:00", "timezone": "UTC", "interaction_id": 4},
        {"title": "", "type": "K", "lead": "L", "start": "2026-01-01 10:00",
        "end": "2026-01-01 11:00", "timezone": "UTC", "colour": "red"}]"#;
    let Err(ImportError::Rows { errors, .. }) = csvio::read_json(json.as_bytes()) else {
        panic!("second record is bad");
    };
    assert_eq!(errors[0].place, Place::Record(2));
    assert!(
        errors[0]
            .to_string()
            .starts_with("record 2: Unknown key \"colour\"")
    );
    assert!(matches!(
        csvio::read_json(&b"{}"[..]),
        Err(ImportError::Header(_))
    ));
}

#[tokio::test]
async fn get_insert_update_with_versions() {
    let t = common::fresh_db().await;
    let (site, ana) = site_and_user(&t, "North", "ana").await;
    let (other_site, bo) = site_and_user(&t, "South", "bo").await;
    let mut tx = t.db.begin_as(Some(ana)).await.expect("begin");
    let input = InteractionInput {
        title: "Kick-off 🎉".into(),
        kind: "Meeting".into(),
        lead: "Ana".into(),
        start: "2026-10-25 01:30 +01:00".into(),
        end: "2026-10-25 01:30 +00:00".into(),
        timezone: "Europe/London".into(),
        ..Default::default()
    };
    let v = validate(&input).expect("valid");
    let created = interactions::insert(&mut tx, site, ana, &v)
        .await
        .expect("insert");
    assert_eq!(created.version, 1);
    assert_eq!(created.created_by, ana);
    assert_eq!(created.start_datetime, utc(2026, 10, 25, 0, 30));
    let id = created.interaction_id;
    assert_eq!(
        interactions::get(&mut tx, site, id).await.expect("get"),
        Some(created.clone())
    );
    assert_eq!(
        interactions::get(&mut tx, other_site, id)
            .await
            .expect("get"),
        None
    );

    let mut changed = v.clone();
    changed.notes = Some("moved\nto room 2".into());
    let updated = interactions::update(&mut tx, site, id, 1, bo, &changed)
        .await
        .expect("update")
        .expect("version 1 is current");
    assert_eq!(updated.version, 2);
    // The database stamps who acts (the transaction's user), not the id the caller passes.
    assert_ne!(bo, ana);
    assert_eq!(updated.updated_by, Some(ana));
    assert!(updated.updated_at.is_some());
    assert_eq!(updated.notes.as_deref(), Some("moved\nto room 2"));
    assert_eq!(updated.created_by, ana);

    // A second save based on version 1 is stale.
    let stale = interactions::update(&mut tx, site, id, 1, ana, &v)
        .await
        .expect("update");
    assert_eq!(stale, None);
    // The wrong site or a missing row is None too.
    assert_eq!(
        interactions::update(&mut tx, other_site, id, 2, ana, &v)
            .await
            .expect("update"),
        None
    );
    assert_eq!(
        interactions::update(&mut tx, site, id + 1000, 1, ana, &v)
            .await
            .expect("update"),
        None
    );
    // A deleted row can be neither read nor updated.
    sqlx::query(
        "UPDATE interactions SET deleted_at = now(), deleted_by = $1 WHERE interaction_id = $2",
    )
    .bind(ana)
    .bind(id)
    .execute(&mut *tx)
    .await
    .expect("soft delete");
    assert_eq!(
        interactions::get(&mut tx, site, id).await.expect("get"),
        None
    );
    assert_eq!(
        interactions::update(&mut tx, site, id, 2, ana, &v)
            .await
            .expect("update"),
        None
    );
    tx.commit().await.expect("commit");
}

#[tokio::test]
async fn distinct_types_and_leads_for_completion() {
    let t = common::fresh_db().await;
    let (site, user) = site_and_user(&t, "North", "ana").await;
    let (other, _) = site_and_user(&t, "South", "bo").await;
    let rows: Vec<ValidInteraction> = (0..40).map(sample).collect();
    csvio::import(&t.db, site, user, &rows, &no_progress)
        .await
        .expect("import");
    let mut odd = sample(1);
    odd.kind = "Secret".into();
    odd.lead = "Hidden".into();
    csvio::import(&t.db, other, user, &[odd.clone()], &no_progress)
        .await
        .expect("import");
    let mut deleted = odd;
    deleted.kind = "Gone".into();
    let mut conn = t.db.pool.acquire().await.expect("connection");
    let row = interactions::insert(&mut conn, site, user, &deleted)
        .await
        .expect("insert");
    sqlx::query("UPDATE interactions SET deleted_at = now() WHERE interaction_id = $1")
        .bind(row.interaction_id)
        .execute(&mut *conn)
        .await
        .expect("delete");

    let types = interactions::distinct_types(&mut conn, site)
        .await
        .expect("types");
    assert_eq!(types, vec!["Call", "Meeting", "Visit"]);
    let leads = interactions::distinct_leads(&mut conn, site)
        .await
        .expect("leads");
    assert_eq!(leads.len(), 17);
    assert!(!leads.contains(&"Hidden".to_string()));
    assert_eq!(
        interactions::distinct_types(&mut conn, other)
            .await
            .expect("types"),
        vec!["Secret"]
    );
}

#[test]
fn line_numbers_count_blank_lines_and_line_breaks_inside_quotes() {
    let good = "Good,Meeting,Ana,2026-11-21 14:00,2026-11-21 15:00,Europe/London,,,";
    let bad = ",Meeting,Ana,2026-11-21 14:00,2026-11-21 15:00,Europe/London,,,";
    // Physical lines, 1-based, with the bad rows' expected starting lines.
    let mut file = String::from("\u{feff}");
    file.push_str(HEADER);
    file.push_str("\n\n"); // line 2 is blank
    let mut line = 3;
    let mut expected = Vec::new();
    for i in 0..400 {
        match i % 4 {
            0 => {
                // A row whose notes span three lines, with mixed line ends.
                file.push_str(&good.replace(",,,", ",,,\"a\r\nb\nc 🎉\""));
                file.push_str("\r\n");
                line += 3;
            }
            1 => {
                file.push_str(bad);
                file.push('\n');
                expected.push(line);
                line += 1;
            }
            2 => {
                // A bad row that itself spans two lines (a line break in the title).
                file.push_str(&good.replacen("Good", "\"Go\nod\"", 1));
                file.push_str("\n\n\n"); // then two blank lines
                expected.push(line);
                line += 4;
            }
            _ => {
                file.push_str(good);
                file.push('\n');
                line += 1;
            }
        }
    }
    let Err(ImportError::Rows { errors, .. }) = csvio::read_csv(file.as_bytes()) else {
        panic!("bad rows expected");
    };
    let got: Vec<u64> = errors.iter().filter_map(|e| e.line()).collect();
    assert_eq!(got, expected);
    assert!(errors[1].message.starts_with("Title contains a line break"));
}

struct Broken;

impl std::io::Read for Broken {
    fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
        Err(std::io::Error::other("disk on fire"))
    }
}

#[test]
fn read_failures_and_empty_json() {
    let err = csvio::read_csv(Broken).expect_err("cannot read");
    assert!(matches!(err, ImportError::Io(_)), "{err}");
    assert!(
        err.to_string()
            .starts_with("Could not read the file (disk on fire)"),
        "{err}"
    );
    assert!(matches!(
        csvio::read_json(&b""[..]),
        Err(ImportError::Empty)
    ));
    assert_eq!(csvio::read_json(&b"[]"[..]).expect("empty array").len(), 0);
    let err = csvio::read_json(&b"[{\"title\": 1"[..]).expect_err("broken JSON");
    assert!(
        err.to_string().starts_with("The file is not valid JSON"),
        "{err}"
    );
}

/// An editor logged in as themselves imports under row-level security (no COPY there): the
/// rows are theirs, stamped by the database, and the audit trail names them.
#[tokio::test]
async fn an_editor_imports_as_themselves() {
    let t = common::fresh_db().await;
    common::add_ada(&t.url);
    common::ok(&common::ifind(&t.url, &["site", "add", "North"], None));
    common::ok(&common::ifind(
        &t.url,
        &[
            "user",
            "add",
            "eddie",
            "--email",
            "eddie@example.org",
            "--password-stdin",
        ],
        Some(&format!("{}\n", common::TEST_PASSWORD)),
    ));
    common::ok(&common::ifind(
        &t.url,
        &["grant", "eddie", "North", "editor"],
        None,
    ));
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("in.csv");
    std::fs::write(
        &file,
        "title,type,lead,start,end,timezone,location,description,notes\n\
         Call one,Call,Ana,2026-01-10 09:00,2026-01-10 10:00,UTC,,,\n\
         Call two,Call,Ben,2026-01-11 09:00,2026-01-11 10:00,UTC,,,\n",
    )
    .expect("write");
    let csv = file.to_str().expect("utf8");
    common::ok(&common::ifind_app(
        &t,
        &["--as", "eddie", "import", csv, "--site", "North"],
        None,
    ));
    let rows: Vec<(String, String, Option<i32>, Option<String>)> = sqlx::query_as(
        "SELECT i.title::text, u.username::text, a.user_id, a.actor \
           FROM interactions i JOIN users u ON u.user_id = i.created_by \
           LEFT JOIN audit_log a ON a.table_name = 'interactions' AND a.row_id = i.interaction_id \
          ORDER BY i.interaction_id",
    )
    .fetch_all(&t.db.pool)
    .await
    .expect("rows");
    let eddie: i32 = sqlx::query_scalar("SELECT user_id FROM users WHERE username = 'eddie'")
        .fetch_one(&t.db.pool)
        .await
        .expect("eddie");
    let role = ifind::db::logins::role_name(&t.name, "eddie");
    assert_eq!(
        rows,
        vec![
            (
                "Call one".into(),
                "eddie".into(),
                Some(eddie),
                Some(role.clone())
            ),
            ("Call two".into(), "eddie".into(), Some(eddie), Some(role)),
        ]
    );
}

/// A row with the wrong number of columns is said in words that count right ("1 column").
#[test]
fn a_short_row_is_counted_in_words() {
    let csv = "title,type,lead,start,end,timezone\nOnly a title\n";
    let err = csvio::read_auto(csv.as_bytes()).expect_err("a short row");
    let text = err.to_string();
    assert!(
        text.contains("line 2") && text.contains("The row has 1 column but the header has 6"),
        "{text}"
    );
}

/// An export's `interaction_id` column is read with each row (CSV and JSON): empty is none, a
/// number is the id, anything else is a problem of its line.
#[test]
fn the_interaction_ids_of_an_export_are_read_with_their_rows() {
    let csv = "title,type,lead,start,end,timezone,location,description,notes,interaction_id\n\
               A,Meeting,Ann,2026-01-10 09:00,2026-01-10 10:00,UTC,,,,12\n\
               B,Meeting,Ann,2026-01-10 09:00,2026-01-10 10:00,UTC,,,,\n";
    let read = csvio::read_csv_with_ids(csv.as_bytes()).expect("reads");
    assert_eq!(read.ids, vec![Some(12), None]);
    assert_eq!(read.rows.len(), 2);
    let json = r#"[{"title":"A","type":"Meeting","lead":"Ann","start":"2026-01-10 09:00",
                   "end":"2026-01-10 10:00","timezone":"UTC","interaction_id":7},
                  {"title":"B","type":"Meeting","lead":"Ann","start":"2026-01-10 09:00",
                   "end":"2026-01-10 10:00","timezone":"UTC","interaction_id":null}]"#;
    let read = csvio::read_auto_with_ids(json.as_bytes()).expect("reads");
    assert_eq!(read.ids, vec![Some(7), None]);
    let bad = csv.replace(",12\n", ",twelve\n");
    let err = csvio::read_csv_with_ids(bad.as_bytes()).expect_err("refused");
    let text = err.to_string();
    assert!(
        text.contains("line 2") && text.contains("interaction_id \"twelve\""),
        "{text}"
    );
}
