//! rssd loads batches of files into a SQLite database, checks them, runs SQL scripts, and
//! records every step in the orchestration tables of a Resource Surveillance State Database.
//!
//! Every command of the CLI is first a library call:
//!
//! ```no_run
//! use rssd::state::{OpenOptions, StateDb, Issue, IssueKind};
//! let db = StateDb::open("resource-surveillance.sqlite.db", &OpenOptions::default())?;
//! let mut session = db.begin_session("ingest", &serde_json::json!({"argv": ["example"]}))?;
//! let entry = session.add_entry("incoming/study.csv", Some("study"), &serde_json::json!({}))?;
//! session.entry_transition(&entry, "INGESTING", "reading the file")?;
//! session.issue(&Issue::new(IssueKind::BlankRow, "row 4 is blank").entry(&entry).row(4))?;
//! session.entry_transition(&entry, "INGESTED", "loaded 10 rows")?;
//! session.finish_completed("all files loaded")?;
//! # Ok::<(), rssd::Error>(())
//! ```

pub mod error;
pub mod ingest;
pub mod interrupt;
pub mod orchestrate;
pub mod report;
pub mod sql;
pub mod state;
pub mod validate;
pub mod watch;

pub use error::{Error, Result};

/// The version recorded in every session this build makes.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
