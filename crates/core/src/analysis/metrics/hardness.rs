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

/// What the hardness view reads off one anchor of a batch of 2N views (views stacked, the positive of view i is
/// (i + N) mod 2N): the weights at τ and at a second temperature, the negatives hardest first, and three
/// summaries of the push.
#[derive(Clone, Debug, PartialEq)]
pub struct AnchorHardness {
    pub anchor: usize,
    /// r_k at τ and at the compared temperature (length 2N; r_anchor = 0).
    pub weights: Vec<f64>,
    pub compared: Vec<f64>,
    /// The negatives (every k but the anchor and its positive), largest weight first.
    pub negatives: Vec<usize>,
    /// r of the positive.
    pub positive_share: f64,
    /// exp(entropy) of the negatives' weights renormalised: about 1 when one negative takes the whole push, the
    /// number of negatives when all are pushed alike.
    pub effective_negatives: f64,
    /// The share of the negatives' weight on views of the anchor's own class.
    pub same_class_share: f64,
}

/// `AnchorHardness` of `anchor` on z (2N × d) at τ and at `compared_tau`; `same_class(k)` says whether view k
/// is of the anchor's class.
pub fn anchor_hardness(
    z: &Matrix<f32>,
    anchor: usize,
    tau: f32,
    compared_tau: f32,
    same_class: impl Fn(usize) -> bool,
) -> AnchorHardness {
    let weights = hardness_weights(z, anchor, tau);
    let compared = hardness_weights(z, anchor, compared_tau);
    let positive = (anchor + z.rows / 2) % z.rows.max(1);
    let mut negatives: Vec<usize> = (0..weights.len()).filter(|&k| k != anchor && k != positive).collect();
    negatives.sort_by(|&a, &b| weights[b].total_cmp(&weights[a]));
    let total: f64 = negatives.iter().map(|&k| weights[k]).sum();
    let entropy: f64 = negatives.iter().map(|&k| weights[k] / total).filter(|&p| p > 0.0).map(|p| -p * p.ln()).sum();
    let same: f64 = negatives.iter().filter(|&&k| same_class(k)).map(|&k| weights[k]).sum();
    AnchorHardness {
        anchor,
        positive_share: weights.get(positive).copied().unwrap_or(0.0),
        effective_negatives: entropy.exp(),
        same_class_share: same / total.max(1e-300),
        weights,
        compared,
        negatives,
    }
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

    #[test]
    fn anchor_summaries_read_the_weights() {
        let mut g = rng(2, stream::TEST);
        let z = Matrix::from_vec(12, 3, (0..36).map(|_| normal(&mut g) as f32).collect());
        let h = anchor_hardness(&z, 2, 0.3, 1.2, |k| k % 2 == 0);
        assert_eq!(h.weights, hardness_weights(&z, 2, 0.3));
        assert_eq!(h.compared, hardness_weights(&z, 2, 1.2));
        // Ten negatives (not the anchor 2, not its positive 8), hardest first.
        assert_eq!(h.negatives.len(), 10);
        assert!(!h.negatives.contains(&2) && !h.negatives.contains(&8));
        assert!(h.negatives.windows(2).all(|p| h.weights[p[0]] >= h.weights[p[1]]));
        assert_eq!(h.positive_share, h.weights[8]);
        let neg: f64 = h.negatives.iter().map(|&k| h.weights[k]).sum();
        let same: f64 = h.negatives.iter().filter(|&&k| k % 2 == 0).map(|&k| h.weights[k]).sum();
        assert!((h.same_class_share - same / neg).abs() < 1e-12);
        assert!(h.effective_negatives > 1.0 && h.effective_negatives < 10.0, "{}", h.effective_negatives);
        // Equal weights: every negative counts fully.
        let flat = Matrix::from_vec(4, 2, vec![1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, -1.0]);
        let h = anchor_hardness(&flat, 0, 0.5, 0.5, |_| false);
        assert_eq!(h.negatives.len(), 2);
        assert!((h.effective_negatives - 2.0).abs() < 1e-12, "{}", h.effective_negatives);
    }
}
