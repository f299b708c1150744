//! The audit trail against PostgreSQL: a random run of inserts, edits, soft deletes, restores,
//! purges and role/site/password changes by several users is rebuilt exactly from the trail's
//! old and new values; two editors saving the same record leave both versions in the trail and
//! nothing overwritten; the application role cannot change or delete audit rows; `ifind audit`
//! prints an interaction's and a user's trail.

mod common;

use std::collections::HashMap;

use chrono::{Duration, TimeZone, Utc};
use ifind::db::audit;
use ifind::db::{Db, interactions, sites, users};
use ifind::domain::audit::Operation;
use ifind::domain::interaction::ValidInteraction;
use ifind::service::records::save;
use ifind::service::records::{FormTarget, SaveError};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Map, Value};

use common::{fails, ifind, ok};

const FAKE_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";

async fn add_user(db: &Db, name: &str, global: bool) -> i32 {
    let mut tx = db.begin_as(None).await.expect("begin");
    let u = users::insert(
        &mut tx,
        name,
        &format!("{name}@example.org"),
        FAKE_HASH,
        global,
    )
    .await
    .expect("user");
    tx.commit().await.expect("commit");
    u.user_id
}

async fn add_site(db: &Db, name: &str) -> i32 {
    let mut tx = db.begin_as(None).await.expect("begin");
    let s = sites::insert(&mut tx, name, None).await.expect("site");
    tx.commit().await.expect("commit");
    s.site_id
}

fn interaction(rng: &mut ChaCha8Rng, n: usize) -> ValidInteraction {
    const TITLES: [&str; 4] = [
        "Budget review",
        "Harbour visit",
        "Call back",
        "Board meeting",
    ];
    const LEADS: [&str; 3] = ["Ana Souza", "Ben Okafor", "Jun Park"];
    let start = Utc
        .with_ymd_and_hms(2026, 1, 1, 9, 0, 0)
        .single()
        .expect("time")
        + Duration::minutes(rng.gen_range(0..500_000));
    let opt = |rng: &mut ChaCha8Rng, text: String| rng.gen_bool(0.6).then_some(text);
    ValidInteraction {
        title: format!("{} {n}", TITLES[rng.gen_range(0..TITLES.len())]),
        kind: ["Meeting", "Call", "Visit"][rng.gen_range(0..3)].into(),
        lead: LEADS[rng.gen_range(0..LEADS.len())].into(),
        start_datetime: start,
        end_datetime: start + Duration::minutes(rng.gen_range(0..240)),
        timezone: ["Europe/Berlin", "UTC", "America/New_York"][rng.gen_range(0..3)].into(),
        location: {
            let room = rng.gen_range(1..9);
            opt(rng, format!("Room {room}"))
        },
        description: opt(rng, format!("line one {n}\n\"quoted\" line two")),
        notes: opt(rng, format!("note ✅ {n}")),
    }
}

/// Some fields of `v` changed at random (at least one).
fn edited(rng: &mut ChaCha8Rng, v: &ValidInteraction, n: usize) -> ValidInteraction {
    let fresh = interaction(rng, n);
    let mut out = v.clone();
    loop {
        match rng.gen_range(0..6) {
            0 => out.title = fresh.title.clone(),
            1 => out.lead = fresh.lead.clone(),
            2 => {
                out.start_datetime = fresh.start_datetime;
                out.end_datetime = fresh.end_datetime;
            }
            3 => out.location = fresh.location.clone(),
            4 => out.description = fresh.description.clone(),
            _ => out.notes = fresh.notes.clone(),
        }
        if out != *v && rng.gen_bool(0.5) {
            return out;
        }
    }
}

fn valid(i: &ifind::domain::interaction::Interaction) -> ValidInteraction {
    ValidInteraction {
        title: i.title.clone(),
        kind: i.kind.clone(),
        lead: i.lead.clone(),
        start_datetime: i.start_datetime,
        end_datetime: i.end_datetime,
        timezone: i.timezone.clone(),
        location: i.location.clone(),
        description: i.description.clone(),
        notes: i.notes.clone(),
    }
}

/// (interaction_id, site_id) of the rows that are live (or deleted, with `deleted`).
async fn rows(db: &Db, deleted: bool) -> Vec<(i32, i32)> {
    sqlx::query_as(
        "SELECT interaction_id, site_id FROM interactions \
          WHERE (deleted_at IS NOT NULL) = $1 ORDER BY interaction_id",
    )
    .bind(deleted)
    .fetch_all(&db.pool)
    .await
    .expect("rows")
}

type Key = (String, i32);

/// Every row of the four audited tables as `to_jsonb` shows it (no search vector; password
/// hashes as the trail writes them).
async fn live_tables(db: &Db) -> HashMap<Key, Map<String, Value>> {
    let mut tx = db.pool.begin().await.expect("begin");
    sqlx::query("SET LOCAL TimeZone = 'UTC'")
        .execute(&mut *tx)
        .await
        .expect("tz");
    let all: Vec<(String, i32, String)> = sqlx::query_as(
        "SELECT 'interactions', interaction_id, (to_jsonb(t) - 'search_vector')::text \
           FROM interactions t \
         UNION ALL SELECT 'users', user_id, \
                (to_jsonb(t) || '{\"password_hash\": \"***\"}')::text FROM users t \
         UNION ALL SELECT 'sites', site_id, to_jsonb(t)::text FROM sites t \
         UNION ALL SELECT 'user_site_mapping', mapping_id, to_jsonb(t)::text \
           FROM user_site_mapping t",
    )
    .fetch_all(&mut *tx)
    .await
    .expect("live rows");
    all.into_iter()
        .map(|(table, id, json)| ((table, id), object(Some(json)).expect("a row")))
        .collect()
}

fn object(text: Option<String>) -> Option<Map<String, Value>> {
    match serde_json::from_str(&text?) {
        Ok(Value::Object(m)) => Some(m),
        other => panic!("not an object: {other:?}"),
    }
}

/// One audit row as the replay reads it.
type AuditRow = (
    i64,
    String,
    i32,
    String,
    Option<i32>,
    i64,
    Option<String>,
    Option<String>,
);

async fn trail(db: &Db) -> Vec<AuditRow> {
    sqlx::query_as(
        "SELECT id, table_name, row_id, operation, user_id, txid, old_values::text, \
                new_values::text FROM audit_log ORDER BY id",
    )
    .fetch_all(&db.pool)
    .await
    .expect("trail")
}

/// Rebuilds the four tables from the trail alone, checking on the way that every entry's old
/// values are what the replay holds at that point.
fn replay(trail: &[AuditRow]) -> HashMap<Key, Map<String, Value>> {
    let mut state: HashMap<Key, Map<String, Value>> = HashMap::new();
    for (id, table, row_id, op, _, _, old, new) in trail {
        let key = (table.clone(), *row_id);
        let (old, new) = (object(old.clone()), object(new.clone()));
        match (op.as_str(), old, new) {
            ("insert", None, Some(new)) => {
                assert!(
                    state.insert(key, new).is_none(),
                    "entry {id}: second insert"
                );
            }
            ("delete", Some(old), None) => {
                let gone = state.remove(&key).expect("deleted row exists");
                assert_eq!(gone, old, "entry {id}: a hard delete holds the whole row");
            }
            ("update" | "delete" | "restore", Some(old), Some(new)) => {
                let row = state
                    .get_mut(&key)
                    .unwrap_or_else(|| panic!("entry {id}: no row"));
                assert_eq!(
                    old.keys().collect::<Vec<_>>(),
                    new.keys().collect::<Vec<_>>()
                );
                for (field, value) in old {
                    assert_eq!(row.get(&field), Some(&value), "entry {id}: old {field}");
                }
                for (field, value) in new {
                    row.insert(field, value);
                }
            }
            other => panic!("entry {id}: unexpected shape {other:?}"),
        }
    }
    state
}

#[tokio::test]
async fn replaying_the_trail_of_a_random_run_rebuilds_the_tables() {
    let t = common::fresh_db().await;
    let db = &t.db;
    let boss = add_user(db, "boss", true).await;
    let mut people = vec![boss];
    for name in ["eddie", "erin", "emil"] {
        people.push(add_user(db, name, false).await);
    }
    let site_ids = [add_site(db, "North").await, add_site(db, "South").await];
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    // What was committed to interactions, in order: (row, operation, acting user).
    let mut expected: Vec<(i32, &str, Option<i32>)> = Vec::new();
    for n in 0..300 {
        let actor = people[rng.gen_range(0..people.len())];
        let live = rows(db, false).await;
        let deleted = rows(db, true).await;
        let roll = rng.gen_range(0..100);
        let mut tx = db.begin_as(Some(actor)).await.expect("begin");
        let mut done: Vec<(i32, &str, Option<i32>)> = Vec::new();
        if roll < 30 || live.is_empty() {
            let site = site_ids[rng.gen_range(0..2)];
            let v = interaction(&mut rng, n);
            let row = interactions::insert(&mut tx, site, actor, &v)
                .await
                .expect("insert");
            done.push((row.interaction_id, "insert", Some(actor)));
        } else if roll < 60 {
            // One or two edits in one transaction.
            for _ in 0..rng.gen_range(1..3) {
                let (id, site) = live[rng.gen_range(0..live.len())];
                let current = interactions::get(&mut tx, site, id)
                    .await
                    .expect("get")
                    .expect("live");
                let v = edited(&mut rng, &valid(&current), n);
                interactions::update(&mut tx, site, id, current.version, actor, &v)
                    .await
                    .expect("update")
                    .expect("current version");
                done.push((id, "update", Some(actor)));
            }
        } else if roll < 72 {
            let (id, site) = live[rng.gen_range(0..live.len())];
            sqlx::query(
                "UPDATE interactions SET deleted_at = now(), deleted_by = $3, \
                        version = version + 1 \
                  WHERE interaction_id = $1 AND site_id = $2",
            )
            .bind(id)
            .bind(site)
            .bind(actor)
            .execute(&mut *tx)
            .await
            .expect("soft delete");
            done.push((id, "delete", Some(actor)));
        } else if roll < 82 && !deleted.is_empty() {
            let (id, site) = deleted[rng.gen_range(0..deleted.len())];
            let purge = rng.gen_bool(0.25);
            let sql = if purge {
                "DELETE FROM interactions WHERE interaction_id = $1 AND site_id = $2"
            } else {
                "UPDATE interactions SET deleted_at = NULL, deleted_by = NULL, \
                        version = version + 1 \
                  WHERE interaction_id = $1 AND site_id = $2"
            };
            sqlx::query(sql)
                .bind(id)
                .bind(site)
                .execute(&mut *tx)
                .await
                .expect("restore or purge");
            done.push((id, if purge { "delete" } else { "restore" }, Some(actor)));
        } else if roll < 92 {
            // Users, sites and roles change too (sometimes as the system, with no user).
            let who = people[rng.gen_range(0..people.len())];
            let site = site_ids[rng.gen_range(0..2)];
            if rng.gen_bool(0.2) {
                ifind::db::pool::set_acting_user(&mut tx, None)
                    .await
                    .expect("system");
            }
            match rng.gen_range(0..5) {
                0 => {
                    let role = [users::Role::Viewer, users::Role::Editor, users::Role::Admin]
                        [rng.gen_range(0..3)];
                    users::grant(&mut tx, who, site, role).await.expect("grant");
                }
                1 => {
                    users::revoke(&mut tx, who, site).await.expect("revoke");
                }
                2 => {
                    users::set_password(&mut tx, who, &format!("{FAKE_HASH}{n}"))
                        .await
                        .expect("password");
                }
                3 => {
                    sqlx::query("UPDATE sites SET description = $2 WHERE site_id = $1")
                        .bind(site)
                        .bind(format!("description {n}"))
                        .execute(&mut *tx)
                        .await
                        .expect("site");
                }
                _ => {
                    users::set_active(&mut tx, who, rng.gen_bool(0.5))
                        .await
                        .expect("active");
                }
            }
        } else {
            // A transaction that fails half-way: an edit, then a broken statement.
            let (id, site) = live[rng.gen_range(0..live.len())];
            let current = interactions::get(&mut tx, site, id)
                .await
                .expect("get")
                .expect("live");
            let v = edited(&mut rng, &valid(&current), n);
            interactions::update(&mut tx, site, id, current.version, actor, &v)
                .await
                .expect("update");
            let broken =
                sqlx::query("UPDATE interactions SET title = '' WHERE interaction_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await;
            assert!(broken.is_err(), "a blank title is refused");
            tx.rollback().await.expect("rollback");
            continue;
        }
        tx.commit().await.expect("commit");
        expected.extend(done);
    }

    let trail = trail(db).await;
    let rebuilt = replay(&trail);
    let live = live_tables(db).await;
    assert_eq!(rebuilt.len(), live.len(), "the same rows");
    for (key, row) in &live {
        assert_eq!(rebuilt.get(key), Some(row), "{key:?}");
    }

    // Who did what to interactions, in order; entries of one transaction share its id.
    let got: Vec<(i32, &str, Option<i32>)> = trail
        .iter()
        .filter(|r| r.1 == "interactions")
        .map(|r| (r.2, r.3.as_str(), r.4))
        .collect();
    assert_eq!(got, expected);
    let ops: Vec<&str> = got.iter().map(|g| g.1).collect();
    for op in ["insert", "update", "delete", "restore"] {
        assert!(ops.contains(&op), "the run covered {op}");
    }
    assert!(
        trail
            .windows(2)
            .any(|w| w[0].1 == "interactions" && w[1].1 == "interactions" && w[0].5 == w[1].5),
        "some transaction changed two rows"
    );
    let no_user = trail.iter().filter(|r| r.4.is_none()).count();
    assert!(no_user > 0, "the system's changes have no user");
}

#[tokio::test]
async fn two_editors_save_the_same_version_the_second_conflicts_and_both_versions_are_kept() {
    let t = common::fresh_db().await;
    let db = &t.db;
    let eddie = add_user(db, "eddie", false).await;
    let erin = add_user(db, "erin", false).await;
    let north = add_site(db, "North").await;
    {
        let mut tx = db.begin_as(None).await.expect("begin");
        for u in [eddie, erin] {
            users::grant(&mut tx, u, north, users::Role::Editor)
                .await
                .expect("grant");
        }
        tx.commit().await.expect("commit");
    }
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let original = interaction(&mut rng, 1);
    let created = save(db, Some(eddie), north, FormTarget::New, original.clone())
        .await
        .expect("created");
    let opened = FormTarget::Edit {
        interaction_id: created.interaction_id,
        version: created.version,
    };
    let mut eddies = original.clone();
    eddies.title = "Eddie's title".into();
    let mut erins = original.clone();
    erins.title = "Erin's title".into();
    erins.notes = Some("Erin's note".into());

    let first = save(db, Some(eddie), north, opened, eddies.clone())
        .await
        .expect("first save");
    assert_eq!(first.version, 2);
    let second = save(db, Some(erin), north, opened, erins).await;
    let Err(SaveError::Conflict { current, .. }) = second else {
        panic!("expected a conflict, got {second:?}");
    };
    assert_eq!(current.title, "Eddie's title");
    assert_eq!(current.version, 2);

    let mut conn = db.pool.acquire().await.expect("conn");
    let now = interactions::get(&mut conn, north, created.interaction_id)
        .await
        .expect("get")
        .expect("row");
    assert_eq!(now, first, "nothing was overwritten");

    let history = audit::history(&mut conn, north, created.interaction_id)
        .await
        .expect("history");
    let summary: Vec<(Operation, Option<&str>)> = history
        .iter()
        .map(|e| (e.operation, e.username.as_deref()))
        .collect();
    assert_eq!(
        summary,
        vec![
            (Operation::Insert, Some("eddie")),
            (Operation::Update, Some("eddie"))
        ]
    );
    let title = |i: usize| {
        history[i]
            .changes
            .iter()
            .find(|c| c.field == "title")
            .cloned()
            .expect("title changed")
    };
    assert_eq!(title(0).old, None);
    assert_eq!(title(0).new_text(), original.title, "the original");
    assert_eq!(title(1).old_text(), original.title);
    assert_eq!(title(1).new_text(), "Eddie's title", "the first editor's");
    let version = history[1]
        .changes
        .iter()
        .find(|c| c.field == "version")
        .expect("version");
    assert_eq!(
        (version.old_text(), version.new_text()),
        ("1".into(), "2".into())
    );
    assert!(
        history[1].changes.iter().all(|c| c.field != "lead"),
        "only changed fields: {:?}",
        history[1].changes
    );
    let erins_anywhere: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE strpos(coalesce(new_values::text, ''), 'Erin''s') > 0",
    )
    .fetch_one(&mut *conn)
    .await
    .expect("scan");
    assert_eq!(erins_anywhere, 0, "the refused save left no trace");
}

/// Runs `sql` as the application role (acting as `user`) in a transaction that is rolled back,
/// and returns the SQLSTATE of its error, if any.
async fn as_app(db: &Db, user: Option<i32>, sql: &str) -> Option<String> {
    let mut tx = db.pool.begin().await.expect("begin");
    ifind::db::pool::set_acting_user(&mut tx, user)
        .await
        .expect("user");
    sqlx::query("SET LOCAL ROLE ifind_app")
        .execute(&mut *tx)
        .await
        .expect("the application role exists");
    let result = sqlx::raw_sql(sql).execute(&mut *tx).await;
    tx.rollback().await.expect("rollback");
    result.err().map(|e| match e {
        sqlx::Error::Database(d) => d.code().unwrap_or_default().to_string(),
        other => panic!("{other}"),
    })
}

#[tokio::test]
async fn the_application_role_can_add_and_read_audit_rows_but_never_change_them() {
    let t = common::fresh_db().await;
    let db = &t.db;
    let boss = add_user(db, "boss", true).await;
    let eddie = add_user(db, "eddie", false).await;
    let vera = add_user(db, "vera", false).await;
    let north = add_site(db, "North").await;
    {
        let mut tx = db.begin_as(Some(boss)).await.expect("begin");
        users::grant(&mut tx, eddie, north, users::Role::Editor)
            .await
            .expect("grant");
        users::grant(&mut tx, vera, north, users::Role::Admin)
            .await
            .expect("grant");
        tx.commit().await.expect("commit");
    }
    let denied = Some("42501".to_string());
    for table in ["audit_log", "access_log"] {
        for sql in [
            format!("UPDATE {table} SET id = id"),
            format!("DELETE FROM {table}"),
            format!("TRUNCATE {table}"),
        ] {
            assert_eq!(as_app(db, Some(boss), &sql).await, denied, "{sql}");
        }
    }
    let add = |user: i32| {
        format!(
            "INSERT INTO audit_log (table_name, row_id, operation, user_id) \
             VALUES ('sites', 1, 'update', {user})"
        )
    };
    // Adding: only the database writes either log (its triggers and functions), never a
    // user, not even in their own name, and not with no user at all.
    assert_eq!(as_app(db, Some(eddie), &add(eddie)).await, denied);
    assert_eq!(as_app(db, Some(eddie), &add(boss)).await, denied);
    assert_eq!(
        as_app(
            db,
            None,
            "INSERT INTO access_log (event, username_as_typed, success, reason) \
             VALUES ('login', 'x', false, 'unknown')"
        )
        .await,
        denied
    );

    // The application's writes are audited through the SECURITY DEFINER trigger.
    let mut tx = db.pool.begin().await.expect("begin");
    sqlx::raw_sql(
        "GRANT SELECT, INSERT, UPDATE ON interactions TO ifind_app; \
         GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO ifind_app",
    )
    .execute(&mut *tx)
    .await
    .expect("grant");
    ifind::db::pool::set_acting_user(&mut tx, Some(eddie))
        .await
        .expect("user");
    sqlx::query("SET LOCAL ROLE ifind_app")
        .execute(&mut *tx)
        .await
        .expect("role");
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    interactions::insert(&mut tx, north, eddie, &interaction(&mut rng, 1))
        .await
        .expect("the app inserts");
    // Reading under row-level security: eddie sees his own entry only; vera (site admin) and
    // boss (global admin) see more.
    let mut seen = Vec::new();
    for user in [eddie, vera, boss] {
        sqlx::query("SELECT set_config('ifind.user_id', $1, true)")
            .bind(user.to_string())
            .execute(&mut *tx)
            .await
            .expect("user");
        let rows: Vec<(String, Option<i32>)> = sqlx::query_as(
            "SELECT table_name, user_id FROM ifind_audit_entries(NULL, NULL, NULL) \
                  ORDER BY id",
        )
        .fetch_all(&mut *tx)
        .await
        .expect("read");
        seen.push(rows);
    }
    tx.rollback().await.expect("rollback");
    assert_eq!(seen[0], vec![("interactions".into(), Some(eddie))]);
    // vera: the North rows (the site, the two roles, the interaction), not the users.
    assert_eq!(
        seen[1].iter().map(|r| r.0.as_str()).collect::<Vec<_>>(),
        [
            "sites",
            "user_site_mapping",
            "user_site_mapping",
            "interactions"
        ]
    );
    // boss: everything (three users, the site, two roles, the interaction).
    assert_eq!(seen[2].len(), 7);

    // Not even the owner changes audit rows: the triggers raise.
    for sql in [
        "UPDATE audit_log SET operation = 'update'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
        "TRUNCATE access_log",
    ] {
        let err = sqlx::raw_sql(sql)
            .execute(&db.pool)
            .await
            .expect_err("append-only");
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
}

#[tokio::test]
async fn ifind_audit_prints_an_interactions_and_a_users_trail() {
    let t = common::fresh_db().await;
    common::add_ada(&t.url);
    ok(&ifind(&t.url, &["site", "add", "North"], None));
    ok(&ifind(
        &t.url,
        &[
            "user",
            "add",
            "eddie",
            "--email",
            "eddie@example.org",
            "--password-stdin",
        ],
        Some("eddie's password\n"),
    ));
    ok(&ifind(&t.url, &["grant", "eddie", "North", "editor"], None));
    let db = &t.db;
    let (eddie, north): (i32, i32) = sqlx::query_as(
        "SELECT (SELECT user_id FROM users WHERE username = 'eddie'), \
                (SELECT site_id FROM sites WHERE name = 'North')",
    )
    .fetch_one(&db.pool)
    .await
    .expect("ids");
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let mut v = interaction(&mut rng, 1);
    v.title = "Harbour visit".into();
    v.location = None;
    let created = save(db, Some(eddie), north, FormTarget::New, v.clone())
        .await
        .expect("create");
    v.title = "Harbour visit (moved)".into();
    v.location = Some("Pier 4".into());
    let target = FormTarget::Edit {
        interaction_id: created.interaction_id,
        version: 1,
    };
    save(db, Some(eddie), north, target, v).await.expect("edit");
    for sql in [
        "UPDATE interactions SET deleted_at = now(), deleted_by = 1 WHERE interaction_id = $1",
        "UPDATE interactions SET deleted_at = NULL, deleted_by = NULL WHERE interaction_id = $1",
    ] {
        let mut tx = db.begin_as(Some(1)).await.expect("begin");
        sqlx::query(sql)
            .bind(created.interaction_id)
            .execute(&mut *tx)
            .await
            .expect("delete or restore");
        tx.commit().await.expect("commit");
    }

    let id = created.interaction_id.to_string();
    let out = ok(&ifind(&t.url, &["audit", "--interaction", &id], None));
    let heads: Vec<&str> = out.lines().filter(|l| !l.starts_with(' ')).collect();
    assert_eq!(heads.len(), 4, "{out}");
    for (line, (who, op)) in heads.iter().zip([
        ("eddie", "insert"),
        ("eddie", "update"),
        ("ada", "delete"),
        ("ada", "restore"),
    ]) {
        assert!(line.ends_with(&format!(" UTC  {who}  {op}")), "{line}");
    }
    for expected in [
        "    title: (none) \u{2192} \"Harbour visit\"",
        "    title: \"Harbour visit\" \u{2192} \"Harbour visit (moved)\"",
        "    location: null \u{2192} \"Pier 4\"",
        "    version: 1 \u{2192} 2",
        "    deleted_by: null \u{2192} 1",
        "    deleted_by: 1 \u{2192} null",
    ] {
        assert!(out.lines().any(|l| l == expected), "{expected}\n{out}");
    }

    assert!(
        !out.contains("location: (none)"),
        "a new row's empty fields are left out: {out}"
    );

    let json = ok(&ifind(
        &t.url,
        &["audit", "--interaction", &id, "--format", "json"],
        None,
    ));
    let doc: Value = serde_json::from_str(&json).expect("json");
    let ops: Vec<&str> = doc
        .as_array()
        .expect("array")
        .iter()
        .map(|e| e["operation"].as_str().expect("operation"))
        .collect();
    assert_eq!(ops, ["insert", "update", "delete", "restore"]);
    let title = &doc[1]["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .find(|c| c["field"] == "title")
        .expect("title")
        .clone();
    assert_eq!(title["old"], "Harbour visit");
    assert_eq!(title["new"], "Harbour visit (moved)");
    assert!(
        doc[0]["changes"][0].get("old").is_none(),
        "an insert has no old side"
    );

    // eddie's trail: his account being made and given its login role (by the owner, who ran
    // `ifind user add` on its own connection: the trail names the owner's role and OS
    // account, never a user it did not log in as), his two saves.
    let out = ok(&ifind(&t.url, &["audit", "--user", "eddie"], None));
    let heads: Vec<&str> = out.lines().filter(|l| !l.starts_with(' ')).collect();
    let eddie_id = eddie.to_string();
    assert_eq!(heads.len(), 4, "{out}");
    for (head, op) in heads[..2].iter().zip(["insert", "update"]) {
        assert!(
            head.contains(" (owner; OS user ")
                && head.ends_with(&format!(")  {op}  user {eddie_id}")),
            "{out}"
        );
    }
    assert!(out.contains("    db_role: null \u{2192} \""), "{out}");
    assert!(
        heads[2].ends_with(&format!("  eddie  insert  interaction {id} at North")),
        "{out}"
    );
    assert!(
        heads[3].ends_with(&format!("  eddie  update  interaction {id} at North")),
        "{out}"
    );
    assert!(
        out.contains("    password_hash: (none) \u{2192} \"***\""),
        "{out}"
    );
    assert!(!out.contains("$argon2"), "no hash is ever shown: {out}");

    let err = fails(
        &ifind(&t.url, &["audit", "--interaction", "999999"], None),
        1,
    );
    assert!(
        err.contains("no audit trail for interaction 999999"),
        "{err}"
    );
    let err = fails(&ifind(&t.url, &["audit", "--user", "nobody"], None), 1);
    assert!(err.contains("no user named \"nobody\""), "{err}");
    fails(&ifind(&t.url, &["audit"], None), 2);
}

/// A seeded row and an imported one: the first entry of their history is their creation as
/// the row records it (the date and person of the Created line), with when and by whom they
/// were loaded beside it; the trail itself is unchanged (the insert, dated at the load).
#[tokio::test]
async fn the_history_of_seeded_and_imported_rows_starts_with_their_creation() {
    let t = common::fresh_db().await;
    ifind::seed::seed(
        &t.db,
        &ifind::seed::SeedOptions {
            sites: 1,
            interactions: 30,
            seed: 7,
        },
        &|_, _| {},
    )
    .await
    .expect("seed");
    // The seed's people are not administrators; the import's rows need one to name.
    ok(&ifind(
        &t.url,
        &[
            "user",
            "add",
            "ada",
            "--email",
            "ada@example.org",
            "--admin",
            "--password-stdin",
        ],
        Some(common::ADA_PASSWORD),
    ));
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("in.csv");
    std::fs::write(
        &file,
        "title,type,lead,start,end,timezone\n\
         Imported review,Meeting,Maria Lopez,2026-01-10 09:00,2026-01-10 10:00,UTC\n",
    )
    .expect("write");
    let site: String = sqlx::query_scalar("SELECT name FROM sites ORDER BY site_id LIMIT 1")
        .fetch_one(&t.db.pool)
        .await
        .expect("a site");
    ok(&ifind(
        &t.url,
        &["import", file.to_str().expect("utf8"), "--site", &site],
        None,
    ));
    let seeded: (i32, i32, i32, chrono::DateTime<Utc>, String) = sqlx::query_as(
        "SELECT interaction_id, site_id, created_by, created_at, title FROM interactions \
          WHERE created_at < now() - interval '30 days' ORDER BY created_at LIMIT 1",
    )
    .fetch_one(&t.db.pool)
    .await
    .expect("a seeded row created long ago");
    let imported: (i32, i32, i32, chrono::DateTime<Utc>, String) = sqlx::query_as(
        "SELECT interaction_id, site_id, created_by, created_at, title FROM interactions \
          WHERE title = 'Imported review'",
    )
    .fetch_one(&t.db.pool)
    .await
    .expect("the imported row");
    for (id, site_id, created_by, created_at, title) in [seeded, imported] {
        let mut conn = t.db.pool.acquire().await.expect("conn");
        let trail = audit::history(&mut conn, site_id, id)
            .await
            .expect("history");
        let first = trail.first().expect("an insert entry");
        assert_eq!(first.operation, Operation::Insert, "{title}");
        let creation = first.creation().expect("the creation");
        assert_eq!(creation.by, Some(created_by), "{title}");
        assert_eq!(
            creation.at.timestamp_micros(),
            created_at.timestamp_micros(),
            "{title}"
        );
        let (loaded_at, loaded_by) = creation.loaded.expect("loaded by the owner");
        assert_eq!(loaded_at, first.at, "{title}");
        assert!(first.user_id.is_none(), "the owner's own work: {title}");
        assert!(!loaded_by.is_empty());
        if title != "Imported review" {
            assert!(
                (loaded_at - creation.at).num_days() > 30,
                "a seeded row was created long before it was loaded"
            );
        }
    }
}
