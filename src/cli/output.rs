//! Printing listings as an aligned text table, JSON or CSV (`--format table|json|csv`).

use std::io::Write;

use serde::Serialize;

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

/// True when writing failed only because the reader went away (`rssd issues ... | head`):
/// what it wanted was written, so the command has succeeded.
pub fn reader_went_away(err: &rssd::Error) -> bool {
    matches!(err, rssd::Error::Io(io) if io.kind() == std::io::ErrorKind::BrokenPipe)
}

/// Rows a text table is aligned on before streaming starts; later rows keep those widths.
pub const TABLE_WIDTH_SAMPLE: usize = 1000;

/// A listing written as its rows arrive, in constant memory: CSV row by row, a text table
/// aligned on its first [`TABLE_WIDTH_SAMPLE`] rows (wider cells later push their line out).
pub struct RowStream<W: Write> {
    headers: Vec<&'static str>,
    csv: Option<csv::Writer<W>>,
    out: Option<W>,
    sample: Vec<Vec<String>>,
    widths: Option<Vec<usize>>,
}

impl<W: Write> RowStream<W> {
    /// `format` is `Table` or `Csv`; JSON listings use [`JsonArrayStream`].
    pub fn new(format: Format, headers: Vec<&'static str>, out: W) -> std::io::Result<Self> {
        let mut stream = RowStream {
            headers,
            csv: None,
            out: None,
            sample: Vec::new(),
            widths: None,
        };
        if format == Format::Csv {
            let mut writer = csv::Writer::from_writer(out);
            writer.write_record(&stream.headers)?;
            stream.csv = Some(writer);
        } else {
            stream.out = Some(out);
        }
        Ok(stream)
    }

    pub fn push(&mut self, row: Vec<String>) -> std::io::Result<()> {
        if let Some(writer) = &mut self.csv {
            return writer.write_record(&row).map_err(csv_io_error);
        }
        if self.widths.is_some() {
            return self.write_line(&row);
        }
        self.sample.push(row);
        if self.sample.len() >= TABLE_WIDTH_SAMPLE {
            self.flush_sample()?;
        }
        Ok(())
    }

    fn flush_sample(&mut self) -> std::io::Result<()> {
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for row in &self.sample {
            for (i, cell) in row.iter().enumerate() {
                if let Some(width) = widths.get_mut(i) {
                    *width = (*width).max(display_cell(cell).chars().count());
                }
            }
        }
        self.widths = Some(widths);
        let headers: Vec<String> = self.headers.iter().map(|h| h.to_string()).collect();
        self.write_line(&headers)?;
        for row in std::mem::take(&mut self.sample) {
            self.write_line(&row)?;
        }
        Ok(())
    }

    fn write_line(&mut self, cells: &[String]) -> std::io::Result<()> {
        let (Some(out), Some(widths)) = (&mut self.out, &self.widths) else {
            return Ok(());
        };
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{:<width$}", display_cell(cell)))
            .collect();
        writeln!(out, "{}", padded.join("  ").trim_end())
    }

    /// Writes what is still held and flushes.
    pub fn finish(mut self) -> std::io::Result<()> {
        if let Some(mut writer) = self.csv.take() {
            return writer.flush();
        }
        if self.widths.is_none() {
            self.flush_sample()?;
        }
        match &mut self.out {
            Some(out) => out.flush(),
            None => Ok(()),
        }
    }
}

/// The I/O error inside a CSV error, so that a closed pipe stays recognisable.
fn csv_io_error(err: csv::Error) -> std::io::Error {
    if !matches!(err.kind(), csv::ErrorKind::Io(_)) {
        return std::io::Error::other(err);
    }
    match err.into_kind() {
        csv::ErrorKind::Io(io) => io,
        other => std::io::Error::other(format!("{other:?}")),
    }
}

/// A JSON array written one element at a time.
pub struct JsonArrayStream<W: Write> {
    out: W,
    written: usize,
}

impl<W: Write> JsonArrayStream<W> {
    pub fn new(mut out: W) -> std::io::Result<Self> {
        out.write_all(b"[")?;
        Ok(JsonArrayStream { out, written: 0 })
    }

    pub fn push<T: Serialize>(&mut self, value: &T) -> std::io::Result<()> {
        self.out
            .write_all(if self.written == 0 { b"\n  " } else { b",\n  " })?;
        serde_json::to_writer(&mut self.out, value)?;
        self.written += 1;
        Ok(())
    }

    pub fn finish(mut self) -> std::io::Result<()> {
        self.out
            .write_all(if self.written == 0 { b"]\n" } else { b"\n]\n" })?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_stream_writes_every_row_past_the_width_sample() {
        let rows = TABLE_WIDTH_SAMPLE + 500;
        let mut table = Vec::new();
        let mut stream = RowStream::new(Format::Table, vec!["n", "text"], &mut table).unwrap();
        for n in 0..rows {
            stream
                .push(vec![n.to_string(), "a\nb".to_string()])
                .unwrap();
        }
        stream.finish().unwrap();
        let text = String::from_utf8(table).unwrap();
        assert_eq!(text.lines().count(), rows + 1);
        // Widths come from the first rows ("999"); later, wider cells push their line out.
        assert!(text.starts_with("n    text\n0    a b\n"), "{}", &text[..40]);
        assert!(text.ends_with("\n1499  a b\n"));

        let mut csv_out = Vec::new();
        let mut stream = RowStream::new(Format::Csv, vec!["n", "text"], &mut csv_out).unwrap();
        stream.push(vec!["1".into(), "a,\"b\"".into()]).unwrap();
        stream.finish().unwrap();
        assert_eq!(
            String::from_utf8(csv_out).unwrap(),
            "n,text\n1,\"a,\"\"b\"\"\"\n"
        );
    }

    #[test]
    fn json_array_stream_is_one_valid_array() {
        for count in [0, 1, 3] {
            let mut out = Vec::new();
            let mut stream = JsonArrayStream::new(&mut out).unwrap();
            for n in 0..count {
                stream.push(&serde_json::json!({ "n": n })).unwrap();
            }
            stream.finish().unwrap();
            let parsed: serde_json::Value = serde_json::from_slice(&out).unwrap();
            assert_eq!(parsed.as_array().unwrap().len(), count);
        }
    }
}
