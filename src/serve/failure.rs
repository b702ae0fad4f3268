//! Why a request failed, as the status code and one sentence for the person who sent it.
//!
//! Pages answer with an HTML page, `/api/...` routes with `{"error": ..., "status": ...}`
//! (see [`super::api_errors`]). Bad input is always a 4xx: a 500 means a fault of rssd.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::Error;

/// A failed request.
#[derive(Debug, Clone)]
pub struct Failure {
    pub status: StatusCode,
    pub reason: String,
}

impl Failure {
    pub fn bad(reason: impl Into<String>) -> Failure {
        Failure {
            status: StatusCode::BAD_REQUEST,
            reason: reason.into(),
        }
    }

    pub fn not_found(reason: impl Into<String>) -> Failure {
        Failure {
            status: StatusCode::NOT_FOUND,
            reason: reason.into(),
        }
    }

    pub fn unauthorized() -> Failure {
        Failure {
            status: StatusCode::UNAUTHORIZED,
            reason: "this server needs its token: open the link rssd serve printed, or send \
                     Authorization: Bearer TOKEN"
                .to_string(),
        }
    }

    pub fn internal(reason: impl Into<String>) -> Failure {
        Failure {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            reason: reason.into(),
        }
    }
}

/// The reason a failure carries through the response, for `/api` routes to answer in JSON.
#[derive(Debug, Clone)]
pub struct FailureReason(pub String);

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let title = self
            .status
            .canonical_reason()
            .unwrap_or("Error")
            .to_string();
        let body = super::pages::layout::error_page(self.status.as_u16(), &title, &self.reason);
        let mut response = (self.status, super::html(body)).into_response();
        response.extensions_mut().insert(FailureReason(self.reason));
        response
    }
}

impl From<Error> for Failure {
    fn from(err: Error) -> Failure {
        match err {
            Error::UnknownSession(id) => Failure::not_found(format!("no session {id}")),
            Error::Invalid(reason) => Failure::bad(reason),
            Error::Sqlite(sqlite) => Failure::from(sqlite),
            other => Failure::internal(format!("{other}")),
        }
    }
}

impl From<rusqlite::Error> for Failure {
    fn from(err: rusqlite::Error) -> Failure {
        use rusqlite::ErrorCode;
        match err.sqlite_error_code() {
            Some(ErrorCode::OperationInterrupted) => Failure::bad(
                "the query took longer than the server's time limit (--time-limit); \
                 narrow it with a filter",
            ),
            Some(ErrorCode::ReadOnly) | Some(ErrorCode::AuthorizationForStatementDenied) => {
                Failure::bad(format!("refused: this server only reads ({err})"))
            }
            Some(ErrorCode::TooBig) => Failure::bad(format!(
                "a value is larger than this server reads (32 MiB): {err}"
            )),
            Some(ErrorCode::DatabaseBusy) | Some(ErrorCode::DatabaseLocked) => Failure {
                status: StatusCode::SERVICE_UNAVAILABLE,
                reason: format!("the database is busy, try again ({err})"),
            },
            _ => Failure::internal(format!("database error: {err}")),
        }
    }
}
