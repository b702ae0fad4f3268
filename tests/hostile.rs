//! Hostile and malformed input (`tests/hostile/corpus.rs`): each of more than 100 files is
//! ingested alone by the real binary, and what lands in the database is compared with the
//! exact outcome the corpus names: the tables, their columns and every cell (or the issue
//! and no table), the issues raised with their rows, the session completed, the exit
//! status, and no panic or hang. Then the whole corpus is ingested as one folder.

pub mod corpus;

use std::path::Path;
use std::process::{Output, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::common::robust::*;
use crate::common::*;
use corpus::{Case, Expect, Rows};

/// A file taking longer than this is a hang.
const HANG: Duration = Duration::from_secs(120);

/// Runs `rssd ingest` and kills it if it outlives [`HANG`].
fn ingest(db: &Path, path: &Path) -> Result<Output, String> {
    let mut child = rssd()
        .arg("-d")
        .arg(db)
        .args(["ingest", "--no-progress", "--format", "json"])
        .arg(path)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("rssd starts");
    let started = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if started.elapsed() > HANG {
            let _ = child.kill();
            return Err(format!("hung for {HANG:?}"));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(child.wait_with_output().expect("output"))
}

/// Column names of a table, in order.
fn columns(db: &Path, table: &str) -> Vec<String> {
    let conn = connect(db);
    let mut stmt = conn
        .prepare(&format!(
            "PRAGMA table_info({})",
            rssd::sql::quote_ident(table)
        ))
        .unwrap();
    stmt.query_map([], |row| row.get(1))
        .unwrap()
        .map(|r| r.unwrap())
        .collect()
}

/// Every cell as SQLite gives it back as text, in rowid order.
fn cells(db: &Path, table: &str, names: &[String]) -> Vec<Vec<Option<String>>> {
    let conn = connect(db);
    let select: Vec<String> = names
        .iter()
        .map(|n| format!("CAST({} AS TEXT)", rssd::sql::quote_ident(n)))
        .collect();
    let sql = format!(
        "SELECT {} FROM {} ORDER BY rowid",
        select.join(", "),
        rssd::sql::quote_ident(table)
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

/// What the database holds after ingesting one case, compared with the corpus; returns
/// every difference found.
fn check(case: &Case, db: &Path, output: &Output) -> Vec<String> {
    let mut wrong = Vec::new();
    let mut expect = |ok: bool, what: String| {
        if !ok {
            wrong.push(what);
        }
    };
    let err = stderr(output);
    expect(!err.contains("panicked"), format!("panic: {err}"));
    expect(
        output.status.code() == Some(case.exit),
        format!(
            "exit {:?}, expected {} ({err})",
            output.status.code(),
            case.exit
        ),
    );
    if output.status.code() == Some(2) || !db.exists() {
        return wrong;
    }
    assert_integrity(db);
    let sessions: Vec<String> = column(
        db,
        "SELECT orchestration_session_id FROM orchestration_session",
    )
    .into_iter()
    .flatten()
    .collect();
    expect(sessions.len() == 1, format!("{} sessions", sessions.len()));
    if let Some(session) = sessions.first() {
        let state = latest_state(db, session, None);
        expect(state == "COMPLETED", format!("session {state}"));
    }
    let mut raised: Vec<(String, Option<i64>)> = {
        let conn = connect(db);
        let mut stmt = conn
            .prepare("SELECT issue_type, issue_row FROM orchestration_session_issue")
            .unwrap();
        stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
            .unwrap()
            .map(|r| r.unwrap())
            .collect()
    };
    raised.sort();
    expect(
        raised == case.issues,
        format!("issues {raised:?}, expected {:?}", case.issues),
    );
    let tables = user_tables(db);
    match &case.expect {
        Expect::NoTable(issue) => {
            expect(
                tables.is_empty(),
                format!("tables {tables:?}, expected none"),
            );
            let entries = column(
                db,
                "SELECT ingest_table_name FROM orchestration_session_entry",
            );
            expect(
                entries == [None],
                format!("entries' tables {entries:?}, expected one entry with no table"),
            );
            expect(
                raised.iter().any(|(t, _)| t == issue),
                format!("no {issue} issue"),
            );
        }
        Expect::Tables(expected) => {
            let mut names: Vec<String> = expected.iter().map(|t| t.table.clone()).collect();
            names.sort();
            let found: Vec<String> = tables.iter().map(|(t, _)| t.clone()).collect();
            expect(
                found == names,
                format!("tables {found:?}, expected {names:?}"),
            );
            let entries = count(db, "SELECT count(*) FROM orchestration_session_entry");
            expect(
                entries == expected.len() as i64,
                format!("{entries} entries, expected {}", expected.len()),
            );
            for table in expected {
                if !found.contains(&table.table) {
                    continue;
                }
                let have = columns(db, &table.table);
                expect(
                    have == table.columns,
                    format!(
                        "{}: columns {:?}, expected {:?}",
                        table.table,
                        clip(&have),
                        clip(&table.columns)
                    ),
                );
                match &table.rows {
                    Rows::Exact(rows) => {
                        let got = cells(db, &table.table, &have);
                        expect(
                            &got == rows,
                            format!("{}: rows {got:?}, expected {rows:?}", table.table),
                        );
                    }
                    Rows::Checked {
                        count: rows,
                        checks,
                    } => {
                        let sql = format!(
                            "SELECT count(*) FROM {}",
                            rssd::sql::quote_ident(&table.table)
                        );
                        let got = count(db, &sql);
                        expect(
                            got == *rows,
                            format!("{}: {got} rows, expected {rows}", table.table),
                        );
                        for sql in checks {
                            let ok = count(db, &format!("SELECT coalesce(({sql}), 0)"));
                            expect(ok == 1, format!("{sql} gave {ok}"));
                        }
                    }
                }
            }
        }
    }
    wrong
}

fn clip(names: &[String]) -> Vec<String> {
    names
        .iter()
        .take(5)
        .map(|n| n.chars().take(40).collect())
        .collect()
}

#[test]
fn every_hostile_file_gets_its_exact_outcome() {
    let cases = corpus::cases();
    assert!(cases.len() >= 100, "the corpus has {} files", cases.len());
    let root = tempfile::tempdir().unwrap();
    let failures = Mutex::new(Vec::new());
    let next = Mutex::new(0usize);
    std::thread::scope(|scope| {
        for _ in 0..3 {
            scope.spawn(|| {
                loop {
                    let index = {
                        let mut next = next.lock().unwrap();
                        *next += 1;
                        *next - 1
                    };
                    let Some(case) = cases.get(index) else { break };
                    let dir = root.path().join(format!("case{index}"));
                    let input = dir.join("in");
                    std::fs::create_dir_all(&input).unwrap();
                    let path = corpus::write_case(&input, case);
                    // Special files go through the folder walk; the rest are named directly.
                    let target = match case.content {
                        corpus::Content::Bytes(_) => path,
                        _ => input.clone(),
                    };
                    let db = dir.join("rssd.sqlite.db");
                    let wrong = match ingest(&db, &target) {
                        Ok(output) => check(case, &db, &output),
                        Err(hang) => vec![hang],
                    };
                    if !wrong.is_empty() {
                        failures.lock().unwrap().push(format!(
                            "{:?}:\n    {}",
                            case.name,
                            wrong.join("\n    ")
                        ));
                    }
                    let _ = std::fs::remove_dir_all(&dir);
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(
        failures.is_empty(),
        "{} of {} files differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn the_whole_corpus_as_one_folder_completes_with_an_entry_per_file() {
    let cases = corpus::cases();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("incoming");
    std::fs::create_dir(&input).unwrap();
    corpus::write_all(&input, &cases);
    // A symbolic link loop and a link to the folder itself must not be followed forever.
    std::os::unix::fs::symlink(".", input.join("loop")).unwrap();
    std::os::unix::fs::symlink(&input, input.join("self")).unwrap();
    let db = dir.path().join("rssd.sqlite.db");
    let output = ingest(&db, &input).expect("the folder run ends");
    assert_status(&output, 1);
    assert!(!stderr(&output).contains("panicked"));
    assert_integrity(&db);
    let session = latest_session(&db);
    assert_eq!(latest_state(&db, &session, None), "COMPLETED");
    let expected_entries: usize = cases
        .iter()
        .map(|case| match &case.expect {
            Expect::Tables(tables) => tables.len(),
            Expect::NoTable(_) => 1,
        })
        .sum();
    assert_eq!(
        count(&db, "SELECT count(*) FROM orchestration_session_entry") as usize,
        expected_entries
    );
    let expected_tables: usize = cases
        .iter()
        .map(|case| match &case.expect {
            Expect::Tables(tables) => tables.len(),
            Expect::NoTable(_) => 0,
        })
        .sum();
    assert_eq!(user_tables(&db).len(), expected_tables);
    // Every entry ended in a final state.
    assert_abandoned_by_next_run(&db, &[]);
}

#[test]
fn hostile_names_and_values_are_escaped_in_the_html_report() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("incoming");
    std::fs::create_dir(&input).unwrap();
    // A file name cannot hold '/', so no closing tag here; the cells have one.
    let attack = "<script>alert(1)";
    std::fs::write(
        input.join(format!("{attack}.csv")),
        "id,<img src=x onerror=alert(2)>\n1,\"</td><script>alert(3)</script>\"\n2,x,\"<b onmouseover=alert(4)>\"\n",
    )
    .unwrap();
    std::fs::write(
        input.join("\"><svg onload=alert(5)>.txt"),
        "not delimited at all\n",
    )
    .unwrap();
    let db = dir.path().join("rssd.sqlite.db");
    let out = ingest(&db, &input).expect("ingest ends");
    assert_status(&out, 1);
    let report = run(&db, &["report", "latest", "--format", "html"]);
    assert_status(&report, 0);
    let html = stdout(&report);
    // The page's own script is the only one; no markup from the data survives unescaped.
    assert_eq!(html.matches("<script").count(), 1, "{html}");
    for raw in [
        "<img src=x",
        "<b onmouseover",
        "<svg onload",
        "</td><script>",
    ] {
        assert!(!html.contains(raw), "{raw} reached the page unescaped");
    }
    assert!(html.contains("&lt;script&gt;alert(1).csv"));
    assert!(
        html.contains("&lt;b onmouseover=alert(4)&gt;"),
        "the ragged row's value is shown, escaped"
    );
}

#[test]
fn a_walked_folder_never_leads_outside_through_a_linked_folder() {
    let dir = tempfile::tempdir().unwrap();
    let outside = dir.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(outside.join("secret.csv"), "a\n1\n").unwrap();
    let input = dir.path().join("incoming");
    std::fs::create_dir(&input).unwrap();
    std::fs::write(input.join("mine.csv"), "a\n2\n").unwrap();
    std::os::unix::fs::symlink(&outside, input.join("linked")).unwrap();
    std::os::unix::fs::symlink("..", input.join("parent")).unwrap();
    std::os::unix::fs::symlink(input.join("linked"), input.join("chain")).unwrap();
    let db = dir.path().join("rssd.sqlite.db");
    let out = ingest(&db, &input).expect("ingest ends");
    assert_status(&out, 0);
    assert_eq!(user_tables(&db), [("mine".to_string(), 1)]);
    let sources = column(&db, "SELECT ingest_src FROM orchestration_session_entry");
    assert_eq!(sources.len(), 1, "{sources:?}");
}

#[test]
fn a_sql_rule_cannot_load_an_extension() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("t.csv");
    std::fs::write(&data, "a\n1\n").unwrap();
    let rule = dir.path().join("rule.sql");
    std::fs::write(
        &rule,
        "SELECT 'x' AS issue_type, load_extension('/nonexistent/x') AS issue_message;",
    )
    .unwrap();
    let db = dir.path().join("rssd.sqlite.db");
    let args = ["ingest", "--no-progress", data.to_str().unwrap(), "--rules"];
    let out = run(&db, &[&args[..], &[rule.to_str().unwrap()]].concat());
    assert_status(&out, 1);
    let issues = column(
        &db,
        "SELECT issue_type || ': ' || issue_message FROM orchestration_session_issue",
    );
    assert_eq!(issues.len(), 1);
    let issue = issues[0].clone().unwrap();
    assert!(
        issue.starts_with("Script Error") && issue.ends_with("not authorized"),
        "{issue}"
    );
}

/// A fuzzing finding: a cell reference whose row number overflows made the workbook parser
/// (calamine) panic in builds with overflow checks. The panic stays inside that file: it gets
/// an `Unreadable File` issue and the next file still loads.
#[test]
fn a_workbook_that_panics_its_parser_is_an_unreadable_file_and_the_run_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("incoming");
    std::fs::create_dir(&input).unwrap();
    let finding = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/regressions/workbook/cell-reference-overflow.xlsx");
    std::fs::copy(&finding, input.join("a_broken.xlsx")).unwrap();
    std::fs::write(input.join("b_fine.csv"), "id\n1\n").unwrap();
    let db = dir.path().join("rssd.sqlite.db");
    let out = ingest(&db, &input).expect("ingest ends");
    assert_status(&out, 1);
    let found = lines(
        &db,
        "SELECT e.ingest_src || '|' || coalesce(i.issue_type, '-') || '|' || coalesce(e.ingest_table_name, '-')
         FROM orchestration_session_entry e
         LEFT JOIN orchestration_session_issue i ON i.session_entry_id = e.orchestration_session_entry_id
         ORDER BY e.ingest_src",
    );
    let expected = [
        format!(
            "{}|Unreadable File|-",
            input.join("a_broken.xlsx").display()
        ),
        format!("{}|-|b_fine", input.join("b_fine.csv").display()),
    ];
    assert_eq!(found, expected);
    assert_eq!(count(&db, "SELECT count(*) FROM b_fine"), 1);
}
