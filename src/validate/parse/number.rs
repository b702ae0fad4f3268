//! The `integer` and `number` types: Python's `int` and `Decimal` syntax, after the field's
//! group and decimal characters and `bareNumber: false` are applied.

/// An integer cell; `bare_number: false` allows text around the digits (`$ 12`, `15%`).
pub fn integer(text: &str, bare_number: bool) -> Option<i128> {
    let text = if bare_number {
        text.trim()
    } else {
        strip_non_numeric(text)
    };
    python_int(text)
}

/// A number cell: group characters dropped, the decimal character read as `.`, text around
/// the digits allowed when `bare_number` is false.
pub fn number(
    text: &str,
    decimal_char: &str,
    group_char: Option<&str>,
    bare_number: bool,
) -> Option<f64> {
    let mut owned;
    let mut text = text;
    if let Some(group) = group_char.filter(|g| !g.is_empty()) {
        owned = text.replace(group, "");
        text = &owned;
    }
    if decimal_char != "." && !decimal_char.is_empty() {
        owned = text.replace(decimal_char, ".");
        text = &owned;
    }
    if !bare_number {
        text = strip_non_numeric(text);
    }
    python_decimal(text)
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
pub fn python_int(text: &str) -> Option<i128> {
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
pub fn python_decimal(text: &str) -> Option<f64> {
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
