//! The roles around the policies: the startup check that refuses an application role which
//! could bypass them, an owner without BYPASSRLS, and the index plans under the policies.

use std::sync::atomic::{AtomicUsize, Ordering};

use ifind::db::roles::{AppRoleError, check_app_role};
use sqlx::{Connection, PgConnection};

use super::{common, world};

/// Roles made for one test, dropped at the end.
struct Roles<'a> {
    t: &'a common::TestDb,
    names: Vec<String>,
}

impl Roles<'_> {
    /// Creates a login role with `attributes` and returns its URL for the test database.
    async fn create(&mut self, stem: &str, attributes: &str) -> String {
        static N: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "ifind_t_{stem}_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        );
        // Names come from this test; attributes are fixed strings.
        let sql = format!("CREATE ROLE {name} LOGIN PASSWORD 'pw-test' {attributes}");
        sqlx::raw_sql(&sql)
            .execute(&self.t.db.pool)
            .await
            .expect("create role");
        self.names.push(name.clone());
        common::with_user(&self.t.url, &name, Some("pw-test"))
    }

    async fn drop_all(self) {
        for name in self.names.iter().rev() {
            sqlx::raw_sql(&format!("DROP ROLE IF EXISTS {name}"))
                .execute(&self.t.db.pool)
                .await
                .expect("drop role");
        }
    }
}

async fn check_as(url: &str) -> Result<(), AppRoleError> {
    let mut conn = PgConnection::connect(url).await.expect("connect");
    let r = check_app_role(&mut conn).await;
    conn.close().await.ok();
    r
}

#[tokio::test]
async fn the_startup_check_refuses_roles_that_could_bypass_the_policies() {
    let t = common::fresh_db().await;
    let mut roles = Roles {
        t: &t,
        names: Vec::new(),
    };
    let superuser = roles.create("super", "SUPERUSER").await;
    let bypass = roles.create("bypass", "BYPASSRLS").await;
    let owner = roles.create("owner", "").await;
    let member = roles.create("member", "").await;
    let owner_name = owner_of(&owner);
    sqlx::raw_sql(&format!(
        "ALTER TABLE sites OWNER TO {owner_name}; GRANT {} TO {}",
        owner_of(&bypass),
        owner_of(&member)
    ))
    .execute(&t.db.pool)
    .await
    .expect("set up");

    let e = check_as(&superuser).await.expect_err("superuser");
    assert!(matches!(e, AppRoleError::Superuser { .. }), "{e}");
    let text = e.to_string();
    assert!(text.contains("is a superuser") && text.contains("database.owner_url"));
    let e = check_as(&bypass).await.expect_err("bypass");
    assert!(matches!(e, AppRoleError::BypassRls { .. }), "{e}");
    let e = check_as(&owner).await.expect_err("owner");
    assert!(e.to_string().contains("owns the table `sites`"), "{e}");
    let e = check_as(&member).await.expect_err("member");
    assert!(matches!(e, AppRoleError::CanBecome { .. }), "{e}");
    check_as(&t.app_url).await.expect("ifind_app passes");
    // Roles that could make themselves stronger, or run programs or write files as the server.
    let creator = roles.create("createrole", "CREATEROLE").await;
    let e = check_as(&creator).await.expect_err("createrole");
    assert!(e.to_string().contains("has CREATEROLE"), "{e}");
    for group in ["pg_execute_server_program", "pg_write_server_files"] {
        let url = roles.create("server", "").await;
        sqlx::raw_sql(&format!("GRANT {group} TO {}", owner_of(&url)))
            .execute(&t.db.pool)
            .await
            .expect("grant");
        let e = check_as(&url).await.expect_err(group);
        assert!(e.to_string().contains(group), "{e}");
    }

    // The binary refuses to act for a user on such a connection, naming the role and the fix.
    for url in [&t.url, &bypass] {
        let out = common::ifind(url, &["search", "--site", "Alpha"], None);
        let err = common::fails(&out, 1);
        assert!(err.contains("the database user `"), "{err}");
        assert!(
            err.contains("connect as a non-owner role such as ifind_app"),
            "{err}"
        );
    }
    let err = common::fails(&common::ifind(&t.url, &[], None), 1);
    assert!(err.contains("is a superuser"), "the TUI too: {err}");

    sqlx::raw_sql("ALTER TABLE sites OWNER TO CURRENT_USER")
        .execute(&t.db.pool)
        .await
        .expect("restore the owner");
    roles.drop_all().await;
}

/// The role name in a URL made by [`Roles::create`].
fn owner_of(url: &str) -> String {
    let rest = &url[url.find("://").map(|i| i + 3).unwrap_or(0)..];
    rest.split([':', '@'])
        .next()
        .unwrap_or_default()
        .to_string()
}

/// An owner that is neither a superuser nor BYPASSRLS: the migrations still run, its own
/// commands see every row (its policies), and the SECURITY DEFINER functions, which run as it,
/// do not recurse into the policies of the tables they read.
#[tokio::test]
async fn an_owner_without_bypassrls_migrates_and_the_policies_still_work() {
    let t = common::fresh_db().await;
    let mut roles = Roles {
        t: &t,
        names: Vec::new(),
    };
    let owner_url = roles.create("plainowner", "").await;
    let owner = owner_of(&owner_url);
    let name = format!("{}_plain", t.name);
    sqlx::raw_sql(&format!("CREATE DATABASE {name} OWNER {owner}"))
        .execute(&t.db.pool)
        .await
        .expect("create database");
    let url = common::with_database(&owner_url, &name);
    let mut conn = PgConnection::connect(&url).await.expect("connect as owner");
    ifind::db::migrate::run(&mut conn).await.expect("migrate");
    let setup = "INSERT INTO users (username, email, password_hash) VALUES \
                   ('ann', 'ann@example.org', 'x'), ('ben', 'ben@example.org', 'x'); \
                 INSERT INTO sites (name) VALUES ('One'), ('Two'); \
                 INSERT INTO user_site_mapping (user_id, site_id, role) VALUES (1, 1, 'editor'), \
                   (2, 2, 'editor'); \
                 INSERT INTO interactions (site_id, title, type, lead, start_datetime, \
                   timezone, end_datetime, created_by) \
                 SELECT s, 'Row of ' || s, 'Call', 'Ann', now(), 'UTC', now(), s \
                   FROM generate_series(1, 2) s;";
    sqlx::raw_sql(setup)
        .execute(&mut conn)
        .await
        .expect("owner writes");
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM interactions")
        .fetch_one(&mut conn)
        .await
        .expect("owner reads");
    assert_eq!(n, 2);
    conn.close().await.ok();

    let app_url = common::app_url_of(&common::with_database(&t.url, &name));
    let app = PgConnection::connect(&app_url)
        .await
        .expect("connect as app");
    let mut app = app;
    let mut tx = app.begin().await.expect("begin");
    ifind::db::pool::set_acting_user(&mut tx, Some(1))
        .await
        .expect("acting user");
    ifind::db::pool::enter_site(&mut tx, 1)
        .await
        .expect("enter site");
    let rows: Vec<(i32, Option<String>)> = sqlx::query_as(
        "SELECT i.site_id, ifind_username(i.created_by) FROM interactions i ORDER BY 1",
    )
    .fetch_all(&mut *tx)
    .await
    .expect("no recursion, no error");
    assert_eq!(rows, vec![(1, Some("ann".to_string()))]);
    // The small tables' functions, which run as this owner too.
    let sites: Vec<String> = sqlx::query_scalar("SELECT name FROM ifind_my_sites()")
        .fetch_all(&mut *tx)
        .await
        .expect("no recursion, no error");
    assert_eq!(sites, ["One"]);
    let mapped: Vec<i32> = sqlx::query_scalar("SELECT site_id FROM ifind_mappings()")
        .fetch_all(&mut *tx)
        .await
        .expect("no recursion, no error");
    assert_eq!(mapped, [1]);
    let role: Option<String> = sqlx::query_scalar("SELECT ifind_site_role(2)")
        .fetch_one(&mut *tx)
        .await
        .expect("role");
    assert_eq!(role, None);
    tx.rollback().await.ok();
    app.close().await.ok();

    sqlx::raw_sql(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .execute(&t.db.pool)
        .await
        .expect("drop database");
    roles.drop_all().await;
}

/// Under the policies a user's own full-text condition runs after them (no LEAKPROOF mark lets
/// it become an index condition: migration 0011), and the Finder's statement still reaches its
/// rows through an index: the ids from the definer entry point `ifind_match_ids` (which used
/// the btree_gin index as the owner, after checking the site), by primary key.
#[tokio::test]
async fn full_text_search_keeps_its_index_under_the_policies() {
    let w = world().await;
    // Enough rows that the index matters: 3,000 in each site, the searched word in two of them.
    sqlx::query(
        "INSERT INTO interactions (site_id, title, type, lead, start_datetime, timezone, \
                                   end_datetime, created_by) \
         SELECT s, 'Weekly call number ' || n, 'Call', 'Jun Park', now(), 'UTC', now(), $3 \
           FROM unnest(ARRAY[$1, $2]) AS s, generate_series(1, 3000) AS n",
    )
    .bind(w.alpha)
    .bind(w.beta)
    .bind(w.boss)
    .execute(&w.t.db.pool)
    .await
    .expect("rows");
    sqlx::query("ANALYZE interactions")
        .execute(&w.t.db.pool)
        .await
        .expect("analyze");
    let filters = ifind::domain::query::Filters::default();
    for user in [w.vic, w.boss] {
        let mut tx = w.app.begin_as(Some(user)).await.expect("begin");
        let plan: serde_json::Value = sqlx::query_scalar(
            "EXPLAIN (FORMAT JSON) SELECT interaction_id FROM interactions \
              WHERE site_id = $1 AND deleted_at IS NULL \
                AND search_vector @@ to_tsquery('english', 'alphaword')",
        )
        .bind(w.alpha)
        .fetch_one(&mut *tx)
        .await
        .expect("explain");
        let cond = index_cond(&plan).unwrap_or_default();
        assert!(!cond.contains("search_vector @@"), "{cond}");

        let candidates = ifind::db::search::match_candidates(
            &mut tx,
            w.alpha,
            Some("'alphaword'"),
            &filters,
            false,
            ifind::db::search::MATCH_CAP,
        )
        .await
        .expect("candidates");
        assert!(
            matches!(&candidates, ifind::db::search::Candidates::Ids(ids) if ids.len() == 2),
            "{candidates:?}"
        );
        let plan: serde_json::Value = ifind::db::search::page_statement(
            "EXPLAIN (FORMAT JSON) ",
            w.alpha,
            Some("'alphaword'"),
            Some("'alphaword'"),
            false,
            &candidates,
            &filters,
            ifind::db::search::Sort::Newest,
            None,
            50,
        )
        .build_query_scalar()
        .fetch_one(&mut *tx)
        .await
        .expect("explain");
        let text = plan.to_string();
        assert!(text.contains("pk_interactions"), "{text}");
        let cond = index_cond(&plan).unwrap_or_default();
        assert!(cond.contains("interaction_id = ANY"), "{cond}");
        tx.rollback().await.ok();
    }
}

/// The first `Index Cond` in a JSON plan.
fn index_cond(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::Object(map) => map
            .get("Index Cond")
            .and_then(|c| c.as_str().map(str::to_string))
            .or_else(|| map.values().find_map(index_cond)),
        serde_json::Value::Array(items) => items.iter().find_map(index_cond),
        _ => None,
    }
}
