//! Domain and wire types shared by every callsynth crate.
//!
//! This crate does no I/O. It says what a persona, a call and its ground truth are, how a Twilio
//! SID is spelled, and what the events look like on the wire (the EventBridge envelope from the
//! setup guide, Twilio's CloudEvents, and the `detail` payloads). Everything that *makes* those
//! values lives in `synth`; everything that *moves* them lives elsewhere.
//!
//! # Example
//!
//! ```
//! use model::{Sid, SidPrefix};
//!
//! let sid = Sid::from_bytes(SidPrefix::Call, [0xab; 16]);
//! assert_eq!(sid.as_str(), "CAabababababababababababababababab");
//! assert_eq!(Sid::parse(sid.as_str())?, sid);
//! # Ok::<(), model::SidError>(())
//! ```
#![deny(missing_docs)]

mod call;
mod event;
mod persona;
mod sid;

pub use call::{
    Call, CallStatus, Direction, Ending, GroundTruth, Journey, Outcome, Recording, SentimentLabel, Speaker,
    Transcription, Turn,
};
pub use event::{
    CallCompletedDetail, CallInitiatedDetail, CloudEvent, DetailType, EventBridgeEnvelope, FormParameters,
    RecordingCompletedDetail, TranscriptionCompletedDetail, TwilioEventType, VoiceWebhookEvent, WebhookRequest,
    WebhookResponse,
};
pub use persona::{Agent, Customer, Level};
pub use sid::{Sid, SidError, SidPrefix};

/// How an error message names a JSON value's kind ("a string", "an array", …), for "must be a
/// string, not an array".
pub fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}
