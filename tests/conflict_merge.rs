//! Two people edit the same interaction at once, against a real PostgreSQL: the app (headless:
//! the real `update`, runner and backend, as eddie) saves after vera (the service, as a second
//! session) saved first. Different fields: both changes survive without a question. The same
//! field: only it is asked, and the side eddie picks is what is stored.

mod common;
#[path = "common/headless.rs"]
mod headless;

use std::sync::Arc;
use std::time::Duration;

use ifind::app::action::Action;
use ifind::app::db_backend::DbSearchBackend;
use ifind::app::form::Confirm;
use ifind::app::state::{Mode, Session};
use ifind::db::{sites, users};
use ifind::domain::interaction::{Field, Interaction, InteractionInput, validate};
use ifind::service::records::{FormTarget, save};

const LIMIT: Duration = Duration::from_secs(30);

struct World {
    t: common::TestDb,
    app_db: ifind::db::Db,
    eddie: i32,
    vera: i32,
    site: i32,
}

async fn world() -> World {
    let t = common::fresh_db().await;
    let mut tx = t.db.begin_as(None).await.expect("begin");
    let hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";
    let mut ids = Vec::new();
    for name in ["eddie", "vera"] {
        let u = users::insert(&mut tx, name, &format!("{name}@example.org"), hash, false)
            .await
            .expect("user");
        ids.push(u.user_id);
    }
    let site = sites::insert(&mut tx, "North", None)
        .await
        .expect("site")
        .site_id;
    for id in &ids {
        users::grant(&mut tx, *id, site, users::Role::Editor)
            .await
            .expect("grant");
    }
    tx.commit().await.expect("commit");
    World {
        app_db: t.app_db().await,
        t,
        eddie: ids[0],
        vera: ids[1],
        site,
    }
}

/// Vera's session: saves `change` of `current` through the service, as the form would.
async fn vera_saves(w: &World, current: &Interaction, change: impl FnOnce(&mut InteractionInput)) {
    let mut input = InteractionInput::from_interaction(current);
    change(&mut input);
    let target = FormTarget::Edit {
        interaction_id: current.interaction_id,
        version: current.version,
    };
    save(
        &w.app_db,
        Some(w.vera),
        w.site,
        target,
        validate(&input).expect("valid"),
    )
    .await
    .expect("vera's save");
}

async fn stored(w: &World) -> Interaction {
    let mut tx = w.t.db.begin_as(None).await.expect("begin");
    let id: i32 = sqlx::query_scalar("SELECT interaction_id FROM interactions")
        .fetch_one(&mut *tx)
        .await
        .expect("the one interaction");
    ifind::db::interactions::get(&mut tx, w.site, id)
        .await
        .expect("read")
        .expect("live")
}

/// Eddie's app on the Finder with the site's interaction loaded.
async fn eddies_app(w: &World) -> headless::App {
    let backend = Arc::new(DbSearchBackend::new(w.app_db.clone(), Some(w.eddie)));
    let session = Session {
        user: "eddie".into(),
        site_id: w.site,
        site: "North".into(),
        role: users::Role::Editor,
    };
    let mut app = headless::App::start(backend, session, LIMIT);
    app.until("the first page", LIMIT, |s| {
        s.finder
            .results
            .as_ref()
            .is_some_and(|r| !r.hits.is_empty())
    })
    .await;
    app
}

/// Moves the form's cursor to `field` and types `text` over what is there.
fn retype(app: &mut headless::App, field: Field, text: &str) {
    while app.state.form().is_some_and(|f| f.focused() != field) {
        app.act(Action::NextField);
    }
    app.act(Action::ClearField);
    app.paste(text);
}

#[tokio::test]
async fn two_people_editing_the_same_interaction_lose_nothing_and_the_choice_is_stored() {
    let w = world().await;
    let input = InteractionInput {
        title: "Budget review with Delta Shipping".into(),
        kind: "Meeting".into(),
        lead: "Ana Souza".into(),
        start: "2026-12-01 09:30".into(),
        end: "2026-12-01 10:30".into(),
        timezone: "Europe/London".into(),
        location: "Room 4".into(),
        description: "Figures for Q4.".into(),
        notes: String::new(),
    };
    let v = validate(&input).expect("valid");
    let first = save(&w.app_db, Some(w.eddie), w.site, FormTarget::New, v)
        .await
        .expect("created");
    let mut app = eddies_app(&w).await;

    // Different fields: eddie moves the room while vera adds a note.
    app.act(Action::Edit);
    retype(&mut app, Field::Location, "Room 6");
    vera_saves(&w, &first, |i| i.notes = "bring the contract".into()).await;
    app.act(Action::Save);
    app.until("the merged save", LIMIT, |s| s.form().is_none())
        .await;
    let row = stored(&w).await;
    assert_eq!(row.location.as_deref(), Some("Room 6"), "eddie's change");
    assert_eq!(
        row.notes.as_deref(),
        Some("bring the contract"),
        "vera's change survives"
    );
    assert_eq!((row.version, row.updated_by), (3, Some(w.eddie)));
    let notice = app.state.notice.clone().unwrap_or_default();
    assert!(
        notice.contains("merged with vera's version 2: kept their notes"),
        "{notice}"
    );
    app.until("the list with version 3", LIMIT, |s| {
        s.finder
            .selected_hit()
            .is_some_and(|h| h.interaction.version == 3)
    })
    .await;

    // The same fields: both retitle it and move the room; vera also changes the lead.
    app.act(Action::Edit);
    retype(
        &mut app,
        Field::Title,
        "Budget review with Delta Shipping (final)",
    );
    retype(&mut app, Field::Location, "Room 7");
    vera_saves(&w, &row, |i| {
        i.title = "Budget review with Delta Shipping (postponed)".into();
        i.location = "Room 8".into();
        i.lead = "Jun Park".into();
    })
    .await;
    app.act(Action::Save);
    app.until("the question", LIMIT, |s| s.confirm.is_some())
        .await;
    assert_eq!(app.state.mode(), Mode::Conflict);
    let Some(Confirm::Conflict(view)) = &app.state.confirm else {
        panic!("not the conflict question: {:?}", app.state.confirm);
    };
    let asked: Vec<Field> = view.merge.clashes.iter().map(|c| c.field).collect();
    assert_eq!(asked, vec![Field::Title, Field::Location], "only these");
    assert_eq!(view.merge.theirs_only, vec![Field::Lead]);
    assert_eq!(stored(&w).await.version, 4, "nothing written while asking");
    // Their title, my room.
    app.act(Action::PickTheirs);
    app.act(Action::Yes);
    app.until("the chosen save", LIMIT, |s| s.form().is_none())
        .await;
    let row = stored(&w).await;
    assert_eq!(row.title, "Budget review with Delta Shipping (postponed)");
    assert_eq!(row.location.as_deref(), Some("Room 7"));
    assert_eq!(row.lead, "Jun Park");
    assert_eq!(row.notes.as_deref(), Some("bring the contract"));
    assert_eq!((row.version, row.updated_by), (5, Some(w.eddie)));
    let notice = app.state.notice.clone().unwrap_or_default();
    assert!(
        notice.contains("kept their title, lead; yours over theirs for location"),
        "{notice}"
    );
}
