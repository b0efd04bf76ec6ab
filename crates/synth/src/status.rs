//! How often calls end busy, unanswered, failed or cancelled.

use std::fmt;
use std::str::FromStr;

use model::CallStatus;
use rand::Rng;

/// Probability of each final status; they sum to 1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StatusRates([f64; 5]);

impl Default for StatusRates {
    /// 86 % completed, 3 % busy, 5 % no-answer, 2 % failed, 4 % canceled: a contact centre
    /// that answers most calls, with the remainder split in the proportions call-centre
    /// reporting typically shows (callers giving up before answer the largest part).
    fn default() -> StatusRates {
        StatusRates([0.86, 0.03, 0.05, 0.02, 0.04])
    }
}

impl StatusRates {
    /// The rate of one status.
    pub fn rate(&self, status: CallStatus) -> f64 {
        self.0[CallStatus::ALL.iter().position(|s| *s == status).expect("listed")]
    }

    /// Draws a status.
    pub fn sample(&self, rng: &mut impl Rng) -> CallStatus {
        let mut u: f64 = rng.random();
        for (status, p) in CallStatus::ALL.iter().zip(self.0) {
            if u < p {
                return *status;
            }
            u -= p;
        }
        CallStatus::Completed
    }
}

impl FromStr for StatusRates {
    type Err = String;

    /// Parses `completed=0.9,busy=0.04,no-answer=0.03,failed=0.01,canceled=0.02`; statuses left
    /// out get 0.
    fn from_str(text: &str) -> Result<StatusRates, String> {
        let mut rates = [0.0; 5];
        let mut seen = [false; 5];
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, value) =
                part.split_once('=').ok_or_else(|| format!("{part:?} is not STATUS=RATE (e.g. busy=0.03)"))?;
            let i = CallStatus::ALL
                .iter()
                .position(|s| s.as_str() == name.trim())
                .ok_or_else(|| format!("unknown status {name:?} (use completed, busy, no-answer, failed, canceled)"))?;
            if seen[i] {
                return Err(format!("status {name:?} is given twice"));
            }
            seen[i] = true;
            let v: f64 = value.trim().parse().map_err(|_| format!("rate {value:?} for {name} is not a number"))?;
            if !(0.0..=1.0).contains(&v) {
                return Err(format!("rate {v} for {name} is outside 0..1"));
            }
            rates[i] = v;
        }
        let sum: f64 = rates.iter().sum();
        if (sum - 1.0).abs() > 1e-6 {
            return Err(format!("status rates must sum to 1, these sum to {sum}"));
        }
        if rates[0] == 0.0 {
            return Err("completed must have a rate above 0: no call would be talked".into());
        }
        Ok(StatusRates(rates))
    }
}

impl fmt::Display for StatusRates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (s, r)) in CallStatus::ALL.iter().zip(self.0).enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{}={r}", s.as_str())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn parses_validates_and_round_trips() {
        let r: StatusRates = "completed=0.9, busy=0.1".parse().unwrap();
        assert_eq!(r.rate(CallStatus::Busy), 0.1);
        assert_eq!(r.rate(CallStatus::Failed), 0.0);
        assert_eq!(StatusRates::default().to_string().parse::<StatusRates>().unwrap(), StatusRates::default());
        let err = |t: &str| t.parse::<StatusRates>().unwrap_err();
        assert_eq!(err("completed=0.5,busy=0.1"), "status rates must sum to 1, these sum to 0.6");
        assert!(err("completed=0.9,ringing=0.1").starts_with("unknown status \"ringing\""));
        assert!(err("completed=1.5").contains("outside 0..1"));
        assert!(err("completed").contains("not STATUS=RATE"));
        assert!(err("completed=x").contains("not a number"));
        assert!(err("busy=1").contains("completed must have a rate above 0"));
        assert!(err("completed=0.5,completed=0.5").contains("given twice"));
    }

    #[test]
    fn samples_follow_the_rates() {
        let rates = StatusRates::default();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let n = 100_000;
        let busy = (0..n).filter(|_| rates.sample(&mut rng) == CallStatus::Busy).count();
        assert!((busy as f64 / n as f64 - 0.03).abs() < 0.004);
    }
}
