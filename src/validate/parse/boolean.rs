//! The `boolean` type: one of the field's true or false values, exactly.

pub fn boolean(text: &str, true_values: &[String], false_values: &[String]) -> Option<bool> {
    if true_values.iter().any(|v| v == text) {
        Some(true)
    } else if false_values.iter().any(|v| v == text) {
        Some(false)
    } else {
        None
    }
}
