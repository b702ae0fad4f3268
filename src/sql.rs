//! SQL text helpers. Identifiers that come from outside the program (file names, headers,
//! sheet names) reach SQL only through [`quote_ident`], never formatted in raw.

use rusqlite::Connection;

use crate::Result;

/// Quotes an identifier for SQLite: wraps it in double quotes and doubles any inside, so any
/// text, `"; DROP TABLE x; --` included, names exactly one identifier.
pub fn quote_ident(name: &str) -> String {
    let mut quoted = String::with_capacity(name.len() + 2);
    quoted.push('"');
    for ch in name.chars() {
        if ch == '"' {
            quoted.push('"');
        }
        quoted.push(ch);
    }
    quoted.push('"');
    quoted
}

/// Runs `work` inside `BEGIN IMMEDIATE ... COMMIT`, rolling back if it fails.
///
/// IMMEDIATE takes the write lock up front, so a second process waits in the busy handler
/// instead of failing with "database is locked" when a read would later turn into a write.
pub fn write_transaction<T>(conn: &Connection, work: impl FnOnce() -> Result<T>) -> Result<T> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    match work() {
        Ok(value) => match conn.execute_batch("COMMIT") {
            Ok(()) => Ok(value),
            Err(err) => {
                // A COMMIT refused (disk full, busy) leaves the transaction open.
                let _ = conn.execute_batch("ROLLBACK");
                Err(err.into())
            }
        },
        Err(err) => {
            // The original error is the one worth reporting; a failed rollback only means
            // SQLite already rolled back on its own.
            let _ = conn.execute_batch("ROLLBACK");
            Err(err)
        }
    }
}

/// True when a table or view of that name exists in the main schema.
pub fn object_exists(conn: &Connection, name: &str) -> Result<bool> {
    let found: i64 = conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type IN ('table', 'view') AND name = ?1",
        [name],
        |row| row.get(0),
    )?;
    Ok(found > 0)
}

/// The names of `wanted` that name no table or view yet.
pub fn missing_objects(conn: &Connection, wanted: &[&str]) -> Result<Vec<String>> {
    let mut missing = Vec::new();
    for name in wanted {
        if !object_exists(conn, name)? {
            missing.push(name.to_string());
        }
    }
    Ok(missing)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_ident_doubles_embedded_quotes() {
        assert_eq!(quote_ident("plain"), "\"plain\"");
        assert_eq!(
            quote_ident("\"; DROP TABLE x; --"),
            "\"\"\"; DROP TABLE x; --\""
        );
    }

    #[test]
    fn quoted_hostile_name_creates_one_table() {
        let conn = Connection::open_in_memory().unwrap();
        let name = "a\"b; DROP TABLE t; --";
        conn.execute_batch(&format!("CREATE TABLE {} (x)", quote_ident(name)))
            .unwrap();
        assert!(object_exists(&conn, name).unwrap());
    }
}
