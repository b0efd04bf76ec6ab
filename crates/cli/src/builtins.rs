//! Delivery to the built-in processors: the bridge from the bus's [`bus::Handler`] to the
//! `processors` crate's functions.

use bus::{Delivery, DeliveryError, Handler, builtin_name};
use processors::ProcessError;
use rusqlite::Connection;

/// The built-in processor names, as target ARNs may name them.
pub const PROCESS_CALL_COMPLETED: &str = "process-call-completed";
/// See [`PROCESS_CALL_COMPLETED`].
pub const UPDATE_SEGMENT_PROFILE: &str = "update-segment-profile";

/// Delivers to built-in processors. (Queues, other buses and files the bus delivers to itself;
/// any other target is a permanent failure for now.)
///
/// Transcripts of a batch are analysed ahead on every core ([`Handler::prepare`]); each
/// delivery then only rescores its analysis with the customer's history and writes.
#[derive(Debug, Default)]
pub struct Builtins {
    /// Transcripts read and analysed ahead for this batch, by event id.
    ahead: std::collections::HashMap<String, processors::Prepared>,
}

fn failed(e: ProcessError) -> DeliveryError {
    match e {
        // The envelope will not change: retrying cannot help.
        ProcessError::Malformed(message) => DeliveryError { code: "MalformedEvent".into(), message, retryable: false },
        ProcessError::NotReady(message) => DeliveryError { code: "NotReady".into(), message, retryable: true },
        ProcessError::Rejected(err) => {
            DeliveryError { code: "SegmentMessageRejected".into(), message: err.to_string(), retryable: false }
        }
        ProcessError::Store(err) => {
            DeliveryError { code: "StoreError".into(), message: err.to_string(), retryable: true }
        }
    }
}

impl Handler for Builtins {
    fn prepare(&mut self, batch: &[(&str, &str)]) {
        use rayon::prelude::*;
        self.ahead = batch
            .par_iter()
            .filter(|(arn, _)| builtin_name(arn) == Some(UPDATE_SEGMENT_PROFILE))
            .filter_map(|(_, envelope)| processors::prepare_envelope(envelope))
            .map(|prepared| (prepared.row.event_id.clone(), prepared))
            .collect();
    }

    fn deliver(&mut self, d: &Delivery<'_>, store: &Connection) -> Result<(), DeliveryError> {
        match builtin_name(&d.target.arn) {
            Some(PROCESS_CALL_COMPLETED) => {
                processors::process_call_completed(d.input, store).map(drop).map_err(failed)
            }
            Some(UPDATE_SEGMENT_PROFILE) => {
                let ahead = self.ahead.remove(d.event_id);
                processors::update_segment_profile_with(d.input, store, ahead).map(drop).map_err(failed)
            }
            Some(other) => Err(DeliveryError {
                code: "NoSuchProcessor".into(),
                message: format!(
                    "{other:?} is not a built-in processor (there are {PROCESS_CALL_COMPLETED} and {UPDATE_SEGMENT_PROFILE})"
                ),
                retryable: false,
            }),
            None => Err(DeliveryError {
                code: "UnsupportedTarget".into(),
                message: format!("{}: only built-in processors are delivered to so far", d.target.arn),
                retryable: false,
            }),
        }
    }
}
