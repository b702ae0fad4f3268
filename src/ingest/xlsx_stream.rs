//! xlsx/xlsm sheets as a stream of cells, in memory bounded by a batch rather than the sheet:
//! the careful way, when a sheet read while it loads ([`super::xlsx_pipe`]) did not fit its
//! sample.
//!
//! One read of the sheet's XML (calamine's cell reader) turns each cell into its text with
//! the same rules as [`super::cell_text`] and spills the non-empty cells, row by row,
//! to an anonymous temporary file. The sheet's bounds (the rectangle of its non-empty cells,
//! as calamine's `worksheet_range` gives it) are known at the end of that read; pass 1 (the
//! scan) and pass 2 (the load) then read the spill file, each as rows of that rectangle:
//! leading empty rows and columns are left out, gaps are blank rows, every row as wide as
//! the rectangle. What stays in memory: the workbook's shared strings (calamine loads that
//! table whole) and one row.
//!
//! A sheet whose rows are stored out of order (never written so by Excel or the usual
//! writers, but legal) is left to the caller, which reads it whole through `worksheet_range`.

use std::borrow::Cow;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};

use calamine::{Data, DataRef, Xlsx, XlsxError};
use csv::ByteRecord;
use serde_json::{Map, Value};

use super::cell_text::cell_text;
use super::scan::{ScanOutcome, scan};
use super::source::{RowSource, Table};
use crate::Result;

/// A sheet read: its table, nothing (no cell with any text), or why it cannot be read.
pub enum SheetRead {
    Table(Box<Table>),
    Empty,
    Unreadable(String),
}

/// Reads sheet `sheet` of `workbook` (pass 1 done) with its rows spilled to a temporary file.
/// None when its rows are out of order (the caller then reads it whole).
pub fn sheet_table<RS: Read + Seek>(
    workbook: &mut Xlsx<RS>,
    sheet: &str,
    stem: &str,
) -> Result<Option<SheetRead>> {
    let spill = match spill_sheet(workbook, sheet)? {
        Ok(Some(spill)) => spill,
        Ok(None) => return Ok(Some(SheetRead::Empty)),
        Err(SpillError::OutOfOrder) => return Ok(None),
        Err(SpillError::Xlsx(err)) => {
            return Ok(Some(SheetRead::Unreadable(
                calamine::Error::Xlsx(err).to_string(),
            )));
        }
    };
    let mut pass1 = SpillSource::open(&spill)?;
    let ScanOutcome::Done(scan) = scan(&mut pass1, false)? else {
        return Ok(Some(SheetRead::Empty));
    };
    let mut facts = Map::new();
    facts.insert("sheet".into(), Value::from(sheet));
    let rows = Box::new(SpillSource::open(&spill)?);
    let base_name = format!("{stem}_{sheet}");
    let table = Table::new(Some(sheet.to_string()), &base_name, facts, scan, true, rows)?;
    Ok(Some(SheetRead::Table(Box::new(table))))
}

/// The spilled cells of one sheet and the rectangle they span (0-based, inclusive).
struct Spill {
    file: File,
    first_row: u32,
    last_row: u32,
    first_col: u32,
    last_col: u32,
}

enum SpillError {
    OutOfOrder,
    Xlsx(XlsxError),
}

impl From<XlsxError> for SpillError {
    fn from(err: XlsxError) -> SpillError {
        SpillError::Xlsx(err)
    }
}

/// Streams the sheet's cells into a spill file. Ok(None): no cell has any text (a sheet
/// skipped, as a chart sheet is).
fn spill_sheet<RS: Read + Seek>(
    workbook: &mut Xlsx<RS>,
    sheet: &str,
) -> Result<std::result::Result<Option<Spill>, SpillError>> {
    let mut cells = match workbook.worksheet_cells_reader(sheet) {
        Ok(cells) => cells,
        Err(XlsxError::NotAWorksheet(_)) => return Ok(Ok(None)),
        Err(err) => return Ok(Err(err.into())),
    };
    let mut out = BufWriter::with_capacity(1 << 16, tempfile::tempfile()?);
    let mut row = RowBuffer::default();
    let mut bounds: Option<(u32, u32, u32, u32)> = None;
    let mut any_text = false;
    loop {
        let cell = match cells.next_cell() {
            Ok(Some(cell)) => cell,
            Ok(None) => break,
            Err(err) => return Ok(Err(err.into())),
        };
        let value = cell.get_value();
        if matches!(value, DataRef::Empty) {
            continue;
        }
        let (r, c) = cell.get_position();
        if row.row != Some(r) {
            if row.row.is_some_and(|current| r < current) {
                return Ok(Err(SpillError::OutOfOrder));
            }
            row.write(&mut out)?;
            row.row = Some(r);
        }
        let text = ref_text(value);
        any_text |= !text.is_empty();
        row.push(c, &text);
        bounds = Some(match bounds {
            None => (r, r, c, c),
            Some((r0, r1, c0, c1)) => (r0.min(r), r1.max(r), c0.min(c), c1.max(c)),
        });
    }
    row.write(&mut out)?;
    let Some((first_row, last_row, first_col, last_col)) = bounds.filter(|_| any_text) else {
        return Ok(Ok(None));
    };
    let file = out.into_inner().map_err(|err| err.into_error())?;
    Ok(Ok(Some(Spill {
        file,
        first_row,
        last_row,
        first_col,
        last_col,
    })))
}

/// A cell's text without copying shared strings.
pub(super) fn ref_text<'a>(value: &'a DataRef<'a>) -> Cow<'a, str> {
    match value {
        DataRef::SharedString(text) => Cow::Borrowed(text),
        DataRef::String(text) => Cow::Borrowed(text),
        other => Cow::Owned(cell_text(&Data::from(other.clone()))),
    }
}

/// The non-empty cells of the row being read. Spilled as `row, count`, then `column, length,
/// bytes` for each cell (little-endian u32s), columns in order, each once.
#[derive(Default, Clone)]
pub(super) struct RowBuffer {
    pub row: Option<u32>,
    pub cells: Vec<(u32, usize, usize)>,
    pub bytes: Vec<u8>,
}

impl RowBuffer {
    pub fn push(&mut self, col: u32, text: &str) {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(text.as_bytes());
        self.cells.push((col, start, self.bytes.len()));
    }

    /// Columns out of order or repeated: the last cell at a position wins, as in calamine's
    /// ranges.
    pub fn normalize(&mut self) {
        if self.cells.windows(2).any(|pair| pair[0].0 >= pair[1].0) {
            self.cells.reverse();
            self.cells.sort_by_key(|cell| cell.0);
            self.cells.dedup_by_key(|cell| cell.0);
        }
    }

    fn write(&mut self, out: &mut impl Write) -> std::io::Result<()> {
        let Some(row) = self.row.take() else {
            return Ok(());
        };
        self.normalize();
        out.write_all(&row.to_le_bytes())?;
        out.write_all(&(self.cells.len() as u32).to_le_bytes())?;
        for &(col, start, end) in &self.cells {
            out.write_all(&col.to_le_bytes())?;
            out.write_all(&((end - start) as u32).to_le_bytes())?;
            out.write_all(&self.bytes[start..end])?;
        }
        self.cells.clear();
        self.bytes.clear();
        Ok(())
    }
}

/// The rows of a spilled sheet, each of the rectangle's width, from its first row.
struct SpillSource {
    reader: BufReader<File>,
    /// The next row to give (absolute), and the last.
    next_row: u32,
    last_row: u32,
    first_col: u32,
    width: usize,
    /// The next spilled row: its number, and its cells as (column, text) in order.
    pending: Option<u32>,
    cells: Vec<(u32, usize, usize)>,
    bytes: Vec<u8>,
}

impl SpillSource {
    fn open(spill: &Spill) -> Result<SpillSource> {
        let mut file = spill.file.try_clone()?;
        file.seek(SeekFrom::Start(0))?;
        let mut source = SpillSource {
            reader: BufReader::with_capacity(1 << 16, file),
            next_row: spill.first_row,
            last_row: spill.last_row,
            first_col: spill.first_col,
            width: (spill.last_col - spill.first_col) as usize + 1,
            pending: None,
            cells: Vec::new(),
            bytes: Vec::new(),
        };
        source.read_spilled()?;
        Ok(source)
    }

    /// Reads the next spilled row into `pending`, `cells` and `bytes`.
    fn read_spilled(&mut self) -> Result<()> {
        self.cells.clear();
        self.bytes.clear();
        self.pending = None;
        if self.reader.fill_buf()?.is_empty() {
            return Ok(());
        }
        let row = read_u32(&mut self.reader)?;
        let count = read_u32(&mut self.reader)?;
        for _ in 0..count {
            let col = read_u32(&mut self.reader)?;
            let len = read_u32(&mut self.reader)? as usize;
            let start = self.bytes.len();
            self.bytes.resize(start + len, 0);
            self.reader.read_exact(&mut self.bytes[start..])?;
            self.cells.push((col, start, start + len));
        }
        self.pending = Some(row);
        Ok(())
    }
}

fn read_u32(reader: &mut impl Read) -> std::io::Result<u32> {
    let mut bytes = [0; 4];
    reader.read_exact(&mut bytes)?;
    Ok(u32::from_le_bytes(bytes))
}

impl RowSource for SpillSource {
    fn read(&mut self, record: &mut ByteRecord) -> Result<bool> {
        if self.next_row > self.last_row {
            return Ok(false);
        }
        if self.pending == Some(self.next_row) {
            fill(record, &self.cells, &self.bytes, self.first_col, self.width);
            self.read_spilled()?;
        } else {
            fill(record, &[], &[], self.first_col, self.width);
        }
        self.next_row += 1;
        Ok(true)
    }
}

/// A row of the rectangle from `first_col`, `width` cells wide, from its non-empty cells
/// (column, start and end in `bytes`, columns in order): the columns between are empty.
pub(super) fn fill(
    record: &mut ByteRecord,
    cells: &[(u32, usize, usize)],
    bytes: &[u8],
    first_col: u32,
    width: usize,
) {
    record.clear();
    let mut col = first_col;
    for &(cell_col, start, end) in cells {
        while col < cell_col {
            record.push_field(b"");
            col += 1;
        }
        record.push_field(&bytes[start..end]);
        col += 1;
    }
    while record.len() < width {
        record.push_field(b"");
    }
}
