//! A session's issues a page at a time: filters, sort, keyset paging on the issue rowid.

use rusqlite::Connection;
use rusqlite::types::Value;
use serde::Serialize;

use super::failure::Failure;
use super::params::Params;
use super::tables::{PAGE_ROWS, as_params, keyset_term};
use crate::state::issue_list::{ISSUE_COLUMNS, IssueFilter, IssueRow, issue_from_row};
use crate::state::query::SEVERITY_SQL;

/// The parameters of the issues pages.
pub const PARAMS: &[&str] = &[
    "type", "severity", "table", "entry", "column", "sort", "after",
];
/// Sort keys: name and the SQL expression (fixed here, never taken from the request).
const SORTS: &[(&str, &str)] = &[
    ("row", "i.issue_row"),
    ("column", "i.issue_column"),
    ("type", "i.issue_type"),
    ("severity", "severity"),
];

/// Which issues, in which order, from where.
#[derive(Debug, Clone, Default, Serialize)]
pub struct IssueQuery {
    #[serde(skip)]
    pub filter: IssueFilter,
    pub column: Option<String>,
    /// As given: `row`, `-row`, ...; None: recorded order.
    pub sort: Option<String>,
    pub after: Option<i64>,
}

impl IssueQuery {
    pub fn parse(params: &Params) -> Result<IssueQuery, Failure> {
        params.only(PARAMS)?;
        let owned = |name: &str| params.get(name).map(String::from);
        let sort = params.get("sort").map(String::from);
        if let Some(sort) = &sort {
            let key = sort.strip_prefix('-').unwrap_or(sort);
            if !SORTS.iter().any(|(name, _)| *name == key) {
                return Err(Failure::bad(format!(
                    "sort={sort:?}: expected row, column, type or severity (- before for descending)"
                )));
            }
        }
        Ok(IssueQuery {
            filter: IssueFilter {
                issue_type: owned("type"),
                entry_id: owned("entry"),
                table: owned("table"),
                severity: params.choice("severity", &["error", "warning"])?,
            },
            column: owned("column"),
            sort,
            after: params.int("after")?,
        })
    }
}

/// One listed issue with its rowid, the keyset position.
#[derive(Debug, Clone, Serialize)]
pub struct ListedIssue {
    pub rowid: i64,
    #[serde(flatten)]
    pub issue: IssueRow,
}

/// Up to [`PAGE_ROWS`] issues and whether more follow.
pub fn issue_page(
    conn: &Connection,
    session_id: &str,
    query: &IssueQuery,
) -> Result<(Vec<ListedIssue>, bool), Failure> {
    let columns = ISSUE_COLUMNS.replace("{SEVERITY}", SEVERITY_SQL);
    let filter = &query.filter;
    let mut terms = vec!["i.session_id = ?".to_string()];
    let mut values: Vec<Value> = vec![Value::Text(session_id.to_string())];
    let mut add = |term: &str, value: &Option<String>| {
        if let Some(value) = value {
            terms.push(term.to_string());
            let count = term.matches('?').count();
            values.extend(std::iter::repeat_n(Value::Text(value.clone()), count));
        }
    };
    add(
        "(i.issue_type = ? COLLATE NOCASE OR (json_valid(i.elaboration) AND json_extract(i.elaboration, '$.code') = ?))",
        &filter.issue_type,
    );
    add("i.session_entry_id = ?", &filter.entry_id);
    add("e.ingest_table_name = ?", &filter.table);
    add(&format!("{SEVERITY_SQL} = ?"), &filter.severity);
    add("i.issue_column = ?", &query.column);
    let sort = query.sort.as_deref().map(|sort| {
        let desc = sort.starts_with('-');
        let key = sort.trim_start_matches('-');
        let expr = SORTS
            .iter()
            .find(|(name, _)| *name == key)
            .map(|(_, expr)| *expr)
            .unwrap_or("i.rowid");
        (
            if expr == "severity" {
                SEVERITY_SQL
            } else {
                expr
            },
            desc,
        )
    });
    if let Some(after) = query.after {
        match sort {
            None => {
                terms.push("i.rowid > ?".to_string());
                values.push(Value::Integer(after));
            }
            Some((expr, desc)) => {
                let last: Value = conn
                    .query_row(
                        &format!(
                            "SELECT {expr} FROM orchestration_session_issue i WHERE i.rowid = ?1"
                        ),
                        [after],
                        |row| row.get(0),
                    )
                    .map_err(|_| Failure::bad(format!("after={after}: no such issue")))?;
                let (term, more) = keyset_term(expr, "i.rowid", desc, last, after);
                terms.push(term);
                values.extend(more);
            }
        }
    }
    let order = match sort {
        None => "i.rowid".to_string(),
        Some((expr, false)) => format!("{expr}, i.rowid"),
        Some((expr, true)) => format!("{expr} DESC, i.rowid DESC"),
    };
    let sql = format!(
        "SELECT {columns}, i.rowid FROM orchestration_session_issue i
         LEFT JOIN orchestration_session_entry e ON e.orchestration_session_entry_id = i.session_entry_id
         WHERE {} ORDER BY {order} LIMIT {}",
        terms.join(" AND "),
        PAGE_ROWS + 1
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query(&as_params(&values)[..])?;
    let mut issues = Vec::new();
    while let Some(row) = rows.next()? {
        issues.push(ListedIssue {
            rowid: row.get(12)?,
            issue: issue_from_row(row)?,
        });
    }
    let more = issues.len() > PAGE_ROWS;
    issues.truncate(PAGE_ROWS);
    Ok((issues, more))
}
