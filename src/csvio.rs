//! Import and export of interactions as CSV (and JSON).
//!
//! The columns are [`COLUMNS`]: `title,type,lead,start,end,timezone,location,description,notes`,
//! with wall-clock start and end in the row's own timezone. Export adds [`EXTRA_COLUMNS`]
//! (`interaction_id,created_by,created_at,updated_by,updated_at,version`), which import accepts
//! and ignores, so an exported file imports back unchanged and gives the same instants.
//!
//! Cells that begin with `=`, `+`, `-`, `@`, a tab or a carriage return are written with a
//! leading `'` so that a spreadsheet does not run them as formulas (and a `'` before such a
//! cell gets one more); CSV import removes that one `'` again ([`neutralise`],
//! [`unneutralise`]), so export and import round trip exactly. JSON needs none of this.
//!
//! Import is all or nothing: [`read_csv`] parses and validates every row first and reports every
//! bad one by its physical line; [`import`] then loads all rows with one `COPY` in one
//! transaction.

use std::fmt;
use std::io::{self, BufRead, BufReader, Read};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use crate::db::Db;
use crate::domain::interaction::{Field, InteractionInput, ValidInteraction, validate};

mod export;
mod lines;

pub use export::{
    ExportFormat, Exporter, neutralise, unneutralise, write_all, write_csv, write_json,
};
use lines::LineIndex;

/// The columns a file may carry, in export order.
pub const COLUMNS: [&str; 9] = [
    "title",
    "type",
    "lead",
    "start",
    "end",
    "timezone",
    "location",
    "description",
    "notes",
];

/// Columns a file must carry.
pub const REQUIRED_COLUMNS: [&str; 6] = ["title", "type", "lead", "start", "end", "timezone"];

/// Columns export adds after [`COLUMNS`]; import accepts and ignores them (and `site_id`).
pub const EXTRA_COLUMNS: [&str; 6] = [
    "interaction_id",
    "created_by",
    "created_at",
    "updated_by",
    "updated_at",
    "version",
];

const IGNORED_COLUMNS: [&str; 7] = [
    "interaction_id",
    "created_by",
    "created_at",
    "updated_by",
    "updated_at",
    "version",
    "site_id",
];

/// Errors kept in memory; beyond this they are only counted.
const MAX_KEPT_ERRORS: usize = 1000;
/// Errors listed by `Display`; beyond this "and K more".
const MAX_SHOWN_ERRORS: usize = 50;

/// Where in the file a bad row is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// The physical line (1-based) where a CSV row starts.
    Line(u64),
    /// The position (1-based) of an object in a JSON array.
    Record(u64),
}

/// One problem with one row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    pub place: Place,
    /// None when the problem is the row as a whole (e.g. a wrong number of columns).
    pub field: Option<Field>,
    pub message: String,
}

impl RowError {
    /// The physical line, for a CSV row.
    pub fn line(&self) -> Option<u64> {
        match self.place {
            Place::Line(n) => Some(n),
            Place::Record(_) => None,
        }
    }
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.place {
            Place::Line(n) => write!(f, "line {n}")?,
            Place::Record(n) => write!(f, "record {n}")?,
        }
        if let Some(field) = self.field {
            write!(f, ", field {}", field.name())?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Why an import wrote nothing.
#[derive(Debug)]
pub enum ImportError {
    /// The file could not be read.
    Io(io::Error),
    /// The file holds no header row.
    Empty,
    /// The header row (or the file's format as a whole) is wrong; the text says how.
    Header(String),
    /// Some rows are bad. `errors` holds the first problems found (up to 1,000); `total_bad` is
    /// the number of problems in the whole file.
    Rows {
        errors: Vec<RowError>,
        total_bad: usize,
    },
    /// The database refused the load; the transaction was rolled back.
    Db(sqlx::Error),
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImportError::Io(e) => write!(
                f,
                "Could not read the file ({e}); check the path and that you may read it."
            ),
            ImportError::Empty => write!(
                f,
                "The file is empty; it needs a header row ({}) and then one row per interaction.",
                COLUMNS.join(",")
            ),
            ImportError::Header(message) => f.write_str(message),
            ImportError::Rows { errors, total_bad } => {
                let s = if *total_bad == 1 { "" } else { "s" };
                writeln!(
                    f,
                    "Nothing was imported: the file has {total_bad} problem{s}. Fix them and \
                     import again."
                )?;
                for e in errors.iter().take(MAX_SHOWN_ERRORS) {
                    writeln!(f, "  {e}")?;
                }
                let shown = errors.len().min(MAX_SHOWN_ERRORS);
                if *total_bad > shown {
                    writeln!(f, "  and {} more.", total_bad - shown)?;
                }
                Ok(())
            }
            ImportError::Db(e) => write!(
                f,
                "The database refused the import, so nothing was imported ({e}); check that the \
                 site and user exist and the database is reachable, then import again."
            ),
        }
    }
}

impl std::error::Error for ImportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ImportError::Io(e) => Some(e),
            ImportError::Db(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for ImportError {
    fn from(e: io::Error) -> Self {
        ImportError::Io(e)
    }
}

impl From<sqlx::Error> for ImportError {
    fn from(e: sqlx::Error) -> Self {
        ImportError::Db(e)
    }
}

/// What a successful import did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ImportReport {
    /// New interactions stored.
    pub rows: u64,
    /// Interactions written over (`--update`).
    pub updated: u64,
    pub elapsed: Duration,
}

impl ImportReport {
    /// Rows per second (0 for an instant or empty import).
    pub fn rows_per_second(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.rows as f64 / secs
        } else {
            0.0
        }
    }
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Imported {} rows in {:.2} s ({:.0} rows/s).",
            self.rows,
            self.elapsed.as_secs_f64(),
            self.rows_per_second()
        )
    }
}

/// Collects row errors, keeping the first [`MAX_KEPT_ERRORS`].
#[derive(Default)]
struct Problems {
    kept: Vec<RowError>,
    total: usize,
}

impl Problems {
    fn push(&mut self, place: Place, field: Option<Field>, message: String) {
        self.total += 1;
        if self.kept.len() < MAX_KEPT_ERRORS {
            self.kept.push(RowError {
                place,
                field,
                message,
            });
        }
    }

    fn check(&mut self, place: Place, input: &InteractionInput) -> Option<ValidInteraction> {
        match validate(input) {
            Ok(v) => Some(v),
            Err(errors) => {
                for e in errors {
                    self.push(place, Some(e.field), e.message);
                }
                None
            }
        }
    }

    fn finish(self, rows: Vec<ValidInteraction>) -> Result<Vec<ValidInteraction>, ImportError> {
        if self.total == 0 {
            Ok(rows)
        } else {
            Err(ImportError::Rows {
                errors: self.kept,
                total_bad: self.total,
            })
        }
    }
}

/// An example file for `ifind import --help`, which reads as it says (a test imports it).
pub const EXAMPLE_CSV: &str = "title,type,lead,start,end,timezone,location\n\
     Budget review,meeting,Ada Lopez,2026-03-02 14:00,2026-03-02 15:30,Europe/London,Board room\n\
     Supplier call,call,Ben Okafor,2026-03-03,2026-03-03 00:20,America/New_York,\n";

/// A chrono format as a person reads it: `%Y-%m-%d %H:%M` is `YYYY-MM-DD HH:MM`, and optional
/// fractions of a second show as `[.fff]`.
fn readable_format(format: &str) -> String {
    [
        ("%Y", "YYYY"),
        ("%m", "MM"),
        ("%d", "DD"),
        ("%H", "HH"),
        ("%M", "MM"),
        ("%S", "SS"),
        ("%.f", "[.fff]"),
    ]
    .iter()
    .fold(format.to_string(), |text, (from, to)| {
        text.replace(from, to)
    })
}

/// The text `ifind import --help` ends with: the columns, which are required, the formats of
/// start and end, and the timezone rules, made from the constants the importer itself uses.
pub fn import_help() -> String {
    use crate::domain::interaction::{
        DATE_FORMAT, MAX_LEAD, MAX_LOCATION, MAX_TIMEZONE, MAX_TITLE, MAX_TYPE, OFFSET_EXAMPLES,
        WALL_CLOCK_FORMATS,
    };
    let optional: Vec<&str> = COLUMNS
        .iter()
        .copied()
        .filter(|c| !REQUIRED_COLUMNS.contains(c))
        .collect();
    let formats: String = WALL_CLOCK_FORMATS
        .iter()
        .map(|f| format!("  {}\n", readable_format(f)))
        .collect();
    let example: String = EXAMPLE_CSV
        .lines()
        .map(|line| format!("  {line}\n"))
        .collect();
    let text = format!(
        "File format:\n  \
         CSV: comma-separated, UTF-8 (a byte order mark and CRLF line ends are fine), a header \
         row first, then one row per interaction; put quotes around a cell that holds a comma, a \
         quote or a line break. A file whose first character is `[` is read as JSON instead: an \
         array of objects with the same keys, as `ifind export --format json` writes.\n\n\
         Columns (the header names them, in any order and any case):\n  \
         required: {required}\n  \
         optional: {optional}\n  \
         ignored:  {ignored}\n  \
         (the ignored ones are what `ifind export` adds; with --update, interaction_id says \
         which interaction the row writes over)\n\n  \
         title (up to {MAX_TITLE} characters), type (up to {MAX_TYPE}, e.g. meeting or call), lead \
         (the person in charge, up to {MAX_LEAD}) and location (up to {MAX_LOCATION}) are one \
         line each; description and notes may hold several lines. A cell that export wrote with \
         a leading ' (one that starts with =, +, -, @, a tab or a carriage return) loses that \
         '.\n\n\
         start and end: wall-clock time in the row's timezone, in one of these forms:\n\
         {formats}  {date} (00:00 that day)\n\
         end is not before start. A time that happens twice because the \
         clocks go back needs a UTC offset after it to say which ({offsets}); it must be the \
         zone's real offset at that time. A time that does not exist because the clocks go \
         forward is refused.\n\n\
         timezone: an IANA name, spelled exactly (up to {MAX_TIMEZONE} characters), such as \
         Europe/London or America/New_York; a near miss is answered with the names it may \
         mean.\n\n\
         Every row is checked before anything is written: one bad row and nothing is imported, \
         and every problem is reported with its line and column.\n\n\
         Example:\n{example}",
        required = REQUIRED_COLUMNS.join(", "),
        optional = optional.join(", "),
        ignored = IGNORED_COLUMNS.join(", "),
        date = readable_format(DATE_FORMAT),
        offsets = OFFSET_EXAMPLES.join(", "),
    );
    wrap(&text, 92)
}

/// `text` with every line longer than `width` broken at spaces, continuation lines indented as
/// the line they continue.
fn wrap(text: &str, width: usize) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / width);
    for line in text.lines() {
        let body = line.trim_start();
        let indent = &line[..line.len() - body.len()];
        let mut current = indent.to_string();
        for word in body.split(' ') {
            let fresh = current.len() == indent.len();
            if !fresh && current.chars().count() + 1 + word.chars().count() > width {
                out.push_str(&current);
                out.push('\n');
                current = indent.to_string();
            }
            if current.len() > indent.len() {
                current.push(' ');
            }
            current.push_str(word);
        }
        out.push_str(&current);
        out.push('\n');
    }
    out
}

fn expected_columns() -> String {
    format!(
        "the columns are {} (and, ignored, {})",
        COLUMNS.join(", "),
        EXTRA_COLUMNS.join(", ")
    )
}

/// Maps the header row to fields (None for an ignored column), or says what is wrong with it.
fn read_header(header: &csv::ByteRecord) -> Result<Vec<Option<Field>>, ImportError> {
    let names: Vec<String> = header
        .iter()
        .map(|b| String::from_utf8_lossy(b).trim().to_lowercase())
        .collect();
    if names.iter().all(|n| n.is_empty()) {
        return Err(ImportError::Empty);
    }
    if let [only] = names.as_slice() {
        for (sep, what) in [(';', "semicolons"), ('\t', "tabs"), ('|', "bars")] {
            if only.contains(sep) {
                return Err(ImportError::Header(format!(
                    "The header row is separated by {what}, not commas; save the file as \
                     comma-separated CSV (UTF-8) and import again."
                )));
            }
        }
    }
    let mut columns = Vec::with_capacity(names.len());
    let mut unknown = Vec::new();
    let mut duplicate = Vec::new();
    for name in &names {
        if let Some(field) = Field::from_name(name) {
            if columns.contains(&Some(field)) {
                duplicate.push(name.clone());
            }
            columns.push(Some(field));
        } else if IGNORED_COLUMNS.contains(&name.as_str()) {
            columns.push(None);
        } else {
            unknown.push(format!("\"{name}\""));
        }
    }
    if !unknown.is_empty() {
        return Err(ImportError::Header(format!(
            "The header row has unknown column{} {}; {}. Rename or remove {} (is the first row a \
             header?).",
            if unknown.len() == 1 { "" } else { "s" },
            unknown.join(", "),
            expected_columns(),
            if unknown.len() == 1 { "it" } else { "them" }
        )));
    }
    if !duplicate.is_empty() {
        return Err(ImportError::Header(format!(
            "The header row names column{} {} twice; keep one of each.",
            if duplicate.len() == 1 { "" } else { "s" },
            duplicate.join(", ")
        )));
    }
    let missing: Vec<&str> = REQUIRED_COLUMNS
        .iter()
        .copied()
        .filter(|r| !names.iter().any(|n| n == r))
        .collect();
    if !missing.is_empty() {
        return Err(ImportError::Header(format!(
            "The header row lacks the required column{} {}; {}.",
            if missing.len() == 1 { "" } else { "s" },
            missing.join(", "),
            expected_columns()
        )));
    }
    Ok(columns)
}

/// Parses and validates a CSV file (header row required; a UTF-8 BOM and CRLF line ends are
/// fine). Returns every row, or every problem with its physical line and field. Writes nothing.
pub fn read_csv(reader: impl Read) -> Result<Vec<ValidInteraction>, ImportError> {
    read_csv_with_ids(reader).map(|file| file.rows)
}

/// Rows read from a file, with the `interaction_id` each carries (an export's: None for a row
/// without one), in the same order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FileRows {
    pub rows: Vec<ValidInteraction>,
    pub ids: Vec<Option<i32>>,
}

/// An `interaction_id` cell: empty is none, else a whole number (as export writes it).
fn read_id(problems: &mut Problems, place: Place, text: &str) -> Result<Option<i32>, ()> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    match text.parse::<i32>() {
        Ok(id) if id > 0 => Ok(Some(id)),
        _ => {
            problems.push(
                place,
                None,
                format!(
                    "interaction_id {text:?} is not the id of an interaction (a whole number, \
                     as export writes it); leave it empty for a new interaction."
                ),
            );
            Err(())
        }
    }
}

/// [`read_csv`], with the `interaction_id` of each row.
pub fn read_csv_with_ids(reader: impl Read) -> Result<FileRows, ImportError> {
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::None)
        .from_reader(LineIndex::new(reader));
    let mut record = csv::ByteRecord::new();
    if !csv.read_byte_record(&mut record).map_err(csv_error)? {
        return Err(ImportError::Empty);
    }
    let columns = read_header(&record)?;
    let id_column = record.iter().position(|name| {
        String::from_utf8_lossy(name)
            .trim()
            .eq_ignore_ascii_case("interaction_id")
    });
    let mut rows = Vec::new();
    let mut ids = Vec::new();
    let mut problems = Problems::default();
    while csv.read_byte_record(&mut record).map_err(csv_error)? {
        let start = record.position().map(|p| p.byte()).unwrap_or(0);
        let line = csv.get_mut().line_at(start);
        let place = Place::Line(line);
        if record.len() != columns.len() {
            problems.push(
                place,
                None,
                format!(
                    "The row has {} but the header has {}; check for a missing or extra comma, \
                     and put quotes around text that contains commas.",
                    counted(record.len(), "column", "columns"),
                    columns.len()
                ),
            );
            continue;
        }
        let mut input = InteractionInput::default();
        let id = id_column
            .and_then(|at| record.get(at))
            .map_or(Ok(None), |bytes| {
                read_id(&mut problems, place, &String::from_utf8_lossy(bytes))
            });
        let mut readable = id.is_ok();
        for (bytes, column) in record.iter().zip(&columns) {
            let Some(field) = *column else { continue };
            match std::str::from_utf8(bytes) {
                // Export neutralised formula-like cells with a leading `'`: undo it.
                Ok(text) => input.set(field, unneutralise(text.to_string())),
                Err(_) => {
                    problems.push(
                        place,
                        Some(field),
                        format!(
                            "{} is not valid UTF-8 text; save the file as UTF-8 CSV.",
                            field.label()
                        ),
                    );
                    readable = false;
                }
            }
        }
        if readable && let Some(v) = problems.check(place, &input) {
            rows.push(v);
            ids.push(id.unwrap_or(None));
        }
    }
    Ok(FileRows {
        rows: problems.finish(rows)?,
        ids,
    })
}

fn csv_error(e: csv::Error) -> ImportError {
    if e.is_io_error() {
        if let csv::ErrorKind::Io(e) = e.into_kind() {
            return ImportError::Io(e);
        }
        return ImportError::Io(io::Error::other("read failed"));
    }
    ImportError::Header(format!(
        "The file could not be read as CSV ({e}); save it as comma-separated CSV (UTF-8) and \
         import again."
    ))
}

/// Parses and validates a JSON array of objects with the keys of [`COLUMNS`] (the output of
/// [`write_json`]); [`EXTRA_COLUMNS`] keys are ignored. Problems are reported by record number.
pub fn read_json(reader: impl Read) -> Result<Vec<ValidInteraction>, ImportError> {
    read_json_with_ids(reader).map(|file| file.rows)
}

/// [`read_json`], with the `interaction_id` of each record.
pub fn read_json_with_ids(reader: impl Read) -> Result<FileRows, ImportError> {
    let value: serde_json::Value = serde_json::from_reader(reader).map_err(|e| {
        if e.is_io() {
            ImportError::Io(e.into())
        } else if e.is_eof() && e.line() == 1 && e.column() == 0 {
            ImportError::Empty
        } else {
            ImportError::Header(format!(
                "The file is not valid JSON ({e}); fix it or export it again."
            ))
        }
    })?;
    let serde_json::Value::Array(items) = value else {
        return Err(ImportError::Header(
            "A JSON file to import must be an array of objects, one per interaction, as \
             `ifind export --format json` writes."
                .to_string(),
        ));
    };
    let mut rows = Vec::with_capacity(items.len());
    let mut ids = Vec::with_capacity(items.len());
    let mut problems = Problems::default();
    for (i, item) in items.into_iter().enumerate() {
        let place = Place::Record(i as u64 + 1);
        let serde_json::Value::Object(map) = item else {
            problems.push(
                place,
                None,
                "The record is not an object; write it as {\"title\": ..., ...}.".to_string(),
            );
            continue;
        };
        let mut input = InteractionInput::default();
        let id = match map.get("interaction_id") {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::String(text)) => read_id(&mut problems, place, text),
            Some(other) => read_id(&mut problems, place, &other.to_string()),
        };
        let mut readable = id.is_ok();
        for (key, value) in map {
            let Some(field) = Field::from_name(&key) else {
                if !IGNORED_COLUMNS.contains(&key.as_str()) {
                    problems.push(
                        place,
                        None,
                        format!("Unknown key \"{key}\"; {}.", expected_columns()),
                    );
                    readable = false;
                }
                continue;
            };
            match value {
                serde_json::Value::String(s) => input.set(field, s),
                serde_json::Value::Null => {}
                _ => {
                    problems.push(
                        place,
                        Some(field),
                        format!("{} must be text (in quotes) or null.", field.label()),
                    );
                    readable = false;
                }
            }
        }
        if readable && let Some(v) = problems.check(place, &input) {
            rows.push(v);
            ids.push(id.unwrap_or(None));
        }
    }
    Ok(FileRows {
        rows: problems.finish(rows)?,
        ids,
    })
}

/// Reads CSV or JSON, told apart by the first character (`[` means JSON).
pub fn read_auto(reader: impl Read) -> Result<Vec<ValidInteraction>, ImportError> {
    read_auto_with_ids(reader).map(|file| file.rows)
}

/// [`read_auto`], with the `interaction_id` of each row.
pub fn read_auto_with_ids(reader: impl Read) -> Result<FileRows, ImportError> {
    let mut reader = BufReader::new(reader);
    let head = reader.fill_buf()?;
    let body = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let is_json = body
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|&b| b == b'[');
    if is_json {
        let bom = head.len() - body.len();
        reader.consume(bom);
        read_json_with_ids(reader)
    } else {
        read_csv_with_ids(reader)
    }
}

/// Loads validated rows into `site_id` as `acting_user`: one transaction, one `COPY`, so a
/// failure part-way leaves nothing behind. `progress(done, total)` is called as rows are sent.
pub async fn import(
    db: &Db,
    site_id: i32,
    acting_user: i32,
    rows: &[ValidInteraction],
    progress: &(dyn Fn(u64, u64) + Send + Sync),
) -> Result<ImportReport, ImportError> {
    load(db, site_id, acting_user, rows, &[], None, progress).await
}

/// Which file an import loads, recorded with its rows (`crate::db::imports`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportedFile {
    /// Made before the import starts, so that it can be looked up if its answer is lost.
    pub import_id: String,
    /// The file's SHA-256, lower-case hex.
    pub sha256: String,
    /// The file's name as given.
    pub name: String,
}

/// [`import`], recorded: the import of `file` is written in the same transaction as its rows.
pub async fn import_file(
    db: &Db,
    site_id: i32,
    acting_user: i32,
    rows: &[ValidInteraction],
    file: &ImportedFile,
    progress: &(dyn Fn(u64, u64) + Send + Sync),
) -> Result<ImportReport, ImportError> {
    load(db, site_id, acting_user, rows, &[], Some(file), progress).await
}

/// [`import_file`] that also writes `updates` (an interaction id and its new values) over the
/// site's interactions of those ids, in the same transaction: re-importing an export with
/// `--update`. An id that is no longer live in the site fails the whole import.
pub async fn import_file_updating(
    db: &Db,
    site_id: i32,
    acting_user: i32,
    rows: &[ValidInteraction],
    updates: &[(i32, ValidInteraction)],
    file: &ImportedFile,
    progress: &(dyn Fn(u64, u64) + Send + Sync),
) -> Result<ImportReport, ImportError> {
    load(
        db,
        site_id,
        acting_user,
        rows,
        updates,
        Some(file),
        progress,
    )
    .await
}

async fn load(
    db: &Db,
    site_id: i32,
    acting_user: i32,
    rows: &[ValidInteraction],
    updates: &[(i32, ValidInteraction)],
    file: Option<&ImportedFile>,
    progress: &(dyn Fn(u64, u64) + Send + Sync),
) -> Result<ImportReport, ImportError> {
    let started = Instant::now();
    // No user is named to the database: a user's own connection acts as that user (who the
    // database stamps as the creator), the owner's as the owner.
    let mut tx = db.begin_as(None).await?;
    let policed: bool = sqlx::query_scalar("SELECT row_security_active('interactions')")
        .fetch_one(&mut *tx)
        .await?;
    let n = if policed {
        insert_rows(&mut tx, site_id, acting_user, rows, progress).await?
    } else {
        copy_rows(&mut tx, site_id, acting_user, rows, progress).await?
    };
    let mut updated = 0;
    for (id, v) in updates {
        if !crate::db::interactions::overwrite(&mut tx, site_id, *id, acting_user, v).await? {
            return Err(ImportError::Header(format!(
                "Interaction {id} is no longer in the site (deleted or archived since the \
                 export); nothing was imported. Remove its row, or empty its interaction_id to \
                 import it as a new interaction."
            )));
        }
        updated += 1;
    }
    if let Some(file) = file {
        let count = i32::try_from(n).unwrap_or(i32::MAX);
        crate::db::imports::record(
            &mut tx,
            site_id,
            &file.import_id,
            &file.sha256,
            &file.name,
            count,
            acting_user,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(ImportReport {
        rows: n,
        updated,
        elapsed: started.elapsed(),
    })
}

/// The `COPY` of [`import`] on a caller-chosen connection (a transaction, so that the caller
/// decides when it commits). Returns the number of rows written.
pub async fn copy_rows(
    conn: &mut PgConnection,
    site_id: i32,
    acting_user: i32,
    rows: &[ValidInteraction],
    progress: &(dyn Fn(u64, u64) + Send + Sync),
) -> sqlx::Result<u64> {
    const CHUNK: usize = 1 << 20;
    let total = rows.len() as u64;
    progress(0, total);
    if rows.is_empty() {
        return Ok(0);
    }
    let mut copy = conn
        .copy_in_raw(
            "COPY interactions (site_id, title, type, lead, start_datetime, end_datetime, \
             timezone, location, description, notes, created_by) FROM STDIN",
        )
        .await?;
    let mut buf = Vec::with_capacity(CHUNK + 4096);
    for (i, row) in rows.iter().enumerate() {
        copy_line(&mut buf, site_id, acting_user, row);
        let last = i + 1 == rows.len();
        if buf.len() >= CHUNK || last {
            if let Err(e) = copy.send(buf.as_slice()).await {
                let _ = copy.abort("ifind import failed while sending rows").await;
                return Err(e);
            }
            buf.clear();
            progress(i as u64 + 1, total);
        }
    }
    copy.finish().await
}

/// The load of [`import`] for a connection under row-level security, which PostgreSQL refuses
/// `COPY` into: batches of rows as arrays, one INSERT each, every row checked by the policies.
pub async fn insert_rows(
    conn: &mut PgConnection,
    site_id: i32,
    acting_user: i32,
    rows: &[ValidInteraction],
    progress: &(dyn Fn(u64, u64) + Send + Sync),
) -> sqlx::Result<u64> {
    const BATCH: usize = 5000;
    let total = rows.len() as u64;
    progress(0, total);
    let mut done = 0u64;
    for batch in rows.chunks(BATCH) {
        let text = |f: fn(&ValidInteraction) -> &String| -> Vec<String> {
            batch.iter().map(|v| f(v).clone()).collect()
        };
        let optional = |f: fn(&ValidInteraction) -> &Option<String>| -> Vec<Option<String>> {
            batch.iter().map(|v| f(v).clone()).collect()
        };
        let times = |f: fn(&ValidInteraction) -> DateTime<Utc>| -> Vec<DateTime<Utc>> {
            batch.iter().map(f).collect()
        };
        let r = sqlx::query(
            "INSERT INTO interactions (site_id, title, type, lead, start_datetime, \
                    end_datetime, timezone, location, description, notes, created_by) \
             SELECT $1, r.* , $11 FROM unnest($2::text[], $3::text[], $4::text[], \
                    $5::timestamptz[], $6::timestamptz[], $7::text[], $8::text[], $9::text[], \
                    $10::text[]) AS r",
        )
        .bind(site_id)
        .bind(text(|v| &v.title))
        .bind(text(|v| &v.kind))
        .bind(text(|v| &v.lead))
        .bind(times(|v| v.start_datetime))
        .bind(times(|v| v.end_datetime))
        .bind(text(|v| &v.timezone))
        .bind(optional(|v| &v.location))
        .bind(optional(|v| &v.description))
        .bind(optional(|v| &v.notes))
        .bind(acting_user)
        .execute(&mut *conn)
        .await?;
        done += r.rows_affected();
        progress(done, total);
    }
    Ok(done)
}

/// One row of `COPY ... FROM STDIN` text format.
fn copy_line(buf: &mut Vec<u8>, site_id: i32, acting_user: i32, v: &ValidInteraction) {
    let ts = |t: DateTime<Utc>| t.format("%Y-%m-%d %H:%M:%S%.6f+00").to_string();
    buf.extend_from_slice(site_id.to_string().as_bytes());
    for text in [&v.title, &v.kind, &v.lead] {
        buf.push(b'\t');
        copy_text(buf, Some(text));
    }
    buf.push(b'\t');
    buf.extend_from_slice(ts(v.start_datetime).as_bytes());
    buf.push(b'\t');
    buf.extend_from_slice(ts(v.end_datetime).as_bytes());
    buf.push(b'\t');
    copy_text(buf, Some(&v.timezone));
    for text in [&v.location, &v.description, &v.notes] {
        buf.push(b'\t');
        copy_text(buf, text.as_deref());
    }
    buf.push(b'\t');
    buf.extend_from_slice(acting_user.to_string().as_bytes());
    buf.push(b'\n');
}

/// A value in COPY text format: backslash escapes for the delimiter, line ends and control bytes.
fn copy_text(buf: &mut Vec<u8>, text: Option<&str>) {
    let Some(text) = text else {
        buf.extend_from_slice(b"\\N");
        return;
    };
    for &b in text.as_bytes() {
        match b {
            b'\\' => buf.extend_from_slice(b"\\\\"),
            b'\n' => buf.extend_from_slice(b"\\n"),
            b'\r' => buf.extend_from_slice(b"\\r"),
            b'\t' => buf.extend_from_slice(b"\\t"),
            0..=0x1f => buf.extend_from_slice(format!("\\x{b:02x}").as_bytes()),
            _ => buf.push(b),
        }
    }
}

/// `n` with its noun in the right number: "1 column", "3 columns".
fn counted(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
