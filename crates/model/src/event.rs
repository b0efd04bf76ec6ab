//! Events on the wire: the EventBridge envelope of the setup guide, Twilio's CloudEvents, and the
//! `detail` / `data` payloads of the four call events.
//!
//! String fields are `Cow<'a, str>` so an encoder can serialise straight from a [`crate::Call`]
//! without copying, while a decoder can still own what it parses.

use std::borrow::Cow;

use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize};

/// The four events a call produces, in the order they happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DetailType {
    /// The call was placed.
    CallInitiated,
    /// The call ended (whatever its final status).
    CallCompleted,
    /// The recording is available.
    RecordingCompleted,
    /// The transcription is available.
    TranscriptionCompleted,
}

impl DetailType {
    /// Every kind, in call order.
    pub const ALL: [DetailType; 4] = [
        DetailType::CallInitiated,
        DetailType::CallCompleted,
        DetailType::RecordingCompleted,
        DetailType::TranscriptionCompleted,
    ];

    /// The setup guide's `detail-type` (`com.twilio.voice.call.completed`, …). These are a
    /// project-level normalisation, not real Twilio event types.
    pub const fn seed_name(self) -> &'static str {
        match self {
            DetailType::CallInitiated => "com.twilio.voice.call.initiated",
            DetailType::CallCompleted => "com.twilio.voice.call.completed",
            DetailType::RecordingCompleted => "com.twilio.voice.recording.completed",
            DetailType::TranscriptionCompleted => "com.twilio.voice.transcription.completed",
        }
    }

    /// The Twilio Event Streams type that carries the same information.
    ///
    /// The call types are Twilio's published `Voice.WebhookEvent` status-callback types. The
    /// recording and transcription names appear in Twilio's type catalogue but are not
    /// confirmed by Twilio's own status-callback page.
    pub const fn twilio_name(self) -> TwilioEventType {
        TwilioEventType(match self {
            DetailType::CallInitiated => "com.twilio.voice.status-callback.call.initiated",
            DetailType::CallCompleted => "com.twilio.voice.status-callback.call.completed",
            DetailType::RecordingCompleted => "com.twilio.voice.status-callback.recording.processed",
            DetailType::TranscriptionCompleted => "com.twilio.voice.status-callback.transcription.processed",
        })
    }

    /// Recognises either spelling (seed or Twilio).
    pub fn parse(name: &str) -> Option<DetailType> {
        DetailType::ALL.into_iter().find(|kind| kind.seed_name() == name || kind.twilio_name().0 == name)
    }
}

/// A real Twilio Event Streams event type, e.g. `com.twilio.voice.status-callback.call.completed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TwilioEventType(pub &'static str);

/// The envelope EventBridge delivers to targets, field for field as the setup guide shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventBridgeEnvelope<'a, D> {
    /// Always `"0"`.
    #[serde(borrow)]
    pub version: Cow<'a, str>,
    /// Event id (a UUID).
    #[serde(borrow)]
    pub id: Cow<'a, str>,
    /// What happened, e.g. `com.twilio.voice.call.completed`.
    #[serde(rename = "detail-type", borrow)]
    pub detail_type: Cow<'a, str>,
    /// Who says so, e.g. `aws.partner/twilio.com`.
    #[serde(borrow)]
    pub source: Cow<'a, str>,
    /// 12-digit AWS account id.
    #[serde(borrow)]
    pub account: Cow<'a, str>,
    /// RFC 3339 UTC with whole seconds and a `Z`.
    #[serde(borrow)]
    pub time: Cow<'a, str>,
    /// AWS region.
    #[serde(borrow)]
    pub region: Cow<'a, str>,
    /// Resource ARNs (empty for these events).
    #[serde(default)]
    pub resources: Vec<String>,
    /// The payload, a JSON object.
    pub detail: D,
}

/// A CloudEvents 1.0 event as a Twilio Event Streams sink delivers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CloudEvent<'a, D> {
    /// Always `"1.0"`.
    #[serde(borrow)]
    pub specversion: Cow<'a, str>,
    /// The event type.
    #[serde(rename = "type", borrow)]
    pub kind: Cow<'a, str>,
    /// The REST resource path the event is about.
    #[serde(borrow)]
    pub source: Cow<'a, str>,
    /// Unique id, the at-least-once deduplication key.
    #[serde(borrow)]
    pub id: Cow<'a, str>,
    /// URI of the data's JSON Schema.
    #[serde(default, skip_serializing_if = "Option::is_none", borrow)]
    pub dataschema: Option<Cow<'a, str>>,
    /// Always `application/json`.
    #[serde(borrow)]
    pub datacontenttype: Cow<'a, str>,
    /// RFC 3339 UTC with milliseconds.
    #[serde(borrow)]
    pub time: Cow<'a, str>,
    /// The payload.
    pub data: D,
}

/// `detail` of `com.twilio.voice.call.initiated` (defined by callsynth in the guide's style).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallInitiatedDetail<'a> {
    /// `CA…`.
    #[serde(borrow)]
    pub call_sid: Cow<'a, str>,
    /// `AC…`.
    #[serde(borrow)]
    pub account_sid: Cow<'a, str>,
    /// Caller, E.164.
    #[serde(borrow)]
    pub from: Cow<'a, str>,
    /// Callee, E.164.
    #[serde(borrow)]
    pub to: Cow<'a, str>,
    /// `queued`: Twilio's `CallStatus` when the initiated callback fires.
    #[serde(borrow)]
    pub call_status: Cow<'a, str>,
    /// Twilio direction (`inbound`, `outbound-api`, …).
    #[serde(borrow)]
    pub direction: Cow<'a, str>,
}

/// `detail` of `com.twilio.voice.call.completed`: exactly the setup guide's fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallCompletedDetail<'a> {
    /// `CA…`.
    #[serde(borrow)]
    pub call_sid: Cow<'a, str>,
    /// `AC…`.
    #[serde(borrow)]
    pub account_sid: Cow<'a, str>,
    /// Caller, E.164.
    #[serde(borrow)]
    pub from: Cow<'a, str>,
    /// Callee, E.164.
    #[serde(borrow)]
    pub to: Cow<'a, str>,
    /// Final status: `completed`, `busy`, `no-answer`, `failed` or `canceled`.
    #[serde(borrow)]
    pub call_status: Cow<'a, str>,
    /// Whole seconds, **as a string** (Twilio's form encoding has no numbers).
    #[serde(borrow)]
    pub call_duration: Cow<'a, str>,
    /// Twilio direction.
    #[serde(borrow)]
    pub direction: Cow<'a, str>,
}

/// `detail` of `com.twilio.voice.recording.completed` (defined by callsynth in the guide's style,
/// from Twilio's recording status callback).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordingCompletedDetail<'a> {
    /// `RE…`.
    #[serde(borrow)]
    pub recording_sid: Cow<'a, str>,
    /// `CA…`.
    #[serde(borrow)]
    pub call_sid: Cow<'a, str>,
    /// `AC…`.
    #[serde(borrow)]
    pub account_sid: Cow<'a, str>,
    /// Media URL.
    #[serde(borrow)]
    pub recording_url: Cow<'a, str>,
    /// `completed`.
    #[serde(borrow)]
    pub recording_status: Cow<'a, str>,
    /// Whole seconds, as a string.
    #[serde(borrow)]
    pub recording_duration: Cow<'a, str>,
    /// `"2"`: agent and customer on separate channels.
    #[serde(borrow)]
    pub recording_channels: Cow<'a, str>,
    /// `StartCallRecordingAPI`, one of Twilio's `RecordingSource` values.
    #[serde(borrow)]
    pub recording_source: Cow<'a, str>,
}

/// `detail` of `com.twilio.voice.transcription.completed`: exactly the setup guide's fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TranscriptionCompletedDetail<'a> {
    /// `TR…`.
    #[serde(borrow)]
    pub transcription_sid: Cow<'a, str>,
    /// `RE…`.
    #[serde(borrow)]
    pub recording_sid: Cow<'a, str>,
    /// `CA…`.
    #[serde(borrow)]
    pub call_sid: Cow<'a, str>,
    /// One `Speaker: words` line per turn.
    #[serde(borrow)]
    pub transcription_text: Cow<'a, str>,
    /// `completed`.
    #[serde(borrow)]
    pub transcription_status: Cow<'a, str>,
}

/// The `data` of a Twilio `Voice.WebhookEvent` (the status-callback event family).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VoiceWebhookEvent<'a> {
    /// The call SID.
    pub sid: Cow<'a, str>,
    /// RFC 2822, e.g. `Sun, 24 Aug 2025 13:49:54 +0000`.
    pub request_date_created: Cow<'a, str>,
    /// ISO 8601 with milliseconds.
    pub timestamp: Cow<'a, str>,
    /// `VW…`.
    pub event_sid: Cow<'a, str>,
    /// The status callback Twilio made.
    pub request: WebhookRequest<'a>,
    /// What the callback endpoint answered.
    pub response: WebhookResponse<'a>,
}

/// `data.request` of a `Voice.WebhookEvent`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WebhookRequest<'a> {
    /// `POST`.
    pub method: Cow<'a, str>,
    /// The status callback URL.
    pub url: Cow<'a, str>,
    /// The form parameters Twilio sent (PascalCase keys, string values).
    pub parameters: FormParameters<'a>,
}

/// `data.response` of a `Voice.WebhookEvent`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookResponse<'a> {
    /// HTTP status the callback endpoint returned.
    pub response_code: u16,
    /// Milliseconds the callback took.
    pub request_duration: u32,
    /// Content type of the endpoint's answer.
    pub content_type: Cow<'a, str>,
    /// Base64 of the endpoint's answer body.
    pub response_body: Cow<'a, str>,
    /// RFC 2822.
    pub date_created: Cow<'a, str>,
}

/// Form parameters serialised as a JSON object in insertion order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FormParameters<'a>(pub Vec<(&'static str, Cow<'a, str>)>);

impl<'a> FormParameters<'a> {
    /// Appends one parameter.
    pub fn push(&mut self, key: &'static str, value: impl Into<Cow<'a, str>>) {
        self.0.push((key, value.into()));
    }
}

impl Serialize for FormParameters<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detail_types_parse_from_either_spelling() {
        for kind in DetailType::ALL {
            assert_eq!(DetailType::parse(kind.seed_name()), Some(kind));
            assert_eq!(DetailType::parse(kind.twilio_name().0), Some(kind));
        }
        assert_eq!(DetailType::parse("com.twilio.voice.call.ringing"), None);
    }

    #[test]
    fn envelope_uses_the_guides_field_names_in_order() {
        let envelope = EventBridgeEnvelope {
            version: "0".into(),
            id: "abcd".into(),
            detail_type: "com.twilio.voice.call.completed".into(),
            source: "aws.partner/twilio.com".into(),
            account: "123456789012".into(),
            time: "2025-10-07T12:00:00Z".into(),
            region: "us-east-1".into(),
            resources: vec![],
            detail: serde_json::json!({}),
        };
        let text = serde_json::to_string(&envelope).unwrap();
        assert_eq!(
            text,
            r#"{"version":"0","id":"abcd","detail-type":"com.twilio.voice.call.completed","source":"aws.partner/twilio.com","account":"123456789012","time":"2025-10-07T12:00:00Z","region":"us-east-1","resources":[],"detail":{}}"#
        );
    }
}
