//! Fuzz target: bytes as a delimited file through `rssd ingest` (see common.rs). The first
//! byte picks the extension (`.csv`, `.tsv` or `.txt`, which sniff differently).
#![no_main]

mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let extension = ["csv", "tsv", "txt"][usize::from(pick % 3)];
    common::check(rest, extension);
});
