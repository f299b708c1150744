//! What the Trash lists: a deleted interaction, when and by whom (`crate::db::trash` reads it).

use chrono::{DateTime, Utc};

use crate::domain::interaction::Interaction;

/// A deleted interaction as the Trash lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct TrashItem {
    pub interaction: Interaction,
    pub deleted_at: DateTime<Utc>,
    pub deleted_by: Option<i32>,
    pub deleted_by_name: Option<String>,
}
