//! What an RSSD holds, read through `PRAGMA table_info` and the entries: its tables, their
//! columns and keys, and which entry each loaded table's rows came from. Shared by merge (on an
//! attached candidate) and push (on the RSSD itself).

use rusqlite::Connection;

use crate::Result;
use crate::sql::quote_ident;
use crate::state::TABLES;

/// The provenance columns a merged or pushed loaded table carries: the entry the rows came
/// from, and the row's number there (what `issue_row` names).
pub const ENTRY_COLUMN: &str = "_rssd_entry_id";
pub const ROW_COLUMN: &str = "_rssd_row";

/// One column as `PRAGMA table_info` tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    /// The declared type as written (`INTEGER`, `TEXT`, `` for none).
    pub declared: String,
    /// Position in the primary key (1-based), 0 when not part of it.
    pub pk: i64,
}

impl Column {
    /// True for the provenance columns merge and push maintain themselves.
    pub fn is_provenance(&self) -> bool {
        self.name.eq_ignore_ascii_case(ENTRY_COLUMN) || self.name.eq_ignore_ascii_case(ROW_COLUMN)
    }
}

/// `schema.table`, both quoted.
pub fn qualified(schema: &str, table: &str) -> String {
    format!("{}.{}", quote_ident(schema), quote_ident(table))
}

/// The columns of `schema.table`; empty when there is no such table.
pub fn columns(conn: &Connection, schema: &str, table: &str) -> Result<Vec<Column>> {
    let sql = format!(
        "PRAGMA {}.table_info({})",
        quote_ident(schema),
        quote_ident(table)
    );
    let mut stmt = conn.prepare(&sql)?;
    let columns = stmt
        .query_map([], |row| {
            Ok(Column {
                name: row.get(1)?,
                declared: row.get::<_, Option<String>>(2)?.unwrap_or_default(),
                pk: row.get(5)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(columns)
}

/// One table of a schema, as `sqlite_master` has it.
#[derive(Debug, Clone)]
pub struct TableDef {
    pub name: String,
    /// The `CREATE TABLE` text.
    pub sql: String,
}

/// Ordinary tables of `schema`: not SQLite's own, not virtual tables nor their shadow tables.
pub fn tables(conn: &Connection, schema: &str) -> Result<Vec<TableDef>> {
    let sql = format!(
        "SELECT name, coalesce(sql, '') FROM {}.sqlite_master WHERE type = 'table' ORDER BY rowid",
        quote_ident(schema)
    );
    let mut stmt = conn.prepare(&sql)?;
    let all = stmt
        .query_map([], |row| {
            Ok(TableDef {
                name: row.get(0)?,
                sql: row.get(1)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let virtual_names: Vec<String> = all
        .iter()
        .filter(|t| is_virtual(&t.sql))
        .map(|t| format!("{}_", t.name))
        .collect();
    Ok(all
        .into_iter()
        .filter(|t| {
            !t.name.starts_with("sqlite_")
                && !is_virtual(&t.sql)
                && !virtual_names
                    .iter()
                    .any(|prefix| t.name.starts_with(prefix))
        })
        .collect())
}

fn is_virtual(sql: &str) -> bool {
    sql.trim_start()
        .get(..14)
        .is_some_and(|head| head.eq_ignore_ascii_case("CREATE VIRTUAL"))
}

/// True for the nine orchestration tables.
pub fn is_orchestration(table: &str) -> bool {
    TABLES.iter().any(|t| t.eq_ignore_ascii_case(table))
}

/// A loaded table and the entry its rows are attributed to.
#[derive(Debug, Clone)]
pub struct LoadedTable {
    pub name: String,
    /// The latest entry that loaded the table: the owner of every row that does not carry its
    /// own `_rssd_entry_id`.
    pub entry_id: String,
    pub session_id: String,
    pub device_id: String,
    /// The device's name, for `<table>_<device>` when tables are renamed.
    pub device_name: String,
    /// The entries whose rows the table holds now, each with its rowids.
    pub parts: Vec<RowPart>,
}

/// The rows of a loaded table that one entry loaded: rowids in `(after, up_to]`.
#[derive(Debug, Clone)]
pub struct RowPart {
    pub entry_id: String,
    pub session_id: String,
    pub device_id: String,
    pub device_name: String,
    pub after: i64,
    pub up_to: i64,
}

/// The tables entries of `schema` loaded that exist there now, each with its latest entry
/// (by insertion order: a later entry replaced or appended to the table).
pub fn loaded_tables(conn: &Connection, schema: &str) -> Result<Vec<LoadedTable>> {
    let entry = qualified(schema, "orchestration_session_entry");
    let session = qualified(schema, "orchestration_session");
    let device = qualified(schema, "device");
    let sql = format!(
        "SELECT e.ingest_table_name, e.orchestration_session_entry_id, e.session_id,
                coalesce(s.device_id, ''), coalesce(d.name, s.device_id, 'unknown')
         FROM {entry} e
         JOIN (SELECT ingest_table_name AS t, max(rowid) AS r FROM {entry}
               WHERE ingest_table_name IS NOT NULL AND ingest_table_name <> '' GROUP BY 1) latest
           ON e.rowid = latest.r
         LEFT JOIN {session} s ON s.orchestration_session_id = e.session_id
         LEFT JOIN {device} d ON d.device_id = s.device_id
         ORDER BY e.rowid"
    );
    let mut stmt = conn.prepare(&sql)?;
    let found = stmt
        .query_map([], |row| {
            Ok(LoadedTable {
                name: row.get(0)?,
                entry_id: row.get(1)?,
                session_id: row.get(2)?,
                device_id: row.get(3)?,
                device_name: row.get(4)?,
                parts: Vec::new(),
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let present = tables(conn, schema)?;
    let mut loaded = Vec::new();
    for mut table in found {
        if is_orchestration(&table.name) || !present.iter().any(|p| p.name == table.name) {
            continue;
        }
        table.parts = match row_parts(conn, schema, &table.name)? {
            Some(parts) => parts,
            None => vec![RowPart {
                entry_id: table.entry_id.clone(),
                session_id: table.session_id.clone(),
                device_id: table.device_id.clone(),
                device_name: table.device_name.clone(),
                after: i64::MIN,
                up_to: i64::MAX,
            }],
        };
        loaded.push(table);
    }
    Ok(loaded)
}

/// Which entry loaded which rows, from the ingest entries' elaboration: a load that replaced
/// or created the table holds rowids `1..=rows`, an append `rowid_offset + 1..=rows`. `None`
/// when the table's rows do not add up to that (a script changed it; another tool made it):
/// then every row is the latest entry's.
fn row_parts(conn: &Connection, schema: &str, table: &str) -> Result<Option<Vec<RowPart>>> {
    let sql = format!(
        "SELECT e.orchestration_session_entry_id, e.session_id, coalesce(s.device_id, ''),
                coalesce(d.name, s.device_id, 'unknown'),
                json_extract(e.elaboration, '$.rowid_offset'), json_extract(e.elaboration, '$.rows')
         FROM {entry} e
         LEFT JOIN {session} s ON s.orchestration_session_id = e.session_id
         LEFT JOIN {device} d ON d.device_id = s.device_id
         WHERE e.ingest_table_name = ?1 AND json_valid(e.elaboration)
           AND EXISTS (SELECT 1 FROM {state} st WHERE st.session_entry_id = e.orchestration_session_entry_id
                       AND st.to_state = 'INGESTED')
         ORDER BY e.rowid",
        entry = qualified(schema, "orchestration_session_entry"),
        session = qualified(schema, "orchestration_session"),
        device = qualified(schema, "device"),
        state = qualified(schema, "orchestration_session_state"),
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query([table])?;
    let mut parts: Vec<RowPart> = Vec::new();
    while let Some(row) = rows.next()? {
        let (offset, count): (Option<i64>, Option<i64>) = (row.get(4)?, row.get(5)?);
        let Some(count) = count else { return Ok(None) };
        if offset.is_none() {
            parts.clear();
        }
        let after = offset.unwrap_or(0);
        parts.push(RowPart {
            entry_id: row.get(0)?,
            session_id: row.get(1)?,
            device_id: row.get(2)?,
            device_name: row.get(3)?,
            after,
            up_to: after + count,
        });
    }
    let (max, total): (i64, i64) = conn.query_row(
        &format!(
            "SELECT coalesce(max(rowid), 0), count(*) FROM {}",
            qualified(schema, table)
        ),
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let contiguous = parts.windows(2).all(|w| w[0].up_to == w[1].after);
    let adds_up = parts.first().is_some_and(|p| p.after == 0)
        && parts.last().is_some_and(|p| p.up_to == max)
        && max == total;
    Ok((contiguous && adds_up).then_some(parts))
}

/// The columns two tables are compared by: names and declared types, provenance left out,
/// case-insensitive as SQLite's names are.
pub fn same_columns(a: &[Column], b: &[Column]) -> bool {
    let key = |columns: &[Column]| -> Vec<(String, String)> {
        columns
            .iter()
            .filter(|c| !c.is_provenance())
            .map(|c| (c.name.to_lowercase(), c.declared.to_uppercase()))
            .collect()
    };
    key(a) == key(b)
}

/// True when a column of that name is present.
pub fn has_column(columns: &[Column], name: &str) -> bool {
    columns.iter().any(|c| c.name.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtual_tables_and_their_shadows_are_left_out() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE t (a); CREATE VIRTUAL TABLE f USING fts5(x); CREATE TABLE f_extra (y);",
        )
        .unwrap();
        let names: Vec<String> = tables(&conn, "main")
            .unwrap()
            .into_iter()
            .map(|t| t.name)
            .collect();
        assert_eq!(names, ["t"]);
    }

    #[test]
    fn columns_compare_without_provenance_and_case() {
        let col = |name: &str, declared: &str| Column {
            name: name.into(),
            declared: declared.into(),
            pk: 0,
        };
        let a = [col("A", "integer"), col("_rssd_entry_id", "TEXT")];
        let b = [col("a", "INTEGER")];
        assert!(same_columns(&a, &b));
        assert!(!same_columns(&a, &[col("a", "TEXT")]));
    }
}
