//! event-ruler's `$or` rule files and array-consistency fixtures (restated in
//! `tests/data/event-ruler.json`).

use serde_json::Value;

use crate::reference;

fn data() -> Value {
    serde_json::from_str(include_str!("../data/event-ruler.json")).unwrap()
}

#[test]
fn or_rules_are_valid_and_expand_into_branches() {
    let d = data();
    let branches: Vec<usize> = d["or_rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| pattern::Pattern::parse(&r.to_string()).unwrap_or_else(|e| panic!("{r}: {e}")).branches.len())
        .collect();
    // The second rule is (metricName | namespace) × (detail.source | detail.detail-type).
    assert_eq!(branches[0], 2);
    assert_eq!(branches[1], 4);
    assert!(branches.iter().all(|&b| b >= 2), "{branches:?}");
}

#[test]
fn malformed_or_rules_are_rejected_with_eventbridges_reasons() {
    let d = data();
    let reason = |r: &Value| pattern::Pattern::parse(&r.to_string()).unwrap_err().to_string();
    let wrong = d["wrong_or_rules"].as_array().unwrap();
    assert_eq!(
        reason(&wrong[0]),
        "Event pattern is not valid. Reason: There must have at least 2 Objects in $or relationship."
    );
    assert_eq!(
        reason(&wrong[1]),
        "Event pattern is not valid. Reason: Only JSON object is allowed in array of $or relationship."
    );
    // "$or" used where a field or an operator belongs: invalid under EventBridge's $or support.
    let wording: Vec<String> = d["or_wording_rules"].as_array().unwrap().iter().map(reason).collect();
    assert_eq!(
        wording,
        [
            "Event pattern is not valid. Reason: cidr is Ruler reserved fieldName which cannot be used inside $or.",
            "Event pattern is not valid. Reason: It must be an Array followed with $or.",
            "Event pattern is not valid. Reason: numeric is Ruler reserved fieldName which cannot be used inside $or.",
            "Event pattern is not valid. Reason: numeric is Ruler reserved fieldName which cannot be used inside $or.",
        ]
    );
}

#[test]
fn array_rules_match_only_within_one_element() {
    let d = data();
    let rules = d["array_rules"].as_array().unwrap();
    let events = d["array_events"].as_array().unwrap();
    let got: Vec<Vec<bool>> = rules
        .iter()
        .map(|r| events.iter().map(|e| pattern::test(&r.to_string(), e.to_string().as_bytes()).unwrap()).collect())
        .collect();
    // Rule 3 wants CPUUtilization and AWS/ES in the same element of `metrics`: event 3 has them
    // in different elements (no match), event 4 in one (match).
    assert!(!got[2][2] && got[2][3], "{got:?}");
    // Rule 4 accepts either name with either namespace: both events have a matching element.
    assert!(got[3][2] && got[3][3], "{got:?}");
    for (r, rule) in rules.iter().enumerate() {
        for (e, event) in events.iter().enumerate() {
            assert_eq!(got[r][e], reference::matches(rule, event), "rule {} event {}", r + 1, e + 1);
        }
    }
    // Rule 1 matches event 1 (the namespace sits in the only metrics element).
    assert!(got[0][0]);
}

#[test]
fn correctness_cases_follow_array_consistency() {
    let d = data();
    let mut by_name = std::collections::HashMap::new();
    for case in d["correctness_cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let got = pattern::test(&case["rule"].to_string(), case["event"].to_string().as_bytes())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(got, reference::matches(&case["rule"], &case["event"]), "{name}");
        by_name.insert(name.to_string(), got);
    }
    // Spot checks whose answer the name states.
    for (name, expected) in [
        ("flat: 2-field exists, both present", true),
        ("flat: 2-field exists, one missing", false),
        ("objarray: same element", true),
        ("objarray: split", false),
        ("objarray: 3-field, split 3 ways", false),
        ("nested: inner split", false),
        ("exists-false: absent", true),
        ("exists-false: present", false),
        ("N emails, only last element has name — dedup loses the only valid match", true),
        ("suffix match split", false),
    ] {
        assert_eq!(by_name[name], expected, "{name}");
    }
}
