//! `callsynth eval`: callsynth's analyser and the origin baseline scored against a generated
//! dataset's ground truth.

use crate::support::{assert_ok, callsynth, stderr, tempdir};

#[test]
fn eval_scores_the_baseline_on_every_talked_call() {
    let dir = tempdir();
    assert_ok(&callsynth(
        dir.path(),
        &["generate", "--calls", "400", "--out", "/dev/null", "--calls-out", "calls.ndjson", "-q"],
    ));
    let talked = std::fs::read_to_string(dir.path().join("calls.ndjson"))
        .unwrap()
        .lines()
        .filter(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["truth"].is_object())
        .count() as u64;
    let out = callsynth(dir.path(), &["eval", "--calls", "calls.ndjson", "--json"]);
    assert_ok(&out);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["calls"].as_u64(), Some(talked));
    let b = &v["analyzers"]["origin_keywords"];
    for key in ["escalation_f1", "resolution_f1", "sentiment_accuracy"] {
        let x = b[key].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&x), "{key} = {x}");
    }
    let cells = |key: &str| -> u64 {
        b[key].as_array().unwrap().iter().flat_map(|r| r.as_array().unwrap()).map(|n| n.as_u64().unwrap()).sum()
    };
    assert_eq!((cells("sentiment_confusion"), cells("resolution_confusion")), (talked, talked));
    // The origin counts the agent's courtesy as the customer's mood: it calls far more calls
    // positive than the ground truth does, which is why it is only the baseline.
    assert!(b["sentiment_accuracy"].as_f64().unwrap() < 0.9);

    // callsynth's analyser: its figures at the top level, and clearly better than the baseline
    // (a broken analyser — wrong speaker, no negation, keyword counting — falls far short).
    let ours = &v["analyzers"]["callsynth"];
    for key in ["escalation_f1", "resolution_f1", "sentiment_accuracy"] {
        assert_eq!(v[key], ours[key], "{key}");
        assert!(ours[key].as_f64().unwrap() > b[key].as_f64().unwrap() + 0.15, "{key}: {v}");
    }
    assert!(ours["escalation_f1"].as_f64().unwrap() > 0.9, "{v}");
    assert!(ours["resolution_f1"].as_f64().unwrap() > 0.9, "{v}");
    assert!(ours["sentiment_accuracy"].as_f64().unwrap() > 0.8, "{v}");

    let table = callsynth(dir.path(), &["eval", "--calls", "calls.ndjson"]);
    assert!(String::from_utf8_lossy(&table.stdout).contains("escalation F1"));
    std::fs::write(dir.path().join("bad.ndjson"), "{\"not\": \"a call\"}\n[1]\n").unwrap();
    let bad = callsynth(dir.path(), &["eval", "--calls", "bad.ndjson"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("bad.ndjson:2: not a call record"), "{}", stderr(&bad));
}

/// The targets — escalation F1 ≥ 0.95, resolution F1 ≥ 0.90, sentiment accuracy ≥ 0.90
/// — on clean transcripts and with simulated recognition errors. Seed 23 is not one the
/// analyser's calibration (`examples/calibrate_mood.rs`) was fitted on; generation is
/// deterministic, so the figures are too.
#[test]
fn eval_meets_the_targets_on_clean_and_recognised_speech() {
    let dir = tempdir();
    for asr in [None, Some("0.1")] {
        let mut args = vec!["generate", "--calls", "2000", "--seed", "23", "--out", "/dev/null"];
        args.extend(["--calls-out", "calls.ndjson", "-q"]);
        if let Some(wer) = asr {
            args.extend(["--asr-wer", wer]);
        }
        assert_ok(&callsynth(dir.path(), &args));
        let out = callsynth(dir.path(), &["eval", "--calls", "calls.ndjson", "--json"]);
        assert_ok(&out);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let figure = |key: &str| v[key].as_f64().unwrap();
        assert!(figure("escalation_f1") >= 0.95, "asr {asr:?}: {v}");
        assert!(figure("resolution_f1") >= 0.90, "asr {asr:?}: {v}");
        assert!(figure("sentiment_accuracy") >= 0.90, "asr {asr:?}: {v}");
    }
}
