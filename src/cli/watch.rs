//! Usage: rssd watch INBOX... [-d DB] [every ingest option: --schema FILE, --schema-for GLOB=FILE,
//!                   --rules FILE|GLOB, --table-prefix P, --if-exists replace|append|fail,
//!                   --include GLOB, --exclude GLOB, ...]
//!                   [--settle SECS] [--batch-window SECS] [--poll SECS]
//!                   [--archive DIR] [--quarantine DIR] [--once] [--log-format text|json]
//!
//! Watches the INBOX folders (and their subfolders) and ingests each file once it is complete:
//! size and modification time unchanged for `--settle` seconds (default 5), names uploaders
//! use while writing skipped (`*.part`, `*.tmp`, `.~lock*`, names starting with `.`). Files
//! that settle within `--batch-window` seconds (default 10) of the first are one session.
//! After the session committed, a file moves to `--archive DIR` under `YYYY/MM/DD/` (never
//! overwriting), or to `--quarantine DIR` when it has error issues. Files already waiting
//! are taken first. One log line per session on standard error (JSON with
//! `--log-format json`). `--once` takes what is there and exits. Ctrl-C or SIGTERM: the file
//! being loaded rolls back, the session ends INTERRUPTED, exit status 130.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Result, bail};

use super::ingest::IngestArgs;
use super::{EXIT_OK, Global};
use rssd::watch::{WatchEvent, WatchOptions, watch};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Folders to watch (with their subfolders).
    #[arg(required = true, value_name = "INBOX")]
    pub inboxes: Vec<PathBuf>,
    #[command(flatten)]
    pub ingest: IngestArgs,
    /// Seconds a file's size and modification time must hold before it is taken.
    #[arg(long, value_name = "SECS", default_value_t = 5.0)]
    pub settle: f64,
    /// Files that settle within SECS of the first one go into one session.
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    pub batch_window: f64,
    /// Poll the inboxes every SECS instead of using inotify (network file systems).
    #[arg(long, value_name = "SECS")]
    pub poll: Option<f64>,
    /// Move each file here after its session committed, under YYYY/MM/DD/.
    #[arg(long, value_name = "DIR")]
    pub archive: Option<PathBuf>,
    /// Move each file with error issues here after its session committed, under YYYY/MM/DD/.
    #[arg(long, value_name = "DIR")]
    pub quarantine: Option<PathBuf>,
    /// Take the files there now, as one session, and exit.
    #[arg(long)]
    pub once: bool,
    /// The log line written on standard error for each session.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

fn seconds(flag: &str, value: f64) -> Result<Duration> {
    match Duration::try_from_secs_f64(value) {
        Ok(duration) => Ok(duration),
        Err(_) => bail!("--{flag} takes a number of seconds of 0 or more, not {value}"),
    }
}

pub fn run(global: &Global, args: Args) -> Result<u8> {
    let settle = seconds("settle", args.settle)?;
    let batch_window = seconds("batch-window", args.batch_window)?;
    let poll = match args.poll {
        Some(value) if value <= 0.0 => bail!("--poll takes a number of seconds above 0"),
        Some(value) => Some(seconds("poll", value)?),
        None => None,
    };
    let prepared = args.ingest.prepare(false)?;
    let db = global.open()?;
    let options = WatchOptions {
        ingest: prepared.options.clone(),
        settle,
        batch_window,
        poll,
        archive: args.archive,
        quarantine: args.quarantine,
        once: args.once,
    };
    let format = args.log_format;
    watch(
        &db,
        &args.inboxes,
        &options,
        prepared.hook(),
        &mut |event| {
            eprintln!("{}", log_line(event, format));
        },
    )?;
    Ok(EXIT_OK)
}

fn log_line(event: &WatchEvent, format: LogFormat) -> String {
    let time = chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now())
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string();
    if format == LogFormat::Json {
        let mut value = serde_json::to_value(event).unwrap_or_default();
        if let Some(object) = value.as_object_mut() {
            object.insert("time".into(), serde_json::json!(time));
        }
        return value.to_string();
    }
    match event {
        WatchEvent::Watching {
            inboxes,
            mode,
            poll_secs,
            settle_secs,
            batch_window_secs,
        } => {
            let inboxes: Vec<String> = inboxes.iter().map(|p| p.display().to_string()).collect();
            let how = match poll_secs {
                Some(secs) => format!("polling every {secs} s"),
                None => mode.clone(),
            };
            format!(
                "{time} rssd watch: watching {} ({how}); settle {settle_secs} s, batch window {batch_window_secs} s",
                inboxes.join(", ")
            )
        }
        WatchEvent::Session(s) => format!(
            "{time} rssd watch: session {} {}: {} files, {} entries: {} loaded ({} rows), {} unchanged, {} skipped, {} failed; {} errors, {} warnings; {:.0} ms; {} archived, {} quarantined",
            s.session_id,
            s.state,
            s.files,
            s.entries,
            s.loaded,
            s.rows,
            s.unchanged,
            s.skipped,
            s.failed,
            s.issues_error,
            s.issues_warning,
            s.duration_ms,
            s.archived.len(),
            s.quarantined.len()
        ),
        WatchEvent::Problem { message } => format!("{time} rssd watch: problem: {message}"),
    }
}
