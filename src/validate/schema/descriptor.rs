//! Descriptor files into bindings: `--schema` and `--schema-for` files, packages, resources
//! and bare Table Schemas, JSON or YAML.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use globset::{Glob, GlobMatcher};
use serde_json::{Map, Value};

use super::table_schema::parse_table_schema;
use super::{Binding, SchemaSet, fail, string_list};
use crate::{Error, Result};

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
