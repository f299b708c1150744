//! Erasure of a person (GDPR's right to be forgotten; design document, section 6.3): every
//! mention of a lead's name, in live interactions, the archive and the values kept by the audit
//! trail, becomes [`ERASED`]. One transaction: all of it or nothing.
//!
//! A mention is the name as a whole word or phrase, any case: the lead field itself, and the
//! name inside titles, locations, descriptions and notes. The audit trail records the erasure
//! itself (who and when) like any change, and its kept values are rewritten too, by the owner,
//! who alone may lift the trail's append-only guard for this transaction.

use sqlx::PgConnection;

/// What an erased name becomes.
pub const ERASED: &str = "[erased]";

/// What an erasure changed (or would change).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Erasure {
    /// Live interactions that mentioned the name.
    pub live: u64,
    /// Archived interactions that mentioned it.
    pub archived: u64,
    /// Audit rows whose kept values mentioned it.
    pub audit: u64,
}

/// A PostgreSQL regular expression matching `name` as a whole word or phrase in text, and a
/// second one matching it inside JSON text (where quotes and backslashes are escaped).
fn patterns(name: &str) -> (String, String) {
    fn escape(text: &str) -> String {
        let mut out = String::new();
        for c in text.chars() {
            if "\\.^$|()[]{}*+?".contains(c) {
                out.push('\\');
            }
            out.push(c);
        }
        out
    }
    let json = serde_json::to_string(name).unwrap_or_default();
    let json = json.trim_matches('"');
    (
        format!("\\m{}\\M", escape(name)),
        format!("\\m{}\\M", escape(json)),
    )
}

/// Erases `name` everywhere; with `apply` false only counts. The name must be at least 3
/// characters (shorter ones would match far too much); the caller checks that.
pub async fn erase(conn: &mut PgConnection, name: &str, apply: bool) -> sqlx::Result<Erasure> {
    let (text_re, json_re) = patterns(name.trim());
    let mentions = |table: &str| {
        format!(
            "FROM {table} WHERE lower(btrim(lead)) = lower(btrim($1)) \
               OR lead ~* $2 OR title ~* $2 OR location ~* $2 OR description ~* $2 OR notes ~* $2"
        )
    };
    let count = |table: &str| format!("SELECT count(*) {}", mentions(table));
    let live: i64 = sqlx::query_scalar(&count("interactions"))
        .bind(name)
        .bind(&text_re)
        .fetch_one(&mut *conn)
        .await?;
    let archived: i64 = sqlx::query_scalar(&count("interactions_archive"))
        .bind(name)
        .bind(&text_re)
        .fetch_one(&mut *conn)
        .await?;
    let audit_where = "WHERE old_values::text ~* $1 OR new_values::text ~* $1";
    if !apply {
        let audit: i64 =
            sqlx::query_scalar(&format!("SELECT count(*) FROM audit_log {audit_where}"))
                .bind(&json_re)
                .fetch_one(&mut *conn)
                .await?;
        return Ok(Erasure {
            live: u64::try_from(live).unwrap_or(0),
            archived: u64::try_from(archived).unwrap_or(0),
            audit: u64::try_from(audit).unwrap_or(0),
        });
    }
    for table in ["interactions", "interactions_archive"] {
        let sql = format!(
            "UPDATE {table} SET \
               lead = CASE WHEN lower(btrim(lead)) = lower(btrim($1)) THEN $3 \
                           ELSE regexp_replace(lead, $2, $3, 'gi') END, \
               title = regexp_replace(title, $2, $3, 'gi'), \
               location = regexp_replace(location, $2, $3, 'gi'), \
               description = regexp_replace(description, $2, $3, 'gi'), \
               notes = regexp_replace(notes, $2, $3, 'gi') \
             WHERE lower(btrim(lead)) = lower(btrim($1)) \
                OR lead ~* $2 OR title ~* $2 OR location ~* $2 OR description ~* $2 OR notes ~* $2"
        );
        sqlx::query(&sql)
            .bind(name)
            .bind(&text_re)
            .bind(ERASED)
            .execute(&mut *conn)
            .await?;
    }
    // The trail keeps old values: they are rewritten too, under the owner's lifted guard.
    sqlx::query("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
        .execute(&mut *conn)
        .await?;
    let audit = sqlx::query(&format!(
        "UPDATE audit_log SET \
           old_values = regexp_replace(old_values::text, $1, $2, 'gi')::jsonb, \
           new_values = regexp_replace(new_values::text, $1, $2, 'gi')::jsonb \
         {audit_where}"
    ))
    .bind(&json_re)
    .bind(ERASED)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    sqlx::query("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
        .execute(&mut *conn)
        .await?;
    Ok(Erasure {
        live: u64::try_from(live).unwrap_or(0),
        archived: u64::try_from(archived).unwrap_or(0),
        audit,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_literal_whole_word_patterns() {
        assert_eq!(patterns("Mira Okafor").0, "\\mMira Okafor\\M");
        assert_eq!(patterns("J. (Jo) Lee").0, "\\mJ\\. \\(Jo\\) Lee\\M");
        assert_eq!(
            patterns("Sam \"Ace\" O'Neil").1,
            "\\mSam \\\\\"Ace\\\\\" O'Neil\\M"
        );
    }
}
