//! Turning a [`Call`] into the Twilio events it produced, in the chosen wire format.
//!
//! A talked call yields four events (initiated, completed, recording, transcription); any other
//! call yields two (initiated, completed). Each event is encoded to one JSON value; the
//! [`Format`] decides the value's shape and [`Framer`] how values are joined into lines:
//!
//! | format        | one value is                         | one line is                       |
//! |---------------|--------------------------------------|-----------------------------------|
//! | `eventbridge` | the envelope the guide shows         | one envelope                      |
//! | `cloudevents` | a CloudEvents 1.0 event              | a webhook delivery: `[event]`     |
//! | `putevents`   | a `PutEvents` request entry          | a request body, up to 10 entries  |
//!
//! Event ids are derived from the call SID and the event kind, so they are stable per seed and
//! unique per event.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use model::{
    Call, CallCompletedDetail, CallInitiatedDetail, CloudEvent, DetailType, EventBridgeEnvelope, FormParameters,
    RecordingCompletedDetail, TranscriptionCompletedDetail, VoiceWebhookEvent, WebhookRequest, WebhookResponse,
};
use serde::Serialize;

use crate::clock;

/// The line shape of the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// One EventBridge envelope per line.
    #[default]
    EventBridge,
    /// One Twilio webhook-sink delivery (a JSON array of CloudEvents) per line.
    CloudEvents,
    /// One AWS `PutEvents` request body (≤ 10 entries) per line.
    PutEvents,
}

/// Which event vocabulary the events use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Schema {
    /// The setup guide's names and snake_case details.
    #[default]
    Seed,
    /// Twilio's published Event Streams types with `Voice.WebhookEvent` payloads.
    Twilio,
}

macro_rules! flag_enum {
    ($ty:ty, $($variant:path => $name:literal),*) => {
        impl FromStr for $ty {
            type Err = String;
            fn from_str(s: &str) -> Result<$ty, String> {
                match s {
                    $($name => Ok($variant),)*
                    _ => Err(format!("unknown value {s:?} (use {})", [$($name),*].join(", "))),
                }
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(match self { $($variant => $name,)* })
            }
        }
    };
}
flag_enum!(Format, Format::EventBridge => "eventbridge", Format::CloudEvents => "cloudevents", Format::PutEvents => "putevents");
flag_enum!(Schema, Schema::Seed => "seed", Schema::Twilio => "twilio");

/// Settings of the envelope that are not about the call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodeOptions {
    /// Line shape.
    pub format: Format,
    /// Event vocabulary.
    pub schema: Schema,
    /// EventBridge `source` (the guide's `aws.partner/twilio.com` by default).
    pub source: String,
    /// EventBridge `account`, 12 digits.
    pub account: String,
    /// EventBridge `region`.
    pub region: String,
    /// `EventBusName` in `PutEvents` entries.
    pub event_bus_name: String,
    /// Base URL of the status callbacks Twilio calls (Twilio schema).
    pub callback_base: String,
}

impl Default for EncodeOptions {
    fn default() -> EncodeOptions {
        EncodeOptions {
            format: Format::EventBridge,
            schema: Schema::Seed,
            source: "aws.partner/twilio.com".into(),
            account: "123456789012".into(),
            region: "us-east-1".into(),
            event_bus_name: "twilio-call-events".into(),
            callback_base: "https://callbacks.example.com/twilio".into(),
        }
    }
}

/// One event of a call, before encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventRef {
    /// Which event.
    pub kind: DetailType,
    /// When it happened, Unix ms.
    pub at_ms: i64,
}

/// The events of a call, in time order.
pub fn events_of(call: &Call) -> Vec<EventRef> {
    let mut out = vec![
        EventRef { kind: DetailType::CallInitiated, at_ms: call.initiated_at_ms },
        EventRef { kind: DetailType::CallCompleted, at_ms: call.ended_at_ms() },
    ];
    if let Some(r) = &call.recording {
        out.push(EventRef { kind: DetailType::RecordingCompleted, at_ms: r.completed_at_ms });
    }
    if let Some(t) = &call.transcription {
        out.push(EventRef { kind: DetailType::TranscriptionCompleted, at_ms: t.completed_at_ms });
    }
    out
}

/// SplitMix64 finaliser: spreads a 64-bit value over all bits.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// 16 bytes derived from the call SID, an event kind and a salt.
fn derived_bytes(call: &Call, kind: DetailType, salt: u64) -> [u8; 16] {
    let hex = &call.call_sid.as_str()[2..];
    let hi = u64::from_str_radix(&hex[..16], 16).expect("SIDs are hex");
    let lo = u64::from_str_radix(&hex[16..], 16).expect("SIDs are hex");
    let k = (kind as u64 + 1) ^ salt;
    let a = mix(hi ^ mix(k));
    let b = mix(lo ^ mix(a ^ k));
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&a.to_be_bytes());
    out[8..].copy_from_slice(&b.to_be_bytes());
    out
}

/// The EventBridge event id (a version-4-shaped UUID) of one event of a call.
pub fn event_id(call: &Call, kind: DetailType) -> uuid::Uuid {
    uuid::Builder::from_random_bytes(derived_bytes(call, kind, 0x45_42)).into_uuid()
}

/// Encodes calls' events.
#[derive(Debug, Clone)]
pub struct Encoder {
    options: EncodeOptions,
}

impl Encoder {
    /// An encoder with these options.
    pub fn new(options: EncodeOptions) -> Encoder {
        Encoder { options }
    }

    /// The options.
    pub fn options(&self) -> &EncodeOptions {
        &self.options
    }

    /// Appends each event of `call` to `out` as one JSON value, pushing the end offset of each
    /// value to `ends`.
    pub fn encode_call(&self, call: &Call, out: &mut Vec<u8>, ends: &mut Vec<usize>) {
        for event in events_of(call) {
            self.encode_event(call, event, out);
            ends.push(out.len());
        }
    }

    /// Appends one event as a JSON value.
    pub fn encode_event(&self, call: &Call, event: EventRef, out: &mut Vec<u8>) {
        match self.options.schema {
            Schema::Seed => self.wrap(call, event, &seed_detail(call, event.kind), out),
            Schema::Twilio => self.wrap(call, event, &twilio_data(call, event, &self.options.callback_base), out),
        }
    }

    /// Encodes one event as the EventBridge envelope a target receives, whatever the output
    /// format: what the embedded bus routes.
    pub fn envelope(&self, call: &Call, event: EventRef) -> Vec<u8> {
        let mut out = Vec::with_capacity(512);
        match self.options.schema {
            Schema::Seed => self.envelope_into(call, event, &seed_detail(call, event.kind), &mut out),
            Schema::Twilio => {
                self.envelope_into(call, event, &twilio_data(call, event, &self.options.callback_base), &mut out)
            }
        }
        out
    }

    fn type_name(&self, kind: DetailType) -> &'static str {
        match self.options.schema {
            Schema::Seed => kind.seed_name(),
            Schema::Twilio => kind.twilio_name().0,
        }
    }

    fn envelope_into<D: Serialize>(&self, call: &Call, event: EventRef, detail: &D, out: &mut Vec<u8>) {
        let id = event_id(call, event.kind);
        let mut id_buf = uuid::Uuid::encode_buffer();
        let envelope = EventBridgeEnvelope {
            version: "0".into(),
            id: Cow::Borrowed(id.hyphenated().encode_lower(&mut id_buf)),
            detail_type: self.type_name(event.kind).into(),
            source: Cow::Borrowed(&self.options.source),
            account: Cow::Borrowed(&self.options.account),
            time: clock::rfc3339_seconds(event.at_ms).into(),
            region: Cow::Borrowed(&self.options.region),
            resources: Vec::new(),
            detail,
        };
        serde_json::to_writer(out, &envelope).expect("writing JSON to a Vec cannot fail");
    }

    fn wrap<D: Serialize>(&self, call: &Call, event: EventRef, detail: &D, out: &mut Vec<u8>) {
        match self.options.format {
            Format::EventBridge => self.envelope_into(call, event, detail, out),
            Format::CloudEvents => {
                let id = model::Sid::from_bytes(model::SidPrefix::CloudEvent, derived_bytes(call, event.kind, 0x43_45));
                let (source, schema) = match (self.options.schema, event.kind) {
                    (_, DetailType::RecordingCompleted) => (
                        format!("/2010-04-01/Accounts/{}/Recordings/{}.json", call.account_sid, recording_sid(call)),
                        "Voice.WebhookEvent",
                    ),
                    _ => (
                        format!("/2010-04-01/Accounts/{}/Calls/{}.json", call.account_sid, call.call_sid),
                        "Voice.WebhookEvent",
                    ),
                };
                let cloud = CloudEvent {
                    specversion: "1.0".into(),
                    kind: self.type_name(event.kind).into(),
                    source: source.into(),
                    id: Cow::Borrowed(id.as_str()),
                    dataschema: (self.options.schema == Schema::Twilio)
                        .then(|| format!("https://events-schemas.twilio.com/{schema}/1").into()),
                    datacontenttype: "application/json".into(),
                    time: clock::rfc3339_millis(event.at_ms).into(),
                    data: detail,
                };
                serde_json::to_writer(out, &cloud).expect("writing JSON to a Vec cannot fail");
            }
            Format::PutEvents => {
                #[derive(Serialize)]
                #[serde(rename_all = "PascalCase")]
                struct Entry<'a> {
                    time: i64,
                    source: &'a str,
                    resources: [&'a str; 0],
                    detail_type: &'a str,
                    detail: String,
                    event_bus_name: &'a str,
                }
                let entry = Entry {
                    time: event.at_ms.div_euclid(1000),
                    source: &self.options.source,
                    resources: [],
                    detail_type: self.type_name(event.kind),
                    detail: serde_json::to_string(detail).expect("details serialise"),
                    event_bus_name: &self.options.event_bus_name,
                };
                serde_json::to_writer(out, &entry).expect("writing JSON to a Vec cannot fail");
            }
        }
    }
}

fn recording_sid(call: &Call) -> &str {
    call.recording.as_ref().map_or("", |r| r.sid.as_str())
}

/// A seed-schema detail of any kind.
#[derive(Serialize)]
#[serde(untagged)]
enum SeedDetail<'a> {
    Initiated(CallInitiatedDetail<'a>),
    Completed(CallCompletedDetail<'a>),
    Recording(RecordingCompletedDetail<'a>),
    Transcription(TranscriptionCompletedDetail<'a>),
}

fn seed_detail(call: &Call, kind: DetailType) -> SeedDetail<'_> {
    let call_sid = Cow::Borrowed(call.call_sid.as_str());
    let account_sid = Cow::Borrowed(call.account_sid.as_str());
    match kind {
        DetailType::CallInitiated => SeedDetail::Initiated(CallInitiatedDetail {
            call_sid,
            account_sid,
            from: Cow::Borrowed(&call.from),
            to: Cow::Borrowed(&call.to),
            call_status: "queued".into(),
            direction: call.direction.as_str().into(),
        }),
        DetailType::CallCompleted => SeedDetail::Completed(CallCompletedDetail {
            call_sid,
            account_sid,
            from: Cow::Borrowed(&call.from),
            to: Cow::Borrowed(&call.to),
            call_status: call.status.as_str().into(),
            call_duration: call.duration_seconds.to_string().into(),
            direction: call.direction.as_str().into(),
        }),
        DetailType::RecordingCompleted => {
            let r = call.recording.as_ref().expect("recording events exist only for recorded calls");
            SeedDetail::Recording(RecordingCompletedDetail {
                recording_sid: Cow::Borrowed(r.sid.as_str()),
                call_sid,
                account_sid,
                recording_url: Cow::Borrowed(&r.url),
                recording_status: "completed".into(),
                recording_duration: r.duration_seconds.to_string().into(),
                recording_channels: "2".into(),
                recording_source: "DialVerb".into(),
            })
        }
        DetailType::TranscriptionCompleted => {
            let t = call.transcription.as_ref().expect("transcription events exist only for transcribed calls");
            SeedDetail::Transcription(TranscriptionCompletedDetail {
                transcription_sid: Cow::Borrowed(t.sid.as_str()),
                recording_sid: Cow::Borrowed(recording_sid(call)),
                call_sid,
                transcription_text: Cow::Borrowed(&t.text),
                transcription_status: "completed".into(),
            })
        }
    }
}

/// The `Voice.WebhookEvent` data of one event: the status callback Twilio made, with its form
/// parameters (PascalCase, all strings), and the callback endpoint's answer.
fn twilio_data<'a>(call: &'a Call, event: EventRef, callback_base: &str) -> VoiceWebhookEvent<'a> {
    let mut p = FormParameters::default();
    p.push("AccountSid", call.account_sid.as_str());
    p.push("CallSid", call.call_sid.as_str());
    let path = match event.kind {
        DetailType::CallInitiated | DetailType::CallCompleted => {
            let status = if event.kind == DetailType::CallInitiated { "queued" } else { call.status.as_str() };
            p.push("ApiVersion", "2010-04-01");
            p.push("CallStatus", status);
            p.push("Called", call.to.as_str());
            p.push("Caller", call.from.as_str());
            p.push("CallbackSource", "call-progress-events");
            p.push("Direction", call.direction.as_str());
            p.push("From", call.from.as_str());
            p.push("SequenceNumber", if event.kind == DetailType::CallInitiated { "0" } else { "1" });
            p.push("Timestamp", clock::rfc2822(event.at_ms));
            p.push("To", call.to.as_str());
            if event.kind == DetailType::CallCompleted {
                p.push("CallDuration", call.duration_seconds.to_string());
                p.push("Duration", call.duration_seconds.div_ceil(60).to_string());
                let sip = match call.status {
                    model::CallStatus::Completed => "200",
                    model::CallStatus::Busy => "486",
                    model::CallStatus::NoAnswer => "480",
                    model::CallStatus::Failed => "500",
                    model::CallStatus::Canceled => "487",
                };
                p.push("SipResponseCode", sip);
            }
            "call-status"
        }
        DetailType::RecordingCompleted => {
            let r = call.recording.as_ref().expect("recorded");
            p.push("RecordingChannels", "2");
            p.push("RecordingDuration", r.duration_seconds.to_string());
            p.push("RecordingSid", r.sid.as_str());
            p.push("RecordingSource", "DialVerb");
            p.push("RecordingStartTime", clock::rfc2822(call.initiated_at_ms + (call.ring_seconds * 1000.0) as i64));
            p.push("RecordingStatus", "completed");
            p.push("RecordingUrl", r.url.as_str());
            "recording-status"
        }
        DetailType::TranscriptionCompleted => {
            let t = call.transcription.as_ref().expect("transcribed");
            let r = call.recording.as_ref().expect("transcribed calls are recorded");
            p.push("RecordingSid", r.sid.as_str());
            p.push("RecordingUrl", r.url.as_str());
            p.push("TranscriptionSid", t.sid.as_str());
            p.push("TranscriptionStatus", "completed");
            p.push("TranscriptionText", t.text.as_str());
            p.push(
                "TranscriptionUrl",
                format!("https://api.twilio.com/2010-04-01/Accounts/{}/Transcriptions/{}", call.account_sid, t.sid),
            );
            "transcription"
        }
    };
    let event_sid =
        model::Sid::from_bytes(model::SidPrefix::VoiceWebhookEvent, derived_bytes(call, event.kind, 0x56_57));
    VoiceWebhookEvent {
        sid: Cow::Borrowed(call.call_sid.as_str()),
        request_date_created: clock::rfc2822(event.at_ms).into(),
        timestamp: clock::rfc3339_millis(event.at_ms).into(),
        event_sid: Cow::Owned(event_sid.as_str().to_string()),
        request: WebhookRequest { method: "POST".into(), url: format!("{callback_base}/{path}").into(), parameters: p },
        response: WebhookResponse {
            response_code: 200,
            request_duration: 40 + (event.at_ms.rem_euclid(160)) as u32,
            content_type: "application/xml".into(),
            response_body: "PFJlc3BvbnNlLz4=".into(),
            date_created: clock::rfc2822(event.at_ms).into(),
        },
    }
}

/// Joins encoded event values into output lines.
#[derive(Debug)]
pub struct Framer {
    format: Format,
    /// Entries in the `PutEvents` body being filled.
    pending: usize,
}

/// Most entries one `PutEvents` request may carry.
pub const MAX_PUT_EVENTS_ENTRIES: usize = 10;

impl Framer {
    /// A framer for `format`.
    pub fn new(format: Format) -> Framer {
        Framer { format, pending: 0 }
    }

    /// Appends one encoded value, framed, to `out`.
    pub fn push(&mut self, value: &[u8], out: &mut Vec<u8>) {
        match self.format {
            Format::EventBridge => {
                out.extend_from_slice(value);
                out.push(b'\n');
            }
            Format::CloudEvents => {
                out.push(b'[');
                out.extend_from_slice(value);
                out.extend_from_slice(b"]\n");
            }
            Format::PutEvents => {
                out.extend_from_slice(if self.pending == 0 { b"{\"Entries\":[" } else { b"," });
                out.extend_from_slice(value);
                self.pending += 1;
                if self.pending == MAX_PUT_EVENTS_ENTRIES {
                    out.extend_from_slice(b"]}\n");
                    self.pending = 0;
                }
            }
        }
    }

    /// Closes an unfinished `PutEvents` body.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        if self.format == Format::PutEvents && self.pending > 0 {
            out.extend_from_slice(b"]}\n");
            self.pending = 0;
        }
    }
}
