//! JSON: a top-level array of objects (or one object), or NDJSON / JSON Lines. Columns are the
//! keys in order of first appearance; strings stay as they are, numbers and booleans become
//! their JSON text, `null` and `""` are NULL, nested arrays and objects are stored as JSON text.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use csv::ByteRecord;
use serde::Deserialize;
use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::scan::{ScanOutcome, scan};
use super::source::{FileProblem, MemorySource, SliceSource, Table};
use crate::Result;
use crate::state::{Issue, IssueKind, Severity};

/// The table of a JSON file (pass 1 done), or why it has none.
pub fn prepare(path: &Path, base_name: &str) -> Result<Result<Table, FileProblem>> {
    let bytes = std::fs::read(path)?;
    let text = match std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes)) {
        Ok(text) => text,
        Err(err) => {
            return Ok(Err(FileProblem::new(
                IssueKind::EncodingError,
                format!("JSON must be UTF-8: {err}"),
                "save the file as UTF-8",
            )));
        }
    };
    let mut issues = Vec::new();
    let (rows, format): (Vec<Option<Item>>, &str) = match serde_json::from_str::<Item>(text) {
        Ok(Item::Array(items)) => (items.into_iter().map(Some).collect(), "json"),
        Ok(object @ Item::Object(_)) => (vec![Some(object)], "json"),
        Ok(_) | Err(_) => {
            let mut rows = Vec::new();
            for (line_index, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                match serde_json::from_str::<Item>(line) {
                    Ok(value) => rows.push(Some(value)),
                    Err(err) => {
                        rows.push(None);
                        issues.push(
                            Issue::new(
                                IssueKind::FormatMismatch,
                                format!(
                                    "line {} is not valid JSON ({err}); its row is NULL",
                                    line_index + 1
                                ),
                            )
                            .row(rows.len() as i64)
                            .invalid_value(line)
                            .remediation("write one JSON object per line")
                            .with("line", line_index + 1),
                        );
                    }
                }
            }
            if rows.iter().all(Option::is_none) {
                return Ok(Err(FileProblem::new(
                    IssueKind::UnsupportedFormat,
                    "the file is neither a JSON array of objects nor JSON Lines",
                    "write a JSON array of objects, or one object per line",
                )));
            }
            (rows, "ndjson")
        }
    };
    let mut keys: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for item in rows.iter().flatten() {
        if let Item::Object(fields) = item {
            for (key, _) in fields {
                if seen.insert(key.clone()) {
                    keys.push(key.clone());
                }
            }
        }
    }
    if keys.is_empty() {
        return Ok(Err(FileProblem::new(
            IssueKind::UnsupportedFormat,
            "the JSON holds no objects with keys, so it has no columns",
            "write a JSON array of objects, or one object per line",
        )));
    }
    let mut records = Vec::with_capacity(rows.len() + 1);
    records.push(ByteRecord::from(keys.clone()));
    for (index, value) in rows.iter().enumerate() {
        let mut record = ByteRecord::new();
        match value {
            Some(Item::Object(fields)) => {
                issues.extend(duplicate_key_issues(fields, index as i64 + 1));
                let map: HashMap<&str, &Value> =
                    fields.iter().map(|(k, v)| (k.as_str(), v)).collect();
                for key in &keys {
                    record.push_field(value_text(map.get(key.as_str()).copied()).as_bytes());
                }
            }
            Some(other) => {
                issues.push(
                    Issue::new(
                        IssueKind::FormatMismatch,
                        format!("item {} is not an object; its row is NULL", index + 1),
                    )
                    .row(index as i64 + 1)
                    .invalid_value(other.to_json().to_string())
                    .remediation("make every item a JSON object"),
                );
                for _ in &keys {
                    record.push_field(b"");
                }
            }
            None => {
                for _ in &keys {
                    record.push_field(b"");
                }
            }
        }
        records.push(record);
    }
    let mut pass1 = SliceSource::new(&records);
    let ScanOutcome::Done(mut scan) = scan(&mut pass1, false)? else {
        return Ok(Err(FileProblem::new(
            IssueKind::EmptyFile,
            "the JSON holds no rows",
            "send the file with its data",
        )));
    };
    // Rows that are not objects were already reported; a blank-row warning would repeat them.
    let reported = issues_rows(&rows);
    issues.extend(
        scan.issues
            .into_iter()
            .filter(|issue| !issues_cover_row(&reported, issue)),
    );
    scan.issues = issues;
    let source = MemorySource::new(records);
    let mut facts = Map::new();
    facts.insert("json_shape".into(), Value::from(format));
    Table::new(None, base_name, facts, scan, false, Box::new(source)).map(Ok)
}

fn issues_rows(rows: &[Option<Item>]) -> Vec<i64> {
    rows.iter()
        .enumerate()
        .filter(|(_, v)| !matches!(v, Some(Item::Object(_))))
        .map(|(i, _)| i as i64 + 1)
        .collect()
}

fn issues_cover_row(covered: &[i64], issue: &Issue) -> bool {
    issue.issue_type == IssueKind::BlankRow.issue_type()
        && issue.row.is_some_and(|row| covered.contains(&row))
}

/// A JSON value as cell text.
fn value_text(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
    }
}

/// A field's value. A number keeps the text it was written with (as a string, which is
/// what its cell holds): serde_json would read `12345678901234567890123` as
/// `1.2345678901234568e22` and refuse `1e400`.
fn field_value(raw: &str) -> serde_json::Result<Value> {
    if raw.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
        return Ok(Value::String(raw.to_string()));
    }
    serde_json::from_str(raw)
}

/// Warnings for keys repeated within one object: the last value is loaded, each earlier
/// one is kept in its issue's `invalid_value`.
fn duplicate_key_issues(fields: &[(String, Value)], row: i64) -> Vec<Issue> {
    let last: HashMap<&str, usize> = fields
        .iter()
        .enumerate()
        .map(|(position, (key, _))| (key.as_str(), position))
        .collect();
    fields
        .iter()
        .enumerate()
        .filter(|(position, (key, _))| last[key.as_str()] != *position)
        .map(|(_, (key, value))| {
            Issue::new(
                IssueKind::DuplicateHeader,
                format!("key \"{key}\" repeats in item {row}; the last value is loaded, this one is kept in invalid_value"),
            )
            .row(row)
            .invalid_value(value_text(Some(value)))
            .severity(Severity::Warning)
            .remediation("give each key once per object")
            .with("key", key.as_str())
        })
        .collect()
}

/// A JSON value whose objects keep their keys in file order (serde_json's `Value` sorts
/// them), so columns come out in the order the file first uses them.
enum Item {
    Object(Vec<(String, Value)>),
    Array(Vec<Item>),
    Other(Value),
}

impl Item {
    fn to_json(&self) -> Value {
        match self {
            Item::Object(fields) => Value::Object(fields.iter().cloned().collect()),
            Item::Array(items) => Value::Array(items.iter().map(Item::to_json).collect()),
            Item::Other(value) => value.clone(),
        }
    }
}

impl<'de> Deserialize<'de> for Item {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Item, D::Error> {
        deserializer.deserialize_any(ItemVisitor)
    }
}

struct ItemVisitor;

impl<'de> Visitor<'de> for ItemVisitor {
    type Value = Item;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Item, A::Error> {
        // A repeated key is kept twice here: the last value gives the cell, and the earlier
        // ones an issue (see `duplicate_key_issues`), so no value goes unrecorded.
        let mut fields: Vec<(String, Value)> = Vec::new();
        while let Some((key, raw)) = map.next_entry::<String, Box<RawValue>>()? {
            fields.push((key, field_value(raw.get()).map_err(de::Error::custom)?));
        }
        Ok(Item::Object(fields))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Item, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Item>()? {
            items.push(item);
        }
        Ok(Item::Array(items))
    }

    fn visit_bool<E>(self, v: bool) -> Result<Item, E> {
        Ok(Item::Other(Value::Bool(v)))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Item, E> {
        Ok(Item::Other(Value::from(v)))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Item, E> {
        Ok(Item::Other(Value::from(v)))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Item, E> {
        Ok(Item::Other(Value::from(v)))
    }

    fn visit_str<E>(self, v: &str) -> Result<Item, E> {
        Ok(Item::Other(Value::from(v)))
    }

    fn visit_string<E>(self, v: String) -> Result<Item, E> {
        Ok(Item::Other(Value::from(v)))
    }

    fn visit_unit<E>(self) -> Result<Item, E> {
        Ok(Item::Other(Value::Null))
    }

    fn visit_none<E>(self) -> Result<Item, E> {
        Ok(Item::Other(Value::Null))
    }
}
