//! `/sessions/{id}/issues`: every issue of a session, 100 a page, filtered and sorted.

use maud::{Markup, html};
use rusqlite::Connection;
use serde::Serialize;

use super::layout::{href, opt, page, segment};
use crate::serve::failure::Failure;
use crate::serve::issues::{IssueQuery, ListedIssue, issue_page};
use crate::serve::params::Params;
use crate::state::query::resolve_session;

#[derive(Debug, Clone, Serialize)]
pub struct IssuesPage {
    pub session_id: String,
    /// The filters and sort as given.
    pub filters: std::collections::BTreeMap<String, String>,
    pub issues: Vec<ListedIssue>,
    /// The `after` of the next page; None on the last page.
    pub next_after: Option<i64>,
    /// The next page of this listing (same route, same filters).
    pub next: Option<String>,
    #[serde(skip)]
    pub params: Params,
}

pub fn load(
    conn: &Connection,
    session_id: &str,
    params: &Params,
    path: &str,
) -> Result<IssuesPage, Failure> {
    let query = IssueQuery::parse(params)?;
    // 404 for a session that does not exist, rather than an empty list.
    let session_id = resolve_session(conn, session_id)?;
    let (issues, more) = issue_page(conn, &session_id, &query)?;
    let next_after = if more {
        issues.last().map(|i| i.rowid)
    } else {
        None
    };
    let next = next_after.map(|after| href(path, &params.with("after", Some(&after.to_string()))));
    Ok(IssuesPage {
        session_id,
        filters: params
            .0
            .iter()
            .filter(|(n, v)| n != "after" && !v.is_empty())
            .cloned()
            .collect(),
        issues,
        next_after,
        next,
        params: params.clone(),
    })
}

fn text_field(params: &Params, name: &str, label: &str) -> Markup {
    html! { label { (label) " " input type="text" name=(name) value=[params.get(name)]; } }
}

fn select(params: &Params, name: &str, label: &str, choices: &[(&str, &str)]) -> Markup {
    let current = params.get(name).unwrap_or("");
    html! {
        label { (label) " " select name=(name) {
            @for (value, text) in choices {
                option value=(value) selected[*value == current] { (text) }
            }
        } }
    }
}

pub fn render(p: &IssuesPage) -> Markup {
    let base = format!("/sessions/{}", segment(&p.session_id));
    let downloads = p.params.with("after", None);
    let body = html! {
        h1 { "Issues of " a href=(base) { (p.session_id) } }
        form.filters method="get" action={ (base) "/issues" } {
            (text_field(&p.params, "type", "Type"))
            (select(&p.params, "severity", "Severity", &[("", "any"), ("error", "error"), ("warning", "warning")]))
            (text_field(&p.params, "table", "Table"))
            (text_field(&p.params, "entry", "Entry"))
            (text_field(&p.params, "column", "Column"))
            (select(&p.params, "sort", "Sort", &[("", "recorded"), ("row", "row"), ("-row", "row, descending"),
                ("column", "column"), ("type", "type"), ("severity", "severity")]))
            button type="submit" { "Filter" }
            " " a href={ (base) "/issues" } { "clear" }
        }
        p.links {
            "Download these issues: "
            a href=(href(&format!("{base}/issues.csv"), &downloads)) { "CSV" } " · "
            a href=(href(&format!("{base}/issues.json"), &downloads)) { "JSON" }
        }
        table.list.issues {
            thead { tr {
                th { "Type" } th { "Severity" } th { "Source" } th { "Table" } th { "Row" } th { "Column" }
                th { "Message" } th { "Value" } th { "Remediation" }
            } }
            tbody {
                @for listed in &p.issues {
                    @let i = &listed.issue;
                    tr class=(if i.severity == "warning" { "warning" } else { "error" }) {
                        td { (i.issue_type) }
                        td { (i.severity) }
                        td { @if let Some(entry) = &i.entry_id { a href={ "/entries/" (segment(entry)) } { (opt(&i.source)) } } @else { "–" } }
                        td { @if let Some(t) = &i.table { a href={ "/tables/" (segment(t)) } { (t) } } @else { "–" } }
                        td.num { (opt(&i.row)) }
                        td { (opt(&i.column)) }
                        td { (i.message) }
                        td { (opt(&i.invalid_value)) }
                        td { (opt(&i.remediation)) }
                    }
                }
            }
        }
        @if p.issues.is_empty() { p { "No issues match." } }
        @if let Some(next) = &p.next { p.pager { a rel="next" href=(next) { "Next 100 →" } } }
    };
    page(
        "Issues",
        &[
            ("Sessions", "/sessions".to_string()),
            (&p.session_id, base.clone()),
        ],
        body,
    )
}
