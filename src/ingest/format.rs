//! The formats rssd reads, each with its reader: the one place a format becomes tables, for
//! the ingest run and the fuzz entry points alike.

use std::path::Path;

use super::delimited::{self, SniffHints};
use super::naming::table_base_name;
use super::source::{FileProblem, Table};
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
    /// [`delimited::prepare_speculative`]); other formats ignore it.
    pub fn open(
        self,
        path: &Path,
        stem: &str,
        speculate: bool,
    ) -> Result<std::result::Result<Vec<Table>, FileProblem>> {
        let base = table_base_name(stem);
        let one = |table: std::result::Result<Table, FileProblem>| table.map(|t| vec![t]);
        match self.reader() {
            Reader::Workbook => excel::prepare(path, stem),
            Reader::Json => json::prepare(path, &base).map(one),
            Reader::Delimited if speculate => {
                match delimited::prepare_speculative(path, self.sniff_hints(), &base) {
                    Ok(Some(table)) => Ok(Ok(vec![table])),
                    // Not a plain case (or it could not start): the careful way tells.
                    _ => delimited::prepare(path, self.sniff_hints(), &base).map(one),
                }
            }
            Reader::Delimited => delimited::prepare(path, self.sniff_hints(), &base).map(one),
        }
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
