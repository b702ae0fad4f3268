//! The report as one self-contained HTML page: inline CSS, an inline SVG chart and a little
//! inline script (sorting, filtering). No network requests: a Content-Security-Policy forbids
//! anything but the page's own inline style and script.
//!
//! All text from the database goes through [`escape`], in element content and in attributes
//! alike; the script reads only the DOM, never data spliced into code.
//!
//! Bounded: each entry's issue table shows its first [`ISSUES_PER_ENTRY`] issues and the
//! page at most [`ISSUE_BUDGET`] in all; counts always cover every issue.

mod changes;

use std::io::Write;

use rusqlite::Connection;

use crate::Result;
use crate::state::diagnostics::{
    Diagnostics, EntryIndex, IssueBrief, IssueDigest, IssueHome, clip,
};
use crate::state::issue_list::take_first_issues;

/// Issues listed in one entry's table.
pub const ISSUES_PER_ENTRY: usize = 100;
/// Issues listed on the whole page.
pub const ISSUE_BUDGET: usize = 5000;
/// Issue types drawn as their own bar; the rest share one.
const CHART_TYPES: usize = 10;

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn esc_opt(text: Option<&str>) -> String {
    text.map(escape).unwrap_or_else(|| "–".to_string())
}

/// A CSS class for a state, from a fixed list (never from the data).
fn state_class(state: &str) -> &'static str {
    match state {
        "COMPLETED" | "INGESTED" | "VALIDATED" | "surveilr_orch_completed" => "ok",
        "FAILED" | "INVALID" | "ABANDONED" | "surveilr_orch_failed" => "bad",
        "INTERRUPTED" | "UNCHANGED" | "SKIPPED" => "warn",
        _ => "neutral",
    }
}

/// The issues each table of the page lists: per listed entry, then the session's own.
struct IssueSample {
    per_entry: Vec<Vec<IssueBrief>>,
    session: Vec<IssueBrief>,
}

fn sample_issues(conn: &Connection, d: &Diagnostics) -> Result<IssueSample> {
    let session_id = &d.session.session_id;
    let mut budget = ISSUE_BUDGET;
    let mut quota = |count: usize| {
        let q = count.min(ISSUES_PER_ENTRY).min(budget);
        budget -= q;
        q
    };
    let session_quota = quota(d.session_issues.issues_by_type.values().sum());
    let mut entry_quotas: Vec<usize> = d
        .entries
        .iter()
        .map(|e| quota(e.entry.issues.max(0) as usize))
        .collect();
    let mut session_left = session_quota;
    let wanted = session_quota + entry_quotas.iter().sum::<usize>();
    let index = EntryIndex::new(
        conn,
        session_id,
        d.entries.iter().map(|e| e.entry.entry_id.as_str()),
    )?;
    let mut sample = IssueSample {
        per_entry: vec![Vec::new(); d.entries.len()],
        session: Vec::new(),
    };
    take_first_issues(conn, session_id, wanted, |row| {
        match index.home(row.entry_id.as_deref()) {
            Some(IssueHome::Entry(i)) if entry_quotas[i] > 0 => {
                entry_quotas[i] -= 1;
                sample.per_entry[i].push(IssueBrief::from_row(row));
                true
            }
            Some(IssueHome::Session) if session_left > 0 => {
                session_left -= 1;
                sample.session.push(IssueBrief::from_row(row));
                true
            }
            _ => false,
        }
    })?;
    Ok(sample)
}

fn command_line(conn: &Connection, session_id: &str) -> Result<Option<String>> {
    let args: Option<String> = conn.query_row(
        "SELECT args_json FROM orchestration_session WHERE orchestration_session_id = ?1",
        [session_id],
        |row| row.get(0),
    )?;
    let argv = args
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .and_then(|value| value.get("argv").and_then(|a| a.as_array()).cloned());
    Ok(argv.map(|argv| {
        let words: Vec<String> = argv
            .iter()
            .map(|word| {
                word.as_str()
                    .map(str::to_string)
                    .unwrap_or(word.to_string())
            })
            .collect();
        clip(words.join(" "), 1000)
    }))
}

/// Writes the page.
pub fn write(conn: &Connection, d: &Diagnostics, out: &mut dyn Write) -> Result<()> {
    let sample = sample_issues(conn, d)?;
    let command = command_line(conn, &d.session.session_id)?;
    let generated_at: String = conn.query_row("SELECT datetime('now')", [], |row| row.get(0))?;
    let s = &d.session;
    let m = &d.summary;

    write!(
        out,
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>rssd report · {nature} · {id}</title>
<style>{STYLE}</style>
</head>
<body>
<header>
<h1>rssd session report <span class="badge {state_class}">{state}</span></h1>
<p class="reason">{reason}</p>
<dl class="facts">
"#,
        nature = escape(&s.nature),
        id = escape(&s.session_id),
        state_class = state_class(&s.state),
        state = escape(&s.state),
        reason = esc_opt(s.state_reason.as_deref()),
    )?;
    let sysinfo = |key: &str| {
        d.device
            .sysinfo
            .as_ref()
            .and_then(|info| info.get(key))
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    let duration = m.duration_s.map(|v| format!("{v:.3} s"));
    let facts: [(&str, Option<String>); 11] = [
        ("session", Some(s.session_id.clone())),
        ("nature", Some(s.nature.clone())),
        ("started", s.started_at.clone()),
        ("finished", s.finished_at.clone()),
        ("duration", duration),
        ("device", d.device.name.clone()),
        ("boundary", d.device.boundary.clone()),
        ("system", sysinfo("os_release").or_else(|| sysinfo("os"))),
        ("arch", sysinfo("arch")),
        ("rssd", Some(s.version.clone())),
        ("command", command),
    ];
    for (label, value) in facts {
        writeln!(
            out,
            "<div><dt>{label}</dt><dd>{}</dd></div>",
            esc_opt(value.as_deref())
        )?;
    }
    writeln!(out, "</dl>\n</header>\n<main>")?;

    // Summary: figures and the chart.
    writeln!(
        out,
        "<section id=\"summary\">\n<h2>Summary</h2>\n<div class=\"cards\">"
    )?;
    let errors = m.issues_by_severity.get("error").copied().unwrap_or(0);
    let warnings = m.issues_by_severity.get("warning").copied().unwrap_or(0);
    let cards: [(&str, String, &str); 8] = [
        ("entries", m.entries.to_string(), ""),
        ("tables", m.tables.to_string(), ""),
        ("rows", m.rows.to_string(), ""),
        ("issues", m.issues.to_string(), ""),
        (
            "errors",
            errors.to_string(),
            if errors > 0 { "bad" } else { "" },
        ),
        (
            "warnings",
            warnings.to_string(),
            if warnings > 0 { "warn" } else { "" },
        ),
        ("statements", m.execs.to_string(), ""),
        (
            "failed statements",
            m.execs_failed.to_string(),
            if m.execs_failed > 0 { "bad" } else { "" },
        ),
    ];
    for (label, value, class) in cards {
        writeln!(
            out,
            "<div class=\"card {class}\"><span class=\"value\">{value}</span><span class=\"label\">{label}</span></div>"
        )?;
    }
    if m.scripts.total > 0 {
        writeln!(
            out,
            "<div class=\"card\"><span class=\"value\">{}/{}</span><span class=\"label\">scripts completed</span></div>",
            m.scripts.completed, m.scripts.total
        )?;
    }
    writeln!(out, "</div>")?;
    write_chart(out, d)?;
    writeln!(out, "</section>")?;

    write_entries_table(out, d)?;

    // Issues, per entry.
    writeln!(out, "<section id=\"issues\">\n<h2>Entries in detail</h2>")?;
    if !m.issues_by_type.is_empty() {
        writeln!(
            out,
            "<p class=\"filter\"><label>Show issues of type <select id=\"type-filter\"><option value=\"\">all types</option>"
        )?;
        for issue_type in m.issues_by_type.keys().take(500) {
            writeln!(out, "<option>{}</option>", escape(issue_type))?;
        }
        writeln!(
            out,
            "</select></label> <span id=\"filter-count\"></span></p>"
        )?;
    }
    for (n, e) in d.entries.iter().enumerate() {
        writeln!(
            out,
            "<section class=\"entry\" id=\"entry-{}\">\n<h3><span class=\"num\">{}</span> {} <span class=\"badge {}\">{}</span></h3>",
            n + 1,
            n + 1,
            escape(&e.entry.source),
            state_class(&e.entry.state),
            escape(&e.entry.state)
        )?;
        writeln!(out, "<p class=\"meta\">")?;
        writeln!(out, "entry <code>{}</code>", escape(&e.entry.entry_id))?;
        if let Some(table) = &e.entry.table {
            writeln!(out, " · table <code>{}</code>", escape(table))?;
        }
        if let Some(rows) = e.entry.rows {
            writeln!(out, " · {rows} rows")?;
        }
        writeln!(
            out,
            " · {} → {}",
            esc_opt(e.started_at.as_deref()),
            esc_opt(e.finished_at.as_deref())
        )?;
        if e.execs > 0 {
            writeln!(out, " · {} statements, {} failed", e.execs, e.execs_failed)?;
        }
        writeln!(out, "</p>")?;
        if let Some(script) = &e.script {
            let class = match script.outcome.as_str() {
                "completed" => "ok",
                "failed" | "abandoned" => "bad",
                _ => "neutral",
            };
            writeln!(
                out,
                "<p class=\"script\">script <span class=\"badge {class}\">{}</span> {}</p>",
                escape(&script.outcome),
                script.error.as_deref().map(escape).unwrap_or_default()
            )?;
        } else if let Some(error) = &e.first_exec_error {
            writeln!(
                out,
                "<p class=\"script\">first failed statement: {}</p>",
                escape(error)
            )?;
        }
        if !e.states.is_empty() {
            writeln!(
                out,
                "<details><summary>{} state changes</summary><table class=\"states\"><thead><tr><th>from</th><th>to</th><th>at</th><th>reason</th></tr></thead><tbody>",
                e.states.len() + e.states_not_listed
            )?;
            for st in &e.states {
                writeln!(
                    out,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    escape(&st.from),
                    escape(&st.to),
                    esc_opt(st.at.as_deref()),
                    st.reason.as_deref().map(escape).unwrap_or_default()
                )?;
            }
            writeln!(out, "</tbody></table></details>")?;
        }
        if let Some(changes) = &e.changes_since_last_delivery {
            changes::write(out, changes)?;
        }
        write_issue_block(
            out,
            &e.issue_digest,
            &sample.per_entry[n],
            d,
            Some(&e.entry.entry_id),
        )?;
        writeln!(out, "</section>")?;
    }
    if !d.session_issues.issues_by_type.is_empty() {
        writeln!(
            out,
            "<section class=\"entry\" id=\"session-issues\">\n<h3>Issues of the session (not tied to an entry)</h3>"
        )?;
        write_issue_block(out, &d.session_issues, &sample.session, d, None)?;
        writeln!(out, "</section>")?;
    }
    if d.entries_not_listed > 0 {
        writeln!(
            out,
            "<p class=\"more\">…and {} more entries not shown; <code>rssd show {}</code> lists them all.</p>",
            d.entries_not_listed,
            escape(&s.session_id)
        )?;
    }
    writeln!(
        out,
        "</section>\n</main>\n<footer>Generated by rssd {} at {} UTC from the orchestration tables of the RSSD. Counts cover every issue; tables list the first {} issues of each entry.</footer>\n<script>{SCRIPT}</script>\n</body>\n</html>",
        escape(crate::VERSION),
        escape(&generated_at),
        ISSUES_PER_ENTRY
    )?;
    Ok(())
}

fn write_entries_table(out: &mut dyn Write, d: &Diagnostics) -> Result<()> {
    writeln!(
        out,
        "<section id=\"entries\">\n<h2>Entries</h2>\n<table id=\"entries-table\" class=\"sortable\">\n<thead><tr>\
<th data-type=\"number\">#</th><th>source</th><th>table</th><th>state</th><th data-type=\"number\">rows</th>\
<th data-type=\"number\">issues</th><th data-type=\"number\">errors</th><th data-type=\"number\">warnings</th>\
<th>started</th><th>finished</th></tr></thead>\n<tbody>"
    )?;
    for (n, e) in d.entries.iter().enumerate() {
        let severity = &e.issue_digest.issues_by_severity;
        let rows = e.entry.rows.map(|r| r.to_string());
        writeln!(
            out,
            "<tr><td>{n}</td><td><a href=\"#entry-{n}\">{source}</a></td><td>{table}</td><td><span class=\"badge {class}\">{state}</span></td>\
<td class=\"n\" data-sort=\"{rows_sort}\">{rows}</td><td class=\"n\">{issues}</td><td class=\"n\">{errors}</td><td class=\"n\">{warnings}</td><td>{started}</td><td>{finished}</td></tr>",
            n = n + 1,
            source = escape(&e.entry.source),
            table = esc_opt(e.entry.table.as_deref()),
            class = state_class(&e.entry.state),
            state = escape(&e.entry.state),
            rows_sort = rows.as_deref().unwrap_or("-1"),
            rows = esc_opt(rows.as_deref()),
            issues = e.entry.issues,
            errors = severity.get("error").copied().unwrap_or(0),
            warnings = severity.get("warning").copied().unwrap_or(0),
            started = esc_opt(e.started_at.as_deref()),
            finished = esc_opt(e.finished_at.as_deref()),
        )?;
    }
    writeln!(out, "</tbody>\n</table>")?;
    if d.entries.is_empty() {
        writeln!(out, "<p class=\"more\">This session has no entries.</p>")?;
    }
    writeln!(out, "</section>")?;
    Ok(())
}

fn write_issue_block(
    out: &mut dyn Write,
    digest: &IssueDigest,
    listed: &[IssueBrief],
    d: &Diagnostics,
    entry_id: Option<&str>,
) -> Result<()> {
    if digest.issues_by_type.is_empty() {
        writeln!(out, "<p class=\"clean\">No issues.</p>")?;
        return Ok(());
    }
    write!(out, "<p class=\"types\">")?;
    for (issue_type, count) in &digest.issues_by_type {
        write!(
            out,
            "<span class=\"chip\">{} <b>{}</b></span> ",
            escape(issue_type),
            count
        )?;
    }
    writeln!(out, "</p>")?;
    writeln!(
        out,
        "<table class=\"issues\"><thead><tr><th>row</th><th>column</th><th>invalid value</th><th>type</th><th>severity</th><th>message</th><th>remediation</th></tr></thead><tbody>"
    )?;
    for issue in listed {
        let value = match issue.invalid_value.as_deref() {
            Some("") => "<span class=\"empty\">(empty)</span>".to_string(),
            Some(value) => format!("<code>{}</code>", escape(value)),
            None => String::new(),
        };
        writeln!(
            out,
            "<tr data-type=\"{}\" class=\"{}\"><td class=\"n\">{}</td><td>{}</td><td class=\"val\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&issue.issue_type),
            if issue.severity == "warning" {
                "sev-warning"
            } else {
                "sev-error"
            },
            issue.row.as_deref().map(escape).unwrap_or_default(),
            issue.column.as_deref().map(escape).unwrap_or_default(),
            value,
            escape(&issue.issue_type),
            escape(&issue.severity),
            escape(&issue.message),
            issue.remediation.as_deref().map(escape).unwrap_or_default(),
        )?;
    }
    writeln!(out, "</tbody></table>")?;
    let total: usize = digest.issues_by_type.values().sum();
    if listed.len() < total {
        let filter = entry_id
            .map(|id| format!(" --entry {id}"))
            .unwrap_or_default();
        writeln!(
            out,
            "<p class=\"more\">Showing the first {} of {} issues; <code>rssd issues {}{} --format csv</code> lists them all.</p>",
            listed.len(),
            total,
            escape(&d.session.session_id),
            escape(&filter)
        )?;
    }
    Ok(())
}

/// A horizontal bar chart of issues by type, as inline SVG.
fn write_chart(out: &mut dyn Write, d: &Diagnostics) -> Result<()> {
    let mut by_count: Vec<(String, usize)> = d
        .summary
        .issues_by_type
        .iter()
        .map(|(k, v)| (k.clone(), *v))
        .collect();
    if by_count.is_empty() {
        writeln!(out, "<p class=\"clean\">No issues were found.</p>")?;
        return Ok(());
    }
    by_count.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    if by_count.len() > CHART_TYPES {
        let rest: usize = by_count[CHART_TYPES - 1..].iter().map(|(_, n)| n).sum();
        let others = by_count.len() - (CHART_TYPES - 1);
        by_count.truncate(CHART_TYPES - 1);
        by_count.push((format!("{others} other types"), rest));
    }
    let max = by_count.iter().map(|(_, n)| *n).max().unwrap_or(1).max(1);
    let (label_w, bar_w, row_h) = (220.0, 330.0, 26.0);
    let height = row_h * by_count.len() as f64 + 8.0;
    writeln!(
        out,
        "<figure class=\"chart\"><figcaption>Issues by type</figcaption><svg role=\"img\" aria-label=\"issues by type\" viewBox=\"0 0 640 {height}\" width=\"640\" height=\"{height}\" xmlns=\"http://www.w3.org/2000/svg\">"
    )?;
    const COLORS: [&str; 10] = [
        "#c0392b", "#d35400", "#b7950b", "#1e8449", "#117a65", "#1f618d", "#6c3483", "#a04000",
        "#566573", "#7b241c",
    ];
    for (i, (label, count)) in by_count.iter().enumerate() {
        let y = 4.0 + row_h * i as f64;
        let w = (bar_w * *count as f64 / max as f64).max(2.0);
        writeln!(
            out,
            "<g><title>{title}: {count}</title><text x=\"{lx}\" y=\"{ty}\" text-anchor=\"end\" class=\"label\">{text}</text>\
<rect x=\"{bx}\" y=\"{y}\" width=\"{w:.1}\" height=\"{bh}\" rx=\"3\" fill=\"{color}\"/>\
<text x=\"{cx:.1}\" y=\"{ty}\" class=\"count\">{count}</text></g>",
            title = escape(label),
            text = escape(&clip(label.clone(), 30)),
            lx = label_w - 8.0,
            ty = y + 15.0,
            bx = label_w,
            bh = row_h - 8.0,
            color = COLORS[i % COLORS.len()],
            cx = label_w + w + 6.0,
        )?;
    }
    writeln!(out, "</svg></figure>")?;
    Ok(())
}

const STYLE: &str = r#"
:root{--fg:#1c2330;--muted:#5d6778;--line:#dde2ea;--bg:#f6f7f9;--card:#fff;--ok:#1e8449;--bad:#c0392b;--warn:#b9770e;--accent:#1f618d}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:var(--fg);background:var(--bg)}
header{background:#1c2330;color:#f2f4f7;padding:20px 28px 14px}
header h1{margin:0 0 4px;font-size:22px;font-weight:600}
header .reason{margin:0 0 12px;color:#c9d1dc}
.facts{display:grid;grid-template-columns:repeat(auto-fill,minmax(230px,1fr));gap:6px 18px;margin:0}
.facts div{min-width:0}
.facts dt{font-size:11px;text-transform:uppercase;letter-spacing:.05em;color:#9aa6b6}
.facts dd{margin:0;overflow-wrap:anywhere;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
main{padding:8px 28px 28px;max-width:1400px}
h2{font-size:18px;margin:22px 0 10px;border-bottom:1px solid var(--line);padding-bottom:4px}
h3{font-size:15px;margin:0 0 6px;overflow-wrap:anywhere}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin-bottom:12px}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:8px 14px;min-width:110px}
.card .value{display:block;font-size:22px;font-weight:600}
.card .label{color:var(--muted);font-size:12px}
.card.bad .value{color:var(--bad)}.card.warn .value{color:var(--warn)}
.chart{background:var(--card);border:1px solid var(--line);border-radius:8px;margin:0;padding:10px 14px;display:inline-block;max-width:100%}
.chart figcaption{font-weight:600;margin-bottom:4px}
.chart svg{max-width:100%;height:auto}
.chart .label{font-size:12px;fill:#1c2330}.chart .count{font-size:12px;fill:#5d6778}
table{border-collapse:collapse;background:var(--card);width:100%;font-size:13px}
th,td{border:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top;overflow-wrap:anywhere}
th{background:#eef1f5;font-weight:600;white-space:nowrap}
td.n{text-align:right;font-variant-numeric:tabular-nums}
table.sortable th{cursor:pointer;user-select:none}
.sort-marker{color:var(--muted);margin-left:4px;font-size:11px}
th[aria-sort] .sort-marker{color:var(--accent)}
.badge{display:inline-block;padding:1px 7px;border-radius:10px;font-size:11.5px;font-weight:600;background:#e5e8ee;color:#34495e;vertical-align:middle}
.badge.ok{background:#d5f0df;color:var(--ok)}.badge.bad{background:#f8d7d3;color:var(--bad)}.badge.warn{background:#fcecd0;color:var(--warn)}
.entry{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:12px 14px;margin:12px 0}
.entry .num{color:var(--muted);font-weight:400}
.meta,.script{color:var(--muted);margin:0 0 6px}
.meta code{color:var(--fg)}
.chip{display:inline-block;background:#eef1f5;border-radius:10px;padding:1px 8px;margin:0 4px 4px 0;font-size:12px}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px;background:#f1f3f6;padding:0 3px;border-radius:3px;white-space:pre-wrap}
td.val code{background:#fdf2e9}
table.issues td:nth-child(2){min-width:8em;overflow-wrap:normal;word-break:break-word}
.empty{color:var(--muted);font-style:italic}
tr.sev-warning td:nth-child(5){color:var(--warn)}tr.sev-error td:nth-child(5){color:var(--bad)}
details{margin:6px 0}summary{cursor:pointer;color:var(--accent)}
.more,.clean{color:var(--muted)}
.filter{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:8px 12px;display:inline-block}
footer{color:var(--muted);font-size:12px;padding:0 28px 24px}
@media print{header{background:none;color:#000}.facts dt{color:#555}.filter{display:none}}
"#;

const SCRIPT: &str = r#"
(function () {
  function key(cell) {
    var v = cell.getAttribute('data-sort');
    return v === null ? cell.textContent.trim() : v;
  }
  function sortBy(table, col, th) {
    var ascending = th.getAttribute('aria-sort') !== 'ascending';
    var numeric = th.getAttribute('data-type') === 'number';
    var heads = table.tHead.rows[0].cells;
    for (var h = 0; h < heads.length; h++) {
      heads[h].removeAttribute('aria-sort');
      heads[h].querySelector('.sort-marker').textContent = '\u2195';
    }
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a.cells[col]), y = key(b.cells[col]), r;
      if (numeric) {
        r = (parseFloat(x) || 0) - (parseFloat(y) || 0);
      } else {
        r = x.localeCompare(y);
      }
      return ascending ? r : -r;
    });
    for (var i = 0; i < rows.length; i++) body.appendChild(rows[i]);
    th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
    th.querySelector('.sort-marker').textContent = ascending ? '\u25B2' : '\u25BC';
  }
  var tables = document.querySelectorAll('table.sortable');
  for (var t = 0; t < tables.length; t++) {
    (function (table) {
      var heads = table.tHead.rows[0].cells;
      for (var c = 0; c < heads.length; c++) {
        (function (th, col) {
          var marker = document.createElement('span');
          marker.className = 'sort-marker';
          marker.textContent = '\u2195';
          th.appendChild(marker);
          th.tabIndex = 0;
          th.title = 'sort';
          th.addEventListener('click', function () { sortBy(table, col, th); });
          th.addEventListener('keydown', function (e) {
            if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); sortBy(table, col, th); }
          });
        })(heads[c], c);
      }
      table.setAttribute('data-sortable', 'ready');
    })(tables[t]);
  }
  // A link may name a sort: report.html#sort=issues-desc
  var wanted = /^#sort=([a-z]+)(-desc)?$/.exec(location.hash);
  if (wanted && tables.length) {
    var heads = tables[0].tHead.rows[0].cells;
    for (var w = 0; w < heads.length; w++) {
      if (heads[w].firstChild.textContent === wanted[1]) {
        sortBy(tables[0], w, heads[w]);
        if (wanted[2]) sortBy(tables[0], w, heads[w]);
      }
    }
  }
  var filter = document.getElementById('type-filter');
  if (filter) {
    var apply = function () {
      var wanted = filter.value, shown = 0;
      var rows = document.querySelectorAll('table.issues tbody tr');
      for (var i = 0; i < rows.length; i++) {
        var match = wanted === '' || rows[i].getAttribute('data-type') === wanted;
        rows[i].style.display = match ? '' : 'none';
        if (match) shown++;
      }
      document.getElementById('filter-count').textContent = shown + ' of ' + rows.length + ' listed issues shown';
    };
    filter.addEventListener('change', apply);
    apply();
  }
})();
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_content_and_attributes() {
        assert_eq!(
            escape(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
    }

    #[test]
    fn state_classes_come_from_a_fixed_list() {
        assert_eq!(state_class("FAILED"), "bad");
        assert_eq!(state_class("\" onmouseover=\"x"), "neutral");
    }
}
