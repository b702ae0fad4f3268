//! The HTML report's "Changes since the last delivery" block of an entry.

use std::io::Write;

use super::{esc_opt, escape};
use crate::Result;
use crate::state::diagnostics::drift::DeliveryChanges;

/// The block, from the entry's drift in the diagnostics (all text escaped).
pub(super) fn write(out: &mut dyn Write, d: &DeliveryChanges) -> Result<()> {
    writeln!(
        out,
        "<div class=\"drift\"><h4>Changes since the last delivery</h4>"
    )?;
    let key = escape(d.key.as_deref().unwrap_or("table"));
    if d.first_delivery {
        writeln!(
            out,
            "<p>First delivery (no earlier load of this {key}).</p></div>"
        )?;
        return Ok(());
    }
    writeln!(
        out,
        "<p>Compared with entry <code>{}</code> of session <code>{}</code> (same {key}): {} rows then, {} now.</p>",
        esc_opt(d.previous_entry_id.as_deref()),
        esc_opt(d.previous_session_id.as_deref()),
        d.previous_rows.map(|r| r.to_string()).unwrap_or("-".into()),
        d.rows.map(|r| r.to_string()).unwrap_or("-".into()),
    )?;
    if d.changes.is_empty() {
        writeln!(out, "<p>No changes.</p></div>")?;
        return Ok(());
    }
    writeln!(
        out,
        "<table class=\"drift-changes\"><thead><tr><th>change</th><th>column</th><th>before</th><th>now</th></tr></thead><tbody>"
    )?;
    for c in &d.changes {
        writeln!(
            out,
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
            escape(&c.code),
            esc_opt(c.column.as_deref()),
            esc_opt(c.before.as_deref()),
            esc_opt(c.now.as_deref()),
        )?;
    }
    writeln!(out, "</tbody></table>")?;
    if d.changes_not_listed > 0 {
        writeln!(
            out,
            "<p class=\"more\">…and {} more changes.</p>",
            d.changes_not_listed
        )?;
    }
    writeln!(out, "</div>")?;
    Ok(())
}
