//! Bad input: a clear error naming what is wrong, a non-zero exit, and no output file left.

use crate::support::{callsynth, files_in, stderr, tempdir};

/// Runs a failing `generate --out out.ndjson …` and checks the message and that nothing was
/// left behind.
#[track_caller]
fn rejects(extra: &[&str], expected: &str) {
    let dir = tempdir();
    std::fs::write(dir.path().join("bad.json"), "{\"CustomerPrompts\": [").unwrap();
    std::fs::write(dir.path().join("empty.json"), "{\"CustomerPrompts\": []}").unwrap();
    std::fs::write(dir.path().join("agents-low-only.json"), LOW_AGENT).unwrap();
    let before = files_in(dir.path());
    let mut args = vec!["generate", "--out", "out.ndjson", "--calls-out", "calls.ndjson"];
    args.extend_from_slice(extra);
    let out = callsynth(dir.path(), &args);
    assert!(!out.status.success(), "{extra:?} should fail");
    let err = stderr(&out);
    assert!(err.contains(expected), "{extra:?}: expected {expected:?} in:\n{err}");
    assert_eq!(files_in(dir.path()), before, "{extra:?} left files behind");
}

const LOW_AGENT: &str = r#"{"AgentPrompts": [{"AgentName": "Kai", "ScriptedIntroduction": "Hi", "ResponseToIssue": "Slow.",
  "CompetenceLevel": "Low", "Attitude": "Bored.", "ProductKnowledge": "Little.", "Farewell": "Bye."}]}"#;

#[test]
fn bad_flags_and_files_fail_cleanly() {
    rejects(&["--format", "xml"], "unknown value \"xml\" (use eventbridge, cloudevents, putevents)");
    rejects(&["--schema", "v2"], "unknown value \"v2\" (use seed, twilio)");
    rejects(&["--strategy", "calm"], "unknown strategy \"calm\"");
    rejects(&["--calls", "0"], "--calls must be at least 1");
    rejects(&["--calls=-5"], "invalid value '-5' for '--calls <N>'");
    rejects(&["--status-rates", "completed=0.5,busy=0.1"], "status rates must sum to 1, these sum to 0.6");
    rejects(&["--customers-file", "missing.json"], "missing.json: cannot read file");
    rejects(&["--customers-file", "bad.json"], "bad.json: invalid JSON");
    rejects(&["--customers-file", "empty.json"], "empty.json: \"CustomerPrompts\" is empty");
    rejects(
        &["--agents-file", "empty.json"],
        "empty.json: expected top-level key \"AgentPrompts\" (found \"CustomerPrompts\"",
    );
    rejects(
        &["--strategy", "frustrated", "--agents-file", "agents-low-only.json"],
        "strategy frustrated has no eligible pair: it needs an agent with CompetenceLevel High",
    );
    rejects(&["--customers", "0"], "--customers must be at least 1");
    rejects(&["--start", "yesterday"], "--start \"yesterday\" is not an RFC 3339 timestamp");
    rejects(&["--window", "5x"], "--window \"5x\"");
    rejects(&["--asr-wer", "0.9"], "--asr-wer must be between 0 and 0.5");
    rejects(&["--catalog", "bad.json"], "phrase catalogue bad.json");
    rejects(&["--account", "12"], "an AWS account id is 12 digits");
}

#[test]
fn unwritable_out_is_an_error_and_touches_nothing() {
    let dir = tempdir();
    let out = callsynth(dir.path(), &["generate", "--calls", "5", "--out", "no/such/dir/e.ndjson"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--out no/such/dir/e.ndjson: cannot create a file in no/such/dir"),
        "{}",
        stderr(&out)
    );
    std::fs::create_dir(dir.path().join("adir")).unwrap();
    let out = callsynth(dir.path(), &["generate", "--calls", "5", "--out", "adir"]);
    assert!(stderr(&out).contains("--out adir: is a directory"), "{}", stderr(&out));
}

#[test]
fn an_existing_output_survives_a_failed_run() {
    let dir = tempdir();
    std::fs::write(dir.path().join("out.ndjson"), "precious\n").unwrap();
    let out = callsynth(dir.path(), &["generate", "--out", "out.ndjson", "--customers-file", "nope.json"]);
    assert!(!out.status.success());
    assert_eq!(std::fs::read_to_string(dir.path().join("out.ndjson")).unwrap(), "precious\n");
    let ok = callsynth(dir.path(), &["generate", "--calls", "3", "--out", "out.ndjson", "-q"]);
    assert!(ok.status.success());
    assert!(std::fs::read_to_string(dir.path().join("out.ndjson")).unwrap().lines().count() >= 6);
    assert_eq!(files_in(dir.path()).len(), 1, "no temporary file left");
}

#[test]
fn a_closed_pipe_is_not_an_error() {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_callsynth"))
        .args(["generate", "--calls", "20000", "-q"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 100];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap(); // then drop: the pipe closes
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
}
