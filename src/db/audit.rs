//! The audit trail: reads what the triggers of migration 0004 write into `audit_log` for every
//! insert, update, delete and restore of interactions, users, sites and site mappings.
//!
//! Each entry holds only the changed fields, with their old and new values as PostgreSQL's
//! `to_jsonb` wrote them (times as ISO 8601 text). Password hashes never appear: a changed
//! password reads `"***"` on both sides.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgConnection;

use crate::domain::audit::{AuditEntry, FieldChange, Operation};

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    at: DateTime<Utc>,
    txid: i64,
    table_name: String,
    row_id: i32,
    site_id: Option<i32>,
    site_name: Option<String>,
    operation: String,
    user_id: Option<i32>,
    username: Option<String>,
    actor: Option<String>,
    old_values: Option<String>,
    new_values: Option<String>,
}

/// Entries come from `ifind_audit_entries(site, row, user)` (migration 0012), which applies the
/// rules of who reads what: nobody reads the trail itself, so a person's own conditions never
/// reach rows they may not read.
const SELECT: &str = "SELECT a.id, a.at, a.txid, a.table_name, a.row_id, a.site_id, a.site_name, \
       a.operation, a.user_id, a.username, a.actor, a.old_values, a.new_values \
  FROM ifind_audit_entries($1, $2, $3) a ORDER BY a.id";

async fn entries(
    conn: &mut PgConnection,
    site_id: Option<i32>,
    row_id: Option<i32>,
    user_id: Option<i32>,
) -> sqlx::Result<Vec<AuditEntry>> {
    let rows: Vec<Row> = sqlx::query_as(SELECT)
        .bind(site_id)
        .bind(row_id)
        .bind(user_id)
        .fetch_all(conn)
        .await?;
    rows.into_iter().map(entry).collect()
}

/// The trail of interaction `interaction_id` of `site_id`, oldest first: what the detail
/// pane's History view shows. Only the entries the acting user may read.
pub async fn history(
    conn: &mut PgConnection,
    site_id: i32,
    interaction_id: i32,
) -> sqlx::Result<Vec<AuditEntry>> {
    entries(conn, Some(site_id), Some(interaction_id), None).await
}

/// The trail of interaction `interaction_id` whatever its site (also once it is purged),
/// oldest first.
pub async fn for_interaction(
    conn: &mut PgConnection,
    interaction_id: i32,
) -> sqlx::Result<Vec<AuditEntry>> {
    entries(conn, None, Some(interaction_id), None).await
}

/// The changes made by user `user_id` and the changes to that user's own account, oldest first.
pub async fn by_user(conn: &mut PgConnection, user_id: i32) -> sqlx::Result<Vec<AuditEntry>> {
    entries(conn, None, None, Some(user_id)).await
}

fn entry(r: Row) -> sqlx::Result<AuditEntry> {
    let bad = |what: String| sqlx::Error::Decode(what.into());
    let operation = Operation::parse(&r.operation)
        .ok_or_else(|| bad(format!("unknown audit operation {:?}", r.operation)))?;
    let parse = |text: Option<String>| -> sqlx::Result<Option<serde_json::Map<String, Value>>> {
        match text {
            None => Ok(None),
            Some(t) => match serde_json::from_str(&t) {
                Ok(Value::Object(map)) => Ok(Some(map)),
                Ok(_) => Err(bad(format!(
                    "audit entry {} holds values that are not an object",
                    r.id
                ))),
                Err(e) => Err(bad(format!(
                    "audit entry {} holds unreadable values: {e}",
                    r.id
                ))),
            },
        }
    };
    let old = parse(r.old_values)?;
    let new = parse(r.new_values)?;
    let mut fields: Vec<String> = old
        .iter()
        .chain(new.iter())
        .flat_map(|m| m.keys().cloned())
        .collect();
    let order = column_order(&r.table_name);
    fields.sort_by_key(|f| {
        (
            order.iter().position(|c| c == f).unwrap_or(order.len()),
            f.clone(),
        )
    });
    fields.dedup();
    let changes = fields
        .into_iter()
        .map(|field| FieldChange {
            old: old
                .as_ref()
                .map(|m| m.get(&field).cloned().unwrap_or(Value::Null)),
            new: new
                .as_ref()
                .map(|m| m.get(&field).cloned().unwrap_or(Value::Null)),
            field,
        })
        .collect();
    Ok(AuditEntry {
        id: r.id,
        at: r.at,
        txid: r.txid,
        table: r.table_name,
        row_id: r.row_id,
        site_id: r.site_id,
        site_name: r.site_name,
        operation,
        user_id: r.user_id,
        username: r.username,
        actor: r.actor,
        changes,
    })
}

/// The columns of an audited table in the order people read them.
fn column_order(table: &str) -> &'static [&'static str] {
    match table {
        "interactions" => &[
            "interaction_id",
            "site_id",
            "title",
            "type",
            "lead",
            "start_datetime",
            "end_datetime",
            "timezone",
            "location",
            "description",
            "notes",
            "created_by",
            "created_at",
            "updated_by",
            "updated_at",
            "version",
            "deleted_at",
            "deleted_by",
        ],
        "users" => &[
            "user_id",
            "username",
            "email",
            "password_hash",
            "is_active",
            "is_global_admin",
            "last_login",
            "created_at",
        ],
        "sites" => &["site_id", "name", "description", "is_active"],
        "user_site_mapping" => &["mapping_id", "user_id", "site_id", "role", "assigned_at"],
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(op: &str, old: Option<&str>, new: Option<&str>) -> Row {
        Row {
            id: 1,
            at: Utc::now(),
            txid: 9,
            table_name: "interactions".into(),
            row_id: 4,
            site_id: Some(2),
            site_name: None,
            operation: op.into(),
            user_id: None,
            username: None,
            actor: None,
            old_values: old.map(str::to_string),
            new_values: new.map(str::to_string),
        }
    }

    #[test]
    fn changes_come_in_column_order_with_missing_sides_told_apart() {
        let e = entry(row(
            "update",
            Some(r#"{"version": 1, "title": "a", "notes": null}"#),
            Some(r#"{"version": 2, "title": "b", "notes": "x"}"#),
        ))
        .expect("entry");
        let fields: Vec<&str> = e.changes.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(fields, ["title", "notes", "version"]);
        assert_eq!(e.changes[1].old, Some(Value::Null));
        assert_eq!(e.changes[1].old_text(), "");
        assert_eq!(e.changes[2].new_text(), "2");
        assert_eq!(e.who(), "system");

        let e = entry(row("insert", None, Some(r#"{"title": "a"}"#))).expect("entry");
        assert_eq!(e.operation, Operation::Insert);
        assert_eq!(e.changes[0].old, None);
        assert_eq!(e.changes[0].new_text(), "a");
        assert!(entry(row("upsert", None, None)).is_err());
    }
}
