//! The EventBridge API's request handling on any target header and body: never panics, always
//! answers 200 with JSON or an AWS-shaped 4xx (5xx only for a store failure).
#![no_main]

use std::cell::RefCell;

use bus::{EventBus, Limits, Location};
use libfuzzer_sys::fuzz_target;

const OPERATIONS: [&str; 26] = [
    "CreateEventBus", "DescribeEventBus", "DeleteEventBus", "ListEventBuses", "PutRule", "DescribeRule", "ListRules",
    "DeleteRule", "EnableRule", "DisableRule", "PutTargets", "ListTargetsByRule", "RemoveTargets",
    "ListRuleNamesByTarget", "PutEvents", "TestEventPattern", "CreateArchive", "DescribeArchive", "ListArchives",
    "DeleteArchive", "StartReplay", "DescribeReplay", "ListReplays", "CancelReplay", "Nope", "",
];

thread_local! {
    static BUS: RefCell<EventBus> = RefCell::new({
        let mut bus = EventBus::open(":memory:".as_ref(), Location::default(), Limits::default()).unwrap();
        bus.create_bus("default", None).unwrap();
        bus
    });
}

fuzz_target!(|data: &[u8]| {
    let Some((&op, body)) = data.split_first() else { return };
    let target = format!("AWSEvents.{}", OPERATIONS[usize::from(op) % OPERATIONS.len()]);
    BUS.with_borrow_mut(|bus| {
        let r = server::eventbridge::handle(bus, Some(&target), body);
        let v: serde_json::Value = serde_json::from_str(&r.body).expect("every answer is JSON");
        assert!(r.status == 200 || (r.status == 400 && v["__type"].is_string()), "{} {}", r.status, r.body);
    });
});
