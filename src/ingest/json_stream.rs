//! A `.json` top-level array read as a stream of items, in memory bounded by a read buffer
//! and the largest item, never the file.
//!
//! [`ArrayItems`] finds where each item ends with a small byte scanner (brackets, strings and
//! their escapes) over a buffered reader; each item is then parsed on its own by serde_json,
//! with the same exact-text rules as the rest of [`super::json`]. The file is read three
//! times, as JSON Lines are: the columns (keys in order of first appearance) and the issues
//! of each item, then pass 1 (the scan), then pass 2 (the load); a big array is parsed once
//! for both, the load taking a sample's types (see `speculative_table`).
//!
//! An array whose first item is an array is a table of arrays: the first array is the header
//! (its cells are the column names; a cell that is not a string is an error issue and its
//! text the name), every other array a row (a row of another length is ragged, as in CSV).

use std::fs::File;
use std::io::Read;
use std::path::Path;

use csv::ByteRecord;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::json_item::{
    Item, KeyIndex, cell_text, compact, duplicate_key_issue, issues_cover_row, not_object_issue,
    object_cells, push_cells,
};
use super::pipe::{pipe, scan_and_pipe};
use super::scan::{Scan, ScanOutcome, scan, scan_rows};
use super::source::{FileProblem, RowSource, Table};
use crate::state::{Issue, IssueKind};
use crate::{Error, Result};

/// Reads a file's bytes this many at a time.
const CHUNK: usize = 1 << 20;

/// The items of a top-level JSON array, one at a time.
pub struct ArrayItems {
    reader: File,
    buf: Vec<u8>,
    /// The unread bytes are `buf[start..end]`.
    start: usize,
    end: usize,
    eof: bool,
    /// Bytes before `buf[0]`, for error positions.
    offset: u64,
    stage: Stage,
}

#[derive(PartialEq)]
enum Stage {
    Open,
    First,
    Between,
    Done,
}

/// The next item, the end of the array, or where the text stops being a JSON array.
pub enum Next<'a> {
    Item(&'a str),
    End,
    Invalid(String),
}

impl ArrayItems {
    pub fn open(path: &Path) -> std::io::Result<ArrayItems> {
        let mut items = ArrayItems {
            reader: File::open(path)?,
            buf: vec![0; CHUNK],
            start: 0,
            end: 0,
            eof: false,
            offset: 0,
            stage: Stage::Open,
        };
        items.fill()?;
        if items.buf[..items.end].starts_with(b"\xEF\xBB\xBF") {
            items.start = 3;
        }
        Ok(items)
    }

    /// Reads more bytes after the unread ones (moved to the buffer's start); false at the end
    /// of the file.
    fn fill(&mut self) -> std::io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.offset += self.start as u64;
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            self.buf.resize(self.buf.len() * 2, 0);
        }
        loop {
            match self.reader.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.end += n;
                    return Ok(true);
                }
                Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
                Err(err) => return Err(err),
            }
        }
    }

    /// The next byte that is not whitespace, left unread; None at the end of the file.
    fn peek(&mut self) -> std::io::Result<Option<u8>> {
        loop {
            while self.start < self.end {
                let byte = self.buf[self.start];
                if !matches!(byte, b' ' | b'\t' | b'\n' | b'\r') {
                    return Ok(Some(byte));
                }
                self.start += 1;
            }
            if !self.fill()? {
                return Ok(None);
            }
        }
    }

    fn invalid(&mut self, what: &str) -> Next<'_> {
        self.stage = Stage::Done;
        Next::Invalid(format!(
            "{what} at byte {}",
            self.offset + self.start as u64
        ))
    }

    pub fn next_item(&mut self) -> std::io::Result<Next<'_>> {
        let byte = self.peek()?;
        match (&self.stage, byte) {
            (Stage::Done, _) => return Ok(Next::End),
            (Stage::Open, Some(b'[')) => {
                self.start += 1;
                self.stage = Stage::First;
                return self.next_item();
            }
            (Stage::Open, _) => return Ok(self.invalid("not a JSON array")),
            (Stage::First | Stage::Between, Some(b']')) => {
                self.start += 1;
                self.stage = Stage::Done;
                return Ok(match self.peek()? {
                    None => Next::End,
                    Some(_) => self.invalid("text after the array"),
                });
            }
            (Stage::Between, Some(b',')) => {
                self.start += 1;
                if self.peek()?.is_none() {
                    return Ok(self.invalid("the array is not closed"));
                }
            }
            (Stage::First, Some(_)) => {}
            (_, None) => return Ok(self.invalid("the array is not closed")),
            (Stage::Between, Some(_)) => return Ok(self.invalid("a comma or ] expected")),
        }
        self.stage = Stage::Between;
        let Some(length) = self.item_length()? else {
            return Ok(self.invalid("the array is not closed"));
        };
        let mut end = self.start + length;
        while end > self.start && matches!(self.buf[end - 1], b' ' | b'\t' | b'\n' | b'\r') {
            end -= 1;
        }
        if std::str::from_utf8(&self.buf[self.start..end]).is_err() {
            return Ok(self.invalid("bytes that are not UTF-8"));
        }
        if end == self.start {
            return Ok(self.invalid("an empty item"));
        }
        let start = self.start;
        self.start += length;
        // SAFETY: `buf[start..end]` was checked to be UTF-8 just above and is unchanged (the
        // checked `&str` cannot be returned itself while `self.start` moves on).
        Ok(Next::Item(unsafe {
            std::str::from_utf8_unchecked(&self.buf[start..end])
        }))
    }

    /// The length of the item at `start`, up to the `,` or `]` that ends it (at depth 0,
    /// outside strings); None when the file ends first.
    fn item_length(&mut self) -> std::io::Result<Option<usize>> {
        let mut i = 0;
        let mut depth: u64 = 0;
        let mut in_string = false;
        loop {
            while self.start + i < self.end {
                let rest = &self.buf[self.start + i..self.end];
                if in_string {
                    // Most bytes are inside strings: jump to the next quote or escape.
                    match memchr::memchr2(b'"', b'\\', rest) {
                        Some(at) if rest[at] == b'"' => {
                            in_string = false;
                            i += at + 1;
                        }
                        // An escape: skip the escaped byte (maybe past the buffer's end).
                        Some(at) => i += at + 2,
                        None => i += rest.len(),
                    }
                    continue;
                }
                match rest[0] {
                    b'"' => in_string = true,
                    b'[' | b'{' => depth += 1,
                    b']' | b'}' if depth > 0 => depth -= 1,
                    b',' | b']' | b'}' if depth == 0 => return Ok(Some(i)),
                    _ => {}
                }
                i += 1;
            }
            if !self.fill()? {
                return Ok(None);
            }
        }
    }
}

/// How the array's items become rows.
#[derive(Clone, Copy, PartialEq)]
enum Shape {
    /// Objects: keys are the columns.
    Objects,
    /// Arrays: the first is the header.
    Arrays,
}

/// Items whose keys are taken as the columns before the whole array is scanned: when no later
/// object has another key (the usual case), the scan also gathers the items' issues and the
/// array is read twice, not three times.
const KEYS_SAMPLE: i64 = 1_000;

/// The table of a `.json` file holding one top-level array, read as a stream. Err: the file
/// is not a valid JSON array (where it stops being one); the caller decides.
/// With `speculate`, the array loads at once with the types of its first items while it is
/// scanned meanwhile (see [`speculative_table`]).
pub fn prepare_array(
    path: &Path,
    base_name: &str,
    speculate: bool,
) -> Result<std::result::Result<Result<Table, FileProblem>, String>> {
    let sampled = match read_columns(path, KEYS_SAMPLE)? {
        Ok(Ok(columns)) => columns,
        Ok(Err(problem)) => return Ok(Ok(Err(problem))),
        Err(invalid) => return Ok(Err(invalid)),
    };
    if speculate && let Some(table) = speculative_table(path, base_name, &sampled)? {
        return Ok(Ok(Ok(table)));
    }
    let mut pass1 = ArraySource::open(path, &sampled)?;
    pass1.check = (!sampled.complete).then(|| sampled.without_item_issues());
    let mut outcome = scan(&mut pass1, false)?;
    let columns = match pass1.check.take() {
        None => sampled,
        Some(checked) if !checked.grew => checked,
        Some(_) => {
            // A later object has a key the sample lacks: learn them all, then scan again.
            let columns = match read_columns(path, i64::MAX)? {
                Ok(Ok(columns)) => columns,
                Ok(Err(problem)) => return Ok(Ok(Err(problem))),
                Err(invalid) => return Ok(Err(invalid)),
            };
            outcome = scan(&mut ArraySource::open(path, &columns)?, false)?;
            columns
        }
    };
    let ScanOutcome::Done(mut scan) = outcome else {
        return Ok(Ok(Err(FileProblem::new(
            IssueKind::EmptyFile,
            "the JSON holds no rows",
            "send the file with its data",
        ))));
    };
    with_item_issues(&mut scan, &columns);
    let rows = ArraySource::open(path, &columns)?;
    Table::new(
        None,
        base_name,
        facts(&columns),
        scan,
        false,
        Box::new(rows),
    )
    .map(|table| Ok(Ok(table)))
}

/// Data rows whose types a speculative load takes (as for `.csv`).
const SAMPLE_ROWS: u64 = 10_000;

/// For big arrays: the table with the types of the first items, its rows ready to load at
/// once from the thread that scans the whole array (parsed once for both passes: see
/// `pipe.rs`). The loader checks the sample's
/// types against the whole array's; a later object with a key the sample's items lack fails
/// that scan. Either way the array is read again the careful way. None: no sample.
fn speculative_table(path: &Path, base_name: &str, sampled: &Columns) -> Result<Option<Table>> {
    let mut sample_source = ArraySource::open(path, sampled)?;
    let ScanOutcome::Done(mut sample) = scan_rows(&mut sample_source, false, SAMPLE_ROWS)? else {
        return Ok(None);
    };
    with_item_issues(&mut sample, sampled);
    let (owned, columns) = (path.to_path_buf(), sampled.clone());
    let (pipe, rows) = pipe(Some(ByteRecord::from(sampled.keys.clone())));
    let full_scan = std::thread::spawn(move || {
        let mut pass1 = ArraySource::open(&owned, &columns)?;
        pass1.check = (!columns.complete).then(|| columns.without_item_issues());
        let outcome = scan_and_pipe(&mut pass1, pipe)?;
        let columns = match pass1.check.take() {
            None => columns,
            Some(checked) if !checked.grew => checked,
            Some(_) => return Err(Error::Invalid("a later object has another key".into())),
        };
        Ok(match outcome {
            ScanOutcome::Done(mut scan) => {
                with_item_issues(&mut scan, &columns);
                ScanOutcome::Done(scan)
            }
            other => other,
        })
    });
    let table = Table::new(
        None,
        base_name,
        facts(sampled),
        sample,
        false,
        Box::new(rows),
    )?;
    Ok(Some(table.with_full_scan(full_scan)))
}

/// The scan's issues after the header's and the items' (a row not of the array's shape is
/// reported once, not also as a blank row).
fn with_item_issues(scan: &mut Scan, columns: &Columns) {
    let mut issues = columns.header_issues.clone();
    issues.extend(columns.issues.iter().cloned());
    issues.extend(
        std::mem::take(&mut scan.issues)
            .into_iter()
            .filter(|issue| !issues_cover_row(&columns.not_rows, issue)),
    );
    scan.issues = issues;
}

fn facts(columns: &Columns) -> Map<String, Value> {
    let mut facts = Map::new();
    let shape = match columns.shape {
        Shape::Objects => "json",
        Shape::Arrays => "json_arrays",
    };
    facts.insert("json_shape".into(), Value::from(shape));
    facts
}

/// What a read of the array learns: the columns, and the issues of each item.
#[derive(Clone)]
struct Columns {
    shape: Shape,
    keys: Vec<String>,
    index: KeyIndex,
    /// Non-string header cells (arrays of arrays).
    header_issues: Vec<Issue>,
    /// Issues of items: repeated keys, items not of the array's shape.
    issues: Vec<Issue>,
    /// Rows that are not of the array's shape (reported already; their blank row is not).
    not_rows: Vec<i64>,
    /// Every item was read (not only a sample).
    complete: bool,
    /// An object had a key that is not a column (when the columns were fixed).
    grew: bool,
}

impl Columns {
    /// The same columns, to gather the issues of every item again.
    fn without_item_issues(&self) -> Columns {
        Columns {
            issues: Vec::new(),
            not_rows: Vec::new(),
            ..self.clone()
        }
    }

    /// Notes the issues of data row `row` (and its keys, when `learn`).
    fn observe(&mut self, row: i64, item: &Item, text: &str, learn: bool) {
        match (self.shape, item) {
            (Shape::Objects, Item::Object(fields)) => {
                for (key, _) in fields {
                    if !self.index.contains_key(key.as_ref()) {
                        if !learn {
                            self.grew = true;
                            continue;
                        }
                        self.index.insert(key.to_string(), self.keys.len());
                        self.keys.push(key.to_string());
                    }
                }
                let (_, dropped) = object_cells(fields, &self.index, self.keys.len());
                self.issues.extend(
                    dropped
                        .into_iter()
                        .map(|(key, value)| duplicate_key_issue(row, key, value)),
                );
            }
            (Shape::Objects, Item::Other(raw)) => {
                self.not_rows.push(row);
                self.issues.push(not_object_issue(row, raw));
            }
            (Shape::Arrays, Item::Other(raw)) if raw.get().starts_with('[') => {}
            (Shape::Arrays, Item::Other(raw)) => {
                self.not_rows.push(row);
                self.issues.push(not_array_issue(row, raw));
            }
            (Shape::Arrays, Item::Object(_)) => {
                self.not_rows.push(row);
                if let Ok(raw) = serde_json::from_str::<&RawValue>(text) {
                    self.issues.push(not_array_issue(row, raw));
                }
            }
            (_, Item::Invalid) => {}
        }
    }
}

type ColumnsRead = std::result::Result<Result<Columns, FileProblem>, String>;

/// Reads the first `limit` data items (or all) for the columns and the items' issues.
fn read_columns(path: &Path, limit: i64) -> Result<ColumnsRead> {
    let mut items = ArrayItems::open(path)?;
    let mut columns = Columns {
        shape: Shape::Objects,
        keys: Vec::new(),
        index: KeyIndex::default(),
        header_issues: Vec::new(),
        issues: Vec::new(),
        not_rows: Vec::new(),
        complete: false,
        grew: false,
    };
    let mut items_read: i64 = 0;
    let mut row: i64 = 0;
    loop {
        if row >= limit {
            break;
        }
        let text = match items.next_item()? {
            Next::Item(text) => text,
            Next::End => {
                columns.complete = true;
                break;
            }
            Next::Invalid(why) => return Ok(Err(why)),
        };
        items_read += 1;
        let item = match Item::parse(text) {
            Ok(item) => item,
            Err(err) => return Ok(Err(format!("item {items_read} is not valid JSON ({err})"))),
        };
        if items_read == 1
            && let Item::Other(raw) = &item
            && raw.get().starts_with('[')
        {
            columns.shape = Shape::Arrays;
            if let Err(problem) = header(raw, &mut columns) {
                return Ok(Ok(Err(problem)));
            }
            continue;
        }
        row += 1;
        columns.observe(row, &item, text, true);
    }
    if items_read == 0 && columns.complete {
        return Ok(Ok(Err(FileProblem::new(
            IssueKind::UnsupportedFormat,
            "the JSON array is empty: it has no columns and no rows",
            "write a JSON array of objects, or of arrays with the header first",
        ))));
    }
    if columns.keys.is_empty() && (columns.complete || columns.shape == Shape::Arrays) {
        return Ok(Ok(Err(FileProblem::new(
            IssueKind::UnsupportedFormat,
            "the JSON holds no objects with keys, so it has no columns",
            "write a JSON array of objects, or one object per line",
        ))));
    }
    if columns.keys.is_empty() {
        // No object among the sampled items: only all of them can tell.
        return read_columns(path, i64::MAX);
    }
    Ok(Ok(Ok(columns)))
}

/// The header of an array of arrays: its cells as column names.
fn header(raw: &RawValue, columns: &mut Columns) -> std::result::Result<(), FileProblem> {
    let cells: Vec<&RawValue> = serde_json::from_str(raw.get()).unwrap_or_default();
    if cells.is_empty() {
        return Err(FileProblem::new(
            IssueKind::UnsupportedFormat,
            "the first array, the header, is empty: the table has no columns",
            "put the column names, as strings, in the first array",
        ));
    }
    for (position, cell) in cells.iter().enumerate() {
        let name = cell_text(cell);
        if !cell.get().starts_with('"') {
            columns.header_issues.push(
                Issue::new(
                    IssueKind::FormatMismatch,
                    format!(
                        "header cell {} is {}, not a string; its text is the column name",
                        position + 1,
                        compact(cell.get())
                    ),
                )
                .invalid_value(compact(cell.get()))
                .remediation("put the column names, as strings, in the first array")
                .with("header_cell", position + 1),
            );
        }
        // Repeated names are the naming step's business (Duplicate Header), as in CSV.
        columns.keys.push(name.into_owned());
    }
    Ok(())
}

fn not_array_issue(row: i64, raw: &RawValue) -> Issue {
    Issue::new(
        IssueKind::FormatMismatch,
        format!("item {} is not an array; its row is NULL", row + 1),
    )
    .row(row)
    .invalid_value(compact(raw.get()))
    .remediation("make every item after the header an array of cells")
}

/// The array's rows as records: the header, then one record per item.
struct ArraySource {
    items: ArrayItems,
    shape: Shape,
    header: Option<ByteRecord>,
    index: KeyIndex,
    width: usize,
    /// Data rows read.
    row: i64,
    /// The columns whose items' issues this read gathers (pass 1 after a sample).
    check: Option<Columns>,
}

impl ArraySource {
    fn open(path: &Path, columns: &Columns) -> Result<ArraySource> {
        let mut items = ArrayItems::open(path)?;
        if columns.shape == Shape::Arrays {
            // The header array was read by the first pass.
            items.next_item()?;
        }
        Ok(ArraySource {
            items,
            shape: columns.shape,
            header: Some(ByteRecord::from(columns.keys.clone())),
            index: columns.index.clone(),
            width: columns.keys.len(),
            row: 0,
            check: None,
        })
    }
}

impl RowSource for ArraySource {
    fn read(&mut self, record: &mut ByteRecord) -> Result<bool> {
        if let Some(header) = self.header.take() {
            *record = header;
            return Ok(true);
        }
        let Next::Item(text) = self.items.next_item()? else {
            return Ok(false);
        };
        record.clear();
        self.row += 1;
        let item = Item::parse(text).ok();
        let object = self.shape == Shape::Objects && matches!(item, Some(Item::Object(_)));
        if let (Some(check), Some(item)) = (self.check.as_mut(), &item)
            && !object
        {
            check.observe(self.row, item, text, false);
        }
        match (self.shape, item) {
            (Shape::Objects, Some(Item::Object(fields))) => {
                let (cells, dropped) = object_cells(&fields, &self.index, self.width);
                if let Some(check) = self.check.as_mut() {
                    // The same as `observe`, from the one lookup of the keys.
                    let placed = cells.iter().flatten().count() + dropped.len();
                    check.grew |= placed < fields.len();
                    check.issues.extend(
                        dropped
                            .into_iter()
                            .map(|(key, value)| duplicate_key_issue(self.row, key, value)),
                    );
                }
                push_cells(record, &cells)
            }
            (Shape::Arrays, Some(Item::Other(raw))) if raw.get().starts_with('[') => {
                let cells: Vec<&RawValue> = serde_json::from_str(raw.get()).unwrap_or_default();
                for cell in cells {
                    record.push_field(cell_text(cell).as_bytes());
                }
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
