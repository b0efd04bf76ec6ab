//! Scoring analytics against ground truth: precision, recall and F1, accuracy with a confusion
//! matrix, and Pearson correlation.

/// Counts for one yes/no question.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Binary {
    /// Said yes, was yes.
    pub true_positive: u64,
    /// Said yes, was no.
    pub false_positive: u64,
    /// Said no, was yes.
    pub false_negative: u64,
    /// Said no, was no.
    pub true_negative: u64,
}

impl Binary {
    /// Records one prediction.
    pub fn add(&mut self, predicted: bool, actual: bool) {
        match (predicted, actual) {
            (true, true) => self.true_positive += 1,
            (true, false) => self.false_positive += 1,
            (false, true) => self.false_negative += 1,
            (false, false) => self.true_negative += 1,
        }
    }

    /// TP / (TP + FP); 0 when nothing was predicted positive.
    pub fn precision(&self) -> f64 {
        ratio(self.true_positive, self.true_positive + self.false_positive)
    }

    /// TP / (TP + FN); 0 when nothing was positive.
    pub fn recall(&self) -> f64 {
        ratio(self.true_positive, self.true_positive + self.false_negative)
    }

    /// Harmonic mean of precision and recall; 0 when both are 0.
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 { 0.0 } else { 2.0 * p * r / (p + r) }
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// A confusion matrix over `N` labels: `counts[actual][predicted]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confusion<const N: usize> {
    /// Rows: actual label; columns: predicted label.
    pub counts: [[u64; N]; N],
}

impl<const N: usize> Default for Confusion<N> {
    fn default() -> Self {
        Confusion { counts: [[0; N]; N] }
    }
}

impl<const N: usize> Confusion<N> {
    /// Records one prediction (labels as indices).
    pub fn add(&mut self, actual: usize, predicted: usize) {
        self.counts[actual][predicted] += 1;
    }

    /// Share of predictions on the diagonal.
    pub fn accuracy(&self) -> f64 {
        let total: u64 = self.counts.iter().flatten().sum();
        ratio((0..N).map(|i| self.counts[i][i]).sum(), total)
    }

    /// One label against the rest.
    pub fn binary(&self, label: usize) -> Binary {
        let mut b = Binary::default();
        for (actual, row) in self.counts.iter().enumerate() {
            for (predicted, &n) in row.iter().enumerate() {
                match (predicted == label, actual == label) {
                    (true, true) => b.true_positive += n,
                    (true, false) => b.false_positive += n,
                    (false, true) => b.false_negative += n,
                    (false, false) => b.true_negative += n,
                }
            }
        }
        b
    }

    /// Unweighted mean of the per-label F1 over the labels that occur (as truth or prediction).
    pub fn macro_f1(&self) -> f64 {
        let present: Vec<usize> = (0..N)
            .filter(|&i| self.counts[i].iter().sum::<u64>() > 0 || (0..N).any(|a| self.counts[a][i] > 0))
            .collect();
        if present.is_empty() {
            return 0.0;
        }
        present.iter().map(|&i| self.binary(i).f1()).sum::<f64>() / present.len() as f64
    }
}

/// Pearson correlation of paired samples; `None` with fewer than two pairs or no variance.
pub fn pearson(pairs: &[(f64, f64)]) -> Option<f64> {
    let n = pairs.len() as f64;
    if pairs.len() < 2 {
        return None;
    }
    let (mx, my) = (pairs.iter().map(|p| p.0).sum::<f64>() / n, pairs.iter().map(|p| p.1).sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for &(x, y) in pairs {
        sxy += (x - mx) * (y - my);
        sxx += (x - mx) * (x - mx);
        syy += (y - my) * (y - my);
    }
    (sxx > 0.0 && syy > 0.0).then(|| sxy / (sxx * syy).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_scores_follow_their_definitions() {
        let mut b = Binary::default();
        for (p, a) in [(true, true), (true, true), (true, false), (false, true), (false, false)] {
            b.add(p, a);
        }
        assert_eq!((b.precision(), b.recall()), (2.0 / 3.0, 2.0 / 3.0));
        assert!((b.f1() - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(Binary::default().f1(), 0.0);
    }

    #[test]
    fn confusion_accuracy_and_macro_f1() {
        let mut c = Confusion::<3>::default();
        for (a, p) in [(0, 0), (0, 0), (1, 1), (1, 0), (2, 2)] {
            c.add(a, p);
        }
        assert_eq!(c.accuracy(), 0.8);
        // F1: label 0 = 0.8, label 1 = 2/3, label 2 = 1.
        assert!((c.macro_f1() - (0.8 + 2.0 / 3.0 + 1.0) / 3.0).abs() < 1e-12);
        assert_eq!(c.binary(1), Binary { true_positive: 1, false_positive: 0, false_negative: 1, true_negative: 3 });
    }

    #[test]
    fn pearson_is_one_for_a_line_and_undefined_without_variance() {
        assert!((pearson(&[(1.0, 3.0), (2.0, 5.0), (3.0, 7.0)]).unwrap() - 1.0).abs() < 1e-12);
        assert!((pearson(&[(1.0, 3.0), (2.0, 1.0)]).unwrap() + 1.0).abs() < 1e-12);
        assert_eq!(pearson(&[(1.0, 2.0), (1.0, 3.0)]), None);
        assert_eq!(pearson(&[(1.0, 2.0)]), None);
    }
}
