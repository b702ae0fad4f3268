//! The Table Schema field types, and the value a cell casts to.

use std::cmp::Ordering;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use serde_json::Value as Json;

/// The Table Schema field types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    String,
    Integer,
    Number,
    Boolean,
    Date,
    Time,
    Datetime,
    Year,
    Yearmonth,
    Duration,
    Geopoint,
    Object,
    Array,
    Any,
}

impl FieldType {
    pub fn parse(text: &str) -> Option<FieldType> {
        Some(match text {
            "string" => FieldType::String,
            "integer" => FieldType::Integer,
            "number" => FieldType::Number,
            "boolean" => FieldType::Boolean,
            "date" => FieldType::Date,
            "time" => FieldType::Time,
            "datetime" => FieldType::Datetime,
            "year" => FieldType::Year,
            "yearmonth" => FieldType::Yearmonth,
            "duration" => FieldType::Duration,
            "geopoint" => FieldType::Geopoint,
            "object" => FieldType::Object,
            "array" => FieldType::Array,
            "any" => FieldType::Any,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            FieldType::String => "string",
            FieldType::Integer => "integer",
            FieldType::Number => "number",
            FieldType::Boolean => "boolean",
            FieldType::Date => "date",
            FieldType::Time => "time",
            FieldType::Datetime => "datetime",
            FieldType::Year => "year",
            FieldType::Yearmonth => "yearmonth",
            FieldType::Duration => "duration",
            FieldType::Geopoint => "geopoint",
            FieldType::Object => "object",
            FieldType::Array => "array",
            FieldType::Any => "any",
        }
    }

    pub(super) fn is_temporal(self) -> bool {
        matches!(
            self,
            FieldType::Date
                | FieldType::Time
                | FieldType::Datetime
                | FieldType::Year
                | FieldType::Yearmonth
        )
    }
}

/// A cell's value after casting, for constraints, enum membership and uniqueness.
#[derive(Debug, Clone, PartialEq)]
pub enum Cast {
    Text(String),
    Integer(i128),
    Number(f64),
    Boolean(bool),
    Date(NaiveDate),
    Time(NaiveTime),
    Datetime(NaiveDateTime),
    Year(i32),
    Yearmonth(i32, u32),
    Duration(f64),
    Json(Json),
}

impl Cast {
    /// Orders two values of the same kind (numbers compare across integer and number).
    pub fn compare(&self, other: &Cast) -> Option<Ordering> {
        use Cast::*;
        match (self, other) {
            (Text(a), Text(b)) => Some(a.cmp(b)),
            (Integer(a), Integer(b)) => Some(a.cmp(b)),
            (Integer(a), Number(b)) => (*a as f64).partial_cmp(b),
            (Number(a), Integer(b)) => a.partial_cmp(&(*b as f64)),
            (Number(a), Number(b)) => a.partial_cmp(b),
            (Boolean(a), Boolean(b)) => Some(a.cmp(b)),
            (Date(a), Date(b)) => Some(a.cmp(b)),
            (Time(a), Time(b)) => Some(a.cmp(b)),
            (Datetime(a), Datetime(b)) => Some(a.cmp(b)),
            (Year(a), Year(b)) => Some(a.cmp(b)),
            (Yearmonth(ay, am), Yearmonth(by, bm)) => Some((ay, am).cmp(&(by, bm))),
            (Duration(a), Duration(b)) => a.partial_cmp(b),
            _ => None,
        }
    }

    /// Text equal for equal values (`1` and `01` as integers), used as a uniqueness key.
    pub fn key(&self) -> String {
        match self {
            Cast::Text(text) => text.clone(),
            Cast::Integer(n) => n.to_string(),
            Cast::Number(n) => {
                if n.fract() == 0.0 && n.abs() < 1e15 {
                    format!("{}", *n as i64)
                } else {
                    format!("{n:?}")
                }
            }
            Cast::Boolean(b) => b.to_string(),
            Cast::Date(d) => d.to_string(),
            Cast::Time(t) => t.to_string(),
            Cast::Datetime(dt) => dt.to_string(),
            Cast::Year(y) => y.to_string(),
            Cast::Yearmonth(y, m) => format!("{y:04}-{m:02}"),
            Cast::Duration(d) => format!("{d:?}"),
            Cast::Json(json) => json.to_string(),
        }
    }

    pub(super) fn length(&self) -> Option<usize> {
        match self {
            Cast::Text(text) => Some(text.chars().count()),
            Cast::Json(Json::Array(items)) => Some(items.len()),
            Cast::Json(Json::Object(map)) => Some(map.len()),
            _ => None,
        }
    }
}
