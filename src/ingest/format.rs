//! The formats rssd reads, each with its reader: the one place a format becomes tables, for
//! the ingest run and the fuzz entry points alike.

use std::path::Path;

use super::delimited::{self, SniffHints};
use super::naming::table_base_name;
use super::read::ReadOptions;
use super::source::{FileProblem, Table};
use super::wide;
use super::{excel, json};
use crate::Result;

/// A file format rssd reads, named by the file's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// `.csv`: delimited text, comma unless the sniffer finds another separator.
    Csv,
    /// `.tsv`: delimited text, tab unless the sniffer finds another separator.
    Tsv,
    /// `.txt`: read only when it sniffs as delimited text.
    Txt,
    Xlsx,
    Xlsm,
    Xls,
    Ods,
    /// `.json`: an array of objects (or one object).
    Json,
    /// `.ndjson` and `.jsonl`: one object per line.
    Ndjson,
}

/// The readers behind the formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reader {
    Delimited,
    Workbook,
    Json,
}

impl Format {
    /// The extensions rssd reads, for the message about a file it does not.
    pub const EXTENSIONS: &'static str =
        ".csv, .tsv, .txt, .xlsx, .xlsm, .xls, .ods, .json, .ndjson and .jsonl";

    /// The format a file's extension names, if rssd reads it.
    pub fn of_path(path: &Path) -> Option<Format> {
        let extension = path.extension()?.to_string_lossy().to_ascii_lowercase();
        Some(match extension.as_str() {
            "csv" => Format::Csv,
            "tsv" => Format::Tsv,
            "txt" => Format::Txt,
            "xlsx" => Format::Xlsx,
            "xlsm" => Format::Xlsm,
            "xls" => Format::Xls,
            "ods" => Format::Ods,
            "json" => Format::Json,
            "ndjson" | "jsonl" => Format::Ndjson,
            _ => return None,
        })
    }

    /// The name recorded in the entry's elaboration (`format`) and the summary.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Tsv => "tsv",
            Format::Txt => "txt",
            Format::Xlsx => "xlsx",
            Format::Xlsm => "xlsm",
            Format::Xls => "xls",
            Format::Ods => "ods",
            Format::Json => "json",
            Format::Ndjson => "ndjson",
        }
    }

    fn reader(self) -> Reader {
        match self {
            Format::Csv | Format::Tsv | Format::Txt => Reader::Delimited,
            Format::Xlsx | Format::Xlsm | Format::Xls | Format::Ods => Reader::Workbook,
            Format::Json | Format::Ndjson => Reader::Json,
        }
    }

    /// A workbook gives one table per sheet; every other format gives one table.
    pub fn is_workbook(self) -> bool {
        self.reader() == Reader::Workbook
    }

    /// The separator a delimited file gets when sniffing cannot tell, and whether sniffing
    /// must find one at all (a `.txt` may be anything).
    fn sniff_hints(self) -> SniffHints {
        SniffHints {
            default_delimiter: match self {
                Format::Tsv => Some(b'\t'),
                Format::Csv => Some(b','),
                _ => None,
            },
            strict: self == Format::Txt,
        }
    }

    /// Reads `path` into its tables (pass 1 done), or says why it gives none. `stem` names
    /// the tables (workbooks add `_<sheet>`). With `speculate`, a delimited UTF-8 file loads
    /// with the types of a sample while the whole file is scanned meanwhile (see
    /// [`delimited::prepare_speculative`]), and an xlsx workbook's sheets load while they are
    /// parsed (see [`excel::prepare`]), and a big JSON array while it is scanned; other
    /// formats ignore it.
    pub fn open(
        self,
        path: &Path,
        stem: &str,
        speculate: bool,
        read: &ReadOptions,
    ) -> Result<std::result::Result<Vec<Table>, FileProblem>> {
        let base = table_base_name(stem);
        let one = |table: std::result::Result<Table, FileProblem>| table.map(|t| vec![t]);
        let hints = self.sniff_hints();
        let tables = match self.reader() {
            Reader::Workbook => excel::prepare(path, stem, speculate),
            Reader::Json => json::prepare(path, &base, speculate).map(one),
            Reader::Delimited if speculate => {
                match delimited::prepare_speculative(path, hints, &base, read) {
                    Ok(Some(table)) => Ok(Ok(vec![table])),
                    // Not a plain case (or it could not start): the careful way tells.
                    _ => delimited::prepare(path, hints, &base, read).map(one),
                }
            }
            Reader::Delimited => delimited::prepare(path, hints, &base, read).map(one),
        }?;
        // A table SQLite cannot create fails here, with the limit named, rather than at its
        // CREATE TABLE (a delimited file in the long layout is 4 columns wide by now).
        if let Ok(tables) = &tables
            && let Some(wide) = tables
                .iter()
                .map(|t| t.scan.headers.len())
                .find(|&n| n > wide::SQLITE_MAX_COLUMNS)
        {
            return Ok(Err(wide::too_many(
                wide,
                self.reader() == Reader::Delimited,
            )));
        }
        Ok(tables)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_name_formats_case_blind() {
        assert_eq!(Format::of_path(Path::new("a.CSV")), Some(Format::Csv));
        assert_eq!(Format::of_path(Path::new("a.jsonl")), Some(Format::Ndjson));
        assert_eq!(Format::of_path(Path::new("a.parquet")), None);
        assert_eq!(Format::of_path(Path::new("noext")), None);
        assert!(Format::Ods.is_workbook() && !Format::Txt.is_workbook());
        for format in [Format::Csv, Format::Xlsm, Format::Ndjson] {
            let path = format!("x.{}", format.as_str());
            assert_eq!(Format::of_path(Path::new(&path)), Some(format));
        }
    }
}
