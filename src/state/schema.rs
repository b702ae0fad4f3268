//! The RSSD schema, kept as SQL text (`schema.sql`, the reference DDL with `IF NOT EXISTS`).

use std::path::Path;

use rusqlite::Connection;

use crate::sql::{missing_objects, quote_ident, write_transaction};
use crate::{Error, Result};

pub const SCHEMA_SQL: &str = include_str!("schema.sql");

/// The nine orchestration tables, in the order the schema creates them.
pub const TABLES: [&str; 9] = [
    "device",
    "orchestration_nature",
    "orchestration_session",
    "orchestration_session_entry",
    "orchestration_session_state",
    "orchestration_session_exec",
    "orchestration_session_issue",
    "orchestration_session_issue_relation",
    "orchestration_session_log",
];

fn columns(conn: &Connection, table: &str) -> Result<Vec<String>> {
    let mut stmt = conn.prepare(&format!("PRAGMA table_info({})", quote_ident(table)))?;
    let names = stmt
        .query_map([], |row| row.get::<_, String>(1))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(names)
}

/// Fails, before anything is written, if an orchestration table that already exists lacks a
/// column of the reference schema.
pub fn check_existing_columns(conn: &Connection, path: &Path) -> Result<()> {
    let reference = Connection::open_in_memory()?;
    reference.execute_batch(SCHEMA_SQL)?;
    for table in TABLES {
        let existing = columns(conn, table)?;
        if existing.is_empty() {
            continue;
        }
        for column in columns(&reference, table)? {
            if !existing
                .iter()
                .any(|have| have.eq_ignore_ascii_case(&column))
            {
                return Err(Error::MissingColumn {
                    path: path.to_path_buf(),
                    table: table.to_string(),
                    column,
                });
            }
        }
    }
    Ok(())
}

/// Creates whatever is missing, the orchestration tables then surveilr's; returns the tables
/// it created of each. Existing tables are left exactly as they are.
pub fn create(conn: &Connection) -> Result<(Vec<String>, Vec<String>)> {
    let missing = missing_objects(conn, &TABLES)?;
    let surveilr = write_transaction(conn, || {
        conn.execute_batch(SCHEMA_SQL)?;
        super::surveilr::create(conn)
    })?;
    Ok((missing, surveilr))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_creates_nine_tables_and_three_natures_idempotently() {
        let conn = Connection::open_in_memory().unwrap();
        let (orchestration, surveilr) = create(&conn).unwrap();
        assert_eq!(orchestration.len(), 9);
        assert_eq!(
            surveilr.len(),
            super::super::surveilr::SURVEILR_TABLES.len()
        );
        let (orchestration, surveilr) = create(&conn).unwrap();
        assert!(orchestration.is_empty() && surveilr.is_empty());
        let natures: i64 = conn
            .query_row("SELECT count(*) FROM orchestration_nature", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(natures, 3);
    }

    #[test]
    fn missing_column_is_named() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE orchestration_session_entry (orchestration_session_entry_id, session_id, ingest_src)")
            .unwrap();
        let err = check_existing_columns(&conn, Path::new("x.db")).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("orchestration_session_entry"), "{text}");
        assert!(text.contains("ingest_table_name"), "{text}");
    }
}
