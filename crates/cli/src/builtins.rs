//! Delivery to the built-in processors: the bridge from the bus's [`bus::Handler`] to the
//! `processors` crate's functions.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};

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
/// Transcripts of a batch are analysed ahead on the analysis threads ([`Handler::prepare`]), in the
/// background: the first deliveries are written while the later transcripts are still being
/// read, and each delivery waits only for its own analysis, then rescores it with the
/// customer's history and writes.
#[derive(Debug, Default)]
pub struct Builtins {
    /// Analyses received ahead of their delivery, by event id.
    ahead: HashMap<String, processors::Prepared>,
    /// The batch's analyses still arriving; closed when all are done.
    arriving: Option<mpsc::Receiver<processors::Prepared>>,
    /// Tells the previous batch's analysis to stop when a new batch begins.
    cancel: Arc<AtomicBool>,
}

impl Builtins {
    /// The analysis prepared for `event_id`, waiting for it if it is still being made; `None`
    /// when none was (not a transcription, or one that does not parse: the processor then
    /// reads it itself and reports why).
    fn take_ahead(&mut self, event_id: &str) -> Option<processors::Prepared> {
        if let Some(prepared) = self.ahead.remove(event_id) {
            return Some(prepared);
        }
        let arriving = self.arriving.as_ref()?;
        for prepared in arriving.iter() {
            if prepared.row.event_id == event_id {
                return Some(prepared);
            }
            self.ahead.insert(prepared.row.event_id.clone(), prepared);
        }
        self.arriving = None;
        None
    }
}

/// The threads that analyse transcripts ahead: one fewer than the cores (at least one), so the
/// thread that writes the store — the one every delivery waits for — keeps a core to itself.
/// With as many analysis threads as cores, the writer lost about a third of its time to them
/// on two cores.
fn analysis_pool() -> &'static rayon::ThreadPool {
    static POOL: std::sync::OnceLock<rayon::ThreadPool> = std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        rayon::ThreadPoolBuilder::new()
            .num_threads(cores.saturating_sub(1).max(1))
            .thread_name(|i| format!("analysis-{i}"))
            .build()
            .expect("analysis threads start")
    })
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
        self.cancel.store(true, Ordering::Relaxed);
        self.ahead.clear();
        let envelopes: Vec<String> = batch
            .iter()
            .filter(|(arn, _)| builtin_name(arn) == Some(UPDATE_SEGMENT_PROFILE))
            .map(|(_, envelope)| envelope.to_string())
            .collect();
        if envelopes.is_empty() {
            self.arriving = None;
            return;
        }
        let (sender, arriving) = mpsc::channel();
        let cancel = Arc::new(AtomicBool::new(false));
        self.cancel = Arc::clone(&cancel);
        self.arriving = Some(arriving);
        analysis_pool().spawn(move || {
            envelopes.par_iter().for_each_with(sender, |sender, envelope| {
                if cancel.load(Ordering::Relaxed) {
                    return;
                }
                if let Some(prepared) = processors::prepare_envelope(envelope) {
                    // The receiver is gone only when a newer batch replaced this one.
                    let _ = sender.send(prepared);
                }
            });
        });
    }

    /// The processors write their tables and the outbox; the outbox is sent afterwards.
    fn writes_only_to_store(&self) -> bool {
        true
    }

    fn deliver(&mut self, d: &Delivery<'_>, store: &Connection) -> Result<(), DeliveryError> {
        match builtin_name(&d.target.arn) {
            Some(PROCESS_CALL_COMPLETED) => {
                processors::process_call_completed(d.input, store).map(drop).map_err(failed)
            }
            Some(UPDATE_SEGMENT_PROFILE) => {
                let ahead = self.take_ahead(d.event_id);
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

#[cfg(test)]
mod tests {
    use super::*;
    use bus::Target;

    fn transcription(id: &str, call: &str, text: &str) -> String {
        serde_json::json!({"version": "0", "id": id, "detail-type": "com.twilio.voice.transcription.completed",
            "source": "aws.partner/twilio.com", "account": "123456789012", "time": "2025-10-07T12:05:00Z",
            "region": "us-east-1", "resources": [], "detail": {"transcription_sid": format!("TR{:0>32}", id),
            "recording_sid": format!("RE{:0>32}", id), "call_sid": call, "transcription_text": text,
            "transcription_status": "completed"}})
        .to_string()
    }

    /// Analyses made in the background reach the right deliveries, whatever order they finish
    /// in; an envelope that cannot be analysed ahead is read (and refused) by the processor; a
    /// new batch replaces what the last one left.
    #[test]
    fn background_analyses_meet_their_deliveries() {
        let store = Connection::open_in_memory().unwrap();
        processors::create_tables(&store).unwrap();
        let target = Target {
            id: "1".into(),
            arn: format!("arn:aws:lambda:us-east-1:123456789012:function:{UPDATE_SEGMENT_PROFILE}"),
            ..Default::default()
        };
        let calls: Vec<String> = (0..40).map(|i| format!("CA{i:0>32}")).collect();
        for (i, call) in calls.iter().enumerate() {
            store
                .execute(
                    "INSERT INTO calls VALUES (?1, 'ACx', ?2, '+18005550199', 'completed', 60, 'inbound', 't0', 't1', 'e0')",
                    rusqlite::params![call, format!("+1512555{i:04}")],
                )
                .unwrap();
        }
        let envelopes: Vec<(String, String)> = calls
            .iter()
            .enumerate()
            .map(|(i, call)| {
                let id = format!("e{i}");
                let text = if i.is_multiple_of(2) {
                    "Agent: Hello, how can I help?\nCustomer: This is useless. Get me a manager."
                } else {
                    "Agent: Hello, how can I help?\nCustomer: Thank you so much, that's wonderful!"
                };
                (id.clone(), transcription(&id, call, text))
            })
            .collect();
        let mut batch: Vec<(&str, &str)> = envelopes.iter().map(|(_, e)| (target.arn.as_str(), e.as_str())).collect();
        let malformed = r#"{"id": "bad", "detail-type": "com.twilio.voice.transcription.completed"}"#;
        batch.push((target.arn.as_str(), malformed));

        let mut builtins = Builtins::default();
        builtins.prepare(&batch[..10]);
        // The first batch is abandoned half-way: its leftovers must not leak into the next.
        builtins.prepare(&batch);
        for (id, envelope) in &envelopes {
            let d = Delivery { input: envelope, event_id: id, rule_arn: "r", target: &target, attempt: 0 };
            builtins.deliver(&d, &store).unwrap();
        }
        let d = Delivery { input: malformed, event_id: "bad", rule_arn: "r", target: &target, attempt: 0 };
        assert_eq!(builtins.deliver(&d, &store).unwrap_err().code, "MalformedEvent");

        let mut stmt = store.prepare("SELECT call_sid, sentiment FROM call_analytics ORDER BY call_sid").unwrap();
        let rows: Vec<(String, String)> =
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect();
        assert_eq!(rows.len(), calls.len(), "every transcript analysed once");
        for (call, sentiment) in rows {
            let i: usize = call[2..].parse().unwrap();
            let want = if i.is_multiple_of(2) { "negative" } else { "positive" };
            assert_eq!(sentiment, want, "{call}: its own transcript's analysis");
        }
    }
}
