//! The `datetime` type: an ISO date and time by default, else a `strptime` pattern.

use chrono::NaiveDateTime;

use super::date::strict_date;
use super::strip_fmt;
use super::time::iso_time;

/// A datetime cell in the field's format (`default` and `any` read ISO date-times).
pub fn datetime(text: &str, format: &str) -> Option<NaiveDateTime> {
    match format {
        "default" | "any" => iso_datetime(text),
        pattern => NaiveDateTime::parse_from_str(text, strip_fmt(pattern)).ok(),
    }
}

/// A date, one separator character, then a time as for the time type (at least 19
/// characters, as frictionless requires).
fn iso_datetime(text: &str) -> Option<NaiveDateTime> {
    if text.len() < 19 || !text.is_char_boundary(10) || !text.is_char_boundary(11) {
        return None;
    }
    let date = strict_date(&text[..10])?;
    let time = iso_time(&text[11..])?;
    Some(date.and_time(time))
}
