//! rssd's integration tests: one test binary (`autotests = false` in Cargo.toml), one module per
//! command or topic. Add yours as `tests/<topic>.rs` and one `mod <topic>;` line below.
//!
//! Shared helpers live in `tests/common/` (`use crate::common::*;`). For a new test, the
//! work-dir builder is the shortest way to drive the real binary and read what it wrote:
//!
//! ```ignore
//! let work = Work::new();                              // a temp dir, removed when dropped
//! let csv = work.file("in/a.csv", "id,name\n1,Ann\n");  // writes a file, returns its path
//! let out = work.rssd(&["ingest", text(&csv)]);        // rssd -d <work>/rssd.sqlite.db ...
//! assert_status(&out, 0);
//! assert_eq!(work.query("SELECT name FROM a"), [[Some("Ann".to_string())]]);
//! let conn = work.db();                                // a rusqlite::Connection, for more
//! ```
//!
//! Also there: `run(db, args)`, `ingest(db, args)`, `stdout`/`stderr`/`json_stdout`,
//! `column`/`lines`/`count` (queries on a db path), `dump`, the session holder of the
//! abandonment tests, and `common::robust` (seeded kills, integrity checks) for crash tests.
//! The binary under test is `env!("CARGO_BIN_EXE_rssd")` (`common::rssd()`).
//! Crash tests SIGKILL that binary, never this one, so they live here too.

mod common;

mod concurrency;
mod crash;
mod docs;
mod drift;
mod fleet;
mod formats;
mod foundation;
mod hostile;
mod ingest;
mod ingest_structure;
mod layout;
mod load_error;
mod load_journal;
mod lossless;
mod orchestrate;
mod release_build;
mod report;
mod serve;
mod stream;
mod surveilr;
mod validate;
mod watch;
