//! Each file as surveilr's `ingest files` records it, beside the orchestration rows: one
//! `ur_ingest_session` per run, a `ur_ingest_session_fs_path` per root, a `uniform_resource`
//! per distinct file (its bytes too, up to a size limit) and a `ur_ingest_session_fs_path_entry`
//! per file walked. The file's bytes are bound to the row's insert; SQLite holds the row
//! whole while it inserts it (see [`DEFAULT_STORE_CONTENT_LIMIT`]).

use std::collections::HashMap;
use std::fs;
use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::json;

use crate::Result;
use crate::sql::BorrowedBlobStatement;
use crate::state::new_id;

/// Files up to this size keep their bytes in `uniform_resource.content` unless told
/// otherwise. SQLite builds the whole row in memory when it writes it (`content` is not the
/// row's last column, so even a zeroblob would be expanded): storing a file costs about twice
/// its size in memory for a moment, and this default keeps that under 64 MiB.
pub const DEFAULT_STORE_CONTENT_LIMIT: u64 = 32 * 1024 * 1024;

/// What a walked file is, for its rows.
pub(super) struct WalkedFile<'a> {
    pub path: &'a Path,
    /// The path below the folder given (the file name for a file named directly).
    pub relative: &'a str,
    /// surveilr's content digest: the SHA-1 of the bytes, lower-case hex.
    pub digest: &'a str,
    pub size: u64,
    pub modified: Option<String>,
    /// The bytes to keep in the row (read with the digest), when they are to be kept.
    pub content: Option<std::sync::Arc<Vec<u8>>>,
}

/// The run's ingest session and the roots it has recorded.
pub(super) struct Resources<'c> {
    /// The `uniform_resource` insert, its `content` last.
    insert: BorrowedBlobStatement<'c>,
    session_id: String,
    device_id: String,
    /// Store files up to this many bytes; `None`: store none.
    store_up_to: Option<u64>,
    roots: HashMap<String, String>,
}

impl<'c> Resources<'c> {
    /// Starts the run's `ur_ingest_session`; its elaboration names the orchestration session.
    pub fn begin(
        conn: &'c Connection,
        device_id: &str,
        orchestration_session_id: &str,
        store_up_to: Option<u64>,
    ) -> Result<Resources<'c>> {
        let session_id = new_id();
        let agent = json!({"name": "rssd", "version": env!("CARGO_PKG_VERSION")}).to_string();
        let elaboration = json!({"orchestration_session_id": orchestration_session_id}).to_string();
        // created_at is part of a UNIQUE key with the device: a time with microseconds, taken
        // again if another run of this device took the same one.
        loop {
            let inserted = conn.execute(
                "INSERT INTO ur_ingest_session (ur_ingest_session_id, device_id, ingest_started_at,
                     session_agent, elaboration, created_at, created_by)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?3, 'rssd') ON CONFLICT DO NOTHING",
                params![session_id, device_id, now_micros(), agent, elaboration],
            )?;
            if inserted == 1 {
                break;
            }
        }
        let insert = BorrowedBlobStatement::prepare(
            conn,
            "INSERT INTO uniform_resource (uniform_resource_id, device_id, ingest_session_id,
                 ingest_fs_path_id, uri, content_digest, nature, size_bytes,
                 last_modified_at, content, created_by)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'rssd')",
        )?;
        Ok(Resources {
            insert,
            session_id,
            device_id: device_id.to_string(),
            store_up_to,
            roots: HashMap::new(),
        })
    }

    pub fn finish(&self, conn: &Connection) -> Result<()> {
        conn.execute(
            "UPDATE ur_ingest_session SET ingest_finished_at = ?2 WHERE ur_ingest_session_id = ?1",
            params![self.session_id, now_micros()],
        )?;
        Ok(())
    }

    /// Records `file` (in the caller's transaction), its bytes too when the limit allows;
    /// returns its `uniform_resource_id`. A file already recorded with the
    /// same device, digest, uri and size (unchanged) keeps its row, as surveilr keeps it, and
    /// this session's path entry points at it.
    pub fn record(&mut self, conn: &Connection, file: &mut WalkedFile) -> Result<String> {
        let absolute = fs::canonicalize(file.path)?;
        let root = root_of(&absolute, file.relative);
        let known_root = self.roots.contains_key(&root);
        let recorded = self.record_at(conn, file, &absolute, &root);
        if recorded.is_err() && !known_root {
            // Its row rolls back with the caller's transaction.
            self.roots.remove(&root);
        }
        recorded
    }

    fn record_at(
        &mut self,
        conn: &Connection,
        file: &mut WalkedFile,
        absolute: &Path,
        root: &str,
    ) -> Result<String> {
        let fs_path_id = self.fs_path(conn, root)?;
        let uri = absolute.to_string_lossy().into_owned();
        let extension = absolute
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase());
        // Looked up rather than ON CONFLICT: an adopted table may lack surveilr's UNIQUE.
        let existing: Option<String> = conn
            .query_row(
                "SELECT uniform_resource_id FROM uniform_resource
                 WHERE device_id = ?1 AND content_digest = ?2 AND uri = ?3 AND size_bytes = ?4",
                params![self.device_id, file.digest, uri, file.size as i64],
                |row| row.get(0),
            )
            .optional()?;
        if let Some(id) = existing {
            conn.execute(
                "UPDATE uniform_resource SET updated_at = CURRENT_TIMESTAMP, updated_by = 'rssd'
                 WHERE uniform_resource_id = ?1",
                [&id],
            )?;
            self.path_entry(conn, &fs_path_id, &id, absolute, root, file.relative)?;
            return Ok(id);
        }
        let id = new_id();
        let size = file.size as i64;
        let values: [&dyn rusqlite::ToSql; 9] = [
            &id,
            &self.device_id,
            &self.session_id,
            &fs_path_id,
            &uri,
            &file.digest,
            &extension,
            &size,
            &file.modified,
        ];
        // The bytes are bound without a copy; the buffer goes once the row is in.
        let content = file.content.take();
        let content = content.as_deref().map(|c| c.as_slice());
        self.insert.execute(&values, content)?;
        self.path_entry(conn, &fs_path_id, &id, absolute, root, file.relative)?;
        Ok(id)
    }

    /// True when a file of `size` bytes keeps its bytes in its row.
    pub fn stores(&self, conn: &Connection, size: u64) -> bool {
        self.store_up_to.is_some_and(|limit| size <= limit) && size <= largest_storable(conn)
    }

    fn fs_path(&mut self, conn: &Connection, root: &str) -> Result<String> {
        if let Some(id) = self.roots.get(root) {
            return Ok(id.clone());
        }
        let id = new_id();
        conn.execute(
            "INSERT INTO ur_ingest_session_fs_path (ur_ingest_session_fs_path_id, ingest_session_id,
                 root_path, created_by) VALUES (?1, ?2, ?3, 'rssd')",
            params![id, self.session_id, root],
        )?;
        self.roots.insert(root.to_string(), id.clone());
        Ok(id)
    }

    fn path_entry(
        &self,
        conn: &Connection,
        fs_path_id: &str,
        resource_id: &str,
        absolute: &Path,
        root: &str,
        relative: &str,
    ) -> Result<()> {
        let name = |p: Option<&std::ffi::OsStr>| p.map(|s| s.to_string_lossy().into_owned());
        conn.execute(
            "INSERT INTO ur_ingest_session_fs_path_entry (ur_ingest_session_fs_path_entry_id,
                 ingest_session_id, ingest_fs_path_id, uniform_resource_id, file_path_abs,
                 file_path_rel_parent, file_path_rel, file_basename, file_extn, created_by)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'rssd')",
            params![
                new_id(),
                self.session_id,
                fs_path_id,
                resource_id,
                absolute.to_string_lossy(),
                root,
                relative,
                name(absolute.file_name()).unwrap_or_default(),
                name(absolute.extension()),
            ],
        )?;
        Ok(())
    }
}

/// The folder given, from a file's absolute path and its path below that folder.
fn root_of(absolute: &Path, relative: &str) -> String {
    let depth = Path::new(relative).components().count().max(1);
    let mut root = absolute.to_path_buf();
    for _ in 0..depth {
        root.pop();
    }
    root.to_string_lossy().into_owned()
}

/// The largest file SQLite can keep in one row (its length limit is the whole row's), with
/// room for the row's other values.
fn largest_storable(conn: &Connection) -> u64 {
    let limit = conn
        .limit(rusqlite::limits::Limit::SQLITE_LIMIT_LENGTH)
        .unwrap_or(0);
    (limit.max(0) as u64).saturating_sub(1 << 16)
}

/// UTC now as `YYYY-MM-DD HH:MM:SS.ffffff`, a time SQLite's date functions read.
fn now_micros() -> String {
    chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now())
        .format("%Y-%m-%d %H:%M:%S%.6f")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_larger_than_sqlite_keeps_in_a_row_is_not_stored_whatever_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::state::StateDb::open(dir.path().join("r.db"), &Default::default()).unwrap();
        let conn = db.conn();
        conn.set_limit(rusqlite::limits::Limit::SQLITE_LIMIT_LENGTH, 100_000)
            .unwrap();
        let device = db.device().device_id.clone();
        let unlimited = Resources::begin(conn, &device, "session", Some(u64::MAX)).unwrap();
        assert!(unlimited.stores(conn, 1_000));
        assert!(!unlimited.stores(conn, 200_000));
        let limited = Resources::begin(conn, &device, "session", Some(500)).unwrap();
        assert!(!limited.stores(conn, 1_000));
        let none = Resources::begin(conn, &device, "session", None).unwrap();
        assert!(!none.stores(conn, 1));
    }

    #[test]
    fn root_is_the_folder_given() {
        let abs = Path::new("/data/in/sub/a.csv");
        assert_eq!(root_of(abs, "sub/a.csv"), "/data/in");
        assert_eq!(root_of(abs, "a.csv"), "/data/in/sub");
    }
}
