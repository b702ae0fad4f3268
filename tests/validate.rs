//! Validation end to end: `rssd validate` with Table Schemas and SQL rules over tables in the
//! database, and `rssd ingest --schema/--rules` (validation through the entry hook), checked
//! by what lands in the orchestration tables.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::common::*;
use rssd::state::{OpenOptions, StateDb};
use serde_json::{Value, json};

/// Loads CSV text as a table of TEXT columns, empty cells NULL (as the loader stores them).
fn load_csv(db: &Path, table: &str, text: &str) {
    let conn = connect(db);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    let columns: Vec<String> = header.iter().map(|h| rssd::sql::quote_ident(h)).collect();
    let table_sql = rssd::sql::quote_ident(table);
    conn.execute_batch(&format!(
        "CREATE TABLE {table_sql} ({})",
        columns.join(", ")
    ))
    .unwrap();
    let marks = vec!["?"; header.len()].join(", ");
    let mut insert = conn
        .prepare(&format!("INSERT INTO {table_sql} VALUES ({marks})"))
        .unwrap();
    for record in reader.records() {
        let record = record.unwrap();
        let cells: Vec<Option<String>> = (0..header.len())
            .map(|i| record.get(i).filter(|c| !c.is_empty()).map(str::to_string))
            .collect();
        insert
            .execute(rusqlite::params_from_iter(cells.iter()))
            .unwrap();
    }
}

/// (issue_type, code, row, column, invalid_value) of one issue.
type IssueRow = (String, String, Option<i64>, Option<String>, Option<String>);

/// The latest session's issues, in the order recorded.
fn issues(db: &Path) -> Vec<IssueRow> {
    let conn = connect(db);
    let mut statement = conn
        .prepare(
            "SELECT issue_type, json_extract(elaboration, '$.code'), issue_row, issue_column, invalid_value
             FROM orchestration_session_issue
             WHERE session_id = (SELECT orchestration_session_id FROM orchestration_session ORDER BY rowid DESC LIMIT 1)
             ORDER BY rowid",
        )
        .unwrap();
    statement
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .unwrap()
        .map(|r| r.unwrap())
        .collect()
}

fn codes(db: &Path) -> Vec<String> {
    issues(db).into_iter().map(|i| i.1).collect()
}

const LATEST: &str =
    "(SELECT orchestration_session_id FROM orchestration_session ORDER BY rowid DESC LIMIT 1)";

/// The corpus shared with bench/validate-compare.sh: for every case, through `rssd ingest
/// --schema` and through `rssd validate` on tables loaded beforehand, rssd's counts per file
/// and issue kind equal frictionless-py's (stored in expected.json) or the documented
/// difference. Each case has a passing and a failing value for its type, format or constraint.
#[test]
fn corpus_counts_agree_with_frictionless() {
    let corpus = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/validation-corpus");
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(corpus.join("expected.json")).unwrap())
            .unwrap();
    let frictionless = expected["frictionless"].as_object().unwrap();
    assert!(
        frictionless.len() >= 30,
        "corpus has {} cases",
        frictionless.len()
    );
    let dir = tempfile::tempdir().unwrap();
    let mut mismatches = Vec::new();
    for ((name, files), via) in frictionless
        .iter()
        .flat_map(|case| [(case, "ingest"), (case, "validate")])
    {
        let db = dir.path().join(format!("{name}-{via}.db"));
        let schema = ["schema.json", "schema.yaml", "package.json"]
            .iter()
            .map(|suffix| corpus.join(format!("{name}.{suffix}")))
            .find(|path| path.exists())
            .unwrap_or_else(|| panic!("no schema for {name}"));
        let mut args = vec![via.to_string()];
        for file in files.as_object().unwrap().keys() {
            let table = file.trim_end_matches(".csv");
            if via == "ingest" {
                args.push(corpus.join(file).display().to_string());
            } else {
                let text = std::fs::read_to_string(corpus.join(file)).unwrap();
                load_csv(&db, table, &text);
                args.extend(["--table".to_string(), table.to_string()]);
            }
        }
        args.extend(["--schema".into(), schema.display().to_string()]);
        args.extend(["--fail-on".into(), "never".into()]);
        if via == "ingest" {
            args.push("--no-progress".into());
        }
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_status(&run(&db, &argv), 0);
        let conn = connect(&db);
        let mut got: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
        let mut statement = conn
            .prepare(&format!(
                "SELECT e.ingest_table_name || '.csv', json_extract(i.elaboration, '$.code')
                 FROM orchestration_session_issue i JOIN orchestration_session_entry e
                   ON e.orchestration_session_entry_id = i.session_entry_id
                 WHERE i.session_id = {LATEST}"
            ))
            .unwrap();
        let rows = statement
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .unwrap();
        for row in rows {
            let (file, code) = row.unwrap();
            let base = code.split('/').next().unwrap().to_string();
            *got.entry(file).or_default().entry(base).or_default() += 1;
        }
        for (file, kinds) in files.as_object().unwrap() {
            let mut want: BTreeMap<String, i64> = kinds
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_i64().unwrap()))
                .collect();
            if let Some(overrides) =
                expected["deliberate_differences"][name]["rssd"][file].as_object()
            {
                for (kind, count) in overrides {
                    want.insert(kind.clone(), count.as_i64().unwrap());
                }
            }
            want.retain(|_, count| *count > 0);
            let have = got.remove(file).unwrap_or_default();
            if have != want {
                mismatches.push(format!(
                    "{name}/{file} via {via}: rssd {have:?}, expected {want:?}"
                ));
            }
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn cell_issues_carry_row_column_value_and_remediation() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("v.db");
    load_csv(
        &db,
        "screening",
        "PAT_MRN_ID,consent,age\nA1,Yes,30\n,Maybe,200\nA3,No,x\n",
    );
    let schema = write(
        dir.path(),
        "s.json",
        r#"{"fields":[
            {"name":"PAT_MRN_ID","constraints":{"required":true}},
            {"name":"consent","constraints":{"enum":["Yes","No"]}},
            {"name":"age","type":"integer","constraints":{"maximum":120}}]}"#,
    );
    let out = run(&db, &["validate", "--schema", schema.to_str().unwrap()]);
    assert_status(&out, 1);
    assert!(stdout(&out).contains("INVALID"), "{}", stdout(&out));
    let rows = column(
        &db,
        &format!(
            "SELECT issue_type || '|' || issue_row || '|' || issue_column || '|' || coalesce(invalid_value, '') || '|' || remediation
             FROM orchestration_session_issue WHERE session_id = {LATEST} ORDER BY issue_row, rowid"
        ),
    );
    assert_eq!(
        rows,
        [
            "Missing Mandatory Value|2|PAT_MRN_ID||Provide a value for PAT_MRN_ID",
            "Invalid Value|2|consent|Maybe|Use one of: Yes, No",
            "Range Violation|2|age|200|Use a value of at most 120 in age",
            "Data Type Mismatch|3|age|x|Write age as a whole number (e.g. 42)",
        ]
        .map(|s| Some(s.to_string()))
    );
    // The row number joins back to the loaded row.
    let joined = column(
        &db,
        &format!(
            "SELECT t.consent FROM orchestration_session_issue i JOIN screening t ON t.rowid = i.issue_row
             WHERE i.session_id = {LATEST} AND i.issue_column = 'consent'"
        ),
    );
    assert_eq!(joined, [Some("Maybe".to_string())]);
}

#[test]
fn entries_move_validating_then_validated_or_invalid() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("v.db");
    load_csv(&db, "good", "id\n1\n2\n");
    load_csv(&db, "bad", "id\n1\nx\n");
    let schema = write(
        dir.path(),
        "s.json",
        r#"{"fields":[{"name":"id","type":"integer"}]}"#,
    );
    let out = run(
        &db,
        &[
            "validate",
            "--schema",
            schema.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert_status(&out, 1);
    let summary = json_stdout(&out);
    let states: BTreeMap<String, String> = summary["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["table"].as_str().unwrap().to_string(),
                t["state"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(states["good"], "VALIDATED");
    assert_eq!(states["bad"], "INVALID");
    let path = column(
        &db,
        &format!(
            "SELECT group_concat(s.from_state || '>' || s.to_state, ' ')
             FROM orchestration_session_state s JOIN orchestration_session_entry e
               ON e.orchestration_session_entry_id = s.session_entry_id
             WHERE e.ingest_table_name = 'bad' AND s.session_id = {LATEST}"
        ),
    );
    assert_eq!(
        path,
        [Some("INITIAL>VALIDATING VALIDATING>INVALID".to_string())]
    );
    // --fail-on never: same findings, exit 0.
    let out = run(
        &db,
        &[
            "validate",
            "--schema",
            schema.to_str().unwrap(),
            "--fail-on",
            "never",
        ],
    );
    assert_status(&out, 0);
}

#[test]
fn header_checks_missing_extra_and_case() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("v.db");
    load_csv(&db, "people", "\u{feff} ID ,Name,notes\n1,Ann,x\n1,Bob,y\n");
    let open = write(
        dir.path(),
        "open.json",
        r#"{"fields":[{"name":"id","type":"integer","constraints":{"unique":true}},{"name":"name"}]}"#,
    );
    // Case-insensitive, whitespace-tolerant match; the extra column is allowed; content runs.
    assert_status(
        &run(&db, &["validate", "--schema", open.to_str().unwrap()]),
        1,
    );
    assert_eq!(codes(&db), ["unique-error"]);

    // Exact matching: "ID" is not "id", so the header fails and content is not checked.
    let out = run(
        &db,
        &[
            "validate",
            "--schema",
            open.to_str().unwrap(),
            "--header-case-sensitive",
        ],
    );
    assert_status(&out, 1);
    let found: Vec<(String, Option<String>)> =
        issues(&db).into_iter().map(|i| (i.0, i.3)).collect();
    assert_eq!(
        found,
        [
            ("Missing Column".to_string(), Some("id".to_string())),
            ("Missing Column".to_string(), Some("name".to_string()))
        ]
    );
    let remediation = column(
        &db,
        &format!(
            "SELECT remediation FROM orchestration_session_issue WHERE session_id = {LATEST} ORDER BY rowid"
        ),
    );
    let remediation = remediation[0].clone().unwrap();
    assert!(remediation.contains("rename \"ID\""), "{remediation}");

    // A closed set: the unknown column is an Extra Column; a missing field a Missing Column.
    let closed = write(
        dir.path(),
        "closed.yaml",
        "fieldsMatch: equal\nfields:\n  - name: id\n    type: integer\n  - name: name\n  - name: email\n",
    );
    assert_status(
        &run(&db, &["validate", "--schema", closed.to_str().unwrap()]),
        1,
    );
    let mut found: Vec<(String, Option<String>)> =
        issues(&db).into_iter().map(|i| (i.1, i.3)).collect();
    found.sort();
    assert_eq!(
        found,
        [
            ("extra-label".to_string(), Some("notes".to_string())),
            ("missing-label".to_string(), Some("email".to_string()))
        ]
    );
    let state = column(
        &db,
        &format!(
            "SELECT transition_reason FROM orchestration_session_state WHERE session_id = {LATEST} AND to_state = 'INVALID'"
        ),
    );
    assert!(
        state[0].as_deref().unwrap().contains("content not checked"),
        "{state:?}"
    );
}

/// An earlier (ingest) session recorded where tables came from: files and workbook sheets.
fn record_earlier_ingest(db: &Path, entries: &[(&str, &str, Option<&str>, Value)]) {
    let state = StateDb::open(db, &OpenOptions::default()).unwrap();
    let mut session = state
        .begin_session("ingest", &json!({"argv": ["rssd", "ingest"]}))
        .unwrap();
    for (source, table, sheet, columns) in entries {
        let entry = session
            .add_entry(
                source,
                Some(table),
                &json!({"sheet": sheet, "columns": columns}),
            )
            .unwrap();
        session
            .entry_transition(&entry, "INGESTING", "reading")
            .unwrap();
        session
            .entry_transition(&entry, "INGESTED", "loaded")
            .unwrap();
    }
    session.finish_completed("loaded").unwrap();
}

#[test]
fn validate_over_tables_of_an_earlier_session_makes_new_entries_for_the_same_tables() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("v.db");
    load_csv(
        &db,
        "study",
        "subject_id,visit_date\nS1,2024-01-05\nS2,05/01/2024\n",
    );
    record_earlier_ingest(
        &db,
        &[(
            "incoming/Study.csv",
            "study",
            None,
            json!([{"header": "Subject ID", "name": "subject_id"}, {"header": "Visit Date", "name": "visit_date"}]),
        )],
    );
    let earlier_entry = column(
        &db,
        "SELECT orchestration_session_entry_id FROM orchestration_session_entry",
    )[0]
    .clone();
    let package = write(
        dir.path(),
        "p.json",
        r#"{"resources":[{"name":"study","path":"incoming/*.csv","schema":{"fields":[
            {"name":"Subject ID","constraints":{"required":true}},
            {"name":"Visit Date","type":"date"}]}}]}"#,
    );
    let out = run(&db, &["validate", "--schema", package.to_str().unwrap()]);
    assert_status(&out, 1);
    assert_eq!(count(&db, "SELECT count(*) FROM orchestration_session"), 2);
    let entries = column(
        &db,
        &format!(
            "SELECT ingest_src || '|' || ingest_table_name FROM orchestration_session_entry WHERE session_id = {LATEST}"
        ),
    );
    assert_eq!(entries, [Some("incoming/Study.csv|study".to_string())]);
    let nature = column(
        &db,
        &format!(
            "SELECT orchestration_nature_id FROM orchestration_session WHERE orchestration_session_id = {LATEST}"
        ),
    );
    assert_eq!(nature, [Some("V&V".to_string())]);
    let attached = column(
        &db,
        &format!(
            "SELECT i.issue_type || '|' || i.issue_row || '|' || i.issue_column FROM orchestration_session_issue i
             JOIN orchestration_session_entry e ON e.orchestration_session_entry_id = i.session_entry_id
             WHERE e.session_id = {LATEST}"
        ),
    );
    assert_eq!(attached, [Some("Invalid Date|2|visit_date".to_string())]);
    // The earlier session's entry is untouched.
    assert_eq!(
        count(
            &db,
            &format!(
                "SELECT count(*) FROM orchestration_session_issue WHERE session_entry_id = '{}'",
                earlier_entry.unwrap()
            )
        ),
        0
    );
}

#[test]
fn validate_after_a_real_ingest_names_the_same_tables_and_original_sources() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("v.db");
    let csv = write(
        dir.path(),
        "Screening.csv",
        "Subject ID,Consent\nS1,Yes\nS2,Maybe\n",
    );
    let out = run(&db, &["ingest", csv.to_str().unwrap(), "--no-progress"]);
    assert_status(&out, 0);
    let schema = write(
        dir.path(),
        "s.json",
        r#"{"fields":[{"name":"subject id"},{"name":"consent","constraints":{"enum":["Yes","No"]}}]}"#,
    );
    let out = run(&db, &["validate", "--schema", schema.to_str().unwrap()]);
    assert_status(&out, 1);
    let entries = column(
        &db,
        &format!(
            "SELECT ingest_src || '|' || ingest_table_name FROM orchestration_session_entry WHERE session_id = {LATEST}"
        ),
    );
    assert_eq!(entries, [Some(format!("{}|screening", csv.display()))]);
    let found = issues(&db);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (found[0].2, found[0].4.as_deref()),
        (Some(2), Some("Maybe"))
    );
    // The ingest session is left as it was: one entry, no issues.
    assert_eq!(
        count(&db, "SELECT count(*) FROM orchestration_session_entry"),
        2
    );
    assert_eq!(
        count(&db, "SELECT count(*) FROM orchestration_session_issue"),
        1
    );
}

#[test]
fn workbook_missing_a_required_sheet_names_the_sheets_it_has() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("v.db");
    load_csv(&db, "clinic_visits", "visit\n1\n");
    load_csv(&db, "clinic_notes", "note\nx\n");
    record_earlier_ingest(
        &db,
        &[
            ("in/clinic.xlsx", "clinic_visits", Some("Visits"), json!([])),
            ("in/clinic.xlsx", "clinic_notes", Some("Notes"), json!([])),
        ],
    );
    let package = write(
        dir.path(),
        "p.json",
        r#"{"resources":[{"name":"visits","path":"clinic.xlsx","sheet":"Visits","sheets":["Visits","Staff"],
            "schema":{"fields":[{"name":"visit","type":"integer"}]}}]}"#,
    );
    let out = run(
        &db,
        &[
            "validate",
            "--schema",
            package.to_str().unwrap(),
            "--table",
            "clinic_visits",
            "--table",
            "clinic_notes",
        ],
    );
    assert_status(&out, 1);
    let found = column(
        &db,
        &format!(
            "SELECT issue_type || '|' || issue_message || '|' || remediation FROM orchestration_session_issue WHERE session_id = {LATEST}"
        ),
    );
    assert_eq!(found.len(), 1, "{found:?}");
    let text = found[0].clone().unwrap();
    assert!(text.starts_with("Sheet Missing|"), "{text}");
    assert!(
        text.contains("\"Staff\"") && text.contains("Visits, Notes"),
        "{text}"
    );
}

#[test]
fn primary_and_foreign_keys_across_two_tables() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("v.db");
    load_csv(
        &db,
        "sites",
        "site_id,region\nS1,north\nS2,south\nS2,east\n",
    );
    load_csv(
        &db,
        "visits",
        "site,visit_no,subject\nS1,1,a\nS1,2,b\nS9,1,c\nS1,1,d\n,3,e\n",
    );
    let package = write(
        dir.path(),
        "p.json",
        r#"{"resources":[
          {"name":"sites","path":"sites","schema":{"fields":[{"name":"site_id"},{"name":"region"}],"primaryKey":"site_id"}},
          {"name":"visits","path":"visits","schema":{"fields":[{"name":"site"},{"name":"visit_no","type":"integer"},{"name":"subject"}],
             "primaryKey":["site","visit_no"],
             "foreignKeys":[{"fields":"site","reference":{"resource":"sites","fields":"site_id"}}]}}]}"#,
    );
    assert_status(
        &run(&db, &["validate", "--schema", package.to_str().unwrap()]),
        1,
    );
    let mut found: Vec<(String, Option<i64>, Option<String>)> =
        issues(&db).into_iter().map(|i| (i.1, i.2, i.4)).collect();
    found.sort();
    assert_eq!(
        found,
        [
            ("foreign-key".to_string(), Some(3), Some("S9".to_string())),
            ("primary-key".to_string(), Some(3), Some("S2".to_string())),
            ("primary-key".to_string(), Some(4), Some("S1,1".to_string())),
        ]
    );
    // The referenced table need not be in this run: it is found in the database by name.
    assert_status(
        &run(
            &db,
            &[
                "validate",
                "--schema",
                package.to_str().unwrap(),
                "--table",
                "visits",
            ],
        ),
        1,
    );
    let fk: Vec<_> = codes(&db)
        .into_iter()
        .filter(|c| c == "foreign-key")
        .collect();
    assert_eq!(fk.len(), 1);
}

#[test]
fn sql_rules_with_and_without_table_placeholder_and_a_broken_rule() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("v.db");
    load_csv(&db, "patients", "id,age\n1,30\n2,-4\n");
    load_csv(&db, "staff", "id,age\n1,17\n");
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    write(
        &rules,
        "a_ages.sql",
        "-- every table: ages must be adults\n\
         SELECT 'Rule Violation' AS issue_type, 'age ' || age || ' is under 18' AS issue_message,\n\
                rowid AS issue_row, 'age' AS issue_column, age AS invalid_value,\n\
                'Check the birth date' AS remediation, 'warning' AS severity\n\
         FROM {table} WHERE CAST(age AS INTEGER) < 18;\n\
         -- cross-table, once: staff ids that are also patient ids\n\
         SELECT 'Cross Check' AS issue_type, 'staff ' || s.id || ' is also a patient' AS issue_message,\n\
                'staff' AS table_name, s.rowid AS issue_row\n\
         FROM staff s JOIN patients p ON p.id = s.id;\n",
    );
    write(
        &rules,
        "b_broken.sql",
        "SELECT nonsense FROM no_such_table;\n\
         SELECT 'x' AS wrong_columns;\n\
         DELETE FROM patients;\n\
         SELECT 'Late' AS issue_type, 'table ' || :table || ' checked' AS issue_message;\n",
    );
    let glob = format!("{}/*.sql", rules.display());
    let out = run(&db, &["validate", "--rules", &glob, "--fail-on", "error"]);
    assert_status(&out, 1);
    let found = lines(
        &db,
        &format!(
            "SELECT i.issue_type || '|' || coalesce(e.ingest_table_name, '-') || '|' || coalesce(i.issue_row, '-') || '|' || json_extract(i.elaboration, '$.severity')
             FROM orchestration_session_issue i LEFT JOIN orchestration_session_entry e ON e.orchestration_session_entry_id = i.session_entry_id
             WHERE i.session_id = {LATEST} ORDER BY i.rowid"
        ),
    );
    assert_eq!(
        found,
        [
            "Rule Violation|patients|2|warning",
            "Rule Violation|staff|1|warning",
            "Cross Check|staff|1|error",
            "Script Error|-|-|error",
            "Script Error|-|-|error",
            "Script Error|-|-|error",
            "Late|patients|-|error",
            "Late|staff|-|error",
        ]
    );
    // Every issue has a remediation, a default one when the rule gives none.
    assert_eq!(
        count(
            &db,
            &format!(
                "SELECT count(*) FROM orchestration_session_issue WHERE session_id = {LATEST} AND remediation IS NULL"
            )
        ),
        0
    );
    // The DELETE was refused, not run.
    assert_eq!(count(&db, "SELECT count(*) FROM patients"), 2);
    // One exec row per rule run, with its SQL and row count.
    let execs = lines(
        &db,
        &format!(
            "SELECT exec_status || '|' || coalesce(output_text, '-') || '|' || (exec_code LIKE '%FROM \"patients\"%' OR exec_code LIKE '%FROM \"staff\"%')
             FROM orchestration_session_exec WHERE session_id = {LATEST} AND exec_nature = 'sql-rule' ORDER BY rowid"
        ),
    );
    assert_eq!(
        execs,
        [
            "0|1|1", "0|1|1", "0|1|0", "1|-|0", "1|-|0", "1|-|0", "0|1|0", "0|1|0"
        ]
    );
    let error_text = column(
        &db,
        &format!(
            "SELECT issue_message FROM orchestration_session_issue WHERE session_id = {LATEST} AND issue_type = 'Script Error' ORDER BY rowid"
        ),
    );
    assert!(
        error_text[0].as_deref().unwrap().contains("no such table"),
        "{error_text:?}"
    );
    assert!(
        error_text[1].as_deref().unwrap().contains("issue_type"),
        "{error_text:?}"
    );
    assert!(
        error_text[2].as_deref().unwrap().contains("SELECT"),
        "{error_text:?}"
    );
}

#[test]
fn broken_schema_file_exits_2_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let schema = write(
        dir.path(),
        "bad.json",
        r#"{"fields":[{"name":"a","type":"integr"}]}"#,
    );
    // No database yet: none is created.
    let fresh = dir.path().join("fresh.db");
    let out = run(&fresh, &["validate", "--schema", schema.to_str().unwrap()]);
    assert_status(&out, 2);
    assert!(
        stderr(&out).contains("bad.json") && stderr(&out).contains("unknown type \"integr\""),
        "{}",
        stderr(&out)
    );
    assert_eq!(stderr(&out).lines().count(), 1);
    assert!(!fresh.exists());
    // An existing database stays as it was, for a broken YAML and a broken rules glob too.
    let db = dir.path().join("v.db");
    load_csv(&db, "t", "a\n1\n");
    assert_status(&run(&db, &["init"]), 0);
    let before = dump(&db);
    let yaml = write(dir.path(), "bad.yaml", "fields: [name: a\n");
    for args in [
        vec!["validate", "--schema", schema.to_str().unwrap()],
        vec!["validate", "--schema", yaml.to_str().unwrap()],
        vec!["validate", "--rules", "/nonexistent/*.sql"],
        vec!["validate", "--schema-for", "no-equals-sign"],
        vec!["validate"],
    ] {
        let out = run(&db, &args);
        assert_status(&out, 2);
        assert!(stderr(&out).starts_with("rssd: error:"), "{}", stderr(&out));
    }
    assert_eq!(dump(&db), before);
}

#[test]
fn schema_for_glob_applies_a_bare_schema_to_matching_tables_only() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("v.db");
    load_csv(&db, "labs_2024", "value\nx\n");
    load_csv(&db, "labs_2025", "value\n1\n");
    load_csv(&db, "other", "value\nx\n");
    let schema = write(
        dir.path(),
        "labs.json",
        r#"{"fields":[{"name":"value","type":"number"}]}"#,
    );
    let spec = format!("labs_*={}", schema.display());
    let out = run(
        &db,
        &["validate", "--schema-for", &spec, "--format", "json"],
    );
    assert_status(&out, 1);
    let tables: Vec<String> = json_stdout(&out)["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["table"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(tables, ["labs_2024", "labs_2025"]);
    assert_eq!(codes(&db), ["type-error"]);
}

// ---- rssd ingest --schema / --rules ----

/// The latest session's issues as `type|table|row|column|value` lines.
fn latest_issues(db: &Path) -> Vec<String> {
    lines(
        db,
        &format!(
            "SELECT i.issue_type || '|' || coalesce(e.ingest_table_name, '-') || '|' || coalesce(i.issue_row, '-') || '|' || coalesce(i.issue_column, '-') || '|' || coalesce(i.invalid_value, '-')
             FROM orchestration_session_issue i LEFT JOIN orchestration_session_entry e ON e.orchestration_session_entry_id = i.session_entry_id
             WHERE i.session_id = {LATEST} ORDER BY i.rowid"
        ),
    )
}

#[test]
fn schema_declares_types_keeps_failing_text_and_moves_entry_states() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("v.db");
    let csv = write(
        dir.path(),
        "visits.csv",
        "\u{feff} Visit ID ,weight,when\n1,61.5,2024-01-02\n2,heavy,2024-02-30\n007,70,2024-03-04\n",
    );
    let schema = write(
        dir.path(),
        "visits.schema.yaml",
        "fields:\n  - name: visit id\n    type: integer\n    constraints: {unique: true}\n  - name: weight\n    type: number\n  - name: when\n    type: date\n",
    );
    let out = run(
        &db,
        &[
            "ingest",
            csv.to_str().unwrap(),
            "--schema",
            schema.to_str().unwrap(),
            "--no-progress",
            "--format",
            "json",
        ],
    );
    assert_status(&out, 1);
    let summary = json_stdout(&out);
    assert_eq!(summary["entries"][0]["state"], "INVALID", "{summary}");
    assert_eq!(summary["tables"], 1, "{summary}");
    // Declared from the schema, not inferred; the failing text is kept as it was.
    let declared = column(
        &db,
        "SELECT name || ' ' || type FROM pragma_table_info('visits') ORDER BY cid",
    );
    assert_eq!(
        declared,
        ["Visit ID INTEGER", "weight REAL", "when TEXT"].map(|s| Some(s.to_string()))
    );
    let stored = column(
        &db,
        "SELECT CAST(\"Visit ID\" AS TEXT) || '/' || CAST(weight AS TEXT) FROM visits ORDER BY rowid",
    );
    assert_eq!(
        stored,
        ["1/61.5", "2/heavy", "007/70.0"].map(|s| Some(s.to_string()))
    );
    assert_eq!(
        latest_issues(&db),
        [
            "Data Type Mismatch|visits|2|weight|heavy",
            "Invalid Date|visits|2|when|2024-02-30"
        ]
    );
    let path = column(
        &db,
        &format!(
            "SELECT group_concat(to_state, '>') FROM (SELECT to_state FROM orchestration_session_state WHERE session_id = {LATEST} AND session_entry_id IS NOT NULL ORDER BY rowid)"
        ),
    );
    assert_eq!(
        path,
        [Some("INGESTING>INGESTED>VALIDATING>INVALID".to_string())]
    );
}

#[test]
fn foreign_keys_across_two_files_and_a_cross_file_rule_after_all_loads() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("v.db");
    let data = dir.path().join("incoming");
    std::fs::create_dir(&data).unwrap();
    // Sorted load order puts the referencing file first: keys are checked after all loads.
    write(
        &data,
        "a_orders.csv",
        "order_id,customer\n1,C1\n2,C9\n3,C1\n3,C1\n",
    );
    write(
        &data,
        "b_customers.csv",
        "customer_id,name\nC1,Ann\nC2,Bob\n",
    );
    let package = write(
        dir.path(),
        "datapackage.json",
        r#"{"resources":[
          {"name":"customers","path":"*customers.csv","schema":{"fields":[{"name":"customer_id"},{"name":"name"}],"primaryKey":"customer_id"}},
          {"name":"orders","path":"incoming/*orders.csv","schema":{"fields":[{"name":"order_id","type":"integer"},{"name":"customer"}],
            "primaryKey":"order_id",
            "foreignKeys":[{"fields":"customer","reference":{"resource":"customers","fields":"customer_id"}}]}}]}"#,
    );
    let rules = write(
        dir.path(),
        "cross.sql",
        "SELECT 'Orphan Customer' AS issue_type, 'customer ' || c.customer_id || ' has no order' AS issue_message,\n\
                'b_customers' AS table_name, c.rowid AS issue_row, 'warning' AS severity\n\
         FROM b_customers c WHERE c.customer_id NOT IN (SELECT customer FROM a_orders);\n\
         SELECT 'Too Few Rows' AS issue_type, 'only ' || count(*) || ' rows' AS issue_message, 'warning' AS severity FROM {table} HAVING count(*) < 3;\n",
    );
    let out = run(
        &db,
        &[
            "ingest",
            data.to_str().unwrap(),
            "--schema",
            package.to_str().unwrap(),
            "--rules",
            rules.to_str().unwrap(),
            "--no-progress",
        ],
    );
    assert_status(&out, 1);
    assert_eq!(
        latest_issues(&db),
        [
            "Unique Value Violation|a_orders|4|order_id|3",
            "Reference Violation|a_orders|2|customer|C9",
            "Orphan Customer|b_customers|2|-|-",
            "Too Few Rows|b_customers|-|-|-",
        ]
    );
    let states = column(
        &db,
        &format!(
            "SELECT e.ingest_table_name || ' ' || (SELECT to_state FROM orchestration_session_state s WHERE s.session_entry_id = e.orchestration_session_entry_id ORDER BY rowid DESC LIMIT 1)
             FROM orchestration_session_entry e WHERE e.session_id = {LATEST} ORDER BY e.rowid"
        ),
    );
    assert_eq!(
        states,
        ["a_orders INVALID", "b_customers VALIDATED"].map(|s| Some(s.to_string()))
    );
    assert_eq!(
        count(
            &db,
            &format!(
                "SELECT count(*) FROM orchestration_session_exec WHERE session_id = {LATEST} AND exec_nature = 'sql-rule'"
            )
        ),
        3
    );
}

#[test]
fn workbook_without_a_required_sheet_gets_sheet_missing() {
    use rust_xlsxwriter::Workbook;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("v.db");
    let book_path = dir.path().join("clinic.xlsx");
    let mut book = Workbook::new();
    let visits = book.add_worksheet().set_name("Visits").unwrap();
    visits.write(0, 0, "visit").unwrap();
    visits.write(1, 0, 1).unwrap();
    visits.write(2, 0, "two").unwrap();
    let notes = book.add_worksheet().set_name("Notes").unwrap();
    notes.write(0, 0, "note").unwrap();
    notes.write(1, 0, "x").unwrap();
    book.save(&book_path).unwrap();
    let package = write(
        dir.path(),
        "p.json",
        r#"{"resources":[{"name":"visits","path":"clinic.xlsx","sheet":"Visits","sheets":["Visits","Staff"],
            "schema":{"fields":[{"name":"visit","type":"integer"}]}}]}"#,
    );
    let out = run(
        &db,
        &[
            "ingest",
            book_path.to_str().unwrap(),
            "--schema",
            package.to_str().unwrap(),
            "--no-progress",
        ],
    );
    assert_status(&out, 1);
    let issues = latest_issues(&db);
    assert_eq!(issues.len(), 2, "{issues:?}");
    assert!(
        issues.contains(&"Data Type Mismatch|clinic_visits|2|visit|two".to_string()),
        "{issues:?}"
    );
    let message = column(
        &db,
        &format!(
            "SELECT issue_message FROM orchestration_session_issue WHERE session_id = {LATEST} AND issue_type = 'Sheet Missing'"
        ),
    );
    let message = message[0].clone().unwrap();
    assert!(
        message.contains("\"Staff\"") && message.contains("Visits, Notes"),
        "{message}"
    );
}

#[test]
fn ingest_with_a_broken_schema_exits_2_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("v.db");
    let csv = write(dir.path(), "a.csv", "a\n1\n");
    let schema = write(
        dir.path(),
        "bad.json",
        r#"{"fields":[{"name":"a","constraints":{"pattern":"(["}}]}"#,
    );
    let out = run(
        &db,
        &[
            "ingest",
            csv.to_str().unwrap(),
            "--schema",
            schema.to_str().unwrap(),
            "--no-progress",
        ],
    );
    assert_status(&out, 2);
    assert!(
        stderr(&out).contains("not a valid regular expression"),
        "{}",
        stderr(&out)
    );
    assert!(!db.exists());
}

#[test]
fn report_option_writes_the_validation_report_at_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("v.db");
    load_csv(&db, "visits", "id,status\n1,open\n2,lost\n");
    let schema = write(
        dir.path(),
        "s.json",
        r#"{"fields":[{"name":"id","type":"integer"},{"name":"status","constraints":{"enum":["open","closed"]}}]}"#,
    );
    let report = dir.path().join("checked.json");
    let out = run(
        &db,
        &[
            "validate",
            "--schema",
            schema.to_str().unwrap(),
            "--report",
            report.to_str().unwrap(),
        ],
    );
    assert_status(&out, 1);
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let session = column(&db, &format!("SELECT {LATEST}"))[0].clone().unwrap();
    assert_eq!(written["session"]["session_id"], session.as_str());
    assert_eq!(written["summary"]["issues_by_type"]["Invalid Value"], 1);
}

/// Schema issues of the latest session as `type|code|row|column|value`, in row order (the
/// loader's own structural issues left out).
fn schema_issues(db: &Path) -> Vec<String> {
    lines(
        db,
        &format!(
            "SELECT issue_type || '|' || json_extract(elaboration, '$.code') || '|' || coalesce(issue_row, '') || '|' || coalesce(issue_column, '') || '|' || coalesce(invalid_value, '')
             FROM orchestration_session_issue
             WHERE session_id = {LATEST} AND json_extract(elaboration, '$.rule') IS NOT NULL
             ORDER BY issue_row, issue_column, rowid"
        ),
    )
}

/// `rssd ingest --schema` checks each row as it loads (on the parser thread); `rssd validate`
/// reads the stored table back. Over blank and short rows, a Latin-1 file, keys out of order
/// and a second file appended to the same table, both find the same issues at the same rows.
#[test]
fn checks_while_loading_find_what_checks_of_the_stored_table_find() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("v.db");
    let schema = write(
        dir.path(),
        "people.schema.json",
        r#"{"fields":[
            {"name":"id","type":"integer","constraints":{"required":true,"unique":true}},
            {"name":"age","type":"integer","constraints":{"minimum":0,"maximum":120}},
            {"name":"email","type":"string","format":"email"},
            {"name":"name","type":"string"},
            {"name":"city","type":"string","constraints":{"enum":["Nîmes","Lyon"]}}]}"#,
    );
    let schema = schema.to_str().unwrap();
    // Latin-1: "Nîmes" has one byte for "î", so the file is not UTF-8.
    let first = dir.path().join("people.csv");
    let mut bytes = b"id,age,email,name,city\n3,40,a@example.org,Ann,N".to_vec();
    bytes.push(0xee);
    bytes.extend_from_slice(
        b"mes\n1,-4,not an email,Bob,Paris\n,,,,\n2,130,c@example.org\n1,x,d@example.org,Dan,Lyon\n",
    );
    std::fs::write(&first, bytes).unwrap();
    let later = dir.path().join("later");
    std::fs::create_dir(&later).unwrap();
    let second = write(
        &later,
        "people.csv",
        "id,age,email,name,city\n4,12,e@example.org,Eve,Lyon\n5,200,f@example,Fay,Lyon\n",
    );
    let mut while_loading = Vec::new();
    for (file, if_exists) in [(&first, "replace"), (&second, "append")] {
        let out = run(
            &db,
            &[
                "ingest",
                file.to_str().unwrap(),
                "--schema",
                schema,
                "--if-exists",
                if_exists,
                "--no-progress",
            ],
        );
        assert_status(&out, 1);
        while_loading.extend(schema_issues(&db));
    }
    assert_eq!(count(&db, "SELECT count(*) FROM people"), 7);
    let out = run(&db, &["validate", "--schema", schema, "--table", "people"]);
    assert_status(&out, 1);
    let mut read_back = schema_issues(&db);
    while_loading.sort();
    read_back.sort();
    assert_eq!(while_loading, read_back);
    assert_eq!(
        read_back,
        [
            "Data Type Mismatch|type-error|5|age|x",
            "Format Mismatch|type-error/format|2|email|not an email",
            "Format Mismatch|type-error/format|7|email|f@example",
            "Invalid Value|constraint-error/enum|2|city|Paris",
            "Range Violation|constraint-error/maximum|4|age|130",
            "Range Violation|constraint-error/maximum|7|age|200",
            "Range Violation|constraint-error/minimum|2|age|-4",
            // The blank row 3 is a Blank Row (of the loader), not a missing id.
            "Unique Value Violation|unique-error|5|id|1",
        ]
    );
}

/// A file loaded before without a schema is loaded and checked again when a schema comes,
/// though its content is unchanged; without a schema it stays UNCHANGED.
#[test]
fn an_unchanged_file_is_checked_when_a_schema_is_given() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("v.db");
    let csv = write(dir.path(), "ages.csv", "id,age\n1,40\n2,-1\n");
    let schema = write(
        dir.path(),
        "ages.schema.json",
        r#"{"fields":[{"name":"id","type":"integer"},{"name":"age","type":"integer","constraints":{"minimum":0}}]}"#,
    );
    let ingest = |extra: &[&str]| {
        let mut args = vec![
            "ingest",
            csv.to_str().unwrap(),
            "--no-progress",
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        run(&db, &args)
    };
    assert_status(&ingest(&[]), 0);
    let out = ingest(&[]);
    assert_status(&out, 0);
    assert_eq!(json_stdout(&out)["entries"][0]["state"], "UNCHANGED");
    let out = ingest(&["--schema", schema.to_str().unwrap()]);
    assert_status(&out, 1);
    assert_eq!(json_stdout(&out)["entries"][0]["state"], "INVALID");
    assert_eq!(
        schema_issues(&db),
        ["Range Violation|constraint-error/minimum|2|age|-1"]
    );
}

/// A file of several loader batches (1,024 rows each): the first is read before the parser
/// thread starts, the rest on it; issues keep their rows across batches, and a key repeated
/// in another batch is found after the load.
#[test]
fn checks_while_loading_number_rows_across_batches() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("v.db");
    let mut text = String::from("id,age\n");
    for row in 1..=5000 {
        let id = if row == 4500 { 7 } else { row };
        let age = match row {
            3 => "x".to_string(),
            1500 => "-1".to_string(),
            5000 => "200".to_string(),
            _ => (row % 90).to_string(),
        };
        text.push_str(&format!("{id},{age}\n"));
    }
    let csv = write(dir.path(), "many.csv", &text);
    let schema = write(
        dir.path(),
        "many.schema.json",
        r#"{"fields":[{"name":"id","type":"integer","constraints":{"unique":true}},
            {"name":"age","type":"integer","constraints":{"minimum":0,"maximum":120}}]}"#,
    );
    let out = run(
        &db,
        &[
            "ingest",
            csv.to_str().unwrap(),
            "--schema",
            schema.to_str().unwrap(),
            "--no-progress",
        ],
    );
    assert_status(&out, 1);
    assert_eq!(count(&db, "SELECT count(*) FROM many"), 5000);
    assert_eq!(
        schema_issues(&db),
        [
            "Data Type Mismatch|type-error|3|age|x",
            "Range Violation|constraint-error/minimum|1500|age|-1",
            "Unique Value Violation|unique-error|4500|id|7",
            "Range Violation|constraint-error/maximum|5000|age|200",
        ]
    );
}

/// Fuzzing findings: time cells whose multi-byte characters sit where the ASCII of a time or
/// zone is expected made the time parser slice inside a character and panic. They are now
/// type errors like any other text that is not a time.
#[test]
fn time_cells_with_multibyte_characters_are_type_errors_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("v.db");
    let csv = write(
        dir.path(),
        "times.csv",
        "at,when\n11:91:=\u{fffd}\u{fffd}1,2024-01-02T12:00:00+\u{20ac}1\n12:30:00,2024-01-02T12:00:00Z\n",
    );
    let schema = write(
        dir.path(),
        "times.schema.json",
        r#"{"fields":[{"name":"at","type":"time"},{"name":"when","type":"datetime"}]}"#,
    );
    for command in ["ingest", "validate"] {
        let mut args = vec![command, "--schema", schema.to_str().unwrap()];
        if command == "ingest" {
            args.extend([csv.to_str().unwrap(), "--no-progress"]);
        }
        let out = run(&db, &args);
        assert_status(&out, 1);
        assert_eq!(
            schema_issues(&db),
            [
                "Invalid Date|type-error/date|1|at|11:91:=\u{fffd}\u{fffd}1",
                "Invalid Date|type-error/date|1|when|2024-01-02T12:00:00+\u{20ac}1",
            ],
            "{command}"
        );
    }
}
