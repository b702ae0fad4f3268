//! `/sessions/{id}`: one session's facts, timeline, entries, issues by type, execs.

use maud::{Markup, html};
use rusqlite::Connection;
use serde::Serialize;
use serde_json::Value;

use super::layout::{href, opt, page, query, segment, state_class};
use crate::serve::failure::Failure;
use crate::state::diagnostics::{self, DeviceFacts, StateChange, Summary};
use crate::state::issue_list::text_cell;
use crate::state::query::{EntrySummary, SessionSummary};

/// Exec rows listed at most.
const MAX_EXECS: usize = 500;

#[derive(Debug, Clone, Serialize)]
pub struct ExecRow {
    pub exec_id: String,
    pub entry_id: Option<String>,
    pub nature: Option<String>,
    pub identity: Option<String>,
    pub status: Option<String>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Reports {
    pub html: String,
    pub md: String,
    pub json: String,
}

/// What `/api/sessions/{id}` returns.
#[derive(Debug, Clone, Serialize)]
pub struct SessionPage {
    pub session: SessionSummary,
    pub args: Option<Value>,
    pub device: DeviceFacts,
    pub summary: Summary,
    pub timeline: Vec<StateChange>,
    pub entries: Vec<EntrySummary>,
    pub entries_not_listed: usize,
    pub execs: Vec<ExecRow>,
    pub reports: Reports,
}

pub fn load(conn: &Connection, session_id: &str) -> Result<SessionPage, Failure> {
    let session_id = &crate::state::query::resolve_session(conn, session_id)?;
    let d = diagnostics::build(conn, session_id)?;
    let args: Option<String> = conn.query_row(
        "SELECT args_json FROM orchestration_session WHERE orchestration_session_id = ?1",
        [session_id],
        |row| text_cell(row, 0),
    )?;
    let mut stmt = conn.prepare(
        "SELECT from_state, to_state, transitioned_at, transition_reason
         FROM orchestration_session_state WHERE session_id = ?1 AND session_entry_id IS NULL
         ORDER BY rowid",
    )?;
    let timeline = stmt
        .query_map([session_id], |row| {
            Ok(StateChange {
                from: text_cell(row, 0)?.unwrap_or_default(),
                to: text_cell(row, 1)?.unwrap_or_default(),
                at: text_cell(row, 2)?,
                reason: text_cell(row, 3)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut stmt = conn.prepare(&format!(
        "SELECT orchestration_session_exec_id, session_entry_id, exec_nature, exec_identity,
                exec_status, exec_error_text
         FROM orchestration_session_exec WHERE session_id = ?1 ORDER BY rowid LIMIT {MAX_EXECS}"
    ))?;
    let execs = stmt
        .query_map([session_id], |row| {
            Ok(ExecRow {
                exec_id: text_cell(row, 0)?.unwrap_or_default(),
                entry_id: text_cell(row, 1)?,
                nature: text_cell(row, 2)?,
                identity: text_cell(row, 3)?,
                status: text_cell(row, 4)?,
                error: text_cell(row, 5)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let base = format!("/sessions/{}", segment(session_id));
    Ok(SessionPage {
        session: d.session,
        args: args.and_then(|text| serde_json::from_str(&text).ok()),
        device: d.device,
        summary: d.summary,
        timeline,
        entries: d.entries.into_iter().map(|e| e.entry).collect(),
        entries_not_listed: d.entries_not_listed,
        execs,
        reports: Reports {
            html: format!("{base}/report.html"),
            md: format!("{base}/report.md"),
            json: format!("{base}/report.json"),
        },
    })
}

/// Bars of issue counts by type, as SVG (widths are attributes: the CSP allows no inline
/// style), each bar a link to the issues of that type.
fn chart(base: &str, by_type: &std::collections::BTreeMap<String, usize>) -> Markup {
    let mut bars: Vec<(&String, &usize)> = by_type.iter().collect();
    bars.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let max = bars.first().map(|(_, n)| **n).unwrap_or(1).max(1);
    let height = bars.len() * 24 + 4;
    html! {
        svg.chart width="640" height=(height) role="img" aria-label="issues by type" {
            @for (i, (kind, count)) in bars.iter().enumerate() {
                @let y = i * 24 + 2;
                @let width = (**count as f64 / max as f64 * 360.0).max(2.0) as usize;
                a href=(href(&format!("{base}/issues"), &query(&[("type", kind)]))) {
                    text x="0" y=(y + 15) { (kind) }
                    rect x="220" y=(y) width=(width) height="18" {}
                    text x=(228 + width) y=(y + 15) { (count) }
                }
            }
        }
    }
}

pub fn render(p: &SessionPage) -> Markup {
    let s = &p.session;
    let base = format!("/sessions/{}", segment(&s.session_id));
    let running = s.finished_at.is_none();
    let body = html! {
        h1 { "Session " (s.session_id) }
        p {
            span class={ "state " (state_class(&s.state)) } data-live="state" { (s.state) }
            " " (opt(&s.state_reason))
        }
        @if running {
            p.live id="live" data-src={ "/api" (base) } data-state=(s.state)
              data-issues=(p.summary.issues) data-entries=(s.entries) {
                "Running: this page follows its progress."
            }
            script src="/static/live.js" {}
        }
        p.links {
            "Report: " a href=(p.reports.html) { "HTML" } " · " a href=(p.reports.md) { "Markdown" }
            " · " a href=(p.reports.json) { "JSON" } " · " a href={ (base) "/issues" } { "all issues" }
        }
        dl.facts {
            dt { "Nature" } dd { (s.nature) }
            dt { "Version" } dd { (s.version) }
            dt { "Started" } dd { (opt(&s.started_at)) }
            dt { "Finished" } dd { (opt(&s.finished_at)) }
            dt { "Duration (s)" } dd { (opt(&p.summary.duration_s)) }
            dt { "Device" } dd { (opt(&p.device.name)) " (" (p.device.device_id) ", boundary " (opt(&p.device.boundary)) ")" }
            dt { "Entries" } dd { (p.summary.entries) " (" (p.summary.tables) " tables, " (p.summary.rows) " rows)" }
            dt { "Issues" } dd { (s.issues_error) " errors, " (s.issues_warning) " warnings" }
            dt { "Arguments" } dd { code { (p.args.as_ref().map(|a| a.to_string()).unwrap_or_default()) } }
        }
        h2 { "Timeline" }
        table.list { tbody {
            @for t in &p.timeline {
                tr { td { (opt(&t.at)) } td { (t.from) " → " (t.to) } td { (opt(&t.reason)) } }
            }
        } }
        h2 { "Issues by type" }
        @if p.summary.issues_by_type.is_empty() { p { "No issues." } } @else { (chart(&base, &p.summary.issues_by_type)) }
        h2 { "Entries" }
        table.list {
            thead { tr { th { "Source" } th { "Table" } th { "State" } th { "Rows" } th { "Issues" } } }
            tbody {
                @for e in &p.entries {
                    tr {
                        td { a href={ "/entries/" (segment(&e.entry_id)) } { (e.source) } }
                        td { @if let Some(t) = &e.table { a href={ "/tables/" (segment(t)) } { (t) } } @else { "–" } }
                        td { span class={ "state " (state_class(&e.state)) } { (e.state) } }
                        td.num { (opt(&e.rows)) }
                        td.num { @if e.issues > 0 {
                            a href=(href(&format!("{base}/issues"), &query(&[("entry", &e.entry_id)]))) { (e.issues) }
                        } @else { "0" } }
                    }
                }
            }
        }
        @if p.entries_not_listed > 0 { p { (p.entries_not_listed) " more entries not listed." } }
        @if !p.execs.is_empty() {
            h2 { "Execs" }
            table.list {
                thead { tr { th { "Nature" } th { "Identity" } th { "Status" } th { "Error" } } }
                tbody { @for x in &p.execs {
                    tr { td { (opt(&x.nature)) } td { (opt(&x.identity)) } td { (opt(&x.status)) } td { (opt(&x.error)) } }
                } }
            }
        }
    };
    page(
        &format!("Session {}", s.session_id),
        &[("Sessions", "/sessions".to_string())],
        body,
    )
}
