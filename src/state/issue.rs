//! Issues: the taxonomy of `docs/issues.md` and the row an issue becomes.

use serde_json::{Map, Value};

/// How bad an issue is. Stored as `severity` in the issue's elaboration.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }

    pub fn parse(text: &str) -> Option<Severity> {
        match text.trim().to_ascii_lowercase().as_str() {
            "warning" | "warn" => Some(Severity::Warning),
            "error" => Some(Severity::Error),
            _ => None,
        }
    }
}

macro_rules! issue_kinds {
    ($($kind:ident => $text:literal, $code:literal;)*) => {
        /// The human categories of `issue_type`, each with its default stable code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum IssueKind { $($kind),* }

        impl IssueKind {
            pub const ALL: &'static [IssueKind] = &[$(IssueKind::$kind),*];

            /// The text stored in `issue_type`.
            pub fn issue_type(self) -> &'static str {
                match self { $(IssueKind::$kind => $text),* }
            }

            /// The stable machine code stored in the elaboration (Frictionless names).
            pub fn code(self) -> &'static str {
                match self { $(IssueKind::$kind => $code),* }
            }
        }
    };
}

issue_kinds! {
    UnreadableFile => "Unreadable File", "source-error";
    UnsupportedFormat => "Unsupported Format", "format-error";
    EncodingError => "Encoding Error", "encoding-error";
    EmptyFile => "Empty File", "source-error/empty";
    BlankHeader => "Blank Header", "blank-label";
    DuplicateHeader => "Duplicate Header", "duplicate-label";
    RaggedRowMissing => "Ragged Row", "missing-cell";
    RaggedRowExtra => "Ragged Row", "extra-cell";
    BlankRow => "Blank Row", "blank-row";
    SheetMissing => "Sheet Missing", "sheet-missing";
    MissingColumn => "Missing Column", "missing-label";
    ExtraColumn => "Extra Column", "extra-label";
    DataTypeMismatch => "Data Type Mismatch", "type-error";
    MissingMandatoryValue => "Missing Mandatory Value", "constraint-error/required";
    UniqueValueViolation => "Unique Value Violation", "unique-error";
    PrimaryKeyViolation => "Unique Value Violation", "primary-key";
    RangeViolation => "Range Violation", "constraint-error/minimum";
    PatternMismatch => "Pattern Mismatch", "constraint-error/pattern";
    InvalidValue => "Invalid Value", "constraint-error/enum";
    InvalidDate => "Invalid Date", "type-error/date";
    FormatMismatch => "Format Mismatch", "type-error/format";
    ReferenceViolation => "Reference Violation", "foreign-key";
    RuleViolation => "Rule Violation", "sql-rule";
    ScriptError => "Script Error", "exec-error";
    LoadError => "Load Error", "load-error";
    MissingTable => "Missing Table", "missing-table";
    TableExists => "Table Exists", "table-exists";
    SchemaDrift => "Schema Drift", "schema-drift";
    RowCountChange => "Row Count Change", "row-count-change";
    PreambleSkipped => "Preamble Skipped", "preamble-skipped";
    TooManyColumns => "Too Many Columns", "source-error/too-many-columns";
}

/// One problem to record. Build with [`Issue::new`] and the chained setters.
#[derive(Debug, Clone)]
pub struct Issue {
    pub issue_type: String,
    pub message: String,
    pub code: String,
    pub severity: Severity,
    pub entry_id: Option<String>,
    pub row: Option<i64>,
    pub column: Option<String>,
    pub invalid_value: Option<String>,
    pub remediation: Option<String>,
    /// More facts for the elaboration (`rule`, `line`, ...), beside `code` and `severity`.
    pub extra: Map<String, Value>,
}

impl Issue {
    /// An issue of a known kind, severity `error`.
    pub fn new(kind: IssueKind, message: impl Into<String>) -> Issue {
        Issue::custom(kind.issue_type(), kind.code(), message)
    }

    /// An issue whose type text comes from elsewhere (a user's SQL rule, a script).
    pub fn custom(
        issue_type: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Issue {
        Issue {
            issue_type: issue_type.into(),
            message: message.into(),
            code: code.into(),
            severity: Severity::Error,
            entry_id: None,
            row: None,
            column: None,
            invalid_value: None,
            remediation: None,
            extra: Map::new(),
        }
    }

    pub fn entry(mut self, entry_id: &str) -> Issue {
        self.entry_id = Some(entry_id.to_string());
        self
    }

    pub fn row(mut self, row: i64) -> Issue {
        self.row = Some(row);
        self
    }

    pub fn column(mut self, column: impl Into<String>) -> Issue {
        self.column = Some(column.into());
        self
    }

    pub fn invalid_value(mut self, value: impl Into<String>) -> Issue {
        self.invalid_value = Some(value.into());
        self
    }

    pub fn remediation(mut self, remediation: impl Into<String>) -> Issue {
        self.remediation = Some(remediation.into());
        self
    }

    pub fn severity(mut self, severity: Severity) -> Issue {
        self.severity = severity;
        self
    }

    pub fn code(mut self, code: impl Into<String>) -> Issue {
        self.code = code.into();
        self
    }

    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Issue {
        self.extra.insert(key.to_string(), value.into());
        self
    }

    /// The elaboration JSON: `code`, `severity`, then the extra facts.
    pub fn elaboration(&self) -> Value {
        let mut map = Map::new();
        map.insert("code".into(), Value::from(self.code.clone()));
        map.insert("severity".into(), Value::from(self.severity.as_str()));
        for (key, value) in &self.extra {
            map.entry(key.clone()).or_insert_with(|| value.clone());
        }
        Value::Object(map)
    }

    /// [`Issue::elaboration`] as JSON text, written straight from the fields (same text,
    /// keys in the same sorted order) without building a map: issues can number millions.
    pub fn elaboration_json(&self) -> String {
        enum Part<'a> {
            Text(&'a str),
            Json(&'a Value),
        }
        let mut parts: Vec<(&str, Part)> = Vec::with_capacity(self.extra.len() + 2);
        parts.push(("code", Part::Text(&self.code)));
        parts.push(("severity", Part::Text(self.severity.as_str())));
        for (key, value) in &self.extra {
            if key != "code" && key != "severity" {
                parts.push((key, Part::Json(value)));
            }
        }
        parts.sort_unstable_by(|a, b| a.0.cmp(b.0));
        let mut out: Vec<u8> = Vec::with_capacity(96);
        out.push(b'{');
        for (i, (key, value)) in parts.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            let written = serde_json::to_writer(&mut out, key).and_then(|()| {
                out.push(b':');
                match value {
                    Part::Text(text) => serde_json::to_writer(&mut out, text),
                    Part::Json(json) => serde_json::to_writer(&mut out, json),
                }
            });
            if written.is_err() {
                return self.elaboration().to_string();
            }
        }
        out.push(b'}');
        String::from_utf8(out).unwrap_or_else(|_| self.elaboration().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elaboration_carries_code_and_severity() {
        let issue = Issue::new(IssueKind::InvalidValue, "bad")
            .severity(Severity::Warning)
            .with("rule", "fields.status.constraints.enum");
        let elaboration = issue.elaboration();
        assert_eq!(elaboration["code"], "constraint-error/enum");
        assert_eq!(elaboration["severity"], "warning");
        assert_eq!(elaboration["rule"], "fields.status.constraints.enum");
    }

    #[test]
    fn elaboration_text_is_the_elaboration_value_written_out() {
        let hostile = "\"}{'\u{0}\n\\ <script>";
        let issues = [
            Issue::new(IssueKind::BlankRow, "x"),
            Issue::new(IssueKind::InvalidValue, "bad")
                .severity(Severity::Warning)
                .with("rule", hostile)
                .with("first_row", 7)
                .with("zeta", serde_json::json!({"a": [1, hostile]}))
                .with(hostile, 2.5),
            Issue::new(IssueKind::RuleViolation, "y")
                .code(hostile)
                .with("code", "ignored")
                .with("severity", "ignored")
                .with("a", Value::Null),
        ];
        for issue in issues {
            assert_eq!(issue.elaboration_json(), issue.elaboration().to_string());
        }
    }

    #[test]
    fn every_kind_has_type_and_code() {
        for kind in IssueKind::ALL {
            assert!(!kind.issue_type().is_empty());
            assert!(!kind.code().is_empty());
        }
    }
}
