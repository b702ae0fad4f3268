//! `rssd validate`: schemas and rules over tables already in the database, as a new session
//! whose entries name the same tables.

use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;
use serde_json::{Value, json};

use super::plan::Plan;
use super::stored::table_columns;
use super::target::{Target, TargetColumn};
use super::validator::Validator;
use crate::state::query::IssueCounts;
use crate::state::{StateDb, is_rssd_table};
use crate::{Error, Result};

/// The orchestration nature of a validation session.
pub const VALIDATE_NATURE: &str = "V&V";
const VALIDATE_NATURE_LABEL: &str = "Validation & Verification";

/// One validated table in the summary.
#[derive(Debug, Clone, Serialize)]
pub struct ValidatedTable {
    pub entry_id: String,
    pub source: String,
    pub table: String,
    pub state: String,
    pub errors: i64,
    pub warnings: i64,
}

/// What a validation session did.
#[derive(Debug, Clone, Serialize)]
pub struct ValidateOutcome {
    pub session_id: String,
    pub tables: Vec<ValidatedTable>,
    /// Issues of the session not tied to a table (a failed session-wide rule).
    pub session_errors: i64,
    pub session_warnings: i64,
}

impl ValidateOutcome {
    pub fn errors(&self) -> i64 {
        self.session_errors + self.tables.iter().map(|t| t.errors).sum::<i64>()
    }

    pub fn warnings(&self) -> i64 {
        self.session_warnings + self.tables.iter().map(|t| t.warnings).sum::<i64>()
    }
}

/// The user tables a plan covers: `names` when given (each must exist), else every table a
/// schema selects, or every user table when only rules (or a bare schema) are given.
pub fn select_tables(conn: &Connection, plan: &Plan, names: &[String]) -> Result<Vec<String>> {
    let existing = user_tables(conn)?;
    if !names.is_empty() {
        for name in names {
            if !existing.contains(name) {
                return Err(Error::Invalid(format!("no table {name:?} in the database")));
            }
        }
        return Ok(names.to_vec());
    }
    let mut selected = Vec::new();
    for table in existing {
        let (source, sheet, _) = origin(conn, &table)?;
        let by_schema = plan
            .schemas
            .binding_for(&source, &table, sheet.as_deref())
            .is_some();
        if by_schema || (plan.schemas.is_empty() && !plan.rules.is_empty()) {
            selected.push(table);
        }
    }
    Ok(selected)
}

/// Tables that are not the RSSD's own or SQLite's.
fn user_tables(conn: &Connection) -> Result<Vec<String>> {
    let mut statement = conn.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name")?;
    let names = statement
        .query_map([], |row| row.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    Ok(names
        .into_iter()
        .filter(|name| !is_rssd_table(name))
        .collect())
}

/// Where a table came from, according to the latest entry that names it: the source, the
/// sheet, and the header as in the file (from the loader's elaboration), else the table name.
fn origin(conn: &Connection, table: &str) -> Result<(String, Option<String>, Option<Value>)> {
    let found: Option<(String, Option<String>)> = conn
        .query_row(
            "SELECT ingest_src, elaboration FROM orchestration_session_entry
             WHERE ingest_table_name = ?1 ORDER BY rowid DESC LIMIT 1",
            [table],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    let Some((source, elaboration)) = found else {
        return Ok((table.to_string(), None, None));
    };
    let elaboration: Option<Value> = elaboration.and_then(|text| serde_json::from_str(&text).ok());
    let sheet = elaboration
        .as_ref()
        .and_then(|e| e.get("sheet"))
        .and_then(Value::as_str)
        .map(str::to_string);
    Ok((source, sheet, elaboration))
}

/// Headers as in the file for each loaded column, when an earlier entry recorded them.
fn recorded_columns(elaboration: Option<&Value>, loaded: &[String]) -> Vec<TargetColumn> {
    let recorded: Vec<(String, String)> = elaboration
        .and_then(|e| e.get("columns"))
        .and_then(Value::as_array)
        .map(|columns| {
            columns
                .iter()
                .filter_map(|column| {
                    let name = column.get("name").and_then(Value::as_str)?;
                    let header = ["header", "source_name", "original", "name_in_file"]
                        .iter()
                        .find_map(|key| column.get(key).and_then(Value::as_str))
                        .unwrap_or(name);
                    Some((header.to_string(), name.to_string()))
                })
                .collect()
        })
        .unwrap_or_default();
    loaded
        .iter()
        .map(|name| TargetColumn {
            header: recorded
                .iter()
                .find(|(_, loaded)| loaded == name)
                .map(|(header, _)| header.clone())
                .unwrap_or_else(|| name.clone()),
            name: name.clone(),
        })
        .collect()
}

/// Validates `tables` (see [`select_tables`]) in a new session and returns its summary.
pub fn validate_tables(
    db: &StateDb,
    plan: Plan,
    tables: &[String],
    args: &Value,
) -> Result<ValidateOutcome> {
    let conn = db.conn();
    let mut session = db.begin_session_with_label(VALIDATE_NATURE, VALIDATE_NATURE_LABEL, args)?;
    let validator = Validator::new(plan);
    let mut targets = Vec::with_capacity(tables.len());
    let result = (|| -> Result<IssueCounts> {
        for table in tables {
            let (source, sheet, elaboration) = origin(conn, table)?;
            let loaded = table_columns(conn, table)?;
            let columns = recorded_columns(elaboration.as_ref(), &loaded);
            let entry_elaboration = json!({
                "format": "table",
                "validated_table": table,
                "sheet": sheet,
                "columns": columns,
            });
            let entry_id = session.add_entry(&source, Some(table), &entry_elaboration)?;
            let target = Target {
                entry_id,
                source,
                table: table.clone(),
                sheet,
                columns,
                rowid_offset: 0,
            };
            validator.after_load(&mut session, &target, None)?;
            targets.push(target);
        }
        validator.after_all(&mut session, &targets)
    })();
    let counts = match result {
        Ok(counts) => counts,
        Err(err) => {
            session.finish_failed(&format!("validation stopped: {err}"))?;
            return Err(err);
        }
    };
    let count_of = |entry: Option<&str>| {
        counts
            .get(&entry.map(str::to_string))
            .copied()
            .unwrap_or_default()
    };
    let session_id = session.id().to_string();
    let mut summary = Vec::with_capacity(targets.len());
    for target in &targets {
        let (errors, warnings) = count_of(Some(&target.entry_id));
        summary.push(ValidatedTable {
            entry_id: target.entry_id.clone(),
            source: target.source.clone(),
            table: target.table.clone(),
            state: session
                .entry_state(&target.entry_id)
                .unwrap_or("INITIAL")
                .to_string(),
            errors,
            warnings,
        });
    }
    let (session_errors, session_warnings) = count_of(None);
    let outcome = ValidateOutcome {
        session_id,
        tables: summary,
        session_errors,
        session_warnings,
    };
    session.finish_completed(&format!(
        "validated {} tables: {} errors, {} warnings",
        outcome.tables.len(),
        outcome.errors(),
        outcome.warnings()
    ))?;
    Ok(outcome)
}
