//! Pass 1: the header, each column's lossless type and null count, and structural issues with
//! their row numbers (1-based data rows, equal to the loaded `rowid`).

use csv::ByteRecord;

use super::infer::ColumnStats;
use super::source::RowSource;
// The shapes of pass 1's result live with the table that carries them.
pub use super::source::{Scan, ScanOutcome};
use crate::state::{Issue, IssueKind, Severity};

/// Reads every record of `source`. With `check_utf8`, stops at the first record that is not
/// valid UTF-8 so the caller can read the file again in another encoding.
pub fn scan(source: &mut dyn RowSource, check_utf8: bool) -> crate::Result<ScanOutcome> {
    scan_rows(source, check_utf8, u64::MAX)
}

/// As [`scan`], reading at most `limit` data rows.
pub fn scan_rows(
    source: &mut dyn RowSource,
    check_utf8: bool,
    limit: u64,
) -> crate::Result<ScanOutcome> {
    let mut record = ByteRecord::new();
    if !source.read(&mut record)? {
        return Ok(ScanOutcome::NoHeader);
    }
    let mut headers = Vec::with_capacity(record.len());
    for cell in record.iter() {
        match std::str::from_utf8(cell) {
            Ok(text) => headers.push(text.to_string()),
            Err(_) if check_utf8 => return Ok(ScanOutcome::NotUtf8 { row: 0 }),
            Err(_) => headers.push(String::from_utf8_lossy(cell).into_owned()),
        }
    }
    let width = headers.len();
    let mut stats = vec![ColumnStats::default(); width];
    let mut issues = Vec::new();
    let mut rows: u64 = 0;
    while rows < limit && source.read(&mut record)? {
        let skipped = source.blank_lines_before();
        for _ in 0..skipped {
            issues.push(
                Issue::new(
                    IssueKind::BlankRow,
                    format!("an empty line before data row {} was skipped", rows + 1),
                )
                .severity(Severity::Warning)
                .remediation("remove empty lines")
                .with("before_row", rows + 1),
            );
        }
        rows += 1;
        if check_utf8 && std::str::from_utf8(record.as_slice()).is_err() {
            return Ok(ScanOutcome::NotUtf8 { row: rows });
        }
        if record.iter().all(<[u8]>::is_empty) {
            issues.push(
                Issue::new(IssueKind::BlankRow, format!("row {rows} is blank"))
                    .row(rows as i64)
                    .severity(Severity::Warning)
                    .remediation("remove blank rows"),
            );
            for column in stats.iter_mut() {
                column.nulls += 1;
            }
            continue;
        }
        let cells = record.len();
        if cells < width {
            issues.push(
                Issue::new(
                    IssueKind::RaggedRowMissing,
                    format!("row {rows} has {cells} cells, the header has {width}; the missing cells are NULL"),
                )
                .row(rows as i64)
                .remediation("give every row as many cells as the header")
                .with("cells", cells)
                .with("expected", width),
            );
        } else if cells > width {
            let extra: Vec<String> = record
                .iter()
                .skip(width)
                .map(|cell| String::from_utf8_lossy(cell).into_owned())
                .collect();
            issues.push(
                Issue::new(
                    IssueKind::RaggedRowExtra,
                    format!(
                        "row {rows} has {cells} cells, the header has {width}; the extra cells are kept in invalid_value (JSON array)"
                    ),
                )
                .row(rows as i64)
                .invalid_value(serde_json::Value::from(extra).to_string())
                .remediation("give every row as many cells as the header")
                .with("cells", cells)
                .with("expected", width),
            );
        }
        for (i, column) in stats.iter_mut().enumerate() {
            column.observe(record.get(i).unwrap_or_default());
        }
    }
    // Only a read to the end knows its trailing lines (a sample's scan stops early).
    if rows < limit {
        for _ in 0..source.blank_lines_at_end() {
            issues.push(
                Issue::new(
                    IssueKind::BlankRow,
                    format!("an empty line after the last data row ({rows}) was skipped"),
                )
                .severity(Severity::Warning)
                .remediation("end the file with one line break, not an empty line")
                .with("after_row", rows),
            );
        }
    }
    Ok(ScanOutcome::Done(Scan {
        headers,
        rows,
        stats,
        issues,
    }))
}
