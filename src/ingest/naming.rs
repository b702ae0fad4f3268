//! Table and column names.
//!
//! Tables: the file name without its last extension (plus `_<sheet>`), lower-cased, every run
//! of characters outside `[a-z0-9_]` replaced by `_`, trimmed of `_`, `_` in front of a leading
//! digit, then the prefix (`_` in front of `sqlite_`, which SQLite reserves). Names already
//! taken in the run and the RSSD's own tables get `_2`, `_3`, ...
//! Columns: the header trimmed of whitespace (BOM and no-break spaces too); a blank header
//! becomes `column_<n>`, a repeated one (SQLite compares names without case) gets `_2`, ...

use std::collections::HashSet;

use crate::state::{Issue, IssueKind, Severity, is_rssd_table};

/// The base table name of a source, before the prefix and de-duplication.
pub fn table_base_name(stem: &str) -> String {
    let lower = stem.to_lowercase();
    let mut name = String::with_capacity(lower.len());
    let mut in_run = false;
    for ch in lower.chars() {
        if ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_' {
            name.push(ch);
            in_run = false;
        } else if !in_run {
            name.push('_');
            in_run = true;
        }
    }
    let trimmed = name.trim_matches('_');
    if trimmed.is_empty() {
        return "table".to_string();
    }
    if trimmed.starts_with(|c: char| c.is_ascii_digit()) {
        format!("_{trimmed}")
    } else {
        trimmed.to_string()
    }
}

/// The table names claimed in one run.
#[derive(Debug, Default)]
pub struct TableNames {
    taken: HashSet<String>,
}

impl TableNames {
    /// Claims `prefix + base`, or the first free `_2`, `_3`, ... variant of it.
    pub fn claim(&mut self, prefix: &str, base: &str) -> String {
        let mut wanted = format!("{prefix}{base}");
        // SQLite reserves names starting with sqlite_ for itself.
        if wanted.to_ascii_lowercase().starts_with("sqlite_") {
            wanted.insert(0, '_');
        }
        let free = |name: &str, taken: &HashSet<String>| {
            let lower = name.to_ascii_lowercase();
            !taken.contains(&lower) && !is_rssd_table(&lower)
        };
        let mut name = wanted.clone();
        let mut n = 2;
        while !free(&name, &self.taken) {
            name = format!("{wanted}_{n}");
            n += 1;
        }
        self.taken.insert(name.to_ascii_lowercase());
        name
    }
}

/// Trims whitespace, byte order marks and no-break spaces.
pub fn trim_header(header: &str) -> &str {
    header.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}' || c == '\u{a0}')
}

/// Column names for these headers, and the issues the renaming raises (without an entry).
pub fn column_names(headers: &[String]) -> (Vec<String>, Vec<Issue>) {
    column_names_reserving(headers, &[])
}

/// As [`column_names`], treating `reserved` (the provenance columns) as taken already.
pub fn column_names_reserving(headers: &[String], reserved: &[&str]) -> (Vec<String>, Vec<Issue>) {
    let mut names = Vec::with_capacity(headers.len());
    let mut issues = Vec::new();
    let mut taken: HashSet<String> = reserved.iter().map(|r| r.to_ascii_lowercase()).collect();
    // Blank headers first take their place names, so a later literal `column_2` is the duplicate.
    for (i, header) in headers.iter().enumerate() {
        let trimmed = trim_header(header);
        let base = if trimmed.is_empty() {
            let name = format!("column_{}", i + 1);
            issues.push(
                Issue::new(
                    IssueKind::BlankHeader,
                    format!("header of column {} is blank; named it {name}", i + 1),
                )
                .column(name.clone())
                .severity(Severity::Warning)
                .remediation("give every column a header")
                .with("position", i + 1),
            );
            name
        } else {
            trimmed.to_string()
        };
        let mut name = base.clone();
        let mut n = 2;
        while taken.contains(&name.to_ascii_lowercase()) {
            name = format!("{base}_{n}");
            n += 1;
        }
        if name != base {
            issues.push(
                Issue::new(
                    IssueKind::DuplicateHeader,
                    format!(
                        "header \"{base}\" of column {} repeats an earlier one; named it {name}",
                        i + 1
                    ),
                )
                .column(name.clone())
                .invalid_value(header.clone())
                .severity(Severity::Warning)
                .remediation("give every column a distinct header")
                .with("position", i + 1),
            );
        }
        taken.insert(name.to_ascii_lowercase());
        names.push(name);
    }
    (names, issues)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_follow_the_rules() {
        assert_eq!(
            table_base_name("Patients 2024 (Final)"),
            "patients_2024_final"
        );
        assert_eq!(table_base_name("2024-visits"), "_2024_visits");
        assert_eq!(table_base_name("__a__"), "a");
        assert_eq!(table_base_name("Ünïcode"), "n_code");
        assert_eq!(table_base_name("!!!"), "table");
        let mut names = TableNames::default();
        assert_eq!(names.claim("", "a"), "a");
        assert_eq!(names.claim("", "A"), "A_2");
        assert_eq!(names.claim("", "device"), "device_2");
        assert_eq!(
            names.claim("uniform_resource_", "device"),
            "uniform_resource_device"
        );
        assert_eq!(names.claim("", "sqlite_x"), "_sqlite_x");
    }

    #[test]
    fn blank_and_duplicate_headers_are_renamed_with_issues() {
        let headers: Vec<String> = ["\u{feff} id ", "", "Name", "name", "\u{a0}"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let (names, issues) = column_names(&headers);
        assert_eq!(names, ["id", "column_2", "Name", "name_2", "column_5"]);
        let kinds: Vec<&str> = issues.iter().map(|i| i.issue_type.as_str()).collect();
        assert_eq!(kinds, ["Blank Header", "Duplicate Header", "Blank Header"]);
        let (names, issues) = column_names_reserving(&["_rssd_row".to_string()], &["_rssd_row"]);
        assert_eq!(names, ["_rssd_row_2"]);
        assert_eq!(issues.len(), 1);
    }
}
