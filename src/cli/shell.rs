//! Usage: rssd shell [SCRIPT]... [--cmd SQL]... [--output json|line|table]
//!                   [--no-observability] [--allow-remote] [--allow-extensions]
//!
//! Runs SQL on the RSSD: standard input first (when it is not a terminal), then each SCRIPT
//! (file, glob, or `https://` URL with `--allow-remote`), then each `--cmd`. Prints the rows
//! of the last statement that returns columns: `table` (aligned), `line` (`column = value`, a
//! blank line between rows, as sqlite3's `.mode line`) or `json` (an array of objects). The
//! run is recorded as a session of nature `shell-rusqlite`, one entry per script, unless
//! `--no-observability`, which writes nothing but what the SQL itself writes. Errors go to
//! standard error (and to `orchestration_session_log` when recorded). The functions of
//! `docs/functions.md` are available.
//!
//! Exit status: 0 every statement ran, 1 a statement failed, 2 usage or fatal error.

use std::io::Write;

use anyhow::Result;
use rusqlite::types::Value;

use super::output::write_aligned;
use super::{EXIT_ISSUES, EXIT_OK, Global, args_json};
use rssd::orchestrate::{self, ResultSet, RunOptions, SHELL_NATURE, ScriptSource, source};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    Table,
    Line,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Script files, globs or URLs, run in order.
    pub scripts: Vec<String>,
    /// SQL to run after the scripts; repeat for more.
    #[arg(long = "cmd", short = 'c')]
    pub commands: Vec<String>,
    /// How to print the rows of the last statement that returns columns.
    #[arg(long, value_enum, default_value_t = Output::Table)]
    pub output: Output,
    /// Record no session.
    #[arg(long)]
    pub no_observability: bool,
    /// Allow `https://` script URLs.
    #[arg(long)]
    pub allow_remote: bool,
    /// Allow load_extension().
    #[arg(long)]
    pub allow_extensions: bool,
}

pub fn run(global: &Global, args: Args) -> Result<u8> {
    let mut sources: Vec<_> = source::from_stdin().into_iter().collect();
    sources.extend(source::resolve(&args.scripts, args.allow_remote)?);
    sources.extend(args.commands.iter().map(|sql| ScriptSource::command(sql)));
    if sources.is_empty() {
        anyhow::bail!("nothing to run: pass SCRIPT, --cmd SQL or SQL on standard input");
    }
    let db = global.open()?;
    let options = RunOptions {
        nature_id: SHELL_NATURE.to_string(),
        nature_label: SHELL_NATURE.to_string(),
        save_script: true,
        capture_result: true,
        observe: !args.no_observability,
        allow_extensions: args.allow_extensions,
    };
    let report = orchestrate::run(&db, &sources, &options, &args_json())?;
    for script in &report.scripts {
        if let Some(error) = &script.error {
            eprintln!("rssd: {}: {error}", script.src);
        }
    }
    if let Some(result) = &report.last_result {
        let mut out = std::io::stdout().lock();
        print_result(result, args.output, &mut out)?;
    }
    Ok(if report.failed() > 0 {
        EXIT_ISSUES
    } else {
        EXIT_OK
    })
}

fn text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::Integer(n) => n.to_string(),
        Value::Real(f) => f.to_string(),
        Value::Text(t) => t.clone(),
        Value::Blob(bytes) => bytes.iter().map(|b| format!("{b:02x}")).collect(),
    }
}

fn json_value(value: &Value) -> serde_json::Value {
    match value {
        Value::Null => serde_json::Value::Null,
        Value::Integer(n) => (*n).into(),
        Value::Real(f) => serde_json::Number::from_f64(*f)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null),
        other => text(other).into(),
    }
}

/// Prints a result set; blobs print as hex.
pub fn print_result(
    result: &ResultSet,
    output: Output,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    match output {
        Output::Json => {
            let rows: Vec<serde_json::Value> = result
                .rows
                .iter()
                .map(|row| {
                    let object: serde_json::Map<String, serde_json::Value> = result
                        .columns
                        .iter()
                        .cloned()
                        .zip(row.iter().map(json_value))
                        .collect();
                    serde_json::Value::Object(object)
                })
                .collect();
            super::output::write_json(&rows, out)
        }
        Output::Line => {
            let width = result
                .columns
                .iter()
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(0);
            for (i, row) in result.rows.iter().enumerate() {
                if i > 0 {
                    writeln!(out)?;
                }
                for (column, value) in result.columns.iter().zip(row) {
                    writeln!(out, "{column:>width$} = {}", text(value))?;
                }
            }
            Ok(())
        }
        Output::Table => {
            let headers: Vec<&str> = result.columns.iter().map(String::as_str).collect();
            let rows: Vec<Vec<String>> = result
                .rows
                .iter()
                .map(|row| row.iter().map(text).collect())
                .collect();
            write_aligned(&headers, &rows, out)
        }
    }
}
