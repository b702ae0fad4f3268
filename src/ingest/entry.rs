//! One table's load in named steps: [`plan_columns`], [`refusal`] (may the table take the
//! rows?), [`TableLoad::run`] (the load in one transaction), each step's result an
//! [`LoadOutcome`] rather than an error; and [`close_entry`], the one place an entry's closing
//! bookkeeping is written.

use std::collections::HashMap;
use std::time::Instant;

use rusqlite::{Connection, ErrorCode};
use serde_json::{Map, Value, json};

use super::append::{self, AppendPlan};
use super::drift::DriftCheck;
use super::load::{self, LoadColumn, PROVENANCE_COLUMNS, Provenance};
use super::naming::column_names_reserving;
use super::progress::Progress;
use super::source::{RowSource, Scan, ScanOutcome};
use super::staged::{self, Checkpointer};
use super::{ColumnType, EntryReport, IfExists, IngestOptions, LoadedColumn, RowCheck};
use crate::sql::quote_ident;
use crate::state::states::{FAILED, INGESTED, INGESTING, SKIPPED, UNCHANGED};
use crate::state::{Exec, Issue, IssueKind, Session, Severity};
use crate::{Error, Result};

/// The columns a table is loaded into, and the issues naming them raised.
pub(super) struct ColumnPlan {
    pub columns: Vec<LoadColumn>,
    pub header_issues: Vec<Issue>,
}

/// Step 1: each header's column name (the provenance names reserved) and type: declared by
/// the hook, REAL for typed workbook numbers that mix whole and fractional, else inferred.
pub(super) fn plan_columns(
    scan: &Scan,
    provenance: bool,
    numbers_are_typed: bool,
    declared: impl FnOnce(&[String]) -> HashMap<String, ColumnType>,
) -> ColumnPlan {
    let reserved: &[&str] = if provenance { &PROVENANCE_COLUMNS } else { &[] };
    let (names, header_issues) = column_names_reserving(&scan.headers, reserved);
    let declared = declared(&names);
    let columns = names
        .into_iter()
        .zip(&scan.stats)
        .map(|(name, stats)| match declared.get(&name) {
            Some(&column_type) => LoadColumn {
                name,
                column_type,
                inferred: false,
            },
            None if numbers_are_typed && stats.mixes_whole_and_fractional() => LoadColumn {
                name,
                column_type: ColumnType::Real,
                inferred: false,
            },
            None => LoadColumn {
                name,
                column_type: stats.column_type(),
                inferred: true,
            },
        })
        .collect();
    ColumnPlan {
        columns,
        header_issues,
    }
}

/// Step 2: whether an existing table may take the file's rows. `Refused(issues)`: it may not
/// (`--if-exists fail`, or an append with `--strict-columns` whose columns differ), and the
/// entry is SKIPPED. An admitted append takes the existing table's names and declared types
/// into `columns`, and may add columns to the table ([`super::append`]).
pub(super) fn admission(
    conn: &Connection,
    name: &str,
    exists: bool,
    options: &IngestOptions,
    columns: &mut [LoadColumn],
    scan: &Scan,
) -> Result<Admission> {
    if !exists {
        return Ok(Admission::Go(AppendPlan::default()));
    }
    match options.if_exists {
        IfExists::Replace => Ok(Admission::Go(AppendPlan::default())),
        IfExists::Fail => Ok(Admission::Refused(vec![
            Issue::new(
                IssueKind::TableExists,
                format!(
                    "table {name} already exists and --if-exists is fail; the file was not loaded"
                ),
            )
            .column(name)
            .remediation("use --if-exists replace or append, or another --table-prefix"),
        ])),
        IfExists::Append => {
            let (provenance, strict) = (options.provenance_columns, options.strict_columns);
            let planned = append::plan(conn, name, columns, &scan.stats, provenance, strict)?;
            Ok(match planned {
                Ok(mut plan) => {
                    // Columns added or missing are drift, an error with --drift-fail.
                    for issue in &mut plan.issues {
                        if options.drift.fail && issue.code.starts_with("schema-drift/") {
                            issue.severity = Severity::Error;
                        }
                    }
                    Admission::Go(plan)
                }
                Err(issues) => Admission::Refused(issues),
            })
        }
    }
}

/// Step 2's answer.
pub(super) enum Admission {
    /// Load; for an append, what it changes in the table first.
    Go(AppendPlan),
    Refused(Vec<Issue>),
}

/// How a table's load ended. Nothing but a failure to record it is an error.
pub(super) enum LoadOutcome {
    /// Committed: the table holds `rows` more rows, and the entry is INGESTED.
    Loaded {
        rows: u64,
        columns: Vec<LoadedColumn>,
        reason: String,
    },
    /// A speculative load whose sample's types did not hold for the whole file: rolled back,
    /// nothing recorded; the file is to be loaded again the careful way.
    Mispredicted,
    /// Rolled back: the issue kind and reason to record (the header and pass-1 issues too).
    Failed { kind: IssueKind, reason: String },
    /// Ctrl-C or SIGTERM during the load: rolled back.
    Interrupted,
}

/// Step 3: everything the load of one table needs, run in one transaction with the entry's
/// move to INGESTED.
pub(super) struct TableLoad<'a> {
    pub conn: &'a Connection,
    pub entry: &'a str,
    pub name: &'a str,
    pub columns: &'a [LoadColumn],
    pub header_issues: &'a [Issue],
    pub provenance: Option<Provenance>,
    /// Add to an existing table instead of creating it.
    pub appending: bool,
    /// `--if-exists replace`: a table made meanwhile by another process may be dropped.
    pub replacing: bool,
    /// A big new table: loaded in committed batches under a staging name (see [`staged`]).
    pub staged: bool,
    /// An append's new columns and warnings (empty otherwise).
    pub append: &'a AppendPlan,
    /// The comparison with the previous delivery.
    pub drift: &'a DriftCheck,
    /// Pass 1's scan; a speculative load puts the whole file's scan here.
    pub scan: &'a mut Scan,
    pub full_scan: Option<std::thread::JoinHandle<Result<ScanOutcome>>>,
    pub row_check: Option<&'a mut (dyn RowCheck + 'static)>,
    pub progress: &'a mut Progress,
    /// The entry's elaboration so far; the committed load adds its rows and columns.
    pub elaboration: Map<String, Value>,
    pub started: Instant,
}

/// What the transaction's work found, when it did not fail.
enum Inserted {
    Rows {
        rows: u64,
        columns: Vec<LoadedColumn>,
        reason: String,
    },
    Mispredicted,
}

impl TableLoad<'_> {
    /// Loads the rows (replacing or appending as planned) and closes the entry INGESTED, all
    /// in one transaction; anything else rolls back and says why.
    pub fn run(mut self, session: &mut Session, rows: Box<dyn RowSource>) -> Result<LoadOutcome> {
        let speculative = self.full_scan.is_some();
        let conn = self.conn;
        let staging = self.staged.then(|| staged::staging_name(self.entry));
        conn.execute_batch("BEGIN IMMEDIATE")?;
        let work = self.insert(session, rows, staging.as_deref());
        let committed = match work {
            Ok(Inserted::Rows { .. }) => conn.execute_batch("COMMIT").map_err(Error::from),
            Ok(Inserted::Mispredicted) | Err(_) => Ok(()),
        };
        if !matches!((&work, &committed), (Ok(Inserted::Rows { .. }), Ok(()))) {
            // SQLite may have rolled back on its own already (a storage error at COMMIT).
            let _ = conn.execute_batch("ROLLBACK");
            if let Some(staging) = &staging {
                // Its committed batches go too (a failure here leaves it to the next run).
                let _ =
                    conn.execute_batch(&format!("DROP TABLE IF EXISTS {}", quote_ident(staging)));
            }
            session.entry_rolled_back(self.entry, INGESTING);
        }
        Ok(match (work, committed) {
            (
                Ok(Inserted::Rows {
                    rows,
                    columns,
                    reason,
                }),
                Ok(()),
            ) => LoadOutcome::Loaded {
                rows,
                columns,
                reason,
            },
            (Ok(Inserted::Mispredicted), _) => LoadOutcome::Mispredicted,
            (Err(Error::Interrupted), _) => LoadOutcome::Interrupted,
            // A speculative load's failure may come from the sample's types (a value that does
            // not fit them): the careful load tells the real cause, storage excepted.
            (Err(err), _) if speculative && !is_stop(&err) => LoadOutcome::Mispredicted,
            (Err(err), _) | (Ok(_), Err(err)) => failure(err),
        })
    }

    /// The work inside the transaction (the last one, when staged); an error rolls it back.
    fn insert(
        &mut self,
        session: &mut Session,
        rows: Box<dyn RowSource>,
        staging: Option<&str>,
    ) -> Result<Inserted> {
        let (conn, name, entry) = (self.conn, self.name, self.entry);
        let target = staging.unwrap_or(name);
        let with_provenance = self.provenance.is_some();
        // Checked again under the write lock: another process may have made the table
        // since. Only `replace` may drop it; the other modes fail the file instead.
        let exists = conn.table_exists(Some("main"), name)?;
        if exists && !self.appending && self.replacing && staging.is_none() {
            self.drop_replaced(session, "the new one comes")?;
        }
        let offset: i64 = if self.appending {
            for column in &self.append.add {
                let alter = format!(
                    "ALTER TABLE {} ADD COLUMN {} {}",
                    quote_ident(name),
                    quote_ident(&column.name),
                    column.column_type.sql()
                );
                let why = "append: a column new to the table; its earlier rows are NULL";
                run_recorded(conn, session, entry, &alter, why)?;
            }
            let max = format!("SELECT coalesce(max(rowid), 0) FROM {}", quote_ident(name));
            conn.query_row(&max, [], |r| r.get(0))?
        } else {
            let create = load::create_table_sql(target, self.columns, with_provenance);
            let why = match staging {
                None => "create the table with the inferred types",
                Some(_) => {
                    "create the table with the inferred types, under a staging name until its rows are in"
                }
            };
            run_recorded(conn, session, entry, &create, why)?;
            0
        };
        let insert_started = Instant::now();
        let inserted = self.insert_rows(session, rows, offset, target, staging.is_some());
        if let Some(handle) = self.full_scan.take() {
            // The whole file's scan decides: the sample's types must be its types.
            let types = |s: &Scan| s.stats.iter().map(|c| c.column_type()).collect::<Vec<_>>();
            match handle.join() {
                Ok(Ok(ScanOutcome::Done(full)))
                    if inserted.is_ok()
                        && full.headers == self.scan.headers
                        && types(&full) == types(self.scan) =>
                {
                    *self.scan = full
                }
                // A storage failure or an interrupt is what it is, whatever the types.
                _ if inserted.as_ref().is_err_and(is_stop) => {}
                _ => return Ok(Inserted::Mispredicted),
            }
        }
        let rows = inserted?;
        let insert_sql = load::insert_sql(target, self.columns, with_provenance, 1);
        session.exec(
            &Exec::new("sql", insert_sql)
                .entry(entry)
                .output(format!("{rows} rows inserted in file order"))
                .duration(insert_started.elapsed()),
        )?;
        if let Some(staging) = staging {
            self.take_name(session, staging)?;
        }
        if rows != self.scan.rows {
            return Err(Error::Invalid(format!(
                "pass 1 counted {} rows, pass 2 read {rows}; the file changed while loading",
                self.scan.rows
            )));
        }
        for issue in table_issues(self.header_issues, self.scan) {
            session.issue(&issue.entry(entry))?;
        }
        let columns = loaded_columns(self.scan, self.columns);
        let (drift, drift_issues) = self.drift.compare(&columns, rows, &self.append.raised());
        for issue in self.append.issues.iter().chain(&drift_issues) {
            session.issue(&issue.clone().entry(entry))?;
        }
        let reason = format!("loaded {rows} rows into {name}");
        let mut elaboration = self.elaboration.clone();
        elaboration.insert("drift".into(), drift);
        elaboration.insert("rows".into(), json!(self.scan.rows));
        elaboration.insert("columns".into(), json!(columns));
        if self.appending {
            elaboration.insert("rowid_offset".into(), json!(offset));
        }
        session.set_entry_table(entry, Some(name))?;
        close_entry(session, entry, elaboration, self.started, INGESTED, &reason)?;
        Ok(Inserted::Rows {
            rows,
            columns,
            reason,
        })
    }

    /// `--if-exists replace`: the old table is dropped, recorded, in the transaction in which
    /// `the_new` (the new table's arrival, said for the record).
    fn drop_replaced(&self, session: &Session, the_new: &str) -> Result<()> {
        let drop = format!("DROP TABLE {}", quote_ident(self.name));
        let why = format!("replace: the old table goes in the same transaction as {the_new}");
        run_recorded(self.conn, session, self.entry, &drop, &why)
    }

    /// The staging table takes its name, in the load's last transaction (the old table of
    /// that name dropped first under `replace`, made meanwhile by another process or not).
    fn take_name(&self, session: &Session, staging: &str) -> Result<()> {
        let (conn, name, entry) = (self.conn, self.name, self.entry);
        if self.replacing && conn.table_exists(Some("main"), name)? {
            self.drop_replaced(session, "the new one takes its name")?;
        }
        // Legacy mode renames only this table: no other view or trigger is parsed (one that
        // is broken would fail the rename).
        conn.execute_batch("PRAGMA legacy_alter_table = ON")?;
        let rename = format!(
            "ALTER TABLE {} RENAME TO {}",
            quote_ident(staging),
            quote_ident(name)
        );
        let why = "the rows went in committed batches under a staging name; the table takes its name as its load commits";
        let renamed = run_recorded(conn, session, entry, &rename, why);
        conn.execute_batch("PRAGMA legacy_alter_table = OFF")?;
        renamed
    }

    /// The rows into `target`, checked by the row check on the parser thread when there is
    /// one (its issues recorded in this transaction). When `staged`, every
    /// [`staged::BATCHES_PER_COMMIT`] batches commit and wake the checkpointer; the connection's
    /// own checkpoints wait until the last transaction.
    fn insert_rows(
        &mut self,
        session: &Session,
        rows: Box<dyn RowSource>,
        offset: i64,
        target: &str,
        staged: bool,
    ) -> Result<u64> {
        let conn = self.conn;
        let checkpointer = match (staged, conn.path()) {
            (true, Some(path)) => Some(Checkpointer::start(path)?),
            _ => None,
        };
        // The connection's own checkpoints wait while the checkpointer works (restored below).
        let autocheckpoint: Option<i64> = match &checkpointer {
            Some(_) => {
                let every = conn.query_row("PRAGMA wal_autocheckpoint", [], |r| r.get(0))?;
                conn.execute_batch("PRAGMA wal_autocheckpoint = 0")?;
                Some(every)
            }
            None => None,
        };
        let mut batches = 0u64;
        let progress = &mut *self.progress;
        let mut on_batch = |rows: u64, bytes: u64| -> Result<()> {
            progress.rows(rows, bytes);
            batches += 1;
            if let Some(checkpointer) = checkpointer.as_ref()
                && batches.is_multiple_of(staged::BATCHES_PER_COMMIT)
            {
                conn.execute_batch("COMMIT; BEGIN IMMEDIATE")?;
                checkpointer.wake();
            }
            Ok(())
        };
        let mut record_issues = |issues: &mut Vec<Issue>| -> Result<()> {
            for issue in issues.drain(..) {
                session.issue(&issue)?;
            }
            Ok(())
        };
        let checking = self.row_check.as_deref_mut().map(|check| load::Checking {
            check,
            first_rowid: offset + 1,
            record: &mut record_issues,
        });
        let inserted = load::insert_rows(
            conn,
            target,
            self.columns,
            self.provenance.as_ref(),
            rows,
            &mut on_batch,
            checking,
        );
        drop(checkpointer);
        if let Some(every) = autocheckpoint {
            conn.execute_batch(&format!("PRAGMA wal_autocheckpoint = {every}"))?;
        }
        inserted
    }
}

/// True when SQLite failed for a storage reason: disk full, an I/O error, a lock not given.
pub(super) fn is_storage_failure(err: &Error) -> bool {
    let Error::Sqlite(err) = err else {
        return false;
    };
    matches!(
        err.sqlite_error_code(),
        Some(
            ErrorCode::DiskFull
                | ErrorCode::SystemIoFailure
                | ErrorCode::DatabaseBusy
                | ErrorCode::DatabaseLocked
                | ErrorCode::CannotOpen
                | ErrorCode::NoLargeFileSupport
        )
    )
}

/// An error no second, careful load would avoid.
fn is_stop(err: &Error) -> bool {
    matches!(err, Error::Interrupted) || is_storage_failure(err)
}

/// A rolled-back load's issue: `Load Error` for storage, `Unreadable File` when reading the
/// file failed, `Script Error` for the rest (SQL the load ran that SQLite refused).
fn failure(err: Error) -> LoadOutcome {
    let kind = if is_storage_failure(&err) {
        IssueKind::LoadError
    } else if matches!(err, Error::Io(_)) {
        IssueKind::UnreadableFile
    } else {
        IssueKind::ScriptError
    };
    LoadOutcome::Failed {
        kind,
        reason: format!("the load failed and was rolled back: {err}"),
    }
}

/// The one place an entry's closing bookkeeping is written: the elaboration with its
/// `duration_ms` and `outcome`, and the entry's move to its final `state`.
pub(super) fn close_entry(
    session: &mut Session,
    entry: &str,
    mut elaboration: Map<String, Value>,
    started: Instant,
    state: &str,
    reason: &str,
) -> Result<()> {
    let outcome = match state {
        FAILED => format!("failed: {reason}"),
        SKIPPED => format!("skipped: {reason}"),
        UNCHANGED => format!("unchanged: {reason}"),
        _ => reason.to_string(),
    };
    elaboration.insert("duration_ms".into(), json!(ms(started)));
    elaboration.insert("outcome".into(), json!(outcome));
    session.set_entry_elaboration(entry, &Value::Object(elaboration))?;
    session.entry_transition(entry, state, reason)?;
    Ok(())
}

/// The summary line of an entry: what it is, then how it ended.
pub(super) fn entry_report(entry: &str, source: &str, state: &str, reason: &str) -> EntryReport {
    EntryReport {
        entry_id: entry.to_string(),
        source: source.to_string(),
        table: None,
        sheet: None,
        format: None,
        rows: None,
        columns: None,
        issues: 0,
        issues_error: 0,
        state: state.to_string(),
        reason: reason.to_string(),
    }
}

/// The issues of a table: its header's, pass 1's, and a warning when it has no data rows.
pub(super) fn table_issues(header_issues: &[Issue], scan: &Scan) -> Vec<Issue> {
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
pub(super) fn loaded_columns(scan: &Scan, columns: &[LoadColumn]) -> Vec<LoadedColumn> {
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

/// Milliseconds since `started`, to the microsecond.
pub(super) fn ms(started: Instant) -> f64 {
    (started.elapsed().as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0
}
