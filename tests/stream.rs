//! Streamed formats end to end: workbooks and JSON arrays large enough to cross several load
//! batches (1,024 rows) and the JSON reader's 1 MB buffer keep every cell's text; JSON arrays
//! of arrays load with their first array as the header, and their bad forms give issues.

use std::fmt::Write as _;
use std::path::Path;

use rust_xlsxwriter::{ExcelDateTime, Format, Formula, Workbook, Worksheet};

use crate::common::*;

/// Every cell of a table as text (`~` for NULL), rows in rowid order, cells joined by `|`.
fn cells(db: &Path, table: &str) -> Vec<String> {
    let conn = connect(db);
    let mut stmt = conn
        .prepare(&format!("SELECT * FROM \"{table}\" ORDER BY rowid"))
        .unwrap();
    let width = stmt.column_count();
    stmt.query_map([], |row| {
        Ok((0..width)
            .map(|i| match row.get_ref(i).unwrap() {
                rusqlite::types::ValueRef::Null => "~".to_string(),
                rusqlite::types::ValueRef::Integer(v) => v.to_string(),
                rusqlite::types::ValueRef::Real(v) => v.to_string(),
                rusqlite::types::ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
                rusqlite::types::ValueRef::Blob(_) => "blob".to_string(),
            })
            .collect::<Vec<_>>()
            .join("|"))
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

/// `issue_type|row|invalid_value|severity` of each issue of entries from `source_like`.
fn issues_of(db: &Path, source_like: &str) -> Vec<String> {
    lines(
        db,
        &format!(
            "SELECT i.issue_type || '|' || coalesce(i.issue_row, '') || '|' || coalesce(i.invalid_value, '')
                    || '|' || json_extract(i.elaboration, '$.severity')
             FROM orchestration_session_issue i JOIN orchestration_session_entry e
               ON e.orchestration_session_entry_id = i.session_entry_id
             WHERE e.ingest_src LIKE '{source_like}' ORDER BY i.rowid"
        ),
    )
}

const SHEET_ROWS: u32 = 5_000;
/// A row left empty inside the data: a blank row of the table.
const GAP_ROW: u32 = 2_500;

/// Writes data rows from row 1, column 1 (row 0 and column 0 stay empty, so the table starts
/// at B2 as the sheet's rectangle does), and returns the text rssd must load for each row.
fn write_sheet(sheet: &mut Worksheet, date: &Format) -> Vec<String> {
    let header = ["id", "half", "name", "flag", "day", "stamp", "twice"];
    for (col, name) in header.iter().enumerate() {
        sheet.write_string(1, col as u16 + 1, *name).unwrap();
    }
    let mut expected = Vec::new();
    for i in 1..=SHEET_ROWS {
        let row = i + 1;
        if i == GAP_ROW {
            expected.push("~|~|~|~|~|~|~".to_string());
            continue;
        }
        let day = ExcelDateTime::from_ymd(2024, 1 + (i % 12) as u8, 1 + (i % 28) as u8).unwrap();
        let stamp = ExcelDateTime::from_ymd(2023, 6, 1 + (i % 28) as u8)
            .unwrap()
            .and_hms((i % 24) as u16, (i % 60) as u8, 0)
            .unwrap();
        sheet.write_number(row, 1, i).unwrap();
        sheet.write_number(row, 2, f64::from(i) + 0.25).unwrap();
        sheet
            .write_string(row, 3, format!("name {} | x", i % 700))
            .unwrap();
        sheet.write_boolean(row, 4, i.is_multiple_of(3)).unwrap();
        sheet
            .write_datetime_with_format(row, 5, &day, date)
            .unwrap();
        sheet
            .write_datetime_with_format(row, 6, &stamp, date)
            .unwrap();
        let formula = Formula::new(format!("=B{}*2", row + 1)).set_result((2 * i).to_string());
        sheet.write_formula(row, 7, formula).unwrap();
        // Midnight is a date alone.
        let time = match (i % 24, i % 60) {
            (0, 0) => String::new(),
            (hour, minute) => format!("T{hour:02}:{minute:02}:00"),
        };
        expected.push(format!(
            "{i}|{}|name {} | x|{}|2024-{:02}-{:02}|2023-06-{:02}{time}|{}",
            f64::from(i) + 0.25,
            i % 700,
            if i.is_multiple_of(3) { "TRUE" } else { "FALSE" },
            1 + i % 12,
            1 + i % 28,
            1 + i % 28,
            2 * i
        ));
    }
    expected
}

#[test]
fn a_workbook_crossing_many_batches_keeps_every_cell_of_every_sheet() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.xlsx");
    let mut book = Workbook::new();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    // One sheet with shared strings (as Excel writes), one with inline strings (as
    // streaming writers do).
    let shared = write_sheet(book.add_worksheet().set_name("Shared").unwrap(), &date);
    let inline = write_sheet(
        book.add_worksheet_with_constant_memory()
            .unwrap()
            .set_name("Inline")
            .unwrap(),
        &date,
    );
    book.add_worksheet().set_name("Nothing").unwrap();
    book.save(&path).unwrap();

    let db = dir.path().join("rssd.db");
    let out = ingest(&db, &[text(&path)]);
    assert_status(&out, 0);
    for (table, expected) in [("big_shared", shared), ("big_inline", inline)] {
        assert_eq!(
            lines(
                &db,
                &format!(
                    "SELECT name || ' ' || type FROM pragma_table_info('{table}') ORDER BY cid"
                )
            ),
            [
                "id INTEGER",
                "half REAL",
                "name TEXT",
                "flag TEXT",
                "day TEXT",
                "stamp TEXT",
                "twice INTEGER"
            ]
        );
        let loaded = cells(&db, table);
        assert_eq!(loaded.len(), expected.len(), "{table}");
        for (i, (got, want)) in loaded.iter().zip(&expected).enumerate() {
            assert_eq!(got, want, "{table} row {}", i + 1);
        }
    }
    assert_eq!(
        issues_of(&db, "%big.xlsx"),
        [
            format!("Blank Row|{GAP_ROW}||warning"),
            format!("Blank Row|{GAP_ROW}||warning")
        ]
    );
    // The empty sheet makes no table.
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM orchestration_session_entry WHERE json_extract(elaboration, '$.sheet') = 'Nothing'"
        ),
        0
    );
}

/// One JSON object of item `i`, written with varied whitespace, escapes and number spellings,
/// and the cells rssd must load for it.
fn json_item(i: usize, out: &mut String) -> String {
    let nested = format!("{{\"k\": [{i}, \"a]b,c}}\", {{\"z\": null}}]}}");
    let amount = format!("{i}.10");
    let note = format!("line \\\"{i}\\\" \\\\ end ] }} ,");
    let sep = if i.is_multiple_of(2) { "\n  " } else { "" };
    write!(
        out,
        "{{{sep}\"id\": {i},{sep}\"amount\":{amount} , \"big\": 1234567890123456789012{i}, \"note\": \"{note}\", \"nested\": {nested}, \"flag\": {}, \"missing\": null}}",
        i.is_multiple_of(2)
    )
    .unwrap();
    format!(
        "{i}|{amount}|1234567890123456789012{i}|line \"{i}\" \\ end ] }} ,|{{\"k\":[{i},\"a]b,c}}\",{{\"z\":null}}]}}|{}|~",
        i.is_multiple_of(2)
    )
}

#[test]
fn a_big_json_array_streams_with_every_value_exact() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("items.json");
    let mut json = String::from("\u{feff} [\n");
    let mut expected = Vec::new();
    let items: usize = 12_000;
    for i in 1..=items {
        if i > 1 {
            json.push_str(if i.is_multiple_of(3) { ",\n" } else { " , " });
        }
        if i == 7_000 {
            // One item bigger than the reader's buffer.
            let long = "x".repeat(3 << 20);
            write!(json, "{{\"id\": {i}, \"note\": \"{long}\"}}").unwrap();
            expected.push(format!("{i}|~|~|{long}|~|~|~|~"));
            continue;
        }
        let mut row = json_item(i, &mut json);
        if i == 9_000 {
            // A key first seen after the first 1,000 items is a column too.
            json.pop();
            json.push_str(", \"late\": \"here\"}");
            row.push_str("|here");
        } else {
            row.push_str("|~");
        }
        expected.push(row);
    }
    json.push_str("\n]\n");
    assert!(
        json.len() > 4 << 20,
        "crosses the 1 MB buffer several times"
    );
    std::fs::write(&path, &json).unwrap();

    let db = dir.path().join("rssd.db");
    let out = ingest(&db, &[text(&path)]);
    assert_status(&out, 0);
    let loaded = cells(&db, "items");
    assert_eq!(loaded.len(), items);
    for (i, (got, want)) in loaded.iter().zip(&expected).enumerate() {
        assert_eq!(got, want, "row {}", i + 1);
    }
    assert_eq!(
        lines(
            &db,
            "SELECT name || ' ' || type FROM pragma_table_info('items') ORDER BY cid"
        ),
        [
            "id INTEGER",
            "amount TEXT",
            "big TEXT",
            "note TEXT",
            "nested TEXT",
            "flag TEXT",
            "missing TEXT",
            "late TEXT"
        ]
    );
    assert_eq!(
        column(
            &db,
            "SELECT json_extract(elaboration, '$.json_shape') FROM orchestration_session_entry"
        ),
        [Some("json".to_string())]
    );

    // Issues of items after the first 1,000 are found too, when no new key appears.
    let mut late = String::from("[");
    for i in 1..=3_000 {
        let item = match i {
            2_000 => "{\"id\": 1, \"id\": 2}".to_string(),
            2_500 => "7".to_string(),
            _ => format!("{{\"id\": {i}}}"),
        };
        late.push_str(&item);
        late.push(if i < 3_000 { ',' } else { ']' });
    }
    let late_path = dir.path().join("late.json");
    std::fs::write(&late_path, late).unwrap();
    let db = dir.path().join("late.db");
    assert_status(&ingest(&db, &[text(&late_path)]), 1);
    assert_eq!(count(&db, "SELECT count(*) FROM late"), 3_000);
    assert_eq!(count(&db, "SELECT id FROM late WHERE rowid = 2000"), 2);
    assert_eq!(
        issues_of(&db, "%late.json"),
        [
            "Duplicate Header|2000|1|warning",
            "Format Mismatch|2500|7|error"
        ]
    );
}

#[test]
fn a_json_array_of_arrays_loads_with_its_first_array_as_the_header() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, json: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, json).unwrap();
        path
    };
    let good = write(
        "langs.json",
        r#"[["id", "name", "tags"], [1, "english", [1, 2]], [2, "fran\u00e7ais", null], [3, "x"], [4, "y", {"a": 1}, "extra"], {"id": 5}, [], ["6", true, 1.50]]"#,
    );
    let db = dir.path().join("rssd.db");
    let out = ingest(&db, &[text(&good)]);
    assert_status(&out, 1);
    assert_eq!(
        cells(&db, "langs"),
        [
            "1|english|[1,2]",
            "2|français|~",
            "3|x|~",
            "4|y|{\"a\":1}",
            "~|~|~",
            "~|~|~",
            "6|true|1.50"
        ]
    );
    assert_eq!(
        issues_of(&db, "%langs.json"),
        [
            "Format Mismatch|5|{\"id\":5}|error",
            "Ragged Row|3||error",
            "Ragged Row|4|[\"extra\"]|error",
            "Blank Row|6||warning"
        ]
    );
    assert_eq!(
        column(
            &db,
            "SELECT json_extract(elaboration, '$.json_shape') FROM orchestration_session_entry WHERE ingest_table_name = 'langs'"
        ),
        [Some("json_arrays".to_string())]
    );

    // A header cell that is not a string: its text names the column, with an error issue.
    let numbered = write("numbered.json", r#"[[1, "name", null], [10, "a", "b"]]"#);
    let db = dir.path().join("numbered.db");
    assert_status(&ingest(&db, &[text(&numbered)]), 1);
    assert_eq!(
        lines(
            &db,
            "SELECT name FROM pragma_table_info('numbered') ORDER BY cid"
        ),
        ["1", "name", "column_3"]
    );
    assert_eq!(cells(&db, "numbered"), ["10|a|b"]);
    let mut issues = issues_of(&db, "%numbered.json");
    issues.sort();
    assert_eq!(issues.len(), 3, "{issues:?}");
    assert!(issues[0].starts_with("Blank Header|"), "{issues:?}");
    assert_eq!(
        issues[1..],
        ["Format Mismatch||1|error", "Format Mismatch||null|error"]
    );

    // Only a header: a table with no rows.
    let header_only = write("header_only.json", r#"[["a", "b"]]"#);
    let db = dir.path().join("header_only.db");
    assert_status(&ingest(&db, &[text(&header_only)]), 0);
    assert_eq!(
        count(&db, "SELECT count(*) FROM pragma_table_info('header_only')"),
        2
    );
    assert_eq!(count(&db, "SELECT count(*) FROM header_only"), 0);

    // No header at all, or an empty one: the file is refused with a reason.
    for (name, json, reason) in [
        ("empty.json", "[ ]", "the JSON array is empty"),
        ("empty_header.json", "[[], [1, 2]]", "the header, is empty"),
    ] {
        let path = write(name, json);
        let db = dir.path().join(format!("{name}.db"));
        assert_status(&ingest(&db, &[text(&path)]), 1);
        let refused = lines(
            &db,
            "SELECT issue_type || '|' || issue_message FROM orchestration_session_issue",
        );
        assert_eq!(refused.len(), 1, "{refused:?}");
        assert!(
            refused[0].starts_with("Unsupported Format|") && refused[0].contains(reason),
            "{refused:?}"
        );
    }
}

/// A workbook written by hand (stored zip entries): rssd must not depend on a writer's habits.
fn hand_written_xlsx(path: &Path, sheets: &[(&str, &str)]) {
    use std::io::Write as _;
    let main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
    let rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
    let mut book = format!("<workbook xmlns=\"{main}\" xmlns:r=\"{rel}\"><sheets>");
    let mut rels = String::from(
        "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">",
    );
    for (i, (name, _)) in sheets.iter().enumerate() {
        let n = i + 1;
        write!(
            book,
            "<sheet name=\"{name}\" sheetId=\"{n}\" r:id=\"rId{n}\"/>"
        )
        .unwrap();
        write!(rels, "<Relationship Id=\"rId{n}\" Type=\"{rel}/worksheet\" Target=\"worksheets/sheet{n}.xml\"/>").unwrap();
    }
    book.push_str("</sheets></workbook>");
    rels.push_str("</Relationships>");
    let types = "<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"><Default Extension=\"xml\" ContentType=\"application/xml\"/><Override PartName=\"/xl/workbook.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/></Types>";
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let mut entries = vec![
        ("[Content_Types].xml".to_string(), types.to_string()),
        ("xl/workbook.xml".to_string(), book),
        ("xl/_rels/workbook.xml.rels".to_string(), rels),
    ];
    for (i, (_, rows)) in sheets.iter().enumerate() {
        entries.push((
            format!("xl/worksheets/sheet{}.xml", i + 1),
            format!("<worksheet xmlns=\"{main}\"><sheetData>{rows}</sheetData></worksheet>"),
        ));
    }
    for (name, body) in entries {
        zip.start_file(name, stored).unwrap();
        zip.write_all(body.as_bytes()).unwrap();
    }
    zip.finish().unwrap();
}

#[test]
fn cells_and_rows_out_of_order_load_as_calamine_ranges_place_them() {
    let s = |cell: &str, text: &str| {
        format!("<c r=\"{cell}\" t=\"inlineStr\"><is><t>{text}</t></is></c>")
    };
    let header = format!(
        "<row r=\"1\">{}{}{}</row>",
        s("A1", "id"),
        s("B1", "name"),
        s("C1", "n")
    );
    // Cells out of column order, and C2 given twice (the last one counts).
    let ann = format!(
        "<row r=\"2\"><c r=\"C2\"><v>9</v></c><c r=\"A2\"><v>1</v></c>{}<c r=\"C2\"><v>2.5</v></c></row>",
        s("B2", "Ann")
    );
    let bob = format!(
        "<row r=\"3\"><c r=\"A3\"><v>2</v></c>{}<c r=\"C3\" t=\"b\"><v>1</v></c></row>",
        s("B3", "Bob")
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("order.xlsx");
    let in_order = format!("{header}{ann}{bob}");
    let rows_reversed = format!("{bob}{ann}{header}");
    hand_written_xlsx(&path, &[("Cells", &in_order), ("Rows", &rows_reversed)]);
    let db = dir.path().join("rssd.db");
    assert_status(&ingest(&db, &[text(&path)]), 0);
    for table in ["order_cells", "order_rows"] {
        assert_eq!(cells(&db, table), ["1|Ann|2.5", "2|Bob|TRUE"], "{table}");
    }
}

/// A sheet of 12,000 rows (past the 10,000-row sample) of `id`, `twice`, whose row 11,000
/// has a text id (`text_late`) or whose row 11,500 has a cell two columns right of the
/// others; returns the cells rssd must load.
fn write_late_sheet(sheet: &mut Worksheet, text_late: bool) -> Vec<String> {
    sheet.write_string(0, 0, "id").unwrap();
    sheet.write_string(0, 1, "twice").unwrap();
    let mut expected = Vec::new();
    for i in 1..=12_000u32 {
        let id = if text_late && i == 11_000 {
            sheet.write_string(i, 0, "x11000").unwrap();
            "x11000".to_string()
        } else {
            sheet.write_number(i, 0, i).unwrap();
            i.to_string()
        };
        sheet.write_number(i, 1, 2 * i).unwrap();
        let mut row = format!("{id}|{}", 2 * i);
        if !text_late {
            let beyond = if i == 11_500 { "far" } else { "~" };
            if i == 11_500 {
                sheet.write_string(i, 3, beyond).unwrap();
            }
            row.push_str(&format!("|~|{beyond}"));
        }
        expected.push(row);
    }
    expected
}

/// Sheets whose rows after the sample break it (a text among whole numbers, a cell right of
/// the sample's columns) are read again the careful way: each table is what a whole read
/// gives, and the sheet before them loads as usual.
#[test]
fn sheets_whose_rows_after_the_sample_break_it_load_as_a_whole_read_does() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("late.xlsx");
    let mut book = Workbook::new();
    let first = book.add_worksheet().set_name("First").unwrap();
    first.write_string(0, 0, "n").unwrap();
    for i in 1..=50 {
        first.write_number(i, 0, i).unwrap();
    }
    let text = write_late_sheet(book.add_worksheet().set_name("Text").unwrap(), true);
    let wide = write_late_sheet(book.add_worksheet().set_name("Wide").unwrap(), false);
    book.save(&path).unwrap();

    let db = dir.path().join("rssd.db");
    assert_status(&ingest(&db, &[crate::common::text(&path)]), 0);
    assert_eq!(cells(&db, "late_first").len(), 50);
    let types = |table: &str| {
        lines(
            &db,
            &format!("SELECT type FROM pragma_table_info('{table}') ORDER BY cid"),
        )
    };
    assert_eq!(types("late_text"), ["TEXT", "INTEGER"]);
    assert_eq!(types("late_wide"), ["INTEGER", "INTEGER", "TEXT", "TEXT"]);
    for (table, expected) in [("late_text", text), ("late_wide", wide)] {
        let loaded = cells(&db, table);
        assert_eq!(loaded.len(), expected.len(), "{table}");
        for (i, (got, want)) in loaded.iter().zip(&expected).enumerate() {
            assert_eq!(got, want, "{table} row {}", i + 1);
        }
    }
}

/// 12,000 objects `{"id": i, "v": "v<i>"}` (past the 10,000-row sample), with `late` in place
/// of item `at`.
fn json_array_with(at: usize, late: &str) -> String {
    let items: Vec<String> = (1..=12_000)
        .map(|i| match i == at {
            true => late.to_string(),
            false => format!("{{\"id\": {i}, \"v\": \"v{i}\"}}"),
        })
        .collect();
    format!("[{}]", items.join(",\n"))
}

/// A JSON array loaded while it is scanned (speculatively, as a big one is): the sample's
/// types hold, or a later item breaks them (another type, another key) and the array is read
/// again the careful way; either way the table and its issues are the whole array's.
#[test]
fn a_json_array_loaded_while_scanned_gives_the_whole_arrays_table() {
    use rssd::ingest::{IngestOptions, NoHook};
    use rssd::state::{OpenOptions, StateDb};
    let dir = tempfile::tempdir().unwrap();
    let repeated = r#"{"id": 10500, "v": "first", "v": "v10500"}"#;
    write(dir.path(), "steady.json", json_array_with(10_500, repeated));
    write(
        dir.path(),
        "typed.json",
        json_array_with(11_000, r#"{"id": "x", "v": "v11000"}"#),
    );
    write(
        dir.path(),
        "keyed.json",
        json_array_with(11_500, r#"{"id": 11500, "v": "v11500", "more": true}"#),
    );
    let path = dir.path().join("rssd.db");
    let db = StateDb::open(&path, &OpenOptions::default()).unwrap();
    let options = IngestOptions {
        speculate_from_bytes: 1,
        ..IngestOptions::default()
    };
    let inputs = [text(dir.path()).to_string()];
    let summary = rssd::ingest::ingest(&db, &inputs, &options, &NoHook).unwrap();
    assert_eq!(summary.tables, 3);
    let types = |table: &str| {
        lines(
            &path,
            &format!("SELECT type FROM pragma_table_info('{table}') ORDER BY cid"),
        )
    };
    assert_eq!(types("steady"), ["INTEGER", "TEXT"]);
    assert_eq!(types("typed"), ["TEXT", "TEXT"]);
    assert_eq!(types("keyed"), ["INTEGER", "TEXT", "TEXT"]);
    for table in ["steady", "typed", "keyed"] {
        let rows = cells(&path, table);
        assert_eq!(rows.len(), 12_000, "{table}");
        let extra = if table == "keyed" { "|~" } else { "" };
        assert_eq!(rows[0], format!("1|v1{extra}"), "{table}");
        assert_eq!(rows[11_999], format!("12000|v12000{extra}"), "{table}");
    }
    assert_eq!(cells(&path, "typed")[10_999], "x|v11000");
    assert_eq!(cells(&path, "keyed")[11_499], "11500|v11500|true");
    let issues = issues_of(&path, "%steady.json");
    assert_eq!(issues.len(), 1, "{issues:?}");
    assert!(
        issues[0].starts_with("Duplicate Header|10500|"),
        "{issues:?}"
    );
}

#[test]
fn a_sheet_outside_the_fast_readers_plain_case_loads_as_calamine_reads_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("odd.xlsx");
    let row = |r: u32, a: &str, b: &str| {
        format!(
            "<row r=\"{r}\"><c r=\"A{r}\" t=\"inlineStr\"><is><t>{a}</t></is></c><c r=\"B{r}\" t=\"str\"><v>{b}</v></c></row>"
        )
    };
    let plain = format!(
        "{}{}{}",
        row(1, "name", "note"),
        row(2, "a &amp; b", "&#x263A;"),
        row(3, "c", "d")
    );
    // A comment, an `_x000D_` escape and a CR LF that XML reads as LF: calamine's to read.
    let odd = format!(
        "{}<!-- sent by hand -->{}{}",
        row(1, "name", "note"),
        row(2, "a_x000D_b", "line\r\nnext"),
        row(3, "c", "d")
    );
    hand_written_xlsx(&path, &[("Plain", &plain), ("Odd", &odd)]);
    let db = dir.path().join("rssd.db");
    assert_status(&ingest(&db, &[text(&path)]), 0);
    assert_eq!(cells(&db, "odd_plain"), ["a & b|\u{263A}", "c|d"]);
    assert_eq!(cells(&db, "odd_odd"), ["a\rb|line\nnext", "c|d"]);
}
