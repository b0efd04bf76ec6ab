//! Random patterns × random events: the compiled matcher agrees with the reference interpreter.

use proptest::prelude::*;
use serde_json::{Value, json};

use crate::reference;

const KEYS: [&str; 3] = ["a", "b", "c"];

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        prop::sample::select(vec!["x", "y", "xy", "Xy", "yx", "", "10.0.0.7"]).prop_map(|s| json!(s)),
        prop::sample::select(vec![0i64, 1, 5, -3, 300]).prop_map(|n| json!(n)),
        Just(json!(2.5)),
        any::<bool>().prop_map(|b| json!(b)),
        Just(Value::Null),
    ]
}

fn event_value() -> impl Strategy<Value = Value> {
    let leaf = scalar();
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(prop::sample::select(KEYS.to_vec()), inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect())),
        ]
    })
}

fn event() -> impl Strategy<Value = Value> {
    prop::collection::btree_map(prop::sample::select(KEYS.to_vec()), event_value(), 0..4)
        .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect()))
}

fn condition() -> impl Strategy<Value = Value> {
    prop_oneof![
        scalar(),
        prop::sample::select(vec!["x", "X", ""]).prop_map(|s| json!({"prefix": s})),
        Just(json!({"prefix": {"equals-ignore-case": "X"}})),
        prop::sample::select(vec!["x", "y"]).prop_map(|s| json!({"suffix": s})),
        prop::sample::select(vec!["xy", "XY"]).prop_map(|s| json!({"equals-ignore-case": s})),
        prop::sample::select(vec!["x*", "*y", "*", "x*y"]).prop_map(|s| json!({"wildcard": s})),
        any::<bool>().prop_map(|b| json!({"exists": b})),
        prop::sample::select(vec!["x", "y"]).prop_map(|s| json!({"anything-but": s})),
        Just(json!({"anything-but": [0, 5]})),
        Just(json!({"anything-but": {"prefix": "x"}})),
        Just(json!({"anything-but": {"equals-ignore-case": ["XY", "y"]}})),
        Just(json!({"numeric": [">", 0, "<=", 5]})),
        Just(json!({"numeric": ["<", 1]})),
        Just(json!({"numeric": ["=", 300]})),
    ]
}

fn fields() -> impl Strategy<Value = Value> {
    let path = prop::collection::vec(prop::sample::select(KEYS.to_vec()), 1..3);
    prop::collection::vec((path, prop::collection::vec(condition(), 1..3)), 1..4).prop_map(|fields| {
        let mut root = json!({});
        for (path, conds) in fields {
            let mut node = &mut root;
            for key in &path[..path.len() - 1] {
                if !node.get(*key).is_some_and(Value::is_object) {
                    node[*key] = json!({});
                }
                node = &mut node[*key];
            }
            node[path[path.len() - 1]] = Value::Array(conds);
        }
        root
    })
}

fn pattern() -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => fields(),
        1 => (fields(), fields()).prop_map(|(a, b)| json!({"$or": [a, b]})),
    ]
}

/// Leaf-vs-object conflicts (a path both a leaf and a parent) are invalid patterns; skip them.
fn valid(p: &Value) -> bool {
    pattern::Pattern::parse(&p.to_string()).is_ok()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]
    #[test]
    fn compiled_matcher_agrees_with_the_reference(p in pattern(), e in event()) {
        prop_assume!(valid(&p));
        let expected = reference::matches(&p, &e);
        let got = pattern::test(&p.to_string(), e.to_string().as_bytes()).unwrap();
        prop_assert_eq!(got, expected, "pattern {} event {}", p, e);
        let why = pattern::explain(&pattern::Pattern::parse(&p.to_string()).unwrap(), e.to_string().as_bytes()).unwrap();
        prop_assert_eq!(why.is_none(), expected);
    }
}

/// Escapes a JSON text's plain letters as `\u00XX`, so the event reader's decoding path is
/// exercised on keys and values alike without changing what the event means.
fn escape_letters(text: &str, which: u8) -> String {
    // The generated events hold no escaped quotes, so a quote always opens or closes a string.
    let mut in_string = false;
    let mut out = String::with_capacity(text.len() * 2);
    for c in text.chars() {
        if c == '"' {
            in_string = !in_string;
        }
        if in_string && c.is_ascii_lowercase() && (c as u8) % 3 == which % 3 {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]
    /// Several patterns share one matcher (and one scratch across events): each still matches
    /// exactly the events the reference says it does.
    #[test]
    fn patterns_sharing_a_matcher_agree_with_the_reference(
        ps in prop::collection::vec(pattern(), 1..6),
        es in prop::collection::vec((event(), any::<u8>()), 1..4),
    ) {
        let ps: Vec<Value> = ps.into_iter().filter(valid).collect();
        let mut m = pattern::Matcher::new();
        for (i, p) in ps.iter().enumerate() {
            m.add(&format!("p{i}"), &p.to_string()).unwrap();
        }
        let mut scratch = pattern::Scratch::new();
        for (e, which) in &es {
            let text = escape_letters(&e.to_string(), *which);
            let got: Vec<u32> = m.matches_with(text.as_bytes(), &mut scratch).unwrap().to_vec();
            let expected: Vec<u32> =
                (0..ps.len() as u32).filter(|&i| reference::matches(&ps[i as usize], e)).collect();
            prop_assert_eq!(&got, &expected, "patterns {:?} event {}", ps, text);
            // The event's top-level keys are unique and dot-free: stopping early must not
            // change the answer.
            let trusted: Vec<u32> = m.matches_trusted_with(text.as_bytes(), &mut scratch).unwrap().to_vec();
            prop_assert_eq!(trusted, expected, "trusted: patterns {:?} event {}", ps, text);
        }
    }

    /// The matcher's event reader accepts exactly the documents the tree reader accepts.
    #[test]
    fn event_reader_accepts_what_the_json_reader_accepts(
        parts in prop::collection::vec(prop::sample::select(vec![
            "{", "}", "[", "]", "\"", "\"a\"", "\"b\"", ":", ",", " ", "0", "-", "1", ".", "e", "+", "true",
            "null", "fals", "\\", "\\u00e9", "\\ud800", "\\udc00", "\\n", "\\x", "\u{1}", "é", "\"a.b\"",
        ]), 0..14),
    ) {
        let text = parts.concat();
        let tree = pattern::json::parse(text.as_bytes());
        let m = {
            let mut m = pattern::Matcher::new();
            m.add("p", r#"{"a": [{"exists": true}], "b": {"a": ["x"]}}"#).unwrap();
            m
        };
        let got = m.matches(text.as_bytes());
        let expected_ok = matches!(tree, Ok(pattern::json::Json::Obj(_)));
        prop_assert_eq!(got.is_ok(), expected_ok, "{:?}: {:?} vs {:?}", text, got, tree);
    }
}
