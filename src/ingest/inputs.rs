//! From the PATHs given to the files to read: folders are walked recursively in sorted order
//! (hidden names and the state database skipped, symbolic links to folders not followed),
//! globs expanded, `-` is standard input. A path that cannot be read is still a candidate, so
//! that it gets its entry and issue.

use std::fs;
use std::path::{Path, PathBuf};

use glob::Pattern;

use crate::state::IssueKind;

#[derive(Debug, Clone)]
pub enum Candidate {
    File {
        source: String,
        path: PathBuf,
        /// The path below the folder given, or the file name of a file named or globbed: the
        /// source of `--drift-key source`.
        relative: String,
    },
    Stdin,
    Problem {
        source: String,
        kind: IssueKind,
        message: String,
    },
}

struct Filter {
    include: Vec<Pattern>,
    exclude: Vec<Pattern>,
    skip: Vec<PathBuf>,
}

impl Filter {
    /// Whether a walked or globbed file passes `--include` / `--exclude` (tried against the
    /// file name and the path relative to the folder given).
    fn keeps(&self, relative: &Path) -> bool {
        let name = relative.file_name().map(Path::new).unwrap_or(relative);
        let matches = |p: &Pattern| p.matches_path(name) || p.matches_path(relative);
        (self.include.is_empty() || self.include.iter().any(matches))
            && !self.exclude.iter().any(matches)
    }

    fn is_state_db(&self, path: &Path) -> bool {
        match fs::canonicalize(path) {
            Ok(real) => self.skip.contains(&real),
            Err(_) => false,
        }
    }
}

/// Expands the PATHs. Bad globs in `--include`/`--exclude` are a usage error.
pub fn expand(
    inputs: &[String],
    include: &[String],
    exclude: &[String],
    state_db: &Path,
) -> crate::Result<Vec<Candidate>> {
    let compile = |globs: &[String]| -> crate::Result<Vec<Pattern>> {
        globs
            .iter()
            .map(|g| {
                Pattern::new(g)
                    .map_err(|err| crate::Error::Invalid(format!("bad glob \"{g}\": {err}")))
            })
            .collect()
    };
    let mut skip = Vec::new();
    if let Ok(real) = fs::canonicalize(state_db) {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let mut name = real.clone().into_os_string();
            name.push(suffix);
            skip.push(PathBuf::from(name));
        }
    }
    let filter = Filter {
        include: compile(include)?,
        exclude: compile(exclude)?,
        skip,
    };
    let mut out = Vec::new();
    for input in inputs {
        if input == "-" {
            out.push(Candidate::Stdin);
            continue;
        }
        let path = Path::new(input);
        if fs::symlink_metadata(path).is_ok() {
            given(path, input, &filter, &mut out);
        } else if input.contains(['*', '?', '[']) {
            let matches: Vec<PathBuf> = match glob::glob(input) {
                Ok(paths) => paths.filter_map(|p| p.ok()).collect(),
                Err(err) => {
                    return Err(crate::Error::Invalid(format!(
                        "bad glob \"{input}\": {err}"
                    )));
                }
            };
            if matches.is_empty() {
                out.push(problem(input, "no file matches this pattern"));
            }
            for matched in matches {
                let source = matched.to_string_lossy().into_owned();
                if is_hidden(&matched) || !filter.keeps(&matched) {
                    continue;
                }
                given(&matched, &source, &filter, &mut out);
            }
        } else {
            out.push(problem(input, "no such file or folder"));
        }
    }
    Ok(out)
}

fn problem(source: &str, message: &str) -> Candidate {
    Candidate::Problem {
        source: source.to_string(),
        kind: IssueKind::UnreadableFile,
        message: message.to_string(),
    }
}

/// A relative path with `/` between its parts, whatever the platform.
fn relative_text(path: &Path) -> String {
    let parts: Vec<String> = path
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    parts.join("/")
}

fn is_hidden(path: &Path) -> bool {
    path.file_name()
        .is_some_and(|name| name.to_string_lossy().starts_with('.'))
}

/// A path named on the command line (or matched by a glob).
fn given(path: &Path, source: &str, filter: &Filter, out: &mut Vec<Candidate>) {
    match fs::metadata(path) {
        Err(err) => out.push(problem(source, &format!("cannot be read: {err}"))),
        Ok(meta) if meta.is_dir() => walk(path, Path::new(""), filter, out),
        Ok(meta) if meta.is_file() => {
            if !filter.is_state_db(path) {
                out.push(Candidate::File {
                    source: source.to_string(),
                    path: path.to_path_buf(),
                    relative: relative_text(path.file_name().map(Path::new).unwrap_or(path)),
                });
            }
        }
        Ok(_) => out.push(problem(
            source,
            "not a regular file (a pipe, socket or device)",
        )),
    }
}

fn walk(root: &Path, relative: &Path, filter: &Filter, out: &mut Vec<Candidate>) {
    let folder = root.join(relative);
    let mut names: Vec<_> = match fs::read_dir(&folder) {
        Ok(entries) => entries
            .filter_map(|e| e.ok())
            .map(|e| e.file_name())
            .collect(),
        Err(err) => {
            out.push(problem(
                &folder.to_string_lossy(),
                &format!("folder cannot be read: {err}"),
            ));
            return;
        }
    };
    names.sort();
    for name in names {
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let rel = relative.join(&name);
        let path = root.join(&rel);
        let source = path.to_string_lossy().into_owned();
        let Ok(link_meta) = fs::symlink_metadata(&path) else {
            continue;
        };
        match fs::metadata(&path) {
            Err(err) => {
                if filter.keeps(&rel) {
                    out.push(problem(&source, &format!("cannot be read: {err}")));
                }
            }
            Ok(meta) if meta.is_dir() => {
                if !link_meta.file_type().is_symlink() {
                    walk(root, &rel, filter, out);
                }
            }
            Ok(meta) if meta.is_file() => {
                if filter.keeps(&rel) && !filter.is_state_db(&path) {
                    let relative = relative_text(&rel);
                    out.push(Candidate::File {
                        source,
                        path,
                        relative,
                    });
                }
            }
            Ok(_) => {
                if filter.keeps(&rel) {
                    out.push(problem(
                        &source,
                        "not a regular file (a pipe, socket or device)",
                    ));
                }
            }
        }
    }
}
