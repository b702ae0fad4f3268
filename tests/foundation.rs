//! The RSSD itself: schema, adoption, refusals, device, sessions, show, abandonment.

use std::time::{Duration, Instant};

use crate::common::*;
use rssd::state::{Exec, Issue, IssueKind, OpenOptions, Severity, StateDb, states};
use serde_json::json;

/// `CREATE TABLE "name" (...)` and `CREATE INDEX` statements of the reference, by name.
fn reference_objects() -> Vec<(String, String)> {
    let text = reference_schema();
    let mut objects = Vec::new();
    for statement in text.split(";\n") {
        let statement: String = statement
            .lines()
            .filter(|line| !line.trim_start().starts_with("--"))
            .collect::<Vec<_>>()
            .join("\n");
        let statement = statement.trim();
        if let Some(rest) = statement
            .strip_prefix("CREATE TABLE \"")
            .or_else(|| statement.strip_prefix("CREATE INDEX \""))
        {
            let name = rest.split('"').next().unwrap().to_string();
            objects.push((name, statement.to_string()));
        }
    }
    objects
}

#[test]
fn fresh_database_schema_matches_the_reference_text() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("fresh.db");
    let out = run(&db, &["init"]);
    assert_status(&out, 0);
    assert!(stdout(&out).contains("created"), "{}", stdout(&out));

    let objects = reference_objects();
    assert_eq!(
        objects
            .iter()
            .filter(|(_, sql)| sql.starts_with("CREATE TABLE"))
            .count(),
        9
    );
    for (name, expected) in objects {
        let stored = column(
            &db,
            &format!("SELECT sql FROM sqlite_master WHERE name = '{name}'"),
        );
        assert_eq!(stored, vec![Some(expected)], "schema of {name}");
    }
    let natures = column(
        &db,
        "SELECT orchestration_nature_id || '/' || nature FROM orchestration_nature ORDER BY 1",
    );
    assert_eq!(
        natures,
        [
            "surveilr-transform-csv/Transform CSV",
            "surveilr-transform-html/Transform HTML",
            "surveilr-transform-xml/Transform XML"
        ]
        .map(|s| Some(s.to_string()))
    );
    assert_eq!(
        column(&db, "PRAGMA journal_mode"),
        vec![Some("wal".to_string())]
    );
}

#[test]
fn init_twice_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("twice.db");
    assert_status(&run(&db, &["init"]), 0);
    let before = dump(&db);
    let out = run(&db, &["init"]);
    assert_status(&out, 0);
    assert!(
        stdout(&out).contains("nothing to create"),
        "{}",
        stdout(&out)
    );
    assert_eq!(before, dump(&db));
}

#[test]
fn existing_rssd_with_foreign_rows_and_user_tables_is_adopted_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("other-tool.db");
    {
        let conn = connect(&db);
        conn.execute_batch(&reference_schema()).unwrap();
        conn.execute_batch(
            r#"
            INSERT INTO device (device_id, name, state, boundary) VALUES ('DEV-1', 'elsewhere', '"SINGLETON"', 'LAB');
            INSERT INTO orchestration_nature (orchestration_nature_id, nature) VALUES ('V&V', 'Verification and Validation');
            INSERT INTO orchestration_session (orchestration_session_id, device_id, orchestration_nature_id, version)
                VALUES ('ORCHSESSID-00ff', 'DEV-1', 'V&V', '0.9');
            INSERT INTO orchestration_session_entry (orchestration_session_entry_id, session_id, ingest_src)
                VALUES ('ORCHSESSENID-1a2b', 'ORCHSESSID-00ff', 'study.csv');
            INSERT INTO orchestration_session_issue (orchestration_session_issue_id, session_id, issue_type, issue_message, issue_row)
                VALUES ('c0ffee00-0000-4000-8000-000000000001', 'ORCHSESSID-00ff', 'Custom', 'text in an integer column', 'row seven');
            INSERT INTO orchestration_session_exec (orchestration_session_exec_id, exec_nature, session_id, exec_code, exec_status)
                VALUES ('ORCHSESSEXID-7', 'sql', 'ORCHSESSID-00ff', 'select 1', 'SUCCESS');
            CREATE TABLE study (id INTEGER, name TEXT);
            INSERT INTO study VALUES (1, 'first'), (2, 'second');
            "#,
        )
        .unwrap();
    }
    // surveilr's other tables are added beside these (tests/surveilr.rs checks them).
    let foreign = |db: &std::path::Path| {
        dump_tables(db, |table| !rssd::state::is_surveilr_object(table))
            .into_iter()
            .filter(|line| {
                !line.starts_with("device:") && !line.starts_with("schema: CREATE TABLE \"device\"")
            })
            .collect::<Vec<_>>()
    };
    let before = foreign(&db);
    assert_status(&run(&db, &["init"]), 0);
    assert_status(&run(&db, &["sessions"]), 0);
    let after = foreign(&db);
    assert_eq!(
        before, after,
        "rows of the other tool and the user's table are untouched"
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM device WHERE device_id = 'DEV-1' AND name = 'elsewhere'"
        ),
        1
    );
    assert_eq!(count(&db, "SELECT count(*) FROM device"), 2);

    let listing = json_stdout(&run(&db, &["sessions", "--format", "json"]));
    assert_eq!(listing[0]["session_id"], "ORCHSESSID-00ff");
    assert_eq!(
        listing[0]["issues_error"], 1,
        "an issue without severity counts as an error"
    );
}

#[test]
fn existing_table_missing_a_column_is_refused_by_name_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("old.db");
    connect(&db)
        .execute_batch(
            "CREATE TABLE orchestration_session_entry (orchestration_session_entry_id VARCHAR PRIMARY KEY, session_id VARCHAR, ingest_src TEXT, ingest_table_name TEXT);",
        )
        .unwrap();
    let bytes = std::fs::read(&db).unwrap();
    let out = run(&db, &["init"]);
    assert_status(&out, 2);
    let err = stderr(&out);
    assert!(
        err.contains("orchestration_session_entry") && err.contains("elaboration"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "one-line reason: {err}");
    assert_eq!(bytes, std::fs::read(&db).unwrap());
}

#[test]
fn non_sqlite_and_read_only_files_fail_with_exit_2_and_stay_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.db");
    std::fs::write(&text, "id,name\n1,not a database\n").unwrap();
    let out = run(&text, &["init"]);
    assert_status(&out, 2);
    assert!(
        stderr(&out).contains("not a SQLite database"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read(&text).unwrap(),
        b"id,name\n1,not a database\n"
    );

    let readonly = dir.path().join("readonly.db");
    assert_status(&run(&readonly, &["init"]), 0);
    // Fold the WAL into the main file so the bytes on disk are the whole database.
    connect(&readonly)
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .unwrap();
    let bytes = std::fs::read(&readonly).unwrap();
    let mut permissions = std::fs::metadata(&readonly).unwrap().permissions();
    permissions.set_readonly(true);
    std::fs::set_permissions(&readonly, permissions).unwrap();
    for command in [&["init"][..], &["sessions"][..]] {
        let out = run(&readonly, command);
        assert_status(&out, 2);
        assert!(stderr(&out).contains("read-only"), "{}", stderr(&out));
    }
    assert_eq!(bytes, std::fs::read(&readonly).unwrap());
}

#[test]
fn a_locked_database_fails_with_a_clear_reason_after_the_busy_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("locked.db");
    assert_status(&run(&db, &["init"]), 0);
    let holder = connect(&db);
    holder.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let started = Instant::now();
    let out = rssd()
        .arg("-d")
        .arg(&db)
        .args(["--busy-timeout", "0.3", "init"])
        .output()
        .unwrap();
    assert_status(&out, 2);
    assert!(
        stderr(&out).contains("locked by another process"),
        "{}",
        stderr(&out)
    );
    assert!(started.elapsed() >= Duration::from_millis(300));
    holder.execute_batch("ROLLBACK").unwrap();
}

#[test]
fn device_is_upserted_once_per_machine_and_name() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("device.db");
    assert_status(&run(&db, &["init"]), 0);
    assert_status(&run(&db, &["init"]), 0);
    assert_eq!(count(&db, "SELECT count(*) FROM device"), 1);
    assert_status(
        &run(
            &db,
            &["--device-name", "lab-pc", "--boundary", "LAB", "init"],
        ),
        0,
    );
    assert_status(
        &run(
            &db,
            &["--device-name", "lab-pc", "--boundary", "LAB", "init"],
        ),
        0,
    );
    assert_eq!(count(&db, "SELECT count(*) FROM device"), 2);
    let row = column(
        &db,
        "SELECT state || ' ' || boundary || ' ' || json_extract(state_sysinfo, '$.os') || ' ' || (json_extract(state_sysinfo, '$.cpu_count') > 0)
              || ' ' || (json_extract(state_sysinfo, '$.memory_total_bytes') > 0) || ' ' || (json_extract(state_sysinfo, '$.arch') IS NOT NULL)
              || ' ' || (json_extract(state_sysinfo, '$.host_name') IS NOT NULL)
         FROM device WHERE name = 'lab-pc'",
    );
    assert_eq!(
        row,
        vec![Some(format!(
            "\"SINGLETON\" LAB {} 1 1 1 1",
            std::env::consts::OS
        ))]
    );
}

#[test]
fn a_session_recorded_through_the_api_shows_in_sessions_and_show() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("api.db");
    let session_id = {
        let db = StateDb::open(&path, &OpenOptions::default()).unwrap();
        let mut session = db
            .begin_session("ingest", &json!({"argv": ["rssd", "ingest", "x"]}))
            .unwrap();
        let a = session
            .add_entry("in/a.csv", Some("a"), &json!({"rows": 10}))
            .unwrap();
        let b = session.add_entry("in/b.bin", None, &json!({})).unwrap();
        session
            .entry_transition(&a, states::INGESTING, "reading")
            .unwrap();
        session
            .entry_transition(&a, states::INGESTED, "10 rows")
            .unwrap();
        session
            .entry_transition(&b, states::FAILED, "no reader")
            .unwrap();
        session
            .exec(&Exec::new("sql", "CREATE TABLE a (x)").entry(&a))
            .unwrap();
        session
            .issue(
                &Issue::new(IssueKind::BlankRow, "row 3 is blank")
                    .entry(&a)
                    .row(3)
                    .severity(Severity::Warning),
            )
            .unwrap();
        session
            .issue(&Issue::new(IssueKind::UnsupportedFormat, "no reader for .bin").entry(&b))
            .unwrap();
        session
            .issue(&Issue::new(IssueKind::UnsupportedFormat, "second").entry(&b))
            .unwrap();
        let id = session.id().to_string();
        session.finish_completed("2 files").unwrap();
        id
    };

    let listing = json_stdout(&run(&path, &["sessions", "--format", "json"]));
    let s = &listing[0];
    assert_eq!(s["session_id"], session_id.as_str());
    assert_eq!(s["nature"], "ingest");
    assert_eq!(s["state"], "COMPLETED");
    assert_eq!(s["entries"], 2);
    assert_eq!(s["issues_error"], 2);
    assert_eq!(s["issues_warning"], 1);
    assert!(s["finished_at"].is_string());

    let csv = stdout(&run(&path, &["sessions", "--format", "csv"]));
    assert!(
        csv.starts_with(
            "session,nature,device,started,finished,duration_s,state,entries,errors,warnings\n"
        ),
        "{csv}"
    );
    assert!(csv.contains(&format!("{session_id},ingest,")));

    let detail = json_stdout(&run(&path, &["show", "latest", "--format", "json"]));
    assert_eq!(detail["session"]["session_id"], session_id.as_str());
    let entries = detail["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(
        (entries[0]["source"].as_str(), entries[0]["table"].as_str()),
        (Some("in/a.csv"), Some("a"))
    );
    assert_eq!(
        (
            entries[0]["state"].as_str(),
            entries[0]["rows"].as_i64(),
            entries[0]["issues"].as_i64()
        ),
        (Some("INGESTED"), Some(10), Some(1))
    );
    assert_eq!(
        (
            entries[1]["state"].as_str(),
            entries[1]["table"].is_null(),
            entries[1]["issues"].as_i64()
        ),
        (Some("FAILED"), true, Some(2))
    );
    assert_eq!(detail["args"]["argv"][1], "ingest");

    let table = stdout(&run(&path, &["show", &session_id]));
    assert!(
        table.contains("in/b.bin") && table.contains("FAILED"),
        "{table}"
    );

    let diagnostics: serde_json::Value = serde_json::from_str(
        &column(&path, "SELECT diagnostics_json FROM orchestration_session")[0]
            .clone()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(diagnostics["summary"]["issues"], 3);
    assert_eq!(
        diagnostics["summary"]["issues_by_type"]["Unsupported Format"],
        2
    );
    let md = column(&path, "SELECT diagnostics_md FROM orchestration_session")[0]
        .clone()
        .unwrap();
    assert!(
        md.contains("| 2 | `in/b.bin` | - | FAILED | - | 2 | 2 | 0 |"),
        "{md}"
    );
}

#[test]
fn unknown_session_is_a_clear_error_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("empty.db");
    let out = run(&db, &["show", "01NOTASESSION"]);
    assert_status(&out, 2);
    assert!(
        stderr(&out).contains("no session with id \"01NOTASESSION\""),
        "{}",
        stderr(&out)
    );
    let out = run(&db, &["show", "latest"]);
    assert_status(&out, 2);
    assert!(stderr(&out).contains("no sessions yet"), "{}", stderr(&out));
}

/// Not a test of its own: the child process of the abandonment test. It begins a session
/// through the library and waits to be killed.
#[test]
#[ignore]
fn hold_a_session_open_until_killed() {
    hold_session_until_killed(|session| {
        let entry = session.add_entry("big.csv", None, &json!({})).unwrap();
        session
            .entry_transition(&entry, states::INGESTING, "loading")
            .unwrap();
    });
}

#[test]
fn a_killed_session_is_marked_abandoned_by_the_next_run() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("killed.db");
    let holder = spawn_holder(&db, "foundation::hold_a_session_open_until_killed");

    // While the owner lives, nobody marks its session.
    let live = json_stdout(&run(&db, &["sessions", "--format", "json"]));
    assert_eq!(live[0]["state"], "RUNNING");

    let session_id = holder.kill();
    let out = run(&db, &["sessions", "--format", "json"]);
    assert_status(&out, 0);
    let listing = json_stdout(&out);
    assert_eq!(listing[0]["session_id"], session_id.as_str());
    assert_eq!(listing[0]["state"], "ABANDONED");
    assert!(
        listing[0]["state_reason"]
            .as_str()
            .unwrap()
            .contains("ended without finishing")
    );
    assert_eq!(
        column(
            &db,
            "SELECT from_state || '>' || to_state FROM orchestration_session_state WHERE session_entry_id IS NOT NULL ORDER BY rowid"
        ),
        vec![
            Some("INITIAL>INGESTING".into()),
            Some("INGESTING>ABANDONED".into())
        ]
    );
    assert_eq!(
        count(&db, "SELECT count(*) FROM orchestration_session_entry"),
        1,
        "rows stay in place"
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM orchestration_session WHERE diagnostics_json IS NOT NULL"
        ),
        1
    );
    assert_eq!(
        column(&db, "PRAGMA integrity_check"),
        vec![Some("ok".to_string())]
    );
}
