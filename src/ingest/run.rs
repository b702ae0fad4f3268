//! One ingest run: the session, each file's entries (one per table), and the summary. How one
//! table loads is in [`super::entry`]; formats and their readers in [`super::format`].

use std::collections::HashMap;
use std::fs;
use std::path::Path;
use std::time::Instant;

use rusqlite::Connection;
use serde_json::{Map, Value, json};

use super::digest::{file_digests, iso_time, last_ingested_digests};
use super::drift::{Deliveries, source_key};
use super::entry::{
    Admission, ColumnPlan, LoadOutcome, TableLoad, admission, close_entry, entry_report,
    is_storage_failure, loaded_columns, plan_columns, table_issues,
};
use super::format::Format;
use super::inputs::{self, Candidate};
use super::load::{self, Provenance};
use super::naming::{TableNames, table_base_name};
use super::progress::Progress;
use super::resource::{Resources, WalkedFile};
use super::source::{FileProblem, Scan, ScanOutcome, Table};
use super::staged;
use super::summary::summarize;
use super::{EntryHook, EntryReport, IfExists, IngestOptions, IngestSummary, LoadedEntry};
use crate::sql::write_transaction;
use crate::state::states::{FAILED, INGESTED, INGESTING, INTERRUPTED, SKIPPED, UNCHANGED};
use crate::state::{Issue, IssueKind, Session, StateDb};
use crate::{Error, Result};

/// Page cache for the load, in KiB (negative `cache_size`): large enough that SQLite rarely
/// spills dirty pages mid-transaction, small enough to keep a 1 GB load under 100 MB.
const LOAD_CACHE_KIB: i64 = 32 * 1024;
/// Pages in the WAL before a commit checkpoints them (SQLite's default is 1,000).
const WAL_AUTOCHECKPOINT: i64 = 8192;
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
        "PRAGMA cache_size = -{LOAD_CACHE_KIB}; PRAGMA journal_size_limit = {WAL_SIZE_LIMIT}; PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT};"
    ))?;
    staged::drop_orphans(conn)?;
    let mut session = db.begin_session(&options.nature, &options.args)?;
    let device_id = &db.device().device_id;
    if let Some(tenant) = &options.tenant {
        super::tenant::ensure(conn, tenant, device_id)?;
    }
    let resources = Resources::begin(conn, device_id, session.id(), options.store_content_up_to)?;
    let mut run = Run {
        conn,
        options,
        hook,
        names: TableNames::default(),
        last_digests: last_ingested_digests(conn)?,
        deliveries: Deliveries::read(conn, options.drift)?,
        reports: Vec::new(),
        loaded: Vec::new(),
        progress: Progress::new(options.progress, candidates.len()),
        resources,
        checkpoint_deferred: false,
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
    run.resources.finish(conn)?;
    hook.after_all(&mut session, &run.loaded)?;

    summarize(session, run.reports, &run.loaded, started)
}

struct Run<'a> {
    conn: &'a Connection,
    options: &'a IngestOptions,
    hook: &'a dyn EntryHook,
    names: TableNames,
    /// Table name (lower case) -> content digest of its last committed load.
    last_digests: HashMap<String, String>,
    /// The latest delivery of each source, for drift.
    deliveries: Deliveries,
    reports: Vec<EntryReport>,
    loaded: Vec<LoadedEntry>,
    progress: Progress,
    /// surveilr's records of each file (`uniform_resource` and its ingest session).
    resources: Resources<'a>,
    /// This file's stored bytes wait for its load's checkpointer (autocheckpoint is off).
    checkpoint_deferred: bool,
}

/// What is known about a file before its tables: the base of every entry's elaboration.
struct FileFacts<'s> {
    source: &'s str,
    /// The source relative to its input root (`--drift-key source`).
    relative: &'s str,
    path: &'s Path,
    /// The name its tables are derived from (the file stem, `stdin`).
    stem: &'s str,
    format: Format,
    digest: String,
    size: u64,
    elaboration: Map<String, Value>,
    started: Instant,
}

/// Whether a load was recorded, or must be done again the careful way.
enum Recorded {
    Done,
    /// A speculative load's sample's types did not hold: nothing was kept or recorded.
    Mispredicted,
}

impl Run<'_> {
    fn candidate(&mut self, session: &mut Session, candidate: &Candidate) -> Result<()> {
        let done = self.candidate_tables(session, candidate);
        if std::mem::take(&mut self.checkpoint_deferred) {
            self.conn
                .execute_batch(&format!("PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT}"))?;
        }
        done
    }

    fn candidate_tables(&mut self, session: &mut Session, candidate: &Candidate) -> Result<()> {
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
            Candidate::File {
                source,
                path,
                relative,
            } => {
                let stem = path
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default();
                self.file(session, (source, relative), path, &stem, None)
            }
            Candidate::Stdin => {
                // Standard input is read twice like any file, so it is kept in a temporary
                // file first (removed when this run is done with it).
                let mut spool = tempfile::NamedTempFile::new()?;
                std::io::copy(&mut std::io::stdin().lock(), &mut spool)?;
                self.file(
                    session,
                    ("-", "-"),
                    spool.path(),
                    "stdin",
                    Some(Format::Csv),
                )
            }
        }
    }

    /// A file (its source as given and relative to its input root): its facts (format, size,
    /// digest), then its tables, each an entry.
    fn file(
        &mut self,
        session: &mut Session,
        (source, relative): (&str, &str),
        path: &Path,
        stem: &str,
        forced_format: Option<Format>,
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
        let format = forced_format.or_else(|| Format::of_path(path));
        elaboration.insert("format".into(), json!(format.map(Format::as_str)));
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
                    "no reader for \"{name}\": rssd reads {}",
                    Format::EXTENSIONS
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
        let keep =
            (source != "-" && self.resources.stores(self.conn, meta.len())).then_some(meta.len());
        let mut digests = match file_digests(path, keep) {
            Ok(digests) => digests,
            Err(err) => {
                return self.no_table(session, source, elaboration, started, unreadable(err));
            }
        };
        let recorded = match source {
            "-" => Ok(()),
            _ => {
                let mut walked = WalkedFile {
                    path,
                    relative,
                    digest: &digests.sha1,
                    content: digests.content.take(),
                    size: meta.len(),
                    modified: meta.modified().ok().map(iso_time),
                };
                self.record_resource(&mut walked, &mut elaboration)
            }
        };
        // The SHA-256 of stored bytes was hashed on the other core while they were stored.
        let sha256 = match digests.sha256() {
            Ok(sha256) => sha256,
            Err(err) => {
                return self.no_table(session, source, elaboration, started, unreadable(err));
            }
        };
        elaboration.insert("content_sha256".into(), json!(sha256));
        match recorded {
            Ok(()) => {}
            Err(Error::Io(err)) => {
                return self.no_table(session, source, elaboration, started, unreadable(err));
            }
            Err(err) => return Err(err),
        }
        // Every entry has the same keys; formats fill in theirs.
        for key in ["encoding", "delimiter", "sheet"] {
            elaboration.insert(key.into(), Value::Null);
        }
        let facts = FileFacts {
            source,
            relative,
            path,
            stem,
            format,
            digest: sha256,
            size: meta.len(),
            elaboration,
            started,
        };
        self.tables(session, facts)
    }

    /// The tables of a file, each loaded (or recognised unchanged) as its own entry.
    fn tables(&mut self, session: &mut Session, facts: FileFacts) -> Result<()> {
        // A file of one table: an unchanged one is recognised before it is read.
        let mut claimed = None;
        if !facts.format.is_workbook() {
            let name = self.claim(facts.stem);
            if self.is_unchanged(&name, &facts.digest)? {
                return self.unchanged(session, &facts, None, name);
            }
            claimed = Some(name);
        }
        // Workbooks always: their sheets are read once, while they load.
        let speculate =
            facts.format.is_workbook() || facts.size >= self.options.speculate_from_bytes;
        let tables = match facts
            .format
            .open(facts.path, facts.stem, speculate, &self.options.read)
        {
            Ok(Ok(tables)) => tables,
            Ok(Err(problem)) => return self.no_table_of(session, &facts, problem),
            Err(err) => return self.no_table_of(session, &facts, unreadable(err)),
        };
        for table in tables {
            let name = match claimed.take() {
                Some(name) => name,
                None => self.claim(&table.base_name),
            };
            if claimed.is_none()
                && facts.format.is_workbook()
                && self.is_unchanged(&name, &facts.digest)?
            {
                self.unchanged(session, &facts, table.sheet.clone(), name)?;
            } else {
                self.table(session, &facts, table, name)?;
            }
        }
        Ok(())
    }

    /// The file's `uniform_resource` and path entry, named in the entry's elaboration. When
    /// storage fails (disk full), nothing of it is kept and `content_stored` is false: the
    /// file's load then meets the same failure and records it as the entry's Load Error.
    fn record_resource(
        &mut self,
        walked: &mut WalkedFile,
        elaboration: &mut Map<String, Value>,
    ) -> Result<()> {
        let conn = self.conn;
        // A big file's stored bytes are checkpointed by its staged load's checkpointer, on the
        // other core while the rows load, not by this connection before they start.
        if self.resources.stores(conn, walked.size) && walked.size >= staged::STAGED_FROM_BYTES {
            conn.execute_batch("PRAGMA wal_autocheckpoint = 0")?;
            self.checkpoint_deferred = true;
        }
        let recorded = write_transaction(conn, || self.resources.record(conn, walked));
        match recorded {
            Ok(id) => {
                elaboration.insert("uniform_resource_id".into(), json!(id));
                Ok(())
            }
            Err(err) if is_storage_failure(&err) => {
                elaboration.insert("content_stored".into(), json!(false));
                Ok(())
            }
            Err(err) => Err(err),
        }
    }

    fn claim(&mut self, base: &str) -> String {
        self.names
            .claim(&self.options.table_prefix, &table_base_name(base))
    }

    fn is_unchanged(&self, table: &str, digest: &str) -> Result<bool> {
        if self.hook.checks_entries() && self.options.reload_unchanged_when_checking {
            return Ok(false);
        }
        Ok(self
            .last_digests
            .get(&table.to_ascii_lowercase())
            .map(String::as_str)
            == Some(digest)
            && self.conn.table_exists(Some("main"), table)?)
    }

    fn no_table_of(
        &mut self,
        session: &mut Session,
        facts: &FileFacts,
        problem: FileProblem,
    ) -> Result<()> {
        let elaboration = facts.elaboration.clone();
        self.no_table(session, facts.source, elaboration, facts.started, problem)
    }

    /// An entry for a file that gives no table: `INITIAL -> FAILED` with its issue.
    fn no_table(
        &mut self,
        session: &mut Session,
        source: &str,
        elaboration: Map<String, Value>,
        started: Instant,
        problem: FileProblem,
    ) -> Result<()> {
        let format = elaboration
            .get("format")
            .and_then(Value::as_str)
            .map(str::to_string);
        // One transaction per entry's records: fewer commits for runs of many small files.
        let conn = self.conn;
        write_transaction(conn, || {
            let entry = session.add_entry(source, None, &Value::Object(elaboration.clone()))?;
            let mut line = entry_report(&entry, source, FAILED, &problem.message);
            line.format = format;
            self.finish(session, line, elaboration, started, &[problem.issue()])
        })
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
        let conn = self.conn;
        write_transaction(conn, || {
            let entry = session.add_entry(
                facts.source,
                Some(&name),
                &Value::Object(elaboration.clone()),
            )?;
            session.entry_transition(&entry, INGESTING, &format!("reading {}", facts.source))?;
            let mut line = entry_report(&entry, facts.source, UNCHANGED, &reason);
            line.table = Some(name.clone());
            line.sheet = sheet.clone();
            line.format = Some(facts.format.as_str().to_string());
            self.finish(session, line, elaboration, facts.started, &[])
        })
    }

    /// An entry ends (the one place, with [`close_entry`]): its issues, its elaboration's
    /// duration and outcome, its final transition, and its summary line.
    fn finish(
        &mut self,
        session: &mut Session,
        line: EntryReport,
        elaboration: Map<String, Value>,
        started: Instant,
        issues: &[Issue],
    ) -> Result<()> {
        for issue in issues {
            session.issue(&issue.clone().entry(&line.entry_id))?;
        }
        close_entry(
            session,
            &line.entry_id,
            elaboration,
            started,
            &line.state,
            &line.reason,
        )?;
        self.reports.push(line);
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
        let sheet = table.sheet.clone();
        if let Recorded::Done = self.load(session, facts, &entry, table, &name)? {
            return Ok(());
        }
        // The sample's types did not hold for the whole file: read it the careful way.
        let problem = match facts
            .format
            .open(facts.path, facts.stem, false, &self.options.read)
        {
            Ok(Ok(tables)) => match tables.into_iter().find(|t| t.sheet == sheet) {
                Some(table) => match self.load(session, facts, &entry, table, &name)? {
                    Recorded::Done => return Ok(()),
                    // Only a speculative load mispredicts; the careful one has no sample.
                    Recorded::Mispredicted => changed_while_loading(),
                },
                None => changed_while_loading(),
            },
            Ok(Err(problem)) => problem,
            Err(err) => unreadable(err),
        };
        let mut line = entry_report(&entry, facts.source, FAILED, &problem.message);
        line.format = Some(facts.format.as_str().to_string());
        self.finish(
            session,
            line,
            facts.elaboration.clone(),
            facts.started,
            &[problem.issue()],
        )
    }

    /// Loads `table` for `entry` and records how it ended, in steps: plan the columns, decide
    /// whether the table may take them, load in one transaction, record the outcome.
    fn load(
        &mut self,
        session: &mut Session,
        facts: &FileFacts,
        entry: &str,
        table: Table,
        name: &str,
    ) -> Result<Recorded> {
        let Table {
            sheet,
            facts: format_facts,
            mut scan,
            numbers_are_typed,
            rows,
            full_scan,
            ..
        } = table;
        let mut elaboration = facts.elaboration.clone();
        elaboration.extend(format_facts);
        let provenance = self.options.provenance_columns;
        let ColumnPlan {
            mut columns,
            header_issues,
        } = plan_columns(&scan, provenance, numbers_are_typed, |names| {
            self.hook
                .declared_types(facts.source, name, sheet.as_deref(), names)
        });
        let mut line = entry_report(entry, facts.source, "", "");
        (line.sheet, line.format) = (sheet.clone(), Some(facts.format.as_str().to_string()));
        line.columns = Some(columns.len());
        let if_exists = self.options.if_exists;
        let exists = self.conn.table_exists(Some("main"), name)?;
        let admitted = admission(self.conn, name, exists, self.options, &mut columns, &scan)?;
        let append = match admitted {
            Admission::Go(append) => append,
            Admission::Refused(refused) => {
                // A sheet's thread hands its rows over until they are dropped.
                drop(rows);
                let Some(scan) = whole_file_scan(full_scan, scan) else {
                    return Ok(Recorded::Mispredicted);
                };
                line.state = SKIPPED.to_string();
                line.reason = refused[0].message.clone();
                let mut issues = table_issues(&header_issues, &scan);
                issues.extend(refused);
                self.finish(session, line, elaboration, facts.started, &issues)?;
                return Ok(Recorded::Done);
            }
        };
        let source = source_key(facts.relative, sheet.as_deref());
        let drift = self.deliveries.check(self.conn, name, &source)?;
        elaboration.insert("if_exists".into(), json!(if_exists));

        let mut loaded = LoadedEntry {
            entry_id: entry.to_string(),
            source: facts.source.to_string(),
            table: name.to_string(),
            sheet,
            format: facts.format.as_str().to_string(),
            columns: loaded_columns(&scan, &columns),
            rows: 0,
        };
        let mut row_check = self.hook.row_check(&loaded);
        let rollback_journal = facts.size >= self.options.rollback_journal_from_bytes
            && load::leave_wal_if_alone(self.conn)?;
        let appending = exists && if_exists == IfExists::Append;
        let outcome = TableLoad {
            conn: self.conn,
            entry,
            name,
            columns: &columns,
            header_issues: &header_issues,
            provenance: provenance.then(|| Provenance {
                session_id: session.id().to_string(),
                entry_id: entry.to_string(),
            }),
            appending,
            replacing: if_exists == IfExists::Replace,
            staged: !rollback_journal
                && !appending
                && row_check.is_none()
                && staged::worth_staging(self.conn, facts.size)?,
            append: &append,
            drift: &drift,
            scan: &mut scan,
            full_scan,
            row_check: row_check.as_deref_mut(),
            progress: &mut self.progress,
            elaboration: elaboration.clone(),
            started: facts.started,
        }
        .run(session, rows);
        if rollback_journal {
            load::return_to_wal(self.conn)?;
        }
        let outcome = outcome?;
        if let LoadOutcome::Loaded { rows, columns, .. } = &outcome {
            loaded.rows = *rows;
            loaded.columns = columns.clone();
            self.hook.after_load(session, &loaded, row_check)?;
        }
        let failed_issues = || table_issues(&header_issues, &scan);
        self.record_outcome(
            session,
            facts,
            outcome,
            line,
            elaboration,
            loaded,
            failed_issues,
        )
    }

    /// Step 4: how the load ended, into the run's records. A committed load closed its entry
    /// in its transaction; a rolled-back one records its issues again with the failure.
    #[allow(clippy::too_many_arguments)]
    fn record_outcome(
        &mut self,
        session: &mut Session,
        facts: &FileFacts,
        outcome: LoadOutcome,
        mut line: EntryReport,
        elaboration: Map<String, Value>,
        loaded: LoadedEntry,
        pass1_issues: impl FnOnce() -> Vec<Issue>,
    ) -> Result<Recorded> {
        match outcome {
            LoadOutcome::Mispredicted => return Ok(Recorded::Mispredicted),
            LoadOutcome::Loaded { rows, reason, .. } => {
                // Here an entry's table is committed: its columns and row count are known.
                self.last_digests
                    .insert(loaded.table.to_ascii_lowercase(), facts.digest.clone());
                self.deliveries.loaded(
                    &loaded.table,
                    &source_key(facts.relative, loaded.sheet.as_deref()),
                    &loaded.entry_id,
                );
                line.table = Some(loaded.table.clone());
                line.rows = Some(rows);
                line.state = INGESTED.to_string();
                line.reason = reason;
                self.loaded.push(loaded);
                self.reports.push(line);
            }
            LoadOutcome::Interrupted => {
                session.entry_transition(
                    &loaded.entry_id,
                    INTERRUPTED,
                    "interrupted (Ctrl-C or SIGTERM); the load was rolled back",
                )?;
                return Err(Error::Interrupted);
            }
            LoadOutcome::Failed { kind, reason } => {
                let remediation = match kind {
                    IssueKind::LoadError => {
                        "free disk space (or fix the storage) and ingest the file again"
                    }
                    _ => "fix the cause and ingest the file again",
                };
                let mut issues = pass1_issues();
                issues.push(Issue::new(kind, reason.clone()).remediation(remediation));
                line.state = FAILED.to_string();
                line.reason = reason;
                self.finish(session, line, elaboration, facts.started, &issues)?;
            }
        }
        Ok(Recorded::Done)
    }
}

/// The scan a skipped speculative load records: the whole file's (None when it failed, and
/// the careful read must tell why).
fn whole_file_scan(
    full_scan: Option<std::thread::JoinHandle<Result<ScanOutcome>>>,
    sample: Scan,
) -> Option<Scan> {
    match full_scan.map(|handle| handle.join()) {
        None => Some(sample),
        Some(Ok(Ok(ScanOutcome::Done(full)))) => Some(full),
        Some(_) => None,
    }
}

fn unreadable(err: impl std::fmt::Display) -> FileProblem {
    FileProblem::new(
        IssueKind::UnreadableFile,
        format!("cannot be read: {err}"),
        "check the file and its permissions",
    )
}

fn changed_while_loading() -> FileProblem {
    FileProblem::new(
        IssueKind::ScriptError,
        "the file changed while it was loaded",
        "ingest the file again once it is complete",
    )
}
