//! Row checks: each row as the loader reads it, or read back from the table; one pass,
//! constant memory: blank rows and each field's cell, and the uniqueness keys followed as
//! rows go by (`unique_keys`).

use std::any::Any;

use csv::ByteRecord;
use rusqlite::Connection;

use super::field::{Cast, Problem};
use super::plan::ValidateOptions;
use super::schema::TableSchema;
use super::stored::{cell_text, rowid_name, select_rows};
use super::target::Target;
use super::unique_keys::UniqueKeys;
use crate::Result;
use crate::ingest::RowCheck;
use crate::state::Session;
use crate::state::{Issue, IssueKind};

/// SQLite's page cache, in KiB, while issues are written: the default 2 MiB makes a long run
/// of issue inserts spill to the WAL and read pages back; 32 MiB keeps memory bounded.
const PAGE_CACHE_KIB: i64 = 32 * 1024;

fn raise_page_cache(conn: &Connection) -> Result<()> {
    let current: i64 = conn.query_row("PRAGMA cache_size", [], |row| row.get(0))?;
    // Negative values are KiB, positive ones pages (of 4 KiB by default).
    let current_kib = if current < 0 { -current } else { current * 4 };
    if current_kib < PAGE_CACHE_KIB {
        conn.execute_batch(&format!("PRAGMA cache_size = -{PAGE_CACHE_KIB}"))?;
    }
    Ok(())
}

/// Checks every row of the entry's table against the fields found in its header, reading
/// the rows back from the table.
pub fn check(
    session: &Session,
    target: &Target,
    schema: &TableSchema,
    columns: &[(usize, String)],
    options: &ValidateOptions,
) -> Result<()> {
    let conn = session.conn();
    raise_page_cache(conn)?;
    let mut checker = RowChecker::new(target, schema, columns, options);
    let rowid = rowid_name(&checker.columns);
    let mut statement = conn.prepare(&select_rows(target, &checker.columns, rowid))?;
    let mut rows = statement.query([])?;
    let mut buffers = vec![String::new(); checker.columns.len()];
    // One allocation for the row's cells, reused: it is empty between rows.
    let mut spare: Vec<&'static str> = Vec::with_capacity(buffers.len());
    while let Some(row) = rows.next()? {
        let row_number: i64 = row.get(0)?;
        let mut texts: Vec<&str> = spare;
        for (i, buffer) in buffers.iter_mut().enumerate() {
            texts.push(cell_text(row.get_ref(i + 1)?, buffer));
        }
        let blank = texts.iter().all(|text| text.is_empty());
        checker.row(&texts, blank, row_number, &mut |issue| {
            session.issue(&issue).map(drop)
        })?;
        texts.clear();
        spare = texts.into_iter().map(|_| "").collect();
    }
    drop(rows);
    drop(statement);
    finish_keys(session, target, checker)
}

/// After every row was seen: the keys whose rows were not in ascending order are compared
/// in SQL.
pub fn finish_keys(session: &Session, target: &Target, checker: RowChecker) -> Result<()> {
    let RowChecker {
        schema,
        columns,
        keys,
        ..
    } = checker;
    keys.finish(session, target, &schema, &columns)
}

/// The row-by-row checks of one entry: blank rows, each field's cell, the keys' order. It
/// owns what it needs, so that the loader's parser thread can run it while rows load.
pub struct RowChecker {
    entry_id: String,
    source: String,
    schema: TableSchema,
    /// The table's columns, in order.
    columns: Vec<String>,
    /// (field index, position of its cell among the columns), for fields that can fail.
    positions: Vec<(usize, usize)>,
    /// Whether a position's cell is needed (by a field check or a key).
    needed: Vec<bool>,
    report_blank_rows: bool,
    keys: UniqueKeys,
    /// Each field's kept value in the current row.
    casts: Vec<Option<Cast>>,
    problems: Vec<Problem>,
}

impl RowChecker {
    pub fn new(
        target: &Target,
        schema: &TableSchema,
        columns: &[(usize, String)],
        options: &ValidateOptions,
    ) -> RowChecker {
        let all_columns: Vec<String> = target.columns.iter().map(|c| c.name.clone()).collect();
        // (field index, position of its cell among the columns).
        let found: Vec<(usize, usize)> = columns
            .iter()
            .filter_map(|(field, name)| {
                all_columns
                    .iter()
                    .position(|c| c == name)
                    .map(|p| (*field, p))
            })
            .collect();
        let keys = UniqueKeys::new(schema, &found);
        let positions: Vec<(usize, usize)> = found
            .into_iter()
            .filter(|(field, _)| schema.fields[*field].can_fail())
            .collect();
        let mut needed = vec![false; all_columns.len()];
        for &(_, position) in &positions {
            needed[position] = true;
        }
        for position in keys.positions() {
            needed[position] = true;
        }
        RowChecker {
            entry_id: target.entry_id.clone(),
            source: target.source.clone(),
            schema: schema.clone(),
            columns: all_columns,
            positions,
            needed,
            report_blank_rows: options.report_blank_rows,
            keys,
            casts: vec![None; schema.fields.len()],
            problems: Vec::new(),
        }
    }

    /// The checks of one row (`texts`: its cells by position, at least every needed one;
    /// `blank`: every cell is empty), handing each issue to `emit`.
    fn row(
        &mut self,
        texts: &[&str],
        blank: bool,
        row_number: i64,
        emit: &mut dyn FnMut(Issue) -> Result<()>,
    ) -> Result<()> {
        let RowChecker {
            entry_id,
            source,
            schema,
            columns,
            positions,
            report_blank_rows,
            keys,
            casts,
            problems,
            ..
        } = self;
        if blank {
            if *report_blank_rows {
                emit(
                    Issue::new(
                        IssueKind::BlankRow,
                        format!("row {row_number} of {source} is blank"),
                    )
                    .entry(entry_id.as_str())
                    .row(row_number)
                    .remediation("Delete the empty row, or fill in its values"),
                )?;
            }
            return Ok(());
        }
        for &(field_index, position) in positions.iter() {
            let field = &schema.fields[field_index];
            let text = texts[position];
            casts[field_index] = field.check(text, problems);
            if problems.is_empty() {
                continue;
            }
            for problem in problems.drain(..) {
                emit(
                    Issue::new(problem.kind, problem.message)
                        .code(problem.code)
                        .severity(field.severity)
                        .entry(entry_id.as_str())
                        .row(row_number)
                        .column(columns[position].clone())
                        .invalid_value(text)
                        .remediation(problem.remediation)
                        .with("rule", problem.rule),
                )?;
            }
        }
        keys.observe_row(schema, texts, casts, row_number, entry_id, emit)
    }
}

/// The same checks on the loader's parser thread, on the cells as they are loaded (which
/// read back from the table as the same text).
impl RowCheck for RowChecker {
    fn check(&mut self, records: &[ByteRecord], first_rowid: i64, issues: &mut Vec<Issue>) {
        let width = self.columns.len();
        let mut buffers = vec![String::new(); width];
        let mut spare: Vec<&'static str> = Vec::with_capacity(width);
        for (record, row_number) in records.iter().zip(first_rowid..) {
            let mut texts: Vec<&str> = spare;
            for (position, buffer) in buffers.iter_mut().enumerate() {
                let cell = match self.needed[position] {
                    true => record.get(position).unwrap_or_default(),
                    false => b"",
                };
                texts.push(match std::str::from_utf8(cell) {
                    Ok(text) => text,
                    Err(_) => {
                        *buffer = String::from_utf8_lossy(cell).into_owned();
                        buffer
                    }
                });
            }
            let blank = record.iter().all(<[u8]>::is_empty);
            // Pushing to a vector cannot fail.
            let _ = self.row(&texts, blank, row_number, &mut |issue| {
                issues.push(issue);
                Ok(())
            });
            texts.clear();
            spare = texts.into_iter().map(|_| "").collect();
        }
    }

    fn into_any(self: Box<Self>) -> Box<dyn Any> {
        self
    }
}
