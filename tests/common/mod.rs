//! Helpers shared by the end-to-end tests: run the real binary, read the database it wrote.
//! [`Work`] is the work-dir builder for new tests; the free functions below take a database
//! path, as the older tests do. `robust` holds the crash/concurrency/hostile-input helpers.
#![allow(dead_code)]

pub mod robust;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rusqlite::Connection;

/// A temporary work directory with an RSSD path in it, removed when dropped:
///
/// ```ignore
/// let work = Work::new();
/// let csv = work.file("in/a.csv", "id\n1\n");
/// assert_status(&work.rssd(&["ingest", text(&csv)]), 0);
/// assert_eq!(work.query("SELECT id FROM a"), [[Some("1".to_string())]]);
/// ```
pub struct Work {
    dir: tempfile::TempDir,
    db: PathBuf,
}

impl Default for Work {
    fn default() -> Self {
        Self::new()
    }
}

impl Work {
    /// A new empty directory; the RSSD will be `rssd.sqlite.db` in it (not created yet).
    pub fn new() -> Work {
        let dir = tempfile::tempdir().expect("temporary directory");
        let db = dir.path().join("rssd.sqlite.db");
        Work { dir, db }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The RSSD's path (`-d` of every [`Work::rssd`] run).
    pub fn db_path(&self) -> &Path {
        &self.db
    }

    /// Writes `contents` to `name` (a relative path; folders are created) and returns its path.
    pub fn file(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        write(self.path(), name, contents)
    }

    /// Runs `rssd -d <db> ARGS...` (standard input closed) and returns its output.
    pub fn rssd(&self, args: &[&str]) -> Output {
        rssd()
            .arg("-d")
            .arg(&self.db)
            .args(args)
            .stdin(std::process::Stdio::null())
            .output()
            .expect("rssd binary runs")
    }

    /// A connection to the RSSD.
    pub fn db(&self) -> Connection {
        connect(&self.db)
    }

    /// Every row of `sql`, each cell as text (`CAST` yourself where the type matters).
    pub fn query(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        let conn = self.db();
        let mut stmt = conn.prepare(sql).expect("query prepares");
        let width = stmt.column_count();
        stmt.query_map([], |row| {
            (0..width)
                .map(|i| {
                    Ok(match row.get_ref(i)? {
                        rusqlite::types::ValueRef::Null => None,
                        rusqlite::types::ValueRef::Integer(n) => Some(n.to_string()),
                        rusqlite::types::ValueRef::Real(x) => Some(x.to_string()),
                        rusqlite::types::ValueRef::Text(s) | rusqlite::types::ValueRef::Blob(s) => {
                            Some(String::from_utf8_lossy(s).into_owned())
                        }
                    })
                })
                .collect::<rusqlite::Result<Vec<_>>>()
        })
        .expect("query runs")
        .map(|row| row.expect("row reads"))
        .collect()
    }
}

/// A temporary directory and the path of an RSSD in it (not created yet).
pub fn setup() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rssd.sqlite.db");
    (dir, db)
}

/// Writes `bytes` to `dir/name`, creating folders, and returns the path.
pub fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&path, bytes).unwrap();
    path
}

/// A path as `&str`, for argument lists.
pub fn text(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Runs `rssd -d DB ingest --no-progress ARGS...`.
pub fn ingest(db: &Path, args: &[&str]) -> Output {
    let mut all = vec!["ingest", "--no-progress"];
    all.extend_from_slice(args);
    run(db, &all)
}

/// The latest session's id.
pub fn latest_session(db: &Path) -> String {
    column(
        db,
        "SELECT orchestration_session_id FROM orchestration_session ORDER BY rowid DESC LIMIT 1",
    )[0]
    .clone()
    .expect("a session")
}

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

/// The first column of every row of `sql`, each a text that is never NULL.
pub fn lines(db: &Path, sql: &str) -> Vec<String> {
    column(db, sql)
        .into_iter()
        .map(|value| value.expect("a text, not NULL"))
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
    dump_tables(db, |_| true)
}

/// As [`dump`], for the tables `keep` accepts (schema lines: objects on those tables).
pub fn dump_tables(db: &Path, keep: impl Fn(&str) -> bool) -> Vec<String> {
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
    for table in tables.into_iter().filter(|t| keep(t)) {
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
    let mut stmt = conn
        .prepare("SELECT tbl_name, sql FROM sqlite_master ORDER BY name")
        .unwrap();
    let mut schema = stmt
        .query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
        })
        .unwrap()
        .map(|r| r.unwrap())
        .filter(|(table, _)| keep(table))
        .map(|(_, sql)| format!("schema: {}", sql.unwrap_or_default()))
        .collect();
    lines.append(&mut schema);
    lines
}

/// The public RSSD schema the project must create, exactly as published (a copy kept in
/// `tests/fixtures/rssd-schema.sql`; `src/state/schema.sql` adds `IF NOT EXISTS` to it).
pub fn reference_schema() -> String {
    include_str!("../fixtures/rssd-schema.sql").to_string()
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
    // Written whole, then renamed: the parent must never read a half-written id.
    std::fs::write(format!("{path}.ready.tmp"), session.id()).unwrap();
    std::fs::rename(format!("{path}.ready.tmp"), format!("{path}.ready")).unwrap();
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

/// Runs the ignored test `holder_test` (its full name, `module::test`) of this test binary as a child that holds a session
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

/// A workbook with sheets `Patients` (numbers, text, dates, booleans, `007`), `Visits 2024`
/// (a whole number and the formula `=2+3` with its cached value 5) and `Empty`, written by
/// rust_xlsxwriter. With a VBA project it is a macro-enabled workbook (save it as `.xlsm`).
pub fn write_clinic_workbook(path: &Path, vba_project: Option<&Path>) {
    use rust_xlsxwriter::{ExcelDateTime, Format, Formula, Workbook};
    let mut book = Workbook::new();
    if let Some(vba_project) = vba_project {
        book.add_vba_project(vba_project).unwrap();
    }
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let sheet = book.add_worksheet().set_name("Patients").unwrap();
    for (col, name) in ["id", "name", "weight", "born", "active", "code"]
        .iter()
        .enumerate()
    {
        sheet.write(0, col as u16, *name).unwrap();
    }
    for (i, (name, weight, day)) in [("Ann", 61.5, 2), ("Bob", 80.25, 3), ("Cy", 70.0, 4)]
        .iter()
        .enumerate()
    {
        let row = i as u32 + 1;
        sheet.write(row, 0, row as f64).unwrap();
        sheet.write(row, 1, *name).unwrap();
        sheet.write(row, 2, *weight).unwrap();
        let born = ExcelDateTime::from_ymd(1990, 1, *day).unwrap();
        sheet
            .write_datetime_with_format(row, 3, &born, &date)
            .unwrap();
        sheet.write(row, 4, i != 1).unwrap();
        sheet.write(row, 5, "007").unwrap();
    }
    let visits = book.add_worksheet().set_name("Visits 2024").unwrap();
    visits.write(0, 0, "patient").unwrap();
    visits.write(0, 1, "total").unwrap();
    visits.write(1, 0, 1).unwrap();
    visits
        .write_formula(1, 1, Formula::new("=2+3").set_result("5"))
        .unwrap();
    book.add_worksheet().set_name("Empty").unwrap();
    book.save(path).unwrap();
}

#[test]
fn the_work_builder_writes_files_runs_rssd_and_reads_back() {
    let work = Work::new();
    let csv = work.file("in/a.csv", "id,name\n1,Ann\n2,\n");
    assert_eq!(csv, work.path().join("in/a.csv"));
    let out = work.rssd(&["ingest", "--no-progress", text(&csv)]);
    assert_status(&out, 0);
    assert!(work.db_path().exists());
    assert_eq!(
        work.query("SELECT id, name FROM a ORDER BY rowid"),
        [
            [Some("1".to_string()), Some("Ann".to_string())],
            [Some("2".to_string()), None]
        ]
    );
    let sessions: i64 = work
        .db()
        .query_row("SELECT count(*) FROM orchestration_session", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(sessions, 1);
}
