//! Usage: rssd merge [CANDIDATE...] [--candidates GLOB]... -d TARGET
//!                   [--tables rename|skip|fail] [--format table|json|csv]
//!
//! Merges candidate RSSDs into the target (-d), one at a time and each in one transaction:
//! orchestration tables and keyed tables by primary key, loaded tables appended with
//! `_rssd_entry_id` and `_rssd_row`. Running it again adds nothing. The merge is a session of
//! nature `merge` with one entry per candidate; a candidate that cannot be merged (not an
//! RSSD, corrupt, locked, lacking a column) gets an issue and the others merge.
//! `--tables` says what to do with a loaded table whose name the target has with other
//! columns: `rename` to `<table>_<device>` (default), `skip` it, or `fail` the candidate.
//! Exit status: 0 done; 1 a candidate failed; 2 fatal.

use std::path::PathBuf;

use anyhow::Result;

use super::output::{Format, Listing, write_json};
use super::{EXIT_ISSUES, EXIT_OK, Global, args_json};
use rssd::fleet::{self, MergeOptions, TablesRule};

/// `--tables`: a loaded table whose name is taken by a table with other columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TablesArg {
    Rename,
    Skip,
    Fail,
}

impl From<TablesArg> for TablesRule {
    fn from(arg: TablesArg) -> TablesRule {
        match arg {
            TablesArg::Rename => TablesRule::Rename,
            TablesArg::Skip => TablesRule::Skip,
            TablesArg::Fail => TablesRule::Fail,
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// RSSD files to merge into the target.
    pub candidates: Vec<PathBuf>,
    /// More candidates: every file the glob matches (repeatable).
    #[arg(long = "candidates", value_name = "GLOB")]
    pub candidate_globs: Vec<String>,
    /// A loaded table whose name the target has with other columns.
    #[arg(long, value_enum, default_value_t = TablesArg::Rename)]
    pub tables: TablesArg,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

pub fn run(global: &Global, args: Args) -> Result<u8> {
    let candidates = fleet::expand_candidates(&args.candidates, &args.candidate_globs)?;
    if candidates.is_empty() {
        anyhow::bail!("no candidates: name RSSD files or --candidates GLOB");
    }
    let db = global.open()?;
    let options = MergeOptions {
        tables: args.tables.into(),
        args: args_json(),
    };
    let summary = fleet::merge(&db, &candidates, &options)?;
    let mut out = std::io::stdout().lock();
    if args.format == Format::Json {
        write_json(&summary, &mut out)?;
    } else {
        println!("session {}", summary.session_id);
        let mut listing = Listing::new(vec!["candidate", "state", "sessions", "rows", "reason"]);
        for c in &summary.candidates {
            listing.push(vec![
                c.candidate.clone(),
                c.state.clone(),
                c.sessions_added.to_string(),
                c.rows_added.to_string(),
                c.reason.clone().unwrap_or_default(),
            ]);
        }
        listing.write(args.format, &mut out)?;
    }
    Ok(if summary.failed() > 0 {
        EXIT_ISSUES
    } else {
        EXIT_OK
    })
}
