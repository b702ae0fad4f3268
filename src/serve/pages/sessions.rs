//! `/` and `/sessions`: every session, newest first, filterable.

use maud::{Markup, html};
use rusqlite::Connection;

use super::layout::{opt, page, segment, state_class};
use crate::serve::App;
use crate::serve::failure::Failure;
use crate::serve::params::{Params, date};
use crate::state::issue_list::text_or_empty;
use crate::state::query::{SessionSummary, session_summary};

/// The filters of the sessions page.
#[derive(Debug, Clone, Default)]
pub struct SessionFilter {
    pub nature: Option<String>,
    pub state: Option<String>,
    /// Device name or id.
    pub device: Option<String>,
    /// Started on or after this day (`YYYY-MM-DD`).
    pub since: Option<String>,
    /// Started on or before this day.
    pub until: Option<String>,
}

impl SessionFilter {
    pub fn parse(params: &Params) -> Result<SessionFilter, Failure> {
        params.only(&["nature", "state", "device", "since", "until"])?;
        let owned = |name: &str| params.get(name).map(String::from);
        Ok(SessionFilter {
            nature: owned("nature"),
            state: owned("state"),
            device: owned("device"),
            since: date("since", params.get("since"))?,
            until: date("until", params.get("until"))?,
        })
    }

    fn keeps(&self, s: &SessionSummary) -> bool {
        let day = s.started_at.as_deref().map(|t| t.get(..10).unwrap_or(t));
        self.state
            .as_ref()
            .is_none_or(|state| s.state.eq_ignore_ascii_case(state))
            && self
                .device
                .as_ref()
                .is_none_or(|d| *d == s.device_id || s.device_name.as_ref() == Some(d))
            && self
                .since
                .as_ref()
                .is_none_or(|since| day.is_some_and(|day| day >= since.as_str()))
            && self
                .until
                .as_ref()
                .is_none_or(|until| day.is_some_and(|day| day <= until.as_str()))
    }
}

/// The sessions that pass `filter`, newest first. Summaries of finished sessions are kept
/// by the server: their counts scan the issue table, and they no longer change.
pub fn load(
    conn: &Connection,
    app: &App,
    filter: &SessionFilter,
) -> Result<Vec<SessionSummary>, Failure> {
    let mut stmt = conn.prepare(
        "SELECT orchestration_session_id FROM orchestration_session
         WHERE ?1 IS NULL OR orchestration_nature_id = ?1
         ORDER BY orch_started_at DESC, rowid DESC",
    )?;
    let ids = stmt
        .query_map([&filter.nature], |row| text_or_empty(row, 0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut out = Vec::new();
    for id in ids {
        let cached = app.sessions.lock().ok().and_then(|c| c.get(&id).cloned());
        let summary = match cached {
            Some(summary) => summary,
            None => {
                let summary = session_summary(conn, &id)?;
                if summary.finished_at.is_some()
                    && let Ok(mut cache) = app.sessions.lock()
                {
                    cache.insert(id, summary.clone());
                }
                summary
            }
        };
        if filter.keeps(&summary) {
            out.push(summary);
        }
    }
    Ok(out)
}

fn field(name: &str, label: &str, value: &Option<String>, kind: &str) -> Markup {
    html! {
        label { (label) " " input type=(kind) name=(name) value=[value.as_deref()]; }
    }
}

pub fn render(sessions: &[SessionSummary], filter: &SessionFilter) -> Markup {
    let body = html! {
        h1 { "Sessions" }
        form.filters method="get" action="/sessions" {
            (field("nature", "Nature", &filter.nature, "text"))
            (field("state", "State", &filter.state, "text"))
            (field("device", "Device", &filter.device, "text"))
            (field("since", "Since", &filter.since, "date"))
            (field("until", "Until", &filter.until, "date"))
            button type="submit" { "Filter" }
            " " a href="/sessions" { "clear" }
        }
        p.count { (sessions.len()) " sessions" }
        table.list {
            thead { tr {
                th { "Session" } th { "Nature" } th { "Device" } th { "Started" }
                th { "Duration (s)" } th { "State" } th { "Entries" } th { "Errors" } th { "Warnings" }
            } }
            tbody {
                @for s in sessions {
                    tr {
                        td { a href={ "/sessions/" (segment(&s.session_id)) } { (s.session_id) } }
                        td { (s.nature) }
                        td { (opt(&s.device_name)) }
                        td { (opt(&s.started_at)) }
                        td.num { (opt(&s.duration_s)) }
                        td { span class={ "state " (state_class(&s.state)) } { (s.state) } }
                        td.num { (s.entries) }
                        td.num { (s.issues_error) }
                        td.num { (s.issues_warning) }
                    }
                }
            }
        }
    };
    page("Sessions", &[], body)
}
