//! `callsynth analyze sentiment|transcript`.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use crate::support::{assert_ok, callsynth, stderr, tempdir};

fn with_stdin(args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_callsynth"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn sentiment_prints_one_object_per_line_in_order() {
    // Reference values from vaderSentiment 3.3.2; a CRLF line ends like a LF one; an empty line
    // scores zeros, as in the package.
    let out = with_stdin(&["analyze", "sentiment"], b"Not bad at all\r\n\nVADER is VERY SMART, handsome, and FUNNY.\n");
    assert_ok(&out);
    let rows: Vec<serde_json::Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0], serde_json::json!({"compound": 0.431, "pos": 0.487, "neu": 0.513, "neg": 0.0}));
    assert_eq!(rows[1]["compound"], 0.0);
    assert_eq!(rows[2]["compound"], 0.9227);

    let bad = with_stdin(&["analyze", "sentiment"], b"fine\n\xff\xfe\n");
    assert!(!bad.status.success());
    assert!(stderr(&bad).contains("stdin line 2: not UTF-8"), "{}", stderr(&bad));
}

#[test]
fn transcript_reads_text_json_turns_and_call_records() {
    let dir = tempdir();
    let text = "Agent: Thanks for calling.\nCustomer: My order never came. Get me a manager.\nAgent: I'll transfer you to returns now.";
    std::fs::write(dir.path().join("call.txt"), text).unwrap();
    let out = callsynth(dir.path(), &["analyze", "transcript", "call.txt"]);
    assert_ok(&out);
    let a: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(a["escalation"]["kind"], "supervisor_request");
    assert_eq!(a["escalation"]["turn"], 1);
    assert_eq!(a["resolution"], "unresolved");
    assert_eq!(a["turns"].as_array().unwrap().len(), 3);
    assert!(a["talk"].is_null(), "no timings in plain text");

    let turns = r#"[{"speaker":"agent","text":"Hello, how can I help?","start":0,"end":2},
                    {"speaker":"customer","text":"I was charged twice and I'm angry.","start":2.5,"end":5}]"#;
    let out = with_stdin(&["analyze", "transcript", "-"], turns.as_bytes());
    assert_ok(&out);
    let a: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(a["talk"]["customer_talk_seconds"], 2.5);
    assert_eq!(a["sentiment"], "negative");

    assert_ok(&callsynth(
        dir.path(),
        &["generate", "--calls", "5", "--out", "/dev/null", "--calls-out", "calls.ndjson", "-q"],
    ));
    let out = callsynth(dir.path(), &["analyze", "transcript", "calls.ndjson"]);
    let first: serde_json::Value =
        serde_json::from_str(std::fs::read_to_string(dir.path().join("calls.ndjson")).unwrap().lines().next().unwrap())
            .unwrap();
    assert!(first["turns"].as_array().is_some_and(|t| !t.is_empty()), "the default seed's first call is talked");
    assert_ok(&out);
    let a: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(a["talk"]["handle_seconds"].as_f64().unwrap() > 0.0, "timed turns give talk metrics");

    for (name, content, expect) in
        [("empty.txt", "", "the transcription is empty"), ("bad.json", "[{\"speaker\": 1}]", "not a transcription")]
    {
        std::fs::write(dir.path().join(name), content).unwrap();
        let out = callsynth(dir.path(), &["analyze", "transcript", name]);
        assert!(!out.status.success());
        assert!(stderr(&out).contains(expect), "{name}: {}", stderr(&out));
    }
    let missing = callsynth(dir.path(), &["analyze", "transcript", "nope.txt"]);
    assert!(stderr(&missing).contains("nope.txt: cannot read"), "{}", stderr(&missing));
}
