//! Deliveries over time: drift against the previous delivery (`Schema Drift`, `Row Count
//! Change`, the elaboration's `drift` object, the report's section) and `--if-exists append`
//! matching columns by name. Each test drives the real binary and reads what it stored.

use serde_json::Value;

use crate::common::*;

/// `type|code|column|severity` of the latest session's issues, in recorded order.
fn latest_issues(work: &Work) -> Vec<String> {
    work.query(
        "SELECT issue_type || '|' || json_extract(elaboration, '$.code') || '|'
                || coalesce(issue_column, '') || '|' || json_extract(elaboration, '$.severity')
         FROM orchestration_session_issue
         WHERE session_id = (SELECT orchestration_session_id FROM orchestration_session ORDER BY rowid DESC LIMIT 1)
         ORDER BY rowid",
    )
    .into_iter()
    .map(|row| row[0].clone().unwrap_or_default())
    .collect()
}

/// An issue's elaboration of the latest session, by code and column.
fn issue_facts(work: &Work, code: &str, column: &str) -> (String, Value) {
    let conn = work.db();
    conn.query_row(
        "SELECT issue_message, elaboration FROM orchestration_session_issue
         WHERE session_id = (SELECT orchestration_session_id FROM orchestration_session ORDER BY rowid DESC LIMIT 1)
           AND json_extract(elaboration, '$.code') = ?1 AND coalesce(issue_column, '') = ?2",
        [code, column],
        |row| {
            let elaboration: String = row.get(1)?;
            Ok((row.get(0)?, serde_json::from_str(&elaboration).unwrap()))
        },
    )
    .unwrap_or_else(|err| panic!("no issue {code} on {column:?}: {err}"))
}

/// The latest entry's id and `drift` object.
fn latest_drift(work: &Work) -> (String, Value) {
    let conn = work.db();
    conn.query_row(
        "SELECT orchestration_session_entry_id, json_extract(elaboration, '$.drift')
         FROM orchestration_session_entry ORDER BY rowid DESC LIMIT 1",
        [],
        |row| {
            let drift: String = row.get(1)?;
            Ok((row.get(0)?, serde_json::from_str(&drift).unwrap()))
        },
    )
    .expect("an entry with a drift object")
}

fn rows_of(header: &str, rows: impl Iterator<Item = String>) -> String {
    let mut csv = format!("{header}\n");
    for row in rows {
        csv.push_str(&row);
        csv.push('\n');
    }
    csv
}

/// Three deliveries of one source: the second adds `email` and drops `city`, the third has 4
/// of the 10 rows, an `age` that is no longer a number, and `email` mostly empty.
#[test]
fn three_deliveries_give_the_drift_issues_with_columns_and_counts() {
    let work = Work::new();
    work.file(
        "d1/screening.csv",
        rows_of(
            "id,name,age,city",
            (1..=10).map(|i| format!("{i},P{i},{},Lyon", 20 + i)),
        ),
    );
    work.file(
        "d2/screening.csv",
        rows_of(
            "id,name,age,email",
            (1..=10).map(|i| format!("{i},P{i},{},p{i}@example.org", 20 + i)),
        ),
    );
    work.file(
        "d3/screening.csv",
        "id,name,age,email\n1,P1,21,p1@example.org\n2,P2,unknown,\n3,P3,23,\n4,P4,24,\n",
    );
    let dir = |d: &str| work.path().join(d).to_string_lossy().into_owned();

    assert_status(&work.rssd(&["ingest", &dir("d1"), "--no-progress"]), 0);
    let (_, drift) = latest_drift(&work);
    assert_eq!(drift["first_delivery"], true);
    assert_eq!(drift["previous"], Value::Null);
    assert_eq!(drift["source"], "screening.csv");
    assert_eq!(latest_issues(&work), Vec::<String>::new());

    assert_status(&work.rssd(&["ingest", &dir("d2"), "--no-progress"]), 0);
    let (second_entry, drift) = latest_drift(&work);
    assert_eq!(drift["first_delivery"], false);
    assert_eq!(drift["previous"]["rows"], 10);
    assert_eq!(
        latest_issues(&work),
        [
            "Schema Drift|schema-drift/column-added|email|warning",
            "Schema Drift|schema-drift/column-removed|city|warning",
        ]
    );
    let (message, facts) = issue_facts(&work, "schema-drift/column-added", "email");
    assert!(message.contains("TEXT, position 4"), "{message}");
    assert_eq!(
        (facts["type"].clone(), facts["position"].clone()),
        ("TEXT".into(), 4.into())
    );
    let (message, facts) = issue_facts(&work, "schema-drift/column-removed", "city");
    assert!(message.contains("TEXT, position 4"), "{message}");
    assert_eq!(facts["previous_position"], 4);

    assert_status(&work.rssd(&["ingest", &dir("d3"), "--no-progress"]), 0);
    let (_, drift) = latest_drift(&work);
    assert_eq!(drift["previous"]["entry_id"], second_entry.as_str());
    assert_eq!(
        latest_issues(&work),
        [
            "Schema Drift|schema-drift/type-changed|age|warning",
            "Schema Drift|schema-drift/null-rate|email|warning",
            "Row Count Change|row-count-change||warning",
        ]
    );
    let (message, facts) = issue_facts(&work, "schema-drift/type-changed", "age");
    assert_eq!(message, "column age was INTEGER, now TEXT");
    assert_eq!(
        (facts["previous_type"].clone(), facts["type"].clone()),
        ("INTEGER".into(), "TEXT".into())
    );
    let (_, facts) = issue_facts(&work, "schema-drift/null-rate", "email");
    assert_eq!(
        (
            facts["previous_null_percent"].as_f64(),
            facts["null_percent"].as_f64()
        ),
        (Some(0.0), Some(75.0))
    );
    assert_eq!(
        (facts["previous_nulls"].clone(), facts["nulls"].clone()),
        (0.into(), 3.into())
    );
    let (message, facts) = issue_facts(&work, "row-count-change", "");
    assert!(
        message.starts_with("4 rows, the previous delivery had 10 (-60%"),
        "{message}"
    );
    assert_eq!(
        (facts["previous_rows"].clone(), facts["rows"].clone()),
        (10.into(), 4.into())
    );
    assert_eq!(facts["change_percent"].as_f64(), Some(-60.0));

    // The report of the third delivery shows the section, in all three formats.
    let md = stdout(&work.rssd(&["report", "latest"]));
    assert!(md.contains("#### Changes since the last delivery"), "{md}");
    assert!(
        md.contains("| row-count-change |  | 10 rows | 4 rows (-60%) |"),
        "{md}"
    );
    assert!(
        md.contains("| type-changed | `age` | INTEGER | TEXT |"),
        "{md}"
    );
    let json: Value = serde_json::from_str(&stdout(
        &work.rssd(&["report", "latest", "--format", "json"]),
    ))
    .unwrap();
    let changes = &json["entries"][0]["changes_since_last_delivery"];
    assert_eq!(changes["first_delivery"], false);
    assert_eq!(changes["previous_entry_id"], second_entry.as_str());
    let codes: Vec<&str> = changes["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["type-changed", "null-rate", "row-count-change"]);
    let html = stdout(&work.rssd(&["report", "latest", "--format", "html"]));
    assert!(html.contains("<h4>Changes since the last delivery</h4>"));
    assert!(html.contains("<tr><td>null-rate</td><td><code>email</code></td><td>0.0% empty</td><td>75.0% empty</td></tr>"), "{html}");
    // The first delivery's report says so.
    let first = work
        .query("SELECT orchestration_session_id FROM orchestration_session ORDER BY rowid LIMIT 1");
    let md = stdout(&work.rssd(&["report", first[0][0].as_deref().unwrap()]));
    assert!(
        md.contains("First delivery (no earlier load of this table)."),
        "{md}"
    );
}

/// `--drift-key table` finds the previous load of the same table, `--drift-key source` that of
/// the same path relative to the input root, whatever the table is called.
#[test]
fn drift_key_table_or_source() {
    let work = Work::new();
    work.file("one/in/visits.csv", "id,name\n1,Ann\n");
    work.file("two/in/visits.csv", "id,name,extra\n1,Ann,x\n");
    work.file("three/visits.csv", "id,name,extra,more\n1,Ann,x,y\n");
    work.file("four/visits.csv", "id\n1\n");
    let path = |p: &str| work.path().join(p).to_string_lossy().into_owned();
    assert_status(&work.rssd(&["ingest", &path("one")]), 0);
    let (first_entry, drift) = latest_drift(&work);
    assert_eq!(drift["source"], "in/visits.csv");

    // Another table name, the same relative path: found by source.
    let by_source = [
        "ingest",
        &path("two"),
        "--table-prefix",
        "p_",
        "--drift-key",
        "source",
    ];
    assert_status(&work.rssd(&by_source), 0);
    let (_, drift) = latest_drift(&work);
    assert_eq!(
        (drift["key"].clone(), drift["previous"]["entry_id"].clone()),
        ("source".into(), first_entry.as_str().into())
    );
    assert_eq!(
        latest_issues(&work),
        ["Schema Drift|schema-drift/column-added|extra|warning"]
    );
    // ... and not by table.
    assert_status(
        &work.rssd(&[
            "ingest",
            &path("two"),
            "--table-prefix",
            "q_",
            "--drift-key",
            "table",
        ]),
        0,
    );
    assert_eq!(latest_drift(&work).1["first_delivery"], true);
    assert_eq!(latest_issues(&work), Vec::<String>::new());

    // A file named on the command line: its source is its file name, so by source it is new...
    assert_status(
        &work.rssd(&["ingest", &path("three/visits.csv"), "--drift-key", "source"]),
        0,
    );
    let (third_entry, drift) = latest_drift(&work);
    assert_eq!(
        (drift["source"].clone(), drift["first_delivery"].clone()),
        ("visits.csv".into(), true.into())
    );
    // ... while by table (the default) it follows the last load of table visits.
    assert_status(&work.rssd(&["ingest", &path("four/visits.csv")]), 0);
    let (_, drift) = latest_drift(&work);
    assert_eq!(drift["previous"]["entry_id"], third_entry.as_str());
    assert_eq!(
        latest_issues(&work),
        [
            "Schema Drift|schema-drift/column-removed|name|warning",
            "Schema Drift|schema-drift/column-removed|extra|warning",
            "Schema Drift|schema-drift/column-removed|more|warning",
        ]
    );
}

/// `--drift-fail` makes drift an error (exit 1); `--drift-rows` sets the row threshold.
#[test]
fn drift_fail_and_drift_rows() {
    let work = Work::new();
    let file = work.file("t.csv", rows_of("a", (1..=10).map(|i| i.to_string())));
    assert_status(&work.rssd(&["ingest", text(&file)]), 0);
    // 8 rows of 10: -20%, within the default 50%.
    work.file("t.csv", rows_of("a", (1..=8).map(|i| i.to_string())));
    assert_status(&work.rssd(&["ingest", text(&file)]), 0);
    assert_eq!(latest_issues(&work), Vec::<String>::new());
    // 6 of 8 (-25%) beyond --drift-rows 20: a warning, exit 0.
    work.file("t.csv", rows_of("a", (1..=6).map(|i| i.to_string())));
    assert_status(
        &work.rssd(&["ingest", text(&file), "--drift-rows", "20"]),
        0,
    );
    assert_eq!(
        latest_issues(&work),
        ["Row Count Change|row-count-change||warning"]
    );
    // With --drift-fail it is an error and the run exits 1; the table is still loaded.
    work.file("t.csv", "a,b\n1,x\n");
    let out = work.rssd(&["ingest", text(&file), "--drift-fail", "--format", "json"]);
    assert_status(&out, 1);
    assert_eq!(json_stdout(&out)["issues_error"], 2);
    assert_eq!(
        latest_issues(&work),
        [
            "Schema Drift|schema-drift/column-added|b|error",
            "Row Count Change|row-count-change||error",
        ]
    );
    assert_eq!(work.query("SELECT b FROM t"), [[Some("x".to_string())]]);
    // A threshold that is not a percentage is a usage error.
    for bad in ["--drift-rows=-5", "--drift-rows=ten"] {
        let out = work.rssd(&["ingest", text(&file), bad]);
        assert_status(&out, 2);
        assert!(
            stderr(&out).contains("not a percentage"),
            "{}",
            stderr(&out)
        );
    }
}

/// Append by name: reordered, added and missing columns; every cell keeps its text.
#[test]
fn append_matches_columns_by_name_and_keeps_every_cell() {
    let work = Work::new();
    let file = work.file("in/people.csv", "code,name,n\n007,Ann,1\n008,Bob,2\n");
    assert_status(&work.rssd(&["ingest", text(&file)]), 0);
    // Reordered, `extra` new, `name` missing.
    work.file("in/people.csv", "n,extra,code\n3,x,009\n4,y,010\n");
    let out = work.rssd(&[
        "ingest",
        text(&file),
        "--if-exists",
        "append",
        "--format",
        "json",
    ]);
    assert_status(&out, 0);
    assert_eq!(json_stdout(&out)["entries"][0]["state"], "INGESTED");
    let cells = "SELECT CAST(code AS TEXT), CAST(name AS TEXT), CAST(n AS TEXT), CAST(extra AS TEXT) FROM people ORDER BY rowid";
    let some = |s: &str| Some(s.to_string());
    assert_eq!(
        work.query(cells),
        [
            [some("007"), some("Ann"), some("1"), None],
            [some("008"), some("Bob"), some("2"), None],
            [some("009"), None, some("3"), some("x")],
            [some("010"), None, some("4"), some("y")],
        ]
    );
    // The append's own warnings for the added and missing column (not repeated by drift),
    // and drift's for the two columns that moved.
    assert_eq!(
        latest_issues(&work),
        [
            "Schema Drift|schema-drift/column-added|extra|warning",
            "Schema Drift|schema-drift/column-removed|name|warning",
            "Schema Drift|schema-drift/column-order|n|warning",
            "Schema Drift|schema-drift/column-order|code|warning",
        ]
    );
    let (message, _) = issue_facts(&work, "schema-drift/column-added", "extra");
    assert!(
        message.contains("new to table people: added, earlier rows NULL"),
        "{message}"
    );
    let alters = work.query(
        "SELECT exec_code FROM orchestration_session_exec WHERE exec_code LIKE 'ALTER TABLE%'",
    );
    assert_eq!(
        alters,
        [[some("ALTER TABLE \"people\" ADD COLUMN \"extra\" TEXT")]]
    );
    let (_, drift) = latest_drift(&work);
    let codes: Vec<&str> = drift["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        [
            "column-added",
            "column-removed",
            "column-order",
            "column-order"
        ]
    );

    // Text arriving in the INTEGER column n: kept as text, one Data Type Mismatch warning.
    work.file(
        "in/people.csv",
        "CODE,name,n,extra\n011,Cy,many,z\n012,Di,5,w\n",
    );
    assert_status(
        &work.rssd(&["ingest", text(&file), "--if-exists", "append"]),
        0,
    );
    assert_eq!(
        work.query("SELECT CAST(code AS TEXT), name, CAST(n AS TEXT), typeof(n), extra FROM people WHERE rowid > 4 ORDER BY rowid"),
        [
            [some("011"), some("Cy"), some("many"), some("text"), some("z")],
            [some("012"), some("Di"), some("5"), some("integer"), some("w")],
        ]
    );
    let issues = latest_issues(&work);
    assert_eq!(issues[0], "Data Type Mismatch|type-error|n|warning");
    let (message, facts) = issue_facts(&work, "type-error", "n");
    assert!(
        message.contains("is TEXT (2 values) where table people declares INTEGER"),
        "{message}"
    );
    assert_eq!(facts["table_type"], "INTEGER");
    assert_eq!(work.query("PRAGMA table_info(people)").len(), 4);

    // With --drift-fail, the append's added column is an error too (the CI gate holds).
    work.file(
        "in/people.csv",
        "code,name,n,extra,late
013,Ed,6,v,1
014,Fa,7,u,2
",
    );
    let gated = [
        "ingest",
        text(&file),
        "--if-exists",
        "append",
        "--drift-fail",
    ];
    assert_status(&work.rssd(&gated), 1);
    assert_eq!(
        latest_issues(&work),
        ["Schema Drift|schema-drift/column-added|late|error"]
    );
    assert_eq!(work.query("SELECT count(*) FROM people"), [[some("8")]]);
}

/// `--strict-columns` keeps the refusal; a failed append leaves the table as it was, with no
/// column added.
#[test]
fn strict_columns_refuse_and_a_failed_append_adds_no_column() {
    let work = Work::new();
    let file = work.file("t.csv", "a,b\n1,x\n");
    assert_status(&work.rssd(&["ingest", text(&file)]), 0);
    work.file("t.csv", "b,a\ny,2\n");
    let strict = [
        "ingest",
        text(&file),
        "--if-exists",
        "append",
        "--strict-columns",
    ];
    assert_status(&work.rssd(&strict), 1);
    assert_eq!(latest_issues(&work), ["Extra Column|extra-label||error"]);
    assert_eq!(
        work.query("SELECT count(*) FROM t"),
        [[Some("1".to_string())]]
    );
    // Without it the same file appends by name.
    assert_status(
        &work.rssd(&["ingest", text(&file), "--if-exists", "append"]),
        0,
    );
    assert_eq!(
        work.query("SELECT a, b FROM t ORDER BY rowid"),
        [
            [Some("1".to_string()), Some("x".to_string())],
            [Some("2".to_string()), Some("y".to_string())]
        ]
    );

    // A table whose b is NOT NULL: a file without b fails, and the new column c is not kept.
    work.db()
        .execute_batch(
            "CREATE TABLE u (a INTEGER, b TEXT NOT NULL); INSERT INTO u VALUES (1, 'x');",
        )
        .unwrap();
    let u = work.file("u.csv", "a,c\n2,q\n");
    let out = work.rssd(&[
        "ingest",
        text(&u),
        "--if-exists",
        "append",
        "--format",
        "json",
    ]);
    assert_status(&out, 1);
    assert_eq!(json_stdout(&out)["entries"][0]["state"], "FAILED");
    let columns = work.query("SELECT name FROM pragma_table_info('u') ORDER BY cid");
    assert_eq!(columns, [[Some("a".to_string())], [Some("b".to_string())]]);
    assert_eq!(
        work.query("SELECT count(*) FROM u"),
        [[Some("1".to_string())]]
    );
    assert_eq!(
        work.query("PRAGMA integrity_check"),
        [[Some("ok".to_string())]]
    );
}

/// A workbook's sheets are separate sources: by source, each sheet follows its own sheet.
#[test]
fn workbook_sheets_are_sources_of_their_own() {
    let work = Work::new();
    let book = work.path().join("clinic.xls");
    std::fs::copy(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/clinic.xls"),
        &book,
    )
    .unwrap();
    let sources = "SELECT json_extract(elaboration, '$.drift.source'),
                          json_extract(elaboration, '$.drift.first_delivery')
                   FROM orchestration_session_entry
                   WHERE session_id = (SELECT orchestration_session_id FROM orchestration_session ORDER BY rowid DESC LIMIT 1)
                   ORDER BY rowid";
    let some = |s: &str| Some(s.to_string());
    assert_status(
        &work.rssd(&["ingest", text(&book), "--drift-key", "source"]),
        0,
    );
    assert_eq!(
        work.query(sources),
        [
            [some("clinic.xls [Patients]"), some("1")],
            [some("clinic.xls [Visits 2024]"), some("1")],
        ]
    );
    assert_eq!(latest_issues(&work), Vec::<String>::new());
    let again = [
        "ingest",
        text(&book),
        "--drift-key",
        "source",
        "--table-prefix",
        "b_",
    ];
    assert_status(&work.rssd(&again), 0);
    assert_eq!(
        work.query(sources),
        [
            [some("clinic.xls [Patients]"), some("0")],
            [some("clinic.xls [Visits 2024]"), some("0")],
        ]
    );
    assert_eq!(latest_issues(&work), Vec::<String>::new());
}
