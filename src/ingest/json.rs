//! JSON: a top-level array of objects (or one object), or NDJSON / JSON Lines. Columns are the
//! keys in order of first appearance. Nothing is re-encoded: strings are decoded, numbers and
//! booleans keep their text exactly as written (so `1.10`, `1e3` and integers beyond 64 bits
//! are not changed by a float), `null` and `""` are NULL, and nested arrays and objects are
//! stored as their original JSON text with the whitespace between tokens removed (key order,
//! duplicate keys and number text as in the file). A key repeated in one object keeps its last
//! value (as JavaScript and Python do) and raises a `Duplicate Header` warning that holds the
//! value dropped. The file is read into memory whole.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use csv::ByteRecord;
use serde::Deserialize;
use serde::de::{self, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::scan::{ScanOutcome, scan};
use super::source::{FileProblem, MemorySource, SliceSource, Table};
use crate::Result;
use crate::state::{Issue, IssueKind, Severity};

/// One item of the file: an object's fields as written, another JSON value, or a line that
/// is not JSON (NDJSON only).
enum Item<'a> {
    Object(Vec<(String, &'a RawValue)>),
    Other(&'a RawValue),
    Invalid,
}

impl<'a> Item<'a> {
    fn from_raw(raw: &'a RawValue) -> Item<'a> {
        if raw.get().starts_with('{')
            && let Ok(RawObject(fields)) = serde_json::from_str::<RawObject<'a>>(raw.get())
        {
            return Item::Object(fields);
        }
        Item::Other(raw)
    }
}

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
    let whole = if text.trim_start().starts_with('[') {
        serde_json::from_str::<Vec<&RawValue>>(text)
            .ok()
            .map(|items| items.into_iter().map(Item::from_raw).collect())
    } else {
        serde_json::from_str::<RawObject>(text)
            .ok()
            .map(|RawObject(fields)| vec![Item::Object(fields)])
    };
    let (rows, format): (Vec<Item>, &str) = match whole {
        Some(rows) => (rows, "json"),
        None => {
            let mut rows = Vec::new();
            for (line_index, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                match serde_json::from_str::<&RawValue>(line) {
                    Ok(value) => rows.push(Item::from_raw(value)),
                    Err(err) => {
                        rows.push(Item::Invalid);
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
            if rows.iter().all(|row| matches!(row, Item::Invalid)) {
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
    for item in &rows {
        if let Item::Object(fields) = item {
            for (key, _) in fields {
                if seen.insert(key.as_str()) {
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
    for (index, item) in rows.iter().enumerate() {
        let row = index as i64 + 1;
        let mut record = ByteRecord::new();
        match item {
            Item::Object(fields) => {
                let mut map: HashMap<&str, &RawValue> = HashMap::with_capacity(fields.len());
                for (key, value) in fields {
                    if let Some(dropped) = map.insert(key.as_str(), value) {
                        issues.push(duplicate_key_issue(row, key, dropped));
                    }
                }
                for key in &keys {
                    record.push_field(
                        map.get(key.as_str())
                            .map_or(String::new(), |raw| cell_text(raw))
                            .as_bytes(),
                    );
                }
            }
            Item::Other(other) => {
                issues.push(
                    Issue::new(
                        IssueKind::FormatMismatch,
                        format!("item {row} is not an object; its row is NULL"),
                    )
                    .row(row)
                    .invalid_value(compact(other.get()))
                    .remediation("make every item a JSON object"),
                );
                for _ in &keys {
                    record.push_field(b"");
                }
            }
            Item::Invalid => {
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

fn duplicate_key_issue(row: i64, key: &str, dropped: &RawValue) -> Issue {
    Issue::new(
        IssueKind::DuplicateHeader,
        format!(
            "key \"{key}\" appears more than once in item {row}; the last value is kept, the earlier one is in invalid_value"
        ),
    )
    .row(row)
    .column(key)
    .invalid_value(compact(dropped.get()))
    .severity(Severity::Warning)
    .remediation("give each key once per object")
}

fn issues_rows(rows: &[Item]) -> Vec<i64> {
    rows.iter()
        .enumerate()
        .filter(|(_, v)| !matches!(v, Item::Object(_)))
        .map(|(i, _)| i as i64 + 1)
        .collect()
}

fn issues_cover_row(covered: &[i64], issue: &Issue) -> bool {
    issue.issue_type == IssueKind::BlankRow.issue_type()
        && issue.row.is_some_and(|row| covered.contains(&row))
}

/// A JSON value as cell text: strings decoded, `null` empty, numbers and booleans as written,
/// arrays and objects as compact JSON text.
fn cell_text(raw: &RawValue) -> String {
    let text = raw.get();
    match text.as_bytes().first() {
        Some(b'"') => serde_json::from_str::<String>(text).unwrap_or_else(|_| text.to_string()),
        Some(b'[' | b'{') => compact(text),
        _ if text == "null" => String::new(),
        _ => text.to_string(),
    }
}

/// JSON text without the whitespace between tokens; everything else as written.
fn compact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_string = false;
    let mut escaped = false;
    for c in text.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !matches!(c, ' ' | '\t' | '\n' | '\r') {
            out.push(c);
        }
    }
    out
}

/// An object's fields in file order, duplicates included, each value as its JSON text
/// (serde_json's `Value` would sort the keys and turn numbers into floats).
struct RawObject<'a>(Vec<(String, &'a RawValue)>);

impl<'de> Deserialize<'de> for RawObject<'de> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<RawObject<'de>, D::Error> {
        deserializer.deserialize_map(RawObjectVisitor)
    }
}

struct RawObjectVisitor;

impl<'de> Visitor<'de> for RawObjectVisitor {
    type Value = RawObject<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawObject<'de>, A::Error> {
        let mut fields = Vec::new();
        while let Some(entry) = map.next_entry::<String, &'de RawValue>()? {
            fields.push(entry);
        }
        Ok(RawObject(fields))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_removes_only_whitespace_between_tokens() {
        assert_eq!(
            compact("{ \"a b\" : [1 , 2.50],\n \"c\\\" d\": \"x  y\" }"),
            "{\"a b\":[1,2.50],\"c\\\" d\":\"x  y\"}"
        );
    }
}
