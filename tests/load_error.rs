//! A load that fails for a storage reason, end to end through the binary: the disk fills up
//! (a small tmpfs, mounted in a private mount namespace by `unshare`), or the file-size limit
//! (`ulimit -f`) stops SQLite's writes mid-load. Either way the entry is FAILED with one
//! `Load Error` naming the cause, its table is absent, what was stored before is kept, the
//! session is COMPLETED, and the database passes `PRAGMA integrity_check`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::*;

/// A database holding one loaded table, made without any limit.
fn seeded(dir: &Path) -> PathBuf {
    let db = dir.join("state.sqlite.db");
    let seed = dir.join("seed.csv");
    std::fs::write(&seed, "id,name\n1,kept\n2,kept too\n").unwrap();
    let output = run(&db, &["ingest", "--no-progress", seed.to_str().unwrap()]);
    assert_status(&output, 0);
    db
}

/// About 1.7 MB of CSV: far more than the room the limits leave.
fn big_csv(dir: &Path) -> PathBuf {
    let path = dir.join("big.csv");
    let mut text = String::from("id,name,amount\n");
    for i in 0..60_000 {
        text.push_str(&format!("{i},name number {i},{}.5\n", i * 3));
    }
    std::fs::write(&path, text).unwrap();
    path
}

/// What every storage failure must leave behind, `cause` being SQLite's words for it.
fn assert_one_load_error(db: &Path, output: &Output, cause: &str) {
    assert!(
        output.status.code() == Some(0) || output.status.code() == Some(1),
        "rssd ends normally, not killed or with an error: {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        stdout(output),
        stderr(output)
    );
    let last_session =
        "(SELECT orchestration_session_id FROM orchestration_session ORDER BY rowid DESC LIMIT 1)";
    let entry = format!(
        "(SELECT orchestration_session_entry_id FROM orchestration_session_entry WHERE session_id = {last_session} AND ingest_src LIKE '%big.csv')"
    );
    let state = lines(
        db,
        &format!(
            "SELECT to_state FROM orchestration_session_state WHERE session_entry_id = {entry} ORDER BY rowid DESC LIMIT 1"
        ),
    );
    assert_eq!(state, ["FAILED"], "{}", stderr(output));
    let issues = lines(
        db,
        &format!(
            "SELECT issue_type || ': ' || issue_message FROM orchestration_session_issue WHERE session_entry_id = {entry}"
        ),
    );
    assert_eq!(issues.len(), 1, "exactly one issue: {issues:?}");
    assert!(
        issues[0].starts_with("Load Error: the load failed and was rolled back")
            && issues[0].contains(cause),
        "a Load Error naming the cause ({cause}): {issues:?}"
    );
    let code = lines(
        db,
        &format!(
            "SELECT json_extract(elaboration, '$.code') FROM orchestration_session_issue WHERE session_entry_id = {entry}"
        ),
    );
    assert_eq!(code, ["load-error"]);
    assert_eq!(
        count(db, "SELECT count(*) FROM sqlite_master WHERE name = 'big'"),
        0,
        "the table of the failed load is absent"
    );
    assert_eq!(
        count(db, "SELECT count(*) FROM seed"),
        2,
        "what was stored before is kept"
    );
    assert_eq!(
        lines(
            db,
            &format!(
                "SELECT to_state FROM orchestration_session_state WHERE session_id = {last_session} AND session_entry_id IS NULL ORDER BY rowid DESC LIMIT 1"
            )
        ),
        ["COMPLETED"]
    );
    assert_eq!(lines(db, "PRAGMA integrity_check"), ["ok"]);
}

/// The disk fills up: the database lives on a tmpfs with a few hundred KB to spare, mounted
/// in a mount namespace of its own (no trace left on the host). SQLite says "database or
/// disk is full".
#[test]
fn a_full_disk_mid_load_is_one_load_error() {
    let probe = Command::new("unshare").args(["-rm", "true"]).output();
    if !probe.is_ok_and(|o| o.status.success()) {
        eprintln!(
            "SKIPPED: `unshare -rm` cannot make a mount namespace here (no user namespaces); the file-size-limit test covers the same path"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let seed_db = seeded(dir.path());
    let big = big_csv(dir.path());
    let mount = dir.path().join("small-disk");
    let kept = dir.path().join("kept");
    std::fs::create_dir_all(&mount).unwrap();
    std::fs::create_dir_all(&kept).unwrap();
    let room_kib = std::fs::metadata(&seed_db).unwrap().len() / 1024 + 256;
    // The database is copied onto the small disk, loaded there, and copied back out (with
    // its WAL, which may hold the last commits when the final checkpoint had no room).
    let script = r#"set -e
mount -t tmpfs -o size="$1k" tmpfs "$2"
cp "$3" "$2/state.sqlite.db"
status=0
"$4" -d "$2/state.sqlite.db" ingest --no-progress "$5" >"$6/stdout" 2>"$6/stderr" || status=$?
cp "$2"/state.sqlite.db* "$6/"
exit "$status""#;
    let status = Command::new("unshare")
        .args(["-rm", "sh", "-c", script, "sh"])
        .arg(room_kib.to_string())
        .arg(&mount)
        .arg(&seed_db)
        .arg(env!("CARGO_BIN_EXE_rssd"))
        .arg(&big)
        .arg(&kept)
        .env_remove("RSSD_STATE_DB_FS_PATH")
        .status()
        .unwrap();
    let output = Output {
        status,
        stdout: std::fs::read(kept.join("stdout")).unwrap_or_default(),
        stderr: std::fs::read(kept.join("stderr")).unwrap_or_default(),
    };
    assert_one_load_error(
        &kept.join("state.sqlite.db"),
        &output,
        "database or disk is full",
    );
}

/// The file-size limit (`ulimit -f`, any user, any POSIX system) stops SQLite's writes
/// mid-load: SQLite says "disk I/O error". SIGXFSZ is ignored (inherited through exec) so
/// that the write fails instead of the process being killed.
#[test]
fn a_file_size_limit_mid_load_is_one_load_error() {
    let dir = tempfile::tempdir().unwrap();
    let db = seeded(dir.path());
    let big = big_csv(dir.path());
    let limit_kib = std::fs::metadata(&db).unwrap().len() / 1024 + 256;
    let output = Command::new("bash")
        .args([
            "-c",
            r#"trap "" XFSZ; ulimit -f "$1"; shift; exec "$@""#,
            "bash",
        ])
        .arg(limit_kib.to_string())
        .arg(env!("CARGO_BIN_EXE_rssd"))
        .arg("-d")
        .arg(&db)
        .args(["ingest", "--no-progress"])
        .arg(&big)
        .env_remove("RSSD_STATE_DB_FS_PATH")
        .output()
        .unwrap();
    assert_one_load_error(&db, &output, "disk I/O error");
}
