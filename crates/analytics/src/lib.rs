//! Transcript analytics and customer scores, as pure functions.
//!
//! So far: the origin template's keyword analyser ([`origin`]), kept as the named baseline that
//! `callsynth eval` will compare against, and its score formulas ([`scores`]). The
//! speaker-aware analytics (VADER sentiment, escalation, resolution, talk metrics) come next.
#![deny(missing_docs)]

pub mod eval;
pub mod origin;
pub mod scores;

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
