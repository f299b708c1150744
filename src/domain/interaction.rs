//! The interaction: the record staff search, read, create and edit.

use chrono::{DateTime, Datelike, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::format::forbidden_message;

/// Maximum lengths from the design document (section 2.2.4), in characters.
pub const MAX_TITLE: usize = 255;
pub const MAX_TYPE: usize = 50;
pub const MAX_LEAD: usize = 100;
pub const MAX_TIMEZONE: usize = 50;
pub const MAX_LOCATION: usize = 255;

/// One stored interaction, as read from the database (the columns of [`INTERACTION_COLUMNS`];
/// `crate::db::interactions` reads a row into it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Interaction {
    pub interaction_id: i32,
    pub site_id: i32,
    pub title: String,
    /// The `type` column.
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

// ---------------------------------------------------------------------------------------------
// Input validation, shared by the form and by import.
// ---------------------------------------------------------------------------------------------

/// What a person typed into the form (or a row of an imported file): all text, untouched.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InteractionInput {
    pub title: String,
    /// The interaction's `type`.
    #[serde(rename = "type")]
    pub kind: String,
    pub lead: String,
    /// Wall-clock start in `timezone`, e.g. `2026-11-21 14:00`.
    pub start: String,
    /// Wall-clock end in `timezone`.
    pub end: String,
    pub timezone: String,
    pub location: String,
    pub description: String,
    pub notes: String,
}

impl InteractionInput {
    /// The text of one field.
    pub fn get(&self, field: Field) -> &str {
        input_of(self, field)
    }

    /// Replaces the text of one field.
    pub fn set(&mut self, field: Field, text: String) {
        let slot = match field {
            Field::Title => &mut self.title,
            Field::Type => &mut self.kind,
            Field::Lead => &mut self.lead,
            Field::Start => &mut self.start,
            Field::End => &mut self.end,
            Field::Timezone => &mut self.timezone,
            Field::Location => &mut self.location,
            Field::Description => &mut self.description,
            Field::Notes => &mut self.notes,
        };
        *slot = text;
    }

    /// The form's text for an existing interaction: wall-clock times in its own timezone, with an
    /// offset suffix only where the wall-clock time alone would be ambiguous, so that saving the
    /// form unchanged gives back the same instants.
    pub fn from_interaction(i: &Interaction) -> InteractionInput {
        InteractionInput {
            title: i.title.clone(),
            kind: i.kind.clone(),
            lead: i.lead.clone(),
            start: format_wall_clock_unambiguous(i.start_datetime, &i.timezone),
            end: format_wall_clock_unambiguous(i.end_datetime, &i.timezone),
            timezone: i.timezone.clone(),
            location: i.location.clone().unwrap_or_default(),
            description: i.description.clone().unwrap_or_default(),
            notes: i.notes.clone().unwrap_or_default(),
        }
    }
}

/// A validated interaction, ready to be written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidInteraction {
    pub title: String,
    pub kind: String,
    pub lead: String,
    pub start_datetime: DateTime<Utc>,
    pub end_datetime: DateTime<Utc>,
    /// A real IANA name, as chrono-tz spells it.
    pub timezone: String,
    pub location: Option<String>,
    pub description: Option<String>,
    pub notes: Option<String>,
}

/// The fields of an interaction as a person sees them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    Title,
    Type,
    Lead,
    Start,
    End,
    Timezone,
    Location,
    Description,
    Notes,
}

impl Field {
    /// Every field, in form (and CSV column) order.
    pub const ALL: [Field; 9] = [
        Field::Title,
        Field::Type,
        Field::Lead,
        Field::Start,
        Field::End,
        Field::Timezone,
        Field::Location,
        Field::Description,
        Field::Notes,
    ];

    /// The field's key: its CSV column and JSON key (`title`, `type`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Field::Title => "title",
            Field::Type => "type",
            Field::Lead => "lead",
            Field::Start => "start",
            Field::End => "end",
            Field::Timezone => "timezone",
            Field::Location => "location",
            Field::Description => "description",
            Field::Notes => "notes",
        }
    }

    /// The field's label for messages (`Title`, `Type`, ...).
    pub fn label(self) -> &'static str {
        match self {
            Field::Title => "Title",
            Field::Type => "Type",
            Field::Lead => "Lead",
            Field::Start => "Start",
            Field::End => "End",
            Field::Timezone => "Timezone",
            Field::Location => "Location",
            Field::Description => "Description",
            Field::Notes => "Notes",
        }
    }

    /// Description and notes hold several lines; every other field one.
    pub fn is_multi_line(self) -> bool {
        matches!(self, Field::Description | Field::Notes)
    }

    /// The field whose [`name`](Field::name) is `name`.
    pub fn from_name(name: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.name() == name)
    }
}

impl std::fmt::Display for Field {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One problem with one field; the message is a sentence that names the field and the fix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    pub field: Field,
    pub message: String,
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field.name(), self.message)
    }
}

mod display;
pub mod index_size;
pub mod merge;
mod time;
pub use display::{day_in, format_in, format_minute_in, own_zone_span, span_in, zone_from};
pub use time::{
    DATE_FORMAT, OFFSET_EXAMPLES, WALL_CLOCK_FORMATS, format_wall_clock,
    format_wall_clock_unambiguous, parse_timezone, parse_wall_clock, timezone_suggestions,
};

/// Checks everything a person typed and returns either the interaction to write or every
/// problem found (not just the first), each tied to its field.
///
/// Single-line fields (title, type, lead, timezone, location) are trimmed and must not contain
/// control characters (line breaks and tabs included) or bidirectional overrides and isolates;
/// lengths count characters, not bytes. Description and notes are kept exactly as typed (only
/// line feeds, tabs and CRLF line ends of the unsafe characters are allowed); an empty or
/// all-blank one is stored as absent. The rule is [`crate::domain::format::first_forbidden`],
/// the one the database's CHECK constraints apply.
pub fn validate(input: &InteractionInput) -> Result<ValidInteraction, Vec<FieldError>> {
    let mut errors = Vec::new();
    let title = single_line(Field::Title, &input.title, MAX_TITLE, &mut errors);
    let kind = single_line(Field::Type, &input.kind, MAX_TYPE, &mut errors);
    let lead = single_line(Field::Lead, &input.lead, MAX_LEAD, &mut errors);
    let location = single_line(Field::Location, &input.location, MAX_LOCATION, &mut errors);
    let tz_text = single_line(Field::Timezone, &input.timezone, MAX_TIMEZONE, &mut errors);
    let tz = match &tz_text {
        Some(text) => match parse_timezone(text) {
            Ok(tz) => Some(tz),
            Err(message) => {
                errors.push(FieldError {
                    field: Field::Timezone,
                    message,
                });
                None
            }
        },
        None => {
            if input.timezone.trim().is_empty() {
                errors.push(required(Field::Timezone));
            }
            None
        }
    };
    let start = when(Field::Start, &input.start, tz, &mut errors);
    let end = when(Field::End, &input.end, tz, &mut errors);
    if let (Some(s), Some(e)) = (start, end)
        && e < s
    {
        errors.push(FieldError {
            field: Field::End,
            message: format!(
                "End ({}) is before start ({}); pick an end at or after the start.",
                input.end.trim(),
                input.start.trim()
            ),
        });
    }
    for (field, value) in [
        (Field::Title, &title),
        (Field::Type, &kind),
        (Field::Lead, &lead),
    ] {
        if value.is_none() && input_of(input, field).trim().is_empty() {
            errors.push(required(field));
        }
    }
    let description = multi_line(Field::Description, &input.description, &mut errors);
    let notes = multi_line(Field::Notes, &input.notes, &mut errors);
    index_fits(input, &mut errors);

    match (title, kind, lead, start, end, tz) {
        (Some(title), Some(kind), Some(lead), Some(start), Some(end), Some(tz))
            if errors.is_empty() =>
        {
            Ok(ValidInteraction {
                title,
                kind,
                lead,
                start_datetime: start,
                end_datetime: end,
                timezone: tz.name().to_string(),
                location,
                description,
                notes,
            })
        }
        _ => {
            errors.sort_by_key(|e| e.field);
            Err(errors)
        }
    }
}

fn input_of(input: &InteractionInput, field: Field) -> &str {
    match field {
        Field::Title => &input.title,
        Field::Type => &input.kind,
        Field::Lead => &input.lead,
        Field::Start => &input.start,
        Field::End => &input.end,
        Field::Timezone => &input.timezone,
        Field::Location => &input.location,
        Field::Description => &input.description,
        Field::Notes => &input.notes,
    }
}

fn required(field: Field) -> FieldError {
    FieldError {
        field,
        message: format!("{} is required.", field.label()),
    }
}

/// A trimmed single-line value: None when empty (the caller decides whether that is an error)
/// or when it breaks a rule (the error is pushed).
fn single_line(
    field: Field,
    text: &str,
    max: usize,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    let value = text.trim();
    if value.is_empty() {
        return None;
    }
    let mut ok = true;
    let chars = value.chars().count();
    if chars > max {
        errors.push(FieldError {
            field,
            message: format!(
                "{} is {chars} characters long; the most allowed is {max}.",
                field.label()
            ),
        });
        ok = false;
    }
    if let Some(message) = forbidden_message(field.label(), value, false) {
        errors.push(FieldError { field, message });
        ok = false;
    }
    ok.then(|| value.to_string())
}

/// Description and notes: kept verbatim; blank becomes None.
fn multi_line(field: Field, text: &str, errors: &mut Vec<FieldError>) -> Option<String> {
    if text.trim().is_empty() {
        return None;
    }
    if let Some(message) = forbidden_message(field.label(), text, true) {
        errors.push(FieldError { field, message });
        return None;
    }
    Some(text.to_string())
}

/// The search index entry of every text field together must fit PostgreSQL's `tsvector` (see
/// [`index_size`]); when it may not, the longer of description and notes is said to be at fault.
fn index_fits(input: &InteractionInput, errors: &mut Vec<FieldError>) {
    let texts = [
        input.title.as_str(),
        &input.kind,
        &input.lead,
        &input.location,
        &input.description,
        &input.notes,
    ];
    let bytes = index_size::index_bytes_at_most(&texts);
    if bytes <= index_size::MAX_INDEX_BYTES {
        return;
    }
    let field = if input.notes.len() > input.description.len() {
        Field::Notes
    } else {
        Field::Description
    };
    errors.push(FieldError {
        field,
        message: format!(
            "{} has too many different words for the search index (up to {} KB of index; it \
             holds at most 1,024 KB per interaction); split the text over several \
             interactions.",
            field.label(),
            bytes.div_ceil(1024)
        ),
    });
}

/// Start or end: required, in the right format, and real in the zone (when the zone is known).
fn when(
    field: Field,
    text: &str,
    tz: Option<chrono_tz::Tz>,
    errors: &mut Vec<FieldError>,
) -> Option<DateTime<Utc>> {
    if text.trim().is_empty() {
        errors.push(required(field));
        return None;
    }
    let result = match tz {
        Some(tz) => parse_wall_clock(text, tz),
        // Without a zone only the format can be checked.
        None => time::check_format(text).map(|_| DateTime::<Utc>::MIN_UTC),
    };
    match result {
        Ok(t) if tz.is_some() && !(1..=9999).contains(&t.year()) => {
            errors.push(FieldError {
                field,
                message: format!(
                    "{}: {} is in the year {} in UTC; ifind keeps times from the year 1 to 9999 \
                     (UTC), so pick an earlier one.",
                    field.label(),
                    text.trim(),
                    t.year()
                ),
            });
            None
        }
        Ok(t) if tz.is_some() => Some(t),
        Ok(_) => None,
        Err(message) => {
            errors.push(FieldError {
                field,
                message: format!("{}: {message}", field.label()),
            });
            None
        }
    }
}

#[cfg(test)]
mod tests;
