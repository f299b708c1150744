mod common;

#[tokio::test]
async fn fresh_database_has_the_current_schema() {
    let t = common::fresh_db().await;
    let mut conn = t.db.pool.acquire().await.expect("connection");
    let v = ifind::db::migrate::check(&mut conn)
        .await
        .expect("schema is current");
    assert_eq!(v, ifind::db::migrate::binary_version());
}
