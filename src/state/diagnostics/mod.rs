//! `diagnostics_json` and `diagnostics_md`: what a session did, in a bounded size.
//!
//! Counts cover everything; lists are capped (entries, states per entry, first issues per
//! type, text length), so a session with a million issues stores a summary, not a copy.
//! The same [`Diagnostics`] value is what `rssd report --format json` prints; its shape is
//! documented in `docs/report.md` and fields are only ever added.

pub mod drift;
mod markdown;

use std::collections::{BTreeMap, HashMap, HashSet};

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use serde_json::Value;

use super::issue_list::{IssueRow, take_first_issues, text_cell, text_or_empty};
use super::query::{self, EntrySummary, SEVERITY_SQL, SessionSummary};
use super::states::{ABANDONED, ORCH_COMPLETED, ORCH_FAILED};
use crate::Result;

/// Names the JSON shape, so readers can tell versions apart.
pub const FORMAT: &str = "rssd-diagnostics/1";
/// Entries described one by one; the rest are counted.
pub const MAX_ENTRIES: usize = 1000;
/// State changes listed per entry; the first and last times are kept whatever the count.
pub const MAX_STATES_PER_ENTRY: usize = 20;
/// Issues quoted per entry and issue type.
pub const FIRST_ISSUES_PER_TYPE: usize = 5;
/// Issues quoted per entry over all its types.
pub const MAX_FIRST_ISSUES_PER_ENTRY: usize = 50;
/// Issues quoted in the whole document: the session's own first, then entry by entry.
pub const MAX_FIRST_ISSUES: usize = 2000;
/// Characters kept of any one text taken from the data (messages, values, errors).
pub const MAX_TEXT_CHARS: usize = 500;

/// Exec rows count as failed unless their status is 0 or a success word (scripts of other
/// tools store `'SUCCESS'` in the INTEGER column).
pub const EXEC_FAILED_SQL: &str =
    "CASE WHEN typeof(x.exec_status) IN ('integer', 'real') THEN x.exec_status <> 0
      ELSE upper(trim(x.exec_status)) NOT IN ('0', 'SUCCESS', 'OK', 'COMPLETED', 'DONE') END";

#[derive(Debug, Clone, Serialize)]
pub struct Diagnostics {
    /// Always [`FORMAT`].
    pub format: String,
    pub session: SessionSummary,
    pub device: DeviceFacts,
    pub summary: Summary,
    pub entries: Vec<EntryDiagnostics>,
    /// Entries not described in `entries` because of [`MAX_ENTRIES`].
    pub entries_not_listed: usize,
    /// Issues that belong to no entry (or to an entry id that does not exist).
    pub session_issues: IssueDigest,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct DeviceFacts {
    pub device_id: String,
    pub name: Option<String>,
    pub boundary: Option<String>,
    /// The device's `state_sysinfo` JSON (os, arch, host name, ...), when readable.
    pub sysinfo: Option<Value>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// Entries: files, sheets or scripts.
    pub entries: usize,
    /// Entries that became a table.
    pub tables: usize,
    /// Rows loaded, from the entries' elaboration `rows`.
    pub rows: i64,
    /// As the recorder measured it (ms precision), else from the timestamps.
    pub duration_s: Option<f64>,
    pub entries_by_state: BTreeMap<String, usize>,
    pub issues: usize,
    pub issues_by_severity: BTreeMap<String, usize>,
    pub issues_by_type: BTreeMap<String, usize>,
    pub execs: usize,
    pub execs_failed: usize,
    pub scripts: ScriptCounts,
}

/// Entries that went through surveilr's script states (`surveilr_orch_*`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct ScriptCounts {
    pub total: usize,
    pub completed: usize,
    pub failed: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct EntryDiagnostics {
    /// entry_id, source, table, state, rows, issues.
    #[serde(flatten)]
    pub entry: EntrySummary,
    /// Time of the entry's first and latest state change.
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub states: Vec<StateChange>,
    pub states_not_listed: usize,
    #[serde(flatten)]
    pub issue_digest: IssueDigest,
    pub execs: usize,
    pub execs_failed: usize,
    /// The error text of the entry's first failed exec.
    pub first_exec_error: Option<String>,
    /// For scripts run by `orchestrate`: how the script ended.
    pub script: Option<ScriptOutcome>,
    /// For loaded tables: what changed since the previous delivery of the same source.
    pub changes_since_last_delivery: Option<drift::DeliveryChanges>,
}

/// Issue counts and the first few issues of each type.
#[derive(Debug, Clone, Default, Serialize)]
pub struct IssueDigest {
    pub issues_by_severity: BTreeMap<String, usize>,
    pub issues_by_type: BTreeMap<String, usize>,
    pub first_issues: Vec<IssueBrief>,
    /// Issues counted but not quoted in `first_issues`.
    pub issues_not_listed: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct StateChange {
    pub from: String,
    pub to: String,
    pub at: Option<String>,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScriptOutcome {
    /// `completed`, `failed`, `abandoned` or `unfinished`.
    pub outcome: String,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct IssueBrief {
    pub issue_type: String,
    pub code: Option<String>,
    pub severity: String,
    pub message: String,
    pub row: Option<String>,
    pub column: Option<String>,
    pub invalid_value: Option<String>,
    pub remediation: Option<String>,
}

impl IssueBrief {
    /// The issue with every text clipped to [`MAX_TEXT_CHARS`].
    pub fn from_row(row: IssueRow) -> IssueBrief {
        let clip_opt = |text: Option<String>| text.map(|t| clip(t, MAX_TEXT_CHARS));
        IssueBrief {
            issue_type: clip(row.issue_type, MAX_TEXT_CHARS),
            code: clip_opt(row.code),
            severity: row.severity,
            message: clip(row.message, MAX_TEXT_CHARS),
            row: clip_opt(row.row),
            column: clip_opt(row.column),
            invalid_value: clip_opt(row.invalid_value),
            remediation: clip_opt(row.remediation),
        }
    }
}

/// Keeps the first `max` characters, marking the cut with `…`.
pub fn clip(text: String, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text,
        Some((cut, _)) => format!("{}…", &text[..cut]),
    }
}

/// Builds the diagnostics of a session from the tables (finished or not).
pub fn build(conn: &Connection, session_id: &str) -> Result<Diagnostics> {
    let session = query::session_summary(conn, session_id)?;
    let device = device_facts(conn, &session.device_id)?;
    let all_entries = query::list_entries(conn, session_id)?;
    let mut summary = Summary {
        entries: all_entries.len(),
        tables: all_entries.iter().filter(|e| e.table.is_some()).count(),
        rows: all_entries.iter().filter_map(|e| e.rows).sum(),
        duration_s: measured_duration_s(conn, session_id)?.or(session.duration_s),
        ..Summary::default()
    };
    for entry in &all_entries {
        *summary
            .entries_by_state
            .entry(entry.state.clone())
            .or_default() += 1;
    }

    let listed = all_entries.len().min(MAX_ENTRIES);
    let entries_not_listed = all_entries.len() - listed;
    let entries: Vec<EntryDiagnostics> = all_entries
        .into_iter()
        .take(listed)
        .map(|entry| EntryDiagnostics {
            entry,
            started_at: None,
            finished_at: None,
            states: Vec::new(),
            states_not_listed: 0,
            issue_digest: IssueDigest::default(),
            execs: 0,
            execs_failed: 0,
            first_exec_error: None,
            script: None,
            changes_since_last_delivery: None,
        })
        .collect();
    let index = EntryIndex::new(
        conn,
        session_id,
        entries.iter().map(|e| e.entry.entry_id.as_str()),
    )?;
    let mut builder = Builder {
        conn,
        session_id,
        index,
        entries,
        session_issues: IssueDigest::default(),
        summary,
    };
    builder.add_states()?;
    builder.add_issue_counts()?;
    builder.add_first_issues()?;
    builder.add_execs()?;
    builder.add_delivery_changes()?;

    Ok(Diagnostics {
        format: FORMAT.to_string(),
        session,
        device,
        summary: builder.summary,
        entries: builder.entries,
        entries_not_listed,
        session_issues: builder.session_issues,
    })
}

/// The duration the recorder measured (`elaboration.rssd.duration_ms`), finer than the
/// whole seconds of the start and finish timestamps.
fn measured_duration_s(conn: &Connection, session_id: &str) -> Result<Option<f64>> {
    let ms: Option<f64> = conn.query_row(
        "SELECT CASE WHEN json_valid(elaboration) THEN json_extract(elaboration, '$.rssd.duration_ms') END
         FROM orchestration_session WHERE orchestration_session_id = ?1",
        [session_id],
        |row| row.get::<_, Option<f64>>(0).or(Ok(None)),
    )?;
    Ok(ms.map(|ms| ms.round() / 1000.0))
}

fn device_facts(conn: &Connection, device_id: &str) -> Result<DeviceFacts> {
    let found: Option<(Option<String>, Option<String>, Option<String>)> = conn
        .query_row(
            "SELECT name, boundary, state_sysinfo FROM device WHERE device_id = ?1",
            [device_id],
            |row| Ok((text_cell(row, 0)?, text_cell(row, 1)?, text_cell(row, 2)?)),
        )
        .optional()?;
    let (name, boundary, sysinfo) = found.unwrap_or_default();
    Ok(DeviceFacts {
        device_id: device_id.to_string(),
        name,
        boundary,
        sysinfo: sysinfo.and_then(|text| serde_json::from_str(&text).ok()),
    })
}

/// Where an issue belongs in the diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum IssueHome {
    /// A listed entry, by its position in `entries`.
    Entry(usize),
    /// The session: no entry, or an entry id the session does not have.
    Session,
}

/// The session's entry ids: the listed ones by position, and all of them, so that issues of
/// entries beyond [`MAX_ENTRIES`] are not mistaken for session-level ones.
pub(crate) struct EntryIndex {
    position: HashMap<String, usize>,
    known: HashSet<String>,
}

impl EntryIndex {
    pub(crate) fn new<'a>(
        conn: &Connection,
        session_id: &str,
        listed: impl Iterator<Item = &'a str>,
    ) -> Result<EntryIndex> {
        let mut stmt = conn.prepare(
            "SELECT orchestration_session_entry_id FROM orchestration_session_entry WHERE session_id = ?1",
        )?;
        let known = stmt
            .query_map([session_id], |row| text_or_empty(row, 0))?
            .collect::<rusqlite::Result<_>>()?;
        let position = listed
            .enumerate()
            .map(|(i, id)| (id.to_string(), i))
            .collect();
        Ok(EntryIndex { position, known })
    }

    /// The listed entry's position.
    fn position(&self, entry_id: &str) -> Option<usize> {
        self.position.get(entry_id).copied()
    }

    /// Where an issue of `entry_id` goes; `None` for an entry that is not listed.
    pub(crate) fn home(&self, entry_id: Option<&str>) -> Option<IssueHome> {
        match entry_id {
            Some(id) if self.known.contains(id) => self.position(id).map(IssueHome::Entry),
            _ => Some(IssueHome::Session),
        }
    }
}

/// The diagnostics being filled in, one pass over each table.
struct Builder<'c> {
    conn: &'c Connection,
    session_id: &'c str,
    index: EntryIndex,
    entries: Vec<EntryDiagnostics>,
    session_issues: IssueDigest,
    summary: Summary,
}

impl Builder<'_> {
    /// States with their times, one pass; marks script entries and their outcome.
    fn add_states(&mut self) -> Result<()> {
        let mut stmt = self.conn.prepare(
            "SELECT session_entry_id, from_state, to_state, transitioned_at, transition_reason
         FROM orchestration_session_state
         WHERE session_id = ?1 AND session_entry_id IS NOT NULL ORDER BY rowid",
        )?;
        let mut rows = stmt.query([self.session_id])?;
        while let Some(row) = rows.next()? {
            let entry_id = text_or_empty(row, 0)?;
            let Some(i) = self.index.position(&entry_id) else {
                continue;
            };
            let change = StateChange {
                from: text_or_empty(row, 1)?,
                to: text_or_empty(row, 2)?,
                at: text_cell(row, 3)?,
                reason: text_cell(row, 4)?.map(|r| clip(r, MAX_TEXT_CHARS)),
            };
            let entry = &mut self.entries[i];
            if change.from.starts_with("surveilr_orch_") || change.to.starts_with("surveilr_orch_")
            {
                entry.script.get_or_insert(ScriptOutcome {
                    outcome: String::new(),
                    error: None,
                });
            }
            if entry.started_at.is_none() {
                entry.started_at = change.at.clone();
            }
            entry.finished_at = change.at.clone();
            if entry.states.len() < MAX_STATES_PER_ENTRY {
                entry.states.push(change);
            } else {
                entry.states_not_listed += 1;
            }
        }
        for entry in self.entries.iter_mut() {
            let state = entry.entry.state.as_str();
            if let Some(script) = &mut entry.script {
                self.summary.scripts.total += 1;
                script.outcome = match state {
                    ORCH_COMPLETED => {
                        self.summary.scripts.completed += 1;
                        "completed"
                    }
                    ORCH_FAILED => {
                        self.summary.scripts.failed += 1;
                        "failed"
                    }
                    ABANDONED => "abandoned",
                    _ => "unfinished",
                }
                .to_string();
            }
        }
        Ok(())
    }

    /// Each listed entry's drift against its previous delivery.
    fn add_delivery_changes(&mut self) -> Result<()> {
        for (entry_id, changes) in drift::read(self.conn, self.session_id)? {
            if let Some(i) = self.index.position(&entry_id) {
                self.entries[i].changes_since_last_delivery = Some(changes);
            }
        }
        Ok(())
    }

    /// Issue counts by entry, type and severity, one grouped pass.
    fn add_issue_counts(&mut self) -> Result<()> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT i.session_entry_id, i.issue_type, {SEVERITY_SQL}, count(*)
         FROM orchestration_session_issue i WHERE i.session_id = ?1
         GROUP BY 1, 2, 3"
        ))?;
        let mut rows = stmt.query([self.session_id])?;
        while let Some(row) = rows.next()? {
            let entry_id = text_cell(row, 0)?;
            let issue_type = text_or_empty(row, 1)?;
            let severity = text_or_empty(row, 2)?;
            let count = row.get::<_, i64>(3)? as usize;
            self.summary.issues += count;
            *self
                .summary
                .issues_by_severity
                .entry(severity.clone())
                .or_default() += count;
            *self
                .summary
                .issues_by_type
                .entry(issue_type.clone())
                .or_default() += count;
            let digest = match self.index.home(entry_id.as_deref()) {
                Some(IssueHome::Entry(i)) => &mut self.entries[i].issue_digest,
                Some(IssueHome::Session) => &mut self.session_issues,
                None => continue, // an entry beyond MAX_ENTRIES: counted in the summary only
            };
            *digest.issues_by_severity.entry(severity).or_default() += count;
            *digest.issues_by_type.entry(issue_type).or_default() += count;
        }
        Ok(())
    }

    /// The first issues of each type for every listed entry and for the session: one streaming
    /// pass in recorded order that stops as soon as every quota is met.
    fn add_first_issues(&mut self) -> Result<()> {
        let mut quotas: HashMap<(IssueHome, String), usize> = HashMap::new();
        let mut wanted = 0;
        let mut budget = MAX_FIRST_ISSUES;
        let homes = std::iter::once((IssueHome::Session, &self.session_issues)).chain(
            self.entries
                .iter()
                .enumerate()
                .map(|(i, e)| (IssueHome::Entry(i), &e.issue_digest)),
        );
        for (home, digest) in homes {
            let mut room = MAX_FIRST_ISSUES_PER_ENTRY;
            for (issue_type, &count) in &digest.issues_by_type {
                let quota = count.min(FIRST_ISSUES_PER_TYPE).min(room).min(budget);
                budget -= quota;
                if quota > 0 {
                    quotas.insert((home, issue_type.clone()), quota);
                    room -= quota;
                    wanted += quota;
                }
            }
        }
        let (index, entries, session_issues) =
            (&self.index, &mut self.entries, &mut self.session_issues);
        take_first_issues(self.conn, self.session_id, wanted, |row| {
            let Some(home) = index.home(row.entry_id.as_deref()) else {
                return false;
            };
            let Some(quota) = quotas.get_mut(&(home, row.issue_type.clone())) else {
                return false;
            };
            if *quota == 0 {
                return false;
            }
            *quota -= 1;
            let digest = match home {
                IssueHome::Entry(i) => &mut entries[i].issue_digest,
                IssueHome::Session => &mut *session_issues,
            };
            digest.first_issues.push(IssueBrief::from_row(row));
            true
        })?;
        for digest in self
            .entries
            .iter_mut()
            .map(|e| &mut e.issue_digest)
            .chain(std::iter::once(&mut self.session_issues))
        {
            let total: usize = digest.issues_by_type.values().sum();
            digest.issues_not_listed = total - digest.first_issues.len();
        }
        Ok(())
    }

    /// Exec counts per entry and for the session, and each entry's first error.
    fn add_execs(&mut self) -> Result<()> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT x.session_entry_id, count(*), sum({EXEC_FAILED_SQL})
         FROM orchestration_session_exec x WHERE x.session_id = ?1 GROUP BY 1"
        ))?;
        let mut rows = stmt.query([self.session_id])?;
        let mut wanting_error = 0;
        while let Some(row) = rows.next()? {
            let entry_id = text_cell(row, 0)?;
            let count = row.get::<_, i64>(1)? as usize;
            let failed = row.get::<_, Option<i64>>(2)?.unwrap_or(0) as usize;
            self.summary.execs += count;
            self.summary.execs_failed += failed;
            if let Some(i) = entry_id.as_deref().and_then(|id| self.index.position(id)) {
                self.entries[i].execs = count;
                self.entries[i].execs_failed = failed;
                if failed > 0 {
                    wanting_error += 1;
                }
            }
        }
        if wanting_error > 0 {
            let mut stmt = self.conn.prepare(&format!(
            "SELECT x.session_entry_id, coalesce(x.exec_error_text, x.output_text, 'status ' || x.exec_status)
             FROM orchestration_session_exec x
             WHERE x.session_id = ?1 AND x.session_entry_id IS NOT NULL AND {EXEC_FAILED_SQL}
             ORDER BY x.rowid"
        ))?;
            let mut rows = stmt.query(params![self.session_id])?;
            while let Some(row) = rows.next()? {
                let entry_id = text_or_empty(row, 0)?;
                let Some(i) = self.index.position(&entry_id) else {
                    continue;
                };
                if self.entries[i].first_exec_error.is_none() {
                    let error = text_cell(row, 1)?;
                    self.entries[i].first_exec_error =
                        Some(clip(error.unwrap_or_default(), MAX_TEXT_CHARS));
                    wanting_error -= 1;
                    if wanting_error == 0 {
                        break;
                    }
                }
            }
        }
        for entry in self.entries.iter_mut() {
            if let Some(script) = &mut entry.script
                && matches!(script.outcome.as_str(), "failed" | "abandoned")
            {
                // The exec's error says what went wrong; the last state's reason is the fallback.
                script.error = entry
                    .first_exec_error
                    .clone()
                    .or_else(|| entry.states.last().and_then(|s| s.reason.clone()));
            }
        }
        Ok(())
    }
}

/// Builds the diagnostics and stores them on the session row.
pub fn store(conn: &Connection, session_id: &str) -> Result<Diagnostics> {
    let diagnostics = build(conn, session_id)?;
    conn.execute(
        "UPDATE orchestration_session SET diagnostics_json = ?2, diagnostics_md = ?3
         WHERE orchestration_session_id = ?1",
        params![
            session_id,
            serde_json::to_string(&diagnostics)?,
            diagnostics.to_markdown()
        ],
    )?;
    Ok(diagnostics)
}

impl Diagnostics {
    /// A Markdown document a person could attach to an email.
    pub fn to_markdown(&self) -> String {
        markdown::render(self)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Issue, IssueKind, OpenOptions, StateDb};
    use super::*;

    #[test]
    fn clip_cuts_on_characters_and_marks_the_cut() {
        assert_eq!(clip("héllo".to_string(), 10), "héllo");
        assert_eq!(clip("héllo".to_string(), 2), "hé…");
    }

    #[test]
    fn entries_beyond_the_cap_are_counted_and_their_issues_stay_theirs() {
        let dir = tempfile::tempdir().unwrap();
        let db = StateDb::open(dir.path().join("t.db"), &OpenOptions::default()).unwrap();
        let mut session = db.begin_session("ingest", &serde_json::json!({})).unwrap();
        let mut last = String::new();
        for n in 0..=MAX_ENTRIES {
            last = session
                .add_entry(&format!("f{n}.csv"), None, &serde_json::json!({}))
                .unwrap();
        }
        let long = "x".repeat(MAX_TEXT_CHARS * 3);
        session
            .issue(&Issue::new(IssueKind::BlankRow, long.as_str()).entry(&last))
            .unwrap();
        session
            .issue(&Issue::new(IssueKind::BlankRow, long.as_str()))
            .unwrap();
        let d = session.finish_completed("ok").unwrap();
        assert_eq!(d.summary.entries, MAX_ENTRIES + 1);
        assert_eq!(d.entries.len(), MAX_ENTRIES);
        assert_eq!(d.entries_not_listed, 1);
        assert_eq!(d.summary.issues, 2);
        // The unlisted entry's issue is not mistaken for a session-level one.
        assert_eq!(d.session_issues.issues_by_type["Blank Row"], 1);
        let quoted = &d.session_issues.first_issues[0].message;
        assert_eq!(quoted.chars().count(), MAX_TEXT_CHARS + 1);
    }
}
