//! The PostgreSQL layout `rssd push` writes: the nine orchestration tables, the watermark, the
//! dashboard views, and a loaded table's columns; and the check that a table already there
//! has the columns rssd would write.

use std::collections::BTreeMap;

use postgres::Transaction;
use rusqlite::Connection;

use super::meta;
use super::pg_types::{PgType, UNFIT_COLUMN};
use crate::state::{SCHEMA_SQL, TABLES};
use crate::{Error, Result};

/// The watermark: one row per session pushed, with its device.
pub const WATERMARK: &str = "rssd_push_watermark";
/// Provenance columns of a loaded table in PostgreSQL, after its own columns.
pub const DEVICE_COLUMN: &str = "_rssd_device_id";

/// Orchestration columns guarded by `CHECK(json_valid(...))` in the schema: jsonb.
const JSON_COLUMNS: [&str; 8] = [
    "state",
    "segmentation",
    "state_sysinfo",
    "elaboration",
    "args_json",
    "diagnostics_json",
    "transition_result",
    "output_nature",
];

/// One PostgreSQL column: its name, type, and the SQLite column it is read from (`None` for
/// the provenance and `_rssd_unfit` columns push fills itself).
#[derive(Debug, Clone, PartialEq)]
pub struct PgColumn {
    pub name: String,
    pub pg: PgType,
    pub primary_key: bool,
}

/// A table's PostgreSQL columns.
#[derive(Debug, Clone)]
pub struct PgTable {
    pub name: String,
    /// Columns read from SQLite, in order.
    pub data: Vec<PgColumn>,
    /// Loaded tables: `_rssd_device_id`, `_rssd_entry_id`, `_rssd_row` follow the data.
    pub loaded: bool,
}

impl PgTable {
    /// Every column in PostgreSQL, `_rssd_unfit` last.
    pub fn all_columns(&self) -> Vec<(String, PgType)> {
        let mut all: Vec<(String, PgType)> =
            self.data.iter().map(|c| (c.name.clone(), c.pg)).collect();
        if self.loaded {
            all.push((DEVICE_COLUMN.into(), PgType::Text));
            all.push((meta::ENTRY_COLUMN.into(), PgType::Text));
            all.push((meta::ROW_COLUMN.into(), PgType::BigInt));
        }
        all.push((UNFIT_COLUMN.into(), PgType::Jsonb));
        all
    }

    pub fn create_sql(&self, schema: &str) -> String {
        let mut parts: Vec<String> = self
            .all_columns()
            .iter()
            .map(|(name, pg)| format!("{} {}", ident(name), pg.sql()))
            .collect();
        let keys: Vec<String> = self
            .data
            .iter()
            .filter(|c| c.primary_key)
            .map(|c| ident(&c.name))
            .collect();
        if !keys.is_empty() {
            parts.push(format!("PRIMARY KEY ({})", keys.join(", ")));
        }
        format!(
            "CREATE TABLE IF NOT EXISTS {} ({})",
            qualified(schema, &self.name),
            parts.join(", ")
        )
    }
}

/// A PostgreSQL identifier, quoted.
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

pub fn qualified(schema: &str, table: &str) -> String {
    format!("{}.{}", ident(schema), ident(table))
}

/// The orchestration tables as rssd writes them in PostgreSQL, from the reference schema.
pub fn orchestration_tables() -> Result<Vec<PgTable>> {
    let reference = Connection::open_in_memory()?;
    reference.execute_batch(SCHEMA_SQL)?;
    let mut tables = Vec::new();
    for table in TABLES {
        let data = meta::columns(&reference, "main", table)?
            .into_iter()
            .map(|c| PgColumn {
                pg: PgType::for_orchestration(
                    &c.name,
                    &c.declared,
                    JSON_COLUMNS.contains(&c.name.as_str()),
                ),
                primary_key: c.pk > 0,
                name: c.name,
            })
            .collect();
        tables.push(PgTable {
            name: table.to_string(),
            data,
            loaded: false,
        });
    }
    Ok(tables)
}

/// A loaded table's PostgreSQL columns from its SQLite columns (provenance columns of the
/// source are not data: push fills them).
pub fn loaded_table(name: &str, columns: &[meta::Column]) -> PgTable {
    let data = columns
        .iter()
        .filter(|c| !c.is_provenance() && !c.name.eq_ignore_ascii_case("_rssd_session_id"))
        .map(|c| PgColumn {
            name: c.name.clone(),
            pg: PgType::for_loaded(&c.declared),
            primary_key: false,
        })
        .collect();
    PgTable {
        name: name.to_string(),
        data,
        loaded: true,
    }
}

/// The tables of `schema` in PostgreSQL with their columns (name, `data_type`) in order.
pub fn existing_tables(
    client: &mut postgres::Client,
    schema: &str,
) -> Result<BTreeMap<String, Vec<(String, String)>>> {
    let rows = client
        .query(
            "SELECT table_name::text, column_name::text, data_type::text FROM information_schema.columns
             WHERE table_schema = $1 ORDER BY table_name, ordinal_position",
            &[&schema],
        )
        .map_err(pg_error)?;
    let mut tables: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for row in rows {
        tables
            .entry(row.get(0))
            .or_default()
            .push((row.get(1), row.get(2)));
    }
    Ok(tables)
}

/// True when the columns in PostgreSQL are exactly those rssd writes.
pub fn matches(table: &PgTable, existing: &[(String, String)]) -> bool {
    let wanted = table.all_columns();
    wanted.len() == existing.len()
        && wanted
            .iter()
            .zip(existing)
            .all(|((name, pg), (have_name, have_type))| name == have_name && pg.sql() == have_type)
}

pub fn pg_error(err: postgres::Error) -> Error {
    Error::Invalid(format!("postgres: {}", super::pg_conn::one_line(&err)))
}

/// Watermark, orchestration tables, indexes and views, all `IF NOT EXISTS`.
pub fn setup(tx: &mut Transaction<'_>, schema: &str, tables: &[PgTable]) -> Result<()> {
    let s = ident(schema);
    let mut sql = format!(
        "CREATE SCHEMA IF NOT EXISTS {s};
         CREATE TABLE IF NOT EXISTS {s}.{WATERMARK} (
             device_id text NOT NULL, session_id text NOT NULL,
             pushed_at timestamp with time zone NOT NULL DEFAULT now(), rows bigint,
             PRIMARY KEY (device_id, session_id));\n"
    );
    for table in tables {
        sql.push_str(&table.create_sql(schema));
        sql.push_str(";\n");
    }
    for (table, column) in [
        ("orchestration_session", "device_id"),
        ("orchestration_session_entry", "session_id"),
        ("orchestration_session_state", "session_id"),
        ("orchestration_session_exec", "session_id"),
        ("orchestration_session_issue", "session_id"),
    ] {
        sql.push_str(&format!(
            "CREATE INDEX IF NOT EXISTS {} ON {s}.{table} ({column});\n",
            ident(&format!("{table}__{column}"))
        ));
    }
    sql.push_str(&views_sql(&s));
    tx.batch_execute(&sql).map_err(pg_error)
}

/// The dashboard views.
fn views_sql(s: &str) -> String {
    format!(
        "CREATE OR REPLACE VIEW {s}.rssd_sessions_per_device AS
         SELECT s.device_id, d.name AS device_name, s.orchestration_nature_id AS nature,
                count(*) AS sessions, min(s.orch_started_at) AS first_started_at,
                max(s.orch_started_at) AS last_started_at
         FROM {s}.orchestration_session s LEFT JOIN {s}.device d ON d.device_id = s.device_id
         GROUP BY 1, 2, 3;
         CREATE OR REPLACE VIEW {s}.rssd_issues_by_week AS
         SELECT date_trunc('week', s.orch_started_at) AS week, i.issue_type,
                coalesce(i.elaboration->>'severity', 'error') AS severity,
                count(*) AS issues, count(DISTINCT s.device_id) AS devices
         FROM {s}.orchestration_session_issue i
         JOIN {s}.orchestration_session s ON s.orchestration_session_id = i.session_id
         GROUP BY 1, 2, 3;
         CREATE OR REPLACE VIEW {s}.rssd_latest_delivery AS
         SELECT DISTINCT ON (s.device_id, e.ingest_src)
                s.device_id, d.name AS device_name, e.ingest_src, e.ingest_table_name,
                e.orchestration_session_entry_id AS entry_id, s.orchestration_session_id AS session_id,
                s.orch_started_at AS delivered_at,
                (SELECT st.to_state FROM {s}.orchestration_session_state st
                 WHERE st.session_entry_id = e.orchestration_session_entry_id
                 ORDER BY st.orchestration_session_state_id DESC LIMIT 1) AS state
         FROM {s}.orchestration_session_entry e
         JOIN {s}.orchestration_session s ON s.orchestration_session_id = e.session_id
         LEFT JOIN {s}.device d ON d.device_id = s.device_id
         WHERE s.orchestration_nature_id <> 'merge'
         ORDER BY s.device_id, e.ingest_src, s.orch_started_at DESC, e.orchestration_session_entry_id DESC;
         CREATE OR REPLACE VIEW {s}.rssd_push_devices AS
         SELECT device_id, count(*) AS sessions, sum(rows) AS rows, max(pushed_at) AS last_pushed_at
         FROM {s}.{WATERMARK} GROUP BY 1;\n"
    )
}
