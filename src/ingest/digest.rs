//! What is recorded about a file's bytes: its digests and its time; and each table's digest
//! at its last committed load, so that an unchanged file is recognised before it is read.

use std::collections::HashMap;
use std::fs;
use std::io::Read;
use std::path::Path;
use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::Connection;
use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::Result;

/// The digest of the last committed load of every table named in the RSSD's entries.
pub(super) fn last_ingested_digests(conn: &Connection) -> Result<HashMap<String, String>> {
    let mut stmt = conn.prepare(
        "SELECT e.ingest_table_name, json_extract(e.elaboration, '$.content_sha256')
         FROM orchestration_session_entry e
         WHERE e.ingest_table_name IS NOT NULL AND json_valid(e.elaboration)
           AND e.orchestration_session_entry_id IN
               (SELECT session_entry_id FROM orchestration_session_state WHERE to_state = 'INGESTED')
         ORDER BY e.rowid",
    )?;
    let mut digests = HashMap::new();
    let rows = stmt.query_map([], |row| {
        Ok((row.get::<_, String>(0)?, row.get::<_, Option<String>>(1)?))
    })?;
    for row in rows {
        let (table, digest) = row?;
        match digest {
            Some(digest) => digests.insert(table.to_ascii_lowercase(), digest),
            None => digests.remove(&table.to_ascii_lowercase()),
        };
    }
    Ok(digests)
}

/// A file's digests, lower-case hex: SHA-1 (surveilr's `uniform_resource.content_digest`) and
/// SHA-256 (rssd's entries, `content_sha256`, see [`FileDigests::sha256`]).
pub(super) struct FileDigests {
    pub sha1: String,
    sha256: Sha256Hex,
    /// The bytes hashed, when asked for (to store them: the same bytes as the digests).
    pub content: Option<Arc<Vec<u8>>>,
}

enum Sha256Hex {
    Done(String),
    /// Still hashing the kept bytes on its own thread, while they are stored.
    Hashing(JoinHandle<String>),
}

impl FileDigests {
    /// The SHA-256, once its thread is done.
    pub fn sha256(self) -> std::io::Result<String> {
        match self.sha256 {
            Sha256Hex::Done(hex) => Ok(hex),
            Sha256Hex::Hashing(thread) => thread
                .join()
                .map_err(|_| std::io::Error::other("the SHA-256 thread stopped")),
        }
    }
}

/// Both digests in one read of the file, on both cores. With `keep` (the expected size) the
/// bytes are kept too, and the SHA-256 goes on hashing them while they are stored.
pub(super) fn file_digests(path: &Path, keep: Option<u64>) -> std::io::Result<FileDigests> {
    let mut file = fs::File::open(path)?;
    let Some(size) = keep else {
        return streamed_digests(file);
    };
    let mut content = Vec::with_capacity(size as usize);
    file.read_to_end(&mut content)?;
    let content = Arc::new(content);
    let hashed = Arc::clone(&content);
    let sha256 = std::thread::spawn(move || hex(&Sha256::digest(hashed.as_slice())));
    Ok(FileDigests {
        sha1: hex(&Sha1::digest(content.as_slice())),
        sha256: Sha256Hex::Hashing(sha256),
        content: Some(content),
    })
}

/// Both digests of a file not kept, read in chunks: the SHA-1 on a second thread.
fn streamed_digests(mut file: fs::File) -> std::io::Result<FileDigests> {
    let (chunks, hashed) = mpsc::sync_channel::<Arc<Vec<u8>>>(2);
    std::thread::scope(|scope| {
        let sha1 = scope.spawn(move || {
            let mut hasher = Sha1::new();
            for chunk in hashed {
                hasher.update(chunk.as_slice());
            }
            hex(&hasher.finalize())
        });
        let mut hasher = Sha256::new();
        let read = loop {
            let mut buffer = vec![0u8; 1 << 20];
            match file.read(&mut buffer) {
                Ok(0) => break Ok(()),
                Ok(n) => {
                    buffer.truncate(n);
                    let chunk = Arc::new(buffer);
                    hasher.update(chunk.as_slice());
                    if chunks.send(chunk).is_err() {
                        break Ok(());
                    }
                }
                Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
                Err(err) => break Err(err),
            }
        };
        drop(chunks);
        let sha1 = sha1
            .join()
            .map_err(|_| std::io::Error::other("the SHA-1 thread stopped"))?;
        read.map(|()| FileDigests {
            sha1,
            sha256: Sha256Hex::Done(hex(&hasher.finalize())),
            content: None,
        })
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `YYYY-MM-DDTHH:MM:SSZ` (UTC) for a file time.
pub(super) fn iso_time(time: SystemTime) -> String {
    let seconds = match time.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    };
    let (days, rest) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_times_are_iso_8601_utc() {
        assert_eq!(iso_time(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let t = UNIX_EPOCH + std::time::Duration::from_secs(1_709_251_199);
        assert_eq!(iso_time(t), "2024-02-29T23:59:59Z");
    }

    #[test]
    fn a_kept_file_and_a_streamed_one_have_the_same_digests() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("abc.csv");
        fs::write(&path, "abc").unwrap();
        let streamed = file_digests(&path, None).unwrap();
        assert!(streamed.content.is_none());
        let kept = file_digests(&path, Some(3)).unwrap();
        assert_eq!(
            kept.content.as_deref().map(Vec::as_slice),
            Some(&b"abc"[..])
        );
        for digests in [streamed, kept] {
            assert_eq!(digests.sha1, "a9993e364706816aba3e25717850c26c9cd0d89d");
            assert_eq!(
                digests.sha256().unwrap(),
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
            );
        }
    }
}
