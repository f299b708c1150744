//! What the form's Ctrl-S does in the database: a create and an edit as the logged-in user, in
//! one transaction each; a stale version is refused without overwriting; a deleted record and a
//! user without the right role are told apart; nothing half-written in any case.

mod common;

use chrono::{TimeZone, Utc};
use ifind::db::{sites, users};
use ifind::domain::interaction::{InteractionInput, validate};
use ifind::service::records::save;
use ifind::service::records::{FormTarget, SaveError};

struct World {
    t: common::TestDb,
    /// The application role's connection, which the form saves through (as in the TUI).
    app: ifind::db::Db,
    editor: i32,
    viewer: i32,
    admin: i32,
    north: i32,
    south: i32,
}

async fn world() -> World {
    let t = common::fresh_db().await;
    let mut tx = t.db.begin_as(None).await.expect("begin");
    let user = |name: &'static str, global: bool| {
        let hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA".to_string();
        (name, hash, global)
    };
    let mut ids = Vec::new();
    for (name, hash, global) in [
        user("eddie", false),
        user("vera", false),
        user("boss", true),
    ] {
        let u = users::insert(&mut tx, name, &format!("{name}@example.org"), &hash, global)
            .await
            .expect("user");
        ids.push(u.user_id);
    }
    let north = sites::insert(&mut tx, "North", None)
        .await
        .expect("site")
        .site_id;
    let south = sites::insert(&mut tx, "South", None)
        .await
        .expect("site")
        .site_id;
    users::grant(&mut tx, ids[0], north, users::Role::Editor)
        .await
        .expect("grant");
    users::grant(&mut tx, ids[1], north, users::Role::Viewer)
        .await
        .expect("grant");
    tx.commit().await.expect("commit");
    World {
        app: t.app_db().await,
        t,
        editor: ids[0],
        viewer: ids[1],
        admin: ids[2],
        north,
        south,
    }
}

fn typed(title: &str) -> InteractionInput {
    InteractionInput {
        title: title.into(),
        kind: "Meeting".into(),
        lead: "Jun Park".into(),
        start: "2026-12-01 09:30".into(),
        end: "2026-12-01 10:15".into(),
        timezone: "Europe/Berlin".into(),
        location: "Room 4".into(),
        description: "line one\nline two".into(),
        notes: String::new(),
    }
}

async fn count(w: &World) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM interactions")
        .fetch_one(&w.t.db.pool)
        .await
        .expect("count")
}

#[tokio::test]
async fn an_editor_creates_and_edits_and_the_row_holds_exactly_what_was_typed() {
    let w = world().await;
    let v = validate(&typed("Harbour inspection")).expect("valid");
    let created = save(&w.app, Some(w.editor), w.north, FormTarget::New, v)
        .await
        .expect("created");
    assert_eq!(created.site_id, w.north);
    assert_eq!(created.created_by, w.editor);
    assert_eq!(created.version, 1);
    assert_eq!(
        created.start_datetime,
        Utc.with_ymd_and_hms(2026, 12, 1, 8, 30, 0)
            .single()
            .expect("t")
    );
    assert_eq!(created.description.as_deref(), Some("line one\nline two"));
    assert_eq!(created.notes, None, "an empty field is stored as absent");

    let mut input = InteractionInput::from_interaction(&created);
    input.location = "Room 5".into();
    let target = FormTarget::Edit {
        interaction_id: created.interaction_id,
        version: created.version,
    };
    let edited = save(
        &w.app,
        Some(w.editor),
        w.north,
        target,
        validate(&input).expect("valid"),
    )
    .await
    .expect("edited");
    assert_eq!(edited.location.as_deref(), Some("Room 5"));
    assert_eq!(edited.version, 2);
    assert_eq!(edited.updated_by, Some(w.editor));
    assert_eq!(
        edited.start_datetime, created.start_datetime,
        "unchanged fields stay"
    );
    assert_eq!(count(&w).await, 1);
}

#[tokio::test]
async fn a_stale_version_is_refused_and_nothing_is_overwritten() {
    let w = world().await;
    let v = validate(&typed("Budget call")).expect("valid");
    let created = save(&w.app, Some(w.editor), w.north, FormTarget::New, v)
        .await
        .expect("created");
    let target = FormTarget::Edit {
        interaction_id: created.interaction_id,
        version: 1,
    };
    // Someone else saves first.
    let mut theirs = InteractionInput::from_interaction(&created);
    theirs.notes = "theirs".into();
    save(
        &w.app,
        Some(w.admin),
        w.north,
        target,
        validate(&theirs).expect("valid"),
    )
    .await
    .expect("their save");
    // Mine started from version 1 too.
    let mut mine = InteractionInput::from_interaction(&created);
    mine.notes = "mine".into();
    let err = save(
        &w.app,
        Some(w.editor),
        w.north,
        target,
        validate(&mine).expect("valid"),
    )
    .await
    .expect_err("stale");
    match &err {
        SaveError::Conflict { current, by } => {
            assert_eq!(by.as_deref(), Some("boss"), "who saved first is named");
            assert_eq!(current.version, 2);
            assert_eq!(current.notes.as_deref(), Some("theirs"));
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert!(err.message().contains("nothing was overwritten"));
    let notes: Option<String> = sqlx::query_scalar("SELECT notes FROM interactions")
        .fetch_one(&w.t.db.pool)
        .await
        .expect("notes");
    assert_eq!(notes.as_deref(), Some("theirs"));
}

#[tokio::test]
async fn a_deleted_record_is_gone_not_a_conflict() {
    let w = world().await;
    let v = validate(&typed("Old visit")).expect("valid");
    let created = save(&w.app, Some(w.editor), w.north, FormTarget::New, v.clone())
        .await
        .expect("created");
    sqlx::query("UPDATE interactions SET deleted_at = now() WHERE interaction_id = $1")
        .bind(created.interaction_id)
        .execute(&w.t.db.pool)
        .await
        .expect("delete");
    let target = FormTarget::Edit {
        interaction_id: created.interaction_id,
        version: 1,
    };
    let err = save(&w.app, Some(w.editor), w.north, target, v)
        .await
        .expect_err("gone");
    assert_eq!(err, SaveError::Gone);
}

/// An interaction archived while its form was open is said to be archived (and where to find
/// it), not deleted; the same for a delete.
#[tokio::test]
async fn an_archived_record_is_said_to_be_archived_not_deleted() {
    let w = world().await;
    let v = validate(&typed("Old visit")).expect("valid");
    let created = save(&w.app, Some(w.editor), w.north, FormTarget::New, v.clone())
        .await
        .expect("created");
    let mut tx = w.t.db.pool.begin().await.expect("begin");
    let moved = ifind::db::archive::archive_batch(&mut tx, chrono::Utc::now(), 10)
        .await
        .expect("archive");
    tx.commit().await.expect("commit");
    assert_eq!(moved, 1);
    let target = FormTarget::Edit {
        interaction_id: created.interaction_id,
        version: 1,
    };
    let err = save(&w.app, Some(w.editor), w.north, target, v)
        .await
        .expect_err("archived");
    assert_eq!(err, SaveError::Archived);
    assert!(
        err.message().contains("moved to the archive"),
        "{}",
        err.message()
    );
    let err =
        ifind::service::records::delete(&w.app, Some(w.admin), w.north, created.interaction_id, 1)
            .await
            .expect_err("archived");
    assert_eq!(err, SaveError::Archived);
}

#[tokio::test]
async fn viewers_and_other_sites_are_refused_and_nothing_is_written() {
    let w = world().await;
    let v = validate(&typed("Not allowed")).expect("valid");
    for (user, site, who) in [
        (Some(w.viewer), w.north, "a viewer"),
        (Some(w.editor), w.south, "an editor of another site"),
        (None, w.north, "nobody"),
    ] {
        let err = save(&w.app, user, site, FormTarget::New, v.clone())
            .await
            .expect_err(who);
        assert!(matches!(err, SaveError::NotPermitted(_)), "{who}: {err:?}");
    }
    assert_eq!(count(&w).await, 0);
    // Both refused attempts by a known user are in the access log.
    let logged: Vec<(i32, String)> = sqlx::query_as(
        "SELECT user_id, reason FROM access_log WHERE event = 'refusal' ORDER BY id",
    )
    .fetch_all(&w.t.db.pool)
    .await
    .expect("access log");
    assert_eq!(
        logged,
        vec![
            (w.viewer, format!("refused: site {} (save)", w.north)),
            (w.editor, format!("refused: site {} (save)", w.south)),
        ]
    );
    // A global admin may write anywhere.
    save(&w.app, Some(w.admin), w.south, FormTarget::New, v)
        .await
        .expect("admin");
    assert_eq!(count(&w).await, 1);
}

#[tokio::test]
async fn an_edit_cannot_reach_another_sites_record() {
    let w = world().await;
    let v = validate(&typed("South secret")).expect("valid");
    let theirs = save(&w.app, Some(w.admin), w.south, FormTarget::New, v.clone())
        .await
        .expect("created");
    // The editor of North names South's record while saving on North.
    let target = FormTarget::Edit {
        interaction_id: theirs.interaction_id,
        version: 1,
    };
    let err = save(&w.app, Some(w.editor), w.north, target, v)
        .await
        .expect_err("not on this site");
    assert_eq!(err, SaveError::Gone);
    let version: i32 = sqlx::query_scalar("SELECT version FROM interactions")
        .fetch_one(&w.t.db.pool)
        .await
        .expect("version");
    assert_eq!(version, 1, "untouched");
}

#[tokio::test]
async fn the_form_completes_from_the_sites_own_values() {
    use ifind::app::db_backend::DbSearchBackend;
    use ifind::app::runner::Records;
    let w = world().await;
    for (title, location) in [("One", "Room 4"), ("Two", "Room 4"), ("Three", "Pier 7")] {
        let mut input = typed(title);
        input.location = location.into();
        save(
            &w.t.db,
            Some(w.editor),
            w.north,
            FormTarget::New,
            validate(&input).expect("valid"),
        )
        .await
        .expect("saved");
    }
    let backend = DbSearchBackend::new(w.t.db.clone(), Some(w.editor));
    let lookups = backend.lookups(w.north).await.expect("lookups");
    assert_eq!(lookups.types, vec!["Meeting"]);
    assert_eq!(lookups.leads, vec!["Jun Park"]);
    assert_eq!(
        lookups.locations,
        vec!["Room 4", "Pier 7"],
        "most used first"
    );
    let south = backend.lookups(w.south).await.expect("lookups");
    assert!(south.types.is_empty() && south.locations.is_empty());
}

#[tokio::test]
async fn unusual_text_and_a_megabyte_survive_a_save_and_a_search_unchanged() {
    let w = world().await;
    // Right-to-left text with direction marks (the embedding controls U+202B/U+202C are
    // refused since migration 0010, like every bidirectional override and isolate).
    let title = "Réunion \u{200f}مرحبا\u{200e} with Zoë 🦘 and e\u{301}lan";
    let mut input = typed(title);
    input.lead = "Ünsal Ørsted-Ñúñez 👩\u{200d}💻".into();
    input.location = "Straße 5 · 東京".into();
    let line = "Ligne de texte très longue, with emoji 🦘 and tabs\tinside. ";
    input.description = line.repeat(1_048_576 / line.len() + 1);
    input.notes = "first line\nsecond line\n\nafter a blank line".into();
    let v = validate(&input).expect("valid");
    let saved = save(&w.t.db, Some(w.editor), w.north, FormTarget::New, v)
        .await
        .expect("saved");
    assert!(saved.description.as_deref().map_or(0, str::len) > 1_000_000);
    let mut conn = w.t.db.pool.acquire().await.expect("conn");
    let found = ifind::db::search::search(
        &mut conn,
        &ifind::db::search::SearchRequest::new(w.north, "zoë"),
    )
    .await
    .expect("search");
    assert_eq!(found.hits.len(), 1);
    let back = &found.hits[0].interaction;
    assert_eq!(back.title, title);
    assert_eq!(back.lead, input.lead);
    assert_eq!(back.location.as_deref(), Some(input.location.as_str()));
    assert_eq!(
        back.description.as_deref(),
        Some(input.description.as_str())
    );
    assert_eq!(back.notes.as_deref(), Some(input.notes.as_str()));
}
