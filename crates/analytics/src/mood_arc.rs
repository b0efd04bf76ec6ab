//! The call's sentiment label, read from the customer's turn moods as one arc.
//!
//! Averaging the turns' moods ([`crate::conversation::mood`]) and cutting the mean at ±0.1
//! loses information twice. A turn's wording shows only roughly how the customer feels — a curt
//! "It's 12345." or "No. Bye." reads exactly 0 although it is said in displeasure — so one
//! reading is a noisy view of the customer's *tone band* (angry, negative, neutral, positive),
//! not of a number. And moods do not jump about: a customer's mood drifts from how they opened
//! towards how the call ends, and how it ends follows the outcome.
//!
//! So the label is decoded from a small model instead:
//!
//! - The customer's mood at their `k`-th of `n` turns is `a + (b − a)·(k/(n−1))^1.5` plus noise
//!   ([`TURN_NOISE`]): an opening mood `a`, a closing mood `b`, and a drift that gathers pace
//!   towards the end.
//! - A turn's tone band follows its mood ([`tone_band`]); its reading, put in one of
//!   [`READINGS`] bins ([`reading_bin`]), depends on the band alone:
//!   [`Calibration::reading_given_band`].
//! - The opening and closing moods have a joint prior per resolution read from the text (a
//!   resolved call tends to end happy): [`Calibration::log_prior`].
//!
//! The posterior over `(a, b)` is evaluated on a grid, and the label is the one holding most
//! posterior mass for the arc's mean mood (positive above 0.1, negative below −0.1, the
//! generator's definition). The calibration comes from generated calls, clean and with
//! simulated speech-recognition errors; `cargo run --release -p analytics --example
//! calibrate_mood -- FILE...` re-derives it from `generate --calls-out` datasets.

use std::sync::LazyLock;

use crate::analysis::ESCALATION_MOOD;
use crate::{Resolution, Sentiment};

/// Tone bands: angry, negative, neutral, positive.
pub const BANDS: usize = 4;

/// Upper edges of the reading bins after the exact-zero bin (a reading equal to an edge falls
/// in the bin below it).
pub const READING_EDGES: [f64; 10] = [-0.6, -0.45, -0.3, -0.15, -0.05, 0.05, 0.2, 0.35, 0.5, 0.65];

/// Reading bins: exactly 0 (no sentiment found), then the ranges between [`READING_EDGES`].
pub const READINGS: usize = READING_EDGES.len() + 2;

/// Where a turn is in the call: the customer's first turn, a middle one, their last. Openings
/// (stating the problem) and closings (a farewell) are worded differently from the rest.
pub const PLACES: usize = 3;

/// The [`PLACES`] index of the customer's `k`-th of `n` turns.
pub fn place(k: usize, n: usize) -> usize {
    if k + 1 == n {
        2
    } else if k == 0 {
        0
    } else {
        1
    }
}

/// The spread of a turn's mood around the arc.
pub const TURN_NOISE: f64 = 0.07;

/// Mean moods above this are positive, below its negation negative.
pub const LABEL_BAND: f64 = 0.1;

/// The bin of one turn's mood reading.
pub fn reading_bin(mood: f64) -> usize {
    if mood == 0.0 { 0 } else { 1 + READING_EDGES.partition_point(|&edge| edge < mood) }
}

/// Where one tone band ends and the next begins: angry below −0.5, negative below −0.15,
/// neutral up to 0.15, positive above (the generator's bands for a customer's wording).
pub const TONE_EDGES: [f64; 3] = [-0.5, -0.15, 0.15];

/// The tone band a mood is spoken in: 0 angry, 1 negative, 2 neutral, 3 positive
/// ([`TONE_EDGES`]).
pub fn tone_band(mood: f64) -> usize {
    let [angry, negative, neutral] = TONE_EDGES;
    if mood < angry {
        0
    } else if mood < negative {
        1
    } else if mood <= neutral {
        2
    } else {
        3
    }
}

/// How far along the arc the customer's `k`-th of `n` turns is: `(k/(n−1))^1.5`, 1 for a lone
/// turn.
pub fn drift(k: usize, n: usize) -> f64 {
    let x = if n > 1 { k as f64 / (n - 1) as f64 } else { 1.0 };
    x * x.sqrt()
}

/// The model's fitted parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Calibration {
    /// `P(reading bin | tone band)` per place in the call ([`place`]), one row per band.
    pub reading_given_band: [[[f64; READINGS]; BANDS]; PLACES],
    /// `ln P(opening, closing | resolution)` on the grid ([`opening_at`], [`closing_at`]), per
    /// resolution in [`resolution_index`] order. A histogram, not a formula: how a call ends
    /// mixes several endings (a fix, a refusal, a transfer, a hang-up), each with its own mood.
    pub log_prior: [[[f64; CLOSINGS]; OPENINGS]; 4],
}

/// The order of [`Calibration::log_prior`].
pub fn resolution_index(r: Resolution) -> usize {
    match r {
        Resolution::Resolved => 0,
        Resolution::PartiallyResolved => 1,
        Resolution::Unresolved => 2,
        Resolution::Unknown => 3,
    }
}

/// The calibration shipped with callsynth: `calibrate_mood` on four sets of 10,000 generated
/// calls of the default seed — the built-in personas and 500 synthesised customers, each clean
/// and with `--asr-wer 0.1` (the example's doc comment has the commands).
// Fitted numbers: one may happen to lie near 2π.
#[allow(clippy::approx_constant)]
pub const CALIBRATION: Calibration = include!("mood_arc_calibration.rs");

/// One customer turn as the decoder sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reading {
    /// The turn's mood reading ([`crate::conversation::mood`]).
    pub mood: f64,
    /// Whether the turn escalates (asks for a manager, threatens to cancel or complain).
    pub escalates: bool,
}

/// All that [`Decoder::decode`] reads of a call: the resolution and, per customer turn in
/// order, its reading's bin or that it escalates. Calls with equal evidence decode alike, so a
/// caller may keep decodings by their evidence.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Evidence {
    /// [`resolution_index`] of the call's resolution.
    resolution: u8,
    /// Per customer turn: its [`reading_bin`], or [`Evidence::ESCALATES`].
    turns: Vec<u8>,
}

impl Evidence {
    /// The mark of an escalating turn (no reading bin is this high).
    const ESCALATES: u8 = u8::MAX;

    /// The evidence of the customer's turns, in order, and the call's resolution.
    pub fn of(turns: &[Reading], resolution: Resolution) -> Evidence {
        const { assert!(READINGS < Evidence::ESCALATES as usize) };
        Evidence {
            resolution: resolution_index(resolution) as u8,
            turns: turns
                .iter()
                .map(|t| if t.escalates { Evidence::ESCALATES } else { reading_bin(t.mood) as u8 })
                .collect(),
        }
    }
}

/// A decoded label and the posterior probability the model gives it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decoded {
    /// The label with the most posterior mass.
    pub label: Sentiment,
    /// Its posterior probability, 0 to 1.
    pub probability: f64,
}

/// Grid of opening moods, from −1 to 0.9 (nobody opens a complaint call elated).
pub const OPENINGS: usize = 20;
/// Grid of closing moods, from −1 to 1.
pub const CLOSINGS: usize = 21;
/// Grid points whose prior is below `e^−PRIOR_REACH` of the most likely point's are not
/// evaluated.
const PRIOR_REACH: f64 = 9.0;
/// The prior enters at half its weight (a tempered prior): in generated calls the outcome
/// fixes how the customer ends up feeling more tightly than in real ones, where a customer whose
/// problem was solved may still end flat. The outcome is a hint, the customer's words decide.
const PRIOR_WEIGHT: f64 = 0.5;

/// The opening mood of grid row `i`.
pub fn opening_at(i: usize) -> f64 {
    -1.0 + 1.9 * i as f64 / (OPENINGS - 1) as f64
}

/// The closing mood of grid column `j`.
pub fn closing_at(j: usize) -> f64 {
    -1.0 + 2.0 * j as f64 / (CLOSINGS - 1) as f64
}

/// Arc moods in [−1, 1] are looked up every `1 / MOOD_STEPS_PER_UNIT`.
const MOOD_STEPS_PER_UNIT: f64 = 200.0;
const MOOD_STEPS: usize = 2 * MOOD_STEPS_PER_UNIT as usize + 1;

/// `P(band | arc mood)`: the turn's mood is the arc's plus normal noise of sd [`TURN_NOISE`].
fn band_given_mood(mood: f64) -> [f64; BANDS] {
    let [angry, negative, neutral] = TONE_EDGES.map(|edge| normal_cdf((edge - mood) / TURN_NOISE));
    [angry, negative - angry, neutral - negative, 1.0 - neutral]
}

/// The table index nearest to `mood` in [−1, 1]. (Adding one half and truncating rounds these
/// non-negative values; `f64::round` is a libm call on baseline x86-64.)
fn mood_step(mood: f64) -> usize {
    (((mood + 1.0) * MOOD_STEPS_PER_UNIT + 0.5) as usize).min(MOOD_STEPS - 1)
}

/// Posterior weights below the best point's by more than this factor's logarithm are dropped.
const NEGLIGIBLE: f64 = 30.0;

/// Φ tabulated every 1/[`CDF_STEPS_PER_UNIT`] over [−[`CDF_REACH`], [`CDF_REACH`]] and read by
/// linear interpolation (error below 1e-5): decoding reads it twice per grid point.
const CDF_STEPS_PER_UNIT: f64 = 100.0;
const CDF_REACH: f64 = 8.0;

fn standard_normal_cdf(z: f64) -> f64 {
    static TABLE: LazyLock<Vec<f64>> = LazyLock::new(|| {
        let steps = (2.0 * CDF_REACH * CDF_STEPS_PER_UNIT) as usize;
        (0..=steps).map(|i| normal_cdf(-CDF_REACH + i as f64 / CDF_STEPS_PER_UNIT)).collect()
    });
    let table = &*TABLE;
    let at = (z.clamp(-CDF_REACH, CDF_REACH) + CDF_REACH) * CDF_STEPS_PER_UNIT;
    let i = (at as usize).min(table.len() - 2);
    let frac = at - i as f64;
    table[i] + (table[i + 1] - table[i]) * frac
}

/// The standard normal CDF (Abramowitz and Stegun 7.1.26: absolute error below 1.5e-7).
fn normal_cdf(z: f64) -> f64 {
    let x = z.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly =
        t * (0.254_829_592 + t * (-0.284_496_736 + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erf = 1.0 - poly * (-x * x).exp();
    if z >= 0.0 { 0.5 * (1.0 + erf) } else { 0.5 * (1.0 - erf) }
}

/// A [`Calibration`] made ready to decode: `ln P(reading bin | arc mood)` tabulated over arc
/// moods, so decoding a call is additions and look-ups (a few microseconds).
#[derive(Debug, Clone)]
pub struct Decoder {
    /// `[place][bin][mood step]`.
    log_reading: Vec<Vec<[f64; MOOD_STEPS]>>,
    /// Per resolution: the grid points worth evaluating, as (opening, closing, ln prior).
    points: [Vec<(f64, f64, f64)>; 4],
}

impl Decoder {
    /// Tabulates `calibration`.
    pub fn new(calibration: &Calibration) -> Decoder {
        let bands: Vec<[f64; BANDS]> =
            (0..MOOD_STEPS).map(|i| band_given_mood(-1.0 + i as f64 / MOOD_STEPS_PER_UNIT)).collect();
        let log_reading = calibration
            .reading_given_band
            .iter()
            .map(|given_band| {
                (0..READINGS)
                    .map(|bin| {
                        std::array::from_fn(|i| {
                            let p: f64 = (0..BANDS).map(|band| bands[i][band] * given_band[band][bin]).sum();
                            p.max(1e-300).ln()
                        })
                    })
                    .collect()
            })
            .collect();
        let points = calibration.log_prior.map(|grid| {
            let top = grid.iter().flatten().fold(f64::NEG_INFINITY, |m, &w| m.max(w));
            let mut points = Vec::new();
            for (i, row) in grid.iter().enumerate() {
                for (j, &w) in row.iter().enumerate() {
                    if w >= top - PRIOR_REACH {
                        points.push((opening_at(i), closing_at(j), w * PRIOR_WEIGHT));
                    }
                }
            }
            points
        });
        Decoder { log_reading, points }
    }

    /// The decoder for [`CALIBRATION`].
    pub fn shipped() -> &'static Decoder {
        static SHIPPED: LazyLock<Decoder> = LazyLock::new(|| Decoder::new(&CALIBRATION));
        &SHIPPED
    }

    /// Decodes the call's label from the customer's turns, in order, and the resolution read
    /// from the call. No customer turns: neutral, with probability 1 — nothing was said.
    pub fn decode(&self, turns: &[Reading], resolution: Resolution) -> Decoded {
        self.decode_evidence(&Evidence::of(turns, resolution))
    }

    /// [`Decoder::decode`] from the evidence alone, which is all it depends on.
    pub fn decode_evidence(&self, evidence: &Evidence) -> Decoded {
        let n = evidence.turns.len();
        if n == 0 {
            return Decoded { label: Sentiment::Neutral, probability: 1.0 };
        }
        // Each turn's position on the arc and its reading's row; an escalating turn is said in
        // displeasure whatever the arc, so it tells nothing of the arc and counts at most
        // ESCALATION_MOOD in the mean.
        let read: Vec<(f64, &[f64; MOOD_STEPS])> = evidence
            .turns
            .iter()
            .enumerate()
            .filter(|&(_, &bin)| bin != Evidence::ESCALATES)
            .map(|(k, &bin)| (drift(k, n), &self.log_reading[place(k, n)][usize::from(bin)]))
            .collect();
        let escalating: Vec<f64> = evidence
            .turns
            .iter()
            .enumerate()
            .filter(|&(_, &bin)| bin == Evidence::ESCALATES)
            .map(|(k, _)| drift(k, n))
            .collect();
        let read_drift: f64 = read.iter().map(|(x, _)| x).sum();
        // (log weight, mean mood) per grid point. The arc's moods are convex combinations of
        // `a` and `b`, both in [−1, 1], so they need no clamping, and the read turns' sum is
        // `count · a + (b − a) · Σx`.
        let mut points = [(f64::NEG_INFINITY, 0.0f64); OPENINGS * CLOSINGS];
        let mut best = f64::NEG_INFINITY;
        for (&(a, b, log_prior), point) in self.points[usize::from(evidence.resolution)].iter().zip(&mut points) {
            let rise = b - a;
            let mut log_weight = log_prior;
            for &(x, row) in &read {
                log_weight += row[mood_step(a + rise * x)];
            }
            let mut sum = read.len() as f64 * a + rise * read_drift;
            for &x in &escalating {
                sum += (a + rise * x).min(ESCALATION_MOOD);
            }
            *point = (log_weight, sum / n as f64);
            best = best.max(log_weight);
        }
        // The turns' own noise moves their mean off the arc's by about TURN_NOISE / √n.
        let spread = TURN_NOISE / (n as f64).sqrt();
        let mut mass = [0.0f64; 3];
        for &(log_weight, mean) in &points {
            // Points e^−NEGLIGIBLE below the best add nothing a label could turn on.
            if log_weight < best - NEGLIGIBLE {
                continue;
            }
            let w = (log_weight - best).exp();
            let positive = 1.0 - standard_normal_cdf((LABEL_BAND - mean) / spread);
            let negative = standard_normal_cdf((-LABEL_BAND - mean) / spread);
            mass[0] += w * positive;
            mass[1] += w * (1.0 - positive - negative);
            mass[2] += w * negative;
        }
        let total: f64 = mass.iter().sum();
        // On a tie neutral wins, then positive.
        let winner = [0, 2].into_iter().fold(1, |acc, k| if mass[k] > mass[acc] { k } else { acc });
        let label = [Sentiment::Positive, Sentiment::Neutral, Sentiment::Negative][winner];
        Decoded { label, probability: mass[winner] / total }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_moods(moods: &[f64], resolution: Resolution) -> Decoded {
        let turns: Vec<Reading> = moods.iter().map(|&mood| Reading { mood, escalates: false }).collect();
        Decoder::shipped().decode(&turns, resolution)
    }

    #[test]
    fn reading_bins_split_at_the_edges_and_keep_zero_apart() {
        assert_eq!(reading_bin(0.0), 0);
        assert_eq!(reading_bin(-0.9), 1);
        assert_eq!(reading_bin(-0.6), 1);
        assert_eq!(reading_bin(-0.59), 2);
        assert_eq!(reading_bin(0.01), 6);
        assert_eq!(reading_bin(-0.01), 6);
        assert_eq!(reading_bin(0.9), READINGS - 1);
    }

    #[test]
    fn normal_cdf_matches_known_values() {
        for (z, p) in [(0.0, 0.5), (1.0, 0.841_344_746), (-1.96, 0.024_997_895), (2.5, 0.993_790_335)] {
            assert!((normal_cdf(z) - p).abs() < 2e-7, "Φ({z})");
            assert!((standard_normal_cdf(z) - p).abs() < 1e-5, "tabulated Φ({z})");
        }
        assert_eq!(standard_normal_cdf(-50.0), normal_cdf(-8.0));
        assert_eq!(standard_normal_cdf(50.0), normal_cdf(8.0));
    }

    #[test]
    fn band_probabilities_sum_to_one_and_follow_the_mood() {
        for mood in [-1.0, -0.5, -0.2, 0.0, 0.15, 0.6, 1.0] {
            let p = band_given_mood(mood);
            assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-9);
            let most = (0..BANDS).max_by(|&x, &y| p[x].total_cmp(&p[y])).expect("four bands");
            if (mood + 0.5f64).abs() > 0.1 && (mood + 0.15f64).abs() > 0.1 && (mood - 0.15f64).abs() > 0.1 {
                assert_eq!(most, tone_band(mood), "mood {mood}");
            }
        }
    }

    #[test]
    fn shipped_calibration_is_a_distribution_per_band() {
        for row in CALIBRATION.reading_given_band.iter().flatten() {
            assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-6);
            assert!(row.iter().all(|&p| p > 0.0), "smoothed: no reading is impossible");
        }
        let expected_closing = |r: Resolution| {
            let grid = &CALIBRATION.log_prior[resolution_index(r)];
            let (mut sum, mut total) = (0.0, 0.0);
            for row in grid {
                for (j, &w) in row.iter().enumerate() {
                    sum += w.exp() * closing_at(j);
                    total += w.exp();
                }
            }
            assert!((total - 1.0f64).abs() < 1e-3, "a distribution over the grid: {total}");
            sum / total
        };
        assert!(expected_closing(Resolution::Resolved) > 0.5, "resolved calls end happy");
        assert!(expected_closing(Resolution::Unresolved) < -0.3, "unresolved calls do not");
    }

    #[test]
    fn clear_moods_decode_to_their_label() {
        let r = Resolution::Unknown;
        assert_eq!(decode_moods(&[0.6, 0.7, 0.5, 0.65], r).label, Sentiment::Positive);
        assert_eq!(decode_moods(&[-0.5, -0.6, -0.45, -0.7], r).label, Sentiment::Negative);
        assert_eq!(decode_moods(&[0.0, 0.0, 0.0, 0.05, 0.0], Resolution::PartiallyResolved).label, Sentiment::Neutral);
        let none = Decoder::shipped().decode(&[], r);
        assert_eq!((none.label, none.probability), (Sentiment::Neutral, 1.0));
    }

    #[test]
    fn silent_turns_after_displeasure_follow_the_outcome() {
        // The plain mean, −0.09, is inside the neutral band. An unresolved call's curt answers
        // ("It's 12345.", "No. Bye.") read 0 yet continue the opening displeasure; a resolved
        // call's are as likely neutral.
        let moods = [-0.45, 0.0, 0.0, 0.0, 0.0];
        let unresolved = decode_moods(&moods, Resolution::Unresolved);
        assert_eq!(unresolved.label, Sentiment::Negative);
        assert!(unresolved.probability > 0.5 && unresolved.probability <= 1.0);
        assert_eq!(decode_moods(&moods, Resolution::Resolved).label, Sentiment::Neutral);
    }

    #[test]
    fn an_escalating_turn_counts_as_displeasure_but_does_not_bend_the_arc() {
        let decoder = Decoder::shipped();
        let call = |third: Reading| {
            let turns = [0.35, 0.3, 0.0, 0.35, 0.4].map(|mood| Reading { mood, escalates: false });
            let mut turns = turns.to_vec();
            turns[2] = third;
            decoder.decode(&turns, Resolution::Resolved)
        };
        let calm = call(Reading { mood: 0.3, escalates: false });
        assert_eq!(calm.label, Sentiment::Positive);
        // Escalating, the turn counts at −0.5 or below in the mean: (0.33 · 4 − 0.5) / 5 ≈ 0.16
        // stays positive but less surely; its reading is not used, whatever it is.
        let escalating = call(Reading { mood: ESCALATION_MOOD, escalates: true });
        assert_eq!(escalating, call(Reading { mood: 0.9, escalates: true }));
        assert!(escalating.label != Sentiment::Positive || escalating.probability < calm.probability);
        // Read as an ordinary −0.5 turn instead, it would pull the whole arc down.
        let sour = call(Reading { mood: ESCALATION_MOOD, escalates: false });
        assert_ne!(sour, escalating);
    }

    proptest::proptest! {
        #[test]
        fn any_readings_decode_to_a_probable_label(
            turns in proptest::collection::vec((-1.0f64..=1.0, proptest::bool::weighted(0.1)), 0..60),
            resolution in 0usize..4,
        ) {
            let readings: Vec<Reading> = turns.iter().map(|&(mood, escalates)| Reading { mood, escalates }).collect();
            let resolution = [Resolution::Resolved, Resolution::PartiallyResolved, Resolution::Unresolved, Resolution::Unknown][resolution];
            let d = Decoder::shipped().decode(&readings, resolution);
            // The winner of three holds at least a third of the mass.
            proptest::prop_assert!((1.0 / 3.0 - 1e-12..=1.0 + 1e-12).contains(&d.probability), "{d:?}");
        }
    }

    #[test]
    fn a_decoder_follows_its_calibration() {
        // A calibration in which a zero reading can only come from an angry customer.
        let mut angry_zero = CALIBRATION.clone();
        for given_band in &mut angry_zero.reading_given_band {
            for (band, row) in given_band.iter_mut().enumerate() {
                row[0] = if band == 0 { 0.9 } else { 1e-9 };
            }
        }
        let moods = [Reading { mood: 0.0, escalates: false }; 4];
        let d = Decoder::new(&angry_zero).decode(&moods, Resolution::Unknown);
        assert_eq!(d.label, Sentiment::Negative);
        assert!(d.probability > 0.99);
    }
}
