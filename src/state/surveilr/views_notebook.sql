-- The notebook views surveilr's bootstrap creates, rssd's own SQL for the same names and
-- meaning. CREATE VIEW IF NOT EXISTS: a view already there (surveilr's) is kept as it is.
-- A cell is migratable when it is SQL in ConstructionSqlNotebook; a `_once_` cell runs once,
-- the others every time; each run is a code_notebook_state row MIGRATION_CANDIDATE -> EXECUTED.

CREATE VIEW IF NOT EXISTS "code_notebook_cell_versions" AS
SELECT notebook_name, notebook_kernel_id, cell_name,
       count(*) OVER (PARTITION BY notebook_name, cell_name) AS versions,
       code_notebook_cell_id
  FROM code_notebook_cell
 ORDER BY notebook_name, cell_name;

CREATE VIEW IF NOT EXISTS "code_notebook_cell_latest" AS
SELECT code_notebook_cell_id, notebook_kernel_id, notebook_name, cell_name, description,
       cell_governance, interpretable_code, interpretable_code_hash, arguments, activity_log,
       versions
  FROM (SELECT *,
               count(*) OVER (PARTITION BY notebook_name, cell_name) AS versions,
               row_number() OVER (PARTITION BY notebook_name, cell_name
                                  ORDER BY coalesce(updated_at, created_at) DESC, rowid DESC) AS newest
          FROM code_notebook_cell)
 WHERE newest = 1;

CREATE VIEW IF NOT EXISTS "code_notebook_sql_cell_migratable_version" AS
SELECT code_notebook_cell_id, notebook_name, cell_name, interpretable_code,
       interpretable_code_hash,
       instr(cell_name, '_once_') = 0 AS is_idempotent,
       coalesce(updated_at, created_at) AS version_timestamp,
       row_number() OVER (PARTITION BY notebook_name, cell_name
                          ORDER BY coalesce(updated_at, created_at) DESC, rowid DESC) AS newest
  FROM code_notebook_cell
 WHERE notebook_kernel_id = 'SQL' AND notebook_name = 'ConstructionSqlNotebook';

CREATE VIEW IF NOT EXISTS "code_notebook_sql_cell_migratable" AS
SELECT code_notebook_cell_id, notebook_name, cell_name, interpretable_code,
       interpretable_code_hash, is_idempotent, version_timestamp
  FROM code_notebook_sql_cell_migratable_version
 WHERE newest = 1;

CREATE VIEW IF NOT EXISTS "code_notebook_sql_cell_migratable_state" AS
SELECT m.code_notebook_cell_id, m.notebook_name, m.cell_name, m.interpretable_code,
       m.interpretable_code_hash, m.is_idempotent, m.version_timestamp,
       s.from_state, s.to_state, s.transition_result, s.transition_reason, s.transitioned_at
  FROM code_notebook_sql_cell_migratable m
  JOIN code_notebook_state s ON s.code_notebook_cell_id = m.code_notebook_cell_id;

CREATE VIEW IF NOT EXISTS "code_notebook_sql_cell_migratable_not_executed" AS
SELECT m.code_notebook_cell_id, m.notebook_name, m.cell_name, m.interpretable_code,
       m.interpretable_code_hash, m.is_idempotent, m.version_timestamp
  FROM code_notebook_sql_cell_migratable m
 WHERE m.is_idempotent
    OR NOT EXISTS (SELECT 1 FROM code_notebook_state s
                    WHERE s.code_notebook_cell_id = m.code_notebook_cell_id
                      AND s.to_state = 'EXECUTED');

-- One script that runs every cell still to run and records each run; NULL when none is left.
CREATE VIEW IF NOT EXISTS "code_notebook_migration_sql" AS
SELECT 'BEGIN TRANSACTION;' || char(10) ||
       group_concat(
         '-- ' || notebook_name || '.' || cell_name || char(10) || interpretable_code || char(10) ||
         'INSERT OR IGNORE INTO code_notebook_state (code_notebook_state_id, code_notebook_cell_id, from_state, to_state, transition_reason) VALUES (' ||
         quote(code_notebook_cell_id || '__' || strftime('%Y%m%d%H%M%S', 'now')) || ', ' ||
         quote(code_notebook_cell_id) || ', ''MIGRATION_CANDIDATE'', ''EXECUTED'', ''Migration'');',
         char(10)) || char(10) || 'COMMIT;' AS migration_sql
  FROM code_notebook_sql_cell_migratable_not_executed
HAVING count(*) > 0;
