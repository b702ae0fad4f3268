//! xlsx/xlsm sheets read once, while they load. Each sheet's first rows are a sample whose
//! types the load takes (as a big `.csv` does); a thread per sheet parses the sheet's XML,
//! hands its rows to the load in batches and scans them all, and the loader checks the
//! sample's types against the whole sheet's (see `entry.rs`). A sheet whose later cells leave
//! the sample's columns, or whose rows are out of order, fails that check and is read again
//! the careful way ([`super::xlsx_stream`]). The sheets' threads run one after another, in the
//! order the run loads the tables, passing the one workbook (its shared strings) along.

use std::io::{Read, Seek};
use std::path::{Path, PathBuf};
use std::sync::{Arc, mpsc};

use calamine::{Cell, DataRef, Reader, Xlsx, XlsxError};
use csv::ByteRecord;
use serde_json::{Map, Value};

use super::pipe::{Pipe, pipe, scan_and_pipe};
use super::scan::{Scan, ScanOutcome, scan};
use super::source::{RowSource, SliceSource, Table};
use super::xlsx_book::Book;
use super::xlsx_cells::SheetCells;
use super::xlsx_stream::{self, RowBuffer, ref_text};
use crate::{Error, Result};

/// Data rows in a sheet's sample (as for `.csv`).
const SAMPLE_ROWS: u32 = 10_000;

/// The first rows of a sheet: their scan, header and the rectangle they span (one sheet's
/// rows held at a time, not every sheet's).
pub struct Sample {
    sheet: String,
    scan: Scan,
    header: Option<ByteRecord>,
    first_row: u32,
    columns: (u32, u32),
    /// The sample's first records (header first), which the fast reader must agree with.
    guard: Vec<ByteRecord>,
}

/// Sample rows the fast reader's records are checked against (calamine read them).
const GUARD_ROWS: usize = 1_000;

/// What reads the sheets' XML on their threads, passed from one to the next.
enum SheetReader<RS> {
    Calamine(Xlsx<RS>),
    Fast(Arc<Book>, PathBuf),
}

/// Samples every sheet; None when a sheet is not a plain case (an XML error, rows out of
/// order, no text in an incomplete sample) or no sheet has text: the careful way tells.
pub fn samples<RS: Read + Seek>(workbook: &mut Xlsx<RS>) -> Option<Vec<Sample>> {
    let mut samples = Vec::new();
    for sheet in workbook.sheet_names() {
        let mut reader = match workbook.worksheet_cells_reader(&sheet) {
            Ok(reader) => reader,
            Err(XlsxError::NotAWorksheet(_)) => continue,
            Err(_) => return None,
        };
        let mut cells = RowCells::new(|| reader.next_cell(), None);
        let mut rows: Vec<RowBuffer> = Vec::new();
        let complete = loop {
            match cells.next_row() {
                Ok(Some(row)) => {
                    let first = rows.first().and_then(|first| first.row);
                    if let (Some(first), Some(r)) = (first, row.row)
                        && r - first > SAMPLE_ROWS
                    {
                        break false;
                    }
                    rows.push(row.clone());
                }
                Ok(None) => break true,
                Err(_) => return None,
            }
        };
        if !cells.any_text {
            if complete {
                continue;
            }
            return None;
        }
        let first_row = rows.first()?.row?;
        let first_col = rows
            .iter()
            .filter_map(|r| r.cells.first())
            .map(|c| c.0)
            .min()?;
        let last_col = rows
            .iter()
            .filter_map(|r| r.cells.last())
            .map(|c| c.0)
            .max()?;
        let width = (last_col - first_col) as usize + 1;
        let mut records = Vec::new();
        let mut next = first_row;
        for row in &rows {
            while next < row.row? {
                records.push(record_of(None, first_col, width));
                next += 1;
            }
            records.push(record_of(Some(row), first_col, width));
            next += 1;
        }
        let Ok(ScanOutcome::Done(scan)) = scan(&mut SliceSource::new(&records), false) else {
            return None;
        };
        records.truncate(GUARD_ROWS + 1);
        samples.push(Sample {
            sheet,
            scan,
            header: records.first().cloned(),
            first_row,
            columns: (first_col, last_col),
            guard: records,
        });
    }
    (!samples.is_empty()).then_some(samples)
}

/// The sheets' tables, sample scans done, their rows coming from their threads.
/// The fast reader ([`super::xlsx_cells`]) takes the sheets when the workbook's parts are
/// the plain case; calamine's cell reader otherwise.
pub fn tables<RS: Read + Seek + Send + 'static>(
    workbook: Xlsx<RS>,
    samples: Vec<Sample>,
    stem: &str,
    path: &Path,
) -> Result<Vec<Table>> {
    let book = Book::open(path)
        .filter(|book| samples.iter().all(|s| book.sheet_entry(&s.sheet).is_some()));
    let reader = match book {
        Some(book) => {
            // calamine's copy of the shared strings goes.
            drop(workbook);
            SheetReader::Fast(Arc::new(book), path.to_path_buf())
        }
        None => SheetReader::Calamine(workbook),
    };
    let (first, mut hand) = mpsc::channel::<SheetReader<RS>>();
    let mut tables = Vec::new();
    for sample in samples {
        let (next_tx, next_rx) = mpsc::channel();
        let sheet = sample.sheet.clone();
        let (first_row, columns) = (sample.first_row, sample.columns);
        let (pipe, rows) = pipe(sample.header);
        let guard = sample.guard;
        let previous = std::mem::replace(&mut hand, next_rx);
        let full_scan = std::thread::spawn(move || {
            let mut reader = previous
                .recv()
                .map_err(|_| Error::Invalid("the sheet before stopped".into()))?;
            let sheet = SheetPlace {
                name: &sheet,
                first_row,
                columns,
            };
            let outcome = match &mut reader {
                SheetReader::Calamine(workbook) => feed(workbook, &sheet, pipe),
                SheetReader::Fast(book, path) => feed_fast(book, path, &sheet, guard, pipe),
            };
            let _ = next_tx.send(reader);
            outcome
        });
        let rows = Box::new(rows);
        let mut facts = Map::new();
        facts.insert("sheet".into(), Value::from(sample.sheet.as_str()));
        let base_name = format!("{stem}_{}", sample.sheet);
        let table = Table::new(
            Some(sample.sheet),
            &base_name,
            facts,
            sample.scan,
            true,
            rows,
        )?;
        tables.push(table.with_full_scan(full_scan));
    }
    let _ = first.send(reader);
    Ok(tables)
}

/// Where a sheet's table is: its name, first row and columns (the sample's).
struct SheetPlace<'s> {
    name: &'s str,
    first_row: u32,
    columns: (u32, u32),
}

/// One sheet's thread: its rows to the load, and the scan of them all.
fn feed<RS: Read + Seek + Send>(
    workbook: &mut Xlsx<RS>,
    sheet: &SheetPlace,
    pipe: Pipe,
) -> Result<ScanOutcome> {
    let mut reader = workbook
        .worksheet_cells_reader(sheet.name)
        .map_err(|err| Error::Invalid(err.to_string()))?;
    let mut rows = SheetRows::new(|| reader.next_cell(), sheet, Vec::new());
    scan_and_pipe(&mut rows, pipe)
}

/// As [`feed`], the fast reader parsing the sheet's XML; its first records must be the
/// sample's (an error otherwise, and the sheet is read again the careful way).
fn feed_fast(
    book: &Book,
    path: &Path,
    sheet: &SheetPlace,
    guard: Vec<ByteRecord>,
    pipe: Pipe,
) -> Result<ScanOutcome> {
    let zip_error = |err: zip4::result::ZipError| Error::Invalid(err.to_string());
    let file = std::io::BufReader::new(std::fs::File::open(path)?);
    let mut zip = zip4::ZipArchive::new(file).map_err(zip_error)?;
    let entry = book
        .sheet_entry(sheet.name)
        .ok_or_else(|| Error::Invalid("the sheet is gone".into()))?;
    let mut cells = SheetCells::new(book, zip.by_name(entry).map_err(zip_error)?);
    let mut rows = SheetRows::new(|| cells.next_cell(), sheet, guard);
    scan_and_pipe(&mut rows, pipe)
}

/// Why a sheet's cells stopped before their end.
enum Stop {
    Xlsx(XlsxError),
    OutOfOrder,
    OutsideSample,
}

impl From<Stop> for Error {
    fn from(stop: Stop) -> Error {
        Error::Invalid(match stop {
            Stop::Xlsx(err) => err.to_string(),
            Stop::OutOfOrder => "rows out of order".into(),
            Stop::OutsideSample => "a cell outside the sample's columns".into(),
        })
    }
}

/// A sheet's cells, row by row.
struct RowCells<F> {
    next_cell: F,
    row: RowBuffer,
    /// A cell of the row after `row`, read ahead: its position and text.
    ahead: Option<(u32, u32)>,
    ahead_text: String,
    /// The columns a cell may be in (the sample's), or any.
    columns: Option<(u32, u32)>,
    any_text: bool,
    /// The reader said the sheet ended (it must not be asked again).
    ended: bool,
}

impl<'a, F> RowCells<F>
where
    F: FnMut() -> std::result::Result<Option<Cell<DataRef<'a>>>, XlsxError>,
{
    fn new(next_cell: F, columns: Option<(u32, u32)>) -> RowCells<F> {
        RowCells {
            next_cell,
            row: RowBuffer::default(),
            ahead: None,
            ahead_text: String::new(),
            columns,
            any_text: false,
            ended: false,
        }
    }

    /// The next row with a non-empty cell, its columns in order; None at the sheet's end.
    fn next_row(&mut self) -> std::result::Result<Option<&RowBuffer>, Stop> {
        self.row.row = None;
        self.row.cells.clear();
        self.row.bytes.clear();
        if let Some((r, c)) = self.ahead.take() {
            self.row.row = Some(r);
            self.row.push(c, &self.ahead_text);
        }
        while !self.ended {
            let Some(cell) = (self.next_cell)().map_err(Stop::Xlsx)? else {
                self.ended = true;
                break;
            };
            let value = cell.get_value();
            if matches!(value, DataRef::Empty) {
                continue;
            }
            let (r, c) = cell.get_position();
            if let Some((first, last)) = self.columns
                && (c < first || c > last)
            {
                return Err(Stop::OutsideSample);
            }
            let text = ref_text(value);
            self.any_text |= !text.is_empty();
            match self.row.row {
                Some(current) if r < current => return Err(Stop::OutOfOrder),
                Some(current) if r > current => {
                    self.ahead = Some((r, c));
                    self.ahead_text.clear();
                    self.ahead_text.push_str(&text);
                    break;
                }
                _ => {
                    self.row.row = Some(r);
                    self.row.push(c, &text);
                }
            }
        }
        if self.row.row.is_none() {
            return Ok(None);
        }
        self.row.normalize();
        Ok(Some(&self.row))
    }
}

/// A row of the rectangle from `first_col`, `width` cells: blank when `row` is None.
fn record_of(row: Option<&RowBuffer>, first_col: u32, width: usize) -> ByteRecord {
    let mut record = ByteRecord::new();
    fill(&mut record, row, first_col, width);
    record
}

fn fill(record: &mut ByteRecord, row: Option<&RowBuffer>, first_col: u32, width: usize) {
    match row {
        Some(row) => xlsx_stream::fill(record, &row.cells, &row.bytes, first_col, width),
        None => xlsx_stream::fill(record, &[], &[], first_col, width),
    }
}

/// The rows of the sheet's rectangle, header first. Leading empty rows are left out, gaps
/// are blank rows.
struct SheetRows<F> {
    cells: RowCells<F>,
    started: bool,
    next_row: u32,
    first_col: u32,
    width: usize,
    /// Records the first rows must equal, in order.
    guard: std::vec::IntoIter<ByteRecord>,
}

impl<'a, F> SheetRows<F>
where
    F: FnMut() -> std::result::Result<Option<Cell<DataRef<'a>>>, XlsxError> + Send,
{
    fn new(next_cell: F, sheet: &SheetPlace, guard: Vec<ByteRecord>) -> SheetRows<F> {
        SheetRows {
            cells: RowCells::new(next_cell, Some(sheet.columns)),
            started: false,
            next_row: sheet.first_row,
            first_col: sheet.columns.0,
            width: (sheet.columns.1 - sheet.columns.0) as usize + 1,
            guard: guard.into_iter(),
        }
    }
}

impl<'a, F> RowSource for SheetRows<F>
where
    F: FnMut() -> std::result::Result<Option<Cell<DataRef<'a>>>, XlsxError> + Send,
{
    fn read(&mut self, record: &mut ByteRecord) -> Result<bool> {
        if !self.started {
            self.started = true;
            self.cells.next_row()?;
        }
        let Some(pending) = self.cells.row.row else {
            return Ok(false);
        };
        if pending == self.next_row {
            fill(record, Some(&self.cells.row), self.first_col, self.width);
            self.cells.next_row()?;
        } else {
            fill(record, None, self.first_col, self.width);
        }
        self.next_row += 1;
        if let Some(expected) = self.guard.next()
            && expected != *record
        {
            return Err(Error::Invalid(
                "the fast sheet reader disagrees with calamine's sample".into(),
            ));
        }
        Ok(true)
    }
}
