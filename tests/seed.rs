//! `ifind seed` against a real PostgreSQL: determinism, shape of the data, errors.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};

use ifind::db::Db;
use ifind::seed::{SeedOptions, SeedReport, seed};

fn opts(sites: u32, interactions: u64, seed: u64) -> SeedOptions {
    SeedOptions {
        sites,
        interactions,
        seed,
    }
}

async fn run(db: &Db, o: &SeedOptions) -> anyhow::Result<SeedReport> {
    seed(db, o, &|_, _| {}).await
}

async fn scalar_i64(db: &Db, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(&db.pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// An md5 over every seeded table, ordered by key (the password hash is random on purpose).
async fn fingerprint(db: &Db) -> String {
    sqlx::query_scalar(
        "SELECT md5(concat_ws('|', \
           (SELECT string_agg(t::text, E'\\n' ORDER BY interaction_id) FROM interactions t), \
           (SELECT string_agg(t::text, E'\\n' ORDER BY site_id) FROM sites t), \
           (SELECT string_agg(concat_ws(',', user_id, username, email, last_login, is_active, \
               is_global_admin, created_at), E'\\n' ORDER BY user_id) FROM users), \
           (SELECT string_agg(t::text, E'\\n' ORDER BY mapping_id) FROM user_site_mapping t)))",
    )
    .fetch_one(&db.pool)
    .await
    .expect("fingerprint")
}

#[tokio::test]
async fn same_seed_gives_identical_rows() {
    let a = common::fresh_db().await;
    let b = common::fresh_db().await;
    let c = common::fresh_db().await;
    run(&a.db, &opts(6, 3000, 42)).await.expect("seed a");
    run(&b.db, &opts(6, 3000, 42)).await.expect("seed b");
    run(&c.db, &opts(6, 3000, 43)).await.expect("seed c");
    let (fa, fb, fc) = (
        fingerprint(&a.db).await,
        fingerprint(&b.db).await,
        fingerprint(&c.db).await,
    );
    assert_eq!(fa, fb, "same options must give the same rows");
    assert_ne!(fa, fc, "another seed must give other rows");
}

#[tokio::test]
async fn shape_counts_skew_and_constraints() {
    const ROWS: u64 = 12_000;
    let t = common::fresh_db().await;
    let db = &t.db;
    let calls = AtomicU64::new(0);
    let last = AtomicU64::new(0);
    let report = seed(db, &opts(20, ROWS, 7), &|done, total| {
        assert_eq!(total, ROWS);
        calls.fetch_add(1, Ordering::Relaxed);
        last.store(done, Ordering::Relaxed);
    })
    .await
    .expect("seed");
    assert!(
        calls.load(Ordering::Relaxed) >= 5,
        "progress is reported per batch"
    );
    assert_eq!(last.load(Ordering::Relaxed), ROWS);

    // Counts: the report agrees with the database.
    assert_eq!(report.interactions, ROWS);
    assert_eq!(report.sites.len(), 20);
    assert_eq!(
        scalar_i64(db, "SELECT count(*) FROM interactions").await,
        ROWS as i64
    );
    assert_eq!(scalar_i64(db, "SELECT count(*) FROM sites").await, 20);
    assert_eq!(
        scalar_i64(db, "SELECT count(*) FROM users").await,
        i64::from(report.users)
    );
    for (id, name, rows) in &report.sites {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM interactions WHERE site_id = $1")
            .bind(id)
            .fetch_one(&db.pool)
            .await
            .expect("count site");
        assert_eq!(n as u64, *rows, "rows of {name}");
        assert!(*rows >= 3, "{name} has only {rows} rows");
        assert!(!name.trim().is_empty() && name.len() <= 100);
    }
    // Skew: the largest site holds more than 10% of the rows.
    let largest = report.sites.iter().map(|s| s.2).max().unwrap_or(0);
    assert!(
        largest * 10 > ROWS,
        "largest site has {largest} of {ROWS} rows"
    );

    // Ten or more real IANA zones, mostly the site's own.
    let zones: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT timezone FROM interactions ORDER BY 1")
            .fetch_all(&db.pool)
            .await
            .expect("zones");
    assert!(zones.len() >= 10, "only {} zones: {zones:?}", zones.len());
    for z in &zones {
        assert!(
            z.parse::<chrono_tz::Tz>().is_ok(),
            "{z} is not an IANA zone"
        );
    }
    let home = scalar_i64(
        db,
        "SELECT count(*) FROM interactions i JOIN sites s USING (site_id) \
         WHERE s.description LIKE '%Local time: ' || i.timezone || '.'",
    )
    .await;
    assert!(
        home as u64 * 4 > ROWS * 3,
        "only {home} rows in their site's zone"
    );

    // Working hours in the interaction's own zone; end not before start; durations.
    let odd_hours = scalar_i64(
        db,
        "SELECT count(*) FROM interactions \
         WHERE extract(hour FROM start_datetime AT TIME ZONE timezone) NOT BETWEEN 8 AND 17",
    )
    .await;
    assert_eq!(odd_hours, 0);
    let long = scalar_i64(
        db,
        "SELECT count(*) FROM interactions WHERE end_datetime - start_datetime > interval '3 hours'",
    )
    .await;
    assert!(
        long > 0 && (long as u64) * 12 < ROWS,
        "{long} rows longer than 3 hours"
    );
    let future = scalar_i64(
        db,
        "SELECT count(*) FROM interactions WHERE start_datetime > now()",
    )
    .await;
    let future = future as u64;
    assert!(
        future * 40 > ROWS && future * 8 < ROWS,
        "{future} future rows"
    );
    let old = scalar_i64(
        db,
        "SELECT count(*) FROM interactions WHERE start_datetime < now() - interval '38 months'",
    )
    .await;
    assert_eq!(old, 0);

    // Authors are the site's editors or admins; about a third of rows were edited later.
    let foreign = scalar_i64(
        db,
        "SELECT count(*) FROM interactions i WHERE NOT EXISTS (SELECT 1 FROM user_site_mapping m \
           WHERE m.site_id = i.site_id AND m.user_id = i.created_by AND m.role IN ('editor', 'admin')) \
         OR (updated_by IS NOT NULL AND NOT EXISTS (SELECT 1 FROM user_site_mapping m \
           WHERE m.site_id = i.site_id AND m.user_id = i.updated_by AND m.role IN ('editor', 'admin')))",
    )
    .await;
    assert_eq!(foreign, 0);
    let updated = scalar_i64(
        db,
        "SELECT count(*) FROM interactions WHERE updated_by IS NOT NULL AND updated_at > created_at \
           AND version > 1",
    )
    .await;
    assert!(
        (ROWS / 4..ROWS * 2 / 5).contains(&(updated as u64)),
        "{updated} updated rows"
    );
    let bad_updates = scalar_i64(
        db,
        "SELECT count(*) FROM interactions WHERE (updated_by IS NULL) <> (updated_at IS NULL) \
           OR created_at > now()",
    )
    .await;
    assert_eq!(bad_updates, 0);

    // Users: a handful per site with every role; nobody can log in with an empty password.
    let roles = scalar_i64(db, "SELECT count(DISTINCT role) FROM user_site_mapping").await;
    assert_eq!(roles, 3);
    let admins = scalar_i64(
        db,
        "SELECT count(DISTINCT site_id) FROM user_site_mapping WHERE role = 'admin'",
    )
    .await;
    assert_eq!(admins, 20);
    let hashes = scalar_i64(
        db,
        "SELECT count(*) FROM users WHERE password_hash NOT LIKE '$argon2id$v=19$m=19456,t=2,p=1$%'",
    )
    .await;
    assert_eq!(hashes, 0);

    // Varied text: NULL notes often, descriptions from a sentence to several paragraphs.
    let null_notes = scalar_i64(db, "SELECT count(*) FROM interactions WHERE notes IS NULL").await;
    assert!(
        (ROWS / 2..ROWS * 7 / 10).contains(&(null_notes as u64)),
        "{null_notes} NULL notes"
    );
    let multi = scalar_i64(
        db,
        "SELECT count(*) FROM interactions WHERE description LIKE '%' || E'\\n\\n' || '%'",
    )
    .await;
    assert!(
        multi as u64 * 10 > ROWS,
        "{multi} multi-paragraph descriptions"
    );
}

#[tokio::test]
async fn word_frequencies_are_skewed() {
    let t = common::fresh_db().await;
    let db = &t.db;
    let rows = 8_000;
    run(db, &opts(4, rows, 3)).await.expect("seed");
    let stats: Vec<(String, i32)> = sqlx::query_as(
        "SELECT word, ndoc FROM ts_stat('SELECT setweight(search_vector, ''A'') FROM interactions')",
    )
    .fetch_all(&db.pool)
    .await
    .expect("ts_stat");
    assert!(stats.len() > 5_000, "only {} distinct lexemes", stats.len());
    // Common: in 10% of rows or more; medium: 0.2% to 5%; rare: once or twice.
    let common = stats.iter().filter(|s| s.1 as u64 * 10 >= rows).count();
    let medium = stats
        .iter()
        .filter(|s| (rows / 500..=rows / 20).contains(&(s.1 as u64)))
        .count();
    let rare = stats.iter().filter(|s| s.1 <= 2).count();
    assert!(common >= 10, "{common} common lexemes");
    assert!(medium >= 500, "{medium} medium lexemes");
    assert!(rare >= 1_000, "{rare} rare lexemes");
    // A frequent English word matches many rows through the full-text index's vector.
    let hits = scalar_i64(
        db,
        "SELECT count(*) FROM interactions WHERE search_vector @@ to_tsquery('english', 'people')",
    )
    .await;
    assert!(hits as u64 * 20 > rows, "'people' matches only {hits} rows");
}

async fn index_definitions(db: &Db) -> Vec<(String, String)> {
    sqlx::query_as(
        "SELECT c.relname::text, pg_get_indexdef(i.indexrelid) \
         FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
         WHERE i.indrelid = 'interactions'::regclass AND i.indisvalid \
           AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) \
         ORDER BY 1",
    )
    .fetch_all(&db.pool)
    .await
    .expect("indexes")
}

#[tokio::test]
async fn index_list_matches_the_migrations() {
    let t = common::fresh_db().await;
    let actual: Vec<(String, String)> = index_definitions(&t.db)
        .await
        .into_iter()
        .map(|(n, d)| {
            (
                n,
                d.replace(" ON public.interactions ", " ON interactions "),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = ifind::seed::SECONDARY_INDEXES
        .iter()
        .map(|(n, d)| (n.to_string(), d.to_string()))
        .collect();
    assert_eq!(actual, expected);
}

#[tokio::test]
async fn indexes_survive_the_load() {
    let t = common::fresh_db().await;
    let db = &t.db;
    let before = index_definitions(db).await;
    assert_eq!(before.len(), ifind::seed::SECONDARY_INDEXES.len());
    // Large enough to load without the indexes and re-create them.
    run(db, &opts(3, 12_000, 9)).await.expect("seed");
    assert_eq!(index_definitions(db).await, before);
    // The identity continues after the seeded ids.
    let next = scalar_i64(
        db,
        "SELECT nextval(pg_get_serial_sequence('interactions', 'interaction_id'))",
    )
    .await;
    assert_eq!(next, 12_001);
    // A second seed into the now non-empty table keeps the indexes and continues the ids.
    let report = run(db, &opts(2, 2_000, 10)).await;
    if let Ok(r) = report {
        assert_eq!(r.interactions, 2_000);
        assert_eq!(
            scalar_i64(db, "SELECT max(interaction_id)::bigint FROM interactions").await,
            14_001
        );
    }
    assert_eq!(index_definitions(db).await, before);
}

#[tokio::test]
async fn missing_indexes_are_restored() {
    let t = common::fresh_db().await;
    let db = &t.db;
    let before = index_definitions(db).await;
    sqlx::raw_sql("DROP INDEX ftidx_interactions_text; DROP INDEX idx_interactions_type")
        .execute(&db.pool)
        .await
        .expect("drop");
    let restored = ifind::seed::restore_indexes(db).await.expect("restore");
    assert_eq!(
        restored,
        vec!["ftidx_interactions_text", "idx_interactions_type"]
    );
    assert_eq!(index_definitions(db).await, before);
    assert!(
        ifind::seed::restore_indexes(db)
            .await
            .expect("again")
            .is_empty()
    );
}

#[tokio::test]
async fn existing_site_names_fail_before_writing() {
    let t = common::fresh_db().await;
    let db = &t.db;
    run(db, &opts(5, 1_000, 11)).await.expect("first seed");
    let counts = "SELECT (SELECT count(*) FROM sites) * 1000000 + (SELECT count(*) FROM users) \
                  * 10000 + (SELECT count(*) FROM interactions)";
    let before = scalar_i64(db, counts).await;
    let err = run(db, &opts(5, 1_000, 11))
        .await
        .expect_err("second seed must fail");
    let msg = err.to_string();
    assert!(
        msg.contains("already exist") && msg.contains("--seed"),
        "{msg}"
    );
    assert_eq!(scalar_i64(db, counts).await, before);
    // Another seed adds to the same database; its users avoid the taken usernames.
    let users = scalar_i64(db, "SELECT count(*) FROM users").await;
    let other = run(db, &opts(3, 500, 12)).await.expect("another seed");
    assert_eq!(
        scalar_i64(db, "SELECT count(*) FROM users").await,
        users + i64::from(other.users)
    );
}

#[tokio::test]
async fn bad_options_are_refused() {
    let t = common::fresh_db().await;
    let err = run(&t.db, &opts(0, 10, 1)).await.expect_err("zero sites");
    assert!(err.to_string().contains("--sites"), "{err}");
    let report = run(&t.db, &opts(2, 0, 1)).await.expect("no interactions");
    assert_eq!(report.interactions, 0);
    assert_eq!(report.sites.len(), 2);
}

/// Timing run: `IFIND_SEED_ROWS=1000000 cargo test --release --test seed -- --ignored --nocapture`.
#[tokio::test]
#[ignore]
async fn timing() {
    let rows = std::env::var("IFIND_SEED_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let t = common::fresh_db().await;
    let report = run(&t.db, &opts(200, rows, 1)).await.expect("seed");
    let largest = report.sites.iter().map(|s| s.2).max().unwrap_or(0);
    println!(
        "seeded {} rows, {} sites, {} users in {:.1?}; largest site {largest} rows",
        report.interactions,
        report.sites.len(),
        report.users,
        report.elapsed
    );
    if std::env::var("IFIND_SEED_KEEP").is_ok() {
        println!("kept database {}", t.name);
        std::mem::forget(t);
    }
}
