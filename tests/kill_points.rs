//! The server killed (`pg_ctl stop -m immediate`) at chosen points of each write: an import, a
//! seed, an archive, a purge, an erase, a save, a delete and a restore. The point is picked by
//! statement count, not by sleeping: a proxy in front of the server counts the statements the
//! client sends and stalls all traffic at statement N, either after sending it to the server
//! (which may then carry it out while its answer is lost) or before (the server never sees
//! it); the server is killed there and started again. Every time, the database holds either
//! all of the write or none of it, and what ifind said is what happened.

mod common;
#[path = "common/headless.rs"]
mod headless;
#[path = "common/faults.rs"]
mod kit;

use std::process::Output;
use std::sync::Arc;
use std::time::Duration;

use kit::{Mode, PrivateCluster, Proxy};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A private cluster, a counting proxy in front of it, and the owner's direct pool.
struct Bed {
    cluster: Arc<PrivateCluster>,
    proxy: Arc<Proxy>,
    /// The owner through the proxy, as the binary connects in these tests.
    owner_url: String,
}

impl Bed {
    async fn start() -> Bed {
        let cluster = Arc::new(PrivateCluster::start().await);
        let proxy = Arc::new(Proxy::start(cluster.socket()).await);
        let owner = cluster.owner_db(1).await;
        let user: String = sqlx::query_scalar("SELECT current_user::text")
            .fetch_one(&owner.pool)
            .await
            .expect("owner name");
        common::add_ada(&cluster.owner_url);
        Bed {
            owner_url: proxy.url_for(&user),
            cluster,
            proxy,
        }
    }

    /// Runs `ifind ARGS` as the owner through the proxy. With `kill = Some((n, forward))`,
    /// the server is killed at the command's statement `n` (see [`Proxy::trip_at`]) and
    /// started again; the answer says whether that point was reached.
    async fn run(&self, args: &[&str], kill: Option<(u64, bool)>) -> (Output, bool) {
        let url = self.owner_url.clone();
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let command = tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            common::ifind(&url, &args, None)
        });
        self.killing(kill, command).await
    }

    /// Arms the proxy at statement `n` from now (if asked), waits for `work`, and kills and
    /// restarts the server when the point is reached.
    async fn killing<T>(
        &self,
        kill: Option<(u64, bool)>,
        work: tokio::task::JoinHandle<T>,
    ) -> (T, bool) {
        let Some((n, forward)) = kill else {
            return (work.await.expect("the work ran"), false);
        };
        self.proxy.trip_at(self.proxy.statements() + n, forward);
        let hit = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let killer = {
            let (cluster, proxy) = (Arc::clone(&self.cluster), Arc::clone(&self.proxy));
            let hit = Arc::clone(&hit);
            tokio::spawn(async move {
                proxy.tripped().await;
                hit.store(true, std::sync::atomic::Ordering::SeqCst);
                kill_and_restart(&cluster, &proxy).await;
            })
        };
        let out = work.await.expect("the work ran");
        self.proxy.trip_at(0, false);
        // Tripped (the proxy stalls): the kill and restart are under way; let them finish.
        let killed =
            hit.load(std::sync::atomic::Ordering::SeqCst) || self.proxy.mode() == Mode::Stall;
        if killed {
            killer.await.expect("the server killed and started again");
        } else {
            killer.abort();
        }
        (out, killed)
    }

    /// A fresh connection as the owner, directly (the pool's may have died with the server).
    async fn connect(&self) -> sqlx::PgConnection {
        use sqlx::Connection;
        sqlx::PgConnection::connect(&self.cluster.owner_url)
            .await
            .expect("connect as the owner")
    }

    async fn scalar(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql)
            .fetch_one(&mut self.connect().await)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    async fn execute(&self, sql: &str) {
        sqlx::raw_sql(sql)
            .execute(&mut self.connect().await)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

/// Kills the server at once (no shutdown checkpoint: what is committed is in the WAL), drops
/// every proxied connection, and starts the server again (crash recovery).
async fn kill_and_restart(cluster: &PrivateCluster, proxy: &Proxy) {
    cluster.stop("immediate").await;
    proxy.set(Mode::Cut);
    tokio::time::sleep(Duration::from_millis(50)).await;
    proxy.set(Mode::Pass);
    cluster.start_again().await;
}

/// The points to kill at, for a write of `total` statements: every one both ways when few;
/// else the first, a seeded sample between, and the last four (the COMMIT and what leads to it
/// or follows it) both ways. "Both ways": sent to the server with its answer lost, and held.
fn points(total: u64, seed: u64) -> Vec<(u64, bool)> {
    if total <= 8 {
        return every_point(total);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut some = vec![1];
    while some.len() < 5.min(total as usize - 4) {
        let n = rng.gen_range(2..=total - 4);
        if !some.contains(&n) {
            some.push(n);
        }
    }
    some.sort_unstable();
    let mut chosen: Vec<(u64, bool)> = some
        .iter()
        .enumerate()
        .map(|(i, &n)| (n, i % 2 == 0))
        .collect();
    chosen.extend(every_point(total).split_off(2 * (total as usize - 4)));
    chosen
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// One line per run, for `--nocapture`: where it was killed and what ifind said last.
fn report(what: &str, kill: (u64, bool), killed: bool, out: &Output) {
    let said = if out.status.success() {
        String::from_utf8_lossy(&out.stdout).into_owned()
    } else {
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    println!(
        "{what}: statement {} {}{}: exit {:?}: {}",
        kill.0,
        if kill.1 { "sent" } else { "held" },
        if killed { ", killed" } else { ", not reached" },
        out.status.code(),
        said.trim().lines().last().unwrap_or("")
    );
}

/// How many statements `ifind ARGS` sends when nothing goes wrong (it must succeed).
async fn statements_of(bed: &Bed, args: &[&str]) -> u64 {
    let before = bed.proxy.statements();
    let (out, _) = bed.run(args, None).await;
    assert!(out.status.success(), "{}", text(&out));
    bed.proxy.statements() - before
}

const CSV_HEADER: &str = "title,type,lead,start,end,timezone,location,description,notes\n";

fn csv(rows: usize) -> String {
    let mut text = CSV_HEADER.to_string();
    for n in 0..rows {
        text.push_str(&format!(
            "Pier survey {n},Inspection,Ben Okafor,2026-02-10 07:00,2026-02-10 09:00,\
             Europe/London,Pier {n},checked,\n"
        ));
    }
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_killed_anywhere_is_all_or_nothing_and_says_which() {
    let bed = Bed::start().await;
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("rows.csv");
    std::fs::write(&file, csv(40)).expect("write");
    let path = file.to_str().expect("utf-8");
    common::ok(&common::ifind(
        &bed.cluster.owner_url,
        &["site", "add", "Measure"],
        None,
    ));
    let total = statements_of(&bed, &["import", path, "--site", "Measure"]).await;
    let mut killed_runs = 0;
    for (run, kill) in points(total, 1).into_iter().enumerate() {
        let site = format!("Imports{run}");
        common::ok(&common::ifind(
            &bed.cluster.owner_url,
            &["site", "add", &site],
            None,
        ));
        let (out, killed) = bed
            .run(&["import", path, "--site", &site], Some(kill))
            .await;
        killed_runs += usize::from(killed);
        let rows = bed
            .scalar(&format!(
                "SELECT count(*) FROM interactions i JOIN sites s USING (site_id) \
                 WHERE s.name = '{site}'"
            ))
            .await;
        let said = text(&out);
        report("import", kill, killed, &out);
        if out.status.success() {
            assert_eq!(rows, 40, "killed at {kill:?}: {said}");
            assert!(said.contains("imported 40 interactions"), "{said}");
        } else {
            assert_eq!(rows, 0, "killed at {kill:?}: {said}");
            assert!(
                said.contains("nothing was imported"),
                "killed at {kill:?}: {said}"
            );
        }
    }
    assert!(
        killed_runs >= 3,
        "the server was killed in {killed_runs} runs"
    );
}

/// Counts of what a seed makes: sites, users, interactions.
async fn seeded(bed: &Bed) -> (i64, i64, i64) {
    (
        bed.scalar("SELECT count(*) FROM sites").await,
        bed.scalar("SELECT count(*) FROM users").await,
        bed.scalar("SELECT count(*) FROM interactions").await,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seed_killed_anywhere_leaves_all_or_nothing_and_says_which() {
    let bed = Bed::start().await;
    let args = |seed: &str| {
        [
            "seed",
            "--sites",
            "2",
            "--interactions",
            "60",
            "--seed",
            seed,
        ]
        .map(String::from)
    };
    let before = seeded(&bed).await;
    let total = statements_of(&bed, &args("100").each_ref().map(String::as_str)).await;
    let after = seeded(&bed).await;
    let sites = after.0 - before.0;
    assert_eq!((sites, after.2 - before.2), (2, 60));
    let mut killed_runs = 0;
    for (run, kill) in points(total, 2).into_iter().enumerate() {
        let seed = (101 + run).to_string();
        let args = args(&seed);
        let before = seeded(&bed).await;
        let (out, killed) = bed
            .run(&args.each_ref().map(String::as_str), Some(kill))
            .await;
        killed_runs += usize::from(killed);
        report("seed", kill, killed, &out);
        let now = seeded(&bed).await;
        let said = text(&out);
        if out.status.success() {
            // "seeded 2 sites, N users and 60 interactions": what the database now holds more.
            let users: i64 = said
                .split("seeded 2 sites, ")
                .nth(1)
                .and_then(|rest| rest.split(' ').next())
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("the users seeded: {said}"));
            assert_eq!(
                now,
                (before.0 + sites, before.1 + users, before.2 + 60),
                "killed at {kill:?}: {said}"
            );
        } else {
            assert_eq!(now, before, "killed at {kill:?}: {said}");
            assert!(
                said.contains("nothing was seeded"),
                "killed at {kill:?}: {said}"
            );
        }
    }
    assert!(
        killed_runs >= 3,
        "the server was killed in {killed_runs} runs"
    );
}

/// A new site named `name` with `rows` interactions last changed four years ago, made directly
/// as the owner.
async fn old_rows(bed: &Bed, name: &str, rows: usize, lead: &str) {
    bed.execute(&format!(
        "INSERT INTO sites (name) VALUES ('{name}');
         INSERT INTO interactions (site_id, title, type, lead, start_datetime, timezone,
                                   end_datetime, created_by, created_at)
         SELECT (SELECT site_id FROM sites WHERE name = '{name}'), 'Old pier ' || n, 'Meeting',
                '{lead}', now() - interval '1500 days', 'UTC', now() - interval '1500 days',
                (SELECT min(user_id) FROM users), now() - interval '1500 days'
           FROM generate_series(1, {rows}) AS n;"
    ))
    .await;
}

async fn live_rows(bed: &Bed, site: &str) -> i64 {
    bed.scalar(&format!(
        "SELECT count(*) FROM interactions WHERE site_id = \
         (SELECT site_id FROM sites WHERE name = '{site}')"
    ))
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_archive_killed_anywhere_archives_whole_batches_and_counts_truly() {
    let bed = Bed::start().await;
    old_rows(&bed, "Measure", 12, "Ben").await;
    let total = statements_of(&bed, &["archive", "--batch", "5"]).await;
    let mut killed_runs = 0;
    for (run, kill) in points(total, 3).into_iter().enumerate() {
        let site = format!("Old{run}");
        old_rows(&bed, &site, 12, "Ben").await;
        let (out, killed) = bed.run(&["archive", "--batch", "5"], Some(kill)).await;
        killed_runs += usize::from(killed);
        report("archive", kill, killed, &out);
        let live = live_rows(&bed, &site).await;
        let archived = bed
            .scalar(&format!(
                "SELECT count(*) FROM interactions_archive WHERE site_id = \
                 (SELECT site_id FROM sites WHERE name = '{site}')"
            ))
            .await;
        let said = text(&out);
        assert_eq!(live + archived, 12, "no row lost or doubled: {said}");
        assert!(out.status.success(), "killed at {kill:?}: {said}");
        assert_eq!(archived, 12, "killed at {kill:?}: {said}");
        assert!(said.contains("archived 12 interactions"), "{said}");
    }
    assert!(
        killed_runs >= 3,
        "the server was killed in {killed_runs} runs"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_purge_killed_anywhere_purges_all_and_counts_truly() {
    let bed = Bed::start().await;
    let trash_old = |site: &str| {
        format!(
            "UPDATE interactions SET deleted_at = now() - interval '400 days', \
             deleted_by = created_by WHERE site_id = \
             (SELECT site_id FROM sites WHERE name = '{site}')"
        )
    };
    old_rows(&bed, "Measure", 12, "Ben").await;
    bed.execute(&trash_old("Measure")).await;
    let total = statements_of(&bed, &["purge"]).await;
    let mut killed_runs = 0;
    for (run, kill) in points(total, 4).into_iter().enumerate() {
        let site = format!("Trashed{run}");
        old_rows(&bed, &site, 12, "Ben").await;
        bed.execute(&trash_old(&site)).await;
        let (out, killed) = bed.run(&["purge"], Some(kill)).await;
        killed_runs += usize::from(killed);
        report("purge", kill, killed, &out);
        let left = live_rows(&bed, &site).await;
        let said = text(&out);
        assert!(out.status.success(), "killed at {kill:?}: {said}");
        assert_eq!(left, 0, "killed at {kill:?}: {said}");
        assert!(said.contains("purged 12 interactions"), "{said}");
    }
    assert!(
        killed_runs >= 3,
        "the server was killed in {killed_runs} runs"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erase_killed_anywhere_erases_all_or_nothing_and_says_which() {
    let bed = Bed::start().await;
    old_rows(&bed, "Measure", 3, "Zed Quill").await;
    let total = statements_of(&bed, &["erase", "--lead", "Zed Quill"]).await;
    let mut killed_runs = 0;
    for (run, kill) in points(total, 5).into_iter().enumerate() {
        let name = format!("Zed Quill{run}");
        old_rows(&bed, &format!("Erase{run}"), 3, &name).await;
        let (out, killed) = bed.run(&["erase", "--lead", &name], Some(kill)).await;
        killed_runs += usize::from(killed);
        report("erase", kill, killed, &out);
        let mentioned = bed
            .scalar(&format!(
                "SELECT count(*) FROM interactions WHERE lead = '{name}'"
            ))
            .await;
        let said = text(&out);
        if out.status.success() {
            assert_eq!(mentioned, 0, "killed at {kill:?}: {said}");
            assert!(said.contains("erased \"Zed Quill"), "{said}");
        } else {
            assert_eq!(mentioned, 3, "killed at {kill:?}: {said}");
            assert!(
                said.contains("nothing was erased"),
                "killed at {kill:?}: {said}"
            );
        }
    }
    assert!(
        killed_runs >= 3,
        "the server was killed in {killed_runs} runs"
    );
}

/// The app (headless, as the application role through the proxy) of an admin of site North.
async fn admin_app(bed: &Bed) -> (headless::App, i32) {
    use ifind::db::{sites, users};
    let owner = bed.cluster.owner_db(1).await;
    let mut tx = owner.begin_as(None).await.expect("begin");
    let hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";
    let admin = users::insert(&mut tx, "eddie", "eddie@example.org", hash, false)
        .await
        .expect("user")
        .user_id;
    let site = sites::insert(&mut tx, "North", None)
        .await
        .expect("site")
        .site_id;
    users::grant(&mut tx, admin, site, users::Role::Admin)
        .await
        .expect("grant");
    tx.commit().await.expect("commit");
    owner.pool.close().await;
    let db = kit::app_pool(&bed.proxy.url_for("ifind_app"), 4, Duration::from_secs(5)).await;
    let backend = Arc::new(ifind::app::db_backend::DbSearchBackend::new(
        db,
        Some(admin),
    ));
    let session = ifind::app::state::Session {
        user: "eddie".into(),
        site_id: site,
        site: "North".into(),
        role: ifind::domain::users::Role::Admin,
    };
    let mut app = headless::App::start(backend, session, Duration::from_secs(3));
    app.until("the first page", Duration::from_secs(20), |s| {
        s.finder.results.is_some()
    })
    .await;
    (app, site)
}

/// Arms the proxy at statement `n` from now and starts the killer; the answer says, once
/// awaited after the work, whether the point was reached (the kill and restart are then over).
fn arm(bed: &Bed, (n, forward): (u64, bool)) -> impl std::future::Future<Output = bool> + use<> {
    bed.proxy.trip_at(bed.proxy.statements() + n, forward);
    let (cluster, proxy) = (Arc::clone(&bed.cluster), Arc::clone(&bed.proxy));
    let hit = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let killer = {
        let (proxy, hit) = (Arc::clone(&proxy), Arc::clone(&hit));
        tokio::spawn(async move {
            proxy.tripped().await;
            hit.store(true, std::sync::atomic::Ordering::SeqCst);
            kill_and_restart(&cluster, &proxy).await;
        })
    };
    async move {
        proxy.trip_at(0, false);
        let killed = hit.load(std::sync::atomic::Ordering::SeqCst) || proxy.mode() == Mode::Stall;
        if killed {
            killer.await.expect("the server killed and started again");
        } else {
            killer.abort();
        }
        killed
    }
}

/// Where interaction `title` is: live, in the trash, or not stored (and how many).
async fn row_state(bed: &Bed, title: &str) -> (i64, i64) {
    let live = bed
        .scalar(&format!(
            "SELECT count(*) FROM interactions WHERE title = '{title}' AND deleted_at IS NULL"
        ))
        .await;
    let trashed = bed
        .scalar(&format!(
            "SELECT count(*) FROM interactions WHERE title = '{title}' AND deleted_at IS NOT NULL"
        ))
        .await;
    (live, trashed)
}

/// Opens a new form in `app` and types a whole interaction titled `title`.
fn type_interaction(app: &mut headless::App, title: &str) {
    use ifind::app::action::Action;
    app.act(Action::NewInteraction);
    app.paste(title);
    app.act(Action::NextField);
    app.paste("Meeting");
    app.act(Action::NextField);
    app.paste("Jun Park");
}

/// Saves, deletes and restores in the app (headless, the real runner and backend), killing the
/// server at each statement of each: the app always ends up telling the truth, and the record
/// is where it says.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_save_delete_or_restore_killed_anywhere_is_told_truly() {
    use ifind::app::action::Action;
    let bed = Bed::start().await;
    let (mut app, _) = admin_app(&bed).await;
    let limit = Duration::from_secs(90);
    // How many statements each takes when nothing goes wrong.
    let before = bed.proxy.statements();
    type_interaction(&mut app, "Measure");
    app.act(Action::Save);
    app.until("the save", limit, |s| s.form().is_none()).await;
    let save_total = bed.proxy.statements() - before;

    for (run, kill) in points(save_total, 6).into_iter().enumerate() {
        let title = format!("Saved {run}");
        type_interaction(&mut app, &title);
        let killing = arm(&bed, kill);
        app.act(Action::Save);
        app.until("the save's outcome", limit, |s| {
            s.form().is_none_or(|f| f.saving.is_none())
        })
        .await;
        let killed = killing.await;
        let state = row_state(&bed, &title).await;
        let told = match app.state.form() {
            None => app.state.notice.clone().unwrap_or_default(),
            Some(form) => form.failure.clone().unwrap_or_default(),
        };
        println!("save: {kill:?} killed {killed}: {told}");
        if app.state.form().is_none() {
            assert_eq!(state, (1, 0), "killed at {kill:?}: {told}");
            assert!(told.starts_with("saved"), "{told}");
        } else {
            assert_eq!(state, (0, 0), "killed at {kill:?}: {told}");
            assert!(told.starts_with("not saved"), "{told}");
            app.act(Action::Save);
            app.until("the retry", limit, |s| s.form().is_none()).await;
            assert_eq!(row_state(&bed, &title).await, (1, 0));
        }
        app.until("the list", limit, |s| s.finder.results.is_some())
            .await;
    }

    // Deletes: a record saved (without faults) and selected, then deleted with the kill armed;
    // the first run measures how many statements a delete takes.
    let mut measured: Option<Vec<(u64, bool)>> = None;
    for run in 0.. {
        let kill = match &measured {
            None => None,
            Some(points) if run <= points.len() => Some(points[run - 1]),
            Some(_) => break,
        };
        let title = format!("Doomed {run}");
        save_and_select(&mut app, &title).await;
        let before = bed.proxy.statements();
        let killing = kill.map(|kill| arm(&bed, kill));
        app.act(Action::Delete);
        app.act(Action::Yes);
        app.until("the delete's outcome", limit, |s| s.deleting.is_none())
            .await;
        if measured.is_none() {
            measured = Some(points(bed.proxy.statements() - before, 7));
        }
        let killed = match killing {
            Some(killing) => killing.await,
            None => false,
        };
        let told = app.state.notice.clone().unwrap_or_default();
        let state = row_state(&bed, &title).await;
        println!("delete: {kill:?} killed {killed}: {told}");
        if told.starts_with("moved \"") {
            assert_eq!(state, (0, 1), "killed at {kill:?}: {told}");
        } else {
            assert_eq!(state, (1, 0), "killed at {kill:?}: {told}");
            assert!(told.starts_with("not deleted: "), "{told}");
            assert!(!told.contains("may or may not"), "{told}");
        }
    }

    // Restores: a record put in the trash, restored from the Trash screen with the kill armed.
    let mut measured: Option<Vec<(u64, bool)>> = None;
    for run in 0.. {
        let kill = match &measured {
            None => None,
            Some(points) if run <= points.len() => Some(points[run - 1]),
            Some(_) => break,
        };
        let title = format!("Returning {run}");
        trash_and_select(&mut app, &bed, &title).await;
        let before = bed.proxy.statements();
        let killing = kill.map(|kill| arm(&bed, kill));
        app.act(Action::Restore);
        app.until("the restore's outcome", limit, |s| {
            s.trash().is_some_and(|t| t.restoring.is_none())
        })
        .await;
        if measured.is_none() {
            measured = Some(points(bed.proxy.statements() - before, 7));
        }
        let killed = match killing {
            Some(killing) => killing.await,
            None => false,
        };
        let told = app.state.notice.clone().unwrap_or_default();
        let state = row_state(&bed, &title).await;
        println!("restore: {kill:?} killed {killed}: {told}");
        if told.starts_with("restored \"") {
            assert_eq!(state, (1, 0), "killed at {kill:?}: {told}");
        } else {
            assert_eq!(state, (0, 1), "killed at {kill:?}: {told}");
            assert!(told.starts_with("not restored: "), "{told}");
        }
        app.act(Action::Back);
    }
}

/// Every statement of a write of `total`, both ways (sent with its answer lost, and held).
fn every_point(total: u64) -> Vec<(u64, bool)> {
    (1..=total).flat_map(|n| [(n, true), (n, false)]).collect()
}

/// Saves a new interaction titled `title` (no faults) and waits until the list selects it.
async fn save_and_select(app: &mut headless::App, title: &str) {
    use ifind::app::action::Action;
    let limit = Duration::from_secs(90);
    type_interaction(app, title);
    app.act(Action::Save);
    app.until("the save", limit, |s| s.form().is_none()).await;
    app.until("the saved record selected", limit, |s| {
        s.finder
            .selected_hit()
            .is_some_and(|h| h.interaction.title == title)
    })
    .await;
}

/// Saves `title`, deletes it (no faults), opens the Trash and selects it there.
async fn trash_and_select(app: &mut headless::App, bed: &Bed, title: &str) {
    use ifind::app::action::Action;
    let limit = Duration::from_secs(90);
    save_and_select(app, title).await;
    app.act(Action::Delete);
    app.act(Action::Yes);
    app.until("the delete", limit, |s| s.deleting.is_none())
        .await;
    assert_eq!(row_state(bed, title).await, (0, 1));
    app.act(Action::Trash);
    app.until("the trash", limit, |s| {
        s.trash().is_some_and(|t| {
            t.loading.is_none() && t.items.iter().any(|i| i.interaction.title == title)
        })
    })
    .await;
    let at = app
        .state
        .trash()
        .and_then(|t| t.items.iter().position(|i| i.interaction.title == title));
    if let (Some(at), Some(trash)) = (at, app.state.trash_mut()) {
        trash.selected = at;
    }
}

/// Rows past their keep for every rule but the archive's, in a new site `name`.
async fn past_their_keep(bed: &Bed, name: &str) {
    bed.execute(&format!(
        "INSERT INTO sites (name) VALUES ('{name}');
         INSERT INTO interactions (site_id, title, type, lead, start_datetime, timezone,
                                   end_datetime, created_by, deleted_at, deleted_by)
         SELECT (SELECT site_id FROM sites WHERE name = '{name}'), 'Trashed ' || n, 'Meeting',
                'Ben', now(), 'UTC', now(), (SELECT min(user_id) FROM users),
                now() - interval '60 days', (SELECT min(user_id) FROM users)
           FROM generate_series(1, 3) AS n;
         INSERT INTO audit_log (site_id, table_name, row_id, operation, user_id, at, actor)
         SELECT NULL, 'interactions', n, 'update', (SELECT min(user_id) FROM users),
                now() - interval '800 days', 'ada'
           FROM generate_series(1, 3) AS n;
         INSERT INTO access_log (event, username_as_typed, success, reason, at)
         SELECT 'login', 'ada', true, 'ok', now() - interval '900 days'
           FROM generate_series(1, 3) AS n;"
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_killed_anywhere_finishes_and_counts_truly() {
    let bed = Bed::start().await;
    past_their_keep(&bed, "Measure").await;
    let total = statements_of(&bed, &["retention", "--batch", "2"]).await;
    let mut killed_runs = 0;
    for (run, kill) in points(total, 8).into_iter().step_by(2).enumerate() {
        past_their_keep(&bed, &format!("Kept{run}")).await;
        let (out, killed) = bed.run(&["retention", "--batch", "2"], Some(kill)).await;
        killed_runs += usize::from(killed);
        report("retention", kill, killed, &out);
        let said = text(&out);
        assert!(out.status.success(), "killed at {kill:?}: {said}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let line = |rule: &str| {
            stdout
                .lines()
                .find(|l| l.starts_with(rule))
                .unwrap_or_default()
                .split_whitespace()
                .find_map(|w| w.parse::<u64>().ok())
        };
        assert_eq!(line("trash"), Some(3), "{said}");
        assert_eq!(line("access log"), Some(3), "{said}");
        assert_eq!(line("audit data"), Some(3), "{said}");
        let left = bed
            .scalar(
                "SELECT (SELECT count(*) FROM interactions WHERE deleted_at < now() - interval '30 days') \
                      + (SELECT count(*) FROM access_log WHERE at < now() - interval '730 days') \
                      + (SELECT count(*) FROM audit_log WHERE at < now() - interval '730 days')",
            )
            .await;
        assert_eq!(left, 0, "killed at {kill:?}: {said}");
    }
    assert!(
        killed_runs >= 3,
        "the server was killed in {killed_runs} runs"
    );
}
