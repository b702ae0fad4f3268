//! One Table Schema field: its type, format and options, and the check of one cell's text.
//! The value types are in `types`, the constraints in `constraints`, and the text parser of
//! each type in `validate::parse`.
//!
//! The casting rules follow frictionless-py 5 (the reference implementation), so that counts
//! agree on the same file and schema; where they differ the README says why.

mod constraints;
mod problem;
mod types;

pub use constraints::{Bound, Constraints};
pub use problem::Problem;
pub use types::{Cast, FieldType};

use super::parse::{boolean, date, datetime, duration, geopoint, json, number, text_format};
use super::parse::{strip_fmt, time, year};
use crate::state::{IssueKind, Severity};
use problem::quoted;

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
        let format = self.format.as_str();
        match self.field_type {
            FieldType::String => self.string_fits(text).then(|| Cast::Text(text.to_string())),
            FieldType::Integer => number::integer(text, self.bare_number).map(Cast::Integer),
            FieldType::Number => number::number(
                text,
                &self.decimal_char,
                self.group_char.as_deref(),
                self.bare_number,
            )
            .map(Cast::Number),
            FieldType::Boolean => {
                boolean::boolean(text, &self.true_values, &self.false_values).map(Cast::Boolean)
            }
            FieldType::Date => date::date(text, format).map(Cast::Date),
            FieldType::Time => time::time(text, format).map(Cast::Time),
            FieldType::Datetime => datetime::datetime(text, format).map(Cast::Datetime),
            FieldType::Year => year::year(text).map(Cast::Year),
            FieldType::Yearmonth => year::yearmonth(text).map(|(y, m)| Cast::Yearmonth(y, m)),
            FieldType::Duration => duration::seconds(text).map(Cast::Duration),
            FieldType::Geopoint => geopoint::lon_lat(text, format)
                .map(|(lon, lat)| Cast::Json(serde_json::json!([lon, lat]))),
            FieldType::Object => json::object(text).map(Cast::Json),
            FieldType::Array => json::array(text).map(Cast::Json),
            FieldType::Any => Some(Cast::Text(text.to_string())),
        }
    }

    fn string_fits(&self, text: &str) -> bool {
        self.text_format().is_none_or(|fits| fits(text))
    }

    /// The test of a string field's format; None when any text fits.
    fn text_format(&self) -> Option<fn(&str) -> bool> {
        match (self.field_type, self.format.as_str()) {
            (FieldType::Any, _) => None,
            (_, "email") => Some(text_format::is_email),
            (_, "uri") => Some(text_format::is_uri),
            (_, "uuid") => Some(text_format::is_uuid),
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

    /// Checks one cell (`text` is the stored text, `""` for an empty cell), pushing the
    /// problems found; a type error stops the constraint checks of that cell, as in
    /// frictionless. Returns the cast value when the field keeps it (`keep_value`) and the
    /// cell is valid, else None.
    pub fn check(&self, text: &str, problems: &mut Vec<Problem>) -> Option<Cast> {
        if self.is_missing(text) {
            if self.constraints.required {
                problems.push(Problem::of_field(
                    &self.name,
                    IssueKind::MissingMandatoryValue,
                    "constraint-error/required",
                    "constraints.required",
                    format!("{} is required but row has no value", quoted(&self.name)),
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
                self.constraints.check(&self.name, text, None, problems);
            }
            return None;
        }
        let Some(value) = self.cast(text) else {
            problems.push(self.type_problem(text));
            return None;
        };
        self.constraints
            .check(&self.name, text, Some(&value), problems);
        self.keep_value.then_some(value)
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
        Problem::of_field(
            &self.name,
            kind,
            code,
            "type",
            format!("{} value {text:?} is not {expected}", quoted(&self.name)),
            format!("Write {} as {expected}", self.name),
        )
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
