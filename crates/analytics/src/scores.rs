//! Customer scores. [`origin_scores`] are the origin template's additive rules, exactly: a
//! baseline of 50, fixed steps per signal, clamped to 0..=100. [`improved_scores`] are
//! callsynth's own, on the signals the origin did not have: how the customer *ended* the call
//! and which way their mood moved, partial resolutions, repeat contacts, interruptions and dead
//! air.

use serde::Serialize;

use crate::{Resolution, Sentiment};

/// The three profile scores, each 0..=100.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Scores {
    /// Higher: more likely to leave.
    pub churn_risk: u8,
    /// Higher: more likely to buy.
    pub propensity_to_buy: u8,
    /// Higher: happier.
    pub satisfaction_score: u8,
}

/// What [`improved_scores`] reads.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Signals {
    /// The call label.
    pub sentiment: Sentiment,
    /// The customer's mean VADER compound, −1 to 1.
    pub customer_mean: f64,
    /// The customer's last turn's compound.
    pub customer_end: f64,
    /// Second half minus first half of the customer's turns.
    pub customer_trend: f64,
    /// Whether the problem was solved.
    pub resolution: Resolution,
    /// Whether the call escalated.
    pub escalated: bool,
    /// Turns that cut the other side off.
    pub interruptions: u32,
    /// Share of the handle time nobody spoke, 0–1.
    pub silence_share: f64,
    /// Earlier contacts from the same customer.
    pub previous_contacts: u32,
}

/// callsynth's scores, each 0..=100, with the same names and directions as the origin's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ImprovedScores {
    /// Higher: more likely to leave.
    pub churn_risk: u8,
    /// Higher: more likely to buy.
    pub propensity_to_buy: u8,
    /// Higher: happier.
    pub satisfaction_score: u8,
}

/// The improved formulas. Each starts at 50 and adds bounded terms:
///
/// | term | satisfaction | churn risk | propensity to buy |
/// |---|---|---|---|
/// | customer's mood, 0.4 × mean + 0.6 × end compound (−1..1) | +30 × | −25 × | +20 × |
/// | trend (−2..2, clamped to ±1) | +10 × | −10 × | +5 × |
/// | resolved / partial / unresolved | +15 / +3 / −15 | −15 / 0 / +20 | +10 / 0 / −10 |
/// | escalated | −10 | +10 | −10 |
/// | repeat contact (1 earlier / 2 or more) | −5 / −10 | +10 / +20 | −5 / −10 |
/// | interruptions (each, up to 3) | −2 | +1 | 0 |
/// | dead air over 20 % of handle time | −5 | +5 | 0 |
///
/// The ending counts more than the mean because a customer's last impression is what a survey
/// asks about; a repeat contact is the strongest churn signal contact centres report.
pub fn improved_scores(s: &Signals) -> ImprovedScores {
    let mood = 0.4 * s.customer_mean + 0.6 * s.customer_end;
    let trend = s.customer_trend.clamp(-1.0, 1.0);
    let (sat_res, churn_res, buy_res) = match s.resolution {
        Resolution::Resolved => (15.0, -15.0, 10.0),
        Resolution::PartiallyResolved => (3.0, 0.0, 0.0),
        Resolution::Unresolved => (-15.0, 20.0, -10.0),
        Resolution::Unknown => (0.0, 0.0, 0.0),
    };
    let escalated = if s.escalated { 1.0 } else { 0.0 };
    let repeat = f64::from(s.previous_contacts.min(2));
    let interruptions = f64::from(s.interruptions.min(3));
    let dead_air = if s.silence_share > 0.2 { 1.0 } else { 0.0 };
    let clamp = |v: f64| v.round().clamp(0.0, 100.0) as u8;
    ImprovedScores {
        satisfaction_score: clamp(
            50.0 + 30.0 * mood + 10.0 * trend + sat_res
                - 10.0 * escalated
                - 5.0 * repeat
                - 2.0 * interruptions
                - 5.0 * dead_air,
        ),
        churn_risk: clamp(
            50.0 - 25.0 * mood - 10.0 * trend
                + churn_res
                + 10.0 * escalated
                + 10.0 * repeat
                + interruptions
                + 5.0 * dead_air,
        ),
        propensity_to_buy: clamp(50.0 + 20.0 * mood + 5.0 * trend + buy_res - 10.0 * escalated - 5.0 * repeat),
    }
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

    #[test]
    fn improved_scores_move_with_each_signal() {
        let base = Signals {
            sentiment: Sentiment::Neutral,
            customer_mean: 0.0,
            customer_end: 0.0,
            customer_trend: 0.0,
            resolution: Resolution::Unknown,
            escalated: false,
            interruptions: 0,
            silence_share: 0.0,
            previous_contacts: 0,
        };
        let at = |s: Signals| {
            let x = improved_scores(&s);
            (x.satisfaction_score, x.churn_risk, x.propensity_to_buy)
        };
        assert_eq!(at(base), (50, 50, 50));
        assert_eq!(at(Signals { customer_end: 1.0, customer_mean: 1.0, ..base }), (80, 25, 70));
        assert_eq!(at(Signals { resolution: Resolution::Unresolved, escalated: true, ..base }), (25, 80, 30));
        assert_eq!(at(Signals { previous_contacts: 5, ..base }), (40, 70, 40), "repeat contacts cap at 2");
        assert_eq!(at(Signals { interruptions: 9, silence_share: 0.5, ..base }), (39, 58, 50));
        let worst = Signals {
            customer_mean: -1.0,
            customer_end: -1.0,
            customer_trend: -2.0,
            resolution: Resolution::Unresolved,
            escalated: true,
            previous_contacts: 2,
            interruptions: 3,
            silence_share: 1.0,
            ..base
        };
        assert_eq!(at(worst), (0, 100, 0), "clamped");
    }
}
