//! Summaries of samples: percentiles by nearest rank.

use serde::{Deserialize, Serialize};

/// A summary of a set of samples (all in the same unit, milliseconds unless a field says otherwise).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub count: usize,
    pub min: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
    pub mean: f64,
}

impl Summary {
    /// The summary of `samples`; `None` when there are none. NaN samples are ignored.
    pub fn of(samples: &[f64]) -> Option<Summary> {
        let mut sorted: Vec<f64> = samples.iter().copied().filter(|s| !s.is_nan()).collect();
        if sorted.is_empty() {
            return None;
        }
        sorted.sort_by(f64::total_cmp);
        let count = sorted.len();
        Some(Summary {
            count,
            min: sorted[0],
            p50: percentile(&sorted, 50.0),
            p90: percentile(&sorted, 90.0),
            p99: percentile(&sorted, 99.0),
            max: sorted[count - 1],
            mean: sorted.iter().sum::<f64>() / count as f64,
        })
    }
}

/// The nearest-rank percentile `p` (0–100] of sorted, non-empty samples.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// `part / whole` as a percentage with one decimal, for the report (`whole` = 0 gives 0).
pub fn percent(part: f64, whole: f64) -> f64 {
    if whole == 0.0 { 0.0 } else { (part / whole * 1000.0).round() / 10.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let samples: Vec<f64> = (1..=100).rev().map(f64::from).collect();
        let s = Summary::of(&samples).unwrap();
        assert_eq!((s.count, s.min, s.p50, s.p90, s.p99, s.max), (100, 1.0, 50.0, 90.0, 99.0, 100.0));
        assert_eq!(s.mean, 50.5);
    }

    #[test]
    fn few_samples_and_nan() {
        assert_eq!(Summary::of(&[]), None);
        assert_eq!(Summary::of(&[f64::NAN]), None);
        let s = Summary::of(&[3.0, f64::NAN, 1.0]).unwrap();
        assert_eq!((s.count, s.p50, s.p99), (2, 1.0, 3.0));
    }

    #[test]
    fn percentages() {
        assert_eq!(percent(1.0, 3.0), 33.3);
        assert_eq!(percent(5.0, 0.0), 0.0);
    }
}
