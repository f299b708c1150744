//! The search API's types, as the terminal UI uses them.

pub use crate::db::search::{Hit, MatchCount, SearchPage, SearchRequest, Sort};
