//! The end of an ingest run: the session COMPLETED with its counts, and the summary the
//! caller prints.

use std::time::Instant;

use rusqlite::Connection;

use super::{EntryReport, IngestSummary, LoadedEntry};
use crate::Result;
use crate::state::Session;
use crate::state::states::{FAILED, INGESTED, SKIPPED, UNCHANGED};

/// Finishes `session` COMPLETED and sums up its entries.
pub(super) fn summarize(
    session: Session,
    mut reports: Vec<EntryReport>,
    loaded: &[LoadedEntry],
    started: Instant,
) -> Result<IngestSummary> {
    let count = |state: &str| reports.iter().filter(|r| r.state == state).count();
    let (ingested, unchanged, skipped, failed) = (
        count(INGESTED),
        count(UNCHANGED),
        count(SKIPPED),
        count(FAILED),
    );
    let reason = format!(
        "{} entries: {ingested} loaded, {unchanged} unchanged, {skipped} skipped, {failed} failed",
        reports.len()
    );
    // A hook may have moved loaded entries on (validation: VALIDATED or INVALID).
    for report in &mut reports {
        if let Some(state) = session.entry_state(&report.entry_id) {
            report.state = state.to_string();
        }
    }
    let session_id = session.id().to_string();
    let conn = session.conn();
    let diagnostics = session.finish_completed(&reason)?;
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
        rows: loaded.iter().map(|e| e.rows).sum(),
        unchanged,
        failed,
        skipped,
        issues_error: severity("error"),
        issues_warning: severity("warning"),
        duration_ms: started.elapsed().as_secs_f64() * 1000.0,
        entries: reports,
    })
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
