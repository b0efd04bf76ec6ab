//! A PutEvents request body from the network: any bytes are refused cleanly or put; the bus
//! never panics and never accepts an entry whose Detail is not a JSON object.
#![no_main]

use std::cell::RefCell;

use bus::{EventBus, Limits, Location, PutEventsEntry, Rule, RuleState};
use libfuzzer_sys::fuzz_target;

thread_local! {
    static BUS: RefCell<EventBus> = RefCell::new({
        let mut bus = EventBus::open(":memory:".as_ref(), Location::default(), Limits::default()).unwrap();
        bus.create_bus("default", None).unwrap();
        bus.put_rule(&Rule {
            bus: "default".into(),
            name: "r".into(),
            pattern: r#"{"detail": {"a": [{"exists": true}]}}"#.into(),
            state: RuleState::Enabled,
            description: None,
        })
        .unwrap();
        bus
    });
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Request {
    entries: Vec<PutEventsEntry>,
}

fuzz_target!(|data: &[u8]| {
    let Ok(request) = serde_json::from_slice::<Request>(data) else { return };
    BUS.with(|bus| {
        if let Ok(results) = bus.borrow_mut().put_events(&request.entries) {
            for (entry, result) in request.entries.iter().zip(&results) {
                if result.event_id.is_some() {
                    let detail: serde_json::Value = serde_json::from_str(entry.detail.as_deref().unwrap()).unwrap();
                    assert!(detail.is_object());
                }
            }
        }
    });
});
