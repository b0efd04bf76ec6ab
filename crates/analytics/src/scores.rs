//! Customer scores. [`origin_scores`] are the origin template's additive rules, exactly: a
//! baseline of 50, fixed steps per signal, clamped to 0..=100.

use crate::{Resolution, Sentiment};

/// The three profile scores, each 0..=100.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scores {
    /// Higher: more likely to leave.
    pub churn_risk: u8,
    /// Higher: more likely to buy.
    pub propensity_to_buy: u8,
    /// Higher: happier.
    pub satisfaction_score: u8,
}

/// The origin's formulas. Word-count thresholds are strict (`> 300`, `< 100`); neutral
/// sentiment and unknown (or partial) resolution contribute nothing.
pub fn origin_scores(sentiment: Sentiment, resolution: Resolution, escalation: bool, word_count: u32) -> Scores {
    let pick = |positive: i32, negative: i32| match sentiment {
        Sentiment::Positive => positive,
        Sentiment::Negative => negative,
        Sentiment::Neutral => 0,
    };
    let solved = |resolved: i32, unresolved: i32| match resolution {
        Resolution::Resolved => resolved,
        Resolution::Unresolved => unresolved,
        Resolution::PartiallyResolved | Resolution::Unknown => 0,
    };
    let long = word_count > 300;
    let short = word_count < 100;
    let escalated = i32::from(escalation);
    let clamp = |v: i32| v.clamp(0, 100) as u8;
    Scores {
        churn_risk: clamp(
            50 + pick(-20, 30) + solved(-15, 25) + 20 * escalated + if long { 10 } else { 0 }
                - if short { 5 } else { 0 },
        ),
        propensity_to_buy: clamp(
            50 + pick(30, -25) + solved(20, -15) - 20 * escalated + if short { 10 } else { 0 }
                - if long { 10 } else { 0 },
        ),
        satisfaction_score: clamp(50 + pick(35, -35) + solved(15, -20) - 15 * escalated),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The origin specification's worked examples, row by row.
    #[test]
    fn the_origins_worked_examples() {
        use Resolution::*;
        use Sentiment::*;
        let rows = [
            (Positive, Resolved, false, 50, (10, 100, 100)),
            (Positive, Resolved, false, 150, (15, 100, 100)),
            (Positive, Resolved, false, 500, (25, 90, 100)),
            (Neutral, Resolved, false, 150, (35, 70, 65)),
            (Neutral, Unknown, false, 150, (50, 50, 50)),
            (Neutral, Resolved, true, 100, (55, 50, 50)),
            (Negative, Unresolved, false, 100, (100, 10, 0)),
            (Negative, Unresolved, true, 400, (100, 0, 0)),
        ];
        for (sentiment, resolution, escalation, words, (churn, propensity, satisfaction)) in rows {
            let s = origin_scores(sentiment, resolution, escalation, words);
            assert_eq!(
                (s.churn_risk, s.propensity_to_buy, s.satisfaction_score),
                (churn, propensity, satisfaction),
                "{sentiment:?} {resolution:?} {escalation} {words}"
            );
        }
    }

    #[test]
    fn thresholds_are_strict() {
        let at = |w| origin_scores(Sentiment::Neutral, Resolution::Unknown, false, w).churn_risk;
        assert_eq!((at(99), at(100), at(300), at(301)), (45, 50, 50, 60));
    }
}
