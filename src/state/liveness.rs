//! Telling a running session from one whose process died.
//!
//! Each session rssd begins records which process owns it (host, boot id, pid and the
//! process's start time). A session with no finish time whose owner is gone from this host is
//! marked `ABANDONED` the next time any rssd opens the database. Sessions of other hosts, and
//! sessions made by other tools (no owner recorded), are never judged.

use rusqlite::{Connection, params};
use serde_json::{Value, json};

use super::device::host_name;
use super::diagnostics;
use super::ids::new_id;
use super::query::latest_state;
use super::states::{ABANDONED, is_final};
use crate::Result;
use crate::sql::write_transaction;

/// The owner facts stored under `rssd.owner` in a session's elaboration.
pub fn this_process() -> Value {
    let pid = std::process::id();
    json!({
        "host": host_name(),
        "boot_id": boot_id(),
        "pid": pid,
        "start_ticks": start_ticks(pid),
    })
}

fn boot_id() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .ok()
        .map(|text| text.trim().to_string())
}

/// Field 22 of /proc/PID/stat: when the process started, so a reused pid is not mistaken
/// for the owner.
fn start_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses; fields resume after the last ')'.
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(19)?.parse().ok()
}

/// Whether the owner is gone; `None` when this host cannot tell.
fn owner_is_gone(owner: &Value) -> Option<bool> {
    if owner.get("host")?.as_str()? != host_name() {
        return None;
    }
    let recorded_boot = owner.get("boot_id").and_then(Value::as_str);
    let current_boot = boot_id();
    if let (Some(recorded), Some(current)) = (recorded_boot, current_boot.as_deref())
        && recorded != current
    {
        return Some(true);
    }
    if !std::path::Path::new("/proc/self/stat").exists() {
        return None; // no /proc here: cannot tell a live pid from a dead one
    }
    let pid = owner.get("pid")?.as_u64()? as u32;
    match (
        start_ticks(pid),
        owner.get("start_ticks").and_then(Value::as_u64),
    ) {
        (None, _) => Some(true),
        (Some(now), Some(recorded)) => Some(now != recorded),
        (Some(_), None) => Some(false),
    }
}

/// Marks every unfinished session whose owning process is gone; returns their ids.
pub fn mark_abandoned_sessions(conn: &Connection) -> Result<Vec<String>> {
    let candidates: Vec<(String, String)> = {
        let mut stmt = conn.prepare(
            "SELECT orchestration_session_id, json_extract(elaboration, '$.rssd.owner')
             FROM orchestration_session
             WHERE orch_finished_at IS NULL
               AND json_valid(elaboration)
               AND json_extract(elaboration, '$.rssd.owner') IS NOT NULL",
        )?;
        stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?
    };
    let mut abandoned = Vec::new();
    for (session_id, owner) in candidates {
        let owner: Value = serde_json::from_str(&owner).unwrap_or(Value::Null);
        if owner_is_gone(&owner) != Some(true) {
            continue;
        }
        let marked = write_transaction(conn, || mark_one(conn, &session_id, &owner))?;
        if marked {
            abandoned.push(session_id);
        }
    }
    Ok(abandoned)
}

fn mark_one(conn: &Connection, session_id: &str, owner: &Value) -> Result<bool> {
    // Re-read inside the write lock: another process may have marked it first.
    let finished: Option<String> = conn.query_row(
        "SELECT orch_finished_at FROM orchestration_session WHERE orchestration_session_id = ?1",
        [session_id],
        |row| row.get(0),
    )?;
    if finished.is_some() {
        return Ok(false);
    }
    let reason = format!(
        "process {} on {} ended without finishing the session; found by rssd (pid {})",
        owner.get("pid").cloned().unwrap_or(Value::Null),
        owner.get("host").and_then(Value::as_str).unwrap_or("?"),
        std::process::id()
    );
    let entries: Vec<String> = {
        let mut stmt = conn.prepare(
            "SELECT orchestration_session_entry_id FROM orchestration_session_entry WHERE session_id = ?1 ORDER BY rowid",
        )?;
        stmt.query_map([session_id], |row| row.get(0))?
            .collect::<rusqlite::Result<_>>()?
    };
    for entry_id in entries {
        let from = latest_state(conn, session_id, Some(&entry_id))?;
        if !is_final(&from) {
            insert_abandon(conn, session_id, Some(&entry_id), &from, &reason)?;
        }
    }
    let from = latest_state(conn, session_id, None)?;
    insert_abandon(conn, session_id, None, &from, &reason)?;
    conn.execute(
        "UPDATE orchestration_session SET orch_finished_at = CURRENT_TIMESTAMP WHERE orchestration_session_id = ?1",
        [session_id],
    )?;
    diagnostics::store(conn, session_id)?;
    Ok(true)
}

fn insert_abandon(
    conn: &Connection,
    session_id: &str,
    entry_id: Option<&str>,
    from: &str,
    reason: &str,
) -> Result<()> {
    conn.execute(
        "INSERT INTO orchestration_session_state
           (orchestration_session_state_id, session_id, session_entry_id, from_state, to_state, transition_reason, transition_result)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            new_id(),
            session_id,
            entry_id,
            from,
            ABANDONED,
            reason,
            json!({"detected_by_pid": std::process::id()}).to_string()
        ],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive() {
        let me = this_process();
        assert_eq!(owner_is_gone(&me), Some(false));
    }

    #[test]
    fn another_host_is_never_judged() {
        let other = json!({"host": "some-other-host-\u{1F600}", "pid": 1});
        assert_eq!(owner_is_gone(&other), None);
    }

    #[test]
    fn a_dead_pid_is_gone() {
        let mut me = this_process();
        me["start_ticks"] = json!(1); // same pid, different start: a reused pid
        assert_eq!(owner_is_gone(&me), Some(true));
    }
}
