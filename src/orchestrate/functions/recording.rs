//! Functions that record into the scripts' session: assertions, issues, logs, execs, and
//! the session and nature they belong to.

use super::*;

pub(super) fn register_recording_functions(
    conn: &Connection,
    context: &ScriptContext,
) -> Result<()> {
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
pub(super) fn as_json_text(text: &str) -> String {
    if serde_json::from_str::<serde_json::Value>(text).is_ok() {
        text.to_string()
    } else {
        serde_json::Value::from(text).to_string()
    }
}

/// The nature named by id or label; `v&v` finds `V&V` as `-n v&v` does. Exact matches win
/// over matches that ignore case.
pub(super) fn nature_id(conn: &Connection, nature: &str) -> Result<Option<String>> {
    let (mapped, _) = super::super::nature_for(nature);
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

pub(super) fn session_nature_id(
    conn: &Connection,
    context: &ScriptContext,
) -> Result<Option<String>> {
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

pub(super) fn ensure_nature(
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

pub(super) fn session_info(
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
pub(super) fn object_columns(conn: &Connection, name: &str) -> Result<Option<Vec<String>>> {
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
pub(super) fn script_issue(conn: &Connection, context: &ScriptContext, issue: Issue) -> Result<()> {
    if let Some(session) = context.session_id(conn)? {
        let issue = match context.entry_for(&session) {
            Some(entry) => issue.entry(&entry),
            None => issue,
        };
        record_issue(conn, &session, &issue)?;
    }
    Ok(())
}

pub(super) fn assert_object(conn: &Connection, context: &ScriptContext, name: &str) -> Result<i64> {
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

pub(super) fn assert_columns(
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

pub(super) fn script_log(
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

pub(super) struct ScriptExec {
    session_id: String,
    exec_nature: String,
    /// As the script gave it: scripts in the wild pass 1, 0 or 'SUCCESS'.
    status: Value,
    input: Option<String>,
    output: Option<String>,
    error: Option<String>,
    narrative_md: Option<String>,
}

pub(super) fn create_exec(
    conn: &Connection,
    context: &ScriptContext,
    exec: &ScriptExec,
) -> Result<String> {
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
