//! Escapes stay data (issue 11, point 9): the database refuses control characters and
//! bidirectional overrides (CHECK constraints, migration 0010), the app refuses them first with
//! a message naming the field, rows written before the constraints are rewritten by the
//! migration, every text output prints such characters escaped, and CSV export neutralises
//! formula-like cells in a way import reverses.

mod common;

use common::{ifind, ifind_app, ok};
use ifind::csvio::{self, ImportError};
use ifind::domain::format::is_unsafe_char;
use ifind::domain::interaction::{
    Field, INTERACTION_COLUMNS, Interaction, InteractionInput, validate,
};

/// Every constraint migration 0010 adds.
const CONSTRAINTS: [(&str, &str); 18] = [
    ("interactions", "interactions_title_plain_text"),
    ("interactions", "interactions_type_plain_text"),
    ("interactions", "interactions_lead_plain_text"),
    ("interactions", "interactions_location_plain_text"),
    ("interactions", "interactions_timezone_plain_text"),
    ("interactions", "interactions_description_plain_text"),
    ("interactions", "interactions_notes_plain_text"),
    (
        "interactions_archive",
        "interactions_archive_title_plain_text",
    ),
    (
        "interactions_archive",
        "interactions_archive_type_plain_text",
    ),
    (
        "interactions_archive",
        "interactions_archive_lead_plain_text",
    ),
    (
        "interactions_archive",
        "interactions_archive_location_plain_text",
    ),
    (
        "interactions_archive",
        "interactions_archive_timezone_plain_text",
    ),
    (
        "interactions_archive",
        "interactions_archive_description_plain_text",
    ),
    (
        "interactions_archive",
        "interactions_archive_notes_plain_text",
    ),
    ("users", "users_username_plain_text"),
    ("users", "users_email_plain_text"),
    ("sites", "sites_name_plain_text"),
    ("sites", "sites_description_plain_text"),
];

/// A site and a user, as the owner; returns their ids.
async fn site_and_user(t: &common::TestDb) -> (i32, i32) {
    let site: i32 =
        sqlx::query_scalar("INSERT INTO sites (name) VALUES ('North') RETURNING site_id")
            .fetch_one(&t.db.pool)
            .await
            .expect("site");
    let user: i32 = sqlx::query_scalar(
        "INSERT INTO users (username, password_hash, email) VALUES ('ana', 'x', 'ana@x') \
         RETURNING user_id",
    )
    .fetch_one(&t.db.pool)
    .await
    .expect("user");
    (site, user)
}

/// Inserts an interaction with `column` set to `value` (as the owner, no app validation);
/// returns the database's answer: Ok, or the name of the constraint it broke.
async fn insert_with(
    t: &common::TestDb,
    table: &str,
    site: i32,
    user: i32,
    column: &str,
    value: &str,
) -> Result<(), String> {
    let mut fields = vec![
        ("title", "A title".to_string()),
        ("type", "Call".to_string()),
        ("lead", "Ana".to_string()),
        ("timezone", "UTC".to_string()),
        ("location", "Room".to_string()),
        ("description", "text".to_string()),
        ("notes", "text".to_string()),
    ];
    for f in &mut fields {
        if f.0 == column {
            f.1 = value.to_string();
        }
    }
    let id_column = if table == "interactions_archive" {
        "interaction_id, "
    } else {
        ""
    };
    let id_value = if table == "interactions_archive" {
        "(SELECT coalesce(max(interaction_id), 900000) + 1 FROM interactions_archive), "
    } else {
        ""
    };
    let sql = format!(
        "INSERT INTO {table} ({id_column}site_id, created_by, start_datetime, end_datetime, \
         title, type, lead, timezone, location, description, notes) \
         VALUES ({id_value}$1, $2, now(), now(), $3, $4, $5, $6, $7, $8, $9)"
    );
    let mut q = sqlx::query(&sql).bind(site).bind(user);
    for (_, v) in &fields {
        q = q.bind(v.clone());
    }
    match q.execute(&t.db.pool).await {
        Ok(_) => Ok(()),
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("23514") => {
            Err(e.constraint().unwrap_or_default().to_string())
        }
        Err(e) => panic!("unexpected error: {e}"),
    }
}

#[tokio::test]
async fn the_database_refuses_control_and_bidi_characters() {
    let t = common::fresh_db().await;
    let (site, user) = site_and_user(&t).await;
    let refused_everywhere = [
        "esc \u{1b}[2J",
        "bell\u{7}",
        "nul-ish \u{1}",
        "del \u{7f}",
        "c1 csi \u{9b}31m",
        "c1 \u{85}",
        "\u{202e}exe.pdf",
        "lre \u{202a}",
        "isolate \u{2066}x\u{2069}",
        "fsi \u{2068}",
        "lone \r return",
    ];
    for table in ["interactions", "interactions_archive"] {
        for column in [
            "title",
            "type",
            "lead",
            "timezone",
            "location",
            "description",
            "notes",
        ] {
            for value in refused_everywhere {
                let answer = insert_with(&t, table, site, user, column, value).await;
                assert_eq!(
                    answer,
                    Err(format!("{table}_{column}_plain_text")),
                    "{table}.{column} = {value:?}"
                );
            }
            // Line breaks and tabs: only in the multi-line fields.
            let multi = matches!(column, "description" | "notes");
            for value in ["two\nlines", "a\ttab", "crlf\r\nline"] {
                let answer = insert_with(&t, table, site, user, column, value).await;
                if multi {
                    assert_eq!(answer, Ok(()), "{table}.{column} = {value:?}");
                } else {
                    assert!(answer.is_err(), "{table}.{column} = {value:?}");
                }
            }
            // Direction marks, joiners, accents and emoji are text.
            let fine = "Caf\u{e9} \u{200f}\u{5e9}\u{5dc}\u{200e} 👩\u{200d}👩\u{200d}👧";
            assert_eq!(
                insert_with(&t, table, site, user, column, fine).await,
                Ok(()),
                "{table}.{column}"
            );
        }
    }

    for (sql, constraint) in [
        (
            "INSERT INTO users (username, password_hash, email) VALUES (E'ev\\x1bil', 'x', 'e@x')",
            "users_username_plain_text",
        ),
        (
            "INSERT INTO users (username, password_hash, email) VALUES ('evil', 'x', E'e\\u202e@x')",
            "users_email_plain_text",
        ),
        (
            "INSERT INTO sites (name) VALUES (E'Site \\u2067x')",
            "sites_name_plain_text",
        ),
        (
            "INSERT INTO sites (name, description) VALUES ('Fine', E'bad \\u009b')",
            "sites_description_plain_text",
        ),
        (
            "UPDATE users SET username = E'ana\\x7f' WHERE username = 'ana'",
            "users_username_plain_text",
        ),
    ] {
        let err = sqlx::query(sql).execute(&t.db.pool).await.expect_err(sql);
        let constraint_of = match &err {
            sqlx::Error::Database(e) => e.constraint().map(str::to_string),
            _ => None,
        };
        assert_eq!(constraint_of.as_deref(), Some(constraint), "{sql}: {err}");
    }
    sqlx::query(
        "INSERT INTO sites (name, description) VALUES ('Lines', E'one\\r\\ntwo\\n\\tthree')",
    )
    .execute(&t.db.pool)
    .await
    .expect("a site description may have several lines");
}

#[tokio::test]
async fn rows_from_before_the_constraints_are_rewritten_by_the_migration() {
    let t = common::fresh_db().await;
    let (site, user) = site_and_user(&t).await;
    // A database as it was before migration 0010: no constraints.
    for (table, constraint) in CONSTRAINTS {
        sqlx::raw_sql(&format!("ALTER TABLE {table} DROP CONSTRAINT {constraint}"))
            .execute(&t.db.pool)
            .await
            .expect("drop constraint");
    }
    let live: i32 = sqlx::query_scalar(
        "INSERT INTO interactions (site_id, created_by, start_datetime, end_datetime, title, \
         type, lead, timezone, location, description, notes) VALUES ($1, $2, now(), now(), \
         E'Pay \\x1b[31mnow', 'Call', E'\\u202eAna', 'UTC', E'Room\\t7', \
         E'ok\\r\\nfine\\ttab\\nlone\\rreturn\\x07', E'\\u2066iso\\u2069') RETURNING interaction_id",
    )
    .bind(site)
    .bind(user)
    .fetch_one(&t.db.pool)
    .await
    .expect("legacy row");
    let clean: i32 = sqlx::query_scalar(
        "INSERT INTO interactions (site_id, created_by, start_datetime, end_datetime, title, \
         type, lead, timezone, description) VALUES ($1, $2, now(), now(), 'Clean', 'Call', \
         'Ana', 'UTC', E'a\\r\\nb') RETURNING interaction_id",
    )
    .bind(site)
    .bind(user)
    .fetch_one(&t.db.pool)
    .await
    .expect("clean row");
    sqlx::query(
        "INSERT INTO interactions_archive (interaction_id, site_id, created_by, start_datetime, \
         end_datetime, title, type, lead, timezone) VALUES (777777, $1, $2, now(), now(), \
         E'Old\\u009b2J', 'Call', 'Ana', 'UTC')",
    )
    .bind(site)
    .bind(user)
    .execute(&t.db.pool)
    .await
    .expect("legacy archived row");
    sqlx::raw_sql(
        "INSERT INTO users (username, password_hash, email) VALUES \
           (E'ev\\x1bil', 'x', E'e\\u202e@x'), (E'ev\\x01il', 'x', 'e2@x'); \
         INSERT INTO sites (name, description) VALUES (E'S\\x1b[1m', E'one\\r\\ntwo\\rthree');",
    )
    .execute(&t.db.pool)
    .await
    .expect("legacy users and site");

    // Migration 0010 again, on that database.
    let migration = ifind::db::migrate::MIGRATIONS
        .iter()
        .find(|m| m.number == 10)
        .expect("migration 10");
    let mut tx = t.db.pool.begin().await.expect("begin");
    sqlx::raw_sql(migration.sql)
        .execute(&mut *tx)
        .await
        .expect("the migration succeeds over offending rows");
    tx.commit().await.expect("commit");

    let sql = format!("SELECT {INTERACTION_COLUMNS} FROM interactions ORDER BY interaction_id");
    let rows: Vec<Interaction> = sqlx::query_as(&sql)
        .fetch_all(&t.db.pool)
        .await
        .expect("rows");
    let row = rows
        .iter()
        .find(|r| r.interaction_id == live)
        .expect("live row");
    assert_eq!(row.title, "Pay \u{fffd}[31mnow");
    assert_eq!(row.lead, "\u{fffd}Ana");
    assert_eq!(row.location.as_deref(), Some("Room\u{fffd}7"));
    assert_eq!(
        row.description.as_deref(),
        Some("ok\r\nfine\ttab\nlone\u{fffd}return\u{fffd}")
    );
    assert_eq!(row.notes.as_deref(), Some("\u{fffd}iso\u{fffd}"));
    assert_eq!(row.version, 2, "a rewrite is a new version");
    let untouched = rows
        .iter()
        .find(|r| r.interaction_id == clean)
        .expect("clean row");
    assert_eq!(untouched.version, 1);
    assert_eq!(untouched.description.as_deref(), Some("a\r\nb"));

    let archived: String =
        sqlx::query_scalar("SELECT title FROM interactions_archive WHERE interaction_id = 777777")
            .fetch_one(&t.db.pool)
            .await
            .expect("archived");
    assert_eq!(archived, "Old\u{fffd}2J");
    let names: Vec<(String, String)> = sqlx::query_as(
        "SELECT username::text, email::text FROM users WHERE username LIKE 'ev%' ORDER BY user_id",
    )
    .fetch_all(&t.db.pool)
    .await
    .expect("users");
    assert_eq!(names[0], ("ev\u{fffd}il".into(), "e\u{fffd}@x".into()));
    assert!(
        names[1].0.starts_with("ev\u{fffd}il~"),
        "colliding names stay unique: {names:?}"
    );
    let (site_name, description): (String, String) =
        sqlx::query_as("SELECT name::text, description FROM sites WHERE name LIKE 'S%'")
            .fetch_one(&t.db.pool)
            .await
            .expect("site");
    assert_eq!(site_name, "S\u{fffd}[1m");
    assert_eq!(description, "one\r\ntwo\u{fffd}three");

    // Every constraint is back, and valid.
    for (table, constraint) in CONSTRAINTS {
        let valid: Option<bool> = sqlx::query_scalar(
            "SELECT convalidated FROM pg_constraint WHERE conname = $1 AND conrelid = $2::regclass",
        )
        .bind(constraint)
        .bind(table)
        .fetch_optional(&t.db.pool)
        .await
        .expect("constraint");
        assert_eq!(valid, Some(true), "{constraint}");
    }
    // The trail records the rewrite as the system's, with the old value.
    let old: serde_json::Value = sqlx::query_scalar(
        "SELECT old_values FROM audit_log WHERE table_name = 'interactions' AND row_id = $1 \
           AND operation = 'update' AND user_id IS NULL",
    )
    .bind(live)
    .fetch_one(&t.db.pool)
    .await
    .expect("audit row of the rewrite");
    assert_eq!(old["title"], "Pay \u{1b}[31mnow");
}

#[test]
fn the_app_refuses_first_and_names_the_field_and_the_fix() {
    let input = InteractionInput {
        title: "Pay\u{1b}[31m".into(),
        kind: "Call".into(),
        lead: "\u{202e}Ana".into(),
        start: "2026-11-21 14:00".into(),
        end: "2026-11-21 15:00".into(),
        timezone: "UTC".into(),
        location: String::new(),
        description: "ok\r\nfine\n\tindented".into(),
        notes: "lone\rreturn".into(),
    };
    let errors = validate(&input).expect_err("refused");
    let by_field = |f: Field| {
        errors
            .iter()
            .find(|e| e.field == f)
            .map(|e| e.message.clone())
            .unwrap_or_default()
    };
    assert_eq!(
        by_field(Field::Title),
        "Title contains a control character (U+001B) at character 4; remove it."
    );
    assert_eq!(
        by_field(Field::Lead),
        "Lead contains a bidirectional override (U+202E) at character 1; remove it."
    );
    assert_eq!(
        by_field(Field::Notes),
        "Notes contains a carriage return (U+000D) at character 5; remove it."
    );
    assert!(
        errors.iter().all(|e| e.field != Field::Description),
        "{errors:?}"
    );

    // Import names the line and the field.
    let csv = "title,type,lead,start,end,timezone\n\
               Fine,Call,Ana,2026-11-21 14:00,2026-11-21 15:00,UTC\n\
               Fine,Call \u{2067}x,Ana,2026-11-21 14:00,2026-11-21 15:00,UTC\n";
    let Err(ImportError::Rows { errors, .. }) = csvio::read_csv(csv.as_bytes()) else {
        panic!("a bad row expected");
    };
    assert_eq!(errors.len(), 1);
    assert_eq!(
        errors[0].to_string(),
        "line 3, field type: Type contains a bidirectional isolate (U+2067) at character 6; \
         remove it."
    );
}

/// The text cells of the formula test, one per row, in the title, lead and description.
const FORMULAS: [&str; 12] = [
    "=1+1",
    "-5 dollars",
    "+44 20 7946 0000",
    "@home",
    "'=x",
    "''-x",
    "'plain quote",
    "''",
    "'",
    "=HYPERLINK(\"http://x\",\"y\")",
    "a = b",
    "plain",
];

#[tokio::test]
async fn csv_export_neutralises_formulas_and_import_reverses_it() {
    let t = common::fresh_db().await;
    let (site, user) = site_and_user(&t).await;
    let second: i32 =
        sqlx::query_scalar("INSERT INTO sites (name) VALUES ('South') RETURNING site_id")
            .fetch_one(&t.db.pool)
            .await
            .expect("second site");
    let rows: Vec<_> = FORMULAS
        .iter()
        .enumerate()
        .map(|(i, text)| {
            validate(&InteractionInput {
                title: (*text).into(),
                kind: "Call".into(),
                lead: (*text).into(),
                start: format!("2026-11-{:02} 14:00", i + 1),
                end: format!("2026-11-{:02} 15:00", i + 1),
                timezone: "UTC".into(),
                location: "@desk".into(),
                description: format!("\t{text}\nsecond line"),
                notes: (*text).into(),
            })
            .expect("valid")
        })
        .collect();
    csvio::import(&t.db, site, user, &rows, &|_, _| {})
        .await
        .expect("import");
    let sql = format!(
        "SELECT {INTERACTION_COLUMNS} FROM interactions WHERE site_id = $1 ORDER BY interaction_id"
    );
    let original: Vec<Interaction> = sqlx::query_as(&sql)
        .bind(site)
        .fetch_all(&t.db.pool)
        .await
        .expect("rows");
    assert_eq!(original[0].title, "=1+1");

    let mut csv = Vec::new();
    csvio::write_csv(&mut csv, &original).expect("export");
    // Every cell a spreadsheet would run starts with a quote in the file.
    let mut reader = csv::ReaderBuilder::new().from_reader(&csv[..]);
    for record in reader.records() {
        let record = record.expect("record");
        for cell in record.iter() {
            let first = cell.chars().next();
            assert!(
                !matches!(first, Some('=' | '+' | '-' | '@' | '\t' | '\r')),
                "cell {cell:?} would run as a formula"
            );
        }
    }
    let text = String::from_utf8(csv.clone()).expect("utf-8");
    assert!(text.contains("\n'=1+1,Call,'=1+1,"), "{text}");
    assert!(text.contains("\n'-5 dollars,"), "{text}");
    assert!(text.contains("\n''=x,Call,''=x,"), "{text}");
    assert!(text.contains("\n'''-x,"), "{text}");
    assert!(text.contains("\n'plain quote,"), "{text}");
    assert!(text.contains(",'@desk,"), "{text}");
    assert!(text.contains(",\"'\t=1+1\nsecond line\","), "{text}");

    // Import gives back exactly what was exported.
    let back = csvio::read_csv(&csv[..]).expect("reads back");
    csvio::import(&t.db, second, user, &back, &|_, _| {})
        .await
        .expect("re-import");
    let copy: Vec<Interaction> = sqlx::query_as(&sql)
        .bind(second)
        .fetch_all(&t.db.pool)
        .await
        .expect("rows");
    assert_eq!(copy.len(), original.len());
    for (a, b) in original.iter().zip(&copy) {
        assert_eq!(
            InteractionInput::from_interaction(a),
            InteractionInput::from_interaction(b)
        );
    }
    for (row, text) in copy.iter().zip(FORMULAS) {
        assert_eq!(row.title, text.trim());
        assert_eq!(row.notes.as_deref(), Some(text));
    }
}

/// A database whose constraints were dropped, with a row full of escapes in North (as rows
/// written by another client before migration 0010 would be, had it not rewritten them).
async fn legacy_database() -> (common::TestDb, i32) {
    let t = common::fresh_db().await;
    common::add_ada(&t.url);
    ok(&ifind(&t.url, &["site", "add", "North"], None));
    for (table, constraint) in CONSTRAINTS {
        sqlx::raw_sql(&format!("ALTER TABLE {table} DROP CONSTRAINT {constraint}"))
            .execute(&t.db.pool)
            .await
            .expect("drop constraint");
    }
    let id: i32 = sqlx::query_scalar(
        "INSERT INTO interactions (site_id, created_by, start_datetime, end_datetime, title, \
         type, lead, timezone, location, description, notes) \
         SELECT s.site_id, u.user_id, now(), now(), \
                E'Harbour \\x1b]0;owned\\x07 \\x1b[2J review', E'Call\\u009b', E'\\u202eAna', 'UTC', \
                E'Room\\u2066 7', E'line one\\nline\\x1b[31m two', E'note \\x7f end' \
           FROM sites s, users u WHERE s.name = 'North' AND u.username = 'ada' \
         RETURNING interaction_id",
    )
    .fetch_one(&t.db.pool)
    .await
    .expect("legacy row");
    (t, id)
}

/// No raw control or bidirectional character in `out`, apart from line feeds (and, with
/// `tabs`, the tabs and CRLF line ends a CSV cell may hold).
fn assert_escaped(what: &str, out: &str, tabs: bool) {
    let mut chars = out.chars().peekable();
    while let Some(c) = chars.next() {
        let allowed =
            c == '\n' || (tabs && (c == '\t' || (c == '\r' && chars.peek() == Some(&'\n'))));
        assert!(
            !is_unsafe_char(c) || allowed,
            "{what} prints {c:?} raw:\n{out}"
        );
    }
}

#[tokio::test]
async fn every_text_output_prints_escapes_visibly() {
    let (t, id) = legacy_database().await;
    let id_text = id.to_string();

    let table = ok(&ifind_app(
        &t,
        &["search", "--site", "North", "harbour"],
        None,
    ));
    assert_escaped("search (table)", &table, false);
    assert!(table.contains("Harbour \\u{1b}]0;owned\\u{7}"), "{table}");
    assert!(table.contains("\\u{202e}Ana"), "{table}");

    let csv = ok(&ifind_app(
        &t,
        &["search", "--site", "North", "harbour", "--format", "csv"],
        None,
    ));
    assert_escaped("search (csv)", &csv, true);
    assert!(csv.contains("line one\nline\\u{1b}[31m two"), "{csv}");
    assert!(csv.contains("note \\u{7f} end"), "{csv}");

    let json = ok(&ifind_app(
        &t,
        &["search", "--site", "North", "harbour", "--format", "json"],
        None,
    ));
    assert_escaped("search (json)", &json, false);
    let doc: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(
        doc["hits"][0]["title"], "Harbour \u{1b}]0;owned\u{7} \u{1b}[2J review",
        "JSON keeps the exact text, escaped"
    );
    assert_eq!(doc["hits"][0]["type"], "Call\u{9b}");

    for format in ["csv", "json"] {
        let out = ok(&ifind_app(
            &t,
            &["export", "--site", "North", "--format", format],
            None,
        ));
        assert_escaped(&format!("export ({format})"), &out, format == "csv");
        assert!(out.contains("202e"), "{out}");
    }

    sqlx::query(
        "UPDATE interactions SET deleted_at = now(), \
         deleted_by = (SELECT user_id FROM users WHERE username = 'ada') WHERE interaction_id = $1",
    )
    .bind(id)
    .execute(&t.db.pool)
    .await
    .expect("soft delete");
    let trash = ok(&ifind(&t.url, &["trash", "--site", "North"], None));
    assert_escaped("trash", &trash, false);
    assert!(trash.contains("Harbour \\u{1b}]0;owned"), "{trash}");
    let trash_json = ok(&ifind(
        &t.url,
        &["trash", "--site", "North", "--format", "json"],
        None,
    ));
    assert_escaped("trash (json)", &trash_json, false);

    let restored = ok(&ifind(
        &t.url,
        &["restore", &id_text, "--site", "North"],
        None,
    ));
    assert_escaped("restore", &restored, false);
    assert!(restored.contains("\\u{1b}[2J review"), "{restored}");

    let audit = ok(&ifind(&t.url, &["audit", "--interaction", &id_text], None));
    assert_escaped("audit", &audit, false);
    assert!(audit.contains("\\u001b[2J"), "{audit}");
    let audit_json = ok(&ifind(
        &t.url,
        &["audit", "--interaction", &id_text, "--format", "json"],
        None,
    ));
    assert_escaped("audit (json)", &audit_json, false);
}
