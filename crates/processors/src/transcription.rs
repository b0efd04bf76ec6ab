//! `update-segment-profile`, first half: the transcript is read and kept per call. The
//! analytics (sentiment, resolution, escalation, scores) and the Segment messages are the
//! analytics issue's.

use model::{EventBridgeEnvelope, Sid, SidPrefix, TranscriptionCompletedDetail};
use rusqlite::{Connection, params};

use crate::ProcessError;

/// One row of `transcripts`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranscriptRow {
    /// `CA…`, the key.
    pub call_sid: String,
    /// `TR…`.
    pub transcription_sid: String,
    /// `RE…`.
    pub recording_sid: String,
    /// `completed`.
    pub status: String,
    /// One `Speaker: words` line per turn.
    pub text: String,
    /// Whitespace-separated words of the text, speaker labels excluded.
    pub word_count: u32,
    /// The event's time.
    pub completed_at: String,
    /// The envelope's id.
    pub event_id: String,
}

/// Words spoken in a transcript: every line's words after its `Speaker:` label.
pub(crate) fn spoken_words(text: &str) -> u32 {
    text.lines()
        .map(|line| line.split_once(": ").map_or(line, |(_, said)| said))
        .map(|said| said.split_whitespace().count() as u32)
        .sum()
}

impl TranscriptRow {
    /// Reads a `transcription.completed` envelope.
    ///
    /// # Errors
    ///
    /// Not a transcription-completed envelope.
    pub fn from_envelope(envelope: &str) -> Result<TranscriptRow, ProcessError> {
        let bad = |what: String| ProcessError::Malformed(what);
        let e: EventBridgeEnvelope<'_, TranscriptionCompletedDetail<'_>> =
            serde_json::from_str(envelope).map_err(|err| bad(err.to_string()))?;
        let d = e.detail;
        for (field, text, prefix) in [
            ("call_sid", &d.call_sid, SidPrefix::Call),
            ("transcription_sid", &d.transcription_sid, SidPrefix::Transcription),
            ("recording_sid", &d.recording_sid, SidPrefix::Recording),
        ] {
            Sid::parse_with_prefix(text, prefix).map_err(|err| bad(format!("{field}: {err}")))?;
        }
        Ok(TranscriptRow {
            word_count: spoken_words(&d.transcription_text),
            call_sid: d.call_sid.into_owned(),
            transcription_sid: d.transcription_sid.into_owned(),
            recording_sid: d.recording_sid.into_owned(),
            status: d.transcription_status.into_owned(),
            text: d.transcription_text.into_owned(),
            completed_at: e.time.into_owned(),
            event_id: e.id.into_owned(),
        })
    }

    /// Inserts or replaces the row for its `call_sid`.
    ///
    /// # Errors
    ///
    /// The store refused the write.
    pub fn upsert(&self, conn: &Connection) -> rusqlite::Result<()> {
        conn.prepare_cached(
            "INSERT INTO transcripts (call_sid, transcription_sid, recording_sid, status, text, word_count,
                                      completed_at, event_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (call_sid) DO UPDATE SET transcription_sid = excluded.transcription_sid,
                 recording_sid = excluded.recording_sid, status = excluded.status, text = excluded.text,
                 word_count = excluded.word_count, completed_at = excluded.completed_at, event_id = excluded.event_id",
        )?
        .execute(params![
            self.call_sid,
            self.transcription_sid,
            self.recording_sid,
            self.status,
            self.text,
            self.word_count,
            self.completed_at,
            self.event_id
        ])?;
        Ok(())
    }
}

/// The handler, so far: reads the envelope and keeps the transcript.
///
/// # Errors
///
/// A malformed envelope or a store failure.
pub fn update_segment_profile(envelope: &str, conn: &Connection) -> Result<TranscriptRow, ProcessError> {
    let row = TranscriptRow::from_envelope(envelope)?;
    row.upsert(conn)?;
    Ok(row)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transcripts_are_kept_per_call_with_their_word_count() {
        let conn = Connection::open_in_memory().unwrap();
        crate::create_tables(&conn).unwrap();
        let envelope = r#"{"version":"0","id":"e2","detail-type":"com.twilio.voice.transcription.completed",
            "source":"aws.partner/twilio.com","account":"123456789012","time":"2025-10-07T12:05:00Z",
            "region":"us-east-1","resources":[],"detail":{"transcription_sid":"TRcccccccccccccccccccccccccccccccc",
            "recording_sid":"REdddddddddddddddddddddddddddddddd","call_sid":"CAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "transcription_text":"Agent: Hello, how can I help?\nCustomer: My order never came.",
            "transcription_status":"completed"}}"#;
        let row = update_segment_profile(envelope, &conn).unwrap();
        assert_eq!(row.word_count, 5 + 4);
        update_segment_profile(envelope, &conn).unwrap();
        let n: i64 = conn.query_row("SELECT COUNT(*) FROM transcripts", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 1);
        let wrong = envelope.replace("TRccc", "REccc");
        assert!(update_segment_profile(&wrong, &conn).unwrap_err().to_string().contains("transcription_sid"));
    }
}
