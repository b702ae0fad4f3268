//! What a fast xlsx sheet read needs from the rest of the workbook: where each sheet's XML
//! is, the shared strings, which cell styles are dates, the 1904 date system. Read with the
//! same rules as calamine's; `None` wherever a part is not the plain case, and then calamine
//! reads the workbook's sheets as before.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read, Seek};
use std::path::Path;

use quick_xml::encoding::Decoder;
use quick_xml::events::{BytesStart, Event};
use zip4::ZipArchive;

use super::xlsx_xml::{self, Input};

/// What a cell's number format makes of a number.
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum NumberKind {
    Number,
    DateTime,
    Duration,
}

pub struct Book {
    pub strings: Vec<String>,
    /// By cell style (`s`): what its number format makes of numbers.
    pub styles: Vec<NumberKind>,
    pub is_1904: bool,
    /// Sheet name -> the zip entry of its XML.
    pub(super) sheets: HashMap<String, String>,
}

impl Book {
    /// None when any part is outside the plain case (calamine then reads every sheet).
    pub fn open(path: &Path) -> Option<Book> {
        Book::read(ZipArchive::new(BufReader::new(File::open(path).ok()?)).ok()?)
    }

    /// As [`Book::open`], from the workbook's zip.
    pub fn read<R: Read + Seek>(mut zip: ZipArchive<R>) -> Option<Book> {
        let targets = relationships(&mut zip)?;
        let (names, is_1904) = workbook(&mut zip)?;
        let mut sheets = HashMap::new();
        for (name, id) in names {
            let target = targets.get(&id)?;
            let entry = match target.strip_prefix('/') {
                Some(absolute) => absolute.to_string(),
                None => format!("xl/{target}"),
            };
            zip.by_name(&entry).ok()?;
            sheets.insert(name, entry);
        }
        Some(Book {
            strings: shared_strings(&mut zip)?,
            styles: styles(&mut zip)?,
            is_1904,
            sheets,
        })
    }

    pub fn sheet_entry(&self, sheet: &str) -> Option<&str> {
        self.sheets.get(sheet).map(String::as_str)
    }
}

/// A small part, whole (None: missing or unreadable).
fn part<R: Read + Seek>(zip: &mut ZipArchive<R>, name: &str) -> Option<Vec<u8>> {
    let mut file = zip.by_name(name).ok()?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).ok()?;
    Some(bytes)
}

fn attribute(element: &BytesStart, key: &[u8], decoder: Decoder) -> Option<String> {
    element
        .attributes()
        .filter_map(Result::ok)
        .find(|a| a.key.as_ref() == key)
        .and_then(|a| {
            a.decode_and_unescape_value(decoder)
                .ok()
                .map(|v| v.into_owned())
        })
}

/// Relationship id -> target, from the workbook's rels.
fn relationships<R: Read + Seek>(zip: &mut ZipArchive<R>) -> Option<HashMap<String, String>> {
    let bytes = part(zip, "xl/_rels/workbook.xml.rels")?;
    let mut xml = quick_xml::Reader::from_reader(bytes.as_slice());
    let mut targets = HashMap::new();
    loop {
        match xml.read_event().ok()? {
            Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == b"Relationship" => {
                targets.insert(
                    attribute(&e, b"Id", xml.decoder())?,
                    attribute(&e, b"Target", xml.decoder())?,
                );
            }
            Event::Eof => return Some(targets),
            _ => {}
        }
    }
}

/// The sheets (name, relationship id) and the date system.
#[allow(clippy::type_complexity)]
fn workbook<R: Read + Seek>(zip: &mut ZipArchive<R>) -> Option<(Vec<(String, String)>, bool)> {
    let bytes = part(zip, "xl/workbook.xml")?;
    let mut xml = quick_xml::Reader::from_reader(bytes.as_slice());
    let (mut sheets, mut is_1904) = (Vec::new(), false);
    loop {
        match xml.read_event().ok()? {
            Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == b"sheet" => {
                let id = attribute(&e, b"r:id", xml.decoder())
                    .or_else(|| attribute(&e, b"relationships:id", xml.decoder()))?;
                sheets.push((attribute(&e, b"name", xml.decoder())?, id));
            }
            Event::Start(e) | Event::Empty(e) if e.name().as_ref() == b"workbookPr" => {
                is_1904 = attribute(&e, b"date1904", xml.decoder())
                    .is_some_and(|v| v == "1" || v == "true");
            }
            Event::Eof => return Some((sheets, is_1904)),
            _ => {}
        }
    }
}

/// The shared strings table, each `<si>` read as an inline string is.
fn shared_strings<R: Read + Seek>(zip: &mut ZipArchive<R>) -> Option<Vec<String>> {
    let Ok(file) = zip.by_name("xl/sharedStrings.xml") else {
        return Some(Vec::new());
    };
    let mut input = Input::new(file);
    xlsx_xml::read_shared_strings(&mut input).ok()
}

/// What each cell style (`cellXfs`) makes of numbers.
fn styles<R: Read + Seek>(zip: &mut ZipArchive<R>) -> Option<Vec<NumberKind>> {
    let Some(bytes) = part(zip, "xl/styles.xml") else {
        return Some(Vec::new());
    };
    let mut xml = quick_xml::Reader::from_reader(bytes.as_slice());
    let (mut formats, mut styles) = (HashMap::new(), Vec::new());
    let mut in_cell_xfs = false;
    loop {
        match xml.read_event().ok()? {
            Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == b"numFmt" => {
                let id = attribute(&e, b"numFmtId", xml.decoder()).unwrap_or_default();
                let code = attribute(&e, b"formatCode", xml.decoder()).unwrap_or_default();
                if !code.is_empty() {
                    formats.insert(id, code);
                }
            }
            Event::Start(e) if e.local_name().as_ref() == b"cellXfs" => in_cell_xfs = true,
            Event::End(e) if e.local_name().as_ref() == b"cellXfs" => in_cell_xfs = false,
            Event::Start(e) | Event::Empty(e)
                if in_cell_xfs && e.local_name().as_ref() == b"xf" =>
            {
                styles.push(match attribute(&e, b"numFmtId", xml.decoder()) {
                    None => NumberKind::Number,
                    Some(id) => match formats.get(&id) {
                        Some(code) => custom_format_kind(code),
                        None => builtin_format_kind(&id),
                    },
                });
            }
            Event::Eof => return Some(styles),
            _ => {}
        }
    }
}

/// Excel's built-in number formats that show dates, times or durations.
fn builtin_format_kind(id: &str) -> NumberKind {
    match id {
        "14" | "15" | "16" | "17" | "18" | "19" | "20" | "21" | "22" | "45" | "47" => {
            NumberKind::DateTime
        }
        "46" => NumberKind::Duration,
        _ => NumberKind::Number,
    }
}

/// A custom format code shows a date when its first section has a date or time letter
/// outside quotes, escapes and brackets (`[h]`, `[mm]`, `[ss]`: a duration).
fn custom_format_kind(code: &str) -> NumberKind {
    let (mut escaped, mut quoted, mut brackets) = (false, false, 0u8);
    let (mut previous, mut elapsed, mut am_pm) = (' ', false, false);
    for c in code.chars() {
        match c {
            _ if escaped => escaped = false,
            '_' | '\\' => escaped = true,
            '"' => quoted = !quoted,
            _ if quoted => {}
            ';' => return NumberKind::Number,
            '[' => brackets += 1,
            ']' if brackets == 1 && elapsed => return NumberKind::Duration,
            ']' => brackets = brackets.saturating_sub(1),
            'a' | 'A' if !am_pm && brackets == 0 => am_pm = true,
            'p' | 'm' | '/' | 'P' | 'M' if am_pm && brackets == 0 => return NumberKind::DateTime,
            'd' | 'm' | 'h' | 'y' | 's' | 'D' | 'M' | 'H' | 'Y' | 'S'
                if !am_pm && brackets == 0 =>
            {
                return NumberKind::DateTime;
            }
            _ => {
                if !(elapsed && c.eq_ignore_ascii_case(&previous)) {
                    elapsed = previous == '[' && matches!(c, 'm' | 'h' | 's' | 'M' | 'H' | 'S');
                }
            }
        }
        previous = c;
    }
    NumberKind::Number
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_codes_that_show_dates_and_durations() {
        assert_eq!(custom_format_kind("DD/MM/YY"), NumberKind::DateTime);
        assert_eq!(custom_format_kind("H:MM:SS;@"), NumberKind::DateTime);
        assert_eq!(custom_format_kind("yyyy-mm-dd"), NumberKind::DateTime);
        assert_eq!(custom_format_kind("m\"M\"d\"D\";@"), NumberKind::DateTime);
        assert_eq!(custom_format_kind("[h]:mm:ss"), NumberKind::Duration);
        assert_eq!(custom_format_kind("0.00"), NumberKind::Number);
        assert_eq!(
            custom_format_kind("#,##0\\ [$\\u20bd-46D]"),
            NumberKind::Number
        );
        assert_eq!(
            custom_format_kind("\"$\"#,##0_);[Red](\"$\"#,##0)"),
            NumberKind::Number
        );
        assert_eq!(
            custom_format_kind("\"Y: \"0.00\"m\";\"Y: \"-0.00\"m\";\"Y: <num>m\";@"),
            NumberKind::Number
        );
        assert_eq!(builtin_format_kind("14"), NumberKind::DateTime);
        assert_eq!(builtin_format_kind("46"), NumberKind::Duration);
        assert_eq!(builtin_format_kind("2"), NumberKind::Number);
    }
}
