//! The library's error type. Each variant is a reason a person can act on; the CLI prints it
//! on one line and exits with status 2.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: not a SQLite database; left untouched")]
    NotADatabase { path: PathBuf },

    #[error("{path}: the file is read-only; left untouched")]
    ReadOnly { path: PathBuf },

    #[error("{path}: the database is locked by another process (waited {waited_ms} ms)")]
    Locked { path: PathBuf, waited_ms: u64 },

    #[error(
        "{path}: existing table \"{table}\" lacks column \"{column}\" that rssd needs; nothing was changed"
    )]
    MissingColumn {
        path: PathBuf,
        table: String,
        column: String,
    },

    #[error("no session with id \"{0}\"")]
    UnknownSession(String),

    #[error("no entry with id \"{0}\" in this session")]
    UnknownEntry(String),

    #[error("{0}")]
    Invalid(String),

    #[error("interrupted (Ctrl-C or SIGTERM)")]
    Interrupted,

    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),

    #[error(transparent)]
    Io(#[from] std::io::Error),

    #[error(transparent)]
    Json(#[from] serde_json::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The message a caught panic carried, for the issue or error that reports it.
pub(crate) fn panic_reason(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown reason".into())
}
