//! Transcripts as users hand them to `callsynth analyze transcript` and the processor: any text
//! parses into turns, and the analysis never panics and stays within its ranges.
#![no_main]

use analytics::analysis::{CallContext, analyze};
use analytics::transcript::parse_labelled;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let turns = parse_labelled(text);
    let a = analyze(&turns, CallContext { previous_contacts: data.len() as u32 % 5 });
    assert_eq!(a.turns.len(), turns.len());
    for t in &a.turns {
        assert!((-1.0..=1.0).contains(&t.polarity.compound));
        if let Some(m) = t.mood {
            assert!((-1.0..=1.0).contains(&m));
        }
    }
    // The label holds at least a third of the posterior mass: it is the largest of three.
    assert!((1.0 / 3.0 - 1e-3..=1.0).contains(&a.sentiment_probability), "{}", a.sentiment_probability);
    assert!(a.origin_scores.churn_risk <= 100 && a.scores.satisfaction_score <= 100);
    if let Some(e) = &a.escalation {
        assert!(e.turn < turns.len());
    }
});
