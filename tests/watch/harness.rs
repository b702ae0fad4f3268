//! The harness of the watch tests: `rssd watch` as a child process whose log lines are
//! collected, and queries on the RSSD it writes.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::{assert_status, rssd, run};
use rusqlite::Connection;
use serde_json::Value;

/// How long any wait may take before the test fails (the machine may be busy).
pub const PATIENCE: Duration = Duration::from_secs(40);
/// Small settle and window times keep the tests quick.
pub const FAST: [&str; 4] = ["--settle", "0.3", "--batch-window", "0.5"];

/// A running `rssd watch` whose log lines are collected as they come.
pub struct Watcher {
    pub child: Child,
    log: Arc<Mutex<Vec<String>>>,
}

impl Watcher {
    pub fn start(db: &Path, inbox: &Path, args: &[&str]) -> Watcher {
        let mut child = rssd()
            .arg("-d")
            .arg(db)
            .arg("watch")
            .args(["--log-format", "json"])
            .args(args)
            .arg(inbox)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("rssd watch starts");
        let log = Arc::new(Mutex::new(Vec::new()));
        let stream = child.stderr.take().expect("stderr is piped");
        let lines = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                lines.lock().unwrap().push(line);
            }
        });
        let mut watcher = Watcher { child, log };
        watcher.wait_for("the watcher to start", |events| {
            events.iter().any(|e| e["event"] == "watching")
        });
        watcher
    }

    /// The log lines that are JSON events.
    pub fn events(&self) -> Vec<Value> {
        let lines = self.log.lock().unwrap();
        lines
            .iter()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    }

    pub fn sessions(&self) -> Vec<Value> {
        self.events()
            .into_iter()
            .filter(|e| e["event"] == "session")
            .collect()
    }

    pub fn wait_for(&mut self, what: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let started = Instant::now();
        loop {
            let events = self.events();
            if done(&events) {
                return events;
            }
            let exited = self.child.try_wait().expect("rssd watch's status");
            assert!(
                started.elapsed() < PATIENCE && exited.is_none(),
                "waited too long for {what} (exit: {exited:?}); log:\n{}",
                self.log.lock().unwrap().join("\n")
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until `n` sessions were logged and returns them.
    pub fn wait_sessions(&mut self, n: usize) -> Vec<Value> {
        self.wait_for(&format!("{n} sessions"), |events| {
            events.iter().filter(|e| e["event"] == "session").count() >= n
        });
        self.sessions()
    }

    pub fn signal(&self, name: &str) {
        let status = std::process::Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("kill(1) runs");
        assert!(status.success(), "kill -{name} failed");
    }

    /// SIGTERM, and the exit status once it ended.
    pub fn stop(mut self) -> ExitStatus {
        self.signal("TERM");
        self.child.wait().expect("rssd watch ends")
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A work folder with an initialised RSSD and an empty inbox.
pub fn setup() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rssd.sqlite.db");
    let inbox = dir.path().join("inbox");
    std::fs::create_dir(&inbox).unwrap();
    assert_status(&run(&db, &["init"]), 0);
    (dir, db, inbox)
}

pub fn connect(db: &Path) -> Connection {
    let conn = Connection::open(db).expect("database opens");
    conn.busy_timeout(Duration::from_secs(10)).unwrap();
    conn
}

pub fn count(db: &Path, sql: &str) -> i64 {
    connect(db).query_row(sql, [], |row| row.get(0)).expect(sql)
}

pub fn texts(db: &Path, sql: &str) -> Vec<String> {
    let conn = connect(db);
    let mut stmt = conn.prepare(sql).expect(sql);
    stmt.query_map([], |row| row.get::<_, String>(0))
        .expect(sql)
        .map(|row| row.expect("row reads"))
        .collect()
}

/// `name -> state` of every entry, oldest first.
pub fn entry_states(db: &Path) -> Vec<String> {
    texts(
        db,
        "SELECT replace(e.ingest_src, rtrim(e.ingest_src, replace(e.ingest_src, '/', '')), '')
                || ' ' || (SELECT to_state FROM orchestration_session_state s
                   WHERE s.session_entry_id = e.orchestration_session_entry_id ORDER BY s.rowid DESC LIMIT 1)
         FROM orchestration_session_entry e ORDER BY e.rowid",
    )
}

pub fn session_state(db: &Path, session: &str) -> String {
    texts(
        db,
        &format!(
            "SELECT to_state FROM orchestration_session_state WHERE session_id = '{session}'
             AND session_entry_id IS NULL ORDER BY rowid DESC LIMIT 1"
        ),
    )
    .pop()
    .unwrap_or_default()
}

pub fn csv_rows(first: usize, rows: usize) -> String {
    (first..first + rows)
        .map(|i| format!("{i},name {i},{}.5\n", i * 3))
        .collect()
}

/// Writes a whole CSV as uploaders that use a temporary name do: `NAME.part`, then renamed.
pub fn drop_csv(path: &Path, rows: usize) {
    let part = path.with_extension("csv.part");
    std::fs::write(&part, format!("id,name,value\n{}", csv_rows(0, rows))).unwrap();
    std::fs::rename(&part, path).unwrap();
}

pub fn day_folder(dir: &Path) -> PathBuf {
    let today = chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now());
    dir.join(today.format("%Y/%m/%d").to_string())
}

/// Four files of 25,000 rows, renamed into the inbox at once.
pub fn drop_big_files(inbox: &Path) -> Vec<String> {
    let names: Vec<String> = (1..=4).map(|i| format!("big{i}.csv")).collect();
    for name in &names {
        drop_csv(&inbox.join(name), 25_000);
    }
    names
}

/// Waits until a session that is still running has loaded a file, and returns its id.
pub fn wait_mid_load(db: &Path) -> String {
    let started = Instant::now();
    loop {
        let mid = texts(
            db,
            "SELECT s.orchestration_session_id FROM orchestration_session s
             WHERE s.orch_finished_at IS NULL AND EXISTS (
                 SELECT 1 FROM orchestration_session_state t
                 WHERE t.session_id = s.orchestration_session_id AND t.to_state = 'INGESTED')",
        );
        if let Some(id) = mid.into_iter().next() {
            return id;
        }
        assert!(started.elapsed() < PATIENCE, "no session reached mid-load");
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub fn assert_whole_tables_loaded_once(db: &Path, names: &[String]) {
    for name in names {
        let table = name.trim_end_matches(".csv");
        assert_eq!(
            count(db, &format!("SELECT count(*) FROM {table}")),
            25_000,
            "{table}"
        );
        let loads = count(
            db,
            &format!(
                "SELECT count(*) FROM orchestration_session_state t
                 JOIN orchestration_session_entry e ON e.orchestration_session_entry_id = t.session_entry_id
                 WHERE t.to_state = 'INGESTED' AND e.ingest_src LIKE '%/{name}'"
            ),
        );
        assert_eq!(loads, 1, "{name} was loaded {loads} times");
    }
}
