//! The one interface every format reads through (records of UTF-8 cells, header first), and
//! what a reader hands the run: a table-to-be with its pass-1 [`Scan`], or a [`FileProblem`].

use csv::ByteRecord;
use serde_json::{Map, Value};

use super::infer::ColumnStats;
use crate::state::{Issue, IssueKind, Severity};

/// Records of cells in file order; the first record is the header. Empty cells are NULL.
/// Cells are UTF-8 except where a delimited file's bytes are not (pass 1 checks).
pub trait RowSource: Send {
    /// Reads the next record into `record`; false at the end.
    fn read(&mut self, record: &mut ByteRecord) -> crate::Result<bool>;

    /// Physical blank lines skipped just before the record last read (delimited text only).
    fn blank_lines_before(&self) -> u64 {
        0
    }

    /// Physical blank lines after the last record, once `read` returned false.
    fn blank_lines_at_end(&self) -> u64 {
        0
    }
}

/// What pass 1 learned about one table-to-be.
#[derive(Debug, Clone)]
pub struct Scan {
    /// Header cells as in the file.
    pub headers: Vec<String>,
    pub rows: u64,
    pub stats: Vec<ColumnStats>,
    /// Structural issues, not yet tied to an entry.
    pub issues: Vec<Issue>,
}

pub enum ScanOutcome {
    Done(Scan),
    /// No record at all, not even a header.
    NoHeader,
    /// Bytes that are not UTF-8 at this data row (0: the header).
    NotUtf8 {
        row: u64,
    },
}

/// One table-to-be found in a file: what pass 1 learned, and the rows for pass 2.
pub struct Table {
    /// The sheet, for workbooks.
    pub sheet: Option<String>,
    /// The name the table is derived from (file stem, plus `_<sheet>`).
    pub base_name: String,
    /// Format facts for the elaboration (encoding, delimiter, ...).
    pub facts: Map<String, Value>,
    pub scan: Scan,
    /// Cells are typed numbers (workbooks): a column mixing whole and fractional numbers is
    /// REAL rather than TEXT.
    pub numbers_are_typed: bool,
    /// A fresh source positioned after the header.
    pub rows: Box<dyn RowSource>,
    /// When `scan` covers only a sample: the scan of the whole file, running meanwhile.
    pub full_scan: Option<FullScan>,
}

/// The whole file's scan, on its own thread while a speculative load reads the rows.
pub type FullScan = std::thread::JoinHandle<crate::Result<ScanOutcome>>;

impl Table {
    /// The table loads with a sample's types while `full_scan` reads the whole file; the
    /// load checks that the two agree before it commits.
    pub fn with_full_scan(mut self, full_scan: FullScan) -> Table {
        self.full_scan = Some(full_scan);
        self
    }

    /// A table whose pass-2 rows come from `rows`, read from its start: the header is skipped
    /// here.
    pub fn new(
        sheet: Option<String>,
        base_name: &str,
        facts: Map<String, Value>,
        scan: Scan,
        numbers_are_typed: bool,
        mut rows: Box<dyn RowSource>,
    ) -> crate::Result<Table> {
        let mut header = ByteRecord::new();
        rows.read(&mut header)?;
        Ok(Table {
            sheet,
            base_name: base_name.to_string(),
            facts,
            scan,
            numbers_are_typed,
            rows,
            full_scan: None,
        })
    }
}

/// Why a file gives no table at all.
#[derive(Debug, Clone)]
pub struct FileProblem {
    pub kind: IssueKind,
    pub severity: Severity,
    pub message: String,
    pub remediation: String,
}

impl FileProblem {
    pub fn new(kind: IssueKind, message: impl Into<String>, remediation: &str) -> FileProblem {
        FileProblem {
            kind,
            severity: Severity::Error,
            message: message.into(),
            remediation: remediation.to_string(),
        }
    }

    /// The issue that records it.
    pub fn issue(&self) -> Issue {
        Issue::new(self.kind, self.message.clone())
            .severity(self.severity)
            .remediation(self.remediation.clone())
    }
}

/// A source over records held in memory (workbook sheets, JSON rows).
pub struct MemorySource {
    records: std::vec::IntoIter<ByteRecord>,
}

impl MemorySource {
    pub fn new(records: Vec<ByteRecord>) -> MemorySource {
        MemorySource {
            records: records.into_iter(),
        }
    }
}

impl RowSource for MemorySource {
    fn read(&mut self, record: &mut ByteRecord) -> crate::Result<bool> {
        match self.records.next() {
            Some(next) => {
                *record = next;
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

/// A pass over records held in memory without taking them (pass 1 of workbooks and JSON).
pub struct SliceSource<'a> {
    records: std::slice::Iter<'a, ByteRecord>,
}

impl<'a> SliceSource<'a> {
    pub fn new(records: &'a [ByteRecord]) -> SliceSource<'a> {
        SliceSource {
            records: records.iter(),
        }
    }
}

impl RowSource for SliceSource<'_> {
    fn read(&mut self, record: &mut ByteRecord) -> crate::Result<bool> {
        match self.records.next() {
            Some(next) => {
                record.clone_from(next);
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

/// The csv reader's next record into `record` (false at the end), its errors as rssd's: an
/// I/O error stays one, anything else is invalid delimited text.
pub(super) fn read_csv_record<R: std::io::Read>(
    reader: &mut csv::Reader<R>,
    record: &mut ByteRecord,
) -> crate::Result<bool> {
    reader
        .read_byte_record(record)
        .map_err(|err| match err.into_kind() {
            csv::ErrorKind::Io(io) => crate::Error::Io(io),
            other => crate::Error::Invalid(format!("delimited text: {other:?}")),
        })
}
