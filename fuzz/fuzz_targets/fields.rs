//! Fuzz target: bytes as one cell's text through every field type, format and option of the
//! validation checks (`rssd::validate::fuzzing`). Any panic is a finding.
#![no_main]

use std::sync::OnceLock;

use rssd::validate::Field;
use rssd::validate::fuzzing::{check_cell, sample_fields};

static FIELDS: OnceLock<Vec<Field>> = OnceLock::new();

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let fields = FIELDS.get_or_init(|| {
        let dir = tempfile::tempdir().expect("a scratch folder");
        sample_fields(dir.path()).expect("the sample schema loads")
    });
    check_cell(fields, &String::from_utf8_lossy(data));
});
