//! Delimited files whose structure is not a plain header-then-rows: a preamble before the
//! header (`Preamble Skipped`, `--header-row`), an empty line at the very end, and files wider
//! than SQLite's 2,000 columns (`Too Many Columns`, `--too-many-columns long`). Each test
//! drives the real binary and reads what it stored.

use crate::common::*;

/// `type|code|row|invalid_value` of every issue, in recorded order.
fn issues(work: &Work) -> Vec<String> {
    work.query(
        "SELECT issue_type || '|' || json_extract(elaboration, '$.code') || '|'
                || coalesce(issue_row, '') || '|' || coalesce(invalid_value, '')
         FROM orchestration_session_issue ORDER BY rowid",
    )
    .into_iter()
    .map(|row| row[0].clone().unwrap_or_default())
    .collect()
}

/// A fact of the (only) entry's elaboration.
fn entry_fact(work: &Work, path: &str) -> Option<String> {
    work.query(&format!(
        "SELECT json_extract(elaboration, '$.{path}') FROM orchestration_session_entry"
    ))[0][0]
        .clone()
}

fn texts(rows: Vec<Vec<Option<String>>>) -> Vec<Vec<String>> {
    rows.into_iter()
        .map(|row| row.into_iter().map(Option::unwrap_or_default).collect())
        .collect()
}

#[test]
fn a_preamble_is_skipped_and_only_truly_ragged_rows_are_flagged() {
    let work = Work::new();
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/structure/preamble.csv");
    let csv = work.file("preamble.csv", std::fs::read(fixture).unwrap());
    let out = work.rssd(&["ingest", "--no-progress", text(&csv)]);
    // The ragged rows are errors (exit 1); the file loads.
    assert_status(&out, 1);
    assert_eq!(
        texts(work.query("SELECT name FROM pragma_table_info('preamble') ORDER BY cid")),
        [["id"], ["name"], ["age"]]
    );
    assert_eq!(
        texts(work.query("SELECT rowid, id, name, coalesce(age, 'NULL') FROM preamble")),
        [
            ["1", "1", "english", "30"],
            ["2", "2", "中国人", "40"],
            ["3", "3", "ragged", "NULL"],
            ["4", "4", "extra", "50"],
            ["5", "5", "fine", "60"],
        ]
    );
    assert_eq!(
        issues(&work),
        [
            "Preamble Skipped|preamble-skipped||# clean this data!",
            "Ragged Row|missing-cell|3|",
            "Ragged Row|extra-cell|4|[\"x\"]",
        ]
    );
    assert_eq!(entry_fact(&work, "header_line").as_deref(), Some("2"));
    assert_eq!(
        work.query("SELECT json_extract(elaboration, '$.line'), json_extract(elaboration, '$.severity') FROM orchestration_session_issue WHERE issue_type = 'Preamble Skipped'"),
        [[Some("1".to_string()), Some("warning".to_string())]]
    );
}

#[test]
fn titles_before_the_header_are_skipped_and_plain_or_ragged_files_keep_their_first_line() {
    let work = Work::new();
    let titled = work.file(
        "titled.csv",
        "Screening extract\nGenerated,2026-12-01\nid,site,score,flag\n1,a,2.5,1\n2,b,3.5,0\n",
    );
    assert_status(&work.rssd(&["ingest", "--no-progress", text(&titled)]), 0);
    assert_eq!(
        texts(work.query("SELECT * FROM titled")),
        [["1", "a", "2.5", "1"], ["2", "b", "3.5", "0"]]
    );
    assert_eq!(
        issues(&work),
        [
            "Preamble Skipped|preamble-skipped||Screening extract",
            "Preamble Skipped|preamble-skipped||Generated,2026-12-01",
        ]
    );

    // The separator is sniffed from the header on, so a `.txt` (which must sniff as delimited)
    // with a comment first loads too.
    let piped = work.file(
        "piped.txt",
        "# exported by the lab; do not edit\nid|name\n1|x\n2|y\n",
    );
    assert_status(&work.rssd(&["ingest", "--no-progress", text(&piped)]), 0);
    assert_eq!(
        texts(work.query("SELECT id, name FROM piped")),
        [["1", "x"], ["2", "y"]]
    );

    // A header narrower than its rows, and a header starting with `#`, stay the header.
    let work = Work::new();
    let narrow = work.file("narrow.csv", "a,b\n1,2,3\n4,5,6\n");
    let hash = work.file("hash.csv", "#,name\n1,x\n2,y\n");
    work.rssd(&["ingest", "--no-progress", text(&narrow), text(&hash)]);
    assert_eq!(
        texts(work.query("SELECT a, b FROM narrow")),
        [["1", "2"], ["4", "5"]]
    );
    assert_eq!(
        texts(work.query("SELECT \"#\", name FROM hash")),
        [["1", "x"], ["2", "y"]]
    );
    assert!(!issues(&work).iter().any(|i| i.starts_with("Preamble")));
}

#[test]
fn header_row_names_the_header_line() {
    let work = Work::new();
    // The first line has as many cells as the header: no rule can tell it is a preamble.
    let csv = work.file("export.csv", "Exported by,the,tool\nx,y,z\n1,2,3\n");
    assert_status(
        &work.rssd(&["ingest", "--no-progress", "--header-row", "2", text(&csv)]),
        0,
    );
    assert_eq!(
        texts(work.query("SELECT x, y, z FROM export")),
        [["1", "2", "3"]]
    );
    assert_eq!(
        issues(&work),
        ["Preamble Skipped|preamble-skipped||Exported by,the,tool"]
    );
    assert_eq!(entry_fact(&work, "header_line").as_deref(), Some("2"));
    let refused = work.rssd(&["ingest", "--no-progress", "--header-row", "0", text(&csv)]);
    assert_status(&refused, 2);
    // A header line beyond the file: an error that says so, no table.
    let short = work.file("short.csv", "a,b\n1,2\n");
    let out = work.rssd(&["ingest", "--no-progress", "--header-row", "9", text(&short)]);
    assert_status(&out, 1);
    assert_eq!(
        work.query("SELECT issue_type, issue_message FROM orchestration_session_issue WHERE issue_type <> 'Preamble Skipped'"),
        [[
            Some("Empty File".to_string()),
            Some("--header-row 9: no record starts on or after line 9".to_string())
        ]]
    );
    assert_eq!(
        work.query("SELECT count(*) FROM sqlite_master WHERE name = 'short'")[0][0].as_deref(),
        Some("0")
    );
}

#[test]
fn an_empty_line_at_the_very_end_is_a_blank_row_warning() {
    let work = Work::new();
    let two = work.file("two.csv", "a,b\n1,2\n3,4\n\n");
    let crlf = work.file("crlf.csv", "a,b\r\n1,2\r\n\r\n");
    let one = work.file("one.csv", "a,b\n1,2\n");
    let out = work.rssd(&[
        "ingest",
        "--no-progress",
        text(&two),
        text(&crlf),
        text(&one),
    ]);
    assert_status(&out, 0);
    assert_eq!(
        work.query("SELECT count(*) FROM two")[0][0].as_deref(),
        Some("2")
    );
    assert_eq!(
        work.query(
            "SELECT e.ingest_src, i.issue_message, json_extract(i.elaboration, '$.severity')
             FROM orchestration_session_issue i JOIN orchestration_session_entry e
               ON e.orchestration_session_entry_id = i.session_entry_id ORDER BY i.rowid"
        )
        .into_iter()
        .map(|row| row
            .into_iter()
            .map(Option::unwrap_or_default)
            .collect::<Vec<_>>()
            .join("|"))
        .map(|line| line
            .rsplit_once('/')
            .map_or(line.clone(), |(_, tail)| tail.to_string()))
        .collect::<Vec<_>>(),
        [
            "two.csv|an empty line after the last data row (2) was skipped|warning",
            "crlf.csv|an empty line after the last data row (1) was skipped|warning",
        ]
    );
}

/// A CSV of `columns` columns `c1..`, and `rows` rows where cell (r, c) is `r-c`, except that
/// every third cell is empty.
fn wide_csv(columns: usize, rows: usize) -> String {
    let header: Vec<String> = (1..=columns).map(|c| format!("c{c}")).collect();
    let mut text = header.join(",") + "\n";
    for r in 1..=rows {
        let cells: Vec<String> = (1..=columns)
            .map(|c| {
                if c % 3 == 0 {
                    String::new()
                } else {
                    format!("{r}-{c}")
                }
            })
            .collect();
        text += &(cells.join(",") + "\n");
    }
    text
}

#[test]
fn a_file_wider_than_sqlite_allows_fails_naming_the_limit() {
    let work = Work::new();
    let csv = work.file("genes.csv", wide_csv(9074, 3));
    let out = work.rssd(&["ingest", "--no-progress", text(&csv)]);
    assert_status(&out, 1);
    assert_eq!(
        work.query(
            "SELECT issue_type, json_extract(elaboration, '$.code'), json_extract(elaboration, '$.severity') FROM orchestration_session_issue"
        ),
        [[
            Some("Too Many Columns".to_string()),
            Some("source-error/too-many-columns".to_string()),
            Some("error".to_string()),
        ]]
    );
    let message = work
        .query("SELECT issue_message || ' ' || remediation FROM orchestration_session_issue")[0][0]
        .clone()
        .unwrap();
    assert!(
        message.contains("9074 columns") && message.contains("at most 2000"),
        "{message}"
    );
    assert!(message.contains("--too-many-columns long"), "{message}");
    assert_eq!(
        work.query("SELECT count(*) FROM sqlite_master WHERE name = 'genes'")[0][0].as_deref(),
        Some("0")
    );
}

#[test]
fn a_wide_file_loads_as_a_long_table_that_default_tools_read() {
    let work = Work::new();
    let mut csv_text = wide_csv(9074, 3);
    // A ragged row keeps its structural issue, its cells kept too.
    csv_text += "4-1,4-2\n";
    let csv = work.file("genes.csv", csv_text);
    let out = work.rssd(&[
        "ingest",
        "--no-progress",
        "--too-many-columns",
        "long",
        text(&csv),
    ]);
    assert_status(&out, 1);
    assert_eq!(
        texts(
            work.query("SELECT name || ' ' || type FROM pragma_table_info('genes') ORDER BY cid")
        ),
        [
            ["row INTEGER"],
            ["column_number INTEGER"],
            ["column TEXT"],
            ["value TEXT"]
        ]
    );
    // Two of every three cells are non-empty: 6,050 of 9,074 per full row, plus the ragged 2.
    let per_row = (1..=9074).filter(|c| c % 3 != 0).count();
    assert_eq!(
        work.query("SELECT count(*) FROM genes")[0][0].as_deref(),
        Some((per_row * 3 + 2).to_string().as_str())
    );
    // Every non-empty cell, its row and its column: the wide file is recovered exactly.
    assert_eq!(
        work.query("SELECT count(*) FROM genes WHERE value <> row || '-' || column_number OR column <> 'c' || column_number")[0][0].as_deref(),
        Some("0")
    );
    assert_eq!(
        texts(work.query(
            "SELECT row, column_number, column, value FROM genes WHERE row = 2 AND column = 'c9074'"
        )),
        [["2", "9074", "c9074", "2-9074"]]
    );
    assert_eq!(
        texts(work.query("SELECT issue_type, issue_row FROM orchestration_session_issue")),
        [["Ragged Row", "4"]]
    );
    assert_eq!(entry_fact(&work, "layout").as_deref(), Some("long"));
    assert_eq!(entry_fact(&work, "file_columns").as_deref(), Some("9074"));
    assert_eq!(entry_fact(&work, "file_rows").as_deref(), Some("4"));
}

#[test]
fn a_big_file_with_a_preamble_loads_the_same_way() {
    // 8 MiB and more load with a sample's types while the whole file is scanned meanwhile:
    // both skip the preamble, and its warning is recorded once.
    let work = Work::new();
    let mut csv_text = String::from("# nightly export\nid,site,score\n");
    let mut rows = 0;
    while csv_text.len() < 9 << 20 {
        rows += 1;
        csv_text += &format!("{rows},site number {},{}.5\n", rows % 97, rows % 1000);
    }
    let csv = work.file("nightly.csv", csv_text);
    assert_status(&work.rssd(&["ingest", "--no-progress", text(&csv)]), 0);
    assert_eq!(
        texts(work.query("SELECT count(*), max(id), typeof(max(score)) FROM nightly")),
        [[rows.to_string(), rows.to_string(), "real".to_string()]]
    );
    assert_eq!(
        issues(&work),
        ["Preamble Skipped|preamble-skipped||# nightly export"]
    );
    assert_eq!(entry_fact(&work, "header_line").as_deref(), Some("2"));
}
