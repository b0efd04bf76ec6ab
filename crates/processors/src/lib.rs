//! The setup guide's two handlers, as plain functions from one EventBridge envelope to their
//! effects in the store. They do not know how the envelope arrived (embedded bus, HTTP,
//! Lambda): the caller hands them the envelope text and a connection whose transaction it
//! commits.
//!
//! - [`process_call_completed`]: one row per `call_sid` in `calls` (idempotent upsert).
//! - [`update_segment_profile`]: keeps the transcript in `transcripts`, runs the analytics into
//!   `call_analytics`, counts the customer's calls in `segment_profiles`, and queues Segment
//!   `identify` and `track` messages in `segment_outbox` — in the delivery's transaction, so a
//!   redelivered event neither counts twice nor loses a message. Sending the outbox is the
//!   `segment` sender's job, outside any transaction.
#![deny(missing_docs)]

mod call_completed;
pub mod outbox;
mod transcription;

pub use call_completed::{CallRow, process_call_completed};
pub use outbox::{FlushReport, flush_outbox};
pub use transcription::{
    Prepared, ProfileUpdate, TranscriptRow, prepare_envelope, update_segment_profile, update_segment_profile_with,
};

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
CREATE TABLE IF NOT EXISTS call_analytics (
    call_sid           TEXT PRIMARY KEY,
    user_id            TEXT NOT NULL,
    sentiment          TEXT NOT NULL,
    resolution         TEXT NOT NULL,
    escalated          INTEGER NOT NULL,
    escalation_kind    TEXT,
    churn_risk         INTEGER NOT NULL,
    propensity_to_buy  INTEGER NOT NULL,
    satisfaction_score INTEGER NOT NULL,
    word_count         INTEGER NOT NULL,
    analysis           TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS segment_profiles (
    user_id       TEXT PRIMARY KEY,
    phone         TEXT NOT NULL,
    total_calls   INTEGER NOT NULL,
    last_call_sid TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS segment_outbox (
    seq        INTEGER PRIMARY KEY,
    message_id TEXT NOT NULL UNIQUE,
    kind       TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    body       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    sent_at    TEXT,
    attempts   INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    dead_at    TEXT
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
    /// Something this event needs has not been processed yet (the call's completion, for a
    /// transcription); a later retry can succeed.
    #[error("not ready: {0}")]
    NotReady(String),
    /// The event produced a message Segment would refuse.
    #[error("{0}")]
    Rejected(#[from] segment::MessageError),
    /// The store refused the write.
    #[error("store: {0}")]
    Store(#[from] rusqlite::Error),
}
