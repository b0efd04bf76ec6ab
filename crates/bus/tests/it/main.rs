//! The bus against EventBridge's behaviour: PutEvents checks, routing, durable delivery with
//! retries and dead letters, and exactly-once effects for handlers that write to the store.

use bus::{
    BusError, Delivery, DeliveryError, EventBus, Limits, Location, PutEventsEntry, RetryPolicy, Rule, RuleState,
    Target, TargetInput,
};
use rusqlite::Connection;

const BUS: &str = "twilio-call-events";

fn entry(detail_type: &str, detail: &str) -> PutEventsEntry {
    PutEventsEntry {
        source: Some("aws.partner/twilio.com".into()),
        detail_type: Some(detail_type.into()),
        detail: Some(detail.into()),
        event_bus_name: Some(BUS.into()),
        ..Default::default()
    }
}

fn target(id: &str, retries: u32, dlq: Option<&str>) -> Target {
    Target {
        id: id.into(),
        arn: format!("builtin:{id}"),
        input: TargetInput::Event,
        retry: RetryPolicy { maximum_retry_attempts: retries, maximum_event_age_seconds: 3600 },
        dead_letter_arn: dlq.map(str::to_string),
        http: None,
    }
}

/// A bus with the guide's two rules, each with one target.
fn guide_bus(path: &std::path::Path) -> EventBus {
    let mut bus = EventBus::open(path, Location::default(), Limits::default()).unwrap();
    if !bus.has_bus(BUS) {
        bus.create_bus(BUS, None).unwrap();
    }
    for (rule, detail_type, id) in [
        ("twilio-call-completed", "call.completed", "process-call-completed"),
        ("twilio-transcription-completed", "transcription.completed", "update-segment-profile"),
    ] {
        bus.put_rule(&Rule {
            bus: BUS.into(),
            name: rule.into(),
            pattern: format!(r#"{{"source": ["aws.partner/twilio.com"], "detail-type": ["{detail_type}"]}}"#),
            state: RuleState::Enabled,
            description: None,
        })
        .unwrap();
        bus.put_targets(BUS, rule, &[target(id, 2, Some("arn:aws:sqs:us-east-1:123456789012:dlq"))]).unwrap();
    }
    bus
}

/// Records deliveries in its own table through the store it is handed; fails on demand.
struct Recorder {
    fail: Option<DeliveryError>,
}

impl bus::Handler for Recorder {
    fn deliver(&mut self, d: &Delivery<'_>, store: &Connection) -> Result<(), DeliveryError> {
        store.execute("CREATE TABLE IF NOT EXISTS seen (event_id TEXT, target TEXT, input TEXT)", []).unwrap();
        store.execute("INSERT INTO seen VALUES (?1, ?2, ?3)", [d.event_id, &d.target.id, d.input]).unwrap();
        match &self.fail {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }
}

fn count(bus: &EventBus, sql: &str) -> i64 {
    bus.connection().query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn put_events_checks_entries_as_eventbridge_does() {
    let mut bus = guide_bus(":memory:".as_ref());
    let too_many = vec![entry("call.completed", "{}"); 11];
    let err = bus.put_events(&too_many).unwrap_err();
    assert_eq!(err.code(), "ValidationException");
    assert!(err.to_string().contains("Member must have length less than or equal to 10"), "{err}");
    assert_eq!(bus.put_events(&[]).unwrap_err().code(), "ValidationException");

    let mut missing = entry("call.completed", "{}");
    missing.source = None;
    missing.detail = None;
    let mut elsewhere = entry("call.completed", "{}");
    elsewhere.event_bus_name = Some("nope".into());
    let mut huge = entry("call.completed", "{}");
    huge.detail = Some(format!(r#"{{"x": "{}"}}"#, "a".repeat(1_048_576)));
    let results = bus
        .put_events(&[
            entry("call.completed", r#"{"call_sid": "CA1"}"#),
            missing,
            entry("call.completed", "[1, 2]"),
            entry("call.completed", r#"{"a": "#),
            elsewhere,
            huge,
        ])
        .unwrap();
    assert!(results[0].event_id.is_some() && results[0].error_code.is_none());
    let codes: Vec<_> = results[1..].iter().map(|r| r.error_code.as_deref().unwrap()).collect();
    assert_eq!(codes, ["InvalidArgument", "MalformedDetail", "MalformedDetail", "InvalidArgument", "InvalidArgument"]);
    assert!(results[1].error_message.as_deref().unwrap().contains("Source, Detail"));
    assert!(results[4].error_message.as_deref().unwrap().contains("Event bus nope does not exist."));
    // Only the good entry was logged and routed.
    assert_eq!(count(&bus, "SELECT COUNT(*) FROM events"), 1);
    assert_eq!(bus.pending().unwrap(), 1);
}

#[test]
fn envelopes_carry_eventbridges_fields_and_the_detail_verbatim() {
    let mut bus = guide_bus(":memory:".as_ref());
    let mut e = entry("call.completed", r#"{"call_sid": "CA1", "n": 1.50}"#);
    e.time = Some(1_768_500_245.0);
    e.resources = Some(vec!["arn:aws:x".into()]);
    let id = bus.put_events(&[e]).unwrap()[0].event_id.clone().unwrap();
    let envelope: String = bus.connection().query_row("SELECT envelope FROM events", [], |r| r.get(0)).unwrap();
    let v: serde_json::Value = serde_json::from_str(&envelope).unwrap();
    assert_eq!(v["version"], "0");
    assert_eq!(v["id"], id.as_str());
    assert_eq!(v["detail-type"], "call.completed");
    assert_eq!(v["source"], "aws.partner/twilio.com");
    assert_eq!(v["account"], "123456789012");
    assert_eq!(v["region"], "us-east-1");
    assert_eq!(v["time"], "2026-01-15T18:04:05Z");
    assert_eq!(v["resources"], serde_json::json!(["arn:aws:x"]));
    assert_eq!(v["detail"]["call_sid"], "CA1");
    assert!(envelope.contains(r#""n": 1.50"#), "number spelling kept: {envelope}");
}

#[test]
fn rules_route_to_their_targets_and_disabled_rules_route_nothing() {
    let mut bus = guide_bus(":memory:".as_ref());
    bus.put_events(&[
        entry("call.completed", "{}"),
        entry("transcription.completed", "{}"),
        entry("call.initiated", "{}"),
    ])
    .unwrap();
    let routed = |bus: &EventBus, rule: &str| {
        bus.connection()
            .query_row("SELECT COUNT(*) FROM deliveries WHERE rule = ?1", [rule], |r| r.get::<_, i64>(0))
            .unwrap()
    };
    assert_eq!(routed(&bus, "twilio-call-completed"), 1);
    assert_eq!(routed(&bus, "twilio-transcription-completed"), 1);
    bus.put_rule(&Rule {
        bus: BUS.into(),
        name: "twilio-call-completed".into(),
        pattern: r#"{"detail-type": ["call.completed"]}"#.into(),
        state: RuleState::Disabled,
        description: None,
    })
    .unwrap();
    bus.put_events(&[entry("call.completed", "{}")]).unwrap();
    assert_eq!(routed(&bus, "twilio-call-completed"), 1);
    let metrics = bus.metrics().unwrap();
    assert!(metrics.contains(&(BUS.to_string(), "MatchedEvents".into(), 2)), "{metrics:?}");
    assert!(metrics.contains(&(format!("{BUS}/twilio-call-completed"), "TriggeredRules".into(), 1)), "{metrics:?}");
}

#[test]
fn definitions_are_checked_with_eventbridges_errors() {
    let mut bus = guide_bus(":memory:".as_ref());
    let bad = bus.put_rule(&Rule {
        bus: BUS.into(),
        name: "bad".into(),
        pattern: r#"{"a": "b"}"#.into(),
        state: RuleState::Enabled,
        description: None,
    });
    let err = bad.unwrap_err();
    assert_eq!(err.code(), "InvalidEventPatternException");
    assert_eq!(err.to_string(), r#"Event pattern is not valid. Reason: "a" must be an object or an array"#);
    let missing = bus.put_rule(&Rule {
        bus: "nope".into(),
        name: "r".into(),
        pattern: "{}".into(),
        state: RuleState::Enabled,
        description: None,
    });
    assert_eq!(missing.unwrap_err().to_string(), "Event bus nope does not exist.");
    let err = bus.put_targets(BUS, "nope", &[target("t", 0, None)]).unwrap_err();
    assert_eq!(err.to_string(), format!("Rule nope does not exist on EventBus {BUS}."));
    let six: Vec<Target> = (0..6).map(|i| target(&format!("t{i}"), 0, None)).collect();
    assert_eq!(bus.put_targets(BUS, "twilio-call-completed", &six).unwrap_err().code(), "LimitExceededException");
    let mut policy = target("t", 0, None);
    policy.retry.maximum_retry_attempts = 186;
    assert_eq!(bus.put_targets(BUS, "twilio-call-completed", &[policy]).unwrap_err().code(), "ValidationException");
    assert_eq!(bus.create_bus(BUS, None).unwrap_err().code(), "ResourceAlreadyExistsException");
    assert!(bus.create_bus("aws.partner/twilio.com/abc", None).is_ok(), "partner bus names may contain '/'");

    let mut small =
        EventBus::open(":memory:".as_ref(), Location::default(), Limits { rules_per_bus: 2, ..Limits::default() })
            .unwrap();
    small.create_bus("b", None).unwrap();
    let rule = |name: &str| Rule {
        bus: "b".into(),
        name: name.into(),
        pattern: r#"{"source": ["x"]}"#.into(),
        state: RuleState::Enabled,
        description: None,
    };
    small.put_rule(&rule("r1")).unwrap();
    small.put_rule(&rule("r2")).unwrap();
    small.put_rule(&rule("r2")).unwrap(); // replacing is not adding
    let err: BusError = small.put_rule(&rule("r3")).unwrap_err();
    assert_eq!(err.code(), "LimitExceededException");
}

#[test]
fn delivered_effects_commit_with_the_acknowledgement() {
    let mut bus = guide_bus(":memory:".as_ref());
    bus.put_events(&[entry("call.completed", r#"{"call_sid": "CA1"}"#)]).unwrap();
    let report = bus.deliver_due(&mut Recorder { fail: None }, bus::now(), 100).unwrap();
    assert_eq!((report.delivered, report.retried, report.dead_lettered), (1, 0, 0));
    assert_eq!(bus.pending().unwrap(), 0);
    assert_eq!(count(&bus, "SELECT COUNT(*) FROM seen"), 1);
    let input: String = bus.connection().query_row("SELECT input FROM seen", [], |r| r.get(0)).unwrap();
    assert!(input.contains(r#""detail":{"call_sid": "CA1"}"#), "{input}");
    assert!(bus.metrics().unwrap().contains(&(
        format!("{BUS}/twilio-call-completed/process-call-completed"),
        "Invocations".into(),
        1
    )));
    let durations = bus.durations().unwrap();
    assert_eq!(durations.len(), 1, "{durations:?}");
    let (scope, calls, p50, p99) = &durations[0];
    assert_eq!((scope.as_str(), *calls), ("twilio-call-events/twilio-call-completed/process-call-completed", 1));
    assert!(*p50 >= 2 && p50 <= p99 && p50.is_power_of_two(), "{durations:?}");
}

/// Writes only to the store, so the bus makes its batches whole; fails the events whose detail
/// names `fail`.
struct StoreOnly {
    calls: usize,
}

impl bus::Handler for StoreOnly {
    fn writes_only_to_store(&self) -> bool {
        true
    }

    fn deliver(&mut self, d: &Delivery<'_>, store: &Connection) -> Result<(), DeliveryError> {
        self.calls += 1;
        store.execute("CREATE TABLE IF NOT EXISTS seen (event_id TEXT, target TEXT, input TEXT)", []).unwrap();
        store.execute("INSERT INTO seen VALUES (?1, ?2, ?3)", [d.event_id, &d.target.id, d.input]).unwrap();
        if d.input.contains("fail") {
            return Err(DeliveryError { code: "Boom".into(), message: "fails".into(), retryable: true });
        }
        Ok(())
    }
}

/// A batch delivered without a savepoint per delivery is undone whole when one delivery fails
/// and made again with them: the others take effect once, the failed one not at all, and the
/// counters count each delivery once.
#[test]
fn a_failure_in_a_batch_made_whole_undoes_only_that_delivery() {
    let mut bus = guide_bus(":memory:".as_ref());
    let entries: Vec<PutEventsEntry> = (0..8)
        .map(|i| entry("call.completed", &format!(r#"{{"call_sid": "{}"}}"#, if i == 5 { "fail" } else { "ok" })))
        .collect();
    bus.put_events(&entries).unwrap();
    let mut handler = StoreOnly { calls: 0 };
    let report = bus.deliver_due(&mut handler, bus::now(), 100).unwrap();
    assert_eq!((report.delivered, report.retried, report.dead_lettered), (7, 1, 0));
    assert!(handler.calls > 8, "the failed batch was made again ({} calls)", handler.calls);
    assert_eq!(count(&bus, "SELECT COUNT(*) FROM seen"), 7, "only the successes' writes are kept, once each");
    assert_eq!(count(&bus, "SELECT COUNT(DISTINCT event_id) FROM seen"), 7);
    assert_eq!(count(&bus, "SELECT COUNT(*) FROM seen WHERE input LIKE '%fail%'"), 0);
    assert_eq!(bus.pending().unwrap(), 1);
    let metrics = bus.metrics().unwrap();
    let scope = format!("{BUS}/twilio-call-completed/process-call-completed");
    assert!(metrics.contains(&(scope.clone(), "Invocations".into(), 7)), "{metrics:?}");
    assert!(metrics.contains(&(scope.clone(), "Errors".into(), 1)), "{metrics:?}");
    assert!(metrics.contains(&(scope, "RetryInvocationAttempts".into(), 1)), "{metrics:?}");

    // Later batches go on delivering correctly, whole again once one has no failure.
    bus.put_events(&[entry("call.completed", r#"{"call_sid": "ok"}"#)]).unwrap();
    let report = bus.deliver_due(&mut handler, bus::now(), 100).unwrap();
    assert_eq!(report.delivered, 1);
    bus.put_events(&[entry("call.completed", r#"{"call_sid": "ok"}"#)]).unwrap();
    let before = handler.calls;
    let report = bus.deliver_due(&mut handler, bus::now(), 100).unwrap();
    assert_eq!((report.delivered, handler.calls - before), (1, 1));
    assert_eq!(count(&bus, "SELECT COUNT(*) FROM seen"), 9);
}

/// A file's line cannot be rolled back: a batch with a file target keeps a savepoint per
/// delivery even for a handler that writes only to the store, so a failure elsewhere in the
/// batch neither repeats nor loses a line.
#[test]
fn a_batch_with_a_file_target_is_never_made_twice() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("out.ndjson");
    let mut bus = guide_bus(":memory:".as_ref());
    let to_file = Target { arn: format!("file:{}", file.display()), ..target("file", 0, None) };
    bus.put_targets(BUS, "twilio-call-completed", &[to_file]).unwrap();
    let entries: Vec<PutEventsEntry> = (0..4)
        .map(|i| entry("call.completed", &format!(r#"{{"call_sid": "{}"}}"#, if i == 3 { "fail" } else { "ok" })))
        .collect();
    bus.put_events(&entries).unwrap();
    let mut handler = StoreOnly { calls: 0 };
    let report = bus.deliver_due(&mut handler, bus::now(), 100).unwrap();
    assert_eq!((report.delivered, report.retried), (7, 1));
    assert_eq!(std::fs::read_to_string(&file).unwrap().lines().count(), 4, "one line per event");
    assert_eq!(handler.calls, 4, "each handler delivery made once");
    assert_eq!(count(&bus, "SELECT COUNT(*) FROM seen"), 3);
}

#[test]
fn failures_retry_with_backoff_then_go_to_the_dead_letter_queue() {
    let mut bus = guide_bus(":memory:".as_ref());
    bus.put_events(&[entry("call.completed", "{}")]).unwrap();
    let mut failing = Recorder {
        fail: Some(DeliveryError { code: "HttpStatus500".into(), message: "boom".into(), retryable: true }),
    };
    let mut now = bus::now();
    // MaximumRetryAttempts 2: the first attempt and two retries, then the DLQ.
    for attempt in 0..3 {
        let report = bus.deliver_due(&mut failing, now, 100).unwrap();
        if attempt < 2 {
            assert_eq!(report.retried, 1, "attempt {attempt}");
            // Not due again before its backoff.
            assert_eq!(bus.deliver_due(&mut failing, now, 100).unwrap(), bus::DeliveryReport::default());
            now = bus.next_due().unwrap().unwrap();
        } else {
            assert_eq!(report.dead_lettered, 1);
        }
    }
    assert_eq!(bus.pending().unwrap(), 0);
    // The failed attempts' writes were rolled back.
    assert_eq!(count(&bus, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'seen'"), 0);
    let (rule_arn, target_arn, attempts, code, queue): (String, String, i64, String, String) = bus
        .connection()
        .query_row("SELECT rule_arn, target_arn, attempts, error_code, queue_arn FROM dead_letters", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .unwrap();
    assert_eq!(rule_arn, format!("arn:aws:events:us-east-1:123456789012:rule/{BUS}/twilio-call-completed"));
    assert_eq!(target_arn, "builtin:process-call-completed");
    assert_eq!((attempts, code.as_str()), (3, "HttpStatus500"));
    assert_eq!(queue, "arn:aws:sqs:us-east-1:123456789012:dlq");
    let metrics = bus.metrics().unwrap();
    let scope = format!("{BUS}/twilio-call-completed/process-call-completed");
    assert!(metrics.contains(&(scope.clone(), "RetryInvocationAttempts".into(), 2)), "{metrics:?}");
    assert!(metrics.contains(&(scope.clone(), "DeadLetterInvocations".into(), 1)), "{metrics:?}");
    assert!(metrics.contains(&(scope, "Errors".into(), 3)), "{metrics:?}");
}

#[test]
fn permanent_failures_skip_retries() {
    let mut bus = guide_bus(":memory:".as_ref());
    bus.put_events(&[entry("call.completed", "{}")]).unwrap();
    let mut broken = Recorder {
        fail: Some(DeliveryError { code: "NoSuchProcessor".into(), message: "unknown".into(), retryable: false }),
    };
    let report = bus.deliver_due(&mut broken, bus::now(), 100).unwrap();
    assert_eq!((report.retried, report.dead_lettered), (0, 1));
}

#[test]
fn accepted_events_survive_reopening_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bus.db");
    {
        let mut bus = guide_bus(&path);
        bus.put_events(&[entry("call.completed", "{}"), entry("transcription.completed", "{}")]).unwrap();
    }
    let mut bus = guide_bus(&path);
    assert_eq!(bus.pending().unwrap(), 2, "deliveries are durable");
    assert_eq!(bus.rules(BUS).unwrap().len(), 2, "definitions are durable");
    let report = bus.deliver_due(&mut Recorder { fail: None }, bus::now(), 100).unwrap();
    assert_eq!(report.delivered, 2);
}

#[test]
fn backoff_grows_exponentially_with_jitter_and_a_cap() {
    for attempt in 1..20 {
        let base = 2f64.powi(attempt as i32 - 1).min(300.0);
        for salt in [0u64, 1, 12345, u64::MAX] {
            let d = bus::backoff_seconds(attempt, salt);
            assert!(d >= base * 0.5 && d <= base, "attempt {attempt}: {d}");
        }
    }
    assert_ne!(bus::backoff_seconds(3, 1), bus::backoff_seconds(3, 2));
}

#[test]
fn dead_letters_can_be_listed_and_redriven() {
    let mut bus = guide_bus(":memory:".as_ref());
    bus.put_events(&[entry("call.completed", "{}"), entry("transcription.completed", "{}")]).unwrap();
    let mut broken = Recorder {
        fail: Some(DeliveryError { code: "NoSuchProcessor".into(), message: "unknown".into(), retryable: false }),
    };
    bus.deliver_due(&mut broken, bus::now(), 100).unwrap();
    let letters = bus.dead_letters(10).unwrap();
    assert_eq!(letters.len(), 2);
    assert_eq!(letters[0].error_code, "NoSuchProcessor");
    assert_eq!(letters[0].attempts, 1);
    // Redrive one by id, then the rest; a working handler then delivers both.
    assert_eq!(bus.redrive(Some(&[letters[0].id])).unwrap(), 1);
    assert_eq!((bus.pending().unwrap(), bus.dead_letters(10).unwrap().len()), (1, 1));
    assert_eq!(bus.redrive(None).unwrap(), 1);
    assert_eq!(bus.deliver_due(&mut Recorder { fail: None }, bus::now(), 100).unwrap().delivered, 2);
    assert_eq!((bus.pending().unwrap(), bus.dead_letters(10).unwrap().len()), (0, 0));
}

#[test]
fn queues_other_buses_and_files_are_delivered_to_by_the_bus_itself() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("out.ndjson");
    let mut bus = guide_bus(":memory:".as_ref());
    bus.create_bus("archive-bus", None).unwrap();
    bus.put_rule(&Rule {
        bus: "archive-bus".into(),
        name: "everything".into(),
        pattern: r#"{"source": ["aws.partner/twilio.com"]}"#.into(),
        state: RuleState::Enabled,
        description: None,
    })
    .unwrap();
    let local = |id: &str, arn: String| Target { arn, ..target(id, 0, None) };
    bus.put_targets("archive-bus", "everything", &[local("file", format!("file:{}", file.display()))]).unwrap();
    bus.put_targets(
        BUS,
        "twilio-call-completed",
        &[
            local("queue", "arn:aws:sqs:us-east-1:123456789012:calls".into()),
            local("forward", "arn:aws:events:us-east-1:123456789012:event-bus/archive-bus".into()),
            local("nowhere", "arn:aws:events:us-east-1:123456789012:event-bus/missing".into()),
        ],
    )
    .unwrap();
    let id = bus.put_events(&[entry("call.completed", r#"{"call_sid": "CA1"}"#)]).unwrap()[0].event_id.clone().unwrap();
    // The queue took the event with the put itself (exactly once, nothing to retry).
    assert_eq!(count(&bus, "SELECT COUNT(*) FROM queue_messages WHERE queue = 'calls'"), 1);
    let mut ok = Recorder { fail: None };
    // First pass: the builtin, the forward (which enqueues the file delivery on the other bus)
    // and the missing bus (a permanent failure).
    let first = bus.deliver_due(&mut ok, bus::now(), 100).unwrap();
    assert_eq!((first.delivered, first.dead_lettered), (2, 1));
    let second = bus.deliver_due(&mut ok, bus::now(), 100).unwrap();
    assert_eq!(second.delivered, 1, "the forwarded event reached the other bus's file target");
    assert_eq!(bus.pending().unwrap(), 0);

    let messages = bus.receive("calls", 10).unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].0, id);
    assert!(messages[0].1.contains(r#""call_sid": "CA1""#));
    assert!(bus.receive("calls", 10).unwrap().is_empty(), "receiving removes");

    let lines = std::fs::read_to_string(&file).unwrap();
    assert_eq!(lines.lines().count(), 1);
    let v: serde_json::Value = serde_json::from_str(lines.trim()).unwrap();
    assert_eq!(v["id"], id.as_str(), "forwarded as it was");
    assert_eq!(bus.dead_letters(10).unwrap()[0].error_code, "ResourceNotFoundException");
}

/// A one-thread HTTP server on loopback answering every request with `status` (or never, when
/// `status` is 0), recording each request's `Idempotency-Key`.
fn http_server(status: u16) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let (mut length, mut key) = (0usize, String::new());
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                let lower = line.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                if lower.starts_with("idempotency-key:") {
                    key = line["idempotency-key:".len()..].trim().to_string();
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            record.lock().unwrap().push(key);
            if status == 0 {
                std::thread::sleep(Duration::from_secs(3));
                continue;
            }
            let _ = write!(stream, "HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        }
    });
    (url, seen)
}

use std::time::Duration;

fn http_bus(url: &str, retries: u32, timeout: f64) -> EventBus {
    let mut bus = guide_bus(":memory:".as_ref());
    bus.put_targets(
        BUS,
        "twilio-call-completed",
        &[Target {
            arn: url.to_string(),
            http: Some(bus::HttpParameters { timeout_seconds: timeout, ..Default::default() }),
            ..target("process-call-completed", retries, Some("arn:aws:sqs:us-east-1:123456789012:dlq"))
        }],
    )
    .unwrap();
    bus
}

/// Delivers with simulated time: each pass runs at the next due time, so backoffs cost nothing.
fn deliver_until_empty(bus: &mut EventBus) {
    let mut now = bus::now();
    while let Some(due) = bus.next_due().unwrap() {
        now = now.max(due);
        bus.deliver_due(&mut Recorder { fail: None }, now, 100).unwrap();
    }
}

#[test]
fn failing_http_targets_are_retried_then_dead_lettered() {
    let (url, seen) = http_server(500);
    let mut bus = http_bus(&url, 2, 2.0);
    let ids: Vec<String> = bus
        .put_events(&[entry("call.completed", "{}"), entry("call.completed", "{}")])
        .unwrap()
        .into_iter()
        .map(|r| r.event_id.unwrap())
        .collect();
    deliver_until_empty(&mut bus);
    let mut keys = seen.lock().unwrap().clone();
    keys.sort();
    let mut want: Vec<String> = ids.iter().flat_map(|id| vec![id.clone(); 3]).collect();
    want.sort();
    assert_eq!(keys, want, "three attempts per event, each with the event id as idempotency key");
    let letters = bus.dead_letters(10).unwrap();
    assert_eq!(letters.len(), 2);
    assert!(letters.iter().all(|d| d.error_code == "HttpStatus500" && d.attempts == 3 && d.target_arn == url));
    let metrics = bus.metrics().unwrap();
    let scope = format!("{BUS}/twilio-call-completed/process-call-completed");
    assert!(metrics.contains(&(scope.clone(), "RetryInvocationAttempts".into(), 4)), "{metrics:?}");
    assert!(metrics.contains(&(scope, "DeadLetterInvocations".into(), 2)), "{metrics:?}");
}

#[test]
fn http_timeouts_and_client_errors_fail_and_successes_deliver() {
    let (url, _) = http_server(0);
    let mut bus = http_bus(&url, 0, 0.3);
    bus.put_events(&[entry("call.completed", "{}")]).unwrap();
    deliver_until_empty(&mut bus);
    assert_eq!(bus.dead_letters(10).unwrap()[0].error_code, "Timeout");

    let (url, seen) = http_server(404);
    let mut bus = http_bus(&url, 5, 2.0);
    bus.put_events(&[entry("call.completed", "{}")]).unwrap();
    deliver_until_empty(&mut bus);
    assert_eq!(seen.lock().unwrap().len(), 1, "a 404 is not retried");
    assert_eq!(bus.dead_letters(10).unwrap()[0].error_code, "HttpStatus404");

    let (url, seen) = http_server(204);
    let mut bus = http_bus(&url, 5, 2.0);
    bus.put_events(&[entry("call.completed", "{}")]).unwrap();
    deliver_until_empty(&mut bus);
    assert_eq!((seen.lock().unwrap().len(), bus.dead_letters(10).unwrap().len()), (1, 0));
}

#[test]
fn input_paths_and_transformers_shape_what_targets_receive() {
    let mut bus = guide_bus(":memory:".as_ref());
    let queue = |name: &str| format!("arn:aws:sqs:us-east-1:123456789012:{name}");
    bus.put_targets(BUS, "twilio-call-completed", &[
        Target { arn: queue("detail"), input: TargetInput::Path("$.detail".into()), ..target("path", 0, None) },
        Target {
            arn: queue("shaped"),
            input: TargetInput::Transformer {
                paths: vec![("sid".into(), "$.detail.call_sid".into()), ("secs".into(), "$.detail.secs".into())],
                template: r#"{"call": <sid>, "text": "<sid> lasted <secs> s", "secs": <secs>, "rule": "<aws.events.rule-name>"}"#
                    .into(),
            },
            ..target("shaped", 0, None)
        },
        Target { arn: queue("constant"), input: TargetInput::Constant(r#"{"ping": 1}"#.into()), ..target("constant", 0, None) },
    ])
    .unwrap();
    bus.put_events(&[entry("call.completed", r#"{"call_sid": "CA9", "secs": 42}"#)]).unwrap();
    bus.deliver_due(&mut Recorder { fail: None }, bus::now(), 100).unwrap();
    let body = |bus: &mut EventBus, q: &str| bus.receive(q, 1).unwrap().pop().unwrap().1;
    assert_eq!(body(&mut bus, "detail"), r#"{"call_sid":"CA9","secs":42}"#);
    assert_eq!(
        body(&mut bus, "shaped"),
        r#"{"call": "CA9", "text": "CA9 lasted 42 s", "secs": 42, "rule": "twilio-call-completed"}"#
    );
    assert_eq!(body(&mut bus, "constant"), r#"{"ping": 1}"#);

    let bad = Target {
        input: TargetInput::Transformer { paths: vec![("aws.x".into(), "$.a".into())], template: "<aws.x>".into() },
        ..target("bad", 0, None)
    };
    assert_eq!(bus.put_targets(BUS, "twilio-call-completed", &[bad]).unwrap_err().code(), "ValidationException");
    let bad = Target { input: TargetInput::Path("detail".into()), ..target("bad", 0, None) };
    assert_eq!(bus.put_targets(BUS, "twilio-call-completed", &[bad]).unwrap_err().code(), "ValidationException");
}

#[test]
fn archives_keep_events_and_replays_resend_a_time_window() {
    let mut bus = guide_bus(":memory:".as_ref());
    let arn = bus.create_archive("everything", BUS, None).unwrap();
    assert_eq!(arn, "arn:aws:events:us-east-1:123456789012:archive/everything");
    bus.create_archive("completed-only", BUS, Some(r#"{"detail-type": ["call.completed"]}"#)).unwrap();
    assert_eq!(bus.create_archive("everything", BUS, None).unwrap_err().code(), "ResourceAlreadyExistsException");
    assert_eq!(bus.create_archive("x", "nope", None).unwrap_err().code(), "ResourceNotFoundException");
    let at = |t: f64, kind: &str| PutEventsEntry { time: Some(t), ..entry(kind, "{}") };
    bus.put_events(&[
        at(1000.0, "call.completed"),
        at(2000.0, "transcription.completed"),
        at(3000.0, "call.completed"),
    ])
    .unwrap();
    let archived = |bus: &EventBus, a: &str| -> i64 {
        bus.connection().query_row("SELECT COUNT(*) FROM archive_events WHERE archive = ?1", [a], |r| r.get(0)).unwrap()
    };
    assert_eq!((archived(&bus, "everything"), archived(&bus, "completed-only")), (3, 2));
    bus.deliver_due(&mut Recorder { fail: None }, bus::now(), 100).unwrap();

    // Replay [1500, 3500) to the call-completed rule only.
    let only = vec!["twilio-call-completed".to_string()];
    assert_eq!(bus.replay("again", "everything", 1500.0, 3500.0, Some(&only)).unwrap(), 2);
    assert_eq!(bus.pending().unwrap(), 1, "the transcription event is filtered out, the call event is routed");
    let envelope: String = bus
        .connection()
        .query_row("SELECT e.envelope FROM deliveries d JOIN events e ON e.seq = d.event_seq", [], |r| r.get(0))
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&envelope).unwrap();
    assert_eq!((v["replay-name"].as_str(), v["detail-type"].as_str()), (Some("again"), Some("call.completed")));
    assert_eq!(archived(&bus, "everything"), 3, "replayed events are not archived again");
    // Without a rule filter every matching rule gets the replay.
    assert_eq!(bus.replay("all", "everything", 0.0, 10_000.0, None).unwrap(), 3);
    assert_eq!(bus.pending().unwrap(), 1 + 3);
    assert_eq!(bus.replay("x", "nope", 0.0, 1.0, None).unwrap_err().code(), "ResourceNotFoundException");
}

#[test]
fn rate_limited_http_targets_wait_and_count_throttled_rules() {
    let (url, seen) = http_server(200);
    let mut bus = guide_bus(":memory:".as_ref());
    bus.put_targets(
        BUS,
        "twilio-call-completed",
        &[Target {
            arn: url,
            // 2 per second: each call after the first waits ~0.5 s, far longer than a loopback call.
            http: Some(bus::HttpParameters { rate_limit_per_second: Some(2.0), ..Default::default() }),
            ..target("process-call-completed", 0, None)
        }],
    )
    .unwrap();
    bus.put_events(&vec![entry("call.completed", "{}"); 5]).unwrap();
    deliver_until_empty(&mut bus);
    assert_eq!(seen.lock().unwrap().len(), 5);
    // The first call goes at once; each of the other four waited for the limit.
    let metrics = bus.metrics().unwrap();
    assert!(metrics.contains(&(format!("{BUS}/twilio-call-completed"), "ThrottledRules".into(), 4)), "{metrics:?}");
}

/// Records what `prepare` is shown, and checks every delivery was shown first.
#[derive(Default)]
struct Preparer {
    shown: Vec<(String, String)>,
    prepared_calls: usize,
    delivered_unseen: usize,
}

impl bus::Handler for Preparer {
    fn prepare(&mut self, batch: &[(&str, &str)]) {
        self.prepared_calls += 1;
        self.shown = batch.iter().map(|(a, i)| (a.to_string(), i.to_string())).collect();
    }

    fn deliver(&mut self, d: &Delivery<'_>, _store: &Connection) -> Result<(), DeliveryError> {
        if !self.shown.iter().any(|(arn, input)| *arn == d.target.arn && input == d.input) {
            self.delivered_unseen += 1;
        }
        Ok(())
    }
}

#[test]
fn handlers_see_their_share_of_a_batch_before_any_delivery() {
    let mut bus = guide_bus(":memory:".as_ref());
    // Queue targets on the same rule are the bus's own business, never shown to the handler: a
    // plain one takes the event in the put's transaction, one with an InputPath is delivered.
    let mut plain = target("q", 2, None);
    plain.arn = "arn:aws:sqs:us-east-1:123456789012:plain".into();
    let mut shaped = target("r", 2, None);
    shaped.arn = "arn:aws:sqs:us-east-1:123456789012:shaped".into();
    shaped.input = TargetInput::Path("$.detail".into());
    bus.put_targets(BUS, "twilio-call-completed", &[plain, shaped]).unwrap();
    bus.put_events(&[entry("call.completed", r#"{"n":1}"#), entry("transcription.completed", r#"{"n":2}"#)]).unwrap();
    assert_eq!(count(&bus, "SELECT COUNT(*) FROM queue_messages WHERE queue = 'plain'"), 1, "enqueued with the put");
    assert_eq!(count(&bus, "SELECT COUNT(*) FROM deliveries"), 3, "two handler deliveries and the shaped queue");
    let mut handler = Preparer::default();
    let report = bus.deliver_due(&mut handler, bus::now(), 100).unwrap();
    assert_eq!(report.delivered, 3);
    assert_eq!(handler.prepared_calls, 1);
    assert_eq!(handler.shown.len(), 2, "{:?}", handler.shown);
    assert!(handler.shown.iter().all(|(arn, _)| !arn.starts_with("arn:aws:sqs")));
    assert_eq!(handler.delivered_unseen, 0);
    let shaped_body: String =
        bus.connection().query_row("SELECT body FROM queue_messages WHERE queue = 'shaped'", [], |r| r.get(0)).unwrap();
    assert_eq!(shaped_body, r#"{"n":1}"#, "the InputPath applied");
}

/// The WAL is copied back into the store file while the bus is open, by the checkpoint thread
/// rather than the writer: a few megabytes of events are far below the writer's own
/// auto-checkpoint size, yet they reach the file — and they read back the same.
#[test]
fn committed_events_are_checkpointed_in_the_background() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let mut bus = guide_bus(&path);
    let size = || std::fs::metadata(&path).unwrap().len();
    let before = size();
    let text = "word ".repeat(200);
    let detail = format!(r#"{{"transcription_text": "{text}"}}"#);
    let requests: Vec<Vec<PutEventsEntry>> =
        (0..400).map(|_| (0..10).map(|_| entry("transcription.completed", &detail)).collect()).collect();
    for batch in requests.chunks(40) {
        bus.put_event_batches(batch, None).unwrap();
    }
    // 4,000 events of about 1.2 KB: the file grows once the checkpointer has run.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while size() < before + 4_000_000 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(size() >= before + 4_000_000, "store file {} bytes, {before} before", size());
    assert_eq!(count(&bus, "SELECT COUNT(*) FROM events"), 4_000);
    drop(bus);
    let reopened = guide_bus(&path);
    assert_eq!(count(&reopened, "SELECT COUNT(*) FROM deliveries"), 4_000);
}
