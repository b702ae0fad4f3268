//! Fuzz target: bytes as a `.json` file through `rssd ingest` (see common.rs).
#![no_main]

mod common;

libfuzzer_sys::fuzz_target!(init: common::init(), |data: &[u8]| common::check(data, "json"));
