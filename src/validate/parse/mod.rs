//! Cell text into values, one file per kind of value, as frictionless-py 5 reads them (the
//! reference implementation), so that counts agree on the same file and schema. Each parser
//! takes the text and the field options it needs, and returns `None` when the text does not
//! fit; none of them knows about fields or issues.

pub mod boolean;
pub mod date;
pub mod datetime;
pub mod duration;
pub mod geopoint;
pub mod json;
pub mod number;
pub mod text_format;
pub mod time;
pub mod year;

/// `fmt:%d/%m/%Y` (the old spelling) and `%d/%m/%Y` both name a pattern.
pub fn strip_fmt(format: &str) -> &str {
    format.strip_prefix("fmt:").unwrap_or(format)
}

/// `text` as a number of `min..=max` ASCII digits.
fn digits(text: &str, min: usize, max: usize) -> Option<u32> {
    if text.len() < min || text.len() > max || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}
