//! The `date` type: ISO dates by default, a few common spellings for `any`, else a
//! `strptime` pattern.

use chrono::NaiveDate;

use super::{digits, strip_fmt};

/// A date cell in the field's format (`default`, `any` or a pattern).
pub fn date(text: &str, format: &str) -> Option<NaiveDate> {
    match format {
        "default" => iso_date(text),
        "any" => any_date(text),
        pattern => NaiveDate::parse_from_str(text, strip_fmt(pattern)).ok(),
    }
}

/// `%Y-%m-%d` as Python's `strptime` reads it: four-digit year, one- or two-digit month and day.
fn iso_date(text: &str) -> Option<NaiveDate> {
    let mut parts = text.splitn(3, '-');
    let year = digits(parts.next()?, 4, 4)?;
    let month = digits(parts.next()?, 1, 2)?;
    let day = digits(parts.next()?, 1, 2)?;
    NaiveDate::from_ymd_opt(year as i32, month, day)
}

fn any_date(text: &str) -> Option<NaiveDate> {
    const PATTERNS: [&str; 6] = [
        "%Y-%m-%d",
        "%Y/%m/%d",
        "%d %B %Y",
        "%d %b %Y",
        "%B %d, %Y",
        "%b %d, %Y",
    ];
    iso_date(text).or_else(|| {
        PATTERNS
            .iter()
            .find_map(|pattern| NaiveDate::parse_from_str(text.trim(), pattern).ok())
    })
}

/// `YYYY-MM-DD` with both separators where they belong (the date part of a datetime).
pub fn strict_date(text: &str) -> Option<NaiveDate> {
    let bytes = text.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    iso_date(text)
}
