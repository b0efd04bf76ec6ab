//! Calls the generator did not write: the label must still be the one a reader gives.
//!
//! The mood-arc decoder (`mood_arc.rs`) is calibrated on generated calls. These transcripts use
//! other words and other call shapes — plain requests for information with no outcome to speak
//! of, praise, anger and sarcasm — so a decoder that leaned on the generator's habits (for
//! instance, that a call with no clear outcome ends badly) fails here.

use analytics::analysis::{CallContext, analyze};
use analytics::transcript::parse_labelled;
use serde::Deserialize;

#[derive(Deserialize)]
struct Call {
    label: String,
    text: String,
}

#[test]
fn handwritten_calls_get_the_label_a_reader_gives() {
    let calls: Vec<Call> = include_str!("data/handwritten_calls.jsonl")
        .lines()
        .map(|line| serde_json::from_str(line).expect("a labelled call"))
        .collect();
    assert_eq!(calls.len(), 8);
    for call in &calls {
        let a = analyze(&parse_labelled(&call.text), CallContext::default());
        assert_eq!(a.sentiment.as_str(), call.label, "{}\n{a:#?}", call.text);
    }
    for label in ["positive", "neutral", "negative"] {
        assert!(calls.iter().any(|c| c.label == label), "the set covers {label}");
    }
}
