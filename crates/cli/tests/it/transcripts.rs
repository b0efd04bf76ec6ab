//! Transcripts are varied, and the ground truth is consistent with them.

use std::collections::HashSet;

use model::{Ending, Outcome, Speaker};
use synth::catalog::Catalog;
use synth::generator::{Generator, GeneratorConfig};
use synth::personas::{PersonaPool, builtin_agents, builtin_customers};

fn generator(calls: u64, seed: u64) -> Generator {
    let catalog = Catalog::builtin();
    let pool = PersonaPool::new(builtin_customers(), builtin_agents(), &catalog);
    Generator::new(GeneratorConfig { calls, seed, ..GeneratorConfig::default() }, catalog, pool).unwrap()
}

#[test]
fn no_two_transcripts_are_identical_in_100_000_calls() {
    let g = generator(100_000, 5);
    let mut seen = HashSet::new();
    let mut talked = 0;
    for plan in g.plans() {
        let call = g.render(&plan);
        if let Some(t) = call.transcription {
            talked += 1;
            let digest = fxhash(&t.text);
            assert!(seen.insert(digest), "call {} repeats an earlier transcript", call.index);
        }
    }
    assert!(talked > 80_000);
}

fn fxhash(text: &str) -> (u64, u64, usize) {
    let (mut a, mut b) = (0xcbf2_9ce4_8422_2325u64, 0x8422_2325_cbf2_9ce4u64);
    for byte in text.bytes() {
        a = (a ^ u64::from(byte)).wrapping_mul(0x100_0000_01b3);
        b = (b ^ u64::from(byte)).wrapping_mul(0x100_0000_01b3).rotate_left(5);
    }
    (a, b, text.len())
}

#[test]
fn ground_truth_matches_the_conversation() {
    let g = generator(3000, 9);
    let mut outcomes = HashSet::new();
    let mut repeats = 0;
    for plan in g.plans() {
        let call = g.render(&plan);
        let Some(truth) = &call.truth else { continue };
        outcomes.insert(truth.outcome);
        let last = call.turns.last().unwrap();
        match truth.ending {
            Ending::Hangup => assert_eq!(last.speaker, Speaker::Customer, "a hang-up ends on the customer"),
            Ending::Supervisor => {
                assert!(call.turns.iter().any(|t| t.speaker == Speaker::Supervisor));
                assert!(call.conference_sid.is_some());
            }
            Ending::Resolved | Ending::PartiallyResolved | Ending::Unresolved => {
                assert_eq!(last.text, call.agent.farewell, "a completed conversation ends with the agent's farewell")
            }
            Ending::Transfer => {}
        }
        assert_eq!(call.turns[0].text, call.agent.scripted_introduction);
        if let Some(i) = truth.escalation_turn {
            assert!(truth.escalated);
            let turn = &call.turns[i];
            if turn.speaker == Speaker::Customer {
                assert!(turn.sentiment.unwrap() <= -0.5, "escalation turns are upset");
            }
        }
        if truth.outcome == Outcome::Escalated {
            assert!(truth.escalated);
        }
        for turn in &call.turns {
            assert_eq!(turn.sentiment.is_some(), turn.speaker == Speaker::Customer);
            assert!(turn.start < turn.end);
            assert!(turn.sentiment.is_none_or(|s| (-1.0..=1.0).contains(&s)));
        }
        repeats += usize::from(call.journey.previous_call_sid.is_some());
        if call.journey.previous_call_sid.is_some() {
            assert!(call.journey.contact_number > 1);
        }
    }
    assert_eq!(outcomes.len(), 5, "every outcome occurs: {outcomes:?}");
    assert!(repeats > 50, "repeat contacts exist ({repeats})");
}

#[test]
fn asr_noise_changes_words_but_not_speakers_or_truth() {
    let clean = generator(200, 3);
    let catalog = Catalog::builtin();
    let pool = PersonaPool::new(builtin_customers(), builtin_agents(), &catalog);
    let noisy = Generator::new(
        GeneratorConfig { calls: 200, seed: 3, asr_wer: 0.1, ..GeneratorConfig::default() },
        catalog,
        pool,
    )
    .unwrap();
    let mut differing = 0;
    for (a, b) in clean.plans().zip(noisy.plans()) {
        let (a, b) = (clean.render(&a), noisy.render(&b));
        assert_eq!(a.truth, b.truth);
        assert_eq!(a.turns, b.turns, "turns hold what was said");
        if let (Some(x), Some(y)) = (&a.transcription, &b.transcription) {
            assert_eq!(x.text.lines().count(), y.text.lines().count());
            differing += usize::from(x.text != y.text);
        }
    }
    assert!(differing > 100);
}
