//! The origin template's keyword analyser, reproduced exactly as the baseline callsynth's own
//! analytics are measured against. It counts case-insensitive *substrings* over the whole call
//! text — both speakers, so an agent's "thank you for calling" counts as positive sentiment —
//! and each keyword at most once. That is its documented behaviour, defects included.

use crate::{Resolution, Sentiment};

const POSITIVE: [&str; 8] = ["thank", "great", "happy", "excellent", "wonderful", "appreciate", "pleased", "satisfied"];
const NEGATIVE: [&str; 8] = ["terrible", "frustrated", "angry", "awful", "horrible", "disappointed", "upset", "worst"];
const RESOLVED: [&str; 5] = ["resolved", "solved", "fixed", "working now", "problem is solved"];
const UNRESOLVED: [&str; 5] = ["not working", "still", "persists", "remains", "issue remains"];
const ESCALATION: [&str; 6] = ["supervisor", "manager", "transfer", "speak to", "escalate", "demand"];

/// What the origin's analyser reports for one transcription.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeywordAnalytics {
    /// By keyword counts; ties are neutral.
    pub sentiment: Sentiment,
    /// `Resolved`, `Unresolved` or `Unknown` (never partial).
    pub resolution: Resolution,
    /// Any escalation keyword anywhere.
    pub escalation: bool,
    /// Whitespace-separated tokens of the trimmed text.
    pub word_count: u32,
}

/// Runs the origin's analyser on the whole transcription text.
pub fn keyword_analytics(text: &str) -> KeywordAnalytics {
    let text = text.trim();
    if text.is_empty() {
        return KeywordAnalytics {
            sentiment: Sentiment::Neutral,
            resolution: Resolution::Unknown,
            escalation: false,
            word_count: 0,
        };
    }
    let lower = text.to_lowercase();
    let count = |words: &[&str]| words.iter().filter(|w| lower.contains(*w)).count();
    let (positive, negative) = (count(&POSITIVE), count(&NEGATIVE));
    let (resolved, unresolved) = (count(&RESOLVED), count(&UNRESOLVED));
    KeywordAnalytics {
        sentiment: match positive.cmp(&negative) {
            std::cmp::Ordering::Greater => Sentiment::Positive,
            std::cmp::Ordering::Less => Sentiment::Negative,
            std::cmp::Ordering::Equal => Sentiment::Neutral,
        },
        resolution: match resolved.cmp(&unresolved) {
            std::cmp::Ordering::Greater => Resolution::Resolved,
            std::cmp::Ordering::Less => Resolution::Unresolved,
            std::cmp::Ordering::Equal => Resolution::Unknown,
        },
        escalation: count(&ESCALATION) > 0,
        word_count: text.split_whitespace().count() as u32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_text_is_neutral_unknown_and_zero_words() {
        let a = keyword_analytics("   \n ");
        assert_eq!(
            a,
            KeywordAnalytics {
                sentiment: Sentiment::Neutral,
                resolution: Resolution::Unknown,
                escalation: false,
                word_count: 0
            }
        );
    }

    #[test]
    fn substrings_count_once_per_keyword_over_both_speakers() {
        // The agent's courtesy counts as positive; "thank" twice still counts once.
        let a = keyword_analytics("Agent: Thank you for calling.\nCustomer: This is terrible and awful. Thanks.");
        assert_eq!(a.sentiment, Sentiment::Negative, "1 positive keyword vs 2 negative");
        // "still" inside "stillness", "fixed" inside "unfixed": substrings, as the origin did.
        let b = keyword_analytics("the stillness was unfixed");
        assert_eq!(b.resolution, Resolution::Unknown, "one resolved, one unresolved keyword: a tie");
        assert!(keyword_analytics("I don't need a MANAGER").escalation, "no negation handling");
        assert_eq!(keyword_analytics("it is working now, thanks").resolution, Resolution::Resolved);
        assert_eq!(keyword_analytics("the issue remains, still broken").resolution, Resolution::Unresolved);
        assert_eq!(keyword_analytics("  a  b\tc\nd ").word_count, 4);
    }
}
