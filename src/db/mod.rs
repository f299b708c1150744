//! Database access: the pool, the embedded cluster, migrations and one module of typed,
//! parameterised queries per table group. No SQL is ever built from input with `format!`.

pub mod access;
pub mod archive;
pub mod audit;
pub mod cancel;
pub mod cluster;
pub mod erase;
pub mod failure;
pub mod faults;
pub mod health;
pub mod histogram;
pub mod imports;
pub mod interactions;
pub mod logins;
pub mod migrate;
pub mod notify;
pub mod pool;
pub mod replicas;
pub mod retention;
pub mod roles;
pub mod search;
pub mod sites;
pub mod trash;
pub mod users;

pub use pool::{Db, DbOptions};
