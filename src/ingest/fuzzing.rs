//! Entry points for the fuzz targets (`fuzz/`) and the test that replays their findings:
//! read a file as ingest reads it, load it, and check that every loaded cell gives back the
//! text the reader found. Not part of the stable API, and only built with the `fuzzing`
//! feature (the fuzz crate and the tests turn it on; a release build leaves it out).

use std::path::Path;

use csv::ByteRecord;

use super::format::Format;
use super::{IfExists, IngestOptions, NoHook, ingest};
use crate::sql::quote_ident;
use crate::state::StateDb;

/// One table as the readers see it: header cells and every data record's cells.
#[derive(Debug, Clone)]
pub struct ReadTable {
    pub sheet: Option<String>,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<Vec<u8>>>,
}

/// Reads `path` (format by extension) through the same readers as `ingest`: its tables, or
/// `None` when ingest gives the file no table (an issue says why).
pub fn read_tables(path: &Path) -> crate::Result<Option<Vec<ReadTable>>> {
    let Some(format) = Format::of_path(path) else {
        return Ok(None);
    };
    // The careful read: a speculative one would load the same cells.
    let Ok(tables) = format.open(path, "fuzz", false, &super::ReadOptions::default())? else {
        return Ok(None);
    };
    let mut read = Vec::new();
    for mut table in tables {
        let mut rows = Vec::new();
        let mut record = ByteRecord::new();
        while table.rows.read(&mut record)? {
            rows.push(record.iter().map(<[u8]>::to_vec).collect());
        }
        read.push(ReadTable {
            sheet: table.sheet,
            headers: table.scan.headers,
            rows,
        });
    }
    Ok(Some(read))
}

/// Writes `bytes` to `dir/input_<ext>.<ext>`, ingests it into `db`, and compares every
/// table it loads (`UNCHANGED` ones were compared when first loaded) with what the readers read: same rows in file order, each cell's text given
/// back exactly (an empty cell is NULL; a short row's missing cells are NULL). Errors from
/// the readers or the load are not differences: ingest records them as issues.
pub fn ingest_and_compare(db: &StateDb, dir: &Path, bytes: &[u8], extension: &str) -> Comparison {
    let mut comparison = Comparison::default();
    compare_into(db, dir, bytes, extension, &mut comparison);
    comparison
}

/// What [`ingest_and_compare`] found.
#[derive(Debug, Clone, Default)]
pub struct Comparison {
    /// Loaded tables compared cell by cell with what the readers read.
    pub tables: usize,
    /// Every difference; empty when nothing was lost.
    pub differences: Vec<String>,
}

fn compare_into(db: &StateDb, dir: &Path, bytes: &[u8], extension: &str, out: &mut Comparison) {
    let differences = &mut out.differences;
    // One table name per extension: the same bytes loaded before under another extension
    // would otherwise be UNCHANGED here without being readable as this one.
    let path = dir.join(format!("input_{extension}.{extension}"));
    if let Err(err) = std::fs::write(&path, bytes) {
        differences.push(format!("cannot write the input: {err}"));
        return;
    }
    let read = match read_tables(&path) {
        Ok(Some(read)) => read,
        Ok(None) | Err(_) => Vec::new(),
    };
    let options = IngestOptions {
        if_exists: IfExists::Replace,
        ..IngestOptions::default()
    };
    let inputs = [path.display().to_string()];
    let summary = match ingest(db, &inputs, &options, &NoHook) {
        Ok(summary) => summary,
        Err(err) => {
            differences.push(format!("ingest failed as a whole: {err}"));
            return;
        }
    };
    let loaded: Vec<_> = summary
        .entries
        .iter()
        .filter(|e| e.state == "INGESTED")
        .collect();
    if loaded.len() > read.len() {
        differences.push(format!(
            "{} tables loaded, the readers found {}",
            loaded.len(),
            read.len()
        ));
        return;
    }
    for entry in loaded {
        let Some(table_name) = &entry.table else {
            continue;
        };
        let Some(table) = read.iter().find(|t| t.sheet == entry.sheet) else {
            differences.push(format!("no read table for sheet {:?}", entry.sheet));
            continue;
        };
        match loaded_cells(db, table_name, table.headers.len()) {
            Ok(cells) => {
                out.tables += 1;
                compare(table, &cells, differences);
            }
            Err(err) => differences.push(format!("cannot read back {table_name}: {err}")),
        }
    }
}

fn loaded_cells(
    db: &StateDb,
    table: &str,
    width: usize,
) -> crate::Result<Vec<Vec<Option<Vec<u8>>>>> {
    let conn = db.conn();
    let names: Vec<String> = conn
        .prepare(&format!("PRAGMA table_info({})", quote_ident(table)))?
        .query_map([], |row| row.get::<_, String>(1))?
        .collect::<rusqlite::Result<_>>()?;
    let select: Vec<String> = names
        .iter()
        .take(width)
        .map(|name| format!("CAST({} AS BLOB)", quote_ident(name)))
        .collect();
    let sql = format!(
        "SELECT {} FROM {} ORDER BY rowid",
        select.join(", "),
        quote_ident(table)
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt
        .query_map([], |row| {
            (0..select.len())
                .map(|i| row.get::<_, Option<Vec<u8>>>(i))
                .collect::<rusqlite::Result<Vec<_>>>()
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

fn compare(table: &ReadTable, loaded: &[Vec<Option<Vec<u8>>>], differences: &mut Vec<String>) {
    if loaded.len() != table.rows.len() {
        differences.push(format!(
            "{} rows loaded, {} read",
            loaded.len(),
            table.rows.len()
        ));
        return;
    }
    // Workbook cells are typed: a whole number in a column that also holds fractions is
    // stored as REAL (`1` comes back as `1.0`), the same number.
    let typed_numbers = table.sheet.is_some();
    for (index, (read, stored)) in table.rows.iter().zip(loaded).enumerate() {
        for (column, stored) in stored.iter().enumerate() {
            let original = read.get(column).filter(|cell| !cell.is_empty());
            let same = original.map(Vec::as_slice) == stored.as_deref()
                || (typed_numbers && same_number(original, stored.as_deref()));
            if !same {
                differences.push(format!(
                    "row {} column {}: read {:?}, stored {:?}",
                    index + 1,
                    column + 1,
                    original.map(|c| String::from_utf8_lossy(c).into_owned()),
                    stored
                        .as_ref()
                        .map(|c| String::from_utf8_lossy(c).into_owned())
                ));
                if differences.len() > 10 {
                    return;
                }
            }
        }
    }
}

/// How the delimited fuzz target reads its input: the first byte picks the extension
/// (`.csv`, `.tsv` or `.txt`, which sniff differently), the rest is the file.
pub fn delimited_input(data: &[u8]) -> Option<(&'static str, &[u8])> {
    let (&pick, rest) = data.split_first()?;
    Some((["csv", "tsv", "txt"][usize::from(pick % 3)], rest))
}

/// Both cells hold text of the same finite number.
fn same_number(read: Option<&Vec<u8>>, stored: Option<&[u8]>) -> bool {
    let number = |cell: &[u8]| {
        std::str::from_utf8(cell)
            .ok()
            .and_then(|text| text.parse::<f64>().ok())
            .filter(|n| n.is_finite())
    };
    match (read.and_then(|c| number(c)), stored.and_then(number)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}
