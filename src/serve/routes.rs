//! The routes: each page and its `/api/...` twin load the same value; pages render it.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::middleware::{from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use rusqlite::Connection;
use serde::Serialize;

use super::failure::Failure;
use super::pages::{self, layout};
use super::params::Params;
use super::{App, api_errors, auth, downloads, html, security_headers};
use crate::report::ReportFormat;

type Reply = Result<Response, Failure>;
/// The policy the HTML report states in its own meta tag (src/report/html.rs).
const REPORT_CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'";
type AppState = State<Arc<App>>;

pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(sessions_page))
        .route("/sessions", get(sessions_page))
        .route("/api/sessions", get(sessions_api))
        .route("/sessions/{id}", get(session_page))
        .route("/api/sessions/{id}", get(session_api))
        .route("/sessions/{id}/report.html", get(report_html))
        .route("/sessions/{id}/report.md", get(report_md))
        .route("/sessions/{id}/report.json", get(report_json))
        .route("/sessions/{id}/issues", get(issues_page))
        .route("/api/sessions/{id}/issues", get(issues_api))
        .route("/sessions/{id}/issues.csv", get(downloads::issues_csv))
        .route("/sessions/{id}/issues.json", get(downloads::issues_json))
        .route("/entries/{id}", get(entry_page))
        .route("/api/entries/{id}", get(entry_api))
        .route("/tables", get(tables_page))
        .route("/api/tables", get(tables_api))
        .route("/tables/{name}", get(table_page))
        .route("/api/tables/{name}", get(table_api))
        .route("/api/tables/{name}/rows", get(table_api))
        .route("/tables/{name}/rows.csv", get(downloads::rows_csv))
        .route("/tables/{name}/rows.json", get(downloads::rows_json))
        .route("/query", get(query_page))
        .route("/api/query", get(query_api))
        .route("/static/style.css", get(style))
        .route("/static/live.js", get(live_script))
        .fallback(not_found)
        .layer(from_fn_with_state(Arc::clone(&app), auth::require_token))
        .layer(from_fn(api_errors))
        .layer(from_fn(security_headers))
        .with_state(app)
}

/// Runs `work` on a read-only connection within the time limit.
pub(crate) async fn read<T, F>(app: &Arc<App>, work: F) -> Result<T, Failure>
where
    T: Send + 'static,
    F: FnOnce(&mut Connection, &App) -> Result<T, Failure> + Send + 'static,
{
    let shared = Arc::clone(app);
    app.db
        .read(app.options.time_limit, move |conn| work(conn, &shared))
        .await
}

fn json<T: Serialize>(value: &T) -> Response {
    axum::Json(value).into_response()
}

async fn not_found(uri: Uri) -> Failure {
    Failure::not_found(format!("nothing at {}", uri.path()))
}

async fn sessions_page(State(app): AppState, RawQuery(q): RawQuery) -> Reply {
    let filter = pages::sessions::SessionFilter::parse(&Params::parse(q.as_deref()))?;
    let shown = filter.clone();
    let list = read(&app, move |conn, app| {
        pages::sessions::load(conn, app, &filter)
    })
    .await?;
    Ok(html(pages::sessions::render(&list, &shown)).into_response())
}

async fn sessions_api(State(app): AppState, RawQuery(q): RawQuery) -> Reply {
    let filter = pages::sessions::SessionFilter::parse(&Params::parse(q.as_deref()))?;
    let list = read(&app, move |conn, app| {
        pages::sessions::load(conn, app, &filter)
    })
    .await?;
    Ok(json(&list))
}

async fn session_page(
    State(app): AppState,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Reply {
    Params::parse(q.as_deref()).only(&[])?;
    let page = read(&app, move |conn, _| pages::session::load(conn, &id)).await?;
    Ok(html(pages::session::render(&page)).into_response())
}

async fn session_api(State(app): AppState, Path(id): Path<String>, RawQuery(q): RawQuery) -> Reply {
    Params::parse(q.as_deref()).only(&[])?;
    let page = read(&app, move |conn, _| pages::session::load(conn, &id)).await?;
    Ok(json(&page))
}

async fn report(app: Arc<App>, id: String, format: ReportFormat) -> Reply {
    let bytes = read(&app, move |conn, _| {
        let session_id = crate::state::query::resolve_session(conn, &id)?;
        let mut out = Vec::new();
        crate::report::write_report(conn, &session_id, format, &mut out)?;
        Ok(out)
    })
    .await?;
    let content_type = match format {
        ReportFormat::Html => "text/html; charset=utf-8",
        ReportFormat::Md => "text/markdown; charset=utf-8",
        ReportFormat::Json => "application/json",
    };
    let mut response = (StatusCode::OK, bytes).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if format == ReportFormat::Html {
        // The report's own policy (its meta tag): inline style and script, nothing else.
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(REPORT_CSP),
        );
    }
    Ok(response)
}

async fn report_html(State(app): AppState, Path(id): Path<String>) -> Reply {
    report(app, id, ReportFormat::Html).await
}

async fn report_md(State(app): AppState, Path(id): Path<String>) -> Reply {
    report(app, id, ReportFormat::Md).await
}

async fn report_json(State(app): AppState, Path(id): Path<String>) -> Reply {
    report(app, id, ReportFormat::Json).await
}

async fn issues_page(
    State(app): AppState,
    Path(id): Path<String>,
    uri: Uri,
    RawQuery(q): RawQuery,
) -> Reply {
    let params = Params::parse(q.as_deref());
    let path = uri.path().to_string();
    let page = read(&app, move |conn, _| {
        pages::issues::load(conn, &id, &params, &path)
    })
    .await?;
    Ok(html(pages::issues::render(&page)).into_response())
}

async fn issues_api(
    State(app): AppState,
    Path(id): Path<String>,
    uri: Uri,
    RawQuery(q): RawQuery,
) -> Reply {
    let params = Params::parse(q.as_deref());
    let path = uri.path().to_string();
    let page = read(&app, move |conn, _| {
        pages::issues::load(conn, &id, &params, &path)
    })
    .await?;
    Ok(json(&page))
}

async fn entry_page(State(app): AppState, Path(id): Path<String>) -> Reply {
    let page = read(&app, move |conn, _| pages::entry::load(conn, &id)).await?;
    Ok(html(pages::entry::render(&page)).into_response())
}

async fn entry_api(State(app): AppState, Path(id): Path<String>) -> Reply {
    let page = read(&app, move |conn, _| pages::entry::load(conn, &id)).await?;
    Ok(json(&page))
}

async fn table_list(app: &Arc<App>) -> Result<Vec<pages::table::TableListing>, Failure> {
    read(app, |conn, _| {
        Ok(super::tables::list_tables(conn)?
            .into_iter()
            .map(|(name, orchestration)| pages::table::TableListing {
                name,
                orchestration,
            })
            .collect())
    })
    .await
}

async fn tables_page(State(app): AppState) -> Reply {
    Ok(html(pages::table::render_list(&table_list(&app).await?)).into_response())
}

async fn tables_api(State(app): AppState) -> Reply {
    Ok(json(&table_list(&app).await?))
}

/// The filter form's `_filter_column`, `_filter_op`, `_filter_value` as the page's own
/// `COL=value` parameter: a redirect to the address that says it.
fn filter_form_redirect(path: &str, params: &Params) -> Option<Response> {
    let column = params.get("_filter_column")?;
    let value = params.get("_filter_value").unwrap_or("");
    let (name, value) = match params.get("_filter_op").unwrap_or("exact") {
        "contains" => (format!("{column}__contains"), value),
        "isnull" => (format!("{column}__isnull"), "1"),
        "notnull" => (format!("{column}__isnull"), "0"),
        _ => (format!("{column}__exact"), value),
    };
    let mut kept: Vec<(String, String)> = params
        .0
        .iter()
        .filter(|(n, _)| !n.starts_with("_filter_") && n != "after")
        .cloned()
        .collect();
    kept.push((name, value.to_string()));
    let query = Params(kept).with("", None);
    Some(Redirect::to(&layout::href(path, &query)).into_response())
}

async fn table_page(
    State(app): AppState,
    Path(name): Path<String>,
    uri: Uri,
    RawQuery(q): RawQuery,
) -> Reply {
    let params = Params::parse(q.as_deref());
    let path = uri.path().to_string();
    if let Some(redirect) = filter_form_redirect(&path, &params) {
        return Ok(redirect);
    }
    let page = read(&app, move |conn, app| {
        pages::table::load(conn, app, &name, &params, &path)
    })
    .await?;
    Ok(html(pages::table::render(&page)).into_response())
}

async fn table_api(
    State(app): AppState,
    Path(name): Path<String>,
    uri: Uri,
    RawQuery(q): RawQuery,
) -> Reply {
    let params = Params::parse(q.as_deref());
    let path = uri.path().to_string();
    let page = read(&app, move |conn, app| {
        pages::table::load(conn, app, &name, &params, &path)
    })
    .await?;
    Ok(json(&page))
}

async fn run_query(
    app: &Arc<App>,
    q: Option<String>,
) -> Result<Option<super::query::QueryResult>, Failure> {
    let params = Params::parse(q.as_deref());
    params.only(&["sql"])?;
    let Some(sql) = params.get("sql").map(String::from) else {
        return Ok(None);
    };
    read(app, move |conn, app| {
        super::query::run(conn, &sql, app.options.max_rows)
    })
    .await
    .map(Some)
}

async fn query_page(State(app): AppState, RawQuery(q): RawQuery) -> Reply {
    let sql = Params::parse(q.as_deref())
        .get("sql")
        .unwrap_or("")
        .to_string();
    match run_query(&app, q).await {
        Ok(result) => Ok(html(pages::query::render(&sql, result.as_ref(), None)).into_response()),
        Err(failure) if failure.status.is_client_error() => {
            let page = pages::query::render(&sql, None, Some(&failure.reason));
            let mut response = (failure.status, html(page)).into_response();
            response
                .extensions_mut()
                .insert(super::failure::FailureReason(failure.reason));
            Ok(response)
        }
        Err(failure) => Err(failure),
    }
}

async fn query_api(State(app): AppState, RawQuery(q): RawQuery) -> Reply {
    let result = run_query(&app, q)
        .await?
        .ok_or_else(|| Failure::bad("sql: missing (/api/query?sql=SELECT ...)"))?;
    let mut body = String::from("[");
    for (n, row) in result.rows.iter().enumerate() {
        body.push_str(if n == 0 { "\n" } else { ",\n" });
        body.push_str(&downloads::json_object(&result.columns, row));
    }
    body.push_str("\n]\n");
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

async fn style() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("assets/style.css"),
    )
        .into_response()
}

async fn live_script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("assets/live.js"),
    )
        .into_response()
}
