//! Usage: rssd ingest PATH... [-d DB] [--table-prefix P] [--if-exists replace|append|fail]
//!                   [--include GLOB]... [--exclude GLOB]... [--nature NAME]
//!                   [--provenance-columns] [--fail-on error|warning|never] [--no-progress]
//!                   [--exclusive-load] [--strict-columns]
//!                   [--drift-key table|source] [--drift-rows PCT] [--drift-fail]
//!                   [--header-row N] [--too-many-columns fail|long]
//!                   [--format table|json]
//!                   [--schema FILE]... [--schema-for GLOB=FILE]... [--rules FILE|GLOB]...
//!                   [--header-case-sensitive] [--report FILE]
//!                   [--store-content | --no-store-content] [--store-content-limit BYTES]
//!                   [--tenant-id ID [--tenant-name NAME]]
//!
//! Loads files, folders (walked recursively in sorted order, hidden names skipped), globs, or
//! `-` (CSV on standard input) into tables, one session entry per file or sheet, and prints
//! the session id and a summary (file, table, rows, columns, issues, state).
//! With a schema or rules, each loaded entry is validated (see `rssd validate`): declared
//! types from the schema, header and content checks after its load, sheets, foreign keys
//! and SQL rules after all files. `--report FILE` writes the session's report at the end
//! (Markdown, JSON or HTML, from the extension).
//! Each loaded table is compared with the previous delivery of the same table (or source):
//! `Schema Drift` and `Row Count Change` warnings, errors with `--drift-fail`.
//! Each file is also recorded as surveilr records it: `ur_ingest_session`,
//! `ur_ingest_session_fs_path`, `uniform_resource` (with its bytes up to 32 MiB by default)
//! and `ur_ingest_session_fs_path_entry`; the entry's elaboration names the resource.
//! Exit status: 0 done; 1 issues at or above --fail-on (default error); 2 fatal.

use std::io::Write;

use anyhow::Result;

use super::options::{FailOn, ReportOption, ValidationArgs};
use super::output::{Listing, cell, write_json};
use super::{Global, args_json};
use rssd::ingest::drift::{DriftKey, DriftOptions};
use rssd::ingest::{
    EntryHook, IfExists, IngestOptions, IngestSummary, NoHook, ReadOptions, Tenant, TooManyColumns,
    ingest,
};
use rssd::validate::Validator;

/// `--if-exists`, onto the library's [`IfExists`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum IfExistsArg {
    /// Drop and create it again in the same transaction (readers see old or new, never half).
    Replace,
    /// Add the rows, columns matched by name (new ones added, missing ones NULL).
    Append,
    /// Record an issue and skip the file.
    Fail,
}

impl From<IfExistsArg> for IfExists {
    fn from(arg: IfExistsArg) -> IfExists {
        match arg {
            IfExistsArg::Replace => IfExists::Replace,
            IfExistsArg::Append => IfExists::Append,
            IfExistsArg::Fail => IfExists::Fail,
        }
    }
}

/// `--drift-key`, onto the library's [`DriftKey`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DriftKeyArg {
    /// The previous load of the same table name.
    Table,
    /// The previous load of the same path relative to the input root.
    Source,
}

impl From<DriftKeyArg> for DriftKey {
    fn from(arg: DriftKeyArg) -> DriftKey {
        match arg {
            DriftKeyArg::Table => DriftKey::Table,
            DriftKeyArg::Source => DriftKey::Source,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SummaryFormat {
    Table,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Files, folders, globs, or `-` for CSV on standard input.
    #[arg(required = true)]
    pub paths: Vec<String>,
    #[command(flatten)]
    pub ingest: IngestArgs,
    /// Exit 1 when issues of this severity or worse were found.
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    pub fail_on: FailOn,
    /// Do not draw the progress bar.
    #[arg(long)]
    pub no_progress: bool,
    #[arg(long, value_enum, default_value_t = SummaryFormat::Table)]
    pub format: SummaryFormat,
    #[command(flatten)]
    pub report: ReportOption,
}

/// The options that shape how files load, shared by `ingest` and `watch`.
#[derive(Debug, clap::Args)]
pub struct IngestArgs {
    /// Put in front of every table name.
    #[arg(long, default_value = "")]
    pub table_prefix: String,
    /// When the table exists: replace it, append to it (columns matched by name), or fail.
    #[arg(long, value_enum, default_value_t = IfExistsArg::Replace)]
    pub if_exists: IfExistsArg,
    /// With --if-exists append: refuse a file whose columns differ from the table's (names or
    /// order) instead of matching them by name.
    #[arg(long)]
    pub strict_columns: bool,
    /// Which earlier load is the previous delivery: of the same table, or the same source path
    /// relative to the input root.
    #[arg(long, value_enum, default_value_t = DriftKeyArg::Table)]
    pub drift_key: DriftKeyArg,
    /// A row count moving by more than PCT percent against the previous delivery is a
    /// Row Count Change.
    #[arg(long, value_name = "PCT", default_value_t = 50.0, value_parser = percent)]
    pub drift_rows: f64,
    /// Drift against the previous delivery is an error (exit 1), not a warning.
    #[arg(long)]
    pub drift_fail: bool,
    /// Load only walked or globbed files whose name (or relative path) matches.
    #[arg(long)]
    pub include: Vec<String>,
    /// Leave out walked or globbed files whose name (or relative path) matches.
    #[arg(long)]
    pub exclude: Vec<String>,
    /// The session's nature.
    #[arg(long, default_value = "ingest")]
    pub nature: String,
    /// Add _rssd_row, _rssd_session_id and _rssd_entry_id columns to each table.
    #[arg(long)]
    pub provenance_columns: bool,
    /// Load files of 8 MiB or more with SQLite's rollback journal when no other connection has
    /// the database open (faster; a reader opening the database meanwhile waits for the load).
    #[arg(long)]
    pub exclusive_load: bool,
    /// Keep each file's bytes in uniform_resource.content (the default, for files up to
    /// --store-content-limit).
    #[arg(long, overrides_with = "no_store_content")]
    pub store_content: bool,
    /// Record each file in uniform_resource without its bytes.
    #[arg(long)]
    pub no_store_content: bool,
    /// The largest file whose bytes are kept, in bytes (K, M, G suffixes: KiB, MiB, GiB).
    #[arg(long, value_name = "BYTES", default_value = "32M", value_parser = byte_size)]
    pub store_content_limit: u64,
    /// The tenant the files belong to: a party and organization of this id (surveilr's
    /// multitenancy), with this device related to it.
    #[arg(long, value_name = "ID")]
    pub tenant_id: Option<String>,
    /// The tenant's name (the id when not given); needs --tenant-id.
    #[arg(long, value_name = "NAME", requires = "tenant_id")]
    pub tenant_name: Option<String>,
    /// The 1-based line of a CSV/TSV's header; the lines before it are skipped as a preamble
    /// (by default a preamble is detected: comment and title lines before the header).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub header_row: Option<u64>,
    /// A CSV/TSV wider than SQLite's 2,000 columns: fail with Too Many Columns, or load it as
    /// a long table (row, column_number, column, value), one row per non-empty cell.
    #[arg(long, value_enum, default_value_t = TooManyColumnsArg::Fail)]
    pub too_many_columns: TooManyColumnsArg,
    #[command(flatten)]
    pub validation: ValidationArgs,
}

/// `--too-many-columns`, onto the library's [`TooManyColumns`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TooManyColumnsArg {
    /// A Too Many Columns error; nothing loaded.
    Fail,
    /// One row per non-empty cell: row, column_number, column, value.
    Long,
}

/// What an ingest needs from its options: the library's options and the validation hook.
pub struct PreparedIngest {
    pub options: IngestOptions,
    validator: Option<Validator>,
}

impl PreparedIngest {
    /// Validation when a schema or rules were given, else nothing.
    pub fn hook(&self) -> &dyn EntryHook {
        match &self.validator {
            Some(validator) => validator,
            None => &NoHook,
        }
    }
}

impl IngestArgs {
    /// Reads schemas and rules (before the database is touched) and builds the options.
    pub fn prepare(self, progress: bool) -> Result<PreparedIngest> {
        let validator = if self.validation.is_empty() {
            None
        } else {
            Some(Validator::new(self.validation.plan(false)?))
        };
        let options = IngestOptions {
            table_prefix: self.table_prefix,
            if_exists: self.if_exists.into(),
            include: self.include,
            exclude: self.exclude,
            nature: self.nature,
            provenance_columns: self.provenance_columns,
            progress,
            rollback_journal_from_bytes: if self.exclusive_load {
                rssd::ingest::EXCLUSIVE_LOAD_FROM_BYTES
            } else {
                u64::MAX
            },
            drift: DriftOptions {
                key: self.drift_key.into(),
                rows_percent: self.drift_rows,
                fail: self.drift_fail,
            },
            strict_columns: self.strict_columns,
            store_content_up_to: (!self.no_store_content || self.store_content)
                .then_some(self.store_content_limit),
            tenant: self.tenant_id.map(|id| Tenant {
                name: self.tenant_name.unwrap_or_else(|| id.clone()),
                id,
            }),
            read: ReadOptions {
                header_row: self.header_row,
                too_many_columns: match self.too_many_columns {
                    TooManyColumnsArg::Fail => TooManyColumns::Fail,
                    TooManyColumnsArg::Long => TooManyColumns::Long,
                },
            },
            args: args_json(),
            ..IngestOptions::default()
        };
        Ok(PreparedIngest { options, validator })
    }
}

pub fn run(global: &Global, args: Args) -> Result<u8> {
    // Schemas, rules and the report's format are checked before the database is touched.
    args.report.check()?;
    let prepared = args.ingest.prepare(!args.no_progress)?;
    let db = global.open()?;
    let summary = ingest(&db, &args.paths, &prepared.options, prepared.hook())?;
    let mut out = std::io::stdout().lock();
    match args.format {
        SummaryFormat::Json => write_json(&summary, &mut out)?,
        SummaryFormat::Table => print_table(&summary, &mut out)?,
    }
    args.report.write(&db, &summary.session_id)?;
    Ok(args
        .fail_on
        .exit_status(summary.issues_error as i64, summary.issues_warning as i64))
}

/// `--store-content-limit`: bytes, or a number with K, M or G (powers of 1024).
fn byte_size(text: &str) -> std::result::Result<u64, String> {
    let trimmed = text.trim();
    let (digits, unit) = match trimmed.char_indices().last() {
        Some((at, c)) if c.is_ascii_alphabetic() => (&trimmed[..at], c.to_ascii_uppercase()),
        _ => (trimmed, 'B'),
    };
    let scale: u64 = match unit {
        'B' => 1,
        'K' => 1 << 10,
        'M' => 1 << 20,
        'G' => 1 << 30,
        _ => return Err(format!("\"{text}\": use bytes, or a number with K, M or G")),
    };
    digits
        .trim()
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
        .ok_or_else(|| format!("\"{text}\" is not a size (bytes, or a number with K, M or G)"))
}

/// `--drift-rows`: a percentage, 0 or more.
fn percent(text: &str) -> std::result::Result<f64, String> {
    match text.trim().trim_end_matches('%').parse::<f64>() {
        Ok(value) if value.is_finite() && value >= 0.0 => Ok(value),
        _ => Err(format!(
            "\"{text}\" is not a percentage (a number, 0 or more)"
        )),
    }
}

fn print_table(summary: &IngestSummary, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "session {}", summary.session_id)?;
    let mut listing = Listing::new(vec!["file", "table", "rows", "columns", "issues", "state"]);
    for entry in &summary.entries {
        let source = match &entry.sheet {
            Some(sheet) => format!("{} [{sheet}]", entry.source),
            None => entry.source.clone(),
        };
        listing.push(vec![
            source,
            cell(entry.table.as_ref()),
            cell(entry.rows),
            cell(entry.columns),
            entry.issues.to_string(),
            entry.state.clone(),
        ]);
    }
    listing.write(super::output::Format::Table, out)?;
    let mut tail = format!(
        "{} entries: {} tables loaded ({} rows)",
        summary.entries.len(),
        summary.tables,
        summary.rows
    );
    if summary.unchanged > 0 {
        tail.push_str(&format!(
            ", {} unchanged (not loaded again)",
            summary.unchanged
        ));
    }
    if summary.skipped > 0 {
        tail.push_str(&format!(", {} skipped", summary.skipped));
    }
    if summary.failed > 0 {
        tail.push_str(&format!(", {} failed", summary.failed));
    }
    writeln!(
        out,
        "{tail}; {} errors, {} warnings; {:.0} ms",
        summary.issues_error, summary.issues_warning, summary.duration_ms
    )
}
