//! Usage: rssd sessions [--nature N] [--format table|json|csv]
//!
//! Lists sessions, newest first: id, nature, device, start, finish, duration, final state,
//! entry count and issue counts by severity. `--format json` prints an array of objects with
//! the fields of `rssd::state::query::SessionSummary`.

use anyhow::Result;

use super::output::{Format, Listing, cell, write_json};
use super::{EXIT_OK, Global};
use rssd::state::query::{self, SessionSummary};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only sessions of this nature id.
    #[arg(long, short = 'n')]
    pub nature: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

pub fn run(global: &Global, args: Args) -> Result<u8> {
    let db = global.open()?;
    let sessions = query::list_sessions(db.conn(), args.nature.as_deref())?;
    print_sessions(&sessions, args.format)?;
    Ok(EXIT_OK)
}

/// Prints sessions in the chosen format; shared with `rssd orchestrate sessions`.
pub fn print_sessions(sessions: &[SessionSummary], format: Format) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    if format == Format::Json {
        return write_json(&sessions, &mut out);
    }
    let mut listing = Listing::new(vec![
        "session",
        "nature",
        "device",
        "started",
        "finished",
        "duration_s",
        "state",
        "entries",
        "errors",
        "warnings",
    ]);
    for s in sessions {
        listing.push(vec![
            s.session_id.clone(),
            s.nature.clone(),
            cell(s.device_name.as_ref()),
            cell(s.started_at.as_ref()),
            cell(s.finished_at.as_ref()),
            cell(s.duration_s),
            s.state.clone(),
            s.entries.to_string(),
            s.issues_error.to_string(),
            s.issues_warning.to_string(),
        ]);
    }
    listing.write(format, &mut out)
}
