//! Text encodings of delimited files: UTF-8 (with or without BOM), UTF-16 with a BOM or told
//! by its NUL bytes, and Windows-1252 (a superset of Latin-1 that maps every byte) when the
//! bytes are not UTF-8.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use encoding_rs_io::DecodeReaderBytesBuilder;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextEncoding {
    Utf8,
    Utf8Bom,
    Utf16Le,
    Utf16Be,
    Windows1252,
}

impl TextEncoding {
    /// The name recorded in the elaboration.
    pub fn name(self) -> &'static str {
        match self {
            TextEncoding::Utf8 => "utf-8",
            TextEncoding::Utf8Bom => "utf-8-bom",
            TextEncoding::Utf16Le => "utf-16le",
            TextEncoding::Utf16Be => "utf-16be",
            TextEncoding::Windows1252 => "windows-1252",
        }
    }

    /// Whether the stream is decoded (so its cells are UTF-8 by construction).
    pub fn decoded(self) -> bool {
        !matches!(self, TextEncoding::Utf8 | TextEncoding::Utf8Bom)
    }

    /// The encoding a byte order mark at the start announces.
    pub fn from_bom(head: &[u8]) -> Option<TextEncoding> {
        if head.starts_with(&[0xEF, 0xBB, 0xBF]) {
            Some(TextEncoding::Utf8Bom)
        } else if head.starts_with(&[0xFF, 0xFE]) {
            Some(TextEncoding::Utf16Le)
        } else if head.starts_with(&[0xFE, 0xFF]) {
            Some(TextEncoding::Utf16Be)
        } else {
            None
        }
    }
}

/// UTF-16 without a byte order mark, told by its NUL bytes: in delimited text (separators,
/// digits, line ends, mostly Latin script) the high byte of at least half the code units is
/// NUL, the low byte seldom, no code unit is NUL and the units decode without error. Anything
/// less regular (binary data, text mostly outside Latin script) is not taken for UTF-16.
pub fn utf16_without_bom(head: &[u8]) -> Option<TextEncoding> {
    let sample = &head[..head.len().min(8192) & !1];
    let units = sample.len() / 2;
    if units < 8 {
        return None;
    }
    let (mut even, mut odd) = (0, 0);
    for pair in sample.chunks_exact(2) {
        match (pair[0], pair[1]) {
            (0, 0) => return None,
            (0, _) => even += 1,
            (_, 0) => odd += 1,
            _ => {}
        }
    }
    let (encoding, codec) = if odd * 2 >= units && even * 10 <= units {
        (TextEncoding::Utf16Le, encoding_rs::UTF_16LE)
    } else if even * 2 >= units && odd * 10 <= units {
        (TextEncoding::Utf16Be, encoding_rs::UTF_16BE)
    } else {
        return None;
    };
    // A sample cut inside a surrogate pair is not an error of the file.
    let whole = if head.len() > sample.len() || sample.len() == 8192 {
        &sample[..sample.len() - 2]
    } else {
        sample
    };
    let (_, had_errors) = codec.decode_without_bom_handling(whole);
    (!had_errors).then_some(encoding)
}

/// Reads up to `limit` bytes from the start of the file.
pub fn read_head(path: &Path, limit: usize) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(limit.min(1 << 20));
    File::open(path)?
        .take(limit as u64)
        .read_to_end(&mut head)?;
    Ok(head)
}

/// True when the start of a file without a UTF-16 BOM holds NUL bytes: binary, not text.
pub fn looks_binary(head: &[u8]) -> bool {
    head.iter().take(8192).any(|&b| b == 0)
}

/// The file as a UTF-8 stream (byte order mark removed), or its raw bytes for plain UTF-8.
pub fn open_text(path: &Path, encoding: TextEncoding) -> std::io::Result<Box<dyn Read + Send>> {
    let mut file = File::open(path)?;
    Ok(match encoding {
        TextEncoding::Utf8 => Box::new(file),
        TextEncoding::Utf8Bom => {
            file.seek(SeekFrom::Start(3))?;
            Box::new(file)
        }
        TextEncoding::Utf16Le => Box::new(decoder(file, encoding_rs::UTF_16LE)),
        TextEncoding::Utf16Be => Box::new(decoder(file, encoding_rs::UTF_16BE)),
        TextEncoding::Windows1252 => {
            // A UTF-8 BOM before bytes that are not UTF-8 is still a BOM, not the text "ï»¿".
            let mut start = [0u8; 3];
            let bom = file.read_exact(&mut start).is_ok() && start == [0xEF, 0xBB, 0xBF];
            file.seek(SeekFrom::Start(if bom { 3 } else { 0 }))?;
            Box::new(decoder(file, encoding_rs::WINDOWS_1252))
        }
    })
}

fn decoder(file: File, encoding: &'static encoding_rs::Encoding) -> impl Read + Send {
    DecodeReaderBytesBuilder::new()
        .encoding(Some(encoding))
        .bom_sniffing(true)
        .build(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
        text.encode_utf16()
            .flat_map(|u| {
                if big_endian {
                    u.to_be_bytes()
                } else {
                    u.to_le_bytes()
                }
            })
            .collect()
    }

    #[test]
    fn utf16_without_bom_is_told_by_its_nul_bytes() {
        let text = "id,name\n1,Jos\u{e9}\n2,Ann\n";
        assert_eq!(
            utf16_without_bom(&utf16(text, false)),
            Some(TextEncoding::Utf16Le)
        );
        assert_eq!(
            utf16_without_bom(&utf16(text, true)),
            Some(TextEncoding::Utf16Be)
        );
        assert_eq!(utf16_without_bom(text.as_bytes()), None, "UTF-8 text");
        assert_eq!(
            utf16_without_bom(&utf16("a,b", false)),
            None,
            "too short to tell"
        );
        let mut binary = vec![0u8; 64];
        binary.extend(utf16(text, false));
        assert_eq!(
            utf16_without_bom(&binary),
            None,
            "NUL code units are binary"
        );
        let mut unpaired = utf16(text, false);
        unpaired.extend([0x00, 0xDC]);
        unpaired.extend(utf16("x\n", false));
        assert_eq!(utf16_without_bom(&unpaired), None, "an unpaired surrogate");
    }
}
