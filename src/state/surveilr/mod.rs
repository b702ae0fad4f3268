//! surveilr's RSSD beyond the orchestration tables: the notebook, party, content-store, e-mail
//! and project-management tables, SQLPage's pages, their indexes, views and seed rows.
//!
//! surveilr creates most of them through its notebook migration (the `ConstructionSqlNotebook`
//! cells); rssd creates them directly, then records those cells as executed
//! ([`migrated`]) so that surveilr, opening the RSSD, finds nothing left to run.

mod migrated;

use rusqlite::Connection;

use crate::Result;
use crate::sql::missing_objects;

/// surveilr's top-level notebook tables.
const NOTEBOOK_SQL: &str = include_str!("notebook.sql");
const PARTY_SQL: &str = include_str!("party.sql");
const INGEST_SQL: &str = include_str!("ingest.sql");
const IMAP_SQL: &str = include_str!("imap.sql");
const PLM_SQL: &str = include_str!("plm.sql");
const SQLPAGE_SQL: &str = include_str!("sqlpage.sql");
const INDEXES_SQL: &str = include_str!("indexes.sql");
const NOTEBOOK_VIEWS_SQL: &str = include_str!("views_notebook.sql");
const INGEST_VIEWS_SQL: &str = include_str!("views_ingest.sql");
const SEED_SQL: &str = include_str!("seed.sql");

/// The tables this module creates (surveilr's 39 beside the nine orchestration tables, and
/// SQLPage's `sqlpage_files`), in the order they are created.
pub const SURVEILR_TABLES: [&str; 40] = [
    "assurance_schema",
    "code_notebook_kernel",
    "code_notebook_cell",
    "code_notebook_state",
    "party_type",
    "party",
    "party_relation_type",
    "party_relation",
    "gender_type",
    "person",
    "organization",
    "organization_role_type",
    "organization_role",
    "device_party_relationship",
    "behavior",
    "ur_ingest_resource_path_match_rule",
    "ur_ingest_resource_path_rewrite_rule",
    "ur_ingest_session",
    "ur_ingest_session_fs_path",
    "uniform_resource",
    "uniform_resource_transform",
    "ur_ingest_session_fs_path_entry",
    "ur_ingest_session_task",
    "ur_ingest_session_attachment",
    "ur_ingest_session_udi_pgp_sql",
    "ur_ingest_session_imap_account",
    "ur_ingest_session_imap_acct_folder",
    "ur_ingest_session_imap_acct_folder_message",
    "ur_ingest_session_plm_account",
    "ur_ingest_session_plm_acct_project",
    "ur_ingest_session_plm_acct_project_issue",
    "ur_ingest_session_plm_acct_label",
    "ur_ingest_session_plm_milestone",
    "ur_ingest_session_plm_acct_relationship",
    "ur_ingest_session_plm_user",
    "ur_ingest_session_plm_comment",
    "ur_ingest_session_plm_reaction",
    "ur_ingest_session_plm_issue_reaction",
    "ur_ingest_session_plm_issue_type",
    "sqlpage_files",
];

/// The DDL of surveilr's migration cell `v001_once_initialDDL`: every table but the
/// notebook's own, and the indexes.
fn initial_ddl() -> String {
    [PARTY_SQL, INGEST_SQL, IMAP_SQL, PLM_SQL, INDEXES_SQL].concat()
}

/// The views this module creates: surveilr's notebook views, then its ingest views.
pub const SURVEILR_VIEWS: [&str; 12] = [
    "code_notebook_cell_versions",
    "code_notebook_cell_latest",
    "code_notebook_sql_cell_migratable_version",
    "code_notebook_sql_cell_migratable",
    "code_notebook_sql_cell_migratable_state",
    "code_notebook_sql_cell_migratable_not_executed",
    "code_notebook_migration_sql",
    "ur_ingest_session_files_stats",
    "ur_ingest_session_files_stats_latest",
    "ur_ingest_session_tasks_stats",
    "ur_ingest_session_tasks_stats_latest",
    "ur_ingest_session_file_issue",
];

/// True for a table or view this module creates.
pub fn is_surveilr_object(name: &str) -> bool {
    is_surveilr_table(name) || SURVEILR_VIEWS.iter().any(|v| v.eq_ignore_ascii_case(name))
}

/// True for a table this module creates (case-insensitive, as SQLite compares names).
pub fn is_surveilr_table(name: &str) -> bool {
    SURVEILR_TABLES.iter().any(|t| t.eq_ignore_ascii_case(name))
}

/// Creates whatever is missing, inside the caller's transaction; returns the tables created.
/// Existing tables, views and rows are left exactly as they are.
pub fn create(conn: &Connection) -> Result<Vec<String>> {
    let missing = missing_objects(conn, &SURVEILR_TABLES)?;
    let initial_ddl = initial_ddl();
    conn.execute_batch(NOTEBOOK_SQL)?;
    conn.execute_batch(&initial_ddl)?;
    conn.execute_batch(SQLPAGE_SQL)?;
    conn.execute_batch(NOTEBOOK_VIEWS_SQL)?;
    conn.execute_batch(INGEST_VIEWS_SQL)?;
    conn.execute_batch(SEED_SQL)?;
    migrated::record(conn, &initial_ddl, SEED_SQL, INGEST_VIEWS_SQL)?;
    Ok(missing)
}
