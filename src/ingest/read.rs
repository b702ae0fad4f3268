//! How files are read beyond what their format says: options of the run that readers take.

/// How files are read, beyond what their format says.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReadOptions {
    /// The 1-based line of a delimited file's header; the lines before it are skipped. None:
    /// found by the preamble rule (see `preamble`).
    pub header_row: Option<u64>,
    /// Files wider than SQLite's column limit.
    pub too_many_columns: TooManyColumns,
}

/// What to do with a file of more columns than SQLite's column limit (`wide::SQLITE_MAX_COLUMNS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TooManyColumns {
    /// A `Too Many Columns` error; no table.
    #[default]
    Fail,
    /// Delimited files load as a long table, one row per non-empty cell.
    Long,
}
