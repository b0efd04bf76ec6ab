//! callsynth's HTTP faces (the EventBridge JSON API, the Twilio Event Streams bridge) will live
//! here. So far: [`twilio_signature`], the `X-Twilio-Signature` check the bridge must pass
//! every request through.
#![deny(missing_docs)]

pub mod twilio_signature;
