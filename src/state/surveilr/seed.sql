-- Seed rows scripts rely on: the notebook kernels, the party types, and the path rules an
-- ingest reads. INSERT OR IGNORE: a row already there (surveilr's, or edited) is kept.

INSERT OR IGNORE INTO "code_notebook_kernel" ("code_notebook_kernel_id", "kernel_name", "description", "mime_type", "file_extn", "created_by") VALUES
    ('Documentation', 'Documentation', 'Markdown documentation', 'text/markdown', '.md', 'rssd'),
    ('SQL', 'Dialect-independent ANSI SQL', 'SQL statements', 'application/sql', '.sql', 'rssd'),
    ('AI LLM Prompt', 'AI LLM Prompt', 'A prompt for a large language model', 'text/plain', '.llm-prompt.txt', 'rssd'),
    ('Text Asset (.puml)', 'Text Asset (.puml)', 'PlantUML text', 'text/plain', '.puml', 'rssd'),
    ('Text Asset (.rs)', 'Text Asset (.rs)', 'Rust source text', 'text/plain', '.rs', 'rssd');

INSERT OR IGNORE INTO "party_type" ("code", "value") VALUES
    ('ORGANIZATION', 'Organization'),
    ('PERSON', 'Person');

INSERT OR IGNORE INTO "ur_ingest_resource_path_match_rule" ("ur_ingest_resource_path_match_rule_id", "namespace", "regex", "flags", "nature", "description", "created_by") VALUES
    ('ignore .git and node_modules paths', 'default', '/(\.git|node_modules)/', 'IGNORE_RESOURCE', NULL, 'Ignore any entry with `/.git/` or `/node_modules/` in its path.', 'rssd'),
    ('typical ingestion extensions', 'default', '\.(?P<nature>md|mdx|html|json|jsonc|puml|txt|toml|yml|xml|tap|csv|tsv|ssv|psv|tm7)$', 'CONTENT_ACQUIRABLE', '?P<nature>', 'Ingest the content of files with these extensions; the extension is the nature.', 'rssd'),
    ('surveilr-[NATURE] style capturable executable', 'default', 'surveilr\[(?P<nature>[^\]]*)\]', 'CAPTURABLE_EXECUTABLE', '?P<nature>', 'Run executables named surveilr[NATURE] and keep their output as that nature.', 'rssd'),
    ('surveilr-SQL capturable executable', 'default', 'surveilr-SQL', 'CAPTURABLE_EXECUTABLE | CAPTURABLE_SQL', NULL, 'Run executables named surveilr-SQL and run their output as SQL.', 'rssd');

INSERT OR IGNORE INTO "ur_ingest_resource_path_rewrite_rule" ("ur_ingest_resource_path_rewrite_rule_id", "namespace", "regex", "replace", "description", "created_by") VALUES
    ('.plantuml -> .puml', 'default', '(\.plantuml)$', '.puml', NULL, 'rssd'),
    ('.text -> .txt', 'default', '(\.text)$', '.txt', NULL, 'rssd'),
    ('.yaml -> .yml', 'default', '(\.yaml)$', '.yml', NULL, 'rssd');
