//! Score-for-score parity with the reference Python package on a fixed set of sentences.
//!
//! `tests/data/vader_3.3.2.jsonl` holds 852 sentences with the scores vaderSentiment 3.3.2
//! printed for them (see `tests/data/README.md`); `scripts/vader-oracle` re-derives the file
//! from the installed package and compares random sentences live.

use analytics::vader::Vader;
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    text: String,
    compound: f64,
    pos: f64,
    neu: f64,
    neg: f64,
}

#[test]
fn every_sentence_scores_as_the_reference_package_does() {
    let cases: Vec<Case> =
        include_str!("data/vader_3.3.2.jsonl").lines().map(|l| serde_json::from_str(l).expect("valid case")).collect();
    assert!(cases.len() >= 500, "the parity set must stay at least 500 sentences");
    let vader = Vader::get();
    let mut failures = Vec::new();
    for case in &cases {
        let got = vader.polarity_scores(&case.text);
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-4;
        if !(close(got.compound, case.compound)
            && close(got.pos, case.pos)
            && close(got.neu, case.neu)
            && close(got.neg, case.neg))
        {
            failures.push(format!(
                "{:?}: got {got:?}, want compound {} pos {} neu {} neg {}",
                case.text, case.compound, case.pos, case.neu, case.neg
            ));
        }
    }
    assert!(failures.is_empty(), "{} of {} differ:\n{}", failures.len(), cases.len(), failures.join("\n"));
}
