//! `ifind health`: the database dashboard (`crate::db::health`) as a table or JSON. Exits 1
//! when a check is critical, so monitoring can call it.

use super::{say, say_inline};
use anyhow::{Result, bail};
use chrono::{DateTime, Utc};

use super::Ctx;
use super::output::table;
use crate::cli::ListFormat;
use crate::db::health;
use crate::domain::health::Verdict;

/// The ERROR lines of ifind's own log from the last day, oldest first.
fn recent_log_errors(ctx: &Ctx) -> Vec<String> {
    let dir = if ctx.config.log.dir.trim().is_empty() {
        ctx.paths.state_dir.clone()
    } else {
        ctx.config.log.dir.clone().into()
    };
    let Ok(text) = std::fs::read_to_string(dir.join("ifind.log")) else {
        return Vec::new();
    };
    let since = Utc::now() - chrono::Duration::days(1);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(5000)..]
        .iter()
        .filter(|line| line.contains(" ERROR "))
        .filter(|line| {
            line.split_whitespace()
                .next()
                .and_then(|t| t.parse::<DateTime<Utc>>().ok())
                .is_some_and(|t| t >= since)
        })
        .map(|line| line.to_string())
        .collect()
}

pub async fn health(ctx: &Ctx, format: ListFormat) -> Result<()> {
    let db = ctx.db().await?;
    let errors = recent_log_errors(ctx);
    let mut checks = health::checks(&db, &errors).await?;
    // Retention is the owner's: a user's own connection may not read its tables.
    let now = Utc::now();
    let keep = ctx.config.retention.keep();
    if let Ok(due) = crate::service::retention::due(&db, &keep, now).await {
        let due: Vec<(&'static str, u64)> = due.iter().map(|a| (a.rule.name(), a.rows)).collect();
        if let Ok(check) = health::retention_check(&db, &due, now).await {
            checks.push(check);
        }
    }
    if let Some(reads) = ctx.read_router(&db)? {
        checks.extend(health::replica_checks(&reads).await);
    }
    if ctx.config.database_url().is_none() {
        let status = super::dbcmd::cluster(ctx)?.backup_status()?;
        checks.extend(health::backup_checks(&status, Utc::now()));
    }
    match format {
        ListFormat::Json => say!("{}", serde_json::to_string_pretty(&checks)?)?,
        ListFormat::Table => {
            let rows: Vec<Vec<String>> = checks
                .iter()
                .map(|c| {
                    vec![
                        c.name.to_string(),
                        c.verdict.as_str().to_string(),
                        c.value.clone(),
                        c.threshold.clone(),
                    ]
                })
                .collect();
            say_inline!(
                "{}",
                table(&["CHECK", "VERDICT", "VALUE", "THRESHOLD"], &rows)
            )?;
        }
    }
    let worst = checks
        .iter()
        .map(|c| c.verdict)
        .max()
        .unwrap_or(Verdict::Ok);
    if worst == Verdict::Critical {
        let names: Vec<&str> = checks
            .iter()
            .filter(|c| c.verdict == Verdict::Critical)
            .map(|c| c.name)
            .collect();
        bail!(
            "critical: {}; see the table above for the threshold",
            names.join(", ")
        );
    }
    Ok(())
}
