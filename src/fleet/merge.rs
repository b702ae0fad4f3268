//! `rssd merge`: many RSSDs into one, as a recorded session of nature `merge`.
//!
//! Candidates are merged one at a time: ATTACH, one write transaction, DETACH. So any number
//! of candidates works (SQLite attaches at most 10 or 125 at once), and a merge killed midway
//! leaves each candidate either fully merged (its entry `MERGED`, in the same transaction) or
//! not at all. Orchestration tables and every table with a primary key are merged by that key
//! (`INSERT OR IGNORE`: ULIDs do not collide across devices), so merging again adds nothing.
//! Loaded tables (no key) are appended with `_rssd_entry_id` and `_rssd_row`, and an entry whose
//! rows are already in the target is not appended again.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, ErrorCode, params};
use serde_json::{Value, json};

use super::meta::{self, Column, ENTRY_COLUMN, LoadedTable, ROW_COLUMN, qualified};
use super::{TablesRule, check_sqlite_file};
use crate::sql::quote_ident;
use crate::state::states::{FAILED, SKIPPED, UNCHANGED};
use crate::state::{Issue, IssueKind, SCHEMA_SQL, Session, Severity, StateDb, TABLES};
use crate::{Error, Result};

/// The state of a candidate's entry whose rows went in.
pub const MERGED: &str = "MERGED";
/// The schema name a candidate is attached as.
const CANDIDATE: &str = "rssd_candidate";

/// How to merge.
#[derive(Debug, Clone)]
pub struct MergeOptions {
    /// What to do with a loaded table whose name exists in the target with other columns.
    pub tables: TablesRule,
    /// The command line, for the session's `args_json`.
    pub args: Value,
}

/// What happened to one candidate.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CandidateOutcome {
    pub candidate: String,
    pub entry_id: String,
    /// `MERGED`, `UNCHANGED` (nothing new), `FAILED` or `SKIPPED`.
    pub state: String,
    pub sessions_added: u64,
    pub rows_added: u64,
    pub reason: Option<String>,
}

/// The merge session and its candidates.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MergeSummary {
    pub session_id: String,
    pub candidates: Vec<CandidateOutcome>,
}

impl MergeSummary {
    pub fn failed(&self) -> usize {
        self.candidates.iter().filter(|c| c.state == FAILED).count()
    }
}

/// Why a candidate was not merged: the issue to record once its transaction rolled back.
struct Refusal(Box<Issue>);

fn refuse(issue: Issue) -> Refusal {
    Refusal(Box::new(issue))
}

impl From<Error> for Refusal {
    fn from(err: Error) -> Refusal {
        let message = match &err {
            Error::Sqlite(sqlite) => describe_sqlite(sqlite),
            other => other.to_string(),
        };
        refuse(Issue::new(IssueKind::UnreadableFile, message))
    }
}

impl From<rusqlite::Error> for Refusal {
    fn from(err: rusqlite::Error) -> Refusal {
        Refusal::from(Error::Sqlite(err))
    }
}

fn describe_sqlite(err: &rusqlite::Error) -> String {
    match err.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            format!("the candidate is locked by another process ({err})")
        }
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => {
            format!("the candidate is corrupt ({err})")
        }
        _ => format!("cannot read the candidate: {err}"),
    }
}

/// What merging one candidate added.
#[derive(Default)]
struct Added {
    sessions: u64,
    rows: BTreeMap<String, u64>,
    tables: BTreeMap<String, String>,
}

/// Merges every candidate into `db`, recording a `merge` session with one entry per candidate.
pub fn merge(db: &StateDb, candidates: &[PathBuf], options: &MergeOptions) -> Result<MergeSummary> {
    let conn = db.conn();
    let reference = reference_columns()?;
    let target = std::fs::canonicalize(db.path()).ok();
    let mut session = db.begin_session("merge", &options.args)?;
    // Candidates bring rows whose references point at rows of theirs (surveilr's, or ones
    // made by older tools); the engine's foreign keys would refuse what SQLite never checked.
    conn.execute_batch("PRAGMA foreign_keys = OFF")?;
    let mut outcomes = Vec::with_capacity(candidates.len());
    let mut interrupted = false;
    for path in candidates {
        if crate::interrupt::requested() {
            interrupted = true;
            break;
        }
        let same = target.is_some() && std::fs::canonicalize(path).ok() == target;
        outcomes.push(merge_candidate(
            conn,
            &mut session,
            path,
            same,
            &reference,
            options,
        )?);
    }
    conn.execute_batch("PRAGMA foreign_keys = ON")?;
    let session_id = session.id().to_string();
    let done = outcomes.len();
    if interrupted {
        session.finish_interrupted(&format!("stopped after {done} candidates"))?;
        return Err(Error::Interrupted);
    }
    let failed = outcomes.iter().filter(|o| o.state == FAILED).count();
    session.finish_completed(&format!("{done} candidates, {failed} failed"))?;
    Ok(MergeSummary {
        session_id,
        candidates: outcomes,
    })
}

fn merge_candidate(
    conn: &Connection,
    session: &mut Session<'_>,
    path: &Path,
    is_target: bool,
    reference: &BTreeMap<String, Vec<String>>,
    options: &MergeOptions,
) -> Result<CandidateOutcome> {
    let shown = path.display().to_string();
    let entry = session.add_entry(&shown, None, &json!({"candidate": shown}))?;
    let mut outcome = CandidateOutcome {
        candidate: shown.clone(),
        entry_id: entry.clone(),
        state: FAILED.to_string(),
        sessions_added: 0,
        rows_added: 0,
        reason: None,
    };
    if is_target {
        let reason = "the candidate is the target itself";
        session.entry_transition(&entry, SKIPPED, reason)?;
        outcome.state = SKIPPED.into();
        outcome.reason = Some(reason.into());
        return Ok(outcome);
    }
    let attached = check_sqlite_file(path).and_then(|()| {
        conn.execute(
            "ATTACH DATABASE ?1 AS rssd_candidate",
            [path.as_os_str().to_string_lossy()],
        )?;
        Ok(())
    });
    let result = match attached {
        Err(err) => Err(Refusal::from(err)),
        Ok(()) => {
            let result = in_transaction(conn, || {
                let added = merge_attached(conn, session, &entry, reference, options)?;
                let state = if added.sessions == 0 && added.rows.values().all(|n| *n == 0) {
                    UNCHANGED
                } else {
                    MERGED
                };
                let total: u64 = added.rows.values().sum();
                let elaboration = json!({
                    "candidate": shown,
                    "sessions_added": added.sessions,
                    "rows_added": added.rows,
                    "tables": added.tables,
                });
                session.set_entry_elaboration(&entry, &elaboration)?;
                let reason = format!("{} sessions and {total} rows added", added.sessions);
                session.entry_transition(&entry, state, &reason)?;
                Ok((state, added.sessions, total))
            });
            let _ = conn.execute_batch(&format!("DETACH DATABASE {CANDIDATE}"));
            result
        }
    };
    match result {
        Ok((state, sessions, rows)) => {
            outcome.state = state.into();
            outcome.sessions_added = sessions;
            outcome.rows_added = rows;
        }
        Err(Refusal(issue)) => {
            let issue = *issue;
            let reason = issue.message.clone();
            session.issue(&issue.entry(&entry).with("candidate", shown.as_str()))?;
            session.entry_transition(&entry, FAILED, &reason)?;
            outcome.reason = Some(reason);
        }
    }
    Ok(outcome)
}

/// `BEGIN IMMEDIATE`, the work, then `COMMIT`; `ROLLBACK` when the work refuses.
fn in_transaction<T>(
    conn: &Connection,
    work: impl FnOnce() -> Result<T, Refusal>,
) -> Result<T, Refusal> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    match work().and_then(|value| {
        conn.execute_batch("COMMIT")?;
        Ok(value)
    }) {
        Ok(value) => Ok(value),
        Err(refusal) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(refusal)
        }
    }
}

/// Everything of the attached candidate, inside the candidate's transaction.
fn merge_attached(
    conn: &Connection,
    session: &Session<'_>,
    entry: &str,
    reference: &BTreeMap<String, Vec<String>>,
    options: &MergeOptions,
) -> Result<Added, Refusal> {
    let check: String = conn.query_row("PRAGMA rssd_candidate.quick_check(1)", [], |r| r.get(0))?;
    if check != "ok" {
        return Err(refuse(Issue::new(
            IssueKind::UnreadableFile,
            format!("the candidate is corrupt (quick_check: {check})"),
        )));
    }
    check_orchestration_columns(conn, reference)?;
    warn_device_collisions(conn, session, entry)?;
    let mut added = Added::default();
    for table in TABLES {
        let n = merge_by_key(conn, table)?;
        if table == "orchestration_session" {
            added.sessions = n;
        }
        added.rows.insert(table.to_string(), n);
    }
    let loaded = meta::loaded_tables(conn, CANDIDATE)?;
    for table in &loaded {
        if let Some((target, n)) = merge_loaded(conn, session, entry, table, options.tables)? {
            added.tables.insert(table.name.clone(), target.clone());
            *added.rows.entry(target).or_default() += n;
        }
    }
    for def in meta::tables(conn, CANDIDATE)? {
        let name = &def.name;
        if meta::is_orchestration(name) || loaded.iter().any(|t| &t.name == name) {
            continue;
        }
        let columns = meta::columns(conn, CANDIDATE, name)?;
        if columns.iter().any(|c| c.pk > 0) {
            create_like_candidate(conn, name, &def.sql)?;
            let n = merge_by_key(conn, name)?;
            added.rows.insert(name.clone(), n);
        } else {
            let note = format!("table {name} left out: no primary key and no entry loaded it");
            session.log("merge", &note, Some(entry))?;
        }
    }
    Ok(added)
}

/// The columns of each orchestration table in the reference schema.
fn reference_columns() -> Result<BTreeMap<String, Vec<String>>> {
    let reference = Connection::open_in_memory()?;
    reference.execute_batch(SCHEMA_SQL)?;
    let mut map = BTreeMap::new();
    for table in TABLES {
        let names = meta::columns(&reference, "main", table)?
            .into_iter()
            .map(|c| c.name)
            .collect();
        map.insert(table.to_string(), names);
    }
    Ok(map)
}

/// Refuses a candidate that is not an RSSD, or whose orchestration tables lack a column.
fn check_orchestration_columns(
    conn: &Connection,
    reference: &BTreeMap<String, Vec<String>>,
) -> Result<(), Refusal> {
    for required in ["orchestration_session", "orchestration_session_entry"] {
        if meta::columns(conn, CANDIDATE, required)?.is_empty() {
            return Err(refuse(Issue::new(
                IssueKind::MissingTable,
                format!("not an RSSD: it has no {required} table"),
            )));
        }
    }
    for (table, names) in reference {
        let have = meta::columns(conn, CANDIDATE, table)?;
        if have.is_empty() {
            continue;
        }
        if let Some(missing) = names.iter().find(|n| !meta::has_column(&have, n)) {
            let issue = Issue::new(
                IssueKind::MissingColumn,
                format!("table {table} lacks column {missing}"),
            )
            .column(missing);
            return Err(refuse(issue));
        }
    }
    Ok(())
}

/// A device of the candidate with another's name, state and boundary cannot be inserted
/// (they are unique together): its sessions keep their `device_id`, and an issue says so.
fn warn_device_collisions(conn: &Connection, session: &Session<'_>, entry: &str) -> Result<()> {
    let mut stmt = conn.prepare(
        "SELECT c.device_id, c.name, m.device_id FROM rssd_candidate.device c
         JOIN main.device m ON m.name = c.name AND m.state = c.state AND m.boundary = c.boundary
         WHERE m.device_id <> c.device_id",
    )?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for (id, name, existing) in rows {
        let message = format!(
            "device {id} ({name}) has the name, state and boundary of device {existing} already in the target; its sessions keep device_id {id}"
        );
        let issue = Issue::new(IssueKind::UniqueValueViolation, message)
            .entry(entry)
            .severity(Severity::Warning);
        session.issue(&issue)?;
    }
    Ok(())
}

/// `INSERT OR IGNORE` of the columns both sides have; returns the rows added.
fn merge_by_key(conn: &Connection, table: &str) -> Result<u64, Refusal> {
    let theirs = meta::columns(conn, CANDIDATE, table)?;
    let ours = meta::columns(conn, "main", table)?;
    if theirs.is_empty() || ours.is_empty() {
        return Ok(0);
    }
    let shared: Vec<String> = theirs
        .iter()
        .filter(|c| meta::has_column(&ours, &c.name))
        .map(|c| quote_ident(&c.name))
        .collect();
    let list = shared.join(", ");
    let sql = format!(
        "INSERT OR IGNORE INTO {} ({list}) SELECT {list} FROM {}",
        qualified("main", table),
        qualified(CANDIDATE, table)
    );
    Ok(conn.execute(&sql, [])? as u64)
}

/// Creates a keyed table of the candidate (and its indexes) in the target when missing.
fn create_like_candidate(conn: &Connection, table: &str, sql: &str) -> Result<(), Refusal> {
    if !meta::columns(conn, "main", table)?.is_empty() {
        return Ok(());
    }
    conn.execute_batch(sql)?;
    let mut stmt = conn.prepare(
        "SELECT sql FROM rssd_candidate.sqlite_master WHERE type = 'index' AND tbl_name = ?1 AND sql IS NOT NULL",
    )?;
    let indexes = stmt
        .query_map([table], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for index in indexes {
        // An index whose name the target already uses is only a speed-up lost.
        let _ = conn.execute_batch(&index);
    }
    Ok(())
}

/// Where a loaded table's rows go.
enum Target {
    Create(String),
    Append(String),
    Differs,
}

fn target_for(conn: &Connection, name: &str, theirs: &[Column]) -> Result<Target> {
    let ours = meta::columns(conn, "main", name)?;
    Ok(if ours.is_empty() {
        Target::Create(name.to_string())
    } else if meta::same_columns(&ours, theirs)
        && meta::has_column(&ours, ENTRY_COLUMN)
        && meta::has_column(&ours, ROW_COLUMN)
    {
        Target::Append(name.to_string())
    } else {
        Target::Differs
    })
}

/// Appends a loaded table's rows not yet in the target; returns the target table and rows
/// added, or `None` when the table was skipped.
fn merge_loaded(
    conn: &Connection,
    session: &Session<'_>,
    entry: &str,
    table: &LoadedTable,
    rule: TablesRule,
) -> Result<Option<(String, u64)>, Refusal> {
    let theirs = meta::columns(conn, CANDIDATE, &table.name)?;
    let mut target = target_for(conn, &table.name, &theirs)?;
    if matches!(target, Target::Differs) {
        let differs = format!(
            "table {} exists in the target with other columns",
            table.name
        );
        match rule {
            TablesRule::Fail => {
                let issue =
                    Issue::new(IssueKind::TableExists, format!("{differs} (--tables fail)"));
                return Err(refuse(issue));
            }
            TablesRule::Skip => {
                skip_table(
                    session,
                    entry,
                    &format!("{differs}: skipped (--tables skip)"),
                )?;
                return Ok(None);
            }
            TablesRule::Rename => {
                let renamed = format!("{}_{}", table.name, table.device_name);
                target = target_for(conn, &renamed, &theirs)?;
                if matches!(target, Target::Differs) {
                    let note = format!("{differs}, and so does {renamed}: skipped");
                    skip_table(session, entry, &note)?;
                    return Ok(None);
                }
                session.log(
                    "merge",
                    &format!("{differs}: merged as {renamed}"),
                    Some(entry),
                )?;
            }
        }
    }
    let name = match target {
        Target::Create(name) => {
            create_loaded(conn, &name, &theirs)?;
            name
        }
        Target::Append(name) => name,
        Target::Differs => return Ok(None),
    };
    let n = append_rows(conn, &name, table, &theirs)?;
    Ok(Some((name, n)))
}

fn skip_table(session: &Session<'_>, entry: &str, message: &str) -> Result<()> {
    let issue = Issue::new(IssueKind::TableExists, message)
        .entry(entry)
        .severity(Severity::Warning);
    session.issue(&issue)?;
    Ok(())
}

/// The candidate's columns with their declared types, then `_rssd_row` and `_rssd_entry_id`.
fn create_loaded(conn: &Connection, name: &str, theirs: &[Column]) -> Result<()> {
    let mut parts: Vec<String> = theirs
        .iter()
        .filter(|c| !c.is_provenance())
        .map(|c| format!("{} {}", quote_ident(&c.name), c.declared))
        .collect();
    parts.push(format!("{ROW_COLUMN} INTEGER"));
    parts.push(format!("{ENTRY_COLUMN} TEXT"));
    conn.execute_batch(&format!(
        "CREATE TABLE {} ({});
         CREATE INDEX IF NOT EXISTS {} ON {} ({ENTRY_COLUMN});",
        qualified("main", name),
        parts.join(", "),
        qualified("main", &format!("{name}__rssd_entry")),
        quote_ident(name),
    ))?;
    Ok(())
}

/// Appends the rows of every entry of the candidate table that the target does not have yet.
fn append_rows(
    conn: &Connection,
    target: &str,
    table: &LoadedTable,
    theirs: &[Column],
) -> Result<u64> {
    let own_entry = meta::has_column(theirs, ENTRY_COLUMN);
    let row = if meta::has_column(theirs, ROW_COLUMN) {
        ROW_COLUMN
    } else {
        "rowid"
    };
    let entry_expr = if own_entry {
        format!("coalesce({ENTRY_COLUMN}, ?1)")
    } else {
        "?1".to_string()
    };
    let source = qualified(CANDIDATE, &table.name);
    // (owner for rows without an entry, entry, rowids after, up to)
    let parts: Vec<(String, String, i64, i64)> = if own_entry {
        let mut stmt = conn.prepare(&format!("SELECT DISTINCT {entry_expr} FROM {source}"))?;
        stmt.query_map([&table.entry_id], |r| r.get::<_, String>(0))?
            .map(|id| id.map(|id| (table.entry_id.clone(), id, i64::MIN, i64::MAX)))
            .collect::<rusqlite::Result<Vec<_>>>()?
    } else {
        let part = |p: &meta::RowPart| (p.entry_id.clone(), p.entry_id.clone(), p.after, p.up_to);
        table.parts.iter().map(part).collect()
    };
    let data: Vec<String> = theirs
        .iter()
        .filter(|c| !c.is_provenance())
        .map(|c| quote_ident(&c.name))
        .collect();
    let mut names = data.clone();
    names.push(ROW_COLUMN.into());
    names.push(ENTRY_COLUMN.into());
    let mut values = data;
    values.push(row.into());
    values.push(entry_expr.clone());
    let target = qualified("main", target);
    let insert = format!(
        "INSERT INTO {target} ({}) SELECT {} FROM {source}
         WHERE {entry_expr} = ?2 AND rowid > ?3 AND rowid <= ?4",
        names.join(", "),
        values.join(", "),
    );
    let present = format!("SELECT EXISTS (SELECT 1 FROM {target} WHERE {ENTRY_COLUMN} = ?1)");
    let mut added = 0;
    for (owner, id, after, up_to) in parts {
        let have: bool = conn.query_row(&present, [&id], |r| r.get(0))?;
        if !have {
            added += conn.execute(&insert, params![owner, id, after, up_to])? as u64;
        }
    }
    Ok(added)
}
