//! One Table Schema field: its type, format and constraints, and the check of one cell's text.
//!
//! The casting rules follow frictionless-py 5 (the reference implementation), so that counts
//! agree on the same file and schema; where they differ the README says why.

use std::cmp::Ordering;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use regex::Regex;
use serde_json::Value as Json;

use crate::state::{IssueKind, Severity};

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

    fn is_temporal(self) -> bool {
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

    fn length(&self) -> Option<usize> {
        match self {
            Cast::Text(text) => Some(text.chars().count()),
            Cast::Json(Json::Array(items)) => Some(items.len()),
            Cast::Json(Json::Object(map)) => Some(map.len()),
            _ => None,
        }
    }
}

/// A bound from `minimum`, `maximum`, `exclusiveMinimum` or `exclusiveMaximum`.
#[derive(Debug, Clone)]
pub struct Bound {
    pub value: Cast,
    pub text: String,
}

#[derive(Debug, Clone, Default)]
pub struct Constraints {
    pub required: bool,
    pub unique: bool,
    pub min_length: Option<usize>,
    pub max_length: Option<usize>,
    pub minimum: Option<Bound>,
    pub maximum: Option<Bound>,
    pub exclusive_minimum: Option<Bound>,
    pub exclusive_maximum: Option<Bound>,
    pub pattern: Option<(String, Regex)>,
    /// Allowed values, cast, with their text for messages.
    pub allowed: Option<Vec<(Cast, String)>>,
}

impl Constraints {
    /// Whether a constraint beyond `required` and `unique` looks at the value.
    pub fn compares_value(&self) -> bool {
        self.min_length.is_some()
            || self.max_length.is_some()
            || self.minimum.is_some()
            || self.maximum.is_some()
            || self.exclusive_minimum.is_some()
            || self.exclusive_maximum.is_some()
            || self.pattern.is_some()
            || self.allowed.is_some()
    }
}

/// A field of a Table Schema, ready to check cells.
#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    pub field_type: FieldType,
    pub format: String,
    pub true_values: Vec<String>,
    pub false_values: Vec<String>,
    pub missing_values: Vec<String>,
    pub decimal_char: String,
    pub group_char: Option<String>,
    pub bare_number: bool,
    pub constraints: Constraints,
    /// `warning` lowers every issue this field raises.
    pub severity: Severity,
    /// The cast value is needed after the check (the field is unique or in the primary key).
    pub keep_value: bool,
}

/// A bound, its code, its name, when a comparison fails it, and the words for the message.
type BoundRule<'a> = (
    &'a Option<Bound>,
    &'static str,
    &'static str,
    fn(Ordering) -> bool,
    &'static str,
);

/// One failed check of one cell.
#[derive(Debug, Clone)]
pub struct Problem {
    pub kind: IssueKind,
    pub code: &'static str,
    /// Where in the schema the rule is, e.g. `fields.age.constraints.minimum`.
    pub rule: String,
    pub message: String,
    pub remediation: String,
}

const DEFAULT_TRUE: [&str; 4] = ["true", "True", "TRUE", "1"];
const DEFAULT_FALSE: [&str; 4] = ["false", "False", "FALSE", "0"];

impl Field {
    /// A field with the defaults of the specification.
    pub fn new(name: &str, field_type: FieldType) -> Field {
        Field {
            name: name.to_string(),
            field_type,
            format: "default".to_string(),
            true_values: DEFAULT_TRUE.iter().map(|s| s.to_string()).collect(),
            false_values: DEFAULT_FALSE.iter().map(|s| s.to_string()).collect(),
            missing_values: vec![String::new()],
            decimal_char: ".".to_string(),
            group_char: None,
            bare_number: true,
            constraints: Constraints::default(),
            severity: Severity::Error,
            keep_value: false,
        }
    }

    pub fn is_missing(&self, text: &str) -> bool {
        self.missing_values.iter().any(|missing| missing == text)
    }

    /// Casts a cell's text by the field's type and format; `None` when it does not fit.
    pub fn cast(&self, text: &str) -> Option<Cast> {
        match self.field_type {
            FieldType::String => self.cast_string(text),
            FieldType::Integer => self.cast_integer(text),
            FieldType::Number => self.cast_number(text),
            FieldType::Boolean => {
                if self.true_values.iter().any(|v| v == text) {
                    Some(Cast::Boolean(true))
                } else if self.false_values.iter().any(|v| v == text) {
                    Some(Cast::Boolean(false))
                } else {
                    None
                }
            }
            FieldType::Date => self.cast_date(text),
            FieldType::Time => self.cast_time(text),
            FieldType::Datetime => self.cast_datetime(text),
            FieldType::Year => cast_year(text).map(Cast::Year),
            FieldType::Yearmonth => cast_yearmonth(text),
            FieldType::Duration => cast_duration(text).map(Cast::Duration),
            FieldType::Geopoint => self.cast_geopoint(text),
            FieldType::Object => match serde_json::from_str::<Json>(text) {
                Ok(json @ Json::Object(_)) => Some(Cast::Json(json)),
                _ => None,
            },
            FieldType::Array => match serde_json::from_str::<Json>(text) {
                Ok(json @ Json::Array(_)) => Some(Cast::Json(json)),
                _ => None,
            },
            FieldType::Any => Some(Cast::Text(text.to_string())),
        }
    }

    fn cast_string(&self, text: &str) -> Option<Cast> {
        self.string_fits(text).then(|| Cast::Text(text.to_string()))
    }

    fn string_fits(&self, text: &str) -> bool {
        self.text_format().is_none_or(|fits| fits(text))
    }

    /// The test of a string field's format; None when any text fits.
    fn text_format(&self) -> Option<fn(&str) -> bool> {
        match (self.field_type, self.format.as_str()) {
            (FieldType::Any, _) => None,
            (_, "email") => Some(is_email),
            (_, "uri") => Some(is_uri),
            (_, "uuid") => Some(is_uuid),
            _ => None,
        }
    }

    /// Whether [`Field::check`] can find a problem in a cell or must keep its value: false
    /// for a text field with no format and no constraints, whose cells need no look.
    pub fn can_fail(&self) -> bool {
        let any_text_fits = match self.field_type {
            FieldType::String | FieldType::Any => self.text_format().is_none(),
            _ => false,
        };
        !any_text_fits
            || self.keep_value
            || self.constraints.required
            || self.constraints.compares_value()
    }

    fn cast_integer(&self, text: &str) -> Option<Cast> {
        let text = if self.bare_number {
            text.trim()
        } else {
            strip_non_numeric(text)
        };
        parse_python_int(text).map(Cast::Integer)
    }

    fn cast_number(&self, text: &str) -> Option<Cast> {
        let mut owned;
        let mut text = text;
        if let Some(group) = self.group_char.as_deref().filter(|g| !g.is_empty()) {
            owned = text.replace(group, "");
            text = &owned;
        }
        if self.decimal_char != "." && !self.decimal_char.is_empty() {
            owned = text.replace(self.decimal_char.as_str(), ".");
            text = &owned;
        }
        if !self.bare_number {
            text = strip_non_numeric(text);
        }
        parse_python_decimal(text).map(Cast::Number)
    }

    fn cast_date(&self, text: &str) -> Option<Cast> {
        match self.format.as_str() {
            "default" => parse_iso_date(text).map(Cast::Date),
            "any" => parse_any_date(text).map(Cast::Date),
            pattern => NaiveDate::parse_from_str(text, strip_fmt(pattern))
                .ok()
                .map(Cast::Date),
        }
    }

    fn cast_time(&self, text: &str) -> Option<Cast> {
        match self.format.as_str() {
            "default" | "any" => parse_iso_time(text).map(Cast::Time),
            pattern => NaiveTime::parse_from_str(text, strip_fmt(pattern))
                .ok()
                .map(Cast::Time),
        }
    }

    fn cast_datetime(&self, text: &str) -> Option<Cast> {
        match self.format.as_str() {
            "default" | "any" => parse_iso_datetime(text).map(Cast::Datetime),
            pattern => NaiveDateTime::parse_from_str(text, strip_fmt(pattern))
                .ok()
                .map(Cast::Datetime),
        }
    }

    fn cast_geopoint(&self, text: &str) -> Option<Cast> {
        let (lon, lat) = match self.format.as_str() {
            "array" => match serde_json::from_str::<Json>(text).ok()? {
                Json::Array(items) if items.len() == 2 => (items[0].as_f64()?, items[1].as_f64()?),
                _ => return None,
            },
            "object" => match serde_json::from_str::<Json>(text).ok()? {
                Json::Object(map) if map.len() == 2 => {
                    (map.get("lon")?.as_f64()?, map.get("lat")?.as_f64()?)
                }
                _ => return None,
            },
            _ => {
                let (lon, lat) = text.split_once(',')?;
                if lat.contains(',') {
                    return None;
                }
                (
                    parse_python_decimal(lon.trim())?,
                    parse_python_decimal(lat.trim())?,
                )
            }
        };
        ((-180.0..=180.0).contains(&lon) && (-90.0..=90.0).contains(&lat))
            .then(|| Cast::Json(serde_json::json!([lon, lat])))
    }

    /// Checks one cell (`text` is the stored text, `""` for an empty cell), pushing the
    /// problems found; a type error stops the constraint checks of that cell, as in
    /// frictionless. Returns the cast value when the field keeps it (`keep_value`) and the
    /// cell is valid, else None.
    pub fn check(&self, text: &str, problems: &mut Vec<Problem>) -> Option<Cast> {
        if self.is_missing(text) {
            if self.constraints.required {
                problems.push(self.problem(
                    IssueKind::MissingMandatoryValue,
                    "constraint-error/required",
                    "constraints.required",
                    format!("{} is required but row has no value", self.quoted()),
                    format!("Provide a value for {}", self.name),
                ));
            }
            return None;
        }
        // Text is checked as it is, without a copy, unless the value is kept.
        if matches!(self.field_type, FieldType::String | FieldType::Any) && !self.keep_value {
            if !self.string_fits(text) {
                problems.push(self.type_problem(text));
            } else if self.constraints.compares_value() {
                self.check_constraints(text, None, problems);
            }
            return None;
        }
        let Some(value) = self.cast(text) else {
            problems.push(self.type_problem(text));
            return None;
        };
        self.check_constraints(text, Some(&value), problems);
        self.keep_value.then_some(value)
    }

    /// Checks the constraints on the cast value, or on the text itself (`value` None) for
    /// a text field.
    fn check_constraints(&self, text: &str, value: Option<&Cast>, problems: &mut Vec<Problem>) {
        let c = &self.constraints;
        let length = match value {
            Some(value) => value.length(),
            None => Some(text.chars().count()),
        };
        let compare = |bound: &Cast| match (value, bound) {
            (Some(value), bound) => value.compare(bound),
            (None, Cast::Text(bound)) => Some(text.cmp(bound.as_str())),
            (None, _) => None,
        };
        if let Some(length) = length {
            if let Some(min) = c.min_length.filter(|min| length < *min) {
                problems.push(self.range_problem(
                    "constraint-error/minLength",
                    "minLength",
                    format!(
                        "{} has {length} characters, fewer than the minimum {min}",
                        self.quoted()
                    ),
                    format!("Use at least {min} characters in {}", self.name),
                ));
            }
            if let Some(max) = c.max_length.filter(|max| length > *max) {
                problems.push(self.range_problem(
                    "constraint-error/maxLength",
                    "maxLength",
                    format!(
                        "{} has {length} characters, more than the maximum {max}",
                        self.quoted()
                    ),
                    format!("Shorten {} to at most {max} characters", self.name),
                ));
            }
        }
        let bounds: [BoundRule; 4] = [
            (
                &c.minimum,
                "constraint-error/minimum",
                "minimum",
                |o| o == Ordering::Less,
                "below the minimum",
            ),
            (
                &c.maximum,
                "constraint-error/maximum",
                "maximum",
                |o| o == Ordering::Greater,
                "above the maximum",
            ),
            (
                &c.exclusive_minimum,
                "constraint-error/exclusiveMinimum",
                "exclusiveMinimum",
                |o| o != Ordering::Greater,
                "not above the exclusive minimum",
            ),
            (
                &c.exclusive_maximum,
                "constraint-error/exclusiveMaximum",
                "exclusiveMaximum",
                |o| o != Ordering::Less,
                "not below the exclusive maximum",
            ),
        ];
        for (bound, code, name, fails, words) in bounds {
            let Some(bound) = bound else { continue };
            if compare(&bound.value).is_some_and(fails) {
                let remediation = match name {
                    "minimum" => format!("Use a value of at least {} in {}", bound.text, self.name),
                    "maximum" => format!("Use a value of at most {} in {}", bound.text, self.name),
                    "exclusiveMinimum" => {
                        format!("Use a value greater than {} in {}", bound.text, self.name)
                    }
                    _ => format!("Use a value less than {} in {}", bound.text, self.name),
                };
                problems.push(self.range_problem(
                    code,
                    name,
                    format!("{} value {text:?} is {words} {}", self.quoted(), bound.text),
                    remediation,
                ));
            }
        }
        if let Some((pattern, regex)) = &c.pattern {
            let subject = match value {
                Some(Cast::Text(text)) => text.as_str(),
                _ => text,
            };
            if !regex.is_match(subject) {
                problems.push(self.problem(
                    IssueKind::PatternMismatch,
                    "constraint-error/pattern",
                    "constraints.pattern",
                    format!(
                        "{} value {text:?} does not match the pattern {pattern}",
                        self.quoted()
                    ),
                    format!("Write {} so that it matches {pattern}", self.name),
                ));
            }
        }
        if let Some(allowed) = &c.allowed {
            let member = allowed
                .iter()
                .any(|(candidate, _)| match (value, candidate) {
                    (Some(value), candidate) => {
                        candidate == value || candidate.compare(value) == Some(Ordering::Equal)
                    }
                    (None, Cast::Text(allowed)) => allowed == text,
                    (None, _) => false,
                });
            if !member {
                let list: Vec<&str> = allowed.iter().map(|(_, text)| text.as_str()).collect();
                problems.push(self.problem(
                    IssueKind::InvalidValue,
                    "constraint-error/enum",
                    "constraints.enum",
                    format!(
                        "{} value {text:?} is not one of the allowed values",
                        self.quoted()
                    ),
                    format!("Use one of: {}", list.join(", ")),
                ));
            }
        }
    }

    fn type_problem(&self, text: &str) -> Problem {
        let (kind, code) = if self.field_type.is_temporal() {
            (IssueKind::InvalidDate, "type-error/date")
        } else if self.field_type == FieldType::String {
            (IssueKind::FormatMismatch, "type-error/format")
        } else {
            (IssueKind::DataTypeMismatch, "type-error")
        };
        let expected = self.expected();
        Problem {
            kind,
            code,
            rule: format!("fields.{}.type", self.name),
            message: format!("{} value {text:?} is not {expected}", self.quoted()),
            remediation: format!("Write {} as {expected}", self.name),
        }
    }

    /// What a valid value looks like, in words a person can act on.
    fn expected(&self) -> String {
        let format = strip_fmt(&self.format);
        match (self.field_type, self.format.as_str()) {
            (FieldType::String, "email") => "an email address (name@example.org)".into(),
            (FieldType::String, "uri") => "a URI with a scheme (https://example.org/x)".into(),
            (FieldType::String, "uuid") => "a UUID (8-4-4-4-12 hexadecimal digits)".into(),
            (FieldType::Integer, _) => "a whole number (e.g. 42)".into(),
            (FieldType::Number, _) => {
                format!("a number (e.g. 3{}14)", self.decimal_char)
            }
            (FieldType::Boolean, _) => format!(
                "a boolean (one of: {}, {})",
                self.true_values.join(", "),
                self.false_values.join(", ")
            ),
            (FieldType::Date, "default") => "a date as YYYY-MM-DD".into(),
            (FieldType::Time, "default" | "any") => "a time as HH:MM:SS".into(),
            (FieldType::Datetime, "default" | "any") => "a date-time as YYYY-MM-DDTHH:MM:SS".into(),
            (FieldType::Date, "any") => "a recognisable date".into(),
            (FieldType::Date | FieldType::Time | FieldType::Datetime, _) => {
                format!("a {} in the format {format}", self.field_type.name())
            }
            (FieldType::Year, _) => "a four-digit year (e.g. 2024)".into(),
            (FieldType::Yearmonth, _) => "a year and month as YYYY-MM".into(),
            (FieldType::Duration, _) => "an ISO 8601 duration (e.g. P1DT2H)".into(),
            (FieldType::Geopoint, "array") => "a point as [lon, lat]".into(),
            (FieldType::Geopoint, "object") => "a point as {\"lon\": x, \"lat\": y}".into(),
            (FieldType::Geopoint, _) => "a point as \"lon, lat\"".into(),
            (FieldType::Object, _) => "a JSON object".into(),
            (FieldType::Array, _) => "a JSON array".into(),
            (FieldType::String | FieldType::Any, _) => "text".into(),
        }
    }

    fn range_problem(
        &self,
        code: &'static str,
        name: &str,
        message: String,
        remediation: String,
    ) -> Problem {
        self.problem(
            IssueKind::RangeViolation,
            code,
            &format!("constraints.{name}"),
            message,
            remediation,
        )
    }

    fn problem(
        &self,
        kind: IssueKind,
        code: &'static str,
        rule: &str,
        message: String,
        remediation: String,
    ) -> Problem {
        Problem {
            kind,
            code,
            rule: format!("fields.{}.{rule}", self.name),
            message,
            remediation,
        }
    }

    fn quoted(&self) -> String {
        format!("column {:?}", self.name)
    }
}

/// `fmt:%d/%m/%Y` (the old spelling) and `%d/%m/%Y` both name a pattern.
fn strip_fmt(format: &str) -> &str {
    format.strip_prefix("fmt:").unwrap_or(format)
}

/// Drops leading characters that are neither digits nor `-`, and trailing non-digits
/// (`bareNumber: false`: `$ 12`, `15%`, `EUR 3.5`).
fn strip_non_numeric(text: &str) -> &str {
    let start = text
        .find(|c: char| c.is_ascii_digit() || c == '-')
        .unwrap_or(text.len());
    let text = &text[start..];
    let end = text
        .rfind(|c: char| c.is_ascii_digit())
        .map(|i| i + 1)
        .unwrap_or(0);
    &text[..end]
}

/// Python's `int(text)`: surrounding whitespace, a sign, digits with single `_` between.
fn parse_python_int(text: &str) -> Option<i128> {
    let text = text.trim();
    let (negative, digits) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
        || !digits.bytes().all(|b| b.is_ascii_digit() || b == b'_')
    {
        return None;
    }
    let value: i128 = if digits.contains('_') {
        digits.replace('_', "").parse().ok()?
    } else {
        digits.parse().ok()?
    };
    Some(if negative { -value } else { value })
}

/// Python's `Decimal(text)`: whitespace, sign, digits, point, exponent, `NaN`, `Infinity`.
fn parse_python_decimal(text: &str) -> Option<f64> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let unsigned = text.trim_start_matches(['+', '-']);
    if text.len() - unsigned.len() > 1 {
        return None;
    }
    if unsigned.starts_with(|c: char| c.is_ascii_alphabetic()) {
        let lower = unsigned.to_ascii_lowercase();
        if !matches!(lower.as_str(), "nan" | "snan" | "inf" | "infinity") {
            return None;
        }
        return if lower.contains("nan") {
            Some(f64::NAN)
        } else if text.starts_with('-') {
            Some(f64::NEG_INFINITY)
        } else {
            Some(f64::INFINITY)
        };
    }
    let valid = unsigned
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-' | b'_'))
        && unsigned.bytes().any(|b| b.is_ascii_digit());
    if !valid {
        return None;
    }
    if text.contains('_') {
        text.replace('_', "").parse::<f64>().ok()
    } else {
        text.parse::<f64>().ok()
    }
}

fn digits(text: &str, min: usize, max: usize) -> Option<u32> {
    if text.len() < min || text.len() > max || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// `%Y-%m-%d` as Python's `strptime` reads it: four-digit year, one- or two-digit month and day.
fn parse_iso_date(text: &str) -> Option<NaiveDate> {
    let mut parts = text.splitn(3, '-');
    let year = digits(parts.next()?, 4, 4)?;
    let month = digits(parts.next()?, 1, 2)?;
    let day = digits(parts.next()?, 1, 2)?;
    NaiveDate::from_ymd_opt(year as i32, month, day)
}

fn parse_any_date(text: &str) -> Option<NaiveDate> {
    const PATTERNS: [&str; 6] = [
        "%Y-%m-%d",
        "%Y/%m/%d",
        "%d %B %Y",
        "%d %b %Y",
        "%B %d, %Y",
        "%b %d, %Y",
    ];
    parse_iso_date(text).or_else(|| {
        PATTERNS
            .iter()
            .find_map(|pattern| NaiveDate::parse_from_str(text.trim(), pattern).ok())
    })
}

/// `HH:MM:SS`, optional fraction and zone (`Z`, `+HH`, `+HH:MM`, `+HHMM`), as frictionless
/// accepts for the default time format.
fn parse_iso_time(text: &str) -> Option<NaiveTime> {
    let bytes = text.as_bytes();
    if bytes.len() < 8 || bytes[2] != b':' || bytes[5] != b':' {
        return None;
    }
    // `get`: the bytes checked above are ASCII, the ones between may not be.
    let hour = digits(text.get(0..2)?, 2, 2)?;
    let minute = digits(text.get(3..5)?, 2, 2)?;
    let second = digits(text.get(6..8)?, 2, 2)?;
    let mut rest = text.get(8..)?;
    let mut nanos = 0;
    if let Some(fraction) = rest.strip_prefix(['.', ',']) {
        let end = fraction
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(fraction.len());
        if end == 0 {
            return None;
        }
        let padded = format!("{:0<9}", &fraction[..end.min(9)]);
        nanos = padded.parse().ok()?;
        rest = &fraction[end..];
    }
    if !is_zone(rest) {
        return None;
    }
    NaiveTime::from_hms_nano_opt(hour, minute, second, nanos)
}

fn is_zone(text: &str) -> bool {
    if text.is_empty() || text == "Z" {
        return true;
    }
    let Some(offset) = text.strip_prefix(['+', '-']) else {
        return false;
    };
    let (hours, minutes) = match offset.len() {
        2 => (offset, "00"),
        4 => match (offset.get(..2), offset.get(2..)) {
            (Some(hours), Some(minutes)) => (hours, minutes),
            _ => return false,
        },
        5 if offset.as_bytes()[2] == b':' => (&offset[..2], &offset[3..]),
        _ => return false,
    };
    matches!((digits(hours, 2, 2), digits(minutes, 2, 2)), (Some(h), Some(m)) if h < 24 && m < 60)
}

/// A date, one separator character, then a time as for the time type (at least 19
/// characters, as frictionless requires).
fn parse_iso_datetime(text: &str) -> Option<NaiveDateTime> {
    if text.len() < 19 || !text.is_char_boundary(10) || !text.is_char_boundary(11) {
        return None;
    }
    let date = parse_strict_date(&text[..10])?;
    let time = parse_iso_time(&text[11..])?;
    Some(date.and_time(time))
}

fn parse_strict_date(text: &str) -> Option<NaiveDate> {
    let bytes = text.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    parse_iso_date(text)
}

fn cast_year(text: &str) -> Option<i32> {
    let year = digits(text, 4, 4)?;
    Some(year as i32)
}

fn cast_yearmonth(text: &str) -> Option<Cast> {
    let (year, month) = text.split_once('-')?;
    let year = parse_python_int(year)?;
    let month = parse_python_int(month)?;
    if !(1..=12).contains(&month) {
        return None;
    }
    Some(Cast::Yearmonth(i32::try_from(year).ok()?, month as u32))
}

/// ISO 8601 durations (`P1Y2M10DT2H30M`, `PT0.5S`, `P3W`), as seconds for ordering (a year
/// counted as 365 days, a month as 30).
fn cast_duration(text: &str) -> Option<f64> {
    let rest = text.strip_prefix('P')?;
    if rest.is_empty() {
        return None;
    }
    let (date_part, time_part) = match rest.split_once('T') {
        Some((date, time)) if !time.is_empty() => (date, Some(time)),
        Some(_) => return None,
        None => (rest, None),
    };
    let mut seconds = duration_units(
        date_part,
        &[
            ('Y', 31_536_000.0),
            ('M', 2_592_000.0),
            ('W', 604_800.0),
            ('D', 86_400.0),
        ],
    )?;
    if let Some(time) = time_part {
        seconds += duration_units(time, &[('H', 3600.0), ('M', 60.0), ('S', 1.0)])?;
    }
    Some(seconds)
}

/// Reads `<number><unit>` pairs in the order `units` lists them.
fn duration_units(mut text: &str, units: &[(char, f64)]) -> Option<f64> {
    let mut total = 0.0;
    let mut next_unit = 0;
    while !text.is_empty() {
        let end = text.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ','))?;
        if end == 0 {
            return None;
        }
        let amount: f64 = text[..end].replace(',', ".").parse().ok()?;
        let unit = text[end..].chars().next()?;
        let position = units[next_unit..].iter().position(|(u, _)| *u == unit)? + next_unit;
        total += amount * units[position].1;
        next_unit = position + 1;
        text = &text[end + unit.len_utf8()..];
    }
    Some(total)
}

fn is_email(text: &str) -> bool {
    let Some((local, domain)) = text.rsplit_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local.chars().all(|c| {
            c.is_alphanumeric()
                || matches!(
                    c,
                    '!' | '#'
                        | '$'
                        | '%'
                        | '&'
                        | '\''
                        | '*'
                        | '+'
                        | '/'
                        | '='
                        | '?'
                        | '^'
                        | '_'
                        | '`'
                        | '{'
                        | '|'
                        | '}'
                        | '~'
                        | '.'
                        | '-'
                )
        });
    let mut labels = 0;
    let mut last = "";
    for label in domain.split('.') {
        let label_ok = !label.is_empty()
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_alphanumeric() || c == '-');
        if !label_ok {
            return false;
        }
        labels += 1;
        last = label;
    }
    local_ok && labels >= 2 && last.len() >= 2 && !last.bytes().all(|b| b.is_ascii_digit())
}

/// An absolute URI: a scheme (`letter *(letter / digit / + - .)`), `:`, and no spaces.
fn is_uri(text: &str) -> bool {
    let Some((scheme, rest)) = text.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        && !rest.is_empty()
        && !text
            .chars()
            .any(|c| c.is_whitespace() || "<>\"{}|\\^`".contains(c))
}

/// What Python's `uuid.UUID(text)` accepts: optional `urn:uuid:` and braces, 32 hex digits
/// with or without hyphens.
fn is_uuid(text: &str) -> bool {
    let text = text.strip_prefix("urn:uuid:").unwrap_or(text);
    let text = text.trim_start_matches('{').trim_end_matches('}');
    let hex: String = text.chars().filter(|c| *c != '-').collect();
    hex.len() == 32 && hex.chars().all(|c| c.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(field_type: FieldType, format: &str) -> Field {
        let mut field = Field::new("f", field_type);
        field.format = format.to_string();
        field
    }

    fn valid(field: &Field, text: &str) -> bool {
        field.cast(text).is_some()
    }

    #[test]
    fn integers_follow_python_int() {
        let f = field(FieldType::Integer, "default");
        for ok in ["+5", " 6 ", "1_000", "007", "-3"] {
            assert!(valid(&f, ok), "{ok}");
        }
        for bad in ["1.0", "1e3", "", "_1", "1__0", "x"] {
            assert!(!valid(&f, bad), "{bad}");
        }
    }

    #[test]
    fn numbers_decimal_and_group_chars() {
        let mut f = field(FieldType::Number, "default");
        assert!(valid(&f, "1e3") && valid(&f, ".5") && valid(&f, "NaN") && valid(&f, "inf"));
        assert!(!valid(&f, "1,5") && !valid(&f, "abc"));
        f.decimal_char = ",".into();
        f.group_char = Some(".".into());
        assert_eq!(f.cast("1.234,5"), Some(Cast::Number(1234.5)));
        f.bare_number = false;
        assert_eq!(f.cast("EUR 12,5 "), Some(Cast::Number(12.5)));
    }

    #[test]
    fn dates_times_and_datetimes_as_frictionless() {
        let d = field(FieldType::Date, "default");
        assert!(valid(&d, "2020-01-01") && valid(&d, "2020-1-1"));
        assert!(!valid(&d, "20200101") && !valid(&d, "2020-02-30"));
        let p = field(FieldType::Date, "%d/%m/%Y");
        assert!(valid(&p, "01/02/2020") && valid(&p, "1/2/2020") && !valid(&p, "2020-01-02"));
        let t = field(FieldType::Time, "default");
        assert!(valid(&t, "14:30:00") && valid(&t, "14:30:00Z") && valid(&t, "14:30:00.5"));
        assert!(!valid(&t, "14:30") && !valid(&t, "25:00:00"));
        let dt = field(FieldType::Datetime, "default");
        assert!(valid(&dt, "2020-01-01T10:00:00Z") && valid(&dt, "2020-01-01 10:00:00"));
        assert!(!valid(&dt, "2020-01-01") && !valid(&dt, "2020-01-01T10:00"));
        let y = field(FieldType::Year, "default");
        assert!(valid(&y, "2020") && !valid(&y, "20") && !valid(&y, "12345") && !valid(&y, "-5"));
    }

    #[test]
    fn durations_geopoints_and_json() {
        let d = field(FieldType::Duration, "default");
        assert!(valid(&d, "P1Y2M10DT2H30M") && valid(&d, "PT0.5S") && valid(&d, "P3W"));
        assert!(!valid(&d, "P") && !valid(&d, "1D") && !valid(&d, "PT") && !valid(&d, "P1D2Y"));
        let g = field(FieldType::Geopoint, "default");
        assert!(valid(&g, "90, 45") && !valid(&g, "200, 45") && !valid(&g, "x"));
        let o = field(FieldType::Object, "default");
        assert!(valid(&o, "{\"a\":1}") && !valid(&o, "[1]"));
    }

    #[test]
    fn string_formats() {
        let e = field(FieldType::String, "email");
        assert!(
            valid(&e, "ann@example.org") && !valid(&e, "ann@") && !valid(&e, "ann example.org")
        );
        let u = field(FieldType::String, "uri");
        assert!(valid(&u, "https://example.org/a") && !valid(&u, "example.org"));
        let id = field(FieldType::String, "uuid");
        assert!(valid(&id, "123e4567-e89b-12d3-a456-426614174000") && !valid(&id, "123e4567"));
    }
}
