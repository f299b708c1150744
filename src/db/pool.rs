//! The connection pool and the unit of work: a transaction that carries the acting user.

use sqlx::{PgConnection, PgPool, Postgres, Transaction};

/// A handle on the database. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Db {
    pub pool: PgPool,
}

impl Db {
    /// Begins a unit of work acting as `user_id` (None for the system/owner). The user is set
    /// transaction-locally with `set_config(..., true)`, so it never leaks to the next user of the
    /// pooled connection.
    pub async fn begin_as(&self, user_id: Option<i32>) -> sqlx::Result<Transaction<'static, Postgres>> {
        let mut tx = self.pool.begin().await?;
        set_acting_user(&mut tx, user_id).await?;
        Ok(tx)
    }
}

/// Sets the acting user for the current transaction.
pub async fn set_acting_user(conn: &mut PgConnection, user_id: Option<i32>) -> sqlx::Result<()> {
    let value = user_id.map(|u| u.to_string()).unwrap_or_default();
    sqlx::query("SELECT set_config('ifind.user_id', $1, true)")
        .bind(value)
        .execute(conn)
        .await?;
    Ok(())
}
