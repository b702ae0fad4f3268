//! Lines before a delimited file's header: a comment (`# clean this data!`), a title, an
//! export's "Generated on ..." line. They are found in the first records and skipped with a
//! `Preamble Skipped` warning each, so that the header is the real one.
//!
//! A leading line is preamble when a consistent block follows it (a line whose cell count most
//! of the next lines share) and, against that block's width W, it starts with `#` and has
//! another width, or has at most half of W's cells (a header of 2 names over rows of 3 cells
//! is a ragged file, not a preamble). `--header-row N` overrides the detection.

use std::path::Path;

use csv::ByteRecord;

use super::encoding::{TextEncoding, open_text};
use super::source::read_csv_record;
use crate::Result;
use crate::state::{Issue, IssueKind, Severity};

/// Records read to find the header; the preamble itself is at most `MAX_PREAMBLE` lines.
const LOOK_AHEAD: usize = 200;
const MAX_PREAMBLE: usize = 20;
/// Records after a header candidate that judge whether a consistent block starts there.
const BLOCK: usize = 10;

/// Where the header is.
#[derive(Debug, Clone, Default)]
pub struct Preamble {
    /// Records before the header (skipped).
    pub records: u64,
    /// The header's 1-based line in the file.
    pub header_line: u64,
    /// The skipped lines: line number and text.
    pub skipped: Vec<(u64, String)>,
}

impl Preamble {
    /// One warning per skipped line, its text in `invalid_value`.
    pub fn issues(&self) -> Vec<Issue> {
        let header_line = self.header_line;
        self.skipped
            .iter()
            .map(|(line, text)| {
                Issue::new(
                    IssueKind::PreambleSkipped,
                    format!("line {line} is before the header (line {header_line}) and was skipped"),
                )
                .severity(Severity::Warning)
                .invalid_value(text.clone())
                .remediation("remove the lines before the header, or name the header's line with --header-row")
                .with("line", *line)
                .with("header_line", header_line)
            })
            .collect()
    }
}

/// Finds the header of a delimited file: at line `header_row` when given (the first record
/// starting on or after it), else by the rule of this module.
pub fn find(
    path: &Path,
    encoding: TextEncoding,
    delimiter: u8,
    header_row: Option<u64>,
) -> Result<Preamble> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(open_text(path, encoding)?);
    let limit = header_row.map_or(LOOK_AHEAD, |_| usize::MAX);
    let mut records: Vec<(u64, ByteRecord)> = Vec::new();
    let mut record = ByteRecord::new();
    while records.len() < limit && read_csv_record(&mut reader, &mut record)? {
        let line = record.position().map_or(1, |p| p.line());
        if header_row.is_some_and(|wanted| line >= wanted) {
            break;
        }
        records.push((line, record.clone()));
    }
    let header = match header_row {
        Some(_) => records.len(),
        None => detect(&records),
    };
    let header_line = match header_row {
        Some(_) => record.position().map_or(1, |p| p.line()),
        None => records.get(header).map_or(1, |(line, _)| *line),
    };
    let text = |r: &ByteRecord| {
        let cells: Vec<String> = r
            .iter()
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect();
        cells.join(&char::from(delimiter).to_string())
    };
    Ok(Preamble {
        records: header as u64,
        header_line,
        skipped: records[..header.min(records.len())]
            .iter()
            .map(|(line, r)| (*line, text(r)))
            .collect(),
    })
}

/// The index of the header among the first records.
fn detect(records: &[(u64, ByteRecord)]) -> usize {
    let widths: Vec<usize> = records.iter().map(|(_, r)| r.len()).collect();
    let comment: Vec<bool> = records
        .iter()
        .map(|(_, r)| {
            r.get(0)
                .is_some_and(|c| c.trim_ascii_start().starts_with(b"#"))
        })
        .collect();
    let consistent = |h: usize| {
        let next = &widths[h + 1..(h + 1 + BLOCK).min(widths.len())];
        let same = next.iter().filter(|&&w| w == widths[h]).count();
        !next.is_empty() && same * 2 > next.len()
    };
    if widths.is_empty() || consistent(0) {
        return 0;
    }
    for h in 1..MAX_PREAMBLE.min(widths.len()) {
        let width = widths[h];
        let preamble = |i: usize| (comment[i] && widths[i] != width) || widths[i] * 2 <= width;
        if !(0..h).all(preamble) {
            // Lines only get further from the block: a line that is no preamble ends the search.
            break;
        }
        if consistent(h) {
            return h;
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(lines: &[&str]) -> Vec<(u64, ByteRecord)> {
        lines
            .iter()
            .enumerate()
            .map(|(i, line)| {
                (
                    i as u64 + 1,
                    ByteRecord::from(line.split(',').collect::<Vec<_>>()),
                )
            })
            .collect()
    }

    #[test]
    fn finds_the_header_after_comments_and_titles() {
        assert_eq!(
            detect(&records(&["# clean this data!", "a,b,c", "1,2,3", "4,5,6"])),
            1
        );
        assert_eq!(
            detect(&records(&[
                "Report",
                "Generated,today",
                "a,b,c,d",
                "1,2,3,4",
                "1,2,3,4"
            ])),
            2
        );
        // Ragged files keep their first line as the header.
        assert_eq!(detect(&records(&["a,b", "1,2,3", "1,2,3"])), 0);
        assert_eq!(detect(&records(&["a,b,c", "1,2", "1,2"])), 0);
        assert_eq!(detect(&records(&["#,name", "1,x", "2,y"])), 0);
        assert_eq!(detect(&records(&["a,b,c"])), 0);
    }
}
