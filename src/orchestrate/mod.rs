//! Users' SQL scripts run inside a recorded session, as `surveilr orchestrate` and `surveilr
//! shell` run them (`rssd orchestrate`, `rssd shell`).
//!
//! Each script is one entry (`ingest_src` = its path, URL, `-` for standard input or `--cmd`)
//! with the states `surveilr_orch_init -> surveilr_orch_progress -> surveilr_orch_completed |
//! surveilr_orch_failed`, and one `sql` exec row. A script runs as a batch of statements on the
//! RSSD's own connection, with no transaction around it: when a statement fails, those before
//! it keep their effects (a script may BEGIN and COMMIT its own; a transaction it leaves open
//! is rolled back when the script fails and committed when it succeeds). A failing script is
//! recorded (exec, log, `Script Error` issue) and the next one still runs.
//!
//! Foreign keys are off while a script runs: the engine keeps them on for its own writes, but
//! scripts in the wild write rows the reference schema's keys reject (log rows whose
//! `parent_exec_id` names an exec, when the key points at the log table itself; ids of their
//! own making), and surveilr runs them. They are switched on again after each script.

pub mod deidentify;
pub mod functions;
pub mod source;

use std::time::{Duration, Instant};

use rusqlite::fallible_iterator::FallibleIterator;
use rusqlite::types::Value;
use rusqlite::{Batch, Connection};
use serde_json::json;

use crate::Result;
use crate::sql::object_exists;
use crate::state::states::{ORCH_COMPLETED, ORCH_FAILED, ORCH_INIT, ORCH_PROGRESS};
use crate::state::{Exec, Issue, IssueKind, Session, StateDb};
pub use functions::ScriptContext;
pub use source::{ScriptSource, SourceKind};

/// The nature id and label for a `-n` name, as surveilr maps them.
pub fn nature_for(name: &str) -> (String, String) {
    match name.trim().to_ascii_lowercase().as_str() {
        "v&v" => ("V&V".into(), "Verification and Validation".into()),
        "deidentification" => ("deidentification".into(), "De-identification".into()),
        _ => (name.to_string(), name.to_string()),
    }
}

/// The nature `rssd shell` records its sessions under.
pub const SHELL_NATURE: &str = "shell-rusqlite";

#[derive(Debug, Clone)]
pub struct RunOptions {
    pub nature_id: String,
    pub nature_label: String,
    /// Keep each script's text in its entry's elaboration and exec row.
    pub save_script: bool,
    /// Keep the rows of the last statement that returns columns (for `shell`).
    pub capture_result: bool,
    /// Record a session; `false` runs the scripts and writes nothing of its own.
    pub observe: bool,
    /// Let scripts call `load_extension()`.
    pub allow_extensions: bool,
}

/// Column names and rows of one statement's result.
#[derive(Debug, Clone, Default)]
pub struct ResultSet {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

/// What happened to one script.
#[derive(Debug, Clone)]
pub struct ScriptOutcome {
    pub src: String,
    pub entry_id: Option<String>,
    pub statements: usize,
    pub rows_changed: u64,
    /// Why the script failed; `None` when it completed.
    pub error: Option<String>,
    pub duration: Duration,
}

#[derive(Debug, Clone, Default)]
pub struct RunReport {
    pub session_id: Option<String>,
    pub scripts: Vec<ScriptOutcome>,
    pub last_result: Option<ResultSet>,
}

impl RunReport {
    pub fn failed(&self) -> usize {
        self.scripts.iter().filter(|s| s.error.is_some()).count()
    }
}

/// Runs `sources` in order on the RSSD's connection, recording a session unless
/// `options.observe` is false. `args` goes into the session's `args_json`.
pub fn run(
    db: &StateDb,
    sources: &[ScriptSource],
    options: &RunOptions,
    args: &serde_json::Value,
) -> Result<RunReport> {
    let conn = db.conn();
    let context = ScriptContext::new(&db.device().device_id);
    functions::register(conn, &context)?;
    if options.allow_extensions {
        // SAFETY: the user asked for it with --allow-extensions; loading is switched off again
        // below, before anything else runs on this connection.
        unsafe { conn.load_extension_enable()? };
    }
    let result = run_sources(db, &context, sources, options, args);
    if options.allow_extensions {
        conn.load_extension_disable()?;
    }
    result
}

fn run_sources(
    db: &StateDb,
    context: &ScriptContext,
    sources: &[ScriptSource],
    options: &RunOptions,
    args: &serde_json::Value,
) -> Result<RunReport> {
    let mut report = RunReport::default();
    let mut session = if options.observe {
        let session =
            db.begin_session_with_label(&options.nature_id, &options.nature_label, args)?;
        context.set_session(Some(session.id()), Some(&options.nature_id));
        report.session_id = Some(session.id().to_string());
        Some(session)
    } else {
        None
    };
    for source in sources {
        if crate::interrupt::requested() {
            if let Some(session) = session {
                let done = report.scripts.len();
                session.finish_interrupted(&format!(
                    "interrupted after {done} of {} scripts",
                    sources.len()
                ))?;
            }
            context.set_session(None, None);
            return Err(crate::Error::Interrupted);
        }
        let outcome = run_one(
            db.conn(),
            session.as_mut(),
            context,
            source,
            options,
            &mut report,
        )?;
        report.scripts.push(outcome);
    }
    context.set_entry(None);
    if let Some(session) = session {
        let failed = report.failed();
        let reason = format!(
            "{} of {} scripts completed, {failed} failed",
            report.scripts.len() - failed,
            report.scripts.len()
        );
        session.finish_completed(&reason)?;
    }
    context.set_session(None, None);
    Ok(report)
}

fn run_one(
    conn: &Connection,
    mut session: Option<&mut Session<'_>>,
    context: &ScriptContext,
    source: &ScriptSource,
    options: &RunOptions,
    report: &mut RunReport,
) -> Result<ScriptOutcome> {
    let started = Instant::now();
    let digest = source
        .text
        .as_ref()
        .ok()
        .map(|text| deidentify::sha1_hex(text.as_bytes()));
    let mut elaboration = json!({
        "kind": "sql-script",
        "source": source.kind,
        "bytes": source.text.as_ref().map(String::len).ok(),
        "sha1": digest,
    });
    if let (true, Ok(text)) = (options.save_script, &source.text) {
        elaboration["script"] = json!(text);
    }
    let entry_id = match session.as_deref_mut() {
        Some(session) => {
            // One transaction: a kill never leaves an entry without a state.
            let entry = crate::sql::in_transaction(conn, || {
                let entry =
                    session.add_entry_in_state(&source.src, None, &elaboration, ORCH_INIT)?;
                session.entry_transition(&entry, ORCH_PROGRESS, "script started")?;
                Ok(entry)
            })?;
            Some(entry)
        }
        None => None,
    };
    context.set_entry(entry_id.as_deref());

    let run = match &source.text {
        Ok(text) => {
            let run = execute_script(conn, context, text, options.capture_result)?;
            if let Some(result) = &run.last_result {
                report.last_result = Some(result.clone());
            }
            run
        }
        Err(reason) => ScriptRun {
            error: Some(ScriptFailure {
                message: format!("cannot read the script: {reason}"),
                statement: None,
            }),
            ..ScriptRun::default()
        },
    };
    let outcome = ScriptOutcome {
        src: source.src.clone(),
        entry_id: entry_id.clone(),
        statements: run.statements,
        rows_changed: run.rows_changed,
        error: run.error.as_ref().map(|f| f.message.clone()),
        duration: started.elapsed(),
    };
    if let (Some(session), Some(entry)) = (session, entry_id.as_deref()) {
        let code = match (&source.text, options.save_script) {
            (Ok(text), true) => text.clone(),
            _ => format!(
                "-- script text not saved ({}); sha1 {}",
                source.src,
                digest.as_deref().unwrap_or("-")
            ),
        };
        record_outcome(session, entry, source, &outcome, &run, code, elaboration)?;
    }
    Ok(outcome)
}

fn record_outcome(
    session: &mut Session<'_>,
    entry: &str,
    source: &ScriptSource,
    outcome: &ScriptOutcome,
    run: &ScriptRun,
    code: String,
    mut elaboration: serde_json::Value,
) -> Result<()> {
    let facts = json!({
        "statements": outcome.statements,
        "rows_changed": outcome.rows_changed,
        "failed_statement": run.error.as_ref().and_then(|f| f.statement),
        "outcome": if outcome.error.is_some() { "failed" } else { "completed" },
        "duration_ms": outcome.duration.as_secs_f64() * 1000.0,
    });
    if source.text.is_ok() {
        session.exec(&Exec {
            exec_nature: "sql".to_string(),
            entry_id: Some(entry.to_string()),
            code,
            status: outcome.error.is_some() as i64,
            error: outcome.error.clone(),
            output: Some(format!("{} rows changed", outcome.rows_changed)),
            duration: Some(outcome.duration),
            elaboration: Some(facts.clone()),
            ..Exec::default()
        })?;
    }
    if let Some(map) = elaboration.as_object_mut() {
        map.insert("run".to_string(), facts);
    }
    session.set_entry_elaboration(entry, &elaboration)?;
    match &outcome.error {
        None => {
            session.entry_transition(
                entry,
                ORCH_COMPLETED,
                &format!(
                    "{} statements, {} rows changed",
                    outcome.statements, outcome.rows_changed
                ),
            )?;
        }
        Some(error) => {
            let message = format!("{}: {error}", source.src);
            session.log("error", &message, Some(entry))?;
            let kind = if source.text.is_ok() {
                IssueKind::ScriptError
            } else {
                IssueKind::UnreadableFile
            };
            let mut issue = Issue::new(kind, message)
                .entry(entry)
                .remediation("correct the script and run it again");
            if let Some(statement) = run.error.as_ref().and_then(|f| f.statement) {
                issue = issue.with("statement", statement as u64);
            }
            session.issue(&issue)?;
            session.entry_transition(entry, ORCH_FAILED, error)?;
        }
    }
    Ok(())
}

#[derive(Debug, Clone, Default)]
struct ScriptFailure {
    message: String,
    /// 1-based number of the failing statement.
    statement: Option<usize>,
}

#[derive(Debug, Clone, Default)]
struct ScriptRun {
    statements: usize,
    rows_changed: u64,
    error: Option<ScriptFailure>,
    last_result: Option<ResultSet>,
}

/// Runs the statements of `text` one by one, stepping each through all its rows (a SELECT
/// that calls a logging function logs once per row, as in sqlite3).
fn execute_script(
    conn: &Connection,
    context: &ScriptContext,
    text: &str,
    capture: bool,
) -> Result<ScriptRun> {
    conn.execute_batch("PRAGMA foreign_keys = OFF")?;
    ensure_session_info_view(conn)?;
    let changes_before = conn.total_changes();
    let mut run = ScriptRun::default();
    let mut batch = Batch::new(conn, text);
    loop {
        let number = run.statements + 1;
        let mut statement = match batch.next() {
            Ok(Some(statement)) => statement,
            Ok(None) => break,
            Err(err) => {
                run.error = Some(failure(number, &err));
                break;
            }
        };
        run.statements = number;
        context.set_statement(statement.expanded_sql());
        let columns: Vec<String> = statement.column_names().map(str::to_string).collect();
        let mut result = ResultSet {
            columns,
            rows: Vec::new(),
        };
        let keep = capture && !result.columns.is_empty();
        let mut rows = statement.raw_query();
        let stepped: rusqlite::Result<()> = (|| {
            while let Some(row) = rows.next()? {
                if keep {
                    let values = (0..result.columns.len())
                        .map(|i| row.get::<_, Value>(i))
                        .collect::<rusqlite::Result<Vec<_>>>()?;
                    result.rows.push(values);
                }
            }
            Ok(())
        })();
        if let Err(err) = stepped {
            run.error = Some(failure(number, &err));
            break;
        }
        if keep {
            run.last_result = Some(result);
        }
    }
    context.set_statement(None);
    run.rows_changed = conn.total_changes().saturating_sub(changes_before);
    if !conn.is_autocommit() {
        // A transaction the script opened and did not close.
        let end = if run.error.is_some() {
            "ROLLBACK"
        } else {
            "COMMIT"
        };
        if let Err(err) = conn.execute_batch(end)
            && run.error.is_none()
        {
            run.error = Some(ScriptFailure {
                message: format!("could not commit the transaction the script left open: {err}"),
                statement: None,
            });
            let _ = conn.execute_batch("ROLLBACK");
        }
    }
    conn.execute_batch("PRAGMA foreign_keys = ON")?;
    Ok(run)
}

fn failure(number: usize, err: &rusqlite::Error) -> ScriptFailure {
    ScriptFailure {
        message: format!("statement {number}: {err}"),
        statement: Some(number),
    }
}

/// surveilr's scripts read `orchestration_session_info` (session and running entry) and some
/// drop it when done; it is made again, as a TEMP view, before each script, unless the
/// database has an object of its own by that name.
fn ensure_session_info_view(conn: &Connection) -> Result<()> {
    if object_exists(conn, "orchestration_session_info")? {
        return Ok(());
    }
    conn.execute_batch(
        "CREATE TEMP VIEW IF NOT EXISTS orchestration_session_info AS
         SELECT surveilr_orchestration_context_session_id() AS orchestration_session_id,
                json_extract(surveilr_get_orchestration_session_info(), '$.orchestration_session_entry_id')
                    AS orchestration_session_entry_id,
                surveilr_device_id() AS device_id,
                surveilr_orchestration_nature_id() AS orchestration_nature_id",
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::OpenOptions;

    #[test]
    fn foreign_keys_are_off_for_scripts_and_on_again_for_the_engine() {
        let dir = tempfile::tempdir().unwrap();
        let db = StateDb::open(dir.path().join("t.db"), &OpenOptions::default()).unwrap();
        let options = RunOptions {
            nature_id: "test".into(),
            nature_label: "test".into(),
            save_script: true,
            capture_result: true,
            observe: true,
            allow_extensions: false,
        };
        let script = ScriptSource::command(
            "INSERT INTO orchestration_session_log (orchestration_session_log_id, parent_exec_id, content)
             VALUES ('L1', 'no-such-exec', 'x');
             SELECT foreign_keys FROM pragma_foreign_keys;",
        );
        let report = run(&db, &[script], &options, &json!({})).unwrap();
        assert_eq!(report.failed(), 0, "{:?}", report.scripts);
        let seen = report.last_result.unwrap().rows;
        assert_eq!(seen, vec![vec![Value::Integer(0)]]);
        let after: i64 = db
            .conn()
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap();
        assert_eq!(after, 1);
    }

    #[test]
    fn natures_map_as_surveilr_maps_them() {
        assert_eq!(
            nature_for("v&v"),
            ("V&V".to_string(), "Verification and Validation".to_string())
        );
        assert_eq!(
            nature_for("deidentification"),
            (
                "deidentification".to_string(),
                "De-identification".to_string()
            )
        );
        assert_eq!(
            nature_for("nightly"),
            ("nightly".to_string(), "nightly".to_string())
        );
    }
}
