//! Reading a session's issues back one row at a time, with their entry's source and table.
//!
//! Rows come in the order they were recorded (rowid) and are handed to a callback as they are
//! read, so a session with millions of issues is listed in constant memory.

use rusqlite::types::ValueRef;
use rusqlite::{Connection, Row, ToSql};
use serde::Serialize;

use super::query::SEVERITY_SQL;
use crate::Result;

/// One issue as `rssd issues` lists it. A stable JSON shape: fields are only ever added.
#[derive(Debug, Clone, Serialize)]
pub struct IssueRow {
    pub issue_id: String,
    pub entry_id: Option<String>,
    pub source: Option<String>,
    pub table: Option<String>,
    pub issue_type: String,
    /// The stable machine code from the elaboration (`type-error`, ...); None when absent.
    pub code: Option<String>,
    /// `error` or `warning`; `error` when the elaboration names none.
    pub severity: String,
    pub message: String,
    /// Usually the 1-based data row; text when another tool stored text there.
    pub row: Option<String>,
    pub column: Option<String>,
    pub invalid_value: Option<String>,
    pub remediation: Option<String>,
}

/// Which issues to list. Empty fields match everything.
#[derive(Debug, Clone, Default)]
pub struct IssueFilter {
    /// `issue_type` (case-insensitive) or the elaboration's `code` (exact).
    pub issue_type: Option<String>,
    pub entry_id: Option<String>,
    /// The entry's `ingest_table_name`.
    pub table: Option<String>,
    /// `error` or `warning`, exactly.
    pub severity: Option<String>,
}

pub(crate) const ISSUE_COLUMNS: &str = "i.orchestration_session_issue_id, i.session_entry_id, e.ingest_src, e.ingest_table_name,
     i.issue_type, CASE WHEN json_valid(i.elaboration) THEN json_extract(i.elaboration, '$.code') END,
     {SEVERITY}, i.issue_message, i.issue_row, i.issue_column, i.invalid_value, i.remediation";

/// A cell as text whatever another tool stored there: numbers printed, blobs and invalid
/// UTF-8 decoded lossily. Fails only on a bad column index.
pub(crate) fn text_cell(row: &Row<'_>, index: usize) -> rusqlite::Result<Option<String>> {
    Ok(match row.get_ref(index)? {
        ValueRef::Null => None,
        ValueRef::Integer(n) => Some(n.to_string()),
        ValueRef::Real(x) => Some(x.to_string()),
        ValueRef::Text(bytes) | ValueRef::Blob(bytes) => {
            Some(String::from_utf8_lossy(bytes).into_owned())
        }
    })
}

/// As [`text_cell`], empty for NULL (for columns declared NOT NULL).
pub(crate) fn text_or_empty(row: &Row<'_>, index: usize) -> rusqlite::Result<String> {
    Ok(text_cell(row, index)?.unwrap_or_default())
}

pub(crate) fn issue_from_row(row: &Row<'_>) -> rusqlite::Result<IssueRow> {
    Ok(IssueRow {
        issue_id: text_or_empty(row, 0)?,
        entry_id: text_cell(row, 1)?,
        source: text_cell(row, 2)?,
        table: text_cell(row, 3)?,
        issue_type: text_or_empty(row, 4)?,
        code: text_cell(row, 5)?,
        severity: text_or_empty(row, 6)?,
        message: text_or_empty(row, 7)?,
        row: text_cell(row, 8)?,
        column: text_cell(row, 9)?,
        invalid_value: text_cell(row, 10)?,
        remediation: text_cell(row, 11)?,
    })
}

/// Calls `each` with every issue of the session that passes `filter`, in recorded order.
/// Stops early (and returns `Ok`) when `each` returns `Ok(false)`.
pub fn for_each_issue(
    conn: &Connection,
    session_id: &str,
    filter: &IssueFilter,
    mut each: impl FnMut(IssueRow) -> Result<bool>,
) -> Result<()> {
    let sql = format!(
        "SELECT {} FROM orchestration_session_issue i
         LEFT JOIN orchestration_session_entry e ON e.orchestration_session_entry_id = i.session_entry_id
         WHERE i.session_id = ?1
           AND (?2 IS NULL OR i.issue_type = ?2 COLLATE NOCASE
                OR (json_valid(i.elaboration) AND json_extract(i.elaboration, '$.code') = ?2))
           AND (?3 IS NULL OR i.session_entry_id = ?3)
           AND (?4 IS NULL OR e.ingest_table_name = ?4)
           AND (?5 IS NULL OR {} = ?5)
         ORDER BY i.rowid",
        ISSUE_COLUMNS.replace("{SEVERITY}", SEVERITY_SQL),
        SEVERITY_SQL
    );
    let severity = filter.severity.as_ref().map(|s| s.to_ascii_lowercase());
    let params: [&dyn ToSql; 5] = [
        &session_id,
        &filter.issue_type,
        &filter.entry_id,
        &filter.table,
        &severity,
    ];
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query(&params[..])?;
    while let Some(row) = rows.next()? {
        if !each(issue_from_row(row)?)? {
            break;
        }
    }
    Ok(())
}

/// Streams the session's issues in recorded order, offering each to `take` (which returns
/// whether it kept the row) until `wanted` rows have been kept or the issues run out.
pub fn take_first_issues(
    conn: &Connection,
    session_id: &str,
    mut wanted: usize,
    mut take: impl FnMut(IssueRow) -> bool,
) -> Result<()> {
    if wanted == 0 {
        return Ok(());
    }
    for_each_issue(conn, session_id, &IssueFilter::default(), |row| {
        if take(row) {
            wanted -= 1;
        }
        Ok(wanted > 0)
    })
}

#[cfg(test)]
mod tests {
    use super::super::{Issue, IssueKind, OpenOptions, Severity, StateDb};
    use super::*;

    #[test]
    fn filters_combine_and_rows_carry_their_entry() {
        let dir = tempfile::tempdir().unwrap();
        let db = StateDb::open(dir.path().join("t.db"), &OpenOptions::default()).unwrap();
        let mut session = db.begin_session("ingest", &serde_json::json!({})).unwrap();
        let a = session
            .add_entry("a.csv", Some("a"), &serde_json::json!({}))
            .unwrap();
        let b = session
            .add_entry("b.csv", Some("b"), &serde_json::json!({}))
            .unwrap();
        session
            .issue(&Issue::new(IssueKind::BlankRow, "blank").entry(&a).row(2))
            .unwrap();
        session
            .issue(
                &Issue::new(IssueKind::DataTypeMismatch, "x")
                    .entry(&b)
                    .severity(Severity::Warning),
            )
            .unwrap();
        session
            .issue(&Issue::new(IssueKind::DataTypeMismatch, "y"))
            .unwrap();
        let id = session.id().to_string();
        session.finish_completed("ok").unwrap();

        let list = |filter: IssueFilter| {
            let mut found = Vec::new();
            for_each_issue(db.conn(), &id, &filter, |row| {
                found.push(row);
                Ok(true)
            })
            .unwrap();
            found
        };
        let all = list(IssueFilter::default());
        assert_eq!(all.len(), 3);
        assert_eq!(all[0].source.as_deref(), Some("a.csv"));
        assert_eq!(all[0].row.as_deref(), Some("2"));
        assert_eq!(all[2].source, None);
        let by_code = list(IssueFilter {
            issue_type: Some("type-error".into()),
            ..IssueFilter::default()
        });
        assert_eq!(by_code.len(), 2);
        let by_type_and_table = list(IssueFilter {
            issue_type: Some("data type mismatch".into()),
            table: Some("b".into()),
            ..IssueFilter::default()
        });
        assert_eq!(by_type_and_table.len(), 1);
        assert_eq!(by_type_and_table[0].severity, "warning");
        let errors = list(IssueFilter {
            severity: Some("ERROR".into()),
            ..IssueFilter::default()
        });
        assert_eq!(errors.len(), 2);
        let none = list(IssueFilter {
            entry_id: Some(a.clone()),
            severity: Some("warning".into()),
            ..IssueFilter::default()
        });
        assert!(none.is_empty());
    }
}
