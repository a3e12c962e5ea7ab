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
//! Tuned path: the rows of S become G's in `SupConRows::similarity_to_gradient` (branch-free, so it vectorises),
//! inside the similarity losses' shared computation (`super::similarity_loss`); the plain reference is below.
//!
//! One deliberate difference from PML: PML returns 0 for a batch with no negative pair at all (every label
//! equal); docs/math.md §1.4's formula, followed here, still gives the mean of ℓ_i over the anchors.

// Index loops on purpose in the reference: they read like the formulas above (STYLE.md, llm.c).
#![allow(clippy::needless_range_loop)]

use super::infonce::{lanes_dot, lanes_max, lanes_sum};
use super::similarity_loss;
use crate::float::Float;
use crate::matrix::Matrix;

/// SupCon (docs/math.md §1.4): (L, ∂L/∂z). `labels`: one class id per row of z.
pub fn value_and_grad<F: Float>(z: &Matrix<F>, tau: F, labels: &[usize]) -> (F, Matrix<F>) {
    let n2 = z.rows;
    assert_eq!(labels.len(), n2, "SupCon: one label per view (row of z) is needed");
    // |P(i)| from each class's size, and the anchors (|P(i)| > 0) whose mean L is.
    let mut class_size = std::collections::HashMap::new();
    for &y in labels {
        *class_size.entry(y).or_insert(0usize) += 1;
    }
    let positives: Vec<usize> = labels.iter().map(|y| class_size[y] - 1).collect();
    let anchors = positives.iter().filter(|&&c| c > 0).count();
    if anchors == 0 {
        return (F::zero(), Matrix::zeros(z.rows, z.cols));
    }
    let rows = SupConRows { tau, labels, positives: &positives, anchors };
    // Σ ℓ_i over the anchors, accumulated in f64 by chunks.
    let (total, grad) = similarity_loss(
        z,
        || (vec![F::zero(); n2], vec![F::zero(); n2]),
        #[inline(always)]
        |i, row, (e, target)| rows.similarity_to_gradient(i, row, e, target),
    );
    (F::of(total / anchors as f64), grad)
}

/// What turns anchor i's row of S into G's row i for SupCon.
struct SupConRows<'a, F> {
    tau: F,
    labels: &'a [usize],
    positives: &'a [usize],
    anchors: usize,
}

impl<F: Float> SupConRows<'_, F> {
    /// Turns `s_row` (2N) into G's row i in place and returns ℓ_i (0 for a row that is no anchor). Branch-free over
    /// the row, so each loop vectorises: `e` holds a_ik = s_ik/τ, then e^{a_ik − max} (e^{−∞} = 0 for k = i);
    /// `target` holds 1[k∈P(i)].
    #[inline(always)]
    fn similarity_to_gradient(&self, i: usize, s_row: &mut [F], e: &mut [F], target: &mut [F]) -> f64 {
        let n2 = s_row.len();
        let (e, target) = (&mut e[..n2], &mut target[..n2]);
        if self.positives[i] == 0 {
            s_row.fill(F::zero()); // not an anchor: no value, no gradient
            return 0.0;
        }
        let inv_tau = F::one() / self.tau;
        let inv_p = F::one() / F::of(self.positives[i] as f64);
        let inv_a_tau = F::one() / (F::of(self.anchors as f64) * self.tau);
        let y = self.labels[i];
        for (t, &yk) in target.iter_mut().zip(self.labels) {
            *t = if yk == y { F::one() } else { F::zero() };
        }
        target[i] = F::zero();
        for (ek, &sk) in e.iter_mut().zip(s_row.iter()) {
            *ek = sk * inv_tau;
        }
        let positive_logits = lanes_dot(target, e); // Σ_{p∈P(i)} a_ip
        e[i] = F::neg_infinity();
        // lse_i = max + log Σ_{k≠i} e^{a_ik − max};  ℓ_i = −(1/|P|) Σ_p (a_ip − lse_i) = lse_i − (Σ_p a_ip)/|P|
        let max = lanes_max(e);
        for ek in e.iter_mut() {
            *ek = (*ek - max).exp_fast();
        }
        let sum = lanes_sum(e);
        let ell = max + sum.ln() - positive_logits * inv_p;
        // G_ik = (q_ik − 1[k∈P]/|P|) / (Aτ), q_ik = e_ik/Σe; G_ii = 0 (e_ii = 0, target_ii = 0).
        let inv_sum = F::one() / sum;
        for ((gk, &ek), &tk) in s_row.iter_mut().zip(e.iter()).zip(target.iter()) {
            *gk = (ek * inv_sum - tk * inv_p) * inv_a_tau;
        }
        ell.f64()
    }
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
        use crate::ops::parity::{assert_close, at_precision, tols};
        let mut r = rng(63, stream::TEST);
        let (tol_value, tol_grad) = tols::<f32>();
        // Thin Ẑ (the fused path: every d of `thin::similarity_row`, one and several 64-row chunks, the pool's
        // threshold from 2N = 256, 2N/16-row chunks past 1,024) and wide (the GEMM path), in f64 and f32.
        for (rows, d) in [(4, 1), (6, 2), (70, 3), (130, 4), (300, 3), (1100, 2), (70, 33), (130, 5)] {
            let z = random_matrix(&mut r, rows, d);
            // Three classes per view; sample 1's two views share a class of their own (each other's only
            // positive); view 0 of sample 0 is alone in its class (no positive: not an anchor).
            let labels: Vec<usize> = (0..rows)
                .map(|i| match (i, i % (rows / 2)) {
                    (0, _) => 100,
                    (_, 1) => 9,
                    (_, k) => k % 3,
                })
                .collect();
            let (want, want_grad) = reference::value_and_grad(&z, 0.3, &labels);
            let (got, grad) = value_and_grad(&z, 0.3, &labels);
            assert!((got - want).abs() <= 1e-12 * want.abs(), "{rows}×{d}: {got} vs {want}");
            let c = crate::tolerance::Tol { rtol: 1e-9, atol_frac: 1e-9 }.compare(&grad.data, &want_grad.data);
            assert!(c.passed(), "{rows}×{d}: {}", c.describe());
            let (want, want_grad) = reference::value_and_grad(&at_precision::<f32>(&z), 0.3, &labels);
            let (got, grad) = value_and_grad(&Matrix::<f32>::from_f64(rows, d, &z.data), 0.3, &labels);
            assert_close(&format!("f32 {rows}×{d} value"), tol_value, &[f64::from(got)], &[want]);
            assert_close(&format!("f32 {rows}×{d} gradient"), tol_grad, &grad.to_f64(), &want_grad.data);
        }
        let z = random_matrix(&mut r, 10, 3);
        let labels = [0, 1, 0, 2, 7, 0, 1, 0, 2, 1];
        let (_, grad) = reference::value_and_grad(&z, 0.5, &labels);
        assert_gradient_matches("plain SupCon reference", &z, &grad, |x| reference::value_and_grad(x, 0.5, &labels).0);
    }

    /// Chunks fixed by 2N, their sums added in chunk order: the same bits on one, two and three threads, on the
    /// thin and the wide path, past the pool's threshold.
    #[test]
    fn the_same_bits_on_any_thread_count() {
        let mut r = rng(64, stream::TEST);
        let rows = 1100;
        let labels: Vec<usize> = (0..rows).map(|i| (i % (rows / 2)) % 7).collect();
        for d in [3, 33] {
            let z = Matrix::<f32>::from_f64(rows, d, &random_matrix(&mut r, rows, d).data);
            let run = |threads: usize| {
                let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("a worker pool");
                pool.install(|| {
                    let (l, g) = value_and_grad(&z, 0.3f32, &labels);
                    (l.to_bits(), g.data.iter().map(|v| v.to_bits()).collect::<Vec<_>>())
                })
            };
            let one = run(1);
            for threads in [2, 3] {
                assert!(run(threads) == one, "d = {d}: the bits on {threads} threads");
            }
        }
    }
}
