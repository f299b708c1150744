//! Export: CSV or JSON, streaming, with wall-clock times that import back to the same instants;
//! or iCalendar ([`crate::domain::ical`]) for calendars.
//!
//! Text stays data in both formats. CSV cells show control and bidirectional characters
//! escaped ([`escape_multi_line`]: line feeds, tabs and CRLF stay, as CSV quoting carries them)
//! and are neutralised against formula injection ([`neutralise`], which import reverses). JSON
//! writes those characters as `\uXXXX` escapes ([`escape_json`]), so it keeps the exact text.

use std::io::{self, Write};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use super::{COLUMNS, EXTRA_COLUMNS};
use crate::domain::format::{escape_json, escape_multi_line};
use crate::domain::ical;
use crate::domain::interaction::{Interaction, format_wall_clock_unambiguous};

/// Export formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Json,
    /// iCalendar (RFC 5545): one VEVENT per interaction, times in UTC. Not read back by import.
    Ics,
}

/// One exported row: the keys of [`COLUMNS`] and then [`EXTRA_COLUMNS`].
#[derive(Serialize)]
struct ExportRow<'a> {
    title: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    lead: &'a str,
    start: String,
    end: String,
    timezone: &'a str,
    location: Option<&'a str>,
    description: Option<&'a str>,
    notes: Option<&'a str>,
    interaction_id: i32,
    created_by: i32,
    created_at: String,
    updated_by: Option<i32>,
    updated_at: Option<String>,
    version: i32,
}

fn instant(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

impl<'a> ExportRow<'a> {
    fn new(i: &'a Interaction) -> Self {
        ExportRow {
            title: &i.title,
            kind: &i.kind,
            lead: &i.lead,
            start: format_wall_clock_unambiguous(i.start_datetime, &i.timezone),
            end: format_wall_clock_unambiguous(i.end_datetime, &i.timezone),
            timezone: &i.timezone,
            location: i.location.as_deref(),
            description: i.description.as_deref(),
            notes: i.notes.as_deref(),
            interaction_id: i.interaction_id,
            created_by: i.created_by,
            created_at: instant(i.created_at),
            updated_by: i.updated_by,
            updated_at: i.updated_at.map(instant),
            version: i.version,
        }
    }
}

/// A streaming export: write rows as they come (e.g. page by page from a search), then
/// [`finish`](Exporter::finish).
pub struct Exporter<W: Write> {
    inner: Inner<W>,
    rows: u64,
}

enum Inner<W: Write> {
    Csv(Box<csv::Writer<W>>),
    Json { w: W, first: bool },
    Ics { w: W, stamp: DateTime<Utc> },
}

impl<W: Write> Exporter<W> {
    /// Starts an export: writes the CSV header row, the JSON array's opening bracket or the
    /// calendar's opening lines (a calendar named "ifind", stamped now).
    pub fn new(w: W, format: ExportFormat) -> io::Result<Self> {
        Exporter::new_named(w, format, "ifind", Utc::now())
    }

    /// [`Exporter::new`], with the calendar's name (`X-WR-CALNAME`) and the time its events are
    /// stamped with (`DTSTAMP`: when the export ran) given; both matter to iCalendar only.
    pub fn new_named(
        w: W,
        format: ExportFormat,
        calendar: &str,
        stamp: DateTime<Utc>,
    ) -> io::Result<Self> {
        let inner = match format {
            ExportFormat::Ics => {
                let mut w = w;
                w.write_all(ical::begin_calendar(calendar).as_bytes())?;
                Inner::Ics { w, stamp }
            }
            ExportFormat::Csv => {
                let mut csv = csv::Writer::from_writer(w);
                csv.write_record(COLUMNS.iter().chain(EXTRA_COLUMNS.iter()))?;
                Inner::Csv(Box::new(csv))
            }
            ExportFormat::Json => {
                let mut w = w;
                w.write_all(b"[")?;
                Inner::Json { w, first: true }
            }
        };
        Ok(Exporter { inner, rows: 0 })
    }

    /// Writes one interaction.
    pub fn write(&mut self, i: &Interaction) -> io::Result<()> {
        let row = ExportRow::new(i);
        match &mut self.inner {
            Inner::Ics { w, stamp } => w.write_all(ical::event(i, *stamp).as_bytes())?,
            Inner::Csv(csv) => {
                let text = |v: &str| neutralise(&escape_multi_line(v));
                let opt = |v: Option<&str>| text(v.unwrap_or(""));
                csv.write_record([
                    text(row.title),
                    text(row.kind),
                    text(row.lead),
                    row.start,
                    row.end,
                    text(row.timezone),
                    opt(row.location),
                    opt(row.description),
                    opt(row.notes),
                    row.interaction_id.to_string(),
                    row.created_by.to_string(),
                    row.created_at,
                    row.updated_by.map(|u| u.to_string()).unwrap_or_default(),
                    row.updated_at.unwrap_or_default(),
                    row.version.to_string(),
                ])?;
            }
            Inner::Json { w, first } => {
                w.write_all(if *first { b"\n  " } else { b",\n  " })?;
                *first = false;
                let json = escape_json(serde_json::to_string(&row)?);
                w.write_all(json.as_bytes())?;
            }
        }
        self.rows += 1;
        Ok(())
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Ends the export (closing the JSON array or the calendar), flushes, and gives the writer
    /// back.
    pub fn finish(self) -> io::Result<W> {
        match self.inner {
            Inner::Ics { mut w, .. } => {
                w.write_all(ical::end_calendar().as_bytes())?;
                w.flush()?;
                Ok(w)
            }
            Inner::Csv(csv) => (*csv).into_inner().map_err(|e| e.into_error()),
            Inner::Json { mut w, first } => {
                w.write_all(if first { b"]\n" } else { b"\n]\n" })?;
                w.flush()?;
                Ok(w)
            }
        }
    }
}

/// The characters that make a spreadsheet read a cell as a formula (OWASP, CSV injection) when
/// they begin it: `=`, `+`, `-`, `@`, a tab or a carriage return.
fn is_formula_start(c: char) -> bool {
    matches!(c, '=' | '+' | '-' | '@' | '\t' | '\r')
}

/// True when `text` is zero or more `'` followed by a formula start.
fn quoted_formula(text: &str) -> bool {
    text.trim_start_matches('\'')
        .chars()
        .next()
        .is_some_and(is_formula_start)
}

/// A CSV cell a spreadsheet shows as text: a cell that begins with a formula start, after any
/// number of `'`, gets one more `'` in front (`=1+1` becomes `'=1+1`, `'=x` becomes `''=x`);
/// every other cell is unchanged. [`unneutralise`] undoes it exactly.
pub fn neutralise(text: &str) -> String {
    if quoted_formula(text) {
        format!("'{text}")
    } else {
        text.to_string()
    }
}

/// Undoes [`neutralise`] on an imported CSV cell: a cell of one or more `'` followed by a
/// formula start loses its first `'`; any other cell is unchanged.
pub fn unneutralise(text: String) -> String {
    match text.strip_prefix('\'') {
        Some(rest) if quoted_formula(rest) => rest.to_string(),
        _ => text,
    }
}

/// Writes `rows` as CSV: the header ([`COLUMNS`] then [`EXTRA_COLUMNS`]) and one line per row.
pub fn write_csv<'a>(
    w: impl Write,
    rows: impl IntoIterator<Item = &'a Interaction>,
) -> io::Result<()> {
    write_all(w, ExportFormat::Csv, rows)
}

/// Writes `rows` as a JSON array of objects with the same keys as the CSV columns.
pub fn write_json<'a>(
    w: impl Write,
    rows: impl IntoIterator<Item = &'a Interaction>,
) -> io::Result<()> {
    write_all(w, ExportFormat::Json, rows)
}

/// Writes `rows` in `format`.
pub fn write_all<'a>(
    w: impl Write,
    format: ExportFormat,
    rows: impl IntoIterator<Item = &'a Interaction>,
) -> io::Result<()> {
    let mut exporter = Exporter::new(w, format)?;
    for row in rows {
        exporter.write(row)?;
    }
    exporter.finish().map(|_| ())
}
