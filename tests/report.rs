//! Diagnostics and reports: stored diagnostics, `rssd report` (md, json, html) and
//! `rssd issues` agree with the tables; the HTML page renders in a browser without running
//! what the data holds; a session with many issues is listed and summarised in bounded memory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;
use rssd::state::{Exec, Issue, IssueKind, OpenOptions, Session, Severity, StateDb, states};
use serde_json::{Value, json};

/// A value that would change the page if it ever ran as script.
const HOSTILE_SCRIPT: &str = "<script>alert(1)</script><script>document.title='pwned'</script>";
const HOSTILE_IMG: &str = "<img src=x onerror=\"document.body.setAttribute('data-pwned','1')\">";

/// What a realistic ingest + validation + scripts session records, through the library.
fn record_mixed_session(session: &mut Session<'_>) {
    let visits = session
        .add_entry(
            "incoming/clinic-visits.csv",
            Some("clinic_visits"),
            &json!({"format": "csv", "rows": 120}),
        )
        .unwrap();
    session
        .entry_transition(&visits, states::INGESTING, "reading")
        .unwrap();
    session
        .entry_transition(&visits, states::INGESTED, "120 rows")
        .unwrap();
    session
        .entry_transition(&visits, states::VALIDATING, "schema screening.schema.json")
        .unwrap();
    for (row, value) in [(4, "12/31/2023"), (17, "2024-02-30"), (58, "yesterday")] {
        session
            .issue(
                &Issue::new(
                    IssueKind::InvalidDate,
                    format!("visit_date {value:?} is not a date"),
                )
                .entry(&visits)
                .row(row)
                .column("visit_date")
                .invalid_value(value)
                .remediation("write dates as YYYY-MM-DD"),
            )
            .unwrap();
    }
    session
        .issue(
            &Issue::new(IssueKind::DataTypeMismatch, "patient_age is not an integer")
                .entry(&visits)
                .row(9)
                .column("patient_age")
                .invalid_value(HOSTILE_SCRIPT)
                .remediation("enter the age in whole years"),
        )
        .unwrap();
    for row in [33, 34] {
        session
            .issue(
                &Issue::new(IssueKind::BlankRow, "the row is blank")
                    .entry(&visits)
                    .row(row)
                    .severity(Severity::Warning)
                    .remediation("remove blank rows"),
            )
            .unwrap();
    }
    session
        .entry_transition(&visits, states::INVALID, "4 errors")
        .unwrap();

    let labs = session
        .add_entry(
            "incoming/labs.xlsx#Results",
            Some("labs_results"),
            &json!({"format": "xlsx", "sheet": "Results", "rows": 48}),
        )
        .unwrap();
    session
        .entry_transition(&labs, states::INGESTING, "reading")
        .unwrap();
    session
        .entry_transition(&labs, states::INGESTED, "48 rows")
        .unwrap();
    for row in 1..=6 {
        session
            .issue(
                &Issue::new(
                    IssueKind::InvalidValue,
                    "status is not one of the allowed values",
                )
                .entry(&labs)
                .row(row)
                .column("status")
                .invalid_value(if row == 2 { HOSTILE_IMG } else { "pending?" })
                .remediation("use one of: final, preliminary, corrected"),
            )
            .unwrap();
    }
    session
        .issue(
            &Issue::new(IssueKind::MissingMandatoryValue, "result is required")
                .entry(&labs)
                .row(12)
                .column("result")
                .invalid_value("")
                .severity(Severity::Warning),
        )
        .unwrap();

    let unknown = session
        .add_entry("incoming/scan.bin", None, &json!({"format": "unknown"}))
        .unwrap();
    session
        .entry_transition(&unknown, states::FAILED, "no reader for .bin")
        .unwrap();
    session
        .issue(
            &Issue::new(IssueKind::UnsupportedFormat, "no reader for .bin files")
                .entry(&unknown)
                .remediation("send CSV, TSV, Excel or JSON"),
        )
        .unwrap();

    let good_script = session
        .add_entry_in_state("scripts/transform.sql", None, &json!({}), states::ORCH_INIT)
        .unwrap();
    session
        .entry_transition(&good_script, states::ORCH_PROGRESS, "started")
        .unwrap();
    session
        .exec(&Exec::new("sql", "CREATE VIEW v AS SELECT 1").entry(&good_script))
        .unwrap();
    session
        .entry_transition(&good_script, states::ORCH_COMPLETED, "done")
        .unwrap();
    let bad_script = session
        .add_entry_in_state("scripts/broken.sql", None, &json!({}), states::ORCH_INIT)
        .unwrap();
    session
        .entry_transition(&bad_script, states::ORCH_PROGRESS, "started")
        .unwrap();
    session
        .exec(
            &Exec::new("sql", "SELECT * FROM missing_table")
                .entry(&bad_script)
                .status(1)
                .error("no such table: missing_table"),
        )
        .unwrap();
    session
        .issue(
            &Issue::new(IssueKind::ScriptError, "no such table: missing_table").entry(&bad_script),
        )
        .unwrap();
    session
        .entry_transition(&bad_script, states::ORCH_FAILED, "statement 1 failed")
        .unwrap();

    session
        .issue(
            &Issue::custom(
                "Rule Violation",
                "sql-rule",
                "every visit needs a lab result",
            )
            .with("rule", "rules/visits_have_labs.sql"),
        )
        .unwrap();
}

/// Records the mixed session and ends it as `finish` says; returns the session id.
fn mixed_session(path: &Path, finish: fn(Session<'_>) -> String) -> String {
    let db = StateDb::open(path, &OpenOptions::default()).unwrap();
    let mut session = db
        .begin_session(
            "ingest",
            &json!({"argv": ["rssd", "ingest", "incoming/", "--schema", "screening.schema.json"]}),
        )
        .unwrap();
    record_mixed_session(&mut session);
    finish(session)
}

fn completed(session: Session<'_>) -> String {
    let id = session.id().to_string();
    session.finish_completed("5 entries").unwrap();
    id
}

fn failed(session: Session<'_>) -> String {
    let id = session.id().to_string();
    session
        .finish_failed("the schema file could not be read")
        .unwrap();
    id
}

/// Issue counts straight from the tables: by type, by severity, and by entry and type.
struct TableCounts {
    total: usize,
    by_type: BTreeMap<String, usize>,
    by_severity: BTreeMap<String, usize>,
    by_entry: BTreeMap<String, BTreeMap<String, usize>>,
    session_level: BTreeMap<String, usize>,
    entries: Vec<(String, String, Option<String>)>,
}

fn table_counts(db: &Path, session_id: &str) -> TableCounts {
    let conn = connect(db);
    let mut counts = TableCounts {
        total: 0,
        by_type: BTreeMap::new(),
        by_severity: BTreeMap::new(),
        by_entry: BTreeMap::new(),
        session_level: BTreeMap::new(),
        entries: Vec::new(),
    };
    let mut stmt = conn
        .prepare(
            "SELECT orchestration_session_entry_id, ingest_src, ingest_table_name
             FROM orchestration_session_entry WHERE session_id = ?1 ORDER BY rowid",
        )
        .unwrap();
    counts.entries = stmt
        .query_map([session_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    let mut stmt = conn
        .prepare(
            "SELECT session_entry_id, issue_type, CAST(coalesce(json_extract(elaboration, '$.severity'), 'error') AS TEXT), count(*)
             FROM orchestration_session_issue WHERE session_id = ?1 GROUP BY 1, 2, 3",
        )
        .unwrap();
    let mut rows = stmt.query([session_id]).unwrap();
    while let Some(row) = rows.next().unwrap() {
        let entry: Option<String> = row.get(0).unwrap();
        let issue_type: String = row.get(1).unwrap();
        let severity: String = row.get(2).unwrap();
        let n = row.get::<_, i64>(3).unwrap() as usize;
        counts.total += n;
        *counts.by_type.entry(issue_type.clone()).or_default() += n;
        *counts.by_severity.entry(severity).or_default() += n;
        // Issues of no entry, or of an entry id the session lacks, belong to the session.
        let bucket = match entry {
            Some(entry) if counts.entries.iter().any(|(id, _, _)| *id == entry) => {
                counts.by_entry.entry(entry).or_default()
            }
            _ => &mut counts.session_level,
        };
        *bucket.entry(issue_type).or_default() += n;
    }
    counts
}

fn as_counts(value: &Value) -> BTreeMap<String, usize> {
    value
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {value}"))
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64().unwrap() as usize))
        .collect()
}

/// Checks a diagnostics JSON document (stored or printed by `report`) against the tables.
fn assert_diagnostics_agree(diagnostics: &Value, counts: &TableCounts) {
    assert_eq!(diagnostics["format"], "rssd-diagnostics/1");
    let summary = &diagnostics["summary"];
    assert_eq!(summary["issues"], counts.total);
    assert_eq!(as_counts(&summary["issues_by_type"]), counts.by_type);
    assert_eq!(
        as_counts(&summary["issues_by_severity"]),
        counts.by_severity
    );
    assert_eq!(summary["entries"], counts.entries.len());
    let entries = diagnostics["entries"].as_array().unwrap();
    assert_eq!(entries.len(), counts.entries.len());
    for (entry, (id, source, table)) in entries.iter().zip(&counts.entries) {
        assert_eq!(entry["entry_id"], id.as_str());
        assert_eq!(entry["source"], source.as_str());
        assert_eq!(entry["table"].as_str(), table.as_deref());
        let expected = counts.by_entry.get(id).cloned().unwrap_or_default();
        assert_eq!(as_counts(&entry["issues_by_type"]), expected, "{source}");
        let total: usize = expected.values().sum();
        assert_eq!(entry["issues"], total, "{source}");
        let listed = entry["first_issues"].as_array().unwrap().len();
        assert_eq!(
            listed + entry["issues_not_listed"].as_u64().unwrap() as usize,
            total
        );
    }
    assert_eq!(
        as_counts(&diagnostics["session_issues"]["issues_by_type"]),
        counts.session_level
    );
}

fn stored_diagnostics(db: &Path, session_id: &str) -> (Value, String) {
    let conn = connect(db);
    let (json_text, md): (String, String) = conn
        .query_row(
            "SELECT diagnostics_json, diagnostics_md FROM orchestration_session WHERE orchestration_session_id = ?1",
            [session_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    (serde_json::from_str(&json_text).unwrap(), md)
}

fn report(db: &Path, session: &str, format: &str) -> String {
    let out = run(db, &["report", session, "--format", format]);
    assert_status(&out, 0);
    stdout(&out)
}

/// The Markdown lists each entry with its state and counts, and the totals by type.
fn assert_markdown_agrees(md: &str, diagnostics: &Value, counts: &TableCounts) {
    for (n, entry) in diagnostics["entries"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        let id = entry["entry_id"].as_str().unwrap();
        let by_type = counts.by_entry.get(id).cloned().unwrap_or_default();
        let total: usize = by_type.values().sum();
        let line = format!(
            "| {} | `{}` | {} | {} |",
            n + 1,
            entry["source"].as_str().unwrap(),
            entry["table"]
                .as_str()
                .map(|t| format!("`{t}`"))
                .unwrap_or("-".into()),
            entry["state"].as_str().unwrap(),
        );
        assert!(md.contains(&line), "{line}\n{md}");
        let counted = format!(
            "{line} {} | {total} |",
            entry["rows"]
                .as_i64()
                .map(|r| r.to_string())
                .unwrap_or("-".into())
        );
        assert!(md.contains(&counted), "{counted}\n{md}");
        for (issue_type, count) in by_type {
            assert!(
                md.contains(&format!("{issue_type} {count}")),
                "{issue_type} {count}"
            );
        }
    }
    for (issue_type, count) in &counts.by_type {
        assert!(
            md.contains(&format!("| {issue_type} | {count} |")),
            "{issue_type}\n{md}"
        );
    }
}

/// The HTML shows one entries-table row per entry, with its issue count, and a chart bar
/// per issue type with its count.
fn assert_html_agrees(html: &str, counts: &TableCounts) {
    let table = html
        .split("<table id=\"entries-table\"")
        .nth(1)
        .and_then(|rest| rest.split("</table>").next())
        .expect("entries table");
    assert_eq!(
        table.matches("<tr><td>").count(),
        counts.entries.len(),
        "{table}"
    );
    for (n, (id, _, _)) in counts.entries.iter().enumerate() {
        let total: usize = counts
            .by_entry
            .get(id)
            .map(|m| m.values().sum())
            .unwrap_or(0);
        let row = table
            .split(&format!("<tr><td>{}</td>", n + 1))
            .nth(1)
            .and_then(|rest| rest.split("</tr>").next())
            .unwrap();
        let cells: Vec<&str> = row.split("<td class=\"n\"").skip(1).collect();
        assert!(
            cells[1].starts_with(&format!(">{total}</td>")),
            "entry {n}: {row}"
        );
    }
    for (issue_type, count) in &counts.by_type {
        assert!(
            html.contains(&format!("<title>{issue_type}: {count}</title>")),
            "{issue_type}"
        );
    }
}

#[test]
fn stored_diagnostics_and_every_report_format_agree_with_the_tables() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("mixed.db");
    let session_id = mixed_session(&db, completed);
    let counts = table_counts(&db, &session_id);
    assert_eq!(counts.entries.len(), 5);
    assert!(counts.by_type.len() >= 8, "{:?}", counts.by_type);

    let (stored, stored_md) = stored_diagnostics(&db, &session_id);
    assert_diagnostics_agree(&stored, &counts);
    assert_markdown_agrees(&stored_md, &stored, &counts);

    let printed: Value = serde_json::from_str(&report(&db, "latest", "json")).unwrap();
    assert_diagnostics_agree(&printed, &counts);
    assert_eq!(printed["session"]["state"], "COMPLETED");
    assert_eq!(printed["summary"]["tables"], 2);
    assert_eq!(printed["summary"]["rows"], 168);
    assert_eq!(printed["summary"]["execs"], 2);
    assert_eq!(printed["summary"]["execs_failed"], 1);
    assert_eq!(
        printed["summary"]["scripts"],
        json!({"total": 2, "completed": 1, "failed": 1})
    );
    let entries = printed["entries"].as_array().unwrap();
    assert_eq!(entries[3]["script"]["outcome"], "completed");
    assert_eq!(entries[4]["script"]["outcome"], "failed");
    assert_eq!(
        entries[4]["script"]["error"],
        "no such table: missing_table"
    );
    assert_eq!(entries[0]["script"], Value::Null);
    assert_eq!(
        entries[0]["states"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["to"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["INGESTING", "INGESTED", "VALIDATING", "INVALID"]
    );
    assert!(entries[0]["started_at"].is_string() && entries[0]["finished_at"].is_string());
    assert_eq!(
        printed["device"]["device_id"],
        printed["session"]["device_id"]
    );
    assert!(printed["device"]["sysinfo"]["os"].is_string());

    let md = report(&db, &session_id, "md");
    assert_markdown_agrees(&md, &printed, &counts);
    assert!(
        md.contains("- script outcome: **failed**: no such table: missing_table"),
        "{md}"
    );
    // Values from files sit in code spans, where Markdown shows `<` as text.
    assert_eq!(
        md.matches("<script>").count(),
        2 * md.matches(&format!("`{HOSTILE_SCRIPT}`")).count()
    );
    assert!(md.contains(&format!("`{HOSTILE_SCRIPT}`")));
    let html = report(&db, &session_id, "html");
    assert_html_agrees(&html, &counts);
}

#[test]
fn a_failed_session_reports_its_reason_and_counts() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("failed.db");
    let session_id = mixed_session(&db, failed);
    let counts = table_counts(&db, &session_id);
    let (stored, stored_md) = stored_diagnostics(&db, &session_id);
    assert_diagnostics_agree(&stored, &counts);
    assert_eq!(stored["session"]["state"], "FAILED");
    assert!(stored_md.contains("**FAILED**: the schema file could not be read"));

    let printed: Value = serde_json::from_str(&report(&db, &session_id, "json")).unwrap();
    assert_diagnostics_agree(&printed, &counts);
    assert_eq!(
        printed["session"]["state_reason"],
        "the schema file could not be read"
    );
    let html = report(&db, &session_id, "html");
    assert_html_agrees(&html, &counts);
    assert!(html.contains("<span class=\"badge bad\">FAILED</span>"));
    assert!(html.contains("the schema file could not be read"));
}

/// Not a test of its own: the child of the abandoned-session test.
#[test]
#[ignore]
fn hold_a_mixed_session_until_killed() {
    hold_session_until_killed(|session| {
        record_mixed_session(session);
        let loading = session
            .add_entry("incoming/big.csv", Some("big"), &json!({}))
            .unwrap();
        session
            .entry_transition(&loading, states::INGESTING, "loading")
            .unwrap();
        session
            .issue(
                &Issue::new(IssueKind::RaggedRowExtra, "row 2 has 4 cells, not 3")
                    .entry(&loading)
                    .row(2),
            )
            .unwrap();
    });
}

#[test]
fn an_abandoned_session_reports_what_was_recorded_before_the_kill() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("abandoned.db");
    let session_id = spawn_holder(&db, "report::hold_a_mixed_session_until_killed").kill();
    // The next run marks it abandoned and stores its diagnostics.
    assert_status(&run(&db, &["sessions"]), 0);
    let counts = table_counts(&db, &session_id);
    assert_eq!(counts.entries.len(), 6);

    let (stored, stored_md) = stored_diagnostics(&db, &session_id);
    assert_diagnostics_agree(&stored, &counts);
    assert_eq!(stored["session"]["state"], "ABANDONED");
    assert!(stored_md.contains("**ABANDONED**"));
    let printed: Value = serde_json::from_str(&report(&db, "latest", "json")).unwrap();
    assert_diagnostics_agree(&printed, &counts);
    let entries = printed["entries"].as_array().unwrap();
    assert_eq!(entries[5]["state"], "ABANDONED");
    assert_eq!(entries[5]["issues_by_type"]["Ragged Row"], 1);
    // Entries that had finished keep their own final state.
    assert_eq!(entries[0]["state"], "INVALID");
    assert_html_agrees(&report(&db, &session_id, "html"), &counts);
    assert_markdown_agrees(&report(&db, &session_id, "md"), &printed, &counts);
}

#[test]
fn issues_lists_every_issue_with_its_entry_and_filters_combine() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("issues.db");
    let session_id = mixed_session(&db, completed);
    let counts = table_counts(&db, &session_id);
    let issues = |extra: &[&str]| {
        let mut args = vec!["issues", "latest", "--format", "json"];
        args.extend_from_slice(extra);
        let out = run(&db, &args);
        assert_status(&out, 0);
        json_stdout(&out).as_array().unwrap().clone()
    };

    let all = issues(&[]);
    assert_eq!(all.len(), counts.total);
    let first = &all[0];
    assert_eq!(first["source"], "incoming/clinic-visits.csv");
    assert_eq!(first["table"], "clinic_visits");
    assert_eq!(first["issue_type"], "Invalid Date");
    assert_eq!(first["code"], "type-error/date");
    assert_eq!(first["row"], "4");
    assert_eq!(first["column"], "visit_date");
    assert_eq!(first["invalid_value"], "12/31/2023");
    assert_eq!(first["remediation"], "write dates as YYYY-MM-DD");
    assert_eq!(all.last().unwrap()["source"], Value::Null);

    assert_eq!(issues(&["--type", "Invalid Value"]).len(), 6);
    assert_eq!(issues(&["--type", "constraint-error/enum"]).len(), 6);
    assert_eq!(issues(&["--type", "invalid date"]).len(), 3);
    assert_eq!(issues(&["--table", "labs_results"]).len(), 7);
    assert_eq!(
        issues(&["--table", "labs_results", "--severity", "warning"]).len(),
        1
    );
    assert_eq!(
        issues(&["--severity", "warning"]).len(),
        counts.by_severity["warning"]
    );
    let entry_id = counts.entries[0].0.as_str();
    let of_entry = issues(&["--entry", entry_id, "--type", "Blank Row"]);
    assert_eq!(of_entry.len(), 2);
    assert!(of_entry.iter().all(|i| i["entry_id"] == entry_id));
    assert!(issues(&["--type", "No Such Type"]).is_empty());

    // CSV: a header and one record per issue; hostile text survives exactly.
    let out = run(&db, &["issues", &session_id, "--format", "csv"]);
    assert_status(&out, 0);
    let mut reader = csv::Reader::from_reader(out.stdout.as_slice());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        [
            "issue_id",
            "entry_id",
            "source",
            "table",
            "issue_type",
            "code",
            "severity",
            "row",
            "column",
            "invalid_value",
            "message",
            "remediation"
        ]
    );
    let records: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(records.len(), counts.total);
    assert!(records.iter().any(|r| &r[9] == HOSTILE_SCRIPT));

    // Table: aligned text with the source and the value.
    let table = stdout(&run(&db, &["issues", "latest", "--type", "Invalid Date"]));
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 4, "{table}");
    assert!(lines[0].starts_with("source") && lines[0].contains("invalid_value"));
    assert!(lines[1].contains("incoming/clinic-visits.csv") && lines[1].contains("12/31/2023"));

    // Bad use: exit 2 with a reason.
    let both = run(&db, &["issues", "latest", "--entry", "x", "--table", "y"]);
    assert_status(&both, 2);
    let severity = run(&db, &["issues", "latest", "--severity", "fatal"]);
    assert_status(&severity, 2);
    assert!(
        stderr(&severity).contains("not a severity"),
        "{}",
        stderr(&severity)
    );
    let unknown = run(&db, &["issues", "01NOSUCHSESSION"]);
    assert_status(&unknown, 2);
    assert!(stderr(&unknown).contains("no session with id"));
}

#[test]
fn report_files_take_their_format_from_the_extension_and_are_written_whole() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("files.db");
    let session_id = mixed_session(&db, completed);
    for (name, starts) in [
        ("r.md", "# rssd session report"),
        ("r.json", "{"),
        ("r.HTML", "<!DOCTYPE html>"),
        ("r.htm", "<!DOCTYPE html>"),
    ] {
        let path = dir.path().join(name);
        assert_status(
            &run(&db, &["report", "latest", "-o", path.to_str().unwrap()]),
            0,
        );
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with(starts), "{name}: {}", &text[..40]);
    }
    // --format wins over the extension.
    let forced = dir.path().join("forced.txt");
    assert_status(
        &run(
            &db,
            &[
                "report",
                &session_id,
                "--format",
                "json",
                "-o",
                forced.to_str().unwrap(),
            ],
        ),
        0,
    );
    serde_json::from_str::<Value>(&std::fs::read_to_string(&forced).unwrap()).unwrap();

    let unknown = dir.path().join("r.pdf");
    let out = run(&db, &["report", "latest", "-o", unknown.to_str().unwrap()]);
    assert_status(&out, 2);
    assert!(stderr(&out).contains("name the file .md, .json or .html"));
    assert!(!unknown.exists());

    let nowhere = dir.path().join("missing-dir").join("r.html");
    let out = run(&db, &["report", "latest", "-o", nowhere.to_str().unwrap()]);
    assert_status(&out, 2);
    assert!(stderr(&out).contains("missing-dir"), "{}", stderr(&out));

    // An existing report is replaced only by a complete one.
    let kept = dir.path().join("kept.html");
    std::fs::write(&kept, "old").unwrap();
    let out = run(
        &db,
        &["report", "01NOSUCHSESSION", "-o", kept.to_str().unwrap()],
    );
    assert_status(&out, 2);
    assert_eq!(std::fs::read_to_string(&kept).unwrap(), "old");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains(".partial-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn the_html_report_is_self_contained_and_escapes_everything_from_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("escape.db");
    mixed_session(&db, completed);
    let html = report(&db, "latest", "html");
    assert_eq!(
        html.matches("<script").count(),
        1,
        "only the page's own script"
    );
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;"));
    assert!(html.contains("&lt;img src=x onerror=&quot;"));
    assert!(!html.contains("<img"));
    for external in ["<link", "@import", "url(", "<iframe", "<object"] {
        assert!(!html.contains(external), "{external}");
    }
    // The only `src=` is inside the escaped value, as text.
    assert_eq!(
        html.matches(" src=").count(),
        html.matches("&lt;img src=").count()
    );
    // The only URL is the SVG namespace, which is a name, not a request.
    let urls = html.matches("http://").count() + html.matches("https://").count();
    assert_eq!(
        urls,
        html.matches("xmlns=\"http://www.w3.org/2000/svg\"").count()
    );
    assert!(html.contains("Content-Security-Policy"));
}

/// Runs headless Chromium on `args`, killing it after 40 s (a page that blocks, e.g. on
/// `alert`, never finishes loading).
fn chromium(args: &[String]) -> std::process::Output {
    let child = Command::new("chromium")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("chromium runs (scripts/setup.sh installs it)");
    let started = Instant::now();
    let pid = child.id();
    let watchdog = std::thread::spawn(move || {
        while started.elapsed() < Duration::from_secs(40) {
            std::thread::sleep(Duration::from_millis(200));
            if !Path::new(&format!("/proc/{pid}")).exists() {
                return;
            }
        }
        let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
    });
    let output = child.wait_with_output().unwrap();
    let _ = watchdog.join();
    output
}

fn chromium_args(profile: &Path) -> Vec<String> {
    [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([format!("--user-data-dir={}", profile.display())])
    .collect()
}

#[test]
fn the_html_report_renders_in_a_browser_without_running_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("browser.db");
    let session_id = mixed_session(&db, completed);
    let page = dir.path().join("report.html");
    assert_status(
        &run(&db, &["report", "latest", "-o", page.to_str().unwrap()]),
        0,
    );
    let url = format!("file://{}", page.display());

    // The page sorts its entries table as the link asks: by issues, most first.
    let mut args = chromium_args(&dir.path().join("profile-dom"));
    args.extend(["--dump-dom".to_string(), format!("{url}#sort=issues-desc")]);
    let out = chromium(&args);
    let dom = stdout(&out);
    assert!(
        dom.contains("data-sortable=\"ready\""),
        "the page's script ran and made the entries table sortable:\n{}\n{}",
        &dom[..dom.len().min(2000)],
        stderr(&out)
    );
    assert_eq!(dom.matches("class=\"sort-marker\"").count(), 10);
    assert!(dom.contains("listed issues shown"), "the type filter ran");
    assert!(dom.contains("<th data-type=\"number\" tabindex=\"0\" title=\"sort\" aria-sort=\"descending\">issues<span class=\"sort-marker\">▼</span></th>"), "{dom}");
    let body = dom
        .split("<table id=\"entries-table\"")
        .nth(1)
        .and_then(|rest| rest.split("</table>").next())
        .unwrap();
    let order: Vec<&str> = body
        .split("<tr><td>")
        .skip(1)
        .map(|row| row.split("</td>").next().unwrap())
        .collect();
    assert_eq!(
        order,
        ["2", "1", "3", "5", "4"],
        "entries by issues, most first"
    );
    for source in [
        "incoming/clinic-visits.csv",
        "incoming/labs.xlsx#Results",
        "incoming/scan.bin",
        "scripts/transform.sql",
        "scripts/broken.sql",
    ] {
        assert!(dom.contains(&format!(">{source}</a>")), "{source}");
    }
    // What the data holds did not run: the title is the page's own, nothing was added to
    // the body, and the text shows escaped.
    let title = format!("<title>rssd report · ingest · {session_id}</title>");
    assert!(dom.contains(&title), "title changed");
    assert!(!dom.contains("pwned</title>"));
    assert!(!dom.contains("data-pwned=\"1\""), "the onerror handler ran");
    assert!(dom.contains(
        "&lt;script&gt;alert(1)&lt;/script&gt;&lt;script&gt;document.title='pwned'&lt;/script&gt;"
    ));
    assert!(dom.contains("&lt;img src=x onerror="));

    let shot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("report-sample.png");
    let _ = std::fs::remove_file(&shot);
    let mut args = chromium_args(&dir.path().join("profile-shot"));
    args.extend([
        format!("--screenshot={}", shot.display()),
        "--window-size=1280,1700".to_string(),
        url,
    ]);
    let out = chromium(&args);
    let png = std::fs::read(&shot).unwrap_or_else(|err| {
        panic!("no screenshot ({err}): {}", stderr(&out));
    });
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
    assert!(png.len() > 20_000, "a rendered page, not a blank one");
}

const MANY_DB_ENV: &str = "RSSD_MANY_ISSUES_DB";
const MANY_COUNT_ENV: &str = "RSSD_MANY_ISSUES";

/// A finished session with `issues` issues over two entries and three types (plus a few
/// session-level ones), made with one bulk INSERT so that it takes seconds, not minutes.
fn session_with_many_issues(path: &Path, issues: u64) -> String {
    let db = StateDb::open(path, &OpenOptions::default()).unwrap();
    let mut session = db
        .begin_session("ingest", &json!({"argv": ["rssd", "ingest", "huge.csv"]}))
        .unwrap();
    let huge = session
        .add_entry("incoming/huge.csv", Some("huge"), &json!({"rows": issues}))
        .unwrap();
    let small = session
        .add_entry("incoming/small.csv", Some("small"), &json!({"rows": 10}))
        .unwrap();
    for entry in [&huge, &small] {
        session
            .entry_transition(entry, states::INGESTING, "reading")
            .unwrap();
        session
            .entry_transition(entry, states::INGESTED, "loaded")
            .unwrap();
    }
    db.conn()
        .execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?4)
             INSERT INTO orchestration_session_issue
               (orchestration_session_issue_id, session_id, session_entry_id, issue_type, issue_message,
                issue_row, issue_column, invalid_value, remediation, elaboration)
             SELECT printf('bulk-%08d', i), ?1,
                    CASE WHEN i % 1000 = 0 THEN NULL WHEN i % 10 = 0 THEN ?3 ELSE ?2 END,
                    CASE i % 3 WHEN 0 THEN 'Data Type Mismatch' WHEN 1 THEN 'Invalid Value' ELSE 'Blank Row' END,
                    'value ' || i || ' is not allowed', i, 'column_' || (i % 7), 'value-' || i,
                    'correct the value in the source file',
                    json_object('code', 'bulk', 'severity', CASE WHEN i % 3 = 2 THEN 'warning' ELSE 'error' END)
             FROM n",
            rusqlite::params![session.id(), huge, small, issues as i64],
        )
        .unwrap();
    let id = session.id().to_string();
    session.finish_completed("bulk").unwrap();
    id
}

/// Not a test of its own: `bench/report-memory.sh` runs it (release build) to make a session
/// with millions of issues in the database `RSSD_MANY_ISSUES_DB`.
#[test]
#[ignore]
fn make_a_session_with_many_issues() {
    let (Ok(path), Ok(count)) = (std::env::var(MANY_DB_ENV), std::env::var(MANY_COUNT_ENV)) else {
        return;
    };
    let id = session_with_many_issues(Path::new(&path), count.parse().unwrap());
    println!("session {id}");
}

/// Runs `rssd -d DB ARGS` under GNU time with standard output to `out`; returns the peak
/// resident set size in KiB.
fn peak_rss_kib(db: &Path, args: &[&str], out: &Path) -> u64 {
    let output = Command::new("/usr/bin/time")
        .arg("-v")
        .arg(env!("CARGO_BIN_EXE_rssd"))
        .arg("-d")
        .arg(db)
        .args(args)
        .stdout(std::fs::File::create(out).unwrap())
        .output()
        .expect("/usr/bin/time runs (scripts/setup.sh installs it)");
    let report = stderr(&output);
    assert!(output.status.success(), "{report}");
    report
        .lines()
        .find_map(|line| {
            line.trim()
                .strip_prefix("Maximum resident set size (kbytes): ")
        })
        .and_then(|kib| kib.trim().parse().ok())
        .unwrap_or_else(|| panic!("no peak RSS in:\n{report}"))
}

#[test]
fn a_hundred_thousand_issues_stream_and_summarise_in_bounded_memory() {
    const ISSUES: usize = 100_000;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("many.db");
    let session_id = session_with_many_issues(&db, ISSUES as u64);
    let counts = table_counts(&db, &session_id);
    assert_eq!(counts.total, ISSUES);

    // Stored diagnostics: exact counts, a bounded document.
    let (stored, stored_md) = stored_diagnostics(&db, &session_id);
    assert_diagnostics_agree(&stored, &counts);
    let stored_len = serde_json::to_string(&stored).unwrap().len();
    assert!(
        stored_len < 50_000,
        "diagnostics_json is {stored_len} bytes"
    );
    assert!(
        stored_md.len() < 50_000,
        "diagnostics_md is {} bytes",
        stored_md.len()
    );
    assert_eq!(
        stored["entries"][0]["first_issues"]
            .as_array()
            .unwrap()
            .len(),
        15,
        "5 of each of the 3 types"
    );

    // Every issue streams out as CSV.
    let csv_path = dir.path().join("issues.csv");
    let csv_rss = peak_rss_kib(&db, &["issues", &session_id, "--format", "csv"], &csv_path);
    let mut reader = csv::Reader::from_path(&csv_path).unwrap();
    assert_eq!(reader.records().count(), ISSUES);
    // A reader that stops early (`| head -1`) is not a failure.
    let mut child = rssd()
        .arg("-d")
        .arg(&db)
        .args(["issues", &session_id, "--format", "csv"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first_line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut first_line,
    )
    .unwrap();
    assert!(first_line.starts_with("issue_id,"));
    let early = child.wait_with_output().unwrap();
    assert_status(&early, 0);

    // Reports summarise.
    let html_path = dir.path().join("report.html");
    let html_rss = peak_rss_kib(
        &db,
        &["report", &session_id, "-o", html_path.to_str().unwrap()],
        &dir.path().join("report.out"),
    );
    let html = std::fs::read_to_string(&html_path).unwrap();
    assert!(html.len() < 500_000, "HTML report is {} bytes", html.len());
    assert_html_agrees(&html, &counts);
    assert!(html.contains(&format!(
        "Showing the first 100 of {} issues",
        counts.by_entry[&counts.entries[0].0].values().sum::<usize>()
    )));
    // The whole CSV is ~10 MB; a process that held it (or the issues) would show it.
    for (what, rss) in [("issues csv", csv_rss), ("report html", html_rss)] {
        eprintln!("{what}: peak RSS {rss} KiB");
        assert!(rss < 40 * 1024, "{what}: peak RSS {rss} KiB");
    }
}

#[test]
fn sessions_written_by_other_tools_report_without_failing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("other-tool.db");
    {
        let conn = connect(&db);
        conn.execute_batch(&reference_schema()).unwrap();
        // Other tools do not always enforce foreign keys: one issue names a missing entry.
        conn.execute_batch(
            r#"
            PRAGMA foreign_keys = OFF;
            INSERT INTO device (device_id, name, state, boundary) VALUES ('DEV-1', 'elsewhere', '"SINGLETON"', 'LAB');
            INSERT INTO orchestration_nature (orchestration_nature_id, nature) VALUES ('V&V', 'Verification and Validation');
            INSERT INTO orchestration_session (orchestration_session_id, device_id, orchestration_nature_id, version, args_json)
                VALUES ('ORCHSESSID-00ff', 'DEV-1', 'V&V', '0.9', '{"argv": 7}');
            INSERT INTO orchestration_session_entry (orchestration_session_entry_id, session_id, ingest_src, elaboration)
                VALUES ('ORCHSESSENID-1a2b', 'ORCHSESSID-00ff', 'checks.sql', '{"rows": "many"}');
            INSERT INTO orchestration_session_state (orchestration_session_state_id, session_id, session_entry_id, from_state, to_state, transition_reason)
                VALUES ('S1', 'ORCHSESSID-00ff', 'ORCHSESSENID-1a2b', 'surveilr_orch_init', 'surveilr_orch_progress', NULL),
                       ('S2', 'ORCHSESSID-00ff', 'ORCHSESSENID-1a2b', 'surveilr_orch_progress', 'surveilr_orch_failed', X'FF00FE');
            INSERT INTO orchestration_session_exec (orchestration_session_exec_id, exec_nature, session_id, session_entry_id, exec_code, exec_status, exec_error_text)
                VALUES ('X1', 'sql', 'ORCHSESSID-00ff', 'ORCHSESSENID-1a2b', 'select 1', 'SUCCESS', NULL),
                       ('X2', 'sql', 'ORCHSESSID-00ff', 'ORCHSESSENID-1a2b', 'select x', 'ERROR', 'no such column: x');
            INSERT INTO orchestration_session_issue (orchestration_session_issue_id, session_id, session_entry_id, issue_type, issue_message, issue_row, invalid_value, elaboration)
                VALUES ('I1', 'ORCHSESSID-00ff', 'ORCHSESSENID-1a2b', 'Custom', 'text in an integer column', 'row seven', X'FF00FE', NULL),
                       ('I2', 'ORCHSESSID-00ff', 'ORCHSESSENID-1a2b', 'Custom', 'bad bytes', 3, CAST(X'C328' AS TEXT), '{"severity": 3, "code": {"x": 1}}'),
                       ('I3', 'ORCHSESSID-00ff', 'NO-SUCH-ENTRY', 'Orphan', 'entry id unknown', NULL, NULL, '{"severity": "warning"}');
            "#,
        )
        .unwrap();
    }
    let counts = table_counts(&db, "ORCHSESSID-00ff");
    let out = run(&db, &["report", "ORCHSESSID-00ff", "--format", "json"]);
    assert_status(&out, 0);
    let printed = json_stdout(&out);
    assert_diagnostics_agree(&printed, &counts);
    let entry = &printed["entries"][0];
    assert_eq!(entry["rows"], Value::Null);
    assert_eq!(entry["execs"], 2);
    assert_eq!(entry["execs_failed"], 1, "'SUCCESS' counts as success");
    assert_eq!(entry["script"]["outcome"], "failed");
    assert_eq!(entry["script"]["error"], "no such column: x");
    assert_eq!(printed["session_issues"]["issues_by_type"]["Orphan"], 1);
    assert_eq!(printed["session"]["state"], "INITIAL");

    let out = run(&db, &["issues", "ORCHSESSID-00ff", "--format", "csv"]);
    assert_status(&out, 0);
    let mut reader = csv::Reader::from_reader(out.stdout.as_slice());
    let records: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(records.len(), 3);
    assert_eq!(&records[0][7], "row seven");
    assert_eq!(
        &records[0][9], "\u{FFFD}\u{0}\u{FFFD}",
        "a blob decoded lossily"
    );
    assert_eq!(&records[1][6], "3", "a numeric severity printed as text");
    for format in ["md", "html"] {
        assert_status(
            &run(&db, &["report", "ORCHSESSID-00ff", "--format", format]),
            0,
        );
    }
}

#[test]
fn an_orchestrate_run_reports_each_scripts_outcome() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("orchestrate.db");
    let script = |name: &str, sql: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, sql).unwrap();
        path.to_str().unwrap().to_string()
    };
    let good = script("good.sql", "CREATE TABLE t(x); INSERT INTO t VALUES (1);\n");
    let bad = script("bad.sql", "SELECT * FROM missing_table;\n");
    let asserting = script(
        "assert.sql",
        "SELECT surveilr_assert_tabular_object('nope');\n",
    );
    let out = run(
        &db,
        &[
            "orchestrate",
            "-n",
            "v&v",
            "-s",
            &good,
            "-s",
            &bad,
            "-s",
            &asserting,
        ],
    );
    assert_status(&out, 1);

    let (stored, _) = stored_diagnostics(
        &db,
        &column(
            &db,
            "SELECT orchestration_session_id FROM orchestration_session",
        )[0]
        .clone()
        .unwrap(),
    );
    let printed = json_stdout(&run(&db, &["report", "latest", "--format", "json"]));
    for diagnostics in [&stored, &printed] {
        let session_id = diagnostics["session"]["session_id"].as_str().unwrap();
        assert_diagnostics_agree(diagnostics, &table_counts(&db, session_id));
        let outcomes: Vec<(&str, &str)> = diagnostics["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["source"].as_str().unwrap(),
                    e["script"]["outcome"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            outcomes,
            [
                (good.as_str(), "completed"),
                (bad.as_str(), "failed"),
                (asserting.as_str(), "completed")
            ]
        );
        assert_eq!(
            diagnostics["summary"]["scripts"],
            json!({"total": 3, "completed": 2, "failed": 1})
        );
        let failed_execs = count(
            &db,
            "SELECT count(*) FROM orchestration_session_exec WHERE exec_status <> 0",
        );
        assert_eq!(diagnostics["summary"]["execs_failed"], failed_execs);
        let error = diagnostics["entries"][1]["script"]["error"]
            .as_str()
            .unwrap();
        assert!(error.contains("no such table: missing_table"), "{error}");
    }
    let md = report(&db, "latest", "md");
    assert!(
        md.contains("Scripts: 3 run, 2 completed, 1 failed."),
        "{md}"
    );
    assert!(md.contains("- script outcome: **failed**: "), "{md}");
}
