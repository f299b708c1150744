//! Privacy against a real PostgreSQL: `ifind erase --lead NAME` anonymises a person in live
//! interactions, the archive and the audit trail's kept values, and says what it changed; a
//! viewer's export masks the notes.

mod common;

use ifind::db::{sites, users};

const PERSON: &str = "Mira Okafor";

async fn world() -> common::TestDb {
    let t = common::fresh_db().await;
    common::add_ada(&t.url);
    common::ok(&common::ifind_app(&t, &["site", "add", "North"], None));
    let csv = "title,type,lead,start,end,timezone,location,description,notes\n\
        Harbour inspection with Mira Okafor,Visit,Mira Okafor,2024-01-10 09:00,2024-01-10 10:00,UTC,Pier 4,Checked the cranes,Call Mira Okafor back\n\
        Budget call,Call,Jun Park,2024-01-11 09:00,2024-01-11 10:00,UTC,,mira okafor joined late,secret budget numbers\n\
        Old visit,Visit,Mira Okafor,2021-01-11 09:00,2021-01-11 10:00,UTC,,,\n\
        Miramar trip,Visit,Jun Park,2024-01-12 09:00,2024-01-12 10:00,UTC,Miramar,not about her,\n";
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("rows.csv");
    std::fs::write(&file, csv).expect("csv");
    let path = file.to_string_lossy().to_string();
    common::ok(&common::ifind_app(
        &t,
        &["import", &path, "--site", "North"],
        None,
    ));
    // An edit puts the name into the audit trail's old values too.
    sqlx::query("UPDATE interactions SET location = 'Pier 5' WHERE title = 'Budget call'")
        .execute(&t.db.pool)
        .await
        .expect("edit");
    // One of her interactions is old enough to be archived.
    sqlx::query(
        "UPDATE interactions SET created_at = now() - interval '3 years' WHERE title = 'Old visit'",
    )
    .execute(&t.db.pool)
    .await
    .expect("age");
    common::ok(&common::ifind_app(&t, &["archive"], None));
    t
}

async fn text_of_everything(t: &common::TestDb) -> String {
    let live: Vec<String> = sqlx::query_scalar(
        "SELECT concat_ws('|', title, lead, location, description, notes) FROM interactions",
    )
    .fetch_all(&t.db.pool)
    .await
    .expect("live");
    let archived: Vec<String> = sqlx::query_scalar(
        "SELECT concat_ws('|', title, lead, location, description, notes) FROM interactions_archive",
    )
    .fetch_all(&t.db.pool)
    .await
    .expect("archive");
    let audit: Vec<String> = sqlx::query_scalar(
        "SELECT concat_ws('|', old_values::text, new_values::text) FROM audit_log",
    )
    .fetch_all(&t.db.pool)
    .await
    .expect("audit");
    [live, archived, audit].concat().join("\n")
}

#[tokio::test]
async fn erase_removes_every_mention_and_says_what_it_changed() {
    let t = world().await;
    assert!(
        text_of_everything(&t)
            .await
            .to_lowercase()
            .contains("mira okafor")
    );
    let dry = common::ok(&common::ifind_app(
        &t,
        &["erase", "--lead", PERSON, "--dry-run"],
        None,
    ));
    assert!(dry.contains("2 live interactions, 1 archived"), "{dry}");
    assert!(
        text_of_everything(&t).await.contains(PERSON),
        "a dry run changes nothing"
    );

    let out = common::ok(&common::ifind_app(&t, &["erase", "--lead", PERSON], None));
    assert!(
        out.contains("erased") && out.contains("2 live interactions, 1 archived"),
        "{out}"
    );
    let all = text_of_everything(&t).await;
    assert!(!all.to_lowercase().contains("mira okafor"), "{all}");
    assert!(all.contains("[erased]"));
    assert!(all.contains("Miramar"), "other words are left alone: {all}");
    let leads: Vec<String> =
        sqlx::query_scalar("SELECT lead FROM interactions ORDER BY interaction_id")
            .fetch_all(&t.db.pool)
            .await
            .expect("leads");
    assert_eq!(leads, vec!["[erased]", "Jun Park", "Jun Park"]);
    // The search index follows: her name finds nothing any more.
    let found = common::ok(&common::ifind_app(
        &t,
        &[
            "search",
            "--site",
            "North",
            "okafor",
            "--archive",
            "--format",
            "csv",
        ],
        None,
    ));
    assert!(
        !found.contains("okafor") && !found.to_lowercase().contains("mira okafor"),
        "{found}"
    );
    // The trail is append-only again afterwards.
    let tamper = sqlx::query("UPDATE audit_log SET user_id = NULL")
        .execute(&t.db.pool)
        .await;
    assert!(tamper.is_err(), "the guard is back on");
    let again = common::ok(&common::ifind_app(&t, &["erase", "--lead", PERSON], None));
    assert!(again.contains("nothing changed"), "{again}");
    let err = common::fails(&common::ifind_app(&t, &["erase", "--lead", "Mi"], None), 1);
    assert!(err.contains("too short"), "{err}");
}

#[tokio::test]
/// One rule for notes: a site's viewers read them wherever they read the row (README, security
/// model), so the export holds what the detail, the history and `search` show them.
async fn a_viewers_export_holds_the_notes_as_every_other_view_does() {
    let t = world().await;
    let mut tx = t.db.begin_as(None).await.expect("begin");
    let vera = users::insert(&mut tx, "vera", "vera@example.org", "x", false)
        .await
        .expect("vera");
    let north = sites::by_name(&mut tx, "North")
        .await
        .expect("site")
        .expect("North");
    users::grant(&mut tx, vera.user_id, north.site_id, users::Role::Viewer)
        .await
        .expect("grant");
    tx.commit().await.expect("commit");
    common::give_login(&t.db, &["vera"]).await;
    let admin = common::ok(&common::ifind_app(&t, &["export", "--site", "North"], None));
    assert!(admin.contains("secret budget numbers"), "{admin}");
    let out = common::ifind_app(&t, &["--as", "vera", "export", "--site", "North"], None);
    let viewer = common::ok(&out);
    assert!(viewer.contains("secret budget numbers"), "{viewer}");
    assert!(!viewer.contains("[masked]"), "{viewer}");
    assert!(
        viewer.contains("Budget call"),
        "everything else is there: {viewer}"
    );
    assert!(!String::from_utf8_lossy(&out.stderr).contains("masked"));
}
