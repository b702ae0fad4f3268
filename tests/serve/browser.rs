//! `rssd serve` in a real browser: headless Chromium driven over WebDriver (chromedriver,
//! JSON over HTTP) from sessions to a session, its issues filtered by type, and the table
//! with the bad cell highlighted.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::harness::Server;

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

struct Driver {
    child: Child,
    base: String,
    session: String,
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

fn call(method: &str, url: &str, body: Option<Value>) -> Value {
    let agent = agent();
    let response = match (method, body) {
        ("GET", _) => agent.get(url).call(),
        ("DELETE", _) => agent.delete(url).call(),
        (_, body) => agent
            .post(url)
            .header("Content-Type", "application/json")
            .send(body.unwrap_or_else(|| json!({})).to_string()),
    };
    let mut response = response.unwrap_or_else(|err| panic!("{method} {url}: {err}"));
    let status = response.status().as_u16();
    let text = response
        .body_mut()
        .with_config()
        .limit(64 * 1024 * 1024)
        .read_to_string()
        .unwrap_or_default();
    let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    assert!(status < 400, "{method} {url}: {status} {value}");
    value["value"].clone()
}

impl Driver {
    fn start(profile: &Path) -> Driver {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver runs (scripts/setup.sh installs chromium-driver)");
        let base = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        while agent().get(format!("{base}/status")).call().is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "chromedriver did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
            "--window-size=1200,760",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([format!("--user-data-dir={}", profile.display())])
        .collect::<Vec<_>>();
        let mut driver = Driver {
            child,
            base,
            session: String::new(),
        };
        let created = call(
            "POST",
            &format!("{}/session", driver.base),
            Some(json!({"capabilities": {"alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {"binary": "/usr/bin/chromium", "args": args}
            }}})),
        );
        driver.session = created["sessionId"]
            .as_str()
            .expect("a WebDriver session")
            .to_string();
        driver
    }

    fn url(&self, tail: &str) -> String {
        format!("{}/session/{}{tail}", self.base, self.session)
    }

    fn go(&self, url: &str) {
        call("POST", &self.url("/url"), Some(json!({"url": url})));
    }

    fn current(&self) -> String {
        call("GET", &self.url("/url"), None)
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    /// The page's address once it satisfies `wanted`: a click that submits a form or follows
    /// a link returns before the browser has navigated on a busy machine.
    fn wait_for_url(&self, wanted: impl Fn(&str) -> bool) -> String {
        let started = Instant::now();
        loop {
            let url = self.current();
            if wanted(&url) || started.elapsed() > Duration::from_secs(20) {
                return url;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn find_all(&self, css: &str) -> Vec<String> {
        let found = call(
            "POST",
            &self.url("/elements"),
            Some(json!({"using": "css selector", "value": css})),
        );
        found
            .as_array()
            .map(|all| {
                all.iter()
                    .filter_map(|e| e[ELEMENT].as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn find(&self, css: &str) -> String {
        self.find_all(css)
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("no {css} on {}", self.current()))
    }

    fn click(&self, element: &str) {
        call(
            "POST",
            &self.url(&format!("/element/{element}/click")),
            Some(json!({})),
        );
    }

    fn type_in(&self, element: &str, text: &str) {
        call(
            "POST",
            &self.url(&format!("/element/{element}/value")),
            Some(json!({"text": text})),
        );
    }

    fn text(&self, element: &str) -> String {
        call("GET", &self.url(&format!("/element/{element}/text")), None)
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    fn attribute(&self, element: &str, name: &str) -> String {
        call(
            "GET",
            &self.url(&format!("/element/{element}/attribute/{name}")),
            None,
        )
        .as_str()
        .unwrap_or("")
        .to_string()
    }

    fn script(&self, script: &str, args: Value) -> Value {
        call(
            "POST",
            &self.url("/execute/sync"),
            Some(json!({"script": script, "args": args})),
        )
    }

    fn screenshot(&self) -> Vec<u8> {
        let encoded = call("GET", &self.url("/screenshot"), None);
        base64_decode(encoded.as_str().expect("a base64 screenshot"))
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = agent().delete(self.url("")).call();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {c}"),
    };
    let bytes: Vec<u8> = text
        .bytes()
        .filter(|c| !c.is_ascii_whitespace() && *c != b'=')
        .collect();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let v: Vec<u32> = chunk.iter().map(|&c| value(c) as u32).collect();
        let n = v
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, x)| acc | (x << (18 - 6 * i)));
        out.extend_from_slice(&n.to_be_bytes()[1..chunk.len()]);
    }
    out
}

#[test]
fn a_reviewer_goes_from_sessions_to_the_bad_cell_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let db = super::fixture(dir.path());
    let id = super::session_id(&db);
    let server = Server::start(&db, &[]);
    let driver = Driver::start(&dir.path().join("profile"));

    driver.go(&format!("{}/sessions", server.base));
    driver.click(&driver.find(&format!("a[href=\"/sessions/{id}\"]")));
    let at = driver.wait_for_url(|url| url.ends_with(&format!("/sessions/{id}")));
    assert!(at.ends_with(&format!("/sessions/{id}")), "{at}");
    let chart_bars = driver.find_all("svg.chart rect");
    assert_eq!(chart_bars.len(), 2, "two issue types charted");

    driver.click(&driver.find(&format!("a[href=\"/sessions/{id}/issues\"]")));
    driver.type_in(&driver.find("input[name=type]"), "Data Type Mismatch");
    driver.click(&driver.find("form.filters button[type=submit]"));
    let at = driver.wait_for_url(|url| url.contains("type=Data+Type+Mismatch"));
    assert!(at.contains("type=Data+Type+Mismatch"), "{at}");
    let types = driver.find_all("table.issues tbody tr td:first-child");
    assert_eq!(types.len(), 100, "a page of 100");
    for cell in &types[..5] {
        assert_eq!(driver.text(cell), "Data Type Mismatch");
    }

    driver.click(&driver.find("table.issues tbody tr td a[href=\"/tables/people\"]"));
    let at = driver.wait_for_url(|url| url.ends_with("/tables/people"));
    assert!(at.ends_with("/tables/people"), "{at}");
    let bad = driver.find("tr#row-2 td.issue.error");
    let text = driver.text(&bad);
    assert!(text.starts_with('x'), "the cell shows its value: {text:?}");
    assert!(
        text.contains("Write age as a whole number"),
        "and the remediation: {text:?}"
    );
    let title = driver.attribute(&bad, "title");
    assert!(
        title.starts_with("Data Type Mismatch: column \"age\" value \"x\" is not a whole number"),
        "{title}"
    );
    let script_cell = driver.find("tr#row-3 td:nth-child(3)");
    assert_eq!(
        driver.text(&script_cell),
        "<script>alert(1)</script>",
        "shown as text, not run"
    );
    // The style sheet loaded under the CSP: the bad cell is tinted.
    let colour = driver.script(
        "return getComputedStyle(arguments[0]).backgroundColor;",
        json!([{ELEMENT: bad}]),
    );
    assert_eq!(colour, "rgb(253, 226, 226)");
    assert_eq!(
        driver.script("return document.title;", json!([])),
        "Table people · rssd"
    );

    let png = driver.screenshot();
    follows_a_running_session(&driver, &server, &db);
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    // RSSD_UPDATE_SCREENSHOT=1 refreshes the picture in the manual.
    let target = match std::env::var_os("RSSD_UPDATE_SCREENSHOT") {
        Some(_) => Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/serve-table.png"),
        None => dir.path().join("serve-table.png"),
    };
    std::fs::write(&target, &png).unwrap();
}

/// The page of a session still recording reloads itself (live.js, under the CSP) once an
/// issue is recorded.
fn follows_a_running_session(driver: &Driver, server: &Server, db: &Path) {
    let state = rssd::state::StateDb::open(db, &Default::default()).unwrap();
    let session = state.begin_session("ingest", &json!({})).unwrap();
    driver.go(&format!("{}/sessions/{}", server.base, session.id()));
    assert!(driver.text(&driver.find("main")).contains("0 errors"));
    driver.script("window.rssdBeforeReload = true;", json!([]));
    session
        .issue(&rssd::state::Issue::new(
            rssd::state::IssueKind::BlankRow,
            "row 9 is blank",
        ))
        .unwrap();
    let started = Instant::now();
    loop {
        let reloaded = driver.script("return window.rssdBeforeReload !== true;", json!([]));
        if reloaded == true && driver.text(&driver.find("main")).contains("1 errors") {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the page did not follow the session"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    session.finish_completed("done").unwrap();
}
