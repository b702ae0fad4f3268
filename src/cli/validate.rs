//! Usage: rssd validate [--schema FILE]... [--schema-for GLOB=FILE]... [--rules FILE|GLOB]...
//!                      [--table T]... [--header-case-sensitive] [--fail-on error|warning|never]
//!                      [--format table|json|csv] [--report FILE]
//!
//! Checks tables already in the database against Table Schemas (JSON or YAML; a bare schema,
//! a Data Resource or a Data Package whose resources' `path` globs select tables or their
//! original files) and SQL rules, as a new session (nature `V&V`) whose entries name the same
//! tables; `ingest_src` is the table's original source when an earlier entry recorded it.
//! Without `--table`, every table a schema selects is checked (every table for a bare schema
//! or rules alone). Every problem is an issue row. Prints one line per table; exit 1 when
//! issues at or above `--fail-on` (default error) were found, 2 when a schema or rule file is
//! broken (nothing is written then). `--report FILE` writes the session's report at the end
//! (Markdown, JSON or HTML, from the extension).

use anyhow::Result;

use super::options::{FailOn, ReportOption, ValidationArgs};
use super::output::{Format, Listing, write_json};
use super::{EXIT_FATAL, Global};
use rssd::validate::{ValidateOutcome, select_tables};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub validation: ValidationArgs,
    /// Only these tables.
    #[arg(long, value_name = "T")]
    pub table: Vec<String>,
    /// Exit 1 when issues of this severity or worse exist.
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    pub fail_on: FailOn,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    #[command(flatten)]
    pub report: ReportOption,
}

pub fn run(global: &Global, args: Args) -> Result<u8> {
    if args.validation.is_empty() {
        eprintln!("rssd: error: validate needs at least one --schema, --schema-for or --rules");
        return Ok(EXIT_FATAL);
    }
    args.report.check()?;
    let plan = args.validation.plan(true)?;
    let db = global.open()?;
    let selected = select_tables(db.conn(), &plan, &args.table)?;
    let outcome = rssd::validate::validate_tables(&db, plan, &selected, &super::args_json())?;
    print_outcome(&outcome, args.format)?;
    args.report.write(&db, &outcome.session_id)?;
    Ok(args
        .fail_on
        .exit_status(outcome.errors(), outcome.warnings()))
}

fn print_outcome(outcome: &ValidateOutcome, format: Format) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    if format == Format::Json {
        return write_json(outcome, &mut out);
    }
    use std::io::Write;
    if format == Format::Table {
        writeln!(out, "session {}", outcome.session_id)?;
    }
    let mut listing = Listing::new(vec!["table", "source", "state", "errors", "warnings"]);
    for table in &outcome.tables {
        listing.push(vec![
            table.table.clone(),
            table.source.clone(),
            table.state.clone(),
            table.errors.to_string(),
            table.warnings.to_string(),
        ]);
    }
    listing.write(format, &mut out)?;
    if format == Format::Table && outcome.session_errors + outcome.session_warnings > 0 {
        writeln!(
            out,
            "session-wide: {} errors, {} warnings",
            outcome.session_errors, outcome.session_warnings
        )?;
    }
    Ok(())
}
