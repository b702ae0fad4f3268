//! Content checks: each row read back from the loaded table, one pass, constant memory;
//! uniqueness, primary and foreign keys compared in SQL (temporary tables spill to disk).

use rusqlite::{Connection, params};

use super::Sink;
use super::field::Problem;
use super::schema::{SchemaSet, TableSchema};
use super::{Checked, Target, ValidateOptions, cell_text};
use crate::Result;
use crate::sql::quote_ident;
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

/// Checks every row of the entry's table against the fields found in its header.
pub fn check(
    sink: &Sink,
    target: &Target,
    schema: &TableSchema,
    columns: &[(usize, String)],
    options: &ValidateOptions,
) -> Result<()> {
    let conn = sink.conn();
    raise_page_cache(conn)?;
    let all_columns: Vec<String> = target.columns.iter().map(|c| c.name.clone()).collect();
    let rowid = rowid_name(&all_columns);
    // Positions, within the selected columns, of the cells each field checks.
    let positions: Vec<(usize, usize)> = columns
        .iter()
        .filter_map(|(field, name)| {
            all_columns
                .iter()
                .position(|c| c == name)
                .map(|p| (*field, p))
        })
        .collect();
    let unique_fields: Vec<usize> = positions
        .iter()
        .filter(|(field, _)| schema.fields[*field].constraints.unique)
        .map(|(field, _)| *field)
        .collect();
    let key_positions: Vec<Option<usize>> = schema
        .primary_key
        .iter()
        .map(|name| {
            let field = schema.fields.iter().position(|f| &f.name == name)?;
            positions.iter().find(|(f, _)| *f == field).map(|(_, p)| *p)
        })
        .collect();
    let check_keys = !unique_fields.is_empty()
        || (!key_positions.is_empty() && key_positions.iter().all(Option::is_some));
    if check_keys {
        conn.execute_batch(&format!(
            "DROP TABLE IF EXISTS {KEYS_TABLE}; CREATE TABLE {KEYS_TABLE} (slot INTEGER, key TEXT, row INTEGER, value TEXT)"
        ))?;
    }
    let selected = if all_columns.is_empty() {
        String::new()
    } else {
        format!(
            ", {}",
            all_columns
                .iter()
                // SQLite's own text of a stored number is the text it was loaded from.
                .map(|c| format!("CAST({} AS TEXT)", quote_ident(c)))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let sql = format!(
        "SELECT {rowid}{selected} FROM {} WHERE {rowid} > {} ORDER BY {rowid}",
        quote_ident(&target.table),
        target.rowid_offset
    );
    let mut statement = conn.prepare(&sql)?;
    let mut insert_key = if check_keys {
        Some(conn.prepare(&format!(
            "INSERT INTO {KEYS_TABLE} (slot, key, row, value) VALUES (?1, ?2, ?3, ?4)"
        ))?)
    } else {
        None
    };
    let mut rows = statement.query([])?;
    let width = all_columns.len();
    let mut buffers = vec![String::new(); width];
    let mut casts: Vec<Option<super::Cast>> = vec![None; schema.fields.len()];
    let mut problems: Vec<Problem> = Vec::new();
    while let Some(row) = rows.next()? {
        let row_number: i64 = row.get(0)?;
        let mut texts: Vec<&str> = Vec::with_capacity(width);
        for (i, buffer) in buffers.iter_mut().enumerate() {
            texts.push(cell_text(row.get_ref(i + 1)?, buffer));
        }
        if texts.iter().all(|text| text.is_empty()) {
            if options.report_blank_rows {
                sink.issue(
                    &Issue::new(
                        IssueKind::BlankRow,
                        format!("row {row_number} of {} is blank", target.source),
                    )
                    .entry(&target.entry_id)
                    .row(row_number)
                    .remediation("Delete the empty row, or fill in its values"),
                )?;
            }
            continue;
        }
        for &(field_index, position) in &positions {
            let field = &schema.fields[field_index];
            let text = texts[position];
            casts[field_index] = field.check(text, &mut problems);
            for problem in problems.drain(..) {
                sink.issue(
                    &Issue::new(problem.kind, problem.message)
                        .code(problem.code)
                        .severity(field.severity)
                        .entry(&target.entry_id)
                        .row(row_number)
                        .column(all_columns[position].clone())
                        .invalid_value(text)
                        .remediation(problem.remediation)
                        .with("rule", problem.rule),
                )?;
            }
        }
        let Some(insert) = insert_key.as_mut() else {
            continue;
        };
        for &field in &unique_fields {
            if let Some(value) = &casts[field] {
                let position = positions
                    .iter()
                    .find(|(f, _)| *f == field)
                    .map(|(_, p)| *p)
                    .unwrap_or(0);
                insert.execute(params![
                    field as i64,
                    value.key(),
                    row_number,
                    texts[position]
                ])?;
            }
        }
        if key_positions.is_empty() || key_positions.iter().any(Option::is_none) {
            continue;
        }
        let key_fields: Vec<usize> = schema
            .primary_key
            .iter()
            .filter_map(|name| schema.fields.iter().position(|f| &f.name == name))
            .collect();
        let all_missing = key_fields
            .iter()
            .zip(&key_positions)
            .all(|(field, position)| {
                position.is_some_and(|p| schema.fields[*field].is_missing(texts[p]))
            });
        let value: Vec<&str> = key_positions.iter().flatten().map(|p| texts[*p]).collect();
        if all_missing {
            sink.issue(
                &Issue::new(
                    IssueKind::PrimaryKeyViolation,
                    format!(
                        "row {row_number} has no value in any primary key column ({})",
                        schema.primary_key.join(", ")
                    ),
                )
                .entry(&target.entry_id)
                .row(row_number)
                .column(schema.primary_key.join(","))
                .invalid_value(value.join(","))
                .remediation(format!(
                    "Provide a value for {}",
                    schema.primary_key.join(" and ")
                ))
                .with("rule", "primaryKey"),
            )?;
            continue;
        }
        // A key cell that failed its type is already reported; it takes no part in the key.
        let broken = key_fields
            .iter()
            .zip(&key_positions)
            .any(|(field, position)| {
                casts[*field].is_none()
                    && position.is_some_and(|p| !schema.fields[*field].is_missing(texts[p]))
            });
        if !broken {
            let key: Vec<String> = key_fields
                .iter()
                .map(|field| {
                    casts[*field]
                        .as_ref()
                        .map(|c| c.key())
                        .unwrap_or_else(|| "\u{0}".to_string())
                })
                .collect();
            insert.execute(params![
                PRIMARY_KEY_SLOT,
                key.join("\u{1f}"),
                row_number,
                value.join(",")
            ])?;
        }
    }
    drop(rows);
    drop(insert_key);
    if check_keys {
        report_duplicates(sink, target, schema, &positions, &all_columns)?;
        conn.execute_batch(&format!("DROP TABLE IF EXISTS {KEYS_TABLE}"))?;
    }
    Ok(())
}

/// Every occurrence of a key after its first is a duplicate.
fn report_duplicates(
    sink: &Sink,
    target: &Target,
    schema: &TableSchema,
    positions: &[(usize, usize)],
    all_columns: &[String],
) -> Result<()> {
    let conn = sink.conn();
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
        sink.issue(
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
    sink: &Sink,
    schemas: &SchemaSet,
    binding_index: usize,
    entry: &Checked,
    all: &[Checked],
) -> Result<()> {
    let conn = sink.conn();
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
            sink.issue(
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
        report_missing_references(sink, entry, &local, &referenced, &key.resource)?;
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
    sink: &Sink,
    entry: &Checked,
    local: &[String],
    referenced: &Referenced,
    resource: &str,
) -> Result<()> {
    let conn = sink.conn();
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
        sink.issue(
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
