//! The byte scanner under the fast xlsx reader: tags and the text between them from a
//! buffered stream, with the plain case's rules (see [`super::xlsx_cells`]); anything else is
//! an error that hands the sheet to calamine.

use std::io::Read;

use calamine::XlsxError;

/// Reads this many bytes at a time.
const CHUNK: usize = 1 << 20;

/// Not the plain case: the careful read takes the sheet.
pub(super) fn unsupported() -> XlsxError {
    XlsxError::Unexpected("a sheet outside the fast reader's plain SpreadsheetML")
}

#[derive(PartialEq, Clone, Copy)]
pub(super) enum Kind {
    Start,
    End,
    Empty,
    /// `<?...?>`.
    Other,
}

/// A buffered reader that hands out tags and the text between them.
pub struct Input<R> {
    reader: R,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// The last tag read, without `<`, `/` and `>`.
    tag: Vec<u8>,
    name_len: usize,
    pub(super) kind: Kind,
    /// The raw text before the last tag.
    raw: Vec<u8>,
}

impl<R: Read> Input<R> {
    pub fn new(reader: R) -> Input<R> {
        Input {
            reader,
            buf: vec![0; CHUNK],
            start: 0,
            end: 0,
            tag: Vec::new(),
            name_len: 0,
            kind: Kind::Other,
            raw: Vec::new(),
        }
    }

    fn fill(&mut self) -> Result<bool, XlsxError> {
        self.start = 0;
        self.end = loop {
            match self.reader.read(&mut self.buf) {
                Ok(n) => break n,
                Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
                Err(err) => return Err(XlsxError::Io(err)),
            }
        };
        Ok(self.end > 0)
    }

    /// Appends the bytes up to `byte` to `out` (or drops them) and consumes `byte`; false
    /// when the input ends first.
    fn take_until(&mut self, byte: u8, keep: bool) -> Result<bool, XlsxError> {
        loop {
            let rest = &self.buf[self.start..self.end];
            // Tags and cell texts are short: a plain loop beats memchr's setup.
            if let Some(at) = rest.iter().position(|&b| b == byte) {
                if keep {
                    let out = if byte == b'<' {
                        &mut self.raw
                    } else {
                        &mut self.tag
                    };
                    out.extend_from_slice(&rest[..at]);
                }
                self.start += at + 1;
                return Ok(true);
            }
            if keep {
                let out = if byte == b'<' {
                    &mut self.raw
                } else {
                    &mut self.tag
                };
                out.extend_from_slice(rest);
            }
            if !self.fill()? {
                return Ok(false);
            }
        }
    }

    /// Reads the next tag; the text before it is in `raw` when `keep_text`. False at the end.
    pub(super) fn next_tag(&mut self, keep_text: bool) -> Result<bool, XlsxError> {
        self.raw.clear();
        self.tag.clear();
        // Text skipped is kept too: a reference in it must be closed, as XML wants.
        let _ = keep_text;
        if !self.take_until(b'<', true)? {
            return Ok(false);
        }
        if !references_closed(&self.raw) {
            return Err(unsupported());
        }
        if !self.take_until(b'>', true)? {
            return Err(unsupported());
        }
        // A `>` inside a quoted attribute value does not end the tag.
        while ends_in_quotes(&self.tag) {
            self.tag.push(b'>');
            if !self.take_until(b'>', true)? {
                return Err(unsupported());
            }
        }
        let tag = &mut self.tag;
        self.kind = match tag.first() {
            Some(b'/') => {
                tag.remove(0);
                Kind::End
            }
            // A declaration or processing instruction; comments, CDATA and DOCTYPE are not
            // the plain case.
            Some(b'?') if tag.len() > 1 && tag.ends_with(b"?") => Kind::Other,
            Some(b'?' | b'!') => return Err(unsupported()),
            _ if tag.last() == Some(&b'/') => {
                tag.pop();
                Kind::Empty
            }
            _ => Kind::Start,
        };
        self.name_len = tag
            .iter()
            .position(|b| b.is_ascii_whitespace())
            .unwrap_or(tag.len());
        if self.kind == Kind::End && !tag[self.name_len..].trim_ascii().is_empty() {
            return Err(unsupported());
        }
        Ok(true)
    }

    pub(super) fn is(&self, kind: Kind, name: &[u8]) -> bool {
        self.kind == kind && &self.tag[..self.name_len] == name
    }

    pub(super) fn name(&self) -> &[u8] {
        &self.tag[..self.name_len]
    }

    /// The values of attributes `keys` of the last tag, as written. Every attribute is
    /// checked as XML wants it (a name, `=`, a quoted value, each name once); an entity in a
    /// wanted value is not the plain case.
    pub(super) fn attributes<const N: usize>(
        &self,
        keys: [&[u8]; N],
    ) -> Result<[Option<&[u8]>; N], XlsxError> {
        let mut found = [None; N];
        let mut seen: [&[u8]; 16] = [b""; 16];
        let mut count = 0;
        let mut rest = &self.tag[self.name_len..];
        loop {
            rest = rest.trim_ascii_start();
            if rest.is_empty() {
                return Ok(found);
            }
            let name_len = rest
                .iter()
                .position(|&b| b == b'=' || b.is_ascii_whitespace())
                .ok_or_else(unsupported)?;
            let name = &rest[..name_len];
            let bad_name = |b: &u8| matches!(b, b'"' | b'\'' | b'<' | b'>' | b'&' | b'/');
            if name.is_empty() || name.iter().any(bad_name) || count == seen.len() {
                return Err(unsupported());
            }
            if seen[..count].contains(&name) {
                return Err(unsupported());
            }
            (seen[count], count) = (name, count + 1);
            let after = rest[name_len..].trim_ascii_start();
            let after = after
                .strip_prefix(b"=")
                .ok_or_else(unsupported)?
                .trim_ascii_start();
            let quote = *after.first().ok_or_else(unsupported)?;
            if quote != b'"' && quote != b'\'' {
                return Err(unsupported());
            }
            let len = memchr::memchr(quote, &after[1..]).ok_or_else(unsupported)?;
            let value = &after[1..1 + len];
            if let Some(i) = keys.iter().position(|key| *key == name) {
                if value.contains(&b'&') || value.contains(&b'<') {
                    return Err(unsupported());
                }
                found[i] = Some(value);
            }
            rest = &after[len + 2..];
        }
    }

    /// Appends the text before the last tag to `out`, its entities decoded.
    pub(super) fn decode_text(&self, out: &mut String) -> Result<(), XlsxError> {
        let text = std::str::from_utf8(&self.raw).map_err(|_| unsupported())?;
        if text.contains('\r') {
            return Err(unsupported());
        }
        let mut rest = text;
        while let Some(at) = rest.find('&') {
            out.push_str(&rest[..at]);
            let semi = rest[at..].find(';').ok_or_else(unsupported)?;
            out.push(entity(&rest[at + 1..at + semi]).ok_or_else(unsupported)?);
            rest = &rest[at + semi + 1..];
        }
        out.push_str(rest);
        Ok(())
    }

    /// Skips to the end of the element just started (its content has no elements).
    pub(super) fn skip_text_element(&mut self, name: &[u8]) -> Result<(), XlsxError> {
        if !self.next_tag(false)? || !self.is(Kind::End, name) {
            return Err(unsupported());
        }
        Ok(())
    }
}

/// True when every `&` of a text has its `;` (and no other `&` before it).
fn references_closed(text: &[u8]) -> bool {
    let mut rest = text;
    while let Some(at) = memchr::memchr(b'&', rest) {
        match memchr::memchr(b';', &rest[at + 1..]) {
            Some(semi) if !rest[at + 1..at + 1 + semi].contains(&b'&') => {
                rest = &rest[at + semi + 2..];
            }
            _ => return false,
        }
    }
    true
}

/// True when a tag's text ends inside a quoted attribute value.
fn ends_in_quotes(tag: &[u8]) -> bool {
    let mut quote = None;
    for &b in tag {
        match quote {
            None if b == b'"' || b == b'\'' => quote = Some(b),
            Some(q) if b == q => quote = None,
            _ => {}
        }
    }
    quote.is_some()
}

/// `&name;` as its character: the five XML entities and character references.
fn entity(name: &str) -> Option<char> {
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        _ => {
            let number = name.strip_prefix('#')?;
            let (digits, radix) = match number.strip_prefix('x') {
                Some(hex) => (hex, 16),
                None => (number, 10),
            };
            // As XML readers do: no sign, and no NUL.
            if digits.starts_with(['+', '-']) {
                return None;
            }
            let code = u32::from_str_radix(digits, radix)
                .ok()
                .filter(|&c| c != 0)?;
            return char::from_u32(code);
        }
    })
}

/// The text of a string item (`<is>`, `<si>`) up to its end tag `closing`: the first `<t>`,
/// or every run's `<t>` when it has runs. Runs' properties are skipped.
pub(super) fn read_string<R: Read>(
    input: &mut Input<R>,
    closing: &[u8],
) -> Result<String, XlsxError> {
    let (mut text, mut runs, mut done, mut in_run) = (String::new(), false, false, false);
    loop {
        if !input.next_tag(false)? {
            return Err(unsupported());
        }
        if input.is(Kind::End, closing) && !in_run {
            return Ok(text);
        }
        match (input.kind, input.name()) {
            (Kind::Start, b"r") if !in_run => (runs, in_run) = (true, true),
            (Kind::End, b"r") if in_run => in_run = false,
            (Kind::Start, b"t") if !done => {
                if !input.next_tag(true)? || !input.is(Kind::End, b"t") {
                    return Err(unsupported());
                }
                let mut value = String::new();
                input.decode_text(&mut value)?;
                if value.contains("_x00") {
                    return Err(unsupported());
                }
                text.push_str(&value);
                done = !runs;
            }
            (Kind::Empty, b"t") => done = !runs,
            (Kind::Start, b"rPr") => skip_run_properties(input)?,
            (Kind::Empty, b"rPr") => {}
            _ => return Err(unsupported()),
        }
    }
}

fn skip_run_properties<R: Read>(input: &mut Input<R>) -> Result<(), XlsxError> {
    loop {
        if !input.next_tag(false)? {
            return Err(unsupported());
        }
        match input.kind {
            Kind::End if input.name() == b"rPr" => return Ok(()),
            Kind::Empty => {}
            _ => return Err(unsupported()),
        }
    }
}

/// `xl/sharedStrings.xml`: every `<si>`, in order.
pub fn read_shared_strings<R: Read>(input: &mut Input<R>) -> Result<Vec<String>, XlsxError> {
    let mut strings = Vec::new();
    while input.next_tag(false)? {
        match (input.kind, input.name()) {
            (Kind::Other, _) | (Kind::Start | Kind::End | Kind::Empty, b"sst") => {}
            (Kind::Start, b"si") => strings.push(read_string(input, b"si")?),
            (Kind::Empty, b"si") => strings.push(String::new()),
            _ => return Err(unsupported()),
        }
    }
    Ok(strings)
}
