//! Where scripts come from: standard input, files, globs (expanded alphabetically), `--cmd`
//! text, and `https://` URLs (refused unless remote scripts are allowed).
//!
//! Every name is checked before a session begins, so a mistyped path or a refused URL stops
//! the run with a clear message and nothing written. A file that exists but cannot be read as
//! text becomes a failed entry of the session instead.

use std::io::{IsTerminal, Read};
use std::path::Path;

use crate::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    Stdin,
    File,
    Url,
    Command,
}

/// One script: its name as recorded in `ingest_src`, and its text or why it has none.
#[derive(Debug, Clone)]
pub struct ScriptSource {
    pub src: String,
    pub kind: SourceKind,
    pub text: std::result::Result<String, String>,
}

impl ScriptSource {
    pub fn command(sql: &str) -> ScriptSource {
        ScriptSource {
            src: "--cmd".to_string(),
            kind: SourceKind::Command,
            text: Ok(sql.to_string()),
        }
    }
}

/// The script on standard input, when standard input is not a terminal and holds any text.
pub fn from_stdin() -> Option<ScriptSource> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return None;
    }
    let mut bytes = Vec::new();
    // A closed or unreadable standard input simply holds no script.
    if stdin.lock().read_to_end(&mut bytes).is_err() || bytes.iter().all(u8::is_ascii_whitespace) {
        return None;
    }
    Some(ScriptSource {
        src: "-".to_string(),
        kind: SourceKind::Stdin,
        text: decode(bytes),
    })
}

fn decode(bytes: Vec<u8>) -> std::result::Result<String, String> {
    let bytes = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => rest.to_vec(),
        None => bytes,
    };
    String::from_utf8(bytes).map_err(|err| {
        format!(
            "not UTF-8 text (invalid byte at offset {})",
            err.utf8_error().valid_up_to()
        )
    })
}

fn is_remote(spec: &str) -> bool {
    let lower = spec.to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://")
}

fn is_glob(spec: &str) -> bool {
    spec.contains(['*', '?', '['])
}

/// Turns each `-s` argument into scripts, in the order given; a glob adds its matches in
/// alphabetical order.
pub fn resolve(specs: &[String], allow_remote: bool) -> Result<Vec<ScriptSource>> {
    let mut sources = Vec::new();
    for spec in specs {
        if is_remote(spec) {
            if !allow_remote {
                return Err(Error::Invalid(format!(
                    "refusing to run remote script {spec}: pass --allow-remote to run scripts from the network"
                )));
            }
            return Err(Error::Invalid(format!(
                "cannot run remote script {spec}: this build of rssd does not fetch URLs; download it and pass the file"
            )));
        }
        if is_glob(spec) {
            let pattern = glob::glob(spec)
                .map_err(|err| Error::Invalid(format!("bad glob pattern {spec}: {err}")))?;
            let mut matches: Vec<_> = pattern
                .filter_map(std::result::Result::ok)
                .filter(|path| path.is_file())
                .collect();
            if matches.is_empty() {
                return Err(Error::Invalid(format!("no script file matches {spec}")));
            }
            matches.sort();
            for path in matches {
                sources.push(read_file(&path));
            }
            continue;
        }
        let path = Path::new(spec);
        if !path.is_file() {
            return Err(Error::Invalid(format!(
                "script {spec}: {}",
                if path.exists() {
                    "not a regular file"
                } else {
                    "no such file"
                }
            )));
        }
        sources.push(read_file(path));
    }
    Ok(sources)
}

fn read_file(path: &Path) -> ScriptSource {
    ScriptSource {
        src: path.display().to_string(),
        kind: SourceKind::File,
        text: std::fs::read(path)
            .map_err(|err| format!("cannot read: {err}"))
            .and_then(decode),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_is_refused_without_permission() {
        let err = resolve(&["https://example.org/x.sql".to_string()], false).unwrap_err();
        assert!(err.to_string().contains("--allow-remote"), "{err}");
    }

    #[test]
    fn globs_expand_alphabetically_and_bad_bytes_are_kept_as_a_reason() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["b.sql", "a.sql", "c.sql"] {
            std::fs::write(dir.path().join(name), "SELECT 1;").unwrap();
        }
        std::fs::write(dir.path().join("a.sql"), b"SELECT '\xff';").unwrap();
        let spec = format!("{}/*.sql", dir.path().display());
        let sources = resolve(&[spec], false).unwrap();
        let names: Vec<_> = sources
            .iter()
            .map(|s| Path::new(&s.src).file_name().unwrap().to_owned())
            .collect();
        assert_eq!(names, ["a.sql", "b.sql", "c.sql"]);
        assert!(sources[0].text.as_ref().unwrap_err().contains("UTF-8"));
        assert_eq!(sources[1].text.as_deref(), Ok("SELECT 1;"));
    }

    #[test]
    fn missing_files_and_empty_globs_are_refused() {
        assert!(resolve(&["/nonexistent/x.sql".to_string()], false).is_err());
        assert!(resolve(&["/nonexistent/*.sql".to_string()], false).is_err());
    }
}
