//! Usage: rssd show SESSION [--format table|json]
//!
//! One session (`latest` for the newest): its facts, then each entry with its table, final
//! state, row count and issue count. `--format json` prints the fields of
//! `rssd::state::query::SessionDetail`.

use anyhow::Result;

use super::output::{Format, Listing, cell, write_json};
use super::{EXIT_OK, Global};
use rssd::state::query;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A session id, or `latest`.
    pub session: String,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

pub fn run(global: &Global, args: Args) -> Result<u8> {
    let db = global.open()?;
    let session_id = query::resolve_session(db.conn(), &args.session)?;
    let detail = query::session_detail(db.conn(), &session_id)?;
    let mut out = std::io::stdout().lock();
    if args.format == Format::Json {
        write_json(&detail, &mut out)?;
        return Ok(EXIT_OK);
    }
    let s = &detail.session;
    use std::io::Write;
    writeln!(out, "session   {}", s.session_id)?;
    writeln!(out, "nature    {}", s.nature)?;
    writeln!(out, "device    {}", cell(s.device_name.as_ref()))?;
    writeln!(out, "started   {}", cell(s.started_at.as_ref()))?;
    writeln!(out, "finished  {}", cell(s.finished_at.as_ref()))?;
    writeln!(
        out,
        "state     {}{}",
        s.state,
        s.state_reason
            .as_deref()
            .map(|r| format!(" ({r})"))
            .unwrap_or_default()
    )?;
    writeln!(
        out,
        "issues    {} errors, {} warnings",
        s.issues_error, s.issues_warning
    )?;
    writeln!(out)?;
    let mut listing = Listing::new(vec!["entry", "source", "table", "state", "rows", "issues"]);
    for e in &detail.entries {
        listing.push(vec![
            e.entry_id.clone(),
            e.source.clone(),
            cell(e.table.as_ref()),
            e.state.clone(),
            cell(e.rows),
            e.issues.to_string(),
        ]);
    }
    listing.write(args.format, &mut out)?;
    Ok(EXIT_OK)
}
