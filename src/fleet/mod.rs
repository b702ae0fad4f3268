//! Fleet: many RSSDs into one. `merge` gathers device RSSDs into one SQLite file; `push`
//! replicates an RSSD into PostgreSQL, incrementally, one transaction per session.

pub mod merge;
pub mod meta;
mod pg_conn;
mod pg_schema;
pub mod pg_types;
pub mod push;

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::{Error, Result};

pub use merge::{CandidateOutcome, MergeOptions, MergeSummary, merge};
pub use pg_conn::pgpass_lookup;
pub use push::{PushOptions, PushSummary, PushedSession, push};

/// What to do with a loaded table whose name is taken, at the destination, by a table with
/// other columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TablesRule {
    /// Use `<table>_<device name>` instead (a log row says so).
    #[default]
    Rename,
    /// Leave the table out (a warning issue says so).
    Skip,
    /// Refuse: the candidate (merge) or the whole push fails.
    Fail,
}

/// The candidates named by paths and by globs, in the order given (each glob's matches
/// sorted), without repeats.
pub fn expand_candidates(paths: &[PathBuf], globs: &[String]) -> Result<Vec<PathBuf>> {
    let mut all: Vec<PathBuf> = paths.to_vec();
    for pattern in globs {
        let matches = glob::glob(pattern)
            .map_err(|err| Error::Invalid(format!("--candidates {pattern}: {err}")))?;
        let mut found: Vec<PathBuf> = matches.filter_map(|m| m.ok()).collect();
        found.sort();
        all.extend(found);
    }
    let mut seen = std::collections::HashSet::new();
    all.retain(|p| seen.insert(p.clone()));
    Ok(all)
}

/// Refuses, without creating or touching it, a path that is not an existing SQLite file.
pub fn check_sqlite_file(path: &Path) -> Result<()> {
    let metadata =
        std::fs::metadata(path).map_err(|err| Error::Invalid(format!("cannot open: {err}")))?;
    if !metadata.is_file() {
        return Err(Error::Invalid("not a file".into()));
    }
    let mut header = [0u8; 16];
    let mut file = std::fs::File::open(path)?;
    let mut filled = 0;
    while filled < header.len() {
        match file.read(&mut header[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    if filled < header.len() || &header != b"SQLite format 3\0" {
        return Err(Error::NotADatabase {
            path: path.to_path_buf(),
        });
    }
    Ok(())
}
