//! The batch window: files that settle within the window of the first one go into one
//! session, so that a partner's delivery of 12 files is one session with 12 entries.

use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct Batch {
    window: Duration,
    files: Vec<PathBuf>,
    opened: Option<Instant>,
}

impl Batch {
    pub fn new(window: Duration) -> Batch {
        Batch {
            window,
            files: Vec::new(),
            opened: None,
        }
    }

    /// Adds settled files; the first one opens the window.
    pub fn add(&mut self, files: Vec<PathBuf>, now: Instant) {
        for file in files {
            if !self.files.contains(&file) {
                self.opened.get_or_insert(now);
                self.files.push(file);
            }
        }
    }

    /// When the window closes, if it is open.
    pub fn closes_at(&self) -> Option<Instant> {
        self.opened.map(|opened| opened + self.window)
    }

    /// Whether the window is open and has closed by `now`.
    pub fn is_due(&self, now: Instant) -> bool {
        self.closes_at().is_some_and(|closes| closes <= now)
    }

    /// The batch's files, in path order; the next file opens a new window.
    pub fn take(&mut self) -> Vec<PathBuf> {
        self.opened = None;
        let mut files = std::mem::take(&mut self.files);
        files.sort();
        files
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_opens_with_the_first_file_and_closes_after_its_length() {
        let window = Duration::from_secs(10);
        let mut batch = Batch::new(window);
        let start = Instant::now();
        assert_eq!(batch.closes_at(), None);
        batch.add(vec![PathBuf::from("b.csv")], start);
        batch.add(
            vec![PathBuf::from("a.csv"), PathBuf::from("b.csv")],
            start + window / 2,
        );
        assert!(!batch.is_due(start + window / 2));
        assert!(batch.is_due(start + window));
        assert_eq!(
            batch.take(),
            vec![PathBuf::from("a.csv"), PathBuf::from("b.csv")]
        );
        assert!(batch.take().is_empty());
        assert_eq!(batch.closes_at(), None);
    }
}
