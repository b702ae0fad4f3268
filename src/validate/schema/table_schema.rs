//! A Table Schema object into a [`TableSchema`]: fields with their options and constraints,
//! primary and foreign keys, header matching.

use std::path::Path;

use regex::Regex;
use serde_json::{Map, Value};

use super::{FieldsMatch, ForeignKey, TableSchema, fail, string_list};
use crate::Result;
use crate::state::Severity;
use crate::validate::field::{Bound, Cast, Constraints, Field, FieldType};

pub(super) fn parse_table_schema(path: &Path, value: &Value) -> Result<TableSchema> {
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
    let primary_key = field_names(path, &fields, object.get("primaryKey"), "primaryKey")?;
    let foreign_keys = match object.get("foreignKeys") {
        Some(keys) => parse_foreign_keys(path, &fields, keys)?,
        None => Vec::new(),
    };
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

/// Names of fields (`primaryKey`, a foreign key's `fields`), each a field of the schema.
fn field_names(
    path: &Path,
    fields: &[Field],
    value: Option<&Value>,
    what: &str,
) -> Result<Vec<String>> {
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
}

fn parse_foreign_keys(path: &Path, fields: &[Field], keys: &Value) -> Result<Vec<ForeignKey>> {
    let keys = keys
        .as_array()
        .ok_or_else(|| fail(path, "\"foreignKeys\" must be an array"))?;
    let mut foreign_keys = Vec::new();
    for key in keys {
        let local = field_names(path, fields, key.get("fields"), "foreignKeys.fields")?;
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
    Ok(foreign_keys)
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
