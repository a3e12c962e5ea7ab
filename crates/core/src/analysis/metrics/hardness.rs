//! Hardness weights (Wang & Liu 2021, docs/math.md §4): how strongly the InfoNCE gradient pushes each negative.
//!
//! For anchor i: r_ik = exp(s_ik/τ) / Σ_{k'≠i} exp(s_ik'/τ) over all k ≠ i, with s_ik = ẑ_iᵀẑ_k; r_ii = 0.
//! Smaller τ concentrates the weight on the nearest negatives. The softmax is max-shifted.

use super::unit_rows_f64;
use crate::matrix::Matrix;

/// Smallest temperature used: τ from a slider may reach 0, which the formula cannot take.
const MIN_TAU: f32 = 1e-4;

/// Hardness weights of every row k for `anchor` (length z.rows, summing to 1 when there are other rows).
/// An anchor out of range gives all zeros; τ ≤ 0 is clamped to 1e-4, a non-finite τ is taken as 1.
pub fn hardness_weights(z: &Matrix<f32>, anchor: usize, tau: f32) -> Vec<f64> {
    let n = z.rows;
    let mut weights = vec![0.0; n];
    if anchor >= n || n < 2 {
        return weights;
    }
    let tau = if tau.is_finite() { tau.max(MIN_TAU) as f64 } else { 1.0 };
    let zh = unit_rows_f64(z);
    let a = zh.row(anchor);
    for (k, w) in weights.iter_mut().enumerate() {
        if k != anchor {
            *w = a.iter().zip(zh.row(k)).map(|(x, y)| x * y).sum::<f64>() / tau;
        }
    }
    let max = weights.iter().enumerate().filter(|&(k, _)| k != anchor).map(|(_, &v)| v).fold(f64::MIN, f64::max);
    let mut sum = 0.0;
    for (k, w) in weights.iter_mut().enumerate() {
        *w = if k == anchor { 0.0 } else { (*w - max).exp() };
        sum += *w;
    }
    weights.iter_mut().for_each(|w| *w /= sum);
    weights
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{normal, rng, stream};

    #[test]
    fn hardness_weights_sum_to_one_and_concentrate_as_tau_falls() {
        let mut g = rng(1, stream::TEST);
        let z = Matrix::from_vec(20, 3, (0..60).map(|_| normal(&mut g) as f32).collect());
        let mut last_max = 0.0;
        for tau in [2.0, 0.5, 0.1, 0.02] {
            let w = hardness_weights(&z, 4, tau);
            assert_eq!(w[4], 0.0);
            assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-12);
            let max = w.iter().copied().fold(0.0, f64::max);
            assert!(max > last_max, "max weight {max} at τ = {tau} did not grow");
            last_max = max;
        }
    }

    #[test]
    fn hardness_weights_are_uniform_for_equal_similarities_and_safe_on_bad_input() {
        let z = Matrix::from_vec(3, 2, vec![1.0, 0.0, 0.0, 1.0, 0.0, -1.0]);
        let w = hardness_weights(&z, 0, 0.5);
        assert!((w[1] - 0.5).abs() < 1e-12 && (w[2] - 0.5).abs() < 1e-12);
        assert_eq!(hardness_weights(&z, 9, 0.5), vec![0.0; 3]);
        assert!((hardness_weights(&z, 1, 0.0).iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!((hardness_weights(&z, 1, f32::NAN).iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }
}
