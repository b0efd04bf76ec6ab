//! Twilio deliveries as the bridge reads them: any webhook body maps to entries or a clean
//! error, and every entry it makes is one the bus accepts in shape (Detail a JSON object with
//! the Twilio event id). Form callbacks likewise.
#![no_main]

use libfuzzer_sys::fuzz_target;
use server::bridge::{Callback, map_cloudevents, map_form};

fuzz_target!(|data: &[u8]| {
    if let Ok(mapped) = map_cloudevents(data, "b") {
        for (id, entry) in &mapped.entries {
            let detail: serde_json::Value = serde_json::from_str(entry.detail.as_deref().unwrap()).unwrap();
            assert!(detail.is_object());
            assert_eq!(detail["twilio_event_id"].as_str(), Some(id.as_str()));
            assert!(entry.detail_type.as_deref().unwrap().starts_with("com.twilio.voice."));
        }
    }
    let params: Vec<(String, String)> = form_urlencoded::parse(data).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    for callback in [Callback::CallStatus, Callback::RecordingStatus, Callback::Transcription] {
        if let Ok(mapped) = map_form(callback, &params, "b") {
            assert!(mapped.entries.len() <= 1);
        }
    }
});
