//! Usage: rssd report SESSION [--format md|json|html] [-o FILE]
//!
//! The diagnostics report of a session (`latest` for the newest), built from the tables:
//! `md` a document to read or attach to an email, `json` the shape documented in
//! docs/report.md, `html` one self-contained page (no network requests) with a chart, a
//! sortable table of entries and each entry's issues, filterable by type.
//!
//! Without `-o` the report goes to standard output (default format `md`). With `-o FILE` the
//! format defaults to the file's extension (.md, .json, .html, .htm) and the file is written
//! whole or not at all. Reports are bounded: counts cover every issue, lists show the first
//! ones (`rssd issues` lists them all).

use std::io::BufWriter;
use std::path::PathBuf;

use anyhow::Result;

use super::output::reader_went_away;
use super::{EXIT_OK, Global};
use rssd::report::{self, ReportFormat};
use rssd::state::query;

/// `--format`, onto the library's [`ReportFormat`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    /// Markdown, to read or attach to an email.
    Md,
    /// JSON, the shape documented in docs/report.md.
    Json,
    /// One self-contained HTML page.
    Html,
}

impl From<FormatArg> for ReportFormat {
    fn from(arg: FormatArg) -> ReportFormat {
        match arg {
            FormatArg::Md => ReportFormat::Md,
            FormatArg::Json => ReportFormat::Json,
            FormatArg::Html => ReportFormat::Html,
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A session id, or `latest`.
    pub session: String,
    /// md, json or html (default: from the -o file's extension, else md).
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
    /// Write the report to this file instead of standard output.
    #[arg(long, short = 'o')]
    pub output: Option<PathBuf>,
}

pub fn run(global: &Global, args: Args) -> Result<u8> {
    let db = global.open()?;
    let session_id = query::resolve_session(db.conn(), &args.session)?;
    match &args.output {
        Some(path) => {
            let format = match args.format {
                Some(format) => format.into(),
                None => ReportFormat::from_path(path)?,
            };
            report::write_report_file_as(db.conn(), &session_id, path, format)?;
        }
        None => {
            let mut out = BufWriter::new(std::io::stdout().lock());
            let format = args.format.map_or(ReportFormat::Md, ReportFormat::from);
            match report::write_report(db.conn(), &session_id, format, &mut out) {
                Err(err) if !reader_went_away(&err) => return Err(err.into()),
                _ => {}
            }
        }
    }
    Ok(EXIT_OK)
}
