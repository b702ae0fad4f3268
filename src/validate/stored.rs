//! Loaded tables as the checks read them back: a stored cell as its text, a table's columns,
//! the row id's name, the rows of one entry; and the transaction the checks write issues in.

use rusqlite::Connection;
use rusqlite::types::ValueRef;

use super::target::Target;
use crate::Result;
use crate::sql::quote_ident;

/// A stored cell as the text it was loaded from: NULL is the empty cell; text and blobs (the
/// loader keeps text that does not fit a declared type as a blob) as they are; an INTEGER as
/// its digits; a REAL as SQLite renders it (`%!.15g`), which for the values the loader stores
/// as REAL (at most 15 significant digits, no exponent) is Rust's shortest form with `.0` on
/// whole numbers.
pub fn cell_text<'a>(value: ValueRef<'a>, buffer: &'a mut String) -> &'a str {
    use std::fmt::Write;
    match value {
        ValueRef::Null => "",
        ValueRef::Text(bytes) | ValueRef::Blob(bytes) => match std::str::from_utf8(bytes) {
            Ok(text) => text,
            Err(_) => {
                *buffer = String::from_utf8_lossy(bytes).into_owned();
                buffer
            }
        },
        ValueRef::Integer(n) => {
            buffer.clear();
            let _ = write!(buffer, "{n}");
            buffer
        }
        ValueRef::Real(x) => {
            buffer.clear();
            let _ = write!(buffer, "{x}");
            if x.is_finite() && !buffer.contains(['.', 'e']) {
                buffer.push_str(".0");
            }
            buffer
        }
    }
}

/// A name for the row id that no column of the table shadows.
pub fn rowid_name(columns: &[String]) -> &'static str {
    ["rowid", "_rowid_", "oid"]
        .into_iter()
        .find(|name| !columns.iter().any(|c| c.eq_ignore_ascii_case(name)))
        .unwrap_or("rowid")
}

/// `SELECT rowid, c... FROM table WHERE rowid > offset ORDER BY rowid`; [`cell_text`] turns
/// each stored value back into its text.
pub fn select_rows(target: &Target, columns: &[String], rowid: &str) -> String {
    let cells: String = columns
        .iter()
        .map(|c| format!(", {}", quote_ident(c)))
        .collect();
    format!(
        "SELECT {rowid}{cells} FROM {} WHERE {rowid} > {} ORDER BY {rowid}",
        quote_ident(&target.table),
        target.rowid_offset
    )
}

/// The columns of a table, in order.
pub fn table_columns(conn: &Connection, table: &str) -> Result<Vec<String>> {
    let mut statement = conn.prepare("SELECT name FROM pragma_table_info(?1) ORDER BY cid")?;
    let names = statement
        .query_map([table], |row| row.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_numbers_read_back_as_sqlite_renders_them() {
        let conn = Connection::open_in_memory().unwrap();
        for text in [
            "0.5",
            "61.5",
            "70.0",
            "-2.25",
            "0.0001",
            "123456789012345.0",
            "0.123456789012345",
            "42",
            "-7",
        ] {
            let (value, sqlite_text): (rusqlite::types::Value, String) = conn
                .query_row(
                    "SELECT CAST(?1 AS NUMERIC), CAST(CAST(?1 AS NUMERIC) AS TEXT)",
                    [text],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .unwrap();
            let mut buffer = String::new();
            let value_ref = ValueRef::from(&value);
            assert_eq!(cell_text(value_ref, &mut buffer), sqlite_text, "{text}");
        }
    }
}
