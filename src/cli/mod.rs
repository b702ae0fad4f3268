//! The command line: clap definitions and one file per command. Each command parses its
//! arguments, makes library calls and prints; the work itself lives in the library.

mod ingest;
mod init;
mod issues;
mod options;
mod orchestrate;
mod output;
mod report;
mod sessions;
mod shell;
mod show;
mod validate;
mod watch;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};

use rssd::state::{DEFAULT_DB_PATH, OpenOptions, StateDb};

/// Exit status: done and nothing at or above `--fail-on`.
pub const EXIT_OK: u8 = 0;
/// Exit status: issues at or above `--fail-on` were found (or a script failed).
pub const EXIT_ISSUES: u8 = 1;
/// Exit status: usage error or fatal failure.
pub const EXIT_FATAL: u8 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "rssd",
    version,
    about = "Load files into a SQLite RSSD, validate them, run SQL, and record every step."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Clone, clap::Args)]
pub struct Global {
    /// The RSSD file.
    #[arg(short = 'd', long = "state-db-fs-path", env = "RSSD_STATE_DB_FS_PATH",
          default_value = DEFAULT_DB_PATH, global = true)]
    pub state_db: PathBuf,
    /// Device name recorded for this machine (default: the host name).
    #[arg(long, global = true)]
    pub device_name: Option<String>,
    /// Device boundary (default: UNKNOWN).
    #[arg(long, global = true)]
    pub boundary: Option<String>,
    /// Seconds a write waits for another process's lock before giving up.
    #[arg(long, env = "RSSD_BUSY_TIMEOUT", default_value_t = 60.0, global = true)]
    pub busy_timeout: f64,
}

impl Global {
    pub fn open_options(&self) -> OpenOptions {
        OpenOptions {
            device_name: self.device_name.clone(),
            boundary: self.boundary.clone(),
            busy_timeout: Duration::from_secs_f64(self.busy_timeout.max(0.0)),
        }
    }

    /// Opens (creating or adopting) the state database.
    pub fn open(&self) -> rssd::Result<StateDb> {
        StateDb::open(&self.state_db, &self.open_options())
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create or adopt an RSSD (idempotent).
    Init(init::Args),
    /// Load files, folders and workbooks into tables, one entry per file or sheet.
    Ingest(ingest::Args),
    /// List sessions with counts, state and duration, newest first.
    Sessions(sessions::Args),
    /// One session: its entries, their states and issue counts.
    Show(show::Args),
    /// The issues of a session, filterable, streamed as a table, JSON or CSV.
    Issues(issues::Args),
    /// The diagnostics report of a session: Markdown, JSON or one HTML file.
    Report(report::Args),
    /// Run SQL scripts inside a recorded session (surveilr-compatible).
    Orchestrate(orchestrate::Args),
    /// Run SQL on the RSSD and print the last result.
    Shell(shell::Args),
    /// Check tables already loaded against Table Schemas and SQL rules, as a new session.
    Validate(validate::Args),
    /// Ingest files as they are dropped into inbox folders, once each is complete.
    Watch(watch::Args),
}

/// Parses the command line, runs the command, and turns failures into exit status 2 with a
/// one-line reason on standard error.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    rssd::interrupt::install();
    let outcome = match cli.command {
        Command::Init(args) => init::run(&cli.global, args),
        Command::Ingest(args) => ingest::run(&cli.global, args),
        Command::Sessions(args) => sessions::run(&cli.global, args),
        Command::Show(args) => show::run(&cli.global, args),
        Command::Issues(args) => issues::run(&cli.global, args),
        Command::Report(args) => report::run(&cli.global, args),
        Command::Orchestrate(args) => orchestrate::run(&cli.global, args),
        Command::Shell(args) => shell::run(&cli.global, args),
        Command::Validate(args) => validate::run(&cli.global, args),
        Command::Watch(args) => watch::run(&cli.global, args),
    };
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(err) if matches!(err.downcast_ref(), Some(rssd::Error::Interrupted)) => {
            eprintln!("rssd: interrupted");
            ExitCode::from(rssd::interrupt::EXIT_INTERRUPTED)
        }
        Err(err) => {
            let reason = format!("{err:#}").replace(['\r', '\n'], " ");
            eprintln!("rssd: error: {reason}");
            ExitCode::from(EXIT_FATAL)
        }
    }
}

/// The command line as JSON, for `args_json`.
pub fn args_json() -> serde_json::Value {
    let argv: Vec<String> = std::env::args_os()
        .map(|arg| arg.to_string_lossy().into_owned())
        .collect();
    serde_json::json!({ "argv": argv })
}
