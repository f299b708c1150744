//! The statements of `ifind retention` (design document §6.1, §6.4): for each rule, how many
//! rows are past its age, and one batch of its work, each batch in the caller's transaction.
//! The audit trail and the access log are append-only for everyone; the owner's retention lifts
//! that for its own transaction only (`ifind.retention`, migration 0016).

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use crate::domain::retention::Rule;

/// How many rows `rule` would take now: those older than `cutoff` (and, for anonymising, not
/// yet anonymised).
pub async fn due(conn: &mut PgConnection, rule: Rule, cutoff: DateTime<Utc>) -> sqlx::Result<i64> {
    let sql = match rule {
        Rule::Trash => {
            "SELECT count(*) FROM interactions WHERE deleted_at IS NOT NULL AND deleted_at < $1"
        }
        Rule::Archive => "SELECT count(*) FROM interactions_archive WHERE archived_at < $1",
        Rule::AnonymiseActivity => {
            "SELECT (SELECT count(*) FROM audit_log WHERE at < $1 AND anonymised_at IS NULL) \
                  + (SELECT count(*) FROM access_log WHERE at < $1 AND anonymised_at IS NULL)"
        }
        Rule::AccessLog => "SELECT count(*) FROM access_log WHERE at < $1",
        Rule::AuditData => {
            "SELECT count(*) FROM audit_log WHERE at < $1 AND table_name = 'interactions'"
        }
        Rule::AuditAdmin => {
            "SELECT count(*) FROM audit_log WHERE at < $1 AND table_name <> 'interactions'"
        }
        Rule::SchemaChanges => {
            "SELECT count(*) FROM schema_migrations \
              WHERE applied_at < $1 AND applied_by <> '(forgotten)'"
        }
    };
    sqlx::query_scalar(sql).bind(cutoff).fetch_one(conn).await
}

/// One batch of `rule`'s work on at most `batch` rows older than `cutoff`, in the caller's
/// transaction (which it lets change the append-only tables): how many rows it took.
pub async fn apply_batch(
    conn: &mut PgConnection,
    rule: Rule,
    cutoff: DateTime<Utc>,
    batch: i64,
) -> sqlx::Result<u64> {
    sqlx::query("SET LOCAL ifind.retention = 'on'")
        .execute(&mut *conn)
        .await?;
    let statements: &[&str] = match rule {
        Rule::Trash => {
            return crate::db::trash::purge_batch(conn, cutoff, batch).await;
        }
        Rule::Archive => &[
            "DELETE FROM interactions_archive WHERE (interaction_id, site_id) IN ( \
              SELECT interaction_id, site_id FROM interactions_archive \
               WHERE archived_at < $1 ORDER BY archived_at LIMIT $2)",
        ],
        Rule::AnonymiseActivity => &[
            "UPDATE audit_log SET actor = ifind_pseudonym(coalesce('user:' || user_id, \
                                                              'name:' || lower(actor), 'none')), \
                    user_id = NULL, anonymised_at = now() \
              WHERE id IN (SELECT id FROM audit_log WHERE at < $1 AND anonymised_at IS NULL \
                            ORDER BY at LIMIT $2)",
            "UPDATE access_log SET username_as_typed = \
                      ifind_pseudonym(coalesce('user:' || user_id, \
                                               'name:' || lower(username_as_typed), 'none')), \
                    user_id = NULL, anonymised_at = now() \
              WHERE id IN (SELECT id FROM access_log WHERE at < $1 AND anonymised_at IS NULL \
                            ORDER BY at LIMIT $2)",
        ],
        Rule::AccessLog => &["DELETE FROM access_log WHERE id IN ( \
              SELECT id FROM access_log WHERE at < $1 ORDER BY at LIMIT $2)"],
        Rule::AuditData => &["DELETE FROM audit_log WHERE id IN ( \
              SELECT id FROM audit_log WHERE at < $1 AND table_name = 'interactions' \
               ORDER BY at LIMIT $2)"],
        Rule::AuditAdmin => &["DELETE FROM audit_log WHERE id IN ( \
              SELECT id FROM audit_log WHERE at < $1 AND table_name <> 'interactions' \
               ORDER BY at LIMIT $2)"],
        Rule::SchemaChanges => &["UPDATE schema_migrations SET applied_by = '(forgotten)' \
              WHERE number IN (SELECT number FROM schema_migrations \
                                WHERE applied_at < $1 AND applied_by <> '(forgotten)' \
                                ORDER BY applied_at LIMIT $2)"],
    };
    let mut taken = 0;
    for sql in statements {
        taken += sqlx::query(sql)
            .bind(cutoff)
            .bind(batch)
            .execute(&mut *conn)
            .await?
            .rows_affected();
    }
    Ok(taken)
}

/// Records in `retention_log`, in the caller's transaction, that `rule` took `rows` rows older
/// than `cutoff`.
pub async fn record(
    conn: &mut PgConnection,
    rule: Rule,
    cutoff: DateTime<Utc>,
    rows: u64,
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO retention_log (rule, cutoff, affected) VALUES ($1, $2, $3)")
        .bind(rule.name())
        .bind(cutoff)
        .bind(i64::try_from(rows).unwrap_or(i64::MAX))
        .execute(conn)
        .await?;
    Ok(())
}

/// When retention last ran (any rule), if ever.
pub async fn last_run(conn: &mut PgConnection) -> sqlx::Result<Option<DateTime<Utc>>> {
    sqlx::query_scalar("SELECT max(at) FROM retention_log")
        .fetch_one(conn)
        .await
}
