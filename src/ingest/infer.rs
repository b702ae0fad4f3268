//! Lossless type inference: a column is INTEGER or REAL only when storing every one of its
//! values as that type gives back exactly the text that was in the file.
//!
//! SQLite turns an INTEGER back into its plain decimal digits, and a REAL into at most 15
//! significant digits (`%!.15g`: no trailing zeros, `.0` on whole numbers, exponent form below
//! 1e-4 or from 1e15). So `007`, `+5`, `-0`, `1e3`, `1.10`, `.5` and integers beyond 64 bits
//! are not canonical and keep their column TEXT.

use super::ColumnType;

/// True when `text` is the exact text SQLite gives back for an INTEGER it stores.
pub fn is_canonical_integer(text: &[u8]) -> bool {
    let (negative, digits) = match text.first() {
        Some(b'-') => (true, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty() || digits.len() > 19 || !digits.iter().all(u8::is_ascii_digit) {
        return false;
    }
    if digits.len() > 1 && digits[0] == b'0' {
        return false;
    }
    if negative && digits == b"0" {
        return false;
    }
    if digits.len() == 19 {
        let limit: &[u8] = if negative {
            b"9223372036854775808"
        } else {
            b"9223372036854775807"
        };
        return digits <= limit;
    }
    true
}

/// True when `text` is the exact text SQLite gives back for a REAL it stores.
pub fn is_canonical_real(text: &[u8]) -> bool {
    let (negative, body) = match text.first() {
        Some(b'-') => (true, &text[1..]),
        _ => (false, text),
    };
    let Some(dot) = body.iter().position(|&b| b == b'.') else {
        return false;
    };
    let (whole, fraction) = (&body[..dot], &body[dot + 1..]);
    if whole.is_empty()
        || fraction.is_empty()
        || !whole.iter().all(u8::is_ascii_digit)
        || !fraction.iter().all(u8::is_ascii_digit)
        || (whole.len() > 1 && whole[0] == b'0')
    {
        return false;
    }
    let whole_fraction = fraction == b"0";
    if !whole_fraction && fraction.last() == Some(&b'0') {
        return false;
    }
    if whole == b"0" {
        if whole_fraction {
            // 0.0 is fine; -0.0 may come back as 0.0.
            return !negative;
        }
        let zeros = fraction.iter().take_while(|&&b| b == b'0').count();
        // Below 1e-4 SQLite switches to exponent form.
        zeros < 4 && fraction.len() - zeros <= 15
    } else {
        let significant = whole.len() + if whole_fraction { 0 } else { fraction.len() };
        significant <= 15
    }
}

/// Parses text already known to be a canonical integer.
pub fn parse_integer(text: &[u8]) -> Option<i64> {
    std::str::from_utf8(text).ok()?.parse().ok()
}

/// Parses text as a float (any form Rust accepts).
pub fn parse_real(text: &[u8]) -> Option<f64> {
    std::str::from_utf8(text).ok()?.parse().ok()
}

/// True when SQLite's numeric affinity would rewrite this text as a number (so storing it as
/// TEXT in an INTEGER or REAL column would lose its original form).
pub fn looks_numeric(text: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(text) else {
        return false;
    };
    let trimmed = text.trim();
    trimmed.bytes().any(|b| b.is_ascii_digit()) && trimmed.parse::<f64>().is_ok()
}

/// What pass 1 learns about one column.
#[derive(Debug, Clone)]
pub struct ColumnStats {
    integer: bool,
    real: bool,
    /// Every value is a canonical integer or a canonical real.
    numeric: bool,
    pub values: u64,
    pub nulls: u64,
}

impl Default for ColumnStats {
    fn default() -> Self {
        ColumnStats {
            integer: true,
            real: true,
            numeric: true,
            values: 0,
            nulls: 0,
        }
    }
}

impl ColumnStats {
    /// Takes one cell; empty cells are NULL and say nothing about the type.
    #[inline]
    pub fn observe(&mut self, cell: &[u8]) {
        if cell.is_empty() {
            self.nulls += 1;
            return;
        }
        self.values += 1;
        if !self.numeric {
            return;
        }
        let integer = is_canonical_integer(cell);
        let real = !integer && is_canonical_real(cell);
        self.integer &= integer;
        self.real &= real;
        self.numeric = integer || real;
    }

    /// The narrowest lossless type for every value seen (TEXT when there were none).
    pub fn column_type(&self) -> ColumnType {
        if self.values == 0 {
            ColumnType::Text
        } else if self.integer {
            ColumnType::Integer
        } else if self.real {
            ColumnType::Real
        } else {
            ColumnType::Text
        }
    }

    /// True when whole and fractional numbers are mixed: REAL only if the source's cells are
    /// numbers rather than text (workbooks), where `70` then reads back as `70.0`.
    pub fn mixes_whole_and_fractional(&self) -> bool {
        self.values > 0 && self.numeric && !self.integer && !self.real
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::Connection;

    #[test]
    fn integers_must_be_canonical_and_fit_64_bits() {
        for ok in [
            "0",
            "7",
            "-7",
            "9223372036854775807",
            "-9223372036854775808",
        ] {
            assert!(is_canonical_integer(ok.as_bytes()), "{ok}");
        }
        for no in [
            "",
            "-",
            "007",
            "+5",
            "-0",
            "1e3",
            "1.0",
            " 5",
            "5 ",
            "9223372036854775808",
            "-9223372036854775809",
            "12345678901234567890",
        ] {
            assert!(!is_canonical_integer(no.as_bytes()), "{no}");
        }
    }

    #[test]
    fn reals_must_come_back_as_the_same_text() {
        for no in [
            "1.10",
            "1.",
            ".5",
            "1e3",
            "-0.0",
            "0.00001",
            "+1.5",
            "01.5",
            "1.2345678901234567",
            "1234567890123456.0",
            "1,5",
            "NaN",
            "inf",
        ] {
            assert!(!is_canonical_real(no.as_bytes()), "{no}");
        }
        let conn = Connection::open_in_memory().unwrap();
        for ok in [
            "1.5",
            "-1.5",
            "0.0",
            "3.0",
            "0.0001",
            "0.1",
            "123456789012345.0",
            "12345.6789012345",
            "-0.25",
            "100.0",
            "2.5e0x",
        ] {
            if !is_canonical_real(ok.as_bytes()) {
                assert_eq!(ok, "2.5e0x");
                continue;
            }
            let back: String = conn
                .query_row("SELECT CAST(CAST(?1 AS REAL) AS TEXT)", [ok], |r| r.get(0))
                .unwrap();
            assert_eq!(back, ok, "SQLite gives back {back} for {ok}");
        }
    }

    #[test]
    fn integers_come_back_from_sqlite_unchanged() {
        let conn = Connection::open_in_memory().unwrap();
        for ok in ["0", "-7", "9223372036854775807", "-9223372036854775808"] {
            let back: String = conn
                .query_row("SELECT CAST(CAST(?1 AS INTEGER) AS TEXT)", [ok], |r| {
                    r.get(0)
                })
                .unwrap();
            assert_eq!(back, ok);
        }
    }

    #[test]
    fn a_column_is_only_as_narrow_as_all_its_values() {
        let infer = |cells: &[&str]| {
            let mut stats = ColumnStats::default();
            for cell in cells {
                stats.observe(cell.as_bytes());
            }
            stats.column_type()
        };
        assert_eq!(infer(&["1", "", "-3"]), ColumnType::Integer);
        assert_eq!(infer(&["1.5", "2.25"]), ColumnType::Real);
        assert_eq!(infer(&["1", "1.5"]), ColumnType::Text);
        let mut mixed = ColumnStats::default();
        mixed.observe(b"1");
        mixed.observe(b"1.5");
        assert!(mixed.mixes_whole_and_fractional());
        assert_eq!(infer(&["1", "007"]), ColumnType::Text);
        assert_eq!(infer(&["", ""]), ColumnType::Text);
        assert_eq!(infer(&["a"]), ColumnType::Text);
    }
}
