//! Domain types and rules. Nothing here knows about sqlx or the terminal.

pub mod agenda;
pub mod audit;
pub mod failure;
pub mod format;
pub mod health;
pub mod histogram;
pub mod ical;
pub mod interaction;
pub mod query;
pub mod retention;
pub mod similar;
pub mod trash;
pub mod users;
