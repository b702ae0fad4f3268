//! Files wider than SQLite's column limit (2,000 by default, which `sqlite3` and most tools
//! keep): a `Too Many Columns` error naming the limit, or with `--too-many-columns long` one
//! table of one row per non-empty cell, `(row, column_number, column, value)`, which any tool
//! with the default limit reads, and `SELECT ... WHERE column = 'x'` pivots back.

use csv::ByteRecord;

use super::source::{FileProblem, RowSource};
use crate::state::IssueKind;

/// SQLite's default `SQLITE_MAX_COLUMN`: a table of more columns cannot be created.
pub const SQLITE_MAX_COLUMNS: usize = 2000;

/// The columns of the long table.
pub const LONG_HEADER: [&str; 4] = ["row", "column_number", "column", "value"];

/// The error for a table of `columns` columns.
pub fn too_many(columns: usize, long_supported: bool) -> FileProblem {
    let mut problem = FileProblem::new(
        IssueKind::TooManyColumns,
        format!(
            "the file has {columns} columns; SQLite tables hold at most {SQLITE_MAX_COLUMNS} (its default limit, which sqlite3 and most tools keep)"
        ),
        if long_supported {
            "load it with --too-many-columns long (one row per cell: row, column_number, column, value), or split the file's columns"
        } else {
            "split the columns into several files, or save it as CSV and load it with --too-many-columns long"
        },
    );
    problem.message.push_str("; nothing was loaded");
    problem
}

/// The cells of a wide source as long records: the long header first, then
/// `(data row, 1-based column, header name, cell)` for each non-empty cell, in file order.
/// Cells beyond the header have an empty (NULL) column name.
pub struct LongSource {
    inner: Box<dyn RowSource>,
    headers: Vec<Vec<u8>>,
    current: ByteRecord,
    row: u64,
    next_cell: usize,
    header_sent: bool,
}

impl LongSource {
    /// `inner` is positioned after its header, whose cells are `headers`.
    pub fn new(inner: Box<dyn RowSource>, headers: &[String]) -> LongSource {
        LongSource {
            inner,
            headers: headers.iter().map(|h| h.as_bytes().to_vec()).collect(),
            current: ByteRecord::new(),
            row: 0,
            next_cell: 0,
            header_sent: false,
        }
    }
}

impl RowSource for LongSource {
    fn read(&mut self, record: &mut ByteRecord) -> crate::Result<bool> {
        if !self.header_sent {
            self.header_sent = true;
            *record = ByteRecord::from(LONG_HEADER.to_vec());
            return Ok(true);
        }
        loop {
            while self.next_cell < self.current.len() {
                let i = self.next_cell;
                self.next_cell += 1;
                let cell = &self.current[i];
                if cell.is_empty() {
                    continue;
                }
                record.clear();
                record.push_field(self.row.to_string().as_bytes());
                record.push_field((i + 1).to_string().as_bytes());
                record.push_field(self.headers.get(i).map_or(&[][..], Vec::as_slice));
                record.push_field(cell);
                return Ok(true);
            }
            if !self.inner.read(&mut self.current)? {
                return Ok(false);
            }
            self.row += 1;
            self.next_cell = 0;
        }
    }
}
