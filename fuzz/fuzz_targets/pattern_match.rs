//! Events are arbitrary bytes: matching never panics; a non-object is an error, not a crash.
//! The first byte picks a pattern so every operator sees hostile input. On an object whose
//! top-level keys are unique and dot-free, `matches_trusted_with` answers as `matches_with`.
#![no_main]

use libfuzzer_sys::fuzz_target;

const PATTERNS: &[&str] = &[
    r#"{"a": ["x", 1, null, true]}"#,
    r#"{"a": {"b": [{"prefix": "p"}, {"suffix": {"equals-ignore-case": "S"}}]}}"#,
    r#"{"a": [{"numeric": [">", 0, "<=", 5]}], "b": [{"exists": false}]}"#,
    r#"{"a": [{"anything-but": {"wildcard": ["*x*"]}}], "c": [{"cidr": "10.0.0.0/8"}]}"#,
    r#"{"$or": [{"a": [{"wildcard": "a*b*c"}]}, {"b.c": [{"equals-ignore-case": "Q"}]}]}"#,
    r#"{"a": {"x": ["1"], "y": ["2"]}}"#,
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, event)) = data.split_first() else { return };
    let text = PATTERNS[usize::from(pick) % PATTERNS.len()];
    let mut m = pattern::Matcher::new();
    m.add("p", text).expect("valid pattern");
    let result = m.matches(event);
    if let Ok(pattern::json::Json::Obj(members)) = pattern::json::parse(event) {
        let mut keys: Vec<&str> = members.iter().map(|(k, _)| k.as_str()).collect();
        let count = keys.len();
        keys.sort_unstable();
        keys.dedup();
        if keys.len() == count && keys.iter().all(|k| !k.contains('.')) {
            let mut scratch = pattern::Scratch::new();
            let full = m.matches_with(event, &mut scratch).expect("a valid object").to_vec();
            let trusted = m.matches_trusted_with(event, &mut scratch).expect("a valid object").to_vec();
            assert_eq!(full, trusted);
        }
    }
    let parsed = pattern::Pattern::parse(text).expect("valid");
    let why = pattern::explain(&parsed, event);
    assert_eq!(result.is_ok(), why.is_ok());
    if let (Ok(hits), Ok(why)) = (result, why) {
        assert_eq!(hits.is_empty(), why.is_some());
    }
});
