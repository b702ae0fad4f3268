//! Header checks (Missing Column, Extra Column) and workbook sheet checks (Sheet Missing).

use std::collections::BTreeMap;

use super::schema::{Binding, FieldsMatch, SchemaSet};
use super::target::Target;
use crate::Result;
use crate::state::Session;
use crate::state::{Issue, IssueKind};

/// A header cell without surrounding whitespace, byte order mark or no-break spaces.
fn clean(text: &str) -> &str {
    text.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}' || c == '\u{a0}')
}

/// Whether a field name and a header name are the same column.
pub fn same_name(field: &str, header: &str, case_sensitive: bool) -> bool {
    let (field, header) = (clean(field), clean(header));
    if case_sensitive {
        field == header
    } else {
        field.to_lowercase() == header.to_lowercase()
    }
}

pub struct HeaderResult {
    pub ok: bool,
    /// (field index, loaded column name) for each field found.
    pub columns: Vec<(usize, String)>,
}

/// Matches the schema's fields to the table's columns and records what does not match.
pub fn check(
    session: &Session,
    target: &Target,
    binding: &Binding,
    case_sensitive: bool,
) -> Result<HeaderResult> {
    let (result, issues) = match_fields(target, binding, case_sensitive);
    for issue in &issues {
        session.issue(issue)?;
    }
    Ok(result)
}

/// Matches the schema's fields to the table's columns: the result, and the issues of what
/// does not match.
pub fn match_fields(
    target: &Target,
    binding: &Binding,
    case_sensitive: bool,
) -> (HeaderResult, Vec<Issue>) {
    let schema = &binding.schema;
    let mut issues = Vec::new();
    let mut used = vec![false; target.columns.len()];
    let mut columns = Vec::new();
    let mut ok = true;
    let present: Vec<&str> = target.columns.iter().map(|c| clean(&c.header)).collect();
    for (index, field) in schema.fields.iter().enumerate() {
        // The header as in the file first; the loaded name for tables whose file is gone.
        let found = target
            .columns
            .iter()
            .position(|c| same_name(&field.name, &c.header, case_sensitive))
            .or_else(|| {
                target
                    .columns
                    .iter()
                    .position(|c| same_name(&field.name, &c.name, case_sensitive))
            })
            .filter(|i| !used[*i]);
        match found {
            Some(i) => {
                used[i] = true;
                columns.push((index, target.columns[i].name.clone()));
            }
            None if matches!(
                schema.fields_match,
                FieldsMatch::Subset | FieldsMatch::Equal
            ) =>
            {
                ok = false;
                let hint = case_hint(&field.name, &present, case_sensitive);
                issues.push(
                    Issue::new(
                        IssueKind::MissingColumn,
                        format!(
                            "column {:?} required by the schema is missing from the header of {}",
                            field.name, target.source
                        ),
                    )
                    .entry(&target.entry_id)
                    .column(field.name.clone())
                    .remediation(format!(
                        "Add a column named {:?}{hint} (the file has: {})",
                        field.name,
                        present.join(", ")
                    ))
                    .with("rule", format!("fields.{}", field.name))
                    .with("schema", binding.origin.display().to_string()),
                );
            }
            None => {}
        }
    }
    if matches!(
        schema.fields_match,
        FieldsMatch::Equal | FieldsMatch::Superset
    ) {
        for (i, column) in target.columns.iter().enumerate().filter(|(i, _)| !used[*i]) {
            ok = false;
            issues.push(
                Issue::new(
                    IssueKind::ExtraColumn,
                    format!(
                        "column {:?} of {} is not in the schema, which allows no other columns",
                        clean(&column.header),
                        target.source
                    ),
                )
                .entry(&target.entry_id)
                .column(column.name.clone())
                .remediation(format!(
                    "Remove column {:?} from the file, or add it to the schema's fields",
                    clean(&column.header)
                ))
                .with("rule", "fieldsMatch")
                .with("position", i + 1),
            );
        }
    }
    (HeaderResult { ok, columns }, issues)
}

/// Mentions a column that differs only in case when matching is exact.
fn case_hint(name: &str, present: &[&str], case_sensitive: bool) -> String {
    if !case_sensitive {
        return String::new();
    }
    present
        .iter()
        .find(|header| header.to_lowercase() == name.to_lowercase())
        .map(|header| format!(", or rename {header:?} (names must match exactly, case included)"))
        .unwrap_or_default()
}

/// For each workbook a resource describes, every sheet it requires must have been loaded.
pub fn check_sheets(session: &Session, schemas: &SchemaSet, targets: &[Target]) -> Result<()> {
    let mut workbooks: BTreeMap<&str, Vec<&Target>> = BTreeMap::new();
    for target in targets.iter().filter(|t| t.sheet.is_some()) {
        workbooks
            .entry(target.source.as_str())
            .or_default()
            .push(target);
    }
    for (source, sheets) in workbooks {
        let names: Vec<&str> = sheets.iter().filter_map(|t| t.sheet.as_deref()).collect();
        let mut reported: Vec<String> = Vec::new();
        for binding in schemas
            .bindings
            .iter()
            .filter(|b| !b.required_sheets.is_empty())
        {
            if !sheets
                .iter()
                .any(|t| binding.selects_source(source, &t.table))
            {
                continue;
            }
            for wanted in &binding.required_sheets {
                let present = names
                    .iter()
                    .any(|name| name.trim().eq_ignore_ascii_case(wanted.trim()));
                if present || reported.iter().any(|r| r.eq_ignore_ascii_case(wanted)) {
                    continue;
                }
                reported.push(wanted.clone());
                session.issue(
                    &Issue::new(
                        IssueKind::SheetMissing,
                        format!("workbook {source} has no sheet {wanted:?}; its sheets with data are: {}", names.join(", ")),
                    )
                    .entry(&sheets[0].entry_id)
                    .remediation(format!("Add a sheet named {wanted:?} to {source} (or rename the sheet that holds that data)"))
                    .with("rule", "sheets")
                    .with("schema", binding.origin.display().to_string()),
                )?;
            }
        }
    }
    Ok(())
}
