//! The schema against the design document's tables (section 2.2) and indexes (section 3.1).

mod common;

use sqlx::PgPool;

/// (column, data type as information_schema spells it, max length, nullable, default contains)
type Col = (
    &'static str,
    &'static str,
    Option<i32>,
    bool,
    Option<&'static str>,
);

async fn columns(
    pool: &PgPool,
    table: &str,
) -> Vec<(String, String, Option<i32>, bool, Option<String>)> {
    sqlx::query_as(
        "SELECT column_name::text, data_type::text, character_maximum_length, \
                is_nullable = 'YES', column_default::text \
           FROM information_schema.columns \
          WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position",
    )
    .bind(table)
    .fetch_all(pool)
    .await
    .expect("columns")
}

async fn check_table(pool: &PgPool, table: &str, expected: &[Col]) {
    let actual = columns(pool, table).await;
    for (name, ty, len, nullable, default) in expected {
        let col = actual
            .iter()
            .find(|c| c.0 == *name)
            .unwrap_or_else(|| panic!("{table}.{name} is missing"));
        assert_eq!(col.1, *ty, "{table}.{name} type");
        assert_eq!(col.2, *len, "{table}.{name} length");
        assert_eq!(col.3, *nullable, "{table}.{name} nullability");
        if let Some(d) = default {
            assert!(
                col.4.as_deref().unwrap_or("").contains(d),
                "{table}.{name} default {:?} should contain {d}",
                col.4
            );
        }
    }
}

const TS: &str = "timestamp with time zone";

#[tokio::test]
async fn tables_have_the_documents_columns_types_and_constraints() {
    let t = common::fresh_db().await;
    let p = &t.db.pool;
    check_table(
        p,
        "users",
        &[
            ("user_id", "integer", None, false, None),
            ("username", "character varying", Some(50), false, None),
            ("password_hash", "character varying", Some(255), false, None),
            ("email", "character varying", Some(100), false, None),
            ("last_login", TS, None, true, None),
            ("is_active", "boolean", None, false, Some("true")),
        ],
    )
    .await;
    check_table(
        p,
        "sites",
        &[
            ("site_id", "integer", None, false, None),
            ("name", "character varying", Some(100), false, None),
            ("description", "text", None, true, None),
            ("is_active", "boolean", None, false, Some("true")),
        ],
    )
    .await;
    check_table(
        p,
        "user_site_mapping",
        &[
            ("mapping_id", "integer", None, false, None),
            ("user_id", "integer", None, false, None),
            ("site_id", "integer", None, false, None),
            ("role", "character varying", Some(50), false, None),
            ("assigned_at", TS, None, false, Some("CURRENT_TIMESTAMP")),
        ],
    )
    .await;
    check_table(
        p,
        "interactions",
        &[
            ("interaction_id", "integer", None, false, None),
            ("site_id", "integer", None, false, None),
            ("title", "character varying", Some(255), false, None),
            ("type", "character varying", Some(50), false, None),
            ("lead", "character varying", Some(100), false, None),
            ("start_datetime", TS, None, false, None),
            ("timezone", "character varying", Some(50), false, None),
            ("end_datetime", TS, None, false, None),
            ("location", "character varying", Some(255), true, None),
            ("description", "text", None, true, None),
            ("notes", "text", None, true, None),
            ("created_by", "integer", None, false, None),
            ("created_at", TS, None, false, Some("CURRENT_TIMESTAMP")),
            ("updated_by", "integer", None, true, None),
            ("updated_at", TS, None, true, None),
        ],
    )
    .await;

    // Auto-increment ids are identity columns.
    let identities: Vec<(String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text FROM information_schema.columns \
          WHERE table_schema = 'public' AND is_identity = 'YES' ORDER BY 1",
    )
    .fetch_all(p)
    .await
    .expect("identities");
    assert_eq!(
        identities,
        vec![
            ("interactions".into(), "interaction_id".into()),
            ("sites".into(), "site_id".into()),
            ("user_site_mapping".into(), "mapping_id".into()),
            ("users".into(), "user_id".into()),
        ]
    );

    // Foreign keys of the document.
    let fks: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT tc.table_name::text, kcu.column_name::text, ccu.table_name::text \
           FROM information_schema.table_constraints tc \
           JOIN information_schema.key_column_usage kcu USING (constraint_schema, constraint_name) \
           JOIN information_schema.constraint_column_usage ccu USING (constraint_schema, constraint_name) \
          WHERE tc.constraint_type = 'FOREIGN KEY' ORDER BY 1, 2",
    )
    .fetch_all(p)
    .await
    .expect("foreign keys");
    for fk in [
        ("interactions", "created_by", "users"),
        ("interactions", "site_id", "sites"),
        ("interactions", "updated_by", "users"),
        ("user_site_mapping", "site_id", "sites"),
        ("user_site_mapping", "user_id", "users"),
    ] {
        assert!(
            fks.iter()
                .any(|f| (f.0.as_str(), f.1.as_str(), f.2.as_str()) == fk),
            "missing foreign key {fk:?} in {fks:?}"
        );
    }
}

#[tokio::test]
async fn every_index_of_section_3_1_exists_and_site_data_is_keyed_by_site() {
    let t = common::fresh_db().await;
    let p = &t.db.pool;
    let indexes: Vec<(String, String)> = sqlx::query_as(
        "SELECT indexname::text, indexdef FROM pg_indexes WHERE schemaname = 'public'",
    )
    .fetch_all(p)
    .await
    .expect("indexes");
    let def = |name: &str| -> String {
        indexes
            .iter()
            .find(|i| i.0 == name)
            .map(|i| i.1.clone())
            .unwrap_or_else(|| panic!("index {name} is missing"))
    };
    for (name, must_contain) in [
        ("pk_users", "(user_id)"),
        ("idx_users_username", "UNIQUE INDEX"),
        ("idx_users_email", "UNIQUE INDEX"),
        ("pk_sites", "(site_id)"),
        ("idx_sites_name", "UNIQUE INDEX"),
        ("pk_user_site", "mapping_id"),
        ("idx_user_site_user", "(user_id, site_id)"),
        ("idx_user_site_site", "(site_id)"),
        ("pk_interactions", "interaction_id"),
        ("idx_interactions_site", "(site_id)"),
        ("idx_interactions_site_live", "WHERE (deleted_at IS NULL)"),
        ("idx_interactions_title", "title"),
        ("idx_interactions_type", "type"),
        ("idx_interactions_lead", "lead"),
        ("idx_interactions_dates", "start_datetime, end_datetime"),
        ("ftidx_interactions_text", "gin (site_id, search_vector)"),
        ("idx_interactions_title_trgm", "gin_trgm_ops"),
        ("idx_interactions_lead_trgm", "gin_trgm_ops"),
    ] {
        let d = def(name);
        assert!(d.contains(must_contain), "{name}: {d}");
    }
    // Site data is keyed by site_id (Citus-distributable).
    for pk in ["pk_interactions", "pk_user_site"] {
        assert!(def(pk).contains("site_id"), "{pk} includes site_id");
    }
}

#[tokio::test]
async fn search_vector_weights_title_over_lead_over_description_over_notes() {
    let t = common::fresh_db().await;
    let p = &t.db.pool;
    sqlx::raw_sql(
        "INSERT INTO users (username, password_hash, email) VALUES ('u', 'x', 'u@x');
         INSERT INTO sites (name) VALUES ('s');
         INSERT INTO interactions (site_id, title, type, lead, start_datetime, timezone,
                                   end_datetime, location, description, notes, created_by)
         VALUES (1, 'Alpha', 'Bravo', 'Charlie', now(), 'UTC', now(), 'Delta', 'Echo', 'Foxtrot', 1);",
    )
    .execute(p)
    .await
    .expect("insert");
    let v: String = sqlx::query_scalar("SELECT search_vector::text FROM interactions")
        .fetch_one(p)
        .await
        .expect("vector");
    for part in [
        "'alpha':1A",
        "'bravo'",
        "'charli'",
        "'delta'",
        "'echo'",
        "'foxtrot'",
    ] {
        assert!(v.contains(part.split(':').next().unwrap_or(part)), "{v}");
    }
    for (word, weight) in [
        ("alpha", "A"),
        ("bravo", "B"),
        ("charli", "B"),
        ("delta", "B"),
        ("echo", "C"),
    ] {
        let re = format!("'{word}':");
        let at = v.find(&re).unwrap_or_else(|| panic!("{word} in {v}"));
        let rest = &v[at + re.len()..];
        let token: String = rest.chars().take_while(|c| !c.is_whitespace()).collect();
        assert!(token.ends_with(weight), "{word} should weigh {weight}: {v}");
    }
    // Weight D is the default and is not printed.
    let at = v.find("'foxtrot':").expect("foxtrot");
    let token: String = v[at..].chars().take_while(|c| !c.is_whitespace()).collect();
    assert!(
        token.chars().last().is_some_and(|c| c.is_ascii_digit()),
        "{v}"
    );
}

#[tokio::test]
async fn constraints_reject_bad_rows() {
    let t = common::fresh_db().await;
    let p = &t.db.pool;
    sqlx::raw_sql(
        "INSERT INTO users (username, password_hash, email) VALUES ('u', 'x', 'u@x');
         INSERT INTO sites (name) VALUES ('s');",
    )
    .execute(p)
    .await
    .expect("setup");
    let end_before_start = sqlx::query(
        "INSERT INTO interactions (site_id, title, type, lead, start_datetime, timezone, \
         end_datetime, created_by) VALUES (1, 't', 'x', 'l', now(), 'UTC', now() - interval '1 h', 1)",
    )
    .execute(p)
    .await;
    assert!(end_before_start.is_err());
    let bad_role = sqlx::query(
        "INSERT INTO user_site_mapping (user_id, site_id, role) VALUES (1, 1, 'owner')",
    )
    .execute(p)
    .await;
    assert!(bad_role.is_err());
    sqlx::query("INSERT INTO user_site_mapping (user_id, site_id, role) VALUES (1, 1, 'viewer')")
        .execute(p)
        .await
        .expect("one role");
    let second = sqlx::query(
        "INSERT INTO user_site_mapping (user_id, site_id, role) VALUES (1, 1, 'editor')",
    )
    .execute(p)
    .await;
    assert!(second.is_err(), "one role per user and site");
}

#[tokio::test]
async fn fresh_database_has_the_current_schema() {
    let t = common::fresh_db().await;
    let mut conn = t.db.pool.acquire().await.expect("connection");
    let v = ifind::db::migrate::check(&mut conn)
        .await
        .expect("schema is current");
    assert_eq!(v, ifind::db::migrate::binary_version());
    // Migrating again changes nothing.
    let applied = ifind::db::migrate::run(&mut conn).await.expect("rerun");
    assert!(applied.is_empty());
    let recorded: Vec<(i32, String)> =
        sqlx::query_as("SELECT number, version FROM schema_migrations ORDER BY number")
            .fetch_all(&mut *conn)
            .await
            .expect("migrations");
    assert_eq!(recorded.len(), ifind::db::migrate::MIGRATIONS.len());
}

#[tokio::test]
async fn the_acting_user_is_set_per_transaction_and_never_leaks() {
    let t = common::fresh_db().await;
    // One connection, so the second transaction reuses the first one's session.
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&t.url)
        .await
        .expect("pool");
    let db = ifind::db::Db { pool };
    let setting = "SELECT coalesce(current_setting('ifind.user_id', true), '')";
    let mut tx = db.begin_as(Some(42)).await.expect("begin");
    let v: String = sqlx::query_scalar(setting)
        .fetch_one(&mut *tx)
        .await
        .expect("read");
    assert_eq!(v, "42");
    tx.commit().await.expect("commit");

    let mut tx = db.pool.begin().await.expect("plain begin");
    let v: String = sqlx::query_scalar(setting)
        .fetch_one(&mut *tx)
        .await
        .expect("read");
    assert_eq!(v, "", "the user does not outlive its transaction");
    tx.rollback().await.expect("rollback");

    let mut tx = db.begin_as(Some(7)).await.expect("begin");
    let _ = sqlx::query("SELECT 1/0").execute(&mut *tx).await;
    drop(tx);
    let mut tx = db.begin_as(None).await.expect("begin after a failed one");
    let v: String = sqlx::query_scalar(setting)
        .fetch_one(&mut *tx)
        .await
        .expect("read");
    assert_eq!(v, "", "a failed transaction leaves nothing behind");
}
