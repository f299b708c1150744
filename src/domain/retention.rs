//! How long each kind of record is kept (design document §6.1 and §6.4), and the rules that
//! `ifind retention` applies: what each takes, and from which age.

use chrono::{DateTime, Duration, Utc};

/// The keeps, in days (the `[retention]` settings).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Keep {
    pub trash_days: u32,
    pub archive_keep_days: u32,
    pub anonymise_after_days: u32,
    pub access_log_days: u32,
    pub audit_data_days: u32,
    pub audit_admin_days: u32,
    pub schema_changes_days: u32,
}

/// One retention rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    /// Deleted interactions: removed for good after the trash days.
    Trash,
    /// Archived interactions: removed for good after the archive keep.
    Archive,
    /// Audit and access records: the person replaced by a stable pseudonym after a year.
    AnonymiseActivity,
    /// Access (authentication) records: removed after two years.
    AccessLog,
    /// Audit records of data changes (interactions): removed after two years.
    AuditData,
    /// Audit records of admin actions (users, sites, roles): removed after three years.
    AuditAdmin,
    /// Schema changes: who ran them forgotten after five years (the change itself is the schema).
    SchemaChanges,
}

impl Rule {
    /// Every rule, in the order `ifind retention` applies them (anonymising before removing, so
    /// that nothing is removed that a later rule would need).
    pub const ALL: [Rule; 7] = [
        Rule::Trash,
        Rule::Archive,
        Rule::AnonymiseActivity,
        Rule::AccessLog,
        Rule::AuditData,
        Rule::AuditAdmin,
        Rule::SchemaChanges,
    ];

    /// The rule's name, as `retention_log` and the output say it.
    pub fn name(self) -> &'static str {
        match self {
            Rule::Trash => "trash",
            Rule::Archive => "archive",
            Rule::AnonymiseActivity => "anonymise activity",
            Rule::AccessLog => "access log",
            Rule::AuditData => "audit data",
            Rule::AuditAdmin => "audit admin",
            Rule::SchemaChanges => "schema changes",
        }
    }

    /// What the rule does to a row past its age, in words.
    pub fn action(self) -> &'static str {
        match self {
            Rule::Trash => "deleted interactions removed for good",
            Rule::Archive => "archived interactions removed for good",
            Rule::AnonymiseActivity => "audit and access records whose person becomes a pseudonym",
            Rule::AccessLog => "access records removed",
            Rule::AuditData => "audit records of data changes removed",
            Rule::AuditAdmin => "audit records of admin actions removed",
            Rule::SchemaChanges => "schema changes whose performer is forgotten",
        }
    }

    /// How many days a row is kept before the rule takes it.
    pub fn days(self, keep: &Keep) -> u32 {
        match self {
            Rule::Trash => keep.trash_days,
            Rule::Archive => keep.archive_keep_days,
            Rule::AnonymiseActivity => keep.anonymise_after_days,
            Rule::AccessLog => keep.access_log_days,
            Rule::AuditData => keep.audit_data_days,
            Rule::AuditAdmin => keep.audit_admin_days,
            Rule::SchemaChanges => keep.schema_changes_days,
        }
    }

    /// Rows older than this (at `now`) are the rule's.
    pub fn cutoff(self, keep: &Keep, now: DateTime<Utc>) -> DateTime<Utc> {
        now - Duration::days(i64::from(self.days(keep)))
    }
}

/// What one rule did (or, in a dry run, would do).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Applied {
    pub rule: Rule,
    pub cutoff: DateTime<Utc>,
    pub rows: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn cutoffs_are_the_keeps_back_from_now() {
        let keep = Keep {
            trash_days: 30,
            archive_keep_days: 1826,
            anonymise_after_days: 365,
            access_log_days: 730,
            audit_data_days: 730,
            audit_admin_days: 1095,
            schema_changes_days: 1826,
        };
        let now = Utc
            .with_ymd_and_hms(2026, 12, 2, 12, 0, 0)
            .single()
            .unwrap_or_default();
        assert_eq!(
            Rule::AuditAdmin.cutoff(&keep, now),
            Utc.with_ymd_and_hms(2023, 12, 3, 12, 0, 0)
                .single()
                .unwrap_or_default()
        );
        assert_eq!(Rule::Trash.cutoff(&keep, now), now - Duration::days(30));
        assert_eq!(Rule::ALL.len(), 7);
    }
}
