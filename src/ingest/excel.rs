//! Workbooks (`.xlsx`, `.xlsm`, `.xls`, `.ods`) through calamine: every non-empty sheet is its
//! own table. Cells become text the way a person reads them: whole numbers without `.0`,
//! other numbers with at most 15 significant digits (what Excel shows), dates as ISO 8601,
//! booleans as `TRUE`/`FALSE`, formulas as their cached values, error cells as `#DIV/0!` etc.

use std::path::Path;

use calamine::{Data, Range, Reader, Sheets, open_workbook_auto};
use csv::ByteRecord;
use serde_json::{Map, Value};

use super::scan::{ScanOutcome, scan};
use super::source::{FileProblem, MemorySource, SliceSource, Table};
use super::xlsx_stream::{self, SheetRead};
use crate::Result;
use crate::error::panic_reason;
use crate::state::IssueKind;

/// The tables of a workbook (pass 1 done), or why it has none. A panic inside the workbook
/// parser (a third-party crate reading hostile bytes) is the file's problem, not the run's:
/// it becomes an `Unreadable File` issue.
pub fn prepare(path: &Path, stem: &str) -> Result<Result<Vec<Table>, FileProblem>> {
    std::panic::catch_unwind(|| read_workbook(path, stem)).unwrap_or_else(|panic| {
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

fn read_workbook(path: &Path, stem: &str) -> Result<Result<Vec<Table>, FileProblem>> {
    let mut workbook = match open_workbook_auto(path) {
        Ok(workbook) => workbook,
        Err(err) => {
            return Ok(Err(FileProblem::new(
                IssueKind::UnreadableFile,
                format!("the workbook cannot be read: {err}"),
                "open and save the workbook again, or export its sheets as CSV",
            )));
        }
    };
    let mut tables = Vec::new();
    for sheet in workbook.sheet_names() {
        let read = match &mut workbook {
            Sheets::Xlsx(xlsx) => xlsx_stream::sheet_table(xlsx, &sheet, stem)?,
            whole => match whole.worksheet_range(&sheet) {
                Ok(range) => match range_table(&sheet, &range, stem)? {
                    Some(table) => SheetRead::Table(Box::new(table)),
                    None => SheetRead::Empty,
                },
                Err(err) => SheetRead::Unreadable(err.to_string()),
            },
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

/// A cell as text (empty for an empty cell).
pub fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(text) | Data::DateTimeIso(text) | Data::DurationIso(text) => text.clone(),
        Data::Int(value) => value.to_string(),
        Data::Float(value) => number_text(*value),
        Data::Bool(true) => "TRUE".to_string(),
        Data::Bool(false) => "FALSE".to_string(),
        Data::Error(err) => err.to_string(),
        Data::DateTime(value) => {
            if value.is_duration() {
                return match value.as_duration() {
                    Some(duration) => format!("PT{}S", duration.num_seconds()),
                    None => value.as_f64().to_string(),
                };
            }
            match value.as_datetime() {
                Some(datetime) => {
                    // Display is `YYYY-MM-DD HH:MM:SS[.fff]`.
                    let text = datetime.to_string().replacen(' ', "T", 1);
                    match text.strip_suffix("T00:00:00") {
                        Some(date) => date.to_string(),
                        None => text,
                    }
                }
                None => number_text(value.as_f64()),
            }
        }
    }
}

/// A float as Excel shows it in General format: whole numbers without `.0`, otherwise at
/// most 15 significant digits.
pub fn number_text(value: f64) -> String {
    if !value.is_finite() {
        return value.to_string();
    }
    if value.fract() == 0.0 && value.abs() < 1e15 {
        return format!("{}", value as i64);
    }
    let rounded: f64 = format!("{value:.14e}").parse().unwrap_or(value);
    format!("{rounded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_excel_shows_them() {
        assert_eq!(number_text(3.0), "3");
        assert_eq!(number_text(-2.5), "-2.5");
        assert_eq!(number_text(0.1 + 0.2), "0.3");
        assert_eq!(number_text(1.1), "1.1");
    }
}
