//! Soak: several simulated users search, create, edit, delete and restore through the same
//! backend the terminal UI uses (its time limit, its exactly-once saves and their resolution),
//! against a private cluster that is stopped (`-m fast` or `-m immediate`) and started again at
//! random intervals. Every error must recover, resident memory must stay flat, and at the end the
//! database must equal the log of intended writes exactly: nothing lost, nothing doubled.
//!
//! The short form (45 s) runs with the suite; `IFIND_SOAK_SECS=7200` runs the long one
//! (memory printed every minute, with its slope over the second half):
//! `IFIND_SOAK_SECS=7200 cargo test --release --test soak -- --nocapture`.

mod common;
#[path = "common/faults.rs"]
mod kit;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ifind::app::db_backend::DbSearchBackend;
use ifind::app::runner::{Finder, Records};
use ifind::app::search_types::{SearchRequest, Sort};
use ifind::db::faults::new_client_id;
use ifind::db::{Db, sites, users};
use ifind::domain::interaction::{InteractionInput, ValidInteraction, validate};
use ifind::service::records::{FormTarget, SaveError};
use kit::PrivateCluster;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const USERS: usize = 4;
/// Every operation's client-side limit, as `database.query_timeout_ms` gives the TUI.
const LIMIT: Duration = Duration::from_secs(3);
/// One operation failing for this long means the run is stuck, not the server restarting.
const STUCK: Duration = Duration::from_secs(120);

/// One record a simulated user meant to write, as they last saw it confirmed. Kept small and
/// without heap parts (the title is made from the numbers), so that this log of intended writes,
/// which must grow with the run, is a known number of bytes per record that the memory figures
/// can leave out.
#[derive(Clone, Copy, Debug)]
struct Intended {
    /// The form's client id, as the number its UUID text spells.
    client_id: u128,
    id: i32,
    version: i32,
    /// The user's how-manieth create it was (the title's `n`).
    serial: u32,
    /// The version the last edit started from (the title's `e`), if it was edited.
    edited: Option<i32>,
    deleted: bool,
}

impl Intended {
    /// The title user `name` gave it.
    fn title(&self, name: usize) -> String {
        let base = format!("soak u{name} n{}", self.serial);
        match self.edited {
            Some(version) => format!("{base} e{version}"),
            None => base,
        }
    }

    /// The client id as its UUID text.
    fn client_id_text(&self) -> String {
        let hex = format!("{:032x}", self.client_id);
        format!(
            "{}-{}-{}-{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..32]
        )
    }
}

fn client_id_number(text: &str) -> u128 {
    u128::from_str_radix(&text.replace('-', ""), 16).expect("a UUID")
}

#[derive(Default)]
struct Counters {
    ops: AtomicU64,
    errors: AtomicU64,
    uncertain: AtomicU64,
    restarts: AtomicU64,
    /// Records in the users' logs of intended writes, all together.
    records: AtomicU64,
}

fn input(title: &str) -> ValidInteraction {
    validate(&InteractionInput {
        title: title.into(),
        kind: "Meeting".into(),
        lead: "Jun Park".into(),
        start: "2026-12-01 09:30".into(),
        end: "2026-12-01 10:15".into(),
        timezone: "Europe/Berlin".into(),
        location: "Room 4".into(),
        description: "soak".into(),
        notes: String::new(),
    })
    .expect("valid")
}

/// One simulated person with their own app connection.
struct User {
    backend: DbSearchBackend,
    site: i32,
    rng: ChaCha8Rng,
    records: Vec<Intended>,
    counters: Arc<Counters>,
    serial: u32,
    name: usize,
}

impl User {
    async fn pause_after_error(&mut self) {
        self.counters.errors.fetch_add(1, Ordering::Relaxed);
        let ms = self.rng.gen_range(100..400);
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }

    /// Saves until the outcome is definite and stored, as a person pressing Ctrl-S again after
    /// each "not saved" would; an unknown outcome is resolved before any retry.
    async fn save(
        &mut self,
        target: FormTarget,
        v: &ValidInteraction,
        client_id: Option<&str>,
    ) -> ifind::domain::interaction::Interaction {
        let given_up = Instant::now() + STUCK;
        loop {
            self.stuck(given_up, "saving");
            let cid = client_id.map(str::to_string);
            let attempt = self
                .backend
                .save_once(self.site, target, v.clone(), cid.clone());
            let result = tokio::time::timeout(LIMIT, attempt)
                .await
                .unwrap_or_else(|_| Err(SaveError::Unknown("no answer in time".into())));
            match result {
                Ok(stored) => return stored,
                Err(SaveError::Unknown(_)) => {
                    self.counters.uncertain.fetch_add(1, Ordering::Relaxed);
                    loop {
                        self.stuck(given_up, "finding out whether a save was stored");
                        let ask =
                            self.backend
                                .resolve_save(self.site, target, v.clone(), cid.clone());
                        match tokio::time::timeout(LIMIT, ask).await {
                            Ok(Ok(Some(stored))) => return stored,
                            Ok(Ok(None)) => break,
                            _ => self.pause_after_error().await,
                        }
                    }
                }
                Err(SaveError::Failed(_)) => self.pause_after_error().await,
                Err(other) => panic!("user {}: unexpected answer to a save: {other:?}", self.name),
            }
        }
    }

    async fn create(&mut self) {
        self.serial += 1;
        let client_id = new_client_id();
        let mut record = Intended {
            client_id: client_id_number(&client_id),
            id: 0,
            version: 0,
            serial: self.serial,
            edited: None,
            deleted: false,
        };
        let title = record.title(self.name);
        let stored = self
            .save(FormTarget::New, &input(&title), Some(&client_id))
            .await;
        record.id = stored.interaction_id;
        record.version = stored.version;
        self.records.push(record);
        self.counters.records.fetch_add(1, Ordering::Relaxed);
    }

    async fn edit(&mut self) {
        let live: Vec<usize> = (0..self.records.len())
            .filter(|i| !self.records[*i].deleted)
            .collect();
        let Some(&at) = live.get(self.rng.gen_range(0..live.len().max(1))) else {
            return self.create().await;
        };
        let r = self.records[at];
        let edited = Intended {
            edited: Some(r.version),
            ..r
        };
        let target = FormTarget::Edit {
            interaction_id: r.id,
            version: r.version,
        };
        let stored = self
            .save(target, &input(&edited.title(self.name)), None)
            .await;
        self.records[at] = Intended {
            version: stored.version,
            ..edited
        };
    }

    /// Deletes (`delete`) or restores one of the user's records until the change is definite.
    async fn trash(&mut self, delete: bool) {
        let candidates: Vec<usize> = (0..self.records.len())
            .filter(|i| self.records[*i].deleted != delete)
            .collect();
        let Some(&at) = candidates.get(self.rng.gen_range(0..candidates.len().max(1))) else {
            return;
        };
        let r = self.records[at];
        let mut tried = false;
        let given_up = Instant::now() + STUCK;
        loop {
            self.stuck(given_up, if delete { "deleting" } else { "restoring" });
            let work = async {
                if delete {
                    self.backend.delete(self.site, r.id, r.version).await
                } else {
                    self.backend.restore(self.site, r.id, 30).await
                }
            };
            let result = tokio::time::timeout(LIMIT, work)
                .await
                .unwrap_or_else(|_| Err(SaveError::Failed("no answer in time".into())));
            match result {
                Ok(stored) => {
                    self.records[at].version = stored.version;
                    break;
                }
                // An earlier attempt did it (its answer was lost): read what is stored.
                Err(SaveError::Gone) if tried => {
                    self.records[at].version = self.read_version(r.id).await;
                    break;
                }
                // Not made, or not known whether (the answer lost): try again; a retry of a
                // change that was made finds it gone from where it was.
                Err(SaveError::Failed(_) | SaveError::Unknown(_)) => {
                    tried = true;
                    self.pause_after_error().await;
                }
                Err(other) => panic!("user {}: unexpected answer: {other:?}", self.name),
            }
        }
        self.records[at].deleted = delete;
    }

    /// The stored version of `id`, as reopening it would show: read as the user working on
    /// their site (the policies hide every row from a transaction without both).
    async fn read_version(&mut self, id: i32) -> i32 {
        let given_up = Instant::now() + STUCK;
        loop {
            let (db, user, site) = (self.backend.db.clone(), self.backend.user_id, self.site);
            let read = async move {
                let mut tx = db.begin_as(user).await?;
                ifind::db::pool::enter_site(&mut tx, site).await?;
                let version = sqlx::query_scalar::<_, i32>(
                    "SELECT version FROM interactions WHERE interaction_id = $1",
                )
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok::<i32, sqlx::Error>(version)
            };
            match tokio::time::timeout(LIMIT, read).await {
                Ok(Ok(version)) => return version,
                Ok(Err(e)) => self.stuck(given_up, &format!("reading {id}: {e}")),
                Err(_) => self.stuck(given_up, &format!("reading {id}: no answer")),
            }
            self.pause_after_error().await;
        }
    }

    /// Fails the run (instead of hanging it) when one operation keeps failing for longer than
    /// any restart of the server takes.
    fn stuck(&self, given_up: Instant, what: &str) {
        assert!(
            Instant::now() < given_up,
            "user {}: {what}, still failing after {} s",
            self.name,
            STUCK.as_secs()
        );
    }

    async fn search(&mut self) {
        let request = SearchRequest {
            site_id: self.site,
            query: ["soak", "inspection", "meeting", ""][self.rng.gen_range(0..4)].into(),
            sort: Sort::default(),
            limit: 50,
            after: None,
            count_cap: 1000,
            count_if_free: false,
            archive: false,
            from_end: false,
            starts_from: None,
        };
        let id = self.rng.r#gen::<u32>().into();
        match tokio::time::timeout(LIMIT, self.backend.search(id, request)).await {
            Ok(Ok(_)) => {}
            Ok(Err(_)) | Err(_) => self.pause_after_error().await,
        }
    }

    async fn run(mut self, until: Instant) -> (usize, Vec<Intended>) {
        while Instant::now() < until {
            match self.rng.gen_range(0..10) {
                0..=3 => self.search().await,
                4..=5 => self.create().await,
                6..=7 => self.edit().await,
                8 => self.trash(true).await,
                _ => self.trash(false).await,
            }
            self.counters.ops.fetch_add(1, Ordering::Relaxed);
            let ms = self.rng.gen_range(10..60);
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        (self.name, self.records)
    }
}

/// The bytes of the users' logs of intended writes, in KiB.
fn log_kib(counters: &Counters) -> u64 {
    counters.records.load(Ordering::Relaxed) * std::mem::size_of::<Intended>() as u64 / 1024
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

/// Least-squares slope of samples taken a minute apart, in KiB per hour.
fn slope_per_hour(samples: &[u64]) -> f64 {
    let n = samples.len() as f64;
    if samples.len() < 2 {
        return 0.0;
    }
    let mean_x = (n - 1.0) / 2.0;
    let mean_y = samples.iter().map(|&y| y as f64).sum::<f64>() / n;
    let (mut num, mut den) = (0.0, 0.0);
    for (x, &y) in samples.iter().enumerate() {
        let dx = x as f64 - mean_x;
        num += dx * (y as f64 - mean_y);
        den += dx * dx;
    }
    num / den * 60.0
}

async fn setup(cluster: &PrivateCluster) -> (i32, Vec<i32>) {
    let owner = cluster.owner_db(2).await;
    let mut tx = owner.begin_as(None).await.expect("begin");
    let hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";
    let site = sites::insert(&mut tx, "Soak", None)
        .await
        .expect("site")
        .site_id;
    let mut ids = Vec::new();
    for n in 0..USERS {
        let name = format!("soaker{n}");
        let u = users::insert(&mut tx, &name, &format!("{name}@example.org"), hash, false)
            .await
            .expect("user");
        users::grant(&mut tx, u.user_id, site, users::Role::Admin)
            .await
            .expect("grant");
        ids.push(u.user_id);
    }
    tx.commit().await.expect("commit");
    owner.pool.close().await;
    (site, ids)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mixed_use_through_random_restarts_loses_and_doubles_nothing() {
    let secs: u64 = std::env::var("IFIND_SOAK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(45);
    let long = secs > 120;
    let cluster = Arc::new(PrivateCluster::start().await);
    let (site, ids) = setup(&cluster).await;
    let counters = Arc::new(Counters::default());
    let started = Instant::now();
    let until = started + Duration::from_secs(secs);

    let mut users = Vec::new();
    for (n, user_id) in ids.iter().enumerate() {
        let db = kit::app_pool(&cluster.app_url, 3, LIMIT).await;
        let user = User {
            backend: DbSearchBackend::new(db, Some(*user_id)),
            site,
            rng: ChaCha8Rng::seed_from_u64(n as u64 + 1),
            records: Vec::new(),
            counters: Arc::clone(&counters),
            serial: 0,
            name: n,
        };
        users.push(tokio::spawn(user.run(until)));
    }

    // The server goes down at random intervals, fast or immediate, for a moment.
    let stopping = Arc::new(AtomicBool::new(false));
    let restarter = {
        let (cluster, counters, stopping) = (
            Arc::clone(&cluster),
            Arc::clone(&counters),
            Arc::clone(&stopping),
        );
        tokio::spawn(async move {
            let mut rng = ChaCha8Rng::seed_from_u64(99);
            let (low, high) = if long {
                (10_000, 60_000)
            } else {
                (3_000, 8_000)
            };
            loop {
                let wait = Duration::from_millis(rng.gen_range(low..high));
                if Instant::now() + wait + Duration::from_secs(3) >= until
                    || stopping.load(Ordering::SeqCst)
                {
                    return;
                }
                tokio::time::sleep(wait).await;
                let mode = if rng.gen_bool(0.5) {
                    "fast"
                } else {
                    "immediate"
                };
                cluster.stop(mode).await;
                tokio::time::sleep(Duration::from_millis(rng.gen_range(200..2_000))).await;
                cluster.start_again().await;
                counters.restarts.fetch_add(1, Ordering::Relaxed);
            }
        })
    };

    // Memory after warming up, and at the end.
    let mut rss_start = 0;
    let mut samples = Vec::new();
    while Instant::now() < until {
        tokio::time::sleep(Duration::from_secs(1)).await;
        if rss_start == 0
            && started.elapsed() >= Duration::from_secs(secs / 6).max(Duration::from_secs(5))
        {
            rss_start = rss_kib().saturating_sub(log_kib(&counters));
        }
        // The process less the users' logs of intended writes (which the check needs).
        samples.push(rss_kib().saturating_sub(log_kib(&counters)));
        if long && samples.len() % 60 == 0 {
            println!(
                "soak minute {}: RSS {} KiB, {} operations, {} records logged ({} KiB), RSS \
                 without that log {} KiB",
                samples.len() / 60,
                rss_kib(),
                counters.ops.load(Ordering::Relaxed),
                counters.records.load(Ordering::Relaxed),
                log_kib(&counters),
                samples[samples.len() - 1]
            );
        }
    }
    let mut intended = Vec::new();
    for user in users {
        let (name, records) = user.await.expect("a user finished");
        intended.extend(records.into_iter().map(|r| (name, r)));
    }
    stopping.store(true, Ordering::SeqCst);
    restarter.await.expect("restarter");
    cluster.start_again().await;
    let rss_end = rss_kib().saturating_sub(log_kib(&counters));

    // The database against the log of intended writes.
    let owner: Db = cluster.owner_db(1).await;
    let rows: Vec<(String, i32, String, bool)> = sqlx::query_as(
        "SELECT client_id::text, interaction_id, title, deleted_at IS NOT NULL \
           FROM interactions WHERE site_id = $1",
    )
    .bind(site)
    .fetch_all(&owner.pool)
    .await
    .expect("read back");
    let stored: HashMap<String, (i32, String, bool)> = rows
        .iter()
        .map(|(c, id, t, d)| (c.clone(), (*id, t.clone(), *d)))
        .collect();
    let mut differences = Vec::new();
    if rows.len() != intended.len() {
        differences.push(format!(
            "{} rows stored, {} intended",
            rows.len(),
            intended.len()
        ));
    }
    for (name, r) in &intended {
        match stored.get(&r.client_id_text()) {
            Some((id, title, deleted))
                if *id == r.id && *title == r.title(*name) && *deleted == r.deleted => {}
            other => differences.push(format!("intended {r:?}, stored {other:?}")),
        }
    }
    let ops = counters.ops.load(Ordering::Relaxed);
    let restarts = counters.restarts.load(Ordering::Relaxed);
    println!(
        "soak: {secs} s, {USERS} users, {ops} operations, {restarts} restarts survived, {} \
         errors recovered, {} saves resolved after an unknown outcome, {} records, RSS (without \
         the log of intended records) {} KiB after warm-up and {} KiB at the end (max {} KiB), \
         {} differences",
        counters.errors.load(Ordering::Relaxed),
        counters.uncertain.load(Ordering::Relaxed),
        intended.len(),
        rss_start,
        rss_end,
        samples.iter().max().copied().unwrap_or(0),
        differences.len()
    );
    let per_minute: Vec<u64> = samples.iter().step_by(60).copied().collect();
    let second_half = &per_minute[per_minute.len() / 2..];
    println!(
        "soak: RSS (without the log of intended records) slope over the second half ({} minute \
         samples): {:.0} KiB per hour",
        second_half.len(),
        slope_per_hour(second_half)
    );
    assert!(differences.is_empty(), "{differences:#?}");
    assert!(restarts >= 2, "the server was restarted ({restarts})");
    assert!(ops > 100, "the users got work done ({ops})");
    // Flat memory: no growth beyond a margin for allocator noise.
    assert!(
        rss_end <= rss_start + rss_start / 4 + 16 * 1024,
        "RSS grew from {rss_start} KiB to {rss_end} KiB"
    );
}
