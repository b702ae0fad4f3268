//! What every target does: write the input as a file, read it with ingest's readers, ingest
//! it into an RSSD, and panic (the fuzzer's finding) when a loaded cell does not give back
//! the text the reader read. A panic or crash inside rssd is a finding too.

use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use rssd::ingest::fuzzing::ingest_and_compare;
use rssd::state::{OpenOptions, StateDb};

struct Bed {
    dir: tempfile::TempDir,
    db: StateDb,
    runs: u64,
}

/// A fresh RSSD every few thousand inputs keeps each run as fast as the first.
const RUNS_PER_DB: u64 = 2_000;

fn fresh() -> Bed {
    let dir = tempfile::tempdir_in(scratch()).expect("a scratch folder");
    let db = StateDb::open(dir.path().join("fuzz.sqlite.db"), &OpenOptions::default())
        .expect("the fuzzing RSSD opens");
    Bed { dir, db, runs: 0 }
}

/// Memory-backed when the machine has /dev/shm: every input is written as a file.
fn scratch() -> PathBuf {
    let shm = PathBuf::from("/dev/shm");
    if shm.is_dir() {
        shm
    } else {
        std::env::temp_dir()
    }
}

static BED: OnceLock<Mutex<Bed>> = OnceLock::new();

pub fn check(data: &[u8], extension: &str) {
    let mut bed = BED
        .get_or_init(|| Mutex::new(fresh()))
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    bed.runs += 1;
    if bed.runs > RUNS_PER_DB {
        *bed = fresh();
    }
    let comparison = ingest_and_compare(&bed.db, bed.dir.path(), data, extension);
    assert!(
        comparison.differences.is_empty(),
        "a loaded cell differs from what was read:\n{}",
        comparison.differences.join("\n")
    );
}

/// Crates whose panics rssd contains on purpose: the workbook parser and what it reads with.
/// `rssd::ingest` turns a panic inside them into the file's `Unreadable File` issue.
const CONTAINED: [&str; 3] = ["/calamine-", "/zip-", "/quick-xml-"];

/// Called once before fuzzing: libfuzzer-sys aborts on every panic, even one rssd catches.
/// Panics raised inside [`CONTAINED`] crates are let through to rssd's `catch_unwind`; any
/// other panic (rssd's own code, on any thread) still aborts, and is a finding.
pub fn init() {
    let abort_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let contained = info
            .location()
            .is_some_and(|at| CONTAINED.iter().any(|name| at.file().contains(name)));
        if contained {
            eprintln!("contained panic (rssd records the file as unreadable): {info}");
        } else {
            abort_hook(info);
        }
    }));
}
