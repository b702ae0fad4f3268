-- The ingest views of surveilr's v002 cells, rssd's own SQL for the same names and meaning:
-- what each ingest session walked, per file extension, and the files it had trouble with.

CREATE VIEW IF NOT EXISTS "ur_ingest_session_files_stats" AS
SELECT s.device_id, s.ur_ingest_session_id AS ingest_session_id,
       s.ingest_started_at AS ingest_session_started_at,
       s.ingest_finished_at AS ingest_session_finished_at,
       e.file_extn AS file_extension,
       p.ur_ingest_session_fs_path_id AS ingest_session_fs_path_id,
       p.root_path AS ingest_session_root_fs_path,
       count(e.file_path_abs) AS total_file_count,
       sum(CASE WHEN u.content IS NOT NULL THEN 1 ELSE 0 END) AS file_count_with_content,
       sum(CASE WHEN u.frontmatter IS NOT NULL THEN 1 ELSE 0 END) AS file_count_with_frontmatter,
       min(u.size_bytes) AS min_file_size_bytes,
       avg(u.size_bytes) AS average_file_size_bytes,
       max(u.size_bytes) AS max_file_size_bytes,
       min(u.last_modified_at) AS oldest_file_last_modified_datetime,
       max(u.last_modified_at) AS youngest_file_last_modified_datetime
  FROM ur_ingest_session s
  JOIN device d ON d.device_id = s.device_id
  LEFT JOIN ur_ingest_session_fs_path p ON p.ingest_session_id = s.ur_ingest_session_id
  LEFT JOIN ur_ingest_session_fs_path_entry e ON e.ingest_fs_path_id = p.ur_ingest_session_fs_path_id
  LEFT JOIN uniform_resource u ON u.uniform_resource_id = e.uniform_resource_id
 GROUP BY s.device_id, s.ur_ingest_session_id, s.ingest_started_at, s.ingest_finished_at,
          e.file_extn, p.ur_ingest_session_fs_path_id, p.root_path;

CREATE VIEW IF NOT EXISTS "ur_ingest_session_files_stats_latest" AS
SELECT f.*
  FROM ur_ingest_session_files_stats f
 WHERE f.ingest_session_id = (SELECT ur_ingest_session_id FROM ur_ingest_session
                               ORDER BY ingest_started_at DESC, rowid DESC LIMIT 1);

CREATE VIEW IF NOT EXISTS "ur_ingest_session_tasks_stats" AS
SELECT s.device_id, s.ur_ingest_session_id AS ingest_session_id,
       s.ingest_started_at AS ingest_session_started_at,
       s.ingest_finished_at AS ingest_session_finished_at,
       t.ur_status AS task_ur_status,
       u.nature AS task_ur_nature,
       count(t.captured_executable) AS total_task_count,
       sum(CASE WHEN u.content IS NOT NULL THEN 1 ELSE 0 END) AS task_count_with_content,
       min(u.size_bytes) AS min_task_content_size_bytes,
       avg(u.size_bytes) AS average_task_content_size_bytes,
       max(u.size_bytes) AS max_task_content_size_bytes
  FROM ur_ingest_session s
  JOIN device d ON d.device_id = s.device_id
  LEFT JOIN ur_ingest_session_task t ON t.ingest_session_id = s.ur_ingest_session_id
  LEFT JOIN uniform_resource u ON u.uniform_resource_id = t.uniform_resource_id
 GROUP BY s.device_id, s.ur_ingest_session_id, s.ingest_started_at, s.ingest_finished_at,
          t.ur_status, u.nature;

CREATE VIEW IF NOT EXISTS "ur_ingest_session_tasks_stats_latest" AS
SELECT t.*
  FROM ur_ingest_session_tasks_stats t
 WHERE t.ingest_session_id = (SELECT ur_ingest_session_id FROM ur_ingest_session
                               ORDER BY ingest_started_at DESC, rowid DESC LIMIT 1);

CREATE VIEW IF NOT EXISTS "ur_ingest_session_file_issue" AS
SELECT s.device_id, s.ur_ingest_session_id AS ingest_session_id,
       p.ur_ingest_session_fs_path_id AS ingest_session_fs_path_id,
       p.root_path, e.ur_ingest_session_fs_path_entry_id, e.file_path_abs,
       e.ur_status, e.ur_diagnostics
  FROM ur_ingest_session s
  JOIN ur_ingest_session_fs_path p ON p.ingest_session_id = s.ur_ingest_session_id
  JOIN ur_ingest_session_fs_path_entry e ON e.ingest_fs_path_id = p.ur_ingest_session_fs_path_id
 WHERE e.ur_status IS NOT NULL;
