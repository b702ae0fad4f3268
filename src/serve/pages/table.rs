//! `/tables` and `/tables/{name}`: rows 100 a page, sort, filters, a facet, and the cells
//! that have issues highlighted with their message and remediation.

use std::collections::HashMap;

use maud::{Markup, html};
use rusqlite::Connection;
use serde::Serialize;
use serde_json::Value;

use super::layout::{href, page, segment};
use crate::serve::App;
use crate::serve::cells::{CellIssue, load_issues};
use crate::serve::failure::Failure;
use crate::serve::params::Params;
use crate::serve::tables::{
    Facet, Filter, Op, PAGE_ROWS, RowQuery, TableInfo, as_params, facet, json_value, rows_sql,
    table_info,
};

/// Characters of a cell shown on the page (downloads keep everything).
const CELL_CHARS: usize = 1000;

#[derive(Debug, Clone, Serialize)]
pub struct RowOut {
    pub rowid: i64,
    pub cells: Vec<Value>,
    pub issues: Vec<CellIssue>,
}

/// What `/api/tables/{name}/rows` returns.
#[derive(Debug, Clone, Serialize)]
pub struct RowsPage {
    pub table: String,
    pub orchestration: bool,
    pub columns: Vec<String>,
    pub sort: Option<String>,
    pub filters: Vec<Filter>,
    pub after: Option<i64>,
    pub rows: Vec<RowOut>,
    /// The `after` of the next page; None on the last page.
    pub next_after: Option<i64>,
    pub next: Option<String>,
    pub facet: Option<Facet>,
    #[serde(skip)]
    pub params: Params,
}

pub fn load(
    conn: &Connection,
    app: &App,
    name: &str,
    params: &Params,
    path: &str,
) -> Result<RowsPage, Failure> {
    let info = table_info(conn, name)?;
    let query = RowQuery::parse(&info, params)?;
    let (sql, values) = rows_sql(conn, &info, &query, Some(PAGE_ROWS + 1))?;
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query(&as_params(&values)[..])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let mut cells = Vec::with_capacity(info.columns.len());
        for index in 0..info.columns.len() {
            cells.push(json_value(row.get(index + 1)?));
        }
        out.push(RowOut {
            rowid: row.get(0)?,
            cells,
            issues: Vec::new(),
        });
    }
    let more = out.len() > PAGE_ROWS;
    out.truncate(PAGE_ROWS);
    attach_issues(conn, app, &info, &mut out)?;
    let next_after = if more {
        out.last().map(|r| r.rowid)
    } else {
        None
    };
    let facet = match &query.facet {
        Some(column) => Some(facet(conn, &info, &query, column, app.options.facet_rows)?),
        None => None,
    };
    Ok(RowsPage {
        sort: query.sort_param(&info),
        filters: query.filters,
        after: query.after,
        next: next_after.map(|a| href(path, &params.with("after", Some(&a.to_string())))),
        next_after,
        rows: out,
        facet,
        table: info.name,
        orchestration: info.orchestration,
        columns: info.columns,
        params: params.clone(),
    })
}

fn attach_issues(
    conn: &Connection,
    app: &App,
    info: &TableInfo,
    rows: &mut [RowOut],
) -> Result<(), Failure> {
    if info.orchestration || rows.is_empty() {
        return Ok(());
    }
    let rowids: Vec<i64> = rows.iter().map(|r| r.rowid).collect();
    let issue_rowids = {
        let mut index = app
            .cells
            .lock()
            .map_err(|_| Failure::internal("the cell index is poisoned"))?;
        index.refresh(conn)?;
        index.issues_on(&info.name, &rowids)
    };
    let mut by_row: HashMap<i64, Vec<CellIssue>> = HashMap::new();
    for issue in load_issues(conn, &issue_rowids)? {
        by_row.entry(issue.row).or_default().push(issue);
    }
    for row in rows {
        row.issues = by_row.remove(&row.rowid).unwrap_or_default();
    }
    Ok(())
}

/// The tables of the database, for `/tables`.
#[derive(Debug, Clone, Serialize)]
pub struct TableListing {
    pub name: String,
    pub orchestration: bool,
}

pub fn render_list(tables: &[TableListing]) -> Markup {
    let body = html! {
        h1 { "Tables" }
        ul.tables { @for t in tables {
            li { a href={ "/tables/" (segment(&t.name)) } { (t.name) }
                 @if t.orchestration { " " span.tag { "rssd" } } }
        } }
    };
    page("Tables", &[], body)
}

fn shown(value: &Value) -> Markup {
    match value {
        Value::Null => html! { span.null { "NULL" } },
        Value::String(text) if text.chars().count() > CELL_CHARS => {
            html! { (text.chars().take(CELL_CHARS).collect::<String>()) "…" }
        }
        Value::String(text) => html! { (text) },
        other => html! { (other.to_string()) },
    }
}

fn issue_title(issues: &[&CellIssue]) -> String {
    let mut lines = Vec::new();
    for i in issues {
        let mut line = format!("{}: {}", i.issue_type, i.message);
        if let Some(fix) = &i.remediation {
            line.push_str(&format!(" Remedy: {fix}"));
        }
        lines.push(line);
    }
    lines.join("\n")
}

fn cell(value: &Value, issues: &[&CellIssue]) -> Markup {
    if issues.is_empty() {
        return html! { td { (shown(value)) } };
    }
    let severity = if issues.iter().any(|i| i.severity != "warning") {
        "error"
    } else {
        "warning"
    };
    html! {
        td class={ "issue " (severity) } title=(issue_title(issues)) {
            (shown(value))
            @for i in issues {
                span.note { (i.issue_type) ": " (i.message)
                    @if let Some(fix) = &i.remediation { " — " (fix) } }
            }
        }
    }
}

fn filter_form(p: &RowsPage, path: &str) -> Markup {
    html! {
        form.filters method="get" action=(path) {
            @if let Some(sort) = &p.sort { input type="hidden" name="sort" value=(sort); }
            label { "Column " select name="_filter_column" {
                @for c in &p.columns { option value=(c) { (c) } }
            } }
            label { " " select name="_filter_op" {
                option value="exact" { "=" } option value="contains" { "contains" }
                option value="isnull" { "is null" } option value="notnull" { "is not null" }
            } }
            label { " " input type="text" name="_filter_value"; }
            button type="submit" { "Add filter" }
            " " a href=(path) { "clear" }
        }
        @if !p.filters.is_empty() {
            ul.active { @for f in &p.filters {
                li { code { (f.column) } " " (match f.op { Op::Exact => "=", Op::Contains => "contains",
                    Op::IsNull => "is null", Op::NotNull => "is not null" })
                    @if matches!(f.op, Op::Exact | Op::Contains) { " " code { (f.value) } } }
            } }
        }
    }
}

/// The page filtered on one more value: a facet's link.
fn facet_link(p: &RowsPage, path: &str, column: &str, value: &Value) -> String {
    let mut params = Params(
        p.params
            .0
            .iter()
            .filter(|(n, _)| n != "after")
            .cloned()
            .collect(),
    );
    params.0.push(match value {
        Value::Null => (format!("{column}__isnull"), "1".to_string()),
        Value::String(text) => (column.to_string(), text.clone()),
        other => (column.to_string(), other.to_string()),
    });
    href(path, &params.with("", None))
}

fn header(p: &RowsPage, path: &str, column: &str) -> Markup {
    let sorted_here = p.sort.as_deref().map(|s| s.trim_start_matches('-')) == Some(column);
    let next_sort = if p.sort.as_deref() == Some(column) {
        format!("-{column}")
    } else {
        column.to_string()
    };
    let sort_query = Params(
        p.params
            .0
            .iter()
            .filter(|(n, _)| n != "after")
            .cloned()
            .collect(),
    );
    html! {
        th {
            a href=(href(path, &sort_query.with("sort", Some(&next_sort)))) { (column) }
            @if sorted_here { @if p.sort.as_deref().is_some_and(|s| s.starts_with('-')) { " ▼" } @else { " ▲" } }
            " " a.facet href=(href(path, &sort_query.with("facet", Some(column)))) title="facet" { "#" }
        }
    }
}

pub fn render(p: &RowsPage) -> Markup {
    let path = format!("/tables/{}", segment(&p.table));
    let download = p.params.with("after", None);
    let body = html! {
        h1 { "Table " (p.table) @if p.orchestration { " " span.tag { "rssd" } } }
        (filter_form(p, &path))
        p.links {
            "Download the filtered rows: "
            a href=(href(&format!("{path}/rows.csv"), &download)) { "CSV" } " · "
            a href=(href(&format!("{path}/rows.json"), &download)) { "JSON" }
        }
        @if let Some(f) = &p.facet {
            section.facet {
                h2 { "Facet " code { (f.column) } }
                p.note { (f.rows_counted) " rows counted" @if f.capped { " (the first matching rows only)" } }
                ul { @for (value, count) in &f.values {
                    li { a href=(facet_link(p, &path, &f.column, value)) {
                        (shown(value)) } " " span.count { (count) } }
                } }
            }
        }
        table.rows {
            thead { tr { th { "rowid" } @for c in &p.columns { (header(p, &path, c)) } } }
            tbody {
                @for row in &p.rows {
                    @let row_issues: Vec<&CellIssue> = row.issues.iter().filter(|i| i.column.as_ref().is_none_or(|c| !p.columns.contains(c))).collect();
                    tr id={ "row-" (row.rowid) } {
                        (cell(&Value::from(row.rowid), &row_issues))
                        @for (column, value) in p.columns.iter().zip(&row.cells) {
                            @let here: Vec<&CellIssue> = row.issues.iter().filter(|i| i.column.as_ref() == Some(column)).collect();
                            (cell(value, &here))
                        }
                    }
                }
            }
        }
        @if p.rows.is_empty() { p { "No rows match." } }
        @if let Some(next) = &p.next { p.pager { a rel="next" href=(next) { "Next 100 →" } } }
    };
    page(
        &format!("Table {}", p.table),
        &[("Tables", "/tables".to_string())],
        body,
    )
}
