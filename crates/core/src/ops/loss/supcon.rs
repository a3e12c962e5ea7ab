//! Supervised contrastive loss (Khosla et al. 2020, the "L_out" form; docs/math.md §1.4), in
//! pytorch-metric-learning's SupConLoss form.
//!
//! Shapes: z is 2N × d (any stacking works: only labels say who is positive); labels has 2N entries, one
//! per view (the trainer passes each sample's label twice); S = ẐẐᵀ is 2N × 2N.
//!
//! Value: with P(i) = {p ≠ i : y_p = y_i}, a_ik = s_ik/τ and lse_i = log Σ_{k≠i} exp(a_ik) (max-shifted),
//!   ℓ_i = −(1/|P(i)|) Σ_{p∈P(i)} (a_ip − lse_i),   L = mean of ℓ_i over the A anchors with |P(i)| > 0
//! (anchors with no positive are left out of the mean, like PML's AvgNonZeroReducer).
//! Gradient: with q_ik = softmax_{k≠i}(a_ik), ∂ℓ_i/∂a_ik = q_ik − 1[k∈P(i)]/|P(i)|, so
//!   ∂L/∂s_ik = (q_ik − 1[k∈P(i)]/|P(i)|) / (A·τ),
//! then ∂L/∂ẑ = (G + Gᵀ)Ẑ and back through the normalisation.
//!
//! One deliberate difference from PML: PML returns 0 for a batch with no negative pair at all (every label
//! equal); docs/math.md §1.4's formula, followed here, still gives the mean of ℓ_i over the anchors.

// Index loops on purpose: they read like the formulas above (STYLE.md, llm.c).
#![allow(clippy::needless_range_loop)]

use super::{grad_from_similarity_grad, normalized_gram};
use crate::float::Float;
use crate::matrix::Matrix;

/// SupCon (docs/math.md §1.4): (L, ∂L/∂z). `labels`: one class id per row of z.
pub fn value_and_grad<F: Float>(z: &Matrix<F>, tau: F, labels: &[usize]) -> (F, Matrix<F>) {
    let n2 = z.rows;
    assert_eq!(labels.len(), n2, "SupCon: one label per view (row of z) is needed");
    // Anchors with at least one positive, and the mean's divisor A.
    let positives: Vec<usize> =
        (0..n2).map(|i| (0..n2).filter(|&p| p != i && labels[p] == labels[i]).count()).collect();
    let anchors = positives.iter().filter(|&&c| c > 0).count();
    let (zhat, norms, mut g) = normalized_gram(z); // g holds S, then G row by row
    if anchors == 0 {
        return (F::zero(), Matrix::zeros(z.rows, z.cols));
    }
    let inv_a_tau = F::one() / (F::of(anchors as f64) * tau);
    let mut e = vec![F::zero(); n2];
    let mut total = 0.0f64;
    for i in 0..n2 {
        let row = g.row_mut(i);
        if positives[i] == 0 {
            row.iter_mut().for_each(|v| *v = F::zero()); // not an anchor: no value, no gradient
            continue;
        }
        let inv_p = F::one() / F::of(positives[i] as f64);
        // lse_i = max + log Σ_{k≠i} e^{a_ik − max}
        let max = (0..n2).filter(|&k| k != i).map(|k| row[k] / tau).fold(F::neg_infinity(), F::max);
        let mut sum = F::zero();
        for k in (0..n2).filter(|&k| k != i) {
            e[k] = (row[k] / tau - max).exp();
            sum = sum + e[k];
        }
        let lse = max + sum.ln();
        // ℓ_i = −(1/|P|) Σ_p (a_ip − lse_i)
        let mut li = F::zero();
        for k in (0..n2).filter(|&k| k != i && labels[k] == labels[i]) {
            li = li - (row[k] / tau - lse) * inv_p;
        }
        total += li.f64();
        // G_ik = (q_ik − 1[k∈P]/|P|) / (Aτ)
        for k in 0..n2 {
            row[k] = if k == i {
                F::zero()
            } else {
                let target = if labels[k] == labels[i] { inv_p } else { F::zero() };
                (e[k] / sum - target) * inv_a_tau
            };
        }
    }
    let grad = grad_from_similarity_grad(g, &zhat, &norms);
    (F::of(total / anchors as f64), grad)
}

/// The plain formula, untuned: f64, one pair at a time, O(N·d) memory (checks the GPU at 65,536 views).
pub mod reference {
    use crate::matrix::Matrix;
    use crate::ops::normalize::{normalize_backward, normalize_forward};

    /// (L, ∂L/∂z) of SupCon at temperature τ on z (2N × d) with one class id per row.
    pub fn value_and_grad(z: &Matrix<f64>, tau: f64, labels: &[usize]) -> (f64, Matrix<f64>) {
        let n2 = z.rows;
        let (zh, norms) = normalize_forward(z);
        let s = |i: usize, k: usize| zh.row(i).iter().zip(zh.row(k)).map(|(a, b)| a * b).sum::<f64>();
        let positive = |i: usize, k: usize| k != i && labels[k] == labels[i];
        let npos: Vec<usize> = (0..n2).map(|i| (0..n2).filter(|&k| positive(i, k)).count()).collect();
        let anchors = npos.iter().filter(|&&c| c > 0).count();
        let d = z.cols;
        if anchors == 0 {
            return (0.0, Matrix::zeros(n2, d));
        }
        // Value: lse_i = m_i + log l_i over k ≠ i (m_i = max_{k≠i} s_ik/τ, l_i = Σ_{k≠i} exp(s_ik/τ − m_i));
        // ℓ_i = −(1/|P(i)|) Σ_{p∈P(i)} (s_ip/τ − lse_i) for the A anchors with |P(i)| > 0; L = (1/A) Σ ℓ_i.
        let mut m = vec![f64::NEG_INFINITY; n2];
        let mut l = vec![0.0; n2];
        let mut loss = 0.0;
        for i in (0..n2).filter(|&i| npos[i] > 0) {
            for k in (0..n2).filter(|&k| k != i) {
                m[i] = m[i].max(s(i, k) / tau);
            }
            for k in (0..n2).filter(|&k| k != i) {
                l[i] += (s(i, k) / tau - m[i]).exp();
            }
            let lse = m[i] + l[i].ln();
            for p in (0..n2).filter(|&p| positive(i, p)) {
                loss -= (s(i, p) / tau - lse) / npos[i] as f64;
            }
        }
        let loss = loss / anchors as f64;
        // Gradient: G_ik = (q_ik − 1[k∈P(i)]/|P(i)|) / (A·τ) for anchors i, k ≠ i, q_ik = exp(s_ik/τ − m_i)/l_i;
        // ∂L/∂ẑ_i = Σ_k (G_ik + G_ki)·ẑ_k; then ∂L/∂z through the normalisation.
        let mut g_hat = Matrix::zeros(n2, d);
        for i in (0..n2).filter(|&i| npos[i] > 0) {
            for k in (0..n2).filter(|&k| k != i) {
                let q = (s(i, k) / tau - m[i]).exp() / l[i];
                let target = if positive(i, k) { 1.0 / npos[i] as f64 } else { 0.0 };
                let g = (q - target) / (anchors as f64 * tau);
                for c in 0..d {
                    g_hat.data[i * d + c] += g * zh.data[k * d + c];
                    g_hat.data[k * d + c] += g * zh.data[i * d + c];
                }
            }
        }
        (loss, normalize_backward(&zh, &norms, &g_hat))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{LossKind, PairMode};
    use crate::loss::loss_and_grad;
    use crate::loss::test_util::params;
    use crate::rng::{rng, stream};
    use crate::testing::{assert_gradient_matches, random_matrix};

    #[test]
    fn supcon_gradient_matches_finite_differences_with_repeated_labels() {
        let mut r = rng(61, stream::TEST);
        let z = random_matrix(&mut r, 10, 3);
        // Samples 0..5 with labels [0, 1, 0, 2, 1], each passed twice (view 1, view 2); sample 3 is the only
        // one of class 2, so its views have each other as their one positive.
        let labels = [0, 1, 0, 2, 1, 0, 1, 0, 2, 1];
        let p = params(LossKind::Supcon, PairMode::None);
        let (_, grad) = loss_and_grad(&p, &z, None, Some(&labels));
        assert_gradient_matches("SupCon", &z, &grad, |x| loss_and_grad(&p, x, None, Some(&labels)).0);
        // An anchor with no positive (label 7 appears once) is left out of the mean; the gradient still holds.
        let labels = [0, 1, 0, 2, 7, 0, 1, 0, 2, 1];
        let (_, grad) = loss_and_grad(&p, &z, None, Some(&labels));
        assert_gradient_matches("SupCon, lone anchor", &z, &grad, |x| loss_and_grad(&p, x, None, Some(&labels)).0);
    }

    #[test]
    fn supcon_equals_a_naive_double_loop_and_leaves_lone_anchors_out() {
        let mut r = rng(62, stream::TEST);
        let z = random_matrix(&mut r, 8, 4);
        let labels = [0, 1, 0, 3, 0, 1, 2, 2];
        let zh = z.normalized_rows();
        let s = |i: usize, k: usize| zh.row(i).iter().zip(zh.row(k)).map(|(a, b)| a * b).sum::<f64>();
        let tau = 0.25;
        let (mut total, mut anchors) = (0.0, 0);
        for i in 0..8 {
            let pos: Vec<usize> = (0..8).filter(|&p| p != i && labels[p] == labels[i]).collect();
            if pos.is_empty() {
                continue; // anchor 3 (label 3) has none
            }
            let den: f64 = (0..8).filter(|&k| k != i).map(|k| (s(i, k) / tau).exp()).sum();
            total -= pos.iter().map(|&p| ((s(i, p) / tau).exp() / den).ln()).sum::<f64>() / pos.len() as f64;
            anchors += 1;
        }
        assert_eq!(anchors, 7);
        let (l, _) = value_and_grad(&z, tau, &labels);
        assert!((l - total / anchors as f64).abs() < 1e-12);
        // SimCLR labels (each sample its own class) make SupCon equal InfoNCE.
        let simclr = [0, 1, 2, 3, 0, 1, 2, 3];
        let (ls, gs) = value_and_grad(&z, tau, &simclr);
        let (li, gi) = crate::loss::infonce::value_and_grad(
            &z,
            tau,
            crate::loss::infonce::Modifier::Scale { sigma: 0.0, rho: 1.0 },
            None,
        );
        assert!((ls - li).abs() < 1e-12);
        assert!(gs.data.iter().zip(&gi.data).all(|(a, b)| (a - b).abs() < 1e-12));
    }

    #[test]
    fn supcon_in_f32_and_f64_agree_on_random_input() {
        let mut r = rng(63, stream::TEST);
        let z64 = random_matrix(&mut r, 24, 5);
        let labels: Vec<usize> = (0..24).map(|i| (i % 12) % 4).collect();
        let z32 = Matrix::<f32>::from_f64(24, 5, &z64.data);
        let (l64, g64) = value_and_grad(&z64, 0.3, &labels);
        let (l32, g32) = value_and_grad(&z32, 0.3, &labels);
        assert!((l64 - l32 as f64).abs() < 1e-5);
        for (a, b) in g64.data.iter().zip(&g32.data) {
            assert!((a - *b as f64).abs() < 1e-5, "{a} vs {b}");
        }
    }

    #[test]
    fn the_tuned_path_matches_the_plain_reference() {
        let mut r = rng(63, stream::TEST);
        for (rows, d) in [(6, 2), (70, 33), (130, 5)] {
            let z = random_matrix(&mut r, rows, d);
            // Three classes per view, and one lone sample (no positive but its own other view).
            let labels: Vec<usize> =
                (0..rows).map(|i| if i % (rows / 2) == 1 { 9 } else { (i % (rows / 2)) % 3 }).collect();
            let (want, want_grad) = reference::value_and_grad(&z, 0.3, &labels);
            let (got, grad) = value_and_grad(&z, 0.3, &labels);
            assert!((got - want).abs() <= 1e-12 * want.abs(), "{rows}×{d}: {got} vs {want}");
            let c = crate::tolerance::Tol { rtol: 1e-9, atol_frac: 1e-9 }.compare(&grad.data, &want_grad.data);
            assert!(c.passed(), "{rows}×{d}: {}", c.describe());
        }
        let z = random_matrix(&mut r, 10, 3);
        let labels = [0, 1, 0, 2, 7, 0, 1, 0, 2, 1];
        let (_, grad) = reference::value_and_grad(&z, 0.5, &labels);
        assert_gradient_matches("plain SupCon reference", &z, &grad, |x| reference::value_and_grad(x, 0.5, &labels).0);
    }
}
