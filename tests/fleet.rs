//! `rssd merge` and `rssd push` end to end: real binary, real RSSDs, a real PostgreSQL server.

mod pg;

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;
use pg::Cluster;

/// A device RSSD `NAME.db` in `dir` holding one ingest session of `files` (name, content).
fn device_rssd(dir: &Path, name: &str, files: &[(&str, &str)]) -> PathBuf {
    let db = dir.join(format!("{name}.db"));
    ingest_into(&db, name, files);
    db
}

/// One more ingest session on `db`, by device `name`.
fn ingest_into(db: &Path, name: &str, files: &[(&str, &str)]) {
    ingest_with(db, name, files, &[]);
}

/// As [`ingest_into`], with more `rssd ingest` options.
fn ingest_with(db: &Path, name: &str, files: &[(&str, &str)], options: &[&str]) {
    let folder = db.with_extension(format!("in{}", rand_suffix()));
    std::fs::create_dir_all(&folder).unwrap();
    for (file, content) in files {
        std::fs::write(folder.join(file), content).unwrap();
    }
    let out = rssd()
        .arg("-d")
        .arg(db)
        .args([
            "--device-name",
            name,
            "ingest",
            "--no-progress",
            "--fail-on",
            "never",
        ])
        .args(options)
        .arg(&folder)
        .output()
        .unwrap();
    assert_status(&out, 0);
}

fn rand_suffix() -> String {
    rssd::state::new_id()
}

const STUDY: &str = "id,name,code,weight\n1,ann,007,61.5\n2,bob,008,70.5\n3,cy,010,80.25\n";

fn merge(target: &Path, args: &[&str]) -> Output {
    rssd()
        .arg("-d")
        .arg(target)
        .args(["--device-name", "hub", "--busy-timeout", "0.3", "merge"])
        .args(args)
        .output()
        .unwrap()
}

fn path_str(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn merge_three_devices_then_again_adds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let dbs: Vec<PathBuf> = ["clinic-a", "clinic-b", "clinic-c"]
        .iter()
        .map(|n| device_rssd(dir.path(), n, &[("study.csv", STUDY)]))
        .collect();
    let hub = dir.path().join("hub.db");
    let args: Vec<&str> = dbs.iter().map(|p| path_str(p)).collect();
    let out = merge(&hub, &args);
    assert_status(&out, 0);
    assert_eq!(count(&hub, "SELECT count(*) FROM study"), 9);
    assert_eq!(
        count(&hub, "SELECT count(DISTINCT _rssd_entry_id) FROM study"),
        3
    );
    // `007` stays text, and every merged row traces back to its device through its entry.
    assert_eq!(
        lines(&hub, "SELECT DISTINCT code FROM study ORDER BY 1"),
        ["007", "008", "010"]
    );
    assert_eq!(
        lines(
            &hub,
            "SELECT DISTINCT d.name FROM study t
             JOIN orchestration_session_entry e ON e.orchestration_session_entry_id = t._rssd_entry_id
             JOIN orchestration_session s ON s.orchestration_session_id = e.session_id
             JOIN device d ON d.device_id = s.device_id ORDER BY 1"
        ),
        ["clinic-a", "clinic-b", "clinic-c"]
    );
    let ingest_sessions =
        "SELECT count(*) FROM orchestration_session WHERE orchestration_nature_id = 'ingest'";
    assert_eq!(count(&hub, ingest_sessions), 3);
    // The merge is a session with one MERGED entry per candidate.
    assert_eq!(
        lines(
            &hub,
            "SELECT st.to_state FROM orchestration_session_state st
             JOIN orchestration_session_entry e ON e.orchestration_session_entry_id = st.session_entry_id
             JOIN orchestration_session s ON s.orchestration_session_id = e.session_id
             WHERE s.orchestration_nature_id = 'merge' ORDER BY st.rowid"
        ),
        ["MERGED", "MERGED", "MERGED"]
    );

    let before = count(&hub, "SELECT count(*) FROM study")
        + count(&hub, "SELECT count(*) FROM orchestration_session_issue");
    let again = merge(&hub, &args);
    assert_status(&again, 0);
    assert!(
        stdout(&again).matches("UNCHANGED").count() == 3,
        "{}",
        stdout(&again)
    );
    let after = count(&hub, "SELECT count(*) FROM study")
        + count(&hub, "SELECT count(*) FROM orchestration_session_issue");
    assert_eq!(before, after);
    assert_eq!(count(&hub, ingest_sessions), 3);

    // A candidate that gained a session since brings only that one.
    ingest_into(&dbs[1], "clinic-b", &[("visits.csv", "v,w\n1,2\n")]);
    let third = merge(&hub, &args);
    assert_status(&third, 0);
    assert_eq!(count(&hub, ingest_sessions), 4);
    assert_eq!(count(&hub, "SELECT count(*) FROM study"), 9);
    assert_eq!(count(&hub, "SELECT count(*) FROM visits"), 1);
}

const MORE_STUDY: &str = "id,name,code,weight\n4,dee,011,55.5\n";

#[test]
fn a_table_appended_to_since_brings_only_its_new_rows() {
    let dir = tempfile::tempdir().unwrap();
    let a = device_rssd(dir.path(), "dev-a", &[("study.csv", STUDY)]);
    let hub = dir.path().join("hub.db");
    assert_status(&merge(&hub, &[path_str(&a)]), 0);
    ingest_with(
        &a,
        "dev-a",
        &[("study.csv", MORE_STUDY)],
        &["--if-exists", "append"],
    );
    assert_eq!(count(&a, "SELECT count(*) FROM study"), 4);
    assert_status(&merge(&hub, &[path_str(&a)]), 0);
    assert_eq!(
        lines(
            &hub,
            "SELECT group_concat(name || ':' || _rssd_row, ' ') FROM (SELECT * FROM study ORDER BY rowid)"
        ),
        ["ann:1 bob:2 cy:3 dee:4"]
    );
    assert_eq!(
        count(&hub, "SELECT count(DISTINCT _rssd_entry_id) FROM study"),
        2
    );
    // A replacing delivery is a new entry whose rows all come.
    ingest_into(
        &a,
        "dev-a",
        &[("study.csv", "id,name,code,weight\n5,eve,012,45.5\n")],
    );
    assert_status(&merge(&hub, &[path_str(&a)]), 0);
    assert_eq!(count(&hub, "SELECT count(*) FROM study"), 5);
}

/// `site-NNN.db` for `n` devices, each one ingest of study.csv. Made through the library in
/// this process: so many runs of the binary would be most of a test's time.
fn library_candidates(dir: &Path, n: usize) {
    let csv = dir.join("study.csv");
    std::fs::write(&csv, STUDY).unwrap();
    let inputs = [csv.display().to_string()];
    for i in 0..n {
        let options = rssd::state::OpenOptions {
            device_name: Some(format!("site-{i:03}")),
            ..rssd::state::OpenOptions::default()
        };
        let path = dir.join(format!("site-{i:03}.db"));
        let db = rssd::state::StateDb::open(path, &options).unwrap();
        let ingest = rssd::ingest::IngestOptions {
            progress: false,
            ..rssd::ingest::IngestOptions::default()
        };
        rssd::ingest::ingest(&db, &inputs, &ingest, &rssd::ingest::NoHook).unwrap();
    }
}

#[test]
fn a_killed_merge_leaves_each_candidate_whole_or_absent() {
    let dir = tempfile::tempdir().unwrap();
    library_candidates(dir.path(), 60);
    let hub = dir.path().join("hub.db");
    let glob = format!("{}/site-*.db", dir.path().display());
    let merged = "SELECT count(*) FROM orchestration_session_state WHERE to_state = 'MERGED'";
    let mut child = rssd()
        .arg("-d")
        .arg(&hub)
        .args(["merge", "--candidates", &glob])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !hub.exists()
        || rusqlite::Connection::open(&hub)
            .ok()
            .and_then(|c| c.query_row(merged, [], |r| r.get::<_, i64>(0)).ok())
            .unwrap_or(0)
            < 3
    {
        assert!(Instant::now() < deadline, "the merge made no progress");
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(
        child.try_wait().unwrap().is_none(),
        "the merge ended before it could be killed"
    );
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let done = count(&hub, merged);
    assert!(done < 60, "{done}");
    // Every candidate is all there (its session, its entry's rows, its MERGED state) or absent.
    let sessions = count(
        &hub,
        "SELECT count(*) FROM orchestration_session WHERE orchestration_nature_id = 'ingest'",
    );
    assert_eq!(sessions, done);
    assert_eq!(count(&hub, "SELECT count(*) FROM study"), 3 * done);
    assert_eq!(
        count(
            &hub,
            "SELECT count(*) FROM (SELECT _rssd_entry_id FROM study GROUP BY 1 HAVING count(*) <> 3)"
        ),
        0
    );
    assert_status(&merge(&hub, &["--candidates", &glob]), 0);
    assert_eq!(count(&hub, "SELECT count(*) FROM study"), 180);
}

#[test]
fn merge_of_150_candidates_goes_past_the_attach_limit() {
    let dir = tempfile::tempdir().unwrap();
    library_candidates(dir.path(), 150);
    let hub = dir.path().join("hub.db");
    let glob = format!("{}/site-*.db", dir.path().display());
    let out = merge(&hub, &["--candidates", &glob, "--format", "json"]);
    assert_status(&out, 0);
    let summary = json_stdout(&out);
    assert_eq!(summary["candidates"].as_array().unwrap().len(), 150);
    assert_eq!(count(&hub, "SELECT count(*) FROM study"), 450);
    assert_eq!(
        count(
            &hub,
            "SELECT count(DISTINCT device_id) FROM orchestration_session WHERE orchestration_nature_id = 'ingest'"
        ),
        150
    );
    let again = merge(&hub, &["--candidates", &glob]);
    assert_status(&again, 0);
    assert_eq!(count(&hub, "SELECT count(*) FROM study"), 450);
}

/// A copy of a good RSSD with garbage written over its pages after the first.
fn corrupt_copy(good: &Path, to: &Path) {
    let mut bytes = std::fs::read(good).unwrap();
    let page = 4096.min(bytes.len() / 2);
    for (i, byte) in bytes.iter_mut().enumerate().skip(page) {
        *byte = (i * 7 % 251) as u8;
    }
    std::fs::write(to, bytes).unwrap();
}

#[test]
fn bad_candidates_each_get_an_issue_and_the_others_merge() {
    let dir = tempfile::tempdir().unwrap();
    let good = device_rssd(dir.path(), "good", &[("study.csv", STUDY)]);
    let other = device_rssd(dir.path(), "other", &[("study.csv", STUDY)]);
    // Checkpointed into the main file, so the copy holds everything.
    connect(&good)
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .unwrap();
    let corrupt = dir.path().join("corrupt.db");
    corrupt_copy(&good, &corrupt);
    let text = dir.path().join("notes.db");
    std::fs::write(&text, "not a database at all").unwrap();
    let plain = dir.path().join("plain.db");
    connect(&plain)
        .execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1)")
        .unwrap();
    let lacking = dir.path().join("lacking.db");
    connect(&lacking)
        .execute_batch(
            "CREATE TABLE orchestration_session (orchestration_session_id, device_id, orchestration_nature_id, version);
             CREATE TABLE orchestration_session_entry (orchestration_session_entry_id, session_id, ingest_src);",
        )
        .unwrap();
    let locked = dir.path().join("locked.db");
    std::fs::copy(&other, &locked).unwrap();
    let holder = connect(&locked);
    holder
        .execute_batch("PRAGMA journal_mode = DELETE; PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE; UPDATE device SET name = name;")
        .unwrap();
    let missing = dir.path().join("missing.db");

    let hub = dir.path().join("hub.db");
    let candidates = [&good, &corrupt, &text, &plain, &lacking, &locked, &missing];
    let args: Vec<&str> = candidates.iter().map(|p| path_str(p)).collect();
    let out = merge(&hub, &args);
    assert_status(&out, 1);
    drop(holder);
    assert!(
        !missing.exists(),
        "merge must not create a missing candidate"
    );
    assert_eq!(count(&hub, "SELECT count(*) FROM study"), 3);
    let states = lines(
        &hub,
        "SELECT e.ingest_src || ' ' || (SELECT to_state FROM orchestration_session_state st
                 WHERE st.session_entry_id = e.orchestration_session_entry_id ORDER BY rowid DESC LIMIT 1)
         FROM orchestration_session_entry e JOIN orchestration_session s ON s.orchestration_session_id = e.session_id
         WHERE s.orchestration_nature_id = 'merge' ORDER BY e.rowid",
    );
    let expected: Vec<String> = candidates
        .iter()
        .enumerate()
        .map(|(i, p)| {
            format!(
                "{} {}",
                p.display(),
                if i == 0 { "MERGED" } else { "FAILED" }
            )
        })
        .collect();
    assert_eq!(states, expected);
    let issues = lines(
        &hub,
        "SELECT i.issue_type || ': ' || i.issue_message FROM orchestration_session_issue i
         JOIN orchestration_session_entry e ON e.orchestration_session_entry_id = i.session_entry_id
         ORDER BY e.rowid",
    );
    assert_eq!(issues.len(), 6, "{issues:?}");
    assert!(issues[0].contains("corrupt"), "{issues:?}");
    assert!(issues[1].contains("not a SQLite database"), "{issues:?}");
    assert!(
        issues[2].starts_with("Missing Table: not an RSSD"),
        "{issues:?}"
    );
    assert!(
        issues[3].starts_with("Missing Column: table orchestration_session lacks column"),
        "{issues:?}"
    );
    assert!(issues[4].contains("locked"), "{issues:?}");
    assert!(issues[5].contains("No such file"), "{issues:?}");

    // Once the lock is gone, merging again brings the locked candidate in.
    let again = merge(&hub, &[path_str(&locked)]);
    assert_status(&again, 0);
    assert_eq!(count(&hub, "SELECT count(*) FROM study"), 6);
}

#[test]
fn tables_with_other_columns_are_renamed_skipped_or_fail() {
    let dir = tempfile::tempdir().unwrap();
    let a = device_rssd(dir.path(), "dev-a", &[("study.csv", STUDY)]);
    let b = device_rssd(dir.path(), "dev-b", &[("study.csv", "id,extra\n1,x\n")]);
    let hub = dir.path().join("hub.db");
    assert_status(&merge(&hub, &[path_str(&a)]), 0);

    let failed = merge(&hub, &["--tables", "fail", path_str(&b)]);
    assert_status(&failed, 1);
    assert_eq!(
        count(
            &hub,
            "SELECT count(*) FROM sqlite_master WHERE name = 'study_dev-b'"
        ),
        0
    );
    assert_eq!(
        count(
            &hub,
            "SELECT count(*) FROM orchestration_session s JOIN device d USING (device_id) WHERE d.name = 'dev-b'"
        ),
        0,
        "a failed candidate brings nothing"
    );
    assert_eq!(
        count(
            &hub,
            "SELECT count(*) FROM orchestration_session_issue WHERE issue_type = 'Table Exists'"
        ),
        1
    );

    let skipped = merge(&hub, &["--tables", "skip", path_str(&b)]);
    assert_status(&skipped, 0);
    assert_eq!(
        count(
            &hub,
            "SELECT count(*) FROM sqlite_master WHERE name = 'study_dev-b'"
        ),
        0
    );
    assert_eq!(
        count(
            &hub,
            "SELECT count(*) FROM orchestration_session_issue WHERE issue_type = 'Table Exists' AND json_extract(elaboration, '$.severity') = 'warning'"
        ),
        1
    );

    // The sessions came with the skip; the rename brings the table's rows as their own table.
    let renamed = merge(&hub, &[path_str(&b)]);
    assert_status(&renamed, 0);
    assert_eq!(lines(&hub, "SELECT extra FROM \"study_dev-b\""), ["x"]);
    assert_eq!(count(&hub, "SELECT count(*) FROM study"), 3);
    assert!(
        lines(&hub, "SELECT content FROM orchestration_session_log")
            .iter()
            .any(|l| l.contains("merged as study_dev-b"))
    );
}

#[test]
fn issues_still_join_their_rows_after_a_merge() {
    let dir = tempfile::tempdir().unwrap();
    let a = device_rssd(dir.path(), "dev-a", &[("ragged.csv", "a,b\n1,2\n3\n4,5\n")]);
    let hub = dir.path().join("hub.db");
    assert_status(&merge(&hub, &[path_str(&a)]), 0);
    let joined = lines(
        &hub,
        "SELECT i.issue_type || ' ' || t.a FROM orchestration_session_issue i
         JOIN ragged t ON t._rssd_entry_id = i.session_entry_id AND t._rssd_row = i.issue_row",
    );
    let direct = lines(
        &a,
        "SELECT i.issue_type || ' ' || t.a FROM orchestration_session_issue i
         JOIN ragged t ON t.rowid = i.issue_row",
    );
    assert!(!direct.is_empty());
    assert_eq!(joined, direct);
}

#[test]
fn surveilr_made_rssd_merges_its_keyed_tables() {
    let dir = tempfile::tempdir().unwrap();
    let surveilr = dir.path().join("surveilr.db");
    let conn = connect(&surveilr);
    conn.execute_batch(rssd::state::SCHEMA_SQL).unwrap();
    conn.execute_batch(
        "CREATE TABLE uniform_resource (uniform_resource_id VARCHAR PRIMARY KEY NOT NULL, device_id VARCHAR NOT NULL,
            ingest_session_id VARCHAR NOT NULL, uri TEXT NOT NULL, content_digest TEXT NOT NULL, content BLOB,
            nature TEXT, size_bytes INTEGER);
         CREATE INDEX idx_uniform_resource__device_id__uri ON uniform_resource(device_id, uri);
         INSERT INTO device (device_id, name, state, boundary) VALUES ('D1', 'collector', '\"SINGLETON\"', 'UNKNOWN');
         INSERT INTO orchestration_session (orchestration_session_id, device_id, orchestration_nature_id, version, orch_finished_at)
             VALUES ('S1', 'D1', 'surveilr-transform-csv', '1.0', CURRENT_TIMESTAMP);
         INSERT INTO orchestration_session_entry VALUES ('E1', 'S1', 'a.csv', NULL, NULL);
         INSERT INTO orchestration_session_exec (orchestration_session_exec_id, exec_nature, session_id, exec_code, exec_status)
             VALUES ('X1', 'sql', 'S1', 'select 1', 'SUCCESS');
         INSERT INTO uniform_resource VALUES ('U1', 'D1', 'S1', 'file:///a.csv', 'abc', x'00ff', 'csv', 2);
         INSERT INTO uniform_resource VALUES ('U2', 'D1', 'S1', 'file:///b.csv', 'def', 'text', 'csv', 4);",
    )
    .unwrap();
    drop(conn);
    let hub = dir.path().join("hub.db");
    for _ in 0..2 {
        assert_status(&merge(&hub, &[path_str(&surveilr)]), 0);
    }
    assert_eq!(count(&hub, "SELECT count(*) FROM uniform_resource"), 2);
    assert_eq!(
        lines(
            &hub,
            "SELECT hex(content) FROM uniform_resource WHERE uniform_resource_id = 'U1'"
        ),
        ["00FF"]
    );
    assert_eq!(
        lines(&hub, "SELECT exec_status FROM orchestration_session_exec"),
        ["SUCCESS"]
    );
    assert_eq!(
        count(
            &hub,
            "SELECT count(*) FROM sqlite_master WHERE name = 'idx_uniform_resource__device_id__uri'"
        ),
        1
    );
}

// ---------------------------------------------------------------- push

fn push(db: &Path, url: &str, args: &[&str]) -> Output {
    rssd()
        .arg("-d")
        .arg(db)
        .args(["push", url])
        .args(args)
        .env_remove("PGPASSWORD")
        .env_remove("PGPASSFILE")
        .output()
        .unwrap()
}

fn pg_count(client: &mut postgres::Client, sql: &str) -> i64 {
    client.query_one(sql, &[]).unwrap().get(0)
}

/// Orchestration row counts of the RSSD and PostgreSQL, table by table.
fn orchestration_counts(db: &Path, client: &mut postgres::Client) -> Vec<(String, i64, i64)> {
    rssd::state::TABLES
        .iter()
        .map(|t| {
            let here = count(db, &format!("SELECT count(*) FROM {t}"));
            let there = pg_count(client, &format!("SELECT count(*) FROM rssd.{t}"));
            (t.to_string(), here, there)
        })
        .collect()
}

#[test]
fn push_then_again_then_after_a_new_ingest() {
    let cluster = Cluster::start();
    let url = cluster.database("hub");
    let dir = tempfile::tempdir().unwrap();
    let db = device_rssd(
        dir.path(),
        "clinic",
        &[("study.csv", STUDY), ("ragged.csv", "a,b\n1,2\n3\n")],
    );
    let out = push(&db, &url, &["--format", "json"]);
    assert_status(&out, 0);
    assert_eq!(json_stdout(&out)["pushed"].as_array().unwrap().len(), 1);
    let mut pg = cluster.client("hub");
    for (table, here, there) in orchestration_counts(&db, &mut pg) {
        // The nature table holds surveilr's three seed natures that no session uses.
        let expected = if table == "orchestration_nature" {
            1
        } else {
            here
        };
        assert_eq!(there, expected, "{table}");
    }
    let rows = pg
        .query(
            "SELECT id, name, code, weight FROM rssd.study ORDER BY _rssd_row",
            &[],
        )
        .unwrap();
    let first: (i64, String, String, f64) = (
        rows[0].get(0),
        rows[0].get(1),
        rows[0].get(2),
        rows[0].get(3),
    );
    assert_eq!(first, (1, "ann".to_string(), "007".to_string(), 61.5));
    let types: Vec<String> = pg
        .query(
            "SELECT column_name || ' ' || data_type FROM information_schema.columns
             WHERE table_schema = 'rssd' AND table_name IN ('study', 'orchestration_session')
               AND column_name IN ('id', 'code', 'weight', 'elaboration', 'orch_started_at')
             ORDER BY 1",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        types,
        [
            "code text",
            "elaboration jsonb",
            "id bigint",
            "orch_started_at timestamp with time zone",
            "weight double precision"
        ]
    );
    // Issues still join their rows: entry and row number.
    let joined = pg_count(
        &mut pg,
        "SELECT count(*) FROM rssd.orchestration_session_issue i
         JOIN rssd.ragged t ON t._rssd_entry_id = i.session_entry_id AND t._rssd_row = i.issue_row",
    );
    assert!(joined >= 1);

    let snapshot = |pg: &mut postgres::Client| {
        pg_count(pg, "SELECT count(*) FROM rssd.study")
            + 1000 * pg_count(pg, "SELECT count(*) FROM rssd.orchestration_session_state")
    };
    let before = snapshot(&mut pg);
    let again = push(&db, &url, &["--format", "json"]);
    assert_status(&again, 0);
    let summary = json_stdout(&again);
    assert_eq!(summary["pushed"].as_array().unwrap().len(), 0);
    assert_eq!(summary["already_pushed"], 1);
    assert_eq!(snapshot(&mut pg), before);

    ingest_into(&db, "clinic", &[("visits.csv", "v\n1\n2\n")]);
    ingest_with(
        &db,
        "clinic",
        &[("study.csv", MORE_STUDY)],
        &["--if-exists", "append"],
    );
    let newest = lines(
        &db,
        "SELECT orchestration_session_id FROM orchestration_session ORDER BY rowid DESC LIMIT 1",
    );
    let third = push(&db, &url, &["--format", "json"]);
    assert_status(&third, 0);
    let pushed = json_stdout(&third)["pushed"].clone();
    assert_eq!(pushed.as_array().unwrap().len(), 2, "{pushed}");
    assert_eq!(pushed[1]["session_id"], newest[0].as_str());
    assert_eq!(pg_count(&mut pg, "SELECT count(*) FROM rssd.visits"), 2);
    // The appended row came with its own session; the first three were not sent again.
    assert_eq!(pg_count(&mut pg, "SELECT count(*) FROM rssd.study"), 4);
    assert_eq!(
        pg_count(
            &mut pg,
            "SELECT count(DISTINCT _rssd_entry_id) FROM rssd.study"
        ),
        2
    );
    assert_eq!(
        pg_count(&mut pg, "SELECT count(*) FROM rssd.rssd_push_watermark"),
        3
    );
}

#[test]
fn values_that_do_not_fit_their_column_are_kept() {
    let cluster = Cluster::start();
    let url = cluster.database("hub");
    let dir = tempfile::tempdir().unwrap();
    let db = device_rssd(dir.path(), "clinic", &[("study.csv", STUDY)]);
    // Not STRICT: text in an INTEGER column, a blob in a TEXT one, a script's 'SUCCESS' status.
    connect(&db)
        .execute_batch(
            "UPDATE study SET id = 'n/a' WHERE name = 'bob';
             UPDATE study SET name = x'00ff' WHERE name = 'cy';
             UPDATE orchestration_session_exec SET exec_status = 'SUCCESS';",
        )
        .unwrap();
    assert_status(&push(&db, &url, &[]), 0);
    let mut pg = cluster.client("hub");
    let rows: Vec<(Option<i64>, Option<String>, Option<serde_json::Value>)> = pg
        .query(
            "SELECT id, name, _rssd_unfit::text FROM rssd.study ORDER BY _rssd_row",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| {
            let unfit: Option<String> = r.get(2);
            (
                r.get(0),
                r.get(1),
                unfit.map(|u| serde_json::from_str(&u).unwrap()),
            )
        })
        .collect();
    assert_eq!(rows[0], (Some(1), Some("ann".into()), None));
    assert_eq!(
        rows[1],
        (
            None,
            Some("bob".into()),
            Some(serde_json::json!({"id": "n/a"}))
        )
    );
    assert_eq!(
        rows[2].2,
        Some(serde_json::json!({"name": {"blob_hex": "00ff"}}))
    );
    let statuses = pg_count(
        &mut pg,
        "SELECT count(*) FROM rssd.orchestration_session_exec WHERE exec_status = 'SUCCESS'",
    );
    assert_eq!(
        statuses,
        count(&db, "SELECT count(*) FROM orchestration_session_exec")
    );
}

#[test]
fn three_devices_push_into_one_database() {
    let cluster = Cluster::start();
    let url = cluster.database("hub");
    let dir = tempfile::tempdir().unwrap();
    for name in ["site-a", "site-b", "site-c"] {
        let db = device_rssd(dir.path(), name, &[("study.csv", STUDY)]);
        assert_status(&push(&db, &url, &[]), 0);
    }
    let mut pg = cluster.client("hub");
    assert_eq!(pg_count(&mut pg, "SELECT count(*) FROM rssd.study"), 9);
    assert_eq!(
        pg_count(
            &mut pg,
            "SELECT count(DISTINCT _rssd_device_id) FROM rssd.study"
        ),
        3
    );
    assert_eq!(
        pg_count(
            &mut pg,
            "SELECT count(*) FROM rssd.rssd_sessions_per_device"
        ),
        3
    );
    assert_eq!(
        pg_count(&mut pg, "SELECT count(*) FROM rssd.rssd_latest_delivery"),
        3
    );
    assert_eq!(
        pg_count(&mut pg, "SELECT count(*) FROM rssd.rssd_push_devices"),
        3
    );
    pg_count(&mut pg, "SELECT count(*) FROM rssd.rssd_issues_by_week");

    // A fourth device whose study has other columns: refused whole, then renamed.
    let d = device_rssd(dir.path(), "site-d", &[("study.csv", "id,other\n1,x\n")]);
    let refused = push(&d, &url, &[]);
    assert_status(&refused, 2);
    let message = stderr(&refused);
    assert_eq!(message.lines().count(), 1, "{message}");
    assert!(
        message.contains("rssd.study exists with other columns"),
        "{message}"
    );
    assert_eq!(
        pg_count(&mut pg, "SELECT count(*) FROM rssd.rssd_push_watermark"),
        3
    );
    assert_status(&push(&d, &url, &["--tables", "rename"]), 0);
    assert_eq!(
        pg_count(&mut pg, "SELECT count(*) FROM rssd.\"study_site-d\""),
        1
    );
    assert_eq!(pg_count(&mut pg, "SELECT count(*) FROM rssd.study"), 9);
}

/// Waits until PostgreSQL shows a COPY of the push waiting on the lock the test holds.
fn wait_for_blocked_copy(pg: &mut postgres::Client, child: &mut std::process::Child) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let waiting = pg_count(
            pg,
            "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'COPY%' AND wait_event_type = 'Lock'",
        );
        if waiting > 0 {
            return;
        }
        if let Some(status) = child.try_wait().unwrap() {
            let mut message = String::new();
            std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut message).unwrap();
            panic!("the push ended ({status}) before its COPY: {message}");
        }
        assert!(Instant::now() < deadline, "the push never reached its COPY");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// An RSSD with one pushed session, then a second session appending to the same table, and a
/// push of it started while the test holds a lock on that table: the push stops mid-session,
/// its orchestration rows already COPY'd in its transaction.
fn push_blocked_mid_session(
    cluster: &Cluster,
    dir: &Path,
) -> (
    PathBuf,
    String,
    std::process::Child,
    postgres::Client,
    postgres::Transaction<'static>,
) {
    let url = cluster.database("hub");
    let db = device_rssd(dir, "clinic", &[("study.csv", STUDY)]);
    assert_status(&push(&db, &url, &[]), 0);
    // A new delivery of study.csv: the table is replaced, its rows now the second entry's.
    ingest_into(
        &db,
        "clinic",
        &[("study.csv", "id,name,code,weight\n4,dee,011,55.5\n")],
    );
    let locker = Box::leak(Box::new(cluster.client("hub")));
    let mut tx = locker.transaction().unwrap();
    tx.batch_execute("LOCK TABLE rssd.study IN ACCESS EXCLUSIVE MODE")
        .unwrap();
    let mut child = rssd()
        .arg("-d")
        .arg(&db)
        .args(["push", &url])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut watcher = cluster.client("hub");
    wait_for_blocked_copy(&mut watcher, &mut child);
    (db, url, child, watcher, tx)
}

#[test]
fn killed_push_leaves_no_half_session_and_the_next_completes() {
    let cluster = Cluster::start();
    let dir = tempfile::tempdir().unwrap();
    let (db, url, mut child, mut pg, tx) = push_blocked_mid_session(&cluster, dir.path());
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    tx.rollback().unwrap();
    // The server ends the dead client's transaction; wait until its backend is gone.
    let deadline = Instant::now() + Duration::from_secs(30);
    while pg_count(
        &mut pg,
        "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'COPY%' AND pid <> pg_backend_pid()",
    ) > 0
    {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        pg_count(&mut pg, "SELECT count(*) FROM rssd.rssd_push_watermark"),
        1
    );
    assert_eq!(
        pg_count(&mut pg, "SELECT count(*) FROM rssd.orchestration_session"),
        1
    );
    assert_eq!(pg_count(&mut pg, "SELECT count(*) FROM rssd.study"), 3);
    let out = push(&db, &url, &[]);
    assert_status(&out, 0);
    assert_eq!(
        pg_count(&mut pg, "SELECT count(*) FROM rssd.orchestration_session"),
        2
    );
    assert_eq!(pg_count(&mut pg, "SELECT count(*) FROM rssd.study"), 4);
    for (table, here, there) in orchestration_counts(&db, &mut pg) {
        if table != "orchestration_nature" {
            assert_eq!(there, here, "{table}");
        }
    }
}

#[test]
fn server_stopped_mid_push_exits_2_and_the_next_push_completes() {
    let cluster = Cluster::start();
    let dir = tempfile::tempdir().unwrap();
    let (db, url, child, pg, tx) = push_blocked_mid_session(&cluster, dir.path());
    std::mem::forget(tx);
    drop(pg);
    cluster.stop_now();
    let out = child.wait_with_output().unwrap();
    assert_status(&out, 2);
    let message = stderr(&out);
    assert_eq!(message.lines().count(), 1, "{message}");
    assert!(
        message.starts_with("rssd: error: session ") && message.contains("postgres"),
        "{message}"
    );
    cluster.start_server(false);
    let mut pg = cluster.client("hub");
    assert_eq!(
        pg_count(&mut pg, "SELECT count(*) FROM rssd.orchestration_session"),
        1
    );
    assert_status(&push(&db, &url, &[]), 0);
    assert_eq!(
        pg_count(&mut pg, "SELECT count(*) FROM rssd.orchestration_session"),
        2
    );
    assert_eq!(pg_count(&mut pg, "SELECT count(*) FROM rssd.study"), 4);
}

#[test]
fn passwords_from_url_env_or_pgpass_and_clear_errors() {
    let cluster = Cluster::start();
    cluster.database("hub");
    let dir = tempfile::tempdir().unwrap();
    let db = device_rssd(dir.path(), "clinic", &[("study.csv", STUDY)]);
    let port = cluster.port;
    let bare = format!("postgres://{}@127.0.0.1:{port}/hub", pg::PW_USER);

    let refused = push(
        &db,
        &format!("postgres://rssd@127.0.0.1:{}/hub", free_port()),
        &[],
    );
    assert_status(&refused, 2);
    assert!(
        stderr(&refused).contains("cannot connect"),
        "{}",
        stderr(&refused)
    );
    let wrong = push(
        &db,
        &format!("postgres://{}:nope@127.0.0.1:{port}/hub", pg::PW_USER),
        &[],
    );
    assert_status(&wrong, 2);
    assert!(
        stderr(&wrong).contains("password authentication failed"),
        "{}",
        stderr(&wrong)
    );
    assert_eq!(stderr(&wrong).lines().count(), 1);
    let none = push(&db, &bare, &[]);
    assert_status(&none, 2);

    let with_env = rssd()
        .arg("-d")
        .arg(&db)
        .args(["push", &bare, "--schema", "from_env"])
        .env("PGPASSWORD", pg::PW_PASSWORD)
        .env_remove("PGPASSFILE")
        .output()
        .unwrap();
    assert_status(&with_env, 0);

    let home = tempfile::tempdir().unwrap();
    let pgpass = home.path().join(".pgpass");
    let escaped = pg::PW_PASSWORD.replace(':', "\\:");
    std::fs::write(
        &pgpass,
        format!("127.0.0.1:{port}:hub:{}:{escaped}\n", pg::PW_USER),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o600)).unwrap();
    let with_file = rssd()
        .arg("-d")
        .arg(&db)
        .args(["push", &bare, "--schema", "from_file"])
        .env("HOME", home.path())
        .env_remove("PGPASSWORD")
        .env_remove("PGPASSFILE")
        .output()
        .unwrap();
    assert_status(&with_file, 0);
    let mut pg = cluster.client("hub");
    assert_eq!(pg_count(&mut pg, "SELECT count(*) FROM from_file.study"), 3);
    assert_eq!(pg_count(&mut pg, "SELECT count(*) FROM from_env.study"), 3);
}

#[test]
fn push_uses_tls_when_the_server_requires_it() {
    let cluster = Cluster::start_with(true);
    let url = cluster.url("postgres");
    let dir = tempfile::tempdir().unwrap();
    let db = device_rssd(dir.path(), "clinic", &[("study.csv", STUDY)]);
    let plain = push(&db, &format!("{url}?sslmode=disable"), &[]);
    assert_status(&plain, 2);
    assert!(
        stderr(&plain).contains("no encryption") || stderr(&plain).contains("pg_hba"),
        "{}",
        stderr(&plain)
    );
    assert_status(&push(&db, &url, &[]), 0);
    assert_status(&push(&db, &format!("{url}?sslmode=require"), &[]), 0);
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
