//! Workbook cells as text, the way a person reads them: whole numbers without `.0`, other
//! numbers with at most 15 significant digits (what Excel shows), dates as ISO 8601, booleans
//! as `TRUE`/`FALSE`, formulas as their cached values, error cells as `#DIV/0!` etc. One set
//! of rules for every workbook reader (whole ranges and the xlsx cell stream).

use calamine::Data;

/// A cell as text (empty for an empty cell).
pub fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(text) | Data::DateTimeIso(text) | Data::DurationIso(text) => text.clone(),
        Data::Int(value) => value.to_string(),
        Data::Float(value) => number_text(*value),
        Data::Bool(true) => "TRUE".to_string(),
        Data::Bool(false) => "FALSE".to_string(),
        Data::Error(err) => err.to_string(),
        Data::DateTime(value) => {
            if value.is_duration() {
                return match value.as_duration() {
                    Some(duration) => format!("PT{}S", duration.num_seconds()),
                    None => value.as_f64().to_string(),
                };
            }
            match value.as_datetime() {
                Some(datetime) => {
                    // Display is `YYYY-MM-DD HH:MM:SS[.fff]`.
                    let text = datetime.to_string().replacen(' ', "T", 1);
                    match text.strip_suffix("T00:00:00") {
                        Some(date) => date.to_string(),
                        None => text,
                    }
                }
                None => number_text(value.as_f64()),
            }
        }
    }
}

/// A float as Excel shows it in General format: whole numbers without `.0`, otherwise at
/// most 15 significant digits.
pub fn number_text(value: f64) -> String {
    if !value.is_finite() {
        return value.to_string();
    }
    if value.fract() == 0.0 && value.abs() < 1e15 {
        return format!("{}", value as i64);
    }
    let rounded: f64 = format!("{value:.14e}").parse().unwrap_or(value);
    format!("{rounded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_excel_shows_them() {
        assert_eq!(number_text(3.0), "3");
        assert_eq!(number_text(-2.5), "-2.5");
        assert_eq!(number_text(0.1 + 0.2), "0.3");
        assert_eq!(number_text(1.1), "1.1");
    }
}
