//! The loaded tables validation looks at, and what it remembers of each between checks.

use rusqlite::Connection;
use serde::Serialize;

use crate::Result;
use crate::ingest::LoadedEntry;

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

    pub(super) fn from_entry(entry: &LoadedEntry, rowid_offset: i64) -> Target {
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
pub(super) struct Checked {
    pub(super) entry_id: String,
    pub(super) table: String,
    pub(super) binding: Option<usize>,
    pub(super) header_ok: bool,
    /// (field index, loaded column name) for every field found in the header.
    pub(super) columns: Vec<(usize, String)>,
}
