//! Site isolation enforced by PostgreSQL: every read and write path, run as the application role
//! `ifind_app` against the real policies, by a user of site Alpha asking for site Beta's data;
//! interleaved users on one pooled connection; the startup check that refuses roles which could
//! bypass the policies; an owner without BYPASSRLS; and the index plans under the policies.

mod common;
#[path = "isolation/roles.rs"]
mod roles;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use ifind::db::search::{MatchCount, SearchRequest, search};
use ifind::db::{Db, interactions, sites, users};
use ifind::domain::interaction::{InteractionInput, ValidInteraction, validate};
use rand::{Rng, SeedableRng};

/// Alpha and Beta, their people, and two interactions in each site.
struct World {
    t: common::TestDb,
    app: Db,
    alpha: i32,
    beta: i32,
    /// Editor at Alpha.
    alice: i32,
    /// Viewer at Alpha.
    vic: i32,
    /// Site admin at Alpha.
    adam: i32,
    /// Editor at Beta.
    bob: i32,
    /// Global administrator.
    boss: i32,
    /// An interaction of each site.
    alpha_row: i32,
    beta_row: i32,
}

async fn world() -> World {
    let t = common::fresh_db().await;
    let mut tx = t.db.begin_as(None).await.expect("begin");
    let hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";
    let mut ids = Vec::new();
    for (name, global) in [
        ("alice", false),
        ("vic", false),
        ("adam", false),
        ("bob", false),
        ("boss", true),
    ] {
        let email = format!("{name}@example.org");
        let u = users::insert(&mut tx, name, &email, hash, global)
            .await
            .expect("user");
        ids.push(u.user_id);
    }
    let alpha = sites::insert(&mut tx, "Alpha", None).await.expect("site");
    let beta = sites::insert(&mut tx, "Beta", None).await.expect("site");
    let (alpha, beta) = (alpha.site_id, beta.site_id);
    for (user, site, role) in [
        (ids[0], alpha, users::Role::Editor),
        (ids[1], alpha, users::Role::Viewer),
        (ids[2], alpha, users::Role::Admin),
        (ids[3], beta, users::Role::Editor),
    ] {
        users::grant(&mut tx, user, site, role)
            .await
            .expect("grant");
    }
    let mut rows = Vec::new();
    for (site, word, creator) in [
        (alpha, "Alphaword", ids[0]),
        (alpha, "Alphaword", ids[0]),
        (beta, "Betaword", ids[3]),
        (beta, "Betaword", ids[3]),
    ] {
        let v = valid(&format!("{word} planning meeting"));
        let row = interactions::insert(&mut tx, site, creator, &v)
            .await
            .expect("row");
        rows.push(row.interaction_id);
    }
    tx.commit().await.expect("commit");
    common::give_login(&t.db, &["alice", "vic", "adam", "bob", "boss"]).await;
    World {
        app: t.app_db().await,
        t,
        alpha,
        beta,
        alice: ids[0],
        vic: ids[1],
        adam: ids[2],
        bob: ids[3],
        boss: ids[4],
        alpha_row: rows[0],
        beta_row: rows[2],
    }
}

fn valid(title: &str) -> ValidInteraction {
    validate(&InteractionInput {
        title: title.into(),
        kind: "Meeting".into(),
        lead: "Jun Park".into(),
        start: "2026-12-01 09:30".into(),
        end: "2026-12-01 10:15".into(),
        timezone: "Europe/Berlin".into(),
        location: "Room 4".into(),
        description: "agenda".into(),
        notes: "private notes".into(),
    })
    .expect("valid")
}

/// The SQLSTATE of a database error.
fn code(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(d) => d.code().map(|c| c.to_string()).unwrap_or_default(),
        other => format!("not a database error: {other}"),
    }
}

/// Asserts that `r` is a refusal: SQLSTATE 42501, insufficient privilege (which is also what a
/// row-level security violation raises).
fn refused<T>(what: &str, r: Result<T, sqlx::Error>) {
    match r {
        Ok(_) => panic!("{what}: allowed"),
        Err(e) => assert_eq!(code(&e), "42501", "{what}: {e}"),
    }
}

/// A transaction acting as `user`, working on `site` (as ifind does before it reads or writes
/// a site's rows).
async fn begin_at(db: &Db, user: i32, site: i32) -> sqlx::Transaction<'static, sqlx::Postgres> {
    let mut tx = db.begin_as(Some(user)).await.expect("begin");
    ifind::db::pool::enter_site(&mut tx, site)
        .await
        .expect("enter site");
    tx
}

async fn scalar_i64(db: &Db, user: Option<i32>, site: i32, sql: &str) -> i64 {
    let mut tx = db.begin_as(user).await.expect("begin");
    ifind::db::pool::enter_site(&mut tx, site)
        .await
        .expect("enter site");
    let n: i64 = sqlx::query_scalar(sql)
        .fetch_one(&mut *tx)
        .await
        .expect(sql);
    tx.commit().await.expect("commit");
    n
}

#[tokio::test]
async fn every_read_path_gives_nothing_of_another_site() {
    let w = world().await;
    for (who, user) in [("an editor", w.alice), ("a viewer", w.vic)] {
        let mut tx = w.app.begin_as(Some(user)).await.expect("begin");
        // Search, with and without words, and the near-match fallback.
        for query in ["", "Betaword", "planning", "Betawrod"] {
            let page = search(&mut tx, &SearchRequest::new(w.beta, query))
                .await
                .expect("search");
            assert!(page.hits.is_empty(), "{who}, {query:?}: {:?}", page.hits);
            assert!(
                matches!(page.count, Some(MatchCount::Exact(0)) | None),
                "{who}"
            );
        }
        let own = search(&mut tx, &SearchRequest::new(w.alpha, "planning"))
            .await
            .expect("search");
        assert_eq!(own.hits.len(), 2, "{who} reads their own site");
        // Open by id, under either site.
        assert_eq!(
            interactions::get(&mut tx, w.beta, w.beta_row)
                .await
                .expect("get"),
            None
        );
        assert_eq!(
            interactions::get(&mut tx, w.alpha, w.beta_row)
                .await
                .expect("get"),
            None
        );
        // Completion lists.
        let types = interactions::distinct_types(&mut tx, w.beta)
            .await
            .expect("types");
        let leads = interactions::distinct_leads(&mut tx, w.beta)
            .await
            .expect("leads");
        assert!(types.is_empty() && leads.is_empty(), "{who}");
        // Sites: the picker's list, by name, and all of them.
        let choices = sites::for_user(&mut tx, user, false).await.expect("sites");
        let names: Vec<&str> = choices.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, vec!["Alpha"], "{who}");
        assert_eq!(sites::by_name(&mut tx, "Beta").await.expect("site"), None);
        let all = sites::list(&mut tx).await.expect("list");
        assert_eq!(all.len(), 1, "{who}");
        assert_eq!(all[0].interactions, 2, "{who}");
        // Mappings: one's own only; users: Beta's editor is not visible.
        let roles: Vec<(i32,)> = sqlx::query_as("SELECT user_id FROM ifind_mappings()")
            .fetch_all(&mut *tx)
            .await
            .expect("mappings");
        assert_eq!(roles, vec![(user,)], "{who}");
        let bob = users::by_name(&mut tx, "bob").await.expect("users");
        assert_eq!(bob, None, "{who}");
        tx.commit().await.expect("commit");
        // Counts over the whole table: one's own site's rows, nothing of Beta's.
        let sql = "SELECT count(*) FROM interactions";
        assert_eq!(
            scalar_i64(&w.app, Some(user), w.alpha, sql).await,
            2,
            "{who}"
        );
        assert_eq!(
            scalar_i64(&w.app, Some(user), w.beta, sql).await,
            0,
            "{who}"
        );
    }
    // A site admin sees the site's members; a global admin sees every site.
    let mut tx = w.app.begin_as(Some(w.adam)).await.expect("begin");
    let mapped: Vec<(i32,)> = sqlx::query_as("SELECT user_id FROM ifind_mappings() ORDER BY 1")
        .fetch_all(&mut *tx)
        .await
        .expect("mappings");
    assert_eq!(mapped, vec![(w.alice,), (w.vic,), (w.adam,)]);
    tx.commit().await.expect("commit");
    let sql = "SELECT count(*) FROM interactions";
    assert_eq!(scalar_i64(&w.app, Some(w.boss), w.alpha, sql).await, 2);
    assert_eq!(scalar_i64(&w.app, Some(w.boss), w.beta, sql).await, 2);
    // With no acting user the application role sees nothing at all.
    for table in [
        "interactions",
        "ifind_my_sites()",
        "ifind_users()",
        "ifind_mappings()",
    ] {
        let sql = format!("SELECT count(*) FROM {table}");
        assert_eq!(scalar_i64(&w.app, None, w.alpha, &sql).await, 0, "{table}");
    }
    // Sites, users and roles at sites are read through those functions only (migration 0013).
    for table in ["sites", "users", "user_site_mapping"] {
        let mut tx = w.app.begin_as(Some(w.alice)).await.expect("begin");
        let err = sqlx::query(&format!("SELECT 1 FROM {table}"))
            .fetch_all(&mut *tx)
            .await
            .expect_err("no privilege");
        assert_eq!(code(&err), "42501", "{table}");
    }
    // The password hashes are not readable by the application role at all.
    let mut tx = w.app.begin_as(Some(w.alice)).await.expect("begin");
    let err = sqlx::query("SELECT password_hash FROM users")
        .fetch_all(&mut *tx)
        .await
        .expect_err("no privilege");
    assert_eq!(code(&err), "42501");
}

#[tokio::test]
async fn every_write_path_into_another_site_is_refused() {
    let w = world().await;
    let v = valid("Alphaword smuggled");
    // Insert into Beta, insert under someone else's name, a viewer's insert.
    for (what, user, site, creator) in [
        ("insert into another site", w.alice, w.beta, w.alice),
        ("insert by a viewer", w.vic, w.alpha, w.vic),
    ] {
        let mut tx = w.app.begin_as(Some(user)).await.expect("begin");
        refused(what, interactions::insert(&mut tx, site, creator, &v).await);
    }
    // Under someone else's name: the database writes who and when itself.
    let mut tx = w.app.begin_as(Some(w.alice)).await.expect("begin");
    let row = interactions::insert(&mut tx, w.alpha, w.bob, &v)
        .await
        .expect("an editor's insert");
    assert_eq!(
        row.created_by, w.alice,
        "the creator is who acts, not who is named"
    );
    drop(tx);
    // Update Beta's row: the policy hides it, so nothing is updated.
    let mut tx = w.app.begin_as(Some(w.alice)).await.expect("begin");
    let r = interactions::update(&mut tx, w.beta, w.beta_row, 1, w.alice, &v).await;
    assert_eq!(r.expect("no error, no row"), None);
    let n = sqlx::query("UPDATE interactions SET title = 'x' WHERE interaction_id = $1")
        .bind(w.beta_row)
        .execute(&mut *tx)
        .await
        .expect("update");
    assert_eq!(n.rows_affected(), 0);
    tx.commit().await.expect("commit");
    // Move Alpha's row to Beta, delete rows for good, change users, sites and roles.
    for (what, user, sql) in [
        (
            "move a row to another site",
            w.alice,
            "UPDATE interactions SET site_id = $1 WHERE interaction_id = $2",
        ),
        (
            "delete for good",
            w.adam,
            "DELETE FROM interactions WHERE site_id <> $1 OR interaction_id = $2",
        ),
        (
            "make oneself a global admin",
            w.alice,
            "UPDATE users SET is_global_admin = ($1 > 0) WHERE user_id = $2",
        ),
        (
            "grant oneself a role",
            w.alice,
            "INSERT INTO user_site_mapping (site_id, user_id, role) VALUES ($1, $2, 'admin')",
        ),
        (
            "add a site",
            w.alice,
            "INSERT INTO sites (site_id, name) VALUES ($1, 'x' || $2)",
        ),
    ] {
        let mut tx = w.app.begin_as(Some(user)).await.expect("begin");
        let r = sqlx::query(sql)
            .bind(w.beta)
            .bind(if what.contains("admin") || what.contains("role") {
                w.alice
            } else {
                w.alpha_row
            })
            .execute(&mut *tx)
            .await;
        match r {
            // A policy that hides every row from the user changes nothing.
            Ok(done) => assert_eq!(done.rows_affected(), 0, "{what}: allowed"),
            Err(e) => assert_eq!(code(&e), "42501", "{what}: {e}"),
        }
    }
    // Soft delete and restore: editors are refused by the trigger, the site admin may.
    let soft = |deleted: bool| {
        if deleted {
            "UPDATE interactions SET deleted_at = now(), deleted_by = $2 WHERE interaction_id = $1"
        } else {
            "UPDATE interactions SET deleted_at = NULL, deleted_by = NULL \
             WHERE interaction_id = $1 AND $2 > 0"
        }
    };
    let mut tx = begin_at(&w.app, w.alice, w.alpha).await;
    let err = sqlx::query(soft(true))
        .bind(w.alpha_row)
        .bind(w.alice)
        .execute(&mut *tx)
        .await
        .expect_err("an editor may not delete");
    assert_eq!(code(&err), "42501");
    assert!(err.to_string().contains("only a site admin"), "{err}");
    drop(tx);
    for deleted in [true, false] {
        let mut tx = begin_at(&w.app, w.adam, w.alpha).await;
        let r = sqlx::query(soft(deleted))
            .bind(w.alpha_row)
            .bind(w.adam)
            .execute(&mut *tx)
            .await
            .expect("the site admin may");
        assert_eq!(r.rows_affected(), 1);
        tx.commit().await.expect("commit");
        if deleted {
            // Now deleted: an editor may not restore it either.
            let mut tx = begin_at(&w.app, w.alice, w.alpha).await;
            let err = sqlx::query(soft(false))
                .bind(w.alpha_row)
                .bind(w.alice)
                .execute(&mut *tx)
                .await
                .expect_err("an editor may not restore");
            assert_eq!(code(&err), "42501");
        }
    }
    // Nothing changed in Beta, and Alpha's row is live again, untouched otherwise.
    let (title, site): (String, i32) =
        sqlx::query_as("SELECT title, site_id FROM interactions WHERE interaction_id = $1")
            .bind(w.beta_row)
            .fetch_one(&w.t.db.pool)
            .await
            .expect("beta row");
    assert_eq!(
        (title.as_str(), site),
        ("Betaword planning meeting", w.beta)
    );
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM interactions WHERE site_id = $1")
        .bind(w.alpha)
        .fetch_one(&w.t.db.pool)
        .await
        .expect("count");
    assert_eq!(n, 2);
    // Editors still write in their own site (and admins of it).
    for user in [w.alice, w.adam] {
        let mut tx = w.app.begin_as(Some(user)).await.expect("begin");
        interactions::insert(&mut tx, w.alpha, user, &v)
            .await
            .expect("own site");
        tx.commit().await.expect("commit");
    }
}

/// The CLI's user-acting commands go through the application role as `--as USER`.
#[tokio::test]
async fn the_cli_as_a_user_of_one_site_cannot_name_another() {
    let w = world().await;
    for args in [
        &["search", "--site", "Beta", "--as", "alice"][..],
        &["search", "--site", "Beta", "Betaword", "--as", "alice"][..],
        &["export", "--site", "Beta", "--as", "alice"][..],
        &[
            "export", "--site", "Beta", "--format", "json", "--as", "vic",
        ][..],
    ] {
        let err = common::fails(&common::ifind_app(&w.t, args, None), 1);
        // Refused by name (with the fix) and logged by the database, which alone resolves it.
        assert!(
            err.contains("has no role at a site named \"Beta\"")
                && err.contains("refused (and logged)"),
            "{args:?}: {err}"
        );
        assert!(!err.contains("Betaword"), "{err}");
    }
    let out = common::ok(&common::ifind_app(
        &w.t,
        &["export", "--site", "Alpha", "--as", "alice"],
        None,
    ));
    assert_eq!(out.matches("Alphaword").count(), 2, "{out}");
    assert!(!out.contains("Betaword"), "{out}");
    let out = common::ok(&common::ifind_app(
        &w.t,
        &["search", "--site", "Beta", "--as", "boss"],
        None,
    ));
    assert!(out.contains("Betaword"), "a global admin reads Beta: {out}");
}

/// One pooled connection, two users whose transactions take turns on it, some committing, some
/// rolled back half-way, some failing with an error: neither ever sees the other's rows, and the
/// acting user is unset whenever a transaction starts.
#[tokio::test]
async fn one_connection_shared_by_interleaved_users_never_mixes_them() {
    let w = world().await;
    let db = w.t.app_db_with(1).await;
    let committed = Arc::new([AtomicUsize::new(2), AtomicUsize::new(2)]);
    let users = [(w.alice, w.alpha, w.beta), (w.bob, w.beta, w.alpha)];
    let mut tasks = Vec::new();
    for (slot, (user, own, other)) in users.into_iter().enumerate() {
        let db = db.clone();
        let committed = committed.clone();
        tasks.push(tokio::spawn(async move {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(slot as u64);
            for step in 0..40 {
                let mut tx = db.pool.begin().await.expect("begin");
                let at_start: Option<String> =
                    sqlx::query_scalar("SELECT current_setting('ifind.user_id', true)")
                        .fetch_one(&mut *tx)
                        .await
                        .expect("setting");
                assert_eq!(at_start.unwrap_or_default(), "", "step {step}");
                ifind::db::pool::set_acting_user(&mut tx, Some(user))
                    .await
                    .expect("set user");
                ifind::db::pool::enter_site(&mut tx, own)
                    .await
                    .expect("enter site");
                let seen: Vec<(i32,)> = sqlx::query_as("SELECT DISTINCT site_id FROM interactions")
                    .fetch_all(&mut *tx)
                    .await
                    .expect("read");
                assert_eq!(seen, vec![(own,)], "user {user}, step {step}");
                let n: i64 = sqlx::query_scalar("SELECT count(*) FROM interactions")
                    .fetch_one(&mut *tx)
                    .await
                    .expect("count");
                assert_eq!(n as usize, committed[slot].load(Ordering::SeqCst));
                let v = valid(&format!("step {step} of user {user}"));
                interactions::insert(&mut tx, own, user, &v)
                    .await
                    .expect("insert");
                tokio::task::yield_now().await;
                match rng.gen_range(0..4) {
                    0 => {
                        tx.commit().await.expect("commit");
                        committed[slot].fetch_add(1, Ordering::SeqCst);
                    }
                    1 => tx.rollback().await.expect("rollback"),
                    2 => drop(tx),
                    _ => {
                        let err = interactions::insert(&mut tx, other, user, &v)
                            .await
                            .expect_err("another site");
                        assert_eq!(code(&err), "42501");
                        sqlx::query("SELECT 1")
                            .execute(&mut *tx)
                            .await
                            .expect_err("the transaction is aborted");
                        drop(tx);
                    }
                }
                tokio::task::yield_now().await;
            }
        }));
    }
    for task in tasks {
        task.await.expect("task");
    }
    for (slot, site) in [(0, w.alpha), (1, w.beta)] {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM interactions WHERE site_id = $1")
            .bind(site)
            .fetch_one(&w.t.db.pool)
            .await
            .expect("count");
        assert_eq!(n as usize, committed[slot].load(Ordering::SeqCst));
    }
}
