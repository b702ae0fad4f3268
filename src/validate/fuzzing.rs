//! Entry point for the `fields` fuzz target (`fuzz/`) and the test that replays its findings:
//! one cell's text through every field type, format and option the checks support. The
//! checks read text from hostile files, so any panic here is a finding. Not a stable API.

use std::path::Path;

use super::field::{Field, Problem};
use super::schema::load_descriptor;

/// A Table Schema with a field for every type and format, and the options that change how
/// text is read (decimal and group characters, bare numbers, true/false and missing values,
/// date patterns) and every constraint.
pub const SAMPLE_SCHEMA: &str = r#"{"missingValues": ["", "NA"], "fields": [
  {"name": "text", "type": "string", "constraints": {"required": true, "minLength": 2, "maxLength": 5, "pattern": "[A-Z][a-z]+"}},
  {"name": "email", "type": "string", "format": "email"},
  {"name": "uri", "type": "string", "format": "uri"},
  {"name": "uuid", "type": "string", "format": "uuid"},
  {"name": "binary", "type": "string", "format": "binary"},
  {"name": "choice", "type": "string", "constraints": {"enum": ["Yes", "No"]}},
  {"name": "integer", "type": "integer", "constraints": {"minimum": -5, "maximum": 100, "unique": true}},
  {"name": "loose_integer", "type": "integer", "bareNumber": false, "groupChar": ","},
  {"name": "number", "type": "number", "constraints": {"exclusiveMinimum": 0, "exclusiveMaximum": 1e6}},
  {"name": "european", "type": "number", "decimalChar": ",", "groupChar": ".", "bareNumber": false},
  {"name": "number_enum", "type": "number", "constraints": {"enum": [1.5, 2]}},
  {"name": "flag", "type": "boolean", "trueValues": ["Y", "oui"], "falseValues": ["N", "non"]},
  {"name": "date", "type": "date", "constraints": {"minimum": "2000-01-01"}},
  {"name": "date_pattern", "type": "date", "format": "%d/%m/%Y"},
  {"name": "date_any", "type": "date", "format": "any"},
  {"name": "time", "type": "time"},
  {"name": "time_pattern", "type": "time", "format": "%H:%M"},
  {"name": "datetime", "type": "datetime", "constraints": {"maximum": "2030-01-01T00:00:00Z"}},
  {"name": "datetime_any", "type": "datetime", "format": "any"},
  {"name": "year", "type": "year", "constraints": {"minimum": 1900}},
  {"name": "yearmonth", "type": "yearmonth"},
  {"name": "duration", "type": "duration"},
  {"name": "point", "type": "geopoint"},
  {"name": "point_array", "type": "geopoint", "format": "array"},
  {"name": "point_object", "type": "geopoint", "format": "object"},
  {"name": "object", "type": "object", "constraints": {"minLength": 1}},
  {"name": "array", "type": "array", "constraints": {"maxLength": 3}},
  {"name": "any", "type": "any", "constraints": {"enum": ["x", "1"]}}
]}"#;

/// The fields of [`SAMPLE_SCHEMA`], read through the schema loader (which writes it to
/// `dir/sample.schema.json`).
pub fn sample_fields(dir: &Path) -> crate::Result<Vec<Field>> {
    let path = dir.join("sample.schema.json");
    std::fs::write(&path, SAMPLE_SCHEMA)?;
    let mut bindings = load_descriptor(&path)?;
    Ok(bindings.remove(0).schema.fields.clone())
}

/// Checks `text` against every field, casts it, and compares and keys each value it casts
/// to (what uniqueness and ranges use). Returns the problems found, to show the checks ran.
pub fn check_cell(fields: &[Field], text: &str) -> usize {
    let mut problems: Vec<Problem> = Vec::new();
    for field in fields {
        let kept = field.check(text, &mut problems);
        if let Some(value) = field.cast(text) {
            let _ = value.compare(&value);
            let _ = value.key();
            if let Some(kept) = kept {
                let _ = kept.compare(&value);
            }
        }
    }
    problems.len()
}

/// Cells every schema's fields are tried on in [`load_and_check`].
const TRY_CELLS: [&str; 8] = [
    "",
    "1",
    "-2.5",
    "2024-01-02",
    "12:30:00",
    "true",
    "x",
    "1.234,5",
];

/// The `schema` fuzz target: `bytes` as a descriptor (the first byte picks `.json` or
/// `.yaml`), loaded as `--schema` loads it; when it loads, its fields check a few cells. A
/// schema may be refused with an error, never with a panic.
pub fn load_and_check(dir: &Path, bytes: &[u8]) {
    let Some((&pick, text)) = bytes.split_first() else {
        return;
    };
    let path = dir.join(if pick % 2 == 0 {
        "fuzz.schema.json"
    } else {
        "fuzz.schema.yaml"
    });
    if std::fs::write(&path, text).is_err() {
        return;
    }
    if let Ok(bindings) = load_descriptor(&path) {
        for binding in bindings {
            for cell in TRY_CELLS {
                check_cell(&binding.schema.fields, cell);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_schema_loads_and_its_checks_find_problems() {
        let dir = tempfile::tempdir().unwrap();
        let fields = sample_fields(dir.path()).unwrap();
        assert_eq!(fields.len(), 28);
        // A value that fits some fields and fails most.
        let found = check_cell(&fields, "12");
        assert!(found > 10 && found < fields.len() * 2, "{found}");
        // A missing value: only the required field complains.
        assert_eq!(check_cell(&fields, "NA"), 1);
    }

    /// Every finding of the `fields` and `schema` fuzz targets, kept in
    /// `fuzz/regressions/`, goes through the checks again without a panic.
    #[test]
    fn fuzz_findings_no_longer_panic() {
        let dir = tempfile::tempdir().unwrap();
        let fields = sample_fields(dir.path()).unwrap();
        let kept = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
        let mut replayed = 0;
        for entry in std::fs::read_dir(kept.join("fields")).unwrap() {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap();
            check_cell(&fields, &String::from_utf8_lossy(&bytes));
            replayed += 1;
        }
        assert!(replayed >= 2);
        if let Ok(entries) = std::fs::read_dir(kept.join("schema")) {
            for entry in entries {
                load_and_check(dir.path(), &std::fs::read(entry.unwrap().path()).unwrap());
            }
        }
    }
}
