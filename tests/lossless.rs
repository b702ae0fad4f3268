//! Lossless loading, checked the way the fuzz targets check it (`rssd::ingest::fuzzing`):
//! every file of the hostile corpus and every input saved under `fuzz/regressions/` is read
//! by the readers and ingested, and each loaded cell must give back the text the reader read.
//! This replays the fuzzers' findings on every test run, without cargo-fuzz.

#[path = "hostile/corpus.rs"]
mod corpus;

use std::path::{Path, PathBuf};

use rssd::ingest::fuzzing::ingest_and_compare;
use rssd::state::{OpenOptions, StateDb};

fn xlsx(sheets: &[corpus::Sheet]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    for (name, rows) in sheets {
        let sheet = book.add_worksheet().set_name(*name).unwrap();
        for (r, row) in rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                sheet.write(r as u32, c as u16, *cell).unwrap();
            }
        }
    }
    book.save_to_buffer().unwrap()
}

/// Every file under `fuzz/regressions/<target>/`, with the extension its target reads.
fn regressions() -> Vec<(PathBuf, &'static str)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
    let mut found = Vec::new();
    for (target, extension) in [("delimited", "csv"), ("json", "json"), ("workbook", "xlsx")] {
        let Ok(entries) = std::fs::read_dir(root.join(target)) else {
            continue;
        };
        for entry in entries {
            found.push((entry.unwrap().path(), extension));
        }
    }
    found.sort();
    found
}

#[test]
fn every_corpus_file_and_fuzz_finding_loads_without_losing_a_cell() {
    let dir = tempfile::tempdir().unwrap();
    let db = StateDb::open(dir.path().join("rssd.sqlite.db"), &OpenOptions::default()).unwrap();
    let work = dir.path().join("work");
    std::fs::create_dir(&work).unwrap();
    let mut inputs: Vec<(String, Vec<u8>, String)> = Vec::new();
    for case in corpus::cases(&xlsx) {
        let corpus::Content::Bytes(bytes) = case.content else {
            continue;
        };
        let extension = case
            .name
            .rsplit_once('.')
            .map_or("txt".to_string(), |(_, e)| e.to_ascii_lowercase());
        inputs.push((case.name, bytes, extension));
    }
    for (path, extension) in regressions() {
        let bytes = std::fs::read(&path).unwrap();
        inputs.push((path.display().to_string(), bytes, extension.to_string()));
    }
    assert!(inputs.len() >= 100);
    let mut failures = Vec::new();
    let mut tables = 0;
    for (name, bytes, extension) in &inputs {
        let comparison = ingest_and_compare(&db, &work, bytes, extension);
        tables += comparison.tables;
        if !comparison.differences.is_empty() {
            failures.push(format!(
                "{name}:\n    {}",
                comparison.differences.join("\n    ")
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Most of the corpus loads (the rest is refused with an issue): the check is not empty.
    assert!(tables >= 80, "only {tables} tables were compared");
}
