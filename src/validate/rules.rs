//! SQL rules: `.sql` files whose SELECT statements return the issues to record.
//!
//! Result columns, by name: `issue_type` and `issue_message` (required), `issue_row`,
//! `issue_column`, `invalid_value`, `remediation`, `severity`, `table_name` (optional). A
//! statement that contains `{table}` or uses the parameter `:table` runs once per validated
//! table; a file may limit those tables with a line `-- rssd:tables GLOB [GLOB...]`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use globset::{Glob, GlobMatcher};
use rusqlite::Statement;
use rusqlite::types::ValueRef;

use super::stored::cell_text;
use crate::sql::in_transaction;
use crate::sql::quote_ident;
use crate::state::{Exec, Issue, IssueKind, Session, Severity};
use crate::{Error, Result};

const TABLE_PLACEHOLDER: &str = "{table}";
const TABLE_PARAMETERS: [&str; 3] = [":table", "@table", "$table"];
const TABLES_DIRECTIVE: &str = "-- rssd:tables";

#[derive(Debug, Clone)]
pub struct RuleStatement {
    pub sql: String,
    /// 1-based line of the statement's start in its file.
    pub line: usize,
}

#[derive(Debug, Clone)]
pub struct RuleFile {
    pub path: PathBuf,
    pub statements: Vec<RuleStatement>,
    /// Tables the per-table statements apply to; empty means all.
    pub tables: Vec<GlobMatcher>,
}

#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    pub files: Vec<RuleFile>,
}

impl RuleSet {
    /// Reads each `--rules FILE|GLOB`; a glob that matches nothing or an unreadable file is an
    /// error before anything is written.
    pub fn load(specs: &[String]) -> Result<RuleSet> {
        let mut files = Vec::new();
        for spec in specs {
            let paths = expand(spec)?;
            for path in paths {
                let text = std::fs::read_to_string(&path)
                    .map_err(|err| Error::Invalid(format!("rules {}: {err}", path.display())))?;
                files.push(parse_rule_file(&path, &text)?);
            }
        }
        Ok(RuleSet { files })
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Runs every rule; `tables` are the (entry id, table) pairs validated in this run. Each
    /// run of a statement is an exec row; a statement that fails is a `Script Error` issue
    /// and the others still run.
    pub(crate) fn run(&self, session: &Session, tables: &[(String, String)]) -> Result<()> {
        for file in &self.files {
            for (index, statement) in file.statements.iter().enumerate() {
                let identity = format!("{}#{}", file.path.display(), index + 1);
                let per_table = statement.sql.contains(TABLE_PLACEHOLDER)
                    || uses_table_parameter(&statement.sql);
                if !per_table {
                    run_one(
                        session,
                        &identity,
                        file,
                        statement,
                        &statement.sql,
                        None,
                        tables,
                    )?;
                    continue;
                }
                for (entry_id, table) in tables {
                    if !file.tables.is_empty()
                        && !file.tables.iter().any(|glob| glob.is_match(table))
                    {
                        continue;
                    }
                    let sql = statement
                        .sql
                        .replace(TABLE_PLACEHOLDER, &quote_ident(table));
                    run_one(
                        session,
                        &identity,
                        file,
                        statement,
                        &sql,
                        Some((entry_id, table)),
                        tables,
                    )?;
                }
            }
        }
        Ok(())
    }
}

fn uses_table_parameter(sql: &str) -> bool {
    TABLE_PARAMETERS.iter().any(|p| sql.contains(p))
}

/// A path, or a glob of paths (sorted).
fn expand(spec: &str) -> Result<Vec<PathBuf>> {
    let path = PathBuf::from(spec);
    if path.exists() {
        return Ok(vec![path]);
    }
    if !spec.contains(['*', '?', '[', '{']) {
        return Err(Error::Invalid(format!("rules {spec}: no such file")));
    }
    let glob = Glob::new(spec)
        .map_err(|err| Error::Invalid(format!("rules {spec}: bad glob: {err}")))?
        .compile_matcher();
    // Walk from the glob's literal prefix directory.
    let literal: PathBuf = Path::new(spec)
        .components()
        .take_while(|c| {
            !c.as_os_str()
                .to_string_lossy()
                .contains(['*', '?', '[', '{'])
        })
        .collect();
    let root = if literal.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        literal
    };
    let mut found = Vec::new();
    walk(&root, &mut |candidate| {
        let relative = candidate.strip_prefix("./").unwrap_or(candidate);
        if glob.is_match(relative) || glob.is_match(candidate) {
            found.push(candidate.to_path_buf());
        }
    })?;
    found.sort();
    if found.is_empty() {
        return Err(Error::Invalid(format!("rules {spec}: no file matches")));
    }
    Ok(found)
}

fn walk(dir: &Path, visit: &mut dyn FnMut(&Path)) -> Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(_) => return Ok(()),
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, visit)?;
        } else {
            visit(&path);
        }
    }
    Ok(())
}

fn parse_rule_file(path: &Path, text: &str) -> Result<RuleFile> {
    let mut tables = Vec::new();
    for line in text.lines() {
        if let Some(globs) = line.trim().strip_prefix(TABLES_DIRECTIVE) {
            for glob in globs.split([' ', ',']).filter(|g| !g.is_empty()) {
                let matcher = Glob::new(glob)
                    .map_err(|err| {
                        Error::Invalid(format!(
                            "rules {}: bad table glob {glob:?}: {err}",
                            path.display()
                        ))
                    })?
                    .compile_matcher();
                tables.push(matcher);
            }
        }
    }
    Ok(RuleFile {
        path: path.to_path_buf(),
        statements: split_statements(text),
        tables,
    })
}

/// Splits SQL text at `;` outside quotes and comments; drops statements that are only
/// comments or blank.
pub fn split_statements(text: &str) -> Vec<RuleStatement> {
    let bytes = text.as_bytes();
    let mut statements = Vec::new();
    let mut start = 0;
    let mut i = 0;
    let mut push = |from: usize, to: usize| {
        let sql = text[from..to].trim();
        if has_code(sql) {
            let leading = text[from..to].len() - text[from..to].trim_start().len();
            let line = text[..from + leading].matches('\n').count() + 1;
            statements.push(RuleStatement {
                sql: sql.to_string(),
                line,
            });
        }
    };
    while i < bytes.len() {
        match bytes[i] {
            quote @ (b'\'' | b'"' | b'`') => {
                i += 1;
                while i < bytes.len() && bytes[i] != quote {
                    i += 1;
                }
            }
            b'[' => {
                while i < bytes.len() && bytes[i] != b']' {
                    i += 1;
                }
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < bytes.len() && !(bytes[i] == b'*' && bytes[i + 1] == b'/') {
                    i += 1;
                }
                i += 1;
            }
            b';' => {
                push(start, i);
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    if start < text.len() {
        push(start, text.len());
    }
    statements
}

/// Whether SQL text has anything besides comments and whitespace.
fn has_code(sql: &str) -> bool {
    let mut rest = sql.trim_start();
    loop {
        if let Some(after) = rest.strip_prefix("--") {
            rest = after
                .split_once('\n')
                .map(|(_, r)| r)
                .unwrap_or("")
                .trim_start();
        } else if let Some(after) = rest.strip_prefix("/*") {
            rest = after
                .split_once("*/")
                .map(|(_, r)| r)
                .unwrap_or("")
                .trim_start();
        } else {
            return !rest.is_empty();
        }
    }
}

/// The columns a rule's result may have, by position in the result (None when absent).
struct ResultColumns {
    issue_type: usize,
    issue_message: usize,
    issue_row: Option<usize>,
    issue_column: Option<usize>,
    invalid_value: Option<usize>,
    remediation: Option<usize>,
    severity: Option<usize>,
    table_name: Option<usize>,
}

impl ResultColumns {
    fn find(statement: &Statement) -> std::result::Result<ResultColumns, String> {
        let names: Vec<String> = statement
            .column_names()
            .map(|n| n.to_ascii_lowercase())
            .collect();
        let position = |name: &str| names.iter().position(|n| n == name);
        let required = |name: &str| {
            position(name).ok_or_else(|| {
                format!(
                    "the rule's result has no {name} column (it has: {})",
                    names.join(", ")
                )
            })
        };
        Ok(ResultColumns {
            issue_type: required("issue_type")?,
            issue_message: required("issue_message")?,
            issue_row: position("issue_row"),
            issue_column: position("issue_column"),
            invalid_value: position("invalid_value"),
            remediation: position("remediation"),
            severity: position("severity"),
            table_name: position("table_name"),
        })
    }
}

/// Runs one statement (for one table, or for the session) and records its exec row and
/// issues; a failure rolls back its partial issues and records a `Script Error`.
fn run_one(
    session: &Session,
    identity: &str,
    file: &RuleFile,
    statement: &RuleStatement,
    sql: &str,
    table: Option<(&String, &String)>,
    tables: &[(String, String)],
) -> Result<()> {
    let conn = session.conn();
    let started = Instant::now();
    let entry_id = table.map(|(entry, _)| entry.as_str());
    // A rule that stops half-way rolls back its issues: all or nothing.
    let mut failure = None;
    let result = in_transaction(conn, || {
        execute(session, identity, sql, table, tables).map_err(|reason| {
            failure = Some(reason);
            Error::Invalid("rule failed".to_string())
        })
    });
    let outcome = result.map_err(|err| failure.take().unwrap_or_else(|| err.to_string()));
    let mut exec = Exec::new("sql-rule", sql).duration(started.elapsed());
    exec.identity = Some(identity.to_string());
    exec.namespace = Some("validate".to_string());
    exec.entry_id = entry_id.map(str::to_string);
    exec.elaboration = Some(serde_json::json!({
        "rule_file": file.path.display().to_string(),
        "line": statement.line,
        "table": table.map(|(_, t)| t.clone()),
    }));
    match &outcome {
        Ok(rows) => {
            exec.status = 0;
            exec.output = Some(rows.to_string());
            exec.output_nature = Some(serde_json::json!({"row_count": rows}));
        }
        Err(reason) => {
            exec.status = 1;
            exec.error = Some(reason.clone());
        }
    }
    let exec_id = session.exec(&exec)?;
    if let Err(reason) = outcome {
        let mut issue = Issue::new(IssueKind::ScriptError, format!("SQL rule {identity} (line {}) failed: {reason}", statement.line))
            .remediation(format!("Fix the statement at line {} of {} so that it runs as a SELECT returning issue_type and issue_message", statement.line, file.path.display()))
            .with("rule", identity.to_string())
            .with("exec_id", exec_id);
        if let Some(entry) = entry_id {
            issue = issue.entry(entry);
        }
        if let Some((_, table)) = table {
            issue = issue.with("table", table.clone());
        }
        session.issue(&issue)?;
    }
    Ok(())
}

/// Prepares and runs the statement, recording one issue per result row; returns the count.
fn execute(
    session: &Session,
    identity: &str,
    sql: &str,
    table: Option<(&String, &String)>,
    tables: &[(String, String)],
) -> std::result::Result<i64, String> {
    let conn = session.conn();
    let mut statement = conn.prepare(sql).map_err(|err| err.to_string())?;
    if !statement.readonly() {
        return Err("a rule must be a SELECT (read-only) statement; this one would change the database, so it was not run".to_string());
    }
    for index in 1..=statement.parameter_count() {
        let name = statement.parameter_name(index).unwrap_or("?").to_string();
        match (TABLE_PARAMETERS.contains(&name.as_str()), table) {
            (true, Some((_, table))) => statement
                .raw_bind_parameter(index, table.as_str())
                .map_err(|err| err.to_string())?,
            _ => {
                return Err(format!(
                    "unknown parameter {name}: only :table is bound (to each validated table's name)"
                ));
            }
        }
    }
    let columns = ResultColumns::find(&statement)?;
    let mut rows = statement.raw_query();
    let mut count = 0;
    let mut buffer = String::new();
    while let Some(row) = rows.next().map_err(|err| err.to_string())? {
        let mut get = |index: Option<usize>| -> Option<String> {
            match row.get_ref(index?).ok()? {
                ValueRef::Null => None,
                value => Some(cell_text(value, &mut buffer).to_string()),
            }
        };
        let issue_type = get(Some(columns.issue_type))
            .unwrap_or_else(|| IssueKind::RuleViolation.issue_type().to_string());
        let message = get(Some(columns.issue_message))
            .unwrap_or_else(|| format!("rule {identity} reported a row"));
        let mut issue = Issue::custom(issue_type, IssueKind::RuleViolation.code(), message)
            .with("rule", identity.to_string());
        if let Some(row_number) = get(columns.issue_row) {
            issue = match row_number.trim().parse::<i64>() {
                Ok(n) => issue.row(n),
                Err(_) => issue.with("issue_row_text", row_number),
            };
        }
        if let Some(column) = get(columns.issue_column) {
            issue = issue.column(column);
        }
        if let Some(value) = get(columns.invalid_value) {
            issue = issue.invalid_value(value);
        }
        // Every issue gets a remediation; a rule that gives none points at itself.
        let remediation = get(columns.remediation).unwrap_or_else(|| {
            format!("Correct the data that rule {identity} reports (its SQL says what it expects)")
        });
        issue = issue.remediation(remediation);
        if let Some(severity) = get(columns.severity) {
            issue = issue.severity(Severity::parse(&severity).unwrap_or(Severity::Error));
        }
        let named = get(columns.table_name);
        let entry = match named.as_deref() {
            Some(name) => tables
                .iter()
                .find(|(_, t)| t.eq_ignore_ascii_case(name))
                .map(|(e, _)| e.as_str()),
            None => table.map(|(e, _)| e.as_str()),
        };
        if let Some(entry) = entry {
            issue = issue.entry(entry);
        }
        if let Some(name) = named {
            issue = issue.with("table_name", name);
        }
        if let Some((_, table)) = table {
            issue = issue.with("table", table.clone());
        }
        session.issue(&issue).map_err(|err| err.to_string())?;
        count += 1;
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_semicolons_outside_quotes_and_comments() {
        let text = "-- header; comment\nSELECT ';' AS a;\n/* x; y */ SELECT \"b;\" FROM t -- c;\n;\n\n-- only a comment;\n";
        let statements = split_statements(text);
        let sql: Vec<&str> = statements.iter().map(|s| s.sql.as_str()).collect();
        assert_eq!(
            sql,
            [
                "-- header; comment\nSELECT ';' AS a",
                "/* x; y */ SELECT \"b;\" FROM t -- c;"
            ]
        );
        assert_eq!(statements[0].line, 1);
        assert_eq!(statements[1].line, 3);
    }
}
