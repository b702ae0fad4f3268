//! Connecting to PostgreSQL as libpq would: the URL, then `PGPASSWORD`, then `~/.pgpass`
//! (or `PGPASSFILE`) for the password, and TLS when `sslmode` asks for it or the server
//! offers it (`prefer`, the default).
//!
//! The `postgres` crate reads neither `PGPASSWORD` nor `.pgpass`, so the lookup is here. TLS
//! uses rustls (already in the build for ureq). As with libpq's `prefer` and `require`, the
//! connection is encrypted without checking the server's certificate; `verify-ca` and
//! `verify-full` are refused rather than silently weakened.

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use postgres::config::Host;
use postgres::{Client, Config};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

use crate::{Error, Result};

/// Connects to the server `url` names (`postgres://USER[:PASSWORD]@HOST[:PORT]/DB?...`).
pub fn connect(url: &str) -> Result<Client> {
    if url.contains("sslmode=verify") {
        return Err(Error::Invalid(
            "postgres: sslmode verify-ca/verify-full is not supported; use require".into(),
        ));
    }
    let mut config = Config::from_str(url)
        .map_err(|err| Error::Invalid(format!("postgres: bad connection URL: {err}")))?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(10));
    }
    if config.get_password().is_none()
        && let Some(password) = find_password(&config)
    {
        config.password(password);
    }
    let tls = tokio_postgres_rustls::MakeRustlsConnect::new(tls_config()?);
    let client = config.connect(tls).map_err(|err| {
        let target = describe_target(&config);
        Error::Invalid(format!(
            "postgres: cannot connect to {target}: {}",
            one_line(&err)
        ))
    })?;
    Ok(client)
}

/// A `postgres::Error` on one line, with the server's message when there is one.
pub fn one_line(err: &postgres::Error) -> String {
    let text = match err.as_db_error() {
        Some(db) => format!("{}: {}", db.severity(), db.message()),
        None => match std::error::Error::source(err) {
            Some(source) => format!("{err}: {source}"),
            None => err.to_string(),
        },
    };
    text.replace(['\r', '\n'], " ")
}

fn describe_target(config: &Config) -> String {
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(host)) => host.clone(),
        Some(Host::Unix(path)) => path.display().to_string(),
        None => "localhost".to_string(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!("{host}:{port}")
}

fn tls_config() -> Result<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|err| Error::Invalid(format!("postgres: TLS setup: {err}")))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(EncryptOnly))
        .with_no_client_auth();
    Ok(config)
}

/// libpq's `sslmode=require`: encryption, the certificate not checked against a CA.
#[derive(Debug)]
struct EncryptOnly;

impl ServerCertVerifier for EncryptOnly {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = rustls::crypto::ring::default_provider().signature_verification_algorithms;
        rustls::crypto::verify_tls12_signature(message, cert, dss, &algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = rustls::crypto::ring::default_provider().signature_verification_algorithms;
        rustls::crypto::verify_tls13_signature(message, cert, dss, &algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        rustls::crypto::ring::default_provider()
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// The password for `config`'s user, host, port and database: `PGPASSWORD`, then the
/// password file.
fn find_password(config: &Config) -> Option<String> {
    if let Ok(password) = std::env::var("PGPASSWORD") {
        return Some(password);
    }
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(host)) => host.clone(),
        // libpq matches a Unix-socket connection against `localhost`.
        Some(Host::Unix(_)) | None => "localhost".to_string(),
    };
    let port = config
        .get_ports()
        .first()
        .copied()
        .unwrap_or(5432)
        .to_string();
    let user = config.get_user().unwrap_or_default().to_string();
    let db = config.get_dbname().unwrap_or(&user).to_string();
    let file = pgpass_path()?;
    let text = read_private(&file)?;
    pgpass_lookup(&text, &host, &port, &db, &user)
}

fn pgpass_path() -> Option<PathBuf> {
    if let Some(file) = std::env::var_os("PGPASSFILE") {
        return Some(PathBuf::from(file));
    }
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".pgpass"))
}

/// The file's text, unless others may read it (libpq ignores such a file, and so do we).
fn read_private(file: &std::path::Path) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let metadata = std::fs::metadata(file).ok()?;
    if metadata.permissions().mode() & 0o077 != 0 {
        eprintln!(
            "rssd: warning: password file {} has group or world access; ignored (chmod 0600)",
            file.display()
        );
        return None;
    }
    std::fs::read_to_string(file).ok()
}

/// The password of the first `host:port:database:user:password` line that matches (`*`
/// matches anything; `\:` and `\\` are a colon and a backslash).
pub fn pgpass_lookup(text: &str, host: &str, port: &str, db: &str, user: &str) -> Option<String> {
    for line in text.lines() {
        if line.trim_start().starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let fields = split_pgpass(line);
        if fields.len() < 5 {
            continue;
        }
        let wanted = [host, port, db, user];
        if fields[..4]
            .iter()
            .zip(wanted)
            .all(|(f, w)| f == "*" || f == w)
        {
            return Some(fields[4..].join(":"));
        }
    }
    None
}

fn split_pgpass(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(ch) = chars.next() {
        match ch {
            '\\' => {
                if let (Some(next), Some(field)) = (chars.next(), fields.last_mut()) {
                    field.push(next);
                }
            }
            ':' if fields.len() < 5 => fields.push(String::new()),
            _ => {
                if let Some(field) = fields.last_mut() {
                    field.push(ch);
                }
            }
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pgpass_matches_wildcards_and_escapes() {
        let text = "# comment\nother:5432:db:u:no\n127.0.0.1:*:db:u:p\\:w\\\\d\n*:*:*:*:last";
        assert_eq!(
            pgpass_lookup(text, "127.0.0.1", "5433", "db", "u").as_deref(),
            Some("p:w\\d")
        );
        assert_eq!(
            pgpass_lookup(text, "h", "1", "x", "y").as_deref(),
            Some("last")
        );
        assert_eq!(pgpass_lookup("h:1:d:u:pw", "h", "1", "d", "v"), None);
    }
}
