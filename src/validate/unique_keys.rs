//! Uniqueness: unique fields and the primary key. Keys are followed in row order as rows are
//! checked; only when they do not ascend are they compared in SQL, in a temporary table
//! that spills to disk.

use std::cmp::Ordering;

use rusqlite::params;

use super::field::Cast;
use super::schema::TableSchema;
use super::stored::{cell_text, rowid_name, select_rows};
use super::target::Target;
use crate::Result;
use crate::state::Session;
use crate::state::{Issue, IssueKind};

const KEYS_TABLE: &str = "temp.rssd_validate_keys";
/// The slot of the primary key in the keys table (fields use their index).
const PRIMARY_KEY_SLOT: i64 = -1;

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

/// The uniqueness keys of one entry's rows, as its [`RowChecker`](super::RowChecker) sees
/// them go by.
pub struct UniqueKeys {
    slots: Vec<KeySlot>,
}

impl UniqueKeys {
    /// A key per unique field found, and the primary key when each of its fields was found
    /// (`found`: field index and position of its cell among the columns).
    pub fn new(schema: &TableSchema, found: &[(usize, usize)]) -> UniqueKeys {
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
        UniqueKeys { slots }
    }

    /// Positions of the cells the keys read.
    pub fn positions(&self) -> impl Iterator<Item = usize> + '_ {
        self.slots
            .iter()
            .flat_map(|slot| slot.positions.iter().copied())
    }

    /// Follows one row's keys (`casts`: each field's kept value in the row); a row with no
    /// value in any primary key column is an issue, handed to `emit`.
    pub fn observe_row(
        &mut self,
        schema: &TableSchema,
        texts: &[&str],
        casts: &[Option<Cast>],
        row_number: i64,
        entry_id: &str,
        emit: &mut dyn FnMut(Issue) -> Result<()>,
    ) -> Result<()> {
        for slot in self.slots.iter_mut() {
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
                        .entry(entry_id)
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

    /// After every row was seen: the keys whose rows were not in ascending order are compared
    /// in SQL (`columns`: the table's columns, in order).
    pub fn finish(
        mut self,
        session: &Session,
        target: &Target,
        schema: &TableSchema,
        columns: &[String],
    ) -> Result<()> {
        self.slots.retain(|slot| !slot.ascending);
        if self.slots.is_empty() {
            return Ok(());
        }
        let rowid = rowid_name(columns);
        compare_keys_in_sql(session, target, schema, &self.slots, columns, rowid)
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
