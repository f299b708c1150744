//! The interaction: the record staff search, read, create and edit.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Maximum lengths from the design document (section 2.2.4), in characters.
pub const MAX_TITLE: usize = 255;
pub const MAX_TYPE: usize = 50;
pub const MAX_LEAD: usize = 100;
pub const MAX_TIMEZONE: usize = 50;
pub const MAX_LOCATION: usize = 255;

/// One stored interaction, as read from the database.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Interaction {
    pub interaction_id: i32,
    pub site_id: i32,
    pub title: String,
    #[sqlx(rename = "type")]
    #[serde(rename = "type")]
    pub kind: String,
    pub lead: String,
    pub start_datetime: DateTime<Utc>,
    pub timezone: String,
    pub end_datetime: DateTime<Utc>,
    pub location: Option<String>,
    pub description: Option<String>,
    pub notes: Option<String>,
    pub created_by: i32,
    pub created_at: DateTime<Utc>,
    pub updated_by: Option<i32>,
    pub updated_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// The columns of [`Interaction`] in select-list form, for queries that read whole rows.
pub const INTERACTION_COLUMNS: &str = "interaction_id, site_id, title, type, lead, start_datetime, \
     timezone, end_datetime, location, description, notes, created_by, created_at, updated_by, \
     updated_at, version";
