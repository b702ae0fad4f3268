//! Format readers end to end: `.xlsm`, `.ods` and `.xls` workbooks, JSON kept to its exact
//! text, UTF-16 without a byte order mark, a blank line before an unterminated last record,
//! and the progress bar under a terminal.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::common::*;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// `name TYPE` of each column of a table, in order.
fn declared(db: &Path, table: &str) -> Vec<String> {
    lines(
        db,
        &format!("SELECT name || ' ' || type FROM pragma_table_info('{table}') ORDER BY cid"),
    )
}

/// Every cell of a table with its storage class (`text:007`, `integer:1`, `null`), rows in
/// rowid order.
fn typed_cells(db: &Path, table: &str) -> Vec<Vec<String>> {
    let conn = connect(db);
    let mut stmt = conn
        .prepare(&format!("SELECT * FROM \"{table}\" ORDER BY rowid"))
        .unwrap();
    let width = stmt.column_count();
    stmt.query_map([], |row| {
        Ok((0..width)
            .map(|i| match row.get_ref(i).unwrap() {
                rusqlite::types::ValueRef::Null => "null".to_string(),
                rusqlite::types::ValueRef::Integer(v) => format!("integer:{v}"),
                rusqlite::types::ValueRef::Real(v) => format!("real:{v}"),
                rusqlite::types::ValueRef::Text(t) => {
                    format!("text:{}", String::from_utf8_lossy(t))
                }
                rusqlite::types::ValueRef::Blob(_) => "blob".to_string(),
            })
            .collect())
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

/// `issue_type|row|column|invalid_value|severity` of each issue of entries from `source_like`.
fn issues_of(db: &Path, source_like: &str) -> Vec<String> {
    lines(
        db,
        &format!(
            "SELECT i.issue_type || '|' || coalesce(i.issue_row, '') || '|' || coalesce(i.issue_column, '')
                    || '|' || coalesce(i.invalid_value, '') || '|' || json_extract(i.elaboration, '$.severity')
             FROM orchestration_session_issue i JOIN orchestration_session_entry e
               ON e.orchestration_session_entry_id = i.session_entry_id
             WHERE e.ingest_src LIKE '{source_like}' ORDER BY i.rowid"
        ),
    )
}

/// The workbook of [`write_clinic_workbook`] as OpenDocument: a zip whose `content.xml` holds the sheets, the formula
/// with its cached value.
fn write_ods(path: &Path) {
    let cell = |kind: &str, value: &str, shown: &str| match kind {
        "string" => format!(
            r#"<table:table-cell office:value-type="string"><text:p>{shown}</text:p></table:table-cell>"#
        ),
        "date" => format!(
            r#"<table:table-cell office:value-type="date" office:date-value="{value}"><text:p>{shown}</text:p></table:table-cell>"#
        ),
        "boolean" => format!(
            r#"<table:table-cell office:value-type="boolean" office:boolean-value="{value}"><text:p>{shown}</text:p></table:table-cell>"#
        ),
        _ => format!(
            r#"<table:table-cell office:value-type="float" office:value="{value}"><text:p>{shown}</text:p></table:table-cell>"#
        ),
    };
    let row = |cells: Vec<String>| format!("<table:table-row>{}</table:table-row>", cells.concat());
    let mut patients = vec![row(["id", "name", "weight", "born", "active", "code"]
        .iter()
        .map(|h| cell("string", "", h))
        .collect())];
    for (id, name, weight, day, active) in [
        ("1", "Ann", "61.5", "02", "true"),
        ("2", "Bob", "80.25", "03", "false"),
        ("3", "Cy", "70", "04", "true"),
    ] {
        patients.push(row(vec![
            cell("float", id, id),
            cell("string", "", name),
            cell("float", weight, weight),
            cell("date", &format!("1990-01-{day}"), &format!("1990-01-{day}")),
            cell("boolean", active, &active.to_uppercase()),
            cell("string", "", "007"),
        ]));
    }
    let visits = [
        row(vec![cell("string", "", "patient"), cell("string", "", "total")]),
        row(vec![
            cell("float", "1", "1"),
            r#"<table:table-cell table:formula="of:=2+3" office:value-type="float" office:value="5"><text:p>5</text:p></table:table-cell>"#.to_string(),
        ]),
    ];
    let content = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body><office:spreadsheet><table:table table:name="Patients">{}</table:table><table:table table:name="Visits 2024">{}</table:table><table:table table:name="Empty"><table:table-row><table:table-cell/></table:table-row></table:table></office:spreadsheet></office:body></office:document-content>"#,
        patients.concat(),
        visits.concat()
    );
    let manifest = r#"<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>"#;
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, body) in [
        ("mimetype", "application/vnd.oasis.opendocument.spreadsheet"),
        ("META-INF/manifest.xml", manifest),
        ("content.xml", content.as_str()),
    ] {
        zip.start_file(name, stored).unwrap();
        zip.write_all(body.as_bytes()).unwrap();
    }
    zip.finish().unwrap();
}

#[test]
fn xlsm_ods_and_xls_workbooks_load_like_xlsx() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rssd.db");
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    write_clinic_workbook(
        &input.join("Clinic Macro.xlsm"),
        Some(&fixture("vbaProject.bin")),
    );
    write_ods(&input.join("Clinic Open.ods"));
    std::fs::copy(fixture("clinic.xls"), input.join("Clinic Old.xls")).unwrap();
    let out = ingest(&db, &[text(&input), "--format", "json"]);
    assert_status(&out, 0);
    let tables: Vec<String> = json_stdout(&out)["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| format!("{} {}", e["table"].as_str().unwrap(), e["format"]))
        .collect();
    assert_eq!(
        tables,
        [
            "clinic_macro_patients \"xlsm\"",
            "clinic_macro_visits_2024 \"xlsm\"",
            "clinic_old_patients \"xls\"",
            "clinic_old_visits_2024 \"xls\"",
            "clinic_open_patients \"ods\"",
            "clinic_open_visits_2024 \"ods\"",
        ],
        "one entry and table per non-empty sheet; the Empty sheets are skipped"
    );
    for stem in ["clinic_macro", "clinic_old", "clinic_open"] {
        let patients = format!("{stem}_patients");
        assert_eq!(
            declared(&db, &patients),
            [
                "id INTEGER",
                "name TEXT",
                "weight REAL",
                "born TEXT",
                "active TEXT",
                "code TEXT"
            ],
            "{patients}"
        );
        assert_eq!(
            typed_cells(&db, &patients),
            [
                [
                    "integer:1",
                    "text:Ann",
                    "real:61.5",
                    "text:1990-01-02",
                    "text:TRUE",
                    "text:007"
                ],
                [
                    "integer:2",
                    "text:Bob",
                    "real:80.25",
                    "text:1990-01-03",
                    "text:FALSE",
                    "text:007"
                ],
                [
                    "integer:3",
                    "text:Cy",
                    "real:70",
                    "text:1990-01-04",
                    "text:TRUE",
                    "text:007"
                ],
            ],
            "{patients}: numbers as numbers, dates as ISO 8601 text"
        );
        let visits = format!("{stem}_visits_2024");
        if stem == "clinic_old" {
            // xlwt writes formulas without a cached value; an empty cell is NULL.
            assert_eq!(typed_cells(&db, &visits), [["integer:1", "null"]]);
            continue;
        }
        assert_eq!(declared(&db, &visits), ["patient INTEGER", "total INTEGER"]);
        assert_eq!(
            typed_cells(&db, &visits),
            [["integer:1", "integer:5"]],
            "{visits}: the formula as its cached value"
        );
    }
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM orchestration_session_entry WHERE json_extract(elaboration, '$.sheet') = 'Empty'"
        ),
        0
    );
}

#[test]
fn json_values_keep_their_exact_text() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rssd.db");
    std::fs::write(
        dir.path().join("orders.json"),
        r#"[
  {"id": 123456789012345678901234567890, "price": 1.10, "qty": 3, "meta": {"z": 1, "a": [1.50, 2e3, {"k": "x  y"}]}, "tag": "a", "tag": "b"},
  {"id": -98765432109876543210, "price": 2.5, "qty": 4, "meta": null, "tag": "\u00e9\n"}
]"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("events.jsonl"),
        "{\"n\": 18446744073709551616, \"x\": 1e3, \"ok\": true, \"when\": \"2024-01-02\"}\n{\"n\": 9223372036854775807, \"x\": -0.0, \"ok\": false, \"when\": null}\n",
    )
    .unwrap();
    let out = ingest(&db, &[text(dir.path())]);
    assert_status(&out, 0);
    assert_eq!(
        declared(&db, "orders"),
        [
            "id TEXT",
            "price TEXT",
            "qty INTEGER",
            "meta TEXT",
            "tag TEXT"
        ]
    );
    assert_eq!(
        typed_cells(&db, "orders"),
        [
            [
                "text:123456789012345678901234567890",
                "text:1.10",
                "integer:3",
                r#"text:{"z":1,"a":[1.50,2e3,{"k":"x  y"}]}"#,
                "text:b",
            ],
            [
                "text:-98765432109876543210",
                "text:2.5",
                "integer:4",
                "null",
                "text:é\n",
            ],
        ],
        "numbers as written, nested values in file order, strings decoded"
    );
    assert_eq!(
        issues_of(&db, "%orders.json"),
        ["Duplicate Header|1|tag|\"a\"|warning"],
        "a repeated key keeps its last value; the dropped one is in the issue"
    );
    assert_eq!(
        declared(&db, "events"),
        ["n TEXT", "x TEXT", "ok TEXT", "when TEXT"]
    );
    assert_eq!(
        typed_cells(&db, "events"),
        [
            [
                "text:18446744073709551616",
                "text:1e3",
                "text:true",
                "text:2024-01-02"
            ],
            [
                "text:9223372036854775807",
                "text:-0.0",
                "text:false",
                "null"
            ],
        ]
    );
}

#[test]
fn utf16_without_a_byte_order_mark_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rssd.db");
    let text16 = "id,name\r\n1,Jos\u{e9}\r\n2,\u{1F600}\r\n";
    for (name, unit_bytes) in [
        ("le.csv", u16::to_le_bytes as fn(u16) -> [u8; 2]),
        ("be.csv", u16::to_be_bytes),
    ] {
        let bytes: Vec<u8> = text16.encode_utf16().flat_map(unit_bytes).collect();
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }
    let out = ingest(&db, &[text(dir.path())]);
    assert_status(&out, 0);
    for (table, encoding) in [("le", "utf-16le"), ("be", "utf-16be")] {
        assert_eq!(
            typed_cells(&db, table),
            [["integer:1", "text:José"], ["integer:2", "text:\u{1F600}"]],
            "{table}"
        );
        assert_eq!(
            column(
                &db,
                &format!(
                    "SELECT json_extract(elaboration, '$.encoding') FROM orchestration_session_entry WHERE ingest_table_name = '{table}'"
                )
            ),
            [Some(encoding.to_string())]
        );
    }
}

#[test]
fn a_blank_line_before_an_unterminated_last_record_is_a_blank_row() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rssd.db");
    for (name, body) in [
        ("lf.csv", "a,b\n1,2\n\n3,4"),
        ("two.csv", "a,b\n1,2\n\n\n3,4"),
        ("crlf.csv", "a,b\r\n1,2\r\n\r\n3,4"),
        ("quoted.csv", "a,b\n1,2\n\n3,\"4\n5\""),
        ("terminated.csv", "a,b\n1,2\n\n3,4\n"),
        ("clean.csv", "a,b\n1,2\n3,4"),
        ("clean_crlf.csv", "a,b\r\n1,2\r\n3,4"),
    ] {
        std::fs::write(dir.path().join(name), body).unwrap();
    }
    let out = ingest(&db, &[text(dir.path())]);
    assert_status(&out, 0);
    let blank = "Blank Row||||warning";
    for (name, expected) in [
        ("lf.csv", vec![blank]),
        ("two.csv", vec![blank, blank]),
        ("crlf.csv", vec![blank]),
        ("quoted.csv", vec![blank]),
        ("terminated.csv", vec![blank]),
        ("clean.csv", vec![]),
        ("clean_crlf.csv", vec![]),
    ] {
        assert_eq!(issues_of(&db, &format!("%/{name}")), expected, "{name}");
    }
    assert_eq!(
        column(
            &db,
            "SELECT CAST(json_extract(i.elaboration, '$.before_row') AS TEXT) FROM orchestration_session_issue i JOIN orchestration_session_entry e ON e.orchestration_session_entry_id = i.session_entry_id WHERE e.ingest_src LIKE '%/lf.csv'"
        ),
        [Some("2".to_string())]
    );
    assert_eq!(count(&db, "SELECT count(*) FROM lf"), 2);
}

/// Runs `rssd -d DB ARGS... >/dev/null` under a pseudo-terminal (util-linux `script`), so
/// standard error is a terminal; returns what the terminal showed (standard error only).
fn stderr_on_a_terminal(db: &Path, args: &[&str]) -> String {
    let quote = |arg: &str| format!("'{}'", arg.replace('\'', r"'\''"));
    let mut command = vec![
        quote(env!("CARGO_BIN_EXE_rssd")),
        "-d".into(),
        quote(text(db)),
    ];
    command.extend(args.iter().map(|arg| quote(arg)));
    command.push(">/dev/null".into());
    let out = std::process::Command::new("script")
        .args(["-q", "-e", "-c", &command.join(" "), "/dev/null"])
        .env_remove("RSSD_STATE_DB_FS_PATH")
        .env("TERM", "xterm")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("util-linux `script` runs (scripts/setup.sh installs it)");
    assert_status(&out, 0);
    stdout(&out)
}

#[test]
fn the_progress_bar_draws_on_a_terminal_only() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    let mut first = String::from("id,name\n");
    for i in 0..50_000 {
        first.push_str(&format!("{i},name {i}\n"));
    }
    std::fs::write(input.join("a.csv"), first).unwrap();
    std::fs::write(input.join("b.csv"), "id\n1\n").unwrap();

    let db = dir.path().join("tty.db");
    let shown = stderr_on_a_terminal(&db, &["ingest", text(&input)]);
    assert!(shown.contains("0/2 files"), "{shown}");
    assert!(shown.contains("2/2 files"), "{shown}");
    // The second file starts with the first one's rows counted, with both rates.
    let counted =
        regex::Regex::new(r"1/2 files  50000 rows, \d+ rows/s, \d+\.\d MB/s \S*b\.csv").unwrap();
    assert!(counted.is_match(&shown), "{shown}");
    // The bar is redrawn while the 50,000 rows load, not only between files.
    let drawn_rows = regex::Regex::new(r"0/2 files  (\d+) rows, \d+ rows/s").unwrap();
    assert!(
        drawn_rows.captures_iter(&shown).any(|c| c[1]
            .parse::<u64>()
            .is_ok_and(|rows| rows > 0 && rows < 50_000)),
        "no redraw while loading: {shown}"
    );
    assert!(
        !shown.contains("INGESTED"),
        "the summary goes to standard output, not the terminal here: {shown}"
    );
    assert_eq!(count(&db, "SELECT count(*) FROM a"), 50_000);

    let quiet = stderr_on_a_terminal(
        &dir.path().join("quiet.db"),
        &["ingest", "--no-progress", text(&input)],
    );
    assert!(!quiet.contains("files"), "--no-progress: {quiet}");
    assert!(!quiet.contains("rows/s"), "--no-progress: {quiet}");

    let piped = run(&dir.path().join("piped.db"), &["ingest", text(&input)]);
    assert_status(&piped, 0);
    assert!(!stderr(&piped).contains("files"), "{}", stderr(&piped));
    assert!(!stderr(&piped).contains("rows/s"), "{}", stderr(&piped));
    assert!(stdout(&piped).contains("INGESTED"));
}

#[test]
fn json_lines_read_line_by_line_keep_rows_and_issues() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rssd.db");
    std::fs::write(
        dir.path().join("log.jsonl"),
        "\u{feff}{\"id\": 1, \"v\": \"a\"}\r\n\r\n{\"id\": 2, \"w\": [1, 2], \"id\": 3}\r\n[4]\r\nnot json\r\n{\"v\": \"b\"}",
    )
    .unwrap();
    // A first item spread over lines is not JSON Lines: the whole file is read as JSON.
    std::fs::write(
        dir.path().join("pretty.ndjson"),
        "{\n  \"id\": 1,\n  \"v\": 1.50\n}\n",
    )
    .unwrap();
    let out = ingest(&db, &[text(dir.path())]);
    assert_status(&out, 1);
    assert_eq!(declared(&db, "log"), ["id INTEGER", "v TEXT", "w TEXT"]);
    assert_eq!(
        typed_cells(&db, "log"),
        [
            vec!["integer:1", "text:a", "null"],
            vec!["integer:3", "null", "text:[1,2]"],
            vec!["null", "null", "null"],
            vec!["null", "null", "null"],
            vec!["null", "text:b", "null"],
        ]
    );
    let issues = issues_of(&db, "%log.jsonl");
    assert_eq!(issues.len(), 3, "{issues:?}");
    assert_eq!(issues[0], "Duplicate Header|2|id|2|warning");
    assert_eq!(issues[1], "Format Mismatch|3||[4]|error");
    assert!(
        issues[2].starts_with("Format Mismatch|4||not json|error"),
        "{issues:?}"
    );
    assert_eq!(typed_cells(&db, "pretty"), [["integer:1", "text:1.50"]]);
    assert_eq!(
        column(
            &db,
            "SELECT ingest_table_name || ' ' || json_extract(elaboration, '$.json_shape') FROM orchestration_session_entry ORDER BY ingest_table_name"
        ),
        [
            Some("log ndjson".to_string()),
            Some("pretty json".to_string())
        ]
    );
}

/// A big sheet's rows are counted on the bar as it loads (its XML is parsed while it loads),
/// not only when the sheet is done.
#[test]
fn the_progress_bar_counts_a_sheets_rows_while_it_loads() {
    const ROWS: u32 = 40_000;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.xlsx");
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet_with_constant_memory().unwrap();
    sheet.write_string(0, 0, "id").unwrap();
    sheet.write_string(0, 1, "name").unwrap();
    for i in 1..=ROWS {
        sheet.write_number(i, 0, i).unwrap();
        sheet.write_string(i, 1, format!("name {i}")).unwrap();
    }
    book.save(&path).unwrap();

    let db = dir.path().join("tty.db");
    let shown = stderr_on_a_terminal(&db, &["ingest", text(&path)]);
    let drawn_rows = regex::Regex::new(r"0/1 files  (\d+) rows, \d+ rows/s").unwrap();
    assert!(
        drawn_rows.captures_iter(&shown).any(|c| c[1]
            .parse::<u64>()
            .is_ok_and(|rows| rows > 0 && rows < u64::from(ROWS))),
        "no redraw while the sheet loads: {shown}"
    );
    assert_eq!(
        count(&db, "SELECT count(*) FROM big_sheet1"),
        i64::from(ROWS)
    );
}
