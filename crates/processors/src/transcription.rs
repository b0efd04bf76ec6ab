//! `update-segment-profile`: the transcript is kept per call, analysed, and turned into the
//! customer's Segment profile update (origin-spec §3.3, with its defects fixed: `total_calls`
//! really counts the customer's calls, and the profile is created once).

use analytics::analysis::{Analysis, CallContext, analyze};
use analytics::scores::origin_scores;
use analytics::transcript::parse_labelled;
use model::{EventBridgeEnvelope, Sid, SidPrefix, TranscriptionCompletedDetail};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::json;

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

/// What one transcription did to its customer's profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileUpdate {
    /// The transcript row.
    pub transcript: TranscriptRow,
    /// `cust_…`.
    pub user_id: String,
    /// The customer's calls so far, this one included.
    pub total_calls: u32,
    /// Messages queued in the outbox (0 when this call had been analysed before).
    pub messages: usize,
}

/// The handler: keeps the transcript, analyses it, counts the call on the customer's profile and
/// queues `identify` (creation, once per customer), `identify` (update) and `track
/// call_completed` in `segment_outbox`. Message ids derive from the event id.
///
/// # Errors
///
/// A malformed envelope, a call whose completion is not stored yet (retry later), a message
/// over Segment's limits, or a store failure.
pub fn update_segment_profile(envelope: &str, conn: &Connection) -> Result<ProfileUpdate, ProcessError> {
    update_segment_profile_with(envelope, conn, None)
}

/// The pure, costly part of [`update_segment_profile`] for one envelope — the transcript read
/// and analysed as a first contact — which a caller may compute ahead and in parallel for a
/// batch of deliveries.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The envelope read.
    pub row: TranscriptRow,
    /// Its analysis, before the customer's history is known.
    pub analysis: Analysis,
}

/// [`Prepared`] for an envelope; `None` for one the processor would refuse (it then refuses it
/// with the reason when the delivery is made).
pub fn prepare_envelope(envelope: &str) -> Option<Prepared> {
    let row = TranscriptRow::from_envelope(envelope).ok()?;
    let analysis = analyze(&parse_labelled(&row.text), CallContext::default());
    Some(Prepared { row, analysis })
}

/// [`update_segment_profile`] with the work [`prepare_envelope`] did ahead for the same
/// envelope (its analysis is rescored with the customer's history here).
///
/// # Errors
///
/// As [`update_segment_profile`].
pub fn update_segment_profile_with(
    envelope: &str,
    conn: &Connection,
    ahead: Option<Prepared>,
) -> Result<ProfileUpdate, ProcessError> {
    let (row, ahead) = match ahead {
        Some(Prepared { row, analysis }) => (row, Some(analysis)),
        None => (TranscriptRow::from_envelope(envelope)?, None),
    };
    row.upsert(conn)?;
    let call: Option<(String, String, String)> = conn
        .prepare_cached("SELECT from_number, to_number, direction FROM calls WHERE call_sid = ?1")?
        .query_row([&row.call_sid], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let Some((from, to, direction)) = call else {
        return Err(ProcessError::NotReady(format!(
            "call {} has no completed-call record yet, so its customer is unknown",
            row.call_sid
        )));
    };
    let phone = if direction.starts_with("outbound") { to } else { from };
    let user_id = segment::user_id_for_phone(&phone);
    let previous: Option<u32> = conn
        .prepare_cached("SELECT total_calls FROM segment_profiles WHERE user_id = ?1")?
        .query_row([&user_id], |r| r.get(0))
        .optional()?;
    let already: bool = conn
        .prepare_cached("SELECT 1 FROM call_analytics WHERE call_sid = ?1")?
        .query_row([&row.call_sid], |_| Ok(()))
        .optional()?
        .is_some();
    let previous_calls = previous.unwrap_or(0);
    let total_calls = if already { previous_calls } else { previous_calls + 1 };
    let context = CallContext { previous_contacts: total_calls.saturating_sub(1) };
    let analysis = match ahead {
        Some(mut analysis) => {
            analysis.rescore(context);
            analysis
        }
        None => analyze(&parse_labelled(&row.text), context),
    };
    let scores =
        origin_scores(analysis.sentiment, analysis.resolution, analysis.escalation.is_some(), analysis.word_count);
    conn.prepare_cached(
        "INSERT INTO call_analytics (call_sid, user_id, sentiment, resolution, escalated, escalation_kind, churn_risk,
                                     propensity_to_buy, satisfaction_score, word_count, analysis)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT (call_sid) DO UPDATE SET user_id = excluded.user_id, sentiment = excluded.sentiment,
             resolution = excluded.resolution, escalated = excluded.escalated,
             escalation_kind = excluded.escalation_kind, churn_risk = excluded.churn_risk,
             propensity_to_buy = excluded.propensity_to_buy, satisfaction_score = excluded.satisfaction_score,
             word_count = excluded.word_count, analysis = excluded.analysis",
    )?
    .execute(params![
        row.call_sid,
        user_id,
        analysis.sentiment.as_str(),
        analysis.resolution.as_str(),
        analysis.escalation.is_some(),
        analysis.escalation.as_ref().map(|e| serde_json::to_value(e.kind).expect("enum").as_str().map(str::to_owned)),
        scores.churn_risk,
        scores.propensity_to_buy,
        scores.satisfaction_score,
        analysis.word_count,
        serde_json::to_string(&analysis).expect("analysis serialises"),
    ])?;
    if already {
        // Counted and announced when it was first analysed.
        return Ok(ProfileUpdate { transcript: row, user_id, total_calls, messages: 0 });
    }
    let mut messages = Vec::with_capacity(3);
    let at = row.completed_at.as_str();
    if previous.is_none() {
        let created =
            json!({"phone": phone, "total_calls": 0, "churn_risk": 0, "propensity_to_buy": 0, "satisfaction_score": 0});
        messages.push(segment::identify(&format!("{}:create", row.event_id), &user_id, at, &object(created))?);
    }
    let escalated = analysis.escalation.is_some();
    let traits = json!({
        "total_calls": total_calls,
        "churn_risk": scores.churn_risk,
        "propensity_to_buy": scores.propensity_to_buy,
        "satisfaction_score": scores.satisfaction_score,
        "last_call_sentiment": analysis.sentiment.as_str(),
        "last_call_resolution": analysis.resolution.as_str(),
        "last_call_escalated": escalated,
    });
    messages.push(segment::identify(&format!("{}:identify", row.event_id), &user_id, at, &object(traits))?);
    let properties = json!({
        "sentiment": analysis.sentiment.as_str(),
        "resolution": analysis.resolution.as_str(),
        "escalation": escalated,
        "wordCount": analysis.word_count,
        "churnRisk": scores.churn_risk,
        "propensityToBuy": scores.propensity_to_buy,
        "satisfactionScore": scores.satisfaction_score,
        "transcriptionSid": row.transcription_sid,
        "callSid": row.call_sid,
    });
    messages.push(segment::track(
        &format!("{}:track", row.event_id),
        &user_id,
        at,
        "call_completed",
        &object(properties),
    )?);
    conn.prepare_cached(
        "INSERT INTO segment_profiles (user_id, phone, total_calls, last_call_sid, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (user_id) DO UPDATE SET total_calls = excluded.total_calls, last_call_sid = excluded.last_call_sid,
             updated_at = excluded.updated_at",
    )?
    .execute(params![user_id, phone, total_calls, row.call_sid, at])?;
    let mut insert = conn.prepare_cached(
        "INSERT INTO segment_outbox (message_id, kind, user_id, body, created_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (message_id) DO NOTHING",
    )?;
    for m in &messages {
        insert.execute(params![m.message_id, m.kind, m.user_id, m.json, at])?;
    }
    Ok(ProfileUpdate { transcript: row, user_id, total_calls, messages: messages.len() })
}

/// The object a `json!({...})` literal builds.
fn object(v: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    match v {
        serde_json::Value::Object(map) => map,
        other => unreachable!("json!({{…}}) is an object, not {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENVELOPE: &str = r#"{"version":"0","id":"e2","detail-type":"com.twilio.voice.transcription.completed",
        "source":"aws.partner/twilio.com","account":"123456789012","time":"2025-10-07T12:05:00Z",
        "region":"us-east-1","resources":[],"detail":{"transcription_sid":"TRcccccccccccccccccccccccccccccccc",
        "recording_sid":"REdddddddddddddddddddddddddddddddd","call_sid":"CAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "transcription_text":"Agent: Hello, how can I help?\nCustomer: My order never came. Get me a manager.",
        "transcription_status":"completed"}}"#;

    fn store_call(conn: &Connection, call_sid: &str, from: &str) {
        conn.execute(
            "INSERT INTO calls VALUES (?1, 'ACx', ?2, '+18005550199', 'completed', 60, 'inbound', 't0', 't1', 'e0')",
            params![call_sid, from],
        )
        .unwrap();
    }

    fn outbox(conn: &Connection) -> Vec<(String, serde_json::Value)> {
        let mut stmt = conn.prepare("SELECT message_id, body FROM segment_outbox ORDER BY seq").unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, serde_json::from_str(&r.get::<_, String>(1)?).unwrap())))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    #[test]
    fn a_transcription_before_its_call_is_not_ready_and_keeps_the_transcript() {
        let conn = Connection::open_in_memory().unwrap();
        crate::create_tables(&conn).unwrap();
        let err = update_segment_profile(ENVELOPE, &conn).unwrap_err();
        assert!(matches!(err, ProcessError::NotReady(_)), "{err}");
        let words: u32 = conn.query_row("SELECT word_count FROM transcripts", [], |r| r.get(0)).unwrap();
        assert_eq!(words, 5 + 8);
        let wrong = ENVELOPE.replace("TRccc", "REccc");
        assert!(update_segment_profile(&wrong, &conn).unwrap_err().to_string().contains("transcription_sid"));
    }

    #[test]
    fn profiles_are_created_once_and_count_every_call_once() {
        let conn = Connection::open_in_memory().unwrap();
        crate::create_tables(&conn).unwrap();
        store_call(&conn, "CAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "+15129358764");
        let first = update_segment_profile(ENVELOPE, &conn).unwrap();
        assert_eq!(
            (first.user_id.as_str(), first.total_calls, first.messages),
            ("cust_a3e3835ce1df229cce1271a25b0c8822", 1, 3)
        );
        let messages = outbox(&conn);
        let ids: Vec<&str> = messages.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids, ["e2:create", "e2:identify", "e2:track"]);
        let (_, created) = &messages[0];
        assert_eq!(created["traits"]["phone"], "+15129358764");
        assert_eq!(created["traits"]["total_calls"], 0);
        let (_, identify) = &messages[1];
        assert_eq!(identify["traits"]["total_calls"], 1);
        assert_eq!(identify["traits"]["last_call_escalated"], true, "the customer asked for a manager");
        let (_, track) = &messages[2];
        assert_eq!(track["event"], "call_completed");
        assert_eq!(track["properties"]["callSid"], "CAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
        assert_eq!(track["properties"]["wordCount"], 13);
        assert_eq!(track["timestamp"], "2025-10-07T12:05:00Z");

        // Redelivered: nothing counted or queued twice.
        assert_eq!(update_segment_profile(ENVELOPE, &conn).unwrap().messages, 0);
        assert_eq!(outbox(&conn).len(), 3);

        // The same customer's second call: no second creation, total_calls 2.
        store_call(&conn, "CAbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "+15129358764");
        let second = ENVELOPE
            .replace("CAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "CAbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb")
            .replace("\"id\":\"e2\"", "\"id\":\"e3\"");
        let update = update_segment_profile(&second, &conn).unwrap();
        assert_eq!((update.total_calls, update.messages), (2, 2));
        let messages = outbox(&conn);
        assert_eq!(messages.len(), 5);
        assert_eq!(messages[3].1["traits"]["total_calls"], 2);
        let total: u32 = conn.query_row("SELECT total_calls FROM segment_profiles", [], |r| r.get(0)).unwrap();
        assert_eq!(total, 2);
    }
}
