//! Text encodings of delimited files: UTF-8 (with or without BOM), UTF-16 with a BOM, and
//! Windows-1252 (a superset of Latin-1 that maps every byte) when the bytes are not UTF-8.

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
