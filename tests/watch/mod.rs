//! `rssd watch`: the real binary runs as a child process over real inbox folders; the tests
//! write files the way uploaders do and check what lands in the database, where the files go,
//! and the log line of each session (`--log-format json`).

mod harness;

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::common::{assert_status, run, stderr};
use harness::*;
use serde_json::Value;

#[test]
fn a_file_written_in_chunks_for_longer_than_settle_is_loaded_once_whole() {
    let (_dir, db, inbox) = setup();
    let mut watcher = Watcher::start(&db, &inbox, &["--settle", "0.8", "--batch-window", "0.2"]);
    let path = inbox.join("slow.csv");
    let mut file = std::fs::File::create(&path).unwrap();
    file.write_all(b"id,name,value\n").unwrap();
    // 15 chunks 0.1 s apart: 1.5 s of writing, each gap well under the settle time.
    let started = Instant::now();
    for chunk in 0..15 {
        std::thread::sleep(Duration::from_millis(100));
        file.write_all(csv_rows(chunk * 100, 100).as_bytes())
            .unwrap();
        file.flush().unwrap();
    }
    drop(file);
    let writing = started.elapsed();
    assert!(
        watcher.sessions().is_empty(),
        "a session began while the file was written"
    );
    let sessions = watcher.wait_sessions(1);
    assert!(writing > Duration::from_millis(800));
    assert_eq!(sessions[0]["files"], 1);
    assert_eq!(sessions[0]["rows"], 1500);
    assert_eq!(count(&db, "SELECT count(*) FROM slow"), 1500);
    assert_eq!(count(&db, "SELECT max(id) FROM slow"), 1499);
    // Nothing more comes of it: one entry, loaded once.
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(watcher.sessions().len(), 1);
    assert_eq!(entry_states(&db), ["slow.csv INGESTED"]);
    assert_eq!(watcher.stop().code(), Some(130));
}

#[test]
fn a_delivery_of_files_is_one_session_and_leaves_for_the_archive() {
    let (dir, db, inbox) = setup();
    let archive = dir.path().join("archive");
    let mut args = vec!["--settle", "0.3", "--batch-window", "1.5"];
    args.extend(["--archive", archive.to_str().unwrap()]);
    let mut watcher = Watcher::start(&db, &inbox, &args);
    std::fs::create_dir(inbox.join("partner")).unwrap();
    let names = ["a.csv", "b.csv", "c.csv", "d.csv", "partner/e.csv"];
    for (i, name) in names.iter().enumerate() {
        drop_csv(&inbox.join(name), 10 + i);
    }
    // Names uploaders write under are never taken.
    std::fs::write(inbox.join("f.csv.part"), "id\n1\n").unwrap();
    std::fs::write(inbox.join(".g.csv"), "id\n1\n").unwrap();
    let sessions = watcher.wait_sessions(1);
    let session = &sessions[0];
    assert_eq!(session["state"], "COMPLETED");
    assert_eq!(session["files"], 5, "{session}");
    assert_eq!(session["loaded"], 5);
    assert_eq!(session["archived"].as_array().unwrap().len(), 5);
    let id = session["session_id"].as_str().unwrap();
    assert_eq!(
        count(
            &db,
            &format!("SELECT count(*) FROM orchestration_session_entry WHERE session_id = '{id}'")
        ),
        5
    );
    assert_eq!(count(&db, "SELECT count(*) FROM e"), 14);
    let day = day_folder(&archive);
    for name in names {
        assert!(day.join(name).is_file(), "{name} is not in the archive");
        assert!(!inbox.join(name).exists(), "{name} is still in the inbox");
    }
    assert!(inbox.join("f.csv.part").exists() && inbox.join(".g.csv").exists());
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(
        watcher.sessions().len(),
        1,
        "the .part and dot files were taken"
    );
}

#[test]
fn a_bad_file_is_quarantined_with_its_issue_and_a_good_one_archived() {
    let (dir, db, inbox) = setup();
    let (archive, quarantine) = (dir.path().join("archive"), dir.path().join("quarantine"));
    let mut args = FAST.to_vec();
    args.extend([
        "--archive",
        archive.to_str().unwrap(),
        "--quarantine",
        quarantine.to_str().unwrap(),
    ]);
    let mut watcher = Watcher::start(&db, &inbox, &args);
    drop_csv(&inbox.join("good.csv"), 5);
    std::fs::write(inbox.join("bad.json"), "{\"id\": [1, 2,").unwrap();
    watcher.wait_for("the files to move", |events| {
        let moved: usize = events
            .iter()
            .filter(|e| e["event"] == "session")
            .map(|s| {
                s["archived"].as_array().unwrap().len() + s["quarantined"].as_array().unwrap().len()
            })
            .sum();
        moved == 2
    });
    assert!(day_folder(&quarantine).join("bad.json").is_file());
    assert!(!day_folder(&archive).join("bad.json").exists());
    assert!(day_folder(&archive).join("good.csv").is_file());
    assert!(!inbox.join("bad.json").exists() && !inbox.join("good.csv").exists());
    let issues = texts(
        &db,
        "SELECT i.issue_type || ': ' || i.issue_message FROM orchestration_session_issue i
         JOIN orchestration_session_entry e ON e.orchestration_session_entry_id = i.session_entry_id
         WHERE e.ingest_src LIKE '%/bad.json' AND json_extract(i.elaboration, '$.severity') = 'error'",
    );
    assert_eq!(issues.len(), 1, "{issues:?}");
    let quarantined: Vec<Value> = watcher
        .sessions()
        .iter()
        .flat_map(|s| s["quarantined"].as_array().unwrap().clone())
        .collect();
    assert!(
        quarantined[0]["from"]
            .as_str()
            .unwrap()
            .ends_with("inbox/bad.json")
    );
    assert_eq!(count(&db, "SELECT count(*) FROM good"), 5);
}

#[test]
fn the_same_file_twice_is_loaded_once_across_restarts() {
    let (dir, db, inbox) = setup();
    // Appending would show a second load as doubled rows.
    let mut args = FAST.to_vec();
    args.extend(["--if-exists", "append"]);
    let mut watcher = Watcher::start(&db, &inbox, &args);
    let path = inbox.join("daily.csv");
    drop_csv(&path, 20);
    watcher.wait_sessions(1);
    // The same content again (a new modification time: the upload repeated).
    drop_csv(&path, 20);
    let sessions = watcher.wait_sessions(2);
    assert_eq!(sessions[1]["unchanged"], 1, "{}", sessions[1]);
    assert_eq!(watcher.stop().code(), Some(130));
    // A restart takes the waiting file first; the digest check keeps it from loading again.
    let out = run(
        &db,
        &[
            "watch",
            "--once",
            "--settle",
            "0.3",
            "--if-exists",
            "append",
            inbox.to_str().unwrap(),
        ],
    );
    assert_status(&out, 0);
    assert!(stderr(&out).contains("1 unchanged"), "{}", stderr(&out));
    assert_eq!(count(&db, "SELECT count(*) FROM daily"), 20);
    assert_eq!(
        entry_states(&db),
        [
            "daily.csv INGESTED",
            "daily.csv UNCHANGED",
            "daily.csv UNCHANGED"
        ]
    );
    // Into an archive, the same file dropped again is kept beside the first, not loaded.
    let archive = dir.path().join("archive");
    let once = |db: &Path| {
        run(
            db,
            &[
                "watch",
                "--once",
                "--settle",
                "0.3",
                "--archive",
                archive.to_str().unwrap(),
                inbox.to_str().unwrap(),
            ],
        )
    };
    assert_status(&once(&db), 0);
    drop_csv(&path, 20);
    assert_status(&once(&db), 0);
    let day = day_folder(&archive);
    assert!(day.join("daily.csv").is_file() && day.join("daily-1.csv").is_file());
    assert_eq!(count(&db, "SELECT count(*) FROM daily"), 20);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM orchestration_session_state WHERE to_state = 'INGESTED'"
        ),
        1
    );
}

#[test]
fn with_a_schema_a_file_left_in_the_inbox_is_checked_and_loaded_once() {
    let (dir, db, inbox) = setup();
    let schema = dir.path().join("schema.json");
    std::fs::write(
        &schema,
        r#"{"fields": [{"name": "id", "type": "integer"}, {"name": "name", "type": "string"},
                       {"name": "value", "type": "number"}]}"#,
    )
    .unwrap();
    let args = [
        "--settle",
        "0.3",
        "--batch-window",
        "0.3",
        "--if-exists",
        "append",
        "--schema",
        schema.to_str().unwrap(),
    ];
    let mut watcher = Watcher::start(&db, &inbox, &args);
    drop_csv(&inbox.join("checked.csv"), 12);
    watcher.wait_sessions(1);
    assert_eq!(watcher.stop().code(), Some(130));
    let mut once = vec!["watch", "--once"];
    once.extend(args);
    once.push(inbox.to_str().unwrap());
    assert_status(&run(&db, &once), 0);
    assert_eq!(count(&db, "SELECT count(*) FROM checked"), 12);
    assert_eq!(
        entry_states(&db),
        ["checked.csv VALIDATED", "checked.csv UNCHANGED"]
    );
}

#[test]
fn sigkill_mid_load_then_restart_loses_nothing_and_loads_nothing_twice() {
    let (_dir, db, inbox) = setup();
    let args = [
        "--settle",
        "0.2",
        "--batch-window",
        "0.2",
        "--if-exists",
        "append",
    ];
    let mut watcher = Watcher::start(&db, &inbox, &args);
    let names = drop_big_files(&inbox);
    let killed = wait_mid_load(&db);
    watcher.signal("KILL");
    watcher.child.wait().unwrap();
    let loaded_before = count(
        &db,
        "SELECT count(*) FROM orchestration_session_state WHERE to_state = 'INGESTED'",
    );
    assert!(
        loaded_before < 4,
        "the kill came after every file was loaded"
    );
    // The restart (--once here) abandons the killed session and takes every file again.
    let out = run(
        &db,
        &[
            "watch",
            "--once",
            "--settle",
            "0.3",
            "--if-exists",
            "append",
            inbox.to_str().unwrap(),
        ],
    );
    assert_status(&out, 0);
    assert_eq!(session_state(&db, &killed), "ABANDONED");
    assert_whole_tables_loaded_once(&db, &names);
    let unchanged = count(
        &db,
        "SELECT count(*) FROM orchestration_session_state WHERE to_state = 'UNCHANGED'",
    );
    assert_eq!(
        unchanged, loaded_before,
        "each file loaded before the kill is unchanged now"
    );
}

#[test]
fn sigterm_mid_load_rolls_back_ends_interrupted_and_exits_130() {
    let (_dir, db, inbox) = setup();
    let watcher = Watcher::start(&db, &inbox, &["--settle", "0.2", "--batch-window", "0.2"]);
    let names = drop_big_files(&inbox);
    let interrupted = wait_mid_load(&db);
    assert_eq!(watcher.stop().code(), Some(130));
    assert_eq!(session_state(&db, &interrupted), "INTERRUPTED");
    // Each entry ended; the one being loaded (if the signal came mid-file) rolled back.
    let states = entry_states(&db);
    assert!(
        states.iter().all(|s| !s.ends_with("INGESTING")),
        "{states:?}"
    );
    assert!(
        states.iter().filter(|s| s.ends_with("INGESTED")).count() < 4,
        "{states:?}"
    );
    for state in states.iter().filter(|s| s.ends_with(" INTERRUPTED")) {
        let table = state.trim_end_matches(".csv INTERRUPTED");
        let tables = format!("SELECT count(*) FROM sqlite_master WHERE name = '{table}'");
        assert_eq!(count(&db, &tables), 0, "{table} was left half loaded");
    }
    let out = run(
        &db,
        &[
            "watch",
            "--once",
            "--settle",
            "0.3",
            inbox.to_str().unwrap(),
        ],
    );
    assert_status(&out, 0);
    assert_whole_tables_loaded_once(&db, &names);
}

#[test]
fn polling_finds_files_without_inotify() {
    // --poll is the path for a folder whose changes inotify does not report (a network file
    // system): no inotify watch is made; the polling watcher's scans find the file.
    let (_dir, db, inbox) = setup();
    let mut args = FAST.to_vec();
    args.extend(["--poll", "0.2"]);
    let mut watcher = Watcher::start(&db, &inbox, &args);
    let watching = watcher
        .events()
        .into_iter()
        .find(|e| e["event"] == "watching")
        .unwrap();
    assert_eq!(watching["mode"], "poll");
    assert_eq!(watching["poll_secs"], 0.2);
    drop_csv(&inbox.join("polled.csv"), 7);
    let sessions = watcher.wait_sessions(1);
    assert_eq!(sessions[0]["loaded"], 1);
    assert_eq!(count(&db, "SELECT count(*) FROM polled"), 7);
    // A change is found by polling too.
    std::fs::write(inbox.join("polled.csv"), "id\n1\n2\n").unwrap();
    let sessions = watcher.wait_sessions(2);
    assert_eq!(sessions[1]["loaded"], 1);
    assert_eq!(count(&db, "SELECT count(*) FROM polled"), 2);
}

#[test]
fn a_file_leaves_for_the_archive_only_after_its_session_committed() {
    let (dir, db, inbox) = setup();
    let archive = dir.path().join("archive");
    let mut args = vec!["--settle", "0.2", "--batch-window", "0.2"];
    args.extend(["--archive", archive.to_str().unwrap()]);
    let mut watcher = Watcher::start(&db, &inbox, &args);
    let names = drop_big_files(&inbox);
    let (mut seen_running, mut seen_archived) = (false, false);
    let started = Instant::now();
    while !seen_archived {
        // Look at the inbox first: a file gone from it must belong to a finished session.
        let gone: Vec<&String> = names.iter().filter(|n| !inbox.join(n).exists()).collect();
        let running = count(
            &db,
            "SELECT count(*) FROM orchestration_session WHERE orch_finished_at IS NULL",
        );
        if running > 0 && gone.is_empty() {
            seen_running = true;
        }
        if !gone.is_empty() {
            assert_eq!(
                running, 0,
                "{gone:?} left the inbox while its session was running"
            );
            seen_archived = true;
        }
        assert!(started.elapsed() < PATIENCE, "nothing was archived");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        seen_running,
        "the session was never seen running with its files in the inbox"
    );
    let sessions = watcher.wait_sessions(1);
    assert_eq!(sessions[0]["state"], "COMPLETED");
    assert_eq!(sessions[0]["archived"].as_array().unwrap().len(), 4);
    for name in &names {
        assert!(day_folder(&archive).join(name).is_file());
    }
}

#[test]
fn bad_options_and_missing_inboxes_are_clear_errors() {
    let (dir, db, inbox) = setup();
    let inbox = inbox.to_str().unwrap();
    for (args, message) in [
        (
            vec!["watch", "--settle=-1", inbox],
            "--settle takes a number of seconds",
        ),
        (
            vec!["watch", "--poll", "0", inbox],
            "--poll takes a number of seconds above 0",
        ),
        (
            vec!["watch", "--once", "--settle", "0.3", "no-such-inbox"],
            "cannot be watched",
        ),
    ] {
        let out = run(&db, &args);
        assert_status(&out, 2);
        assert!(stderr(&out).contains(message), "{args:?}: {}", stderr(&out));
    }
    let file = dir.path().join("file.csv");
    std::fs::write(&file, "id\n1\n").unwrap();
    let out = run(
        &db,
        &["watch", "--once", "--settle", "0.3", file.to_str().unwrap()],
    );
    assert_status(&out, 2);
    assert!(stderr(&out).contains("is not a folder"), "{}", stderr(&out));
}
