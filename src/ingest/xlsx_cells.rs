//! An xlsx sheet's cells read by a byte scanner instead of a general XML parser: the plain
//! SpreadsheetML that spreadsheet programs and libraries write (`<row>`, `<c r s t>`, `<v>`,
//! `<f>`, inline `<is>` strings with rich-text runs, the five XML entities and character
//! references), each cell the same value calamine's cell reader makes of it. Anything else
//! (comments, CDATA, prefixed names, phonetic runs, `_x000D_` escapes, carriage returns that
//! XML would normalise, other entities) is an error, and the sheet's thread then gives way to
//! calamine's reader (the careful read). Several times faster: no events, no allocation per
//! cell, attributes read once.

use std::io::Read;

use calamine::{Cell, CellErrorType, DataRef, ExcelDateTime, ExcelDateTimeType, XlsxError};

use super::xlsx_book::{Book, NumberKind};
use super::xlsx_xml::{Input, Kind, read_string, unsupported};

/// A sheet's cells in file order, as calamine's `next_cell` gives them.
pub struct SheetCells<'b, R> {
    book: &'b Book,
    input: Input<R>,
    row: u32,
    col: u32,
    in_data: bool,
    in_row: bool,
    value: String,
}

impl<'b, R: Read> SheetCells<'b, R> {
    pub fn new(book: &'b Book, reader: R) -> SheetCells<'b, R> {
        SheetCells {
            book,
            input: Input::new(reader),
            row: 0,
            col: 0,
            in_data: false,
            in_row: false,
            value: String::new(),
        }
    }

    /// Skips what comes before `<sheetData>`; false for a sheet without data.
    fn enter_data(&mut self) -> Result<bool, XlsxError> {
        loop {
            if !self.input.next_tag(false)? {
                return Err(unsupported());
            }
            match self.input.kind {
                Kind::Start if self.input.name() == b"sheetData" => return Ok(true),
                Kind::Empty if self.input.name() == b"sheetData" => return Ok(false),
                _ => {}
            }
        }
    }

    pub fn next_cell(&mut self) -> Result<Option<Cell<DataRef<'b>>>, XlsxError> {
        if !self.in_data {
            if !self.enter_data()? {
                return Ok(None);
            }
            self.in_data = true;
        }
        loop {
            if !self.input.next_tag(false)? {
                return Err(unsupported());
            }
            match (self.input.kind, self.input.name()) {
                (Kind::Start | Kind::Empty, b"row") if !self.in_row => {
                    if let [Some(r)] = self.input.attributes([b"r"])? {
                        self.row = position(r, false)?.0;
                    }
                    match self.input.kind {
                        Kind::Empty => (self.row, self.col) = (self.row + 1, 0),
                        _ => self.in_row = true,
                    }
                }
                (Kind::End, b"row") if self.in_row => {
                    (self.row, self.col, self.in_row) = (self.row + 1, 0, false);
                }
                (Kind::Start | Kind::Empty, b"c") => return self.cell().map(Some),
                (Kind::End, b"sheetData") => return Ok(None),
                _ => return Err(unsupported()),
            }
        }
    }

    /// The cell whose tag was just read.
    fn cell(&mut self) -> Result<Cell<DataRef<'b>>, XlsxError> {
        let input = &self.input;
        let [r, s, t] = input.attributes([b"r", b"s", b"t"])?;
        let pos = match r {
            Some(r) => position(r, true)?,
            None => (self.row, self.col),
        };
        self.col = pos.1 + 1;
        let kind = match s {
            Some(style) => {
                let id = std::str::from_utf8(style)
                    .ok()
                    .and_then(|s| s.parse::<usize>().ok())
                    .unwrap_or(0);
                self.book.styles.get(id).copied()
            }
            None => Some(NumberKind::Number),
        };
        let cell_type = CellType::of(t)?;
        let mut value = DataRef::Empty;
        if input.kind == Kind::Empty {
            return Ok(Cell::new(pos, value));
        }
        loop {
            if !self.input.next_tag(false)? {
                return Err(unsupported());
            }
            match (self.input.kind, self.input.name()) {
                (Kind::End, b"c") => return Ok(Cell::new(pos, value)),
                (Kind::Start, b"v") => {
                    if !self.input.next_tag(true)? || !self.input.is(Kind::End, b"v") {
                        return Err(unsupported());
                    }
                    self.value.clear();
                    self.input.decode_text(&mut self.value)?;
                    value = self.typed(cell_type, kind)?;
                }
                (Kind::Empty, b"v") => {
                    self.value.clear();
                    value = self.typed(cell_type, kind)?;
                }
                (Kind::Start, b"f") => {
                    self.input.skip_text_element(b"f")?;
                    value = DataRef::Empty;
                }
                (Kind::Empty, b"f") => value = DataRef::Empty,
                (Kind::Start, b"is") => {
                    value = DataRef::String(read_string(&mut self.input, b"is")?);
                }
                (Kind::Empty, b"is") => value = DataRef::String(String::new()),
                _ => return Err(unsupported()),
            }
        }
    }

    /// The `<v>` text read, as its cell type and style make it.
    fn typed(
        &self,
        cell_type: CellType,
        kind: Option<NumberKind>,
    ) -> Result<DataRef<'b>, XlsxError> {
        let v = self.value.as_str();
        Ok(match cell_type {
            CellType::Shared => {
                let index: usize = v.parse().map_err(|_| unsupported())?;
                let text = self.book.strings.get(index).ok_or_else(unsupported)?;
                DataRef::SharedString(text)
            }
            CellType::Bool => DataRef::Bool(v != "0"),
            CellType::Error => DataRef::Error(error_value(v)?),
            CellType::Date => DataRef::DateTimeIso(v.to_string()),
            CellType::Text => DataRef::String(v.to_string()),
            CellType::Number if v.is_empty() => DataRef::Empty,
            CellType::Number => number(v.parse().map_err(|_| unsupported())?, kind, self.book),
            CellType::Inline => return Err(unsupported()),
            CellType::Unknown => match v.parse() {
                Ok(n) => number(n, kind, self.book),
                Err(_) => DataRef::String(v.to_string()),
            },
        })
    }
}

#[derive(Clone, Copy)]
enum CellType {
    Shared,
    Bool,
    Error,
    Date,
    Text,
    Number,
    /// No `t`: a number if it reads as one, else text.
    Unknown,
    /// Its value is its `<is>`; a `<v>` in it is not the plain case.
    Inline,
}

impl CellType {
    fn of(t: Option<&[u8]>) -> Result<CellType, XlsxError> {
        Ok(match t {
            None => CellType::Unknown,
            Some(b"s") => CellType::Shared,
            Some(b"b") => CellType::Bool,
            Some(b"e") => CellType::Error,
            Some(b"d") => CellType::Date,
            Some(b"str") => CellType::Text,
            Some(b"n") => CellType::Number,
            Some(b"inlineStr") => CellType::Inline,
            Some(_) => return Err(unsupported()),
        })
    }
}

fn number<'b>(value: f64, kind: Option<NumberKind>, book: &Book) -> DataRef<'b> {
    let excel = |typ| DataRef::DateTime(ExcelDateTime::new(value, typ, book.is_1904));
    match kind {
        Some(NumberKind::DateTime) => excel(ExcelDateTimeType::DateTime),
        Some(NumberKind::Duration) => excel(ExcelDateTimeType::TimeDelta),
        _ => DataRef::Float(value),
    }
}

fn error_value(v: &str) -> Result<CellErrorType, XlsxError> {
    Ok(match v {
        "#DIV/0!" => CellErrorType::Div0,
        "#N/A" => CellErrorType::NA,
        "#NAME?" => CellErrorType::Name,
        "#NULL!" => CellErrorType::Null,
        "#NUM!" => CellErrorType::Num,
        "#REF!" => CellErrorType::Ref,
        "#VALUE!" => CellErrorType::Value,
        _ => return Err(unsupported()),
    })
}

/// `A1` as (row, column) from 0; with `column`, the letters are required.
fn position(reference: &[u8], column: bool) -> Result<(u32, u32), XlsxError> {
    let letters = reference
        .iter()
        .take_while(|b| b.is_ascii_alphabetic())
        .count();
    let (cols, digits) = reference.split_at(letters);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) || (column && letters == 0) {
        return Err(unsupported());
    }
    let row: u32 = std::str::from_utf8(digits)
        .ok()
        .and_then(|d| d.parse().ok())
        .filter(|&r| r > 0)
        .ok_or_else(unsupported)?;
    let mut col: u32 = 0;
    for b in cols {
        col = col
            .checked_mul(26)
            .and_then(|c| c.checked_add((b.to_ascii_uppercase() - b'A' + 1) as u32))
            .ok_or_else(unsupported)?;
    }
    Ok((row - 1, col.saturating_sub(1)))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use calamine::{Data, Xlsx, open_workbook};
    use rust_xlsxwriter::{ExcelDateTime as Written, Format, Formula, Workbook, Worksheet};

    use super::*;

    /// Every kind of cell a writer puts in a sheet, in rows 0..8.
    fn write_cells(sheet: &mut Worksheet) {
        let date = Format::new().set_num_format("yyyy-mm-dd hh:mm");
        let elapsed = Format::new().set_num_format("[h]:mm:ss");
        let money = Format::new().set_num_format("\"$\"#,##0.00");
        let bold = Format::new().set_bold();
        let plain = Format::new();
        let day = Written::from_ymd(2024, 2, 29)
            .unwrap()
            .and_hms(13, 5, 0)
            .unwrap();
        for row in 0..8u32 {
            let n = f64::from(row);
            sheet.write_number(row, 0, n * 1.5 - 3.0).unwrap();
            sheet
                .write_string(row, 1, format!("<&> \"q\" 'a' {row}"))
                .unwrap();
            sheet.write_string(row, 2, "Ünïcödé ✓ line\nbreak").unwrap();
            sheet.write_boolean(row, 3, row % 2 == 0).unwrap();
            sheet
                .write_datetime_with_format(row, 4, &day, &date)
                .unwrap();
            sheet
                .write_number_with_format(row, 5, 1.25 + n, &elapsed)
                .unwrap();
            sheet
                .write_number_with_format(row, 6, 1234.5 * n, &money)
                .unwrap();
            let formula = Formula::new(format!("=A{}*2", row + 1)).set_result("7");
            sheet.write_formula(row, 7, formula).unwrap();
            let text = Formula::new("=\"a\"&\"b\"").set_result("ab");
            sheet.write_formula(row, 8, text).unwrap();
            let runs = [(&bold, "bold "), (&plain, "and plain")];
            sheet.write_rich_string(row, 9, &runs).unwrap();
            sheet.write_string(row, 10, "  padded  ").unwrap();
            sheet.write_number(row, 12, 1e20 + n).unwrap();
        }
    }

    type Cells = Vec<((u32, u32), Data)>;

    fn collect<R: Read>(mut reader: SheetCells<R>) -> Result<Cells, XlsxError> {
        let mut cells = Vec::new();
        while let Some(cell) = reader.next_cell()? {
            cells.push((cell.get_position(), Data::from(cell.get_value().clone())));
        }
        Ok(cells)
    }

    fn calamine_cells(path: &Path, sheet: &str) -> Cells {
        let mut book: Xlsx<_> = open_workbook(path).unwrap();
        let mut reader = book.worksheet_cells_reader(sheet).unwrap();
        let mut cells = Vec::new();
        while let Some(cell) = reader.next_cell().unwrap() {
            cells.push((cell.get_position(), Data::from(cell.get_value().clone())));
        }
        cells
    }

    fn fast_cells(path: &Path, sheet: &str) -> Result<Cells, XlsxError> {
        let book = Book::open(path).expect("the plain case");
        let file = std::io::BufReader::new(std::fs::File::open(path).unwrap());
        let mut zip = zip4::ZipArchive::new(file).unwrap();
        let entry = zip.by_name(book.sheet_entry(sheet).unwrap()).unwrap();
        collect(SheetCells::new(&book, entry))
    }

    #[test]
    fn every_kind_of_cell_reads_as_calamine_reads_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kinds.xlsx");
        let mut workbook = Workbook::new();
        write_cells(workbook.add_worksheet().set_name("Shared").unwrap());
        let inline = workbook.add_worksheet_with_constant_memory().unwrap();
        write_cells(inline.set_name("Inline").unwrap());
        workbook.save(&path).unwrap();
        for sheet in ["Shared", "Inline"] {
            let expected = calamine_cells(&path, sheet);
            assert_eq!(expected.len(), 8 * 12, "{sheet}");
            assert_eq!(fast_cells(&path, sheet).unwrap(), expected, "{sheet}");
        }
    }

    fn cells_of_xml(xml: &str) -> Result<Cells, XlsxError> {
        let book = Book {
            strings: vec!["zero".into(), "one".into()],
            styles: vec![NumberKind::Number, NumberKind::DateTime],
            is_1904: false,
            sheets: Default::default(),
        };
        collect(SheetCells::new(&book, xml.as_bytes()))
    }

    #[test]
    fn hand_written_cells_keep_their_positions_types_and_text() {
        let xml = "<?xml version=\"1.0\"?><worksheet><dimension ref=\"A1:C3\"/><sheetData>\
            <row r=\"2\"><c r=\"B2\" t=\"s\"><v>1</v></c><c t=\"b\"><v>0</v></c><c/></row>\
            <row><c><v>12</v></c><c s=\"1\"><v>45351.5</v></c><c t=\"e\"><v>#N/A</v></c>\
            <c t=\"str\"><f>A1</f><v>a &amp; &#x263A; &#65;</v></c><c t=\"inlineStr\"><is/></c>\
            <c><v>text?</v></c><c t=\"n\"><v/></c></row><row r=\"9\"/></sheetData></worksheet>";
        let day = ExcelDateTime::new(45351.5, ExcelDateTimeType::DateTime, false);
        assert_eq!(
            cells_of_xml(xml).unwrap(),
            [
                ((1, 1), Data::String("one".into())),
                ((1, 2), Data::Bool(false)),
                ((1, 3), Data::Empty),
                ((2, 0), Data::Float(12.0)),
                ((2, 1), Data::DateTime(day)),
                ((2, 2), Data::Error(CellErrorType::NA)),
                ((2, 3), Data::String("a & \u{263A} A".into())),
                ((2, 4), Data::String(String::new())),
                ((2, 5), Data::String("text?".into())),
                ((2, 6), Data::Empty),
            ]
        );
    }

    #[test]
    fn what_is_not_the_plain_case_is_refused_for_calamine_to_read() {
        let sheet = |cells: &str| {
            format!("<worksheet><sheetData><row r=\"1\">{cells}</row></sheetData></worksheet>")
        };
        for cells in [
            "<!-- a comment --><c><v>1</v></c>",
            "<c t=\"str\"><v>a\r\nb</v></c>",
            "<c t=\"inlineStr\"><is><t>a_x000D_b</t></is></c>",
            "<c t=\"inlineStr\"><is><t>a</t><rPh><t>x</t></rPh></is></c>",
            "<c t=\"str\"><v><![CDATA[x]]></v></c>",
            "<c t=\"str\"><v>&nbsp;</v></c>",
            "<x:c><x:v>1</x:v></x:c>",
            "<c t=\"s\"><v>7</v></c>",
            "<c t=\"e\"><v>#SPILL!</v></c>",
            "<c t=\"inlineStr\"><v>1</v></c>",
            "<c r=\"1A\"><v>1</v></c>",
        ] {
            assert!(cells_of_xml(&sheet(cells)).is_err(), "{cells}");
        }
        assert!(cells_of_xml("<worksheet><sheetData><row>").is_err());
    }
}

/// Mutated sheets, each read by both readers: the fast one never panics, and whenever it
/// accepts a sheet, calamine reads the very same cells from it.
#[cfg(test)]
mod differential {
    use std::io::{Cursor, Write};

    use calamine::{Data, Reader, Xlsx};

    use super::*;

    const SHEET: &str = "<row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is><t>id</t></is></c>\
        <c r=\"B1\" t=\"s\"><v>0</v></c><c t=\"s\"><v>1</v></c></row><row r=\"2\"><c r=\"A2\"><v>1.5</v></c>\
        <c r=\"B2\" t=\"str\"><f>A2</f><v>a &amp; b</v></c><c r=\"C2\" s=\"1\"><v>45000</v></c>\
        </row><row><c t=\"b\"><v>1</v></c><c t=\"inlineStr\"><is><r><t>x</t></r><r>\
        <rPr><b/></rPr><t xml:space=\"preserve\"> y</t></r></is></c><c t=\"e\"><v>#N/A</v></c></row>";

    const STRINGS: &str = "<si><t>shared</t></si><si><r><t>a</t></r><r><rPr><i/></rPr>\
        <t xml:space=\"preserve\"> b</t></r></si>";

    fn workbook(sheet_data: &str, strings: &str) -> Vec<u8> {
        let main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
        let rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
        let parts = [
            (
                "xl/workbook.xml",
                format!(
                    "<workbook xmlns=\"{main}\" xmlns:r=\"{rel}\"><sheets><sheet name=\"S\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>"
                ),
            ),
            (
                "xl/_rels/workbook.xml.rels",
                format!(
                    "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\"><Relationship Id=\"rId1\" Type=\"{rel}/worksheet\" Target=\"worksheets/sheet1.xml\"/></Relationships>"
                ),
            ),
            (
                "xl/sharedStrings.xml",
                format!("<sst xmlns=\"{main}\">{strings}</sst>"),
            ),
            (
                "xl/styles.xml",
                format!(
                    "<styleSheet xmlns=\"{main}\"><cellXfs><xf numFmtId=\"0\"/><xf numFmtId=\"14\"/></cellXfs></styleSheet>"
                ),
            ),
            (
                "xl/worksheets/sheet1.xml",
                format!(
                    "<worksheet xmlns=\"{main}\"><sheetData>{sheet_data}</sheetData></worksheet>"
                ),
            ),
        ];
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let stored = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        for (name, body) in parts {
            zip.start_file(name, stored).unwrap();
            zip.write_all(body.as_bytes()).unwrap();
        }
        zip.finish().unwrap().into_inner()
    }

    type Cells = Vec<((u32, u32), Data)>;

    fn fast(bytes: &[u8]) -> Option<Cells> {
        let book = Book::read(zip4::ZipArchive::new(Cursor::new(bytes)).ok()?)?;
        let mut zip = zip4::ZipArchive::new(Cursor::new(bytes)).ok()?;
        let entry = zip.by_name(book.sheet_entry("S")?).ok()?;
        let mut reader = SheetCells::new(&book, entry);
        let mut cells = Vec::new();
        while let Some(cell) = reader.next_cell().ok()? {
            cells.push((cell.get_position(), Data::from(cell.get_value().clone())));
        }
        Some(cells)
    }

    fn careful(bytes: &[u8]) -> Result<Cells, XlsxError> {
        let mut book = Xlsx::new(Cursor::new(bytes))?;
        let mut reader = book.worksheet_cells_reader("S")?;
        let mut cells = Vec::new();
        while let Some(cell) = reader.next_cell()? {
            cells.push((cell.get_position(), Data::from(cell.get_value().clone())));
        }
        Ok(cells)
    }

    /// A small deterministic generator (no dependency for a test).
    struct Lcg(u64);

    impl Lcg {
        fn below(&mut self, n: usize) -> usize {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((self.0 >> 33) as usize) % n.max(1)
        }
    }

    fn mutate(text: &str, random: &mut Lcg) -> Vec<u8> {
        const PIECES: [&[u8]; 32] = [
            b"<",
            b">",
            b"&",
            b";",
            b"\"",
            b"'",
            b"/",
            b"=",
            b"\r\n",
            b"\t",
            b"_x000D_",
            b"&#x41;",
            b"&#0;",
            b"&#xD800;",
            b"\xC3\xA9",
            b"<![CDATA[a]]>",
            b"<?pi x?>",
            b"<!--x-->",
            b"<c>",
            b"</c>",
            b"<v>",
            b"</v>",
            b"<f/>",
            b"<is>",
            b"</is>",
            b"<r>",
            b"<t>",
            b"</t>",
            b" t=\"s\"",
            b" r=\"A1\"",
            b"<row>",
            b"</row>",
        ];
        let mut bytes = text.as_bytes().to_vec();
        for _ in 0..1 + random.below(3) {
            if bytes.is_empty() {
                break;
            }
            let at = random.below(bytes.len());
            match random.below(4) {
                0 => {
                    bytes.remove(at);
                }
                1 => {
                    let piece = PIECES[random.below(PIECES.len())];
                    bytes.splice(at..at, piece.iter().copied());
                }
                2 => bytes[at] = b"0123456789 abrstvcA\"<>/="[random.below(24)],
                _ => bytes.truncate(at),
            }
        }
        bytes
    }

    #[test]
    fn mutated_sheets_read_as_calamine_reads_them_or_go_to_calamine() {
        let original = workbook(SHEET, STRINGS);
        assert_eq!(fast(&original), Some(careful(&original).unwrap()));
        let mut random = Lcg(std::env::var("SEED")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(7));
        let mutations = std::env::var("MUTATIONS").ok().and_then(|n| n.parse().ok());
        let (mut accepted, mut refused) = (0, 0);
        for i in 0..mutations.unwrap_or(3_000) {
            // Mostly the sheet, sometimes the shared strings.
            let (sheet, strings) = match i % 4 {
                0 => (
                    SHEET.to_string(),
                    String::from_utf8(mutate(STRINGS, &mut random)),
                ),
                _ => (
                    String::from_utf8(mutate(SHEET, &mut random)).unwrap_or_default(),
                    Ok(STRINGS.to_string()),
                ),
            };
            let (Ok(strings), false) = (strings, sheet.is_empty()) else {
                continue;
            };
            let bytes = workbook(&sheet, &strings);
            match fast(&bytes) {
                Some(cells) => {
                    accepted += 1;
                    let expected = careful(&bytes).map_err(|e| e.to_string());
                    assert_eq!(Ok(cells), expected, "{sheet}\n{strings}");
                }
                None => refused += 1,
            }
        }
        // Both outcomes are exercised.
        assert!(
            accepted > 100 && refused > 100,
            "{accepted} accepted, {refused} refused"
        );
    }
}
