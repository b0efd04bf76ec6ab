//! callsynth's HTTP faces: [`eventbridge`], the EventBridge JSON 1.1 API over the embedded bus
//! (what `callsynth serve` answers on `POST /`), and [`twilio_signature`], the
//! `X-Twilio-Signature` check the Twilio bridge must pass every request through.
#![deny(missing_docs)]

pub mod eventbridge;
pub mod http;
pub mod twilio_signature;
