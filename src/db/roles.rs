//! The two database roles and the startup check that keeps them apart.
//!
//! The owner runs migrations and the admin commands; the application role (`ifind_app`, made by
//! migration 0003) is what the Finder, the forms and the user-acting CLI commands connect as, so
//! that PostgreSQL's row-level security decides which rows they see. That only holds if the
//! application role cannot bypass the policies: [`check_app_role`] refuses a superuser, a role
//! with BYPASSRLS, a role that owns (or can act as the owner of) one of the tables, and a role
//! that can become one of those.

use sqlx::PgConnection;

use super::Db;

/// The application role created by migration 0003.
pub const APP_ROLE: &str = "ifind_app";

const FIX: &str = "connect as a non-owner role such as ifind_app (database.url) and give the \
                   owner connection in database.owner_url";

/// Why the application connection may not be used.
#[derive(Debug, thiserror::Error)]
pub enum AppRoleError {
    #[error(
        "the database user `{role}` is a superuser, so row-level security would not apply to \
         it; {FIX}"
    )]
    Superuser { role: String },
    #[error(
        "the database user `{role}` has BYPASSRLS, so row-level security would not apply to it; \
         {FIX}"
    )]
    BypassRls { role: String },
    #[error("the database user `{role}` {what}, so it could step around row-level security; {FIX}")]
    TooStrong { role: String, what: String },
    #[error(
        "the database user `{role}` owns the table `{table}` (its owner is `{owner}`), so it \
         could turn row-level security off; {FIX}"
    )]
    Owner {
        role: String,
        table: String,
        owner: String,
    },
    #[error(
        "the database user `{role}` can become `{other}`, which {what}, so row-level security \
         would not hold; {FIX}"
    )]
    CanBecome {
        role: String,
        other: String,
        what: &'static str,
    },
    #[error(
        "cannot check the database user's privileges ({0}); check the connection and try again"
    )]
    Db(#[from] sqlx::Error),
}

/// The startup check of the application connection: Ok only when its role is subject to the
/// row-level security policies (see the module documentation).
pub async fn check_app_role(conn: &mut PgConnection) -> Result<(), AppRoleError> {
    let (role, superuser, bypass): (String, bool, bool) = sqlx::query_as(
        "SELECT rolname::text, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user",
    )
    .fetch_one(&mut *conn)
    .await?;
    if superuser {
        return Err(AppRoleError::Superuser { role });
    }
    if bypass {
        return Err(AppRoleError::BypassRls { role });
    }
    // Roles that could make themselves stronger, or run programs or write files as the server.
    let power: Option<String> = sqlx::query_scalar(
        "SELECT CASE WHEN r.rolcreaterole THEN 'has CREATEROLE' \
                     WHEN pg_has_role(current_user, 'pg_execute_server_program', 'MEMBER') \
                       THEN 'is a member of pg_execute_server_program' \
                     WHEN pg_has_role(current_user, 'pg_write_server_files', 'MEMBER') \
                       THEN 'is a member of pg_write_server_files' END \
           FROM pg_roles r WHERE r.rolname = current_user",
    )
    .fetch_one(&mut *conn)
    .await?;
    if let Some(what) = power {
        return Err(AppRoleError::TooStrong { role, what });
    }
    // Tables, views and the like in the schema that holds ifind's tables.
    let owned: Option<(String, String)> = sqlx::query_as(
        "SELECT c.relname::text, pg_get_userbyid(c.relowner)::text \
           FROM pg_class c \
          WHERE c.relnamespace = (SELECT relnamespace FROM pg_class \
                                   WHERE oid = to_regclass('interactions')) \
            AND c.relkind IN ('r', 'p', 'v', 'm', 'f') \
            AND pg_has_role(current_user, c.relowner, 'MEMBER') \
          ORDER BY c.relname LIMIT 1",
    )
    .fetch_optional(&mut *conn)
    .await?;
    if let Some((table, owner)) = owned {
        return Err(AppRoleError::Owner { role, table, owner });
    }
    let stronger: Option<(String, bool)> = sqlx::query_as(
        "SELECT rolname::text, rolsuper FROM pg_roles \
          WHERE (rolsuper OR rolbypassrls) AND rolname <> current_user \
            AND pg_has_role(current_user, oid, 'MEMBER') \
          ORDER BY rolname LIMIT 1",
    )
    .fetch_optional(&mut *conn)
    .await?;
    if let Some((other, superuser)) = stronger {
        let what = if superuser {
            "is a superuser"
        } else {
            "has BYPASSRLS"
        };
        return Err(AppRoleError::CanBecome { role, other, what });
    }
    Ok(())
}

/// [`check_app_role`] on a connection of `db`.
pub async fn check_app_db(db: &Db) -> Result<(), AppRoleError> {
    let mut conn = db.pool.acquire().await?;
    check_app_role(&mut conn).await
}

/// Lets the application role log in (it is created NOLOGIN by the migration), for the embedded
/// cluster and the test harness, where local connections are trusted. Needs a superuser or
/// CREATEROLE; does nothing when the role may already log in.
pub async fn enable_app_login(conn: &mut PgConnection) -> sqlx::Result<()> {
    let can_login: Option<bool> =
        sqlx::query_scalar("SELECT rolcanlogin FROM pg_roles WHERE rolname = $1")
            .bind(APP_ROLE)
            .fetch_optional(&mut *conn)
            .await?;
    if can_login != Some(false) {
        return Ok(());
    }
    // A fixed identifier: nothing from input reaches this statement.
    if let Err(e) = sqlx::raw_sql("ALTER ROLE ifind_app LOGIN")
        .execute(&mut *conn)
        .await
    {
        // Another ifind may have done it at the same moment ("tuple concurrently updated").
        let now: Option<bool> =
            sqlx::query_scalar("SELECT rolcanlogin FROM pg_roles WHERE rolname = $1")
                .bind(APP_ROLE)
                .fetch_optional(&mut *conn)
                .await?;
        if now != Some(true) {
            return Err(e);
        }
    }
    Ok(())
}

/// Whether the connection's role may make login roles (a superuser, or CREATEROLE): the owner
/// of the embedded cluster or of a server set up as the README says, never a user's own role.
pub async fn may_create_roles(conn: &mut PgConnection) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT rolsuper OR rolcreaterole FROM pg_catalog.pg_roles WHERE rolname = current_user",
    )
    .fetch_optional(conn)
    .await
    .map(|may| may.unwrap_or(false))
}
