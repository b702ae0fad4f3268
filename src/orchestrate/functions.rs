//! The SQL functions surveilr's users call from their scripts, registered on the connection
//! that runs them (`rssd orchestrate`, `rssd shell`). `docs/functions.md` shows each one.
//!
//! Functions that read or write the orchestration tables run their SQL on the connection that
//! is executing the calling statement, so what they write belongs to the script's own
//! transaction, if it opened one.

use std::sync::{Arc, Mutex, MutexGuard};

use regex::Regex;
use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::json;

use super::deidentify;
use crate::state::states::{ABANDONED, COMPLETED, FAILED, INTERRUPTED, ORCH_COMPLETED};
use crate::state::{Issue, IssueKind, append_log, new_id, record_issue};
use crate::{Error, Result, VERSION};

/// What the runner is doing now: the session it records into and the script entry and
/// statement that are running. Empty outside a recorded session (`shell --no-observability`).
#[derive(Debug, Clone, Default)]
pub struct Active {
    pub session_id: Option<String>,
    pub nature_id: Option<String>,
    pub entry_id: Option<String>,
    pub statement: Option<String>,
}

/// Shared between the runner, which updates it, and the registered functions, which read it.
#[derive(Debug, Clone)]
pub struct ScriptContext {
    active: Arc<Mutex<Active>>,
    device_id: String,
}

impl ScriptContext {
    pub fn new(device_id: &str) -> ScriptContext {
        ScriptContext {
            active: Arc::new(Mutex::new(Active::default())),
            device_id: device_id.to_string(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Active> {
        match self.active.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    pub fn set_session(&self, session_id: Option<&str>, nature_id: Option<&str>) {
        let mut active = self.lock();
        active.session_id = session_id.map(str::to_string);
        active.nature_id = nature_id.map(str::to_string);
    }

    pub fn set_entry(&self, entry_id: Option<&str>) {
        self.lock().entry_id = entry_id.map(str::to_string);
    }

    pub fn set_statement(&self, statement: Option<String>) {
        self.lock().statement = statement;
    }

    pub fn snapshot(&self) -> Active {
        self.lock().clone()
    }

    /// The session scripts see as theirs: the one this process records into, else the latest
    /// session in the database without a final state (as surveilr defines it).
    fn session_id(&self, conn: &Connection) -> Result<Option<String>> {
        if let Some(id) = self.lock().session_id.clone() {
            return Ok(Some(id));
        }
        latest_unfinished_session(conn)
    }

    /// The entry to attach rows to: the running script's, when the session is ours.
    fn entry_for(&self, session_id: &str) -> Option<String> {
        let active = self.lock();
        if active.session_id.as_deref() == Some(session_id) {
            active.entry_id.clone()
        } else {
            None
        }
    }
}

/// The latest session with no finish time and no final state of its own.
pub fn latest_unfinished_session(conn: &Connection) -> Result<Option<String>> {
    let finals = [COMPLETED, FAILED, INTERRUPTED, ABANDONED, ORCH_COMPLETED];
    let id = conn
        .query_row(
            "SELECT s.orchestration_session_id FROM orchestration_session s
             WHERE s.orch_finished_at IS NULL
               AND NOT EXISTS (SELECT 1 FROM orchestration_session_state st
                               WHERE st.session_id = s.orchestration_session_id
                                 AND st.session_entry_id IS NULL
                                 AND st.to_state IN (?1, ?2, ?3, ?4, ?5))
             ORDER BY s.orch_started_at DESC, s.rowid DESC LIMIT 1",
            finals,
            |row| row.get(0),
        )
        .optional()?;
    Ok(id)
}

/// Registers every function on `conn`.
pub fn register(conn: &Connection, context: &ScriptContext) -> Result<()> {
    register_context_functions(conn, context)?;
    register_recording_functions(conn, context)?;
    register_deidentification(conn)?;
    register_regexp(conn)?;
    Ok(())
}

const PURE: FunctionFlags = FunctionFlags::SQLITE_UTF8.union(FunctionFlags::SQLITE_DETERMINISTIC);
const VOLATILE: FunctionFlags = FunctionFlags::SQLITE_UTF8;

fn user_error(err: Error) -> rusqlite::Error {
    rusqlite::Error::UserFunctionError(Box::new(err))
}

fn usage_error(message: String) -> rusqlite::Error {
    user_error(Error::Invalid(message))
}

/// Runs `work` with the connection executing the calling statement.
fn with_conn<T>(
    ctx: &Context<'_>,
    work: impl FnOnce(&Connection) -> Result<T>,
) -> rusqlite::Result<T> {
    // SAFETY: the handle is the connection running this very statement; it is used only for
    // the length of this call, on this thread, and never closed (the reference does not own it).
    let conn = unsafe { ctx.get_connection()? };
    work(&conn).map_err(user_error)
}

/// An argument as text; numbers are written as SQLite writes them, NULL is `None`.
fn text_arg(ctx: &Context<'_>, index: usize) -> Option<String> {
    match ctx.get_raw(index) {
        ValueRef::Null => None,
        ValueRef::Integer(n) => Some(n.to_string()),
        ValueRef::Real(f) => Some(f.to_string()),
        ValueRef::Text(bytes) | ValueRef::Blob(bytes) => {
            Some(String::from_utf8_lossy(bytes).into_owned())
        }
    }
}

fn optional_text_arg(ctx: &Context<'_>, index: usize) -> Option<String> {
    if index < ctx.len() {
        text_arg(ctx, index)
    } else {
        None
    }
}

fn required_text_arg(ctx: &Context<'_>, index: usize, function: &str) -> rusqlite::Result<String> {
    text_arg(ctx, index)
        .ok_or_else(|| usage_error(format!("{function}: argument {} is NULL", index + 1)))
}

fn register_context_functions(conn: &Connection, context: &ScriptContext) -> Result<()> {
    conn.create_scalar_function("ulid", 0, VOLATILE, |_| Ok(new_id()))?;
    conn.create_scalar_function("surveilr_version", 0, PURE, |_| Ok(VERSION))?;
    let device_id = context.device_id.clone();
    conn.create_scalar_function("surveilr_device_id", 0, VOLATILE, move |_| {
        Ok(device_id.clone())
    })?;

    let c = context.clone();
    conn.create_scalar_function(
        "surveilr_orchestration_context_session_id",
        0,
        VOLATILE,
        move |ctx| with_conn(ctx, |conn| c.session_id(conn)),
    )?;
    let c = context.clone();
    conn.create_scalar_function(
        "surveilr_orchestration_context_active",
        0,
        VOLATILE,
        move |ctx| with_conn(ctx, |conn| Ok(c.session_id(conn)?.is_some() as i64)),
    )?;

    for arity in [0, 1] {
        let c = context.clone();
        conn.create_scalar_function(
            "surveilr_orchestration_nature_id",
            arity,
            VOLATILE,
            move |ctx| {
                let wanted = optional_text_arg(ctx, 0);
                with_conn(ctx, |conn| match wanted {
                    Some(nature) => nature_id(conn, &nature),
                    None => session_nature_id(conn, &c),
                })
            },
        )?;
    }

    for arity in [2, 3] {
        conn.create_scalar_function(
            "surveilr_ensure_orchestration_nature",
            arity,
            VOLATILE,
            |ctx| {
                let id = required_text_arg(ctx, 0, "surveilr_ensure_orchestration_nature")?;
                let nature = required_text_arg(ctx, 1, "surveilr_ensure_orchestration_nature")?;
                let elaboration = optional_text_arg(ctx, 2).map(|text| as_json_text(&text));
                with_conn(ctx, |conn| ensure_nature(conn, &id, &nature, elaboration))
            },
        )?;
    }

    for arity in [0, 1] {
        let c = context.clone();
        conn.create_scalar_function(
            "surveilr_get_orchestration_session_info",
            arity,
            VOLATILE,
            move |ctx| {
                let wanted = optional_text_arg(ctx, 0);
                with_conn(ctx, |conn| {
                    let session = match wanted {
                        Some(id) => Some(id),
                        None => c.session_id(conn)?,
                    };
                    match session {
                        Some(id) => session_info(conn, &c, &id),
                        None => Ok(None),
                    }
                })
            },
        )?;
    }
    Ok(())
}

fn register_recording_functions(conn: &Connection, context: &ScriptContext) -> Result<()> {
    let c = context.clone();
    conn.create_scalar_function("surveilr_assert_tabular_object", 1, VOLATILE, move |ctx| {
        let name = required_text_arg(ctx, 0, "surveilr_assert_tabular_object")?;
        with_conn(ctx, |conn| assert_object(conn, &c, &name))
    })?;
    let c = context.clone();
    conn.create_scalar_function("surveilr_assert_tabular_column", 2, VOLATILE, move |ctx| {
        let name = required_text_arg(ctx, 0, "surveilr_assert_tabular_column")?;
        let columns = required_text_arg(ctx, 1, "surveilr_assert_tabular_column")?;
        with_conn(ctx, |conn| assert_columns(conn, &c, &name, &columns))
    })?;
    let c = context.clone();
    conn.create_scalar_function(
        "surveilr_orchestration_session_append_log",
        2,
        VOLATILE,
        move |ctx| {
            let category = text_arg(ctx, 0).unwrap_or_default();
            let content = text_arg(ctx, 1).unwrap_or_default();
            with_conn(ctx, |conn| script_log(conn, &c, &category, &content))
        },
    )?;
    for arity in 5..=7 {
        let c = context.clone();
        conn.create_scalar_function(
            "surveilr_create_session_exec",
            arity,
            VOLATILE,
            move |ctx| {
                let session_id = text_arg(ctx, 0).ok_or_else(|| {
                    usage_error(
                        "surveilr_create_session_exec: session_id is NULL (no active session?)"
                            .to_string(),
                    )
                })?;
                let status: Value = ctx.get(2)?;
                let exec = ScriptExec {
                    session_id,
                    exec_nature: text_arg(ctx, 1).unwrap_or_else(|| "sql".to_string()),
                    status,
                    input: text_arg(ctx, 3),
                    output: text_arg(ctx, 4),
                    error: optional_text_arg(ctx, 5),
                    narrative_md: optional_text_arg(ctx, 6),
                };
                with_conn(ctx, |conn| create_exec(conn, &c, &exec))
            },
        )?;
    }
    Ok(())
}

/// Text stored in a JSON column: itself when it is JSON already, else as a JSON string.
fn as_json_text(text: &str) -> String {
    if serde_json::from_str::<serde_json::Value>(text).is_ok() {
        text.to_string()
    } else {
        serde_json::Value::from(text).to_string()
    }
}

/// The nature named by id or label; `v&v` finds `V&V` as `-n v&v` does. Exact matches win
/// over matches that ignore case.
fn nature_id(conn: &Connection, nature: &str) -> Result<Option<String>> {
    let (mapped, _) = super::nature_for(nature);
    let id = conn
        .query_row(
            "SELECT orchestration_nature_id FROM orchestration_nature
             WHERE orchestration_nature_id IN (?1, ?2) OR nature = ?1
                OR orchestration_nature_id = ?1 COLLATE NOCASE OR nature = ?1 COLLATE NOCASE
             ORDER BY CASE WHEN orchestration_nature_id = ?1 THEN 0
                           WHEN orchestration_nature_id = ?2 THEN 1
                           WHEN nature = ?1 THEN 2 ELSE 3 END
             LIMIT 1",
            [nature, mapped.as_str()],
            |row| row.get(0),
        )
        .optional()?;
    Ok(id)
}

fn session_nature_id(conn: &Connection, context: &ScriptContext) -> Result<Option<String>> {
    if let Some(nature) = context.snapshot().nature_id {
        return Ok(Some(nature));
    }
    let Some(session) = context.session_id(conn)? else {
        return Ok(None);
    };
    let id = conn
        .query_row(
            "SELECT orchestration_nature_id FROM orchestration_session WHERE orchestration_session_id = ?1",
            [session],
            |row| row.get(0),
        )
        .optional()?;
    Ok(id)
}

fn ensure_nature(
    conn: &Connection,
    id: &str,
    nature: &str,
    elaboration: Option<String>,
) -> Result<String> {
    conn.execute(
        "INSERT INTO orchestration_nature (orchestration_nature_id, nature, elaboration, created_by)
         VALUES (?1, ?2, ?3, 'rssd') ON CONFLICT DO NOTHING",
        params![id, nature, elaboration],
    )?;
    let stored: String = conn
        .query_row(
            "SELECT nature FROM orchestration_nature WHERE orchestration_nature_id = ?1",
            [id],
            |row| row.get(0),
        )
        .optional()?
        .unwrap_or_else(|| nature.to_string());
    Ok(json!({"orchestration_nature_id": id, "nature": stored}).to_string())
}

fn session_info(
    conn: &Connection,
    context: &ScriptContext,
    session_id: &str,
) -> Result<Option<String>> {
    type SessionRow = (
        String,
        String,
        String,
        String,
        Option<String>,
        Option<String>,
    );
    let row: Option<SessionRow> = conn
        .query_row(
            "SELECT orchestration_session_id, device_id, orchestration_nature_id, version,
                    orch_started_at, orch_finished_at
             FROM orchestration_session WHERE orchestration_session_id = ?1",
            [session_id],
            |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            },
        )
        .optional()?;
    let Some((id, device_id, nature_id, version, started, finished)) = row else {
        return Ok(None);
    };
    // The running entry when the session is ours; for another tool's session, its latest.
    let entry_id = match context.entry_for(&id) {
        Some(entry) => Some(entry),
        None => conn
            .query_row(
                "SELECT orchestration_session_entry_id FROM orchestration_session_entry
                 WHERE session_id = ?1 ORDER BY rowid DESC LIMIT 1",
                [&id],
                |r| r.get::<_, String>(0),
            )
            .optional()?,
    };
    let ingest_src: Option<String> = match &entry_id {
        Some(entry) => conn
            .query_row(
                "SELECT ingest_src FROM orchestration_session_entry WHERE orchestration_session_entry_id = ?1",
                [entry],
                |r| r.get(0),
            )
            .optional()?,
        None => None,
    };
    Ok(Some(
        json!({
            "orchestration_session_id": id,
            "orchestration_session_entry_id": entry_id,
            "ingest_src": ingest_src,
            "device_id": device_id,
            "orchestration_nature_id": nature_id,
            "version": version,
            "orch_started_at": started,
            "orch_finished_at": finished,
        })
        .to_string(),
    ))
}

/// The columns of a table or view in any attached schema, or `None` when there is none.
fn object_columns(conn: &Connection, name: &str) -> Result<Option<Vec<String>>> {
    let exists: i64 = conn.query_row(
        "SELECT count(*) FROM (
             SELECT name, type FROM sqlite_schema UNION ALL SELECT name, type FROM sqlite_temp_schema)
         WHERE type IN ('table', 'view') AND name = ?1 COLLATE NOCASE",
        [name],
        |row| row.get(0),
    )?;
    if exists == 0 {
        return Ok(None);
    }
    let mut stmt = conn.prepare("SELECT name FROM pragma_table_info(?1)")?;
    let columns = stmt
        .query_map([name], |row| row.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(Some(columns))
}

/// Records an issue in the scripts' session; without one there is nowhere to put it.
fn script_issue(conn: &Connection, context: &ScriptContext, issue: Issue) -> Result<()> {
    if let Some(session) = context.session_id(conn)? {
        let issue = match context.entry_for(&session) {
            Some(entry) => issue.entry(&entry),
            None => issue,
        };
        record_issue(conn, &session, &issue)?;
    }
    Ok(())
}

fn assert_object(conn: &Connection, context: &ScriptContext, name: &str) -> Result<i64> {
    if object_columns(conn, name)?.is_some() {
        return Ok(1);
    }
    let issue = Issue::new(
        IssueKind::MissingTable,
        format!("table or view \"{name}\" does not exist"),
    )
    .invalid_value(name)
    .remediation("load the file that makes this table, or correct the name in the script")
    .with("function", "surveilr_assert_tabular_object")
    .with("table", name);
    script_issue(conn, context, issue)?;
    Ok(0)
}

fn assert_columns(
    conn: &Connection,
    context: &ScriptContext,
    name: &str,
    wanted: &str,
) -> Result<i64> {
    let present = object_columns(conn, name)?.unwrap_or_default();
    let mut all_present = true;
    for column in wanted.split(',').map(str::trim).filter(|c| !c.is_empty()) {
        if present.iter().any(|have| have.eq_ignore_ascii_case(column)) {
            continue;
        }
        all_present = false;
        let issue = Issue::new(
            IssueKind::MissingColumn,
            format!("table or view \"{name}\" has no column \"{column}\""),
        )
        .column(column)
        .remediation("add the column to the source file, or correct the name in the script")
        .with("function", "surveilr_assert_tabular_column")
        .with("table", name);
        script_issue(conn, context, issue)?;
    }
    Ok(all_present as i64)
}

fn script_log(
    conn: &Connection,
    context: &ScriptContext,
    category: &str,
    content: &str,
) -> Result<String> {
    match context.session_id(conn)? {
        Some(session) => {
            let entry = context.entry_for(&session);
            append_log(conn, &session, entry.as_deref(), category, content)
        }
        // The log table has no session column, so a row can be kept without a session.
        None => {
            let id = new_id();
            conn.execute(
                "INSERT INTO orchestration_session_log (orchestration_session_log_id, category, content, elaboration)
                 VALUES (?1, ?2, ?3, ?4)",
                params![id, category, content, json!({"session_id": null}).to_string()],
            )?;
            Ok(id)
        }
    }
}

struct ScriptExec {
    session_id: String,
    exec_nature: String,
    /// As the script gave it: scripts in the wild pass 1, 0 or 'SUCCESS'.
    status: Value,
    input: Option<String>,
    output: Option<String>,
    error: Option<String>,
    narrative_md: Option<String>,
}

fn create_exec(conn: &Connection, context: &ScriptContext, exec: &ScriptExec) -> Result<String> {
    let id = new_id();
    let entry = context.entry_for(&exec.session_id);
    // exec_code is NOT NULL: the statement that called us says best what ran.
    let code = context
        .snapshot()
        .statement
        .or_else(|| exec.input.clone())
        .unwrap_or_else(|| exec.exec_nature.clone());
    conn.execute(
        "INSERT INTO orchestration_session_exec
           (orchestration_session_exec_id, exec_nature, session_id, session_entry_id, exec_code,
            exec_status, input_text, output_text, exec_error_text, narrative_md)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            id,
            exec.exec_nature,
            exec.session_id,
            entry,
            code,
            exec.status,
            exec.input,
            exec.output,
            exec.error,
            exec.narrative_md
        ],
    )?;
    Ok(id)
}

/// Registers a one-argument text helper that maps NULL to NULL.
fn register_text_helper(
    conn: &Connection,
    name: &str,
    helper: fn(&str) -> Option<String>,
) -> Result<()> {
    conn.create_scalar_function(name, 1, PURE, move |ctx| {
        Ok(text_arg(ctx, 0).and_then(|text| helper(&text)))
    })?;
    Ok(())
}

fn register_deidentification(conn: &Connection) -> Result<()> {
    for arity in [1, 2] {
        conn.create_scalar_function("anonymize_name", arity, PURE, |ctx| {
            let salt = optional_text_arg(ctx, 1);
            Ok(text_arg(ctx, 0).map(|name| deidentify::anonymize_name(&name, salt.as_deref())))
        })?;
        conn.create_scalar_function("anonymize_email", arity, PURE, |ctx| {
            let salt = optional_text_arg(ctx, 1);
            Ok(text_arg(ctx, 0).map(|email| deidentify::anonymize_email(&email, salt.as_deref())))
        })?;
        conn.create_scalar_function("mask", arity, PURE, |ctx| {
            let mask_char = optional_text_arg(ctx, 1)
                .and_then(|text| text.chars().next())
                .unwrap_or('*');
            Ok(text_arg(ctx, 0).map(|text| deidentify::mask(&text, mask_char)))
        })?;
    }
    register_text_helper(conn, "mask_phone", |t| Some(deidentify::mask_phone(t)))?;
    register_text_helper(conn, "mask_financial", |t| {
        Some(deidentify::mask_financial(t))
    })?;
    register_text_helper(conn, "mask_dob", |t| Some(deidentify::mask_dob(t)))?;
    register_text_helper(conn, "mask_address", |t| Some(deidentify::mask_address(t)))?;
    register_text_helper(conn, "anonymize_date", deidentify::anonymize_date)?;
    register_text_helper(conn, "generalize_age", |t| {
        t.trim()
            .parse::<f64>()
            .ok()
            .and_then(deidentify::generalize_age)
    })?;
    conn.create_scalar_function("hash", 1, PURE, |ctx| {
        Ok(match ctx.get_raw(0) {
            ValueRef::Null => None,
            ValueRef::Blob(bytes) => Some(deidentify::sha1_hex(bytes)),
            _ => text_arg(ctx, 0).map(|text| deidentify::sha1_hex(text.as_bytes())),
        })
    })?;
    Ok(())
}

/// The compiled pattern of argument `index`, cached by SQLite for as long as the statement
/// passes the same pattern.
fn pattern(ctx: &Context<'_>, index: usize) -> rusqlite::Result<Option<Arc<Regex>>> {
    if matches!(ctx.get_raw(index), ValueRef::Null) {
        return Ok(None);
    }
    ctx.get_or_create_aux(index as i32, |value| -> std::result::Result<Regex, Error> {
        let text = value
            .as_str()
            .map_err(|_| Error::Invalid("a regular expression must be text".to_string()))?;
        Regex::new(text).map_err(|err| Error::Invalid(format!("invalid regular expression: {err}")))
    })
    .map(Some)
}

fn register_regexp(conn: &Connection) -> Result<()> {
    // `x REGEXP p` calls regexp(p, x).
    conn.create_scalar_function("regexp", 2, PURE, |ctx| {
        let (Some(re), Some(text)) = (pattern(ctx, 0)?, text_arg(ctx, 1)) else {
            return Ok(None);
        };
        Ok(Some(re.is_match(&text) as i64))
    })?;
    conn.create_scalar_function("regexp_like", 2, PURE, |ctx| {
        let (Some(text), Some(re)) = (text_arg(ctx, 0), pattern(ctx, 1)?) else {
            return Ok(None);
        };
        Ok(Some(re.is_match(&text) as i64))
    })?;
    conn.create_scalar_function("regexp_substr", 2, PURE, |ctx| {
        let (Some(text), Some(re)) = (text_arg(ctx, 0), pattern(ctx, 1)?) else {
            return Ok(None);
        };
        Ok(re.find(&text).map(|m| m.as_str().to_string()))
    })?;
    for arity in [2, 3] {
        conn.create_scalar_function("regexp_capture", arity, PURE, |ctx| {
            let (Some(text), Some(re)) = (text_arg(ctx, 0), pattern(ctx, 1)?) else {
                return Ok(None);
            };
            let group: i64 = if ctx.len() > 2 { ctx.get(2)? } else { 1 };
            let Ok(group) = usize::try_from(group) else {
                return Ok(None);
            };
            Ok(re
                .captures(&text)
                .and_then(|caps| caps.get(group))
                .map(|m| m.as_str().to_string()))
        })?;
    }
    conn.create_scalar_function("regexp_replace", 3, PURE, |ctx| {
        let (Some(text), Some(re)) = (text_arg(ctx, 0), pattern(ctx, 1)?) else {
            return Ok(None);
        };
        let replacement = text_arg(ctx, 2).unwrap_or_default();
        Ok(Some(
            re.replace_all(&text, replacement.as_str()).into_owned(),
        ))
    })?;
    Ok(())
}
