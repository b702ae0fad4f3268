//! A file parsed once for both passes: a thread scans the rows (pass 1) and hands each one,
//! once scanned, to the load (pass 2) in batches, so a format whose parsing is the cost
//! (workbooks, JSON arrays) is not parsed once for the scan and again for the load. Records
//! travel back empty to be filled again: no allocation per row.

use std::sync::mpsc::{self, Receiver, Sender, SyncSender};

use csv::ByteRecord;

use super::scan::{ScanOutcome, scan};
use super::source::RowSource;
use crate::{Error, Result};

/// Rows per batch handed to the load.
const BATCH: usize = 1024;
/// Batches in flight: enough to keep both threads busy, few enough for flat memory.
const IN_FLIGHT: usize = 4;

/// The scanning thread's end of a pipe.
pub struct Pipe {
    rows: SyncSender<Vec<ByteRecord>>,
    returned: Receiver<Vec<ByteRecord>>,
}

/// A pipe: the scanning thread's end, and the load's, whose first record is `header`.
pub fn pipe(header: Option<ByteRecord>) -> (Pipe, PipeSource) {
    let (rows_tx, rows_rx) = mpsc::sync_channel(IN_FLIGHT);
    let (spare_tx, spare_rx) = mpsc::channel();
    let source = PipeSource {
        header,
        batch: Vec::new().into_iter(),
        batches: rows_rx,
        used: Vec::with_capacity(BATCH),
        spare: spare_tx,
    };
    let pipe = Pipe {
        rows: rows_tx,
        returned: spare_rx,
    };
    (pipe, source)
}

/// Scans `source` (header first) on the calling thread, every data row going on to the load
/// through `pipe` once the scan has seen it.
pub fn scan_and_pipe(source: &mut dyn RowSource, pipe: Pipe) -> Result<ScanOutcome> {
    let mut tee = Tee {
        source,
        header_read: false,
        scanned: false,
        batch: Vec::with_capacity(BATCH),
        spare: Vec::new(),
        pipe,
    };
    let outcome = scan(&mut tee, false)?;
    tee.send()?;
    Ok(outcome)
}

/// What the scan reads: `source`'s records, each data row handed on once read past.
struct Tee<'s> {
    source: &'s mut dyn RowSource,
    header_read: bool,
    /// The record holds a data row the scan has seen, for the load.
    scanned: bool,
    batch: Vec<ByteRecord>,
    /// Records the load is done with, to fill again.
    spare: Vec<ByteRecord>,
    pipe: Pipe,
}

impl Tee<'_> {
    /// Moves the row the scan has seen into the batch, a spare record in its place.
    fn hand_over(&mut self, record: &mut ByteRecord) -> Result<()> {
        if self.spare.is_empty()
            && let Ok(spare) = self.pipe.returned.try_recv()
        {
            self.spare = spare;
        }
        let spare = self.spare.pop().unwrap_or_default();
        self.batch.push(std::mem::replace(record, spare));
        if self.batch.len() == BATCH {
            self.send()?;
        }
        Ok(())
    }

    /// Hands the rows read so far to the load; an error once the load stopped taking them.
    fn send(&mut self) -> Result<()> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH));
        self.pipe
            .rows
            .send(batch)
            .map_err(|_| Error::Invalid("the load stopped reading the rows".into()))
    }
}

impl RowSource for Tee<'_> {
    fn read(&mut self, record: &mut ByteRecord) -> Result<bool> {
        // The scan is done with the row read last (the last one too, when this call ends).
        if std::mem::take(&mut self.scanned) {
            self.hand_over(record)?;
        }
        if !self.source.read(record)? {
            return Ok(false);
        }
        self.scanned = self.header_read;
        self.header_read = true;
        Ok(true)
    }
}

/// The load's side: the header, then the thread's batches. A thread that stopped early ends
/// the rows; its scan's error then makes the load read the file again.
pub struct PipeSource {
    header: Option<ByteRecord>,
    batch: std::vec::IntoIter<ByteRecord>,
    batches: Receiver<Vec<ByteRecord>>,
    /// Records given back for the thread to fill again.
    used: Vec<ByteRecord>,
    spare: Sender<Vec<ByteRecord>>,
}

impl RowSource for PipeSource {
    fn read(&mut self, record: &mut ByteRecord) -> Result<bool> {
        if let Some(header) = self.header.take() {
            *record = header;
            return Ok(true);
        }
        loop {
            if let Some(mut next) = self.batch.next() {
                std::mem::swap(record, &mut next);
                self.used.push(next);
                if self.used.len() == BATCH {
                    let used = std::mem::replace(&mut self.used, Vec::with_capacity(BATCH));
                    let _ = self.spare.send(used);
                }
                return Ok(true);
            }
            match self.batches.recv() {
                Ok(batch) => self.batch = batch.into_iter(),
                Err(_) => return Ok(false),
            }
        }
    }
}
