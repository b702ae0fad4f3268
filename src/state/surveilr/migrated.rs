//! What makes an rssd-made RSSD look migrated to surveilr: the `ConstructionSqlNotebook`
//! cells, under surveilr's own cell ids, each with a `MIGRATION_CANDIDATE -> EXECUTED` state.
//!
//! surveilr's bootstrap upserts its cells with `ON CONFLICT DO UPDATE` (any conflict, the id
//! included), so it takes these rows over and keeps their states: its migration then finds
//! its `_once_` cells executed and does not run them again.

use rusqlite::{Connection, params};
use sha1::{Digest, Sha1};

use crate::Result;

const NOTEBOOK: &str = "ConstructionSqlNotebook";

/// surveilr's cell ids and names for its migration cells; each v002 cell makes one view.
const INITIAL_DDL: (&str, &str) = ("01J9QW0JXAPGT43Z2T3Z656S16", "v001_once_initialDDL");
const SEED_DML: (&str, &str) = ("01J9QW0JXBDDW7SJR16WHE42DE", "v001_seedDML");
const VIEW_CELLS: [(&str, &str, &str); 5] = [
    (
        "01J9QW0JXBJ0XFA0TC57AV0A1S",
        "v002_fsContentIngestSessionFilesStatsViewDDL",
        "ur_ingest_session_files_stats",
    ),
    (
        "01J9QW0JXBQAYJ5611S8T3FA7M",
        "v002_fsContentIngestSessionFilesStatsLatestViewDDL",
        "ur_ingest_session_files_stats_latest",
    ),
    (
        "01J9QW0JXB9ZDJ2JJZEB3WBP93",
        "v002_urIngestSessionTasksStatsViewDDL",
        "ur_ingest_session_tasks_stats",
    ),
    (
        "01J9QW0JXBE2RZ8KR90TDRPFDR",
        "v002_urIngestSessionTasksStatsLatestViewDDL",
        "ur_ingest_session_tasks_stats_latest",
    ),
    (
        "01J9QW0JXBS500JVAP5PN3ZAHM",
        "v002_urIngestSessionFileIssueViewDDL",
        "ur_ingest_session_file_issue",
    ),
];

/// Records the cells (their code is the SQL rssd ran) and their executed states. Rows
/// already there, surveilr's or an earlier run's, are kept as they are (looked up, not left
/// to UNIQUE constraints an adopted table may lack).
pub fn record(conn: &Connection, initial_ddl: &str, seed_dml: &str, views: &str) -> Result<()> {
    cell(conn, INITIAL_DDL, initial_ddl)?;
    cell(conn, SEED_DML, seed_dml)?;
    for (id, name, view) in VIEW_CELLS {
        cell(conn, (id, name), &view_statement(views, view))?;
    }
    Ok(())
}

/// The one `CREATE VIEW` statement of `views` that makes `view`.
fn view_statement(views: &str, view: &str) -> String {
    let head = format!("CREATE VIEW IF NOT EXISTS \"{view}\" AS");
    views
        .split("\n\n")
        .find(|statement| statement.trim_start().starts_with(&head))
        .unwrap_or_default()
        .trim()
        .to_string()
}

fn cell(conn: &Connection, (id, name): (&str, &str), code: &str) -> Result<()> {
    let hash: String = Sha1::digest(code.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    conn.execute(
        "INSERT OR IGNORE INTO code_notebook_cell
            (code_notebook_cell_id, notebook_kernel_id, notebook_name, cell_name,
             interpretable_code, interpretable_code_hash, description, created_by)
         SELECT ?1, 'SQL', ?2, ?3, ?4, ?5, 'created directly by rssd', 'rssd'
          WHERE NOT EXISTS (SELECT 1 FROM code_notebook_cell WHERE code_notebook_cell_id = ?1)",
        params![id, NOTEBOOK, name, code, hash],
    )?;
    conn.execute(
        "INSERT OR IGNORE INTO code_notebook_state
            (code_notebook_state_id, code_notebook_cell_id, from_state, to_state,
             transition_result, transition_reason, created_by)
         SELECT ?1 || '__' || strftime('%Y%m%d%H%M%S', 'now'), ?1, 'MIGRATION_CANDIDATE',
                'EXECUTED', '{}', 'created directly by rssd', 'rssd'
          WHERE NOT EXISTS (SELECT 1 FROM code_notebook_state
                             WHERE code_notebook_cell_id = ?1 AND to_state = 'EXECUTED')",
        params![id],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_view_cell_finds_its_statement() {
        for (_, _, view) in VIEW_CELLS {
            let sql = view_statement(include_str!("views_ingest.sql"), view);
            assert!(sql.ends_with(';'), "{view}: {sql}");
        }
    }
}
