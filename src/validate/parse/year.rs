//! The `year` and `yearmonth` types.

use super::digits;
use super::number::python_int;

/// Four digits.
pub fn year(text: &str) -> Option<i32> {
    let year = digits(text, 4, 4)?;
    Some(year as i32)
}

/// `YYYY-MM` (each part as Python's `int` reads it), the month from 1 to 12.
pub fn yearmonth(text: &str) -> Option<(i32, u32)> {
    let (year, month) = text.split_once('-')?;
    let year = python_int(year)?;
    let month = python_int(month)?;
    if !(1..=12).contains(&month) {
        return None;
    }
    Some((i32::try_from(year).ok()?, month as u32))
}
