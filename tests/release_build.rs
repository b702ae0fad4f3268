//! What a plain build contains: the fuzz targets' entry points (`rssd::ingest::fuzzing`,
//! `rssd::validate::fuzzing`) sit behind the `fuzzing` feature, which a default or release
//! build leaves off. The tests turn it on through the crate's dev-dependency on itself, so
//! the check asks cargo for the features a build without dev-dependencies resolves.

use std::process::Command;

fn features(extra: &[&str]) -> String {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "tree",
            "--locked",
            "--offline",
            "-e",
            "features,no-dev",
            "-i",
            "rssd",
        ])
        .args(extra)
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "cargo tree failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn a_default_build_leaves_the_fuzzing_module_out() {
    let default = features(&[]);
    assert!(default.contains("rssd feature \"default\""), "{default}");
    assert!(!default.contains("\"fuzzing\""), "{default}");
    // The same question with the feature asked for sees it: the check can tell.
    let fuzzing = features(&["--features", "fuzzing"]);
    assert!(fuzzing.contains("rssd feature \"fuzzing\""), "{fuzzing}");
}
