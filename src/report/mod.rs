//! The diagnostics report of a session as Markdown, JSON or one self-contained HTML file.
//!
//! Every format is built from the tables at the time of the call (so a report of a running
//! session shows what is recorded so far) and is bounded whatever the number of issues:
//! counts cover everything, lists are capped (see `state::diagnostics` and [`html`]).
//!
//! ```no_run
//! # let db = rssd::state::StateDb::open("x.db", &Default::default())?;
//! # let session_id = "01J...";
//! rssd::report::write_report_file(db.conn(), session_id, "report.html".as_ref())?;
//! # Ok::<(), rssd::Error>(())
//! ```

pub mod html;

use std::io::Write;
use std::path::Path;

use rusqlite::Connection;

use crate::state::diagnostics;
use crate::{Error, Result};

/// The formats of `rssd report --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    /// Markdown, to read or attach to an email.
    Md,
    /// JSON, the shape documented in docs/report.md.
    Json,
    /// One self-contained HTML page.
    Html,
}

impl ReportFormat {
    /// The format a file name asks for: `.md`, `.json`, `.html` or `.htm` (any case).
    pub fn from_path(path: &Path) -> Result<ReportFormat> {
        let extension = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match extension.as_deref() {
            Some("md") | Some("markdown") => Ok(ReportFormat::Md),
            Some("json") => Ok(ReportFormat::Json),
            Some("html") | Some("htm") => Ok(ReportFormat::Html),
            _ => Err(Error::Invalid(format!(
                "{}: cannot tell the report format; name the file .md, .json or .html",
                path.display()
            ))),
        }
    }
}

/// Writes the report of `session_id` in `format` to `out`.
pub fn write_report(
    conn: &Connection,
    session_id: &str,
    format: ReportFormat,
    out: &mut dyn Write,
) -> Result<()> {
    let diagnostics = diagnostics::build(conn, session_id)?;
    match format {
        ReportFormat::Md => out.write_all(diagnostics.to_markdown().as_bytes())?,
        ReportFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &diagnostics)?;
            writeln!(out)?;
        }
        ReportFormat::Html => html::write(conn, &diagnostics, out)?,
    }
    out.flush()?;
    Ok(())
}

/// Writes the report of `session_id` to `path`, in the format its extension names.
///
/// The report is written beside the target and renamed into place, so a failure never
/// leaves a half-written file (an existing file at `path` stays as it was).
pub fn write_report_file(conn: &Connection, session_id: &str, path: &Path) -> Result<()> {
    write_report_file_as(conn, session_id, path, ReportFormat::from_path(path)?)
}

/// As [`write_report_file`], in the format given whatever the file is called.
pub fn write_report_file_as(
    conn: &Connection,
    session_id: &str,
    path: &Path,
    format: ReportFormat,
) -> Result<()> {
    let file_name = path
        .file_name()
        .ok_or_else(|| Error::Invalid(format!("{}: not a file name", path.display())))?;
    let mut partial_name = std::ffi::OsString::from(".");
    partial_name.push(file_name);
    partial_name.push(format!(".partial-{}", std::process::id()));
    let partial = path.with_file_name(partial_name);
    let written = (|| -> Result<()> {
        let file = std::fs::File::create(&partial).map_err(|err| io_context(&partial, err))?;
        let mut out = std::io::BufWriter::new(file);
        write_report(conn, session_id, format, &mut out)?;
        out.into_inner()
            .map_err(|err| io_context(&partial, err.into_error()))?
            .sync_all()?;
        std::fs::rename(&partial, path).map_err(|err| io_context(path, err))?;
        Ok(())
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    written
}

fn io_context(path: &Path, err: std::io::Error) -> Error {
    Error::Invalid(format!("{}: {err}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_follows_the_extension() {
        assert_eq!(
            ReportFormat::from_path(Path::new("a/b.HTM")).unwrap(),
            ReportFormat::Html
        );
        assert_eq!(
            ReportFormat::from_path(Path::new("r.md")).unwrap(),
            ReportFormat::Md
        );
        assert_eq!(
            ReportFormat::from_path(Path::new("r.json")).unwrap(),
            ReportFormat::Json
        );
        assert!(ReportFormat::from_path(Path::new("report")).is_err());
        assert!(ReportFormat::from_path(Path::new("report.pdf")).is_err());
    }
}
