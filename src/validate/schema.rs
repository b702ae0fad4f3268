//! Reading Table Schema, Data Resource and Data Package descriptors (JSON or YAML), and
//! deciding which schema applies to which file, sheet or table.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use globset::{Glob, GlobMatcher};
use regex::Regex;
use serde_json::{Map, Value};

use super::field::{Bound, Cast, Constraints, Field, FieldType};
use crate::state::Severity;
use crate::{Error, Result};

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
    /// Loads `--schema FILE` descriptors and `--schema-for GLOB=FILE` pairs. Any problem is
    /// an [`Error::Invalid`] naming the file and what is wrong, before anything is written.
    pub fn load(schemas: &[PathBuf], schema_for: &[String]) -> Result<SchemaSet> {
        let mut set = SchemaSet::default();
        for spec in schema_for {
            let (glob, path) = spec.split_once('=').ok_or_else(|| {
                Error::Invalid(format!("--schema-for {spec:?}: expected GLOB=FILE"))
            })?;
            let mut bindings = load_descriptor(Path::new(path))?;
            let selector = (glob.to_string(), compile_glob(glob, Path::new(path))?);
            for binding in &mut bindings {
                binding.selectors = vec![selector.clone()];
            }
            set.bindings.extend(bindings);
        }
        for path in schemas {
            set.bindings.extend(load_descriptor(path)?);
        }
        Ok(set)
    }

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

/// A relative glob matches a source path that ends with it (`incoming/*.csv` matches
/// `/data/incoming/a.csv`), since resource paths are relative to wherever the files are.
fn compile_glob(glob: &str, origin: &Path) -> Result<GlobMatcher> {
    let trimmed = glob.strip_prefix("./").unwrap_or(glob);
    let pattern = if trimmed.starts_with('/') || trimmed.starts_with("**") {
        trimmed.to_string()
    } else {
        format!("{{{trimmed},**/{trimmed}}}")
    };
    Glob::new(&pattern)
        .map(|glob| glob.compile_matcher())
        .map_err(|err| fail(origin, format!("bad path glob {glob:?}: {err}")))
}

/// Reads a descriptor file as JSON or YAML.
fn read_descriptor(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path).map_err(|err| fail(path, err))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let extension = path
        .extension()
        .map(|ext| ext.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let value: Value = if extension == "yaml" || extension == "yml" {
        serde_yaml_ng::from_str(text).map_err(|err| fail(path, format!("not valid YAML: {err}")))?
    } else {
        serde_json::from_str(text).map_err(|err| fail(path, format!("not valid JSON: {err}")))?
    };
    if !value.is_object() {
        return Err(fail(path, "a descriptor must be an object"));
    }
    Ok(value)
}

/// A descriptor file into bindings: one per resource of a package, one for a resource, one
/// (applying everywhere) for a bare Table Schema.
pub fn load_descriptor(path: &Path) -> Result<Vec<Binding>> {
    let descriptor = read_descriptor(path)?;
    let base = path.parent().unwrap_or(Path::new("."));
    if let Some(resources) = descriptor.get("resources") {
        let resources = resources
            .as_array()
            .ok_or_else(|| fail(path, "\"resources\" must be an array"))?;
        if resources.is_empty() {
            return Err(fail(path, "the package has no resources"));
        }
        return resources
            .iter()
            .enumerate()
            .map(|(i, resource)| {
                let resource = resource
                    .as_object()
                    .ok_or_else(|| fail(path, format!("resources[{i}] must be an object")))?;
                resource_binding(path, base, resource)
            })
            .collect();
    }
    if descriptor.get("schema").is_some() || descriptor.get("path").is_some() {
        let resource = descriptor.as_object().expect("checked to be an object");
        return Ok(vec![resource_binding(path, base, resource)?]);
    }
    let schema = parse_table_schema(path, &descriptor)?;
    Ok(vec![Binding {
        origin: path.to_path_buf(),
        resource: None,
        selectors: Vec::new(),
        sheet: None,
        required_sheets: Vec::new(),
        schema: Arc::new(schema),
    }])
}

fn resource_binding(path: &Path, base: &Path, resource: &Map<String, Value>) -> Result<Binding> {
    let name = resource
        .get("name")
        .and_then(Value::as_str)
        .map(str::to_string);
    let label = name.clone().unwrap_or_else(|| "a resource".to_string());
    let schema_value = match resource.get("schema") {
        Some(Value::String(relative)) => read_descriptor(&base.join(relative))?,
        Some(inline @ Value::Object(_)) => inline.clone(),
        Some(_) => {
            return Err(fail(
                path,
                format!("{label}: \"schema\" must be an object or a path"),
            ));
        }
        None => return Err(fail(path, format!("{label}: has no \"schema\""))),
    };
    let schema = parse_table_schema(path, &schema_value)?;
    let paths: Vec<String> = match resource.get("path") {
        Some(Value::String(one)) => vec![one.clone()],
        Some(Value::Array(many)) => many
            .iter()
            .map(|p| {
                p.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| fail(path, format!("{label}: \"path\" entries must be text")))
            })
            .collect::<Result<_>>()?,
        Some(_) => {
            return Err(fail(
                path,
                format!("{label}: \"path\" must be text or a list"),
            ));
        }
        None => Vec::new(),
    };
    let mut selectors = Vec::new();
    for glob in paths.iter().chain(name.iter().filter(|_| paths.is_empty())) {
        selectors.push((glob.clone(), compile_glob(glob, path)?));
    }
    let dialect = resource.get("dialect");
    let sheet = resource
        .get("sheet")
        .or_else(|| dialect.and_then(|d| d.get("sheet")))
        .or_else(|| {
            dialect
                .and_then(|d| d.get("excel"))
                .and_then(|e| e.get("sheet"))
        })
        .map(|value| match value {
            Value::String(text) => Ok(text.clone()),
            _ => Err(fail(
                path,
                format!("{label}: \"sheet\" must be a sheet name"),
            )),
        })
        .transpose()?;
    let mut required_sheets =
        string_list(path, resource.get("sheets"), &format!("{label}: sheets"))?.unwrap_or_default();
    if let Some(sheet) = &sheet
        && !required_sheets
            .iter()
            .any(|s| s.eq_ignore_ascii_case(sheet))
    {
        required_sheets.push(sheet.clone());
    }
    Ok(Binding {
        origin: path.to_path_buf(),
        resource: name,
        selectors,
        sheet,
        required_sheets,
        schema: Arc::new(schema),
    })
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

fn parse_table_schema(path: &Path, value: &Value) -> Result<TableSchema> {
    let object = value
        .as_object()
        .ok_or_else(|| fail(path, "a Table Schema must be an object"))?;
    let fields_value = object
        .get("fields")
        .ok_or_else(|| fail(path, "not a Table Schema, Data Resource or Data Package: no \"fields\", \"schema\" or \"resources\""))?
        .as_array()
        .ok_or_else(|| fail(path, "\"fields\" must be an array"))?;
    let missing_values = string_list(path, object.get("missingValues"), "missingValues")?
        .unwrap_or_else(|| vec![String::new()]);
    let mut fields = Vec::with_capacity(fields_value.len());
    for (i, field_value) in fields_value.iter().enumerate() {
        let field = parse_field(path, i, field_value, &missing_values)?;
        if fields.iter().any(|other: &Field| other.name == field.name) {
            return Err(fail(
                path,
                format!("field {:?} is declared twice", field.name),
            ));
        }
        fields.push(field);
    }
    let field_names = |value: Option<&Value>, what: &str| -> Result<Vec<String>> {
        let names = string_list(path, value, what)?.unwrap_or_default();
        for name in &names {
            if !fields.iter().any(|field| &field.name == name) {
                return Err(fail(
                    path,
                    format!("{what} names {name:?}, which is not a field"),
                ));
            }
        }
        Ok(names)
    };
    let primary_key = field_names(object.get("primaryKey"), "primaryKey")?;
    let mut foreign_keys = Vec::new();
    if let Some(keys) = object.get("foreignKeys") {
        let keys = keys
            .as_array()
            .ok_or_else(|| fail(path, "\"foreignKeys\" must be an array"))?;
        for key in keys {
            let local = field_names(key.get("fields"), "foreignKeys.fields")?;
            let reference = key
                .get("reference")
                .ok_or_else(|| fail(path, "a foreign key has no \"reference\""))?;
            let resource = match reference.get("resource") {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(name)) => name.clone(),
                Some(_) => return Err(fail(path, "foreignKeys.reference.resource must be text")),
            };
            let reference_fields = string_list(
                path,
                reference.get("fields"),
                "foreignKeys.reference.fields",
            )?
            .unwrap_or_default();
            if local.is_empty() || local.len() != reference_fields.len() {
                return Err(fail(
                    path,
                    "a foreign key needs as many reference fields as fields",
                ));
            }
            foreign_keys.push(ForeignKey {
                fields: local,
                resource,
                reference_fields,
            });
        }
    }
    for field in &mut fields {
        field.keep_value = field.constraints.unique || primary_key.contains(&field.name);
    }
    let fields_match = match object.get("fieldsMatch").and_then(Value::as_str) {
        None | Some("subset") => FieldsMatch::Subset,
        Some("exact" | "equal") => FieldsMatch::Equal,
        Some("superset") => FieldsMatch::Superset,
        Some("partial") => FieldsMatch::Partial,
        Some(other) => {
            return Err(fail(
                path,
                format!("fieldsMatch {other:?} is not exact, equal, subset, superset or partial"),
            ));
        }
    };
    let header_case = match object.get("headerCase") {
        None => false,
        Some(Value::Bool(flag)) => *flag,
        Some(_) => return Err(fail(path, "\"headerCase\" must be true or false")),
    };
    Ok(TableSchema {
        fields,
        primary_key,
        foreign_keys,
        fields_match,
        header_case,
    })
}

fn parse_field(
    path: &Path,
    index: usize,
    value: &Value,
    schema_missing: &[String],
) -> Result<Field> {
    let object = value
        .as_object()
        .ok_or_else(|| fail(path, format!("fields[{index}] must be an object")))?;
    let name = object
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| fail(path, format!("fields[{index}] has no \"name\"")))?;
    let here = |reason: String| fail(path, format!("field {name:?}: {reason}"));
    let type_name = object
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("string");
    let field_type =
        FieldType::parse(type_name).ok_or_else(|| here(format!("unknown type {type_name:?}")))?;
    let mut field = Field::new(name, field_type);
    if let Some(format) = object.get("format") {
        field.format = format
            .as_str()
            .ok_or_else(|| here("\"format\" must be text".into()))?
            .to_string();
        check_format(&field).map_err(here)?;
    }
    let text_list =
        |key: &str| string_list(path, object.get(key), &format!("field {name:?}: {key}"));
    if let Some(values) = text_list("trueValues")? {
        field.true_values = values;
    }
    if let Some(values) = text_list("falseValues")? {
        field.false_values = values;
    }
    field.missing_values = text_list("missingValues")?.unwrap_or_else(|| schema_missing.to_vec());
    if let Some(decimal) = object.get("decimalChar") {
        field.decimal_char = decimal
            .as_str()
            .ok_or_else(|| here("\"decimalChar\" must be text".into()))?
            .to_string();
    }
    if let Some(group) = object.get("groupChar") {
        field.group_char = Some(
            group
                .as_str()
                .ok_or_else(|| here("\"groupChar\" must be text".into()))?
                .to_string(),
        );
    }
    if let Some(bare) = object.get("bareNumber") {
        field.bare_number = bare
            .as_bool()
            .ok_or_else(|| here("\"bareNumber\" must be true or false".into()))?;
    }
    if let Some(severity) = object
        .get("severity")
        .or_else(|| object.get("rssd:severity"))
    {
        field.severity = severity
            .as_str()
            .and_then(Severity::parse)
            .ok_or_else(|| here("\"severity\" must be error or warning".into()))?;
    }
    if let Some(constraints) = object.get("constraints") {
        let constraints = constraints
            .as_object()
            .ok_or_else(|| here("\"constraints\" must be an object".into()))?;
        field.constraints = parse_constraints(&field, constraints).map_err(here)?;
    }
    Ok(field)
}

fn check_format(field: &Field) -> std::result::Result<(), String> {
    let format = field.format.as_str();
    let known: &[&str] = match field.field_type {
        FieldType::String => &["default", "email", "uri", "uuid", "binary"],
        FieldType::Geopoint => &["default", "array", "object"],
        FieldType::Date | FieldType::Time | FieldType::Datetime => {
            if format == "default" || format == "any" {
                return Ok(());
            }
            let pattern = format.strip_prefix("fmt:").unwrap_or(format);
            // A pattern chrono cannot read would fail every cell: refuse it up front.
            return if chrono::format::StrftimeItems::new(pattern)
                .any(|item| matches!(item, chrono::format::Item::Error))
            {
                Err(format!(
                    "date pattern {format:?} is not a valid strftime pattern"
                ))
            } else {
                Ok(())
            };
        }
        _ => &["default"],
    };
    if known.contains(&format) {
        Ok(())
    } else {
        Err(format!(
            "format {format:?} is not known for type {}",
            field.field_type.name()
        ))
    }
}

fn parse_constraints(
    field: &Field,
    object: &Map<String, Value>,
) -> std::result::Result<Constraints, String> {
    let mut c = Constraints::default();
    let flag = |key: &str| -> std::result::Result<bool, String> {
        match object.get(key) {
            None => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(format!("constraint {key} must be true or false")),
        }
    };
    let length = |key: &str| -> std::result::Result<Option<usize>, String> {
        match object.get(key) {
            None => Ok(None),
            Some(value) => value
                .as_u64()
                .map(|n| Some(n as usize))
                .ok_or_else(|| format!("constraint {key} must be a non-negative integer")),
        }
    };
    let bound = |key: &str| -> std::result::Result<Option<Bound>, String> {
        let Some(value) = object.get(key) else {
            return Ok(None);
        };
        let text = json_text(value);
        let cast = cast_constraint(field, value).ok_or_else(|| {
            format!(
                "constraint {key} {text:?} is not a valid {}",
                field.field_type.name()
            )
        })?;
        Ok(Some(Bound { value: cast, text }))
    };
    c.required = flag("required")?;
    c.unique = flag("unique")?;
    c.min_length = length("minLength")?;
    c.max_length = length("maxLength")?;
    c.minimum = bound("minimum")?;
    c.maximum = bound("maximum")?;
    c.exclusive_minimum = bound("exclusiveMinimum")?;
    c.exclusive_maximum = bound("exclusiveMaximum")?;
    if let Some(pattern) = object.get("pattern") {
        let pattern = pattern
            .as_str()
            .ok_or_else(|| "constraint pattern must be text".to_string())?;
        // The whole value must match, as in the specification (XML Schema patterns).
        let regex = Regex::new(&format!("^(?:{pattern})$")).map_err(|err| {
            format!("pattern {pattern:?} is not a valid regular expression: {err}")
        })?;
        c.pattern = Some((pattern.to_string(), regex));
    }
    if let Some(values) = object.get("enum") {
        let values = values
            .as_array()
            .ok_or_else(|| "constraint enum must be a list".to_string())?;
        let mut allowed = Vec::with_capacity(values.len());
        for value in values {
            let text = json_text(value);
            let cast = cast_constraint(field, value).ok_or_else(|| {
                format!(
                    "enum value {text:?} is not a valid {}",
                    field.field_type.name()
                )
            })?;
            allowed.push((cast, text));
        }
        c.allowed = Some(allowed);
    }
    Ok(c)
}

fn json_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// Casts a constraint's value (JSON number, boolean or text) by the field's type.
fn cast_constraint(field: &Field, value: &Value) -> Option<Cast> {
    match (field.field_type, value) {
        (FieldType::Integer, Value::Number(n)) => n
            .as_i64()
            .map(|n| Cast::Integer(n as i128))
            .or_else(|| n.as_f64().map(Cast::Number)),
        (FieldType::Number, Value::Number(n)) => n.as_f64().map(Cast::Number),
        (FieldType::Boolean, Value::Bool(b)) => Some(Cast::Boolean(*b)),
        (FieldType::Year, Value::Number(n)) => n.as_i64().map(|n| Cast::Year(n as i32)),
        (FieldType::Object | FieldType::Array, value) if !value.is_string() => {
            Some(Cast::Json(value.clone()))
        }
        (_, Value::String(text)) => {
            // Bounds are written in the canonical form, whatever the cells' format.
            let mut canonical = field.clone();
            canonical.decimal_char = ".".into();
            canonical.group_char = None;
            canonical.bare_number = true;
            canonical.cast(text).or_else(|| {
                canonical.format = "default".into();
                canonical.cast(text)
            })
        }
        (FieldType::String | FieldType::Any, other) => Some(Cast::Text(other.to_string())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
