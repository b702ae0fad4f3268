//! The `duration` type: ISO 8601 durations.

/// ISO 8601 durations (`P1Y2M10DT2H30M`, `PT0.5S`, `P3W`), as seconds for ordering (a year
/// counted as 365 days, a month as 30).
pub fn seconds(text: &str) -> Option<f64> {
    let rest = text.strip_prefix('P')?;
    if rest.is_empty() {
        return None;
    }
    let (date_part, time_part) = match rest.split_once('T') {
        Some((date, time)) if !time.is_empty() => (date, Some(time)),
        Some(_) => return None,
        None => (rest, None),
    };
    let mut seconds = units(
        date_part,
        &[
            ('Y', 31_536_000.0),
            ('M', 2_592_000.0),
            ('W', 604_800.0),
            ('D', 86_400.0),
        ],
    )?;
    if let Some(time) = time_part {
        seconds += units(time, &[('H', 3600.0), ('M', 60.0), ('S', 1.0)])?;
    }
    Some(seconds)
}

/// Reads `<number><unit>` pairs in the order `units` lists them.
fn units(mut text: &str, units: &[(char, f64)]) -> Option<f64> {
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
