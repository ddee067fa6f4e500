//! Small numeric helpers: means, medians, quantiles and the cluster bootstrap.

use thinkscope_protocol::rng::SplitMix64;
use crate::types::Interval;

pub(crate) fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// Median of the values (mean of the two middle ones for an even count); reorders them.
pub(crate) fn median(values: &mut [u32]) -> f64 {
    let n = values.len();
    if n == 0 {
        return f64::NAN;
    }
    let (below, &mut upper, _) = values.select_nth_unstable(n / 2);
    if n % 2 == 1 {
        f64::from(upper)
    } else {
        let lower = below.iter().copied().max().unwrap_or(upper);
        (f64::from(lower) + f64::from(upper)) / 2.0
    }
}

/// Quantile of sorted values with linear interpolation between order statistics
/// (Hyndman & Fan type 7, numpy's default).
pub(crate) fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// 95% percentile bootstrap interval of the mean of per-cluster values: each resample
/// draws as many clusters as there are, with replacement. Zero resamples give the
/// point estimate as a degenerate interval.
pub(crate) fn bootstrap_mean_ci(values: &[f64], resamples: u32, rng: &mut SplitMix64) -> Interval {
    if resamples == 0 {
        let m = mean(values);
        return Interval { low: m, high: m };
    }
    let n = values.len();
    let mut means: Vec<f64> = (0..resamples)
        .map(|_| (0..n).map(|_| values[rng.below(n)]).sum::<f64>() / n as f64)
        .collect();
    means.sort_by(f64::total_cmp);
    Interval { low: quantile(&means, 0.025), high: quantile(&means, 0.975) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&mut [5, 1, 3]), 3.0);
        assert_eq!(median(&mut [4, 1, 3, 10]), 3.5);
        assert_eq!(median(&mut [7]), 7.0);
    }

    #[test]
    fn quantile_interpolates_like_numpy() {
        let v = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(quantile(&v, 0.5), 3.0);
        assert_eq!(quantile(&v, 0.0), 1.0);
        assert_eq!(quantile(&v, 1.0), 5.0);
        // numpy.quantile([1,2,3,4,5], 0.025) == 1.1
        assert!((quantile(&v, 0.025) - 1.1).abs() < 1e-12);
    }

    #[test]
    fn constant_clusters_give_a_point_interval() {
        let ci = bootstrap_mean_ci(&[0.5; 20], 200, &mut SplitMix64::new(1));
        assert_eq!(ci, Interval { low: 0.5, high: 0.5 });
    }

    #[test]
    fn bootstrap_interval_matches_the_normal_approximation() {
        // 100 clusters, half right: the mean's standard error is 0.05, so the 95%
        // interval is about 0.5 ± 0.098.
        let values: Vec<f64> = (0..100).map(|i| f64::from(i % 2)).collect();
        let ci = bootstrap_mean_ci(&values, 4000, &mut SplitMix64::new(42));
        assert!((ci.low - 0.402).abs() < 0.02, "{ci:?}");
        assert!((ci.high - 0.598).abs() < 0.02, "{ci:?}");
    }
}
