//! One failed check of one cell, as the field that found it words it.

use crate::state::IssueKind;

/// One failed check of one cell.
#[derive(Debug, Clone)]
pub struct Problem {
    pub kind: IssueKind,
    pub code: &'static str,
    /// Where in the schema the rule is, e.g. `fields.age.constraints.minimum`.
    pub rule: String,
    pub message: String,
    pub remediation: String,
}

impl Problem {
    /// A problem of the field named `field`, its rule at `fields.<field>.<rule>`.
    pub(super) fn of_field(
        field: &str,
        kind: IssueKind,
        code: &'static str,
        rule: &str,
        message: String,
        remediation: String,
    ) -> Problem {
        Problem {
            kind,
            code,
            rule: format!("fields.{field}.{rule}"),
            message,
            remediation,
        }
    }
}

/// How messages name the field's column.
pub(super) fn quoted(field: &str) -> String {
    format!("column {field:?}")
}
