//! Read replicas (`database.read_urls`): where a Finder search goes.
//!
//! A [`ReadRouter`] holds the primary and the replicas. [`ReadRouter::pick`] sends a read to a
//! replica only when its last status check (at most `recheck` old, refreshed in the background
//! so a search never waits for it) found it reachable, in recovery and no further behind than
//! `max_lag`, and it has replayed every write this process made (read-your-writes: after a save
//! the primary's WAL position is noted with [`ReadRouter::note_write`], and reads stay on the
//! primary until the replica's `pg_last_wal_replay_lsn()` reaches it). A replica whose search
//! failed for its connection or a recovery conflict is marked with [`ReadRouter::mark_failed`]
//! and left alone for `retry_after`; the caller repeats that search on the primary.
//!
//! Lag is judged by WAL positions first: a replica that has replayed the primary's current
//! position is 0 behind whatever `pg_last_xact_replay_timestamp()` says (an idle primary makes
//! it look old). Behind that, the lag is the time since a status check first saw the primary at
//! a position the replica has not replayed yet; without such a check, it is bounded by the time
//! since the last replayed transaction and the time since the previous check.

use std::collections::VecDeque;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::Db;

/// How the router judges and checks replicas.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouterOptions {
    /// A replica further behind than this is skipped.
    pub max_lag: Duration,
    /// A replica's status is checked again when it is older than this.
    pub recheck: Duration,
    /// A status check that takes longer than this counts as the replica being down.
    pub probe_timeout: Duration,
    /// A replica found down or failing is left alone for this long.
    pub retry_after: Duration,
}

impl RouterOptions {
    /// The options of `cfg`: `max_replica_lag_ms`, a check every second, at most 2 s (or the
    /// connect timeout) per check, and 5 s before a failed replica is tried again.
    pub fn from_options(cfg: &super::DbOptions) -> RouterOptions {
        RouterOptions {
            max_lag: Duration::from_millis(cfg.max_replica_lag_ms),
            recheck: Duration::from_secs(1),
            probe_timeout: Duration::from_secs(cfg.connect_timeout_secs.clamp(1, 2)),
            retry_after: Duration::from_secs(5),
        }
    }
}

/// Where a read goes: `db`, which is replica number `replica` (its index in `read_urls`) or the
/// primary (None).
#[derive(Clone, Debug)]
pub struct Pick {
    pub db: Db,
    pub replica: Option<usize>,
}

/// What one status check of a replica found.
#[derive(Clone, Debug, PartialEq)]
pub enum Probe {
    /// Reachable and replaying.
    Replaying {
        /// `pg_last_wal_replay_lsn()`.
        replayed: u64,
        /// `pg_current_wal_lsn()` on the primary (None when the primary did not answer).
        primary: Option<u64>,
        /// Estimated time behind the primary (None: not known yet).
        lag: Option<Duration>,
        /// `pg_is_wal_replay_paused()`.
        paused: bool,
    },
    /// Reachable but not in recovery: not a replica (any more), so never read from.
    NotReplica,
    /// Unreachable, too slow to answer, or failing searches.
    Down(String),
}

/// One replica's state, for the health screen.
#[derive(Clone, Debug, PartialEq)]
pub struct ReplicaReport {
    /// `host:port` of its URL.
    pub name: String,
    pub probe: Probe,
}

#[derive(Debug)]
struct Replica {
    name: String,
    db: Db,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    probe: Option<Probe>,
    probed_at: Option<Instant>,
    probing: bool,
    /// Not to be read from before this (after a failure).
    bad_until: Option<Instant>,
    /// Primary positions seen by earlier checks that the replica had not replayed then.
    samples: VecDeque<(Instant, u64)>,
}

#[derive(Debug)]
struct Inner {
    primary: Db,
    replicas: Vec<Replica>,
    options: RouterOptions,
    /// The primary's WAL position after this process's latest write.
    written: AtomicU64,
    /// Round-robin among usable replicas.
    next: AtomicUsize,
    /// Reads stay on the primary until this instant (set when a write's position is unknown).
    primary_until: Mutex<Option<Instant>>,
}

/// Sends reads to replicas and keeps them honest; see the module documentation. Cheap to clone.
#[derive(Clone, Debug)]
pub struct ReadRouter {
    inner: Arc<Inner>,
}

/// `X/Y` (a `pg_lsn` as text) as a number.
pub fn parse_lsn(text: &str) -> Option<u64> {
    let (high, low) = text.split_once('/')?;
    let high = u64::from_str_radix(high, 16).ok()?;
    let low = u64::from_str_radix(low, 16).ok()?;
    (high <= u64::from(u32::MAX) && low <= u64::from(u32::MAX)).then_some((high << 32) | low)
}

/// The time behind the primary of a replica that has replayed up to `replayed` while the
/// primary is at `primary`, given earlier `samples` (primary positions not replayed then) and
/// `ts_lag` (`now() - pg_last_xact_replay_timestamp()` on the replica). None: not known.
fn estimate_lag(
    samples: &VecDeque<(Instant, u64)>,
    previous_check: Option<Instant>,
    now: Instant,
    replayed: u64,
    primary: Option<u64>,
    ts_lag: Option<Duration>,
) -> Option<Duration> {
    if primary.is_some_and(|p| replayed >= p) {
        return Some(Duration::ZERO);
    }
    if let Some((at, _)) = samples.iter().find(|(_, lsn)| *lsn > replayed) {
        return Some(now.saturating_duration_since(*at));
    }
    // Everything an earlier check saw is replayed: what is missing came after that check.
    let since_check = previous_check.map(|at| now.saturating_duration_since(at));
    match (ts_lag, since_check) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

impl ReadRouter {
    /// A router over `primary` and replicas given as (name, pool).
    pub fn new(primary: Db, replicas: Vec<(String, Db)>, options: RouterOptions) -> ReadRouter {
        ReadRouter {
            inner: Arc::new(Inner {
                primary,
                replicas: replicas
                    .into_iter()
                    .map(|(name, db)| Replica {
                        name,
                        db,
                        state: Mutex::default(),
                    })
                    .collect(),
                options,
                written: AtomicU64::new(0),
                next: AtomicUsize::new(0),
                primary_until: Mutex::new(None),
            }),
        }
    }

    /// A router over `primary` and a lazily connected pool per URL of `urls` (so a replica that
    /// is down does not stop ifind from starting), with `cfg`'s limits and lag bound.
    pub fn connect(
        primary: Db,
        urls: &[String],
        cfg: &super::DbOptions,
    ) -> anyhow::Result<ReadRouter> {
        let mut replicas = Vec::new();
        for url in urls {
            let opts = sqlx::postgres::PgConnectOptions::from_str(url).map_err(|e| {
                anyhow::anyhow!(
                    "the read replica URL {} is not valid ({e}); fix database.read_urls or \
                     IFIND_READ_URLS",
                    super::pool::redact(url)
                )
            })?;
            let name = format!("{}:{}", opts.get_host(), opts.get_port());
            replicas.push((name, super::pool::connect_lazy(url, cfg)?));
        }
        Ok(ReadRouter::new(
            primary,
            replicas,
            RouterOptions::from_options(cfg),
        ))
    }

    /// The primary.
    pub fn primary(&self) -> &Db {
        &self.inner.primary
    }

    /// The options in force.
    pub fn options(&self) -> &RouterOptions {
        &self.inner.options
    }

    /// Where the next read goes. Waits for a status check only the first time a replica is
    /// considered; later checks run in the background when the last one is older than
    /// `recheck` (or a tenth of it while waiting for a replica to replay this process's write).
    pub async fn pick(&self) -> Pick {
        let inner = &self.inner;
        let primary_only = inner
            .primary_until
            .lock()
            .ok()
            .and_then(|until| *until)
            .is_some_and(|until| Instant::now() < until);
        let written = inner.written.load(Ordering::Acquire);
        let mut usable = Vec::new();
        for (i, replica) in inner.replicas.iter().enumerate() {
            let (first, stale) = self.needs_check(replica, written);
            if first {
                self.check(i).await;
            } else if stale {
                let router = self.clone();
                tokio::spawn(async move { router.check(i).await });
            }
            if !primary_only && self.usable(replica, written) {
                usable.push(i);
            }
        }
        if usable.is_empty() {
            return Pick {
                db: inner.primary.clone(),
                replica: None,
            };
        }
        let i = usable[inner.next.fetch_add(1, Ordering::Relaxed) % usable.len()];
        Pick {
            db: inner.replicas[i].db.clone(),
            replica: Some(i),
        }
    }

    /// (never checked and no check running, due for a check and none running); claims the
    /// check when either is true.
    fn needs_check(&self, replica: &Replica, written: u64) -> (bool, bool) {
        let Ok(mut state) = replica.state.lock() else {
            return (false, false);
        };
        if state.probing {
            return (false, false);
        }
        let now = Instant::now();
        if state.bad_until.is_some_and(|until| now < until) {
            return (false, false);
        }
        let recheck = self.inner.options.recheck;
        let waiting_for_write = matches!(
            state.probe,
            Some(Probe::Replaying { replayed, .. }) if replayed < written
        );
        let due = match state.probed_at {
            None => true,
            Some(at) => {
                let age = now.saturating_duration_since(at);
                age >= recheck || (waiting_for_write && age >= recheck / 10)
            }
        };
        if due {
            state.probing = true;
        }
        (
            due && state.probed_at.is_none(),
            due && state.probed_at.is_some(),
        )
    }

    fn usable(&self, replica: &Replica, written: u64) -> bool {
        let Ok(state) = replica.state.lock() else {
            return false;
        };
        let now = Instant::now();
        if state.bad_until.is_some_and(|until| now < until) {
            return false;
        }
        let (
            Some(Probe::Replaying {
                replayed,
                primary,
                lag: Some(lag),
                ..
            }),
            Some(at),
        ) = (&state.probe, state.probed_at)
        else {
            return false;
        };
        if *replayed < written {
            return false;
        }
        let behind = primary.is_none_or(|p| *replayed < p);
        let lag = if behind {
            *lag + now.saturating_duration_since(at)
        } else {
            *lag
        };
        lag <= self.inner.options.max_lag
    }

    /// Checks replica `i` now and records what was found.
    async fn check(&self, i: usize) -> Probe {
        let inner = &self.inner;
        let Some(replica) = inner.replicas.get(i) else {
            return Probe::Down("no such replica".into());
        };
        let timeout = inner.options.probe_timeout;
        let (on_replica, on_primary) = tokio::join!(
            tokio::time::timeout(timeout, replica_position(&replica.db)),
            tokio::time::timeout(timeout, primary_position(&inner.primary)),
        );
        let primary = on_primary.ok().and_then(Result::ok);
        let now = Instant::now();
        let Ok(mut state) = replica.state.lock() else {
            return Probe::Down("the replica's state is unusable".into());
        };
        let probe = match on_replica {
            Err(_) => Probe::Down(format!("no answer within {} ms", timeout.as_millis())),
            Ok(Err(e)) => Probe::Down(e.to_string()),
            Ok(Ok(None)) => Probe::NotReplica,
            Ok(Ok(Some((replayed, paused, ts_lag)))) => {
                let lag = estimate_lag(
                    &state.samples,
                    state.probed_at,
                    now,
                    replayed,
                    primary,
                    ts_lag,
                );
                state.samples.retain(|(_, lsn)| *lsn > replayed);
                if let Some(p) = primary.filter(|p| *p > replayed)
                    && state.samples.back().is_none_or(|(_, lsn)| *lsn < p)
                {
                    if state.samples.len() >= 64 {
                        state.samples.pop_back();
                    }
                    state.samples.push_back((now, p));
                }
                Probe::Replaying {
                    replayed,
                    primary,
                    lag,
                    paused,
                }
            }
        };
        state.bad_until = match &probe {
            // A failure marked while this check ran still holds.
            Probe::Replaying { .. } => state.bad_until.filter(|until| now < *until),
            Probe::NotReplica | Probe::Down(_) => {
                tracing::warn!(replica = %replica.name, ?probe, "read replica skipped");
                Some(now + inner.options.retry_after)
            }
        };
        state.probe = Some(probe.clone());
        state.probed_at = Some(now);
        state.probing = false;
        probe
    }

    /// Marks replica `i` as failing (a search on it failed for `reason`, see
    /// [`Failure::is_replica_problem`](crate::domain::failure::Failure::is_replica_problem)):
    /// reads go elsewhere for `retry_after`, then it is checked again.
    pub fn mark_failed(&self, i: usize, reason: &str) {
        let Some(replica) = self.inner.replicas.get(i) else {
            return;
        };
        tracing::warn!(replica = %replica.name, reason, "read replica failed; reading from the primary");
        if let Ok(mut state) = replica.state.lock() {
            let now = Instant::now();
            state.probe = Some(Probe::Down(reason.to_string()));
            state.probed_at = Some(now);
            state.bad_until = Some(now + self.inner.options.retry_after);
        }
    }

    /// Records that this process just committed a write on the primary: reads stay on the
    /// primary until a replica has replayed the primary's current WAL position. When that
    /// position cannot be read, reads stay on the primary for `max_lag` instead.
    pub async fn note_write(&self) {
        if self.inner.replicas.is_empty() {
            return;
        }
        match primary_position(&self.inner.primary).await {
            Ok(lsn) => self.note_write_lsn(lsn),
            Err(e) => {
                tracing::warn!("cannot read the primary's WAL position after a write: {e}");
                if let Ok(mut until) = self.inner.primary_until.lock() {
                    *until = Some(Instant::now() + self.inner.options.max_lag);
                }
            }
        }
    }

    /// Records a write at WAL position `lsn` (see [`ReadRouter::note_write`]).
    pub fn note_write_lsn(&self, lsn: u64) {
        self.inner.written.fetch_max(lsn, Ordering::AcqRel);
    }

    /// Checks every replica now (waiting for each) and reports what was found.
    pub async fn report(&self) -> Vec<ReplicaReport> {
        let mut out = Vec::new();
        for (i, replica) in self.inner.replicas.iter().enumerate() {
            let probe = self.check(i).await;
            out.push(ReplicaReport {
                name: replica.name.clone(),
                probe,
            });
        }
        out
    }
}

/// The primary's current WAL write position.
async fn primary_position(primary: &Db) -> sqlx::Result<u64> {
    let text: String = sqlx::query_scalar("SELECT pg_current_wal_lsn()::text")
        .fetch_one(&primary.pool)
        .await?;
    parse_lsn(&text).ok_or_else(|| sqlx::Error::Protocol(format!("unreadable WAL position {text}")))
}

/// A replica's replay position, whether replay is paused and the age of the last replayed
/// transaction; None when the server is not in recovery.
async fn replica_position(replica: &Db) -> sqlx::Result<Option<(u64, bool, Option<Duration>)>> {
    let (recovering, replayed, paused, ts_lag): (bool, Option<String>, bool, Option<f64>) =
        sqlx::query_as(
            "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text, \
                    CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused() ELSE false END, \
                    extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8",
        )
        .fetch_one(&replica.pool)
        .await?;
    if !recovering {
        return Ok(None);
    }
    let replayed = replayed.as_deref().and_then(parse_lsn).unwrap_or(0);
    let ts_lag = ts_lag.map(|s| Duration::from_secs_f64(s.max(0.0)));
    Ok(Some((replayed, paused, ts_lag)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lsns_parse() {
        assert_eq!(parse_lsn("0/0"), Some(0));
        assert_eq!(parse_lsn("16/B374D848"), Some((0x16 << 32) | 0xB374_D848));
        assert_eq!(parse_lsn("nope"), None);
        assert_eq!(parse_lsn("1/FFFFFFFFF"), None);
    }

    #[test]
    fn lag_compares_positions_first() {
        let now = Instant::now();
        let old = Some(Duration::from_secs(3600));
        let none = VecDeque::new();
        // Caught up with an idle primary: the old replay timestamp does not matter.
        assert_eq!(
            estimate_lag(&none, None, now, 100, Some(100), old),
            Some(Duration::ZERO)
        );
        // Behind, first check: bounded by the last replayed transaction's age.
        assert_eq!(estimate_lag(&none, None, now, 90, Some(100), old), old);
        // Behind, but everything the previous check saw is replayed: bounded by that check.
        let earlier = now - Duration::from_millis(800);
        let samples = VecDeque::from([(earlier, 80)]);
        assert_eq!(
            estimate_lag(&samples, Some(earlier), now, 90, Some(100), old),
            Some(Duration::from_millis(800))
        );
        // A position seen 2 s ago is still not replayed: at least 2 s behind.
        let long_ago = now - Duration::from_secs(2);
        let samples = VecDeque::from([(long_ago, 95), (earlier, 99)]);
        assert_eq!(
            estimate_lag(&samples, Some(earlier), now, 90, Some(100), None),
            Some(Duration::from_secs(2))
        );
        // No primary and no history: only the timestamp is known.
        assert_eq!(estimate_lag(&none, None, now, 90, None, None), None);
    }
}
