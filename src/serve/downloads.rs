//! Downloads of every filtered issue or row as CSV or JSON, streamed: a blocking task reads
//! the rows and sends chunks as they fill, so memory stays flat whatever the count, and a
//! client that goes away stops the reading.

use std::io::Write;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use tokio::sync::mpsc;

use super::App;
use super::failure::Failure;
use super::issues::IssueQuery;
use super::params::Params;
use super::tables::{RowQuery, as_params, json_value, rows_sql, table_info};
use crate::state::issue_list::{IssueRow, for_each_issue};
use crate::state::query::resolve_session;

const CHUNK: usize = 64 * 1024;

/// Sends what is written as body chunks; fails once the client is gone.
struct ChannelWriter {
    buffer: Vec<u8>,
    sender: mpsc::Sender<Result<Bytes, std::io::Error>>,
}

impl ChannelWriter {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::take(&mut self.buffer));
        self.sender
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "client went away"))
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() >= CHUNK {
            self.send()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

/// A streamed response whose body `produce` writes on a blocking thread. Problems found
/// before the first byte (bad parameters, unknown names) come back as a normal failure.
async fn stream<F>(
    app: &Arc<App>,
    content_type: &'static str,
    file_name: String,
    produce: F,
) -> Result<Response, Failure>
where
    F: FnOnce(&rusqlite::Connection, &mut dyn FnMut() -> ChannelWriter) -> Result<(), Failure>
        + Send
        + 'static,
{
    let (sender, receiver) = mpsc::channel::<Result<Bytes, std::io::Error>>(8);
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel::<Result<(), Failure>>();
    let pool = Arc::clone(&app.db);
    tokio::task::spawn_blocking(move || {
        let conn = match pool.read_unbounded() {
            Ok(conn) => conn,
            Err(err) => {
                let _ = ready_tx.send(Err(Failure::from(err)));
                return;
            }
        };
        let mut ready_tx = Some(ready_tx);
        let mut start = || {
            if let Some(tx) = ready_tx.take() {
                let _ = tx.send(Ok(()));
            }
            ChannelWriter {
                buffer: Vec::with_capacity(CHUNK),
                sender: sender.clone(),
            }
        };
        let outcome = produce(&conn, &mut start);
        if let Err(failure) = outcome {
            match ready_tx {
                Some(tx) => {
                    let _ = tx.send(Err(failure));
                }
                None => {
                    let _ = sender.blocking_send(Err(std::io::Error::other(failure.reason)));
                }
            }
        }
    });
    ready_rx
        .await
        .map_err(|_| Failure::internal("the download task ended early"))??;
    let body = Body::from_stream(futures_util::stream::unfold(
        receiver,
        |mut rx| async move { rx.recv().await.map(|chunk| (chunk, rx)) },
    ));
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    let disposition = format!(
        "attachment; filename=\"{}\"",
        file_name.replace(['"', '\\', '\r', '\n'], "_")
    );
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

fn io(err: std::io::Error) -> Failure {
    Failure::bad(format!("download stopped: {err}"))
}

/// One JSON object with the keys in column order.
pub fn json_object(columns: &[String], values: &[serde_json::Value]) -> String {
    let mut out = String::from("{");
    for (i, (column, value)) in columns.iter().zip(values).enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(&serde_json::Value::from(column.as_str()).to_string());
        out.push_str(": ");
        out.push_str(&value.to_string());
    }
    out.push('}');
    out
}

const ISSUE_HEADER: [&str; 12] = [
    "issue_id",
    "entry_id",
    "source",
    "table",
    "issue_type",
    "code",
    "severity",
    "message",
    "row",
    "column",
    "invalid_value",
    "remediation",
];

fn issue_cells(i: IssueRow) -> [Option<String>; 12] {
    [
        Some(i.issue_id),
        i.entry_id,
        i.source,
        i.table,
        Some(i.issue_type),
        i.code,
        Some(i.severity),
        Some(i.message),
        i.row,
        i.column,
        i.invalid_value,
        i.remediation,
    ]
}

async fn issues(
    app: Arc<App>,
    id: String,
    q: Option<String>,
    csv: bool,
) -> Result<Response, Failure> {
    let query = IssueQuery::parse(&Params::parse(q.as_deref()))?;
    let (content_type, extension) = if csv {
        ("text/csv; charset=utf-8", "csv")
    } else {
        ("application/json", "json")
    };
    let file_name = format!("issues-{id}.{extension}");
    stream(&app, content_type, file_name, move |conn, start| {
        let session_id = resolve_session(conn, &id)?;
        let mut out = start();
        let column = query.column.clone();
        let keep = move |row: &IssueRow| column.is_none() || row.column == column;
        if csv {
            let mut writer = csv::Writer::from_writer(&mut out);
            writer
                .write_record(ISSUE_HEADER)
                .map_err(|e| io(e.into()))?;
            for_each_issue(conn, &session_id, &query.filter, |row| {
                if keep(&row) {
                    let cells = issue_cells(row);
                    writer
                        .write_record(cells.iter().map(|c| c.as_deref().unwrap_or("")))
                        .map_err(|e| crate::Error::Io(e.into()))?;
                }
                Ok(true)
            })?;
            writer.flush().map_err(io)?;
        } else {
            out.write_all(b"[").map_err(io)?;
            let mut first = true;
            for_each_issue(conn, &session_id, &query.filter, |row| {
                if keep(&row) {
                    out.write_all(if first { b"\n" } else { b",\n" })?;
                    first = false;
                    serde_json::to_writer(&mut out, &row)?;
                }
                Ok(true)
            })?;
            out.write_all(b"\n]\n").map_err(io)?;
        }
        out.flush().map_err(io)
    })
    .await
}

pub async fn issues_csv(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response, Failure> {
    issues(app, id, q, true).await
}

pub async fn issues_json(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response, Failure> {
    issues(app, id, q, false).await
}

async fn rows(
    app: Arc<App>,
    name: String,
    q: Option<String>,
    csv: bool,
) -> Result<Response, Failure> {
    let params = Params::parse(q.as_deref());
    let (content_type, extension) = if csv {
        ("text/csv; charset=utf-8", "csv")
    } else {
        ("application/json", "json")
    };
    let file_name = format!("{name}.{extension}");
    stream(&app, content_type, file_name, move |conn, start| {
        let info = table_info(conn, &name)?;
        let mut query = RowQuery::parse(&info, &params)?;
        query.after = None;
        let (sql, values) = rows_sql(conn, &info, &query, None)?;
        let mut stmt = conn.prepare(&sql)?;
        let mut rows = stmt.query(&as_params(&values)[..])?;
        let mut out = start();
        let width = info.columns.len();
        if csv {
            let mut writer = csv::Writer::from_writer(&mut out);
            writer
                .write_record(&info.columns)
                .map_err(|e| io(e.into()))?;
            while let Some(row) = rows.next()? {
                let mut record = Vec::with_capacity(width);
                for index in 1..=width {
                    record.push(match json_value(row.get(index)?) {
                        serde_json::Value::Null => String::new(),
                        serde_json::Value::String(text) => text,
                        other => other.to_string(),
                    });
                }
                writer.write_record(&record).map_err(|e| io(e.into()))?;
            }
            writer.flush().map_err(io)?;
        } else {
            out.write_all(b"[").map_err(io)?;
            let mut first = true;
            while let Some(row) = rows.next()? {
                let mut cells = Vec::with_capacity(width);
                for index in 1..=width {
                    cells.push(json_value(row.get(index)?));
                }
                out.write_all(if first { b"\n" } else { b",\n" })
                    .map_err(io)?;
                first = false;
                out.write_all(json_object(&info.columns, &cells).as_bytes())
                    .map_err(io)?;
            }
            out.write_all(b"\n]\n").map_err(io)?;
        }
        out.flush().map_err(io)
    })
    .await
}

pub async fn rows_csv(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response, Failure> {
    rows(app, name, q, true).await
}

pub async fn rows_json(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response, Failure> {
    rows(app, name, q, false).await
}
