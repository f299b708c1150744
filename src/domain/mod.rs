//! Domain types and rules. Nothing here knows about sqlx or the terminal.

pub mod format;
pub mod interaction;
pub mod query;
