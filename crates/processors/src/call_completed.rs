//! `process-call-completed`: the guide's first handler.

use model::{CallCompletedDetail, EventBridgeEnvelope, Sid, SidPrefix};
use rusqlite::{Connection, params};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::ProcessError;

/// One row of `calls`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRow {
    /// `CA…`, the key.
    pub call_sid: String,
    /// `AC…`.
    pub account_sid: String,
    /// Caller.
    pub from_number: String,
    /// Callee.
    pub to_number: String,
    /// `completed`, `busy`, `no-answer`, `failed`, `canceled`.
    pub status: String,
    /// Whole seconds.
    pub duration_seconds: u32,
    /// Twilio direction.
    pub direction: String,
    /// RFC 3339: `ended_at` minus the duration.
    pub started_at: String,
    /// RFC 3339: the event's time.
    pub ended_at: String,
    /// The envelope's id (the last event applied).
    pub event_id: String,
}

impl CallRow {
    /// Reads a `call.completed` envelope.
    ///
    /// # Errors
    ///
    /// Not a call-completed envelope: missing fields, a malformed SID, a duration that is not a
    /// whole number of seconds, an unreadable time.
    pub fn from_envelope(envelope: &str) -> Result<CallRow, ProcessError> {
        let bad = |what: String| ProcessError::Malformed(what);
        let e: EventBridgeEnvelope<'_, CallCompletedDetail<'_>> =
            serde_json::from_str(envelope).map_err(|err| bad(err.to_string()))?;
        let d = e.detail;
        Sid::parse_with_prefix(&d.call_sid, SidPrefix::Call).map_err(|err| bad(format!("call_sid: {err}")))?;
        let duration_seconds: u32 = d
            .call_duration
            .parse()
            .map_err(|_| bad(format!("call_duration {:?} is not a whole number of seconds", d.call_duration)))?;
        let ended = OffsetDateTime::parse(&e.time, &Rfc3339).map_err(|err| bad(format!("time {:?}: {err}", e.time)))?;
        let started = ended - time::Duration::seconds(i64::from(duration_seconds));
        let format = |t: OffsetDateTime| t.format(&Rfc3339).unwrap_or_default();
        Ok(CallRow {
            call_sid: d.call_sid.into_owned(),
            account_sid: d.account_sid.into_owned(),
            from_number: d.from.into_owned(),
            to_number: d.to.into_owned(),
            status: d.call_status.into_owned(),
            duration_seconds,
            direction: d.direction.into_owned(),
            started_at: format(started),
            ended_at: format(ended),
            event_id: e.id.into_owned(),
        })
    }

    /// Inserts or replaces the row for its `call_sid`: applying the same event twice leaves the
    /// table as applying it once.
    ///
    /// # Errors
    ///
    /// The store refused the write.
    pub fn upsert(&self, conn: &Connection) -> rusqlite::Result<()> {
        conn.prepare_cached(
            "INSERT INTO calls (call_sid, account_sid, from_number, to_number, status, duration_seconds, direction,
                                started_at, ended_at, event_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
             ON CONFLICT (call_sid) DO UPDATE SET account_sid = excluded.account_sid,
                 from_number = excluded.from_number, to_number = excluded.to_number, status = excluded.status,
                 duration_seconds = excluded.duration_seconds, direction = excluded.direction,
                 started_at = excluded.started_at, ended_at = excluded.ended_at, event_id = excluded.event_id",
        )?
        .execute(params![
            self.call_sid,
            self.account_sid,
            self.from_number,
            self.to_number,
            self.status,
            self.duration_seconds,
            self.direction,
            self.started_at,
            self.ended_at,
            self.event_id
        ])?;
        Ok(())
    }
}

/// The handler: reads the envelope and upserts its call.
///
/// # Errors
///
/// A malformed envelope or a store failure.
pub fn process_call_completed(envelope: &str, conn: &Connection) -> Result<CallRow, ProcessError> {
    let row = CallRow::from_envelope(envelope)?;
    row.upsert(conn)?;
    Ok(row)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENVELOPE: &str = r#"{"version":"0","id":"e1","detail-type":"com.twilio.voice.call.completed",
        "source":"aws.partner/twilio.com","account":"123456789012","time":"2025-10-07T12:00:00Z",
        "region":"us-east-1","resources":[],"detail":{"call_sid":"CAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "account_sid":"ACbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","from":"+15551234567","to":"+15559876543",
        "call_status":"completed","call_duration":"300","direction":"outbound-api"}}"#;

    fn store() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        crate::create_tables(&conn).unwrap();
        conn
    }

    #[test]
    fn the_guides_example_becomes_one_row_and_stays_one() {
        let conn = store();
        let row = process_call_completed(ENVELOPE, &conn).unwrap();
        assert_eq!(row.duration_seconds, 300);
        assert_eq!(row.started_at, "2025-10-07T11:55:00Z");
        assert_eq!(row.ended_at, "2025-10-07T12:00:00Z");
        process_call_completed(ENVELOPE, &conn).unwrap();
        let (n, status, from): (i64, String, String) = conn
            .query_row("SELECT COUNT(*), MAX(status), MAX(from_number) FROM calls", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .unwrap();
        assert_eq!((n, status.as_str(), from.as_str()), (1, "completed", "+15551234567"));
    }

    #[test]
    fn malformed_envelopes_are_refused_with_the_reason() {
        let conn = store();
        for (bad, why) in [
            (ENVELOPE.replace(r#""call_duration":"300""#, r#""call_duration":"5.5""#), "call_duration"),
            (ENVELOPE.replace("CAaaaa", "XXaaaa"), "call_sid"),
            (ENVELOPE.replace(r#""to":"+15559876543","#, ""), "missing field `to`"),
            (ENVELOPE.replace("2025-10-07T12:00:00Z", "yesterday"), "time"),
            ("not json".to_string(), "expected"),
        ] {
            let err = process_call_completed(&bad, &conn).unwrap_err().to_string();
            assert!(err.contains(why), "{why}: {err}");
        }
        let n: i64 = conn.query_row("SELECT COUNT(*) FROM calls", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 0);
    }
}
