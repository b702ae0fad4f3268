//! Reading Table Schema, Data Resource and Data Package descriptors (JSON or YAML), and
//! deciding which schema applies to which file, sheet or table. The types are here; reading
//! descriptor files is in `descriptor`, a Table Schema object into fields in `table_schema`.

mod descriptor;
mod table_schema;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use globset::GlobMatcher;
use serde_json::Value;

use super::field::Field;
use crate::Error;
use crate::Result;

pub use descriptor::load_descriptor;

/// Which header columns a schema expects (Table Schema v2 `fieldsMatch`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldsMatch {
    /// Every field must be present; other columns are allowed (rssd's default).
    Subset,
    /// Every field present and no other column (`exact` and `equal`; order is not checked).
    Equal,
    /// No column beyond the fields; fields may be absent.
    Superset,
    /// Neither missing nor extra columns are reported.
    Partial,
}

#[derive(Debug, Clone)]
pub struct ForeignKey {
    pub fields: Vec<String>,
    /// The referenced resource's name; empty for the same table.
    pub resource: String,
    pub reference_fields: Vec<String>,
}

/// A parsed Table Schema.
#[derive(Debug, Clone)]
pub struct TableSchema {
    pub fields: Vec<Field>,
    pub primary_key: Vec<String>,
    pub foreign_keys: Vec<ForeignKey>,
    pub fields_match: FieldsMatch,
    /// Header names must match with their case (default: case-insensitive).
    pub header_case: bool,
}

impl TableSchema {
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|field| field.name == name)
    }
}

/// A schema and the entries it applies to.
#[derive(Debug, Clone)]
pub struct Binding {
    /// The descriptor file it came from.
    pub origin: PathBuf,
    /// The resource name (for foreign keys), when the descriptor gave one.
    pub resource: Option<String>,
    /// Globs over the source path, its file name and the table name; empty means every entry.
    pub selectors: Vec<(String, GlobMatcher)>,
    /// The workbook sheet this resource describes, if any.
    pub sheet: Option<String>,
    /// Sheets the workbook must have (`sheets` in the resource, plus `sheet`).
    pub required_sheets: Vec<String>,
    pub schema: Arc<TableSchema>,
}

impl Binding {
    /// Whether this binding applies to the entry (`sheet` is the entry's sheet, if any).
    pub fn applies_to(&self, source: &str, table: &str, sheet: Option<&str>) -> bool {
        if let (Some(wanted), Some(actual)) = (&self.sheet, sheet)
            && !wanted.eq_ignore_ascii_case(actual.trim())
        {
            return false;
        }
        if self.sheet.is_some() && sheet.is_none() && !self.selectors.is_empty() {
            return false;
        }
        self.selects_source(source, table)
    }

    /// Whether the source (ignoring sheets) is one this binding names.
    pub fn selects_source(&self, source: &str, table: &str) -> bool {
        if self.selectors.is_empty() {
            return true;
        }
        let file_name = Path::new(source)
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        let trimmed = source.strip_prefix("./").unwrap_or(source);
        let named = self
            .resource
            .as_deref()
            .is_some_and(|name| name.eq_ignore_ascii_case(table));
        named
            || self.selectors.iter().any(|(_, glob)| {
                glob.is_match(trimmed) || glob.is_match(&file_name) || glob.is_match(table)
            })
    }

    /// The name foreign keys use for this resource: its name, else its first path.
    pub fn name(&self) -> Option<&str> {
        self.resource.as_deref()
    }
}

/// Every schema given for a run, in the order given (the first that applies wins).
#[derive(Debug, Clone, Default)]
pub struct SchemaSet {
    pub bindings: Vec<Binding>,
}

impl SchemaSet {
    pub fn is_empty(&self) -> bool {
        self.bindings.is_empty()
    }

    /// The binding for an entry, if any applies.
    pub fn binding_for(&self, source: &str, table: &str, sheet: Option<&str>) -> Option<&Binding> {
        self.bindings
            .iter()
            .find(|binding| binding.applies_to(source, table, sheet))
    }

    /// A resource by name, for foreign keys.
    pub fn resource(&self, name: &str) -> Option<&Binding> {
        self.bindings
            .iter()
            .find(|binding| binding.resource.as_deref() == Some(name))
    }
}

fn fail(path: &Path, reason: impl std::fmt::Display) -> Error {
    Error::Invalid(format!("schema {}: {reason}", path.display()))
}
fn string_list(path: &Path, value: Option<&Value>, what: &str) -> Result<Option<Vec<String>>> {
    let Some(value) = value else { return Ok(None) };
    let items = match value {
        Value::String(one) => return Ok(Some(vec![one.clone()])),
        Value::Array(items) => items,
        _ => return Err(fail(path, format!("{what} must be a list of text"))),
    };
    items
        .iter()
        .map(|item| match item {
            Value::String(text) => Ok(text.clone()),
            Value::Number(n) => Ok(n.to_string()),
            _ => Err(fail(path, format!("{what} must be a list of text"))),
        })
        .collect::<Result<Vec<_>>>()
        .map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::field::FieldType;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn yaml_and_json_schemas_read_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let json = write(
            dir.path(),
            "s.json",
            r#"{"fields":[{"name":"age","type":"integer","constraints":{"minimum":0,"enum":[1,2]}}],"primaryKey":"age"}"#,
        );
        let yaml = write(
            dir.path(),
            "s.yaml",
            "fields:\n  - name: age\n    type: integer\n    constraints:\n      minimum: 0\n      enum: [1, 2]\nprimaryKey: age\n",
        );
        for path in [json, yaml] {
            let set = SchemaSet::load(&[path], &[]).unwrap();
            let schema = &set.bindings[0].schema;
            assert_eq!(schema.fields[0].field_type, FieldType::Integer);
            assert_eq!(schema.primary_key, ["age"]);
            assert_eq!(
                schema.fields[0].constraints.allowed.as_ref().unwrap().len(),
                2
            );
        }
    }

    #[test]
    fn broken_schemas_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            ("{", "not valid JSON"),
            (
                r#"{"fields":[{"name":"a","type":"integr"}]}"#,
                "unknown type",
            ),
            (
                r#"{"fields":[{"name":"a","constraints":{"pattern":"("}}]}"#,
                "not a valid regular expression",
            ),
            (
                r#"{"fields":[{"name":"a"}],"primaryKey":["b"]}"#,
                "not a field",
            ),
            (
                r#"{"fields":[{"name":"a","type":"integer","constraints":{"minimum":"x"}}]}"#,
                "not a valid integer",
            ),
            (r#"{"nothing":1}"#, "no \"fields\""),
        ];
        for (text, expected) in cases {
            let path = write(dir.path(), "bad.json", text);
            let err = SchemaSet::load(&[path], &[]).unwrap_err().to_string();
            assert!(err.contains(expected), "{text}: {err}");
        }
    }

    #[test]
    fn package_resources_select_by_path_and_sheet() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "p.json",
            r#"{"resources":[
                {"name":"patients","path":"data/patients*.csv","schema":{"fields":[{"name":"id"}]}},
                {"name":"visits","path":"clinic.xlsx","sheet":"Visits","sheets":["Visits","Staff"],"schema":{"fields":[{"name":"v"}]}}]}"#,
        );
        let set = SchemaSet::load(&[path], &[]).unwrap();
        assert_eq!(
            set.binding_for("data/patients_2024.csv", "patients_2024", None)
                .unwrap()
                .resource
                .as_deref(),
            Some("patients")
        );
        assert!(set.binding_for("other.csv", "other", None).is_none());
        let visits = set
            .binding_for("in/clinic.xlsx", "clinic_visits", Some("Visits"))
            .unwrap();
        assert_eq!(visits.required_sheets, ["Visits", "Staff"]);
        assert!(
            set.binding_for("in/clinic.xlsx", "clinic_staff", Some("Staff"))
                .is_none()
        );
    }
}
