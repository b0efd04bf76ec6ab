//! Where generated calls go: the one [`CallSink`] trait, and the NDJSON sink that writes files.
//!
//! A sink receives calls in batches, in call order, already encoded by the parallel stage. Other
//! sinks (the embedded bus, AWS, a webhook) implement the same trait in their own crates.

use std::io::{self, Write};

use model::Call;

use crate::encode::{Format, Framer};

/// One generated call with its encoded events (and, when requested, its encoded record).
#[derive(Debug, Clone)]
pub struct RenderedCall {
    /// The call.
    pub call: Call,
    /// Its events as JSON values, back to back.
    pub events: Vec<u8>,
    /// End offset of each event in `events`.
    pub event_ends: Vec<usize>,
    /// The call record as one JSON line (without the newline), when records are wanted.
    pub record: Option<Vec<u8>>,
}

impl RenderedCall {
    /// Each encoded event.
    pub fn events(&self) -> impl Iterator<Item = &[u8]> {
        let mut start = 0;
        self.event_ends.iter().map(move |&end| {
            let value = &self.events[start..end];
            start = end;
            value
        })
    }
}

/// A destination for generated calls.
///
/// `accept` is called once per batch, in order, from one thread; `finish` once at the end,
/// unless an earlier call failed. An error stops generation and is returned to the caller.
pub trait CallSink: Send {
    /// The sink's error.
    type Error: Send;

    /// Takes one batch.
    ///
    /// # Errors
    ///
    /// Whatever the destination reports; generation stops.
    fn accept(&mut self, batch: &[RenderedCall]) -> Result<(), Self::Error>;

    /// Flushes whatever the sink still holds.
    ///
    /// # Errors
    ///
    /// As [`CallSink::accept`].
    fn finish(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// Writes events as NDJSON lines (framed per [`Format`]) and, optionally, call records as NDJSON.
#[derive(Debug)]
pub struct NdjsonSink<E: Write, R: Write> {
    events: E,
    records: Option<R>,
    framer: Framer,
    buffer: Vec<u8>,
    /// Bytes of events written so far.
    pub event_bytes: u64,
    /// Bytes of call records written so far.
    pub record_bytes: u64,
}

impl<E: Write + Send, R: Write + Send> NdjsonSink<E, R> {
    /// A sink writing events to `events` and records to `records`.
    pub fn new(format: Format, events: E, records: Option<R>) -> NdjsonSink<E, R> {
        NdjsonSink {
            events,
            records,
            framer: Framer::new(format),
            buffer: Vec::with_capacity(1 << 20),
            event_bytes: 0,
            record_bytes: 0,
        }
    }

    /// Gives back the writers (after [`CallSink::finish`]).
    pub fn into_inner(self) -> (E, Option<R>) {
        (self.events, self.records)
    }
}

impl<E: Write + Send, R: Write + Send> CallSink for NdjsonSink<E, R> {
    type Error = io::Error;

    fn accept(&mut self, batch: &[RenderedCall]) -> io::Result<()> {
        self.buffer.clear();
        for call in batch {
            for value in call.events() {
                self.framer.push(value, &mut self.buffer);
            }
        }
        self.events.write_all(&self.buffer)?;
        self.event_bytes += self.buffer.len() as u64;
        if let Some(records) = &mut self.records {
            self.buffer.clear();
            for call in batch {
                if let Some(record) = &call.record {
                    self.buffer.extend_from_slice(record);
                    self.buffer.push(b'\n');
                }
            }
            records.write_all(&self.buffer)?;
            self.record_bytes += self.buffer.len() as u64;
        }
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        self.buffer.clear();
        self.framer.finish(&mut self.buffer);
        self.events.write_all(&self.buffer)?;
        self.event_bytes += self.buffer.len() as u64;
        self.events.flush()?;
        if let Some(records) = &mut self.records {
            records.flush()?;
        }
        Ok(())
    }
}
