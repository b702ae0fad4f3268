//! Crash safety: `rssd` killed with SIGKILL at random moments leaves a database that passes
//! `PRAGMA integrity_check`, holds no half-made table, has its session marked `ABANDONED` by
//! the next run, and the same command run again completes. Ctrl-C stops at a safe point.
//!
//! Kill times are spread with a seeded generator (`RSSD_TEST_SEED` replays a run);
//! `RSSD_CRASH_KILLS=200` is the long mode.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::common::robust::*;
use crate::common::*;

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

/// Runs the scripts to completion; checks every table is whole. Returns the run's time.
fn orchestrate_to_completion(db: &Path, scripts: &[String]) -> Duration {
    let started = Instant::now();
    let out = run(db, &orchestrate_args(scripts));
    let took = started.elapsed();
    assert_status(&out, 0);
    assert_integrity(db);
    assert_eq!(
        user_tables(db),
        [
            ("one".to_string(), ROWS),
            ("three".to_string(), ROWS),
            ("two".to_string(), ROWS)
        ],
    );
    assert_eq!(latest_state(db, &latest_session(db), None), "COMPLETED");
    took
}

#[test]
fn sigkill_at_random_moments_of_an_orchestration_loses_nothing() {
    let (_dir, db, scripts) = setup();
    let args = orchestrate_args(&scripts);
    let summary = kill_loop(
        &db,
        &KillPlan {
            args: &args,
            kills: 20,
            seed: 7,
            earliest: 0.0,
            entries: 3,
            before_each: &|_| {},
            no_partial: &assert_no_partial_table,
            complete: &|db| orchestrate_to_completion(db, &scripts),
        },
    );
    summary.assert_covered(2);
}

#[test]
fn ctrl_c_stops_between_scripts_and_records_interrupted() {
    let (_dir, db, scripts) = setup();
    run(&db, &["init"]);
    // Once the first script runs, ask it to stop.
    let reason = interrupt_once(&db, &orchestrate_args(&scripts), 1);
    assert!(
        reason.starts_with("interrupted after 1 of 3 scripts"),
        "{reason}"
    );
    // The script running at the signal finished; the ones after it never started.
    assert_eq!(user_tables(&db), [("one".to_string(), ROWS)]);
    // Nothing is left for the next run to abandon, and running again completes.
    assert_eq!(assert_abandoned_by_next_run(&db, &[]), 0);
    orchestrate_to_completion(&db, &scripts);
}

#[test]
fn a_second_ctrl_c_ends_at_once_and_the_next_run_abandons_the_session() {
    let (_dir, db, scripts) = setup();
    run(&db, &["init"]);
    // Once the first script runs, ask it to stop.
    let child = spawn_when_entries(&db, &orchestrate_args(&scripts), 1);
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
    let session = latest_session(&db);
    let state = latest_state(&db, &session, None);
    assert!(state == "ABANDONED" || state == "INTERRUPTED", "{state}");
    orchestrate_to_completion(&db, &scripts);
}

/// Rows of the large file: a few MB, a couple of seconds for a debug build.
const BIG_ROWS: i64 = 40_000;
/// Files of the folder, and rows in each.
const FILES: i64 = 60;
const FILE_ROWS: i64 = 40;

fn ingest_args(path: &Path) -> Vec<String> {
    vec![
        "ingest".into(),
        "--no-progress".into(),
        path.display().to_string(),
    ]
}

/// A CSV of `BIG_ROWS` rows with quoted cells, numbers and codes; every row holds the
/// generation `g`, so an old load and a new one can be told apart.
fn write_big_csv(path: &Path, g: usize) {
    let mut text = String::from("id,g,name,amount,code,note\n");
    for i in 1..=BIG_ROWS {
        text.push_str(&format!(
            "{i},{g},name {i},{}.5,{:03},\"note, with a comma and \"\"quotes\"\" {i}\"\n",
            i * 3,
            i % 1000
        ));
    }
    std::fs::write(path, text).unwrap();
}

/// A staged load's rows before its last transaction: under a name of its own, never the file's.
const STAGING: &str =
    "SELECT count(*) FROM sqlite_master WHERE name LIKE '\\_rssd\\_staging\\_%' ESCAPE '\\'";

/// Every table present under a name is one whole generation of its file, in file order (a
/// staged load's staging table aside: the next run drops it, see `ingest_to_completion`).
fn assert_big_table_whole(db: &Path) {
    let named = user_tables(db)
        .into_iter()
        .filter(|(table, _)| !table.starts_with("_rssd_staging_"));
    for (table, rows) in named {
        assert_eq!((table.as_str(), rows), ("big", BIG_ROWS));
        let ordered = count(
            db,
            "SELECT count(*) FROM big WHERE rowid = id AND code = printf('%03d', id % 1000)",
        );
        assert_eq!(ordered, BIG_ROWS);
        assert_eq!(count(db, "SELECT count(DISTINCT g) FROM big"), 1);
    }
}

/// Runs `args` (an ingest) to completion: every table there, each of generation `g`.
/// Returns the run's time.
fn ingest_to_completion(db: &Path, args: &[&str], tables: usize, g: usize) -> Duration {
    let started = Instant::now();
    let out = run(db, args);
    let took = started.elapsed();
    assert_status(&out, 0);
    assert_integrity(db);
    let found = user_tables(db);
    assert_eq!(found.len(), tables);
    let conn = connect(db);
    for (table, _) in found {
        let sql = format!("SELECT count(*) FROM {table} WHERE g <> {g}");
        let other: i64 = conn.query_row(&sql, [], |row| row.get(0)).unwrap();
        assert_eq!(other, 0, "{table} is not of generation {g}");
    }
    assert_eq!(latest_state(db, &latest_session(db), None), "COMPLETED");
    took
}

/// What an ingest crash test varies.
struct IngestCrash<'a> {
    /// The file or folder ingested, inside the test's folder.
    input: &'a str,
    /// More arguments, given the test's folder (e.g. a schema written there).
    extra: &'a dyn Fn(&Path) -> Vec<String>,
    kills: usize,
    seed: u64,
    earliest: f64,
    /// Tables (and entries) a complete run makes.
    tables: usize,
    /// Writes generation `g` of the input.
    write: fn(&Path, usize),
    /// Checks every table present is one whole load of its file.
    whole: fn(&Path),
}

/// Kills `rssd ingest INPUT` at seeded moments with the input rewritten before each attempt,
/// checking after each kill (see `kill_loop`); returns the test folder and the database.
fn kill_ingest(test: &IngestCrash) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rssd.sqlite.db");
    let input = dir.path().join(test.input);
    let generation = std::cell::Cell::new(0);
    let mut args = ingest_args(&input);
    args.extend((test.extra)(dir.path()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let summary = kill_loop(
        &db,
        &KillPlan {
            args: &args,
            kills: test.kills,
            seed: test.seed,
            earliest: test.earliest,
            entries: test.tables,
            before_each: &|attempt| {
                generation.set(attempt);
                (test.write)(&input, attempt);
            },
            no_partial: &test.whole,
            complete: &|db| {
                let took = ingest_to_completion(db, &args, test.tables, generation.get());
                (test.whole)(db);
                took
            },
        },
    );
    summary.assert_covered(2);
    (dir, db)
}

#[test]
fn sigkill_at_random_moments_of_a_large_file_ingest_loses_nothing() {
    kill_ingest(&IngestCrash {
        input: "big.csv",
        extra: &|_| Vec::new(),
        kills: 10,
        seed: 11,
        earliest: 0.4,
        tables: 1,
        write: write_big_csv,
        whole: assert_big_table_whole,
    });
}

/// `FILES` small CSVs: file k holds `FILE_ROWS` rows of (k, n, g).
/// A kill after a staged load's first committed batches leaves its staging table (never a
/// table under the file's name); the next ingest drops it and loads the file whole.
#[test]
fn a_staging_table_left_by_a_kill_is_dropped_by_the_next_run() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rssd.sqlite.db");
    let input = dir.path().join("big.csv");
    write_big_csv(&input, 1);
    assert_status(&run(&db, &["init"]), 0);
    let args = ingest_args(&input);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut child = spawn(&db, &args);
    let started = Instant::now();
    while count(&db, STAGING) == 0 {
        let ended = child.try_wait().expect("wait on rssd");
        assert!(
            ended.is_none(),
            "the load ended before its staging table was seen"
        );
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no staging table after a minute"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("wait on killed rssd");
    assert_integrity(&db);
    assert_eq!(count(&db, STAGING), 1, "the killed load's staging table");
    assert!(user_tables(&db).iter().all(|(table, _)| table != "big"));
    // One table after the next run: the staging table is gone.
    ingest_to_completion(&db, &args, 1, 1);
    assert_big_table_whole(&db);
    assert_eq!(count(&db, STAGING), 0);
}

fn write_folder(folder: &Path, g: usize) {
    std::fs::create_dir_all(folder).unwrap();
    for k in 0..FILES {
        let mut text = String::from("k,n,g\n");
        for n in 1..=FILE_ROWS {
            text.push_str(&format!("{k},{n},{g}\n"));
        }
        std::fs::write(folder.join(format!("f{k:03}.csv")), text).unwrap();
    }
}

/// Every table present holds exactly its file's rows, of one generation.
fn assert_folder_tables_whole(db: &Path) {
    let conn = connect(db);
    for (table, rows) in user_tables(db) {
        let k: i64 = table
            .strip_prefix('f')
            .and_then(|k| k.parse().ok())
            .unwrap_or_else(|| panic!("unexpected table {table}"));
        assert_eq!(rows, FILE_ROWS, "table {table}");
        let sql = format!("SELECT sum(k = {k} AND n = rowid), count(DISTINCT g) FROM {table}");
        let (in_order, generations): (i64, i64) = conn
            .query_row(&sql, [], |row| Ok((row.get(0)?, row.get(1)?)))
            .unwrap();
        assert_eq!((in_order, generations), (FILE_ROWS, 1), "table {table}");
    }
}

#[test]
fn sigkill_at_random_moments_of_a_folder_ingest_loses_nothing() {
    kill_ingest(&IngestCrash {
        input: "incoming",
        extra: &|_| Vec::new(),
        kills: 10,
        seed: 13,
        earliest: 0.0,
        tables: FILES as usize,
        write: write_folder,
        whole: assert_folder_tables_whole,
    });
}

#[test]
fn ctrl_c_stops_an_ingest_at_a_safe_point_and_records_why() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rssd.sqlite.db");
    let folder = dir.path().join("incoming");
    write_folder(&folder, 1);
    run(&db, &["init"]);
    let args = ingest_args(&folder);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let reason = interrupt_once(&db, &args, 3);
    assert!(reason.contains("interrupted"), "{reason}");
    assert_folder_tables_whole(&db);
    let loaded = user_tables(&db).len() as i64;
    assert!(loaded < FILES, "the signal did not stop the run");
    assert_abandoned_by_next_run(&db, &[]);
    ingest_to_completion(&db, &args, FILES as usize, 1);
}

#[test]
fn sigkill_at_random_moments_of_an_ingest_with_validation_loses_nothing() {
    let schema = |dir: &Path| {
        let path = dir.join("schema.json");
        std::fs::write(
            &path,
            r#"{"fields": [
                {"name": "k", "type": "integer", "constraints": {"required": true, "minimum": 0}},
                {"name": "n", "type": "integer", "constraints": {"required": true, "minimum": 1}},
                {"name": "g", "type": "integer"}],
              "primaryKey": ["n"]}"#,
        )
        .unwrap();
        vec!["--schema".to_string(), path.display().to_string()]
    };
    let (_dir, db) = kill_ingest(&IngestCrash {
        input: "incoming",
        extra: &schema,
        kills: 10,
        seed: 17,
        earliest: 0.0,
        tables: FILES as usize,
        write: write_folder,
        whole: assert_folder_tables_whole,
    });
    // The last complete run validated every entry it loaded (with a schema no file is skipped
    // as UNCHANGED), and validation did run across the attempts.
    let unvalidated = count(
        &db,
        &format!(
            "SELECT count(*) FROM orchestration_session_state s WHERE s.session_id = '{0}' AND s.to_state = 'INGESTED'
               AND NOT EXISTS (SELECT 1 FROM orchestration_session_state v WHERE v.session_id = '{0}'
                               AND v.session_entry_id = s.session_entry_id AND v.to_state IN ('VALIDATED', 'INVALID'))",
            latest_session(&db)
        ),
    );
    assert_eq!(
        unvalidated, 0,
        "the last run left loaded entries unvalidated"
    );
    let validated = count(
        &db,
        "SELECT count(*) FROM orchestration_session_state WHERE to_state = 'VALIDATED'",
    );
    assert!(validated > 0, "no run validated anything");
}
