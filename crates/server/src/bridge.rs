//! The Twilio Event Streams bridge: a webhook sink's CloudEvents onto a bus in the setup guide's
//! envelope.
//!
//! Twilio Event Streams has no EventBridge sink; its webhook sink POSTs a JSON array of
//! CloudEvents, signed with `X-Twilio-Signature`. Each event becomes one PutEvents entry:
//! `source` `aws.partner/twilio.com`, the guide's `detail-type`, and a snake_case `detail`
//! (wire-formats §A.7) that also keeps Twilio's `twilio_event_id` and `twilio_event_type`. Both
//! Twilio's real types (`com.twilio.voice.status-callback.call.completed`, whose fields are in
//! `data.request.parameters`) and the guide's own names (as `generate --format cloudevents`
//! writes them, `data` already in the guide's shape) are accepted; other types are ignored.
//! Twilio delivers at least once, so events are deduplicated on their CloudEvent id.

use bus::{EventBus, PutEventsEntry};
use model::DetailType;
use rusqlite::{OptionalExtension, params};
use serde_json::{Map, Value, json};

/// The envelope `source` the guide's rules match.
pub const SOURCE: &str = "aws.partner/twilio.com";

/// The table of CloudEvent ids already put (created by [`create_tables`]).
pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS bridge_seen (
    cloudevent_id TEXT PRIMARY KEY,
    event_id      TEXT NOT NULL,
    seen_at       REAL NOT NULL
);";

/// Creates the bridge's table if missing.
///
/// # Errors
///
/// The store refused the schema.
pub fn create_tables(conn: &rusqlite::Connection) -> rusqlite::Result<()> {
    conn.execute_batch(SCHEMA)
}

/// One delivery, mapped.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Mapped {
    /// (CloudEvent id, entry) for each event of a known type.
    pub entries: Vec<(String, PutEventsEntry)>,
    /// Types of the events that were skipped.
    pub ignored: Vec<String>,
}

/// `CallSid` → `call_sid`.
fn snake(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 4);
    for (i, c) in key.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Maps a webhook body (a JSON array of CloudEvents, or one CloudEvent) to entries for `bus`.
///
/// # Errors
///
/// The body is not JSON, or an event lacks `id`, `type` or a usable `data`; the message says
/// which.
pub fn map_cloudevents(body: &[u8], bus: &str) -> Result<Mapped, String> {
    let value: Value = serde_json::from_slice(body).map_err(|e| format!("the body is not JSON: {e}"))?;
    let events = match value {
        Value::Array(events) => events,
        event @ Value::Object(_) => vec![event],
        _ => return Err("the body must be a JSON array of CloudEvents".into()),
    };
    let mut mapped = Mapped::default();
    for (i, event) in events.iter().enumerate() {
        let field = |name: &str| event.get(name).and_then(Value::as_str);
        let (Some(id), Some(kind)) = (field("id"), field("type")) else {
            return Err(format!("event {i}: a CloudEvent needs string `id` and `type`"));
        };
        let Some(detail_type) = DetailType::parse(kind) else {
            mapped.ignored.push(kind.to_string());
            continue;
        };
        let data = event
            .get("data")
            .and_then(Value::as_object)
            .ok_or(format!("event {i} ({id}): `data` must be an object"))?;
        let mut detail: Map<String, Value> = if kind == detail_type.seed_name() {
            data.clone()
        } else {
            let parameters = data
                .get("request")
                .and_then(|r| r.get("parameters"))
                .and_then(Value::as_object)
                .ok_or(format!("event {i} ({id}): {kind} needs `data.request.parameters`"))?;
            let mut detail: Map<String, Value> = parameters.iter().map(|(k, v)| (snake(k), v.clone())).collect();
            if !detail.contains_key("call_sid")
                && let Some(sid) = data.get("sid")
            {
                detail.insert("call_sid".into(), sid.clone());
            }
            detail
        };
        detail.insert("twilio_event_id".into(), json!(id));
        detail.insert("twilio_event_type".into(), json!(kind));
        let time = field("time")
            .and_then(|t| time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok());
        mapped.entries.push((id.to_string(), guide_entry(detail_type, detail, time, bus)));
    }
    Ok(mapped)
}

/// Twilio's classic status callbacks, form-encoded, each at its own path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Callback {
    /// `StatusCallback` of a call (`CallStatus`).
    CallStatus,
    /// `RecordingStatusCallback` (`RecordingStatus`).
    RecordingStatus,
    /// `<Record transcribeCallback>` (`TranscriptionStatus`).
    Transcription,
}

impl Callback {
    /// The path `callsynth serve` answers it on.
    pub fn from_path(path: &str) -> Option<Callback> {
        match path {
            "/twilio/call-status" => Some(Callback::CallStatus),
            "/twilio/recording-status" => Some(Callback::RecordingStatus),
            "/twilio/transcription" => Some(Callback::Transcription),
            _ => None,
        }
    }
}

/// Maps a classic form-encoded callback to (at most) one entry, deduplicated on the SID and
/// status it reports: a call's intermediate statuses (`ringing`, `in-progress`) are ignored,
/// `queued`/`initiated` become `call.initiated`, the final ones `call.completed`.
///
/// # Errors
///
/// A parameter the mapping needs is missing.
pub fn map_form(callback: Callback, params: &[(String, String)], bus: &str) -> Result<Mapped, String> {
    let get = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let require = |name: &str| get(name).ok_or(format!("missing {name}"));
    let (detail_type, key) = match callback {
        Callback::CallStatus => {
            let status = require("CallStatus")?;
            let kind = match status {
                "queued" | "initiated" => DetailType::CallInitiated,
                "completed" | "busy" | "no-answer" | "failed" | "canceled" => DetailType::CallCompleted,
                other => {
                    return Ok(Mapped { entries: Vec::new(), ignored: vec![format!("call status {other}")] });
                }
            };
            (kind, format!("call:{}:{status}", require("CallSid")?))
        }
        Callback::RecordingStatus => {
            let status = require("RecordingStatus")?;
            if status != "completed" {
                return Ok(Mapped { entries: Vec::new(), ignored: vec![format!("recording status {status}")] });
            }
            (DetailType::RecordingCompleted, format!("recording:{}", require("RecordingSid")?))
        }
        Callback::Transcription => {
            let status = require("TranscriptionStatus")?;
            (DetailType::TranscriptionCompleted, format!("transcription:{}:{status}", require("TranscriptionSid")?))
        }
    };
    let mut detail: Map<String, Value> = params.iter().map(|(k, v)| (snake(k), json!(v))).collect();
    detail.insert("twilio_event_type".into(), json!(format!("status-callback/{callback:?}")));
    let time = get("Timestamp")
        .and_then(|t| time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc2822).ok());
    Ok(Mapped { entries: vec![(key, guide_entry(detail_type, detail, time, bus))], ignored: Vec::new() })
}

/// The PutEvents entry for one Twilio event in the guide's envelope; `time` is Twilio's, or
/// the ingestion time when absent.
fn guide_entry(
    detail_type: DetailType,
    detail: Map<String, Value>,
    time: Option<time::OffsetDateTime>,
    bus: &str,
) -> PutEventsEntry {
    PutEventsEntry {
        time: time.map(|t| t.unix_timestamp() as f64),
        source: Some(SOURCE.into()),
        resources: Some(Vec::new()),
        detail_type: Some(detail_type.seed_name().into()),
        detail: Some(Value::Object(detail).to_string()),
        event_bus_name: Some(bus.to_string()),
        trace_header: None,
    }
}

/// What one delivery did.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BridgeReport {
    /// Events put on the bus.
    pub accepted: usize,
    /// Events already put by an earlier delivery.
    pub duplicates: usize,
    /// Events of types the guide does not route.
    pub ignored: usize,
    /// Events the bus refused, with the reason.
    pub failed: Vec<(String, String)>,
}

impl BridgeReport {
    /// The JSON answer.
    pub fn json(&self) -> Value {
        let failed: Vec<Value> = self.failed.iter().map(|(id, why)| json!({"id": id, "error": why})).collect();
        json!({"accepted": self.accepted, "duplicates": self.duplicates, "ignored": self.ignored, "failed": failed})
    }
}

/// Puts a mapped delivery on the bus, skipping CloudEvent ids already put, in one transaction
/// with the record of which ids were put.
///
/// # Errors
///
/// The store failed (nothing of the delivery is kept; Twilio will retry).
pub fn put(bus: &mut EventBus, mapped: Mapped) -> Result<BridgeReport, bus::BusError> {
    let mut report = BridgeReport { ignored: mapped.ignored.len(), ..BridgeReport::default() };
    let mut fresh: Vec<(String, PutEventsEntry)> = Vec::new();
    for (id, entry) in mapped.entries {
        let seen = bus
            .connection()
            .prepare_cached("SELECT 1 FROM bridge_seen WHERE cloudevent_id = ?1")?
            .query_row([&id], |_| Ok(()))
            .optional()?
            .is_some();
        if seen || fresh.iter().any(|(other, _)| *other == id) {
            report.duplicates += 1;
        } else {
            fresh.push((id, entry));
        }
    }
    if fresh.is_empty() {
        return Ok(report);
    }
    let requests: Vec<Vec<PutEventsEntry>> =
        fresh.chunks(10).map(|chunk| chunk.iter().map(|(_, e)| e.clone()).collect()).collect();
    let ids: Vec<String> = fresh.into_iter().map(|(id, _)| id).collect();
    let now = bus::now();
    let results = bus.put_event_batches(&requests, None)?;
    let conn = bus.connection();
    for (id, result) in ids.iter().zip(results.iter().flatten()) {
        match (&result.event_id, &result.error_code) {
            (Some(event_id), _) => {
                conn.prepare_cached(
                    "INSERT OR IGNORE INTO bridge_seen (cloudevent_id, event_id, seen_at) VALUES (?1, ?2, ?3)",
                )?
                .execute(params![id, event_id, now])?;
                report.accepted += 1;
            }
            (None, code) => report.failed.push((
                id.clone(),
                format!("{}: {}", code.as_deref().unwrap_or("Error"), result.error_message.as_deref().unwrap_or("")),
            )),
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classic_callbacks_map_by_status_and_dedupe_on_sid_and_status() {
        let p = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Vec<_>>();
        let done = p(&[
            ("CallSid", "CAx"),
            ("AccountSid", "ACx"),
            ("CallStatus", "no-answer"),
            ("CallDuration", "0"),
            ("Timestamp", "Mon, 05 Jan 2026 13:24:20 +0000"),
        ]);
        let m = map_form(Callback::CallStatus, &done, "b").unwrap();
        let (key, entry) = &m.entries[0];
        assert_eq!(key, "call:CAx:no-answer");
        assert_eq!(entry.detail_type.as_deref(), Some("com.twilio.voice.call.completed"));
        assert_eq!(entry.time, Some(1_767_619_460.0));
        let d: Value = serde_json::from_str(entry.detail.as_deref().unwrap()).unwrap();
        assert_eq!((d["call_status"].as_str(), d["call_duration"].as_str()), (Some("no-answer"), Some("0")));
        let ringing = p(&[("CallSid", "CAx"), ("CallStatus", "ringing")]);
        assert!(map_form(Callback::CallStatus, &ringing, "b").unwrap().entries.is_empty());
        let queued = p(&[("CallSid", "CAx"), ("CallStatus", "queued")]);
        assert_eq!(
            map_form(Callback::CallStatus, &queued, "b").unwrap().entries[0].1.detail_type.as_deref(),
            Some("com.twilio.voice.call.initiated")
        );
        assert!(
            map_form(Callback::Transcription, &p(&[("TranscriptionSid", "TRx")]), "b")
                .unwrap_err()
                .contains("TranscriptionStatus")
        );
        assert_eq!(Callback::from_path("/twilio/recording-status"), Some(Callback::RecordingStatus));
    }

    #[test]
    fn pascal_case_parameters_become_the_guides_snake_case() {
        assert_eq!(snake("CallSid"), "call_sid");
        assert_eq!(snake("From"), "from");
        assert_eq!(snake("RecordingUrl"), "recording_url");
        assert_eq!(snake("SipResponseCode"), "sip_response_code");
    }

    #[test]
    fn twilio_and_guide_types_map_and_others_are_ignored() {
        let body = br#"[
          {"specversion":"1.0","type":"com.twilio.voice.status-callback.call.completed","id":"EZ1","time":"2026-01-05T13:24:20.377Z",
           "source":"/x","datacontenttype":"application/json",
           "data":{"sid":"CAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","request":{"parameters":{"AccountSid":"ACx","From":"+1","To":"+2",
             "CallStatus":"completed","CallDuration":"93","Direction":"inbound"}}}},
          {"specversion":"1.0","type":"com.twilio.voice.transcription.completed","id":"EZ2","time":"2026-01-05T13:25:00Z",
           "data":{"transcription_sid":"TRx","recording_sid":"REx","call_sid":"CAx","transcription_text":"hi","transcription_status":"completed"}},
          {"specversion":"1.0","type":"com.twilio.messaging.message.sent","id":"EZ3","data":{}}
        ]"#;
        let m = map_cloudevents(body, "twilio-call-events").unwrap();
        assert_eq!(m.ignored, ["com.twilio.messaging.message.sent"]);
        assert_eq!(m.entries.len(), 2);
        let (id, call) = &m.entries[0];
        assert_eq!(id, "EZ1");
        assert_eq!(call.detail_type.as_deref(), Some("com.twilio.voice.call.completed"));
        assert_eq!(call.source.as_deref(), Some(SOURCE));
        assert_eq!(call.time, Some(1_767_619_460.0));
        let d: Value = serde_json::from_str(call.detail.as_deref().unwrap()).unwrap();
        assert_eq!(d["call_sid"], "CAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "from data.sid");
        assert_eq!((d["call_duration"].as_str(), d["direction"].as_str()), (Some("93"), Some("inbound")));
        assert_eq!(d["twilio_event_type"], "com.twilio.voice.status-callback.call.completed");
        let d: Value = serde_json::from_str(m.entries[1].1.detail.as_deref().unwrap()).unwrap();
        assert_eq!((d["transcription_text"].as_str(), d["twilio_event_id"].as_str()), (Some("hi"), Some("EZ2")));

        assert!(map_cloudevents(b"nope", "b").unwrap_err().contains("not JSON"));
        assert!(map_cloudevents(br#"[{"type":"x"}]"#, "b").unwrap_err().contains("`id` and `type`"));
        assert!(
            map_cloudevents(br#"[{"id":"1","type":"com.twilio.voice.status-callback.call.completed","data":{}}]"#, "b")
                .unwrap_err()
                .contains("data.request.parameters")
        );
    }
}
