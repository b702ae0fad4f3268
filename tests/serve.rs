//! `rssd serve` end to end: the real binary on a free loopback port, on an RSSD made by
//! `rssd ingest`, driven over HTTP (and in tests/serve/browser.rs by headless Chromium).

mod browser;
mod harness;

use std::path::{Path, PathBuf};

use crate::common::*;
use harness::{Server, enc, expect, get, get_with, raw_status};
use serde_json::Value;

/// Rows 6.. of people.csv each have a bad age: this many, so issues span pages.
const BAD_AGES: usize = 250;

/// An RSSD with one ingest session of people.csv, validated against a schema: a type error
/// on row 2, a missing value on row 4, BAD_AGES more type errors; hostile text in names.
fn fixture(dir: &Path) -> PathBuf {
    let mut csv = String::from("id,name,age\n1,ann,30\n2,bob,x\n3,<script>alert(1)</script>,40\n");
    csv.push_str("4,javascript:alert(1),\n5,\"\"\"><img src=x onerror=alert(1)>\",50\n");
    for i in 0..BAD_AGES {
        csv.push_str(&format!("{},p{i},bad{i}\n", i + 6));
    }
    std::fs::write(dir.join("people.csv"), csv).unwrap();
    std::fs::write(
        dir.join("people.schema.json"),
        r#"{"fields":[{"name":"id","type":"integer"},{"name":"name","type":"string"},
            {"name":"age","type":"integer","constraints":{"required":true}}]}"#,
    )
    .unwrap();
    let db = dir.join("rssd.db");
    let out = run(
        &db,
        &[
            "ingest",
            dir.join("people.csv").to_str().unwrap(),
            "--schema",
            dir.join("people.schema.json").to_str().unwrap(),
            "--no-progress",
        ],
    );
    assert_status(&out, 1);
    db
}

fn session_id(db: &Path) -> String {
    lines(
        db,
        "SELECT orchestration_session_id FROM orchestration_session",
    )[0]
    .clone()
}

fn entry_id(db: &Path) -> String {
    lines(
        db,
        "SELECT orchestration_session_entry_id FROM orchestration_session_entry",
    )[0]
    .clone()
}

fn keys(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = value
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {value}"))
        .keys()
        .cloned()
        .collect();
    keys.sort();
    keys
}

fn has_keys(value: &Value, wanted: &[&str]) {
    let found = keys(value);
    for key in wanted {
        assert!(
            found.iter().any(|k| k == key),
            "{key} missing from {found:?}"
        );
    }
}

#[test]
fn sessions_session_and_reports_as_pages_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let db = fixture(dir.path());
    let id = session_id(&db);
    let server = Server::start(&db, &[]);

    for path in ["/", "/sessions", "/sessions?nature=ingest&state=COMPLETED"] {
        let page = expect(&server, path, 200);
        assert!(page.content_type.starts_with("text/html"));
        assert!(
            page.body.contains(&format!("href=\"/sessions/{id}\"")),
            "{path}"
        );
        let csp = page.header("content-security-policy").unwrap();
        assert!(csp.contains("default-src 'none'") && csp.contains("script-src 'self'"));
    }
    assert!(
        !expect(&server, "/sessions?nature=orchestrate", 200)
            .body
            .contains(&id)
    );
    assert!(
        !expect(&server, "/sessions?until=2000-01-01", 200)
            .body
            .contains(&id)
    );
    let list = expect(&server, "/api/sessions", 200).json();
    assert_eq!(list.as_array().unwrap().len(), 1);
    has_keys(
        &list[0],
        &[
            "session_id",
            "nature",
            "device_name",
            "state",
            "entries",
            "issues_error",
            "issues_warning",
            "duration_s",
            "started_at",
        ],
    );
    assert_eq!(list[0]["issues_error"], (BAD_AGES + 2) as i64);
    assert_eq!(list[0]["entries"], 1);

    let page = expect(&server, &format!("/sessions/{id}"), 200).body;
    for text in [
        "Timeline",
        "Issues by type",
        "Data Type Mismatch",
        "people.csv",
        "report.html",
        "report.md",
        "report.json",
    ] {
        assert!(page.contains(text), "session page lacks {text}");
    }
    assert!(
        !page.contains("live.js"),
        "a finished session is not followed live"
    );
    let detail = expect(&server, &format!("/api/sessions/{id}"), 200).json();
    has_keys(
        &detail,
        &[
            "session", "args", "device", "summary", "timeline", "entries", "execs", "reports",
        ],
    );
    assert_eq!(
        detail["summary"]["issues_by_type"]["Data Type Mismatch"],
        (BAD_AGES + 1) as i64
    );
    assert_eq!(detail["entries"][0]["table"], "people");
    assert!(detail["timeline"].as_array().unwrap().len() >= 2);

    let html = expect(&server, &format!("/sessions/{id}/report.html"), 200);
    assert!(html.content_type.starts_with("text/html") && html.body.contains("<svg"));
    let md = expect(&server, &format!("/sessions/{id}/report.md"), 200);
    assert!(md.content_type.starts_with("text/markdown") && md.body.contains(&id));
    let report = expect(&server, &format!("/sessions/{id}/report.json"), 200).json();
    assert_eq!(report["format"], "rssd-diagnostics/1");
    assert_eq!(report["session"]["session_id"], id.as_str());

    for (path, status) in [
        ("/sessions?since=yesterday", 400),
        ("/sessions?colour=red", 400),
        ("/api/sessions?since=2026-02-30", 400),
        ("/sessions/NOPE", 404),
        ("/api/sessions/NOPE", 404),
        ("/sessions/NOPE/report.md", 404),
        ("/no/such/page", 404),
    ] {
        let reply = expect(&server, path, status);
        if path.starts_with("/api/") {
            assert_eq!(reply.json()["status"], status, "{path}");
            assert!(reply.json()["error"].as_str().unwrap().len() > 5);
        } else {
            assert!(reply.content_type.starts_with("text/html"), "{path}");
        }
    }
    assert_eq!(expect(&server, "/api/nothing", 404).json()["status"], 404);
}

#[test]
fn issues_filter_sort_page_and_download() {
    let dir = tempfile::tempdir().unwrap();
    let db = fixture(dir.path());
    let id = session_id(&db);
    let server = Server::start(&db, &[]);
    let api = format!("/api/sessions/{id}/issues");

    // Keyset pages of 100 cover every issue once, in recorded order.
    let mut seen = Vec::new();
    let mut path = api.clone();
    loop {
        let page = expect(&server, &path, 200).json();
        has_keys(
            &page,
            &["session_id", "filters", "issues", "next_after", "next"],
        );
        let issues = page["issues"].as_array().unwrap();
        assert!(issues.len() <= 100);
        seen.extend(issues.iter().map(|i| i["rowid"].as_i64().unwrap()));
        match page["next"].as_str() {
            Some(next) => path = next.to_string(),
            None => break,
        }
    }
    assert_eq!(seen.len(), BAD_AGES + 2);
    assert!(seen.windows(2).all(|w| w[0] < w[1]));
    let first = &expect(&server, &api, 200).json()["issues"][0];
    has_keys(
        first,
        &[
            "issue_id",
            "issue_type",
            "severity",
            "message",
            "row",
            "column",
            "invalid_value",
            "remediation",
            "table",
            "source",
            "entry_id",
        ],
    );

    let missing = expect(&server, &format!("{api}?type=Missing+Mandatory+Value"), 200).json();
    let listed = missing["issues"].as_array().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["row"], "4");
    let by_code = expect(
        &server,
        &format!("{api}?type=type-error&column=age&table=people&severity=error"),
        200,
    )
    .json();
    assert_eq!(by_code["issues"].as_array().unwrap().len(), 100);
    assert!(by_code["next_after"].is_i64());
    assert!(
        expect(&server, &format!("{api}?severity=warning"), 200).json()["issues"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // Sorted by row descending, page after page, the rows fall.
    let mut rows = Vec::new();
    let mut path = format!("{api}?sort=-row");
    while !path.is_empty() {
        let page = expect(&server, &path, 200).json();
        rows.extend(
            page["issues"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["row"].as_str().unwrap().parse::<i64>().unwrap()),
        );
        path = page["next"].as_str().unwrap_or("").to_string();
    }
    assert_eq!(rows.len(), BAD_AGES + 2);
    assert!(rows.windows(2).all(|w| w[0] >= w[1]), "{rows:?}");

    let page = expect(
        &server,
        &format!("/sessions/{id}/issues?type=type-error"),
        200,
    )
    .body;
    assert!(page.contains("rel=\"next\"") && page.contains("Data Type Mismatch"));
    assert!(!page.contains("Missing Mandatory Value</td>"));

    let csv = expect(
        &server,
        &format!("/sessions/{id}/issues.csv?type=type-error"),
        200,
    );
    assert!(csv.content_type.starts_with("text/csv"));
    let mut reader = csv::Reader::from_reader(csv.body.as_bytes());
    assert_eq!(reader.headers().unwrap().get(4), Some("issue_type"));
    assert_eq!(reader.records().count(), BAD_AGES + 1);
    let json = expect(
        &server,
        &format!("/sessions/{id}/issues.json?column=age"),
        200,
    )
    .json();
    assert_eq!(json.as_array().unwrap().len(), BAD_AGES + 2);

    for query in ["severity=fatal", "sort=message", "after=x", "colour=red"] {
        let reply = expect(&server, &format!("{api}?{query}"), 400);
        assert_eq!(reply.json()["status"], 400);
        expect(&server, &format!("/sessions/{id}/issues?{query}"), 400);
        expect(&server, &format!("/sessions/{id}/issues.csv?{query}"), 400);
    }
    expect(&server, "/sessions/NOPE/issues", 404);
    expect(&server, "/sessions/NOPE/issues.csv", 404);
}

#[test]
fn entry_page_reads_the_elaboration() {
    let dir = tempfile::tempdir().unwrap();
    let db = fixture(dir.path());
    let entry = entry_id(&db);
    let server = Server::start(&db, &[]);
    let page = expect(&server, &format!("/entries/{entry}"), 200).body;
    for text in [
        "Format",
        "csv",
        "Encoding",
        "utf-8",
        "SHA-256",
        "Columns",
        "INTEGER",
        "States",
        "INGESTED",
        "Data Type Mismatch",
    ] {
        assert!(page.contains(text), "entry page lacks {text}");
    }
    let json = expect(&server, &format!("/api/entries/{entry}"), 200).json();
    has_keys(
        &json,
        &[
            "entry_id",
            "session_id",
            "source",
            "table",
            "elaboration",
            "states",
            "issues",
            "more_issues",
        ],
    );
    assert_eq!(json["elaboration"]["columns"][2]["name"], "age");
    assert_eq!(json["issues"].as_array().unwrap().len(), 100);
    assert_eq!(json["more_issues"], true);
    expect(&server, "/entries/NOPE", 404);
    assert_eq!(
        expect(&server, "/api/entries/NOPE", 404).json()["status"],
        404
    );
}

#[test]
fn table_rows_with_highlighted_cells_filters_sort_facets_downloads() {
    let dir = tempfile::tempdir().unwrap();
    let db = fixture(dir.path());
    let server = Server::start(&db, &[]);

    let tables = expect(&server, "/api/tables", 200).json();
    let names: Vec<&str> = tables
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names[0], "people");
    assert!(names.contains(&"orchestration_session_issue"));
    assert!(
        expect(&server, "/tables", 200)
            .body
            .contains("href=\"/tables/people\"")
    );

    let page = expect(&server, "/tables/people", 200).body;
    let cell = page
        .split("<td class=\"issue error\"")
        .nth(1)
        .expect("row 2's age cell is highlighted");
    assert!(
        cell.starts_with(" title=\"Data Type Mismatch: column &quot;age&quot; value &quot;x&quot;"),
        "{}",
        &cell[..200]
    );
    assert!(cell.contains("Write age as a whole number"));
    assert!(page.contains("rel=\"next\""));

    let rows = expect(&server, "/api/tables/people/rows", 200).json();
    has_keys(
        &rows,
        &[
            "table",
            "columns",
            "rows",
            "next_after",
            "next",
            "filters",
            "sort",
            "facet",
        ],
    );
    assert_eq!(rows["columns"], serde_json::json!(["id", "name", "age"]));
    assert_eq!(rows["rows"].as_array().unwrap().len(), 100);
    let row2 = &rows["rows"][1];
    assert_eq!(row2["rowid"], 2);
    assert_eq!(row2["cells"], serde_json::json!([2, "bob", "x"]));
    assert_eq!(row2["issues"][0]["column"], "age");
    assert_eq!(row2["issues"][0]["issue_type"], "Data Type Mismatch");
    assert!(rows["rows"][0]["issues"].as_array().unwrap().is_empty());

    // Keyset paging on rowid walks every row once.
    let mut count = 0;
    let mut path = "/api/tables/people/rows".to_string();
    while !path.is_empty() {
        let page = expect(&server, &path, 200).json();
        count += page["rows"].as_array().unwrap().len();
        path = page["next"].as_str().unwrap_or("").to_string();
    }
    assert_eq!(count, BAD_AGES + 5);

    let filtered = |query: &str| -> Vec<i64> {
        let page = expect(&server, &format!("/api/tables/people/rows?{query}"), 200).json();
        page["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["rowid"].as_i64().unwrap())
            .collect()
    };
    assert_eq!(filtered("name=bob"), vec![2]);
    assert_eq!(filtered("age__isnull=1"), vec![4]);
    assert_eq!(
        filtered(&format!("name__contains={}", enc("<script>"))),
        vec![3]
    );
    let mut p24: Vec<i64> = vec![30];
    p24.extend(246..=255);
    assert_eq!(filtered("name__contains=p24&age__isnull=0"), p24);
    assert_eq!(filtered("id__exact=7"), vec![7]);
    assert_eq!(&filtered("sort=-id")[..3], &[255, 254, 253]);
    assert_eq!(&filtered("sort=-id&after=253")[..2], &[252, 251]);
    assert_eq!(filtered("sort=name&name__contains=p1&after=7").len(), 100);

    let facet = expect(
        &server,
        "/api/tables/people/rows?facet=age&age__contains=bad1",
        200,
    )
    .json();
    assert_eq!(facet["facet"]["column"], "age");
    assert_eq!(facet["facet"]["rows_counted"], 111);
    assert_eq!(facet["facet"]["capped"], false);
    assert!(
        expect(&server, "/tables/people?facet=name", 200)
            .body
            .contains("Facet")
    );

    let csv = expect(
        &server,
        "/tables/people/rows.csv?age__isnull=0&sort=-id",
        200,
    );
    assert!(csv.content_type.starts_with("text/csv"));
    let records: Vec<csv::StringRecord> = csv::Reader::from_reader(csv.body.as_bytes())
        .records()
        .map(Result::unwrap)
        .collect();
    assert_eq!(records.len(), BAD_AGES + 4);
    assert_eq!(&records[0][0], "255");
    let json = expect(&server, "/tables/people/rows.json?name=bob", 200).json();
    assert_eq!(
        json,
        serde_json::json!([{"id": 2, "name": "bob", "age": "x"}])
    );

    // The filter form's fields become the page's own parameter.
    let reply = get(
        &server,
        "/tables/people?_filter_column=name&_filter_op=contains&_filter_value=bo",
    );
    assert_eq!(reply.status, 303);
    assert_eq!(
        reply.header("location"),
        Some("/tables/people?name__contains=bo")
    );

    for query in [
        "nope=1",
        "name__regex=x",
        "sort=nope",
        "sort=-",
        "age__isnull=maybe",
        "after=x",
        "facet=nope",
        "after=99999&sort=id",
    ] {
        let reply = expect(&server, &format!("/api/tables/people/rows?{query}"), 400);
        assert_eq!(reply.json()["status"], 400, "{query}");
        expect(&server, &format!("/tables/people?{query}"), 400);
        if query != "after=99999&sort=id" {
            // Downloads take every filtered row: `after` is not theirs to check.
            expect(&server, &format!("/tables/people/rows.csv?{query}"), 400);
        }
    }
    expect(&server, "/tables/nope", 404);
    expect(&server, "/tables/nope/rows.json", 404);
    assert_eq!(
        expect(&server, "/api/tables/nope/rows", 404).json()["status"],
        404
    );
}

#[test]
fn the_sql_box_reads_and_refuses_to_write() {
    let dir = tempfile::tempdir().unwrap();
    let db = fixture(dir.path());
    let before = std::fs::read(&db).unwrap();
    let server = Server::start(&db, &[]);

    let rows = expect(
        &server,
        &format!(
            "/api/query?sql={}",
            enc("SELECT id, name FROM people WHERE id <= 2 ORDER BY id")
        ),
        200,
    )
    .json();
    assert_eq!(
        rows,
        serde_json::json!([{"id": 1, "name": "ann"}, {"id": 2, "name": "bob"}])
    );
    let page = expect(
        &server,
        &format!("/query?sql={}", enc("SELECT count(*) AS n FROM people")),
        200,
    )
    .body;
    assert!(page.contains("<th>n</th>") && page.contains(&format!("<td>{}</td>", BAD_AGES + 5)));
    assert!(expect(&server, "/query", 200).body.contains("<textarea"));
    let capped = expect(
        &server,
        &format!(
            "/api/query?sql={}",
            enc("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT i FROM n")
        ),
        200,
    )
    .json();
    assert_eq!(
        capped.as_array().unwrap().len(),
        1000,
        "--max-rows caps the rows"
    );

    for sql in [
        "DELETE FROM people",
        "UPDATE people SET name = 'x'",
        "DROP TABLE people",
        "INSERT INTO people VALUES (1, 2, 3)",
        "CREATE TABLE evil (a)",
        "ATTACH DATABASE '/tmp/evil.db' AS evil",
        "PRAGMA journal_mode = DELETE",
        "VACUUM",
        "SELECT 1; DELETE FROM people",
        "SELEC nonsense",
        "",
    ] {
        let reply = expect(&server, &format!("/api/query?sql={}", enc(sql)), 400);
        assert!(reply.json()["error"].is_string(), "{sql}");
        expect(
            &server,
            &format!("/query?sql={}", enc(sql)),
            if sql.is_empty() { 200 } else { 400 },
        );
    }
    let slow =
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n";
    let slow_server = Server::start(&db, &["--time-limit", "300"]);
    let reply = expect(&slow_server, &format!("/api/query?sql={}", enc(slow)), 400);
    assert!(
        reply.json()["error"]
            .as_str()
            .unwrap()
            .contains("time limit")
    );
    drop(slow_server);
    drop(server);
    assert_eq!(
        count(&db, "SELECT count(*) FROM people"),
        (BAD_AGES + 5) as i64
    );
    assert!(
        std::fs::read(&db).unwrap() == before,
        "the server changed the database file"
    );
    assert!(!Path::new("/tmp/evil.db").exists());
}

#[test]
fn paths_that_climb_and_rssds_own_tables() {
    let dir = tempfile::tempdir().unwrap();
    let db = fixture(dir.path());
    let server = Server::start(&db, &[]);
    for target in [
        "/tables/../../etc/passwd",
        "/tables/..%2F..%2Fetc%2Fpasswd",
        "/tables/%2e%2e/%2e%2e/etc/passwd",
        "/static/../Cargo.toml",
        "/static/..%2F..%2FCargo.toml",
        "/entries/..%2F..%2Fetc%2Fpasswd",
        "/tables/sqlite_master",
    ] {
        let (status, response) = raw_status(&server, target);
        assert_eq!(status, 404, "{target}: {response}");
        assert!(!response.contains("root:x:0"), "{target}");
    }
    let (status, response) = raw_status(&server, "/tables/%FF%FE");
    assert!(status == 404 || status == 400, "{response}");

    // rssd's own tables are browsable like any other, read-only, and marked as its own.
    let own = expect(
        &server,
        "/api/tables/orchestration_session_issue/rows?issue_type=Missing+Mandatory+Value",
        200,
    )
    .json();
    assert_eq!(own["orchestration"], true);
    assert_eq!(own["rows"].as_array().unwrap().len(), 1);
    let page = expect(&server, "/tables/orchestration_session", 200).body;
    assert!(page.contains("<span class=\"tag\">rssd</span>"));
}

#[test]
fn a_token_guards_every_request_and_the_link_sets_a_cookie() {
    let dir = tempfile::tempdir().unwrap();
    let db = fixture(dir.path());
    let server = Server::start(&db, &["--token", "s3cret-token"]);
    for path in [
        "/",
        "/sessions",
        "/tables/people",
        "/static/style.css",
        "/nope",
    ] {
        let reply = expect(&server, path, 401);
        assert!(reply.body.contains("token"), "{path}");
    }
    assert_eq!(expect(&server, "/api/sessions", 401).json()["status"], 401);
    for bad in [
        "Bearer s3cret-tokeX",
        "Bearer s3cret-token-and-more",
        "Basic s3cret-token",
        "Bearer ",
    ] {
        assert_eq!(
            get_with(&server, "/api/sessions", &[("Authorization", bad)]).status,
            401,
            "{bad}"
        );
    }
    assert_eq!(
        get_with(&server, "/", &[("Cookie", "rssd_token=wrong")]).status,
        401
    );
    assert_eq!(get(&server, "/?token=wrong").status, 401);

    let ok = get_with(
        &server,
        "/api/sessions",
        &[("Authorization", "Bearer s3cret-token")],
    );
    assert_eq!(ok.status, 200);
    let link = get(&server, "/tables/people?token=s3cret-token&name=bob");
    assert_eq!(link.status, 303);
    assert_eq!(link.header("location"), Some("/tables/people?name=bob"));
    let cookie = link.header("set-cookie").unwrap().to_string();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    let pair = cookie.split(';').next().unwrap();
    let page = get_with(&server, "/tables/people?name=bob", &[("Cookie", pair)]);
    assert_eq!(page.status, 200);
    assert!(page.body.contains("bob"));
}

#[test]
fn off_loopback_a_token_is_generated_and_required() {
    let dir = tempfile::tempdir().unwrap();
    let db = fixture(dir.path());
    let server = Server::start_at(&db, "0.0.0.0:0", &[]);
    let token = server
        .url
        .split_once("/?token=")
        .map(|(_, token)| token.to_string())
        .unwrap_or_else(|| panic!("no token in {}", server.url));
    assert!(token.len() >= 32, "a guessable token: {token:?}");
    assert_eq!(expect(&server, "/api/sessions", 401).json()["status"], 401);
    let bearer = format!("Bearer {token}");
    let ok = get_with(&server, "/api/sessions", &[("Authorization", &bearer)]);
    assert_eq!(ok.status, 200);
    let other = Server::start_at(&db, "0.0.0.0:0", &[]);
    assert_ne!(
        other.url.split_once("/?token="),
        server.url.split_once("/?token=")
    );
}

#[test]
fn a_flood_of_bad_requests_leaves_the_server_serving() {
    let dir = tempfile::tempdir().unwrap();
    let db = fixture(dir.path());
    let mut server = Server::start(&db, &[]);
    let id = session_id(&db);
    let bad: Vec<String> = vec![
        "/api/tables/people/rows?sort=%00".into(),
        "/api/tables/people/rows?after=99999999999999999999999".into(),
        "/api/tables/people/rows?name__contains=%25%25%25&facet=%22".into(),
        format!("/api/sessions/{id}/issues?after=-1&sort=--row"),
        "/api/query?sql=SELECT%20zeroblob(1000000000)".into(),
        "/api/query?sql=%27".into(),
        format!("/tables/{}", "x".repeat(5000)),
        "/sessions?since=%FF".into(),
        "/api/tables/people/rows?a=1&a=2&a=3&sort=id&sort=name".into(),
    ];
    std::thread::scope(|scope| {
        for worker in 0..8 {
            let (server, bad) = (&server, &bad);
            scope.spawn(move || {
                for i in 0..60 {
                    let path = &bad[(worker + i) % bad.len()];
                    let reply = get(server, path);
                    assert!(
                        (400..500).contains(&reply.status),
                        "{path}: {} {}",
                        reply.status,
                        reply.body
                    );
                }
            });
        }
    });
    assert!(server.alive());
    assert_eq!(
        expect(&server, "/api/tables/people/rows?name=bob", 200).json()["rows"][0]["rowid"],
        2
    );
}

#[test]
fn a_running_session_is_followed_live_while_ingest_writes() {
    let dir = tempfile::tempdir().unwrap();
    let db = fixture(dir.path());
    let server = Server::start(&db, &[]);
    let first = expect(&server, "/api/sessions", 200).json();
    assert_eq!(first.as_array().unwrap().len(), 1);

    // Another ingest writes while the server reads.
    std::fs::write(dir.path().join("more.csv"), "a,b\n1,2\n").unwrap();
    assert_status(
        &run(
            &db,
            &[
                "ingest",
                dir.path().join("more.csv").to_str().unwrap(),
                "--no-progress",
            ],
        ),
        0,
    );
    assert_eq!(
        expect(&server, "/api/sessions", 200)
            .json()
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        expect(&server, "/api/tables/more/rows", 200).json()["rows"][0]["cells"],
        serde_json::json!([1, 2])
    );

    // A session still recording shows as running, with the script that follows it.
    let state = rssd::state::StateDb::open(&db, &Default::default()).unwrap();
    let session = state
        .begin_session("ingest", &serde_json::json!({}))
        .unwrap();
    let running = session.id().to_string();
    let page = expect(&server, &format!("/sessions/{running}"), 200).body;
    assert!(page.contains("src=\"/static/live.js\""));
    assert!(page.contains(&format!("data-src=\"/api/sessions/{running}\"")));
    let before = expect(&server, &format!("/api/sessions/{running}"), 200).json();
    assert_eq!(before["session"]["finished_at"], Value::Null);
    session
        .issue(&rssd::state::Issue::new(
            rssd::state::IssueKind::BlankRow,
            "row 9 is blank",
        ))
        .unwrap();
    let after = expect(&server, &format!("/api/sessions/{running}"), 200).json();
    assert_eq!(
        after["summary"]["issues"], 1,
        "the JSON the page polls shows the new issue"
    );
    session.finish_completed("done").unwrap();
    let done = expect(&server, &format!("/api/sessions/{running}"), 200).json();
    assert_eq!(done["session"]["state"], "COMPLETED");
    let script = expect(&server, "/static/live.js", 200);
    assert!(script.content_type.starts_with("text/javascript"));
}

/// Text that would run, or add an attribute, if any page put it in unescaped.
const HOSTILE: &[&str] = &[
    "<script>alert(1)</script>",
    "\" autofocus onfocus=\"alert(1)",
    "'><svg onload=alert(1)>",
    "javascript:alert(2)",
];

fn assert_escaped(path: &str, body: &str) {
    for raw in [
        "<script>alert",
        "<svg onload",
        "<img src=x",
        "\" autofocus onfocus=\"",
        "onmouseover=\"",
        "href=\"javascript:",
        "src=\"javascript:",
    ] {
        assert!(!body.contains(raw), "{path} holds {raw:?} unescaped");
    }
    let scripts = body.matches("<script").count();
    assert_eq!(
        scripts,
        body.matches("<script src=\"/static/live.js\">").count(),
        "{path}: a script tag that is not the app's"
    );
}

#[test]
fn hostile_file_names_headers_and_cells_are_escaped_on_every_page() {
    let dir = tempfile::tempdir().unwrap();
    let name = "<img src=x onerror=alert(1)>.csv";
    let header = "<script>alert('h')</script>";
    let mut csv = format!("\"{header}\",\"\"\" onmouseover=\"\"alert(1)\",javascript:alert(3)\n");
    for value in HOSTILE {
        let quoted = format!("\"{}\"", value.replace('"', "\"\""));
        csv.push_str(&format!("{quoted},{quoted},{quoted}\n"));
    }
    std::fs::write(dir.path().join(name), csv).unwrap();
    let schema = serde_json::json!({"fields": [{"name": header, "type": "integer"}, {"name": "\" onmouseover=\"alert(1)"}, {"name": "javascript:alert(3)"}]});
    std::fs::write(dir.path().join("s.json"), schema.to_string()).unwrap();
    let db = dir.path().join("rssd.db");
    let out = run(
        &db,
        &[
            "ingest",
            dir.path().join(name).to_str().unwrap(),
            "--schema",
            dir.path().join("s.json").to_str().unwrap(),
            "--no-progress",
        ],
    );
    assert_status(&out, 1);
    let server = Server::start(&db, &[]);
    let id = session_id(&db);
    let entry = entry_id(&db);
    let table = lines(
        &db,
        "SELECT ingest_table_name FROM orchestration_session_entry",
    )[0]
    .clone();
    let issues = expect(&server, &format!("/api/sessions/{id}/issues"), 200).json();
    assert_eq!(
        issues["issues"].as_array().unwrap().len(),
        HOSTILE.len(),
        "one type error per row: {issues}"
    );
    let hostile_column = enc(header);

    let mut pages = vec![
        "/".to_string(),
        format!("/sessions/{id}"),
        format!("/sessions/{id}/issues"),
        format!("/entries/{entry}"),
        "/tables".to_string(),
        format!("/tables/{}", enc(&table)),
        format!("/tables/{}?facet={hostile_column}", enc(&table)),
        format!("/tables/{}?sort=-{hostile_column}", enc(&table)),
        format!(
            "/query?sql={}",
            enc(
                "SELECT '<script>alert(9)</script>' AS \"<b onclick=alert(1)>x</b>\", 'javascript:alert(1)'"
            )
        ),
    ];
    let mut escaped_seen = 0;
    for path in &pages {
        let page = expect(&server, path, 200);
        assert_escaped(path, &page.body);
        escaped_seen += page.body.matches("&lt;script&gt;alert(").count();
    }
    assert!(escaped_seen >= 8, "the hostile values are shown, escaped");
    let table_page = expect(&server, &format!("/tables/{}", enc(&table)), 200).body;
    assert!(table_page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(
        table_page.contains("class=\"issue error\""),
        "the bad cells are highlighted"
    );
    assert!(table_page.contains("&quot; autofocus onfocus=&quot;alert(1)"));

    // Failures quote what was asked, escaped too.
    pages.clear();
    for (path, status) in [
        (
            "/tables/%3Cscript%3Ealert(1)%3C%2Fscript%3E".to_string(),
            404,
        ),
        (
            format!(
                "/tables/{}?%3Cscript%3Ealert(1)%3C%2Fscript%3E=1",
                enc(&table)
            ),
            400,
        ),
        (
            format!("/sessions/{id}/issues?sort=%3Cscript%3Ealert(1)"),
            400,
        ),
        (
            "/entries/%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E".to_string(),
            404,
        ),
    ] {
        let reply = expect(&server, &path, status);
        assert_escaped(&path, &reply.body);
        assert!(
            reply.body.contains("&lt;script&gt;alert(1)"),
            "{path}: {}",
            reply.body
        );
    }
    // JSON keeps the values as they are, served as JSON that no browser sniffs as HTML.
    let rows = expect(&server, &format!("/api/tables/{}/rows", enc(&table)), 200);
    assert_eq!(rows.json()["rows"][0]["cells"][0], HOSTILE[0]);
    assert_eq!(rows.header("x-content-type-options"), Some("nosniff"));
    assert!(rows.content_type.starts_with("application/json"));
}

#[test]
fn the_token_from_the_environment_and_open_runs_the_browser() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let db = fixture(dir.path());
    // A stand-in xdg-open that writes down the address it was asked to open.
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let opened = dir.path().join("opened.txt");
    let script = bin.join("xdg-open");
    std::fs::write(
        &script,
        format!("#!/bin/sh\necho \"$1\" > '{}'\n", opened.display()),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut child = rssd()
        .env("RSSD_SERVE_TOKEN", "from-env")
        .env("PATH", path)
        .arg("-d")
        .arg(&db)
        .args(["serve", "--bind", "127.0.0.1:0", "--open"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap()
        .to_string();
    assert!(url.ends_with("/?token=from-env"), "{line}");
    let started = std::time::Instant::now();
    while !opened.exists() && started.elapsed() < std::time::Duration::from_secs(10) {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(std::fs::read_to_string(&opened).unwrap().trim(), url);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let base = url.trim_end_matches("/?token=from-env");
    assert_eq!(
        agent
            .get(format!("{base}/api/sessions"))
            .call()
            .unwrap()
            .status()
            .as_u16(),
        401
    );
    let ok = agent
        .get(format!("{base}/api/sessions"))
        .header("Authorization", "Bearer from-env")
        .call()
        .unwrap();
    assert_eq!(ok.status().as_u16(), 200);
    let _ = child.kill();
    let _ = child.wait();
}
