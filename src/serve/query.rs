//! The SQL box: one read-only statement, capped in rows here and in time by the pool's
//! progress handler. Writing is refused three times over: the connection is read-only,
//! `query_only` is on, and an authorizer allows nothing but reading (no ATTACH, no PRAGMA).

use rusqlite::Connection;
use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
use serde::Serialize;

use super::failure::Failure;
use super::tables::json_value;

/// The result of a query: column names and rows of JSON values.
#[derive(Debug, Clone, Serialize)]
pub struct QueryResult {
    pub sql: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<serde_json::Value>>,
    /// More rows followed the last one kept (`--max-rows`).
    pub truncated: bool,
}

fn only_reading(context: AuthContext<'_>) -> Authorization {
    match context.action {
        AuthAction::Select | AuthAction::Read { .. } | AuthAction::Function { .. } => {
            Authorization::Allow
        }
        AuthAction::Recursive => Authorization::Allow,
        _ => Authorization::Deny,
    }
}

/// Runs `sql` (one statement) and keeps its first `max_rows` rows.
pub fn run(conn: &mut Connection, sql: &str, max_rows: usize) -> Result<QueryResult, Failure> {
    let sql = sql.trim();
    if sql.is_empty() {
        return Err(Failure::bad("sql is empty"));
    }
    conn.authorizer(Some(only_reading))?;
    let outcome = run_authorized(conn, sql, max_rows);
    conn.authorizer(None::<fn(AuthContext<'_>) -> Authorization>)?;
    outcome
}

fn run_authorized(conn: &Connection, sql: &str, max_rows: usize) -> Result<QueryResult, Failure> {
    let mut stmt = conn.prepare(sql).map_err(refusal)?;
    if !stmt.readonly() {
        return Err(Failure::bad(
            "refused: this server only reads (the statement writes)",
        ));
    }
    let columns: Vec<String> = stmt.column_names().map(String::from).collect();
    let width = columns.len();
    let mut rows_out = Vec::new();
    let mut truncated = false;
    let mut rows = stmt.query([]).map_err(refusal)?;
    while let Some(row) = rows.next().map_err(refusal)? {
        if rows_out.len() >= max_rows {
            truncated = true;
            break;
        }
        let mut cells = Vec::with_capacity(width);
        for index in 0..width {
            cells.push(json_value(row.get(index)?));
        }
        rows_out.push(cells);
    }
    Ok(QueryResult {
        sql: sql.to_string(),
        columns,
        rows: rows_out,
        truncated,
    })
}

/// SQL the user wrote that SQLite refuses is bad input, not a fault of the server.
fn refusal(err: rusqlite::Error) -> Failure {
    let failure = Failure::from(err);
    if failure.status.is_server_error() && failure.status.as_u16() == 500 {
        Failure::bad(failure.reason.replace("database error: ", ""))
    } else {
        failure
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_capped_and_writes_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t(a); INSERT INTO t VALUES (1),(2),(3);")
            .unwrap();
        let result = run(&mut conn, "SELECT a, 'x' AS b FROM t", 2).unwrap();
        assert_eq!(result.columns, vec!["a", "b"]);
        assert_eq!(result.rows.len(), 2);
        assert!(result.truncated);
        for sql in [
            "DELETE FROM t",
            "ATTACH ':memory:' AS other",
            "PRAGMA writable_schema = 1",
            "CREATE TEMP TABLE x(a)",
            "",
            "SELEC 1",
        ] {
            let err = run(&mut conn, sql, 10).unwrap_err();
            assert_eq!(err.status.as_u16(), 400, "{sql}: {}", err.reason);
        }
        let count: i64 = conn
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(count, 3);
    }
}
