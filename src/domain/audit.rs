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

    /// How the row of an insert came to be: the creation the row itself records (its
    /// `created_at` and `created_by`, which the Created line shows) and, when the insert was
    /// made by someone else or more than a minute later (the owner's import or seed, which
    /// keep the creation they are given), when and by whom it was loaded. None for other
    /// operations, or an insert whose values do not hold the creation.
    pub fn creation(&self) -> Option<Creation> {
        if self.operation != Operation::Insert {
            return None;
        }
        let value = |field: &str| {
            self.changes
                .iter()
                .find(|c| c.field == field)
                .and_then(|c| c.new.as_ref())
        };
        let at = value("created_at")
            .and_then(Value::as_str)
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())?
            .with_timezone(&Utc);
        let by = value("created_by")
            .and_then(Value::as_i64)
            .and_then(|id| i32::try_from(id).ok());
        let same_person = by.is_some() && by == self.user_id;
        let same_time = (self.at - at).num_seconds().abs() <= 60;
        let loaded = (!same_person || !same_time).then(|| (self.at, self.who()));
        Some(Creation { at, by, loaded })
    }
}

/// The creation of a row as its insert entry says it ([`AuditEntry::creation`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Creation {
    /// The row's `created_at`.
    pub at: DateTime<Utc>,
    /// The row's `created_by`.
    pub by: Option<i32>,
    /// When the row was written by another than its creator, or later (an import or a seed):
    /// when, and who wrote it.
    pub loaded: Option<(DateTime<Utc>, String)>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn insert(at: DateTime<Utc>, user_id: Option<i32>, created: &str, by: i64) -> AuditEntry {
        AuditEntry {
            id: 1,
            at,
            txid: 1,
            table: "interactions".into(),
            row_id: 10,
            site_id: Some(1),
            site_name: Some("North".into()),
            operation: Operation::Insert,
            user_id,
            username: user_id.map(|_| "ada".into()),
            actor: Some("ifind (OS user root)".into()),
            changes: vec![
                FieldChange {
                    field: "created_by".into(),
                    old: None,
                    new: Some(serde_json::json!(by)),
                },
                FieldChange {
                    field: "created_at".into(),
                    old: None,
                    new: Some(serde_json::json!(created)),
                },
            ],
        }
    }

    #[test]
    fn an_insert_by_its_creator_is_the_creation_and_a_load_says_who_loaded_it() {
        let now = Utc
            .with_ymd_and_hms(2026, 12, 1, 9, 0, 5)
            .single()
            .expect("time");
        // Saved through the form: the same person, the same moment.
        let saved = insert(now, Some(4), "2026-12-01T09:00:05.123456+00:00", 4);
        let creation = saved.creation().expect("a creation");
        assert_eq!(creation.by, Some(4));
        assert_eq!(creation.loaded, None);
        // Seeded: created by a made-up user three years before; loaded by the owner now.
        let seeded = insert(now, None, "2023-11-25T14:30:00+00:00", 17);
        let creation = seeded.creation().expect("a creation");
        assert_eq!(
            creation.at,
            Utc.with_ymd_and_hms(2023, 11, 25, 14, 30, 0)
                .single()
                .expect("time")
        );
        assert_eq!(creation.by, Some(17));
        assert_eq!(
            creation.loaded,
            Some((now, "ifind (OS user root)".to_string()))
        );
        // Imported: stamped now, in an admin's name, written by the owner.
        let imported = insert(now, None, "2026-12-01T09:00:05+00:00", 1);
        assert!(imported.creation().expect("a creation").loaded.is_some());
        // Not an insert, or no creation in the values: nothing to say.
        let mut update = saved.clone();
        update.operation = Operation::Update;
        assert_eq!(update.creation(), None);
        let mut bare = saved;
        bare.changes.clear();
        assert_eq!(bare.creation(), None);
    }
}
