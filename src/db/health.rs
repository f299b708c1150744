//! The database dashboard of the design document, as checks with a plain verdict and the
//! threshold behind it: connection pool, round-trip latency, buffer cache hit rate, replica lag,
//! sizes, dead tuples, schema version, recent errors and the login lockout; and, with `database.read_urls`, each
//! read replica's lag measured on the replica against `database.max_replica_lag_ms`.

use std::time::{Duration, Instant};

use sqlx::PgConnection;

use super::Db;
use super::migrate::{self, SchemaState};
use super::replicas::{Probe, ReadRouter};
use crate::domain::health::{Check, Verdict};

fn check(name: &'static str, value: String, verdict: Verdict, threshold: &str) -> Check {
    Check {
        name,
        value,
        verdict,
        threshold: threshold.to_string(),
    }
}

/// The verdict of `value` against rising thresholds.
fn above(value: f64, degraded: f64, critical: f64) -> Verdict {
    if value >= critical {
        Verdict::Critical
    } else if value >= degraded {
        Verdict::Degraded
    } else {
        Verdict::Ok
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let at = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[at.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn mib(bytes: i64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

/// Every check against `db`. `recent_errors` are the last error lines of ifind's own log (the
/// caller reads the file).
pub async fn checks(db: &Db, recent_errors: &[String]) -> sqlx::Result<Vec<Check>> {
    let mut out = pool_checks(db);
    let mut conn = db.pool.acquire().await?;
    out.extend(latency_checks(&mut conn).await?);
    out.extend(cache_checks(&mut conn).await?);
    out.extend(replication_checks(&mut conn).await?);
    out.extend(size_checks(&mut conn).await?);
    out.extend(schema_checks(&mut conn).await?);
    out.extend(error_checks(&mut conn, recent_errors).await?);
    // Failed logins: ifind's ifind_auth module locks a name out, auth_delay delays each
    // failure. A module's settings are in pg_settings only when the server loads it.
    let settings: Vec<(String, String)> = sqlx::query_as(
        "SELECT name, setting FROM pg_settings \
          WHERE name IN ('ifind_auth.max_failures', 'ifind_auth.lockout_seconds', \
                         'auth_delay.milliseconds')",
    )
    .fetch_all(&mut *conn)
    .await?;
    out.push(lockout_check(&settings));
    Ok(out)
}

/// Retention, for the owner (`ifind health`): when it last ran, and how many rows are past
/// their keep now (`due`: each rule's name and count, from
/// the service's retention counts). Degraded when it has not run for 8 days with rows
/// waiting, or never ran with rows waiting.
pub async fn retention_check(
    db: &Db,
    due: &[(&'static str, u64)],
    now: chrono::DateTime<chrono::Utc>,
) -> sqlx::Result<Check> {
    let mut conn = db.pool.acquire().await?;
    let last = super::retention::last_run(&mut conn).await?;
    let waiting: u64 = due.iter().map(|(_, rows)| rows).sum();
    let overdue: Vec<String> = due
        .iter()
        .filter(|(_, rows)| *rows > 0)
        .map(|(rule, rows)| format!("{rule} {rows}"))
        .collect();
    let ran = match last {
        Some(at) => format!("last ran {}", at.format("%Y-%m-%d %H:%M UTC")),
        None => "never ran".to_string(),
    };
    let value = if overdue.is_empty() {
        format!("{ran}; nothing overdue")
    } else {
        format!("{ran}; overdue: {}", overdue.join(", "))
    };
    let stale = last.is_none_or(|at| now - at > chrono::Duration::days(8));
    let verdict = if waiting > 0 && stale {
        Verdict::Degraded
    } else {
        Verdict::Ok
    };
    Ok(check(
        "retention",
        value,
        verdict,
        "degraded: rows past their keep and `ifind retention` not run for 8 days (run it daily or \
         weekly)",
    ))
}

/// The embedded cluster's backups: the age of the newest base backup (one a day is taken
/// while the TUI runs) and of the last successful `ifind db verify-backup` (the design
/// document's weekly restore test).
pub fn backup_checks(
    status: &crate::db::cluster::BackupStatus,
    now: chrono::DateTime<chrono::Utc>,
) -> Vec<Check> {
    let age = |t: chrono::DateTime<chrono::Utc>| (now - t).num_minutes().max(0) as f64 / 60.0;
    let hours = |h: f64| {
        if h < 48.0 {
            format!("{h:.1} h ago")
        } else {
            format!("{:.1} days ago", h / 24.0)
        }
    };
    let (backup_value, backup_verdict) = match status.newest() {
        Some(b) => (hours(age(b.started)), above(age(b.started), 26.0, 72.0)),
        None => ("none: run `ifind db backup`".to_string(), Verdict::Degraded),
    };
    let (verified_value, verified_verdict) = match status.last_verified {
        Some(t) => (hours(age(t)), above(age(t), 8.0 * 24.0, 15.0 * 24.0)),
        None => (
            "never: run `ifind db verify-backup`".to_string(),
            Verdict::Degraded,
        ),
    };
    vec![
        check(
            "newest backup",
            backup_value,
            backup_verdict,
            "degraded over 26 h or none, critical over 3 days",
        ),
        check(
            "last verified backup",
            verified_value,
            verified_verdict,
            "degraded over 8 days or never, critical over 15 days",
        ),
    ]
}

/// The pool: connections in use against the maximum.
fn pool_checks(db: &Db) -> Vec<Check> {
    let mut out = Vec::new();
    let max = db.pool.options().get_max_connections();
    let size = db.pool.size();
    let idle = u32::try_from(db.pool.num_idle()).unwrap_or(u32::MAX);
    let in_use = size.saturating_sub(idle);
    out.push(check(
        "pool",
        format!("{in_use} in use, {idle} idle, {max} max"),
        above(f64::from(in_use) / f64::from(max.max(1)), 0.7, 0.9),
        "degraded from 70% of max in use, critical from 90%",
    ));
    out
}

/// Round trips: 20 `SELECT 1`.
async fn latency_checks(conn: &mut PgConnection) -> sqlx::Result<Vec<Check>> {
    let mut out = Vec::new();
    let mut samples = Vec::new();
    for _ in 0..20 {
        let started = Instant::now();
        sqlx::query("SELECT 1").execute(&mut *conn).await?;
        samples.push(started.elapsed());
    }
    samples.sort();
    let (p50, p95, p99) = (
        percentile(&samples, 0.5),
        percentile(&samples, 0.95),
        percentile(&samples, 0.99),
    );
    out.push(check(
        "latency",
        format!(
            "p50 {} · p95 {} · p99 {} (20 round trips)",
            ms(p50),
            ms(p95),
            ms(p99)
        ),
        above(p95.as_secs_f64() * 1000.0, 20.0, 200.0),
        "p95 degraded from 20 ms, critical from 200 ms",
    ));
    Ok(out)
}

/// The buffer cache's hit rate.
async fn cache_checks(conn: &mut PgConnection) -> sqlx::Result<Vec<Check>> {
    let mut out = Vec::new();
    let (hit, read, warming): (i64, i64, bool) = sqlx::query_as(
        "SELECT blks_hit, blks_read, pg_postmaster_start_time() > now() - interval '1 hour' \
           FROM pg_stat_database WHERE datname = current_database()",
    )
    .fetch_one(&mut *conn)
    .await?;
    let total = hit + read;
    let rate = if total > 0 {
        hit as f64 / total as f64
    } else {
        1.0
    };
    let verdict = if total < 10_000 || warming {
        Verdict::Ok
    } else if rate < 0.90 {
        Verdict::Critical
    } else if rate < 0.99 {
        Verdict::Degraded
    } else {
        Verdict::Ok
    };
    out.push(check(
        "cache hit rate",
        format!(
            "{:.2}% of {total} block reads{}",
            rate * 100.0,
            if warming {
                " (server started within the hour: warming up)"
            } else {
                ""
            }
        ),
        verdict,
        "degraded below 99%, critical below 90% (judged after 10,000 reads and an hour up)",
    ));
    Ok(out)
}

/// The replicas, as the primary sees them.
async fn replication_checks(conn: &mut PgConnection) -> sqlx::Result<Vec<Check>> {
    let mut out = Vec::new();
    let lags: Vec<(String, Option<f64>)> = sqlx::query_as(
        "SELECT coalesce(application_name, client_addr::text, 'replica'), \
                extract(epoch FROM replay_lag)::float8 FROM pg_stat_replication",
    )
    .fetch_all(&mut *conn)
    .await?;
    if lags.is_empty() {
        out.push(check(
            "replica lag",
            "no replicas streaming from this server".into(),
            Verdict::Ok,
            "degraded from 5 s behind, critical from 60 s",
        ));
    }
    for (name, lag) in lags {
        let secs = lag.unwrap_or(0.0);
        out.push(check(
            "replica lag",
            format!("{name}: {secs:.1} s"),
            above(secs, 5.0, 60.0),
            "degraded from 5 s behind, critical from 60 s",
        ));
    }
    Ok(out)
}

/// Sizes and dead tuples of interactions.
async fn size_checks(conn: &mut PgConnection) -> sqlx::Result<Vec<Check>> {
    let mut out = Vec::new();
    let (table, indexes, live, dead): (i64, i64, i64, i64) = sqlx::query_as(
        "SELECT pg_table_size('interactions'), pg_indexes_size('interactions'), \
                greatest(coalesce(s.n_live_tup, 0), c.reltuples::bigint), \
                coalesce(s.n_dead_tup, 0) \
           FROM pg_class c LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid \
          WHERE c.oid = 'interactions'::regclass",
    )
    .fetch_optional(&mut *conn)
    .await?
    .unwrap_or((0, 0, 0, 0));
    let database: i64 = sqlx::query_scalar("SELECT pg_database_size(current_database())")
        .fetch_one(&mut *conn)
        .await?;
    out.push(check(
        "sizes",
        format!(
            "interactions {} + indexes {}; database {}",
            mib(table),
            mib(indexes),
            mib(database)
        ),
        Verdict::Ok,
        "for information",
    ));
    let share = if live + dead > 0 {
        dead as f64 / (live + dead) as f64
    } else {
        0.0
    };
    out.push(check(
        "dead tuples",
        format!(
            "{dead} dead of {} interactions rows ({:.1}%)",
            live + dead,
            share * 100.0
        ),
        if live + dead < 1000 {
            Verdict::Ok
        } else {
            above(share, 0.2, 0.5)
        },
        "degraded from 20% dead (autovacuum behind), critical from 50%",
    ));
    Ok(out)
}

/// The schema version against this binary's.
async fn schema_checks(conn: &mut PgConnection) -> sqlx::Result<Vec<Check>> {
    let mut out = Vec::new();
    let (value, verdict) = match migrate::state(&mut *conn).await {
        Ok(SchemaState::Current { db }) => (
            format!("{db} (this ifind: {})", migrate::binary_version()),
            Verdict::Ok,
        ),
        Ok(SchemaState::Behind { db, pending }) => (
            format!("{db}, {pending} migration(s) pending: run `ifind migrate`"),
            Verdict::Degraded,
        ),
        Ok(SchemaState::Empty) => ("no schema: run `ifind migrate`".into(), Verdict::Critical),
        Ok(SchemaState::Incompatible { db }) => (
            format!(
                "{db}, incompatible with this ifind ({})",
                migrate::binary_version()
            ),
            Verdict::Critical,
        ),
        Err(e) => (e.to_string(), Verdict::Critical),
    };
    out.push(check(
        "schema version",
        value,
        verdict,
        "degraded with pending migrations, critical when missing or of another major version",
    ));
    Ok(out)
}

/// Errors: the server's own counters, and ifind's log (ERROR lines of the last day).
async fn error_checks(
    conn: &mut PgConnection,
    recent_errors: &[String],
) -> sqlx::Result<Vec<Check>> {
    let mut out = Vec::new();
    let (deadlocks, conflicts): (i64, i64) = sqlx::query_as(
        "SELECT deadlocks, conflicts FROM pg_stat_database WHERE datname = current_database()",
    )
    .fetch_one(&mut *conn)
    .await?;
    let logged = recent_errors.len();
    let last = recent_errors.last().cloned().unwrap_or_default();
    out.push(check(
        "errors",
        if logged == 0 {
            format!("none in ifind's log; {deadlocks} deadlocks, {conflicts} recovery conflicts")
        } else {
            format!(
                "{logged} in ifind's log (last: {}); {deadlocks} deadlocks, {conflicts} recovery \
                 conflicts",
                last.chars().take(60).collect::<String>()
            )
        },
        if logged > 0 || deadlocks > 0 {
            Verdict::Degraded
        } else {
            Verdict::Ok
        },
        "degraded when ifind logged errors or the server saw deadlocks",
    ));
    Ok(out)
}

/// The "login lockout" line from the server's `pg_settings` rows of ifind_auth and auth_delay.
fn lockout_check(settings: &[(String, String)]) -> Check {
    let get = |name: &str| {
        settings
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let delay = match get("auth_delay.milliseconds") {
        Some(ms) => format!("each failure waits {ms} ms (auth_delay)"),
        None => "failures are not delayed (auth_delay is not loaded)".to_string(),
    };
    let (value, verdict) = match (
        get("ifind_auth.max_failures"),
        get("ifind_auth.lockout_seconds"),
    ) {
        (Some(max), Some(secs)) if max != "0" => (
            format!("after {max} failed logins a user name waits {secs} s (ifind_auth); {delay}"),
            Verdict::Ok,
        ),
        (Some(_), Some(_)) => (
            format!("off (ifind_auth.max_failures = 0); {delay}"),
            Verdict::Degraded,
        ),
        _ => (
            format!(
                "off: the server does not load ifind_auth; {delay}; {}, then add it to \
                 shared_preload_libraries (after auth_delay) and restart the server",
                super::cluster::LOCKOUT_INSTALL_HINT
            ),
            Verdict::Degraded,
        ),
    };
    check(
        "login lockout",
        value,
        verdict,
        "degraded when the server does not lock out a user name after repeated failed logins",
    )
}

/// One line per read replica (`database.read_urls`), measured on the replica itself: ok while
/// no further behind than the configured bound; degraded beyond it, when replay is paused
/// behind the primary, or when it is down or not a replica (searches then go to the primary);
/// critical from 12 times the bound.
pub async fn replica_checks(reads: &ReadRouter) -> Vec<Check> {
    let bound = reads.options().max_lag;
    let critical = bound * 12;
    let threshold = format!(
        "degraded beyond {} behind, paused or unreachable (searches then use the primary), \
         critical from {} behind",
        secs(bound),
        secs(critical)
    );
    let mut out = Vec::new();
    for report in reads.report().await {
        let (value, verdict) = match &report.probe {
            Probe::Replaying {
                replayed,
                primary,
                lag,
                paused,
            } => {
                let behind = primary.is_none_or(|p| replayed < &p);
                let mut value = match lag {
                    Some(lag) => format!("{}: {} behind", report.name, secs(*lag)),
                    None => format!("{}: lag not known yet", report.name),
                };
                if let Some(p) = primary {
                    value.push_str(&format!(" ({} bytes of WAL)", p.saturating_sub(*replayed)));
                }
                if *paused {
                    value.push_str(", replay paused");
                }
                let verdict = match lag {
                    Some(lag) if *lag >= critical => Verdict::Critical,
                    Some(lag) if *lag > bound => Verdict::Degraded,
                    None => Verdict::Degraded,
                    Some(_) if *paused && behind => Verdict::Degraded,
                    Some(_) => Verdict::Ok,
                };
                (value, verdict)
            }
            Probe::NotReplica => (
                format!(
                    "{}: not a replica (not in recovery); searches skip it",
                    report.name
                ),
                Verdict::Degraded,
            ),
            Probe::Down(reason) => (
                format!(
                    "{}: unreachable ({}); searches use the primary",
                    report.name,
                    reason.chars().take(80).collect::<String>()
                ),
                Verdict::Degraded,
            ),
        };
        out.push(Check {
            name: "read replica",
            value,
            verdict,
            threshold: threshold.clone(),
        });
    }
    out
}

fn secs(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_and_percentiles() {
        assert_eq!(above(0.5, 0.7, 0.9), Verdict::Ok);
        assert_eq!(above(0.7, 0.7, 0.9), Verdict::Degraded);
        assert_eq!(above(0.95, 0.7, 0.9), Verdict::Critical);
        let samples: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&samples, 0.5), Duration::from_millis(51));
        assert_eq!(percentile(&samples, 0.99), Duration::from_millis(99));
        assert_eq!(percentile(&[], 0.5), Duration::ZERO);
    }

    #[test]
    fn the_lockout_line_says_whether_the_server_locks_names_out_and_how_to_get_it() {
        let row = |n: &str, v: &str| (n.to_string(), v.to_string());
        let on = lockout_check(&[
            row("auth_delay.milliseconds", "500"),
            row("ifind_auth.max_failures", "5"),
            row("ifind_auth.lockout_seconds", "300"),
        ]);
        assert_eq!(on.verdict, Verdict::Ok);
        assert_eq!(
            on.value,
            "after 5 failed logins a user name waits 300 s (ifind_auth); each failure waits \
             500 ms (auth_delay)"
        );
        let off = lockout_check(&[row("auth_delay.milliseconds", "500")]);
        assert_eq!(off.verdict, Verdict::Degraded);
        assert!(
            off.value
                .starts_with("off: the server does not load ifind_auth")
        );
        assert!(off.value.contains("make -C pg/ifind_auth"), "{}", off.value);
        let zero = lockout_check(&[
            row("ifind_auth.max_failures", "0"),
            row("ifind_auth.lockout_seconds", "300"),
        ]);
        assert_eq!(zero.verdict, Verdict::Degraded);
        assert!(zero.value.contains("not delayed"), "{}", zero.value);
    }
}
