//! The architecture the code promises: the library never sees clap (only the binary's
//! src/cli and src/main.rs do), and no module imports a module that imports it back.

use std::path::{Path, PathBuf};
use std::process::Command;

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

#[test]
fn only_the_binary_knows_clap() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut offenders: Vec<String> = files
        .iter()
        .filter(|path| !path.starts_with(src.join("cli")) && **path != src.join("main.rs"))
        .filter(|path| std::fs::read_to_string(path).unwrap().contains("clap"))
        .map(|path| path.display().to_string())
        .collect();
    offenders.sort();
    assert!(files.len() > 20, "walked {} files", files.len());
    assert_eq!(offenders, Vec::<String>::new());
}

#[test]
fn no_module_imports_a_module_that_imports_it_back() {
    let root = env!("CARGO_MANIFEST_DIR");
    let output = Command::new("python3")
        .arg(Path::new(root).join("scripts/module-cycles.py"))
        .output()
        .expect("python3 runs");
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{report}");
    assert!(report.contains(" 0 cycles"), "{report}");
}

#[test]
fn no_function_needs_scrolling() {
    let root = env!("CARGO_MANIFEST_DIR");
    let output = Command::new("python3")
        .arg(Path::new(root).join("scripts/long-functions.py"))
        .arg("120")
        .output()
        .expect("python3 runs");
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        !report.contains(": fn "),
        "functions over 120 lines:\n{report}"
    );
}
