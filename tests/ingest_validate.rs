//! `rssd ingest --schema/--rules`: validation plugged into the load through the entry hook.

mod common;

use std::path::{Path, PathBuf};

use common::*;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

const LATEST: &str =
    "(SELECT orchestration_session_id FROM orchestration_session ORDER BY rowid DESC LIMIT 1)";

fn latest_issues(db: &Path) -> Vec<String> {
    column(
        db,
        &format!(
            "SELECT i.issue_type || '|' || coalesce(e.ingest_table_name, '-') || '|' || coalesce(i.issue_row, '-') || '|' || coalesce(i.issue_column, '-') || '|' || coalesce(i.invalid_value, '-')
             FROM orchestration_session_issue i LEFT JOIN orchestration_session_entry e ON e.orchestration_session_entry_id = i.session_entry_id
             WHERE i.session_id = {LATEST} ORDER BY i.rowid"
        ),
    )
    .into_iter()
    .map(Option::unwrap)
    .collect()
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
