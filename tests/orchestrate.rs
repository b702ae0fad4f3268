//! `rssd orchestrate` and `rssd shell`: users' scripts run in a recorded session, with
//! surveilr's functions, through the real binary.

use std::io::Write;
use std::path::Path;
use std::process::{Output, Stdio};

use crate::common::*;

/// Writes `text` to `dir/name` and returns the path as a string for `-s`.
fn script(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// Runs `rssd -d DB ARGS...` with `input` on standard input.
fn run_with_stdin(db: &Path, args: &[&str], input: &str) -> Output {
    let mut child = rssd()
        .arg("-d")
        .arg(db)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("rssd starts");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().expect("rssd finishes")
}

/// Asserts the exit status and that standard error mentions `text`.
fn assert_error(output: &Output, status: i32, text: &str) {
    assert_status(output, status);
    assert!(
        stderr(output).contains(text),
        "stderr lacks {text:?}:\n{}",
        stderr(output)
    );
}

/// Runs `rssd shell --output json --cmd SQL`, which must succeed, and parses what it prints.
fn shell_json(db: &Path, sql: &str) -> serde_json::Value {
    shell_json_with(db, &[], sql)
}

/// As [`shell_json`] with more options (`--no-observability`).
fn shell_json_with(db: &Path, options: &[&str], sql: &str) -> serde_json::Value {
    let mut args = vec!["shell", "--output", "json", "--cmd", sql];
    args.extend_from_slice(options);
    let out = run(db, &args);
    assert_status(&out, 0);
    json_stdout(&out)
}

/// The id of the one entry the database holds.
fn only_entry(db: &Path) -> String {
    let ids = column(
        db,
        "SELECT orchestration_session_entry_id FROM orchestration_session_entry",
    );
    assert_eq!(ids.len(), 1, "{ids:?}");
    ids[0].clone().unwrap()
}

fn strings(values: &[&str]) -> Vec<Option<String>> {
    values.iter().map(|v| Some(v.to_string())).collect()
}

#[test]
fn scripts_find_their_session_and_write_issues_execs_and_logs_against_it() {
    let (dir, db) = setup();
    // Written the way users' scripts are: ids of their own shape, text in INTEGER columns,
    // a log whose parent_exec_id names an exec (the schema's key points at the log table).
    let s = script(
        dir.path(),
        "checks.sql",
        "INSERT INTO orchestration_session_issue
           (orchestration_session_issue_id, session_id, session_entry_id, issue_type, issue_message, issue_row, issue_column, invalid_value)
         SELECT 'ISSUE-' || hex(randomblob(4)), surveilr_orchestration_context_session_id(),
                json_extract(surveilr_get_orchestration_session_info(surveilr_orchestration_context_session_id()), '$.orchestration_session_entry_id'),
                'Custom Check', 'age out of range', 'row 7', 'age', '-3';
         INSERT INTO orchestration_session_exec
           (orchestration_session_exec_id, exec_nature, session_id, session_entry_id, exec_code, exec_status, input_text, output_text)
         SELECT 'ORCHSESSEXID-1', 'De-identification', orchestration_session_id, orchestration_session_entry_id,
                'UPDATE people SET name = anonymize_name(name)', 'SUCCESS', 'people.name', 'done'
         FROM orchestration_session_info;
         INSERT INTO orchestration_session_log (orchestration_session_log_id, category, parent_exec_id, content, sibling_order)
         VALUES ('LOG-1', 'note', 'ORCHSESSEXID-1', 'written by the script', 'first');
         SELECT surveilr_create_session_exec(surveilr_orchestration_context_session_id(), 'De-identification', 1, 'email column', 'De-identification completed');
         SELECT surveilr_create_session_exec(surveilr_orchestration_context_session_id(), 'check', 'SUCCESS', 'in', 'out', 'no error', '**done**');",
    );
    let out = run(&db, &["orchestrate", "-n", "v&v", "-s", &s]);
    assert_status(&out, 0);
    let session = latest_session(&db);
    let entry = only_entry(&db);

    assert_eq!(
        column(
            &db,
            "SELECT session_id || '|' || session_entry_id || '|' || issue_row || '|' || typeof(issue_row)
             FROM orchestration_session_issue WHERE issue_type = 'Custom Check'"
        ),
        vec![Some(format!("{session}|{entry}|row 7|text"))]
    );
    assert_eq!(
        column(
            &db,
            "SELECT session_id || '|' || session_entry_id || '|' || exec_status
             FROM orchestration_session_exec WHERE orchestration_session_exec_id = 'ORCHSESSEXID-1'"
        ),
        vec![Some(format!("{session}|{entry}|SUCCESS"))]
    );
    assert_eq!(
        column(
            &db,
            "SELECT parent_exec_id || '|' || sibling_order FROM orchestration_session_log WHERE orchestration_session_log_id = 'LOG-1'"
        ),
        strings(&["ORCHSESSEXID-1|first"])
    );
    // surveilr_create_session_exec with 5 and 7 arguments, tied to the running entry.
    assert_eq!(
        column(
            &db,
            &format!(
                "SELECT exec_nature || '|' || exec_status || '|' || input_text || '|' || output_text || '|'
                        || coalesce(exec_error_text, '-') || '|' || coalesce(narrative_md, '-') || '|' || (session_entry_id = '{entry}')
                 FROM orchestration_session_exec
                 WHERE session_id = '{session}' AND exec_nature IN ('De-identification', 'check') AND orchestration_session_exec_id <> 'ORCHSESSEXID-1'
                 ORDER BY rowid"
            )
        ),
        strings(&[
            "De-identification|1|email column|De-identification completed|-|-|1",
            "check|SUCCESS|in|out|no error|**done**|1"
        ])
    );
    // The engine's own rows still hold together.
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM pragma_foreign_key_check('orchestration_session_entry')"
        ),
        0
    );
    assert_eq!(column(&db, "PRAGMA integrity_check"), strings(&["ok"]));
}

#[test]
fn assertions_return_their_answer_and_record_an_issue_per_missing_thing() {
    let (dir, db) = setup();
    let s = script(
        dir.path(),
        "assert.sql",
        "CREATE TABLE uniform_resource_study (patient_id, age);
         CREATE VIEW study_view AS SELECT patient_id FROM uniform_resource_study;
         CREATE TABLE answers AS SELECT
            surveilr_assert_tabular_object('uniform_resource_study') AS table_present,
            surveilr_assert_tabular_object('study_view') AS view_present,
            surveilr_assert_tabular_object('uniform_resource_missing') AS table_missing,
            surveilr_assert_tabular_column('uniform_resource_study', 'patient_id, AGE') AS columns_present,
            surveilr_assert_tabular_column('uniform_resource_study', 'patient_id,visit_date,site') AS columns_missing;",
    );
    let out = run(&db, &["orchestrate", "-n", "v&v", "-s", &s]);
    assert_status(&out, 0);
    assert_eq!(
        column(
            &db,
            "SELECT table_present || view_present || table_missing || columns_present || columns_missing FROM answers"
        ),
        strings(&["11010"])
    );
    let entry = only_entry(&db);
    assert_eq!(
        column(
            &db,
            &format!(
                "SELECT issue_type || '|' || coalesce(issue_column, '-') || '|' || json_extract(elaboration, '$.code') || '|' || (session_entry_id = '{entry}')
                 FROM orchestration_session_issue ORDER BY rowid"
            )
        ),
        strings(&[
            "Missing Table|-|missing-table|1",
            "Missing Column|visit_date|missing-label|1",
            "Missing Column|site|missing-label|1"
        ])
    );
}

#[test]
fn logs_and_natures_made_by_scripts() {
    let (dir, db) = setup();
    let s = script(
        dir.path(),
        "log.sql",
        "CREATE TABLE checks (name);
         INSERT INTO checks VALUES ('a'), ('b');
         SELECT surveilr_orchestration_session_append_log('Table Verification', 'checked ' || name) FROM checks;
         CREATE TABLE nature_result AS SELECT
            surveilr_ensure_orchestration_nature('nightly-vv', 'Nightly V&V', '{\"owner\": \"qa\"}') AS made,
            surveilr_ensure_orchestration_nature('V&V', 'Verification and Validation', NULL) AS again,
            surveilr_orchestration_nature_id('Nightly V&V') AS by_label,
            surveilr_orchestration_nature_id('no-such-nature') AS missing,
            surveilr_orchestration_nature_id('v&v') AS vv,
            surveilr_orchestration_nature_id() AS current,
            surveilr_orchestration_context_active() AS active;",
    );
    let out = run(&db, &["orchestrate", "-n", "v&v", "-s", &s]);
    assert_status(&out, 0);
    let session = latest_session(&db);
    assert_eq!(
        column(
            &db,
            "SELECT category || '|' || content || '|' || json_extract(elaboration, '$.session_id')
             FROM orchestration_session_log ORDER BY rowid"
        ),
        vec![
            Some(format!("Table Verification|checked a|{session}")),
            Some(format!("Table Verification|checked b|{session}")),
        ]
    );
    let made = column(&db, "SELECT made FROM nature_result")[0]
        .clone()
        .unwrap();
    let made: serde_json::Value = serde_json::from_str(&made).unwrap();
    assert_eq!(
        made,
        serde_json::json!({"orchestration_nature_id": "nightly-vv", "nature": "Nightly V&V"})
    );
    assert_eq!(
        column(
            &db,
            "SELECT nature || '|' || json_extract(elaboration, '$.owner') FROM orchestration_nature WHERE orchestration_nature_id = 'nightly-vv'"
        ),
        strings(&["Nightly V&V|qa"])
    );
    assert_eq!(
        column(
            &db,
            "SELECT json_extract(again, '$.nature') || '|' || by_label || '|' || coalesce(missing, 'NULL') || '|' || vv || '|' || current || '|' || active FROM nature_result"
        ),
        strings(&["Verification and Validation|nightly-vv|NULL|V&V|V&V|1"])
    );
}

#[test]
fn deidentification_helpers_give_the_documented_outputs() {
    let (_dir, db) = setup();
    let rows = shell_json(&db, "SELECT mask('1234567890') AS mask, mask('abc') AS mask_short, mask('1234567890', '#') AS mask_hash,
                    generalize_age(32) AS age, generalize_age('47') AS age_text, generalize_age('old') AS age_bad,
                    hash('abc') AS hash, hash(NULL) AS hash_null,
                    anonymize_email('baasit@surveilr.com') AS email,
                    anonymize_email('baasit@surveilr.com') = anonymize_email('BAASIT@surveilr.com') AS email_stable,
                    anonymize_name('Alice Smith') AS name, anonymize_name('Alice Smith') = anonymize_name('alice smith') AS name_stable,
                    anonymize_name('Alice Smith') <> anonymize_name('Alice Smith', 'salt') AS salted,
                    mask_phone('+1 (555) 123-4567') AS phone, mask_financial('4111 1111 1111 1234') AS card,
                    mask_dob('1985-07-23') AS dob, mask_address('12 Main St, Springfield, IL') AS address,
                    anonymize_date('2023-07-23') AS date");
    let row = &rows[0];
    assert_eq!(row["mask"], "****567890");
    assert_eq!(row["mask_short"], "***");
    assert_eq!(row["mask_hash"], "####567890");
    assert_eq!(row["age"], "30-35");
    assert_eq!(row["age_text"], "45-50");
    assert_eq!(row["age_bad"], serde_json::Value::Null);
    assert_eq!(row["hash"], "a9993e364706816aba3e25717850c26c9cd0d89d");
    assert_eq!(row["hash_null"], serde_json::Value::Null);
    let email = row["email"].as_str().unwrap();
    assert!(
        email.starts_with("user_") && email.ends_with("@surveilr.com"),
        "{email}"
    );
    assert!(!email.contains("baasit"));
    assert_eq!(row["email_stable"], 1);
    assert!(row["name"].as_str().unwrap().starts_with("Person "));
    assert!(!row["name"].as_str().unwrap().contains("Alice"));
    assert_eq!(row["name_stable"], 1);
    assert_eq!(row["salted"], 1);
    assert_eq!(row["phone"], "+* (***) ***-4567");
    assert_eq!(row["card"], "**** **** **** 1234");
    assert_eq!(row["dob"], "1985-**-**");
    assert_eq!(row["address"], "** **** **, Springfield, IL");
    assert_eq!(row["date"], "2023-07-01");
}

#[test]
fn regexp_math_and_id_functions() {
    let (_dir, db) = setup();
    let row = &shell_json(&db, "SELECT regexp_like('abc123', '[0-9]+$') AS like_yes, regexp_like('abc', '^[0-9]') AS like_no,
                    regexp_substr('order 42 of 97', '[0-9]+') AS substr,
                    regexp_replace('2024-01-31', '(\\d+)-(\\d+)-(\\d+)', '$3/$2/$1') AS replaced,
                    regexp_capture('id=X17;', 'id=([A-Z])(\\d+)') AS cap1, regexp_capture('id=X17;', 'id=([A-Z])(\\d+)', 2) AS cap2,
                    'abc' REGEXP 'b' AS operator,
                    sqrt(16) AS root, pow(2, 10) AS power, floor(2.7) AS floor, round(pi() * 1000) AS pi,
                    length(ulid()) AS ulid_len, surveilr_version() AS version, length(surveilr_device_id()) > 0 AS device")[0];
    assert_eq!(row["like_yes"], 1);
    assert_eq!(row["like_no"], 0);
    assert_eq!(row["substr"], "42");
    assert_eq!(row["replaced"], "31/01/2024");
    assert_eq!(row["cap1"], "X");
    assert_eq!(row["cap2"], "17");
    assert_eq!(row["operator"], 1);
    assert_eq!(row["root"], 4.0);
    assert_eq!(row["power"], 1024.0);
    assert_eq!(row["floor"], 2.0);
    assert_eq!(row["pi"], 3142.0);
    assert_eq!(row["ulid_len"], 26);
    assert_eq!(row["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(row["device"], 1);

    let bad = run(&db, &["shell", "--cmd", "SELECT regexp_like('a', '(')"]);
    assert_error(&bad, 1, "invalid regular expression");
}

#[test]
fn a_failing_middle_script_is_recorded_and_the_others_complete() {
    let (dir, db) = setup();
    let first = script(
        dir.path(),
        "1-first.sql",
        "CREATE TABLE seen (step); INSERT INTO seen VALUES ('first');",
    );
    let middle = script(
        dir.path(),
        "2-middle.sql",
        "INSERT INTO seen VALUES ('middle-before');\nSELECT * FROM no_such_table;\nINSERT INTO seen VALUES ('middle-after');",
    );
    let last = script(
        dir.path(),
        "3-last.sql",
        "INSERT INTO seen VALUES ('last');",
    );
    let out = run(
        &db,
        &[
            "orchestrate",
            "-n",
            "v&v",
            "-s",
            &first,
            "-s",
            &middle,
            "-s",
            &last,
        ],
    );
    assert_error(&out, 1, "no such table: no_such_table");

    // Statements before the failure keep their effects; the script stops at the failure.
    assert_eq!(
        column(&db, "SELECT step FROM seen ORDER BY rowid"),
        strings(&["first", "middle-before", "last"])
    );
    let entries = column(
        &db,
        "SELECT ingest_src FROM orchestration_session_entry ORDER BY rowid",
    );
    assert_eq!(
        entries,
        vec![
            Some(first.clone()),
            Some(middle.clone()),
            Some(last.clone())
        ]
    );
    let states = column(
        &db,
        "SELECT e.ingest_src || ':' || st.from_state || '>' || st.to_state
         FROM orchestration_session_state st JOIN orchestration_session_entry e
           ON e.orchestration_session_entry_id = st.session_entry_id
         ORDER BY st.rowid",
    );
    let expect = |src: &str, end: &str| {
        vec![
            Some(format!("{src}:surveilr_orch_init>surveilr_orch_progress")),
            Some(format!("{src}:surveilr_orch_progress>{end}")),
        ]
    };
    let mut wanted = expect(&first, "surveilr_orch_completed");
    wanted.extend(expect(&middle, "surveilr_orch_failed"));
    wanted.extend(expect(&last, "surveilr_orch_completed"));
    assert_eq!(states, wanted);

    assert_eq!(
        column(
            &db,
            "SELECT e.ingest_src || '|' || x.exec_nature || '|' || x.exec_status || '|' || coalesce(x.exec_error_text, '-') || '|' || (x.exec_code = json_extract(e.elaboration, '$.script'))
             FROM orchestration_session_exec x
             JOIN orchestration_session_entry e ON e.orchestration_session_entry_id = x.session_entry_id
             ORDER BY x.rowid"
        ),
        vec![
            Some(format!("{first}|sql|0|-|1")),
            Some(format!("{middle}|sql|1|statement 2: no such table: no_such_table|1")),
            Some(format!("{last}|sql|0|-|1")),
        ]
    );
    assert_eq!(
        column(
            &db,
            "SELECT json_extract(elaboration, '$.script') FROM orchestration_session_entry ORDER BY rowid LIMIT 1"
        ),
        strings(&["CREATE TABLE seen (step); INSERT INTO seen VALUES ('first');"])
    );
    assert_eq!(
        column(
            &db,
            "SELECT CAST(json_extract(x.elaboration, '$.rows_changed') AS TEXT) FROM orchestration_session_exec x ORDER BY rowid"
        ),
        strings(&["1", "1", "1"])
    );
    assert_eq!(
        column(
            &db,
            "SELECT issue_type || '|' || json_extract(elaboration, '$.statement') FROM orchestration_session_issue"
        ),
        strings(&["Script Error|2"])
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM orchestration_session_log WHERE category = 'error' AND content LIKE '%no_such_table%'"
        ),
        1
    );
    // The session itself ran to its end, with diagnostics.
    let session = json_stdout(&run(&db, &["sessions", "--format", "json"]));
    assert_eq!(session[0]["state"], "COMPLETED");
    assert_eq!(session[0]["nature"], "V&V");
    assert_eq!(session[0]["entries"], 3);
    assert_eq!(session[0]["issues_error"], 1);
    assert_eq!(
        count(
            &db,
            "SELECT json_extract(diagnostics_json, '$.summary.entries_by_state.surveilr_orch_failed') FROM orchestration_session"
        ),
        1
    );
}

#[test]
fn stdin_runs_first_then_globs_in_alphabetical_order() {
    let (dir, db) = setup();
    let scripts = dir.path().join("scripts");
    std::fs::create_dir(&scripts).unwrap();
    script(&scripts, "b.sql", "INSERT INTO seen VALUES ('b');");
    script(&scripts, "a.sql", "INSERT INTO seen VALUES ('a');");
    script(&scripts, "c.txt", "this is not run");
    let glob = format!("{}/*.sql", scripts.display());
    let out = run_with_stdin(
        &db,
        &["orchestrate", "-n", "deidentification", "-s", &glob],
        "CREATE TABLE seen (who); INSERT INTO seen VALUES ('stdin');",
    );
    assert_status(&out, 0);
    assert_eq!(
        column(&db, "SELECT who FROM seen ORDER BY rowid"),
        strings(&["stdin", "a", "b"])
    );
    let sources: Vec<String> = column(
        &db,
        "SELECT ingest_src FROM orchestration_session_entry ORDER BY rowid",
    )
    .into_iter()
    .map(|s| s.unwrap())
    .collect();
    assert_eq!(sources[0], "-");
    assert!(
        sources[1].ends_with("a.sql") && sources[2].ends_with("b.sql"),
        "{sources:?}"
    );
    assert_eq!(
        column(
            &db,
            "SELECT n.orchestration_nature_id || '|' || n.nature FROM orchestration_session s
             JOIN orchestration_nature n USING (orchestration_nature_id)"
        ),
        strings(&["deidentification|De-identification"])
    );
    // `orchestrate sessions -n` filters as `sessions` does.
    let listed = json_stdout(&run(
        &db,
        &[
            "orchestrate",
            "sessions",
            "-n",
            "deidentification",
            "--format",
            "json",
        ],
    ));
    assert_eq!(listed.as_array().unwrap().len(), 1);
    let none = json_stdout(&run(
        &db,
        &["orchestrate", "sessions", "-n", "v&v", "--format", "json"],
    ));
    assert_eq!(none.as_array().unwrap().len(), 0);
}

#[test]
fn save_script_false_keeps_the_text_out() {
    let (dir, db) = setup();
    let s = script(
        dir.path(),
        "secret.sql",
        "CREATE TABLE t (x); -- token=hunter2",
    );
    let out = run(&db, &["orchestrate", "-s", &s, "--save-script", "false"]);
    assert_status(&out, 0);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM orchestration_session_entry WHERE elaboration LIKE '%hunter2%'"
        ),
        0
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM orchestration_session_exec WHERE exec_code LIKE '%hunter2%'"
        ),
        0
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM orchestration_session_entry WHERE json_extract(elaboration, '$.sha1') IS NOT NULL"
        ),
        1
    );
    assert_eq!(count(&db, "SELECT count(*) FROM t"), 0);
}

#[test]
fn shell_prints_the_last_result_in_each_format() {
    let (_dir, db) = setup();
    let sql = "CREATE TABLE p (name, n); INSERT INTO p VALUES ('ann', 1), ('bob', NULL); SELECT name, n FROM p ORDER BY name;";
    let json = run(&db, &["shell", "--cmd", sql, "--output", "json"]);
    assert_status(&json, 0);
    assert_eq!(
        json_stdout(&json),
        serde_json::json!([{"name": "ann", "n": 1}, {"name": "bob", "n": null}])
    );
    let line = run(
        &db,
        &[
            "shell",
            "--cmd",
            "SELECT name, n AS number FROM p ORDER BY name",
            "--output",
            "line",
        ],
    );
    assert_status(&line, 0);
    assert_eq!(
        stdout(&line),
        "  name = ann\nnumber = 1\n\n  name = bob\nnumber = \n"
    );
    let table = run(
        &db,
        &["shell", "--cmd", "SELECT name, n FROM p ORDER BY name"],
    );
    assert_status(&table, 0);
    assert_eq!(stdout(&table), "name  n\nann   1\nbob\n");
    // Each shell run is a session of nature shell-rusqlite with its --cmd entry.
    assert_eq!(
        column(
            &db,
            "SELECT DISTINCT orchestration_nature_id FROM orchestration_session"
        ),
        strings(&["shell-rusqlite"])
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM orchestration_session_entry WHERE ingest_src = '--cmd'"
        ),
        3
    );
}

#[test]
fn shell_errors_go_to_stderr_and_the_log() {
    let (_dir, db) = setup();
    let out = run(&db, &["shell", "--cmd", "SELECT * FROM nowhere"]);
    assert_error(&out, 1, "no such table: nowhere");
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM orchestration_session_log WHERE content LIKE '%no such table: nowhere%'"
        ),
        1
    );
}

#[test]
fn no_observability_writes_no_session() {
    let (_dir, db) = setup();
    let out = run(
        &db,
        &[
            "shell",
            "--no-observability",
            "--output",
            "json",
            "--cmd",
            "CREATE TABLE t (x); INSERT INTO t VALUES (1); SELECT x, surveilr_orchestration_context_active() AS active FROM t",
        ],
    );
    assert_status(&out, 0);
    assert_eq!(
        json_stdout(&out),
        serde_json::json!([{"x": 1, "active": 0}])
    );
    for table in [
        "orchestration_session",
        "orchestration_session_entry",
        "orchestration_session_state",
        "orchestration_session_exec",
        "orchestration_session_issue",
        "orchestration_session_log",
    ] {
        assert_eq!(
            count(&db, &format!("SELECT count(*) FROM {table}")),
            0,
            "{table}"
        );
    }
    let failed = run(
        &db,
        &[
            "shell",
            "--no-observability",
            "--cmd",
            "SELECT * FROM nowhere",
        ],
    );
    assert_error(&failed, 1, "no such table");
    assert_eq!(
        count(&db, "SELECT count(*) FROM orchestration_session_log"),
        0
    );
}

#[test]
fn remote_scripts_are_refused_without_allow_remote() {
    let (_dir, db) = setup();
    let out = run(
        &db,
        &["orchestrate", "-s", "https://example.org/checks.sql"],
    );
    assert_error(&out, 2, "--allow-remote");
    assert!(!db.exists() || count(&db, "SELECT count(*) FROM orchestration_session") == 0);
    let shell = run(&db, &["shell", "https://example.org/checks.sql"]);
    assert_error(&shell, 2, "--allow-remote");
}

#[test]
fn extension_loading_is_refused_unless_allowed() {
    let (dir, db) = setup();
    let missing = dir.path().join("no-such-extension");
    let sql = format!("SELECT load_extension('{}')", missing.display());
    let refused = run(&db, &["shell", "--cmd", &sql]);
    assert_error(&refused, 1, "not authorized");
    // Allowed, SQLite tries to open the file (and fails, as there is none).
    let allowed = run(&db, &["shell", "--allow-extensions", "--cmd", &sql]);
    assert_status(&allowed, 1);
    assert!(
        !stderr(&allowed).contains("not authorized"),
        "{}",
        stderr(&allowed)
    );
    assert!(
        stderr(&allowed).contains("no-such-extension"),
        "{}",
        stderr(&allowed)
    );
}

#[test]
fn missing_files_stop_before_anything_runs_and_unreadable_text_fails_its_entry() {
    let (dir, db) = setup();
    let out = run(&db, &["orchestrate", "-s", "/nonexistent/x.sql"]);
    assert_error(&out, 2, "no such file");

    let bad = dir.path().join("latin1.sql");
    std::fs::write(&bad, b"SELECT 'caf\xe9';").unwrap();
    let good = script(dir.path(), "good.sql", "CREATE TABLE ok (x);");
    let out = run(
        &db,
        &["orchestrate", "-s", &bad.display().to_string(), "-s", &good],
    );
    assert_status(&out, 1);
    assert_eq!(
        column(&db, "SELECT issue_type FROM orchestration_session_issue"),
        strings(&["Unreadable File"])
    );
    assert_eq!(count(&db, "SELECT count(*) FROM ok"), 0);
}

#[test]
fn a_transaction_left_open_is_rolled_back_on_failure_and_committed_on_success() {
    let (dir, db) = setup();
    let setup_script = script(dir.path(), "0.sql", "CREATE TABLE t (x);");
    let failing = script(
        dir.path(),
        "1.sql",
        "BEGIN; INSERT INTO t VALUES ('rolled back'); SELECT * FROM nowhere;",
    );
    let open = script(dir.path(), "2.sql", "BEGIN; INSERT INTO t VALUES ('kept');");
    let after = script(dir.path(), "3.sql", "INSERT INTO t VALUES ('after');");
    let out = run(
        &db,
        &[
            "orchestrate",
            "-s",
            &setup_script,
            "-s",
            &failing,
            "-s",
            &open,
            "-s",
            &after,
        ],
    );
    assert_status(&out, 1);
    assert_eq!(
        column(&db, "SELECT x FROM t ORDER BY rowid"),
        strings(&["kept", "after"])
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM orchestration_session_state WHERE to_state = 'surveilr_orch_completed'"
        ),
        3
    );
}

/// A one-thread HTTP server on 127.0.0.1 that answers `requests` requests: `/ok.sql` with
/// `body`, anything else with 404. Returns its base URL.
fn serve_scripts(body: &'static str, requests: usize) -> String {
    use std::io::{BufRead, BufReader};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().take(requests) {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap();
            let mut header = String::new();
            while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
                header.clear();
            }
            let (status, text) = if request_line.starts_with("GET /ok.sql ") {
                ("200 OK", body)
            } else {
                ("404 Not Found", "missing")
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                text.len()
            );
        }
    });
    base
}

#[test]
fn remote_scripts_run_with_allow_remote_and_a_failed_fetch_fails_its_entry() {
    let (_dir, db) = setup();
    let base = serve_scripts(
        "CREATE TABLE fetched (x); INSERT INTO fetched VALUES (42);",
        2,
    );
    let ok = format!("{base}/ok.sql");
    let missing = format!("{base}/missing.sql");
    let out = run(
        &db,
        &["orchestrate", "--allow-remote", "-s", &ok, "-s", &missing],
    );
    assert_error(&out, 1, "404");
    assert_eq!(count(&db, "SELECT x FROM fetched"), 42);
    assert_eq!(
        column(
            &db,
            "SELECT e.ingest_src || '|' || json_extract(e.elaboration, '$.source') || '|' || st.to_state
             FROM orchestration_session_entry e JOIN orchestration_session_state st
               ON st.session_entry_id = e.orchestration_session_entry_id AND st.from_state = 'surveilr_orch_progress'
             ORDER BY e.rowid"
        ),
        vec![
            Some(format!("{ok}|url|surveilr_orch_completed")),
            Some(format!("{missing}|url|surveilr_orch_failed")),
        ]
    );
    assert_eq!(
        column(&db, "SELECT issue_type FROM orchestration_session_issue"),
        strings(&["Unreadable File"])
    );
    // Plain http from anywhere but this machine is refused even when remote is allowed.
    let plain = run(
        &db,
        &[
            "orchestrate",
            "--allow-remote",
            "-s",
            "http://example.org/x.sql",
        ],
    );
    assert_error(&plain, 2, "use https");
}

#[test]
fn without_a_session_of_its_own_a_script_sees_the_latest_unfinished_one() {
    use rssd::state::{OpenOptions, StateDb};
    let (_dir, db) = setup();
    let state = StateDb::open(&db, &OpenOptions::default()).unwrap();
    let finished = state
        .begin_session("ingest", &serde_json::json!({}))
        .unwrap();
    finished.finish_completed("done").unwrap();
    // Still running, owned by this (live) test process.
    let running = state
        .begin_session("ingest", &serde_json::json!({}))
        .unwrap();
    let rows = shell_json_with(
        &db,
        &["--no-observability"],
        "SELECT surveilr_orchestration_context_session_id() AS id, surveilr_orchestration_context_active() AS active,
                json_extract(surveilr_get_orchestration_session_info(), '$.orchestration_nature_id') AS nature",
    );
    assert_eq!(
        rows,
        serde_json::json!([{"id": running.id(), "active": 1, "nature": "ingest"}])
    );
    running.finish_completed("done").unwrap();
    let rows = shell_json_with(
        &db,
        &["--no-observability"],
        "SELECT surveilr_orchestration_context_session_id() AS id, surveilr_orchestration_context_active() AS active",
    );
    assert_eq!(rows, serde_json::json!([{"id": null, "active": 0}]));
}

#[test]
fn report_option_writes_the_sessions_report_at_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("report.db");
    let good = script(
        dir.path(),
        "good.sql",
        "CREATE TABLE IF NOT EXISTS kept (x); INSERT INTO kept VALUES (1);",
    );
    let bad = script(dir.path(), "bad.sql", "SELECT * FROM no_such_table;");
    let html = dir.path().join("run.html");
    let html_arg = html.display().to_string();
    let out = run(
        &db,
        &[
            "orchestrate",
            "-s",
            &good,
            "-s",
            &bad,
            "--report",
            &html_arg,
        ],
    );
    assert_status(&out, 1);
    let page = std::fs::read_to_string(&html).unwrap();
    let session = column(
        &db,
        "SELECT orchestration_session_id FROM orchestration_session",
    )[0]
    .clone()
    .unwrap();
    assert!(page.contains(&session), "the report names the session");
    assert!(
        page.contains("bad.sql") && page.contains("no_such_table"),
        "the failed script and its error are there"
    );

    let md = dir.path().join("run.md");
    let md_arg = md.display().to_string();
    assert_status(
        &run(&db, &["orchestrate", "-s", &good, "--report", &md_arg]),
        0,
    );
    assert!(std::fs::read_to_string(&md).unwrap().contains("good.sql"));

    // An extension with no report format is refused before anything runs.
    let sessions_before = count(&db, "SELECT count(*) FROM orchestration_session");
    let out = run(&db, &["orchestrate", "-s", &good, "--report", "run.pdf"]);
    assert_error(&out, 2, "run.pdf");
    assert_eq!(
        count(&db, "SELECT count(*) FROM orchestration_session"),
        sessions_before
    );
}
