//! A big new table loaded in committed batches under a staging name, renamed to its own name
//! in the load's last transaction (so no reader ever sees it half-loaded under its name),
//! while a second connection checkpoints the committed batches on the other core: the WAL's
//! pages reach the database file during the load instead of after it.
//!
//! A kill leaves the staging table behind; the next ingest drops it once its session is over.

use std::sync::mpsc;
use std::thread::JoinHandle;

use rusqlite::{Connection, OptionalExtension};

use crate::Result;
use crate::sql::quote_ident;
use crate::state::query::latest_state;
use crate::state::states::is_final;

/// Where a staged table's rows go until its last transaction.
const STAGING_PREFIX: &str = "_rssd_staging_";
/// Row batches (of `load::BATCH_RECORDS`) per committed transaction.
pub const BATCHES_PER_COMMIT: u64 = 16;

/// Files from this size on are staged (smaller ones gain nothing from a checkpoint overlap).
pub const STAGED_FROM_BYTES: u64 = 1024 * 1024;

/// True when a file of `size` bytes is worth staging on `conn`: a database file in WAL mode.
pub fn worth_staging(conn: &Connection, size: u64) -> Result<bool> {
    if size < STAGED_FROM_BYTES || conn.path().is_none_or(str::is_empty) {
        return Ok(false);
    }
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |row| row.get(0))?;
    Ok(mode.eq_ignore_ascii_case("wal"))
}

/// The staging table of an entry.
pub fn staging_name(entry: &str) -> String {
    format!("{STAGING_PREFIX}{entry}")
}

/// Drops the staging tables of sessions that are over (a killed load's leftovers). A live
/// session's staging table (another process loading) is left alone.
pub fn drop_orphans(conn: &Connection) -> Result<()> {
    let pattern = format!("{}%", STAGING_PREFIX.replace('_', "\\_"));
    let names: Vec<String> = conn
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE ?1 ESCAPE '\\'",
        )?
        .query_map([pattern], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for name in names {
        let entry = &name[STAGING_PREFIX.len()..];
        let session: Option<String> = conn
            .query_row(
                "SELECT session_id FROM orchestration_session_state WHERE session_entry_id = ?1 LIMIT 1",
                [entry],
                |row| row.get(0),
            )
            .optional()?;
        let over = match session {
            Some(session) => is_final(&latest_state(conn, &session, None)?),
            None => true,
        };
        if over {
            conn.execute_batch(&format!("DROP TABLE IF EXISTS {}", quote_ident(&name)))?;
        }
    }
    Ok(())
}

/// A thread with its own connection running `wal_checkpoint(PASSIVE)` whenever woken (after
/// each committed batch): it copies what is committed and never waits for, or blocks, anyone.
pub struct Checkpointer {
    wake: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    pub fn start(path: &str) -> Result<Self> {
        let conn = Connection::open(path)?;
        conn.execute_batch("PRAGMA synchronous = NORMAL")?;
        let (wake, woken) = mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            while woken.recv().is_ok() {
                while woken.try_recv().is_ok() {}
                // Busy or not, the next wake (or the final commit's checkpoint) does the rest.
                let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
            }
        });
        Ok(Checkpointer {
            wake: Some(wake),
            thread: Some(thread),
        })
    }

    pub fn wake(&self) {
        if let Some(wake) = &self.wake {
            let _ = wake.send(());
        }
    }
}

impl Drop for Checkpointer {
    /// Waits for a checkpoint under way, so that the final commit's own checkpoint is not
    /// turned away busy.
    fn drop(&mut self) {
        self.wake.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
