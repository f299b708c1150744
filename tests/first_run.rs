//! The first run against a real PostgreSQL cluster that listens on TCP with SCRAM passwords:
//! it is offered only on a database without users and to a connection that may make login
//! roles; what the first-run screen's backend creates (through the same service code as
//! `ifind user add` and `ifind site add`) is a user who logs in over TCP with the password
//! chosen and sees the new site; a second first run is refused.

mod common;

use ifind::app::db_backend::{PgLoginBackend, PgSetupBackend};
use ifind::app::first_run::{FirstCreated, FirstSetup};
use ifind::app::login::Secret;
use ifind::app::runner::{LoginBackend, SetupBackend};
use ifind::db::DbOptions;
use ifind::db::cluster::Cluster;
use ifind::service::setup::{NewUser, SetupError, first_run, first_run_possible};

const DB: &str = "ifind";
const PASSWORD: &str = "harbour lights 42";

/// Stops the cluster and removes its folder, also when the test fails.
struct Cleanup(Option<Cluster>, std::path::PathBuf);

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Some(cluster) = self.0.take() {
            // A runtime of its own, on a thread of its own: the test's runtime is running.
            std::thread::scope(|s| {
                s.spawn(|| {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build();
                    if let Ok(rt) = rt {
                        let _ = rt.block_on(cluster.stop());
                    }
                });
            });
        }
        let _ = std::fs::remove_dir_all(&self.1);
    }
}

#[tokio::test]
async fn the_first_run_makes_an_administrator_who_logs_in_over_tcp_and_sees_the_site() {
    let (dir, port, settings) = common::own_tcp_cluster("ifind-first-run-");
    let cluster = Cluster::new(settings).expect("server binaries are installed");
    cluster.ensure_running().await.expect("start the cluster");
    cluster.ensure_database(DB).await.expect("create ifind");
    let owner_url = cluster.url(DB);
    let _cleanup = Cleanup(Some(cluster), dir.clone());
    let cfg = DbOptions::default();
    // The owner (the OS account over the private socket), migrating as `ifind` does.
    let mut once = cfg.clone();
    once.max_connections = 1;
    let owner = ifind::db::pool::connect(&owner_url, &once)
        .await
        .expect("owner");
    assert!(
        first_run_possible(&owner).await.expect("ask"),
        "no user yet, and the owner may make login roles"
    );

    // The first-run screen's backend, as the screen calls it.
    let created = PgSetupBackend::new(owner.clone())
        .create_first(
            FirstSetup {
                site: " Harbor Street Office ".into(),
                username: "ada".into(),
                email: "ada@example.org".into(),
            },
            Secret(PASSWORD.into()),
        )
        .await
        .expect("created");
    assert_eq!(
        created,
        FirstCreated {
            username: "ada".into(),
            site: "Harbor Street Office".into(),
        }
    );

    // A login over TCP with SCRAM, as the Login screen does it: ada sees the site, as a
    // global administrator (its admin).
    let tcp = format!("postgres://127.0.0.1:{port}/{DB}");
    let login = PgLoginBackend::new(tcp.clone(), cfg.clone()).expect("login backend");
    let ok = login
        .login("ada".into(), Secret(PASSWORD.into()))
        .await
        .expect("ada logs in with the password chosen");
    assert_eq!(ok.username, "ada");
    let names: Vec<(&str, &str)> = ok
        .sites
        .iter()
        .map(|s| (s.name.as_str(), s.role.as_str()))
        .collect();
    assert_eq!(names, vec![("Harbor Street Office", "admin")]);
    let wrong = PgLoginBackend::new(tcp.clone(), cfg.clone())
        .expect("login backend")
        .login("ada".into(), Secret("not her password".into()))
        .await;
    assert!(wrong.is_err(), "a wrong password is refused");

    // Her own role is an ordinary login: a global administrator in ifind, not in PostgreSQL.
    let ada = ifind::db::logins::connect_as(&tcp, "ada", Some(PASSWORD), &cfg)
        .await
        .expect("ada over TCP");
    let mut conn = ada.pool.acquire().await.expect("conn");
    assert!(
        !ifind::db::roles::may_create_roles(&mut conn)
            .await
            .expect("ask"),
        "a user's role makes no roles"
    );
    let me = ifind::db::logins::whoami(&mut conn)
        .await
        .expect("whoami")
        .expect("an ifind user");
    assert!(me.is_global_admin);
    drop(conn);
    ada.pool.close().await;

    // Once there is a user, the first run is neither offered nor possible.
    let owner = ifind::db::pool::connect(&owner_url, &once)
        .await
        .expect("owner again");
    assert!(!first_run_possible(&owner).await.expect("ask"));
    let new = NewUser::checked("mallory", "m@example.org", true).expect("valid");
    let again = first_run(&owner, "Other", &new, PASSWORD).await;
    assert!(matches!(again, Err(SetupError::NotFirst)), "{again:?}");
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&owner.pool)
        .await
        .expect("count");
    assert_eq!(users, 1, "nothing was added by the refused first run");
    owner.pool.close().await;
}
