//! `--if-exists append`: how a file's columns meet an existing table's. By default they are
//! matched by name, in any order: a column new to the table is added (`ALTER TABLE ADD
//! COLUMN`, in the load's transaction, so earlier rows are NULL) with a `Schema Drift`
//! column-added warning; a table column the file lacks is NULL for the file's rows
//! (column-removed warning); a value that does not fit the table's type keeps its text, with
//! one `Data Type Mismatch` warning per column. `--strict-columns` refuses any difference.

use rusqlite::Connection;

use super::ColumnType;
use super::infer::ColumnStats;
use super::load::{LoadColumn, PROVENANCE_COLUMNS};
use crate::Result;
use crate::sql::quote_ident;
use crate::state::{Issue, IssueKind, Severity};

/// What an admitted append changes before its rows go in, and the warnings it raises.
#[derive(Debug, Default)]
pub(super) struct AppendPlan {
    /// Columns to add to the table (in the load's transaction).
    pub add: Vec<LoadColumn>,
    pub issues: Vec<Issue>,
}

impl AppendPlan {
    /// The (code, column) of its issues, so that drift does not say the same again.
    pub fn raised(&self) -> Vec<(String, String)> {
        self.issues
            .iter()
            .filter_map(|i| Some((i.code.clone(), i.column.clone()?)))
            .collect()
    }
}

/// Plans the append of `columns` (with pass 1's `stats`) to `table`: `Err(issues)` when it is
/// refused (only with `strict_columns`). The columns take the table's names and types.
pub(super) fn plan(
    conn: &Connection,
    table: &str,
    columns: &mut [LoadColumn],
    stats: &[ColumnStats],
    provenance: bool,
    strict_columns: bool,
) -> Result<std::result::Result<AppendPlan, Vec<Issue>>> {
    let mut stmt = conn.prepare(&format!("PRAGMA table_info({})", quote_ident(table)))?;
    let existing: Vec<(String, String)> = stmt
        .query_map([], |row| {
            Ok((
                row.get(1)?,
                row.get::<_, Option<String>>(2)?.unwrap_or_default(),
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    if strict_columns {
        return Ok(strict(table, columns, provenance, &existing).map(|()| AppendPlan::default()));
    }
    Ok(Ok(by_name(table, columns, stats, provenance, &existing)))
}

fn by_name(
    table: &str,
    columns: &mut [LoadColumn],
    stats: &[ColumnStats],
    provenance: bool,
    existing: &[(String, String)],
) -> AppendPlan {
    let mut plan = AppendPlan::default();
    let find = |name: &str| {
        existing
            .iter()
            .find(|(have, _)| have.eq_ignore_ascii_case(name))
    };
    for (position, column) in columns.iter_mut().enumerate() {
        let Some((have, declared)) = find(&column.name) else {
            plan.issues.push(added(table, column, position));
            plan.add.push(column.clone());
            continue;
        };
        let table_type = ColumnType::from_declared(declared);
        let values = stats.get(position).map_or(0, |s| s.values);
        if column.inferred && values > 0 && !fits(column.column_type, table_type) {
            plan.issues.push(mismatch(
                table,
                have,
                column.column_type,
                table_type,
                values,
            ));
        }
        column.name = have.clone();
        if table_type != column.column_type || !column.inferred {
            column.column_type = table_type;
            column.inferred = false;
        }
    }
    for (position, (have, declared)) in existing.iter().enumerate() {
        let provenance_column = PROVENANCE_COLUMNS
            .iter()
            .any(|p| p.eq_ignore_ascii_case(have));
        if !provenance_column && !columns.iter().any(|c| c.name.eq_ignore_ascii_case(have)) {
            plan.issues.push(removed(table, have, declared, position));
        }
    }
    if provenance {
        for (name, sql_type) in
            PROVENANCE_COLUMNS
                .iter()
                .zip([ColumnType::Integer, ColumnType::Text, ColumnType::Text])
        {
            if find(name).is_none() {
                plan.add.push(LoadColumn {
                    name: name.to_string(),
                    column_type: sql_type,
                    inferred: false,
                });
            }
        }
    }
    plan
}

/// Whether every value of a column of type `file` is stored as `table` without keeping text
/// in a numeric column (INTEGER into REAL is fine; anything into TEXT is fine).
fn fits(file: ColumnType, table: ColumnType) -> bool {
    file == table
        || table == ColumnType::Text
        || (file == ColumnType::Integer && table == ColumnType::Real)
}

fn added(table: &str, column: &LoadColumn, position: usize) -> Issue {
    let sql_type = column.column_type.sql();
    Issue::new(
        IssueKind::SchemaDrift,
        format!(
            "column {} ({sql_type}, position {}) of the file is new to table {table}: added, earlier rows NULL",
            column.name,
            position + 1
        ),
    )
    .code("schema-drift/column-added")
    .severity(Severity::Warning)
    .column(column.name.clone())
    .with("type", sql_type)
    .with("position", position as u64 + 1)
    .remediation("check with the sender that the new column is intended")
}

fn removed(table: &str, name: &str, declared: &str, position: usize) -> Issue {
    Issue::new(
        IssueKind::SchemaDrift,
        format!(
            "column {name} ({declared}, position {}) of table {table} is not in the file: NULL for its rows",
            position + 1
        ),
    )
    .code("schema-drift/column-removed")
    .severity(Severity::Warning)
    .column(name)
    .with("previous_type", declared)
    .with("previous_position", position as u64 + 1)
    .remediation("check with the sender whether the column was dropped on purpose")
}

fn mismatch(table: &str, name: &str, file: ColumnType, declared: ColumnType, values: u64) -> Issue {
    Issue::new(
        IssueKind::DataTypeMismatch,
        format!(
            "column {name} of the file is {} ({values} values) where table {table} declares {}: values that do not fit are kept as their text",
            file.sql(),
            declared.sql()
        ),
    )
    .severity(Severity::Warning)
    .column(name)
    .with("type", file.sql())
    .with("table_type", declared.sql())
    .remediation("find them with typeof(column) IN ('text', 'blob'); fix the file, or load it with --if-exists replace")
}

/// `--strict-columns`: the existing table must have the file's columns (and the provenance
/// columns when asked for), in order. Then its declared types are used.
fn strict(
    table: &str,
    columns: &mut [LoadColumn],
    provenance: bool,
    existing: &[(String, String)],
) -> std::result::Result<(), Vec<Issue>> {
    let mut wanted: Vec<String> = columns.iter().map(|c| c.name.clone()).collect();
    if provenance {
        wanted.extend(PROVENANCE_COLUMNS.iter().map(|c| c.to_string()));
    }
    let same = existing.len() == wanted.len()
        && existing
            .iter()
            .zip(&wanted)
            .all(|((have, _), want)| have.eq_ignore_ascii_case(want));
    if !same {
        let mut issues = Vec::new();
        for want in &wanted {
            if !existing
                .iter()
                .any(|(have, _)| have.eq_ignore_ascii_case(want))
            {
                issues.push(
                    Issue::new(
                        IssueKind::ExtraColumn,
                        format!("column {want} of the file is not in table {table}; not appended"),
                    )
                    .column(want.clone())
                    .remediation(
                        "append only files with the table's columns, leave out --strict-columns, or use --if-exists replace",
                    ),
                );
            }
        }
        for (have, _) in existing {
            if !wanted.iter().any(|want| have.eq_ignore_ascii_case(want)) {
                issues.push(
                    Issue::new(
                        IssueKind::MissingColumn,
                        format!("column {have} of table {table} is not in the file; not appended"),
                    )
                    .column(have.clone())
                    .remediation(
                        "append only files with the table's columns, leave out --strict-columns, or use --if-exists replace",
                    ),
                );
            }
        }
        if issues.is_empty() {
            issues.push(
                Issue::new(
                    IssueKind::ExtraColumn,
                    format!(
                        "the file's columns are in another order than table {table}'s; not appended"
                    ),
                )
                .remediation("append only files with the table's columns in the same order"),
            );
        }
        return Err(issues);
    }
    for (column, (_, declared)) in columns.iter_mut().zip(existing) {
        let existing_type = ColumnType::from_declared(declared);
        if existing_type != column.column_type || !column.inferred {
            column.column_type = existing_type;
            column.inferred = false;
        }
    }
    Ok(())
}
