//! A customer's mood per turn, read the way people talk on the phone.
//!
//! Plain VADER is calibrated on written social-media text. Spoken customer-service turns differ
//! in three ways that bias it, and this module corrects each:
//!
//! - **Answers are not opinions.** "Yes, that's right." scores +0.40 and "Nope, you've been
//!   great" −0.6 ("nope" negates "great"), because VADER reads "yes", "okay", "sure" and "no" as
//!   sentiment. Leading discourse markers are dropped before scoring.
//! - **Disfluencies split phrases.** "um," and "I- I" are removed first.
//! - **Impatience is the main negative signal** and VADER's lexicon barely has it: "I already
//!   told you", "can we hurry up", "it's been a hassle", "just fix it". A small contact-centre
//!   lexicon adds those words and phrases.
//!
//! Each sentence is scored separately and the turn's mood is the mean of those that carry
//! sentiment.

use std::sync::OnceLock;

use crate::vader::Vader;

/// Words added to VADER's lexicon for customer-service speech (valences on VADER's −4..4 scale).
const CONTACT_CENTRE_WORDS: [(&str, f64); 15] = [
    ("nightmare", -2.5),
    ("already", -1.2),
    ("again", -0.8),
    ("finally", -0.8),
    ("forever", -1.5),
    ("hurry", -1.2),
    ("hassle", -1.8),
    ("twice", -0.8),
    ("whatever", -1.5),
    ("guess", -0.8),
    ("seriously", -1.0),
    ("useless", -2.0),
    ("repeating", -1.2),
    ("honestly", -0.3),
    ("expect", -0.5),
];

/// Phrases VADER misreads in conversation; each adds a quarter of its weight to the sentence's
/// compound. Impatience and giving up read negative; "no worries" and "no problem" are
/// courtesies, not negations of a worry; "of course" is eager compliance (VADER has no
/// "course").
const PHRASES: [(&str, f64); 24] = [
    ("of course", 2.0),
    ("won't work", -2.0),
    ("doesn't work", -2.0),
    ("in circles", -2.5),
    ("nobody is helping", -2.5),
    ("over with", -1.5),
    ("get on with it", -1.5),
    ("move on", -1.2),
    ("just fix it", -2.0),
    ("hundred times", -1.8),
    ("still not", -1.5),
    ("done with", -1.5),
    ("nobody listens", -2.0),
    ("when i see it", -1.2),
    ("taking forever", -1.8),
    ("hurry up", -2.0),
    ("kidding me", -2.0),
    ("forget it", -2.5),
    ("hanging up", -2.5),
    ("pointless", -2.0),
    ("don't bother", -2.5),
    ("i'm done", -2.5),
    ("no worries", 3.0),
    ("no problem", 3.0),
];

/// Answers and hesitations at the start of a sentence that carry no sentiment of their own.
const DISCOURSE_MARKERS: [&str; 16] = [
    "yes",
    "yeah",
    "yep",
    "no",
    "nope",
    "okay",
    "ok",
    "alright",
    "all right",
    "right",
    "sure",
    "well",
    "so",
    "oh",
    "hmm",
    "hi there",
];

const FILLERS: [&str; 4] = ["um", "uh", "er", "erm"];

fn analyser() -> &'static Vader {
    static CONVERSATIONAL: OnceLock<Vader> = OnceLock::new();
    CONVERSATIONAL.get_or_init(|| Vader::with_additions(&CONTACT_CENTRE_WORDS))
}

/// The mood of one turn, −1 to 1: the mean over its sentences that carry sentiment. A neutral
/// sentence ("No, that's everything.") does not dilute the one that does ("Thank you so much
/// for your help!").
pub fn mood(text: &str) -> f64 {
    let cleaned = without_disfluencies(text);
    let scores: Vec<f64> = sentences(&cleaned).map(sentence_mood).filter(|s| s.abs() >= 0.05).collect();
    if scores.is_empty() { 0.0 } else { scores.iter().sum::<f64>() / scores.len() as f64 }
}

fn sentence_mood(sentence: &str) -> f64 {
    // Phrases are looked for in the whole sentence: "Yes, no worries" loses its "no" below.
    let lower = sentence.to_lowercase();
    let content = without_marker_clauses(strip_discourse_markers(sentence));
    let compound = if content.is_empty() { 0.0 } else { analyser().polarity_scores(&content).compound };
    let adjustment: f64 = PHRASES.iter().filter(|(p, _)| lower.contains(p)).map(|(_, w)| w).sum();
    (compound + adjustment / 4.0).clamp(-1.0, 1.0)
}

fn strip_discourse_markers(mut s: &str) -> &str {
    loop {
        let lower_start = s.get(..s.len().min(10)).unwrap_or(s).to_ascii_lowercase();
        let Some(marker) = DISCOURSE_MARKERS.iter().find(|m| {
            lower_start.starts_with(*m) && s[m.len()..].chars().next().is_none_or(|c| !c.is_alphanumeric() && c != '\'')
        }) else {
            return s;
        };
        s = s[marker.len()..].trim_start_matches(|c: char| matches!(c, ',' | '.' | '!') || c.is_whitespace());
    }
}

/// Drops comma-separated pieces that are only a discourse marker ("I think so, yes.").
fn without_marker_clauses(sentence: &str) -> String {
    let is_marker = |piece: &str| {
        let bare = piece.trim().trim_end_matches(['.', '!', '?']).to_ascii_lowercase();
        DISCOURSE_MARKERS.contains(&bare.as_str())
    };
    let pieces: Vec<&str> = sentence.split(',').filter(|p| !is_marker(p)).collect();
    let mut out = pieces.join(",");
    // Keep the sentence's closing punctuation if its last piece went.
    if let Some(end) = sentence.chars().last().filter(|c| matches!(c, '.' | '!' | '?'))
        && !out.ends_with(end)
        && !out.trim().is_empty()
    {
        out.push(end);
    }
    out.trim().to_string()
}

fn without_disfluencies(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        let bare = word.trim_end_matches(',').to_ascii_lowercase();
        let bare = bare.trim_end_matches('.');
        // A filler goes; so does a restart ("I- I"), whose word is said again next.
        if FILLERS.contains(&bare) || (word.ends_with('-') && word.len() > 1) {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Sentences: split after `.`, `!` or `?` (runs such as `?!` stay together) followed by a space.
pub fn sentences(text: &str) -> impl Iterator<Item = &str> {
    let bytes = text.as_bytes();
    let mut start = 0;
    let mut pieces = Vec::new();
    for (i, &b) in bytes.iter().enumerate() {
        let ends = matches!(b, b'.' | b'!' | b'?')
            && bytes.get(i + 1).is_none_or(|n| n.is_ascii_whitespace())
            && i + 1 > start;
        if ends {
            pieces.push(&text[start..=i]);
            start = i + 1;
        }
    }
    pieces.push(&text[start..]);
    pieces.into_iter().map(str::trim).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_not_sentiment() {
        assert_eq!(mood("Yes, that's right."), 0.0);
        assert_eq!(mood("I think so, yes."), 0.0);
        assert!(mood("Yes, no worries at all.") > 0.3, "a courtesy");
        assert!(mood("No, that won't work for me.") < -0.3, "a refusal");
        assert_eq!(mood("Okay."), 0.0);
        assert!(mood("Of course! It's 4417.") > 0.3, "eager compliance, which VADER's lexicon lacks");
        assert!(mood("Nope, you've been great. Have a wonderful day!") > 0.5, "'nope' answers, it does not negate");
    }

    #[test]
    fn impatience_reads_negative() {
        for text in [
            "I already told you that! Why am I repeating myself?",
            "Yes. Can we move on, this is taking forever.",
            "Does it matter? Just fix it.",
        ] {
            assert!(mood(text) < -0.2, "{text}: {}", mood(text));
        }
    }

    #[test]
    fn disfluencies_are_removed_before_scoring() {
        assert_eq!(without_disfluencies("Uh, I- I think um, it's fine."), "I think it's fine.");
        assert_eq!(mood("That's um, really frustrating."), mood("That's really frustrating."));
    }

    #[test]
    fn sentences_split_at_terminal_punctuation_only() {
        let got: Vec<&str> = sentences("It was $12.50. Really?! Yes... ok").collect();
        assert_eq!(got, ["It was $12.50.", "Really?!", "Yes...", "ok"]);
    }
}
