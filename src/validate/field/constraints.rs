//! A field's constraints (lengths, bounds, pattern, enum; `required` and `unique` are
//! checked by the field and the key checks), and their check of one cell.

use std::cmp::Ordering;

use regex::Regex;

use super::problem::{Problem, quoted};
use super::types::Cast;
use crate::state::IssueKind;

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

/// A bound, its code, its name, when a comparison fails it, and the words for the message.
type BoundRule<'a> = (
    &'a Option<Bound>,
    &'static str,
    &'static str,
    fn(Ordering) -> bool,
    &'static str,
);

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

    /// Checks the constraints of the field named `field` on the cast value, or on the text
    /// itself (`value` None) for a text field.
    pub(super) fn check(
        &self,
        field: &str,
        text: &str,
        value: Option<&Cast>,
        problems: &mut Vec<Problem>,
    ) {
        self.check_length(field, text, value, problems);
        self.check_bounds(field, text, value, problems);
        self.check_pattern(field, text, value, problems);
        self.check_enum(field, text, value, problems);
    }

    fn check_length(
        &self,
        field: &str,
        text: &str,
        value: Option<&Cast>,
        problems: &mut Vec<Problem>,
    ) {
        let length = match value {
            Some(value) => value.length(),
            None => Some(text.chars().count()),
        };
        let Some(length) = length else { return };
        if let Some(min) = self.min_length.filter(|min| length < *min) {
            problems.push(range_problem(
                field,
                "constraint-error/minLength",
                "minLength",
                format!(
                    "{} has {length} characters, fewer than the minimum {min}",
                    quoted(field)
                ),
                format!("Use at least {min} characters in {field}"),
            ));
        }
        if let Some(max) = self.max_length.filter(|max| length > *max) {
            problems.push(range_problem(
                field,
                "constraint-error/maxLength",
                "maxLength",
                format!(
                    "{} has {length} characters, more than the maximum {max}",
                    quoted(field)
                ),
                format!("Shorten {field} to at most {max} characters"),
            ));
        }
    }

    fn check_bounds(
        &self,
        field: &str,
        text: &str,
        value: Option<&Cast>,
        problems: &mut Vec<Problem>,
    ) {
        let compare = |bound: &Cast| match (value, bound) {
            (Some(value), bound) => value.compare(bound),
            (None, Cast::Text(bound)) => Some(text.cmp(bound.as_str())),
            (None, _) => None,
        };
        let bounds: [BoundRule; 4] = [
            (
                &self.minimum,
                "constraint-error/minimum",
                "minimum",
                |o| o == Ordering::Less,
                "below the minimum",
            ),
            (
                &self.maximum,
                "constraint-error/maximum",
                "maximum",
                |o| o == Ordering::Greater,
                "above the maximum",
            ),
            (
                &self.exclusive_minimum,
                "constraint-error/exclusiveMinimum",
                "exclusiveMinimum",
                |o| o != Ordering::Greater,
                "not above the exclusive minimum",
            ),
            (
                &self.exclusive_maximum,
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
                    "minimum" => format!("Use a value of at least {} in {field}", bound.text),
                    "maximum" => format!("Use a value of at most {} in {field}", bound.text),
                    "exclusiveMinimum" => {
                        format!("Use a value greater than {} in {field}", bound.text)
                    }
                    _ => format!("Use a value less than {} in {field}", bound.text),
                };
                problems.push(range_problem(
                    field,
                    code,
                    name,
                    format!("{} value {text:?} is {words} {}", quoted(field), bound.text),
                    remediation,
                ));
            }
        }
    }

    fn check_pattern(
        &self,
        field: &str,
        text: &str,
        value: Option<&Cast>,
        problems: &mut Vec<Problem>,
    ) {
        let Some((pattern, regex)) = &self.pattern else {
            return;
        };
        let subject = match value {
            Some(Cast::Text(text)) => text.as_str(),
            _ => text,
        };
        if !regex.is_match(subject) {
            problems.push(Problem::of_field(
                field,
                IssueKind::PatternMismatch,
                "constraint-error/pattern",
                "constraints.pattern",
                format!(
                    "{} value {text:?} does not match the pattern {pattern}",
                    quoted(field)
                ),
                format!("Write {field} so that it matches {pattern}"),
            ));
        }
    }

    fn check_enum(
        &self,
        field: &str,
        text: &str,
        value: Option<&Cast>,
        problems: &mut Vec<Problem>,
    ) {
        let Some(allowed) = &self.allowed else {
            return;
        };
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
            problems.push(Problem::of_field(
                field,
                IssueKind::InvalidValue,
                "constraint-error/enum",
                "constraints.enum",
                format!(
                    "{} value {text:?} is not one of the allowed values",
                    quoted(field)
                ),
                format!("Use one of: {}", list.join(", ")),
            ));
        }
    }
}

fn range_problem(
    field: &str,
    code: &'static str,
    name: &str,
    message: String,
    remediation: String,
) -> Problem {
    Problem::of_field(
        field,
        IssueKind::RangeViolation,
        code,
        &format!("constraints.{name}"),
        message,
        remediation,
    )
}
