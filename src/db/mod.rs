//! Database access: the pool, the embedded cluster, migrations and one module of typed,
//! parameterised queries per table group. No SQL is ever built from input with `format!`.

pub mod cancel;
pub mod cluster;
pub mod interactions;
pub mod migrate;
pub mod pool;
pub mod roles;
pub mod search;
pub mod sites;
pub mod users;

pub use pool::Db;
