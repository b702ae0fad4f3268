//! Which cells of a loaded table have issues: an index kept by the server, read
//! incrementally, because the RSSD's issue table has no index on entry or row (and the
//! server may not create one).
//!
//! Issues are only ever appended, so each refresh reads just the issue rows recorded since
//! the last one (`rowid > seen`). A table's highlighted cells are the issues of the latest
//! entry that names the table: the latest ingest or validation of it.

use std::collections::{BTreeMap, HashMap};

use rusqlite::Connection;
use serde::Serialize;

use crate::state::issue_list::{text_cell, text_or_empty};
use crate::state::query::SEVERITY_SQL;

/// Issues shown on one page at most (the rest are counted in the issues page).
const MAX_ISSUES_PER_PAGE: usize = 1000;

/// Per table, per entry (by the entry's rowid), the `(row, issue rowid)` pairs, sorted once
/// they are read.
#[derive(Debug, Default)]
pub struct CellIndex {
    seen: i64,
    tables: HashMap<String, BTreeMap<i64, Vec<(i64, i64)>>>,
}

/// An issue shown on its cell.
#[derive(Debug, Clone, Serialize)]
pub struct CellIssue {
    pub issue_id: String,
    pub row: i64,
    /// None: the issue names the row, not one of its cells.
    pub column: Option<String>,
    pub issue_type: String,
    pub severity: String,
    pub message: String,
    pub invalid_value: Option<String>,
    pub remediation: Option<String>,
}

impl CellIndex {
    /// Reads the issues recorded since the last call.
    pub fn refresh(&mut self, conn: &Connection) -> rusqlite::Result<()> {
        let latest: Option<i64> = conn.query_row(
            "SELECT max(rowid) FROM orchestration_session_issue",
            [],
            |row| row.get(0),
        )?;
        let Some(latest) = latest.filter(|&latest| latest > self.seen) else {
            return Ok(());
        };
        let mut stmt = conn.prepare(
            "SELECT i.rowid, e.rowid, e.ingest_table_name, i.issue_row
             FROM orchestration_session_issue i
             JOIN orchestration_session_entry e
               ON e.orchestration_session_entry_id = i.session_entry_id
             WHERE i.rowid > ?1 AND i.rowid <= ?2 AND e.ingest_table_name IS NOT NULL
               AND typeof(i.issue_row) = 'integer'",
        )?;
        let mut rows = stmt.query([self.seen, latest])?;
        while let Some(row) = rows.next()? {
            let (issue, entry, table, data_row): (i64, i64, String, i64) =
                (row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?);
            let entries = self.tables.entry(table).or_default();
            entries.entry(entry).or_default().push((data_row, issue));
        }
        for pairs in self
            .tables
            .values_mut()
            .flat_map(|entries| entries.values_mut())
        {
            if !pairs.is_sorted() {
                pairs.sort_unstable();
            }
        }
        self.seen = latest;
        Ok(())
    }

    /// The rowids of the issues on these rows of `table` (of its latest entry).
    pub fn issues_on(&self, table: &str, rows: &[i64]) -> Vec<i64> {
        let Some((_, pairs)) = self.tables.get(table).and_then(|e| e.last_key_value()) else {
            return Vec::new();
        };
        let mut found = Vec::new();
        for &row in rows {
            let start = pairs.partition_point(|&(r, _)| r < row);
            for &(r, issue) in &pairs[start..] {
                if r != row || found.len() >= MAX_ISSUES_PER_PAGE {
                    break;
                }
                found.push(issue);
            }
        }
        found
    }
}

/// The issues with these rowids, for their cells.
pub fn load_issues(conn: &Connection, issue_rowids: &[i64]) -> rusqlite::Result<Vec<CellIssue>> {
    if issue_rowids.is_empty() {
        return Ok(Vec::new());
    }
    let list = issue_rowids
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let sql = format!(
        "SELECT i.orchestration_session_issue_id, i.issue_row, i.issue_column, i.issue_type,
                {SEVERITY_SQL}, i.issue_message, i.invalid_value, i.remediation
         FROM orchestration_session_issue i WHERE i.rowid IN ({list}) ORDER BY i.rowid"
    );
    let mut stmt = conn.prepare(&sql)?;
    let issues = stmt
        .query_map([], |row| {
            Ok(CellIssue {
                issue_id: text_or_empty(row, 0)?,
                row: row.get(1)?,
                column: text_cell(row, 2)?,
                issue_type: text_or_empty(row, 3)?,
                severity: text_or_empty(row, 4)?,
                message: text_or_empty(row, 5)?,
                invalid_value: text_cell(row, 6)?,
                remediation: text_cell(row, 7)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(issues)
}
