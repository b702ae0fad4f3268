//! xlsx/xlsm sheets read once, while they load. Each sheet's first rows are a sample whose
//! types the load takes (as a big `.csv` does); a thread per sheet parses the sheet's XML,
//! hands its rows to the load in batches and scans them all, and the loader checks the
//! sample's types against the whole sheet's (see `entry.rs`). A sheet whose later cells leave
//! the sample's columns, or whose rows are out of order, fails that check and is read again
//! the careful way ([`super::xlsx_stream`]). The sheets' threads run one after another, in the
//! order the run loads the tables, passing the one workbook (its shared strings) along.

use std::io::{Read, Seek};
use std::sync::mpsc::{self, Receiver, SyncSender};

use calamine::{Cell, DataRef, Reader, Xlsx, XlsxError};
use csv::ByteRecord;
use serde_json::{Map, Value};

use super::scan::{Scan, ScanOutcome, scan};
use super::source::{RowSource, SliceSource, Table};
use super::xlsx_stream::{self, RowBuffer, ref_text};
use crate::{Error, Result};

/// Data rows in a sheet's sample (as for `.csv`).
const SAMPLE_ROWS: u32 = 10_000;
/// Rows per batch handed to the load.
const BATCH: usize = 1024;

/// The first rows of a sheet: their scan, header and the rectangle they span (one sheet's
/// rows held at a time, not every sheet's).
pub struct Sample {
    sheet: String,
    scan: Scan,
    header: Option<ByteRecord>,
    first_row: u32,
    columns: (u32, u32),
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
        samples.push(Sample {
            sheet,
            scan,
            header: records.into_iter().next(),
            first_row,
            columns: (first_col, last_col),
        });
    }
    (!samples.is_empty()).then_some(samples)
}

/// The sheets' tables, sample scans done, their rows coming from their threads.
pub fn tables<RS: Read + Seek + Send + 'static>(
    workbook: Xlsx<RS>,
    samples: Vec<Sample>,
    stem: &str,
) -> Result<Vec<Table>> {
    let (first, mut hand) = mpsc::channel::<Xlsx<RS>>();
    let mut tables = Vec::new();
    for sample in samples {
        let (rows_tx, rows_rx) = mpsc::sync_channel(4);
        let (spare_tx, spare_rx) = mpsc::channel();
        let (next_tx, next_rx) = mpsc::channel();
        let sheet = sample.sheet.clone();
        let header = sample.header;
        let (first_row, columns) = (sample.first_row, sample.columns);
        let previous = std::mem::replace(&mut hand, next_rx);
        let full_scan = std::thread::spawn(move || {
            let mut workbook = previous
                .recv()
                .map_err(|_| Error::Invalid("the sheet before stopped".into()))?;
            let pipe = (&rows_tx, spare_rx);
            let outcome = feed(&mut workbook, &sheet, first_row, columns, pipe);
            let _ = next_tx.send(workbook);
            outcome
        });
        let rows = Box::new(PipeSource {
            header,
            batch: Vec::new().into_iter(),
            batches: rows_rx,
            used: Vec::with_capacity(BATCH),
            spare: spare_tx,
        });
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
    let _ = first.send(workbook);
    Ok(tables)
}

/// One sheet's thread: its rows to the load, and the scan of them all.
fn feed<RS: Read + Seek + Send>(
    workbook: &mut Xlsx<RS>,
    sheet: &str,
    first_row: u32,
    columns: (u32, u32),
    (rows, spare): (&SyncSender<Vec<ByteRecord>>, Receiver<Vec<ByteRecord>>),
) -> Result<ScanOutcome> {
    let mut reader = workbook
        .worksheet_cells_reader(sheet)
        .map_err(|err| Error::Invalid(err.to_string()))?;
    let mut source = Feed {
        cells: RowCells::new(|| reader.next_cell(), Some(columns)),
        started: false,
        next_row: first_row,
        first_col: columns.0,
        width: (columns.1 - columns.0) as usize + 1,
        header_read: false,
        scanned: false,
        batch: Vec::with_capacity(BATCH),
        rows,
        spare: Vec::new(),
        returned: spare,
    };
    let outcome = scan(&mut source, false)?;
    source.send()?;
    Ok(outcome)
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

/// The rows of the sheet's rectangle, for its thread's scan; each data row also goes to the
/// load. Leading empty rows are left out, gaps are blank rows.
struct Feed<'s, F> {
    cells: RowCells<F>,
    started: bool,
    next_row: u32,
    first_col: u32,
    width: usize,
    header_read: bool,
    /// The record holds a data row the scan has seen, for the load.
    scanned: bool,
    batch: Vec<ByteRecord>,
    rows: &'s SyncSender<Vec<ByteRecord>>,
    /// Records the load is done with, to fill again (no allocation per row).
    spare: Vec<ByteRecord>,
    returned: Receiver<Vec<ByteRecord>>,
}

impl<'a, F> Feed<'_, F>
where
    F: FnMut() -> std::result::Result<Option<Cell<DataRef<'a>>>, XlsxError>,
{
    /// Moves the row the scan has seen into the batch, a spare record in its place.
    fn hand_over(&mut self, record: &mut ByteRecord) -> Result<()> {
        if self.spare.is_empty()
            && let Ok(spare) = self.returned.try_recv()
        {
            self.spare = spare;
        }
        let spare = self.spare.pop().unwrap_or_default();
        self.batch.push(std::mem::replace(record, spare));
        if self.batch.len() == BATCH {
            self.send()?;
        }
        Ok(())
    }

    /// Hands the rows read so far to the load; an error once the load stopped taking them.
    fn send(&mut self) -> Result<()> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH));
        self.rows
            .send(batch)
            .map_err(|_| Error::Invalid("the load stopped reading the sheet".into()))
    }
}

impl<'a, F> RowSource for Feed<'_, F>
where
    F: FnMut() -> std::result::Result<Option<Cell<DataRef<'a>>>, XlsxError> + Send,
{
    fn read(&mut self, record: &mut ByteRecord) -> Result<bool> {
        // The scan is done with the row read last (the last one too, when this call ends).
        if std::mem::take(&mut self.scanned) {
            self.hand_over(record)?;
        }
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
        self.scanned = self.header_read;
        self.header_read = true;
        Ok(true)
    }
}

/// The load's side: the header (from the sample), then the thread's batches. A thread that
/// stopped early ends the rows; its scan's error then makes the load read the sheet again.
struct PipeSource {
    header: Option<ByteRecord>,
    batch: std::vec::IntoIter<ByteRecord>,
    batches: Receiver<Vec<ByteRecord>>,
    /// Records given back for the thread to fill again.
    used: Vec<ByteRecord>,
    spare: std::sync::mpsc::Sender<Vec<ByteRecord>>,
}

impl RowSource for PipeSource {
    fn read(&mut self, record: &mut ByteRecord) -> Result<bool> {
        if let Some(header) = self.header.take() {
            *record = header;
            return Ok(true);
        }
        loop {
            if let Some(mut next) = self.batch.next() {
                std::mem::swap(record, &mut next);
                self.used.push(next);
                if self.used.len() == BATCH {
                    let used = std::mem::replace(&mut self.used, Vec::with_capacity(BATCH));
                    let _ = self.spare.send(used);
                }
                return Ok(true);
            }
            match self.batches.recv() {
                Ok(batch) => self.batch = batch.into_iter(),
                Err(_) => return Ok(false),
            }
        }
    }
}
