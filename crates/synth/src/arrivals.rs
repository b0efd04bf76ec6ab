//! When calls arrive: a Poisson process whose rate follows the working day and week.
//!
//! The rate is piecewise constant per hour: `DIURNAL[hour] × WEEKDAY[day]` (UTC). Arrivals are
//! drawn by time rescaling: exponential gaps in *cumulative-intensity* time, mapped back through
//! the intensity, so each arrival costs O(1) and the stream needs no look-ahead. The mean gap is
//! set so that `calls` arrivals are expected to fill the window; the last few may spill past it,
//! as a real Poisson count would.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp1};

/// Relative call volume per UTC hour of day: quiet nights, a morning peak, a post-lunch peak.
pub const DIURNAL: [f64; 24] = [
    0.12, 0.08, 0.06, 0.06, 0.08, 0.15, 0.35, 0.7, 1.15, 1.5, 1.6, 1.55, 1.35, 1.45, 1.55, 1.5, 1.35, 1.15, 0.9, 0.7,
    0.55, 0.4, 0.28, 0.18,
];

/// Relative call volume per day of week, Monday first: Mondays busiest, weekends quiet.
pub const WEEKDAY: [f64; 7] = [1.2, 1.05, 1.0, 1.0, 0.95, 0.6, 0.45];

const HOUR_MS: i64 = 3_600_000;

/// Relative intensity of the hour that starts at `hour` (hours since the Unix epoch).
fn weight(hour: i64) -> f64 {
    let day = hour.div_euclid(24);
    // 1970-01-01 was a Thursday (index 3 with Monday = 0).
    let weekday = (day + 3).rem_euclid(7) as usize;
    DIURNAL[hour.rem_euclid(24) as usize] * WEEKDAY[weekday]
}

/// The arrival stream.
#[derive(Debug)]
pub struct Arrivals {
    rng: ChaCha8Rng,
    /// Current time, ms.
    now_ms: f64,
    /// Mean gap in weight-milliseconds.
    mean_gap: f64,
}

impl Arrivals {
    /// Arrivals of `calls` calls expected over `[start_ms, start_ms + window_ms)`.
    pub fn new(rng: ChaCha8Rng, start_ms: i64, window_ms: i64, calls: u64) -> Arrivals {
        let total = integrate(start_ms, start_ms + window_ms.max(1));
        Arrivals { rng, now_ms: start_ms as f64, mean_gap: total / calls.max(1) as f64 }
    }

    /// The next arrival time, ms.
    pub fn next_ms(&mut self) -> i64 {
        let mut budget = self.mean_gap * Distribution::<f64>::sample(&Exp1, &mut self.rng);
        loop {
            let hour = (self.now_ms as i64).div_euclid(HOUR_MS);
            let w = weight(hour);
            let hour_end = ((hour + 1) * HOUR_MS) as f64;
            let available = (hour_end - self.now_ms) * w;
            if budget <= available {
                self.now_ms += budget / w;
                return self.now_ms as i64;
            }
            budget -= available;
            self.now_ms = hour_end;
        }
    }

    /// A uniform draw for callers that share this stream (unused by the process itself).
    pub fn jitter(&mut self) -> f64 {
        self.rng.random()
    }
}

/// ∫ weight over `[from_ms, to_ms)`, in weight-milliseconds.
fn integrate(from_ms: i64, to_ms: i64) -> f64 {
    let mut total = 0.0;
    let mut t = from_ms;
    while t < to_ms {
        let hour = t.div_euclid(HOUR_MS);
        let end = ((hour + 1) * HOUR_MS).min(to_ms);
        total += (end - t) as f64 * weight(hour);
        t = end;
    }
    total
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn arrivals_fill_the_window_and_follow_the_day() {
        let start = 1_767_600_000_000; // 2026-01-05T08:00:00Z, a Monday
        let week = 7 * 24 * HOUR_MS;
        let n = 200_000;
        let mut a = Arrivals::new(ChaCha8Rng::seed_from_u64(1), start, week, n);
        let mut per_hour = [0u64; 24];
        let mut last = start;
        let mut inside = 0;
        for _ in 0..n {
            let t = a.next_ms();
            assert!(t >= last, "arrivals are ordered");
            last = t;
            if t < start + week {
                inside += 1;
            }
            per_hour[(t.div_euclid(HOUR_MS) % 24) as usize] += 1;
        }
        assert!(inside as f64 > 0.99 * n as f64, "{inside} of {n} inside the window");
        // Ten in the morning is far busier than three at night, in proportion to the curve.
        let ratio = per_hour[10] as f64 / per_hour[3] as f64;
        let expected = DIURNAL[10] / DIURNAL[3];
        assert!((ratio / expected - 1.0).abs() < 0.15, "ratio {ratio} vs {expected}");
    }
}
