//! `/query`: a read-only SQL box.

use maud::{Markup, html};

use super::layout::page;
use crate::serve::query::QueryResult;

pub fn render(sql: &str, result: Option<&QueryResult>, error: Option<&str>) -> Markup {
    let body = html! {
        h1 { "SQL" }
        p { "One statement, read-only; capped in time and rows." }
        form.sql method="get" action="/query" {
            textarea name="sql" rows="6" cols="100" { (sql) }
            br;
            button type="submit" { "Run" }
        }
        @if let Some(reason) = error { p.reason { (reason) } }
        @if let Some(r) = result {
            p.count { (r.rows.len()) " rows" @if r.truncated { " (more were cut off: --max-rows)" } }
            table.rows {
                thead { tr { @for c in &r.columns { th { (c) } } } }
                tbody { @for row in &r.rows {
                    tr { @for v in row { td { @match v {
                        serde_json::Value::Null => span.null { "NULL" },
                        serde_json::Value::String(s) => (s),
                        other => (other.to_string()),
                    } } } }
                } }
            }
        }
    };
    page("SQL", &[], body)
}
