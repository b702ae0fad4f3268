//! When a file is complete: its size and modification time have not changed for the settle
//! time. Uploaders give no "done" signal, so a file still being written is recognised by its
//! stamp moving; names they use while writing are left out altogether ([`is_in_progress_name`]).

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

/// Whether a file name is one uploaders and editors use while a file is not finished:
/// `*.part`, `*.tmp`, `.~lock*` and every name starting with `.` (rsync's and many SFTP
/// servers' temporary names), plus WinSCP's `*.filepart` and Office's `~$*` owner files.
pub fn is_in_progress_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with('.')
        || lower.starts_with("~$")
        || [".part", ".tmp", ".filepart"]
            .iter()
            .any(|suffix| lower.ends_with(suffix))
}

/// What a file looks like from outside: size and modification time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    size: u64,
    modified: Option<SystemTime>,
}

fn stamp_of(path: &Path) -> Option<Stamp> {
    let meta = fs::metadata(path).ok()?;
    meta.is_file().then(|| Stamp {
        size: meta.len(),
        modified: meta.modified().ok(),
    })
}

#[derive(Debug)]
enum Watched {
    /// Seen with this stamp, unchanged since `since`.
    Settling { stamp: Stamp, since: Instant },
    /// Handed out as complete with this stamp; only a new stamp brings it back.
    Taken { stamp: Stamp },
}

/// The files of the inboxes that are settling or were taken.
#[derive(Debug)]
pub struct Tracker {
    settle: Duration,
    files: HashMap<PathBuf, Watched>,
}

impl Tracker {
    pub fn new(settle: Duration) -> Tracker {
        Tracker {
            settle,
            files: HashMap::new(),
        }
    }

    /// Notes a file seen by an event or a scan. A vanished path is forgotten; a file first
    /// seen with a modification time older than the settle time (one waiting at startup)
    /// counts as settled already.
    pub fn observe(&mut self, path: &Path, now: Instant) {
        let Some(stamp) = stamp_of(path) else {
            self.files.remove(path);
            return;
        };
        let since = match self.files.get(path) {
            Some(Watched::Taken { stamp: known })
            | Some(Watched::Settling { stamp: known, .. })
                if *known == stamp =>
            {
                return;
            }
            Some(_) => now,
            None => {
                let age = stamp
                    .modified
                    .and_then(|m| SystemTime::now().duration_since(m).ok());
                match age {
                    Some(age) if age >= self.settle => now.checked_sub(self.settle).unwrap_or(now),
                    _ => now,
                }
            }
        };
        self.files
            .insert(path.to_path_buf(), Watched::Settling { stamp, since });
    }

    /// The files whose stamp has held for the settle time (checked again now), in path
    /// order; they are marked taken. A file whose stamp moved starts settling again.
    pub fn take_settled(&mut self, now: Instant) -> Vec<PathBuf> {
        let due: Vec<PathBuf> = self
            .files
            .iter()
            .filter(|(_, w)| matches!(w, Watched::Settling { since, .. } if *since + self.settle <= now))
            .map(|(path, _)| path.clone())
            .collect();
        let mut settled = Vec::new();
        for path in due {
            let Some(Watched::Settling { stamp: known, .. }) = self.files.get(&path) else {
                continue;
            };
            let known = *known;
            match stamp_of(&path) {
                None => {
                    self.files.remove(&path);
                }
                Some(stamp) if stamp == known => {
                    self.files.insert(path.clone(), Watched::Taken { stamp });
                    settled.push(path);
                }
                Some(stamp) => {
                    self.files
                        .insert(path, Watched::Settling { stamp, since: now });
                }
            }
        }
        settled.sort();
        settled
    }

    /// When the next settling file is due to be checked.
    pub fn next_due(&self) -> Option<Instant> {
        self.files
            .values()
            .filter_map(|w| match w {
                Watched::Settling { since, .. } => Some(*since + self.settle),
                Watched::Taken { .. } => None,
            })
            .min()
    }

    /// How many files are still settling.
    pub fn settling(&self) -> usize {
        self.files
            .values()
            .filter(|w| matches!(w, Watched::Settling { .. }))
            .count()
    }

    /// Whether `path` is taken and unchanged since (not settling again).
    pub fn is_taken(&self, path: &Path) -> bool {
        matches!(self.files.get(path), Some(Watched::Taken { .. }))
    }

    /// Forgets a file moved out of the inbox.
    pub fn forget(&mut self, path: &Path) {
        self.files.remove(path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_names_are_left_out() {
        for name in [
            "a.csv.part",
            "a.TMP",
            ".~lock.a.xlsx#",
            ".hidden.csv",
            "a.csv.filepart",
            "~$book.xlsx",
        ] {
            assert!(is_in_progress_name(name), "{name}");
        }
        for name in ["a.csv", "partners.csv", "tmp.csv", "a.part.csv"] {
            assert!(!is_in_progress_name(name), "{name}");
        }
    }

    #[test]
    fn a_file_settles_only_after_its_stamp_holds() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.csv");
        fs::write(&path, "x\n1\n").unwrap();
        let settle = Duration::from_secs(3600);
        let mut tracker = Tracker::new(settle);
        let start = Instant::now();
        tracker.observe(&path, start);
        assert_eq!(tracker.settling(), 1);
        assert!(tracker.take_settled(start).is_empty());
        // The stamp moves before the settle time is up: the clock starts again.
        fs::write(&path, "x\n1\n2\n").unwrap();
        tracker.observe(&path, start + settle / 2);
        assert!(tracker.take_settled(start + settle).is_empty());
        assert_eq!(tracker.next_due(), Some(start + settle / 2 + settle));
        assert_eq!(tracker.take_settled(start + settle * 2), vec![path.clone()]);
        assert!(tracker.is_taken(&path));
        // Seen again unchanged: still taken, not handed out twice.
        tracker.observe(&path, start + settle * 3);
        assert!(tracker.take_settled(start + settle * 5).is_empty());
        fs::remove_file(&path).unwrap();
        tracker.observe(&path, start + settle * 6);
        assert!(!tracker.is_taken(&path));
        assert_eq!(tracker.next_due(), None);
    }

    #[test]
    fn a_file_older_than_the_settle_time_is_settled_when_first_seen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.csv");
        fs::write(&path, "x\n1\n").unwrap();
        let file = fs::File::options().write(true).open(&path).unwrap();
        file.set_modified(SystemTime::now() - Duration::from_secs(60))
            .unwrap();
        let mut tracker = Tracker::new(Duration::from_secs(5));
        let now = Instant::now();
        tracker.observe(&path, now);
        assert_eq!(tracker.take_settled(now), vec![path]);
    }
}
