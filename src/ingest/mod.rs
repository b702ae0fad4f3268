//! `rssd ingest` as a library: files, folders and workbooks into tables, one session entry per
//! file or sheet, every step recorded.
//!
//! Each format is a [`source::RowSource`] (delimited text, workbook sheet, JSON). Every table
//! is read twice: pass 1 ([`scan`]) finds the header, structural problems and each column's
//! lossless type; pass 2 streams the rows into the table ([`load`]) in one transaction,
//! with a parser thread feeding the inserting thread.

mod append;
mod cell_text;
mod delimited;
mod digest;
pub mod drift;
mod encoding;
mod entry;
mod excel;
mod format;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod infer;
mod inputs;
mod json;
mod json_item;
mod json_stream;
mod load;
pub mod naming;
mod pipe;
mod preamble;
mod progress;
mod read;
mod resource;
mod run;
mod scan;
pub(crate) mod source;
mod staged;
mod summary;
mod tenant;
mod wide;
mod xlsx_book;
mod xlsx_cells;
mod xlsx_pipe;
mod xlsx_stream;
mod xlsx_xml;

use std::any::Any;
use std::collections::HashMap;

use csv::ByteRecord;
use serde::Serialize;

use crate::state::{Issue, Session};

pub use format::Format;
pub use read::{ReadOptions, TooManyColumns};
pub use resource::DEFAULT_STORE_CONTENT_LIMIT;
pub use run::ingest;
pub use tenant::Tenant;

/// The SQL type a loaded column is declared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ColumnType {
    Integer,
    Real,
    Text,
}

impl ColumnType {
    /// The declared type in `CREATE TABLE`.
    pub fn sql(self) -> &'static str {
        match self {
            ColumnType::Integer => "INTEGER",
            ColumnType::Real => "REAL",
            ColumnType::Text => "TEXT",
        }
    }

    /// The type an existing column's declaration amounts to, by SQLite's affinity rules
    /// (NUMERIC and other numeric names count as REAL).
    pub fn from_declared(declared: &str) -> ColumnType {
        let upper = declared.to_ascii_uppercase();
        if upper.contains("INT") {
            ColumnType::Integer
        } else if upper.contains("CHAR")
            || upper.contains("CLOB")
            || upper.contains("TEXT")
            || upper.contains("BLOB")
            || upper.is_empty()
        {
            ColumnType::Text
        } else {
            ColumnType::Real
        }
    }
}

/// One column of a loaded table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoadedColumn {
    /// The header text as in the file (or the JSON key).
    pub header: String,
    /// The column name in the table.
    pub name: String,
    /// The declared SQL type.
    #[serde(rename = "type")]
    pub column_type: ColumnType,
    /// Empty cells (stored as NULL), missing cells of short rows included.
    pub nulls: u64,
}

/// One entry whose table was committed (state `INGESTED`).
#[derive(Debug, Clone, Serialize)]
pub struct LoadedEntry {
    pub entry_id: String,
    /// `ingest_src`: the path as given, or `-` for standard input.
    pub source: String,
    pub table: String,
    pub sheet: Option<String>,
    /// `csv`, `tsv`, `txt`, `xlsx`, `xlsm`, `xls`, `ods`, `json`, `ndjson`.
    pub format: String,
    pub columns: Vec<LoadedColumn>,
    /// Data rows loaded by this entry.
    pub rows: u64,
}

/// Lets validation take part in each entry's load. Default methods do nothing.
pub trait EntryHook {
    /// Types to declare instead of inferring, keyed by loaded column name. The loader then
    /// declares that SQL type and stores each value that does not fit the type so that its
    /// original text is kept (see the README: "Declared types").
    fn declared_types(
        &self,
        _source: &str,
        _table: &str,
        _sheet: Option<&str>,
        _columns: &[String],
    ) -> HashMap<String, ColumnType> {
        HashMap::new()
    }

    /// True when entries are checked, so that a file must be loaded (and checked) even when
    /// it is unchanged since its last load.
    fn checks_entries(&self) -> bool {
        false
    }

    /// A check of each row as the loader's parser thread reads it, for the entry about to be
    /// loaded (`rows` is 0): its work overlaps SQLite's, and its issues go into the load's
    /// transaction. None: nothing to check while loading.
    fn row_check(&self, _entry: &LoadedEntry) -> Option<Box<dyn RowCheck>> {
        None
    }

    /// Called after the entry's table is committed and its entry reached `INGESTED`, with the
    /// row check [`EntryHook::row_check`] gave for it, which has seen every row.
    fn after_load(
        &self,
        _session: &mut Session,
        _entry: &LoadedEntry,
        _row_check: Option<Box<dyn RowCheck>>,
    ) -> crate::Result<()> {
        Ok(())
    }

    /// Called once after all files are loaded, before the session finishes (cross-file rules).
    fn after_all(&self, _session: &mut Session, _entries: &[LoadedEntry]) -> crate::Result<()> {
        Ok(())
    }
}

/// Checks rows on the loader's parser thread.
pub trait RowCheck: Send {
    /// Checks `records` (cells as loaded; short rows lack their last cells), the data rows
    /// whose rowids start at `first_rowid`, pushing the issues found.
    fn check(&mut self, records: &[ByteRecord], first_rowid: i64, issues: &mut Vec<Issue>);

    /// For the hook that made it to take its own type back.
    fn into_any(self: Box<Self>) -> Box<dyn Any>;
}

/// The hook used when no schema is given.
pub struct NoHook;

impl EntryHook for NoHook {}

/// What to do when the target table already exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum IfExists {
    /// Drop and create it again in the same transaction (readers see old or new, never half).
    Replace,
    /// Add the rows, columns matched by name: new ones added to the table, missing ones NULL
    /// (each a warning). With `strict_columns`, only when the columns are the same.
    Append,
    /// Record an issue and skip the file.
    Fail,
}

/// Files of at least this size load under the rollback journal with `--exclusive-load`.
pub const EXCLUSIVE_LOAD_FROM_BYTES: u64 = 8 * 1024 * 1024;

/// Options of one ingest run.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Prefixed to every table name (`uniform_resource_` gives surveilr's names).
    pub table_prefix: String,
    pub if_exists: IfExists,
    /// Globs a walked or globbed file must match (any of them), by name or relative path.
    pub include: Vec<String>,
    /// Globs that leave a walked or globbed file out.
    pub exclude: Vec<String>,
    /// The session's nature (`ingest` by default).
    pub nature: String,
    /// Add `_rssd_row`, `_rssd_session_id` and `_rssd_entry_id` columns to each table.
    pub provenance_columns: bool,
    /// Show a progress bar on standard error (only drawn when it is a terminal).
    pub progress: bool,
    /// Stored as the session's `args_json`.
    pub args: serde_json::Value,
    /// Delimited UTF-8 files of at least this many bytes start loading with the types of a
    /// 10,000-row sample while the whole file is scanned on another thread; if the whole
    /// file disagrees, the load is rolled back and done again with the whole file's types.
    pub speculate_from_bytes: u64,
    /// Files of at least this many bytes load with SQLite's rollback journal instead of WAL
    /// when no other connection has the database open (each page written once; see
    /// `load::leave_wal_if_alone`). `u64::MAX`, the default, keeps WAL always: a reader that
    /// opens the database during such a load would wait for it (`--exclusive-load` opts in).
    pub rollback_journal_from_bytes: u64,
    /// Drift against the previous delivery: how deliveries are matched, when a row count
    /// change is reported, whether drift is an error (see [`drift`]).
    pub drift: drift::DriftOptions,
    /// `--if-exists append` refuses a file whose columns differ from the table's (names or
    /// order) instead of matching them by name.
    pub strict_columns: bool,
    /// With a hook that checks entries, load and check a file again even when its content
    /// equals its table's last load (the default). `rssd watch` turns it off: a file left in
    /// the inbox, or taken again after a restart, must not load twice.
    pub reload_unchanged_when_checking: bool,
    /// Keep each file's bytes in `uniform_resource.content` when it has at most this many
    /// bytes; `None` keeps none (the row, its digest and size are recorded all the same).
    pub store_content_up_to: Option<u64>,
    /// The tenant the files belong to (`party`, `organization`), if any.
    pub tenant: Option<Tenant>,
    /// How delimited files are read: the header's line, files wider than SQLite's limit.
    pub read: ReadOptions,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            table_prefix: String::new(),
            if_exists: IfExists::Replace,
            include: Vec::new(),
            exclude: Vec::new(),
            nature: "ingest".to_string(),
            provenance_columns: false,
            progress: false,
            args: serde_json::json!({}),
            speculate_from_bytes: 8 * 1024 * 1024,
            rollback_journal_from_bytes: u64::MAX,
            drift: drift::DriftOptions::default(),
            strict_columns: false,
            reload_unchanged_when_checking: true,
            store_content_up_to: Some(DEFAULT_STORE_CONTENT_LIMIT),
            tenant: None,
            read: ReadOptions::default(),
        }
    }
}

/// One line of the summary: an entry and how it ended.
#[derive(Debug, Clone, Serialize)]
pub struct EntryReport {
    pub entry_id: String,
    pub source: String,
    pub table: Option<String>,
    pub sheet: Option<String>,
    pub format: Option<String>,
    pub rows: Option<u64>,
    pub columns: Option<usize>,
    pub issues: usize,
    pub issues_error: usize,
    pub state: String,
    pub reason: String,
}

/// What an ingest run did. A stable JSON shape: fields are only ever added.
#[derive(Debug, Clone, Serialize)]
pub struct IngestSummary {
    pub session_id: String,
    pub state: String,
    pub entries: Vec<EntryReport>,
    pub tables: usize,
    pub rows: u64,
    pub unchanged: usize,
    pub failed: usize,
    pub skipped: usize,
    pub issues_error: usize,
    pub issues_warning: usize,
    pub duration_ms: f64,
}
