//! Printing listings as an aligned text table, JSON or CSV (`--format table|json|csv`).

use std::io::Write;

use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
}

/// A listing: column headers and rows of cells.
pub struct Listing {
    pub headers: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
}

impl Listing {
    pub fn new(headers: Vec<&'static str>) -> Listing {
        Listing {
            headers,
            rows: Vec::new(),
        }
    }

    pub fn push(&mut self, row: Vec<String>) {
        self.rows.push(row);
    }

    /// Writes the listing as an aligned table (widths in characters) or as CSV.
    pub fn write(&self, format: Format, out: &mut dyn Write) -> std::io::Result<()> {
        match format {
            Format::Csv => {
                let mut writer = csv::Writer::from_writer(out);
                writer.write_record(&self.headers)?;
                for row in &self.rows {
                    writer.write_record(row)?;
                }
                writer.flush()
            }
            Format::Table | Format::Json => write_aligned(&self.headers, &self.rows, out),
        }
    }
}

/// Writes headers and rows as a table aligned on character widths, control characters shown
/// as spaces.
pub fn write_aligned(
    headers: &[&str],
    rows: &[Vec<String>],
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(width) = widths.get_mut(i) {
                *width = (*width).max(display_cell(cell).chars().count());
            }
        }
    }
    let line = |cells: Vec<String>, out: &mut dyn Write| -> std::io::Result<()> {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        writeln!(out, "{}", padded.join("  ").trim_end())
    };
    line(headers.iter().map(|h| h.to_string()).collect(), out)?;
    for row in rows {
        line(row.iter().map(|c| display_cell(c)).collect(), out)?;
    }
    Ok(())
}

/// Cell text for a terminal table: control characters shown, not obeyed.
fn display_cell(cell: &str) -> String {
    cell.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Pretty JSON followed by a newline.
pub fn write_json<T: Serialize>(value: &T, out: &mut dyn Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    writeln!(out)
}

/// An optional cell as text: `-` when absent.
pub fn cell<T: ToString>(value: Option<T>) -> String {
    value
        .map(|v| v.to_string())
        .unwrap_or_else(|| "-".to_string())
}

/// A JSON value as one cell of text.
pub fn json_cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}
