//! Retention (design document §6.1, §6.4): every rule of [`Rule::ALL`] applied in batches of
//! their own transaction, each batch recorded in `retention_log` with its rows, so a run that
//! is stopped leaves only whole batches done and the next run goes on from there. `now` is
//! given (the tests move it), never read here.

use chrono::{DateTime, Utc};

use crate::db::Db;
use crate::db::retention;
use crate::domain::retention::{Applied, Keep, Rule};

/// How many rows each rule would take at `now`.
pub async fn due(db: &Db, keep: &Keep, now: DateTime<Utc>) -> sqlx::Result<Vec<Applied>> {
    let mut conn = db.pool.acquire().await?;
    let mut out = Vec::new();
    for rule in Rule::ALL {
        let cutoff = rule.cutoff(keep, now);
        let rows = retention::due(&mut conn, rule, cutoff).await?;
        out.push(Applied {
            rule,
            cutoff,
            rows: u64::try_from(rows).unwrap_or(0),
        });
    }
    Ok(out)
}

/// Applies every rule at `now`, `batch` rows per transaction, calling `progress(rule, rows)`
/// after each batch; what each rule took in this run.
pub async fn apply(
    db: &Db,
    keep: &Keep,
    now: DateTime<Utc>,
    batch: i64,
    progress: &(dyn Fn(Rule, u64) + Send + Sync),
) -> sqlx::Result<Vec<Applied>> {
    let mut out = Vec::new();
    for rule in Rule::ALL {
        let cutoff = rule.cutoff(keep, now);
        let mut rows = 0;
        loop {
            let mut tx = db.begin_as(None).await?;
            let taken = retention::apply_batch(&mut tx, rule, cutoff, batch).await?;
            // Every run of a rule leaves a row, also when it found nothing to do.
            if taken > 0 || rows == 0 {
                retention::record(&mut tx, rule, cutoff, taken).await?;
            }
            tx.commit().await?;
            rows += taken;
            progress(rule, taken);
            if taken == 0 {
                break;
            }
        }
        out.push(Applied { rule, cutoff, rows });
    }
    Ok(out)
}
