//! Every person connects as themselves: each ifind user has a PostgreSQL login role of their
//! own (migration 0009), PostgreSQL authenticates it, and the database finds the acting user
//! from `session_user`.
//!
//! - [`role_name`]: the login role of a user in a database (the server computes the same).
//! - [`scram_verifier`]: what ifind sends to set a password: a SCRAM-SHA-256 verifier made on
//!   this machine, so that the password itself never reaches the server or its logs.
//! - [`set_login`]: gives a user a login role or a new password (the owner, a global
//!   administrator, or the user themselves).
//! - [`session_start`]: after connecting, records the login (access log, last_login) in the
//!   database and returns who the connection is.
//! - [`first_answer`]: how the server answers a login before any password, asked without
//!   making a failed login of it.
//! - [`connect_as`]: a pool that logs in as a user, with a clear answer for a bad password
//!   and for a user name locked out by the server's `ifind_auth` module ([`lockout_secs`]).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use sqlx::PgConnection;

use super::Db;
use super::users::User;

/// The login role of `username` in `database`: the name itself in a database named `ifind`,
/// else `<database>.<name>` (roles belong to the whole server, which may hold several ifind
/// databases). Migration 0009's `ifind_login_role` computes the same.
pub fn role_name(database: &str, username: &str) -> String {
    if database == "ifind" {
        username.to_string()
    } else {
        format!("{database}.{username}")
    }
}

/// SCRAM iterations, as PostgreSQL's default (`scram_iterations` = 4096).
const SCRAM_ITERATIONS: u32 = 4096;

type HmacSha256 = Hmac<Sha256>;

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC takes a key of any length: new_from_slice cannot fail for it.
    let mut mac = match HmacSha256::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => return [0; 32],
    };
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// PBKDF2-HMAC-SHA-256 with one block of output (RFC 5802's Hi).
fn hi(password: &[u8], salt: &[u8], iterations: u32) -> [u8; 32] {
    let mut block = salt.to_vec();
    block.extend_from_slice(&1u32.to_be_bytes());
    let mut u = hmac(password, &block);
    let mut out = u;
    for _ in 1..iterations {
        u = hmac(password, &u);
        for (o, x) in out.iter_mut().zip(u.iter()) {
            *o ^= x;
        }
    }
    out
}

/// The SCRAM-SHA-256 verifier of `password` with a random salt, in PostgreSQL's stored form
/// (`SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`), as psql's `\password` makes
/// it. (PostgreSQL normalises passwords with SASLprep; ifind's passwords are used as typed, as
/// sqlx sends them, so both sides agree.)
pub fn scram_verifier(password: &str) -> String {
    let salt: [u8; 16] = rand::random();
    scram_verifier_with(password, &salt, SCRAM_ITERATIONS)
}

fn scram_verifier_with(password: &str, salt: &[u8], iterations: u32) -> String {
    let salted = hi(password.as_bytes(), salt, iterations);
    let client_key = hmac(&salted, b"Client Key");
    let stored_key = Sha256::digest(client_key);
    let server_key = hmac(&salted, b"Server Key");
    format!(
        "SCRAM-SHA-256${iterations}:{}${}:{}",
        STANDARD.encode(salt),
        STANDARD.encode(stored_key),
        STANDARD.encode(server_key)
    )
}

/// Gives `username` a login role with `password`, or sets a new password for it. Returns the
/// role's name. The database allows it to the owner, a global administrator, and the user
/// themselves.
pub async fn set_login(
    conn: &mut PgConnection,
    username: &str,
    password: &str,
) -> sqlx::Result<String> {
    let verifier = scram_verifier(password);
    sqlx::query_scalar("SELECT ifind_set_login($1, $2)")
        .bind(username)
        .bind(verifier)
        .fetch_one(conn)
        .await
}

const USER_COLUMNS: &str = "user_id, username, email, last_login, is_active, is_global_admin";

/// Records, in the database, that this connection's user logged in (access log, last_login),
/// and returns them; None when the connection is no active ifind user (e.g. the owner).
pub async fn session_start(conn: &mut PgConnection) -> sqlx::Result<Option<User>> {
    sqlx::query_as(&format!("SELECT {USER_COLUMNS} FROM ifind_session_start()"))
        .fetch_optional(conn)
        .await
}

/// The ifind user this connection acts for, None for the owner (or a role that is no user).
pub async fn whoami(conn: &mut PgConnection) -> sqlx::Result<Option<User>> {
    sqlx::query_as(&format!("SELECT {USER_COLUMNS} FROM ifind_whoami()"))
        .fetch_optional(conn)
        .await
}

/// Why a login could not be made.
#[derive(Debug, thiserror::Error)]
pub enum LoginFailure {
    /// Wrong password, unknown user or a user who may not log in: PostgreSQL says the same for
    /// all of them, and so does ifind.
    #[error("invalid username or password")]
    Invalid,
    /// The server's `ifind_auth` module refuses every login for this name (right password or
    /// wrong, existing user or not) for this many more seconds, after repeated failures.
    #[error("too many attempts; try again in {0} s")]
    LockedOut(u32),
    /// The server could not be asked.
    #[error("{0}")]
    Unavailable(String),
}

/// The start of the message with which the `ifind_auth` server module (`pg/ifind_auth`) refuses
/// a locked-out name: `too many failed logins for this name; try again in N s`.
const LOCKOUT_MESSAGE: &str = "too many failed logins for this name; try again in ";

/// The seconds left when `e` is the `ifind_auth` module refusing a locked-out name (FATAL,
/// SQLSTATE 28000, its own message); None for any other error.
pub fn lockout_secs(e: &sqlx::Error) -> Option<u32> {
    let sqlx::Error::Database(db) = e else {
        return None;
    };
    if db.code().as_deref() != Some("28000") {
        return None;
    }
    db.message()
        .strip_prefix(LOCKOUT_MESSAGE)?
        .strip_suffix(" s")?
        .parse()
        .ok()
}

/// Whether `e` is PostgreSQL refusing the credentials (28P01 invalid password, 28000 invalid
/// authorization: no such role, no pg_hba entry, a role that may not log in).
pub fn is_auth_failure(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => matches!(db.code().as_deref(), Some("28P01" | "28000")),
        _ => false,
    }
}

/// `url` with its user replaced by `user` and its password by `password` (none: kept out of the
/// URL, so that PGPASSWORD, a `.pgpass` entry or a certificate answers).
pub fn url_with_user(url: &str, user: &str, password: Option<&str>) -> String {
    let enc = |s: &str| super::pool::percent_encode(s, b"");
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_string();
    };
    let rest = &url[scheme_end..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let host = match authority.rfind('@') {
        Some(at) => &authority[at + 1..],
        None => authority,
    };
    let credentials = match password {
        Some(p) => format!("{}:{}", enc(user), enc(p)),
        None => enc(user),
    };
    format!(
        "{}{credentials}@{host}{}",
        &url[..scheme_end],
        &rest[authority_end..]
    )
}

/// The database named by a `postgres://` URL (`ifind` when it names none).
pub fn database_of(url: &str) -> String {
    let main = url.split('?').next().unwrap_or(url);
    let after_scheme = main.find("://").map(|i| &main[i + 3..]).unwrap_or(main);
    let name = after_scheme
        .find('/')
        .map(|i| &after_scheme[i + 1..])
        .unwrap_or("");
    if name.is_empty() {
        // sqlx, like libpq, then uses the user name as the database name; ifind's is `ifind`.
        "ifind".into()
    } else {
        percent_decode(name)
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = s.get(i + 1..i + 3)
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A pool that logs in to the database of `url` as ifind user `username` (its login role, see
/// [`role_name`]) with `password` (None: PGPASSWORD, `.pgpass` or what pg_hba.conf allows),
/// checked by a first connection. The startup check of the role
/// ([`super::roles::check_app_role`]) runs on it.
pub async fn connect_as(
    url: &str,
    username: &str,
    password: Option<&str>,
    cfg: &super::DbOptions,
) -> Result<Db, LoginFailure> {
    let role = role_name(&database_of(url), username);
    let user_url = url_with_user(url, &role, password);
    let db = super::pool::connect_lazy(&user_url, cfg)
        .map_err(|e| LoginFailure::Unavailable(format!("{e:#}")))?;
    let timeout = std::time::Duration::from_secs(cfg.connect_timeout_secs);
    let mut conn = match tokio::time::timeout(timeout, db.pool.acquire()).await {
        Err(_) => {
            return Err(LoginFailure::Unavailable(format!(
                "no answer from the database within {} s; check that the server is up",
                cfg.connect_timeout_secs
            )));
        }
        Ok(Err(e)) => {
            return Err(if let Some(secs) = lockout_secs(&e) {
                LoginFailure::LockedOut(secs)
            } else if is_auth_failure(&e) {
                LoginFailure::Invalid
            } else {
                LoginFailure::Unavailable(format!(
                    "cannot connect to the database at {}: {e}",
                    super::pool::redact(&user_url)
                ))
            });
        }
        Ok(Ok(c)) => c,
    };
    super::roles::check_app_role(&mut conn)
        .await
        .map_err(|e| LoginFailure::Unavailable(e.to_string()))?;
    drop(conn);
    Ok(db)
}

/// True when connecting to `url` as it is sends credentials of its own: a password (in the URL,
/// PGPASSWORD or a `.pgpass` entry) or a client certificate.
pub fn has_credentials(url: &str) -> bool {
    use sqlx::ConnectOptions;
    use std::str::FromStr;
    let Ok(options) = sqlx::postgres::PgConnectOptions::from_str(url) else {
        return false;
    };
    let full = options.to_url_lossy();
    full.password().is_some() || full.query_pairs().any(|(k, _)| k == "sslcert")
}

/// How a server answers a login before any password ([`first_answer`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FirstAnswer {
    /// It lets the user in without a password (trust, peer).
    LetsIn,
    /// It asks for a password, or refuses the login.
    WantsPassword,
    /// Not asked: over TCP with TLS the question would send the user name in clear; the server
    /// only accepted a connection.
    NotAsked,
}

/// How the server of `url` answers a login as its user before any password, found without a
/// failed login: sqlx, with no password of its own, answers a password request with an empty
/// one, which the server counts as a failed login (and ifind_auth towards locking the name
/// out). This sends only the startup message, over the Unix socket or plain TCP
/// (`sslmode=disable`), reads the first answer and hangs up, which PostgreSQL counts as no
/// attempt (as when psql asks for the password). Over TCP with TLS it only connects.
pub async fn first_answer(url: &str) -> std::io::Result<FirstAnswer> {
    use sqlx::postgres::{PgConnectOptions, PgSslMode};
    use std::str::FromStr;
    use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

    async fn ask<S: AsyncRead + AsyncWrite + Unpin>(
        mut stream: S,
        startup: &[u8],
    ) -> std::io::Result<FirstAnswer> {
        stream.write_all(startup).await?;
        stream.flush().await?;
        let mut head = [0u8; 9];
        stream.read_exact(&mut head).await?;
        // 'R' AuthenticationRequest, length, code 0 = AuthenticationOk; anything else (a
        // password request, an ErrorResponse) leaves the decision to the login.
        Ok(if head[0] == b'R' && head[5..9] == [0, 0, 0, 0] {
            FirstAnswer::LetsIn
        } else {
            FirstAnswer::WantsPassword
        })
    }

    let options = PgConnectOptions::from_str(url)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e.to_string()))?;
    let port = options.get_port();
    let socket = match options.get_socket() {
        Some(dir) => Some(dir.join(format!(".s.PGSQL.{port}"))),
        None if options.get_host().starts_with('/') => {
            Some(std::path::Path::new(options.get_host()).join(format!(".s.PGSQL.{port}")))
        }
        None => None,
    };
    let mut body = 196_608u32.to_be_bytes().to_vec(); // protocol 3.0
    let mut param = |key: &str, value: &str| {
        body.extend_from_slice(key.as_bytes());
        body.push(0);
        body.extend_from_slice(value.as_bytes());
        body.push(0);
    };
    param("user", options.get_username());
    if let Some(database) = options.get_database() {
        param("database", database);
    }
    body.push(0);
    let len = u32::try_from(body.len() + 4)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let mut startup = len.to_be_bytes().to_vec();
    startup.extend_from_slice(&body);
    match socket {
        Some(path) => ask(tokio::net::UnixStream::connect(path).await?, &startup).await,
        None => {
            let stream = tokio::net::TcpStream::connect((options.get_host(), port)).await?;
            if matches!(options.get_ssl_mode(), PgSslMode::Disable) {
                ask(stream, &startup).await
            } else {
                Ok(FirstAnswer::NotAsked)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_follow_the_database() {
        assert_eq!(role_name("ifind", "ada"), "ada");
        assert_eq!(role_name("ifind_demo", "ada"), "ifind_demo.ada");
    }

    #[test]
    fn verifiers_match_an_independent_pbkdf2() {
        // Computed independently with Python hashlib.pbkdf2_hmac and hmac for password "pencil",
        // salt W22ZaJ0SNY7soEsUEjb6gQ== (RFC 7677), 4096 iterations.
        let salt = STANDARD
            .decode("W22ZaJ0SNY7soEsUEjb6gQ==")
            .unwrap_or_default();
        let v = scram_verifier_with("pencil", &salt, 4096);
        assert_eq!(
            v,
            "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="
        );
        assert!(scram_verifier("x").starts_with("SCRAM-SHA-256$4096:"));
    }

    #[test]
    fn urls_get_the_user() {
        assert_eq!(
            url_with_user("postgres://x:y@db:5432/ifind?sslmode=require", "ada", None),
            "postgres://ada@db:5432/ifind?sslmode=require"
        );
        assert_eq!(
            url_with_user("postgres://db/acme", "acme.ada", Some("p@ss")),
            "postgres://acme.ada:p%40ss@db/acme"
        );
        assert_eq!(database_of("postgres://db:1/acme?x=1"), "acme");
        assert_eq!(database_of("postgres://db"), "ifind");
        assert_eq!(
            database_of("postgres://u@localhost:5432/ifind_demo?host=%2Ftmp"),
            "ifind_demo"
        );
    }
}
