//! The token that guards a server bound off loopback (or any server given `--token`).
//!
//! A request carries it as `Authorization: Bearer TOKEN`, as the `rssd_token` cookie, or as
//! `?token=TOKEN` once: that link sets the cookie and redirects to the same page without
//! the token in its address. Comparisons take the same time whatever the bytes.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use super::App;
use super::failure::Failure;

/// The cookie a `?token=` link sets.
pub const COOKIE: &str = "rssd_token";

/// A new random token: 160 random bits as hex.
pub fn generate() -> String {
    let a = ulid::Ulid::generate().random();
    let b = ulid::Ulid::generate().random();
    format!("{a:020x}{b:020x}")
}

/// Equal tokens, compared in constant time for equal lengths.
pub fn same(given: &str, expected: &str) -> bool {
    bool::from(given.as_bytes().ct_eq(expected.as_bytes()))
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

fn cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value)
}

/// The query string without its `token` parameter.
fn query_without_token(query: &str) -> (Option<String>, String) {
    let mut token = None;
    let mut rest = form_urlencoded::Serializer::new(String::new());
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        if name == "token" {
            token.get_or_insert_with(|| value.into_owned());
        } else {
            rest.append_pair(&name, &value);
        }
    }
    (token, rest.finish())
}

/// Lets a request through when the server has no token or the request carries it.
pub async fn require_token(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let Some(expected) = app.token.as_deref() else {
        return next.run(request).await;
    };
    let headers = request.headers();
    if bearer(headers).is_some_and(|given| same(given, expected))
        || cookie(headers).is_some_and(|given| same(given, expected))
    {
        return next.run(request).await;
    }
    let query = request.uri().query().unwrap_or("");
    let (given, rest) = query_without_token(query);
    if given.is_some_and(|given| same(&given, expected)) {
        let path = request.uri().path();
        let location = if rest.is_empty() {
            path.to_string()
        } else {
            format!("{path}?{rest}")
        };
        let cookie = format!("{COOKIE}={expected}; HttpOnly; SameSite=Strict; Path=/");
        let mut response = StatusCode::SEE_OTHER.into_response();
        let headers = response.headers_mut();
        if let (Ok(location), Ok(cookie)) = (
            HeaderValue::from_str(&location),
            HeaderValue::from_str(&cookie),
        ) {
            headers.insert(header::LOCATION, location);
            headers.insert(header::SET_COOKIE, cookie);
            return response;
        }
    }
    Failure::unauthorized().into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_by_value_and_generated_ones_differ() {
        assert!(same("abc", "abc"));
        assert!(!same("abd", "abc"));
        assert!(!same("ab", "abc"));
        assert!(!same("", "abc"));
        let (a, b) = (generate(), generate());
        assert_eq!(a.len(), 40);
        assert_ne!(a, b);
    }

    #[test]
    fn the_token_parameter_is_taken_out_of_the_address() {
        let (token, rest) = query_without_token("a=1&token=t%20x&b=%3C");
        assert_eq!(token.as_deref(), Some("t x"));
        assert_eq!(rest, "a=1&b=%3C");
    }
}
