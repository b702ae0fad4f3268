//! This machine's `device` row, upserted on (name, state, boundary) as surveilr does, so one
//! machine keeps one device id.

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::{Value, json};

use super::ids::new_id;
use crate::Result;

/// surveilr stores the JSON string "SINGLETON", quotes included.
pub const DEVICE_STATE: &str = "\"SINGLETON\"";
pub const DEFAULT_BOUNDARY: &str = "UNKNOWN";

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Device {
    pub device_id: String,
    pub name: String,
    pub boundary: String,
}

pub fn host_name() -> String {
    gethostname::gethostname().to_string_lossy().into_owned()
}

pub fn upsert(conn: &Connection, name: Option<&str>, boundary: Option<&str>) -> Result<Device> {
    let name = name.map(str::to_string).unwrap_or_else(host_name);
    let boundary = boundary.unwrap_or(DEFAULT_BOUNDARY).to_string();
    let sysinfo = system_facts().to_string();
    let existing: Option<String> = conn
        .query_row(
            "SELECT device_id FROM device WHERE name = ?1 AND state = ?2 AND boundary = ?3",
            params![name, DEVICE_STATE, boundary],
            |row| row.get(0),
        )
        .optional()?;
    let device_id = match existing {
        Some(id) => {
            // Only touch the row when the machine's facts changed, so opening twice changes nothing.
            conn.execute(
                "UPDATE device SET state_sysinfo = ?2, updated_at = CURRENT_TIMESTAMP, updated_by = 'rssd'
                 WHERE device_id = ?1 AND state_sysinfo IS NOT ?2",
                params![id, sysinfo],
            )?;
            id
        }
        None => {
            let id = new_id();
            conn.execute(
                "INSERT INTO device (device_id, name, state, boundary, state_sysinfo, created_by)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'rssd')
                 ON CONFLICT (name, state, boundary) DO NOTHING",
                params![id, name, DEVICE_STATE, boundary, sysinfo],
            )?;
            // Another process may have inserted the same device first; its id wins.
            conn.query_row(
                "SELECT device_id FROM device WHERE name = ?1 AND state = ?2 AND boundary = ?3",
                params![name, DEVICE_STATE, boundary],
                |row| row.get(0),
            )?
        }
    };
    Ok(Device {
        device_id,
        name,
        boundary,
    })
}

/// Facts about the machine that stay the same from run to run.
pub fn system_facts() -> Value {
    json!({
        "os": std::env::consts::OS,
        "os_family": std::env::consts::FAMILY,
        "os_release": os_release(),
        "kernel": read_trimmed("/proc/sys/kernel/osrelease"),
        "arch": std::env::consts::ARCH,
        "cpu_count": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        "memory_total_bytes": memory_total_bytes(),
        "host_name": host_name(),
    })
}

fn read_trimmed(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|text| text.trim().to_string())
}

fn os_release() -> Option<String> {
    let text = std::fs::read_to_string("/etc/os-release").ok()?;
    text.lines()
        .find_map(|line| line.strip_prefix("PRETTY_NAME="))
        .map(|value| value.trim_matches('"').to_string())
}

fn memory_total_bytes() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|line| line.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}
