//! What both front ends do with the database: the terminal UI (`crate::app`) and the command
//! line (`crate::commands`) search, write and erase through here, so the rules (who may write
//! where, exactly-once saves, replicas for reads) live in one place. Above `db` and `domain`;
//! never names `app`, `ui`, `commands` or `config`.

pub mod drafts;
pub mod records;
pub mod retention;
pub mod search;
pub mod setup;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::domain::failure::Failure;

/// Starting the database again, under way.
pub type Starting = Pin<Box<dyn Future<Output = Result<(), Failure>> + Send>>;

/// Starts the database again when it stops answering: the embedded cluster, which ifind runs
/// itself (a server of one's own is not ifind's to start). Called by the terminal UI's
/// connection check after each failed attempt; the error says why it could not.
#[derive(Clone)]
pub struct Revive(pub Arc<dyn Fn() -> Starting + Send + Sync>);

impl std::fmt::Debug for Revive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Revive")
    }
}
