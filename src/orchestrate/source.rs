//! Where scripts come from: standard input, files, globs (expanded alphabetically), `--cmd`
//! text, and `https://` URLs (refused unless remote scripts are allowed).
//!
//! Every name is checked before a session begins, so a mistyped path or a refused URL stops
//! the run with a clear message and nothing written. A file that exists but cannot be read as
//! text, or a URL that cannot be fetched, becomes a failed entry of the session instead.
//!
//! A remote script is only ever SQL text run like a local one: nothing fetched is executed as
//! a program. Plain `http://` is accepted only for loopback addresses, where nobody on the
//! network can alter the script on its way.

use std::io::{IsTerminal, Read};
use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

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

/// The largest remote script accepted.
pub const MAX_REMOTE_BYTES: u64 = 16 * 1024 * 1024;
/// How long fetching one remote script may take.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(30);

fn is_remote(spec: &str) -> bool {
    let lower = spec.to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://")
}

/// The host of an `http(s)://` URL, without user info, port or IPv6 brackets.
fn url_host(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit('@').next().unwrap_or("");
    match host_port.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host_port.split(':').next().unwrap_or(""),
    }
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Refuses a URL the options do not allow.
fn check_remote(url: &str, allow_remote: bool) -> Result<()> {
    if !allow_remote {
        return Err(Error::Invalid(format!(
            "refusing to run remote script {url}: pass --allow-remote to run scripts from the network"
        )));
    }
    if !url.to_ascii_lowercase().starts_with("https://") && !is_loopback(url_host(url)) {
        return Err(Error::Invalid(format!(
            "refusing to fetch {url} over plain http: use https (plain http is accepted only from a loopback address)"
        )));
    }
    Ok(())
}

/// Fetches a script: at most [`MAX_REMOTE_BYTES`], within [`FETCH_TIMEOUT`], https kept
/// https through redirects.
fn fetch(url: &str) -> std::result::Result<String, String> {
    let loopback = is_loopback(url_host(url));
    let mut config = ureq::Agent::config_builder()
        .timeout_global(Some(FETCH_TIMEOUT))
        .max_redirects(5)
        .https_only(!loopback);
    if loopback {
        // A proxy from the environment must not see, or answer for, a local address.
        config = config.proxy(None);
    }
    let agent = ureq::Agent::new_with_config(config.build());
    let mut response = agent
        .get(url)
        .call()
        .map_err(|err| format!("cannot fetch: {err}"))?;
    let bytes = response
        .body_mut()
        .with_config()
        .limit(MAX_REMOTE_BYTES)
        .read_to_vec()
        .map_err(|err| format!("cannot fetch: {err}"))?;
    decode(bytes)
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
            check_remote(spec, allow_remote)?;
            sources.push(ScriptSource {
                src: spec.clone(),
                kind: SourceKind::Url,
                text: Ok(String::new()),
            });
            continue;
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
    // Fetched only once every name has passed its checks.
    for source in &mut sources {
        if source.kind == SourceKind::Url {
            source.text = fetch(&source.src);
        }
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
    fn plain_http_only_from_loopback() {
        assert!(check_remote("http://127.0.0.1:8080/x.sql", true).is_ok());
        assert!(check_remote("http://[::1]/x.sql", true).is_ok());
        assert!(check_remote("http://user@localhost:9/x.sql", true).is_ok());
        assert!(check_remote("https://example.org/x.sql", true).is_ok());
        let err = check_remote("http://example.org/x.sql", true).unwrap_err();
        assert!(err.to_string().contains("https"), "{err}");
        assert!(check_remote("http://127.0.0.1.example.org/x.sql", true).is_err());
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
