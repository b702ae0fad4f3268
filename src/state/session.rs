//! The session recorder: one `orchestration_session` and everything that happens in it.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rusqlite::{Connection, params};
use serde_json::{Value, json};

use super::device::Device;
use super::ids::new_id;
use super::issue::Issue;
use super::states::{COMPLETED, FAILED, INITIAL, INTERRUPTED, RUNNING};
use super::{diagnostics, liveness};
use crate::sql::write_transaction;
use crate::{Error, Result, VERSION};

/// A running session. Finish it with [`Session::finish_completed`] or
/// [`Session::finish_failed`]; one dropped unfinished is recorded as `FAILED`.
pub struct Session<'c> {
    conn: &'c Connection,
    id: String,
    device_id: String,
    state: String,
    entry_states: HashMap<String, String>,
    started: Instant,
    finished: bool,
}

/// One statement or command the engine ran, for `orchestration_session_exec`.
#[derive(Debug, Clone, Default)]
pub struct Exec {
    pub exec_nature: String,
    pub entry_id: Option<String>,
    pub parent_exec_id: Option<String>,
    pub namespace: Option<String>,
    pub identity: Option<String>,
    pub code: String,
    /// 0 for success; anything else is a failure.
    pub status: i64,
    pub input: Option<String>,
    pub output: Option<String>,
    pub error: Option<String>,
    pub output_nature: Option<Value>,
    pub narrative_md: Option<String>,
    pub duration: Option<Duration>,
    /// More facts merged into the elaboration beside `duration_ms`.
    pub elaboration: Option<Value>,
}

impl Exec {
    pub fn new(exec_nature: &str, code: impl Into<String>) -> Exec {
        Exec {
            exec_nature: exec_nature.to_string(),
            code: code.into(),
            ..Exec::default()
        }
    }

    pub fn entry(mut self, entry_id: &str) -> Exec {
        self.entry_id = Some(entry_id.to_string());
        self
    }

    pub fn status(mut self, status: i64) -> Exec {
        self.status = status;
        self
    }

    pub fn duration(mut self, duration: Duration) -> Exec {
        self.duration = Some(duration);
        self
    }

    pub fn output(mut self, output: impl Into<String>) -> Exec {
        self.output = Some(output.into());
        self
    }

    pub fn error(mut self, error: impl Into<String>) -> Exec {
        self.error = Some(error.into());
        self
    }

    fn elaboration_json(&self) -> Option<String> {
        let mut map = match &self.elaboration {
            Some(Value::Object(map)) => map.clone(),
            Some(other) => {
                let mut map = serde_json::Map::new();
                map.insert("value".into(), other.clone());
                map
            }
            None => serde_json::Map::new(),
        };
        if let Some(duration) = self.duration {
            map.insert("duration_ms".into(), json!(duration.as_secs_f64() * 1000.0));
        }
        (!map.is_empty()).then(|| Value::Object(map).to_string())
    }
}

impl<'c> Session<'c> {
    pub(super) fn begin(
        conn: &'c Connection,
        device: &Device,
        nature_id: &str,
        nature_label: &str,
        args: &Value,
    ) -> Result<Session<'c>> {
        let id = new_id();
        let elaboration = json!({"rssd": {"owner": liveness::this_process()}});
        write_transaction(conn, || {
            ensure_nature(conn, nature_id, nature_label)?;
            conn.execute(
                "INSERT INTO orchestration_session
                   (orchestration_session_id, device_id, orchestration_nature_id, version, elaboration, args_json)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![id, device.device_id, nature_id, VERSION, elaboration.to_string(), args.to_string()],
            )?;
            Ok(())
        })?;
        let mut session = Session {
            conn,
            id,
            device_id: device.device_id.clone(),
            state: INITIAL.to_string(),
            entry_states: HashMap::new(),
            started: Instant::now(),
            finished: false,
        };
        session.transition(RUNNING, "session started")?;
        Ok(session)
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn device_id(&self) -> &str {
        &self.device_id
    }

    pub fn conn(&self) -> &'c Connection {
        self.conn
    }

    /// The session's current state.
    pub fn state(&self) -> &str {
        &self.state
    }

    /// An entry's current state (`INITIAL` until its first transition).
    pub fn entry_state(&self, entry_id: &str) -> Option<&str> {
        self.entry_states.get(entry_id).map(String::as_str)
    }

    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Adds an entry (a file, a sheet, a script) and returns its id.
    pub fn add_entry(
        &mut self,
        ingest_src: &str,
        table: Option<&str>,
        elaboration: &Value,
    ) -> Result<String> {
        self.add_entry_in_state(ingest_src, table, elaboration, INITIAL)
    }

    /// As [`Session::add_entry`], for entries whose first `from_state` is not `INITIAL`
    /// (surveilr's scripts begin at `surveilr_orch_init`).
    pub fn add_entry_in_state(
        &mut self,
        ingest_src: &str,
        table: Option<&str>,
        elaboration: &Value,
        initial_state: &str,
    ) -> Result<String> {
        let id = new_id();
        self.conn
            .prepare_cached(
                "INSERT INTO orchestration_session_entry
                   (orchestration_session_entry_id, session_id, ingest_src, ingest_table_name, elaboration)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![id, self.id, ingest_src, table, elaboration.to_string()])?;
        self.entry_states
            .insert(id.clone(), initial_state.to_string());
        Ok(id)
    }

    /// Sets the table an entry became (NULL until it is known).
    pub fn set_entry_table(&self, entry_id: &str, table: Option<&str>) -> Result<()> {
        self.update_entry("ingest_table_name", entry_id, table.map(str::to_string))
    }

    /// Replaces an entry's elaboration JSON.
    pub fn set_entry_elaboration(&self, entry_id: &str, elaboration: &Value) -> Result<()> {
        self.update_entry("elaboration", entry_id, Some(elaboration.to_string()))
    }

    fn update_entry(&self, column: &str, entry_id: &str, value: Option<String>) -> Result<()> {
        let sql = format!(
            "UPDATE orchestration_session_entry SET {column} = ?1 WHERE orchestration_session_entry_id = ?2 AND session_id = ?3"
        );
        let changed = self
            .conn
            .prepare_cached(&sql)?
            .execute(params![value, entry_id, self.id])?;
        if changed == 0 {
            return Err(Error::UnknownEntry(entry_id.to_string()));
        }
        Ok(())
    }

    /// Moves the session to `to`, recording where it came from.
    pub fn transition(&mut self, to: &str, reason: &str) -> Result<String> {
        self.record_transition(None, to, Some(reason), None, None)
    }

    /// Moves an entry to `to`, recording where it came from.
    pub fn entry_transition(&mut self, entry_id: &str, to: &str, reason: &str) -> Result<String> {
        self.record_transition(Some(entry_id), to, Some(reason), None, None)
    }

    /// After a transaction that moved `entry_id` was rolled back: the entry is in `state`
    /// again, as the database holds it.
    pub fn entry_rolled_back(&mut self, entry_id: &str, state: &str) {
        self.entry_states
            .insert(entry_id.to_string(), state.to_string());
    }

    /// The full form: a session (`entry_id` None) or entry transition with its result and
    /// elaboration JSON. Returns the state row's id.
    pub fn record_transition(
        &mut self,
        entry_id: Option<&str>,
        to: &str,
        reason: Option<&str>,
        result: Option<&Value>,
        elaboration: Option<&Value>,
    ) -> Result<String> {
        let from = match entry_id {
            None => self.state.clone(),
            Some(entry) => self
                .entry_states
                .get(entry)
                .cloned()
                .ok_or_else(|| Error::UnknownEntry(entry.to_string()))?,
        };
        let id = new_id();
        self.conn
            .prepare_cached(
                "INSERT INTO orchestration_session_state
                   (orchestration_session_state_id, session_id, session_entry_id, from_state, to_state,
                    transition_result, transition_reason, elaboration)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                id,
                self.id,
                entry_id,
                from,
                to,
                result.map(Value::to_string),
                reason,
                elaboration.map(Value::to_string)
            ])?;
        match entry_id {
            None => self.state = to.to_string(),
            Some(entry) => {
                self.entry_states.insert(entry.to_string(), to.to_string());
            }
        }
        Ok(id)
    }

    /// Records one statement or command the engine ran; returns the exec row's id.
    pub fn exec(&self, exec: &Exec) -> Result<String> {
        let id = new_id();
        self.conn
            .prepare_cached(
                "INSERT INTO orchestration_session_exec
                   (orchestration_session_exec_id, exec_nature, session_id, session_entry_id, parent_exec_id,
                    namespace, exec_identity, exec_code, exec_status, input_text, exec_error_text,
                    output_text, output_nature, narrative_md, elaboration)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
            )?
            .execute(params![
                id,
                exec.exec_nature,
                self.id,
                exec.entry_id,
                exec.parent_exec_id,
                exec.namespace,
                exec.identity,
                exec.code,
                exec.status,
                exec.input,
                exec.error,
                exec.output,
                exec.output_nature.as_ref().map(Value::to_string),
                exec.narrative_md,
                exec.elaboration_json(),
            ])?;
        Ok(id)
    }

    /// Records one issue; returns its id.
    pub fn issue(&self, issue: &Issue) -> Result<String> {
        record_issue(self.conn, &self.id, issue)
    }

    /// Appends an `orchestration_session_log` row. That table has no session column, so the
    /// session and entry ids go into its elaboration.
    pub fn log(&self, category: &str, content: &str, entry_id: Option<&str>) -> Result<String> {
        append_log(self.conn, &self.id, entry_id, category, content)
    }

    /// Ends the session as `COMPLETED` and stores its diagnostics.
    pub fn finish_completed(self, reason: &str) -> Result<diagnostics::Diagnostics> {
        self.finish(COMPLETED, reason)
    }

    /// Ends the session as `FAILED` with the reason, and stores its diagnostics.
    pub fn finish_failed(self, reason: &str) -> Result<diagnostics::Diagnostics> {
        self.finish(FAILED, reason)
    }

    /// Ends the session as `INTERRUPTED` (Ctrl-C) and stores its diagnostics.
    pub fn finish_interrupted(self, reason: &str) -> Result<diagnostics::Diagnostics> {
        self.finish(INTERRUPTED, reason)
    }

    fn finish(mut self, final_state: &str, reason: &str) -> Result<diagnostics::Diagnostics> {
        let elapsed_ms = self.started.elapsed().as_secs_f64() * 1000.0;
        let result = write_transaction(self.conn, || {
            self.record_transition(None, final_state, Some(reason), None, None)?;
            self.conn.execute(
                "UPDATE orchestration_session
                 SET orch_finished_at = CURRENT_TIMESTAMP,
                     elaboration = json_set(coalesce(elaboration, '{}'), '$.rssd.duration_ms', ?2)
                 WHERE orchestration_session_id = ?1",
                params![self.id, elapsed_ms],
            )?;
            diagnostics::store(self.conn, &self.id)
        });
        self.finished = true;
        result
    }
}

impl Drop for Session<'_> {
    fn drop(&mut self) {
        if !self.finished {
            self.finished = true;
            // Best effort: the caller is already failing (an error or a panic unwinding).
            let conn = self.conn;
            let _ = conn.execute_batch("ROLLBACK");
            let _ = write_transaction(conn, || {
                self.record_transition(
                    None,
                    FAILED,
                    Some("the session ended before it finished"),
                    None,
                    None,
                )?;
                conn.execute(
                    "UPDATE orchestration_session SET orch_finished_at = CURRENT_TIMESTAMP WHERE orchestration_session_id = ?1",
                    [&self.id],
                )?;
                diagnostics::store(conn, &self.id)?;
                Ok(())
            });
        }
    }
}

/// Inserts the nature if it is missing. Used by sessions and by scripts' SQL functions.
pub fn ensure_nature(conn: &Connection, nature_id: &str, nature_label: &str) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO orchestration_nature (orchestration_nature_id, nature, created_by)
         VALUES (?1, ?2, 'rssd') ON CONFLICT DO NOTHING",
    )?
    .execute(params![nature_id, nature_label])?;
    Ok(())
}

/// Inserts one issue row for `session_id`; returns its id.
pub fn record_issue(conn: &Connection, session_id: &str, issue: &Issue) -> Result<String> {
    let id = new_id();
    conn.prepare_cached(
        "INSERT INTO orchestration_session_issue
           (orchestration_session_issue_id, session_id, session_entry_id, issue_type, issue_message,
            issue_row, issue_column, invalid_value, remediation, elaboration)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        id,
        session_id,
        issue.entry_id,
        issue.issue_type,
        issue.message,
        issue.row,
        issue.column,
        issue.invalid_value,
        issue.remediation,
        issue.elaboration_json(),
    ])?;
    Ok(id)
}

/// Inserts one `orchestration_session_log` row; returns its id.
pub fn append_log(
    conn: &Connection,
    session_id: &str,
    entry_id: Option<&str>,
    category: &str,
    content: &str,
) -> Result<String> {
    let id = new_id();
    let elaboration = json!({"session_id": session_id, "session_entry_id": entry_id});
    conn.prepare_cached(
        "INSERT INTO orchestration_session_log (orchestration_session_log_id, category, content, elaboration)
         VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![id, category, content, elaboration.to_string()])?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::super::{IssueKind, OpenOptions, StateDb};
    use super::*;
    use crate::state::states::{INGESTED, INGESTING};

    fn open() -> (tempfile::TempDir, StateDb) {
        let dir = tempfile::tempdir().unwrap();
        let db = StateDb::open(dir.path().join("t.db"), &OpenOptions::default()).unwrap();
        (dir, db)
    }

    fn transitions(conn: &Connection, entry: Option<&str>) -> Vec<(String, String)> {
        let mut stmt = conn
            .prepare("SELECT from_state, to_state FROM orchestration_session_state WHERE session_entry_id IS ?1 ORDER BY rowid")
            .unwrap();
        stmt.query_map([entry], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(|r| r.unwrap())
            .collect()
    }

    #[test]
    fn recorder_remembers_states_so_callers_name_only_the_new_one() {
        let (_dir, db) = open();
        let mut session = db.begin_session("ingest", &json!({"argv": ["t"]})).unwrap();
        let entry = session.add_entry("a.csv", None, &json!({})).unwrap();
        assert_eq!(session.entry_state(&entry), Some(INITIAL));
        session
            .entry_transition(&entry, INGESTING, "reading")
            .unwrap();
        session.entry_transition(&entry, INGESTED, "done").unwrap();
        session.finish_completed("ok").unwrap();
        let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
            v.iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect()
        };
        assert_eq!(
            transitions(db.conn(), Some(&entry)),
            pairs(&[(INITIAL, INGESTING), (INGESTING, INGESTED)])
        );
        assert_eq!(
            transitions(db.conn(), None),
            pairs(&[(INITIAL, RUNNING), (RUNNING, COMPLETED)])
        );
    }

    #[test]
    fn unknown_entry_is_an_error_not_a_row() {
        let (_dir, db) = open();
        let mut session = db.begin_session("ingest", &json!({})).unwrap();
        let err = session
            .entry_transition("nope", INGESTING, "x")
            .unwrap_err();
        assert!(matches!(err, Error::UnknownEntry(_)));
        assert!(session.set_entry_table("nope", Some("t")).is_err());
        session.finish_completed("ok").unwrap();
    }

    #[test]
    fn every_json_written_is_valid_even_with_hostile_text() {
        let (_dir, db) = open();
        let hostile = "\"}{'\u{0}\n\\ <script>";
        let mut session = db
            .begin_session("ingest", &json!({"argv": [hostile]}))
            .unwrap();
        let entry = session
            .add_entry(hostile, Some(hostile), &json!({"name": hostile}))
            .unwrap();
        session
            .record_transition(
                Some(&entry),
                "X",
                Some(hostile),
                Some(&json!({"r": hostile})),
                Some(&json!([hostile])),
            )
            .unwrap();
        session
            .exec(
                &Exec::new("sql", hostile)
                    .entry(&entry)
                    .status(1)
                    .error(hostile)
                    .duration(Duration::from_millis(3)),
            )
            .unwrap();
        session
            .issue(
                &Issue::new(IssueKind::BlankRow, hostile)
                    .entry(&entry)
                    .row(2)
                    .invalid_value(hostile)
                    .with("rule", hostile),
            )
            .unwrap();
        session.log("info", hostile, Some(&entry)).unwrap();
        session.finish_failed(hostile).unwrap();
        let invalid: i64 = db
            .conn()
            .query_row(
                "SELECT (SELECT count(*) FROM orchestration_session WHERE NOT json_valid(elaboration) OR NOT json_valid(args_json) OR NOT json_valid(diagnostics_json))
                      + (SELECT count(*) FROM orchestration_session_entry WHERE NOT json_valid(elaboration))
                      + (SELECT count(*) FROM orchestration_session_state WHERE NOT json_valid(coalesce(transition_result, '{}')) OR NOT json_valid(coalesce(elaboration, '{}')))
                      + (SELECT count(*) FROM orchestration_session_exec WHERE NOT json_valid(elaboration))
                      + (SELECT count(*) FROM orchestration_session_issue WHERE NOT json_valid(elaboration))
                      + (SELECT count(*) FROM orchestration_session_log WHERE NOT json_valid(elaboration))",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(invalid, 0);
        let code: String = db
            .conn()
            .query_row(
                "SELECT json_extract(elaboration, '$.code') FROM orchestration_session_issue",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(code, "blank-row");
    }

    #[test]
    fn a_session_dropped_unfinished_is_recorded_failed() {
        let (_dir, db) = open();
        let id = {
            let session = db.begin_session("ingest", &json!({})).unwrap();
            session.id().to_string()
        };
        let (state, finished): (String, Option<String>) = db
            .conn()
            .query_row(
                "SELECT (SELECT to_state FROM orchestration_session_state WHERE session_id = s.orchestration_session_id ORDER BY rowid DESC LIMIT 1), orch_finished_at
                 FROM orchestration_session s WHERE orchestration_session_id = ?1",
                [&id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(state, FAILED);
        assert!(finished.is_some());
    }
}
