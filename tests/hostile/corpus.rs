//! The hostile and malformed input corpus: every file is generated here, with the exact
//! outcome `rssd ingest` must give it (table contents, or the issue and no table; the issues
//! raised; the exit status). Large files (multi-megabyte, 100,000 columns, a 10 MB cell, a
//! zip bomb) are generated, so the repository keeps only this code.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// What a file must become.
#[derive(Debug, Clone)]
pub enum Expect {
    /// Tables (one per file, or per sheet of a workbook), each exactly as given.
    Tables(Vec<TableExpect>),
    /// No table; one entry with this issue type (severity error, so the exit status is 1).
    NoTable(&'static str),
}

#[derive(Debug, Clone)]
pub struct TableExpect {
    pub table: String,
    pub columns: Vec<String>,
    pub rows: Rows,
}

/// The loaded cells: all of them (text as SQLite gives it back, None for NULL), or for large
/// files the row count and SQL checks that must return `"1"`.
#[derive(Debug, Clone)]
pub enum Rows {
    Exact(Vec<Vec<Option<String>>>),
    Checked { count: i64, checks: Vec<String> },
}

/// One file of the corpus.
#[derive(Debug, Clone)]
pub struct Case {
    /// File name inside the corpus folder (may hold any character a file name can).
    pub name: String,
    pub content: Content,
    pub expect: Expect,
    /// Issue types raised for the file, with their data row where they name one, sorted.
    pub issues: Vec<(String, Option<i64>)>,
    /// Exit status of `rssd ingest` on this file alone (0, or 1 for an error issue).
    pub exit: i32,
}

#[derive(Debug, Clone)]
pub enum Content {
    Bytes(Vec<u8>),
    /// A named pipe: reading it would block forever.
    Fifo,
    /// A symbolic link to this target (relative to the corpus folder).
    Symlink(String),
}

/// Cells of rows written as `|`-separated text, `~` for NULL (the corpus rarely needs
/// either character in its expected cells; those that do spell their rows out).
pub fn grid(rows: &[&str]) -> Vec<Vec<Option<String>>> {
    rows.iter()
        .map(|row| {
            row.split('|')
                .map(|cell| (cell != "~").then(|| cell.to_string()))
                .collect()
        })
        .collect()
}

fn strings(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| n.to_string()).collect()
}

fn one_table(table: &str, columns: &[&str], rows: &[&str]) -> Expect {
    Expect::Tables(vec![TableExpect {
        table: table.to_string(),
        columns: strings(columns),
        rows: Rows::Exact(grid(rows)),
    }])
}

fn issues(list: &[(&str, Option<i64>)]) -> Vec<(String, Option<i64>)> {
    let mut list: Vec<(String, Option<i64>)> =
        list.iter().map(|(t, r)| (t.to_string(), *r)).collect();
    list.sort();
    list
}

struct Builder {
    cases: Vec<Case>,
}

impl Builder {
    /// A file with the outcome and exit status given.
    fn table(
        &mut self,
        name: &str,
        bytes: impl Into<Vec<u8>>,
        expect: Expect,
        raised: &[(&str, Option<i64>)],
        exit: i32,
    ) {
        self.cases.push(Case {
            name: name.to_string(),
            content: Content::Bytes(bytes.into()),
            expect,
            issues: issues(raised),
            exit,
        });
    }

    /// A file whose one table is named after it and holds exactly `rows`; only warnings, or
    /// ragged rows.
    fn csv(
        &mut self,
        name: &str,
        bytes: impl Into<Vec<u8>>,
        columns: &[&str],
        rows: &[&str],
        raised: &[(&str, Option<i64>)],
    ) {
        let table = table_name(name);
        // A ragged row is loaded, but its issue is an error: exit 1.
        let exit = i32::from(raised.iter().any(|(kind, _)| *kind == "Ragged Row"));
        self.table(name, bytes, one_table(&table, columns, rows), raised, exit);
    }

    /// A file that gives no table: one error issue, exit 1.
    fn refused(&mut self, name: &str, bytes: impl Into<Vec<u8>>, issue: &'static str) {
        self.cases.push(Case {
            name: name.to_string(),
            content: Content::Bytes(bytes.into()),
            expect: Expect::NoTable(issue),
            issues: issues(&[(issue, None)]),
            exit: 1,
        });
    }
}

/// The table name ingest derives from a plain ASCII file name (`a-b.csv` -> `a_b`).
pub fn table_name(file: &str) -> String {
    let stem = file.rsplit_once('.').map_or(file, |(stem, _)| stem);
    let mut name = String::new();
    let mut in_run = false;
    for ch in stem.to_lowercase().chars() {
        if ch.is_ascii_alphanumeric() || ch == '_' {
            name.push(ch);
            in_run = false;
        } else if !in_run {
            name.push('_');
            in_run = true;
        }
    }
    let name = name.trim_matches('_').to_string();
    if name.starts_with(|c: char| c.is_ascii_digit()) || name.starts_with("sqlite_") {
        format!("_{name}")
    } else {
        name
    }
}

fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
    let mut out = if big_endian {
        vec![0xFE, 0xFF]
    } else {
        vec![0xFF, 0xFE]
    };
    for unit in text.encode_utf16() {
        let bytes = if big_endian {
            unit.to_be_bytes()
        } else {
            unit.to_le_bytes()
        };
        out.extend_from_slice(&bytes);
    }
    out
}

/// A sheet to write: its name and rows of cells (the first row is the header).
pub type Sheet<'a> = (&'a str, &'a [&'a [&'a str]]);

/// A workbook of sheets written by rust_xlsxwriter; cells that read as whole numbers are
/// written as numbers, the rest as text.
pub fn xlsx(sheets: &[Sheet]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    for (name, rows) in sheets {
        let sheet = book.add_worksheet().set_name(*name).unwrap();
        for (r, row) in rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                match cell.parse::<i32>() {
                    Ok(number) => sheet.write(r as u32, c as u16, number).unwrap(),
                    Err(_) => sheet.write(r as u32, c as u16, *cell).unwrap(),
                };
            }
        }
    }
    book.save_to_buffer().unwrap()
}

/// Every case of the corpus.
pub fn cases() -> Vec<Case> {
    let mut b = Builder { cases: Vec::new() };
    rfc4180(&mut b);
    encodings(&mut b);
    structure(&mut b);
    headers(&mut b);
    file_names(&mut b);
    large(&mut b);
    json(&mut b);
    workbooks(&mut b);
    special_files(&mut b);
    b.cases
}

fn rfc4180(b: &mut Builder) {
    b.csv(
        "quoted_comma.csv",
        "a,b\n\"x,y\",2\n",
        &["a", "b"],
        &["x,y|2"],
        &[],
    );
    b.csv(
        "quoted_quotes.csv",
        "a,b\n\"say \"\"hi\"\"\",1\n",
        &["a", "b"],
        &["say \"hi\"|1"],
        &[],
    );
    b.csv(
        "embedded_lf.csv",
        "a,b\n\"line 1\nline 2\",1\n3,4\n",
        &["a", "b"],
        &["line 1\nline 2|1", "3|4"],
        &[],
    );
    b.csv(
        "embedded_crlf.csv",
        "a,b\r\n\"line 1\r\nline 2\",1\r\n3,4\r\n",
        &["a", "b"],
        &["line 1\r\nline 2|1", "3|4"],
        &[],
    );
    b.csv(
        "embedded_delimiters_and_quotes.csv",
        "id,note\n1,\"a,b;c\td|e\"\n2,\"\"\"\"\n",
        &["id", "note"],
        &[],
        &[],
    );
    // The expected cell holds `|`, which `grid` splits on: spell the rows out.
    b.cases.last_mut().unwrap().expect = Expect::Tables(vec![TableExpect {
        table: "embedded_delimiters_and_quotes".into(),
        columns: strings(&["id", "note"]),
        rows: Rows::Exact(vec![
            vec![Some("1".into()), Some("a,b;c\td|e".into())],
            vec![Some("2".into()), Some("\"".into())],
        ]),
    }]);
    b.csv(
        "empty_quoted.csv",
        "a,b,c\n\"\",1,\"\"\n",
        &["a", "b", "c"],
        &["~|1|~"],
        &[],
    );
    b.csv(
        "trailing_delimiter_everywhere.csv",
        "a,b,\n1,2,\n",
        &["a", "b", "column_3"],
        &["1|2|~"],
        &[("Blank Header", None)],
    );
    b.csv(
        "trailing_delimiter_rows_only.csv",
        "a,b\n1,2,\n3,4\n",
        &["a", "b"],
        &["1|2", "3|4"],
        &[("Ragged Row", Some(1))],
    );
    b.csv(
        "lone_cr.csv",
        "a,b\r1,2\r3,4\r",
        &["a", "b"],
        &["1|2", "3|4"],
        &[],
    );
    b.csv(
        "crlf.csv",
        "a,b\r\n1,x\r\n2,y\r\n",
        &["a", "b"],
        &["1|x", "2|y"],
        &[],
    );
    b.csv(
        "mixed_line_endings.csv",
        "a,b\n1,x\r\n2,y\r3,z\n",
        &["a", "b"],
        &["1|x", "2|y", "3|z"],
        &[],
    );
    b.csv(
        "no_final_newline.csv",
        "a,b\n1,2",
        &["a", "b"],
        &["1|2"],
        &[],
    );
    b.csv(
        "quote_inside_unquoted.csv",
        "a,b\nx\"y,1\n",
        &["a", "b"],
        &["x\"y|1"],
        &[],
    );
    b.csv(
        "unterminated_quote.csv",
        "a,b\n1,\"open\n2,3\n",
        &["a", "b"],
        &["1|open\n2,3\n"],
        &[],
    );
    b.csv(
        "spaces_kept.csv",
        "a,b\n  x  , 1\n",
        &["a", "b"],
        &["  x  | 1"],
        &[],
    );
    b.csv(
        "semicolons.csv",
        "a;b;c\n1;2,5;x\n3;4,5;y\n",
        &["a", "b", "c"],
        &["1|2,5|x", "3|4,5|y"],
        &[],
    );
    b.csv("tabs.tsv", "a\tb\n1\tx y\n", &["a", "b"], &["1|x y"], &[]);
    b.csv(
        "pipes.txt",
        "a|b\n1|2\n3|4\n",
        &["a", "b"],
        &["1|2", "3|4"],
        &[],
    );
    b.refused(
        "prose.txt",
        "Dear partner, here is the file.\nRegards\n",
        "Unsupported Format",
    );
    b.csv(
        "lossless_numbers.csv",
        "id,code,amount,big,exp\n1,007,1.10,123456789012345678901234567890,1e3\n2,+5,2.5,5,2\n",
        &["id", "code", "amount", "big", "exp"],
        &[
            "1|007|1.10|123456789012345678901234567890|1e3",
            "2|+5|2.5|5|2",
        ],
        &[],
    );
    b.csv(
        "integer_limits.csv",
        "n\n9223372036854775807\n-9223372036854775808\n9223372036854775808\n",
        &["n"],
        &[
            "9223372036854775807",
            "-9223372036854775808",
            "9223372036854775808",
        ],
        &[],
    );
    b.csv(
        "nul_byte_late.csv",
        format!("a,b\n{}x\0y,1\n", "filler,0\n".repeat(2000)),
        &["a", "b"],
        &[],
        &[],
    );
    // The grid above cannot hold 2000 rows; replace its expectation.
    let last = b.cases.last_mut().unwrap();
    last.expect = Expect::Tables(vec![TableExpect {
        table: "nul_byte_late".into(),
        columns: strings(&["a", "b"]),
        rows: Rows::Checked {
            count: 2001,
            checks: vec![
                "SELECT a = 'x' || char(0) || 'y' AND b = 1 FROM nul_byte_late WHERE rowid = 2001"
                    .into(),
            ],
        },
    }]);
}

fn encodings(b: &mut Builder) {
    let mut bom = vec![0xEF, 0xBB, 0xBF];
    bom.extend_from_slice("id,name\n1,Zoë\n".as_bytes());
    b.csv("utf8_bom.csv", bom, &["id", "name"], &["1|Zoë"], &[]);
    b.csv(
        "utf16le_bom.csv",
        utf16("id,name\r\n1,Zoë\r\n2,日本\r\n", false),
        &["id", "name"],
        &["1|Zoë", "2|日本"],
        &[],
    );
    b.csv(
        "utf16be_bom.csv",
        utf16("id,name\n1,Zoë\n", true),
        &["id", "name"],
        &["1|Zoë"],
        &[],
    );
    // Told from its NUL-byte pattern (see the README's encodings).
    b.csv(
        "utf16le_without_bom.csv",
        utf16("id,name\n1,x\n", false)[2..].to_vec(),
        &["id", "name"],
        &["1|x"],
        &[],
    );
    b.table(
        "latin1.csv",
        b"id,name\n1,Jos\xe9\n2,na\xefve\n".to_vec(),
        one_table("latin1", &["id", "name"], &["1|José", "2|naïve"]),
        &[("Encoding Error", Some(1))],
        0,
    );
    b.table(
        "windows1252_quotes.csv",
        b"id,quote\n1,\x93hello\x94 \x80 5\n".to_vec(),
        one_table(
            "windows1252_quotes",
            &["id", "quote"],
            &["1|\u{201c}hello\u{201d} \u{20ac} 5"],
        ),
        &[("Encoding Error", Some(1))],
        0,
    );
    b.table(
        "latin1_header.csv",
        b"caf\xe9,n\nx,1\n".to_vec(),
        one_table("latin1_header", &["café", "n"], &["x|1"]),
        &[("Encoding Error", None)],
        0,
    );
    let mut bom_then_latin1 = vec![0xEF, 0xBB, 0xBF];
    bom_then_latin1.extend_from_slice(b"a,b\n1,\xe9\n");
    b.table(
        "utf8_bom_then_latin1.csv",
        bom_then_latin1,
        one_table("utf8_bom_then_latin1", &["a", "b"], &["1|é"]),
        &[("Encoding Error", Some(1))],
        0,
    );
    b.table(
        "overlong_utf8.csv",
        b"a\n\xc0\xaf\n".to_vec(),
        one_table("overlong_utf8", &["a"], &["À¯"]),
        &[("Encoding Error", Some(1))],
        0,
    );
    b.table(
        "surrogate_utf8.csv",
        b"a\n\xed\xa0\x80x\n".to_vec(),
        one_table("surrogate_utf8", &["a"], &["í\u{a0}€x"]),
        &[("Encoding Error", Some(1))],
        0,
    );
    let mut odd = utf16("a,b\n1,2\n", false);
    odd.push(0x41); // half a code unit at the end
    b.table(
        "utf16_truncated.csv",
        odd,
        one_table("utf16_truncated", &["a", "b"], &["1|2", "\u{fffd}|~"]),
        &[("Encoding Error", Some(2)), ("Ragged Row", Some(2))],
        1,
    );
    b.csv(
        "emoji_cells.csv",
        "a,b\n😀,👨‍👩‍👧\n",
        &["a", "b"],
        &["😀|👨‍👩‍👧"],
        &[],
    );
    b.csv(
        "rtl_and_combining.csv",
        "a\nשלום\ne\u{301}\n\u{202e}evil\n",
        &["a"],
        &["שלום", "e\u{301}", "\u{202e}evil"],
        &[],
    );
}

fn structure(b: &mut Builder) {
    b.csv(
        "blank_lines.csv",
        "a,b\n1,2\n\n3,4\n",
        &["a", "b"],
        &["1|2", "3|4"],
        &[("Blank Row", None)],
    );
    b.csv(
        "blank_row_of_delimiters.csv",
        "a,b\n1,2\n,\n3,4\n",
        &["a", "b"],
        &["1|2", "~|~", "3|4"],
        &[("Blank Row", Some(2))],
    );
    b.csv(
        "ragged_short.csv",
        "a,b,c\n1,2\n3,4,5\n",
        &["a", "b", "c"],
        &["1|2|~", "3|4|5"],
        &[("Ragged Row", Some(1))],
    );
    b.csv(
        "ragged_long.csv",
        "a,b\n1,2,3,4\n",
        &["a", "b"],
        &["1|2"],
        &[("Ragged Row", Some(1))],
    );
    b.csv(
        "only_header.csv",
        "a,b\n",
        &["a", "b"],
        &[],
        &[("Empty File", None)],
    );
    b.csv(
        "only_header_no_newline.csv",
        "a,b",
        &["a", "b"],
        &[],
        &[("Empty File", None)],
    );
    b.refused("only_newlines.csv", "\n\n\r\n", "Empty File");
    b.refused("zero_bytes.csv", "", "Empty File");
    b.refused("zero_bytes.json", "", "Empty File");
    b.refused("zero_bytes.xlsx", "", "Empty File");
    b.refused(
        "binary_garbage.csv",
        b"\x00\x01\x02\xff\xfe\x00abc".to_vec(),
        "Unsupported Format",
    );
    b.refused("unknown.extension", "a,b\n1,2\n", "Unsupported Format");
    b.refused("no_extension", "a,b\n1,2\n", "Unsupported Format");
    b.csv(
        "single_column.csv",
        "only\n1\n2\n",
        &["only"],
        &["1", "2"],
        &[],
    );
    b.csv(
        "whitespace_only_rows.csv",
        "a,b\n1,2\n   \n3,4\n",
        &["a", "b"],
        &["1|2", "   |~", "3|4"],
        &[("Ragged Row", Some(2))],
    );
}

fn headers(b: &mut Builder) {
    b.csv(
        "sql_keywords.csv",
        "select,from,where,table,order,group,index,rowid\n1,2,3,4,5,6,7,8\n",
        &[
            "select", "from", "where", "table", "order", "group", "index", "rowid",
        ],
        &["1|2|3|4|5|6|7|8"],
        &[],
    );
    b.csv(
        "injection_header.csv",
        "id,\"\"\"; DROP TABLE x; --\"\n1,2\n",
        &["id", "\"; DROP TABLE x; --"],
        &["1|2"],
        &[],
    );
    b.csv(
        "quotes_in_header.csv",
        "\"a\"\"b\",'c',`d`,[e]\n1,2,3,4\n",
        &["a\"b", "'c'", "`d`", "[e]"],
        &["1|2|3|4"],
        &[],
    );
    b.csv(
        "semicolon_header.csv",
        "\"a;b\",\"c; DROP TABLE orchestration_session;\"\n1,2\n",
        &["a;b", "c; DROP TABLE orchestration_session;"],
        &["1|2"],
        &[],
    );
    b.csv(
        "newline_header.csv",
        "\"first\nsecond\",b\n1,2\n",
        &["first\nsecond", "b"],
        &["1|2"],
        &[],
    );
    b.csv(
        "emoji_header.csv",
        "😀,名前,naïve\n1,2,3\n",
        &["😀", "名前", "naïve"],
        &["1|2|3"],
        &[],
    );
    b.csv(
        "sqlite_header.csv",
        "sqlite_master,sqlite_sequence,_rowid_,oid\n1,2,3,4\n",
        &["sqlite_master", "sqlite_sequence", "_rowid_", "oid"],
        &["1|2|3|4"],
        &[],
    );
    b.csv(
        "duplicate_headers.csv",
        "a,a,A,b\n1,2,3,4\n",
        &["a", "a_2", "A_3", "b"],
        &["1|2|3|4"],
        &[("Duplicate Header", None), ("Duplicate Header", None)],
    );
    b.csv(
        "blank_headers.csv",
        ",, ,x\n1,2,3,4\n",
        &["column_1", "column_2", "column_3", "x"],
        &["1|2|3|4"],
        &[
            ("Blank Header", None),
            ("Blank Header", None),
            ("Blank Header", None),
        ],
    );
    b.csv(
        "blank_header_clash.csv",
        "column_2,,x\n1,2,3\n",
        &["column_2", "column_2_2", "x"],
        &["1|2|3"],
        &[("Blank Header", None), ("Duplicate Header", None)],
    );
    b.csv(
        "padded_headers.csv",
        "\u{a0} id \t,\u{feff}name\n1,x\n",
        &["id", "name"],
        &["1|x"],
        &[],
    );
    b.csv(
        "percent_and_dollar_header.csv",
        "%s,$1,?,:name,@p\n1,2,3,4,5\n",
        &["%s", "$1", "?", ":name", "@p"],
        &["1|2|3|4|5"],
        &[],
    );
    b.csv(
        "long_header.csv",
        format!("{},b\n1,2\n", "h".repeat(100_000)),
        &[],
        &[],
        &[],
    );
    let long = "h".repeat(100_000);
    b.cases.last_mut().unwrap().expect = one_table("long_header", &[&long, "b"], &["1|2"]);
}

fn file_names(b: &mut Builder) {
    let data = "a\n1\n";
    // (file name, table it becomes)
    let names: [(&str, &str); 12] = [
        ("sqlite_master.csv", "_sqlite_master"),
        ("sqlite_sequence.csv", "_sqlite_sequence"),
        ("orchestration_session.csv", "orchestration_session_2"),
        ("device.csv", "device_2"),
        ("\"; DROP TABLE x; --.csv", "drop_table_x"),
        ("select.csv", "select"),
        ("😀.csv", "table"),
        ("2024 report (final).csv", "_2024_report_final"),
        ("line\nbreak.csv", "line_break"),
        ("Mixed-Case.CSV", "mixed_case"),
        ("dots.in.name.csv", "dots_in_name"),
        ("'quote'.csv", "quote"),
    ];
    for (file, table) in names {
        b.table(file, data, one_table(table, &["a"], &["1"]), &[], 0);
    }
}

fn large(b: &mut Builder) {
    // Invalid UTF-8 in the middle of a 3 MB file: read again as Windows-1252, nothing dropped.
    let rows = 60_000;
    let mut text = String::from("id,text\n");
    for i in 1..=rows {
        text.push_str(&format!("{i},row number {i} of a long file with text\n"));
    }
    let mut bytes = text.into_bytes();
    let middle = b"30001,row number 30001 of a long file with text\n".to_vec();
    let at = bytes
        .windows(middle.len())
        .position(|w| w == middle.as_slice())
        .unwrap();
    bytes.splice(
        at..at + middle.len(),
        b"30001,caf\xe9 in the middle\n".iter().copied(),
    );
    b.table(
        "invalid_utf8_in_the_middle.csv",
        bytes,
        Expect::Tables(vec![TableExpect {
            table: "invalid_utf8_in_the_middle".into(),
            columns: strings(&["id", "text"]),
            rows: Rows::Checked {
                count: rows,
                checks: vec![
                    "SELECT text = 'café in the middle' FROM invalid_utf8_in_the_middle WHERE rowid = 30001".into(),
                    "SELECT count(*) = 60000 AND sum(id) = 60000 * 60001 / 2 FROM invalid_utf8_in_the_middle".into(),
                    "SELECT text = 'row number 60000 of a long file with text' FROM invalid_utf8_in_the_middle WHERE id = 60000".into(),
                ],
            },
        }]),
        &[("Encoding Error", Some(30001))],
        0,
    );
    // SQLite's limit is 2,000 columns: exactly that many load.
    let header: Vec<String> = (1..=2000).map(|i| format!("c{i}")).collect();
    let row: Vec<String> = (1..=2000).map(|i| i.to_string()).collect();
    b.table(
        "two_thousand_columns.csv",
        format!("{}\n{}\n", header.join(","), row.join(",")),
        Expect::Tables(vec![TableExpect {
            table: "two_thousand_columns".into(),
            columns: header,
            rows: Rows::Checked {
                count: 1,
                checks: vec![
                    "SELECT c1 = 1 AND c1000 = 1000 AND c2000 = 2000 FROM two_thousand_columns"
                        .into(),
                ],
            },
        }]),
        &[],
        0,
    );
    // 100,000 columns cannot be a SQLite table: the file is refused with an error naming
    // SQLite's limit (`--too-many-columns long` would load it), and the session goes on.
    let width = 100_000;
    let header: Vec<String> = (1..=width).map(|i| format!("c{i}")).collect();
    let row: Vec<String> = (1..=width).map(|i| i.to_string()).collect();
    b.refused(
        "hundred_thousand_columns.csv",
        format!("{}\n{}\n", header.join(","), row.join(",")),
        "Too Many Columns",
    );
    // One 10 MB cell, quoted, with quotes and newlines inside.
    let cell: String = "ab\"\"c\n".repeat(10 * 1024 * 1024 / 6);
    let stored_len = cell.len() - cell.matches("\"\"").count();
    b.table(
        "ten_megabyte_cell.csv",
        format!("id,big\n1,\"{cell}\"\n2,small\n"),
        Expect::Tables(vec![TableExpect {
            table: "ten_megabyte_cell".into(),
            columns: strings(&["id", "big"]),
            rows: Rows::Checked {
                count: 2,
                checks: vec![
                    format!("SELECT length(big) = {stored_len} FROM ten_megabyte_cell WHERE id = 1"),
                    "SELECT substr(big, 1, 12) = 'ab\"c\nab\"c\nab' FROM ten_megabyte_cell WHERE id = 1".into(),
                    "SELECT big = 'small' FROM ten_megabyte_cell WHERE id = 2".into(),
                ],
            },
        }]),
        &[],
        0,
    );
}

fn json(b: &mut Builder) {
    b.csv(
        "array.json",
        r#"[{"id": 1, "name": "a"}, {"id": 2, "name": "b", "extra": true}]"#,
        &["id", "name", "extra"],
        &["1|a|~", "2|b|true"],
        &[],
    );
    b.csv(
        "lines.ndjson",
        "{\"id\": 1}\n\n{\"id\": 2, \"tags\": [1, 2]}\n",
        &["id", "tags"],
        &["1|~", "2|[1,2]"],
        &[],
    );
    b.table(
        "bad_line.jsonl",
        "{\"id\": 1}\n{\"id\": \n{\"id\": 3}\n",
        one_table("bad_line", &["id"], &["1", "~", "3"]),
        &[("Format Mismatch", Some(2))],
        1,
    );
    b.csv(
        "nested.json",
        r#"[{"id": 1, "obj": {"a": [1, {"b": null}]}, "s": "x"}]"#,
        &["id", "obj", "s"],
        &["1|{\"a\":[1,{\"b\":null}]}|x"],
        &[],
    );
    let deep = format!(
        "[{{\"id\": 1, \"deep\": {}1{}}}]",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    // Nested values are kept as their JSON text, never parsed into a tree, so depth is no limit.
    let deep_cell = format!("1|{}1{}", "[".repeat(100_000), "]".repeat(100_000));
    b.csv(
        "deep_nesting.json",
        deep,
        &["id", "deep"],
        &[&deep_cell],
        &[],
    );
    let deep_lines = format!("{}\n", "{\"a\":".repeat(50_000));
    b.refused("deep_nesting.ndjson", deep_lines, "Unsupported Format");
    b.csv(
        "duplicate_keys.json",
        r#"[{"id": 1, "name": "x", "id": 2}, {"id": 3, "name": "y"}]"#,
        &["id", "name"],
        &["2|x", "3|y"],
        &[("Duplicate Header", Some(1))],
    );
    b.csv(
        "unicode_escapes.json",
        r#"[{"k\u00e9y": "\ud83d\ude00", "nul": "a\u0000b"}]"#,
        &["kéy", "nul"],
        &["😀|a\0b"],
        &[],
    );
    b.csv(
        "big_numbers.json",
        r#"[{"n": 12345678901234567890123, "f": 0.1, "e": 1e400}]"#,
        &["n", "f", "e"],
        &["12345678901234567890123|0.1|1e400"],
        &[],
    );
    b.csv(
        "number_spellings.json",
        r#"[{"a": 1.0, "b": -0, "c": 1E5, "d": 0.30000000000000004}]"#,
        &["a", "b", "c", "d"],
        &["1.0|-0|1E5|0.30000000000000004"],
        &[],
    );
    b.refused("empty_array.json", "[]", "Unsupported Format");
    b.refused("scalar.json", "42", "Unsupported Format");
    b.refused("not_json.json", "this is not json", "Unsupported Format");
    b.table(
        "mixed_items.json",
        r#"[{"a": 1}, 2, "x", null, {"a": 3}]"#,
        one_table("mixed_items", &["a"], &["1", "~", "~", "~", "3"]),
        &[
            ("Format Mismatch", Some(2)),
            ("Format Mismatch", Some(3)),
            ("Format Mismatch", Some(4)),
        ],
        1,
    );
    b.refused("utf16.json", utf16("[{\"a\": 1}]", false), "Encoding Error");
    b.csv(
        "single_object.json",
        r#"{"a": 1, "b": "two"}"#,
        &["a", "b"],
        &["1|two"],
        &[],
    );
    b.csv(
        "injection_keys.json",
        r#"[{"\"; DROP TABLE x; --": 1, "sqlite_master": 2, "": 3}]"#,
        &["\"; DROP TABLE x; --", "sqlite_master", "column_3"],
        &["1|2|3"],
        &[("Blank Header", None)],
    );
}

fn workbooks(b: &mut Builder) {
    let good = xlsx(&[("People", &[&["id", "name"], &["1", "Ann"], &["2", "Bob"]])]);
    b.table(
        "good.xlsx",
        good.clone(),
        one_table("good_people", &["id", "name"], &["1|Ann", "2|Bob"]),
        &[],
        0,
    );
    b.table(
        "hostile_sheets.xlsx",
        xlsx(&[
            ("\"; DROP TABLE x; --", &[&["a"], &["1"]]),
            ("sqlite_master", &[&["a"], &["2"]]),
            ("😀", &[&["a"], &["3"]]),
            ("Empty", &[]),
        ]),
        Expect::Tables(vec![
            TableExpect {
                table: "hostile_sheets__drop_table_x".into(),
                columns: strings(&["a"]),
                rows: Rows::Exact(grid(&["1"])),
            },
            TableExpect {
                table: "hostile_sheets_sqlite_master".into(),
                columns: strings(&["a"]),
                rows: Rows::Exact(grid(&["2"])),
            },
            TableExpect {
                table: "hostile_sheets".into(),
                columns: strings(&["a"]),
                rows: Rows::Exact(grid(&["3"])),
            },
        ]),
        &[],
        0,
    );
    b.refused(
        "truncated.xlsx",
        good[..good.len() / 2].to_vec(),
        "Unreadable File",
    );
    let mut ole = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    ole.resize(4096, 0);
    b.refused("encrypted.xlsx", ole.clone(), "Unreadable File");
    b.refused("encrypted_looking.xls", ole, "Unreadable File");
    b.refused("random.xlsx", pseudo_random(10_000, 1), "Unreadable File");
    b.refused("random.ods", pseudo_random(10_000, 2), "Unreadable File");
    b.refused("csv_named.xlsx", "a,b\n1,2\n", "Unreadable File");
    b.refused(
        "zip_not_workbook.xlsx",
        zip_stored(&[("hello.txt", b"hello")]),
        "Unreadable File",
    );
    b.refused("zip_bomb.xlsx", zip_bomb(64 << 20), "Unreadable File");
}

fn special_files(b: &mut Builder) {
    b.cases.push(Case {
        name: "named_pipe.csv".into(),
        content: Content::Fifo,
        expect: Expect::NoTable("Unreadable File"),
        issues: issues(&[("Unreadable File", None)]),
        exit: 1,
    });
    b.cases.push(Case {
        name: "dangling_link.csv".into(),
        content: Content::Symlink("does-not-exist.csv".into()),
        expect: Expect::NoTable("Unreadable File"),
        issues: issues(&[("Unreadable File", None)]),
        exit: 1,
    });
}

/// Deterministic bytes that are no known format.
fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

fn crc32(data: &[u8], crc: u32) -> u32 {
    let table: Vec<u32> = (0..256u32)
        .map(|n| {
            (0..8).fold(n, |c, _| {
                if c & 1 != 0 {
                    (c >> 1) ^ 0xEDB8_8320
                } else {
                    c >> 1
                }
            })
        })
        .collect();
    !data.iter().fold(!crc, |c, &byte| {
        table[((c ^ u32::from(byte)) & 0xFF) as usize] ^ (c >> 8)
    })
}

/// A zip archive of `(name, data, method, uncompressed size, crc)` members.
fn zip_raw(members: &[(&str, Vec<u8>, u16, u32, u32)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data, method, size, crc) in members {
        let offset = out.len() as u32;
        let header = |sig: u32, central_dir: bool| {
            let mut h = Vec::new();
            h.extend_from_slice(&sig.to_le_bytes());
            if central_dir {
                h.extend_from_slice(&20u16.to_le_bytes());
            }
            h.extend_from_slice(&20u16.to_le_bytes());
            h.extend_from_slice(&0u16.to_le_bytes());
            h.extend_from_slice(&method.to_le_bytes());
            h.extend_from_slice(&0u32.to_le_bytes()); // time and date
            h.extend_from_slice(&crc.to_le_bytes());
            h.extend_from_slice(&(data.len() as u32).to_le_bytes());
            h.extend_from_slice(&size.to_le_bytes());
            h.extend_from_slice(&(name.len() as u16).to_le_bytes());
            h.extend_from_slice(&0u16.to_le_bytes());
            if central_dir {
                h.extend_from_slice(&[0; 8]); // comment len, disk, internal attrs
                h.extend_from_slice(&0u32.to_le_bytes());
                h.extend_from_slice(&offset.to_le_bytes());
            }
            h.extend_from_slice(name.as_bytes());
            h
        };
        out.extend(header(0x0403_4b50, false));
        out.extend_from_slice(data);
        central.extend(header(0x0201_4b50, true));
    }
    let central_offset = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&(members.len() as u16).to_le_bytes());
    out.extend_from_slice(&(members.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&central_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

fn zip_stored(members: &[(&str, &[u8])]) -> Vec<u8> {
    let members: Vec<_> = members
        .iter()
        .map(|(name, data)| {
            (
                *name,
                data.to_vec(),
                0u16,
                data.len() as u32,
                crc32(data, 0),
            )
        })
        .collect();
    zip_raw(&members)
}

/// A deflate stream of `size` spaces: one fixed-Huffman block of a literal then
/// back-references of 258 bytes at distance 1 (13 bits per 258 bytes).
fn deflate_spaces(size: usize) -> Vec<u8> {
    struct Bits {
        out: Vec<u8>,
        acc: u64,
        n: u32,
    }
    impl Bits {
        fn put(&mut self, value: u64, bits: u32) {
            self.acc |= value << self.n;
            self.n += bits;
            while self.n >= 8 {
                self.out.push(self.acc as u8);
                self.acc >>= 8;
                self.n -= 8;
            }
        }
        /// Huffman codes go most significant bit first.
        fn code(&mut self, code: u64, bits: u32) {
            let mut reversed = 0;
            for i in 0..bits {
                reversed |= ((code >> i) & 1) << (bits - 1 - i);
            }
            self.put(reversed, bits);
        }
    }
    let mut w = Bits {
        out: Vec::new(),
        acc: 0,
        n: 0,
    };
    w.put(1, 1); // final block
    w.put(1, 2); // fixed Huffman
    w.code(0x30 + u64::from(b' '), 8); // literal ' '
    let mut left = size - 1;
    while left >= 258 {
        w.code(0b1100_0101, 8); // length code 285 = 258
        w.code(0, 5); // distance code 0 = 1
        left -= 258;
    }
    for _ in 0..left {
        w.code(0x30 + u64::from(b' '), 8);
    }
    w.code(0, 7); // end of block (256)
    w.put(0, 7);
    w.out
}

/// An `.xlsx`-looking zip whose workbook part inflates to `size` bytes of spaces.
fn zip_bomb(size: usize) -> Vec<u8> {
    let spaces = vec![b' '; 1 << 20];
    let mut crc = 0;
    for _ in 0..size / spaces.len() {
        crc = crc32(&spaces, crc);
    }
    crc = crc32(&spaces[..size % spaces.len()], crc);
    let data = deflate_spaces(size);
    zip_raw(&[
        (
            "[Content_Types].xml",
            b"<?xml version=\"1.0\"?><Types/>".to_vec(),
            0,
            29,
            crc32(b"<?xml version=\"1.0\"?><Types/>", 0),
        ),
        ("xl/workbook.xml", data, 8, size as u32, crc),
    ])
}

/// Writes every case into `dir`; returns the path of each, in order.
pub fn write_all(dir: &Path, cases: &[Case]) -> Vec<PathBuf> {
    cases.iter().map(|case| write_case(dir, case)).collect()
}

pub fn write_case(dir: &Path, case: &Case) -> PathBuf {
    let path = dir.join(&case.name);
    match &case.content {
        Content::Bytes(bytes) => std::fs::write(&path, bytes).unwrap(),
        Content::Fifo => {
            let status = std::process::Command::new("mkfifo")
                .arg(&path)
                .status()
                .expect("mkfifo runs");
            assert!(status.success());
        }
        Content::Symlink(target) => std::os::unix::fs::symlink(target, &path).unwrap(),
    }
    path
}
