//! Lossless loading, checked the way the fuzz targets check it (`rssd::ingest::fuzzing`):
//! every file of the hostile corpus and every input saved under `fuzz/regressions/` is read
//! by the readers and ingested, and each loaded cell must give back the text the reader read.
//! This replays the fuzzers' findings on every test run, without cargo-fuzz.

use crate::hostile::corpus;

use std::path::{Path, PathBuf};

use rssd::ingest::fuzzing::{delimited_input, ingest_and_compare};
use rssd::state::{OpenOptions, StateDb};

/// Every input under `fuzz/regressions/<target>/`, read as its fuzz target reads it:
/// (name, file bytes, extension).
fn regressions() -> Vec<(String, Vec<u8>, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
    let mut found = Vec::new();
    for target in ["delimited", "json", "workbook"] {
        let Ok(entries) = std::fs::read_dir(root.join(target)) else {
            continue;
        };
        let mut paths: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
        paths.sort();
        for path in paths {
            let data = std::fs::read(&path).unwrap();
            let name = path.display().to_string();
            match target {
                "delimited" => {
                    if let Some((extension, file)) = delimited_input(&data) {
                        found.push((name, file.to_vec(), extension.to_string()));
                    }
                }
                "json" => found.push((name, data, "json".into())),
                _ => found.push((name, data, "xlsx".into())),
            }
        }
    }
    found
}

#[test]
fn every_corpus_file_and_fuzz_finding_loads_without_losing_a_cell() {
    let dir = tempfile::tempdir().unwrap();
    let db = StateDb::open(dir.path().join("rssd.sqlite.db"), &OpenOptions::default()).unwrap();
    let work = dir.path().join("work");
    std::fs::create_dir(&work).unwrap();
    let mut inputs: Vec<(String, Vec<u8>, String)> = Vec::new();
    for case in corpus::cases() {
        let corpus::Content::Bytes(bytes) = case.content else {
            continue;
        };
        let extension = case
            .name
            .rsplit_once('.')
            .map_or("txt".to_string(), |(_, e)| e.to_ascii_lowercase());
        inputs.push((case.name, bytes, extension));
    }
    inputs.extend(regressions());
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
    // Most of the corpus loads (the rest is refused with an issue, or repeats bytes loaded
    // already, UNCHANGED): the check is not empty.
    assert!(tables >= 70, "only {tables} tables were compared");
}
