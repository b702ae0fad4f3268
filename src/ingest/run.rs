//! One ingest run: the session, each file's entries (one per table), and the summary.

use std::collections::HashMap;
use std::fs;
use std::io::Read;
use std::path::Path;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use rusqlite::Connection;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::inputs::{self, Candidate};
use super::naming::{TableNames, column_names_reserving, table_base_name};
use super::progress::Progress;
use super::scan::{Scan, ScanOutcome};
use super::source::{FileProblem, Table};
use super::{
    ColumnType, EntryHook, EntryReport, IfExists, IngestOptions, IngestSummary, LoadedColumn,
    LoadedEntry, delimited, excel, json,
};
use crate::load::{self, LoadColumn, PROVENANCE_COLUMNS, Provenance};
use crate::sql::{quote_ident, write_transaction};
use crate::state::states::{FAILED, INGESTED, INGESTING, INTERRUPTED, SKIPPED, UNCHANGED};
use crate::state::{Exec, Issue, IssueKind, Session, Severity, StateDb};
use crate::{Error, Result};

/// Page cache for the load, in KiB (negative `cache_size`): large enough that SQLite rarely
/// spills dirty pages mid-transaction, small enough to keep a 1 GB load under 100 MB.
const LOAD_CACHE_KIB: i64 = 32 * 1024;
/// After a big load's checkpoint, the WAL file is cut back to this size.
const WAL_SIZE_LIMIT: i64 = 64 * 1024 * 1024;

/// Loads `inputs` (paths, folders, globs, `-`) into `db` as one recorded session.
pub fn ingest(
    db: &StateDb,
    inputs: &[String],
    options: &IngestOptions,
    hook: &dyn EntryHook,
) -> Result<IngestSummary> {
    let started = Instant::now();
    let candidates = inputs::expand(inputs, &options.include, &options.exclude, db.path())?;
    let conn = db.conn();
    conn.execute_batch(&format!(
        "PRAGMA cache_size = -{LOAD_CACHE_KIB}; PRAGMA journal_size_limit = {WAL_SIZE_LIMIT}; PRAGMA wal_autocheckpoint = 8192;"
    ))?;
    let mut session = db.begin_session(&options.nature, &options.args)?;
    let session_id = session.id().to_string();
    let mut run = Run {
        conn,
        options,
        hook,
        names: TableNames::default(),
        last_digests: last_ingested_digests(conn)?,
        reports: Vec::new(),
        loaded: Vec::new(),
        progress: Progress::new(options.progress, candidates.len()),
    };
    for candidate in &candidates {
        // Ctrl-C or SIGTERM: stop between files, or between row batches (the file's
        // transaction rolls back), and record the session INTERRUPTED.
        let outcome =
            crate::interrupt::check().and_then(|()| run.candidate(&mut session, candidate));
        if let Err(Error::Interrupted) = outcome {
            let done = run.reports.len();
            session.finish_interrupted(&format!(
                "interrupted (Ctrl-C or SIGTERM) after {done} entries of {} files; the file being loaded was rolled back",
                candidates.len()
            ))?;
            return Err(Error::Interrupted);
        }
        outcome?;
        run.progress.file_done();
    }
    run.progress.finish();
    hook.after_all(&mut session, &run.loaded)?;

    let count = |state: &str| run.reports.iter().filter(|r| r.state == state).count();
    let (ingested, unchanged, skipped, failed) = (
        count(INGESTED),
        count(UNCHANGED),
        count(SKIPPED),
        count(FAILED),
    );
    let reason = format!(
        "{} entries: {ingested} loaded, {unchanged} unchanged, {skipped} skipped, {failed} failed",
        run.reports.len()
    );
    // A hook may have moved loaded entries on (validation: VALIDATED or INVALID).
    for report in &mut run.reports {
        if let Some(state) = session.entry_state(&report.entry_id) {
            report.state = state.to_string();
        }
    }
    let diagnostics = session.finish_completed(&reason)?;
    let mut reports = run.reports;
    fill_issue_counts(conn, &session_id, &mut reports)?;
    let severity = |s: &str| {
        diagnostics
            .summary
            .issues_by_severity
            .get(s)
            .copied()
            .unwrap_or(0)
    };
    Ok(IngestSummary {
        session_id,
        state: diagnostics.session.state.clone(),
        tables: ingested,
        rows: run.loaded.iter().map(|e| e.rows).sum(),
        unchanged,
        failed,
        skipped,
        issues_error: severity("error"),
        issues_warning: severity("warning"),
        duration_ms: started.elapsed().as_secs_f64() * 1000.0,
        entries: reports,
    })
}

struct Run<'a> {
    conn: &'a Connection,
    options: &'a IngestOptions,
    hook: &'a dyn EntryHook,
    names: TableNames,
    /// Table name (lower case) -> content digest of its last committed load.
    last_digests: HashMap<String, String>,
    reports: Vec<EntryReport>,
    loaded: Vec<LoadedEntry>,
    progress: Progress,
}

/// What is known about a file before its tables: the base of every entry's elaboration.
struct FileFacts<'s> {
    source: &'s str,
    path: &'s Path,
    format: String,
    digest: String,
    size: u64,
    elaboration: Map<String, Value>,
    started: Instant,
}

impl Run<'_> {
    fn candidate(&mut self, session: &mut Session, candidate: &Candidate) -> Result<()> {
        match candidate {
            Candidate::Problem {
                source,
                kind,
                message,
            } => {
                let problem =
                    FileProblem::new(*kind, message.clone(), "check the path and its permissions");
                self.no_table(session, source, Map::new(), Instant::now(), problem)
            }
            Candidate::File { source, path } => {
                let stem = path
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default();
                self.file(session, source, path, &stem, None)
            }
            Candidate::Stdin => {
                // Standard input is read twice like any file, so it is kept in a temporary
                // file first (removed when this run is done with it).
                let mut spool = tempfile::NamedTempFile::new()?;
                std::io::copy(&mut std::io::stdin().lock(), &mut spool)?;
                self.file(session, "-", spool.path(), "stdin", Some("csv"))
            }
        }
    }

    fn file(
        &mut self,
        session: &mut Session,
        source: &str,
        path: &Path,
        stem: &str,
        forced_format: Option<&str>,
    ) -> Result<()> {
        let started = Instant::now();
        self.progress.file(source);
        let mut elaboration = Map::new();
        let meta = match fs::metadata(path) {
            Ok(meta) => meta,
            Err(err) => {
                return self.no_table(session, source, elaboration, started, unreadable(err));
            }
        };
        let format = forced_format
            .map(str::to_string)
            .or_else(|| format_of(path));
        elaboration.insert("format".into(), json!(format));
        elaboration.insert("size_bytes".into(), json!(meta.len()));
        if let Ok(modified) = meta.modified() {
            elaboration.insert("modified_at".into(), json!(iso_time(modified)));
        }
        let Some(format) = format else {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let problem = FileProblem::new(
                IssueKind::UnsupportedFormat,
                format!(
                    "no reader for \"{name}\": rssd reads .csv, .tsv, .txt, .xlsx, .xlsm, .xls, .ods, .json, .ndjson and .jsonl"
                ),
                "export the data as CSV, a workbook or JSON",
            );
            return self.no_table(session, source, elaboration, started, problem);
        };
        if meta.len() == 0 {
            let problem = FileProblem::new(
                IssueKind::EmptyFile,
                "the file is empty (zero bytes): no header, no data",
                "send the file again with its header and data",
            );
            return self.no_table(session, source, elaboration, started, problem);
        }
        let digest = match sha256_file(path) {
            Ok(digest) => digest,
            Err(err) => {
                return self.no_table(session, source, elaboration, started, unreadable(err));
            }
        };
        elaboration.insert("content_sha256".into(), json!(digest));
        // Every entry has the same keys; formats fill in theirs.
        for key in ["encoding", "delimiter", "sheet"] {
            elaboration.insert(key.into(), Value::Null);
        }
        let facts = FileFacts {
            source,
            path,
            format: format.clone(),
            digest,
            size: meta.len(),
            elaboration,
            started,
        };
        let base = table_base_name(stem);

        let workbook = matches!(format.as_str(), "xlsx" | "xlsm" | "xls" | "ods");
        if !workbook {
            // One table: an unchanged file is recognised before it is read.
            let name = self.names.claim(&self.options.table_prefix, &base);
            if self.is_unchanged(&name, &facts.digest)? {
                return self.unchanged(session, &facts, None, name);
            }
            let prepared = match format.as_str() {
                "json" | "ndjson" => json::prepare(path, &base),
                _ if meta.len() >= self.options.speculate_from_bytes => {
                    match delimited::prepare_speculative(path, &format, &base) {
                        Ok(Some(table)) => Ok(Ok(table)),
                        _ => delimited::prepare(path, &format, &base),
                    }
                }
                _ => delimited::prepare(path, &format, &base),
            };
            return match prepared {
                Ok(Ok(table)) => self.table(session, &facts, table, name),
                Ok(Err(problem)) => {
                    self.no_table(session, source, facts.elaboration, started, problem)
                }
                Err(err) => {
                    self.no_table(session, source, facts.elaboration, started, unreadable(err))
                }
            };
        }
        match excel::prepare(path, stem) {
            Ok(Ok(tables)) => {
                for table in tables {
                    let name = self.names.claim(
                        &self.options.table_prefix,
                        &table_base_name(&table.base_name),
                    );
                    if self.is_unchanged(&name, &facts.digest)? {
                        self.unchanged(session, &facts, table.sheet.clone(), name)?;
                    } else {
                        self.table(session, &facts, table, name)?;
                    }
                }
                Ok(())
            }
            Ok(Err(problem)) => self.no_table(session, source, facts.elaboration, started, problem),
            Err(err) => self.no_table(session, source, facts.elaboration, started, unreadable(err)),
        }
    }

    fn is_unchanged(&self, table: &str, digest: &str) -> Result<bool> {
        if self.hook.checks_entries() {
            return Ok(false);
        }
        Ok(self
            .last_digests
            .get(&table.to_ascii_lowercase())
            .map(String::as_str)
            == Some(digest)
            && self.conn.table_exists(Some("main"), table)?)
    }

    /// An entry for a file that gives no table: `INITIAL -> FAILED` with its issue.
    fn no_table(
        &mut self,
        session: &mut Session,
        source: &str,
        mut elaboration: Map<String, Value>,
        started: Instant,
        problem: FileProblem,
    ) -> Result<()> {
        elaboration.insert("duration_ms".into(), json!(ms(started)));
        elaboration.insert(
            "outcome".into(),
            json!(format!("failed: {}", problem.message)),
        );
        let format = elaboration
            .get("format")
            .and_then(Value::as_str)
            .map(str::to_string);
        // One transaction per entry's records: fewer commits for runs of many small files.
        let entry = write_transaction(self.conn, || {
            let entry = session.add_entry(source, None, &Value::Object(elaboration))?;
            record_failure(session, &entry, &problem)?;
            Ok(entry)
        })?;
        self.reports
            .push(failed_report(entry, source, format, problem));
        Ok(())
    }

    fn unchanged(
        &mut self,
        session: &mut Session,
        facts: &FileFacts,
        sheet: Option<String>,
        name: String,
    ) -> Result<()> {
        let mut elaboration = facts.elaboration.clone();
        if let Some(sheet) = &sheet {
            elaboration.insert("sheet".into(), json!(sheet));
        }
        let reason = format!("content digest equals the last load of {name}; not loaded again");
        elaboration.insert("duration_ms".into(), json!(ms(facts.started)));
        elaboration.insert("outcome".into(), json!(format!("unchanged: {reason}")));
        let entry = write_transaction(self.conn, || {
            let entry =
                session.add_entry(facts.source, Some(&name), &Value::Object(elaboration))?;
            session.entry_transition(&entry, INGESTING, &format!("reading {}", facts.source))?;
            session.entry_transition(&entry, UNCHANGED, &reason)?;
            Ok(entry)
        })?;
        self.reports.push(EntryReport {
            entry_id: entry,
            source: facts.source.to_string(),
            table: Some(name),
            sheet,
            format: Some(facts.format.clone()),
            rows: None,
            columns: None,
            issues: 0,
            issues_error: 0,
            state: UNCHANGED.to_string(),
            reason,
        });
        Ok(())
    }

    /// One table: `INITIAL -> INGESTING -> INGESTED | FAILED | SKIPPED`, the load in one
    /// transaction with the entry's final state.
    fn table(
        &mut self,
        session: &mut Session,
        facts: &FileFacts,
        table: Table,
        name: String,
    ) -> Result<()> {
        let mut elaboration = facts.elaboration.clone();
        elaboration.extend(table.facts.clone());
        let entry = write_transaction(self.conn, || {
            let entry = session.add_entry(facts.source, None, &Value::Object(elaboration))?;
            session.entry_transition(&entry, INGESTING, &format!("reading {}", facts.source))?;
            Ok(entry)
        })?;
        let base_name = table.base_name.clone();
        if self.load(session, facts, &entry, table, &name)? {
            return Ok(());
        }
        // The sample's types did not hold for the whole file: read it the careful way.
        let problem = match delimited::prepare(facts.path, &facts.format, &base_name) {
            Ok(Ok(table)) => {
                if self.load(session, facts, &entry, table, &name)? {
                    return Ok(());
                }
                FileProblem::new(
                    IssueKind::ScriptError,
                    "the file changed while it was loaded",
                    "ingest the file again once it is complete",
                )
            }
            Ok(Err(problem)) => problem,
            Err(err) => unreadable(err),
        };
        record_failure(session, &entry, &problem)?;
        let format = Some(facts.format.clone());
        self.reports
            .push(failed_report(entry, facts.source, format, problem));
        Ok(())
    }

    /// Loads `table` for `entry`; false when a speculative load found that its sample's types
    /// do not hold (then nothing was recorded or kept, and the caller loads again).
    fn load(
        &mut self,
        session: &mut Session,
        facts: &FileFacts,
        entry: &str,
        table: Table,
        name: &str,
    ) -> Result<bool> {
        let Table {
            sheet,
            facts: format_facts,
            mut scan,
            numbers_are_typed,
            rows: row_source,
            mut full_scan,
            ..
        } = table;
        let mut elaboration = facts.elaboration.clone();
        elaboration.extend(format_facts);
        let speculative = full_scan.is_some();

        let reserved: &[&str] = if self.options.provenance_columns {
            &PROVENANCE_COLUMNS
        } else {
            &[]
        };
        let (names, header_issues) = column_names_reserving(&scan.headers, reserved);
        let declared = self
            .hook
            .declared_types(facts.source, name, sheet.as_deref(), &names);
        let mut columns: Vec<LoadColumn> = names
            .iter()
            .zip(&scan.stats)
            .map(|(column, stats)| match declared.get(column) {
                Some(declared) => LoadColumn {
                    name: column.clone(),
                    column_type: *declared,
                    inferred: false,
                },
                None if numbers_are_typed && stats.mixes_whole_and_fractional() => LoadColumn {
                    name: column.clone(),
                    column_type: ColumnType::Real,
                    inferred: false,
                },
                None => LoadColumn {
                    name: column.clone(),
                    column_type: stats.column_type(),
                    inferred: true,
                },
            })
            .collect();
        let mut report = EntryReport {
            entry_id: entry.to_string(),
            source: facts.source.to_string(),
            table: None,
            sheet: sheet.clone(),
            format: Some(facts.format.clone()),
            rows: None,
            columns: Some(columns.len()),
            issues: 0,
            issues_error: 0,
            state: String::new(),
            reason: String::new(),
        };

        let exists = self.conn.table_exists(Some("main"), name)?;
        let appending = exists && self.options.if_exists == IfExists::Append;
        let mut refusal: Option<Vec<Issue>> = None;
        if exists && self.options.if_exists == IfExists::Fail {
            refusal = Some(vec![Issue::new(IssueKind::TableExists, format!("table {name} already exists and --if-exists is fail; the file was not loaded"))
                .column(name)
                .remediation("use --if-exists replace or append, or another --table-prefix")]);
        } else if appending {
            match append_columns(
                self.conn,
                name,
                &mut columns,
                self.options.provenance_columns,
            )? {
                Ok(()) => {}
                Err(mismatch) => refusal = Some(mismatch),
            }
        }
        if let Some(refusal) = refusal {
            if let Some(handle) = full_scan.take() {
                match handle.join() {
                    Ok(Ok(ScanOutcome::Done(full))) => scan = full,
                    _ => return Ok(false),
                }
            }
            for issue in table_issues(&header_issues, &scan).iter().chain(&refusal) {
                session.issue(&issue.clone().entry(entry))?;
            }
            let reason = refusal[0].message.clone();
            elaboration.insert("outcome".into(), json!(format!("skipped: {reason}")));
            elaboration.insert("duration_ms".into(), json!(ms(facts.started)));
            session.set_entry_elaboration(entry, &Value::Object(elaboration))?;
            session.entry_transition(entry, SKIPPED, &reason)?;
            report.state = SKIPPED.to_string();
            report.reason = reason;
            self.reports.push(report);
            return Ok(true);
        }

        let provenance = self.options.provenance_columns.then(|| Provenance {
            session_id: session.id().to_string(),
            entry_id: entry.to_string(),
        });
        elaboration.insert("if_exists".into(), json!(self.options.if_exists));

        let mut row_check = self.hook.row_check(&LoadedEntry {
            entry_id: entry.to_string(),
            source: facts.source.to_string(),
            table: name.to_string(),
            sheet: sheet.clone(),
            format: facts.format.clone(),
            columns: loaded_columns(&scan, &columns),
            rows: 0,
        });
        let conn = self.conn;
        let progress = &mut self.progress;
        let mut mispredicted = false;
        let rollback_journal = facts.size >= self.options.rollback_journal_from_bytes
            && load::leave_wal_if_alone(conn)?;
        let replacing = self.options.if_exists == IfExists::Replace;
        let outcome = write_transaction(conn, || {
            // Checked again under the write lock: another process may have made the table
            // since. Only `replace` may drop it; the other modes fail the file instead.
            let exists = exists || (replacing && conn.table_exists(Some("main"), name)?);
            if exists && !appending {
                let drop = format!("DROP TABLE {}", quote_ident(name));
                run_recorded(
                    conn,
                    session,
                    entry,
                    &drop,
                    "replace: the old table goes in the same transaction as the new one comes",
                )?;
            }
            let offset: i64 = if appending {
                conn.query_row(
                    &format!("SELECT coalesce(max(rowid), 0) FROM {}", quote_ident(name)),
                    [],
                    |r| r.get(0),
                )?
            } else {
                let create = load::create_table_sql(name, &columns, provenance.is_some());
                run_recorded(
                    conn,
                    session,
                    entry,
                    &create,
                    "create the table with the inferred types",
                )?;
                0
            };
            let insert_started = Instant::now();
            let mut record_issues = |issues: &mut Vec<Issue>| -> Result<()> {
                for issue in issues.drain(..) {
                    session.issue(&issue)?;
                }
                Ok(())
            };
            let checking = row_check.as_deref_mut().map(|check| load::Checking {
                check,
                first_rowid: offset + 1,
                record: &mut record_issues,
            });
            let inserted = load::insert_rows(
                conn,
                name,
                &columns,
                provenance.as_ref(),
                row_source,
                &mut |rows, bytes| progress.rows(rows, bytes),
                checking,
            );
            if let Some(handle) = full_scan.take() {
                // The whole file's scan decides: the sample's types must be its types.
                let types = |s: &Scan| s.stats.iter().map(|c| c.column_type()).collect::<Vec<_>>();
                match handle.join() {
                    Ok(Ok(ScanOutcome::Done(full)))
                        if inserted.is_ok()
                            && full.headers == scan.headers
                            && types(&full) == types(&scan) =>
                    {
                        scan = full
                    }
                    _ => {
                        mispredicted = true;
                        return Err(Error::Invalid("the sample's types do not hold".into()));
                    }
                }
            }
            let rows = inserted?;
            session.exec(
                &Exec::new(
                    "sql",
                    load::insert_sql(name, &columns, provenance.is_some(), 1),
                )
                .entry(entry)
                .output(format!("{rows} rows inserted in file order"))
                .duration(insert_started.elapsed()),
            )?;
            if rows != scan.rows {
                return Err(Error::Invalid(format!(
                    "pass 1 counted {} rows, pass 2 read {rows}; the file changed while loading",
                    scan.rows
                )));
            }
            for issue in table_issues(&header_issues, &scan) {
                session.issue(&issue.entry(entry))?;
            }
            let loaded_columns = loaded_columns(&scan, &columns);
            let outcome = format!("loaded {rows} rows into {name}");
            elaboration.insert("rows".into(), json!(scan.rows));
            elaboration.insert("columns".into(), json!(loaded_columns));
            elaboration.insert("duration_ms".into(), json!(ms(facts.started)));
            elaboration.insert("outcome".into(), json!(outcome.clone()));
            if appending {
                elaboration.insert("rowid_offset".into(), json!(offset));
            }
            session.set_entry_elaboration(entry, &Value::Object(elaboration.clone()))?;
            session.set_entry_table(entry, Some(name))?;
            session.entry_transition(entry, INGESTED, &outcome)?;
            Ok((rows, outcome, loaded_columns))
        });
        if rollback_journal {
            load::return_to_wal(conn)?;
        }
        if mispredicted {
            return Ok(false);
        }
        match outcome {
            Ok((rows, outcome, loaded_columns)) => {
                self.last_digests
                    .insert(name.to_ascii_lowercase(), facts.digest.clone());
                let loaded = LoadedEntry {
                    entry_id: entry.to_string(),
                    source: facts.source.to_string(),
                    table: name.to_string(),
                    sheet,
                    format: facts.format.clone(),
                    columns: loaded_columns,
                    rows,
                };
                self.hook.after_load(session, &loaded, row_check)?;
                self.loaded.push(loaded);
                report.table = Some(name.to_string());
                report.rows = Some(rows);
                report.state = INGESTED.to_string();
                report.reason = outcome;
            }
            Err(Error::Interrupted) => {
                session.entry_transition(
                    entry,
                    INTERRUPTED,
                    "interrupted (Ctrl-C or SIGTERM); the load was rolled back",
                )?;
                return Err(Error::Interrupted);
            }
            Err(_) if speculative => return Ok(false),
            Err(err) => {
                // Rolled back: no table, and none of the issues above were kept; record them
                // again with the failure.
                let kind = if matches!(err, Error::Io(_)) {
                    IssueKind::UnreadableFile
                } else {
                    IssueKind::ScriptError
                };
                let reason = format!("the load failed and was rolled back: {err}");
                for issue in table_issues(&header_issues, &scan) {
                    session.issue(&issue.entry(entry))?;
                }
                session.issue(
                    &Issue::new(kind, reason.clone())
                        .entry(entry)
                        .remediation("fix the cause and ingest the file again"),
                )?;
                elaboration.insert("duration_ms".into(), json!(ms(facts.started)));
                elaboration.insert("outcome".into(), json!(format!("failed: {reason}")));
                session.set_entry_elaboration(entry, &Value::Object(elaboration))?;
                session.entry_transition(entry, FAILED, &reason)?;
                report.state = FAILED.to_string();
                report.reason = reason;
            }
        }
        self.reports.push(report);
        Ok(true)
    }
}

/// Records why an entry gives no table, and moves it to `FAILED`.
fn record_failure(session: &mut Session, entry: &str, problem: &FileProblem) -> Result<()> {
    session.issue(
        &Issue::new(problem.kind, problem.message.clone())
            .entry(entry)
            .severity(problem.severity)
            .remediation(problem.remediation.clone()),
    )?;
    session.entry_transition(entry, FAILED, &problem.message)?;
    Ok(())
}

/// The summary line of an entry that gives no table.
fn failed_report(
    entry: String,
    source: &str,
    format: Option<String>,
    problem: FileProblem,
) -> EntryReport {
    EntryReport {
        entry_id: entry,
        source: source.to_string(),
        table: None,
        sheet: None,
        format,
        rows: None,
        columns: None,
        issues: 0,
        issues_error: 0,
        state: FAILED.to_string(),
        reason: problem.message,
    }
}

/// The issues of a table: its header's, pass 1's, and a warning when it has no data rows.
fn table_issues(header_issues: &[Issue], scan: &Scan) -> Vec<Issue> {
    let mut issues = header_issues.to_vec();
    issues.extend(scan.issues.iter().cloned());
    if scan.rows == 0 {
        issues.push(
            Issue::new(
                IssueKind::EmptyFile,
                "the file has a header but no data rows; its table is empty",
            )
            .severity(Severity::Warning)
            .remediation("send the file with its data rows"),
        );
    }
    issues
}

/// The columns as the elaboration and the hook see them.
fn loaded_columns(scan: &Scan, columns: &[LoadColumn]) -> Vec<LoadedColumn> {
    scan.headers
        .iter()
        .zip(columns)
        .zip(&scan.stats)
        .map(|((header, column), stats)| LoadedColumn {
            header: header.clone(),
            name: column.name.clone(),
            column_type: column.column_type,
            nulls: stats.nulls,
        })
        .collect()
}

/// Runs one statement a user would want to see, and records it as an exec row.
fn run_recorded(
    conn: &Connection,
    session: &Session,
    entry: &str,
    sql: &str,
    why: &str,
) -> Result<()> {
    let started = Instant::now();
    conn.execute_batch(sql)?;
    let mut exec = Exec::new("sql", sql)
        .entry(entry)
        .duration(started.elapsed());
    exec.narrative_md = Some(why.to_string());
    session.exec(&exec)?;
    Ok(())
}

/// For `--if-exists append`: the existing table must have the file's columns (and the
/// provenance columns when asked for), in order. Then its declared types are used.
fn append_columns(
    conn: &Connection,
    table: &str,
    columns: &mut [LoadColumn],
    provenance: bool,
) -> Result<std::result::Result<(), Vec<Issue>>> {
    let mut stmt = conn.prepare(&format!("PRAGMA table_info({})", quote_ident(table)))?;
    let existing: Vec<(String, String)> = stmt
        .query_map([], |row| {
            Ok((
                row.get(1)?,
                row.get::<_, Option<String>>(2)?.unwrap_or_default(),
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut wanted: Vec<String> = columns.iter().map(|c| c.name.clone()).collect();
    if provenance {
        wanted.extend(PROVENANCE_COLUMNS.iter().map(|c| c.to_string()));
    }
    let same = existing.len() == wanted.len()
        && existing
            .iter()
            .zip(&wanted)
            .all(|((have, _), want)| have.eq_ignore_ascii_case(want));
    if !same {
        let mut issues = Vec::new();
        for want in &wanted {
            if !existing
                .iter()
                .any(|(have, _)| have.eq_ignore_ascii_case(want))
            {
                issues.push(
                    Issue::new(
                        IssueKind::ExtraColumn,
                        format!("column {want} of the file is not in table {table}; not appended"),
                    )
                    .column(want.clone())
                    .remediation(
                        "append only files with the table's columns, or use --if-exists replace",
                    ),
                );
            }
        }
        for (have, _) in &existing {
            if !wanted.iter().any(|want| have.eq_ignore_ascii_case(want)) {
                issues.push(
                    Issue::new(
                        IssueKind::MissingColumn,
                        format!("column {have} of table {table} is not in the file; not appended"),
                    )
                    .column(have.clone())
                    .remediation(
                        "append only files with the table's columns, or use --if-exists replace",
                    ),
                );
            }
        }
        if issues.is_empty() {
            issues.push(
                Issue::new(
                    IssueKind::ExtraColumn,
                    format!(
                        "the file's columns are in another order than table {table}'s; not appended"
                    ),
                )
                .remediation("append only files with the table's columns in the same order"),
            );
        }
        return Ok(Err(issues));
    }
    for (column, (_, declared)) in columns.iter_mut().zip(&existing) {
        let existing_type = ColumnType::from_declared(declared);
        if existing_type != column.column_type || !column.inferred {
            column.column_type = existing_type;
            column.inferred = false;
        }
    }
    Ok(Ok(()))
}

/// The digest of the last committed load of every table named in the RSSD's entries.
fn last_ingested_digests(conn: &Connection) -> Result<HashMap<String, String>> {
    let mut stmt = conn.prepare(
        "SELECT e.ingest_table_name, json_extract(e.elaboration, '$.content_sha256')
         FROM orchestration_session_entry e
         WHERE e.ingest_table_name IS NOT NULL AND json_valid(e.elaboration)
           AND e.orchestration_session_entry_id IN
               (SELECT session_entry_id FROM orchestration_session_state WHERE to_state = 'INGESTED')
         ORDER BY e.rowid",
    )?;
    let mut digests = HashMap::new();
    let rows = stmt.query_map([], |row| {
        Ok((row.get::<_, String>(0)?, row.get::<_, Option<String>>(1)?))
    })?;
    for row in rows {
        let (table, digest) = row?;
        match digest {
            Some(digest) => digests.insert(table.to_ascii_lowercase(), digest),
            None => digests.remove(&table.to_ascii_lowercase()),
        };
    }
    Ok(digests)
}

fn fill_issue_counts(
    conn: &Connection,
    session_id: &str,
    reports: &mut [EntryReport],
) -> Result<()> {
    let counts = crate::state::query::issue_counts_by_entry(conn, session_id)?;
    for report in reports {
        if let Some(&(errors, warnings)) = counts.get(&Some(report.entry_id.clone())) {
            report.issues = (errors + warnings) as usize;
            report.issues_error = errors as usize;
        }
    }
    Ok(())
}

fn unreadable(err: impl std::fmt::Display) -> FileProblem {
    FileProblem::new(
        IssueKind::UnreadableFile,
        format!("cannot be read: {err}"),
        "check the file and its permissions",
    )
}

/// The format a file's extension names, if rssd reads it.
pub(super) fn format_of(path: &Path) -> Option<String> {
    let extension = path.extension()?.to_string_lossy().to_ascii_lowercase();
    let format = match extension.as_str() {
        "csv" | "tsv" | "txt" | "xlsx" | "xlsm" | "xls" | "ods" | "json" => extension.as_str(),
        "ndjson" | "jsonl" => "ndjson",
        _ => return None,
    };
    Some(format.to_string())
}

fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut file = fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

fn ms(started: Instant) -> f64 {
    (started.elapsed().as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0
}

/// `YYYY-MM-DDTHH:MM:SSZ` (UTC) for a file time.
fn iso_time(time: SystemTime) -> String {
    let seconds = match time.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    };
    let (days, rest) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_times_are_iso_8601_utc() {
        assert_eq!(iso_time(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let t = UNIX_EPOCH + std::time::Duration::from_secs(1_709_251_199);
        assert_eq!(iso_time(t), "2024-02-29T23:59:59Z");
    }
}
