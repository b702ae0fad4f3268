//! JSON: a top-level array of objects (or one object), or NDJSON / JSON Lines. Columns are the
//! keys in order of first appearance. Nothing is re-encoded: strings are decoded, numbers and
//! booleans keep their text exactly as written (so `1.10`, `1e3` and integers beyond 64 bits
//! are not changed by a float), `null` and `""` are NULL, and nested arrays and objects are
//! stored as their original JSON text with the whitespace between tokens removed (key order,
//! duplicate keys and number text as in the file). A key repeated in one object keeps its last
//! value (as JavaScript and Python do) and raises a `Duplicate Header` warning that holds the
//! value dropped. JSON Lines (`.ndjson`, `.jsonl`) are read a line at a time, three times
//! (keys, scan, load), in flat memory; a top-level array is streamed item by item
//! ([`super::json_stream`]); one object, a small file that is not a valid array, or JSON Lines
//! whose first item is not on one line, is read into memory whole.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use csv::ByteRecord;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::json_item::{
    Item, KeyIndex, RawObject, duplicate_key_issue, issues_cover_row, not_object_issue,
    object_cells, push_cells,
};
use super::json_stream;
use super::scan::{ScanOutcome, scan};
use super::source::{FileProblem, MemorySource, RowSource, SliceSource, Table};
use crate::Result;
use crate::state::{Issue, IssueKind};

/// The table of a JSON file (pass 1 done), or why it has none. With `speculate`, a top-level
/// array loads while it is scanned (see [`json_stream::prepare_array`]).
pub fn prepare(
    path: &Path,
    base_name: &str,
    speculate: bool,
) -> Result<Result<Table, FileProblem>> {
    let lines_by_name = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("ndjson") || e.eq_ignore_ascii_case("jsonl"));
    if lines_by_name && let Some(table) = prepare_lines(path, base_name)? {
        return Ok(table);
    }
    if starts_with_bracket(path)? {
        match json_stream::prepare_array(path, base_name, speculate)? {
            Ok(table) => return Ok(table),
            Err(invalid) if std::fs::metadata(path)?.len() > WHOLE_FILE_LIMIT => {
                return Ok(Err(FileProblem::new(
                    IssueKind::UnsupportedFormat,
                    format!("the file starts as a JSON array but is not one: {invalid}"),
                    "write a valid JSON array of objects, or one object per line",
                )));
            }
            // A small file that is not a valid array is read as before (it may be JSON Lines
            // whose lines are arrays, or broken anywhere): the same rows and issues as ever.
            Err(_) => {}
        }
    } else if !lines_by_name && std::fs::metadata(path)?.len() > WHOLE_FILE_LIMIT {
        // A big file that is not an array: JSON Lines whatever the name, a line at a time.
        if let Some(table) = prepare_lines(path, base_name)? {
            return Ok(table);
        }
    }
    prepare_whole(path, base_name)
}

/// A file that is neither streamed as an array nor read as JSON Lines: read whole.
fn prepare_whole(path: &Path, base_name: &str) -> Result<Result<Table, FileProblem>> {
    let bytes = std::fs::read(path)?;
    let text = match std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes)) {
        Ok(text) => text,
        Err(err) => {
            return Ok(Err(FileProblem::new(
                IssueKind::EncodingError,
                format!("JSON must be UTF-8: {err}"),
                "save the file as UTF-8",
            )));
        }
    };
    let mut issues = Vec::new();
    let whole = if text.trim_start().starts_with('[') {
        serde_json::from_str::<Vec<&RawValue>>(text)
            .ok()
            .map(|items| items.into_iter().map(Item::from_raw).collect())
    } else {
        serde_json::from_str::<RawObject>(text)
            .ok()
            .map(|RawObject(fields)| vec![Item::Object(fields)])
    };
    let (rows, format): (Vec<Item>, &str) = match whole {
        Some(rows) => (rows, "json"),
        None => {
            let mut rows = Vec::new();
            for (line_index, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                match Item::parse(line) {
                    Ok(item) => rows.push(item),
                    Err(err) => {
                        rows.push(Item::Invalid);
                        issues.push(invalid_line_issue(
                            line_index + 1,
                            rows.len() as i64,
                            &err,
                            line,
                        ));
                    }
                }
            }
            if rows.iter().all(|row| matches!(row, Item::Invalid)) {
                return Ok(Err(FileProblem::new(
                    IssueKind::UnsupportedFormat,
                    "the file is neither a JSON array of objects nor JSON Lines",
                    "write a JSON array of objects, or one object per line",
                )));
            }
            (rows, "ndjson")
        }
    };
    whole_table(rows, issues, format, base_name)
}

/// The table of items read whole: the keys of every object are the columns.
fn whole_table(
    rows: Vec<Item>,
    mut issues: Vec<Issue>,
    format: &str,
    base_name: &str,
) -> Result<Result<Table, FileProblem>> {
    let mut keys: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for item in &rows {
        if let Item::Object(fields) = item {
            for (key, _) in fields {
                if seen.insert(key.as_ref()) {
                    keys.push(key.to_string());
                }
            }
        }
    }
    if keys.is_empty() {
        return Ok(Err(FileProblem::new(
            IssueKind::UnsupportedFormat,
            "the JSON holds no objects with keys, so it has no columns",
            "write a JSON array of objects, or one object per line",
        )));
    }
    let columns: KeyIndex = keys.iter().cloned().zip(0..).collect();
    let mut records = Vec::with_capacity(rows.len() + 1);
    records.push(ByteRecord::from(keys.clone()));
    for (index, item) in rows.iter().enumerate() {
        let row = index as i64 + 1;
        let mut record = ByteRecord::new();
        match item {
            Item::Object(fields) => {
                let (cells, dropped) = object_cells(fields, &columns, keys.len());
                issues.extend(
                    dropped
                        .into_iter()
                        .map(|(key, value)| duplicate_key_issue(row, key, value)),
                );
                push_cells(&mut record, &cells);
            }
            Item::Other(other) => {
                issues.push(not_object_issue(row, other));
                for _ in &keys {
                    record.push_field(b"");
                }
            }
            Item::Invalid => {
                for _ in &keys {
                    record.push_field(b"");
                }
            }
        }
        records.push(record);
    }
    let mut pass1 = SliceSource::new(&records);
    let ScanOutcome::Done(mut scan) = scan(&mut pass1, false)? else {
        return Ok(Err(FileProblem::new(
            IssueKind::EmptyFile,
            "the JSON holds no rows",
            "send the file with its data",
        )));
    };
    // Rows that are not objects were already reported; a blank-row warning would repeat them.
    let reported = issues_rows(&rows);
    issues.extend(
        scan.issues
            .into_iter()
            .filter(|issue| !issues_cover_row(&reported, issue)),
    );
    scan.issues = issues;
    let source = MemorySource::new(records);
    let mut facts = Map::new();
    facts.insert("json_shape".into(), Value::from(format));
    Table::new(None, base_name, facts, scan, false, Box::new(source)).map(Ok)
}

/// Files up to this size that are neither a valid JSON array nor JSON Lines are read into
/// memory whole (as they always were: the NDJSON reading of a broken array gives its issues);
/// beyond it they are refused rather than read 8 times their size into memory.
const WHOLE_FILE_LIMIT: u64 = 64 * 1024 * 1024;

/// True when the file's first byte that is not whitespace (after a UTF-8 BOM) is `[`.
fn starts_with_bracket(path: &Path) -> Result<bool> {
    let mut head = Vec::with_capacity(4096);
    File::open(path)?.take(4096).read_to_end(&mut head)?;
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&head);
    Ok(head.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'['))
}

/// JSON Lines in flat memory: a first pass collects the keys and the issues of each line,
/// then pass 1 and pass 2 read the lines again. None when the file is not plain JSON Lines
/// (its first item is not on one line, it starts with `[`, it is not UTF-8, it has no keys):
/// the in-memory reader then decides.
fn prepare_lines(path: &Path, base_name: &str) -> Result<Option<Result<Table, FileProblem>>> {
    let mut lines = Lines::open(path)?;
    let mut keys: Vec<String> = Vec::new();
    let mut index = KeyIndex::default();
    let mut issues = Vec::new();
    let mut not_objects = Vec::new();
    let mut row: i64 = 0;
    while let Some(line_number) = lines.next_line()? {
        let Some(text) = lines.text() else {
            return Ok(None);
        };
        row += 1;
        let parsed = Item::parse(text);
        if row == 1 && (parsed.is_err() || text.trim_start().starts_with('[')) {
            return Ok(None);
        }
        match parsed {
            Ok(Item::Object(fields)) => {
                for (key, _) in &fields {
                    if !index.contains_key(key.as_ref()) {
                        index.insert(key.to_string(), keys.len());
                        keys.push(key.to_string());
                    }
                }
                let (_, dropped) = object_cells(&fields, &index, keys.len());
                issues.extend(
                    dropped
                        .into_iter()
                        .map(|(key, value)| duplicate_key_issue(row, key, value)),
                );
            }
            Ok(Item::Other(raw)) => {
                not_objects.push(row);
                issues.push(not_object_issue(row, raw));
            }
            Ok(Item::Invalid) => not_objects.push(row),
            Err(err) => {
                not_objects.push(row);
                issues.push(invalid_line_issue(line_number, row, &err, text));
            }
        }
    }
    if keys.is_empty() {
        return Ok(None);
    }
    let mut pass1 = LinesSource::open(path, &keys, &index)?;
    let ScanOutcome::Done(mut scan) = scan(&mut pass1, false)? else {
        return Ok(None);
    };
    issues.extend(
        scan.issues
            .into_iter()
            .filter(|issue| !issues_cover_row(&not_objects, issue)),
    );
    scan.issues = issues;
    let rows = LinesSource::open(path, &keys, &index)?;
    let mut facts = Map::new();
    facts.insert("json_shape".into(), Value::from("ndjson"));
    Table::new(None, base_name, facts, scan, false, Box::new(rows)).map(|t| Some(Ok(t)))
}

/// The non-blank lines of a file, one at a time, without their line ends (and BOM).
struct Lines {
    reader: BufReader<File>,
    bytes: Vec<u8>,
    number: usize,
}

impl Lines {
    fn open(path: &Path) -> std::io::Result<Lines> {
        Ok(Lines {
            reader: BufReader::with_capacity(1 << 16, File::open(path)?),
            bytes: Vec::new(),
            number: 0,
        })
    }

    /// Reads the next non-blank line; its 1-based line number, None at the end.
    fn next_line(&mut self) -> std::io::Result<Option<usize>> {
        loop {
            self.bytes.clear();
            if self.reader.read_until(b'\n', &mut self.bytes)? == 0 {
                return Ok(None);
            }
            self.number += 1;
            if self.number == 1 && self.bytes.starts_with(b"\xEF\xBB\xBF") {
                self.bytes.drain(..3);
            }
            while matches!(self.bytes.last(), Some(b'\n' | b'\r')) {
                self.bytes.pop();
            }
            if !self.bytes.iter().all(u8::is_ascii_whitespace) {
                return Ok(Some(self.number));
            }
        }
    }

    /// The line last read, if it is UTF-8.
    fn text(&self) -> Option<&str> {
        std::str::from_utf8(&self.bytes).ok()
    }
}

/// JSON Lines as records: the header (the keys), then one record per non-blank line.
struct LinesSource {
    lines: Lines,
    header: Option<ByteRecord>,
    index: KeyIndex,
    width: usize,
}

impl LinesSource {
    fn open(path: &Path, keys: &[String], index: &KeyIndex) -> Result<LinesSource> {
        Ok(LinesSource {
            lines: Lines::open(path)?,
            header: Some(ByteRecord::from(keys.to_vec())),
            index: index.clone(),
            width: keys.len(),
        })
    }
}

impl RowSource for LinesSource {
    fn read(&mut self, record: &mut ByteRecord) -> Result<bool> {
        if let Some(header) = self.header.take() {
            *record = header;
            return Ok(true);
        }
        if self.lines.next_line()?.is_none() {
            return Ok(false);
        }
        record.clear();
        let item = self.lines.text().and_then(|text| Item::parse(text).ok());
        match item {
            Some(Item::Object(fields)) => {
                push_cells(record, &object_cells(&fields, &self.index, self.width).0)
            }
            _ => {
                for _ in 0..self.width {
                    record.push_field(b"");
                }
            }
        }
        Ok(true)
    }
}

fn invalid_line_issue(line: usize, row: i64, err: &serde_json::Error, text: &str) -> Issue {
    Issue::new(
        IssueKind::FormatMismatch,
        format!("line {line} is not valid JSON ({err}); its row is NULL"),
    )
    .row(row)
    .invalid_value(text)
    .remediation("write one JSON object per line")
    .with("line", line)
}

fn issues_rows(rows: &[Item]) -> Vec<i64> {
    rows.iter()
        .enumerate()
        .filter(|(_, v)| !matches!(v, Item::Object(_)))
        .map(|(i, _)| i as i64 + 1)
        .collect()
}
