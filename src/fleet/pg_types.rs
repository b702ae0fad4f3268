//! SQLite columns as PostgreSQL columns, and SQLite values as COPY text.
//!
//! Types follow the declared type: INTEGER -> bigint, REAL -> double precision, TEXT -> text,
//! BLOB -> bytea; the orchestration tables' JSON columns -> jsonb and TIMESTAMPTZ ->
//! timestamptz. SQLite tables are not STRICT, so a value may not fit its column (text in an
//! INTEGER column, `007` kept as a BLOB, a JSON text PostgreSQL refuses). Such a value is never
//! lost nor forced: the column gets NULL and the row's `_rssd_unfit` jsonb keeps the value
//! (`{"column": value}`), so a table keeps one stable type per column whatever a device sent.

use std::fmt::Write as _;

use rusqlite::types::ValueRef;
use serde_json::{Map, Value};

/// The jsonb column that keeps values that do not fit their column's type.
pub const UNFIT_COLUMN: &str = "_rssd_unfit";

/// A PostgreSQL column type rssd writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PgType {
    BigInt,
    Double,
    Text,
    Bytea,
    Jsonb,
    Timestamptz,
}

impl PgType {
    pub fn sql(self) -> &'static str {
        match self {
            PgType::BigInt => "bigint",
            PgType::Double => "double precision",
            PgType::Text => "text",
            PgType::Bytea => "bytea",
            PgType::Jsonb => "jsonb",
            PgType::Timestamptz => "timestamp with time zone",
        }
    }

    /// The type of a loaded table's column, from its declared type by SQLite's affinity
    /// rules (a column without a type holds anything: text, others unfit).
    pub fn for_loaded(declared: &str) -> PgType {
        let upper = declared.to_ascii_uppercase();
        if upper.contains("INT") {
            PgType::BigInt
        } else if upper.contains("CHAR") || upper.contains("CLOB") || upper.contains("TEXT") {
            PgType::Text
        } else if upper.contains("BLOB") {
            PgType::Bytea
        } else if upper.contains("REAL") || upper.contains("FLOA") || upper.contains("DOUB") {
            PgType::Double
        } else {
            PgType::Text
        }
    }

    /// The type of an orchestration table's column: JSON-checked columns are jsonb,
    /// TIMESTAMPTZ is timestamptz. `exec_status` stays text: scripts store 'SUCCESS' there.
    pub fn for_orchestration(column: &str, declared: &str, json: bool) -> PgType {
        let upper = declared.to_ascii_uppercase();
        if json {
            PgType::Jsonb
        } else if upper.contains("TIMESTAMP") {
            PgType::Timestamptz
        } else if upper.contains("INT") && column != "exec_status" {
            PgType::BigInt
        } else {
            PgType::Text
        }
    }
}

/// Appends one value as a COPY text field, or records it in `unfit` and appends `\N`.
pub fn write_field(
    out: &mut Vec<u8>,
    pg: PgType,
    value: ValueRef<'_>,
    column: &str,
    unfit: &mut Map<String, Value>,
) {
    if !write_fitting(out, pg, value) {
        unfit.insert(column.to_string(), unfit_value(value));
        out.extend_from_slice(b"\\N");
    }
}

/// Writes the value if it fits `pg` exactly; false (nothing written) when it does not.
fn write_fitting(out: &mut Vec<u8>, pg: PgType, value: ValueRef<'_>) -> bool {
    match (pg, value) {
        (_, ValueRef::Null) => out.extend_from_slice(b"\\N"),
        (PgType::BigInt, ValueRef::Integer(i)) => write_integer(out, i),
        (PgType::Double, ValueRef::Integer(i))
            if (i as f64) as i64 == i && i.unsigned_abs() < (1 << 53) =>
        {
            write_integer(out, i)
        }
        (PgType::Double, ValueRef::Real(f)) => write_double(out, f),
        (PgType::Text, ValueRef::Text(bytes)) => match std::str::from_utf8(bytes) {
            Ok(text) if !text.contains('\0') => escape_into(out, text),
            _ => return false,
        },
        (PgType::Text, ValueRef::Integer(i)) => write_integer(out, i),
        (PgType::Text, ValueRef::Real(f)) => write_real_text(out, f),
        (PgType::Bytea, ValueRef::Blob(bytes)) => {
            out.extend_from_slice(b"\\\\x");
            for byte in bytes {
                let _ = write!(Bytes(out), "{byte:02x}");
            }
        }
        (PgType::Jsonb, ValueRef::Text(bytes)) => match std::str::from_utf8(bytes) {
            Ok(text) if jsonb_accepts(text) => escape_into(out, text),
            _ => return false,
        },
        (PgType::Timestamptz, ValueRef::Text(bytes)) => match std::str::from_utf8(bytes) {
            Ok(text) if is_timestamp(text) => escape_into(out, text),
            _ => return false,
        },
        _ => return false,
    }
    true
}

/// A `fmt::Write` over the byte buffer, so numbers format without a temporary String.
struct Bytes<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for Bytes<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

// itoa and ryu (already built for serde_json) format a push's millions of numbers several
// times faster than `fmt`, and the push's CPU competes with the server's on a small machine.
fn write_integer(out: &mut Vec<u8>, i: i64) {
    out.extend_from_slice(itoa::Buffer::new().format(i).as_bytes());
}

fn write_double(out: &mut Vec<u8>, f: f64) {
    if f.is_nan() {
        out.extend_from_slice(b"NaN");
    } else if f.is_infinite() {
        out.extend_from_slice(if f > 0.0 { b"Infinity" } else { b"-Infinity" });
    } else {
        // The shortest representation that reads back to the same double.
        out.extend_from_slice(ryu::Buffer::new().format_finite(f).as_bytes());
    }
}

fn write_real_text(out: &mut Vec<u8>, f: f64) {
    let _ = write!(Bytes(out), "{f:?}");
}

/// COPY text format: backslash, tab, newline and carriage return are escaped.
fn escape_into(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    if memchr::memchr3(b'\\', b'\t', b'\n', bytes).is_none()
        && memchr::memchr(b'\r', bytes).is_none()
    {
        out.extend_from_slice(bytes);
        return;
    }
    for &byte in bytes {
        match byte {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            _ => out.push(byte),
        }
    }
}

/// Valid JSON that PostgreSQL's jsonb takes: it refuses the escape `\u0000`.
fn jsonb_accepts(text: &str) -> bool {
    !text.contains("\\u0000") && serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok()
}

/// SQLite's timestamp texts: `YYYY-MM-DD HH:MM:SS[.fff]`, a `T` between, an optional `Z` or
/// offset; each read by PostgreSQL as UTC unless it says otherwise.
fn is_timestamp(text: &str) -> bool {
    let trimmed = text.trim_end_matches('Z');
    let (main, _offset) = match trimmed.rfind(['+', '-']) {
        Some(at) if at > 10 => (&trimmed[..at], Some(&trimmed[at..])),
        _ => (trimmed, None),
    };
    let main = main.replacen('T', " ", 1);
    chrono::NaiveDateTime::parse_from_str(&main, "%Y-%m-%d %H:%M:%S%.f").is_ok()
        || chrono::NaiveDate::parse_from_str(&main, "%Y-%m-%d").is_ok()
}

/// A value as it goes into `_rssd_unfit`: numbers and texts as JSON, anything PostgreSQL's
/// jsonb cannot hold (a NUL, invalid UTF-8, a blob) as hexadecimal.
pub fn unfit_value(value: ValueRef<'_>) -> Value {
    let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
    match value {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::from(i),
        ValueRef::Real(f) => serde_json::Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or_else(|| Value::String(f.to_string())),
        ValueRef::Text(bytes) => match std::str::from_utf8(bytes) {
            Ok(text) if !text.contains('\0') => Value::String(text.to_string()),
            _ => serde_json::json!({"text_hex": hex(bytes)}),
        },
        ValueRef::Blob(bytes) => serde_json::json!({"blob_hex": hex(bytes)}),
    }
}

/// Appends the `_rssd_unfit` field: `\N` when every value fitted.
pub fn write_unfit(out: &mut Vec<u8>, unfit: &Map<String, Value>) {
    if unfit.is_empty() {
        out.extend_from_slice(b"\\N");
    } else {
        let text = Value::Object(unfit.clone()).to_string();
        escape_into(out, &text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(pg: PgType, value: ValueRef<'_>) -> (String, Map<String, Value>) {
        let mut out = Vec::new();
        let mut unfit = Map::new();
        write_field(&mut out, pg, value, "c", &mut unfit);
        (String::from_utf8(out).unwrap(), unfit)
    }

    #[test]
    fn values_that_fit_are_written_exactly() {
        assert_eq!(field(PgType::Text, ValueRef::Text(b"007")).0, "007");
        assert_eq!(field(PgType::BigInt, ValueRef::Integer(-7)).0, "-7");
        assert_eq!(field(PgType::Double, ValueRef::Real(0.1)).0, "0.1");
        assert_eq!(
            field(PgType::BigInt, ValueRef::Integer(i64::MIN)).0,
            i64::MIN.to_string()
        );
        // Every double reads back as itself from the text PostgreSQL is sent.
        for f in [1e300, -0.0, 5e-324, 123456.789, f64::MAX, 1.0 / 3.0] {
            let text = field(PgType::Double, ValueRef::Real(f)).0;
            assert_eq!(
                text.parse::<f64>().map(f64::to_bits),
                Ok(f.to_bits()),
                "{text}"
            );
        }
        assert_eq!(field(PgType::Double, ValueRef::Real(f64::NAN)).0, "NaN");
        assert_eq!(field(PgType::Text, ValueRef::Text(b"a\rb")).0, "a\\rb");
        assert_eq!(
            field(PgType::Text, ValueRef::Text(b"a\tb\\\n")).0,
            "a\\tb\\\\\\n"
        );
        assert_eq!(
            field(PgType::Bytea, ValueRef::Blob(&[0, 255])).0,
            "\\\\x00ff"
        );
        assert_eq!(
            field(PgType::Timestamptz, ValueRef::Text(b"2026-01-02 03:04:05")).0,
            "2026-01-02 03:04:05"
        );
        assert_eq!(
            field(PgType::Jsonb, ValueRef::Text(b"{\"a\":1}")).0,
            "{\"a\":1}"
        );
    }

    #[test]
    fn values_that_do_not_fit_are_kept_in_unfit() {
        let (text, unfit) = field(PgType::BigInt, ValueRef::Text(b"SUCCESS"));
        assert_eq!(text, "\\N");
        assert_eq!(unfit["c"], "SUCCESS");
        let (_, unfit) = field(PgType::BigInt, ValueRef::Blob(b"007"));
        assert_eq!(unfit["c"]["blob_hex"], "303037");
        let (_, unfit) = field(PgType::Jsonb, ValueRef::Text(b"\"\\u0000\""));
        assert_eq!(unfit["c"], "\"\\u0000\"");
        let (_, unfit) = field(PgType::Text, ValueRef::Text(b"a\0b"));
        assert_eq!(unfit["c"]["text_hex"], "610062");
        let (_, unfit) = field(PgType::Timestamptz, ValueRef::Text(b"yesterday"));
        assert_eq!(unfit["c"], "yesterday");
        let (_, unfit) = field(PgType::Double, ValueRef::Integer(i64::MAX));
        assert_eq!(unfit["c"], i64::MAX);
    }

    #[test]
    fn declared_types_map_by_affinity() {
        assert_eq!(PgType::for_loaded("INTEGER"), PgType::BigInt);
        assert_eq!(PgType::for_loaded("REAL"), PgType::Double);
        assert_eq!(PgType::for_loaded("TEXT"), PgType::Text);
        assert_eq!(PgType::for_loaded(""), PgType::Text);
        assert_eq!(
            PgType::for_orchestration("exec_status", "INTEGER", false),
            PgType::Text
        );
        assert_eq!(
            PgType::for_orchestration("created_at", "TIMESTAMPTZ", false),
            PgType::Timestamptz
        );
    }
}
