//! `rssd ingest` end to end: real files in, tables and the audit trail checked.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::common::*;
use rusqlite::Connection;
use serde_json::Value;

/// `(issue_type, row, column, invalid_value, severity)` of one issue.
type IssueRow = (String, Option<i64>, Option<String>, Option<String>, String);

/// Declared types of a table's columns, in order.
fn declared(db: &Path, table: &str) -> Vec<(String, String)> {
    let conn = connect(db);
    let mut stmt = conn
        .prepare(&format!("PRAGMA table_info(\"{table}\")"))
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(|r| r.unwrap())
        .collect()
}

/// Every cell of a table as SQLite gives it back as text (None for NULL), in rowid order.
fn cells(db: &Path, table: &str) -> Vec<Vec<Option<String>>> {
    let conn = connect(db);
    let names: Vec<String> = declared(db, table).into_iter().map(|(n, _)| n).collect();
    let select: Vec<String> = names
        .iter()
        .map(|n| format!("CAST(\"{}\" AS TEXT)", n.replace('"', "\"\"")))
        .collect();
    let sql = format!(
        "SELECT {} FROM \"{table}\" ORDER BY rowid",
        select.join(", ")
    );
    let mut stmt = conn.prepare(&sql).unwrap();
    stmt.query_map([], |row| {
        (0..names.len())
            .map(|i| row.get::<_, Option<String>>(i))
            .collect::<rusqlite::Result<Vec<_>>>()
    })
    .unwrap()
    .map(|r| r.unwrap())
    .collect()
}

/// `(issue_type, row, column, invalid_value, severity)` of a session's issues for a source.
fn issues_of(db: &Path, source_like: &str) -> Vec<IssueRow> {
    let conn = connect(db);
    let mut stmt = conn
        .prepare(
            "SELECT i.issue_type, i.issue_row, i.issue_column, i.invalid_value, json_extract(i.elaboration, '$.severity')
             FROM orchestration_session_issue i JOIN orchestration_session_entry e
               ON e.orchestration_session_entry_id = i.session_entry_id
             WHERE e.ingest_src LIKE ?1 ORDER BY i.rowid",
        )
        .unwrap();
    stmt.query_map([source_like], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
    })
    .unwrap()
    .map(|r| r.unwrap())
    .collect()
}

/// Each entry's state path (`INITIAL>INGESTING>INGESTED`) by source.
fn state_paths(db: &Path) -> HashMap<String, String> {
    let conn = connect(db);
    let mut stmt = conn
        .prepare(
            "SELECT e.ingest_src || coalesce(' [' || json_extract(e.elaboration, '$.sheet') || ']', ''),
                    (SELECT group_concat(x, '>') FROM (
                        SELECT s.from_state AS x, 0 AS o, min(s.rowid) AS r FROM orchestration_session_state s
                         WHERE s.session_entry_id = e.orchestration_session_entry_id
                        UNION ALL
                        SELECT s.to_state, 1, s.rowid FROM orchestration_session_state s
                         WHERE s.session_entry_id = e.orchestration_session_entry_id
                        ORDER BY o, r))
             FROM orchestration_session_entry e
             WHERE e.session_id = (SELECT orchestration_session_id FROM orchestration_session ORDER BY rowid DESC LIMIT 1)",
        )
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(|r| r.unwrap())
        .collect()
}

/// The table of each entry of a `--format json` summary.
fn entry_tables(summary: &Value) -> Vec<String> {
    summary["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["table"].as_str().unwrap_or("-").to_string())
        .collect()
}

fn latest_session_state(db: &Path) -> String {
    column(
        db,
        "SELECT to_state FROM orchestration_session_state WHERE session_entry_id IS NULL ORDER BY rowid DESC LIMIT 1",
    )[0]
    .clone()
    .unwrap()
}

#[test]
fn csv_becomes_a_typed_table_with_its_entry_states_execs_and_elaboration() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rssd.db");
    let csv = write(
        dir.path(),
        "in/Screening Results (2024).csv",
        "id,name,score,code,when\r\n1,Ann,1.5,007,2024-01-02\r\n2,\"Bob, Jr.\",2.25,8,2024-01-03\r\n3,\"multi\nline\",3.0,9,\r\n",
    );
    let out = ingest(&db, &[text(&dir.path().join("in")), "--format", "json"]);
    assert_status(&out, 0);
    let summary = json_stdout(&out);
    assert_eq!(summary["tables"], 1);
    assert_eq!(summary["rows"], 3);
    assert_eq!(summary["entries"][0]["table"], "screening_results_2024");
    assert_eq!(summary["entries"][0]["source"], text(&csv));
    assert_eq!(summary["entries"][0]["state"], "INGESTED");

    let table = "screening_results_2024";
    assert_eq!(
        declared(&db, table),
        [
            ("id", "INTEGER"),
            ("name", "TEXT"),
            ("score", "REAL"),
            ("code", "TEXT"),
            ("when", "TEXT")
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    let rows = cells(&db, table);
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[1][1].as_deref(), Some("Bob, Jr."));
    assert_eq!(rows[2][1].as_deref(), Some("multi\nline"));
    assert_eq!(rows[0][3].as_deref(), Some("007"));
    assert_eq!(rows[2][4], None, "empty cell is NULL");
    assert_eq!(
        column(
            &db,
            &format!("SELECT typeof(id) || typeof(score) FROM {table} WHERE rowid = 3")
        ),
        [Some("integerreal".to_string())]
    );

    let elaboration: Value = serde_json::from_str(
        column(&db, "SELECT elaboration FROM orchestration_session_entry")[0]
            .as_ref()
            .unwrap(),
    )
    .unwrap();
    for key in [
        "format",
        "size_bytes",
        "content_sha256",
        "modified_at",
        "encoding",
        "delimiter",
        "sheet",
        "rows",
        "columns",
        "duration_ms",
        "outcome",
    ] {
        assert!(
            elaboration.get(key).is_some(),
            "elaboration lacks {key}: {elaboration}"
        );
    }
    assert_eq!(elaboration["format"], "csv");
    assert_eq!(elaboration["encoding"], "utf-8");
    assert_eq!(elaboration["delimiter"], ",");
    assert_eq!(elaboration["rows"], 3);
    assert_eq!(elaboration["content_sha256"].as_str().unwrap().len(), 64);
    assert_eq!(
        elaboration["columns"][2],
        serde_json::json!({"header": "score", "name": "score", "type": "REAL", "nulls": 0})
    );
    assert_eq!(elaboration["columns"][4]["nulls"], 1);

    let paths = state_paths(&db);
    assert_eq!(paths[text(&csv)], "INITIAL>INGESTING>INGESTED");
    assert_eq!(latest_session_state(&db), "COMPLETED");
    let execs = column(
        &db,
        "SELECT exec_code FROM orchestration_session_exec ORDER BY rowid",
    );
    assert_eq!(execs.len(), 2, "{execs:?}");
    assert!(
        execs[0]
            .as_deref()
            .unwrap()
            .starts_with("CREATE TABLE \"screening_results_2024\"")
    );
    assert!(execs[1].as_deref().unwrap().starts_with("INSERT INTO"));
    assert_eq!(
        column(
            &db,
            "SELECT ingest_table_name FROM orchestration_session_entry"
        ),
        [Some(table.to_string())]
    );
    // Table output names the session and each file.
    let out = ingest(&db, &[text(&csv), "--if-exists", "replace"]);
    assert_status(&out, 0);
    assert!(stdout(&out).contains("UNCHANGED"), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("unchanged (not loaded again)"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn every_cell_exports_back_to_its_original_text() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rssd.db");
    let tricky = [
        "007",
        "+5",
        "1e3",
        "1.10",
        "-0",
        "0",
        "-7",
        "9223372036854775807",
        "9223372036854775808",
        "-9223372036854775809",
        "123456789012345678901234567890",
        "1.5",
        "0.0001",
        "0.00001",
        "3.0",
        "1.2345678901234567",
        " 5",
        "5 ",
        "0x1F",
        "1,5",
        "TRUE",
        "null",
        "NaN",
        "inf",
        "é ñ 中文 🙂",
        "say \"hi\"",
        "a\nb",
        "a\r\nb",
        "\ttab",
        "=1+2",
        "",
    ];
    let mut rows: Vec<Vec<String>> = Vec::new();
    for (i, value) in tricky.iter().enumerate() {
        rows.push(vec![
            (i + 1).to_string(),
            value.to_string(),
            format!("{}.5", i),
            if i % 2 == 0 { "1.25".into() } else { "".into() },
        ]);
    }
    // Columns of one tricky value each too, so every value meets the inference alone.
    let mut writer = csv::Writer::from_path(dir.path().join("tricky.csv")).unwrap();
    writer
        .write_record(["n", "value", "half", "sparse"])
        .unwrap();
    for row in &rows {
        writer.write_record(row).unwrap();
    }
    writer.flush().unwrap();
    let mut single = String::from("k");
    for (i, value) in tricky.iter().enumerate() {
        if value.is_empty() || value.contains(['\n', '"', ',', '\r']) {
            continue;
        }
        std::fs::write(
            dir.path().join(format!("one_{i}.csv")),
            format!("{single}\n{value}\n{value}\n"),
        )
        .unwrap();
    }
    single.clear();
    let out = ingest(&db, &[text(dir.path())]);
    assert_status(&out, 0);

    let loaded = cells(&db, "tricky");
    assert_eq!(loaded.len(), rows.len());
    for (row, loaded) in rows.iter().zip(&loaded) {
        for (want, got) in row.iter().zip(loaded) {
            let want = (!want.is_empty()).then(|| want.clone());
            assert_eq!(got, &want, "row {row:?}");
        }
    }
    assert_eq!(declared(&db, "tricky")[0].1, "INTEGER");
    assert_eq!(declared(&db, "tricky")[2].1, "REAL");
    assert_eq!(declared(&db, "tricky")[3].1, "REAL");
    for (i, value) in tricky.iter().enumerate() {
        let table = format!("one_{i}");
        if value.is_empty() || value.contains(['\n', '"', ',', '\r']) {
            continue;
        }
        let got = cells(&db, &table);
        assert_eq!(
            got,
            vec![vec![Some(value.to_string())]; 2],
            "{value:?} in {table}"
        );
    }
    let typed = |t: &str| declared(&db, t)[0].1.clone();
    let index = |v: &str| tricky.iter().position(|x| *x == v).unwrap();
    assert_eq!(typed(&format!("one_{}", index("007"))), "TEXT");
    assert_eq!(typed(&format!("one_{}", index("+5"))), "TEXT");
    assert_eq!(typed(&format!("one_{}", index("1e3"))), "TEXT");
    assert_eq!(typed(&format!("one_{}", index("1.10"))), "TEXT");
    assert_eq!(
        typed(&format!("one_{}", index("9223372036854775808"))),
        "TEXT"
    );
    assert_eq!(
        typed(&format!("one_{}", index("9223372036854775807"))),
        "INTEGER"
    );
    assert_eq!(typed(&format!("one_{}", index("0.0001"))), "REAL");
    assert_eq!(typed(&format!("one_{}", index("0.00001"))), "TEXT");

    // The sqlite3 shell's CSV export gives back the file's text too.
    let export = std::process::Command::new("sqlite3")
        .args([
            "-csv",
            "-header",
            text(&db),
            "SELECT n, value, half, sparse FROM tricky",
        ])
        .output()
        .expect("sqlite3 runs (scripts/setup.sh installs it)");
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(&export.stdout[..]);
    let exported: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    assert_eq!(exported, rows);
}

#[test]
fn each_non_empty_sheet_of_a_workbook_is_an_entry_and_a_table() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rssd.db");
    let book = dir.path().join("Clinic Book.xlsx");
    write_clinic_workbook(&book, None);
    let out = ingest(&db, &[text(&book), "--format", "json"]);
    assert_status(&out, 0);
    let summary = json_stdout(&out);
    let tables = entry_tables(&summary);
    assert_eq!(tables, ["clinic_book_patients", "clinic_book_visits_2024"]);
    assert_eq!(
        declared(&db, "clinic_book_patients")
            .into_iter()
            .map(|(_, t)| t)
            .collect::<Vec<_>>(),
        ["INTEGER", "TEXT", "REAL", "TEXT", "TEXT", "TEXT"]
    );
    assert_eq!(
        cells(&db, "clinic_book_patients")[0],
        ["1", "Ann", "61.5", "1990-01-02", "TRUE", "007"].map(|s| Some(s.to_string()))
    );
    assert_eq!(
        cells(&db, "clinic_book_patients")[2][2].as_deref(),
        Some("70.0"),
        "70 stored as REAL in a REAL column"
    );
    assert_eq!(declared(&db, "clinic_book_visits_2024")[1].1, "INTEGER");
    let sheets = column(
        &db,
        "SELECT json_extract(elaboration, '$.sheet') || '/' || json_extract(elaboration, '$.format') FROM orchestration_session_entry ORDER BY rowid",
    );
    assert_eq!(
        sheets,
        [
            Some("Patients/xlsx".to_string()),
            Some("Visits 2024/xlsx".to_string())
        ]
    );
    let paths = state_paths(&db);
    assert_eq!(
        paths[&format!("{} [Patients]", text(&book))],
        "INITIAL>INGESTING>INGESTED"
    );
}

#[test]
fn json_arrays_and_json_lines_become_tables() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rssd.db");
    write(
        dir.path(),
        "people.json",
        r#"[{"id": 1, "name": "Ann", "tags": ["a", "b"]}, {"id": 2, "name": "", "extra": {"k": true}}, {"id": 3, "name": "007"}]"#,
    );
    write(
        dir.path(),
        "events.ndjson",
        "{\"t\": 1.5, \"ok\": true}\n\n{\"t\": 2.5}\nnot json\n",
    );
    let out = ingest(&db, &[text(dir.path())]);
    assert_status(&out, 1);
    assert_eq!(
        declared(&db, "people")
            .into_iter()
            .map(|(n, t)| format!("{n} {t}"))
            .collect::<Vec<_>>(),
        ["id INTEGER", "name TEXT", "tags TEXT", "extra TEXT"]
    );
    assert_eq!(cells(&db, "people")[0][2].as_deref(), Some(r#"["a","b"]"#));
    assert_eq!(cells(&db, "people")[1][1], None);
    assert_eq!(cells(&db, "people")[2][1].as_deref(), Some("007"));
    assert_eq!(cells(&db, "events").len(), 3);
    assert_eq!(declared(&db, "events")[0].1, "REAL");
    let issues = issues_of(&db, "%events.ndjson");
    assert_eq!(issues.len(), 1, "{issues:?}");
    assert_eq!(issues[0].0, "Format Mismatch");
    assert_eq!(issues[0].1, Some(3));
    assert_eq!(issues[0].3.as_deref(), Some("not json"));
}

#[test]
fn encodings_are_detected_recorded_and_converted() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rssd.db");
    write(dir.path(), "bom.csv", b"\xEF\xBB\xBFid,name\n1,Ann\n");
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(
            "id\tname\r\n1\tJos\u{e9}\r\n"
                .encode_utf16()
                .flat_map(|u| u.to_le_bytes()),
        )
        .collect();
    write(dir.path(), "wide.tsv", utf16);
    write(dir.path(), "latin.csv", b"id,name\n1,Jos\xe9\n2,\x80uro\n");
    let mut broken16: Vec<u8> = vec![0xFF, 0xFE];
    broken16.extend("a,b\n1,".encode_utf16().flat_map(|u| u.to_le_bytes()));
    broken16.extend([0x00, 0xD8]); // an unpaired surrogate
    broken16.extend("\n".encode_utf16().flat_map(|u| u.to_le_bytes()));
    write(dir.path(), "broken16.csv", broken16);
    let out = ingest(&db, &[text(dir.path())]);
    assert_status(&out, 1);
    let encoding = |table: &str| {
        column(&db, &format!("SELECT json_extract(elaboration, '$.encoding') FROM orchestration_session_entry WHERE ingest_table_name = '{table}'"))[0].clone().unwrap()
    };
    assert_eq!(encoding("bom"), "utf-8-bom");
    assert_eq!(
        declared(&db, "bom")[0].0,
        "id",
        "BOM is not part of the first header"
    );
    assert_eq!(encoding("wide"), "utf-16le");
    assert_eq!(
        cells(&db, "wide"),
        [[Some("1".to_string()), Some("José".to_string())]]
    );
    assert_eq!(encoding("latin"), "windows-1252");
    assert_eq!(cells(&db, "latin")[0][1].as_deref(), Some("José"));
    assert_eq!(cells(&db, "latin")[1][1].as_deref(), Some("€uro"));
    let latin = issues_of(&db, "%latin.csv");
    assert_eq!(latin.len(), 1);
    assert_eq!(
        (latin[0].0.as_str(), latin[0].1, latin[0].4.as_str()),
        ("Encoding Error", Some(1), "warning")
    );
    let broken = issues_of(&db, "%broken16.csv");
    assert_eq!(broken.len(), 1, "{broken:?}");
    assert_eq!(
        (broken[0].0.as_str(), broken[0].1, broken[0].4.as_str()),
        ("Encoding Error", Some(1), "error")
    );
}

#[test]
fn every_bad_input_gets_its_issue_and_the_session_completes() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rssd.db");
    let input = dir.path().join("in");
    write(
        &input,
        "ragged.csv",
        "a,b,c\n1,2,3\n4,5\n6,7,8,9,10\n\n11,12,13\n,,\n",
    );
    write(&input, "headers.csv", "id,,Name,name\n1,2,3,4\n");
    write(&input, "header_only.csv", "id,name\n");
    write(&input, "zero.csv", "");
    write(
        &input,
        "garbage.csv",
        [0u8, 159, 146, 150, 0, 1, 2, 255, 0, 7],
    );
    write(&input, "notes.pdf", "%PDF-1.4");
    write(
        &input,
        "prose.txt",
        "This is just a sentence, not a table.\n",
    );
    std::os::unix::fs::symlink(input.join("missing-target.csv"), input.join("broken.csv")).unwrap();
    let fifo = input.join("pipe.csv");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let out = ingest(&db, &[text(&input), text(&dir.path().join("nope.csv"))]);
    assert_status(&out, 1);
    assert_eq!(latest_session_state(&db), "COMPLETED");

    let ragged = issues_of(&db, "%ragged.csv");
    let brief: Vec<(&str, Option<i64>, Option<&str>)> = ragged
        .iter()
        .map(|i| (i.0.as_str(), i.1, i.3.as_deref()))
        .collect();
    assert_eq!(
        brief,
        [
            ("Ragged Row", Some(2), None),
            ("Ragged Row", Some(3), Some(r#"["9","10"]"#)),
            ("Blank Row", None, None),
            ("Blank Row", Some(5), None),
        ]
    );
    assert_eq!(
        cells(&db, "ragged").len(),
        5,
        "every row is loaded, rowid = data row"
    );
    assert_eq!(
        cells(&db, "ragged")[1],
        [Some("4".into()), Some("5".into()), None]
    );
    assert_eq!(
        cells(&db, "ragged")[3],
        [Some("11".into()), Some("12".into()), Some("13".into())]
    );

    assert_eq!(
        declared(&db, "headers")
            .into_iter()
            .map(|(n, _)| n)
            .collect::<Vec<_>>(),
        ["id", "column_2", "Name", "name_2"]
    );
    let headers: Vec<String> = issues_of(&db, "%headers.csv")
        .into_iter()
        .map(|i| format!("{} {}", i.0, i.2.unwrap()))
        .collect();
    assert_eq!(
        headers,
        ["Blank Header column_2", "Duplicate Header name_2"]
    );

    assert_eq!(cells(&db, "header_only").len(), 0);
    assert_eq!(issues_of(&db, "%header_only.csv")[0].0, "Empty File");
    assert_eq!(issues_of(&db, "%header_only.csv")[0].4, "warning");

    let no_table = |source: &str, kind: &str| {
        let issues = issues_of(&db, source);
        assert_eq!(issues.len(), 1, "{source}: {issues:?}");
        assert_eq!(issues[0].0, kind, "{source}");
        assert_eq!(issues[0].4, "error", "{source}");
        let table = column(
            &db,
            &format!(
                "SELECT ingest_table_name FROM orchestration_session_entry WHERE ingest_src LIKE '{source}'"
            ),
        );
        assert_eq!(table, [None], "{source}");
    };
    no_table("%zero.csv", "Empty File");
    no_table("%garbage.csv", "Unsupported Format");
    no_table("%notes.pdf", "Unsupported Format");
    no_table("%prose.txt", "Unsupported Format");
    no_table("%broken.csv", "Unreadable File");
    no_table("%pipe.csv", "Unreadable File");
    no_table("%nope.csv", "Unreadable File");
    let paths = state_paths(&db);
    assert_eq!(paths[text(&input.join("zero.csv"))], "INITIAL>FAILED");
    assert_eq!(
        paths[text(&input.join("ragged.csv"))],
        "INITIAL>INGESTING>INGESTED"
    );
    for table in ["zero", "garbage", "notes", "prose", "broken", "pipe"] {
        assert_eq!(
            count(
                &db,
                &format!("SELECT count(*) FROM sqlite_master WHERE name = '{table}'")
            ),
            0
        );
    }
    assert_eq!(
        column(&db, "PRAGMA integrity_check"),
        [Some("ok".to_string())]
    );

    // The same run with --fail-on never exits 0; --fail-on warning fails on warnings alone.
    assert_status(&ingest(&db, &[text(&input), "--fail-on", "never"]), 0);
    let warn_only = dir.path().join("warn");
    write(&warn_only, "w.csv", "a\n1\n\n2\n");
    assert_status(&ingest(&db, &[text(&warn_only)]), 0);
    write(&warn_only, "w.csv", "a\n1\n\n3\n");
    assert_status(&ingest(&db, &[text(&warn_only), "--fail-on", "warning"]), 1);
}

#[test]
fn if_exists_replace_append_fail_and_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rssd.db");
    let file = write(dir.path(), "t.csv", "a,b\n1,x\n2,y\n");
    assert_status(&ingest(&db, &[text(&file)]), 0);
    // Same content: UNCHANGED, not loaded again.
    let out = ingest(&db, &[text(&file), "--format", "json"]);
    assert_status(&out, 0);
    let summary = json_stdout(&out);
    assert_eq!(summary["unchanged"], 1);
    assert_eq!(summary["entries"][0]["state"], "UNCHANGED");
    assert_eq!(state_paths(&db)[text(&file)], "INITIAL>INGESTING>UNCHANGED");
    // New content replaces the table.
    write(dir.path(), "t.csv", "a,b\n3,z\n");
    assert_status(&ingest(&db, &[text(&file)]), 0);
    assert_eq!(cells(&db, "t"), [[Some("3".into()), Some("z".into())]]);
    let execs = column(
        &db,
        "SELECT exec_code FROM orchestration_session_exec WHERE session_id = (SELECT orchestration_session_id FROM orchestration_session ORDER BY rowid DESC LIMIT 1) ORDER BY rowid",
    );
    assert_eq!(execs[0].as_deref(), Some("DROP TABLE \"t\""));
    // Append with the same columns adds rows; "007" in the INTEGER column keeps its text.
    write(dir.path(), "t.csv", "a,b\n4,w\n007,v\n");
    assert_status(&ingest(&db, &[text(&file), "--if-exists", "append"]), 0);
    assert_eq!(cells(&db, "t").len(), 3);
    assert_eq!(cells(&db, "t")[2][0].as_deref(), Some("007"));
    assert_eq!(
        column(&db, "SELECT typeof(a) FROM t ORDER BY rowid"),
        ["integer", "integer", "blob"].map(|s| Some(s.to_string()))
    );
    // Append with other columns under --strict-columns: an issue, nothing loaded (without
    // it, columns are matched by name: tests/drift.rs).
    write(dir.path(), "t.csv", "a,c\n5,q\n");
    assert_status(
        &ingest(
            &db,
            &[text(&file), "--if-exists", "append", "--strict-columns"],
        ),
        1,
    );
    assert_eq!(cells(&db, "t").len(), 3);
    assert_eq!(state_paths(&db)[text(&file)], "INITIAL>INGESTING>SKIPPED");
    // Fail: an issue, the table untouched.
    write(dir.path(), "t.csv", "a,b\n9,9\n");
    assert_status(&ingest(&db, &[text(&file), "--if-exists", "fail"]), 1);
    assert_eq!(cells(&db, "t").len(), 3);
    let last = issues_of(&db, "%t.csv");
    assert_eq!(last.last().unwrap().0, "Table Exists");
}

#[test]
fn names_prefixes_collisions_provenance_and_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rssd.db");
    let input = dir.path().join("in");
    write(&input, "My Data (1).csv", "x\n1\n");
    write(&input, "my-data-1.tsv", "x\ty\n1\t2\n");
    write(&input, "device.csv", "x\n1\n");
    write(&input, "2024.csv", "x\n1\n");
    write(&input, ".hidden.csv", "x\n1\n");
    write(&input, "sub/deep.csv", "x\n1\n");
    write(&input, "sub/skip.csv", "x\n1\n");
    let out = ingest(
        &db,
        &[
            text(&input),
            "--exclude",
            "skip*",
            "--table-prefix",
            "",
            "--nature",
            "partner-feed",
            "--format",
            "json",
        ],
    );
    assert_eq!(
        column(
            &db,
            "SELECT orchestration_nature_id FROM orchestration_session"
        ),
        [Some("partner-feed".to_string())]
    );
    assert_status(&out, 0);
    let tables = entry_tables(&json_stdout(&out));
    assert_eq!(
        tables,
        ["_2024", "my_data_1", "device_2", "my_data_1_2", "deep"], // sorted by bytes: upper case first
    );
    assert_eq!(
        count(&db, "SELECT count(*) FROM device"),
        1,
        "the RSSD's device table is untouched"
    );

    let out = ingest(
        &db,
        &[
            text(&input),
            "--include",
            "*.tsv",
            "--table-prefix",
            "uniform_resource_",
            "--provenance-columns",
            "--format",
            "json",
        ],
    );
    assert_status(&out, 0);
    let summary = json_stdout(&out);
    assert_eq!(summary["entries"].as_array().unwrap().len(), 1);
    assert_eq!(summary["entries"][0]["table"], "uniform_resource_my_data_1");
    let entry = summary["entries"][0]["entry_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        declared(&db, "uniform_resource_my_data_1")
            .into_iter()
            .map(|(n, _)| n)
            .collect::<Vec<_>>(),
        ["x", "y", "_rssd_row", "_rssd_session_id", "_rssd_entry_id"]
    );
    let row = cells(&db, "uniform_resource_my_data_1")[0].clone();
    assert_eq!(row[2].as_deref(), Some("1"));
    assert_eq!(row[3].as_deref(), summary["session_id"].as_str());
    assert_eq!(row[4].as_deref(), Some(entry.as_str()));

    let mut child = rssd()
        .args(["-d", text(&db), "ingest", "--no-progress", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"k;v\n1;a\n2;b\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_status(&out, 0);
    assert_eq!(cells(&db, "stdin").len(), 2);
    assert_eq!(
        column(
            &db,
            "SELECT ingest_src FROM orchestration_session_entry ORDER BY rowid DESC LIMIT 1"
        ),
        [Some("-".to_string())]
    );
}

#[test]
fn a_hook_declares_types_and_sees_every_load() {
    use rssd::ingest::{ColumnType, EntryHook, IngestOptions, LoadedEntry};
    use rssd::state::{OpenOptions, Session, StateDb};
    use std::cell::RefCell;

    struct Schema {
        seen: RefCell<Vec<String>>,
    }
    impl EntryHook for Schema {
        fn declared_types(
            &self,
            _: &str,
            _: &str,
            _: Option<&str>,
            columns: &[String],
        ) -> HashMap<String, ColumnType> {
            columns
                .iter()
                .filter(|c| c.as_str() == "code")
                .map(|c| (c.clone(), ColumnType::Integer))
                .collect()
        }
        fn after_load(
            &self,
            session: &mut Session,
            entry: &LoadedEntry,
            _: Option<Box<dyn rssd::ingest::RowCheck>>,
        ) -> rssd::Result<()> {
            let rows: i64 = session.conn().query_row(
                &format!("SELECT count(*) FROM \"{}\"", entry.table),
                [],
                |r| r.get(0),
            )?;
            self.seen.borrow_mut().push(format!(
                "{} {} {rows}",
                entry.table,
                entry.columns[0].column_type.sql()
            ));
            Ok(())
        }
        fn after_all(&self, _: &mut Session, entries: &[LoadedEntry]) -> rssd::Result<()> {
            self.seen
                .borrow_mut()
                .push(format!("all {}", entries.len()));
            Ok(())
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "codes.csv",
        "code,label\n5,a\n007,b\nabc,c\n1.5,d\n",
    );
    let db = StateDb::open(dir.path().join("rssd.db"), &OpenOptions::default()).unwrap();
    let hook = Schema {
        seen: RefCell::new(Vec::new()),
    };
    let summary = rssd::ingest::ingest(
        &db,
        &[text(&file).to_string()],
        &IngestOptions::default(),
        &hook,
    )
    .unwrap();
    assert_eq!(summary.tables, 1);
    assert_eq!(*hook.seen.borrow(), ["codes INTEGER 4", "all 1"]);
    let conn: &Connection = db.conn();
    let stored: Vec<(String, String)> = conn
        .prepare("SELECT typeof(code), CAST(code AS TEXT) FROM codes ORDER BY rowid")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(
        stored,
        [
            ("integer", "5"),
            ("blob", "007"),
            ("text", "abc"),
            ("blob", "1.5")
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
}

#[test]
fn the_shipped_examples_load_as_the_readme_says() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("example.sqlite.db");
    let examples = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples");
    let out = ingest(&db, &[text(&examples), "--format", "json"]);
    assert_status(&out, 1);
    let summary = json_stdout(&out);
    let tables = entry_tables(&summary);
    assert_eq!(
        tables,
        [
            "clinic_staff",
            "clinic_rooms",
            "devices",
            "patients",
            "problems",
            "visits"
        ]
    );
    assert_eq!(summary["issues_error"], 2);
    assert_eq!(summary["issues_warning"], 4);
    assert_eq!(
        declared(&db, "patients")
            .into_iter()
            .map(|(_, t)| t)
            .collect::<Vec<_>>(),
        ["INTEGER", "TEXT", "TEXT", "REAL", "TEXT", "INTEGER"]
    );
    // The README's join of issues to rows.
    let joined = column(
        &db,
        "SELECT i.issue_type || ':' || p.patient_id FROM orchestration_session_issue i
         JOIN orchestration_session_entry e ON e.orchestration_session_entry_id = i.session_entry_id
         JOIN problems p ON p.rowid = i.issue_row
         WHERE e.ingest_table_name = 'problems' AND p.patient_id IS NOT NULL ORDER BY i.rowid",
    );
    assert_eq!(
        joined,
        [Some("Ragged Row:2".into()), Some("Ragged Row:3".into())]
    );
}

#[test]
fn a_speculative_load_gives_the_same_table_as_a_careful_one() {
    use rssd::ingest::{IngestOptions, NoHook};
    use rssd::state::{OpenOptions, StateDb};
    let dir = tempfile::tempdir().unwrap();
    // Beyond the 10,000-row sample: an id that is not canonical, and a column first empty.
    let mut late = String::from("id,late,score\n");
    let mut steady = String::from("id,late,score\n");
    for i in 1..=12_000 {
        let id = if i == 11_000 {
            "011000".to_string()
        } else {
            i.to_string()
        };
        let filled = if i > 10_500 { "5" } else { "" };
        late.push_str(&format!("{id},{filled},{i}.5\n"));
        steady.push_str(&format!("{i},{filled},{i}.5\n"));
    }
    write(dir.path(), "late.csv", &late);
    write(dir.path(), "steady.csv", &steady);
    let db = StateDb::open(dir.path().join("rssd.db"), &OpenOptions::default()).unwrap();
    let options = IngestOptions {
        speculate_from_bytes: 1,
        ..IngestOptions::default()
    };
    let paths = [text(dir.path()).to_string()];
    let summary = rssd::ingest::ingest(&db, &paths, &options, &NoHook).unwrap();
    assert_eq!(summary.tables, 2);
    let path = dir.path().join("rssd.db");
    let types = |t: &str| {
        declared(&path, t)
            .into_iter()
            .map(|(_, t)| t)
            .collect::<Vec<_>>()
    };
    assert_eq!(types("late"), ["TEXT", "INTEGER", "REAL"]);
    assert_eq!(types("steady"), ["INTEGER", "INTEGER", "REAL"]);
    let rows = cells(&path, "late");
    assert_eq!(rows.len(), 12_000);
    assert_eq!(rows[10_999][0].as_deref(), Some("011000"));
    assert_eq!(rows[11_999][1].as_deref(), Some("5"));
    assert_eq!(
        count(
            &path,
            "SELECT count(*) FROM orchestration_session_exec WHERE exec_code LIKE 'CREATE TABLE \"late\"%'"
        ),
        1,
        "the rolled-back attempt leaves no exec row"
    );
}

#[test]
fn the_state_database_in_a_walked_folder_is_not_ingested() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("state.csv");
    write(dir.path(), "data.csv", "a\n1\n");
    assert_status(&ingest(&db, &[text(dir.path())]), 0);
    // The database (even named .csv) and its -wal/-shm files are skipped on the next walk too.
    let out = ingest(&db, &[text(dir.path()), "--format", "json"]);
    assert_status(&out, 0);
    let sources: Vec<String> = json_stdout(&out)["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["source"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(sources, [text(&dir.path().join("data.csv")).to_string()]);
}

#[test]
fn report_option_writes_the_ingest_report_at_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("r.db");
    let good = write(
        dir.path(),
        "visits.csv",
        "id,name\n1,Ann\n2,<script>alert(1)</script>\n",
    );
    let ragged = write(dir.path(), "ragged.csv", "a,b\n1,2,3\n");
    let report = dir.path().join("run.md");
    let out = ingest(
        &db,
        &[text(&good), text(&ragged), "--report", text(&report)],
    );
    assert_status(&out, 1);
    let md = std::fs::read_to_string(&report).unwrap();
    let session = column(
        &db,
        "SELECT orchestration_session_id FROM orchestration_session",
    )[0]
    .clone()
    .unwrap();
    assert!(md.contains(&session), "{md}");
    assert!(
        md.contains("visits.csv") && md.contains("ragged.csv") && md.contains("Ragged Row"),
        "{md}"
    );

    // An unknown report format is refused before any file is read or recorded.
    let out = ingest(&db, &[text(&good), "--report", "run.docx"]);
    assert_status(&out, 2);
    assert_eq!(count(&db, "SELECT count(*) FROM orchestration_session"), 1);
}

/// A row check that panics (a bug in it) fails that file's load, rolled back with a Script
/// Error issue; the run goes on with the next file and completes.
#[test]
fn a_row_check_that_panics_fails_its_file_and_the_run_goes_on() {
    use csv::ByteRecord;
    use rssd::ingest::{EntryHook, IngestOptions, LoadedEntry, RowCheck};
    use rssd::state::{Issue, OpenOptions, StateDb};

    struct Panics;
    impl RowCheck for Panics {
        fn check(&mut self, records: &[ByteRecord], _: i64, _: &mut Vec<Issue>) {
            if records.iter().any(|r| r.get(0) == Some(b"boom")) {
                panic!("a bug in a check");
            }
        }
        fn into_any(self: Box<Self>) -> Box<dyn std::any::Any> {
            self
        }
    }
    struct Hook;
    impl EntryHook for Hook {
        fn row_check(&self, _: &LoadedEntry) -> Option<Box<dyn RowCheck>> {
            Some(Box::new(Panics))
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    // Both a one-batch file (checked before the parser thread starts) and a long one.
    write(&input, "a_small.csv", "id\n1\nboom\n");
    let mut long = String::from("id\n");
    for row in 0..3000 {
        long.push_str(if row == 2500 { "boom\n" } else { "1\n" });
    }
    write(&input, "b_long.csv", &long);
    write(&input, "c_fine.csv", "id\n1\n");
    let db = StateDb::open(dir.path().join("rssd.db"), &OpenOptions::default()).unwrap();
    let summary = rssd::ingest::ingest(
        &db,
        &[text(&input).to_string()],
        &IngestOptions::default(),
        &Hook,
    )
    .unwrap();
    let states: Vec<(String, String)> = summary
        .entries
        .iter()
        .map(|e| {
            (
                e.source.rsplit('/').next().unwrap().to_string(),
                e.state.clone(),
            )
        })
        .collect();
    assert_eq!(
        states,
        [
            ("a_small.csv", "FAILED"),
            ("b_long.csv", "FAILED"),
            ("c_fine.csv", "INGESTED")
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    let conn: &Connection = db.conn();
    let tables: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name IN ('a_small', 'b_long', 'c_fine')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(tables, 1, "only c_fine was kept");
    let reasons: i64 = conn
        .query_row(
            "SELECT count(*) FROM orchestration_session_issue WHERE issue_type = 'Script Error' AND issue_message LIKE '%stopped on an internal error%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(reasons, 2);
}
