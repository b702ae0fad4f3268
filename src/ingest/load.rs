//! Rows into tables: the `CREATE TABLE`, binding each cell as its column's type, multi-row
//! `INSERT` statements prepared once per table, and a parser thread feeding the inserting
//! thread so that parsing and SQLite's work overlap on two cores.
//!
//! Inferred columns only ever receive values that fit them losslessly (pass 1 checked every
//! value; a value that no longer fits means the file changed while loading, and the load
//! fails). Declared columns (a schema, or an existing table appended to) keep values that do
//! not fit: as TEXT, or as a BLOB of their UTF-8 text when SQLite's numeric affinity would
//! rewrite the text (`007` would become 7).

use std::panic::AssertUnwindSafe;
use std::sync::mpsc;

use csv::ByteRecord;
use rusqlite::types::Null;
use rusqlite::{Connection, Statement};

use super::infer::{is_canonical_integer, is_canonical_real, looks_numeric, parse_real};
use super::source::RowSource;
use super::{ColumnType, RowCheck};
use crate::error::panic_reason;
use crate::sql::quote_ident;
use crate::state::Issue;
use crate::{Error, Result};

/// Records handed from the parser thread to the inserter at a time.
const BATCH_RECORDS: usize = 1024;
/// Rows per multi-row INSERT statement (fewer when the table is very wide).
const ROWS_PER_STATEMENT: usize = 64;
/// SQLite's default limit on bound parameters per statement.
const MAX_PARAMETERS: usize = 32766;

/// Extra columns `--provenance-columns` adds, after the file's own.
pub const PROVENANCE_COLUMNS: [&str; 3] = ["_rssd_row", "_rssd_session_id", "_rssd_entry_id"];

/// One column to load into.
#[derive(Debug, Clone)]
pub struct LoadColumn {
    pub name: String,
    pub column_type: ColumnType,
    /// True when the type was inferred from every value (so every value fits it).
    pub inferred: bool,
}

/// The values of the provenance columns.
#[derive(Debug, Clone)]
pub struct Provenance {
    pub session_id: String,
    pub entry_id: String,
}

/// `CREATE TABLE "t" ("a" INTEGER, ...)`, with the provenance columns when asked for.
pub fn create_table_sql(table: &str, columns: &[LoadColumn], provenance: bool) -> String {
    let mut parts: Vec<String> = columns
        .iter()
        .map(|c| format!("{} {}", quote_ident(&c.name), c.column_type.sql()))
        .collect();
    if provenance {
        parts.push(format!("{} INTEGER", PROVENANCE_COLUMNS[0]));
        parts.push(format!("{} TEXT", PROVENANCE_COLUMNS[1]));
        parts.push(format!("{} TEXT", PROVENANCE_COLUMNS[2]));
    }
    format!("CREATE TABLE {} ({})", quote_ident(table), parts.join(", "))
}

/// `INSERT INTO "t" ("a", ...) VALUES (?, ...), ...` for `rows` rows.
pub fn insert_sql(table: &str, columns: &[LoadColumn], provenance: bool, rows: usize) -> String {
    let mut names: Vec<String> = columns.iter().map(|c| quote_ident(&c.name)).collect();
    if provenance {
        names.extend(PROVENANCE_COLUMNS.iter().map(|c| c.to_string()));
    }
    let one = format!("({})", vec!["?"; names.len()].join(","));
    format!(
        "INSERT INTO {} ({}) VALUES {}",
        quote_ident(table),
        names.join(", "),
        vec![one; rows].join(",")
    )
}

/// Hears each inserted batch's rows and bytes, between batches.
pub type OnBatch<'a> = dyn FnMut(u64, u64) -> Result<()> + 'a;

/// Records a batch's issues (on the inserting thread).
pub type RecordIssues<'a> = dyn FnMut(&mut Vec<Issue>) -> Result<()> + 'a;

/// A check of the rows while they load: it runs on the parser thread, and the issues it finds
/// are recorded on the inserting thread, in the load's transaction.
pub struct Checking<'a> {
    pub check: &'a mut dyn RowCheck,
    /// The rowid the first row gets.
    pub first_rowid: i64,
    /// Records a batch's issues, after the batch's rows are inserted.
    pub record: &'a mut RecordIssues<'a>,
}

/// A batch of records from the parser thread: the records (only the first `filled` are
/// this batch's) and the issues the row check found in them.
struct Batch {
    records: Vec<ByteRecord>,
    filled: usize,
    issues: Vec<Issue>,
}

/// Inserts every record of `source` (positioned after the header) in file order, so the
/// n-th data row gets the n-th new rowid. Runs inside the caller's transaction. `on_batch`
/// hears rows and bytes after each batch (and may commit there). Returns the rows inserted.
///
/// The first batch is read here; only a source with more than one batch gets a parser thread,
/// so that many small files do not each pay for a thread.
pub fn insert_rows(
    conn: &Connection,
    table: &str,
    columns: &[LoadColumn],
    provenance: Option<&Provenance>,
    source: Box<dyn RowSource>,
    on_batch: &mut OnBatch<'_>,
    checking: Option<Checking>,
) -> Result<u64> {
    let (check, record_issues) = match checking {
        Some(checking) => (
            Some((checking.check, checking.first_rowid)),
            Some(checking.record),
        ),
        None => (None, None),
    };
    let mut reader = BatchReader { source, check };
    let mut inserter = Inserter {
        conn,
        table,
        columns,
        provenance,
        multi: None,
        single: None,
        rows: 0,
        record_issues,
        on_batch,
    };
    let first = reader.next(vec![ByteRecord::new(); BATCH_RECORDS])?;
    if first.filled < BATCH_RECORDS {
        inserter.insert(first)?;
        return Ok(inserter.rows);
    }
    std::thread::scope(|scope| {
        let (full_tx, full_rx) = mpsc::sync_channel::<Result<Batch>>(4);
        let (empty_tx, empty_rx) = mpsc::channel::<Vec<ByteRecord>>();
        let parser = scope.spawn(move || {
            loop {
                let records = empty_rx
                    .try_recv()
                    .unwrap_or_else(|_| vec![ByteRecord::new(); BATCH_RECORDS]);
                let batch = reader.next(records);
                let last = !matches!(&batch, Ok(batch) if batch.filled == BATCH_RECORDS);
                let empty = matches!(&batch, Ok(batch) if batch.filled == 0);
                if !empty && full_tx.send(batch).is_err() {
                    return;
                }
                if last {
                    return;
                }
            }
        });
        let inserted = {
            // Owned here so that an early error drops it and the parser stops sending.
            let batches = full_rx;
            let insert = || -> Result<u64> {
                let _ = empty_tx.send(inserter.insert(first)?);
                for message in batches.iter() {
                    crate::interrupt::check()?;
                    let _ = empty_tx.send(inserter.insert(message?)?);
                }
                Ok(inserter.rows)
            };
            insert()
        };
        if parser.join().is_err() {
            return Err(Error::Invalid(
                "the parser thread stopped unexpectedly".into(),
            ));
        }
        inserted
    })
}

/// The reading side: batches of records, each checked when a row check is given.
struct BatchReader<'a> {
    source: Box<dyn RowSource>,
    /// The check, and the rowid of the next row.
    check: Option<(&'a mut dyn RowCheck, i64)>,
}

impl BatchReader<'_> {
    /// Fills `records` (up to all of them: fewer only at the end) and checks them.
    fn next(&mut self, mut records: Vec<ByteRecord>) -> Result<Batch> {
        let mut filled = 0;
        while filled < records.len() && self.source.read(&mut records[filled])? {
            filled += 1;
        }
        let mut issues = Vec::new();
        if let Some((check, next_rowid)) = self.check.as_mut() {
            // A bug in a check fails this file's load (rolled back), not the whole run.
            let first = *next_rowid;
            let checked = std::panic::catch_unwind(AssertUnwindSafe(|| {
                check.check(&records[..filled], first, &mut issues)
            }));
            if let Err(panic) = checked {
                return Err(Error::Invalid(format!(
                    "checking the rows from row {first} stopped on an internal error ({}); nothing of this file was kept",
                    panic_reason(&*panic)
                )));
            }
            *next_rowid += filled as i64;
        }
        Ok(Batch {
            records,
            filled,
            issues,
        })
    }
}

/// The inserting side: multi-row statements, prepared when first needed (a small file uses
/// only the one-row statement).
struct Inserter<'a, 'c, 'r, 'b> {
    conn: &'c Connection,
    table: &'a str,
    columns: &'a [LoadColumn],
    provenance: Option<&'a Provenance>,
    multi: Option<Statement<'c>>,
    single: Option<Statement<'c>>,
    rows: u64,
    record_issues: Option<&'r mut RecordIssues<'r>>,
    on_batch: &'b mut OnBatch<'b>,
}

impl Inserter<'_, '_, '_, '_> {
    fn per_statement(&self) -> usize {
        let width = self.columns.len() + if self.provenance.is_some() { 3 } else { 0 };
        (MAX_PARAMETERS / width.max(1)).clamp(1, ROWS_PER_STATEMENT)
    }

    /// Inserts a batch's rows and records its issues; gives the records back for reuse.
    fn insert(&mut self, batch: Batch) -> Result<Vec<ByteRecord>> {
        let Batch {
            records,
            filled,
            mut issues,
        } = batch;
        let per_statement = self.per_statement();
        let mut bytes = 0u64;
        let mut start = 0;
        while start < filled {
            let take = if filled - start >= per_statement {
                per_statement
            } else {
                1
            };
            let slot = if take == per_statement && take > 1 {
                &mut self.multi
            } else {
                &mut self.single
            };
            let statement = match slot {
                Some(statement) => statement,
                None => slot.insert(self.conn.prepare(&insert_sql(
                    self.table,
                    self.columns,
                    self.provenance.is_some(),
                    take,
                ))?),
            };
            let mut index = 1;
            for record in &records[start..start + take] {
                self.rows += 1;
                bytes += record.as_slice().len() as u64;
                index = bind_row(
                    statement,
                    index,
                    record,
                    self.columns,
                    self.provenance,
                    self.rows,
                )?;
            }
            statement.raw_execute()?;
            start += take;
        }
        if let Some(record) = self.record_issues.as_mut() {
            record(&mut issues)?;
        }
        (self.on_batch)(filled as u64, bytes)?;
        Ok(records)
    }
}

/// For a big load when no other connection has the database open: leaves WAL for SQLite's
/// rollback journal, so that the new table's pages are written once, into the database file,
/// instead of into the WAL and again by the checkpoint. Pages beyond the file's old end need
/// no journal copy, and a crash or kill at any moment leaves a hot journal that the next
/// opener rolls back. Asks without waiting: true only when the switch happened, and then
/// [`return_to_wal`] must follow the load.
pub fn leave_wal_if_alone(conn: &Connection) -> Result<bool> {
    let timeout_ms: i64 = conn.query_row("PRAGMA busy_timeout", [], |row| row.get(0))?;
    conn.execute_batch("PRAGMA busy_timeout = 0")?;
    // Busy (another connection has the file open) is the usual "no", not an error.
    let mode = conn.query_row("PRAGMA journal_mode = DELETE", [], |row| {
        row.get::<_, String>(0)
    });
    conn.execute_batch(&format!("PRAGMA busy_timeout = {timeout_ms}"))?;
    Ok(matches!(mode, Ok(mode) if mode.eq_ignore_ascii_case("delete")))
}

/// Back to WAL after a load in rollback-journal mode (waits for readers as any write does).
pub fn return_to_wal(conn: &Connection) -> Result<()> {
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
    if mode.eq_ignore_ascii_case("wal") {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "could not switch the database back to WAL journal mode (it stays in {mode})"
        )))
    }
}

fn bind_row(
    statement: &mut Statement<'_>,
    mut index: usize,
    record: &ByteRecord,
    columns: &[LoadColumn],
    provenance: Option<&Provenance>,
    row: u64,
) -> Result<usize> {
    for (i, column) in columns.iter().enumerate() {
        bind_cell(statement, index, record.get(i).unwrap_or_default(), column)?;
        index += 1;
    }
    if let Some(provenance) = provenance {
        statement.raw_bind_parameter(index, row as i64)?;
        statement.raw_bind_parameter(index + 1, provenance.session_id.as_str())?;
        statement.raw_bind_parameter(index + 2, provenance.entry_id.as_str())?;
        index += 3;
    }
    Ok(index)
}

#[inline]
fn bind_cell(
    statement: &mut Statement<'_>,
    index: usize,
    cell: &[u8],
    column: &LoadColumn,
) -> Result<()> {
    if cell.is_empty() {
        statement.raw_bind_parameter(index, Null)?;
        return Ok(());
    }
    match column.column_type {
        ColumnType::Text => statement.raw_bind_parameter(index, utf8(cell)?)?,
        ColumnType::Integer if is_canonical_integer(cell) => {
            statement.raw_bind_parameter(index, canonical_i64(cell))?
        }
        ColumnType::Real if is_canonical_real(cell) => match parse_real(cell) {
            Some(value) => statement.raw_bind_parameter(index, value)?,
            None => return Err(changed_while_loading(&column.name)),
        },
        // A whole number is a fine value for a declared REAL column (stored as e.g. 5.0).
        ColumnType::Real if !column.inferred && is_canonical_integer(cell) => {
            statement.raw_bind_parameter(index, canonical_i64(cell))?
        }
        _ if column.inferred => return Err(changed_while_loading(&column.name)),
        _ if looks_numeric(cell) => statement.raw_bind_parameter(index, cell)?,
        _ => statement.raw_bind_parameter(index, utf8(cell)?)?,
    }
    Ok(())
}

fn utf8(cell: &[u8]) -> Result<&str> {
    std::str::from_utf8(cell).map_err(|_| Error::Invalid("a cell is not valid UTF-8 although pass 1 found it was; the file changed while loading".into()))
}

fn changed_while_loading(column: &str) -> Error {
    Error::Invalid(format!(
        "a value of column \"{column}\" no longer fits the type pass 1 inferred; the file changed while loading"
    ))
}

/// The value of a canonical integer's text; digits are accumulated negatively so that
/// i64::MIN fits.
#[inline]
fn canonical_i64(cell: &[u8]) -> i64 {
    let (negative, digits) = match cell.first() {
        Some(b'-') => (true, &cell[1..]),
        _ => (false, cell),
    };
    let mut value: i64 = 0;
    for &digit in digits {
        value = value.wrapping_mul(10).wrapping_sub(i64::from(digit - b'0'));
    }
    if negative {
        value
    } else {
        value.wrapping_neg()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_integers_parse_to_their_value() {
        for text in [
            "0",
            "7",
            "-7",
            "9223372036854775807",
            "-9223372036854775808",
        ] {
            assert_eq!(canonical_i64(text.as_bytes()), text.parse::<i64>().unwrap());
        }
    }

    #[test]
    fn hostile_names_are_quoted() {
        let columns = vec![LoadColumn {
            name: "a\"b".into(),
            column_type: ColumnType::Text,
            inferred: true,
        }];
        let sql = create_table_sql("t\"; DROP TABLE x; --", &columns, true);
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(&sql).unwrap();
        conn.execute_batch(
            &insert_sql("t\"; DROP TABLE x; --", &columns, true, 2).replace('?', "NULL"),
        )
        .unwrap();
    }
}
