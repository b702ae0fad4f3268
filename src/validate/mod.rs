//! Validation: Frictionless Table Schemas and SQL rules over loaded tables, every problem an
//! issue row.
//!
//! A [`Validator`] follows a run of entries: [`Validator::after_load`] checks one loaded table
//! (header, then content: each row as it loaded, through a [`RowChecker`] on the loader's
//! parser thread, or streamed back from the table), and [`Validator::after_all`] checks what
//! needs every table (workbook sheets, foreign keys), runs the SQL rules and moves each entry
//! `VALIDATING -> VALIDATED | INVALID`. `rssd ingest` calls both through its entry hook;
//! [`validate_tables`] drives them over tables already in the database.

mod content;
pub mod field;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod header;
pub mod rules;
pub mod schema;
mod tables;

use std::cell::RefCell;
use std::collections::HashMap;

use rusqlite::Connection;
use rusqlite::types::ValueRef;
use serde::Serialize;

pub use content::RowChecker;
pub use field::{Cast, Field, FieldType};
pub use rules::RuleSet;
pub use schema::{Binding, SchemaSet, TableSchema};
pub use tables::{ValidateOutcome, select_tables, validate_tables};

use crate::Result;
use crate::ingest::{ColumnType, EntryHook, LoadedEntry, RowCheck};
use crate::state::query::{IssueCounts, issue_counts_by_entry};
use crate::state::{Session, states};

/// Choices that are not part of any schema.
#[derive(Debug, Clone, Default)]
pub struct ValidateOptions {
    /// Match header names to field names exactly (default: ignoring case).
    pub header_case: bool,
    /// Report rows whose cells are all empty as `Blank Row` (the loader already does during
    /// an ingest, so only `rssd validate` asks for it).
    pub report_blank_rows: bool,
}

/// Everything a run validates with.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub schemas: SchemaSet,
    pub rules: RuleSet,
    pub options: ValidateOptions,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.schemas.is_empty() && self.rules.is_empty()
    }
}

/// A column of a loaded table: the header text as in the file, and its name in the table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TargetColumn {
    pub header: String,
    pub name: String,
}

/// One loaded table to validate, and the entry it belongs to.
#[derive(Debug, Clone)]
pub struct Target {
    pub entry_id: String,
    pub source: String,
    pub table: String,
    pub sheet: Option<String>,
    pub columns: Vec<TargetColumn>,
    /// Rows with a larger rowid are this entry's (non-zero when it was appended).
    pub rowid_offset: i64,
}

impl Target {
    /// The entry a loader committed, with the rowid offset it recorded when appending.
    pub fn from_loaded(conn: &Connection, entry: &LoadedEntry) -> Result<Target> {
        let offset: Option<i64> = conn.query_row(
            "SELECT json_extract(elaboration, '$.rowid_offset') FROM orchestration_session_entry
             WHERE orchestration_session_entry_id = ?1",
            [&entry.entry_id],
            |row| row.get(0),
        )?;
        Ok(Target::from_entry(entry, offset.unwrap_or(0)))
    }

    fn from_entry(entry: &LoadedEntry, rowid_offset: i64) -> Target {
        Target {
            entry_id: entry.entry_id.clone(),
            source: entry.source.clone(),
            table: entry.table.clone(),
            sheet: entry.sheet.clone(),
            columns: entry
                .columns
                .iter()
                .map(|c| TargetColumn {
                    header: c.header.clone(),
                    name: c.name.clone(),
                })
                .collect(),
            rowid_offset,
        }
    }
}

/// What the validator remembers of each entry between `after_load` and `after_all`.
#[derive(Debug, Clone)]
struct Checked {
    entry_id: String,
    table: String,
    binding: Option<usize>,
    header_ok: bool,
    /// (field index, loaded column name) for every field found in the header.
    columns: Vec<(usize, String)>,
}

/// Validates the entries of one run. Methods take `&self` so that a loader's hook can hold it.
pub struct Validator {
    plan: Plan,
    checked: RefCell<Vec<Checked>>,
}

impl Validator {
    pub fn new(plan: Plan) -> Validator {
        Validator {
            plan,
            checked: RefCell::new(Vec::new()),
        }
    }

    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    fn header_case(&self, schema: &TableSchema) -> bool {
        self.plan.options.header_case || schema.header_case
    }

    fn binding_index(&self, target: &Target) -> Option<usize> {
        self.plan.schemas.bindings.iter().position(|binding| {
            binding.applies_to(&target.source, &target.table, target.sheet.as_deref())
        })
    }

    /// The content checks of an entry about to be loaded, to run as its rows load; None when
    /// no schema applies or its header does not match (then content is not checked).
    pub fn row_checker(&self, target: &Target) -> Option<RowChecker> {
        let binding = &self.plan.schemas.bindings[self.binding_index(target)?];
        let (header, _) = header::match_fields(target, binding, self.header_case(&binding.schema));
        header
            .ok
            .then(|| RowChecker::new(target, &binding.schema, &header.columns, &self.plan.options))
    }

    /// Checks one loaded entry: header first, content only when the header passed. Content
    /// is read back from the table unless `checked_rows` (from [`Validator::row_checker`])
    /// has already seen every row as it loaded.
    pub fn after_load(
        &self,
        session: &mut Session,
        target: &Target,
        checked_rows: Option<RowChecker>,
    ) -> Result<()> {
        let binding_index = self.binding_index(target);
        if binding_index.is_none() && self.plan.rules.is_empty() {
            return Ok(());
        }
        let reason = match checked_rows {
            Some(_) => "checking against the schema and rules (each row was checked as it loaded)",
            None => "checking against the schema and rules",
        };
        session.entry_transition(&target.entry_id, states::VALIDATING, reason)?;
        let mut checked = Checked {
            entry_id: target.entry_id.clone(),
            table: target.table.clone(),
            binding: binding_index,
            header_ok: true,
            columns: Vec::new(),
        };
        if let Some(index) = binding_index {
            let binding = &self.plan.schemas.bindings[index];
            let header_case = self.header_case(&binding.schema);
            let recorder: &Session = session;
            in_transaction(recorder.conn(), || {
                let header = header::check(recorder, target, binding, header_case)?;
                checked.header_ok = header.ok;
                checked.columns = header.columns;
                match checked_rows {
                    _ if !checked.header_ok => {}
                    Some(checker) => content::finish_keys(recorder, target, checker)?,
                    None => content::check(
                        recorder,
                        target,
                        &binding.schema,
                        &checked.columns,
                        &self.plan.options,
                    )?,
                }
                Ok(())
            })?;
        }
        self.checked.borrow_mut().push(checked);
        Ok(())
    }

    /// After every entry is loaded: required sheets, foreign keys, SQL rules, final states.
    /// Returns the session's issue counts per entry, which decided the states.
    pub fn after_all(&self, session: &mut Session, targets: &[Target]) -> Result<IssueCounts> {
        let checked = self.checked.borrow().clone();
        if checked.is_empty() && self.plan.schemas.is_empty() && self.plan.rules.is_empty() {
            return Ok(IssueCounts::new());
        }
        let recorder: &Session = session;
        in_transaction(recorder.conn(), || {
            header::check_sheets(recorder, &self.plan.schemas, targets)?;
            for entry in checked.iter().filter(|entry| entry.header_ok) {
                if let Some(index) = entry.binding {
                    content::check_foreign_keys(
                        recorder,
                        &self.plan.schemas,
                        index,
                        entry,
                        &checked,
                    )?;
                }
            }
            Ok(())
        })?;
        let tables: Vec<(String, String)> = checked
            .iter()
            .map(|entry| (entry.entry_id.clone(), entry.table.clone()))
            .collect();
        self.plan.rules.run(recorder, &tables)?;
        let counts = issue_counts_by_entry(session.conn(), session.id())?;
        for entry in &checked {
            let (errors, warnings) = counts
                .get(&Some(entry.entry_id.clone()))
                .copied()
                .unwrap_or_default();
            let (to, reason) = if !entry.header_ok {
                (
                    states::INVALID,
                    format!(
                        "header does not match the schema; content not checked ({errors} errors, {warnings} warnings)"
                    ),
                )
            } else if errors > 0 {
                (
                    states::INVALID,
                    format!("{errors} errors, {warnings} warnings"),
                )
            } else {
                (states::VALIDATED, format!("no errors, {warnings} warnings"))
            };
            session.entry_transition(&entry.entry_id, to, &reason)?;
        }
        Ok(counts)
    }
}

/// Validation inside `rssd ingest`: declared types from the schema, header and content checks
/// after each load, sheets, foreign keys and rules after all files.
impl EntryHook for Validator {
    /// The declared type of each column (by its header) that a schema field names. Integer and
    /// number fields whose cells are plain numbers become INTEGER and REAL; anything needing
    /// text (a decimal comma, group characters, units) stays TEXT.
    fn declared_types(
        &self,
        source: &str,
        table: &str,
        sheet: Option<&str>,
        columns: &[String],
    ) -> HashMap<String, ColumnType> {
        let Some(binding) = self.plan.schemas.binding_for(source, table, sheet) else {
            return HashMap::new();
        };
        let header_case = self.header_case(&binding.schema);
        columns
            .iter()
            .filter_map(|column| {
                let field = binding
                    .schema
                    .fields
                    .iter()
                    .find(|field| header::same_name(&field.name, column, header_case))?;
                let plain = field.bare_number && field.group_char.is_none();
                let declared = match field.field_type {
                    FieldType::Integer if plain => ColumnType::Integer,
                    FieldType::Number if plain && field.decimal_char == "." => ColumnType::Real,
                    _ => ColumnType::Text,
                };
                Some((column.clone(), declared))
            })
            .collect()
    }

    /// A schema or rule may apply to any file, unchanged or not.
    fn checks_entries(&self) -> bool {
        !self.plan.is_empty()
    }

    fn row_check(&self, entry: &LoadedEntry) -> Option<Box<dyn RowCheck>> {
        let target = Target::from_entry(entry, 0);
        Some(Box::new(self.row_checker(&target)?))
    }

    fn after_load(
        &self,
        session: &mut Session,
        entry: &LoadedEntry,
        row_check: Option<Box<dyn RowCheck>>,
    ) -> Result<()> {
        let target = Target::from_loaded(session.conn(), entry)?;
        let checked_rows = row_check
            .and_then(|check| check.into_any().downcast::<RowChecker>().ok())
            .map(|checker| *checker);
        Validator::after_load(self, session, &target, checked_rows)
    }

    fn after_all(&self, session: &mut Session, entries: &[LoadedEntry]) -> Result<()> {
        let targets = entries
            .iter()
            .map(|entry| Target::from_loaded(session.conn(), entry))
            .collect::<Result<Vec<_>>>()?;
        Validator::after_all(self, session, &targets).map(drop)
    }
}

/// Runs `work` in a write transaction, or in a savepoint when the caller (a loader) already
/// holds one.
pub(crate) fn in_transaction<T>(conn: &Connection, work: impl FnOnce() -> Result<T>) -> Result<T> {
    if conn.is_autocommit() {
        return crate::sql::write_transaction(conn, work);
    }
    conn.execute_batch("SAVEPOINT rssd_validate")?;
    match work() {
        Ok(value) => {
            conn.execute_batch("RELEASE rssd_validate")?;
            Ok(value)
        }
        Err(err) => {
            let _ = conn.execute_batch("ROLLBACK TO rssd_validate; RELEASE rssd_validate");
            Err(err)
        }
    }
}

/// A stored cell as the text it was loaded from: NULL is the empty cell; text and blobs (the
/// loader keeps text that does not fit a declared type as a blob) as they are; an INTEGER as
/// its digits; a REAL as SQLite renders it (`%!.15g`), which for the values the loader stores
/// as REAL (at most 15 significant digits, no exponent) is Rust's shortest form with `.0` on
/// whole numbers.
pub fn cell_text<'a>(value: ValueRef<'a>, buffer: &'a mut String) -> &'a str {
    use std::fmt::Write;
    match value {
        ValueRef::Null => "",
        ValueRef::Text(bytes) | ValueRef::Blob(bytes) => match std::str::from_utf8(bytes) {
            Ok(text) => text,
            Err(_) => {
                *buffer = String::from_utf8_lossy(bytes).into_owned();
                buffer
            }
        },
        ValueRef::Integer(n) => {
            buffer.clear();
            let _ = write!(buffer, "{n}");
            buffer
        }
        ValueRef::Real(x) => {
            buffer.clear();
            let _ = write!(buffer, "{x}");
            if x.is_finite() && !buffer.contains(['.', 'e']) {
                buffer.push_str(".0");
            }
            buffer
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_numbers_read_back_as_sqlite_renders_them() {
        let conn = Connection::open_in_memory().unwrap();
        for text in [
            "0.5",
            "61.5",
            "70.0",
            "-2.25",
            "0.0001",
            "123456789012345.0",
            "0.123456789012345",
            "42",
            "-7",
        ] {
            let (value, sqlite_text): (rusqlite::types::Value, String) = conn
                .query_row(
                    "SELECT CAST(?1 AS NUMERIC), CAST(CAST(?1 AS NUMERIC) AS TEXT)",
                    [text],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .unwrap();
            let mut buffer = String::new();
            let value_ref = ValueRef::from(&value);
            assert_eq!(cell_text(value_ref, &mut buffer), sqlite_text, "{text}");
        }
    }
}
