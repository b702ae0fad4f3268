//! With `--exclusive-load`, big loads into a database no other connection has open use SQLite's
//! rollback journal (each page written once) and return to WAL; a kill mid-load leaves no half
//! table; with another connection open the load stays in WAL. Without the option, loads always
//! stay in WAL.

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

/// Above the 8 MiB from which a load may leave WAL.
const BIG_ROWS: usize = 240_000;

fn big_csv(dir: &Path) -> PathBuf {
    let mut text = String::from("id,label,score\n");
    for i in 1..=BIG_ROWS {
        text.push_str(&format!("{i},label number {i} of the big file,{i}.25\n"));
    }
    assert!(text.len() > 8 * 1024 * 1024);
    let path = dir.join("big.csv");
    std::fs::write(&path, text).unwrap();
    path
}

fn spawn_ingest(db: &Path, csv: &Path, options: &[&str]) -> Child {
    rssd()
        .arg("-d")
        .arg(db)
        .args(["ingest", "--no-progress"])
        .args(options)
        .arg(csv)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Waits until the load's rollback journal exists (true) or the process ends first (false).
fn journal_seen(child: &mut Child, db: &Path) -> bool {
    let journal = PathBuf::from(format!("{}-journal", db.display()));
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        if journal.exists() {
            return true;
        }
        if child.try_wait().unwrap().is_some() {
            return journal.exists();
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    false
}

/// A fresh database (created by rssd, so in WAL) and the big CSV beside it.
fn fresh_database_and_big_csv(dir: &Path) -> (PathBuf, PathBuf) {
    let csv = big_csv(dir);
    let db = dir.join("rssd.db");
    assert_status(&run(&db, &["sessions"]), 0);
    (db, csv)
}

/// Starts the load alone and waits until it runs under the rollback journal.
fn start_rollback_journal_load(dir: &Path) -> (PathBuf, PathBuf, Child) {
    let (db, csv) = fresh_database_and_big_csv(dir);
    let mut child = spawn_ingest(&db, &csv, &["--exclusive-load"]);
    assert!(
        journal_seen(&mut child, &db),
        "no rollback journal during the load"
    );
    (db, csv, child)
}

fn pragma(db: &Path, name: &str) -> String {
    connect(db)
        .query_row(&format!("PRAGMA {name}"), [], |row| row.get(0))
        .unwrap()
}

#[test]
fn a_big_load_alone_uses_the_rollback_journal_then_wal_again() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _, mut child) = start_rollback_journal_load(dir.path());
    assert!(child.wait().unwrap().success());
    assert_eq!(pragma(&db, "journal_mode"), "wal");
    assert_eq!(pragma(&db, "integrity_check"), "ok");
    assert_eq!(count(&db, "SELECT count(*) FROM big"), BIG_ROWS as i64);
    assert_eq!(
        column(&db, "SELECT type FROM pragma_table_info('big')"),
        [
            Some("INTEGER".into()),
            Some("TEXT".into()),
            Some("REAL".into())
        ]
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM orchestration_session_state WHERE to_state = 'INGESTED'"
        ),
        1
    );
}

#[test]
fn a_kill_during_a_rollback_journal_load_leaves_no_half_table() {
    let dir = tempfile::tempdir().unwrap();
    let (db, csv, mut child) = start_rollback_journal_load(dir.path());
    std::thread::sleep(Duration::from_millis(150));
    // SIGKILL: no chance to clean up.
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(pragma(&db, "integrity_check"), "ok");
    assert_eq!(
        count(&db, "SELECT count(*) FROM sqlite_master WHERE name = 'big'"),
        0,
        "a half table survived the kill"
    );
    // The next run loads the file whole and leaves the database in WAL.
    assert_status(
        &run(&db, &["ingest", "--no-progress", csv.to_str().unwrap()]),
        0,
    );
    assert_eq!(count(&db, "SELECT count(*) FROM big"), BIG_ROWS as i64);
    assert_eq!(pragma(&db, "journal_mode"), "wal");
}

#[test]
fn with_another_connection_open_a_big_load_stays_in_wal() {
    let dir = tempfile::tempdir().unwrap();
    let (db, csv) = fresh_database_and_big_csv(dir.path());
    let reader = connect(&db);
    let before: i64 = reader
        .query_row("SELECT count(*) FROM sqlite_master", [], |row| row.get(0))
        .unwrap();
    assert!(before > 0);
    let mut child = spawn_ingest(&db, &csv, &["--exclusive-load"]);
    assert!(
        !journal_seen(&mut child, &db),
        "left WAL under another connection"
    );
    assert!(child.wait().unwrap().success());
    // The open connection kept reading throughout and sees the new table.
    let rows: i64 = reader
        .query_row("SELECT count(*) FROM big", [], |row| row.get(0))
        .unwrap();
    assert_eq!(rows, BIG_ROWS as i64);
    assert_eq!(pragma(&db, "journal_mode"), "wal");
}

#[test]
fn without_exclusive_load_a_big_load_alone_stays_in_wal() {
    let dir = tempfile::tempdir().unwrap();
    let (db, csv) = fresh_database_and_big_csv(dir.path());
    let mut child = spawn_ingest(&db, &csv, &[]);
    assert!(
        !journal_seen(&mut child, &db),
        "left WAL without --exclusive-load"
    );
    assert!(child.wait().unwrap().success());
    assert_eq!(count(&db, "SELECT count(*) FROM big"), BIG_ROWS as i64);
    assert_eq!(pragma(&db, "journal_mode"), "wal");
}
