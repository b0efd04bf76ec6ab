//! The setup guide's two handlers, as plain functions from one EventBridge envelope to their
//! effects in the store. They do not know how the envelope arrived (embedded bus, HTTP,
//! Lambda): the caller hands them the envelope text and a connection whose transaction it
//! commits.
//!
//! - [`process_call_completed`]: one row per `call_sid` in `calls` (idempotent upsert).
//! - [`update_segment_profile`]: reads the transcript into `transcripts`. The analytics and the
//!   Segment `identify`/`track` messages come with the analytics crate.
#![deny(missing_docs)]

mod call_completed;
mod transcription;

pub use call_completed::{CallRow, process_call_completed};
pub use transcription::{TranscriptRow, update_segment_profile};

use rusqlite::Connection;

/// The processors' tables. Names and columns are part of callsynth's interface (README).
pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS calls (
    call_sid         TEXT PRIMARY KEY,
    account_sid      TEXT NOT NULL,
    from_number      TEXT NOT NULL,
    to_number        TEXT NOT NULL,
    status           TEXT NOT NULL,
    duration_seconds INTEGER NOT NULL,
    direction        TEXT NOT NULL,
    started_at       TEXT NOT NULL,
    ended_at         TEXT NOT NULL,
    event_id         TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS calls_status ON calls(status);
CREATE TABLE IF NOT EXISTS transcripts (
    call_sid          TEXT PRIMARY KEY,
    transcription_sid TEXT NOT NULL,
    recording_sid     TEXT NOT NULL,
    status            TEXT NOT NULL,
    text              TEXT NOT NULL,
    word_count        INTEGER NOT NULL,
    completed_at      TEXT NOT NULL,
    event_id          TEXT NOT NULL
);
";

/// Creates the processors' tables if missing.
///
/// # Errors
///
/// The store refused the schema.
pub fn create_tables(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(SCHEMA)
}

/// Why an envelope could not be processed. Retrying cannot help: the envelope is what it is.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// Not the envelope this processor takes.
    #[error("malformed envelope: {0}")]
    Malformed(String),
    /// The store refused the write.
    #[error("store: {0}")]
    Store(#[from] rusqlite::Error),
}
