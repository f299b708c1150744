//! Faults: the database restarted (`pg_ctl stop -m fast` and `-m immediate`) while a search runs
//! and while a save is in flight, and the network stalled, delayed or cut by a proxy. The app
//! (the real `update`, runner and database backend, headless) says the connection is lost and
//! that it retries, recovers by itself, never loses what was typed, never stores a create twice,
//! and tells whether a save cut off at its commit was stored. Each test runs a private cluster,
//! so stopping it touches no other test.

mod common;
#[path = "common/headless.rs"]
mod headless;
#[path = "common/faults.rs"]
mod kit;

use std::sync::Arc;
use std::time::{Duration, Instant};

use ifind::app::action::Action;
use ifind::app::db_backend::DbSearchBackend;
use ifind::app::runner::{BoxFuture, Finder, Health, Records};
use ifind::app::search_types::{SearchPage, SearchRequest};
use ifind::app::state::{Connection, Screen, Session};
use ifind::db::Db;
use ifind::db::faults::new_client_id;
use ifind::db::{sites, users};
use ifind::domain::failure::Failure;
use ifind::domain::interaction::{Interaction, InteractionInput, ValidInteraction, validate};
use ifind::service::records::{FormTarget, SaveError};
use ifind::service::records::{resolve_save, save_once};

use headless::App;
use kit::{Mode, PrivateCluster, Proxy};

/// The user, the site and a few rows every test starts from.
struct World {
    owner: Db,
    editor: i32,
    site: i32,
}

async fn world(owner: Db) -> World {
    let mut tx = owner.begin_as(None).await.expect("begin");
    let hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";
    let editor = users::insert(&mut tx, "eddie", "eddie@example.org", hash, false)
        .await
        .expect("user")
        .user_id;
    let site = sites::insert(&mut tx, "North", None)
        .await
        .expect("site")
        .site_id;
    users::grant(&mut tx, editor, site, users::Role::Editor)
        .await
        .expect("grant");
    tx.commit().await.expect("commit");
    for n in 0..3 {
        let v = valid(&format!("Harbour inspection {n}"));
        ifind::service::records::save(&owner, Some(editor), site, FormTarget::New, v)
            .await
            .expect("a first row");
    }
    World {
        owner,
        editor,
        site,
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

fn valid(title: &str) -> ValidInteraction {
    validate(&typed(title)).expect("valid")
}

fn session(w: &World) -> Session {
    Session {
        user: "eddie".into(),
        site_id: w.site,
        site: "North".into(),
        role: ifind::domain::users::Role::Editor,
    }
}

async fn rows_titled(owner: &Db, title: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM interactions WHERE title = $1")
        .bind(title)
        .fetch_one(&owner.pool)
        .await
        .expect("count")
}

/// The app on the private cluster through `proxy`, as the application role.
async fn app_through(proxy: &Proxy, w: &World, limit: Duration) -> (App, Db) {
    let db = kit::app_pool(&proxy.url_for("ifind_app"), 4, Duration::from_secs(5)).await;
    let backend = Arc::new(DbSearchBackend::new(db.clone(), Some(w.editor)));
    let mut app = App::start(backend, session(w), limit);
    app.until("the first page", Duration::from_secs(20), |s| {
        s.finder.results.as_ref().is_some_and(|r| r.hits.len() == 3)
    })
    .await;
    (app, db)
}

/// Opens a new form and types an interaction titled `title` into it.
fn fill_form(app: &mut App, title: &str) -> InteractionInput {
    app.act(Action::NewInteraction);
    assert_eq!(app.state.screen(), Screen::Form, "{}", app.screen());
    app.paste(title);
    app.act(Action::NextField);
    app.paste("Meeting");
    app.act(Action::NextField);
    app.paste("Jun Park");
    app.state.form().expect("the form").input()
}

async fn stop(cluster: &PrivateCluster, mode: &'static str) {
    cluster.stop(mode).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_during_a_search_is_shown_and_the_search_resumes() {
    let cluster = PrivateCluster::start().await;
    let w = world(cluster.owner_db(2).await).await;
    let proxy = Proxy::start(cluster.socket()).await;
    let (mut app, _db) = app_through(&proxy, &w, Duration::from_secs(5)).await;

    for (mode, query) in [("fast", "harbour"), ("immediate", "inspection")] {
        // Slow traffic keeps the search in flight while the server goes down.
        proxy.set(Mode::Delay(Duration::from_millis(150)));
        app.search(query);
        assert!(app.state.finder.in_flight.is_some(), "the search runs");
        stop(&cluster, mode).await;
        app.until(
            &format!("the lost connection shown after stop -m {mode}"),
            Duration::from_secs(15),
            |s| matches!(s.connection, Connection::Lost { .. }),
        )
        .await;
        let status = app.status();
        assert!(
            status.contains("connection lost, retrying in"),
            "the status line says so: {status}"
        );
        app.until(
            "a second retry with a longer pause",
            Duration::from_secs(10),
            |s| matches!(s.connection, Connection::Lost { attempt, .. } if attempt >= 2),
        )
        .await;
        proxy.set(Mode::Pass);
        cluster.start_again().await;
        app.until(
            &format!("the search back after stop -m {mode}"),
            Duration::from_secs(20),
            |s| {
                s.connection == Connection::Connected
                    && s.finder
                        .results
                        .as_ref()
                        .is_some_and(|r| r.query == query && r.hits.len() == 3)
            },
        )
        .await;
        assert_eq!(
            app.state.finder.query.value(),
            query,
            "the query line is untouched"
        );
        assert!(app.status().contains("connected"), "{}", app.status());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_save_cut_off_by_a_restart_is_stored_once_and_the_person_is_told_which() {
    let cluster = PrivateCluster::start().await;
    let w = world(cluster.owner_db(2).await).await;
    let proxy = Proxy::start(cluster.socket()).await;
    let (mut app, _db) = app_through(&proxy, &w, Duration::from_secs(5)).await;

    for mode in ["fast", "immediate"] {
        let title = format!("Saved through a {mode} restart");
        let typed = fill_form(&mut app, &title);
        proxy.set(Mode::Delay(Duration::from_millis(100)));
        app.act(Action::Save);
        assert!(app.state.form().is_some_and(|f| f.saving.is_some()));
        stop(&cluster, mode).await;
        proxy.set(Mode::Pass);
        // While the server is down, the outcome is either known (not stored, nothing was
        // committed) or being found out; either way the text is all there.
        let form = app.state.form().expect("the form stays open");
        assert_eq!(form.input(), typed, "nothing typed is lost");
        cluster.start_again().await;
        app.until(
            &format!("the save's outcome after stop -m {mode}"),
            Duration::from_secs(30),
            |s| s.form().is_none_or(|f| f.saving.is_none()),
        )
        .await;
        let stored = rows_titled(&w.owner, &title).await;
        match app.state.form() {
            None => {
                assert_eq!(stored, 1, "told saved, and it is there once");
                let notice = app.state.notice.clone().unwrap_or_default();
                assert!(notice.contains("saved"), "{notice}");
            }
            Some(form) => {
                assert_eq!(stored, 0, "told not saved, and it is not there");
                let failure = form.failure.clone().unwrap_or_default();
                assert!(failure.starts_with("not saved"), "{failure}");
                assert_eq!(form.input(), typed, "the text is kept for the retry");
                app.act(Action::Save);
                app.until("the retry", Duration::from_secs(20), |s| s.form().is_none())
                    .await;
                assert_eq!(rows_titled(&w.owner, &title).await, 1);
            }
        }
        // A second save with the same client id (a retry after all) stores nothing more.
        assert_eq!(rows_titled(&w.owner, &title).await, 1);
    }
}

/// Stores every create and then loses the answer, once: the COMMIT went through but the person
/// was never told.
struct LosesTheAnswer {
    inner: DbSearchBackend,
    lost: std::sync::atomic::AtomicBool,
    /// Lose the answer to each delete and restore too (after carrying it out when `made`).
    trash_moves: Option<bool>,
}

impl LosesTheAnswer {
    /// `work` carried out (or not, when the answer is to be lost before it reached the
    /// database) and its answer lost, when trash moves lose theirs.
    fn trash_move<'a>(
        &'a self,
        work: BoxFuture<'a, Result<Interaction, SaveError>>,
    ) -> BoxFuture<'a, Result<Interaction, SaveError>> {
        Box::pin(async move {
            match self.trash_moves {
                None => work.await,
                Some(made) => {
                    if made {
                        work.await?;
                    }
                    Err(SaveError::Unknown("the answer to COMMIT never came".into()))
                }
            }
        })
    }
}

impl Finder for LosesTheAnswer {
    fn search(&self, id: u64, r: SearchRequest) -> BoxFuture<'_, Result<SearchPage, Failure>> {
        self.inner.search(id, r)
    }
    fn count(
        &self,
        id: u64,
        r: SearchRequest,
    ) -> BoxFuture<'_, Result<ifind::app::search_types::MatchCount, Failure>> {
        self.inner.count(id, r)
    }
    fn histogram(
        &self,
        id: u64,
        r: SearchRequest,
        budget: u32,
    ) -> BoxFuture<'_, Result<Option<Vec<ifind::domain::histogram::MonthCount>>, Failure>> {
        self.inner.histogram(id, r, budget)
    }
}

impl Records for LosesTheAnswer {
    fn save(
        &self,
        site_id: i32,
        target: FormTarget,
        v: ValidInteraction,
    ) -> BoxFuture<'_, Result<Interaction, SaveError>> {
        self.inner.save(site_id, target, v)
    }
    fn save_once(
        &self,
        site_id: i32,
        target: FormTarget,
        v: ValidInteraction,
        client_id: Option<String>,
    ) -> BoxFuture<'_, Result<Interaction, SaveError>> {
        Box::pin(async move {
            let stored = self.inner.save_once(site_id, target, v, client_id).await;
            if stored.is_ok() && !self.lost.swap(true, std::sync::atomic::Ordering::SeqCst) {
                return Err(SaveError::Unknown("the answer to COMMIT never came".into()));
            }
            stored
        })
    }
    fn resolve_save(
        &self,
        site_id: i32,
        target: FormTarget,
        v: ValidInteraction,
        client_id: Option<String>,
    ) -> BoxFuture<'_, Result<Option<Interaction>, Failure>> {
        self.inner.resolve_save(site_id, target, v, client_id)
    }
    fn lookups(&self, site_id: i32) -> BoxFuture<'_, Result<ifind::app::form::Lookups, Failure>> {
        self.inner.lookups(site_id)
    }
    fn history(
        &self,
        site_id: i32,
        id: i32,
    ) -> BoxFuture<'_, Result<Vec<ifind::domain::audit::AuditEntry>, Failure>> {
        self.inner.history(site_id, id)
    }
    fn trash(
        &self,
        site_id: i32,
        days: u32,
    ) -> BoxFuture<'_, Result<Vec<ifind::domain::trash::TrashItem>, Failure>> {
        self.inner.trash(site_id, days)
    }
    fn delete(
        &self,
        site_id: i32,
        id: i32,
        version: i32,
    ) -> BoxFuture<'_, Result<Interaction, SaveError>> {
        self.trash_move(self.inner.delete(site_id, id, version))
    }
    fn resolve_trash_move(
        &self,
        site_id: i32,
        id: i32,
        to_trash: bool,
    ) -> BoxFuture<'_, Result<Option<Interaction>, Failure>> {
        self.inner.resolve_trash_move(site_id, id, to_trash)
    }
    fn restore(
        &self,
        site_id: i32,
        id: i32,
        days: u32,
    ) -> BoxFuture<'_, Result<Interaction, SaveError>> {
        self.trash_move(self.inner.restore(site_id, id, days))
    }
}

impl Health for LosesTheAnswer {
    fn health(&self) -> BoxFuture<'_, Result<Vec<ifind::domain::health::Check>, Failure>> {
        self.inner.health()
    }
    fn ping(&self) -> BoxFuture<'_, Result<(), Failure>> {
        self.inner.ping()
    }
}

#[tokio::test]
async fn a_commit_whose_answer_was_lost_is_looked_up_and_reported_saved() {
    let t = common::fresh_db().await;
    let w = world(t.db.clone()).await;
    let backend = Arc::new(LosesTheAnswer {
        inner: DbSearchBackend::new(t.app_db().await, Some(w.editor)),
        lost: Default::default(),
        trash_moves: None,
    });
    let mut app = App::start(backend, session(&w), Duration::from_secs(10));
    app.until("the first page", Duration::from_secs(10), |s| {
        s.finder.results.is_some()
    })
    .await;
    fill_form(&mut app, "Committed, answer lost");
    app.act(Action::Save);
    app.until("the save resolved", Duration::from_secs(10), |s| {
        s.form().is_none()
    })
    .await;
    assert_eq!(
        app.state.notice.as_deref(),
        Some("saved \"Committed, answer lost\"")
    );
    assert_eq!(rows_titled(&w.owner, "Committed, answer lost").await, 1);
}

/// A delete and a restore whose answers were lost are looked up before anything is said: made
/// (the record is in the trash, then live again) or not made (nothing changed), and the
/// message says which; never "may or may not".
#[tokio::test]
async fn a_delete_or_restore_whose_answer_was_lost_is_looked_up_and_told_truly() {
    let t = common::fresh_db().await;
    let w = world(t.db.clone()).await;
    let mut tx = w.owner.begin_as(None).await.expect("begin");
    users::grant(&mut tx, w.editor, w.site, users::Role::Admin)
        .await
        .expect("admin");
    tx.commit().await.expect("commit");
    for made in [true, false] {
        let backend = Arc::new(LosesTheAnswer {
            inner: DbSearchBackend::new(t.app_db().await, Some(w.editor)),
            lost: Default::default(),
            trash_moves: Some(made),
        });
        let mut app = App::start(backend, session(&w), Duration::from_secs(10));
        app.state.session.role = ifind::domain::users::Role::Admin;
        app.until("the first page", Duration::from_secs(10), |s| {
            s.finder
                .results
                .as_ref()
                .is_some_and(|r| !r.hits.is_empty())
        })
        .await;
        let first = app
            .state
            .finder
            .results
            .as_ref()
            .map(|r| r.hits[0].interaction.clone());
        let first = first.expect("a first hit");
        app.act(Action::Delete);
        app.act(Action::Yes);
        app.until("the delete resolved", Duration::from_secs(10), |s| {
            s.deleting.is_none()
        })
        .await;
        let notice = app.state.notice.clone().unwrap_or_default();
        let in_trash: bool = sqlx::query_scalar(
            "SELECT deleted_at IS NOT NULL FROM interactions WHERE interaction_id = $1",
        )
        .bind(first.interaction_id)
        .fetch_one(&w.owner.pool)
        .await
        .expect("the row");
        assert_eq!(in_trash, made, "{notice}");
        if made {
            assert!(notice.starts_with("moved \""), "{notice}");
        } else {
            assert!(
                notice.starts_with("not deleted: the connection was lost"),
                "{notice}"
            );
            assert!(notice.contains("nothing was changed"), "{notice}");
            continue;
        }
        // Restore it from the trash, losing that answer too.
        app.act(Action::Trash);
        app.until("the trash", Duration::from_secs(10), |s| {
            s.trash().is_some_and(|t| !t.items.is_empty())
        })
        .await;
        app.act(Action::Restore);
        app.until("the restore resolved", Duration::from_secs(10), |s| {
            s.trash().is_some_and(|t| t.restoring.is_none())
        })
        .await;
        let notice = app.state.notice.clone().unwrap_or_default();
        assert!(notice.starts_with("restored \""), "{notice}");
        assert!(!notice.contains("may or may not"), "{notice}");
    }
}

/// A save whose answer was lost is not looked up while a write of the same login is still open
/// on the server (it may still be committing, or the server may be about to recover a commit
/// of a killed backend): "not stored" is only said once that is over, and then it is true.
/// [`resolve_save`] after the writes have ended, as the app asks it: while the server still
/// shows a write of this login (its backend reports the end of a transaction a moment after the
/// client has the answer, longer on a loaded machine), the answer is "cannot tell yet" and the
/// app asks again; so does this, for up to 5 s.
async fn resolved(
    app: &Db,
    user: i32,
    site: i32,
    target: FormTarget,
    v: &ValidInteraction,
    client_id: Option<&str>,
) -> Result<Option<Interaction>, Failure> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let asked = resolve_save(app, Some(user), site, target, v, client_id).await;
        match asked {
            Err(Failure::Other(_)) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            other => return other,
        }
    }
}

#[tokio::test]
async fn a_lost_save_is_not_called_unsaved_while_its_write_may_still_commit() {
    let t = common::fresh_db().await;
    let w = world(t.db.clone()).await;
    let app = t.app_db().await;
    let v = valid("Still committing");
    for commit in [true, false] {
        let id = new_client_id();
        // The save's own transaction, on another connection of the same login, not yet ended.
        let mut tx = app.begin_as(Some(w.editor)).await.expect("begin");
        let (stored, _) = ifind::db::interactions::insert_once(&mut tx, w.site, w.editor, &v, &id)
            .await
            .expect("insert");
        let asked =
            resolve_save(&app, Some(w.editor), w.site, FormTarget::New, &v, Some(&id)).await;
        assert!(
            asked.is_err(),
            "while the write is open the outcome is not known: {asked:?}"
        );
        if commit {
            tx.commit().await.expect("commit");
        } else {
            tx.rollback().await.expect("rollback");
        }
        let found = resolved(&app, w.editor, w.site, FormTarget::New, &v, Some(&id))
            .await
            .expect("known once the write has ended");
        assert_eq!(
            found.map(|i| i.interaction_id),
            commit.then_some(stored.interaction_id),
            "committed: {commit}"
        );
    }
}

#[tokio::test]
async fn a_create_retried_with_its_client_id_is_stored_once_and_an_edit_retried_is_no_conflict() {
    let t = common::fresh_db().await;
    let w = world(t.db.clone()).await;
    let app = t.app_db().await;
    let id = new_client_id();
    let v = valid("Exactly once");
    let first = save_once(
        &app,
        Some(w.editor),
        w.site,
        FormTarget::New,
        v.clone(),
        Some(&id),
    )
    .await
    .expect("first attempt");
    let again = save_once(
        &app,
        Some(w.editor),
        w.site,
        FormTarget::New,
        v.clone(),
        Some(&id),
    )
    .await
    .expect("the retry answers with the stored record");
    assert_eq!(first.interaction_id, again.interaction_id);
    assert_eq!(rows_titled(&w.owner, "Exactly once").await, 1);

    let found = resolved(&app, w.editor, w.site, FormTarget::New, &v, Some(&id))
        .await
        .expect("lookup");
    assert_eq!(found.map(|i| i.interaction_id), Some(first.interaction_id));
    let other = new_client_id();
    let missing = resolved(&app, w.editor, w.site, FormTarget::New, &v, Some(&other))
        .await
        .expect("lookup");
    assert!(
        missing.is_none(),
        "a create that never arrived is not found"
    );

    // An edit stored, then retried from the same version: the stored one, not a conflict.
    let target = FormTarget::Edit {
        interaction_id: first.interaction_id,
        version: first.version,
    };
    let edit = valid("Exactly once, edited");
    let stored = save_once(&app, Some(w.editor), w.site, target, edit.clone(), None)
        .await
        .expect("edit");
    let retried = save_once(&app, Some(w.editor), w.site, target, edit.clone(), None)
        .await
        .expect("the retried edit is recognised");
    assert_eq!(retried.version, stored.version);
    let lookup = resolved(&app, w.editor, w.site, target, &edit, None)
        .await
        .expect("lookup");
    assert_eq!(lookup.map(|i| i.version), Some(stored.version));
    // A different edit from the old version is still a conflict.
    let err = save_once(&app, Some(w.editor), w.site, target, valid("Other"), None)
        .await
        .expect_err("stale");
    assert!(matches!(err, SaveError::Conflict { .. }), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_network_fails_within_the_limit_and_the_pool_comes_back_full() {
    let t = common::fresh_db().await;
    let w = world(t.db.clone()).await;
    // The shared test cluster's socket, through the proxy.
    let socket = shared_socket(&t);
    let proxy = Proxy::start(socket).await;
    let limit = Duration::from_millis(1500);
    let url = format!("postgres://ifind_app@127.0.0.1:{}/{}", proxy.port, t.name);
    let db = kit::app_pool(&url, 4, Duration::from_secs(2)).await;
    let backend = Arc::new(DbSearchBackend::new(db.clone(), Some(w.editor)));
    let mut app = App::start(backend, session(&w), limit);
    app.until("the first page", Duration::from_secs(20), |s| {
        s.finder.results.as_ref().is_some_and(|r| r.hits.len() == 3)
    })
    .await;

    // A stalled search fails within its limit, with a message that says so.
    proxy.set(Mode::Stall);
    let started = Instant::now();
    app.search("harbour");
    app.until("the stalled search to fail", Duration::from_secs(10), |s| {
        s.finder.in_flight.is_none()
    })
    .await;
    let took = started.elapsed();
    assert!(
        took < limit + Duration::from_secs(1),
        "failed after {took:?}"
    );
    let error = app.state.finder.error.clone().unwrap_or_default();
    assert!(error.contains("no answer within 1.5 s"), "{error}");
    // The app keeps taking keys and drawing meanwhile.
    app.paste(" more");
    assert!(app.screen().contains("harbour more"), "{}", app.screen());
    app.until("the lost connection shown", Duration::from_secs(10), |s| {
        matches!(s.connection, Connection::Lost { .. })
    })
    .await;

    // A stalled save has an unknown outcome within the limit; retrying waits for the answer.
    let title = "Saved over a stalled network";
    let typed = fill_form(&mut app, title);
    let started = Instant::now();
    app.act(Action::Save);
    app.until("the save's outcome unknown", Duration::from_secs(10), |s| {
        s.form().is_some_and(|f| f.failure.is_some())
    })
    .await;
    assert!(started.elapsed() < limit + Duration::from_secs(1));
    let failure = app.state.form().and_then(|f| f.failure.clone());
    assert!(
        failure
            .as_deref()
            .is_some_and(|f| f.contains("whether it was saved is checked")),
        "{failure:?}"
    );
    app.act(Action::Save);
    let notice = app.state.notice.clone().unwrap_or_default();
    assert!(notice.contains("still finding out"), "{notice}");

    // Back to normal: the save is resolved and told, searches work, the pool is whole.
    proxy.set(Mode::Pass);
    app.until("the save resolved", Duration::from_secs(20), |s| {
        s.form().is_none_or(|f| f.saving.is_none())
    })
    .await;
    if app.state.form().is_some() {
        assert_eq!(rows_titled(&w.owner, title).await, 0);
        assert_eq!(app.state.form().map(|f| f.input()), Some(typed));
        app.act(Action::Save);
        app.until("the retry", Duration::from_secs(20), |s| s.form().is_none())
            .await;
    }
    assert_eq!(rows_titled(&w.owner, title).await, 1);
    app.until("connected again", Duration::from_secs(20), |s| {
        s.connection == Connection::Connected && s.finder.results.is_some()
    })
    .await;
    assert_full_capacity(&db, 4).await;

    // A cut fails at once (no waiting for the limit), and the app recovers the same way.
    proxy.set(Mode::Cut);
    let started = Instant::now();
    app.search("inspection");
    app.until("the cut search to fail", Duration::from_secs(10), |s| {
        s.finder.in_flight.is_none()
    })
    .await;
    assert!(
        started.elapsed() < limit,
        "a cut is noticed before the limit"
    );
    app.until("the cut shown", Duration::from_secs(10), |s| {
        matches!(s.connection, Connection::Lost { .. })
    })
    .await;
    proxy.set(Mode::Pass);
    app.until(
        "the search back after the cut",
        Duration::from_secs(20),
        |s| {
            s.connection == Connection::Connected
                && s.finder
                    .results
                    .as_ref()
                    .is_some_and(|r| r.query == "inspection")
        },
    )
    .await;
    assert_full_capacity(&db, 4).await;
}

/// All `max` connections of the pool can be held at once again (no slot leaked).
async fn assert_full_capacity(db: &Db, max: usize) {
    let ok = kit::eventually(Duration::from_secs(20), async || {
        let mut held = Vec::new();
        for _ in 0..max {
            match tokio::time::timeout(Duration::from_secs(2), db.pool.acquire()).await {
                Ok(Ok(conn)) => held.push(conn),
                _ => return false,
            }
        }
        for conn in &mut held {
            if sqlx::query("SELECT 1").execute(&mut **conn).await.is_err() {
                return false;
            }
        }
        true
    })
    .await;
    assert!(ok, "the pool holds {max} working connections again");
    assert!(db.pool.size() as usize <= max);
}

/// The Unix socket of the shared test cluster (or the external test server's).
fn shared_socket(t: &common::TestDb) -> std::path::PathBuf {
    let opts: sqlx::postgres::PgConnectOptions = t.url.parse().expect("test URL parses");
    let dir = opts
        .get_socket()
        .cloned()
        .unwrap_or_else(|| std::path::PathBuf::from("/var/run/postgresql"));
    dir.join(format!(".s.PGSQL.{}", opts.get_port()))
}
