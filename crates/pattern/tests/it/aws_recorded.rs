//! Every case recorded against real AWS EventBridge must come out as AWS said: match, no match,
//! or invalid with AWS's exact message.

use pattern::{Pattern, explain, test};

#[test]
fn all_aws_recorded_cases_agree() {
    let data = include_str!("../data/aws-recorded.jsonl");
    let mut failures = Vec::new();
    let mut count = 0;
    for line in data.lines() {
        let case: serde_json::Value = serde_json::from_str(line).unwrap();
        let name = case["name"].as_str().unwrap();
        let pattern = case["pattern"].as_str().unwrap();
        let event = case["event"].as_str().unwrap();
        count += 1;
        let got = match test(pattern, event.as_bytes()) {
            Ok(true) => "match".to_string(),
            Ok(false) => "no match".to_string(),
            Err(e) => format!("invalid: {e}"),
        };
        let expected = match case["expected"].as_str().unwrap() {
            "invalid" => format!("invalid: {}", case["message"].as_str().unwrap()),
            other => other.to_string(),
        };
        if got != expected {
            failures.push(format!("{name}:\n    pattern {pattern}\n    expected {expected}\n    got      {got}"));
        }
        // explain agrees with the verdict.
        if let Ok(p) = Pattern::parse(pattern) {
            let why = explain(&p, event.as_bytes()).unwrap();
            assert_eq!(why.is_none(), expected == "match", "{name}: explain says {why:?}");
        }
    }
    assert!(count >= 150, "only {count} cases");
    assert!(failures.is_empty(), "{} of {count} cases disagree with AWS:\n{}", failures.len(), failures.join("\n"));
}
