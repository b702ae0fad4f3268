//! Foreign keys: each key of an entry's schema against the referenced table (of the same
//! run, or already in the database), compared in SQL.

use rusqlite::Connection;

use super::schema::{SchemaSet, TableSchema};
use super::stored::{rowid_name, table_columns};
use super::target::Checked;
use crate::Result;
use crate::sql::quote_ident;
use crate::state::Session;
use crate::state::{Issue, IssueKind, Severity};

/// Where a foreign key points: a table and the columns of its reference fields.
struct Referenced {
    table: String,
    columns: Vec<String>,
}

/// Checks each foreign key of the entry's schema against the referenced table, in SQL.
pub fn check(
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

/// A column's value as text, the empty text as NULL, so that keys compare as text.
fn as_text(prefix: &str, column: &str) -> String {
    format!("CAST(NULLIF({prefix}{}, '') AS TEXT)", quote_ident(column))
}

/// The referenced keys, distinct and indexed, into `temp.rssd_validate_ref` (`k0`, `k1`...).
fn copy_reference_keys(conn: &Connection, referenced: &Referenced) -> Result<()> {
    let ref_keys: Vec<String> = referenced
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{} AS k{i}", as_text("", c)))
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
    Ok(())
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
    copy_reference_keys(conn, referenced)?;
    let columns: Vec<String> = {
        let mut all = table_columns(conn, &entry.table)?;
        all.retain(|c| !local.contains(c));
        all
    };
    let rowid = rowid_name(&columns.iter().chain(local).cloned().collect::<Vec<_>>());
    let not_all_empty = local
        .iter()
        .map(|c| format!("{} IS NOT NULL", as_text("t.", c)))
        .collect::<Vec<_>>()
        .join(" OR ");
    let matches = local
        .iter()
        .enumerate()
        .map(|(i, c)| format!("r.k{i} IS {}", as_text("t.", c)))
        .collect::<Vec<_>>()
        .join(" AND ");
    let values = local
        .iter()
        .map(|c| format!("coalesce({}, '')", as_text("t.", c)))
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
