//! Embedded-bus throughput: PutEvents (validate, envelope, match, log, enqueue, durable commit)
//! and delivery (read, hand over, acknowledge), on events shaped like the setup guide's.
//!
//! ```text
//! cargo bench -p bus --bench bus -- [--events N] [--db PATH] [--transcript-bytes B]
//! ```
//!
//! The store is a file (default: a temporary one) in WAL mode with synchronous=NORMAL, as
//! `callsynth run` uses it: every batch is committed before the next is put.

use std::path::PathBuf;
use std::time::Instant;

use bus::{
    Delivery, DeliveryError, EventBus, Handler, Limits, Location, PutEventsEntry, RetryPolicy, Rule, RuleState, Target,
    TargetInput,
};
use rusqlite::Connection;

/// The allocator `callsynth` ships with (crates/cli/src/main.rs), so the figures are the
/// binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const BUS: &str = "twilio-call-events";

struct Options {
    events: usize,
    db: Option<PathBuf>,
    transcript_bytes: usize,
}

fn options() -> Options {
    let mut o = Options { events: 400_000, db: None, transcript_bytes: 1_500 };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| panic!("{a} needs a value"));
        match a.as_str() {
            "--events" => o.events = value().parse().expect("--events N"),
            "--db" => o.db = Some(value().into()),
            "--transcript-bytes" => o.transcript_bytes = value().parse().expect("--transcript-bytes B"),
            "--bench" => {}
            other => panic!("unknown argument {other}; see the file's doc comment"),
        }
    }
    o
}

/// The guide's four event kinds in turn, one call per four events.
fn entries(n: usize, transcript_bytes: usize) -> Vec<PutEventsEntry> {
    let words = "the order arrived late and the box was damaged so I would like a refund please ";
    let transcript: String = words.chars().cycle().take(transcript_bytes).collect();
    (0..n)
        .map(|i| {
            let call = format!("CA{:032x}", i / 4);
            let (detail_type, detail) = match i % 4 {
                0 => ("com.twilio.voice.call.initiated", format!(r#"{{"call_sid":"{call}","from":"+15555550100","to":"+15555550199","direction":"inbound"}}"#)),
                1 => ("com.twilio.voice.call.completed", format!(r#"{{"call_sid":"{call}","account_sid":"AC{:032x}","from":"+15555550100","to":"+15555550199","call_status":"completed","call_duration":"{}","direction":"inbound"}}"#, 7, 60 + i % 600)),
                2 => ("com.twilio.voice.recording.completed", format!(r#"{{"recording_sid":"RE{:032x}","call_sid":"{call}","recording_url":"https://api.twilio.com/rec","recording_status":"completed","recording_duration":"61"}}"#, i)),
                _ => ("com.twilio.voice.transcription.completed", format!(r#"{{"transcription_sid":"TR{:032x}","recording_sid":"RE{:032x}","call_sid":"{call}","transcription_text":"{transcript}","transcription_status":"completed"}}"#, i, i)),
            };
            PutEventsEntry {
                time: Some(1_767_600_000.0 + i as f64),
                source: Some("aws.partner/twilio.com".into()),
                detail_type: Some(detail_type.into()),
                detail: Some(detail),
                event_bus_name: Some(BUS.into()),
                resources: Some(Vec::new()),
                trace_header: None,
            }
        })
        .collect()
}

struct Acknowledge;

impl Handler for Acknowledge {
    fn deliver(&mut self, _: &Delivery<'_>, _: &Connection) -> Result<(), DeliveryError> {
        Ok(())
    }
}

fn main() {
    let o = options();
    let dir = tempfile::tempdir().expect("temp dir");
    let path = o.db.clone().unwrap_or_else(|| dir.path().join("bench.db"));
    let mut bus = EventBus::open(&path, Location::default(), Limits::default()).expect("store");
    bus.create_bus(BUS, None).expect("bus");
    for (rule, detail_type) in [
        ("twilio-call-completed", "com.twilio.voice.call.completed"),
        ("twilio-transcription-completed", "com.twilio.voice.transcription.completed"),
    ] {
        bus.put_rule(&Rule {
            bus: BUS.into(),
            name: rule.into(),
            pattern: format!(r#"{{"source": ["aws.partner/twilio.com"], "detail-type": ["{detail_type}"]}}"#),
            state: RuleState::Enabled,
            description: None,
        })
        .expect("rule");
        bus.put_targets(
            BUS,
            rule,
            &[Target {
                id: "1".into(),
                arn: "builtin:ack".into(),
                input: TargetInput::Event,
                retry: RetryPolicy::default(),
                ..Default::default()
            }],
        )
        .expect("target");
    }
    let all = entries(o.events, o.transcript_bytes);
    let bytes: usize = all.iter().map(PutEventsEntry::size).sum();
    let requests: Vec<Vec<PutEventsEntry>> = all.chunks(10).map(<[PutEventsEntry]>::to_vec).collect();
    let started = Instant::now();
    for batch in requests.chunks(400) {
        bus.put_event_batches(batch, None).expect("put");
    }
    let put = started.elapsed().as_secs_f64();
    let pending = bus.pending().expect("pending");
    let started = Instant::now();
    let mut delivered = 0;
    loop {
        let r = bus.deliver_due(&mut Acknowledge, bus::now(), 4096).expect("deliver");
        if r.delivered == 0 {
            break;
        }
        delivered += r.delivered;
    }
    let deliver = started.elapsed().as_secs_f64();
    println!(
        "put + match + enqueue (committed every 4,000 events): {} events ({:.0} MB of entries) in {put:.2}s = {:.0} events/s",
        o.events,
        bytes as f64 / 1e6,
        o.events as f64 / put
    );
    println!("  deliveries enqueued: {pending}");
    println!(
        "deliver (read, hand over, acknowledge): {delivered} in {deliver:.2}s = {:.0} deliveries/s",
        delivered as f64 / deliver
    );
}
