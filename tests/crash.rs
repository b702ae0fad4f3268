//! Crash safety: `rssd` killed with SIGKILL at random moments leaves a database that passes
//! `PRAGMA integrity_check`, holds no half-made table, has its session marked `ABANDONED` by
//! the next run, and the same command run again completes. Ctrl-C stops at a safe point.
//!
//! Kill times are spread with a seeded generator (`RSSD_TEST_SEED` replays a run);
//! `RSSD_CRASH_KILLS=200` is the long mode.

mod common;
mod robust;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::*;
use robust::*;

/// Rows each script's table gets: enough that a debug build takes a few tenths of a second.
const ROWS: i64 = 60_000;

/// Three scripts, each making one table of exactly `ROWS` rows: with one statement, with an
/// explicit transaction of several statements, and again with one statement. Each drops
/// its table first so that running the scripts again replaces what is there.
fn write_scripts(dir: &Path) -> Vec<String> {
    let series = |table: &str, from: i64, to: i64| {
        format!(
            "WITH RECURSIVE c(x) AS (SELECT {from} UNION ALL SELECT x + 1 FROM c WHERE x < {to})
             SELECT x, printf('%08d row of {table}', x) FROM c"
        )
    };
    let scripts = [
        (
            "1-one.sql",
            format!(
                "DROP TABLE IF EXISTS one;\nCREATE TABLE one (x INTEGER, label TEXT);\nINSERT INTO one {};",
                series("one", 1, ROWS)
            ),
        ),
        (
            "2-two.sql",
            format!(
                "BEGIN;\nDROP TABLE IF EXISTS two;\nCREATE TABLE two (x INTEGER, label TEXT);\nINSERT INTO two {};\nINSERT INTO two {};\nCOMMIT;",
                series("two", 1, ROWS / 2),
                series("two", ROWS / 2 + 1, ROWS)
            ),
        ),
        (
            "3-three.sql",
            format!(
                "DROP TABLE IF EXISTS three;\nCREATE TABLE three AS {};",
                series("three", 1, ROWS)
            ),
        ),
    ];
    scripts
        .iter()
        .map(|(name, text)| {
            let path = dir.join(name);
            std::fs::write(&path, text).unwrap();
            path.display().to_string()
        })
        .collect()
}

fn setup() -> (tempfile::TempDir, PathBuf, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rssd.sqlite.db");
    let scripts = write_scripts(dir.path());
    (dir, db, scripts)
}

fn orchestrate_args(scripts: &[String]) -> Vec<&str> {
    let mut args = vec!["orchestrate", "-n", "crash-test"];
    for script in scripts {
        args.extend(["-s", script.as_str()]);
    }
    args
}

/// A script's statement (`INSERT ... SELECT`, `CREATE TABLE ... AS`) or transaction made
/// a table entirely or not at all: every table present has exactly `ROWS` rows.
fn assert_no_partial_table(db: &Path) {
    for (table, rows) in user_tables(db) {
        assert!(
            rows == ROWS || (table == "one" && rows == 0),
            "table {table} has {rows} rows, not {ROWS}"
        );
    }
}

/// Where the killed run was, read from what it left (before anything else opens the file).
fn phase(db: &Path, sessions_before: i64) -> String {
    if !db.exists()
        || count(
            db,
            "SELECT count(*) FROM sqlite_master WHERE name = 'orchestration_session'",
        ) == 0
    {
        return "creating the schema".into();
    }
    let sessions = count(db, "SELECT count(*) FROM orchestration_session");
    if sessions == sessions_before {
        return "opening, before the session".into();
    }
    let left = unfinished_sessions(db);
    let Some(session) = left.last() else {
        return "after finishing".into();
    };
    let entries: Vec<String> = column(
        db,
        &format!("SELECT orchestration_session_entry_id FROM orchestration_session_entry WHERE session_id = '{session}' ORDER BY rowid"),
    )
    .into_iter()
    .flatten()
    .collect();
    match entries.last() {
        None => "session begun, no script yet".into(),
        Some(entry) => {
            let state = latest_state(db, session, Some(entry));
            if state == "surveilr_orch_completed" && entries.len() == 3 {
                "finishing the session".into()
            } else if state == "surveilr_orch_completed" {
                format!(
                    "between scripts {} and {}",
                    entries.len(),
                    entries.len() + 1
                )
            } else {
                format!("in script {}", entries.len())
            }
        }
    }
}

/// Runs the scripts to completion; checks every table is whole. Returns how long it took.
fn run_to_completion(db: &Path, scripts: &[String]) -> Duration {
    let started = Instant::now();
    let out = run(db, &orchestrate_args(scripts));
    assert_status(&out, 0);
    let elapsed = started.elapsed();
    assert_integrity(db);
    assert_eq!(
        user_tables(db),
        [
            ("one".to_string(), ROWS),
            ("three".to_string(), ROWS),
            ("two".to_string(), ROWS)
        ],
    );
    assert_eq!(
        latest_state(db, &column(db, "SELECT orchestration_session_id FROM orchestration_session ORDER BY rowid DESC LIMIT 1")[0].clone().unwrap(), None),
        "COMPLETED"
    );
    elapsed
}

#[test]
fn sigkill_at_random_moments_of_an_orchestration_loses_nothing() {
    let (_dir, db, scripts) = setup();
    let args = orchestrate_args(&scripts);
    let mut rng = Rng::from_env(7);
    // The first kills land while the file and schema are being made; then the run's length
    // (measured on a complete run) spreads them over every phase.
    let mut span = Duration::from_millis(40);
    let wanted = kills(20);
    let mut phases: BTreeMap<String, usize> = BTreeMap::new();
    let mut killed = 0;
    let mut abandoned = 0;
    for attempt in 0..wanted * 3 {
        if killed == wanted {
            break;
        }
        let sessions_before = if db.exists() {
            count(&db, "SELECT count(*) FROM orchestration_session")
        } else {
            0
        };
        let after = rng.duration(span);
        match kill_after(&db, &args, after) {
            Killed::Exited(status) => {
                assert_eq!(
                    status.code(),
                    Some(0),
                    "attempt {attempt}: run ended on its own"
                );
                *phases.entry("ended before the kill".into()).or_default() += 1;
            }
            Killed::Killed => {
                killed += 1;
                let phase = if db.exists() {
                    phase(&db, sessions_before)
                } else {
                    "before the file".into()
                };
                *phases.entry(phase).or_default() += 1;
                if db.exists() {
                    assert_integrity(&db);
                    assert_no_partial_table(&db);
                    let left = unfinished_sessions(&db);
                    abandoned += assert_abandoned_by_next_run(&db, &left);
                    assert_integrity(&db);
                }
            }
        }
        // The same command, run again, completes and makes every table whole.
        let took = run_to_completion(&db, &scripts);
        if attempt >= 3 {
            span = took;
        }
    }
    eprintln!("{killed} kills, {abandoned} sessions abandoned; phases: {phases:#?}");
    assert_eq!(killed, wanted, "phases: {phases:?}");
    assert!(
        abandoned > 0,
        "no kill left a session to abandon: {phases:?}"
    );
    assert!(
        phases.len() >= 4,
        "kills covered too few phases: {phases:?}"
    );
}

#[test]
fn ctrl_c_stops_between_scripts_and_records_interrupted() {
    let (_dir, db, scripts) = setup();
    run(&db, &["init"]);
    let child = spawn(&db, &orchestrate_args(&scripts));
    // Wait until the first script is running, then ask it to stop.
    let started = Instant::now();
    while count(&db, "SELECT count(*) FROM orchestration_session_entry") == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no script started"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    signal(&child, "INT");
    let output = child.wait_with_output().unwrap();
    assert_status(&output, 130);
    assert!(
        stderr(&output).contains("interrupted"),
        "{}",
        stderr(&output)
    );
    assert_integrity(&db);
    let session = column(
        &db,
        "SELECT orchestration_session_id FROM orchestration_session",
    )[0]
    .clone()
    .unwrap();
    assert_eq!(latest_state(&db, &session, None), "INTERRUPTED");
    let reason = column(
        &db,
        "SELECT transition_reason FROM orchestration_session_state WHERE to_state = 'INTERRUPTED'",
    );
    assert!(
        reason[0]
            .as_deref()
            .unwrap_or("")
            .starts_with("interrupted after 1 of 3 scripts"),
        "{reason:?}"
    );
    // The script running at the signal finished; the ones after it never started.
    assert_eq!(user_tables(&db), [("one".to_string(), ROWS)]);
    assert!(unfinished_sessions(&db).is_empty());
    // Nothing is left for the next run to abandon, and running again completes.
    assert_eq!(assert_abandoned_by_next_run(&db, &[]), 0);
    run_to_completion(&db, &scripts);
}

#[test]
fn a_second_ctrl_c_ends_at_once_and_the_next_run_abandons_the_session() {
    let (_dir, db, scripts) = setup();
    run(&db, &["init"]);
    let child = spawn(&db, &orchestrate_args(&scripts));
    let started = Instant::now();
    while count(&db, "SELECT count(*) FROM orchestration_session_entry") == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no script started"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    signal(&child, "INT");
    std::thread::sleep(Duration::from_millis(20));
    signal(&child, "INT");
    let output = child.wait_with_output().unwrap();
    assert_status(&output, 130);
    assert_integrity(&db);
    assert_no_partial_table(&db);
    // Either it was still inside script 1 (the session is left for the next run to mark) or
    // the first signal had already been handled (INTERRUPTED); never a running session.
    let left = unfinished_sessions(&db);
    assert_abandoned_by_next_run(&db, &left);
    let session = column(
        &db,
        "SELECT orchestration_session_id FROM orchestration_session",
    )[0]
    .clone()
    .unwrap();
    let state = latest_state(&db, &session, None);
    assert!(state == "ABANDONED" || state == "INTERRUPTED", "{state}");
    run_to_completion(&db, &scripts);
}
