//! Helpers shared by the end-to-end tests: run the real binary, read the database it wrote.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rusqlite::Connection;

/// The `rssd` binary with a clean environment for its own variables.
pub fn rssd() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_rssd"));
    command
        .env_remove("RSSD_STATE_DB_FS_PATH")
        .env_remove("RSSD_BUSY_TIMEOUT");
    command
}

/// Runs `rssd -d DB ARGS...` and returns its output.
pub fn run(db: &Path, args: &[&str]) -> Output {
    rssd()
        .arg("-d")
        .arg(db)
        .args(args)
        .output()
        .expect("rssd binary runs")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts the exit status, showing both streams when it differs.
pub fn assert_status(output: &Output, expected: i32) {
    assert_eq!(
        output.status.code(),
        Some(expected),
        "stdout:\n{}\nstderr:\n{}",
        stdout(output),
        stderr(output)
    );
}

/// Parses standard output as JSON.
pub fn json_stdout(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|err| panic!("stdout is not JSON ({err}):\n{}", stdout(output)))
}

pub fn connect(db: &Path) -> Connection {
    Connection::open(db).expect("database opens")
}

/// The first column of every row of `sql`, as text.
pub fn column(db: &Path, sql: &str) -> Vec<Option<String>> {
    let conn = connect(db);
    let mut stmt = conn.prepare(sql).expect("query prepares");
    stmt.query_map([], |row| row.get::<_, Option<String>>(0))
        .expect("query runs")
        .map(|row| row.expect("row reads"))
        .collect()
}

/// The single integer `sql` returns.
pub fn count(db: &Path, sql: &str) -> i64 {
    connect(db)
        .query_row(sql, [], |row| row.get(0))
        .expect("count query")
}

/// Every row of every table, as text: a snapshot to compare before and after a command.
pub fn dump(db: &Path) -> Vec<String> {
    let conn = connect(db);
    let tables: Vec<String> = {
        let mut stmt = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .map(|r| r.unwrap())
            .collect()
    };
    let mut lines = Vec::new();
    for table in tables {
        let sql = format!(
            "SELECT * FROM \"{}\" ORDER BY rowid",
            table.replace('"', "\"\"")
        );
        let mut stmt = conn.prepare(&sql).unwrap();
        let width = stmt.column_count();
        let mut rows = stmt.query([]).unwrap();
        while let Some(row) = rows.next().unwrap() {
            let cells: Vec<String> = (0..width)
                .map(|i| format!("{:?}", row.get_ref(i).unwrap()))
                .collect();
            lines.push(format!("{table}: {}", cells.join(" | ")));
        }
    }
    let mut schema = column(db, "SELECT sql FROM sqlite_master ORDER BY name")
        .into_iter()
        .map(|sql| format!("schema: {}", sql.unwrap_or_default()))
        .collect();
    lines.append(&mut schema);
    lines
}

/// The reference schema the project must create, from `../shared/reference`.
pub fn reference_schema() -> String {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/reference/rssd-schema.sql");
    std::fs::read_to_string(&path).unwrap_or_else(|err| {
        panic!(
            "{}: {err} (CI keeps shared/ beside the project)",
            path.display()
        )
    })
}

/// The variable that turns a test binary's ignored `hold_...` test into a session holder.
pub const HOLD_ENV: &str = "RSSD_TEST_HOLD_SESSION_DB";

/// The child side of an abandonment test: when [`HOLD_ENV`] names a database, begins a
/// session there, lets `record` fill it, signals readiness and sleeps until killed. Call it
/// from an `#[ignore]` test of the same binary that [`spawn_holder`] names.
pub fn hold_session_until_killed(record: impl FnOnce(&mut rssd::state::Session<'_>)) {
    let Ok(path) = std::env::var(HOLD_ENV) else {
        return;
    };
    let db = rssd::state::StateDb::open(&path, &rssd::state::OpenOptions::default()).unwrap();
    let mut session = db
        .begin_session("ingest", &serde_json::json!({"argv": ["held"]}))
        .unwrap();
    record(&mut session);
    std::fs::write(format!("{path}.ready"), session.id()).unwrap();
    std::thread::sleep(std::time::Duration::from_secs(120));
}

/// A child process holding a session open in `db`.
pub struct Holder {
    pub child: std::process::Child,
    pub session_id: String,
}

impl Holder {
    /// Kills the child with SIGKILL, as a crash would, and waits for it.
    pub fn kill(mut self) -> String {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        self.session_id
    }
}

/// Runs the ignored test `holder_test` of this test binary as a child that holds a session
/// open in `db`, and waits until the session is recorded.
pub fn spawn_holder(db: &Path, holder_test: &str) -> Holder {
    let ready = PathBuf::from(format!("{}.ready", db.display()));
    let child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", holder_test, "--ignored", "--nocapture"])
        .env(HOLD_ENV, db)
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !ready.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "child never began its session"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let session_id = std::fs::read_to_string(&ready).unwrap();
    Holder { child, session_id }
}
