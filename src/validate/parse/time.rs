//! The `time` type: `HH:MM:SS` with an optional fraction and zone by default, else a
//! `strptime` pattern.

use chrono::NaiveTime;

use super::{digits, strip_fmt};

/// A time cell in the field's format (`default` and `any` read ISO times).
pub fn time(text: &str, format: &str) -> Option<NaiveTime> {
    match format {
        "default" | "any" => iso_time(text),
        pattern => NaiveTime::parse_from_str(text, strip_fmt(pattern)).ok(),
    }
}

/// `HH:MM:SS`, optional fraction and zone (`Z`, `+HH`, `+HH:MM`, `+HHMM`), as frictionless
/// accepts for the default time format.
pub fn iso_time(text: &str) -> Option<NaiveTime> {
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
