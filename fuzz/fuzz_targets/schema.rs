//! Fuzz target: bytes as a Table Schema or Data Package descriptor (JSON or YAML, by the first
//! byte), loaded as `--schema` loads it, its fields then checking a few cells
//! (`rssd::validate::fuzzing::load_and_check`). A bad schema is an error, never a panic.
#![no_main]

use std::sync::OnceLock;

static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let dir = DIR.get_or_init(|| tempfile::tempdir().expect("a scratch folder"));
    rssd::validate::fuzzing::load_and_check(dir.path(), data);
});
