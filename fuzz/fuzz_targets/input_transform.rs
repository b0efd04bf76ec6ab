//! JSON paths, input templates and events are all user text: parsing and filling never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(3, '\u{1f}');
    let (path, template, event) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next().unwrap_or("{}"));
    let parsed = bus::transform::JsonPath::parse(path);
    let event: serde_json::Value = serde_json::from_str(event).unwrap_or(serde_json::Value::Null);
    if let Ok(p) = &parsed {
        let _ = p.select(&event);
    }
    if let Ok(t) = bus::transform::Transformer::new(&[("v".into(), path.into())], template) {
        let ctx = bus::transform::Context { rule_arn: "arn", rule_name: "r", ingestion_time: "2026-01-01T00:00:00Z" };
        let _ = t.apply(&event, ctx);
    }
});
