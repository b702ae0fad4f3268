//! The diagnostics as a Markdown document a person could attach to an email. Also what the
//! session stores in `diagnostics_md`.
//!
//! Names and values from files go into code spans; free text is backslash-escaped, so
//! nothing from the data can become a link, a table break or raw HTML.

use std::fmt::Write;

use super::drift::DeliveryChanges;
use super::{Diagnostics, EntryDiagnostics, IssueBrief, IssueDigest};

/// Renders the whole document.
pub fn render(d: &Diagnostics) -> String {
    let mut md = String::new();
    // Writing to a String cannot fail.
    let _ = write_document(d, &mut md);
    md
}

fn write_document(d: &Diagnostics, md: &mut String) -> std::fmt::Result {
    write_facts(d, md)?;
    write_summary(d, md)?;
    write_entry_table(d, md)?;
    for (n, e) in d.entries.iter().enumerate() {
        write_entry(d, n, e, md)?;
    }
    let s = &d.session;
    if !d.session_issues.issues_by_type.is_empty() {
        writeln!(md, "\n## Issues of the session (not tied to an entry)")?;
        write_digest(md, &d.session_issues, &s.session_id, None)?;
    }
    Ok(())
}

/// The session's facts, as a two-column table.
fn write_facts(d: &Diagnostics, md: &mut String) -> std::fmt::Result {
    let s = &d.session;
    writeln!(md, "# rssd session report\n")?;
    writeln!(md, "| | |\n|---|---|")?;
    writeln!(md, "| session | {} |", code(&s.session_id))?;
    writeln!(md, "| nature | {} |", code(&s.nature))?;
    writeln!(
        md,
        "| state | **{}**{} |",
        text(&s.state),
        s.state_reason
            .as_deref()
            .map(|r| format!(": {}", text(r)))
            .unwrap_or_default()
    )?;
    writeln!(md, "| started | {} |", or_dash(s.started_at.as_deref()))?;
    writeln!(md, "| finished | {} |", or_dash(s.finished_at.as_deref()))?;
    writeln!(md, "| duration | {} |", duration(d.summary.duration_s))?;
    writeln!(md, "| device | {} |", device_line(d))?;
    writeln!(md, "| rssd version | {} |", text(&s.version))?;

    Ok(())
}

/// Counts of everything, issues by type and entries by state.
fn write_summary(d: &Diagnostics, md: &mut String) -> std::fmt::Result {
    let m = &d.summary;
    writeln!(md, "\n## Summary\n")?;
    writeln!(
        md,
        "{}, {}, {} loaded; {} ({}, {}); {} run ({} failed).",
        counted(m.entries, "entry", "entries"),
        counted(m.tables, "table", "tables"),
        counted(m.rows.max(0) as usize, "row", "rows"),
        counted(m.issues, "issue", "issues"),
        counted(
            m.issues_by_severity.get("error").copied().unwrap_or(0),
            "error",
            "errors"
        ),
        counted(
            m.issues_by_severity.get("warning").copied().unwrap_or(0),
            "warning",
            "warnings"
        ),
        counted(m.execs, "statement", "statements"),
        m.execs_failed
    )?;
    if m.scripts.total > 0 {
        writeln!(
            md,
            "\nScripts: {} run, {} completed, {} failed.",
            m.scripts.total, m.scripts.completed, m.scripts.failed
        )?;
    }
    if !m.issues_by_type.is_empty() {
        writeln!(md, "\n| issue type | count |\n|---|---:|")?;
        let mut by_count: Vec<_> = m.issues_by_type.iter().collect();
        by_count.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        for (kind, count) in by_count {
            writeln!(md, "| {} | {} |", text(kind), count)?;
        }
    }
    if !m.entries_by_state.is_empty() {
        writeln!(md, "\n| entry state | count |\n|---|---:|")?;
        for (state, count) in &m.entries_by_state {
            writeln!(md, "| {} | {} |", text(state), count)?;
        }
    }

    Ok(())
}

/// One line per entry.
fn write_entry_table(d: &Diagnostics, md: &mut String) -> std::fmt::Result {
    let s = &d.session;
    if !d.entries.is_empty() {
        writeln!(md, "\n## Entries\n")?;
        writeln!(
            md,
            "| # | source | table | state | rows | issues | errors | warnings |\n|---:|---|---|---|---:|---:|---:|---:|"
        )?;
        for (n, e) in d.entries.iter().enumerate() {
            let severity = &e.issue_digest.issues_by_severity;
            writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                n + 1,
                code(&e.entry.source),
                e.entry.table.as_deref().map(code).unwrap_or("-".into()),
                text(&e.entry.state),
                e.entry
                    .rows
                    .map(|r| r.to_string())
                    .unwrap_or_else(|| "-".into()),
                e.entry.issues,
                severity.get("error").copied().unwrap_or(0),
                severity.get("warning").copied().unwrap_or(0),
            )?;
        }
        if d.entries_not_listed > 0 {
            writeln!(
                md,
                "\n…and {} more entries (`rssd show {}` lists them all).",
                d.entries_not_listed, s.session_id
            )?;
        }
    }

    Ok(())
}

/// One entry in detail: its facts, states and issues.
fn write_entry(
    d: &Diagnostics,
    n: usize,
    e: &EntryDiagnostics,
    md: &mut String,
) -> std::fmt::Result {
    let s = &d.session;
    writeln!(md, "\n### {}. {}\n", n + 1, code(&e.entry.source))?;
    writeln!(md, "- entry: {}", code(&e.entry.entry_id))?;
    if let Some(table) = &e.entry.table {
        writeln!(md, "- table: {}", code(table))?;
    }
    writeln!(
        md,
        "- state: **{}** (from {} to {})",
        text(&e.entry.state),
        or_dash(e.started_at.as_deref()),
        or_dash(e.finished_at.as_deref())
    )?;
    if let Some(rows) = e.entry.rows {
        writeln!(md, "- rows: {rows}")?;
    }
    if e.execs > 0 {
        writeln!(
            md,
            "- statements run: {} ({} failed)",
            e.execs, e.execs_failed
        )?;
    }
    if let Some(script) = &e.script {
        writeln!(
            md,
            "- script outcome: **{}**{}",
            text(&script.outcome),
            script
                .error
                .as_deref()
                .map(|err| format!(": {}", text(err)))
                .unwrap_or_default()
        )?;
    }
    if !e.states.is_empty() {
        writeln!(md, "\n| from | to | at | reason |\n|---|---|---|---|")?;
        for st in &e.states {
            writeln!(
                md,
                "| {} | {} | {} | {} |",
                text(&st.from),
                text(&st.to),
                or_dash(st.at.as_deref()),
                st.reason.as_deref().map(text).unwrap_or_default()
            )?;
        }
        if e.states_not_listed > 0 {
            writeln!(md, "\n…and {} more state changes.", e.states_not_listed)?;
        }
    }
    if let Some(changes) = &e.changes_since_last_delivery {
        write_delivery_changes(md, changes)?;
    }
    write_digest(md, &e.issue_digest, &s.session_id, Some(&e.entry.entry_id))?;
    Ok(())
}

fn write_delivery_changes(md: &mut String, d: &DeliveryChanges) -> std::fmt::Result {
    writeln!(md, "\n#### Changes since the last delivery\n")?;
    let key = d.key.as_deref().unwrap_or("table");
    if d.first_delivery {
        return writeln!(
            md,
            "First delivery (no earlier load of this {}).",
            text(key)
        );
    }
    writeln!(
        md,
        "Compared with entry {} of session {} (same {}): {} rows then, {} now.",
        d.previous_entry_id
            .as_deref()
            .map(code)
            .unwrap_or("-".into()),
        d.previous_session_id
            .as_deref()
            .map(code)
            .unwrap_or("-".into()),
        text(key),
        d.previous_rows.map(|r| r.to_string()).unwrap_or("-".into()),
        d.rows.map(|r| r.to_string()).unwrap_or("-".into()),
    )?;
    if d.changes.is_empty() {
        return writeln!(md, "\nNo changes.");
    }
    writeln!(
        md,
        "\n| change | column | before | now |\n|---|---|---|---|"
    )?;
    for c in &d.changes {
        writeln!(
            md,
            "| {} | {} | {} | {} |",
            text(&c.code),
            c.column.as_deref().map(code).unwrap_or_default(),
            or_dash(c.before.as_deref()),
            or_dash(c.now.as_deref()),
        )?;
    }
    if d.changes_not_listed > 0 {
        writeln!(md, "\n…and {} more changes.", d.changes_not_listed)?;
    }
    Ok(())
}

fn write_digest(
    md: &mut String,
    digest: &IssueDigest,
    session_id: &str,
    entry_id: Option<&str>,
) -> std::fmt::Result {
    if digest.issues_by_type.is_empty() {
        return Ok(());
    }
    let counts: Vec<String> = digest
        .issues_by_type
        .iter()
        .map(|(kind, count)| format!("{} {}", text(kind), count))
        .collect();
    writeln!(md, "\nIssues by type: {}.\n", counts.join(", "))?;
    write_issue_table(md, &digest.first_issues)?;
    if digest.issues_not_listed > 0 {
        let filter = entry_id
            .map(|id| format!(" --entry {id}"))
            .unwrap_or_default();
        writeln!(
            md,
            "\n…and {} more issues (`rssd issues {session_id}{filter}` lists them all).",
            digest.issues_not_listed
        )?;
    }
    Ok(())
}

fn write_issue_table(md: &mut String, issues: &[IssueBrief]) -> std::fmt::Result {
    if issues.is_empty() {
        return Ok(());
    }
    writeln!(
        md,
        "| type | severity | row | column | invalid value | message | remediation |\n|---|---|---:|---|---|---|---|"
    )?;
    for issue in issues {
        writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} |",
            text(&issue.issue_type),
            text(&issue.severity),
            issue.row.as_deref().map(text).unwrap_or_default(),
            issue.column.as_deref().map(code).unwrap_or_default(),
            issue.invalid_value.as_deref().map(code).unwrap_or_default(),
            text(&issue.message),
            issue.remediation.as_deref().map(text).unwrap_or_default(),
        )?;
    }
    Ok(())
}

fn device_line(d: &Diagnostics) -> String {
    let device = &d.device;
    let mut line = text(device.name.as_deref().unwrap_or(&device.device_id));
    if let Some(boundary) = &device.boundary {
        line.push_str(&format!(" (boundary {})", text(boundary)));
    }
    if let Some(info) = &device.sysinfo {
        let facts: Vec<String> = ["os_release", "arch"]
            .iter()
            .filter_map(|key| info.get(key).and_then(|v| v.as_str()))
            .map(text)
            .collect();
        if !facts.is_empty() {
            line.push_str(&format!(", {}", facts.join(", ")));
        }
    }
    line
}

fn counted(count: usize, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

fn duration(seconds: Option<f64>) -> String {
    seconds
        .map(|s| format!("{s:.3} s"))
        .unwrap_or_else(|| "-".to_string())
}

fn or_dash(value: Option<&str>) -> String {
    value.map(text).unwrap_or_else(|| "-".to_string())
}

/// Free text: every character Markdown could act on is backslash-escaped, line breaks become
/// spaces (a table row is one line).
pub fn text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for ch in value.chars() {
        match ch {
            '\\' | '|' | '<' | '>' | '*' | '`' | '[' | ']' | '&' => {
                out.push('\\');
                out.push(ch);
            }
            '\r' | '\n' => out.push(' '),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A name or value shown literally in a code span, fenced with more backticks than it holds.
pub fn code(value: &str) -> String {
    let flat: String = value
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    // A pipe ends a table cell even inside a code span (GFM).
    let flat = flat.replace('|', "\\|");
    let mut longest = 0;
    let mut run = 0;
    for ch in flat.chars() {
        run = if ch == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    let pad = if flat.starts_with('`') || flat.ends_with('`') || flat.is_empty() {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{flat}{pad}{fence}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_cannot_break_a_table_or_open_html() {
        assert_eq!(text("a|b\n<script>"), "a\\|b \\<script\\>".to_string());
    }

    #[test]
    fn code_spans_survive_backticks() {
        assert_eq!(code("plain"), "`plain`");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`x"), "`` `x ``");
        assert_eq!(code("a|b"), "`a\\|b`");
    }
}
