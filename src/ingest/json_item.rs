//! One JSON item as rssd reads it, for both the whole-file and streaming readers: objects as
//! their fields in file order (repeated keys kept, keys borrowed from the text), any value as
//! its exact JSON text, and the issues an item can raise.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

use csv::ByteRecord;
use serde::Deserialize;
use serde::de::{self, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::state::{Issue, IssueKind, Severity};

/// One item of the file: an object's fields as written, another JSON value, or a line that
/// is not JSON (NDJSON only).
pub enum Item<'a> {
    Object(Vec<(Cow<'a, str>, &'a RawValue)>),
    Other(&'a RawValue),
    Invalid,
}

impl<'a> Item<'a> {
    pub fn from_raw(raw: &'a RawValue) -> Item<'a> {
        if raw.get().starts_with('{')
            && let Ok(RawObject(fields)) = serde_json::from_str::<RawObject<'a>>(raw.get())
        {
            return Item::Object(fields);
        }
        Item::Other(raw)
    }

    /// One line of JSON Lines, parsed once when it is an object (the common case).
    pub fn parse(text: &'a str) -> serde_json::Result<Item<'a>> {
        if text.trim_start().starts_with('{')
            && let Ok(RawObject(fields)) = serde_json::from_str::<RawObject<'a>>(text)
        {
            return Ok(Item::Object(fields));
        }
        serde_json::from_str::<&RawValue>(text).map(Item::Other)
    }
}

/// The columns by key, each looked up once per field of every item: a fast hash, not
/// SipHash (the keys are the file's, but a table's columns are few).
pub type KeyIndex = HashMap<String, usize, foldhash::fast::RandomState>;

/// An object's values by column (the last one where a key repeats), and the values dropped
/// for a repeated key.
#[allow(clippy::type_complexity)]
pub fn object_cells<'a>(
    fields: &'a [(Cow<'a, str>, &'a RawValue)],
    index: &KeyIndex,
    width: usize,
) -> (Vec<Option<&'a RawValue>>, Vec<(&'a str, &'a RawValue)>) {
    let mut cells = vec![None; width];
    let mut dropped = Vec::new();
    for (key, value) in fields {
        if let Some(&column) = index.get(key.as_ref())
            && let Some(earlier) = cells[column].replace(*value)
        {
            dropped.push((key.as_ref(), earlier));
        }
    }
    (cells, dropped)
}

pub fn push_cells(record: &mut ByteRecord, cells: &[Option<&RawValue>]) {
    for cell in cells {
        match cell {
            Some(cell) => record.push_field(cell_text(cell).as_bytes()),
            None => record.push_field(b""),
        }
    }
}

pub fn not_object_issue(row: i64, raw: &RawValue) -> Issue {
    Issue::new(
        IssueKind::FormatMismatch,
        format!("item {row} is not an object; its row is NULL"),
    )
    .row(row)
    .invalid_value(compact(raw.get()))
    .remediation("make every item a JSON object")
}

pub fn duplicate_key_issue(row: i64, key: &str, dropped: &RawValue) -> Issue {
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

pub fn issues_cover_row(covered: &[i64], issue: &Issue) -> bool {
    issue.issue_type == IssueKind::BlankRow.issue_type()
        && issue.row.is_some_and(|row| covered.contains(&row))
}

/// A JSON value as cell text: strings decoded, `null` empty, numbers and booleans as written,
/// arrays and objects as compact JSON text.
/// Borrowed from the text unless decoding changes it (escapes, nested values).
pub fn cell_text(raw: &RawValue) -> Cow<'_, str> {
    let text = raw.get();
    match text.as_bytes().first() {
        // A string without escapes (or control characters, which serde refuses) is its text
        // between the quotes.
        Some(b'"') if !text.bytes().any(|b| b == b'\\' || b < 0x20) => {
            Cow::Borrowed(&text[1..text.len() - 1])
        }
        Some(b'"') => {
            Cow::Owned(serde_json::from_str::<String>(text).unwrap_or_else(|_| text.to_string()))
        }
        Some(b'[' | b'{') => Cow::Owned(compact(text)),
        _ if text == "null" => Cow::Borrowed(""),
        _ => Cow::Borrowed(text),
    }
}

/// JSON text without the whitespace between tokens; everything else as written.
pub fn compact(text: &str) -> String {
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
pub struct RawObject<'a>(pub Vec<(Cow<'a, str>, &'a RawValue)>);

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
        while let Some((Key(key), value)) = map.next_entry::<Key<'de>, &'de RawValue>()? {
            fields.push((key, value));
        }
        Ok(RawObject(fields))
    }
}

/// An object key, borrowed from the text unless it has escapes (no allocation per key).
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Key<'de>, D::Error> {
        deserializer.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E: de::Error>(self, text: &'de str) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Borrowed(text)))
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Owned(text.to_string())))
    }

    fn visit_string<E: de::Error>(self, text: String) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Owned(text)))
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
