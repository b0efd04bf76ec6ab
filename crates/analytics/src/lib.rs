//! Transcript analytics and customer scores, as pure functions.
//!
//! - [`vader`]: VADER sentiment, score for score with the Python package `vaderSentiment` 3.3.2.
//! - [`transcript`]: speaker-labelled text into turns; talk metrics when turns have timings.
//! - [`conversation`]: a customer's mood per turn, VADER adjusted for spoken customer service.
//! - [`mood_arc`]: the call's sentiment label, decoded from the customer's turn moods as one
//!   arc from opening to closing mood.
//! - [`cues`]: clause-level phrase cues with negation, for what a turn does.
//! - [`analysis`]: the speaker-aware analyser — per-turn sentiment, escalation, resolution,
//!   scores — that `update-segment-profile` and `callsynth analyze` run.
//! - [`origin`]: the origin template's keyword analyser, kept as the named baseline
//!   `callsynth eval` compares against; [`scores`]: its formulas and callsynth's improved set.
//! - [`eval`]: precision, recall, F1, confusion matrices, correlation.
#![deny(missing_docs)]

pub mod analysis;
pub mod conversation;
pub mod cues;
pub mod eval;
pub mod mood_arc;
pub mod origin;
pub mod scores;
pub mod transcript;
pub mod vader;

/// A call's sentiment label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sentiment {
    /// More positive than negative.
    Positive,
    /// Neither.
    Neutral,
    /// More negative than positive.
    Negative,
}

/// Whether the customer's problem was solved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Resolution {
    /// Solved.
    Resolved,
    /// Partly solved.
    PartiallyResolved,
    /// Not solved.
    Unresolved,
    /// Cannot tell.
    Unknown,
}

impl Sentiment {
    /// `positive`, `neutral`, `negative` (the origin's and Segment's spelling).
    pub fn as_str(self) -> &'static str {
        match self {
            Sentiment::Positive => "positive",
            Sentiment::Neutral => "neutral",
            Sentiment::Negative => "negative",
        }
    }
}

impl Resolution {
    /// `resolved`, `partially_resolved`, `unresolved`, `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            Resolution::Resolved => "resolved",
            Resolution::PartiallyResolved => "partially_resolved",
            Resolution::Unresolved => "unresolved",
            Resolution::Unknown => "unknown",
        }
    }
}
