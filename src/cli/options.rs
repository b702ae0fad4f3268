//! Options several commands share: `--fail-on`, the schema and rule options, `--report FILE`.

use std::path::PathBuf;

use rssd::state::StateDb;
use rssd::validate::{Plan, RuleSet, SchemaSet, ValidateOptions};

use super::{EXIT_ISSUES, EXIT_OK};

/// `--fail-on`: the severity from which found issues make the exit status 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    Error,
    Warning,
    Never,
}

impl FailOn {
    /// 1 when issues at or above this severity were found, else 0.
    pub fn exit_status(self, errors: i64, warnings: i64) -> u8 {
        let failing = match self {
            FailOn::Error => errors,
            FailOn::Warning => errors + warnings,
            FailOn::Never => 0,
        };
        if failing > 0 { EXIT_ISSUES } else { EXIT_OK }
    }
}

/// The schema and rule options `validate` and `ingest` share.
#[derive(Debug, clap::Args)]
pub struct ValidationArgs {
    /// A Table Schema, Data Resource or Data Package descriptor (JSON or YAML).
    #[arg(long, value_name = "FILE")]
    pub schema: Vec<PathBuf>,
    /// A bare Table Schema for the tables (or source files) matching GLOB.
    #[arg(long, value_name = "GLOB=FILE")]
    pub schema_for: Vec<String>,
    /// SQL rule files (a file or a glob); each SELECT's rows become issues.
    #[arg(long, value_name = "FILE|GLOB")]
    pub rules: Vec<String>,
    /// Header names must match field names with their case.
    #[arg(long)]
    pub header_case_sensitive: bool,
}

impl ValidationArgs {
    pub fn is_empty(&self) -> bool {
        self.schema.is_empty() && self.schema_for.is_empty() && self.rules.is_empty()
    }

    /// Reads every descriptor and rule file, before the database is touched.
    pub fn plan(&self, report_blank_rows: bool) -> rssd::Result<Plan> {
        Ok(Plan {
            schemas: SchemaSet::load(&self.schema, &self.schema_for)?,
            rules: RuleSet::load(&self.rules)?,
            options: ValidateOptions {
                header_case: self.header_case_sensitive,
                report_blank_rows,
            },
        })
    }
}

/// `--report FILE`: the session's report, written when the run ends (format from the extension).
#[derive(Debug, Clone, clap::Args)]
pub struct ReportOption {
    /// Write the session's report to FILE at the end (.md, .json or .html).
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
}

impl ReportOption {
    /// Refuses an unknown extension before any work is done.
    pub fn check(&self) -> rssd::Result<()> {
        if let Some(path) = &self.report {
            rssd::report::ReportFormat::from_path(path)?;
        }
        Ok(())
    }

    /// Writes the report of `session_id`, if one was asked for.
    pub fn write(&self, db: &StateDb, session_id: &str) -> rssd::Result<()> {
        if let Some(path) = &self.report {
            rssd::report::write_report_file(db.conn(), session_id, path)?;
            eprintln!("rssd: report written to {}", path.display());
        }
        Ok(())
    }
}
