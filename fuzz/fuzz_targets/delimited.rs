//! Fuzz target: bytes as a delimited file through `rssd ingest` (see common.rs); the first
//! byte picks the extension (`rssd::ingest::fuzzing::delimited_input`).
#![no_main]

mod common;

libfuzzer_sys::fuzz_target!(init: common::init(), |data: &[u8]| {
    if let Some((extension, file)) = rssd::ingest::fuzzing::delimited_input(data) {
        common::check(file, extension);
    }
});
