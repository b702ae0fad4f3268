//! `diagnostics_json` and `diagnostics_md`: what a finished session did, in a bounded size.
//!
//! Counts cover everything; lists are capped (entries, first issues per entry), so a session
//! with a million issues stores a summary, not a copy.

use std::collections::BTreeMap;

use rusqlite::{Connection, params};
use serde::Serialize;

use super::query::{self, EntrySummary, SEVERITY_SQL, SessionSummary};
use crate::Result;

/// Entries described one by one in the stored diagnostics; the rest are counted.
pub const MAX_ENTRIES: usize = 1000;
/// Issues quoted per entry.
pub const FIRST_ISSUES_PER_ENTRY: usize = 5;

#[derive(Debug, Clone, Serialize)]
pub struct Diagnostics {
    pub session: SessionSummary,
    pub summary: Summary,
    pub entries: Vec<EntryDiagnostics>,
    /// Entries not described in `entries` because of [`MAX_ENTRIES`].
    pub entries_not_listed: usize,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub entries: usize,
    pub tables: usize,
    pub rows: i64,
    pub entries_by_state: BTreeMap<String, usize>,
    pub issues: usize,
    pub issues_by_severity: BTreeMap<String, usize>,
    pub issues_by_type: BTreeMap<String, usize>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EntryDiagnostics {
    #[serde(flatten)]
    pub entry: EntrySummary,
    pub states: Vec<StateChange>,
    pub issues_by_type: BTreeMap<String, usize>,
    pub first_issues: Vec<IssueBrief>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StateChange {
    pub from: String,
    pub to: String,
    pub at: Option<String>,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct IssueBrief {
    pub issue_type: String,
    pub severity: String,
    pub message: String,
    pub row: Option<String>,
    pub column: Option<String>,
    pub invalid_value: Option<String>,
    pub remediation: Option<String>,
}

/// Builds the diagnostics of a session from the tables.
pub fn build(conn: &Connection, session_id: &str) -> Result<Diagnostics> {
    let session = query::session_summary(conn, session_id)?;
    let all_entries = query::list_entries(conn, session_id)?;
    let mut summary = Summary {
        entries: all_entries.len(),
        tables: all_entries.iter().filter(|e| e.table.is_some()).count(),
        rows: all_entries.iter().filter_map(|e| e.rows).sum(),
        ..Summary::default()
    };
    for entry in &all_entries {
        *summary
            .entries_by_state
            .entry(entry.state.clone())
            .or_default() += 1;
    }

    let listed = all_entries.len().min(MAX_ENTRIES);
    let mut entries: Vec<EntryDiagnostics> = all_entries
        .into_iter()
        .take(listed)
        .map(|entry| EntryDiagnostics {
            entry,
            states: Vec::new(),
            issues_by_type: BTreeMap::new(),
            first_issues: Vec::new(),
        })
        .collect();
    let position: std::collections::HashMap<String, usize> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| (e.entry.entry_id.clone(), i))
        .collect();

    // States, one pass.
    let mut stmt = conn.prepare(
        "SELECT session_entry_id, from_state, to_state, transitioned_at, transition_reason
         FROM orchestration_session_state WHERE session_id = ?1 AND session_entry_id IS NOT NULL ORDER BY rowid",
    )?;
    let mut rows = stmt.query([session_id])?;
    while let Some(row) = rows.next()? {
        let entry_id: String = row.get(0)?;
        if let Some(&i) = position.get(&entry_id) {
            entries[i].states.push(StateChange {
                from: row.get(1)?,
                to: row.get(2)?,
                at: row.get(3)?,
                reason: row.get(4)?,
            });
        }
    }

    // Issue counts, one grouped pass.
    let mut stmt = conn.prepare(&format!(
        "SELECT i.session_entry_id, i.issue_type, {SEVERITY_SQL}, count(*)
         FROM orchestration_session_issue i WHERE i.session_id = ?1
         GROUP BY 1, 2, 3"
    ))?;
    let mut rows = stmt.query([session_id])?;
    while let Some(row) = rows.next()? {
        let entry_id: Option<String> = row.get(0)?;
        let issue_type: String = row.get(1)?;
        let severity: String = row.get(2)?;
        let count = row.get::<_, i64>(3)? as usize;
        summary.issues += count;
        *summary.issues_by_severity.entry(severity).or_default() += count;
        *summary
            .issues_by_type
            .entry(issue_type.clone())
            .or_default() += count;
        if let Some(&i) = entry_id.as_ref().and_then(|id| position.get(id)) {
            *entries[i].issues_by_type.entry(issue_type).or_default() += count;
        }
    }

    // First issues per entry: one streaming pass that stops once every entry has enough.
    let mut wanting = entries.iter().filter(|e| e.entry.issues > 0).count();
    if wanting > 0 {
        let mut stmt = conn.prepare(&format!(
            "SELECT i.session_entry_id, i.issue_type, {SEVERITY_SQL}, i.issue_message,
                    CAST(i.issue_row AS TEXT), i.issue_column, i.invalid_value, i.remediation
             FROM orchestration_session_issue i WHERE i.session_id = ?1 AND i.session_entry_id IS NOT NULL
             ORDER BY i.rowid"
        ))?;
        let mut rows = stmt.query(params![session_id])?;
        while let Some(row) = rows.next()? {
            let entry_id: String = row.get(0)?;
            let Some(&i) = position.get(&entry_id) else {
                continue;
            };
            let wanted = (entries[i].entry.issues as usize).min(FIRST_ISSUES_PER_ENTRY);
            let first = &mut entries[i].first_issues;
            if first.len() >= wanted {
                continue;
            }
            first.push(IssueBrief {
                issue_type: row.get(1)?,
                severity: row.get(2)?,
                message: row.get(3)?,
                row: row.get(4)?,
                column: row.get(5)?,
                invalid_value: row.get(6)?,
                remediation: row.get(7)?,
            });
            if first.len() == wanted {
                wanting -= 1;
                if wanting == 0 {
                    break;
                }
            }
        }
    }

    let entries_not_listed = summary.entries - listed;
    Ok(Diagnostics {
        session,
        summary,
        entries_not_listed,
        entries,
    })
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
        use std::fmt::Write;
        let s = &self.session;
        let mut md = String::new();
        let _ = writeln!(md, "# rssd session {}\n", s.session_id);
        let _ = writeln!(md, "- nature: {}", s.nature);
        let _ = writeln!(
            md,
            "- device: {}",
            s.device_name.as_deref().unwrap_or(&s.device_id)
        );
        let _ = writeln!(md, "- version: {}", s.version);
        let _ = writeln!(md, "- started: {}", s.started_at.as_deref().unwrap_or("-"));
        let _ = writeln!(
            md,
            "- finished: {}",
            s.finished_at.as_deref().unwrap_or("-")
        );
        let _ = writeln!(
            md,
            "- state: {}{}",
            s.state,
            s.state_reason
                .as_deref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default()
        );
        let m = &self.summary;
        let _ = writeln!(md, "\n## Summary\n");
        let _ = writeln!(
            md,
            "{} entries, {} tables, {} rows, {} issues.\n",
            m.entries, m.tables, m.rows, m.issues
        );
        if !m.issues_by_type.is_empty() {
            let _ = writeln!(md, "| issue type | count |\n|---|---|");
            for (kind, count) in &m.issues_by_type {
                let _ = writeln!(md, "| {} | {} |", md_cell(kind), count);
            }
            let _ = writeln!(md);
        }
        if !self.entries.is_empty() {
            let _ = writeln!(md, "## Entries\n");
            let _ = writeln!(
                md,
                "| source | table | state | rows | issues |\n|---|---|---|---|---|"
            );
            for e in &self.entries {
                let _ = writeln!(
                    md,
                    "| {} | {} | {} | {} | {} |",
                    md_cell(&e.entry.source),
                    md_cell(e.entry.table.as_deref().unwrap_or("-")),
                    md_cell(&e.entry.state),
                    e.entry
                        .rows
                        .map(|r| r.to_string())
                        .unwrap_or_else(|| "-".into()),
                    e.entry.issues
                );
            }
            if self.entries_not_listed > 0 {
                let _ = writeln!(md, "\n…and {} more entries.", self.entries_not_listed);
            }
            for e in self.entries.iter().filter(|e| !e.first_issues.is_empty()) {
                let _ = writeln!(md, "\n### {}\n", md_cell(&e.entry.source));
                for issue in &e.first_issues {
                    let place = match (&issue.row, &issue.column) {
                        (Some(r), Some(c)) => format!(" (row {r}, column {c})"),
                        (Some(r), None) => format!(" (row {r})"),
                        (None, Some(c)) => format!(" (column {c})"),
                        (None, None) => String::new(),
                    };
                    let _ = writeln!(
                        md,
                        "- **{}** [{}]{}: {}{}",
                        md_cell(&issue.issue_type),
                        issue.severity,
                        md_cell(&place),
                        md_cell(&issue.message),
                        issue
                            .remediation
                            .as_deref()
                            .map(|r| format!(" — {}", md_cell(r)))
                            .unwrap_or_default()
                    );
                }
                if (e.first_issues.len() as i64) < e.entry.issues {
                    let _ = writeln!(
                        md,
                        "- …{} more",
                        e.entry.issues - e.first_issues.len() as i64
                    );
                }
            }
        }
        md
    }
}

/// Text from files inside a Markdown table cell: no pipes or line breaks may escape it.
fn md_cell(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace(['\r', '\n'], " ")
}
