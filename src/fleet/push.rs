//! `rssd push`: an RSSD replicated into PostgreSQL, one transaction per session.
//!
//! A push first looks (reading only) at what PostgreSQL has: the watermark says which sessions
//! each device pushed, and every table the push would write into must have the columns rssd
//! writes; otherwise it stops with one line and changes nothing. Then each finished session
//! not yet pushed goes in one transaction: its watermark row, its orchestration rows, and the
//! rows of the tables its entries loaded, all by COPY. A push killed midway leaves whole
//! sessions only, and the next push continues. The RSSD itself is only read.

use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::path::Path;
use std::time::Duration;

use postgres::{Client, Transaction};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags, ToSql};
use serde_json::Map;

use super::meta::{self, ENTRY_COLUMN, ROW_COLUMN, RowPart};
use super::pg_schema::{self, PgTable, WATERMARK, ident, pg_error, qualified};
use super::pg_types::{self, PgType};
use super::{TablesRule, check_sqlite_file};
use crate::sql::quote_ident;
use crate::{Error, Result};

/// Bytes of COPY text gathered before they are handed to the connection.
const COPY_CHUNK: usize = 1 << 20;
/// PostgreSQL cuts longer identifiers, which would merge two tables into one.
const MAX_IDENTIFIER: usize = 63;

/// Where and how to push.
#[derive(Debug, Clone)]
pub struct PushOptions {
    /// `postgres://USER[:PASSWORD]@HOST[:PORT]/DB[?sslmode=...]`.
    pub url: String,
    /// The PostgreSQL schema (namespace) everything goes into.
    pub schema: String,
    /// A loaded table whose name PostgreSQL has with other columns.
    pub tables: TablesRule,
    pub busy_timeout: Duration,
}

/// One session that went in.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PushedSession {
    pub session_id: String,
    pub device_id: String,
    pub rows: u64,
}

/// What a push did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct PushSummary {
    pub schema: String,
    pub pushed: Vec<PushedSession>,
    /// Finished sessions the watermark already had.
    pub already_pushed: usize,
    /// Sessions still running (or never finished): pushed once they finish.
    pub unfinished: usize,
    /// Loaded tables left out by `--tables skip`, as `table (device)`.
    pub skipped_tables: Vec<String>,
}

/// A session of the RSSD to push.
struct SessionRow {
    id: String,
    device_id: String,
    nature_id: String,
}

/// The rows of one loaded table that belong to one entry, and where they go.
struct TablePart {
    source: String,
    /// The table's latest entry: owner of rows without their own `_rssd_entry_id`.
    latest_entry: String,
    own_entry_column: bool,
    own_row_column: bool,
    entry_id: String,
    device_id: String,
    /// Rowids of the source in `(after, up_to]`.
    after: i64,
    up_to: i64,
    target: PgTable,
    source_columns: Vec<String>,
}

/// Pushes the RSSD at `rssd` into the PostgreSQL server `options.url`.
pub fn push(rssd: &Path, options: &PushOptions) -> Result<PushSummary> {
    check_sqlite_file(rssd).map_err(|err| Error::Invalid(format!("{}: {err}", rssd.display())))?;
    let sqlite = Connection::open_with_flags(
        rssd,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    sqlite.busy_timeout(options.busy_timeout)?;
    if options.schema.is_empty() || options.schema.len() > MAX_IDENTIFIER {
        return Err(Error::Invalid(format!(
            "--schema {:?}: not a usable schema name",
            options.schema
        )));
    }
    let orchestration = pg_schema::orchestration_tables()?;
    check_source_columns(&sqlite, &orchestration, rssd)?;
    // One read transaction: every session and table is read as of the same moment.
    sqlite.execute_batch("BEGIN")?;
    let sessions = finished_sessions(&sqlite)?;
    let unfinished: i64 = sqlite.query_row(
        "SELECT count(*) FROM orchestration_session WHERE orch_finished_at IS NULL",
        [],
        |r| r.get(0),
    )?;

    let mut client = super::pg_conn::connect(&options.url)?;
    client
        .batch_execute("SET TimeZone = 'UTC'")
        .map_err(pg_error)?;
    let existing = pg_schema::existing_tables(&mut client, &options.schema)?;
    check_existing(&orchestration, &existing, &options.schema)?;
    let pushed = pushed_sessions(&mut client, &options.schema, &existing)?;
    let todo: Vec<&SessionRow> = sessions
        .iter()
        .filter(|s| !pushed.contains(&s.id))
        .collect();
    let mut summary = PushSummary {
        schema: options.schema.clone(),
        already_pushed: sessions.len() - todo.len(),
        unfinished: unfinished as usize,
        ..PushSummary::default()
    };
    if todo.is_empty() {
        return Ok(summary);
    }
    let wanted: HashSet<&str> = todo.iter().map(|s| s.id.as_str()).collect();
    let parts = plan_tables(
        &sqlite,
        &wanted,
        &existing,
        options,
        &mut summary.skipped_tables,
    )?;

    let mut tx = client.transaction().map_err(pg_error)?;
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtext('rssd push setup'))",
        &[],
    )
    .map_err(pg_error)?;
    pg_schema::setup(&mut tx, &options.schema, &orchestration)?;
    tx.commit().map_err(pg_error)?;

    for session in todo {
        crate::interrupt::check()?;
        let mine: Vec<&TablePart> = parts
            .get(&session.id)
            .map(|v| v.iter().collect())
            .unwrap_or_default();
        let outcome = push_session(
            &mut client,
            &sqlite,
            session,
            &orchestration,
            &mine,
            &options.schema,
        );
        match outcome {
            Ok(Some(rows)) => summary.pushed.push(PushedSession {
                session_id: session.id.clone(),
                device_id: session.device_id.clone(),
                rows,
            }),
            Ok(None) => summary.already_pushed += 1,
            Err(err) => {
                return Err(Error::Invalid(format!(
                    "session {} not pushed ({} pushed before it; the next push continues): {err}",
                    session.id,
                    summary.pushed.len()
                )));
            }
        }
    }
    Ok(summary)
}

/// Refuses an RSSD whose orchestration tables lack a column rssd pushes.
fn check_source_columns(sqlite: &Connection, tables: &[PgTable], rssd: &Path) -> Result<()> {
    for table in tables {
        let have = meta::columns(sqlite, "main", &table.name)?;
        if have.is_empty() {
            return Err(Error::Invalid(format!(
                "{}: not an RSSD (no table {})",
                rssd.display(),
                table.name
            )));
        }
        if let Some(missing) = table
            .data
            .iter()
            .find(|c| !meta::has_column(&have, &c.name))
        {
            return Err(Error::MissingColumn {
                path: rssd.to_path_buf(),
                table: table.name.clone(),
                column: missing.name.clone(),
            });
        }
    }
    Ok(())
}

fn finished_sessions(sqlite: &Connection) -> Result<Vec<SessionRow>> {
    let mut stmt = sqlite.prepare(
        "SELECT orchestration_session_id, device_id, orchestration_nature_id FROM orchestration_session
         WHERE orch_finished_at IS NOT NULL ORDER BY rowid",
    )?;
    let rows = stmt
        .query_map([], |r| {
            Ok(SessionRow {
                id: r.get(0)?,
                device_id: r.get(1)?,
                nature_id: r.get(2)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Stops, before anything is written, if a table rssd writes exists with other columns.
fn check_existing(
    tables: &[PgTable],
    existing: &BTreeMap<String, Vec<(String, String)>>,
    schema: &str,
) -> Result<()> {
    for table in tables {
        if let Some(columns) = existing.get(&table.name)
            && !pg_schema::matches(table, columns)
        {
            return Err(differs(schema, &table.name));
        }
    }
    Ok(())
}

fn differs(schema: &str, table: &str) -> Error {
    Error::Invalid(format!(
        "postgres table {schema}.{table} exists with other columns than rssd writes; nothing was changed"
    ))
}

fn pushed_sessions(
    client: &mut Client,
    schema: &str,
    existing: &BTreeMap<String, Vec<(String, String)>>,
) -> Result<HashSet<String>> {
    if !existing.contains_key(WATERMARK) {
        return Ok(HashSet::new());
    }
    let sql = format!("SELECT session_id FROM {}", qualified(schema, WATERMARK));
    let rows = client.query(&sql, &[]).map_err(pg_error)?;
    Ok(rows.into_iter().map(|r| r.get(0)).collect())
}

/// The parts of loaded tables each session to push owns, with their PostgreSQL tables
/// decided (`--tables`) and checked against what PostgreSQL has.
fn plan_tables(
    sqlite: &Connection,
    wanted: &HashSet<&str>,
    existing: &BTreeMap<String, Vec<(String, String)>>,
    options: &PushOptions,
    skipped: &mut Vec<String>,
) -> Result<BTreeMap<String, Vec<TablePart>>> {
    let mut decided: BTreeMap<String, PgTable> = BTreeMap::new();
    let mut parts: BTreeMap<String, Vec<TablePart>> = BTreeMap::new();
    for loaded in meta::loaded_tables(sqlite, "main")? {
        let columns = meta::columns(sqlite, "main", &loaded.name)?;
        let own_entry_column = meta::has_column(&columns, ENTRY_COLUMN);
        for owner in entry_owners(sqlite, &loaded, own_entry_column)? {
            if !wanted.contains(owner.session_id.as_str()) {
                continue;
            }
            let shape = pg_schema::loaded_table(&loaded.name, &columns);
            let Some(target) =
                choose_target(shape, &owner.device_name, existing, &mut decided, options)?
            else {
                skipped.push(format!("{} ({})", loaded.name, owner.device_name));
                continue;
            };
            parts
                .entry(owner.session_id.clone())
                .or_default()
                .push(TablePart {
                    source: loaded.name.clone(),
                    latest_entry: loaded.entry_id.clone(),
                    own_entry_column,
                    own_row_column: meta::has_column(&columns, ROW_COLUMN),
                    entry_id: owner.entry_id,
                    device_id: owner.device_id,
                    after: owner.after,
                    up_to: owner.up_to,
                    source_columns: target.data.iter().map(|c| c.name.clone()).collect(),
                    target,
                });
        }
    }
    Ok(parts)
}

/// The entries a loaded table's rows belong to: its own `_rssd_entry_id` values when it has
/// that column (a merged RSSD), else the entries that loaded its rowids.
fn entry_owners(
    sqlite: &Connection,
    loaded: &meta::LoadedTable,
    own: bool,
) -> Result<Vec<RowPart>> {
    if !own {
        return Ok(loaded.parts.clone());
    }
    let sql = format!(
        "SELECT e.orchestration_session_entry_id, e.session_id, coalesce(s.device_id, ''),
                coalesce(d.name, s.device_id, 'unknown')
         FROM (SELECT DISTINCT coalesce({ENTRY_COLUMN}, ?1) AS id FROM {}) t
         JOIN orchestration_session_entry e ON e.orchestration_session_entry_id = t.id
         LEFT JOIN orchestration_session s ON s.orchestration_session_id = e.session_id
         LEFT JOIN device d ON d.device_id = s.device_id",
        meta::qualified("main", &loaded.name)
    );
    let mut stmt = sqlite.prepare(&sql)?;
    let owners = stmt
        .query_map([&loaded.entry_id], |r| {
            Ok(RowPart {
                entry_id: r.get(0)?,
                session_id: r.get(1)?,
                device_id: r.get(2)?,
                device_name: r.get(3)?,
                after: i64::MIN,
                up_to: i64::MAX,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(owners)
}

/// The PostgreSQL table a loaded table's rows go to, or `None` when `--tables skip` leaves it.
fn choose_target(
    shape: PgTable,
    device_name: &str,
    existing: &BTreeMap<String, Vec<(String, String)>>,
    decided: &mut BTreeMap<String, PgTable>,
    options: &PushOptions,
) -> Result<Option<PgTable>> {
    let fits = |name: &str, decided: &BTreeMap<String, PgTable>| -> Option<bool> {
        let mut probe = shape.clone();
        probe.name = name.to_string();
        if let Some(columns) = existing.get(name) {
            return Some(pg_schema::matches(&probe, columns));
        }
        decided
            .get(name)
            .map(|d| d.all_columns() == probe.all_columns())
    };
    let mut name = shape.name.clone();
    if fits(&name, decided) == Some(false) {
        match options.tables {
            TablesRule::Fail => return Err(differs(&options.schema, &name)),
            TablesRule::Skip => return Ok(None),
            TablesRule::Rename => {
                name = format!("{}_{device_name}", shape.name);
                if fits(&name, decided) == Some(false) {
                    return Err(differs(&options.schema, &name));
                }
            }
        }
    }
    for too_long in std::iter::once(&name).chain(shape.data.iter().map(|c| &c.name)) {
        if too_long.len() > MAX_IDENTIFIER {
            return Err(Error::Invalid(format!(
                "postgres: the name {too_long:?} is longer than PostgreSQL's {MAX_IDENTIFIER} bytes; nothing was changed"
            )));
        }
    }
    let mut target = shape;
    target.name = name.clone();
    decided.insert(name, target.clone());
    Ok(Some(target))
}

/// One session in one transaction; `None` when another push got there first.
fn push_session(
    client: &mut Client,
    sqlite: &Connection,
    session: &SessionRow,
    orchestration: &[PgTable],
    parts: &[&TablePart],
    schema: &str,
) -> Result<Option<u64>> {
    let mut tx = client.transaction().map_err(pg_error)?;
    let claimed = tx
        .execute(
            &format!(
                "INSERT INTO {} (device_id, session_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                qualified(schema, WATERMARK)
            ),
            &[&session.device_id, &session.id],
        )
        .map_err(pg_error)?;
    if claimed == 0 {
        return Ok(None);
    }
    let mut rows = 0;
    for table in orchestration {
        rows += push_orchestration_rows(&mut tx, sqlite, table, session, schema)?;
    }
    for part in parts {
        rows += push_table_part(&mut tx, sqlite, part, schema)?;
    }
    tx.execute(
        &format!(
            "UPDATE {} SET rows = $1 WHERE session_id = $2",
            qualified(schema, WATERMARK)
        ),
        &[&(rows as i64), &session.id],
    )
    .map_err(pg_error)?;
    tx.commit().map_err(pg_error)?;
    Ok(Some(rows))
}

/// Which rows of an orchestration table belong to the session.
fn session_filter(table: &str) -> &'static str {
    match table {
        "device" => "device_id = ?1",
        "orchestration_nature" => "orchestration_nature_id = ?2",
        "orchestration_session" => "orchestration_session_id = ?3",
        "orchestration_session_issue_relation" => {
            "issue_id_prime IN (SELECT orchestration_session_issue_id FROM orchestration_session_issue WHERE session_id = ?3)"
        }
        // The log table has no session column: rssd writes the session id into elaboration.
        "orchestration_session_log" => {
            "json_valid(elaboration) AND json_extract(elaboration, '$.session_id') = ?3"
        }
        _ => "session_id = ?3",
    }
}

/// COPY into a staging table, then insert what PostgreSQL does not have yet (a device and a
/// nature are shared by many sessions; a merged RSSD may bring a session twice).
fn push_orchestration_rows(
    tx: &mut Transaction<'_>,
    sqlite: &Connection,
    table: &PgTable,
    session: &SessionRow,
    schema: &str,
) -> Result<u64> {
    let stage = ident(&format!("rssd_stage_{}", table.name));
    tx.batch_execute(&format!(
        "CREATE TEMP TABLE IF NOT EXISTS {stage} (LIKE {}) ON COMMIT DELETE ROWS",
        qualified(schema, &table.name)
    ))
    .map_err(pg_error)?;
    let names: Vec<String> = table.data.iter().map(|c| c.name.clone()).collect();
    let select = format!(
        "SELECT {} FROM {} WHERE {}",
        names
            .iter()
            .map(|n| quote_ident(n))
            .collect::<Vec<_>>()
            .join(", "),
        meta::qualified("main", &table.name),
        session_filter(&table.name)
    );
    let params: [&dyn ToSql; 3] = [&session.device_id, &session.nature_id, &session.id];
    let copy = copy_sql(&stage, &table.all_columns());
    copy_rows(tx, sqlite, &select, &params, &copy, table, None)?;
    let inserted = tx
        .execute(
            &format!(
                "INSERT INTO {} SELECT * FROM {stage} ON CONFLICT DO NOTHING",
                qualified(schema, &table.name)
            ),
            &[],
        )
        .map_err(pg_error)?;
    Ok(inserted)
}

/// The rows of one entry of a loaded table, COPY'd straight into its PostgreSQL table.
fn push_table_part(
    tx: &mut Transaction<'_>,
    sqlite: &Connection,
    part: &TablePart,
    schema: &str,
) -> Result<u64> {
    tx.batch_execute(&part.target.create_sql(schema))
        .map_err(pg_error)?;
    let mut select_columns: Vec<String> =
        part.source_columns.iter().map(|c| quote_ident(c)).collect();
    select_columns.push(if part.own_row_column {
        ROW_COLUMN.into()
    } else {
        "rowid".into()
    });
    let entry_expr = if part.own_entry_column {
        format!("coalesce({ENTRY_COLUMN}, ?1)")
    } else {
        "?1".to_string()
    };
    let select = format!(
        "SELECT {} FROM {} WHERE {entry_expr} = ?2 AND rowid > ?3 AND rowid <= ?4",
        select_columns.join(", "),
        meta::qualified("main", &part.source)
    );
    let copy = copy_sql(
        &qualified(schema, &part.target.name),
        &part.target.all_columns(),
    );
    let provenance = (part.device_id.as_str(), part.entry_id.as_str());
    copy_rows(
        tx,
        sqlite,
        &select,
        &[&part.latest_entry, &part.entry_id, &part.after, &part.up_to],
        &copy,
        &part.target,
        Some(provenance),
    )
}

fn copy_sql(table: &str, columns: &[(String, PgType)]) -> String {
    let names: Vec<String> = columns.iter().map(|(n, _)| ident(n)).collect();
    format!("COPY {table} ({}) FROM STDIN", names.join(", "))
}

/// Streams the rows of `select` as COPY text: the data columns, for a loaded table its
/// device, entry and row number, then `_rssd_unfit`.
fn copy_rows(
    tx: &mut Transaction<'_>,
    sqlite: &Connection,
    select: &str,
    params: &[&dyn rusqlite::ToSql],
    copy: &str,
    table: &PgTable,
    provenance: Option<(&str, &str)>,
) -> Result<u64> {
    let mut stmt = sqlite.prepare(select)?;
    // Each filter names the parameters it needs as ?1, ?2...: the first `parameter_count`.
    let used = stmt.parameter_count().min(params.len());
    let mut rows = stmt.query(&params[..used])?;
    let mut writer = tx.copy_in(copy).map_err(pg_error)?;
    let mut buffer: Vec<u8> = Vec::with_capacity(COPY_CHUNK + 4096);
    let mut unfit = Map::new();
    let data = table.data.len();
    // The device and entry are the same on every row: escaped once.
    let provenance_fields = provenance.map(|(device, entry)| {
        let mut fields = Vec::new();
        for id in [device, entry] {
            fields.push(b'\t');
            let value = ValueRef::Text(id.as_bytes());
            pg_types::write_field(&mut fields, PgType::Text, value, "", &mut unfit);
        }
        fields
    });
    while let Some(row) = rows.next()? {
        for (i, column) in table.data.iter().enumerate() {
            if i > 0 {
                buffer.push(b'\t');
            }
            pg_types::write_field(
                &mut buffer,
                column.pg,
                row.get_ref(i)?,
                &column.name,
                &mut unfit,
            );
        }
        if let Some(fields) = &provenance_fields {
            buffer.extend_from_slice(fields);
            buffer.push(b'\t');
            pg_types::write_field(
                &mut buffer,
                PgType::BigInt,
                row.get_ref(data)?,
                ROW_COLUMN,
                &mut unfit,
            );
        }
        buffer.push(b'\t');
        pg_types::write_unfit(&mut buffer, &unfit);
        buffer.push(b'\n');
        unfit.clear();
        if buffer.len() >= COPY_CHUNK {
            writer.write_all(&buffer).map_err(copy_error)?;
            buffer.clear();
        }
    }
    writer.write_all(&buffer).map_err(copy_error)?;
    writer.finish().map_err(pg_error)
}

fn copy_error(err: std::io::Error) -> Error {
    Error::Invalid(format!("postgres: COPY failed: {err}"))
}
