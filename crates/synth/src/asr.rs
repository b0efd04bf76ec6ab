//! Simulated speech-recognition errors.
//!
//! Real transcripts are not clean. With `--asr-wer W`, each spoken word independently suffers an
//! error with probability W: a substitution (55 %: a homophone or near-sound from a small
//! confusion table, else a short function word), a deletion (25 %) or an insertion of a short
//! word after it (20 %). The expected word error rate — (S + D + I) / N — is therefore W.
//! Punctuation attached to a word survives substitutions.

use rand::Rng;
use rand::seq::IndexedRandom;

/// Pairs ASR engines commonly confuse; substitution goes either way.
const CONFUSIONS: &[(&str, &str)] = &[
    ("to", "two"),
    ("for", "four"),
    ("there", "their"),
    ("order", "older"),
    ("charge", "change"),
    ("charged", "changed"),
    ("refund", "re-fund"),
    ("card", "car"),
    ("address", "dress"),
    ("account", "a count"),
    ("supervisor", "super visor"),
    ("manager", "manage her"),
    ("week", "weak"),
    ("right", "write"),
    ("know", "no"),
    ("here", "hear"),
    ("been", "bin"),
    ("sent", "cent"),
    ("one", "won"),
    ("by", "buy"),
    ("mail", "male"),
    ("delivery", "the livery"),
    ("package", "packet"),
    ("cancel", "counsel"),
    ("broken", "broke in"),
    ("thanks", "tanks"),
    ("great", "grate"),
];

/// Short words an engine inserts or substitutes when it hears noise.
const FILLERS: &[&str] = &["the", "a", "and", "uh", "it", "that", "in", "of", "so"];

/// Applies errors to `text` at word error rate `wer`, appending the result to `out`.
pub fn corrupt(text: &str, wer: f64, rng: &mut impl Rng, out: &mut String) {
    let mut first = true;
    let mut push = |out: &mut String, word: &str| {
        if !first {
            out.push(' ');
        }
        out.push_str(word);
        first = false;
    };
    for word in text.split_whitespace() {
        if rng.random::<f64>() >= wer {
            push(out, word);
            continue;
        }
        let u: f64 = rng.random();
        if u < 0.55 {
            let core_len = word.trim_end_matches(|c: char| !c.is_alphanumeric()).len();
            let (core, punct) = word.split_at(core_len);
            let lower = core.to_lowercase();
            let replacement = CONFUSIONS
                .iter()
                .find_map(|&(a, b)| {
                    if a == lower {
                        Some(b)
                    } else if b == lower {
                        Some(a)
                    } else {
                        None
                    }
                })
                .unwrap_or_else(|| FILLERS.choose(rng).expect("non-empty"));
            push(out, &format!("{replacement}{punct}"));
        } else if u < 0.8 {
            // Deleted.
        } else {
            push(out, word);
            push(out, FILLERS.choose(rng).expect("non-empty"));
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn zero_rate_is_identity_and_rate_is_respected() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let text = "I want a refund for the charge on my card, please.";
        let mut out = String::new();
        corrupt(text, 0.0, &mut rng, &mut out);
        assert_eq!(out, text);

        // Measure WER with a word-level edit distance over many sentences.
        let reference: Vec<&str> = text.split_whitespace().collect();
        let (mut errors, mut words) = (0usize, 0usize);
        for _ in 0..4000 {
            let mut noisy = String::new();
            corrupt(text, 0.1, &mut rng, &mut noisy);
            let hyp: Vec<&str> = noisy.split_whitespace().collect();
            errors += edit_distance(&reference, &hyp);
            words += reference.len();
        }
        let wer = errors as f64 / words as f64;
        assert!((wer - 0.1).abs() < 0.01, "measured WER {wer}");
    }

    fn edit_distance(a: &[&str], b: &[&str]) -> usize {
        let mut row: Vec<usize> = (0..=b.len()).collect();
        for (i, x) in a.iter().enumerate() {
            let mut prev = row[0];
            row[0] = i + 1;
            for (j, y) in b.iter().enumerate() {
                let cur = row[j + 1];
                row[j + 1] = (prev + usize::from(x != y)).min(row[j] + 1).min(cur + 1);
                prev = cur;
            }
        }
        row[b.len()]
    }
}
