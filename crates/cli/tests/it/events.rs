//! Every generated event has exactly the setup guide's shape, with valid SIDs, ordered times and
//! durations that agree with the transcript.

use std::collections::{BTreeSet, HashMap};

use serde_json::Value;

use crate::support::{assert_ok, callsynth, ndjson, tempdir};

fn is_sid(v: &Value, prefix: &str) -> bool {
    let s = v.as_str().unwrap_or_default();
    s.len() == 34 && s.starts_with(prefix) && s[2..].bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn keys(v: &Value) -> BTreeSet<&str> {
    v.as_object().expect("object").keys().map(String::as_str).collect()
}

#[test]
fn ten_thousand_calls_have_exactly_the_seed_fields_types_and_order() {
    let dir = tempdir();
    let out = callsynth(
        dir.path(),
        &["generate", "--calls", "10000", "--seed", "11", "--out", "e.ndjson", "--calls-out", "c.ndjson", "-q"],
    );
    assert_ok(&out);
    let events = ndjson(&dir.path().join("e.ndjson"));
    let calls = ndjson(&dir.path().join("c.ndjson"));
    assert_eq!(calls.len(), 10_000);

    let envelope_keys: BTreeSet<&str> =
        ["version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"].into();
    let detail_keys: HashMap<&str, BTreeSet<&str>> = [
        (
            "com.twilio.voice.call.initiated",
            ["call_sid", "account_sid", "from", "to", "call_status", "direction"].as_slice(),
        ),
        (
            "com.twilio.voice.call.completed",
            &["call_sid", "account_sid", "from", "to", "call_status", "call_duration", "direction"],
        ),
        (
            "com.twilio.voice.recording.completed",
            &[
                "recording_sid",
                "call_sid",
                "account_sid",
                "recording_url",
                "recording_status",
                "recording_duration",
                "recording_channels",
                "recording_source",
            ],
        ),
        (
            "com.twilio.voice.transcription.completed",
            &["transcription_sid", "recording_sid", "call_sid", "transcription_text", "transcription_status"],
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.iter().copied().collect()))
    .collect();

    let mut per_call: HashMap<String, Vec<(String, String)>> = HashMap::new();
    let mut ids = BTreeSet::new();
    for e in &events {
        assert_eq!(keys(e), envelope_keys, "{e}");
        assert_eq!(e["version"], "0");
        assert_eq!(e["source"], "aws.partner/twilio.com");
        assert_eq!(e["account"], "123456789012");
        assert_eq!(e["region"], "us-east-1");
        assert_eq!(e["resources"], Value::Array(vec![]));
        let id = e["id"].as_str().unwrap();
        assert!(uuid_like(id), "{id}");
        assert!(ids.insert(id.to_string()), "duplicate event id {id}");
        let time = e["time"].as_str().unwrap();
        assert!(time.len() == 20 && time.ends_with('Z') && &time[10..11] == "T", "{time}");
        let kind = e["detail-type"].as_str().unwrap();
        let detail = &e["detail"];
        assert_eq!(keys(detail), detail_keys[kind], "{kind}");
        for (k, v) in detail.as_object().unwrap() {
            assert!(v.is_string(), "{kind}.{k} must be a string, is {v}");
        }
        assert!(is_sid(&detail["call_sid"], "CA"));
        if let Some(a) = detail.get("account_sid") {
            assert!(is_sid(a, "AC"));
        }
        if let Some(r) = detail.get("recording_sid") {
            assert!(is_sid(r, "RE"));
        }
        if let Some(t) = detail.get("transcription_sid") {
            assert!(is_sid(t, "TR"));
            let text = detail["transcription_text"].as_str().unwrap();
            assert!(
                text.lines()
                    .all(|l| l.starts_with("Agent: ") || l.starts_with("Customer: ") || l.starts_with("Supervisor: "))
            );
            assert!(!text.contains("ground") && !text.contains("csat"), "no ground truth in transcripts");
        }
        if kind.ends_with("call.completed") {
            let d = detail["call_duration"].as_str().unwrap();
            assert!(d.parse::<u32>().is_ok(), "call_duration {d:?} is a string of whole seconds");
        }
        per_call
            .entry(detail["call_sid"].as_str().unwrap().to_string())
            .or_default()
            .push((kind.to_string(), time.to_string()));
    }
    assert_eq!(per_call.len(), 10_000);

    for call in &calls {
        let sid = call["call_sid"].as_str().unwrap();
        let evs = &per_call[sid];
        let talked = call["status"] == "completed";
        let expected: Vec<&str> = if talked {
            vec!["call.initiated", "call.completed", "recording.completed", "transcription.completed"]
        } else {
            vec!["call.initiated", "call.completed"]
        };
        let got: Vec<&str> = evs.iter().map(|(k, _)| k.trim_start_matches("com.twilio.voice.")).collect();
        assert_eq!(got, expected, "{sid}");
        assert!(evs.windows(2).all(|w| w[0].1 <= w[1].1), "event times out of order for {sid}: {evs:?}");

        let duration = call["duration_seconds"].as_u64().unwrap();
        let turns = call["turns"].as_array().unwrap();
        if talked {
            let last_end = turns.iter().map(|t| t["end"].as_f64().unwrap()).fold(0.0, f64::max);
            assert_eq!(duration, last_end.ceil() as u64, "{sid}: duration vs transcript");
            assert_eq!(turns[0]["start"].as_f64().unwrap(), call["ring_seconds"].as_f64().unwrap());
            let text = call["transcription"]["text"].as_str().unwrap();
            assert_eq!(text.lines().count(), turns.len());
            assert!(call["truth"]["csat"].as_u64().is_some_and(|c| (1..=5).contains(&c)));
        } else {
            assert_eq!(duration, 0);
            assert!(turns.is_empty() && call["truth"].is_null() && call["recording"].is_null());
        }
    }
}

fn uuid_like(id: &str) -> bool {
    let parts: Vec<&str> = id.split('-').collect();
    parts.iter().map(|p| p.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
        && id.bytes().all(|b| b == b'-' || b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        && parts[2].starts_with('4')
}

#[test]
fn putevents_bodies_hold_at_most_ten_entries_with_string_details() {
    let dir = tempdir();
    assert_ok(&callsynth(
        dir.path(),
        &["generate", "--calls", "37", "--format", "putevents", "--out", "p.ndjson", "-q"],
    ));
    let bodies = ndjson(&dir.path().join("p.ndjson"));
    let mut total = 0;
    for body in &bodies {
        assert_eq!(keys(body), ["Entries"].into());
        let entries = body["Entries"].as_array().unwrap();
        assert!((1..=10).contains(&entries.len()));
        for e in entries {
            assert_eq!(keys(e), ["Time", "Source", "Resources", "DetailType", "Detail", "EventBusName"].into());
            assert!(e["Time"].is_i64());
            assert_eq!(e["EventBusName"], "twilio-call-events");
            let detail: Value = serde_json::from_str(e["Detail"].as_str().unwrap()).expect("Detail is a JSON string");
            assert!(detail.is_object());
        }
        total += entries.len();
    }
    assert!(bodies[..bodies.len() - 1].iter().all(|b| b["Entries"].as_array().unwrap().len() == 10));
    let eventbridge = callsynth(dir.path(), &["generate", "--calls", "37", "-q"]);
    assert_eq!(total, String::from_utf8(eventbridge.stdout).unwrap().lines().count());
}

#[test]
fn cloudevents_are_webhook_deliveries_in_either_schema() {
    let dir = tempdir();
    for schema in ["seed", "twilio"] {
        let out =
            callsynth(dir.path(), &["generate", "--calls", "20", "--format", "cloudevents", "--schema", schema, "-q"]);
        assert_ok(&out);
        for line in String::from_utf8(out.stdout).unwrap().lines() {
            let delivery: Value = serde_json::from_str(line).unwrap();
            let events = delivery.as_array().expect("a webhook delivery is a JSON array");
            assert_eq!(events.len(), 1);
            let e = &events[0];
            assert_eq!(e["specversion"], "1.0");
            assert_eq!(e["datacontenttype"], "application/json");
            assert!(is_sid(&e["id"], "EZ"));
            let t = e["time"].as_str().unwrap();
            assert!(t.len() == 24 && t.ends_with('Z'), "{t}");
            let kind = e["type"].as_str().unwrap();
            if schema == "twilio" {
                assert!(kind.starts_with("com.twilio.voice.status-callback."), "{kind}");
                let data = &e["data"];
                assert!(is_sid(&data["sid"], "CA") && is_sid(&data["eventSid"], "VW"));
                let params = data["request"]["parameters"].as_object().unwrap();
                assert!(params.values().all(Value::is_string), "form parameters are strings");
                assert!(is_sid(&params["CallSid"], "CA"));
                if kind.ends_with("call.completed") {
                    assert!(params.contains_key("CallDuration") && params.contains_key("CallStatus"));
                }
            } else {
                assert!(kind.starts_with("com.twilio.voice.") && !kind.contains("status-callback"));
                assert!(e["data"]["call_sid"].is_string());
            }
        }
    }
}
