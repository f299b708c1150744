//! Soft delete, the Trash, restore and purge against a real PostgreSQL, through the functions
//! the TUI uses and through the CLI.

mod common;

use ifind::db::search::{SearchRequest, search};
use ifind::db::{sites, users};
use ifind::domain::interaction::{InteractionInput, validate};
use ifind::service::records::{FormTarget, SaveError};
use ifind::service::records::{delete, list_trash, restore, save};

struct World {
    t: common::TestDb,
    admin: i32,
    editor: i32,
    site: i32,
}

/// ada (first user, global admin) and eddie (editor of North), through the binary and SQL.
async fn world() -> World {
    let t = common::fresh_db().await;
    common::add_ada(&t.url);
    common::ok(&common::ifind(&t.url, &["site", "add", "North"], None));
    let mut tx = t.db.begin_as(None).await.expect("begin");
    let eddie = users::insert(&mut tx, "eddie", "eddie@example.org", "x", false)
        .await
        .expect("eddie");
    let north = sites::by_name(&mut tx, "North")
        .await
        .expect("site")
        .expect("North");
    users::grant(&mut tx, eddie.user_id, north.site_id, users::Role::Editor)
        .await
        .expect("grant");
    let ada = users::by_name(&mut tx, "ada")
        .await
        .expect("ada")
        .expect("ada");
    tx.commit().await.expect("commit");
    common::give_login(&t.db, &["eddie"]).await;
    World {
        t,
        admin: ada.user_id,
        editor: eddie.user_id,
        site: north.site_id,
    }
}

async fn create(w: &World, title: &str) -> ifind::domain::interaction::Interaction {
    let input = InteractionInput {
        title: title.into(),
        kind: "Call".into(),
        lead: "Jun Park".into(),
        start: "2026-11-20 10:00".into(),
        end: "2026-11-20 10:30".into(),
        timezone: "UTC".into(),
        ..InteractionInput::default()
    };
    save(
        &w.t.db,
        Some(w.editor),
        w.site,
        FormTarget::New,
        validate(&input).expect("valid"),
    )
    .await
    .expect("created")
}

async fn found(w: &World, query: &str) -> usize {
    let mut conn = w.t.db.pool.acquire().await.expect("conn");
    search(&mut conn, &SearchRequest::new(w.site, query))
        .await
        .expect("search")
        .hits
        .len()
}

#[tokio::test]
async fn delete_hides_restore_brings_back_and_both_need_an_admin() {
    let w = world().await;
    let i = create(&w, "Zanzibar budget call").await;
    assert_eq!(found(&w, "zanzibar").await, 1);

    let refused = delete(&w.t.db, Some(w.editor), w.site, i.interaction_id, i.version)
        .await
        .expect_err("editors do not delete");
    assert!(matches!(refused, SaveError::NotPermitted(_)), "{refused:?}");
    assert!(
        list_trash(&w.t.db, Some(w.editor), w.site, 30)
            .await
            .is_err()
    );

    let deleted = delete(&w.t.db, Some(w.admin), w.site, i.interaction_id, i.version)
        .await
        .expect("deleted");
    assert_eq!(deleted.version, i.version + 1);
    assert_eq!(
        found(&w, "zanzibar").await,
        0,
        "gone from every search at once"
    );
    let again = delete(
        &w.t.db,
        Some(w.admin),
        w.site,
        i.interaction_id,
        deleted.version,
    )
    .await
    .expect_err("already deleted");
    assert_eq!(again, SaveError::Gone);

    let trash = list_trash(&w.t.db, Some(w.admin), w.site, 30)
        .await
        .expect("trash");
    assert_eq!(trash.len(), 1);
    assert_eq!(trash[0].interaction.interaction_id, i.interaction_id);
    assert_eq!(trash[0].deleted_by_name.as_deref(), Some("ada"));

    let refused = restore(&w.t.db, Some(w.editor), w.site, i.interaction_id, 30)
        .await
        .expect_err("editors do not restore");
    assert!(matches!(refused, SaveError::NotPermitted(_)));
    let back = restore(&w.t.db, Some(w.admin), w.site, i.interaction_id, 30)
        .await
        .expect("restored");
    assert_eq!(back.updated_by, Some(w.admin));
    assert_eq!(found(&w, "zanzibar").await, 1);
}

#[tokio::test]
async fn a_record_changed_since_it_was_seen_is_not_deleted() {
    let w = world().await;
    let i = create(&w, "Stale view").await;
    let mut input = InteractionInput::from_interaction(&i);
    input.notes = "edited meanwhile".into();
    let target = FormTarget::Edit {
        interaction_id: i.interaction_id,
        version: i.version,
    };
    save(
        &w.t.db,
        Some(w.editor),
        w.site,
        target,
        validate(&input).expect("valid"),
    )
    .await
    .expect("edited");
    let err = delete(&w.t.db, Some(w.admin), w.site, i.interaction_id, i.version)
        .await
        .expect_err("stale");
    match err {
        SaveError::Conflict { by, .. } => assert_eq!(by.as_deref(), Some("eddie")),
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(found(&w, "stale").await, 1, "still there");
}

#[tokio::test]
async fn past_the_window_it_cannot_be_restored_and_purge_removes_it() {
    let w = world().await;
    let old = create(&w, "Old call").await;
    let recent = create(&w, "Recent call").await;
    let live = create(&w, "Live call").await;
    for (i, days) in [(&old, 40), (&recent, 2)] {
        sqlx::query(
            "UPDATE interactions SET deleted_at = now() - make_interval(days => $1), \
             deleted_by = $2 WHERE interaction_id = $3",
        )
        .bind(days)
        .bind(w.admin)
        .bind(i.interaction_id)
        .execute(&w.t.db.pool)
        .await
        .expect("age the deletion");
    }
    let trash = list_trash(&w.t.db, Some(w.admin), w.site, 30)
        .await
        .expect("trash");
    let ids: Vec<i32> = trash.iter().map(|t| t.interaction.interaction_id).collect();
    assert_eq!(ids, vec![recent.interaction_id], "only the restorable one");
    let err = restore(&w.t.db, Some(w.admin), w.site, old.interaction_id, 30)
        .await
        .expect_err("past the window");
    assert_eq!(err, SaveError::Gone);

    let dry = common::ok(&common::ifind(&w.t.url, &["purge", "--dry-run"], None));
    assert!(
        dry.contains("1 interaction deleted more than 30 days ago would be purged"),
        "{dry}"
    );
    let out = common::ok(&common::ifind(&w.t.url, &["purge"], None));
    assert!(out.contains("purged 1 interaction"), "{out}");
    let left: Vec<i32> =
        sqlx::query_scalar("SELECT interaction_id FROM interactions ORDER BY interaction_id")
            .fetch_all(&w.t.db.pool)
            .await
            .expect("ids");
    assert_eq!(left, vec![recent.interaction_id, live.interaction_id]);
    let again = common::ok(&common::ifind(&w.t.url, &["purge"], None));
    assert!(again.contains("nothing to purge"), "{again}");
}

#[tokio::test]
async fn the_cli_lists_and_restores() {
    let w = world().await;
    let i = create(&w, "Harbour visit").await;
    delete(&w.t.db, Some(w.admin), w.site, i.interaction_id, i.version)
        .await
        .expect("deleted");
    let listed = common::ok(&common::ifind(
        &w.t.url,
        &["trash", "--site", "North"],
        None,
    ));
    assert!(
        listed.contains("Harbour visit") && listed.contains("ada"),
        "{listed}"
    );
    let id = i.interaction_id.to_string();
    let out = common::ok(&common::ifind(
        &w.t.url,
        &["restore", &id, "--site", "North"],
        None,
    ));
    assert!(out.contains("restored"), "{out}");
    let err = common::fails(
        &common::ifind(&w.t.url, &["restore", &id, "--site", "North"], None),
        1,
    );
    assert!(
        err.contains("not in the trash") && err.contains("ifind trash"),
        "{err}"
    );
    let err = common::fails(
        &common::ifind(
            &w.t.url,
            &["--as", "eddie", "trash", "--site", "North"],
            None,
        ),
        1,
    );
    assert!(err.contains("only site admins"), "{err}");
}
