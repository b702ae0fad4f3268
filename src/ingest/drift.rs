//! Drift against the previous delivery: each loaded entry is compared with the latest earlier
//! loaded entry of the same delivery (by table name, or by source path relative to the input
//! root: [`DriftKey`]). Columns added, removed, retyped or moved, a null rate that jumped, and a
//! row count that moved too much become `Schema Drift` / `Row Count Change` issues, and the
//! whole comparison is the entry elaboration's `drift` object.
//!
//! The comparison reads only what every loaded entry's elaboration already holds (`rows`,
//! `columns` with `name`, `type`, `nulls`; a column's position is its place in that list), so
//! it costs nothing on the load's hot path and works against entries loaded before it existed.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension};
use serde_json::{Value, json};

use super::LoadedColumn;
use crate::Result;
use crate::state::{Issue, IssueKind, Severity};

/// A column's null rate may move by this many percentage points before it is drift.
pub const NULL_RATE_POINTS: f64 = 30.0;

/// How a delivery finds its previous one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DriftKey {
    /// The same table name (compared without case): the default.
    Table,
    /// The same source path relative to the input root: under a folder given, the path below
    /// it; a file named or globbed, its file name; standard input, `-`.
    Source,
}

impl DriftKey {
    pub fn as_str(self) -> &'static str {
        match self {
            DriftKey::Table => "table",
            DriftKey::Source => "source",
        }
    }
}

/// The source of `--drift-key source`: the path relative to the input root, and for a
/// workbook's sheet, the sheet in brackets (`book.xlsx [Visits]`), so sheets are not mixed up.
pub(super) fn source_key(relative: &str, sheet: Option<&str>) -> String {
    match sheet {
        Some(sheet) => format!("{relative} [{sheet}]"),
        None => relative.to_string(),
    }
}

/// `--drift-key`, `--drift-rows`, `--drift-fail`.
#[derive(Debug, Clone, Copy)]
pub struct DriftOptions {
    pub key: DriftKey,
    /// A row count moving by more than this percentage is a `Row Count Change`.
    pub rows_percent: f64,
    /// Drift issues are errors (for CI gating) instead of warnings.
    pub fail: bool,
}

impl Default for DriftOptions {
    fn default() -> Self {
        DriftOptions {
            key: DriftKey::Table,
            rows_percent: 50.0,
            fail: false,
        }
    }
}

impl DriftOptions {
    fn severity(&self) -> Severity {
        if self.fail {
            Severity::Error
        } else {
            Severity::Warning
        }
    }
}

/// The latest loaded entry of each delivery key in the RSSD, read once per run and kept up to
/// date as the run loads (so two deliveries in one run compare with each other too).
pub(super) struct Deliveries {
    options: DriftOptions,
    latest: HashMap<String, String>,
}

impl Deliveries {
    /// One pass over the entries that reached `INGESTED`, in the order they were added.
    pub fn read(conn: &Connection, options: DriftOptions) -> Result<Deliveries> {
        let mut stmt = conn.prepare(
            "SELECT e.orchestration_session_entry_id, e.ingest_table_name,
                    CASE WHEN json_valid(e.elaboration) THEN json_extract(e.elaboration, '$.drift.source') END
             FROM orchestration_session_entry e
             WHERE e.ingest_table_name IS NOT NULL
               AND e.orchestration_session_entry_id IN
                   (SELECT session_entry_id FROM orchestration_session_state WHERE to_state = 'INGESTED')
             ORDER BY e.rowid",
        )?;
        let rows = stmt.query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, Option<String>>(2).unwrap_or(None),
            ))
        })?;
        let mut latest = HashMap::new();
        for row in rows {
            let (entry, table, source) = row?;
            let key = match options.key {
                DriftKey::Table => Some(table.to_ascii_lowercase()),
                DriftKey::Source => source,
            };
            if let Some(key) = key {
                latest.insert(key, entry);
            }
        }
        Ok(Deliveries { options, latest })
    }

    fn key(&self, table: &str, source: &str) -> String {
        match self.options.key {
            DriftKey::Table => table.to_ascii_lowercase(),
            DriftKey::Source => source.to_string(),
        }
    }

    /// What the load of `table` from `source` (relative to its input root) compares with.
    pub fn check(&self, conn: &Connection, table: &str, source: &str) -> Result<DriftCheck> {
        let previous = match self.latest.get(&self.key(table, source)) {
            Some(entry) => Previous::read(conn, entry)?,
            None => None,
        };
        Ok(DriftCheck {
            options: self.options,
            source: source.to_string(),
            previous,
        })
    }

    /// `entry` is now the latest delivery of its key.
    pub fn loaded(&mut self, table: &str, source: &str, entry: &str) {
        let key = self.key(table, source);
        self.latest.insert(key, entry.to_string());
    }
}

/// The previous delivery, as its elaboration recorded it.
#[derive(Debug, Clone)]
pub(super) struct Previous {
    entry_id: String,
    session_id: String,
    rows: u64,
    /// Name, declared type, nulls; in table order.
    columns: Vec<(String, String, u64)>,
}

impl Previous {
    /// None when the entry's elaboration has no columns (it was not a table load).
    fn read(conn: &Connection, entry: &str) -> Result<Option<Previous>> {
        let found: Option<(String, Option<String>)> = conn
            .query_row(
                "SELECT session_id, elaboration FROM orchestration_session_entry
                 WHERE orchestration_session_entry_id = ?1",
                [entry],
                |row| Ok((row.get(0)?, row.get(1).unwrap_or(None))),
            )
            .optional()?;
        let Some((session_id, Some(text))) = found else {
            return Ok(None);
        };
        let Ok(elaboration) = serde_json::from_str::<Value>(&text) else {
            return Ok(None);
        };
        let Some(columns) = elaboration.get("columns").and_then(Value::as_array) else {
            return Ok(None);
        };
        let columns = columns
            .iter()
            .filter_map(|c| {
                let name = c.get("name")?.as_str()?.to_string();
                let column_type = c.get("type").and_then(Value::as_str).unwrap_or("");
                let nulls = c.get("nulls").and_then(Value::as_u64).unwrap_or(0);
                Some((name, column_type.to_string(), nulls))
            })
            .collect();
        Ok(Some(Previous {
            entry_id: entry.to_string(),
            session_id,
            rows: elaboration.get("rows").and_then(Value::as_u64).unwrap_or(0),
            columns,
        }))
    }
}

/// One load's comparison, ready before its transaction and run inside it.
#[derive(Debug, Clone)]
pub(super) struct DriftCheck {
    options: DriftOptions,
    source: String,
    previous: Option<Previous>,
}

/// One difference between two deliveries.
struct Change {
    code: &'static str,
    column: Option<String>,
    facts: Value,
    message: String,
}

impl DriftCheck {
    /// The `drift` object and its issues for a load of `columns` and `rows`. Issues whose
    /// (code, column) is in `raised` (the append already said so) are not repeated.
    pub fn compare(
        &self,
        columns: &[LoadedColumn],
        rows: u64,
        raised: &[(String, String)],
    ) -> (Value, Vec<Issue>) {
        let Some(previous) = &self.previous else {
            let drift = json!({
                "key": self.options.key.as_str(),
                "source": self.source,
                "first_delivery": true,
                "previous": Value::Null,
                "changes": [],
            });
            return (drift, Vec::new());
        };
        let mut changes = column_changes(previous, columns, rows);
        changes.extend(row_change(previous.rows, rows, self.options.rows_percent));
        let severity = self.options.severity();
        let issues = changes
            .iter()
            .filter(|change| {
                let code = format!("schema-drift/{}", change.code);
                !raised.iter().any(|(c, col)| {
                    *c == code
                        && change
                            .column
                            .as_deref()
                            .is_some_and(|n| n.eq_ignore_ascii_case(col))
                })
            })
            .map(|change| change.issue(previous, severity))
            .collect();
        let drift = json!({
            "key": self.options.key.as_str(),
            "source": self.source,
            "first_delivery": false,
            "previous": {
                "entry_id": previous.entry_id,
                "session_id": previous.session_id,
                "rows": previous.rows,
            },
            "rows": rows,
            "changes": changes.iter().map(Change::json).collect::<Vec<_>>(),
        });
        (drift, issues)
    }
}

impl Change {
    fn json(&self) -> Value {
        let mut value = self.facts.clone();
        if let Value::Object(map) = &mut value {
            map.insert("code".into(), json!(self.code));
            if let Some(column) = &self.column {
                map.insert("column".into(), json!(column));
            }
        }
        value
    }

    fn issue(&self, previous: &Previous, severity: Severity) -> Issue {
        let (kind, code) = match self.code {
            "row-count-change" => (IssueKind::RowCountChange, self.code.to_string()),
            code => (IssueKind::SchemaDrift, format!("schema-drift/{code}")),
        };
        let mut issue = Issue::new(kind, self.message.clone())
            .code(code)
            .severity(severity)
            .with("previous_entry_id", previous.entry_id.as_str())
            .remediation(
                "check with the sender that the change is intended; fix the file or the queries that read it",
            );
        if let Some(column) = &self.column {
            issue = issue.column(column.clone());
        }
        if let Value::Object(facts) = &self.facts {
            for (key, value) in facts {
                issue = issue.with(key, value.clone());
            }
        }
        issue
    }
}

/// Columns added, removed, retyped, moved (among the columns both have), and null rates.
fn column_changes(previous: &Previous, columns: &[LoadedColumn], rows: u64) -> Vec<Change> {
    let find = |name: &str| {
        previous
            .columns
            .iter()
            .position(|(n, _, _)| n.eq_ignore_ascii_case(name))
    };
    let mut changes = Vec::new();
    for (position, column) in columns.iter().enumerate() {
        if find(&column.name).is_none() {
            changes.push(Change {
                code: "column-added",
                column: Some(column.name.clone()),
                facts: json!({"position": position + 1, "type": column.column_type.sql()}),
                message: format!(
                    "column {} ({}, position {}) is new since the previous delivery",
                    column.name,
                    column.column_type.sql(),
                    position + 1
                ),
            });
        }
    }
    for (position, (name, column_type, _)) in previous.columns.iter().enumerate() {
        if !columns.iter().any(|c| c.name.eq_ignore_ascii_case(name)) {
            changes.push(Change {
                code: "column-removed",
                column: Some(name.clone()),
                facts: json!({"previous_position": position + 1, "previous_type": column_type}),
                message: format!(
                    "column {name} ({column_type}, position {}) of the previous delivery is gone",
                    position + 1
                ),
            });
        }
    }
    // Order among the shared columns only: a column added or removed moves no other.
    let shared_before: Vec<usize> = columns.iter().filter_map(|c| find(&c.name)).collect();
    let mut ranked = shared_before.clone();
    ranked.sort_unstable();
    let mut rank = 0;
    for (position, column) in columns.iter().enumerate() {
        let Some(before) = find(&column.name) else {
            continue;
        };
        let (previous_type, previous_nulls) =
            (&previous.columns[before].1, previous.columns[before].2);
        if ranked[rank] != before {
            changes.push(Change {
                code: "column-order",
                column: Some(column.name.clone()),
                facts: json!({"previous_position": before + 1, "position": position + 1}),
                message: format!(
                    "column {} moved from position {} to {}",
                    column.name,
                    before + 1,
                    position + 1
                ),
            });
        }
        rank += 1;
        if !previous_type.eq_ignore_ascii_case(column.column_type.sql()) {
            changes.push(Change {
                code: "type-changed",
                column: Some(column.name.clone()),
                facts: json!({"previous_type": previous_type, "type": column.column_type.sql(),
                              "previous_position": before + 1, "position": position + 1}),
                message: format!(
                    "column {} was {previous_type}, now {}",
                    column.name,
                    column.column_type.sql()
                ),
            });
        }
        if let Some(change) = null_rate_change(column, rows, previous_nulls, previous.rows) {
            changes.push(change);
        }
    }
    changes
}

fn null_rate_change(
    column: &LoadedColumn,
    rows: u64,
    was_nulls: u64,
    was_rows: u64,
) -> Option<Change> {
    if rows == 0 || was_rows == 0 {
        return None;
    }
    let rate = |nulls: u64, rows: u64| (nulls as f64 * 1000.0 / rows as f64).round() / 10.0;
    let (before, now) = (rate(was_nulls, was_rows), rate(column.nulls, rows));
    if (now - before).abs() <= NULL_RATE_POINTS {
        return None;
    }
    Some(Change {
        code: "null-rate",
        column: Some(column.name.clone()),
        facts: json!({"previous_null_percent": before, "null_percent": now,
                      "previous_nulls": was_nulls, "nulls": column.nulls}),
        message: format!(
            "column {} is empty in {now}% of rows ({} of {rows}), was {before}% ({was_nulls} of {was_rows})",
            column.name, column.nulls
        ),
    })
}

fn row_change(before: u64, now: u64, threshold: f64) -> Option<Change> {
    let percent = if before == 0 {
        if now == 0 {
            return None;
        }
        f64::INFINITY
    } else {
        (now as f64 - before as f64) * 100.0 / before as f64
    };
    if percent.abs() <= threshold {
        return None;
    }
    let shown = if percent.is_finite() {
        json!((percent * 10.0).round() / 10.0)
    } else {
        Value::Null
    };
    Some(Change {
        code: "row-count-change",
        column: None,
        facts: json!({"previous_rows": before, "rows": now, "change_percent": shown}),
        message: format!(
            "{now} rows, the previous delivery had {before} ({}; the threshold is {threshold}%)",
            match shown.as_f64() {
                Some(p) => format!("{p:+}%"),
                None => "from none".to_string(),
            }
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::ColumnType;

    fn col(name: &str, column_type: ColumnType, nulls: u64) -> LoadedColumn {
        LoadedColumn {
            header: name.to_string(),
            name: name.to_string(),
            column_type,
            nulls,
        }
    }

    fn previous() -> Previous {
        Previous {
            entry_id: "e1".into(),
            session_id: "s1".into(),
            rows: 10,
            columns: vec![
                ("id".into(), "INTEGER".into(), 0),
                ("name".into(), "TEXT".into(), 0),
                ("age".into(), "INTEGER".into(), 1),
                ("city".into(), "TEXT".into(), 0),
            ],
        }
    }

    fn codes(changes: &[Change]) -> Vec<String> {
        changes
            .iter()
            .map(|c| format!("{}:{}", c.code, c.column.clone().unwrap_or_default()))
            .collect()
    }

    #[test]
    fn a_dropped_column_moves_no_other() {
        let now = [
            col("id", ColumnType::Integer, 0),
            col("name", ColumnType::Text, 0),
            col("age", ColumnType::Integer, 1),
        ];
        assert_eq!(
            codes(&column_changes(&previous(), &now, 10)),
            ["column-removed:city"]
        );
    }

    #[test]
    fn swaps_types_and_null_rates_are_found() {
        let now = [
            col("name", ColumnType::Text, 0),
            col("ID", ColumnType::Integer, 0),
            col("age", ColumnType::Text, 9),
            col("city", ColumnType::Text, 0),
            col("email", ColumnType::Text, 0),
        ];
        assert_eq!(
            codes(&column_changes(&previous(), &now, 10)),
            [
                "column-added:email",
                "column-order:name",
                "column-order:ID",
                "type-changed:age",
                "null-rate:age"
            ]
        );
    }

    #[test]
    fn row_counts_move_beyond_the_threshold_only() {
        assert!(row_change(10, 15, 50.0).is_none());
        assert!(row_change(10, 5, 50.0).is_none());
        assert_eq!(
            row_change(10, 4, 50.0).map(|c| c.facts["change_percent"].clone()),
            Some(json!(-60.0))
        );
        assert!(row_change(0, 3, 50.0).is_some());
        assert!(row_change(0, 0, 50.0).is_none());
    }
}
