//! surveilr's whole RSSD: every bootstrap table with its columns, a surveilr-made RSSD adopted
//! unchanged, each file recorded in `uniform_resource` (bytes exact), tenants, and scripts that
//! use those tables the way public surveilr scripts do.

use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::common::*;

/// `table: col, col, ...` lines of the fixture list.
fn bootstrap_tables() -> Vec<(String, Vec<String>)> {
    include_str!("fixtures/surveilr-bootstrap-tables.txt")
        .lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| {
            let (table, columns) = line.split_once(": ").expect("table: columns");
            let columns = columns.split(", ").map(str::to_string).collect();
            (table.to_string(), columns)
        })
        .collect()
}

fn columns_of(conn: &rusqlite::Connection, table: &str) -> Vec<String> {
    let mut stmt = conn
        .prepare("SELECT name FROM pragma_table_info(?1) ORDER BY cid")
        .unwrap();
    stmt.query_map([table], |row| row.get(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect()
}

fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn init_and_ingest_make_every_surveilr_bootstrap_table_with_its_columns() {
    let work = Work::new();
    let csv = work.file("in/a.csv", "id,name\n1,Ann\n");
    assert_status(&work.rssd(&["init"]), 0);
    assert_status(&work.rssd(&["ingest", text(&csv)]), 0);
    let conn = work.db();
    let tables = bootstrap_tables();
    assert_eq!(tables.len(), 48);
    for (table, columns) in &tables {
        assert_eq!(&columns_of(&conn, table), columns, "columns of {table}");
    }
    assert_eq!(
        columns_of(&conn, "sqlpage_files"),
        ["path", "contents", "last_modified"]
    );
    let count = |kind: &str| {
        conn.query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = ?1 AND name NOT LIKE 'sqlite_%'",
            [kind],
            |r| r.get::<_, i64>(0),
        )
        .unwrap()
    };
    assert_eq!((count("view"), count("index")), (12, 29));
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    assert_eq!(
        work.query("SELECT count(*) FROM pragma_foreign_key_check"),
        [[Some("0".to_string())]]
    );
}

#[test]
fn an_rssd_made_by_rssd_looks_migrated_to_surveilr() {
    let work = Work::new();
    assert_status(&work.rssd(&["init"]), 0);
    let cells = work.query(
        "SELECT c.code_notebook_cell_id, c.cell_name, s.to_state
           FROM code_notebook_cell c JOIN code_notebook_state s USING (code_notebook_cell_id)
          WHERE c.notebook_name = 'ConstructionSqlNotebook' ORDER BY c.cell_name",
    );
    assert_eq!(cells.len(), 7, "{cells:?}");
    assert_eq!(cells[0][0].as_deref(), Some("01J9QW0JXAPGT43Z2T3Z656S16"));
    assert_eq!(cells[0][1].as_deref(), Some("v001_once_initialDDL"));
    assert!(cells.iter().all(|c| c[2].as_deref() == Some("EXECUTED")));
    // Nothing `_once_` is left to run; the v002 view cells are idempotent and run every time.
    let pending = work.query(
        "SELECT cell_name FROM code_notebook_sql_cell_migratable_not_executed WHERE NOT is_idempotent",
    );
    assert!(pending.is_empty(), "{pending:?}");
    let kernels = work.query("SELECT code_notebook_kernel_id FROM code_notebook_kernel ORDER BY 1");
    assert_eq!(kernels.len(), 5);
    assert_eq!(
        work.query("SELECT code FROM party_type ORDER BY code"),
        [[Some("ORGANIZATION".into())], [Some("PERSON".into())]]
    );
    // Opening again adds no second state row.
    assert_status(&work.rssd(&["init"]), 0);
    assert_eq!(
        work.query("SELECT count(*) FROM code_notebook_state"),
        [[Some("7".to_string())]]
    );
}

#[test]
fn a_surveilr_made_rssd_is_adopted_unchanged() {
    let work = Work::new();
    {
        let conn = rusqlite::Connection::open(work.db_path()).unwrap();
        conn.execute_batch(&reference_schema()).unwrap();
        // surveilr's tables as another tool declared them: same names and columns, its own
        // text (no CHECKs, TEXT everywhere), and a view of its own under a surveilr name.
        for (table, columns) in bootstrap_tables() {
            if rssd::state::TABLES.contains(&table.as_str()) {
                continue;
            }
            let cols: Vec<String> = columns.iter().map(|c| format!("\"{c}\" TEXT")).collect();
            conn.execute_batch(&format!("CREATE TABLE \"{table}\" ({})", cols.join(", ")))
                .unwrap();
        }
        conn.execute_batch(
            "CREATE VIEW code_notebook_cell_latest AS SELECT 'theirs' AS marker;
             INSERT INTO party (party_id, party_type_id, party_name) VALUES ('P1', 'PERSON', 'Theirs');
             INSERT INTO code_notebook_state (code_notebook_state_id, code_notebook_cell_id, from_state, to_state)
                 VALUES ('01J9QW0JXAPGT43Z2T3Z656S16__1', '01J9QW0JXAPGT43Z2T3Z656S16', 'MIGRATION_CANDIDATE', 'EXECUTED');",
        )
        .unwrap();
    }
    let schema = |work: &Work| {
        lines(
            work.db_path(),
            "SELECT name || ': ' || sql FROM sqlite_master WHERE sql IS NOT NULL AND name IN
                 (SELECT name FROM sqlite_master WHERE type IN ('table', 'view')) ORDER BY name",
        )
    };
    let before = schema(&work);
    let csv = work.file("in/a.csv", "id\n1\n");
    assert_status(&work.rssd(&["ingest", text(&csv)]), 0);
    let after = schema(&work);
    let kept: Vec<&String> = after.iter().filter(|line| before.contains(line)).collect();
    assert_eq!(
        kept.len(),
        before.len(),
        "every table and view kept its text"
    );
    assert_eq!(
        work.query("SELECT marker FROM code_notebook_cell_latest"),
        [[Some("theirs".to_string())]]
    );
    assert_eq!(
        work.query("SELECT party_name FROM party WHERE party_id = 'P1'"),
        [[Some("Theirs".to_string())]]
    );
    assert_eq!(
        work.query("SELECT count(*) FROM code_notebook_state WHERE code_notebook_cell_id = '01J9QW0JXAPGT43Z2T3Z656S16'"),
        [[Some("1".to_string())]],
        "surveilr's own EXECUTED state is not doubled"
    );
    assert_eq!(
        work.query("SELECT count(*) FROM uniform_resource"),
        [[Some("1".to_string())]]
    );
}

#[test]
fn ingesting_a_folder_twice_records_each_file_once_and_each_walk_twice() {
    let work = Work::new();
    // Bytes that must come back exactly: Latin-1, CRLF, no final newline.
    let a_bytes: &[u8] = b"id;name\r\n1;Jos\xe9\r\n2;Zo\xeb";
    let b_bytes = "x,y\n1,2\n".as_bytes();
    work.file("in/a.csv", a_bytes);
    work.file("in/sub/b.csv", b_bytes);
    let folder = work.path().join("in");
    assert_status(&work.rssd(&["ingest", text(&folder)]), 0);
    assert_status(&work.rssd(&["ingest", text(&folder)]), 0);
    let conn = work.db();
    let mut stmt = conn
        .prepare(
            "SELECT uri, content_digest, nature, size_bytes, content, last_modified_at
               FROM uniform_resource ORDER BY uri",
        )
        .unwrap();
    let rows: Vec<(String, String, String, i64, Vec<u8>, String)> = stmt
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(rows.len(), 2, "an unchanged file keeps its one row");
    let (uri, digest, nature, size, content, modified) = &rows[0];
    assert!(uri.ends_with("/in/a.csv"), "{uri}");
    // surveilr's digest (SHA-1); rssd's entries keep their SHA-256.
    assert_eq!(digest, &hex(&Sha1::digest(a_bytes)));
    assert_eq!(
        work.query(&format!(
            "SELECT DISTINCT json_extract(elaboration, '$.content_sha256') FROM orchestration_session_entry
              WHERE json_extract(elaboration, '$.uniform_resource_id') =
                    (SELECT uniform_resource_id FROM uniform_resource WHERE uri = '{}')",
            uri.replace('\'', "''")
        )),
        [[Some(hex(&Sha256::digest(a_bytes)))]]
    );
    assert_eq!((nature.as_str(), *size), ("csv", a_bytes.len() as i64));
    assert_eq!(content.as_slice(), a_bytes, "the original bytes");
    assert!(modified.ends_with('Z'), "{modified}");
    assert_eq!(rows[1].4.as_slice(), b_bytes);
    assert_eq!(
        work.query("SELECT count(*), count(DISTINCT ingest_session_id) FROM ur_ingest_session_fs_path_entry"),
        [[Some("4".to_string()), Some("2".to_string())]]
    );
    assert_eq!(
        work.query("SELECT count(*), count(ingest_finished_at) FROM ur_ingest_session"),
        [[Some("2".to_string()), Some("2".to_string())]]
    );
    assert_eq!(
        work.query(
            "SELECT DISTINCT root_path = ?1 FROM ur_ingest_session_fs_path"
                .replace(
                    "?1",
                    &format!("'{}'", std::fs::canonicalize(&folder).unwrap().display())
                )
                .as_str()
        ),
        [[Some("1".to_string())]]
    );
    // Each orchestration entry names its resource.
    let unnamed = work.query(
        "SELECT e.ingest_src FROM orchestration_session_entry e
          LEFT JOIN uniform_resource u
            ON u.uniform_resource_id = json_extract(e.elaboration, '$.uniform_resource_id')
         WHERE u.uniform_resource_id IS NULL",
    );
    assert!(unnamed.is_empty(), "{unnamed:?}");
    // A changed file is a new resource; the old one stays (uniform_resource is append-only).
    work.file("in/a.csv", "id;name\r\n1;Ann\r\n");
    assert_status(&work.rssd(&["ingest", text(&folder)]), 0);
    assert_eq!(
        work.query("SELECT count(*) FROM uniform_resource"),
        [[Some("3".to_string())]]
    );
}

#[test]
fn content_is_left_out_when_told_or_above_the_limit() {
    let work = Work::new();
    let small = work.file("in/small.csv", "a\n1\n");
    let big = work.file("in/big.csv", "a\n1234567890\n");
    assert_status(
        &work.rssd(&[
            "ingest",
            "--store-content-limit",
            "8",
            text(&small),
            text(&big),
        ]),
        0,
    );
    assert_eq!(
        work.query("SELECT size_bytes, length(content) FROM uniform_resource ORDER BY size_bytes"),
        [
            [Some("4".to_string()), Some("4".to_string())],
            [Some("13".to_string()), None]
        ]
    );
    let other = Work::new();
    let csv = other.file("in/c.csv", "a\n1\n");
    assert_status(
        &other.rssd(&["ingest", "--no-store-content", text(&csv)]),
        0,
    );
    assert_eq!(
        other.query("SELECT content_digest IS NOT NULL, content FROM uniform_resource"),
        [[Some("1".to_string()), None]]
    );
    let out = other.rssd(&["ingest", "--store-content-limit", "lots", text(&csv)]);
    assert_status(&out, 2);
    assert!(
        stderr(&out).contains("--store-content-limit"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn tenant_flags_create_the_party_organization_and_device_relation() {
    let work = Work::new();
    let csv = work.file("in/a.csv", "a\n1\n");
    let args = [
        "ingest",
        "--tenant-id",
        "ACME-1",
        "--tenant-name",
        "Acme Clinics",
        text(&csv),
    ];
    assert_status(&work.rssd(&args), 0);
    assert_status(&work.rssd(&args), 0);
    assert_eq!(
        work.query(
            "SELECT p.party_type_id, p.party_name, o.name, count(r.device_id)
               FROM party p JOIN organization o ON o.organization_id = p.party_id
               JOIN device_party_relationship r ON r.party_id = p.party_id
              WHERE p.party_id = 'ACME-1' GROUP BY 1, 2, 3"
        ),
        [[
            Some("ORGANIZATION".into()),
            Some("Acme Clinics".into()),
            Some("Acme Clinics".into()),
            Some("1".into())
        ]]
    );
    let out = work.rssd(&["ingest", "--tenant-name", "No Id", text(&csv)]);
    assert_status(&out, 2);
}

#[test]
fn project_scripts_use_surveilr_tables_as_public_scripts_do() {
    let work = Work::new();
    work.file("in/a.csv", "a\n1\n");
    work.file("in/sub/b.csv", "b\n2\n");
    assert_status(&work.rssd(&["ingest", text(&work.path().join("in"))]), 0);
    let scripts = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/surveilr-scripts"
    );
    let insert = format!("{scripts}/notebook-and-pages.sql");
    assert_status(&work.rssd(&["shell", &insert]), 0);
    assert_eq!(
        work.query(
            "SELECT (SELECT notebook_kernel_id FROM code_notebook_cell WHERE code_notebook_cell_id = 'cell-files-per-session'),
                    (SELECT count(*) FROM sqlpage_files WHERE path = 'project/index.sql'),
                    (SELECT party_type_id FROM party WHERE party_id = 'PARTY-LAB')"
        ),
        [[Some("SQL".into()), Some("1".into()), Some("PERSON".into())]]
    );
    let select = format!("{scripts}/files-by-session.sql");
    let out = work.rssd(&["shell", &select, "--output", "json"]);
    assert_status(&out, 0);
    let rows = json_stdout(&out);
    assert_eq!(rows.as_array().map(Vec::len), Some(2), "{rows}");
    assert_eq!(rows[0]["file"], "a.csv");
    assert_eq!(rows[0]["agent"], "rssd");
    assert_eq!(rows[1]["file"], "sub/b.csv");
    assert_eq!(rows[1]["stored_bytes"], 4);
}
