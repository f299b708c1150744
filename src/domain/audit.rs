//! The audit trail's entries: what changed in one row, when, and who did it
//! (`crate::db::audit` reads them).

use std::fmt;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

/// What happened to a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Operation {
    Insert,
    Update,
    /// A hard delete (no new values) or a soft delete (`deleted_at` set).
    Delete,
    /// A soft-deleted row brought back (`deleted_at` cleared).
    Restore,
    /// Moved, whole, to the archive by `ifind archive`.
    Archive,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Insert => "insert",
            Operation::Update => "update",
            Operation::Delete => "delete",
            Operation::Restore => "restore",
            Operation::Archive => "archive",
        }
    }

    /// The operation of its name in the trail (`insert`, `update`, ...).
    pub fn parse(text: &str) -> Option<Operation> {
        match text {
            "insert" => Some(Operation::Insert),
            "update" => Some(Operation::Update),
            "delete" => Some(Operation::Delete),
            "restore" => Some(Operation::Restore),
            "archive" => Some(Operation::Archive),
            _ => None,
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One changed field: its old and new values. `None` means the side does not exist (an insert
/// has no old values, a hard delete no new ones); `Some(Value::Null)` is SQL NULL.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FieldChange {
    pub field: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<Value>,
}

impl FieldChange {
    /// The old value as a person reads it ("" for none or NULL).
    pub fn old_text(&self) -> String {
        plain(self.old.as_ref())
    }

    /// The new value as a person reads it ("" for none or NULL).
    pub fn new_text(&self) -> String {
        plain(self.new.as_ref())
    }
}

fn plain(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// One audited change of one row.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    /// When the change was made (its transaction's start).
    pub at: DateTime<Utc>,
    /// The PostgreSQL transaction id: entries with the same one were made together.
    pub txid: i64,
    /// `interactions`, `users`, `sites` or `user_site_mapping`.
    pub table: String,
    /// The row's key in its table (interaction_id, user_id, site_id or mapping_id).
    pub row_id: i32,
    /// The row's site; None for users.
    pub site_id: Option<i32>,
    pub site_name: Option<String>,
    pub operation: Operation,
    /// The acting user; None for the owner/system (admin tools run without a user).
    pub user_id: Option<i32>,
    /// The acting user's name, when it can be read.
    pub username: Option<String>,
    /// The database role that made the change (for the owner, with the OS account that ran
    /// ifind); None for rows written before migration 0009.
    pub actor: Option<String>,
    /// The changed fields, in the table's column order.
    pub changes: Vec<FieldChange>,
}

impl AuditEntry {
    /// Who made the change, for people: the username, `user #ID`, the database role that
    /// made it (the owner's, with its OS account), or `system`.
    pub fn who(&self) -> String {
        match (&self.username, self.user_id, &self.actor) {
            (Some(name), _, _) => name.clone(),
            (None, Some(id), _) => format!("user #{id}"),
            (None, None, Some(actor)) => actor.clone(),
            (None, None, None) => "system".into(),
        }
    }
}
