//! `/entries/{id}`: one file's elaboration in readable form, its states, its issues.

use maud::{Markup, html};
use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;
use serde_json::Value;

use super::layout::{href, opt, page, query, segment, state_class};
use crate::serve::failure::Failure;
use crate::serve::issues::{IssueQuery, ListedIssue, issue_page};
use crate::state::diagnostics::StateChange;
use crate::state::issue_list::{IssueFilter, text_cell};

/// Facts of the elaboration shown first, in this order, with their labels.
const FACTS: &[(&str, &str)] = &[
    ("format", "Format"),
    ("sheet", "Sheet"),
    ("encoding", "Encoding"),
    ("delimiter", "Delimiter"),
    ("size_bytes", "Size (bytes)"),
    ("modified_at", "Modified"),
    ("content_sha256", "SHA-256"),
    ("rows", "Rows"),
    ("duration_ms", "Load time (ms)"),
    ("if_exists", "If the table existed"),
    ("outcome", "Outcome"),
];

#[derive(Debug, Clone, Serialize)]
pub struct EntryPage {
    pub entry_id: String,
    pub session_id: String,
    pub source: String,
    pub table: Option<String>,
    pub elaboration: Option<Value>,
    pub states: Vec<StateChange>,
    /// The entry's first issues (all of them: `/sessions/{id}/issues?entry=`).
    pub issues: Vec<ListedIssue>,
    pub more_issues: bool,
}

pub fn load(conn: &Connection, entry_id: &str) -> Result<EntryPage, Failure> {
    let found = conn
        .query_row(
            "SELECT session_id, ingest_src, ingest_table_name, elaboration
             FROM orchestration_session_entry WHERE orchestration_session_entry_id = ?1",
            [entry_id],
            |row| {
                Ok((
                    text_cell(row, 0)?,
                    text_cell(row, 1)?,
                    text_cell(row, 2)?,
                    text_cell(row, 3)?,
                ))
            },
        )
        .optional()?;
    let Some((session_id, source, table, elaboration)) = found else {
        return Err(Failure::not_found(format!("no entry {entry_id}")));
    };
    let session_id = session_id.unwrap_or_default();
    let mut stmt = conn.prepare(
        "SELECT from_state, to_state, transitioned_at, transition_reason
         FROM orchestration_session_state WHERE session_entry_id = ?1 ORDER BY rowid",
    )?;
    let states = stmt
        .query_map([entry_id], |row| {
            Ok(StateChange {
                from: text_cell(row, 0)?.unwrap_or_default(),
                to: text_cell(row, 1)?.unwrap_or_default(),
                at: text_cell(row, 2)?,
                reason: text_cell(row, 3)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let query = IssueQuery {
        filter: IssueFilter {
            entry_id: Some(entry_id.to_string()),
            ..IssueFilter::default()
        },
        ..IssueQuery::default()
    };
    let (issues, more_issues) = issue_page(conn, &session_id, &query)?;
    Ok(EntryPage {
        entry_id: entry_id.to_string(),
        session_id,
        source: source.unwrap_or_default(),
        table,
        elaboration: elaboration.and_then(|text| serde_json::from_str(&text).ok()),
        states,
        issues,
        more_issues,
    })
}

fn plain(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => "–".to_string(),
        other => other.to_string(),
    }
}

fn columns(elaboration: &Value) -> Markup {
    let Some(columns) = elaboration.get("columns").and_then(Value::as_array) else {
        return html! {};
    };
    let cell = |column: &Value, key: &str| column.get(key).map(plain).unwrap_or_else(|| "–".into());
    html! {
        h2 { "Columns" }
        table.list {
            thead { tr { th { "Header" } th { "Column" } th { "Type" } th { "Nulls" } } }
            tbody { @for c in columns {
                tr { td { (cell(c, "header")) } td { (cell(c, "name")) } td { (cell(c, "type")) } td.num { (cell(c, "nulls")) } }
            } }
        }
    }
}

pub fn render(p: &EntryPage) -> Markup {
    let session = format!("/sessions/{}", segment(&p.session_id));
    let empty = Value::Null;
    let elaboration = p.elaboration.as_ref().unwrap_or(&empty);
    let body = html! {
        h1 { "Entry " (p.source) }
        dl.facts {
            dt { "Session" } dd { a href=(session) { (p.session_id) } }
            dt { "Table" } dd { @if let Some(t) = &p.table { a href={ "/tables/" (segment(t)) } { (t) } } @else { "–" } }
            @for (key, label) in FACTS {
                @if let Some(value) = elaboration.get(*key) { dt { (label) } dd { (plain(value)) } }
            }
        }
        (columns(elaboration))
        h2 { "States" }
        table.list { tbody { @for t in &p.states {
            tr { td { (opt(&t.at)) } td { (t.from) " → " span class={ "state " (state_class(&t.to)) } { (t.to) } } td { (opt(&t.reason)) } }
        } } }
        h2 { "Issues" }
        table.list.issues {
            thead { tr { th { "Type" } th { "Severity" } th { "Row" } th { "Column" } th { "Message" } th { "Value" } } }
            tbody { @for listed in &p.issues {
                @let i = &listed.issue;
                tr { td { (i.issue_type) } td { (i.severity) } td.num { (opt(&i.row)) } td { (opt(&i.column)) } td { (i.message) } td { (opt(&i.invalid_value)) } }
            } }
        }
        @if p.issues.is_empty() { p { "No issues." } }
        @if p.more_issues {
            p { a href=(href(&format!("{session}/issues"), &query(&[("entry", &p.entry_id)]))) { "All issues of this entry →" } }
        }
        details { summary { "Elaboration (JSON)" } pre { (serde_json::to_string_pretty(elaboration).unwrap_or_default()) } }
    };
    page(
        &format!("Entry {}", p.source),
        &[
            ("Sessions", "/sessions".to_string()),
            (&p.session_id, session.clone()),
        ],
        body,
    )
}
