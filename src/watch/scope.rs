//! Which paths of the inboxes are files to ingest: not in a hidden folder, not an upload in
//! progress, not the archive, quarantine or state database, and passing `--include` /
//! `--exclude` (tried against the name and the path below the inbox, as `ingest` does).

use std::fs;
use std::path::{Path, PathBuf};

use glob::Pattern;

use super::settle::is_in_progress_name;
use crate::{Error, Result};

#[derive(Debug)]
pub struct Scope {
    /// The inboxes, absolute and with symbolic links resolved.
    inboxes: Vec<PathBuf>,
    /// Folders whose files are never taken (the archive and quarantine).
    left_out: Vec<PathBuf>,
    /// The state database and its journal files.
    state_files: Vec<PathBuf>,
    include: Vec<Pattern>,
    exclude: Vec<Pattern>,
}

impl Scope {
    pub fn new(
        inboxes: &[PathBuf],
        left_out: &[PathBuf],
        state_db: &Path,
        include: &[String],
        exclude: &[String],
    ) -> Result<Scope> {
        let mut real_inboxes = Vec::new();
        for inbox in inboxes {
            let real = fs::canonicalize(inbox).map_err(|err| {
                Error::Invalid(format!(
                    "inbox {} cannot be watched: {err}",
                    inbox.display()
                ))
            })?;
            if !real.is_dir() {
                return Err(Error::Invalid(format!(
                    "inbox {} is not a folder",
                    inbox.display()
                )));
            }
            real_inboxes.push(real);
        }
        let mut state_files = Vec::new();
        if let Ok(real) = fs::canonicalize(state_db) {
            for suffix in ["", "-wal", "-shm", "-journal"] {
                let mut name = real.clone().into_os_string();
                name.push(suffix);
                state_files.push(PathBuf::from(name));
            }
        }
        Ok(Scope {
            inboxes: real_inboxes,
            left_out: left_out
                .iter()
                .filter_map(|p| fs::canonicalize(p).ok())
                .collect(),
            state_files,
            include: compile(include)?,
            exclude: compile(exclude)?,
        })
    }

    pub fn inboxes(&self) -> &[PathBuf] {
        &self.inboxes
    }

    /// The path of `path` below the inbox holding it, if one does.
    pub fn relative<'p>(&self, path: &'p Path) -> Option<&'p Path> {
        self.inboxes
            .iter()
            .filter_map(|inbox| path.strip_prefix(inbox).ok())
            .min_by_key(|relative| relative.components().count())
    }

    /// Whether `path` may hold files to take: below an inbox, in no hidden folder, not in
    /// the archive or quarantine.
    fn may_hold<'p>(&self, path: &'p Path) -> Option<&'p Path> {
        let relative = self.relative(path)?;
        let hidden = relative
            .components()
            .any(|c| c.as_os_str().to_string_lossy().starts_with('.'));
        let left_out = self.left_out.iter().any(|dir| path.starts_with(dir));
        (!hidden && !left_out).then_some(relative)
    }

    /// Whether the file at `path` is one to ingest (by its path alone).
    pub fn takes(&self, path: &Path) -> bool {
        let Some(relative) = self.may_hold(path) else {
            return false;
        };
        let Some(name) = relative.file_name() else {
            return false;
        };
        if is_in_progress_name(&name.to_string_lossy())
            || self.state_files.iter().any(|f| f == path)
        {
            return false;
        }
        let name = Path::new(name);
        let matches = |p: &Pattern| p.matches_path(name) || p.matches_path(relative);
        (self.include.is_empty() || self.include.iter().any(matches))
            && !self.exclude.iter().any(matches)
    }

    /// The files to take in and below `folder`, walked without following symbolic links to
    /// folders.
    pub fn walk(&self, folder: &Path, out: &mut Vec<PathBuf>) {
        if self.may_hold(folder).is_none() {
            return;
        }
        let Ok(entries) = fs::read_dir(folder) else {
            return;
        };
        for entry in entries.filter_map(|e| e.ok()) {
            let path = entry.path();
            match entry.file_type() {
                Ok(kind) if kind.is_dir() => self.walk(&path, out),
                Ok(_) if self.takes(&path) && path.is_file() => out.push(path),
                _ => {}
            }
        }
    }
}

fn compile(globs: &[String]) -> Result<Vec<Pattern>> {
    globs
        .iter()
        .map(|g| Pattern::new(g).map_err(|err| Error::Invalid(format!("bad glob \"{g}\": {err}"))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_finished_visible_files_outside_the_archive_are_taken() {
        let dir = tempfile::tempdir().unwrap();
        let inbox = dir.path().join("inbox");
        for folder in ["partner", ".hidden", "archive"] {
            fs::create_dir_all(inbox.join(folder)).unwrap();
        }
        for file in [
            "a.csv",
            "partner/b.csv",
            "c.csv.part",
            ".d.csv",
            ".hidden/e.csv",
            "archive/f.csv",
            "g.json",
            "rssd.db",
            "rssd.db-wal",
        ] {
            fs::write(inbox.join(file), "x\n1\n").unwrap();
        }
        let scope = Scope::new(
            std::slice::from_ref(&inbox),
            &[inbox.join("archive")],
            &inbox.join("rssd.db"),
            &[],
            &["*.json".to_string()],
        )
        .unwrap();
        let mut found = Vec::new();
        scope.walk(&scope.inboxes()[0], &mut found);
        found.sort();
        let real = fs::canonicalize(&inbox).unwrap();
        assert_eq!(found, vec![real.join("a.csv"), real.join("partner/b.csv")]);
        assert_eq!(
            scope.relative(&real.join("partner/b.csv")),
            Some(Path::new("partner/b.csv"))
        );
    }

    #[test]
    fn an_inbox_that_is_missing_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let err =
            Scope::new(&[dir.path().join("nope")], &[], Path::new("x.db"), &[], &[]).unwrap_err();
        assert!(err.to_string().contains("cannot be watched"), "{err}");
    }
}
