//! The study's statistics (docs/math.md §3.3): a cell's mean with its Student-t 95 % interval, and a method's
//! difference to the baseline paired by seed with the two-sided paired t-test. Student's t comes from statrs;
//! tests/fixtures/stats holds the same numbers computed once by scipy, with the script that made them.

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, StudentsT};

/// The name of the test `paired` runs, as written into summary.json.
pub const PAIRED_TEST: &str = "paired t-test, two-sided";

/// Mean, sample standard deviation and 95 % interval of one cell's values.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Describe {
    pub n: usize,
    pub mean: f64,
    /// Sample standard deviation (n − 1 in the denominator); 0 for one value.
    pub sd: f64,
    /// mean ± t_{0.975, n−1}·sd/√n; the point itself for n = 1 (no interval can be given).
    pub ci95: [f64; 2],
}

/// A method's difference to the baseline, paired by seed.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Paired {
    pub n: usize,
    /// Mean of d_k = method_k − baseline_k.
    pub mean_diff: f64,
    pub sd_diff: f64,
    pub ci95: [f64; 2],
    /// Two-sided p-value of H0: E[d] = 0 (1 when n < 2: nothing can be rejected).
    pub p_value: f64,
}

/// t_{0.975, df}: the factor of a 95 % two-sided interval.
fn t975(df: usize) -> f64 {
    StudentsT::new(0.0, 1.0, df as f64).map_or(f64::NAN, |t| t.inverse_cdf(0.975))
}

fn mean_sd(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let sd = if xs.len() > 1 { (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt() } else { 0.0 };
    (mean, sd)
}

/// Mean, sd and 95 % interval of `xs`; None for no values.
pub fn describe(xs: &[f64]) -> Option<Describe> {
    if xs.is_empty() {
        return None;
    }
    let (mean, sd) = mean_sd(xs);
    let n = xs.len();
    let half = if n > 1 { t975(n - 1) * sd / (n as f64).sqrt() } else { 0.0 };
    Some(Describe { n, mean, sd, ci95: [mean - half, mean + half] })
}

/// The paired comparison of `method` with `baseline` (equal lengths, paired by position: by seed); None when
/// the lengths differ or are zero.
pub fn paired(method: &[f64], baseline: &[f64]) -> Option<Paired> {
    if method.len() != baseline.len() || method.is_empty() {
        return None;
    }
    let d: Vec<f64> = method.iter().zip(baseline).map(|(m, b)| m - b).collect();
    let n = d.len();
    let (mean, sd) = mean_sd(&d);
    if n < 2 {
        return Some(Paired { n, mean_diff: mean, sd_diff: 0.0, ci95: [mean, mean], p_value: 1.0 });
    }
    let se = sd / (n as f64).sqrt();
    let half = t975(n - 1) * se;
    let p_value = if se == 0.0 {
        if mean == 0.0 { 1.0 } else { 0.0 }
    } else {
        let t = StudentsT::new(0.0, 1.0, (n - 1) as f64).expect("df ≥ 1");
        (2.0 * (1.0 - t.cdf((mean / se).abs()))).clamp(0.0, 1.0)
    };
    Some(Paired { n, mean_diff: mean, sd_diff: sd, ci95: [mean - half, mean + half], p_value })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_handles_one_and_no_values() {
        assert_eq!(describe(&[]), None);
        let one = describe(&[0.7]).unwrap();
        assert_eq!((one.n, one.mean, one.sd, one.ci95), (1, 0.7, 0.0, [0.7, 0.7]));
    }

    #[test]
    fn identical_differences_have_a_point_interval() {
        let p = paired(&[1.0, 2.0, 3.0], &[0.5, 1.5, 2.5]).unwrap();
        assert_eq!((p.mean_diff, p.sd_diff, p.p_value), (0.5, 0.0, 0.0));
        assert_eq!(paired(&[1.0, 2.0], &[1.0, 2.0]).unwrap().p_value, 1.0);
        assert_eq!(paired(&[1.0], &[1.0, 2.0]), None);
    }

    /// Against values computed once by scipy 1.x (tests/fixtures/stats/make_fixtures.py writes them).
    #[test]
    fn matches_scipy_on_the_fixtures() {
        let text = include_str!("../../../../tests/fixtures/stats/fixtures.json");
        let cases: serde_json::Value = serde_json::from_str(text).unwrap();
        let close =
            |a: f64, b: f64, what: &str| assert!((a - b).abs() <= 1e-9 * b.abs().max(1.0), "{what}: {a} vs scipy {b}");
        for case in cases.as_array().unwrap() {
            let vec =
                |k: &str| -> Vec<f64> { case[k].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect() };
            let f = |k: &str| case[k].as_f64().unwrap();
            let (a, b) = (vec("a"), vec("b"));
            let d = describe(&a).unwrap();
            close(d.mean, f("mean_a"), "mean");
            close(d.sd, f("sd_a"), "sd");
            close(d.ci95[0], f("ci_a_lo"), "ci lo");
            close(d.ci95[1], f("ci_a_hi"), "ci hi");
            let p = paired(&a, &b).unwrap();
            close(p.mean_diff, f("mean_diff"), "mean_diff");
            close(p.ci95[0], f("diff_ci_lo"), "diff ci lo");
            close(p.ci95[1], f("diff_ci_hi"), "diff ci hi");
            close(p.p_value, f("p_value"), "p");
        }
    }
}
