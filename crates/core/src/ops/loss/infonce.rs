//! InfoNCE / NT-Xent (SimCLR) with the difficult-pair modifiers (docs/math.md §1.1), and the shared code of
//! DCL (§1.5), which differs only in leaving the positive out of the denominator.
//!
//! Shapes: z is 2N × d (views stacked, j(i) = (i + N) mod 2N); S = ẐẐᵀ is 2N × 2N; flags are 2N × 2N.
//!
//! Value, per anchor i, over the denominator set D(i) = {k ≠ i} (InfoNCE) or {k ∉ {i, j(i)}} (DCL):
//!   τ_ik = τ(ρ p_ik + 1 − p_ik),   a_ik = (s_ik + σ p_ik)/τ_ik      (modifiers; σ = 0, ρ = 1 off)
//!   a_ik = s_ik (1 − p_ik)/τ                                         (removal: flagged logits are 0)
//!   ℓ_i = −a_{i,j(i)} + log Σ_{k∈D(i)} exp(a_ik)                      (max-shifted)
//!   L = (1/2N) Σ_i ℓ_i
//! Gradient, with q_ik = exp(a_ik)/Σ_{k'∈D(i)} exp(a_ik') and a'_ik = ∂a_ik/∂s_ik (1/τ_ik, or 0 for a
//! removed logit):
//!   ∂L/∂s_ik = (q_ik·1[k∈D(i)] − 1[k=j(i)]) · a'_ik / 2N
//! then ∂L/∂ẑ = (G + Gᵀ)Ẑ and back through the normalisation (see `super::similarity_loss`).

// Index loops on purpose: they read like the formulas above (STYLE.md, llm.c).
#![allow(clippy::needless_range_loop)]

use super::similarity_loss;
use crate::backend::LossParams;
use crate::config::PairMode;
use crate::float::Float;
use crate::matrix::Matrix;
use crate::selection::PairFlags;

/// What a flagged pair does to its logit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Modifier {
    /// a_ik = (s_ik + σ·p_ik) / (τ·(ρ·p_ik + 1 − p_ik)). σ = 0, ρ = 1 leaves flagged pairs as they are.
    Scale { sigma: f64, rho: f64 },
    /// a_ik = s_ik·(1 − p_ik)/τ: a flagged logit is the constant 0 (it stays in the denominator as e⁰).
    Remove,
}

impl Modifier {
    /// The modifier of `p.mode` (σ and ρ through `effective_sigma` / `effective_rho`).
    pub fn from_params(p: &LossParams) -> Self {
        match p.mode {
            PairMode::Removal => Modifier::Remove,
            _ => Modifier::Scale { sigma: p.effective_sigma() as f64, rho: p.effective_rho() as f64 },
        }
    }
}

/// InfoNCE (docs/math.md §1.1): (L, ∂L/∂z). `flags`: 2N × 2N, or `None` for no flagged pair.
pub fn value_and_grad<F: Float>(
    z: &Matrix<F>,
    tau: F,
    modifier: Modifier,
    flags: Option<&PairFlags>,
) -> (F, Matrix<F>) {
    contrastive(z, tau, modifier, flags, true)
}

/// The shared InfoNCE/DCL computation; `positive_in_denominator` = true for InfoNCE, false for DCL. The rows of
/// S become G's by `SoftmaxRows::similarity_to_gradient`, inside the similarity losses' shared computation
/// (`super::similarity_loss`: one GEMM for S, or for a thin Ẑ each row made and spent at once).
pub(crate) fn contrastive<F: Float>(
    z: &Matrix<F>,
    tau: F,
    modifier: Modifier,
    flags: Option<&PairFlags>,
    positive_in_denominator: bool,
) -> (F, Matrix<F>) {
    let n2 = z.rows; // 2N views
    assert!(n2 >= 2 && n2.is_multiple_of(2), "InfoNCE/DCL: z needs an even number (≥ 2) of rows, got {n2}");
    if let Some(f) = flags {
        assert_eq!((f.rows, f.cols), (n2, n2), "InfoNCE/DCL: flags must be 2N × 2N = {n2} × {n2}");
    }
    assert!(positive_in_denominator || n2 >= 4, "DCL needs N ≥ 2 samples: with one, its denominator is empty");
    let rows = SoftmaxRows { n2, tau, modifier, flags, positive_in_denominator };
    // Σ ℓ_i over the rows, accumulated in f64 by chunks.
    let (total, grad) = similarity_loss(
        z,
        || RowScratch::new(n2),
        #[inline(always)]
        |i, row, scratch| rows.similarity_to_gradient(i, row, scratch),
    );
    (F::of(total / n2 as f64), grad)
}

/// What turns a row of S into the same row of G = ∂L/∂S: the temperature, the modifier, the flags and the
/// denominator set (InfoNCE or DCL).
struct SoftmaxRows<'a, F> {
    n2: usize,
    tau: F,
    modifier: Modifier,
    flags: Option<&'a PairFlags>,
    positive_in_denominator: bool,
}

/// Per-row scratch: the logit a_ik (then e^{a_ik − max}) and its slope a'_ik = ∂a_ik/∂s_ik.
struct RowScratch<F> {
    a: Vec<F>,
    slope: Vec<F>,
}

impl<F: Float> RowScratch<F> {
    fn new(n2: usize) -> Self {
        RowScratch { a: vec![F::zero(); n2], slope: vec![F::zero(); n2] }
    }
}

impl<F: Float> SoftmaxRows<'_, F> {
    /// Turns anchor i's row of S (`s_row`, 2N long) into G's row i in place and returns ℓ_i in f64.
    ///
    /// Members of row i outside the denominator get a_ik = −∞ (so e^{a_ik − max} = 0 and q_ik = 0): the loops
    /// then run over the whole row without branches.
    #[inline(always)]
    fn similarity_to_gradient(&self, i: usize, s_row: &mut [F], scratch: &mut RowScratch<F>) -> f64 {
        let n2 = self.n2;
        let (half, tau) = (n2 / 2, self.tau);
        let inv_n2 = F::one() / F::of(n2 as f64);
        let inv_tau = F::one() / tau;
        let j = (i + half) % n2;
        // Logits a_ik and slopes a'_ik, branch-free over the row so the loops vectorise: with p ∈ {0, 1},
        // 1/τ_ik = p/(ρτ) + (1 − p)/τ and a_ik = (s_ik + σp)/τ_ik; removal: a'_ik = (1 − p)/τ, a_ik = s_ik·a'_ik.
        let (a, slope, s_row) = (&mut scratch.a[..n2], &mut scratch.slope[..n2], &mut s_row[..n2]);
        match self.flags {
            None => {
                for (ak, &sk) in a.iter_mut().zip(s_row.iter()) {
                    *ak = sk * inv_tau;
                }
                slope.fill(inv_tau);
            }
            Some(f) => {
                let p_row = &f.flags[i * n2..(i + 1) * n2];
                let flag = |p: bool| if p { F::one() } else { F::zero() };
                match self.modifier {
                    Modifier::Scale { sigma, rho } => {
                        let (sigma, inv_tau_flagged) = (F::of(sigma), F::one() / (tau * F::of(rho)));
                        for (((ak, sl), &sk), &pk) in a.iter_mut().zip(slope.iter_mut()).zip(s_row.iter()).zip(p_row) {
                            let p = flag(pk);
                            *sl = p * inv_tau_flagged + (F::one() - p) * inv_tau;
                            *ak = (sk + sigma * p) * *sl;
                        }
                    }
                    Modifier::Remove => {
                        for (((ak, sl), &sk), &pk) in a.iter_mut().zip(slope.iter_mut()).zip(s_row.iter()).zip(p_row) {
                            *sl = (F::one() - flag(pk)) * inv_tau; // a flagged logit is the constant 0
                            *ak = sk * *sl;
                        }
                    }
                }
                // p_ii = p_{i,j(i)} = 0 always, whatever the flags say.
                for k in [i, j] {
                    a[k] = s_row[k] * inv_tau;
                    slope[k] = inv_tau;
                }
            }
        }
        let a_pos = a[j];
        // Leave self (and, for DCL, the positive) out of the denominator.
        a[i] = F::neg_infinity();
        slope[i] = F::zero();
        if !self.positive_in_denominator {
            a[j] = F::neg_infinity();
        }
        // ℓ_i = −a_ij + max + log Σ_{k∈D} e^{a_ik − max}
        let max = lanes_max(a);
        for e in a.iter_mut() {
            *e = (*e - max).exp_fast();
        }
        let sum = lanes_sum(a);
        let ell = (-a_pos + max + sum.ln()).f64();
        // G_ik = ∂L/∂s_ik = (q_ik − 1[k=j]) · a'_ik / 2N with q_ik = e_ik/Σe (0 outside D), over S's row.
        let scale = F::one() / sum * inv_n2;
        for ((gk, &ek), &sl) in s_row.iter_mut().zip(a.iter()).zip(slope.iter()) {
            *gk = ek * scale * sl;
        }
        s_row[j] = s_row[j] - slope[j] * inv_n2;
        ell
    }
}

/// Lanes of the row reductions: eight independent accumulators the compiler keeps in one vector register
/// (a single running sum is a chain of dependent adds that cannot vectorise). The order is fixed, so the
/// bits do not depend on the machine's thread count.
const LANES: usize = 8;

/// max of a row (−∞ for an empty one).
pub(crate) fn lanes_max<F: Float>(x: &[F]) -> F {
    lanes_fold(x, F::neg_infinity(), |m, v| if v > m { v } else { m })
}

/// Σ of a row, in `LANES` interleaved partial sums added at the end.
pub(crate) fn lanes_sum<F: Float>(x: &[F]) -> F {
    lanes_fold(x, F::zero(), |s, v| s + v)
}

/// Lanes of `lanes_dot`: a multiply and an add per element, so more independent sums than `LANES` keep the
/// adds' latency hidden (32 f32 = two AVX-512 or four AVX2 registers).
const DOT_LANES: usize = 32;

/// Σ_k x_k·y_k over two rows of equal length, in `DOT_LANES` interleaved partial sums added at the end, then
/// the tail, in that order (fixed, so the same bits on every SIMD path and thread count).
#[inline(always)]
pub(crate) fn lanes_dot<F: Float>(x: &[F], y: &[F]) -> F {
    assert_eq!(x.len(), y.len(), "lanes_dot: the rows differ in length");
    let mut acc = [F::zero(); DOT_LANES];
    let (xs, ys) = (x.chunks_exact(DOT_LANES), y.chunks_exact(DOT_LANES));
    let tail = xs.remainder().iter().zip(ys.remainder()).map(|(&a, &b)| a * b);
    for (xc, yc) in xs.zip(ys) {
        for ((s, &a), &b) in acc.iter_mut().zip(xc).zip(yc) {
            *s = *s + a * b;
        }
    }
    acc.iter().copied().chain(tail).fold(F::zero(), |s, v| s + v)
}

/// Folds a row with `op` in `LANES` interleaved accumulators, then folds the accumulators and the tail, in
/// that order.
#[inline(always)]
fn lanes_fold<F: Float>(x: &[F], identity: F, op: impl Fn(F, F) -> F) -> F {
    let mut acc = [identity; LANES];
    let chunks = x.chunks_exact(LANES);
    let tail = chunks.remainder();
    for c in chunks {
        for (a, &v) in acc.iter_mut().zip(c) {
            *a = op(*a, v);
        }
    }
    acc.iter().chain(tail).copied().fold(identity, op)
}

/// The plain reference: InfoNCE (and DCL) in f64, with the difficult-pair modifiers, written like the formula
/// above with the gradient under the value, in O(2N·d) memory (no 2N × 2N matrix, no GEMM, no tuning), so it
/// can check any backend at any size that fits the inputs — the GPU at 65,536 views, where the tuned CPU path's
/// similarity matrix (34 GB) would not fit. Untuned: one anchor's row of logits at a time (O(2N)), one dot
/// product per pair, no blocking, no threads.
pub mod reference {
    use super::Modifier;
    use crate::matrix::Matrix;
    use crate::ops::normalize::{normalize_backward, normalize_forward};
    use crate::selection::PairFlags;

    /// (L, ∂L/∂z) of InfoNCE at temperature τ on z (2N × d), no pair flagged.
    pub fn value_and_grad(z: &Matrix<f64>, tau: f64) -> (f64, Matrix<f64>) {
        contrastive(z, tau, true)
    }

    /// InfoNCE (`positive_in_denominator`) or DCL (not; docs/math.md §1.5) at temperature τ on z, no pair
    /// flagged: the two differ only in the denominator D(i) = {k ≠ i}, or {k ∉ {i, j(i)}} for DCL.
    pub fn contrastive(z: &Matrix<f64>, tau: f64, positive_in_denominator: bool) -> (f64, Matrix<f64>) {
        with_flags(z, tau, Modifier::Scale { sigma: 0.0, rho: 1.0 }, None, positive_in_denominator)
    }

    /// InfoNCE or DCL with `modifier` on the pairs `flags` (2N × 2N) marks; `None`: no pair flagged.
    pub fn with_flags(
        z: &Matrix<f64>,
        tau: f64,
        modifier: Modifier,
        flags: Option<&PairFlags>,
        positive_in_denominator: bool,
    ) -> (f64, Matrix<f64>) {
        let n2 = z.rows;
        let (zh, norms) = normalize_forward(z);
        let s = |i: usize, k: usize| zh.row(i).iter().zip(zh.row(k)).map(|(a, b)| a * b).sum::<f64>();
        let j = |i: usize| (i + n2 / 2) % n2;
        let in_den = |i: usize, k: usize| k != i && (positive_in_denominator || k != j(i));
        // p_ik ∈ {0, 1}: flagged, never for the anchor itself or its positive.
        let p = |i: usize, k: usize| f64::from(u8::from(k != i && k != j(i) && flags.is_some_and(|f| f.get(i, k))));
        // The logit a_ik and its slope a'_ik = ∂a_ik/∂s_ik:
        //   scale:   τ_ik = τ(ρ p_ik + 1 − p_ik), a_ik = (s_ik + σ p_ik)/τ_ik, a'_ik = 1/τ_ik
        //   removal: a_ik = s_ik (1 − p_ik)/τ, a'_ik = (1 − p_ik)/τ
        let logit = |i: usize, k: usize| -> (f64, f64) {
            let p = p(i, k);
            match modifier {
                Modifier::Scale { sigma, rho } => {
                    let tau_ik = tau * (rho * p + 1.0 - p);
                    ((s(i, k) + sigma * p) / tau_ik, 1.0 / tau_ik)
                }
                Modifier::Remove => (s(i, k) * (1.0 - p) / tau, (1.0 - p) / tau),
            }
        };
        // Per anchor i, over its row of logits (a_ik, a'_ik for every k, computed once):
        // value: m_i = max_{k∈D(i)} a_ik, l_i = Σ_{k∈D(i)} exp(a_ik − m_i), ℓ_i = −a_{i,j(i)} + m_i + log l_i,
        //        L = (1/2N) Σ_i ℓ_i;
        // gradient: G_ik = ∂L/∂s_ik = (q_ik·1[k∈D(i)] − 1[k = j(i)])·a'_ik / 2N for k ≠ i,
        //        q_ik = exp(a_ik − m_i)/l_i; ∂L/∂ẑ_i = Σ_k (G_ik + G_ki)·ẑ_k; then ∂L/∂z through the normalisation.
        let d = z.cols;
        let mut loss = 0.0;
        let mut g_hat = Matrix::zeros(n2, d);
        for i in 0..n2 {
            let row: Vec<(f64, f64)> = (0..n2).map(|k| logit(i, k)).collect();
            let m = (0..n2).filter(|&k| in_den(i, k)).map(|k| row[k].0).fold(f64::NEG_INFINITY, f64::max);
            let l: f64 = (0..n2).filter(|&k| in_den(i, k)).map(|k| (row[k].0 - m).exp()).sum();
            loss += (-row[j(i)].0 + m + l.ln()) / n2 as f64;
            for k in (0..n2).filter(|&k| k != i) {
                let (a, slope) = row[k];
                let q = if in_den(i, k) { (a - m).exp() / l } else { 0.0 };
                let g = (q - f64::from(u8::from(k == j(i)))) * slope / n2 as f64;
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
    use crate::backend::PairLayout;
    use crate::config::{LossKind, PairMode};
    use crate::loss::loss_and_grad;
    use crate::loss::test_util::{
        assert_gradient_matches_in_every_mode, assert_tuned_path_matches_reference, params, random_flags,
    };
    use crate::rng::{rng, stream};
    use crate::testing::random_matrix;

    /// The textbook formula in plain double loops, no max shift, no GEMM: the oracle for the fast path.
    fn naive_infonce(z: &Matrix<f64>, tau: f64) -> f64 {
        let n2 = z.rows;
        let zh: Vec<Vec<f64>> = (0..n2)
            .map(|i| {
                let n = z.row(i).iter().map(|v| v * v).sum::<f64>().sqrt();
                z.row(i).iter().map(|v| v / n).collect()
            })
            .collect();
        let sim = |i: usize, k: usize| zh[i].iter().zip(&zh[k]).map(|(a, b)| a * b).sum::<f64>();
        let mut total = 0.0;
        for i in 0..n2 {
            let j = (i + n2 / 2) % n2;
            let den: f64 = (0..n2).filter(|&k| k != i).map(|k| (sim(i, k) / tau).exp()).sum();
            total += -(sim(i, j) / tau) + den.ln();
        }
        total / n2 as f64
    }

    #[test]
    fn the_tuned_path_matches_the_plain_reference() {
        let plain = Modifier::Scale { sigma: 0.0, rho: 1.0 };
        assert_tuned_path_matches_reference(
            "InfoNCE",
            23,
            |z, tau| value_and_grad(z, tau, plain, None),
            reference::value_and_grad,
        );
    }

    /// The fused thin path (d < `THIN_COLUMNS`: S's rows made and spent one at a time) against the plain
    /// reference, InfoNCE and DCL in every pair mode, on random flags, in f64 and f32: every thin d (each arm of
    /// `thin::similarity_row`), one and several 64-row chunks, the worker pool's threshold (2N² ≥ 65,536 from
    /// 2N = 256), and chunks of 2N/16 rows past 2N = 1,024.
    #[test]
    fn the_fused_thin_path_matches_the_reference_in_every_mode() {
        use crate::ops::parity::{F64, assert_close, at_precision, tols};
        let mut r = rng(25, stream::TEST);
        let (tol_value, tol_grad) = tols::<f32>();
        for (n2, d) in [(4, 1), (6, 2), (70, 3), (130, 4), (300, 3), (1100, 2)] {
            let z = random_matrix(&mut r, n2, d);
            let z32 = Matrix::<f32>::from_f64(n2, d, &z.data);
            let z_at_f32 = at_precision::<f32>(&z);
            for kind in [LossKind::Infonce, LossKind::Dcl] {
                for mode in PairMode::ALL {
                    let p = params(kind, mode);
                    let flags = random_flags(&mut r, n2, PairLayout::AllViews);
                    let what = format!("{} {} {n2}×{d}", kind.name(), mode.name());
                    let (got, got_grad) = loss_and_grad(&p, &z, Some(&flags), None);
                    let (want, want_grad) = crate::loss::reference::loss_and_grad(&p, &z, Some(&flags), None);
                    assert_close(&format!("{what} f64 value"), F64, &[got], &[want]);
                    assert_close(&format!("{what} f64 gradient"), F64, &got_grad.data, &want_grad.data);
                    let (got, got_grad) = loss_and_grad(&p, &z32, Some(&flags), None);
                    let (want, want_grad) = crate::loss::reference::loss_and_grad(&p, &z_at_f32, Some(&flags), None);
                    assert_close(&format!("{what} f32 value"), tol_value, &[f64::from(got)], &[want]);
                    assert_close(&format!("{what} f32 gradient"), tol_grad, &got_grad.to_f64(), &want_grad.data);
                }
            }
        }
    }

    /// The fused thin path's chunks are fixed by 2N and their partials added in chunk order: the same bits on
    /// one, two and three threads, with and without flags, past the pool's threshold.
    #[test]
    fn the_fused_thin_path_gives_the_same_bits_on_any_thread_count() {
        let mut r = rng(26, stream::TEST);
        let n2 = 1100;
        let z = Matrix::<f32>::from_f64(n2, 3, &random_matrix(&mut r, n2, 3).data);
        let flags = random_flags(&mut r, n2, PairLayout::AllViews);
        for (mode, flags) in
            [(PairMode::None, None), (PairMode::Combined, Some(&flags)), (PairMode::Removal, Some(&flags))]
        {
            let p = params(LossKind::Infonce, mode);
            let run = |threads: usize| {
                let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("a worker pool");
                pool.install(|| {
                    let (l, g) = loss_and_grad(&p, &z, flags, None);
                    (l.to_bits(), g.data.iter().map(|v| v.to_bits()).collect::<Vec<_>>())
                })
            };
            let one = run(1);
            for threads in [2, 3] {
                assert!(run(threads) == one, "{}: the bits on {threads} threads", mode.name());
            }
        }
    }

    /// The rows without flags (the `None` arm: no flag row read) give the bits of the flagged loop when no pair
    /// is flagged (σ = 0, ρ = 1), InfoNCE and DCL, on the thin path and the GEMM path, across 64-row chunks and
    /// the worker pool's threshold.
    #[test]
    fn the_plain_rows_give_the_flagged_loops_bits_when_nothing_is_flagged() {
        let mut r = rng(28, stream::TEST);
        let plain = Modifier::Scale { sigma: 0.0, rho: 1.0 };
        for (n2, d) in [(4, 1), (70, 3), (300, 3), (130, 8), (516, 5)] {
            let z = Matrix::<f32>::from_f64(n2, d, &random_matrix(&mut r, n2, d).data);
            let none_flagged = PairFlags::from_matrix(&Matrix::<f64>::zeros(n2, n2), PairLayout::AllViews);
            for positive_in_denominator in [true, false] {
                let bits = |flags: Option<&PairFlags>| {
                    let (l, g) = contrastive(&z, 0.2, plain, flags, positive_in_denominator);
                    (l.to_bits(), g.data.iter().map(|v| v.to_bits()).collect::<Vec<_>>())
                };
                assert!(bits(None) == bits(Some(&none_flagged)), "{n2}×{d}, positive in D: {positive_in_denominator}");
            }
        }
    }

    #[test]
    fn infonce_gradient_matches_finite_differences_in_every_mode() {
        assert_gradient_matches_in_every_mode(LossKind::Infonce, 21);
    }

    #[test]
    fn infonce_of_identical_embeddings_is_log_of_2n_minus_1_for_any_tau() {
        for &tau in &[0.05f32, 0.1, 0.5, 1.0, 3.0] {
            for &n in &[1usize, 2, 5, 64] {
                let z = Matrix::from_vec(2 * n, 3, [0.3, -1.2, 2.0].repeat(2 * n));
                let mut p = params(LossKind::Infonce, PairMode::None);
                p.tau = tau;
                let (l, grad): (f64, _) = loss_and_grad(&p, &z, None, None);
                let want = ((2 * n - 1) as f64).ln();
                assert!((l - want).abs() < 1e-12, "τ = {tau}, N = {n}: {l} vs {want}");
                assert!(grad.data.iter().all(|g| g.abs() < 1e-12), "identical embeddings are a stationary point");
            }
        }
    }

    #[test]
    fn infonce_without_flags_equals_a_naive_double_loop() {
        let mut r = rng(22, stream::TEST);
        for &(n2, d) in &[(2usize, 2usize), (6, 3), (16, 5)] {
            let z = random_matrix(&mut r, n2, d);
            let (l, _) = value_and_grad(&z, 0.3, Modifier::Scale { sigma: 0.0, rho: 1.0 }, None);
            let want = naive_infonce(&z, 0.3);
            assert!((l - want).abs() < 1e-12, "{n2}×{d}: {l} vs {want}");
            // Mode None ignores flags even when given; Scale with σ = 0, ρ = 1 ignores them by value.
            let flags = PairFlags::all_pairs(n2, PairLayout::AllViews);
            let mut p = params(LossKind::Infonce, PairMode::None);
            p.tau = 0.3;
            let (l2, _): (f64, _) = loss_and_grad(&p, &z, Some(&flags), None);
            let want = naive_infonce(&z, 0.3f32 as f64); // LossParams holds τ as f32
            assert!((l2 - want).abs() < 1e-12);
        }
    }

    #[test]
    fn infonce_modifiers_change_exactly_the_flagged_logits() {
        // One flagged pair (0,1) in a 4-view batch, by hand: a_01 = (s_01 + σ)/(ρτ) in Combined mode,
        // 0 in Removal mode; every other logit is s/τ.
        let mut r = rng(23, stream::TEST);
        let z = random_matrix(&mut r, 4, 3);
        let zh = z.normalized_rows();
        let s = |i: usize, k: usize| zh.row(i).iter().zip(zh.row(k)).map(|(a, b)| a * b).sum::<f64>();
        let mut m = Matrix::<f64>::zeros(4, 4);
        m.data[1] = 1.0;
        let flags = PairFlags::from_matrix(&m, PairLayout::AllViews);
        let (tau, sigma, rho) = (0.4, 0.3, 0.6);
        let lse = |v: &[f64]| v.iter().map(|x| x.exp()).sum::<f64>().ln();
        let row0 = |a01: f64| -s(0, 2) / tau + lse(&[a01, s(0, 2) / tau, s(0, 3) / tau]);
        let rest: f64 = (1..4)
            .map(|i| {
                let j = (i + 2) % 4;
                let logits: Vec<f64> = (0..4).filter(|&k| k != i).map(|k| s(i, k) / tau).collect();
                -s(i, j) / tau + lse(&logits)
            })
            .sum();
        for (mode, a01) in [(PairMode::Combined, (s(0, 1) + sigma) / (rho * tau)), (PairMode::Removal, 0.0)] {
            let p = params(LossKind::Infonce, mode);
            let (l, _): (f64, _) = loss_and_grad(&p, &z, Some(&flags), None);
            let want = (row0(a01) + rest) / 4.0;
            assert!((l - want).abs() < 1e-6, "{}: {l} vs {want}", mode.name()); // τ, σ, ρ are f32 in params
        }
    }

    #[test]
    fn infonce_in_f32_and_f64_agree_on_random_input() {
        let mut r = rng(24, stream::TEST);
        let z64 = random_matrix(&mut r, 32, 6);
        let flags = random_flags(&mut r, 32, PairLayout::AllViews);
        let z32 = Matrix::<f32>::from_f64(32, 6, &z64.data);
        for mode in PairMode::ALL {
            let p = params(LossKind::Infonce, mode);
            let (l64, g64) = loss_and_grad(&p, &z64, Some(&flags), None);
            let (l32, g32) = loss_and_grad(&p, &z32, Some(&flags), None);
            assert!((l64 - l32 as f64).abs() < 1e-5, "{l64} vs {l32}");
            for (a, b) in g64.data.iter().zip(&g32.data) {
                assert!((a - *b as f64).abs() < 1e-5, "{a} vs {b}");
            }
        }
    }
}
