//! CSV, TSV and `.txt` that sniffs as delimited: encoding, delimiter, RFC 4180 quotes with
//! embedded newlines, CRLF or LF.

use std::io::Read;
use std::path::Path;

use csv::ByteRecord;
use serde_json::{Map, Value};

use super::encoding::{TextEncoding, looks_binary, open_text, read_head, utf16_without_bom};
use super::preamble::{self, Preamble};
use super::read::{ReadOptions, TooManyColumns};
use super::scan::{Scan, ScanOutcome, scan, scan_rows};
use super::source::{FileProblem, RowSource, Table, read_csv_record};
use super::wide::{LongSource, SQLITE_MAX_COLUMNS};
use crate::state::{Issue, IssueKind, Severity};
use crate::{Error, Result};

/// How much of the start of a file the delimiter is sniffed from.
const SNIFF_BYTES: usize = 64 * 1024;
const CANDIDATES: [u8; 4] = [b',', b'\t', b';', b'|'];

/// What the file's format tells the delimiter sniffer.
#[derive(Debug, Clone, Copy)]
pub struct SniffHints {
    /// The separator when sniffing cannot tell (`,` for .csv, tab for .tsv).
    pub default_delimiter: Option<u8>,
    /// The file must sniff as delimited to be read at all (.txt).
    pub strict: bool,
}

/// Reads a delimited file into its one table (pass 1 done), or says why it has none.
pub fn prepare(
    path: &Path,
    hints: SniffHints,
    base_name: &str,
    read: &ReadOptions,
) -> Result<Result<Table, FileProblem>> {
    let (mut encoding, delimiter) = match sniff(path, hints)? {
        Ok(found) => found,
        Err(problem) => return Ok(Err(problem)),
    };
    let preamble = preamble::find(path, encoding, delimiter, read.header_row)?;
    if let Some(wanted) = read.header_row.filter(|&n| preamble.header_line < n) {
        return Ok(Err(FileProblem::new(
            IssueKind::EmptyFile,
            format!("--header-row {wanted}: no record starts on or after line {wanted}"),
            "give the line the header is on",
        )));
    }
    let skip = preamble.records;
    let mut repair: Option<u64> = None;
    let (scan, replaced_rows) = loop {
        let mut source = CsvSource::open_at(path, encoding, delimiter, skip)?;
        match scan(&mut source, !encoding.decoded())? {
            ScanOutcome::Done(scan) => break (scan, source.replaced_rows),
            ScanOutcome::NoHeader => {
                return Ok(Err(FileProblem::new(
                    IssueKind::EmptyFile,
                    "the file has no header and no data (only empty lines)",
                    "send the file with a header row and its data",
                )));
            }
            ScanOutcome::NotUtf8 { row } => {
                repair = Some(row);
                encoding = TextEncoding::Windows1252;
            }
        }
    };
    let mut scan = scan;
    if let Some(row) = repair {
        let mut issue = Issue::new(
            IssueKind::EncodingError,
            "the bytes are not valid UTF-8; read as Windows-1252 (Latin-1) and converted to UTF-8",
        )
        .severity(Severity::Warning)
        .remediation("save the file as UTF-8")
        .with("encoding", TextEncoding::Windows1252.name());
        if row > 0 {
            issue = issue.row(row as i64).with("first_invalid_row", row);
        }
        scan.issues.insert(0, issue);
    }
    for row in replaced_rows {
        let mut issue = Issue::new(
            IssueKind::EncodingError,
            format!(
                "bytes invalid in {} were replaced by U+FFFD",
                encoding.name()
            ),
        )
        .remediation("save the file again as valid UTF-8 or UTF-16");
        if row > 0 {
            issue = issue.row(row as i64);
        }
        scan.issues.push(issue);
    }
    with_preamble(&mut scan, &preamble);
    let facts = delimited_facts(encoding, delimiter, &preamble);
    if scan.headers.len() > SQLITE_MAX_COLUMNS && read.too_many_columns == TooManyColumns::Long {
        return long_table(path, (encoding, delimiter, skip), base_name, facts, scan).map(Ok);
    }
    let rows = Box::new(CsvSource::open_at(path, encoding, delimiter, skip)?);
    Table::new(None, base_name, facts, scan, false, rows).map(Ok)
}

/// The preamble's warnings first, before the scan's own.
fn with_preamble(scan: &mut Scan, preamble: &Preamble) {
    scan.issues.splice(0..0, preamble.issues());
}

/// A file wider than SQLite's limit as the long table of [`super::wide`]: its types come from a
/// scan of the long records; the structural issues (ragged rows, blank lines) from the wide
/// scan, their `issue_row` the data row (the long table's `row` column).
fn long_table(
    path: &Path,
    (encoding, delimiter, skip): (TextEncoding, u8, u64),
    base_name: &str,
    mut facts: Map<String, Value>,
    wide: Scan,
) -> Result<Table> {
    let long = |headers: &[String]| -> Result<LongSource> {
        let mut inner = CsvSource::open_at(path, encoding, delimiter, skip)?;
        inner.read(&mut ByteRecord::new())?;
        Ok(LongSource::new(Box::new(inner), headers))
    };
    let ScanOutcome::Done(mut scan) = scan(&mut long(&wide.headers)?, false)? else {
        return Err(Error::Invalid(
            "the long table's scan found no header".into(),
        ));
    };
    scan.issues = wide.issues;
    facts.insert("layout".into(), Value::from("long"));
    facts.insert("file_columns".into(), Value::from(wide.headers.len()));
    facts.insert("file_rows".into(), Value::from(wide.rows));
    Table::new(
        None,
        base_name,
        facts,
        scan,
        false,
        Box::new(long(&wide.headers)?),
    )
}

/// The encoding (from a BOM or UTF-16's NUL bytes, else UTF-8) and the separator, or why the file is not
/// delimited text.
fn sniff(path: &Path, hints: SniffHints) -> Result<Result<(TextEncoding, u8), FileProblem>> {
    let head = read_head(path, SNIFF_BYTES)?;
    let bom = TextEncoding::from_bom(&head).or_else(|| utf16_without_bom(&head));
    if bom.is_none() && looks_binary(&head) {
        return Ok(Err(FileProblem::new(
            IssueKind::UnsupportedFormat,
            "the file holds binary data (NUL bytes), not delimited text",
            "export the data as CSV, TSV or a workbook",
        )));
    }
    let encoding = bom.unwrap_or(TextEncoding::Utf8);
    let mut sample = Vec::new();
    open_text(path, encoding)?
        .take(SNIFF_BYTES as u64)
        .read_to_end(&mut sample)?;
    let complete = head.len() < SNIFF_BYTES;
    let text = String::from_utf8_lossy(&sample);
    match sniff_delimiter(&text, complete, hints.default_delimiter, hints.strict) {
        Some(delimiter) => Ok(Ok((encoding, delimiter))),
        None => Ok(Err(FileProblem::new(
            IssueKind::UnsupportedFormat,
            "the text does not look delimited (no separator , ; tab or | used consistently)",
            "give delimited files the extension .csv or .tsv",
        ))),
    }
}

/// Rows in the sample a speculative load infers its types from.
const SAMPLE_ROWS: u64 = 10_000;

/// For big UTF-8 files: the table with types inferred from a sample, its rows ready to load
/// at once, and the scan of the whole file running on another thread. The loader checks
/// every value against the sample's types and, at the end, the sample's types against the
/// whole file's; if either fails it loads again from [`prepare`]. None when the file is not
/// a plain case (no header, not UTF-8, a decoder needed): then [`prepare`] is the way.
pub fn prepare_speculative(
    path: &Path,
    hints: SniffHints,
    base_name: &str,
    read: &ReadOptions,
) -> Result<Option<Table>> {
    let Ok((encoding, delimiter)) = sniff(path, hints)? else {
        return Ok(None);
    };
    if encoding.decoded() {
        return Ok(None);
    }
    let preamble = preamble::find(path, encoding, delimiter, read.header_row)?;
    if read.header_row.is_some_and(|n| preamble.header_line < n) {
        return Ok(None);
    }
    let skip = preamble.records;
    let mut sample_source = CsvSource::open_at(path, encoding, delimiter, skip)?;
    let ScanOutcome::Done(mut sample) = scan_rows(&mut sample_source, true, SAMPLE_ROWS)? else {
        return Ok(None);
    };
    // A file too wide for one table is read the careful way.
    if sample.headers.len() > SQLITE_MAX_COLUMNS {
        return Ok(None);
    }
    with_preamble(&mut sample, &preamble);
    let owned = path.to_path_buf();
    let whole_preamble = preamble.clone();
    let full_scan = std::thread::spawn(move || {
        let mut source = CsvSource::open_at(&owned, encoding, delimiter, skip)?;
        let mut outcome = scan(&mut source, true)?;
        if let ScanOutcome::Done(whole) = &mut outcome {
            with_preamble(whole, &whole_preamble);
        }
        Ok(outcome)
    });
    let rows = CsvSource::open_at(path, encoding, delimiter, skip)?;
    let facts = delimited_facts(encoding, delimiter, &preamble);
    let table = Table::new(None, base_name, facts, sample, false, Box::new(rows))?;
    Ok(Some(table.with_full_scan(full_scan)))
}

fn delimited_facts(
    encoding: TextEncoding,
    delimiter: u8,
    preamble: &Preamble,
) -> Map<String, Value> {
    let mut facts = Map::new();
    facts.insert("header_line".into(), Value::from(preamble.header_line));
    if !preamble.skipped.is_empty() {
        facts.insert("preamble_lines".into(), Value::from(preamble.skipped.len()));
    }
    facts.insert("encoding".into(), Value::from(encoding.name()));
    facts.insert(
        "delimiter".into(),
        Value::from(char::from(delimiter).to_string()),
    );
    facts
}

/// Picks the separator used the same number of times (outside quotes) on the most lines.
fn sniff_delimiter(text: &str, complete: bool, default: Option<u8>, strict: bool) -> Option<u8> {
    let mut lines: Vec<[usize; 4]> = Vec::new();
    let mut counts = [0usize; 4];
    let mut in_quotes = false;
    let mut blank = true;
    // A line starting with `#` (a comment before the header) says nothing of the separator.
    let mut comment = false;
    for byte in text.bytes() {
        match byte {
            b'"' => in_quotes = !in_quotes,
            b'\n' | b'\r' if !in_quotes => {
                if !blank && !comment {
                    lines.push(counts);
                }
                counts = [0; 4];
                blank = true;
                comment = false;
                if lines.len() >= 100 {
                    break;
                }
                continue;
            }
            _ => {}
        }
        if !in_quotes && let Some(i) = CANDIDATES.iter().position(|&c| c == byte) {
            counts[i] += 1;
        }
        if !byte.is_ascii_whitespace() {
            comment |= blank && byte == b'#';
            blank = false;
        }
    }
    // A first line longer than the sample (a very wide header) is judged by what was read.
    if (complete || lines.is_empty()) && !blank && !comment {
        lines.push(counts);
    }
    // Nothing but empty lines: the default, and the scan finds no header.
    let Some(&header) = lines.first() else {
        return if strict { None } else { default };
    };
    let mut best: Option<(usize, usize, u8)> = None;
    for (i, &candidate) in CANDIDATES.iter().enumerate() {
        if header[i] == 0 {
            continue;
        }
        let consistent = lines.iter().filter(|line| line[i] == header[i]).count();
        if strict && (consistent < lines.len() || lines.len() < 2) {
            continue;
        }
        let preferred = Some(candidate) == default;
        let better = match best {
            None => true,
            Some((best_consistent, best_count, _)) => {
                consistent > best_consistent
                    || (consistent == best_consistent
                        && (header[i] > best_count || (header[i] == best_count && preferred)))
            }
        };
        if better {
            best = Some((consistent, header[i], candidate));
        }
    }
    best.map(|(_, _, c)| c)
        .or(if strict { None } else { default })
}

/// The text stream under the CSV reader, watched so that a final record without a line
/// terminator can be told apart from one with it.
struct WatchedStream {
    inner: Box<dyn Read + Send>,
    bytes: u64,
    last_byte: Option<u8>,
    ended: bool,
    /// The first line terminator is `\r` (CRLF or CR): the reader then ends each record at
    /// the `\r` and counts its `\n` with the next record.
    cr_terminated: Option<bool>,
}

impl Read for WatchedStream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 {
            self.ended = true;
        } else {
            self.bytes += n as u64;
            self.last_byte = Some(buf[n - 1]);
            if self.cr_terminated.is_none()
                && let Some(&first) = buf[..n].iter().find(|&&b| b == b'\r' || b == b'\n')
            {
                self.cr_terminated = Some(first == b'\r');
            }
        }
        Ok(n)
    }
}

/// Records of a delimited file.
pub struct CsvSource {
    reader: csv::Reader<WatchedStream>,
    records: u64,
    /// The reader's line count after the previous record.
    next_line: u64,
    blank_lines: u64,
    /// Empty lines after the last record, known at the end.
    trailing_blank_lines: u64,
    watch_replacement: bool,
    /// Data rows (0: the header) where a decoder replaced invalid bytes.
    pub replaced_rows: Vec<u64>,
}

impl CsvSource {
    /// The file's records after the first `skip` (a preamble): the next is the header.
    pub fn open_at(
        path: &Path,
        encoding: TextEncoding,
        delimiter: u8,
        skip: u64,
    ) -> Result<CsvSource> {
        // A big buffer for big files; a small file needs no more than its size.
        let size = std::fs::metadata(path).map_or(u64::MAX, |meta| meta.len());
        let capacity = size.clamp(8 << 10, 1 << 18) as usize;
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .buffer_capacity(capacity)
            .from_reader(WatchedStream {
                inner: open_text(path, encoding)?,
                bytes: 0,
                last_byte: None,
                ended: false,
                cr_terminated: None,
            });
        let mut source = CsvSource {
            reader,
            records: 0,
            next_line: 1,
            blank_lines: 0,
            trailing_blank_lines: 0,
            watch_replacement: matches!(encoding, TextEncoding::Utf16Le | TextEncoding::Utf16Be),
            replaced_rows: Vec::new(),
        };
        let mut skipped = ByteRecord::new();
        for _ in 0..skip {
            source.read(&mut skipped)?;
        }
        source.records = 0;
        source.replaced_rows.clear();
        Ok(source)
    }
}

impl RowSource for CsvSource {
    fn read(&mut self, record: &mut ByteRecord) -> Result<bool> {
        let more = read_csv_record(&mut self.reader, record)?;
        if !more {
            // Lines after the last record: empty lines the reader skipped at the end.
            if self.records > 0 {
                let line = self.reader.position().line();
                let cr = self.reader.get_ref().cr_terminated == Some(true);
                // With `\r` terminators the last record's `\n` is counted after it.
                let own = u64::from(cr && self.reader.get_ref().last_byte == Some(b'\n'));
                self.trailing_blank_lines = line.saturating_sub(self.next_line + own);
            }
            return Ok(false);
        }
        // Lines this read consumed beyond the record's own (embedded newlines plus one
        // terminator) were empty lines the reader skipped.
        let position = self.reader.position();
        let line = position.line();
        let newlines = record.as_slice().iter().filter(|&&b| b == b'\n').count() as u64;
        // With LF terminators each record's own `\n` is counted with it, except for a last
        // record the file ends without: then one fewer terminator was counted.
        let stream = self.reader.get_ref();
        let unterminated_last = stream.ended
            && position.byte() == stream.bytes
            && !matches!(stream.last_byte, Some(b'\n' | b'\r'))
            && stream.cr_terminated == Some(false);
        let terminators = if unterminated_last { 0 } else { 1 };
        self.blank_lines = if self.records == 0 {
            0
        } else {
            (line - self.next_line.min(line)).saturating_sub(newlines + terminators)
        };
        self.next_line = line;
        if self.watch_replacement
            && record
                .as_slice()
                .windows(3)
                .any(|w| w == "\u{fffd}".as_bytes())
        {
            self.replaced_rows.push(self.records);
        }
        self.records += 1;
        Ok(true)
    }

    fn blank_lines_before(&self) -> u64 {
        self.blank_lines
    }

    fn blank_lines_at_end(&self) -> u64 {
        self.trailing_blank_lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_the_separator_used_consistently() {
        assert_eq!(
            sniff_delimiter("a;b;c\n1;2,5;3\n", true, Some(b','), false),
            Some(b';')
        );
        assert_eq!(
            sniff_delimiter("a\tb\n\"x\ty\"\t2\n", true, Some(b','), false),
            Some(b'\t')
        );
        assert_eq!(sniff_delimiter("a|b\n1|2\n", true, None, true), Some(b'|'));
        assert_eq!(
            sniff_delimiter("just some prose, here.\n", true, None, true),
            None
        );
        assert_eq!(
            sniff_delimiter("single\n1\n", true, Some(b','), false),
            Some(b',')
        );
        // A header wider than the sample, and a file of blank lines.
        let wide = format!("{}x", "a;".repeat(40_000));
        assert_eq!(sniff_delimiter(&wide, false, Some(b','), false), Some(b';'));
        assert_eq!(
            sniff_delimiter("\n\r\n", true, Some(b','), false),
            Some(b',')
        );
        assert_eq!(sniff_delimiter("\n\r\n", true, None, true), None);
        // A comment before the header.
        assert_eq!(
            sniff_delimiter("# clean; this\na|b\n1|2\n", true, None, true),
            Some(b'|')
        );
    }
}
