//! Read-only connections to the RSSD, a few kept open, each used by one blocking task.
//!
//! Every connection is opened `SQLITE_OPEN_READ_ONLY` with `PRAGMA query_only = 1`, so no
//! request can change the file, while ingests keep writing beside it (WAL readers do not
//! block the writer). Each use is capped in time by a progress handler.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rusqlite::limits::Limit;
use rusqlite::{Connection, OpenFlags};

use super::failure::Failure;
use crate::{Error, Result};

/// Connections kept open between requests (more are opened under load, then closed).
const IDLE_CONNECTIONS: usize = 8;
/// How long a read waits for a writer's lock (a checkpoint) before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The largest text or blob a query may make or read (a stored cell larger than this is
/// refused with a 400 and can be read with `rssd shell`).
const MAX_VALUE_BYTES: i32 = 32 * 1024 * 1024;

/// Opens read-only connections to one RSSD.
pub struct Pool {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl Pool {
    /// Checks that `path` is a SQLite database that can be read, and keeps one connection.
    pub fn open(path: &Path) -> Result<Arc<Pool>> {
        if !path.is_file() {
            return Err(Error::Invalid(format!(
                "{}: no RSSD there (create one with rssd init or rssd ingest)",
                path.display()
            )));
        }
        let pool = Pool {
            path: path.to_path_buf(),
            idle: Mutex::new(Vec::new()),
        };
        let conn = pool.connect().map_err(|err| {
            Error::Invalid(format!(
                "{}: cannot read it as SQLite: {err}",
                path.display()
            ))
        })?;
        conn.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))
            .map_err(|err| {
                Error::Invalid(format!("{}: not a SQLite database: {err}", path.display()))
            })?;
        pool.give_back(conn);
        Ok(Arc::new(pool))
    }

    /// A new read-only connection.
    pub fn connect(&self) -> rusqlite::Result<Connection> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.pragma_update(None, "query_only", 1)?;
        // No query may build a huge value in memory (zeroblob(1e9), repeated text).
        conn.set_limit(Limit::SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)?;
        Ok(conn)
    }

    fn take(&self) -> rusqlite::Result<Connection> {
        let idle = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        match idle {
            Some(conn) => Ok(conn),
            None => self.connect(),
        }
    }

    fn give_back(&self, conn: Connection) {
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < IDLE_CONNECTIONS
        {
            idle.push(conn);
        }
    }

    /// Runs `work` on a blocking thread with a connection whose statements are interrupted
    /// once `time_limit` has passed.
    pub async fn read<T, F>(self: &Arc<Self>, time_limit: Duration, work: F) -> Result<T, Failure>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, Failure> + Send + 'static,
    {
        let pool = Arc::clone(self);
        let task = tokio::task::spawn_blocking(move || {
            let mut conn = pool.take()?;
            let deadline = Instant::now() + time_limit;
            conn.progress_handler(10_000, Some(move || Instant::now() > deadline))?;
            let outcome = work(&mut conn);
            // A connection left inside a statement or transaction is not reused.
            if conn.is_autocommit() {
                pool.give_back(conn);
            }
            outcome
        });
        task.await
            .map_err(|err| Failure::internal(format!("the query task failed: {err}")))?
    }

    /// As [`Pool::read`] without a time limit, on a connection of its own: for downloads,
    /// which stream every row however long it takes.
    pub fn read_unbounded(&self) -> rusqlite::Result<Connection> {
        self.connect()
    }
}
