//! Helpers of the robustness tests (crash, concurrency, hostile input): a seeded random
//! number generator, killing a running `rssd` at a chosen moment, and the checks every
//! database must pass after whatever happened to the process writing it.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

/// SplitMix64: a few lines, good enough to spread kill times, and the same on every run
/// for a given seed (the seed is printed so a failure can be replayed).
pub struct Rng(u64);

impl Rng {
    /// Seeded from `RSSD_TEST_SEED` when set, else from `default`.
    pub fn from_env(default: u64) -> Rng {
        let seed = std::env::var("RSSD_TEST_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(default);
        eprintln!("seed {seed} (set RSSD_TEST_SEED to replay)");
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform number in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A duration uniform in `[0, max)`.
    pub fn duration(&mut self, max: Duration) -> Duration {
        max.mul_f64(self.unit())
    }
}

/// How many kills a crash test makes: `RSSD_CRASH_KILLS` for the long mode, else `quick`.
pub fn kills(quick: usize) -> usize {
    std::env::var("RSSD_CRASH_KILLS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(quick)
}

/// Starts `rssd -d DB ARGS...` with its output discarded and no standard input.
pub fn spawn(db: &Path, args: &[&str]) -> Child {
    rssd()
        .arg("-d")
        .arg(db)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("rssd starts")
}

/// What happened to a process we meant to kill.
#[derive(Debug)]
pub enum Killed {
    /// SIGKILL arrived while it ran.
    Killed,
    /// It had already exited, with this status.
    Exited(ExitStatus),
}

/// Runs the command and sends SIGKILL after `after` (unless it ended first).
pub fn kill_after(db: &Path, args: &[&str], after: Duration) -> Killed {
    let mut child = spawn(db, args);
    let deadline = Instant::now() + after;
    loop {
        if let Some(status) = child.try_wait().expect("wait on rssd") {
            return Killed::Exited(status);
        }
        let now = Instant::now();
        if now >= deadline {
            break;
        }
        std::thread::sleep((deadline - now).min(Duration::from_millis(2)));
    }
    kill_now(child)
}

/// Kills the command as soon as its run has begun an entry (one more entry in the database
/// than before it started), for a kill inside an entry.
pub fn kill_inside_an_entry(db: &Path, args: &[&str]) -> Killed {
    let before = count(db, "SELECT count(*) FROM orchestration_session_entry");
    kill_now(spawn_when_entries(db, args, before + 1))
}

fn kill_now(mut child: Child) -> Killed {
    match child.kill() {
        Ok(()) => {
            let status = child.wait().expect("wait on killed rssd");
            // A process that exited between try_wait and kill reports its own status.
            if status.code().is_some() {
                Killed::Exited(status)
            } else {
                Killed::Killed
            }
        }
        Err(_) => Killed::Exited(child.wait().expect("wait on rssd")),
    }
}

/// Sends a signal by name (`INT`, `TERM`) to a child, through kill(1).
pub fn signal(child: &Child, name: &str) {
    let status = std::process::Command::new("kill")
        .arg(format!("-{name}"))
        .arg(child.id().to_string())
        .status()
        .expect("kill(1) runs");
    assert!(status.success(), "kill -{name} failed");
}

/// `PRAGMA integrity_check` and `PRAGMA foreign_key_check` of the orchestration tables.
pub fn assert_integrity(db: &Path) {
    let conn = connect(db);
    let integrity: Vec<String> = conn
        .prepare("PRAGMA integrity_check")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .map(|row| row.unwrap())
        .collect();
    assert_eq!(integrity, ["ok"], "integrity_check of {}", db.display());
}

/// Ids of sessions with no finish time: those a killed process left behind.
pub fn unfinished_sessions(db: &Path) -> Vec<String> {
    let made = "SELECT count(*) FROM sqlite_master WHERE name = 'orchestration_session'";
    if count(db, made) == 0 {
        return Vec::new(); // killed before the schema was committed
    }
    column(
        db,
        "SELECT orchestration_session_id FROM orchestration_session WHERE orch_finished_at IS NULL ORDER BY rowid",
    )
    .into_iter()
    .flatten()
    .collect()
}

/// The latest state recorded for a session (`entry` None) or one of its entries.
pub fn latest_state(db: &Path, session: &str, entry: Option<&str>) -> String {
    let conn = connect(db);
    conn.query_row(
        "SELECT to_state FROM orchestration_session_state
         WHERE session_id = ?1 AND session_entry_id IS ?2 ORDER BY rowid DESC LIMIT 1",
        rusqlite::params![session, entry],
        |row| row.get(0),
    )
    .unwrap_or_else(|err| panic!("no state for session {session} entry {entry:?}: {err}"))
}

/// The state names recorded after a run that reached its end, that no process may leave.
pub const UNFINISHED: [&str; 6] = [
    "INITIAL",
    "RUNNING",
    "INGESTING",
    "VALIDATING",
    "surveilr_orch_init",
    "surveilr_orch_progress",
];

/// After a kill: the next rssd marks each session left unfinished `ABANDONED`, and each
/// entry it left mid-way too. Returns how many sessions it marked.
pub fn assert_abandoned_by_next_run(db: &Path, left: &[String]) -> usize {
    // Any command opening the database judges the sessions; `sessions` writes nothing else.
    let out = run(db, &["sessions", "--format", "json"]);
    assert_status(&out, 0);
    for session in left {
        assert_eq!(
            latest_state(db, session, None),
            "ABANDONED",
            "session {session}"
        );
        let finished = count(
            db,
            &format!(
                "SELECT count(*) FROM orchestration_session WHERE orchestration_session_id = '{session}' AND orch_finished_at IS NOT NULL"
            ),
        );
        assert_eq!(
            finished, 1,
            "abandoned session {session} has its finish time"
        );
    }
    let stuck: Vec<String> = column(
        db,
        "SELECT e.ingest_src || ' -> ' || (SELECT to_state FROM orchestration_session_state s
                   WHERE s.session_entry_id = e.orchestration_session_entry_id ORDER BY s.rowid DESC LIMIT 1)
         FROM orchestration_session_entry e",
    )
    .into_iter()
    .flatten()
    .filter(|line| UNFINISHED.iter().any(|state| line.ends_with(&format!("-> {state}"))))
    .collect();
    assert!(stuck.is_empty(), "entries left unfinished: {stuck:?}");
    assert!(unfinished_sessions(db).is_empty());
    left.len()
}

/// Every user table (not the RSSD's own: orchestration and surveilr's) with its row count.
pub fn user_tables(db: &Path) -> Vec<(String, i64)> {
    let conn = connect(db);
    let names: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .map(|row| row.unwrap())
        .filter(|name: &String| !rssd::state::is_rssd_table(name))
        .collect();
    names
        .into_iter()
        .map(|name| {
            let sql = format!("SELECT count(*) FROM {}", rssd::sql::quote_ident(&name));
            let rows = conn.query_row(&sql, [], |row| row.get(0)).unwrap();
            (name, rows)
        })
        .collect()
}

/// Where a killed run was, read from what it left (before anything else opens the file).
pub fn phase(db: &Path, sessions_before: i64, entries_expected: usize) -> String {
    if !db.exists() {
        return "before the file".into();
    }
    let made = "SELECT count(*) FROM sqlite_master WHERE name = 'orchestration_session'";
    if count(db, made) == 0 {
        return "creating the schema".into();
    }
    if count(db, "SELECT count(*) FROM orchestration_session") == sessions_before {
        return "opening, before the session".into();
    }
    let Some(session) = unfinished_sessions(db).pop() else {
        return "after finishing, before exit".into();
    };
    let entries: Vec<String> = column(
        db,
        &format!(
            "SELECT orchestration_session_entry_id FROM orchestration_session_entry
             WHERE session_id = '{session}' ORDER BY rowid"
        ),
    )
    .into_iter()
    .flatten()
    .collect();
    match entries.last() {
        None => "session begun, reading the first file before its entry".into(),
        Some(entry) => {
            let state = latest_state(db, &session, Some(entry));
            let which = if entries.len() == 1 {
                "the first"
            } else {
                "a later"
            };
            if !rssd::state::states::is_final(&state) {
                format!("inside {which} entry ({state})")
            } else if entries.len() < entries_expected {
                "between entries".into()
            } else {
                "after the last entry, finishing the session".into()
            }
        }
    }
}

/// Kills seen per phase by [`kill_loop`].
pub struct KillSummary {
    pub killed: usize,
    pub abandoned: usize,
    pub phases: BTreeMap<String, usize>,
}

impl KillSummary {
    fn landed_inside(&self) -> bool {
        self.phases.keys().any(|p| p.starts_with("inside"))
    }

    /// At least `phases` distinct phases were hit by a kill, one of them inside an entry
    /// (mid-load), and a session was abandoned. Which phases a seeded time hits still
    /// depends on the machine's load, so the floor is low; the distribution is printed.
    pub fn assert_covered(&self, phases: usize) {
        eprintln!(
            "{} kills, {} sessions abandoned; phases: {:#?}",
            self.killed, self.abandoned, self.phases
        );
        assert!(
            self.abandoned > 0,
            "no kill left a session: {:?}",
            self.phases
        );
        assert!(
            self.landed_inside(),
            "no kill landed inside an entry: {:?}",
            self.phases
        );
        let hit = self
            .phases
            .keys()
            .filter(|p| !p.starts_with("ended"))
            .count();
        assert!(
            hit >= phases,
            "kills covered too few phases: {:?}",
            self.phases
        );
    }
}

/// What a crash test runs, kills and checks.
pub struct KillPlan<'a> {
    pub args: &'a [&'a str],
    /// Kills to land (`RSSD_CRASH_KILLS` overrides).
    pub kills: usize,
    pub seed: u64,
    /// Kills land between this fraction of a complete run's length and its end (after the
    /// first few attempts, which aim at creating the file).
    pub earliest: f64,
    /// Entries a complete run makes (to tell "between entries" from "finishing").
    pub entries: usize,
    /// Called with the attempt number before each run to be killed: changes the input so
    /// the run has real work to do (a file loaded already would be `UNCHANGED`).
    pub before_each: &'a dyn Fn(usize),
    /// Checks that every table present is whole.
    pub no_partial: &'a dyn Fn(&Path),
    /// Runs the same command to completion and checks that everything is loaded; returns
    /// how long the run itself took.
    pub complete: &'a dyn Fn(&Path) -> Duration,
}

/// Starts the command again and again, each time killing it with SIGKILL at a seeded random
/// moment of its run, until the wanted kills have landed. After each kill: integrity, every
/// table present whole, the session marked `ABANDONED` by the next rssd, and the same
/// command run again completes and loads everything.
pub fn kill_loop(db: &Path, plan: &KillPlan) -> KillSummary {
    let (args, wanted, seed) = (plan.args, kills(plan.kills), plan.seed);
    let mut rng = Rng::from_env(seed);
    // The first kills land while the file and schema are made; then the length of a complete
    // run spreads them over every phase.
    let mut span = Duration::from_millis(40);
    let mut summary = KillSummary {
        killed: 0,
        abandoned: 0,
        phases: BTreeMap::new(),
    };
    // Attempts that end before their kill time do not count; allow plenty (a busy machine
    // makes run lengths vary, and with them how many runs end before their kill).
    for attempt in 0..wanted * 12 {
        if summary.killed == wanted {
            break;
        }
        let has_state = db.exists()
            && count(
                db,
                "SELECT count(*) FROM sqlite_master WHERE name = 'orchestration_session_entry'",
            ) == 1;
        let sessions_before = if has_state {
            count(db, "SELECT count(*) FROM orchestration_session")
        } else {
            0
        };
        (plan.before_each)(attempt);
        let after = if attempt >= 3 {
            span.mul_f64(plan.earliest) + rng.duration(span.mul_f64(1.0 - plan.earliest))
        } else {
            rng.duration(span)
        };
        // A seeded time can miss every entry (a busy machine stretches the opening): the last
        // kill then waits for one, so that every run of the test kills a load mid-way.
        let killed = if has_state && summary.killed + 1 == wanted && !summary.landed_inside() {
            kill_inside_an_entry(db, args)
        } else {
            kill_after(db, args, after)
        };
        match killed {
            Killed::Exited(status) => {
                assert!(
                    status.code().is_some_and(|c| c == 0 || c == 1),
                    "attempt {attempt}: {status}"
                );
                *summary
                    .phases
                    .entry("ended before the kill".into())
                    .or_default() += 1;
            }
            Killed::Killed => {
                summary.killed += 1;
                *summary
                    .phases
                    .entry(phase(db, sessions_before, plan.entries))
                    .or_default() += 1;
                if db.exists() {
                    assert_integrity(db);
                    (plan.no_partial)(db);
                    let left = unfinished_sessions(db);
                    summary.abandoned += assert_abandoned_by_next_run(db, &left);
                    assert_integrity(db);
                }
            }
        }
        let took = (plan.complete)(db);
        // The longest complete run seen (a rerun after a kill may have less left to do).
        if attempt >= 3 {
            span = span.max(took);
        }
    }
    assert_eq!(summary.killed, wanted, "phases: {:?}", summary.phases);
    summary
}

/// Starts `rssd -d DB ARGS...` and returns once its session has `entries` entries (so it is
/// inside its work), for a signal to land there.
pub fn spawn_when_entries(db: &Path, args: &[&str], entries: i64) -> Child {
    let child = spawn(db, args);
    let started = Instant::now();
    while count(db, "SELECT count(*) FROM orchestration_session_entry") < entries {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "fewer than {entries} entries after a minute"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    child
}

/// Starts the command, sends one SIGINT once it has `entries` entries, and checks that it
/// stopped cleanly: exit 130 with "interrupted" on standard error, an intact file, the
/// session recorded `INTERRUPTED` (nothing left for the next run to abandon). Returns the
/// recorded reason.
pub fn interrupt_once(db: &Path, args: &[&str], entries: i64) -> String {
    let child = spawn_when_entries(db, args, entries);
    signal(&child, "INT");
    let output = child.wait_with_output().expect("rssd ends");
    assert_status(&output, 130);
    assert!(
        stderr(&output).contains("interrupted"),
        "{}",
        stderr(&output)
    );
    assert_integrity(db);
    let session = latest_session(db);
    assert_eq!(latest_state(db, &session, None), "INTERRUPTED");
    assert!(unfinished_sessions(db).is_empty());
    let reason = column(
        db,
        "SELECT transition_reason FROM orchestration_session_state WHERE to_state = 'INTERRUPTED' AND session_entry_id IS NULL",
    );
    reason[0].clone().unwrap_or_default()
}
