//! The frame of every page: the style sheet, the navigation, breadcrumbs.

use maud::{DOCTYPE, Markup, html};

/// A full page.
pub fn page(title: &str, crumbs: &[(&str, String)], body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · rssd" }
                link rel="stylesheet" href="/static/style.css";
            }
            body {
                nav {
                    a.brand href="/" { "rssd" }
                    a href="/sessions" { "Sessions" }
                    a href="/tables" { "Tables" }
                    a href="/query" { "SQL" }
                }
                @if !crumbs.is_empty() {
                    p.crumbs {
                        @for (i, (label, href)) in crumbs.iter().enumerate() {
                            @if i > 0 { " › " }
                            a href=(href) { (label) }
                        }
                    }
                }
                main { (body) }
            }
        }
    }
}

/// The page of a failed request.
pub fn error_page(status: u16, title: &str, reason: &str) -> Markup {
    page(
        title,
        &[],
        html! {
            h1 { (status) " " (title) }
            p.reason { (reason) }
            p { a href="/" { "Back to the sessions" } }
        },
    )
}

/// A value that may be missing.
pub fn opt<T: std::fmt::Display>(value: &Option<T>) -> Markup {
    match value {
        Some(v) => html! { (v) },
        None => html! { span.none { "–" } },
    }
}

/// A CSS class for a state, from a fixed list (never from the data).
pub fn state_class(state: &str) -> &'static str {
    match state {
        "COMPLETED" | "INGESTED" | "VALIDATED" | "surveilr_orch_completed" => "ok",
        "FAILED" | "INVALID" | "ABANDONED" | "surveilr_orch_failed" => "bad",
        "INTERRUPTED" | "UNCHANGED" | "SKIPPED" => "warn",
        _ => "neutral",
    }
}

/// A link to `path` with the query string `query` (already encoded).
pub fn href(path: &str, query: &str) -> String {
    if query.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{query}")
    }
}

/// One path segment, percent-encoded (ids and table names may hold any character).
pub fn segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// `a=b&c=d`, encoded.
pub fn query(pairs: &[(&str, &str)]) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs {
        out.append_pair(name, value);
    }
    out.finish()
}
