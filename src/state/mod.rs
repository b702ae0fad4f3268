//! The Resource Surveillance State Database: opening or adopting it, the device, and the
//! session recorder that every command writes through.

mod device;
pub mod diagnostics;
mod ids;
mod issue;
pub mod issue_list;
mod liveness;
pub mod query;
mod schema;
mod session;
pub mod states;
mod surveilr;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags};

pub use device::Device;
pub use ids::new_id;
pub use issue::{Issue, IssueKind, Severity};
pub use schema::{SCHEMA_SQL, TABLES};
pub use session::{Exec, Session, append_log, ensure_nature, record_issue};
pub use surveilr::{SURVEILR_TABLES, SURVEILR_VIEWS, is_surveilr_object, is_surveilr_table};

use crate::{Error, Result};

/// True for a table of the RSSD itself: an orchestration table or one of surveilr's others.
pub fn is_rssd_table(name: &str) -> bool {
    TABLES.iter().any(|t| t.eq_ignore_ascii_case(name)) || is_surveilr_table(name)
}

/// The file name surveilr and rssd use when none is given.
pub const DEFAULT_DB_PATH: &str = "resource-surveillance.sqlite.db";

/// How to open the state database and who this machine is.
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// Device name; the host name when `None`.
    pub device_name: Option<String>,
    /// Device boundary; `UNKNOWN` when `None`.
    pub boundary: Option<String>,
    /// How long a write waits for another process's lock before giving up.
    pub busy_timeout: Duration,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            device_name: None,
            boundary: None,
            busy_timeout: Duration::from_secs(60),
        }
    }
}

/// What opening did, for `rssd init` to tell the user.
#[derive(Debug, Clone, Default)]
pub struct OpenReport {
    /// The file did not exist (or was empty) before.
    pub created_file: bool,
    /// Orchestration tables that were missing and have been created.
    pub tables_created: Vec<String>,
    /// surveilr's other tables (and `sqlpage_files`) that were missing and have been created.
    pub surveilr_tables_created: Vec<String>,
    /// Sessions found unfinished from a process that is gone, now marked `ABANDONED`.
    pub abandoned_sessions: Vec<String>,
}

/// An open RSSD with this machine's device row in place.
pub struct StateDb {
    conn: Connection,
    path: PathBuf,
    device: Device,
    report: OpenReport,
    busy_timeout: Duration,
}

impl StateDb {
    /// Creates the RSSD at `path`, or adopts the one there as it is.
    ///
    /// Refuses, leaving the file byte-identical, when it is not a SQLite database, is
    /// read-only, or has an orchestration table that lacks a column rssd needs.
    pub fn open(path: impl AsRef<Path>, options: &OpenOptions) -> Result<StateDb> {
        let path = path.as_ref().to_path_buf();
        let created_file = check_file_before_open(&path)?;
        let conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|err| classify(err, &path, options.busy_timeout))?;
        conn.busy_timeout(options.busy_timeout)?;

        let mut db = StateDb {
            conn,
            path,
            device: Device::default(),
            report: OpenReport {
                created_file,
                ..OpenReport::default()
            },
            busy_timeout: options.busy_timeout,
        };
        db.prepare(options).map_err(|err| db.classify_error(err))?;
        Ok(db)
    }

    fn prepare(&mut self, options: &OpenOptions) -> Result<()> {
        // Everything that can refuse the file happens before the first write.
        schema::check_existing_columns(&self.conn, &self.path)?;
        configure_connection(&self.conn, options.busy_timeout)?;
        (
            self.report.tables_created,
            self.report.surveilr_tables_created,
        ) = schema::create(&self.conn)?;
        self.device = device::upsert(
            &self.conn,
            options.device_name.as_deref(),
            options.boundary.as_deref(),
        )?;
        self.report.abandoned_sessions = liveness::mark_abandoned_sessions(&self.conn)?;
        Ok(())
    }

    fn classify_error(&self, err: Error) -> Error {
        match err {
            Error::Sqlite(sqlite) => classify(sqlite, &self.path, self.busy_timeout),
            other => other,
        }
    }

    /// The connection, for loaders, validators and scripts that write into the same file.
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    pub fn open_report(&self) -> &OpenReport {
        &self.report
    }

    /// Starts a recorded session of `nature` (created in `orchestration_nature` if missing,
    /// with the id as its label); `args` goes into `args_json`.
    pub fn begin_session(&self, nature: &str, args: &serde_json::Value) -> Result<Session<'_>> {
        self.begin_session_with_label(nature, nature, args)
    }

    /// As [`StateDb::begin_session`], naming the nature's human label too.
    pub fn begin_session_with_label(
        &self,
        nature_id: &str,
        nature_label: &str,
        args: &serde_json::Value,
    ) -> Result<Session<'_>> {
        Session::begin(&self.conn, &self.device, nature_id, nature_label, args)
    }
}

/// Settings suited to a state database that several processes may write.
///
/// WAL lets readers (dashboards, `rssd sessions`) work while a load writes; `synchronous =
/// NORMAL` is the setting SQLite recommends with WAL (a committed transaction survives a
/// process crash, and the file stays consistent on power loss); foreign keys protect the
/// engine's own writes.
fn configure_connection(conn: &Connection, busy_timeout: Duration) -> Result<()> {
    let mode = switch_to_wal(conn, busy_timeout)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(Error::Invalid(format!(
            "could not switch the database to WAL journal mode (it stays in {mode})"
        )));
    }
    conn.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")?;
    Ok(())
}

/// Sets WAL journal mode, waiting up to `busy_timeout` for other processes.
///
/// When several processes open a new file at once, each tries to switch it from the rollback
/// journal to WAL; one that holds the read lock while another holds the write lock gets
/// SQLITE_BUSY at once, without the busy handler (SQLite's rule against deadlock). Retrying
/// lets the other finish; then the file is in WAL mode already and the switch is a no-op.
fn switch_to_wal(conn: &Connection, busy_timeout: Duration) -> Result<String> {
    let started = std::time::Instant::now();
    loop {
        match conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0)) {
            Err(err)
                if err.sqlite_error_code() == Some(ErrorCode::DatabaseBusy)
                    && started.elapsed() < busy_timeout =>
            {
                std::thread::sleep(Duration::from_millis(5));
            }
            outcome => return Ok(outcome?),
        }
    }
}

/// Refuses files that SQLite must not touch; returns whether the file is new.
fn check_file_before_open(path: &Path) -> Result<bool> {
    let metadata = match std::fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(true),
        Err(err) => return Err(err.into()),
    };
    if metadata.is_dir() {
        return Err(Error::Invalid(format!(
            "{}: is a directory, not a database file",
            path.display()
        )));
    }
    // Checked by hand because root may write a read-only file and SQLite would let it.
    if metadata.permissions().readonly() {
        return Err(Error::ReadOnly {
            path: path.to_path_buf(),
        });
    }
    if metadata.len() == 0 {
        return Ok(true);
    }
    let mut header = [0u8; 16];
    let mut file = std::fs::File::open(path)?;
    let read = read_up_to(&mut file, &mut header)?;
    if read < header.len() || &header != b"SQLite format 3\0" {
        return Err(Error::NotADatabase {
            path: path.to_path_buf(),
        });
    }
    Ok(false)
}

fn read_up_to(file: &mut std::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

/// Turns SQLite's codes into the errors a user can act on.
fn classify(err: rusqlite::Error, path: &Path, waited: Duration) -> Error {
    match err.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy) | Some(ErrorCode::DatabaseLocked) => Error::Locked {
            path: path.to_path_buf(),
            waited_ms: waited.as_millis() as u64,
        },
        Some(ErrorCode::NotADatabase) => Error::NotADatabase {
            path: path.to_path_buf(),
        },
        Some(ErrorCode::ReadOnly)
        | Some(ErrorCode::CannotOpen)
        | Some(ErrorCode::PermissionDenied) => Error::Invalid(format!(
            "{}: cannot open for writing: {err}",
            path.display()
        )),
        _ => Error::Sqlite(err),
    }
}
