//! Usage: rssd issues SESSION [--type T] [--entry ID | --table T] [--severity S]
//!                            [--format table|json|csv]
//!
//! Every issue of a session (`latest` for the newest), in the order recorded, with its
//! entry's source and table. Rows are written as they are read, so millions of issues list in
//! constant memory; `--format json` streams one array of objects with the fields of
//! `rssd::state::issue_list::IssueRow`.
//!
//! Filters combine: `--type` matches the issue type (any case) or its stable code
//! (`type-error`); `--entry` an entry id; `--table` the table an entry became; `--severity`
//! `error` or `warning` exactly.

use std::io::BufWriter;

use anyhow::Result;

use super::output::{Format, JsonArrayStream, RowStream, reader_went_away};
use super::{EXIT_OK, Global};
use rssd::state::issue_list::{IssueFilter, IssueRow, for_each_issue};
use rssd::state::{Severity, query};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A session id, or `latest`.
    pub session: String,
    /// Only issues of this type (`Data Type Mismatch`) or code (`type-error`).
    #[arg(long = "type", short = 't')]
    pub issue_type: Option<String>,
    /// Only issues of this entry id.
    #[arg(long, conflicts_with = "table")]
    pub entry: Option<String>,
    /// Only issues of entries loaded into this table.
    #[arg(long)]
    pub table: Option<String>,
    /// Only issues of this severity: error or warning.
    #[arg(long, value_parser = parse_severity)]
    pub severity: Option<Severity>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

fn parse_severity(text: &str) -> Result<Severity, String> {
    Severity::parse(text).ok_or_else(|| format!("{text:?} is not a severity (error or warning)"))
}

const HEADERS: [&str; 12] = [
    "issue_id",
    "entry_id",
    "source",
    "table",
    "issue_type",
    "code",
    "severity",
    "row",
    "column",
    "invalid_value",
    "message",
    "remediation",
];

fn cells(issue: IssueRow) -> Vec<String> {
    let text = |value: Option<String>| value.unwrap_or_default();
    vec![
        issue.issue_id,
        text(issue.entry_id),
        text(issue.source),
        text(issue.table),
        issue.issue_type,
        text(issue.code),
        issue.severity,
        text(issue.row),
        text(issue.column),
        text(issue.invalid_value),
        issue.message,
        text(issue.remediation),
    ]
}

pub fn run(global: &Global, args: Args) -> Result<u8> {
    let db = global.open()?;
    let session_id = query::resolve_session(db.conn(), &args.session)?;
    let filter = IssueFilter {
        issue_type: args.issue_type,
        entry_id: args.entry,
        table: args.table,
        severity: args.severity.map(|s| s.as_str().to_string()),
    };
    let out = BufWriter::new(std::io::stdout().lock());
    let written = match args.format {
        Format::Json => {
            let mut stream = JsonArrayStream::new(out)?;
            for_each_issue(db.conn(), &session_id, &filter, |issue| {
                stream.push(&issue)?;
                Ok(true)
            })
            .and_then(|()| Ok(stream.finish()?))
        }
        format => {
            let headers = if format == Format::Table {
                // The ids are long and the table is for reading; CSV and JSON keep them.
                HEADERS[2..].to_vec()
            } else {
                HEADERS.to_vec()
            };
            let skip = HEADERS.len() - headers.len();
            let mut stream = RowStream::new(format, headers, out)?;
            for_each_issue(db.conn(), &session_id, &filter, |issue| {
                stream.push(cells(issue).split_off(skip))?;
                Ok(true)
            })
            .and_then(|()| Ok(stream.finish()?))
        }
    };
    match written {
        Err(err) if !reader_went_away(&err) => Err(err.into()),
        _ => Ok(EXIT_OK),
    }
}
