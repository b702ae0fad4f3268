//! Content checks: each row as the loader reads it, or read back from the table; one pass,
//! constant memory; uniqueness, primary and foreign keys compared in SQL when keys do not
//! ascend (temporary tables spill to disk).

use std::any::Any;
use std::cmp::Ordering;

use csv::ByteRecord;
use rusqlite::{Connection, params};

use super::field::Problem;
use super::schema::{SchemaSet, TableSchema};
use super::{Cast, Checked, Target, ValidateOptions, cell_text};
use crate::Result;
use crate::ingest::RowCheck;
use crate::sql::quote_ident;
use crate::state::Session;
use crate::state::{Issue, IssueKind, Severity};

const KEYS_TABLE: &str = "temp.rssd_validate_keys";
/// The slot of the primary key in the keys table (fields use their index).
const PRIMARY_KEY_SLOT: i64 = -1;

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

/// A name for the row id that no column of the table shadows.
pub fn rowid_name(columns: &[String]) -> &'static str {
    ["rowid", "_rowid_", "oid"]
        .into_iter()
        .find(|name| !columns.iter().any(|c| c.eq_ignore_ascii_case(name)))
        .unwrap_or("rowid")
}

/// A uniqueness key: one unique field, or the primary key's fields.
struct KeySlot {
    /// The field index, or [`PRIMARY_KEY_SLOT`].
    id: i64,
    fields: Vec<usize>,
    /// Positions of the key's cells among the selected columns.
    positions: Vec<usize>,
    /// The last key seen while keys are still strictly ascending in row order.
    previous: Option<Vec<Option<Cast>>>,
    ascending: bool,
}

/// What a row holds in a key's cells.
enum KeyCells {
    /// Every cell is empty (or a missing value).
    Missing,
    /// A cell failed its type: already reported, and takes no part in keys.
    Broken,
    /// The cast values, None for a missing cell of a composite key.
    Key(Vec<Option<Cast>>),
}

impl KeySlot {
    fn cells(
        &self,
        schema: &TableSchema,
        texts: &[&str],
        mut cast: impl FnMut(usize, &str) -> Option<Cast>,
    ) -> KeyCells {
        let mut parts = Vec::with_capacity(self.fields.len());
        for (&field, &position) in self.fields.iter().zip(&self.positions) {
            let text = texts[position];
            if schema.fields[field].is_missing(text) {
                parts.push(None);
            } else {
                match cast(field, text) {
                    Some(value) => parts.push(Some(value)),
                    None => return KeyCells::Broken,
                }
            }
        }
        if parts.iter().all(Option::is_none) {
            KeyCells::Missing
        } else {
            KeyCells::Key(parts)
        }
    }

    /// Follows the keys in row order: while each is greater than the one before, no key can
    /// repeat, and the SQL comparison is not needed.
    fn observe(&mut self, key: &[Option<Cast>]) {
        if !self.ascending {
            return;
        }
        let greater = match &self.previous {
            None => true,
            Some(previous) => is_greater(key, previous),
        };
        if greater {
            self.previous = Some(key.to_vec());
        } else {
            self.ascending = false;
            self.previous = None;
        }
    }
}

fn is_greater(key: &[Option<Cast>], previous: &[Option<Cast>]) -> bool {
    for (a, b) in key.iter().zip(previous) {
        match (a, b) {
            (Some(a), Some(b)) => match a.compare(b) {
                Some(Ordering::Greater) => return true,
                Some(Ordering::Equal) => continue,
                _ => return false,
            },
            (Some(_), None) => return true,
            (None, Some(_)) => return false,
            (None, None) => continue,
        }
    }
    false
}

fn key_text(parts: &[Option<Cast>]) -> String {
    parts
        .iter()
        .map(|part| {
            part.as_ref()
                .map(Cast::key)
                .unwrap_or_else(|| "\u{0}".to_string())
        })
        .collect::<Vec<_>>()
        .join("\u{1f}")
}

/// `SELECT rowid, c... FROM table WHERE rowid > offset ORDER BY rowid`; [`cell_text`] turns
/// each stored value back into its text.
fn select_rows(target: &Target, columns: &[String], rowid: &str) -> String {
    let cells: String = columns
        .iter()
        .map(|c| format!(", {}", quote_ident(c)))
        .collect();
    format!(
        "SELECT {rowid}{cells} FROM {} WHERE {rowid} > {} ORDER BY {rowid}",
        quote_ident(&target.table),
        target.rowid_offset
    )
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
        mut slots,
        ..
    } = checker;
    slots.retain(|slot| !slot.ascending);
    if slots.is_empty() {
        return Ok(());
    }
    let rowid = rowid_name(&columns);
    compare_keys_in_sql(session, target, &schema, &slots, &columns, rowid)
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
    slots: Vec<KeySlot>,
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
        let position_of = |field: usize| found.iter().find(|(f, _)| *f == field).map(|(_, p)| *p);
        let mut slots: Vec<KeySlot> = found
            .iter()
            .filter(|(field, _)| schema.fields[*field].constraints.unique)
            .map(|&(field, position)| KeySlot {
                id: field as i64,
                fields: vec![field],
                positions: vec![position],
                previous: None,
                ascending: true,
            })
            .collect();
        let key_fields: Vec<usize> = schema
            .primary_key
            .iter()
            .filter_map(|name| schema.fields.iter().position(|f| &f.name == name))
            .collect();
        let key_positions: Option<Vec<usize>> =
            key_fields.iter().map(|f| position_of(*f)).collect();
        if let (false, Some(key_positions)) = (key_fields.is_empty(), key_positions) {
            slots.push(KeySlot {
                id: PRIMARY_KEY_SLOT,
                fields: key_fields,
                positions: key_positions,
                previous: None,
                ascending: true,
            });
        }
        let positions: Vec<(usize, usize)> = found
            .into_iter()
            .filter(|(field, _)| schema.fields[*field].can_fail())
            .collect();
        let mut needed = vec![false; all_columns.len()];
        for &(_, position) in &positions {
            needed[position] = true;
        }
        for slot in &slots {
            for &position in &slot.positions {
                needed[position] = true;
            }
        }
        RowChecker {
            entry_id: target.entry_id.clone(),
            source: target.source.clone(),
            schema: schema.clone(),
            columns: all_columns,
            positions,
            needed,
            report_blank_rows: options.report_blank_rows,
            slots,
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
            slots,
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
        for slot in slots.iter_mut() {
            match slot.cells(schema, texts, |field, _| casts[field].clone()) {
                KeyCells::Key(key) => slot.observe(&key),
                KeyCells::Missing if slot.id == PRIMARY_KEY_SLOT => {
                    let names = schema.primary_key.join(", ");
                    emit(
                        Issue::new(
                            IssueKind::PrimaryKeyViolation,
                            format!(
                                "row {row_number} has no value in any primary key column ({names})"
                            ),
                        )
                        .entry(entry_id.as_str())
                        .row(row_number)
                        .column(schema.primary_key.join(","))
                        .remediation(format!(
                            "Provide a value for {}",
                            schema.primary_key.join(" and ")
                        ))
                        .with("rule", "primaryKey"),
                    )?;
                }
                KeyCells::Missing | KeyCells::Broken => {}
            }
        }
        Ok(())
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

/// Keys that were not in ascending order: a second pass writes them into a temporary table
/// (which spills to disk, so memory stays bounded) and SQL finds the repeats.
fn compare_keys_in_sql(
    session: &Session,
    target: &Target,
    schema: &TableSchema,
    slots: &[KeySlot],
    all_columns: &[String],
    rowid: &str,
) -> Result<()> {
    let conn = session.conn();
    conn.execute_batch(&format!(
        "DROP TABLE IF EXISTS {KEYS_TABLE}; CREATE TABLE {KEYS_TABLE} (slot INTEGER, key TEXT, row INTEGER, value TEXT)"
    ))?;
    let mut insert = conn.prepare(&format!(
        "INSERT INTO {KEYS_TABLE} (slot, key, row, value) VALUES (?1, ?2, ?3, ?4)"
    ))?;
    let mut statement = conn.prepare(&select_rows(target, all_columns, rowid))?;
    let mut rows = statement.query([])?;
    let mut buffers = vec![String::new(); all_columns.len()];
    while let Some(row) = rows.next()? {
        let row_number: i64 = row.get(0)?;
        let mut texts: Vec<&str> = Vec::with_capacity(buffers.len());
        for (i, buffer) in buffers.iter_mut().enumerate() {
            texts.push(cell_text(row.get_ref(i + 1)?, buffer));
        }
        for slot in slots {
            if let KeyCells::Key(key) = slot.cells(schema, &texts, |field, text| {
                schema.fields[field].cast(text)
            }) {
                let value: Vec<&str> = slot.positions.iter().map(|p| texts[*p]).collect();
                insert.execute(params![
                    slot.id,
                    key_text(&key),
                    row_number,
                    value.join(",")
                ])?;
            }
        }
    }
    drop(rows);
    drop(statement);
    drop(insert);
    let positions: Vec<(usize, usize)> = slots
        .iter()
        .filter(|slot| slot.id != PRIMARY_KEY_SLOT)
        .map(|slot| (slot.fields[0], slot.positions[0]))
        .collect();
    report_duplicates(session, target, schema, &positions, all_columns)?;
    conn.execute_batch(&format!("DROP TABLE IF EXISTS {KEYS_TABLE}"))?;
    Ok(())
}

/// Every occurrence of a key after its first is a duplicate.
fn report_duplicates(
    session: &Session,
    target: &Target,
    schema: &TableSchema,
    positions: &[(usize, usize)],
    all_columns: &[String],
) -> Result<()> {
    let conn = session.conn();
    let mut statement = conn.prepare(&format!(
        "SELECT slot, row, value, first_row FROM (
             SELECT slot, row, value, min(row) OVER win AS first_row, count(*) OVER win AS n
             FROM {KEYS_TABLE} WINDOW win AS (PARTITION BY slot, key))
         WHERE n > 1 AND row <> first_row ORDER BY row, slot"
    ))?;
    let mut rows = statement.query([])?;
    while let Some(row) = rows.next()? {
        let slot: i64 = row.get(0)?;
        let row_number: i64 = row.get(1)?;
        let value: String = row.get(2)?;
        let first: i64 = row.get(3)?;
        let issue = if slot == PRIMARY_KEY_SLOT {
            let names = schema.primary_key.join(", ");
            Issue::new(
                IssueKind::PrimaryKeyViolation,
                format!(
                    "primary key ({names}) = ({value}) in row {row_number} repeats row {first}"
                ),
            )
            .column(schema.primary_key.join(","))
            .remediation(format!(
                "Make ({names}) unique: change or remove row {row_number} or row {first}"
            ))
            .with("rule", "primaryKey")
        } else {
            let field = &schema.fields[slot as usize];
            let column = positions
                .iter()
                .find(|(f, _)| *f == slot as usize)
                .map(|(_, p)| all_columns[*p].clone())
                .unwrap_or_else(|| field.name.clone());
            Issue::new(
                IssueKind::UniqueValueViolation,
                format!(
                    "column {:?} value {value:?} in row {row_number} repeats row {first}",
                    field.name
                ),
            )
            .column(column)
            .severity(field.severity)
            .remediation(format!(
                "Make {} unique: change or remove row {row_number} or row {first}",
                field.name
            ))
            .with("rule", format!("fields.{}.constraints.unique", field.name))
        };
        session.issue(
            &issue
                .entry(&target.entry_id)
                .row(row_number)
                .invalid_value(value)
                .with("first_row", first),
        )?;
    }
    Ok(())
}

/// Where a foreign key points: a table and the columns of its reference fields.
struct Referenced {
    table: String,
    columns: Vec<String>,
}

/// Checks each foreign key of the entry's schema against the referenced table, in SQL.
pub fn check_foreign_keys(
    session: &Session,
    schemas: &SchemaSet,
    binding_index: usize,
    entry: &Checked,
    all: &[Checked],
) -> Result<()> {
    let conn = session.conn();
    let binding = &schemas.bindings[binding_index];
    let schema = &binding.schema;
    for key in &schema.foreign_keys {
        let local: Option<Vec<String>> = key
            .fields
            .iter()
            .map(|name| loaded_column(schema, entry, name))
            .collect();
        let Some(local) = local else { continue };
        let Some(referenced) = find_reference(
            conn,
            schemas,
            entry,
            all,
            &key.resource,
            &key.reference_fields,
        )?
        else {
            session.issue(
                &Issue::new(
                    IssueKind::ReferenceViolation,
                    format!("foreign key ({}) refers to {:?}, which is neither loaded in this run nor a table in the database with columns ({})",
                        key.fields.join(", "), key.resource, key.reference_fields.join(", ")),
                )
                .entry(&entry.entry_id)
                .column(local.join(","))
                .remediation(format!("Load the {:?} table in the same run or before this one", key.resource))
                .with("rule", "foreignKeys"),
            )?;
            continue;
        };
        report_missing_references(session, entry, &local, &referenced, &key.resource)?;
    }
    Ok(())
}

fn loaded_column(schema: &TableSchema, entry: &Checked, field_name: &str) -> Option<String> {
    let index = schema.fields.iter().position(|f| f.name == field_name)?;
    entry
        .columns
        .iter()
        .find(|(f, _)| *f == index)
        .map(|(_, name)| name.clone())
}

fn find_reference(
    conn: &Connection,
    schemas: &SchemaSet,
    entry: &Checked,
    all: &[Checked],
    resource: &str,
    fields: &[String],
) -> Result<Option<Referenced>> {
    if resource.is_empty() {
        let schema = &schemas.bindings[entry.binding.unwrap_or(0)].schema;
        let columns: Option<Vec<String>> = fields
            .iter()
            .map(|f| loaded_column(schema, entry, f))
            .collect();
        return Ok(columns.map(|columns| Referenced {
            table: entry.table.clone(),
            columns,
        }));
    }
    // A resource of the same run, by its name in the descriptor.
    for other in all {
        let Some(index) = other.binding else { continue };
        let binding = &schemas.bindings[index];
        if binding.resource.as_deref() != Some(resource) || !other.header_ok {
            continue;
        }
        let columns: Option<Vec<String>> = fields
            .iter()
            .map(|f| loaded_column(&binding.schema, other, f))
            .collect();
        if let Some(columns) = columns {
            return Ok(Some(Referenced {
                table: other.table.clone(),
                columns,
            }));
        }
    }
    // Else a table already in the database, by that name, with columns matching by name.
    if !crate::sql::object_exists(conn, resource)? {
        return Ok(None);
    }
    let existing = table_columns(conn, resource)?;
    let columns: Option<Vec<String>> = fields
        .iter()
        .map(|f| existing.iter().find(|c| c.eq_ignore_ascii_case(f)).cloned())
        .collect();
    Ok(columns.map(|columns| Referenced {
        table: resource.to_string(),
        columns,
    }))
}

/// The columns of a table, in order.
pub fn table_columns(conn: &Connection, table: &str) -> Result<Vec<String>> {
    let mut statement = conn.prepare("SELECT name FROM pragma_table_info(?1) ORDER BY cid")?;
    let names = statement
        .query_map([table], |row| row.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(names)
}

/// Rows whose key (not all empty) has no match among the referenced rows. Values compare as
/// text, so an INTEGER `7` matches a TEXT `7`.
fn report_missing_references(
    session: &Session,
    entry: &Checked,
    local: &[String],
    referenced: &Referenced,
    resource: &str,
) -> Result<()> {
    let conn = session.conn();
    let text = |prefix: &str, column: &str| {
        format!("CAST(NULLIF({prefix}{}, '') AS TEXT)", quote_ident(column))
    };
    let ref_keys: Vec<String> = referenced
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{} AS k{i}", text("", c)))
        .collect();
    conn.execute_batch(&format!(
        "DROP TABLE IF EXISTS temp.rssd_validate_ref;
         CREATE TABLE temp.rssd_validate_ref AS SELECT DISTINCT {} FROM {};
         CREATE INDEX temp.rssd_validate_ref_keys ON rssd_validate_ref ({});",
        ref_keys.join(", "),
        quote_ident(&referenced.table),
        (0..referenced.columns.len())
            .map(|i| format!("k{i}"))
            .collect::<Vec<_>>()
            .join(", ")
    ))?;
    let columns: Vec<String> = {
        let mut all = table_columns(conn, &entry.table)?;
        all.retain(|c| !local.contains(c));
        all
    };
    let rowid = rowid_name(&columns.iter().chain(local).cloned().collect::<Vec<_>>());
    let not_all_empty = local
        .iter()
        .map(|c| format!("{} IS NOT NULL", text("t.", c)))
        .collect::<Vec<_>>()
        .join(" OR ");
    let matches = local
        .iter()
        .enumerate()
        .map(|(i, c)| format!("r.k{i} IS {}", text("t.", c)))
        .collect::<Vec<_>>()
        .join(" AND ");
    let values = local
        .iter()
        .map(|c| format!("coalesce({}, '')", text("t.", c)))
        .collect::<Vec<_>>()
        .join(" || ',' || ");
    let sql = format!(
        "SELECT t.{rowid}, {values} FROM {} AS t
         WHERE ({not_all_empty}) AND NOT EXISTS (SELECT 1 FROM temp.rssd_validate_ref AS r WHERE {matches})
         ORDER BY t.{rowid}",
        quote_ident(&entry.table)
    );
    let mut statement = conn.prepare(&sql)?;
    let mut rows = statement.query([])?;
    let target_name = if resource.is_empty() {
        entry.table.as_str()
    } else {
        resource
    };
    while let Some(row) = rows.next()? {
        let row_number: i64 = row.get(0)?;
        let value: String = row.get(1)?;
        session.issue(
            &Issue::new(
                IssueKind::ReferenceViolation,
                format!(
                    "({}) = ({value}) in row {row_number} has no match in {target_name} ({})",
                    local.join(", "),
                    referenced.columns.join(", ")
                ),
            )
            .entry(&entry.entry_id)
            .row(row_number)
            .column(local.join(","))
            .invalid_value(value)
            .severity(Severity::Error)
            .remediation(format!(
                "Use a value that exists in {target_name}.{}, or add the missing row there",
                referenced.columns.join("/")
            ))
            .with("rule", "foreignKeys")
            .with("reference", referenced.table.clone()),
        )?;
    }
    drop(rows);
    drop(statement);
    conn.execute_batch("DROP TABLE IF EXISTS temp.rssd_validate_ref")?;
    Ok(())
}
