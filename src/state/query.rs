//! Reading sessions back: the listings behind `rssd sessions` and `rssd show`.
//!
//! Everything here reads rows that other tools may have written, so ids are never parsed,
//! and an issue without a `severity` in its elaboration counts as an error.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;
use serde_json::Value;

use super::states::INITIAL;
use crate::{Error, Result};

/// One line of `rssd sessions`. A stable JSON shape: fields are only ever added.
#[derive(Debug, Clone, Serialize)]
pub struct SessionSummary {
    pub session_id: String,
    pub nature: String,
    pub device_id: String,
    pub device_name: Option<String>,
    pub version: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub duration_s: Option<f64>,
    pub state: String,
    pub state_reason: Option<String>,
    pub entries: i64,
    pub issues_error: i64,
    pub issues_warning: i64,
}

/// One entry as `rssd show` lists it.
#[derive(Debug, Clone, Serialize)]
pub struct EntrySummary {
    pub entry_id: String,
    pub source: String,
    pub table: Option<String>,
    pub state: String,
    pub rows: Option<i64>,
    pub issues: i64,
}

/// `rssd show`: a session and its entries.
#[derive(Debug, Clone, Serialize)]
pub struct SessionDetail {
    pub session: SessionSummary,
    pub args: Option<Value>,
    pub entries: Vec<EntrySummary>,
}

/// SQL that yields the severity of an issue row `i`, 'error' when none is recorded.
pub const SEVERITY_SQL: &str = "coalesce(CASE WHEN json_valid(i.elaboration) THEN json_extract(i.elaboration, '$.severity') END, 'error')";

/// Errors and warnings per entry of a session (key None: the session's own issues).
pub type IssueCounts = HashMap<Option<String>, (i64, i64)>;

/// Errors and warnings of each entry of a session (key None: the session's own issues), in
/// one scan of the issue table (the RSSD schema has no index on its session or entry), added
/// up here: a `GROUP BY` would sort every issue row first.
pub fn issue_counts_by_entry(conn: &Connection, session_id: &str) -> Result<IssueCounts> {
    let mut statement = conn.prepare(&format!(
        "SELECT i.session_entry_id, {SEVERITY_SQL} = 'warning'
         FROM orchestration_session_issue i WHERE i.session_id = ?1"
    ))?;
    let mut rows = statement.query([session_id])?;
    let mut counts = IssueCounts::new();
    while let Some(row) = rows.next()? {
        let slot = counts.entry(row.get(0)?).or_default();
        if row.get(1)? {
            slot.1 += 1;
        } else {
            slot.0 += 1;
        }
    }
    Ok(counts)
}

fn summary_select() -> String {
    format!(
        "SELECT s.orchestration_session_id, s.orchestration_nature_id, s.device_id, d.name, s.version,
                s.orch_started_at, s.orch_finished_at,
                round((julianday(s.orch_finished_at) - julianday(s.orch_started_at)) * 86400.0, 3),
                (SELECT st.to_state FROM orchestration_session_state st
                  WHERE st.session_id = s.orchestration_session_id AND st.session_entry_id IS NULL
                  ORDER BY st.rowid DESC LIMIT 1),
                (SELECT st.transition_reason FROM orchestration_session_state st
                  WHERE st.session_id = s.orchestration_session_id AND st.session_entry_id IS NULL
                  ORDER BY st.rowid DESC LIMIT 1),
                (SELECT count(*) FROM orchestration_session_entry e WHERE e.session_id = s.orchestration_session_id),
                (SELECT count(*) FROM orchestration_session_issue i
                  WHERE i.session_id = s.orchestration_session_id AND {SEVERITY_SQL} = 'error'),
                (SELECT count(*) FROM orchestration_session_issue i
                  WHERE i.session_id = s.orchestration_session_id AND {SEVERITY_SQL} = 'warning')
         FROM orchestration_session s LEFT JOIN device d ON d.device_id = s.device_id"
    )
}

fn summary_from_row(row: &Row<'_>) -> rusqlite::Result<SessionSummary> {
    Ok(SessionSummary {
        session_id: row.get(0)?,
        nature: row.get(1)?,
        device_id: row.get(2)?,
        device_name: row.get(3)?,
        version: row.get(4)?,
        started_at: row.get(5)?,
        finished_at: row.get(6)?,
        duration_s: row.get(7)?,
        state: row
            .get::<_, Option<String>>(8)?
            .unwrap_or_else(|| INITIAL.to_string()),
        state_reason: row.get(9)?,
        entries: row.get(10)?,
        issues_error: row.get(11)?,
        issues_warning: row.get(12)?,
    })
}

/// All sessions, newest first, optionally of one nature.
pub fn list_sessions(conn: &Connection, nature: Option<&str>) -> Result<Vec<SessionSummary>> {
    let sql = format!(
        "{} WHERE ?1 IS NULL OR s.orchestration_nature_id = ?1
         ORDER BY s.orch_started_at DESC, s.rowid DESC",
        summary_select()
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt
        .query_map([nature], summary_from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// The summary of one session.
pub fn session_summary(conn: &Connection, session_id: &str) -> Result<SessionSummary> {
    let sql = format!("{} WHERE s.orchestration_session_id = ?1", summary_select());
    conn.query_row(&sql, [session_id], summary_from_row)
        .optional()?
        .ok_or_else(|| Error::UnknownSession(session_id.to_string()))
}

/// Turns what a user typed (`latest` or an id) into a session id that exists.
pub fn resolve_session(conn: &Connection, wanted: &str) -> Result<String> {
    let found: Option<String> = if wanted.eq_ignore_ascii_case("latest") {
        conn.query_row(
            "SELECT orchestration_session_id FROM orchestration_session
             ORDER BY orch_started_at DESC, rowid DESC LIMIT 1",
            [],
            |row| row.get(0),
        )
        .optional()?
    } else {
        conn.query_row(
            "SELECT orchestration_session_id FROM orchestration_session WHERE orchestration_session_id = ?1",
            [wanted],
            |row| row.get(0),
        )
        .optional()?
    };
    match found {
        Some(id) => Ok(id),
        None if wanted.eq_ignore_ascii_case("latest") => Err(Error::Invalid(
            "the database has no sessions yet".to_string(),
        )),
        None => Err(Error::UnknownSession(wanted.to_string())),
    }
}

/// The latest state of a session (`entry_id` None) or of one of its entries.
pub fn latest_state(conn: &Connection, session_id: &str, entry_id: Option<&str>) -> Result<String> {
    let state: Option<String> = conn
        .query_row(
            "SELECT to_state FROM orchestration_session_state
             WHERE session_id = ?1 AND session_entry_id IS ?2
             ORDER BY rowid DESC LIMIT 1",
            params![session_id, entry_id],
            |row| row.get(0),
        )
        .optional()?;
    Ok(state.unwrap_or_else(|| INITIAL.to_string()))
}

/// The entries of a session in the order they were added, with their latest state, row
/// count (from the elaboration) and issue count. One pass over each table, not one per entry.
pub fn list_entries(conn: &Connection, session_id: &str) -> Result<Vec<EntrySummary>> {
    let mut stmt = conn.prepare(
        "WITH last_state AS (
             SELECT session_entry_id, to_state, max(rowid) FROM orchestration_session_state
             WHERE session_id = ?1 AND session_entry_id IS NOT NULL GROUP BY session_entry_id
         ),
         issue_count AS (
             SELECT session_entry_id, count(*) AS n FROM orchestration_session_issue
             WHERE session_id = ?1 AND session_entry_id IS NOT NULL GROUP BY session_entry_id
         )
         SELECT e.orchestration_session_entry_id, e.ingest_src, e.ingest_table_name,
                ls.to_state,
                CASE WHEN json_valid(e.elaboration) THEN json_extract(e.elaboration, '$.rows') END,
                coalesce(ic.n, 0)
         FROM orchestration_session_entry e
         LEFT JOIN last_state ls ON ls.session_entry_id = e.orchestration_session_entry_id
         LEFT JOIN issue_count ic ON ic.session_entry_id = e.orchestration_session_entry_id
         WHERE e.session_id = ?1
         ORDER BY e.rowid",
    )?;
    let rows = stmt
        .query_map([session_id], |row| {
            Ok(EntrySummary {
                entry_id: row.get(0)?,
                source: row.get(1)?,
                table: row.get(2)?,
                state: row
                    .get::<_, Option<String>>(3)?
                    .unwrap_or_else(|| INITIAL.to_string()),
                rows: row.get::<_, Option<i64>>(4).ok().flatten(),
                issues: row.get(5)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// `rssd show`: one session with its entries.
pub fn session_detail(conn: &Connection, session_id: &str) -> Result<SessionDetail> {
    let session = session_summary(conn, session_id)?;
    let args: Option<String> = conn.query_row(
        "SELECT args_json FROM orchestration_session WHERE orchestration_session_id = ?1",
        [session_id],
        |row| row.get(0),
    )?;
    Ok(SessionDetail {
        session,
        args: args.and_then(|text| serde_json::from_str(&text).ok()),
        entries: list_entries(conn, session_id)?,
    })
}
