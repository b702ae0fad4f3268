//! Workbooks (`.xlsx`, `.xlsm`, `.xls`, `.ods`) through calamine: every non-empty sheet is its
//! own table. Cells become text the way a person reads them: whole numbers without `.0`,
//! other numbers with at most 15 significant digits (what Excel shows), dates as ISO 8601,
//! booleans as `TRUE`/`FALSE`, formulas as their cached values, error cells as `#DIV/0!` etc.

use std::path::Path;

use calamine::{Data, Range, Reader, Sheets, open_workbook_auto};
use csv::ByteRecord;
use serde_json::{Map, Value};

use super::cell_text::cell_text;
use super::scan::{ScanOutcome, scan};
use super::source::{FileProblem, MemorySource, SliceSource, Table};
use super::xlsx_pipe;
use super::xlsx_stream::{self, SheetRead};
use crate::Result;
use crate::error::panic_reason;
use crate::state::IssueKind;

/// The tables of a workbook (pass 1 done), or why it has none. A panic inside the workbook
/// parser (a third-party crate reading hostile bytes) is the file's problem, not the run's:
/// it becomes an `Unreadable File` issue. With `speculate`, an xlsx workbook's sheets load
/// while their XML is parsed, with the types of a sample (see [`xlsx_pipe`]).
pub fn prepare(
    path: &Path,
    stem: &str,
    speculate: bool,
) -> Result<Result<Vec<Table>, FileProblem>> {
    std::panic::catch_unwind(|| read_workbook(path, stem, speculate)).unwrap_or_else(|panic| {
        Ok(Err(FileProblem::new(
            IssueKind::UnreadableFile,
            format!(
                "the workbook reader stopped on this file: {}",
                panic_reason(&*panic)
            ),
            "open and save the workbook again, or export its sheets as CSV",
        )))
    })
}

fn read_workbook(
    path: &Path,
    stem: &str,
    speculate: bool,
) -> Result<Result<Vec<Table>, FileProblem>> {
    let workbook = match open_workbook_auto(path) {
        Ok(workbook) => workbook,
        Err(err) => {
            return Ok(Err(FileProblem::new(
                IssueKind::UnreadableFile,
                format!("the workbook cannot be read: {err}"),
                "open and save the workbook again, or export its sheets as CSV",
            )));
        }
    };
    let mut workbook = match workbook {
        Sheets::Xlsx(mut xlsx) if speculate => match xlsx_pipe::samples(&mut xlsx) {
            Some(samples) => return xlsx_pipe::tables(xlsx, samples, stem, path).map(Ok),
            None => Sheets::Xlsx(xlsx),
        },
        other => other,
    };
    let mut tables = Vec::new();
    for sheet in workbook.sheet_names() {
        let read = match &mut workbook {
            Sheets::Xlsx(xlsx) => match xlsx_stream::sheet_table(xlsx, &sheet, stem)? {
                Some(read) => read,
                // Rows out of order: read whole, so that the sheet loads as it always did.
                None => {
                    let range = xlsx.worksheet_range(&sheet);
                    whole_sheet(range.map_err(calamine::Error::Xlsx), &sheet, stem)?
                }
            },
            whole => whole_sheet(whole.worksheet_range(&sheet), &sheet, stem)?,
        };
        match read {
            SheetRead::Table(table) => tables.push(*table),
            SheetRead::Empty => {}
            SheetRead::Unreadable(err) => {
                return Ok(Err(FileProblem::new(
                    IssueKind::UnreadableFile,
                    format!("sheet \"{sheet}\" cannot be read: {err}"),
                    "open and save the workbook again, or export its sheets as CSV",
                )));
            }
        }
    }
    if tables.is_empty() {
        return Ok(Err(FileProblem::new(
            IssueKind::EmptyFile,
            "the workbook has no sheet with any cell",
            "send the workbook with its data",
        )));
    }
    Ok(Ok(tables))
}

fn whole_sheet(
    range: std::result::Result<Range<Data>, calamine::Error>,
    sheet: &str,
    stem: &str,
) -> Result<SheetRead> {
    Ok(match range {
        Ok(range) => match range_table(sheet, &range, stem)? {
            Some(table) => SheetRead::Table(Box::new(table)),
            None => SheetRead::Empty,
        },
        Err(err) => SheetRead::Unreadable(err.to_string()),
    })
}

/// The table of a sheet read whole (`.xls`, `.ods`, and xlsx sheets whose rows are out of
/// order), pass 1 done; None when no cell has any text.
pub fn range_table(sheet: &str, range: &Range<Data>, stem: &str) -> Result<Option<Table>> {
    let records: Vec<ByteRecord> = range
        .rows()
        .map(|row| {
            let mut record = ByteRecord::new();
            for cell in row {
                record.push_field(cell_text(cell).as_bytes());
            }
            record
        })
        .collect();
    if records
        .iter()
        .all(|record| record.iter().all(<[u8]>::is_empty))
    {
        return Ok(None);
    }
    let mut pass1 = SliceSource::new(&records);
    let ScanOutcome::Done(scan) = scan(&mut pass1, false)? else {
        return Ok(None);
    };
    let mut facts = Map::new();
    facts.insert("sheet".into(), Value::from(sheet));
    let rows = Box::new(MemorySource::new(records));
    let base_name = format!("{stem}_{sheet}");
    Table::new(Some(sheet.to_string()), &base_name, facts, scan, true, rows).map(Some)
}
