//! `ifind audit --interaction ID` and `ifind audit --user NAME`: the audit trail, oldest first.

use std::io::Write;

use anyhow::{Context, Result, bail};
use serde_json::Value;

use super::Ctx;
use crate::cli::{AuditArgs, AuditFormat};
use crate::db::audit;
use crate::domain::audit::{AuditEntry, Operation};
use crate::domain::format::{escape, escape_json};

pub async fn audit(ctx: &Ctx, args: AuditArgs) -> Result<()> {
    let db = ctx.db().await?;
    let mut conn = db.pool.acquire().await?;
    let (entries, by_user) = match (args.interaction, &args.user) {
        (Some(id), _) => {
            let entries = audit::for_interaction(&mut conn, id).await?;
            if entries.is_empty() {
                bail!(
                    "there is no audit trail for interaction {id}; check the id (`ifind search \
                     --site NAME` shows ids)"
                );
            }
            (entries, false)
        }
        (None, Some(name)) => {
            let user = super::admin::find_user(&mut conn, name).await?;
            let entries = audit::by_user(&mut conn, user.user_id).await?;
            if entries.is_empty() && args.format == AuditFormat::Text {
                eprintln!("no changes recorded for {}", escape(&user.username));
            }
            (entries, true)
        }
        (None, None) => bail!("say whose trail to print: --interaction ID or --user NAME"),
    };
    drop(conn);
    let text = match args.format {
        AuditFormat::Json => escape_json(serde_json::to_string_pretty(&entries)?) + "\n",
        AuditFormat::Text => render(&entries, by_user),
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .context("cannot write the output")?;
    Ok(())
}

/// The trail as text: per entry a line with time, user and operation (and, for a user's trail,
/// the record), then one indented line per changed field: `field: old → new` (a new or purged
/// row's empty fields are left out).
pub fn render(entries: &[AuditEntry], with_record: bool) -> String {
    let mut text = String::new();
    for e in entries {
        text.push_str(&format!(
            "{}  {}  {}",
            e.at.format("%Y-%m-%d %H:%M:%S UTC"),
            escape(&e.who()),
            e.operation
        ));
        if with_record {
            text.push_str(&format!("  {} {}", record_kind(&e.table), e.row_id));
            if let Some(site) = &e.site_name
                && e.table != "sites"
            {
                text.push_str(&format!(" at {}", escape(site)));
            }
        }
        text.push('\n');
        for c in &e.changes {
            // A new row's empty fields (and a purged row's) are not worth a line each.
            let side = if e.operation == Operation::Insert {
                c.new.as_ref()
            } else {
                c.old.as_ref()
            };
            if (c.old.is_none() || c.new.is_none()) && side.is_none_or(Value::is_null) {
                continue;
            }
            text.push_str(&format!(
                "    {}: {} \u{2192} {}\n",
                escape(&c.field),
                shown(c.old.as_ref()),
                shown(c.new.as_ref())
            ));
        }
    }
    text
}

fn record_kind(table: &str) -> &str {
    match table {
        "interactions" => "interaction",
        "users" => "user",
        "sites" => "site",
        "user_site_mapping" => "site role",
        other => other,
    }
}

/// A value as the trail shows it: JSON (strings quoted, so that empty text, spaces and line
/// breaks are visible; control and bidirectional characters as `\uXXXX` escapes), `(none)`
/// where the side does not exist. Old values may predate the database's text constraints.
fn shown(v: Option<&Value>) -> String {
    match v {
        None => "(none)".into(),
        Some(v) => escape_json(v.to_string()),
    }
}
