//! SQL helpers. Identifiers that come from outside the program (file names, headers,
//! sheet names) reach SQL only through [`quote_ident`], never formatted in raw.

use std::ffi::{CStr, CString, c_int};
use std::ptr;

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, ffi};

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

/// Runs `work` in a write transaction, or in a savepoint when the caller (a loader) already
/// holds a transaction.
pub fn in_transaction<T>(conn: &Connection, work: impl FnOnce() -> Result<T>) -> Result<T> {
    if conn.is_autocommit() {
        return write_transaction(conn, work);
    }
    conn.execute_batch("SAVEPOINT rssd_work")?;
    match work() {
        Ok(value) => {
            conn.execute_batch("RELEASE rssd_work")?;
            Ok(value)
        }
        Err(err) => {
            let _ = conn.execute_batch("ROLLBACK TO rssd_work; RELEASE rssd_work");
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

/// A statement run again and again with `values` bound from `?1` on and a blob bound last
/// (`?{values.len() + 1}`, NULL when `None`) without SQLite's copy of it (`SQLITE_STATIC`: it
/// is read only while the statement runs, and unbound before [`Self::execute`] returns). For a
/// stored file, whose bytes SQLite would otherwise copy once more before copying them into
/// the row.
pub struct BorrowedBlobStatement<'c> {
    conn: &'c Connection,
    stmt: ptr::NonNull<ffi::sqlite3_stmt>,
}

impl<'c> BorrowedBlobStatement<'c> {
    pub fn prepare(conn: &'c Connection, sql: &str) -> Result<Self> {
        let sql = CString::new(sql).map_err(rusqlite::Error::from)?;
        // SAFETY: the handle of a connection that outlives this statement (`'c`).
        let db = unsafe { conn.handle() };
        let mut stmt = ptr::null_mut();
        // SAFETY: `sql` is NUL-terminated; a prepared `stmt` is finalized by `drop`.
        let rc =
            unsafe { ffi::sqlite3_prepare_v2(db, sql.as_ptr(), -1, &mut stmt, ptr::null_mut()) };
        match ptr::NonNull::new(stmt) {
            Some(stmt) if rc == ffi::SQLITE_OK => Ok(BorrowedBlobStatement { conn, stmt }),
            _ => Err(sqlite_failure(db, rc)),
        }
    }

    pub fn execute(&mut self, values: &[&dyn rusqlite::ToSql], blob: Option<&[u8]>) -> Result<()> {
        // SAFETY: as in `prepare`.
        let db = unsafe { self.conn.handle() };
        let stmt = self.stmt.as_ptr();
        let outcome = bind_and_step(db, stmt, values, blob);
        // SAFETY: a prepared statement, made ready for its next run with nothing bound, so
        // the borrowed blob is not referenced once this returns.
        unsafe {
            ffi::sqlite3_reset(stmt);
            ffi::sqlite3_clear_bindings(stmt);
        }
        outcome
    }
}

impl Drop for BorrowedBlobStatement<'_> {
    fn drop(&mut self) {
        // SAFETY: prepared by `prepare`, finalized once, while its connection lives.
        unsafe { ffi::sqlite3_finalize(self.stmt.as_ptr()) };
    }
}

/// Binds and steps a prepared statement of `db`.
fn bind_and_step(
    db: *mut ffi::sqlite3,
    stmt: *mut ffi::sqlite3_stmt,
    values: &[&dyn rusqlite::ToSql],
    blob: Option<&[u8]>,
) -> Result<()> {
    let check = |rc: c_int| match rc {
        ffi::SQLITE_OK => Ok(()),
        rc => Err(sqlite_failure(db, rc)),
    };
    for (index, value) in values.iter().enumerate() {
        let output = value.to_sql()?;
        let value = match &output {
            ToSqlOutput::Borrowed(value) => *value,
            ToSqlOutput::Owned(value) => ValueRef::from(value),
            _ => {
                let name = format!("?{}", index + 1);
                return Err(rusqlite::Error::InvalidParameterName(name).into());
            }
        };
        check(bind_copied(stmt, (index + 1) as c_int, value))?;
    }
    let at = (values.len() + 1) as c_int;
    check(match blob {
        // `blob` outlives this run of the statement: the caller unbinds it.
        Some(bytes) => bind_blob(stmt, at, bytes, ffi::SQLITE_STATIC()),
        // SAFETY: `stmt` is prepared.
        None => unsafe { ffi::sqlite3_bind_null(stmt, at) },
    })?;
    // SAFETY: a prepared statement with its values bound.
    match unsafe { ffi::sqlite3_step(stmt) } {
        ffi::SQLITE_DONE => Ok(()),
        rc => Err(sqlite_failure(db, rc)),
    }
}

/// Binds one value, text and blobs copied by SQLite (`SQLITE_TRANSIENT`).
fn bind_copied(stmt: *mut ffi::sqlite3_stmt, at: c_int, value: ValueRef) -> c_int {
    // SAFETY: `stmt` is prepared; SQLite copies what it is given before this returns.
    unsafe {
        match value {
            ValueRef::Null => ffi::sqlite3_bind_null(stmt, at),
            ValueRef::Integer(i) => ffi::sqlite3_bind_int64(stmt, at, i),
            ValueRef::Real(r) => ffi::sqlite3_bind_double(stmt, at, r),
            ValueRef::Text(text) => ffi::sqlite3_bind_text64(
                stmt,
                at,
                text.as_ptr().cast(),
                text.len() as u64,
                ffi::SQLITE_TRANSIENT(),
                ffi::SQLITE_UTF8 as u8,
            ),
            ValueRef::Blob(bytes) => bind_blob(stmt, at, bytes, ffi::SQLITE_TRANSIENT()),
        }
    }
}

/// Binds `bytes`: copied by SQLite with `SQLITE_TRANSIENT`, read in place with `SQLITE_STATIC`
/// (then they must stay until the statement is unbound).
fn bind_blob(
    stmt: *mut ffi::sqlite3_stmt,
    at: c_int,
    bytes: &[u8],
    destructor: ffi::sqlite3_destructor_type,
) -> c_int {
    let (pointer, length) = (bytes.as_ptr().cast(), bytes.len() as u64);
    // SAFETY: `stmt` is prepared; `pointer` and `length` describe `bytes`.
    unsafe { ffi::sqlite3_bind_blob64(stmt, at, pointer, length, destructor) }
}

fn sqlite_failure(db: *mut ffi::sqlite3, rc: c_int) -> crate::Error {
    // SAFETY: SQLite's message for the connection's last failure, copied at once.
    let message = unsafe { CStr::from_ptr(ffi::sqlite3_errmsg(db)) }
        .to_string_lossy()
        .into_owned();
    rusqlite::Error::SqliteFailure(ffi::Error::new(rc), Some(message)).into()
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

    #[test]
    fn a_borrowed_blob_lands_byte_for_byte_beside_values_of_every_kind() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (i INTEGER, r REAL, s TEXT, n, b BLOB)")
            .unwrap();
        let bytes: Vec<u8> = (0..=255u8).cycle().take(100_000).collect();
        let sql = "INSERT INTO t VALUES (?1, ?2, ?3, ?4, ?5)";
        let values: [&dyn rusqlite::ToSql; 4] = [&7i64, &1.5f64, &"é\0x", &None::<i64>];
        let mut insert = BorrowedBlobStatement::prepare(&conn, sql).unwrap();
        insert.execute(&values, Some(&bytes)).unwrap();
        insert.execute(&values, None).unwrap();
        let row = |rowid: i64| {
            conn.query_row(
                "SELECT i, r, s, n, b FROM t WHERE rowid = ?1",
                [rowid],
                |r| {
                    let values = (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
                    Ok((values, r.get::<_, Option<Vec<u8>>>(4)?))
                },
            )
            .unwrap()
        };
        let expected: (i64, f64, String, Option<i64>) = (7, 1.5, "é\0x".into(), None);
        assert_eq!(row(1), (expected.clone(), Some(bytes)));
        assert_eq!(row(2), (expected, None));
    }

    #[test]
    fn a_borrowed_blob_statement_that_fails_says_why_and_leaves_nothing() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (a TEXT NOT NULL, b BLOB)")
            .unwrap();
        let failure = |sql: &str, values: &[&dyn rusqlite::ToSql]| {
            BorrowedBlobStatement::prepare(&conn, sql)
                .and_then(|mut insert| insert.execute(values, Some(b"bytes")))
                .unwrap_err()
                .to_string()
        };
        let null: Option<&str> = None;
        assert!(failure("INSERT INTO t VALUES (?1, ?2)", &[&null]).contains("NOT NULL"));
        assert!(
            failure("INSERT INTO t (a) VALUES (?1)", &[&"a"]).contains("column index out of range")
        );
        assert!(failure("INSERT INTO nowhere VALUES (?1, ?2)", &[&"a"]).contains("no such table"));
        assert!(failure("INSERT INTO t VALUES (?1, ?2)\0", &[&"a"]).contains("nul byte"));
        let rows: i64 = conn
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 0);
    }
}
