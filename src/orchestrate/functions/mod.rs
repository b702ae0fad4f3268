//! The SQL functions surveilr's users call from their scripts, registered on the connection
//! that runs them (`rssd orchestrate`, `rssd shell`). `docs/functions.md` shows each one.
//!
//! Functions that read or write the orchestration tables run their SQL on the connection that
//! is executing the calling statement, so what they write belongs to the script's own
//! transaction, if it opened one.

mod recording;
mod text;

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
use recording::*;
use text::*;

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
