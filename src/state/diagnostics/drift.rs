//! "Changes since the last delivery": each loaded entry's `drift` elaboration (written by
//! `rssd::ingest::drift`) in the diagnostics, with before/now texts the reports print as is.

use rusqlite::Connection;
use serde::Serialize;
use serde_json::Value;

use super::{MAX_TEXT_CHARS, clip};
use crate::Result;

/// Changes listed per entry; the rest are counted.
pub const MAX_CHANGES_PER_ENTRY: usize = 50;

#[derive(Debug, Clone, Serialize)]
pub struct DeliveryChanges {
    /// `table` or `source`: how the previous delivery was found.
    pub key: Option<String>,
    pub first_delivery: bool,
    pub previous_entry_id: Option<String>,
    pub previous_session_id: Option<String>,
    pub previous_rows: Option<u64>,
    pub rows: Option<u64>,
    pub changes: Vec<DeliveryChange>,
    pub changes_not_listed: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct DeliveryChange {
    /// `column-added`, `column-removed`, `type-changed`, `column-order`, `null-rate`,
    /// `row-count-change`.
    pub code: String,
    pub column: Option<String>,
    pub before: Option<String>,
    pub now: Option<String>,
}

/// The drift of each entry of `session_id` that has one, by entry id.
pub(super) fn read(conn: &Connection, session_id: &str) -> Result<Vec<(String, DeliveryChanges)>> {
    let mut stmt = conn.prepare(
        "SELECT orchestration_session_entry_id, json_extract(elaboration, '$.drift')
         FROM orchestration_session_entry
         WHERE session_id = ?1 AND json_valid(elaboration)
           AND json_type(elaboration, '$.drift') = 'object'
         ORDER BY rowid",
    )?;
    let rows = stmt.query_map([session_id], |row| {
        Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (entry, text) = row?;
        if let Ok(drift) = serde_json::from_str::<Value>(&text) {
            out.push((entry, changes_of(&drift)));
        }
    }
    Ok(out)
}

fn changes_of(drift: &Value) -> DeliveryChanges {
    let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_string);
    let previous = drift.get("previous").unwrap_or(&Value::Null);
    let all: Vec<&Value> = drift
        .get("changes")
        .and_then(Value::as_array)
        .map(|changes| changes.iter().collect())
        .unwrap_or_default();
    DeliveryChanges {
        key: text(drift, "key"),
        first_delivery: drift.get("first_delivery").and_then(Value::as_bool) == Some(true),
        previous_entry_id: text(previous, "entry_id"),
        previous_session_id: text(previous, "session_id"),
        previous_rows: previous.get("rows").and_then(Value::as_u64),
        rows: drift.get("rows").and_then(Value::as_u64),
        changes: all
            .iter()
            .take(MAX_CHANGES_PER_ENTRY)
            .map(|c| change_of(c))
            .collect(),
        changes_not_listed: all.len().saturating_sub(MAX_CHANGES_PER_ENTRY),
    }
}

fn change_of(change: &Value) -> DeliveryChange {
    let get = |key: &str| change.get(key).filter(|v| !v.is_null());
    let shown = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let typed = |type_key: &str, position_key: &str| match (get(type_key), get(position_key)) {
        (Some(t), Some(p)) => Some(format!("{}, position {}", shown(t), shown(p))),
        (Some(t), None) => Some(shown(t)),
        (None, Some(p)) => Some(format!("position {}", shown(p))),
        (None, None) => None,
    };
    let code = change.get("code").map(shown).unwrap_or_default();
    let (before, now) = match code.as_str() {
        "type-changed" => (get("previous_type").map(shown), get("type").map(shown)),
        "null-rate" => (
            get("previous_null_percent").map(|p| format!("{}% empty", shown(p))),
            get("null_percent").map(|p| format!("{}% empty", shown(p))),
        ),
        "row-count-change" => (
            get("previous_rows").map(|r| format!("{} rows", shown(r))),
            get("rows").map(|r| match get("change_percent").and_then(Value::as_f64) {
                Some(p) => format!("{} rows ({p:+}%)", shown(r)),
                None => format!("{} rows", shown(r)),
            }),
        ),
        _ => (
            typed("previous_type", "previous_position"),
            typed("type", "position"),
        ),
    };
    let clip_opt = |t: Option<String>| t.map(|t| clip(t, MAX_TEXT_CHARS));
    DeliveryChange {
        code: clip(code, MAX_TEXT_CHARS),
        column: clip_opt(
            change
                .get("column")
                .and_then(Value::as_str)
                .map(str::to_string),
        ),
        before: clip_opt(before),
        now: clip_opt(now),
    }
}
