//! `callsynth pattern test|check|match`.

use crate::support::{callsynth, stderr, tempdir};

#[test]
fn test_prints_the_verdict_and_uses_the_exit_code() {
    let dir = tempdir();
    let p = r#"{"detail": {"call_status": ["completed"], "call_duration": [{"numeric": [">", 60]}]}}"#;
    let hit = callsynth(
        dir.path(),
        &[
            "pattern",
            "test",
            "--pattern",
            p,
            "--event",
            r#"{"detail": {"call_status": "completed", "call_duration": 61}}"#,
        ],
    );
    assert_eq!((hit.status.code(), String::from_utf8_lossy(&hit.stdout).trim()), (Some(0), "match"));
    let miss = callsynth(
        dir.path(),
        &[
            "pattern",
            "test",
            "--pattern",
            p,
            "--event",
            r#"{"detail": {"call_status": "completed", "call_duration": 30}}"#,
            "--explain",
        ],
    );
    assert_eq!(miss.status.code(), Some(1));
    let text = String::from_utf8_lossy(&miss.stdout);
    assert!(text.starts_with("no match\ndetail.call_duration: 30 is outside the numeric range"), "{text}");
    let bad = callsynth(dir.path(), &["pattern", "test", "--pattern", r#"{"a": 1}"#, "--event", "{}"]);
    assert_eq!(bad.status.code(), Some(2));
    assert_eq!(stderr(&bad).trim(), "Event pattern is not valid. Reason: \"a\" must be an object or an array");
    let bad_event = callsynth(dir.path(), &["pattern", "test", "--pattern", r#"{"a": [1]}"#, "--event", "[1]"]);
    assert_eq!(bad_event.status.code(), Some(2));
    assert!(stderr(&bad_event).contains("event must be a JSON object"));
}

#[test]
fn check_and_match_over_generated_events() {
    let dir = tempdir();
    std::fs::write(dir.path().join("ok.json"), r#"{"source": [{"prefix": "aws."}]}"#).unwrap();
    std::fs::write(dir.path().join("bad.json"), r#"{"source": [{"prefix": 1}]}"#).unwrap();
    let check = callsynth(dir.path(), &["pattern", "check", "ok.json", "bad.json"]);
    assert_eq!(check.status.code(), Some(1));
    assert!(
        stderr(&check).contains("bad.json: Event pattern is not valid. Reason: prefix match pattern must be a string")
    );

    assert!(callsynth(dir.path(), &["generate", "--calls", "500", "--out", "e.ndjson", "-q"]).status.success());
    std::fs::write(
        dir.path().join("rules.json"),
        r#"{"completed": {"source": ["aws.partner/twilio.com"], "detail-type": ["com.twilio.voice.call.completed"]},
            "transcribed": {"detail-type": ["com.twilio.voice.transcription.completed"]},
            "busy": {"detail": {"call_status": ["busy"]}}}"#,
    )
    .unwrap();
    let out = callsynth(dir.path(), &["pattern", "match", "--patterns", "rules.json", "--events", "e.ndjson"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let counts: std::collections::HashMap<String, u64> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let (n, c) = l.split_once('\t').unwrap();
            (n.to_string(), c.parse().unwrap())
        })
        .collect();
    let events = std::fs::read_to_string(dir.path().join("e.ndjson")).unwrap();
    let count = |needle: &str| events.lines().filter(|l| l.contains(needle)).count() as u64;
    assert_eq!(counts["completed"], 500);
    assert_eq!(counts["transcribed"], count("\"com.twilio.voice.transcription.completed\""));
    assert_eq!(counts["busy"], count("\"call_status\":\"busy\""));
    assert!(stderr(&out).contains("events/s"));
}
