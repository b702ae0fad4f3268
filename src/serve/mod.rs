//! `rssd serve`: the RSSD as a local web application, read-only.
//!
//! Sessions, entries, issues and every table, browsable as HTML pages and as the same data
//! in JSON under `/api/...`. Built on axum (tokio's own HTTP framework, the most used one in
//! Rust) with maud templates, which escape every value unless told otherwise.
//!
//! ```no_run
//! let options = rssd::serve::ServeOptions::default();
//! let server = rssd::serve::Server::bind("resource-surveillance.sqlite.db".as_ref(), options)?;
//! println!("{}", server.url());
//! server.run()?;
//! # Ok::<(), rssd::Error>(())
//! ```

mod auth;
mod cells;
mod db;
mod downloads;
mod failure;
mod issues;
pub mod pages;
mod params;
mod query;
mod routes;
mod tables;

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};

pub use failure::Failure;

use crate::{Error, Result};

/// The address `rssd serve` binds when none is given.
pub const DEFAULT_BIND: &str = "127.0.0.1:8734";

/// As strict as the HTML report's: nothing but the app's own style sheet and script.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; \
     script-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; \
     base-uri 'none'; frame-ancestors 'none'";

/// How to serve.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub bind: SocketAddr,
    /// Required of every request when set. Binding off loopback without one generates one.
    pub token: Option<String>,
    /// Longest a page's or the SQL box's queries may run.
    pub time_limit: Duration,
    /// Rows the SQL box returns at most.
    pub max_rows: usize,
    /// Rows a facet counts at most (the first ones matching the filters).
    pub facet_rows: usize,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            bind: SocketAddr::from(([127, 0, 0, 1], 8734)),
            token: None,
            time_limit: Duration::from_millis(5000),
            max_rows: 1000,
            facet_rows: 20_000,
        }
    }
}

/// What every request handler shares.
pub struct App {
    pub(crate) db: Arc<db::Pool>,
    pub(crate) token: Option<String>,
    pub(crate) options: ServeOptions,
    pub(crate) cells: Mutex<cells::CellIndex>,
    pub(crate) sessions:
        Mutex<std::collections::HashMap<String, crate::state::query::SessionSummary>>,
}

/// A bound server, not yet answering.
pub struct Server {
    listener: TcpListener,
    app: Arc<App>,
}

impl Server {
    /// Opens the database read-only and binds the address. Off loopback a token is
    /// required: the one given, or a new random one.
    pub fn bind(db_path: &Path, options: ServeOptions) -> Result<Server> {
        let db = db::Pool::open(db_path)?;
        let token = token_for(&options)?;
        let listener = TcpListener::bind(options.bind)
            .map_err(|err| Error::Invalid(format!("cannot bind {}: {err}", options.bind)))?;
        listener.set_nonblocking(true)?;
        let app = Arc::new(App {
            db,
            token,
            options,
            cells: Mutex::new(cells::CellIndex::default()),
            sessions: Mutex::new(Default::default()),
        });
        Ok(Server { listener, app })
    }

    /// The address actually bound (port 0 becomes a real port).
    pub fn local_addr(&self) -> Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    /// The token requests need, if any.
    pub fn token(&self) -> Option<&str> {
        self.app.token.as_deref()
    }

    /// The address to open: with `?token=` when the server has one.
    pub fn url(&self) -> String {
        let addr = self
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_else(|_| self.app.options.bind.to_string());
        match self.token() {
            Some(token) => format!("http://{addr}/?token={token}"),
            None => format!("http://{addr}/"),
        }
    }

    /// Answers requests until the process is interrupted (Ctrl-C, SIGTERM).
    pub fn run(self) -> Result<()> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .max_blocking_threads(32)
            .enable_all()
            .build()?;
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(self.listener)?;
            let router = routes::router(self.app);
            axum::serve(listener, router)
                .with_graceful_shutdown(interrupted())
                .await?;
            Ok(())
        })
    }
}

/// The token requests need: the one given, none on loopback, else a new random one.
fn token_for(options: &ServeOptions) -> Result<Option<String>> {
    match (&options.token, options.bind.ip().is_loopback()) {
        (Some(token), _) if token.trim().is_empty() => {
            Err(Error::Invalid("--token is empty".to_string()))
        }
        (Some(token), _) => Ok(Some(token.clone())),
        (None, true) => Ok(None),
        (None, false) => Ok(Some(auth::generate())),
    }
}

/// Binds and serves until interrupted.
pub fn serve(db_path: &Path, options: ServeOptions) -> Result<()> {
    Server::bind(db_path, options)?.run()
}

async fn interrupted() {
    while !crate::interrupt::requested() {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A page as an HTML response.
pub(crate) fn html(markup: maud::Markup) -> Html<String> {
    Html(markup.into_string())
}

/// Headers on every response: the CSP, no sniffing, no referrer, no caching of data.
async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers
        .entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

/// Failures of `/api/...` routes as `{"error": reason, "status": code}`.
async fn api_errors(request: Request, next: Next) -> Response {
    let is_api = request.uri().path().starts_with("/api/");
    let response = next.run(request).await;
    if !is_api {
        return response;
    }
    match response.extensions().get::<failure::FailureReason>() {
        Some(reason) => {
            let status = response.status();
            let body = serde_json::json!({"error": reason.0, "status": status.as_u16()});
            (status, axum::Json(body)).into_response()
        }
        None => response,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_loopback_a_token_is_required_and_made_when_missing() {
        let at = |addr: &str, token: Option<&str>| ServeOptions {
            bind: addr.parse().unwrap(),
            token: token.map(String::from),
            ..ServeOptions::default()
        };
        assert_eq!(token_for(&at("127.0.0.1:1", None)).unwrap(), None);
        assert_eq!(token_for(&at("127.8.9.1:1", None)).unwrap(), None);
        assert_eq!(token_for(&at("[::1]:1", None)).unwrap(), None);
        let made = token_for(&at("0.0.0.0:1", None)).unwrap().unwrap();
        assert_eq!(made.len(), 40);
        let other = token_for(&at("192.0.2.1:1", None)).unwrap().unwrap();
        assert_ne!(made, other);
        assert_eq!(
            token_for(&at("0.0.0.0:1", Some("given")))
                .unwrap()
                .as_deref(),
            Some("given")
        );
        assert_eq!(
            token_for(&at("127.0.0.1:1", Some("given")))
                .unwrap()
                .as_deref(),
            Some("given")
        );
        assert!(token_for(&at("127.0.0.1:1", Some("  "))).is_err());
    }
}
