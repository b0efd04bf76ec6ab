//! callsynth's HTTP faces: [`eventbridge`], the EventBridge JSON 1.1 API over the embedded bus
//! (what `callsynth serve` answers on `POST /`), and [`twilio_signature`], the
//! `X-Twilio-Signature` check every Twilio request passes, and [`bridge`], which maps a Twilio
//! Event Streams webhook delivery (CloudEvents) onto a bus in the setup guide's envelope.
#![deny(missing_docs)]

pub mod bridge;
pub mod eventbridge;
pub mod events_v1;
pub mod http;
pub mod http1;
pub mod sigv4;
pub mod twilio_signature;
