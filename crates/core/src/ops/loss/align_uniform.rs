//! Alignment and uniformity (Wang & Isola 2020; docs/math.md §1.3 as a loss, §4 as a metric), on ẑ = z/‖z‖.
//!
//! Shapes: z is 2N × d; ẑ1 = rows 0..N, ẑ2 = rows N..2N.
//!
//! Value:
//!   L_align   = (1/N) Σ_i ‖ẑ1_i − ẑ2_i‖^α
//!   L_unif(X) = log mean_{i<j} exp(−t‖x_i − x_j‖²)          (max-shifted log-mean-exp; pairs within X)
//!   L = w_a·L_align + w_u·(L_unif(ẑ1) + L_unif(ẑ2))/2
//! Gradient:
//!   ∂L_align/∂ẑ1_i = (α/N)·‖δ_i‖^{α−2}·δ_i with δ_i = ẑ1_i − ẑ2_i (and −that for ẑ2_i). At δ_i = 0 the
//!     gradient is taken as 0: the true one for α > 1, and the zero subgradient for α ≤ 1 (no NaN from 0^{α−2}).
//!   ∂L_unif/∂x_i = −2t Σ_{j≠i} w_ij (x_i − x_j), w_ij = the softmax weight of pair {i, j} in the
//!     log-mean-exp (the mean's 1/#pairs cancels); with W symmetric that is −2t(rowsum(W)_i x_i − (W X)_i).
//! then back through the normalisation.

// Index loops on purpose: they read like the formulas above (STYLE.md, llm.c).
#![allow(clippy::needless_range_loop)]

use crate::float::Float;
use crate::matrix::Matrix;
use crate::ops::normalize::{normalize_backward, normalize_forward};

/// [alignment, uniformity] metric of docs/math.md §4 on z (2N × d, normalised inside):
/// ((1/N) Σ‖ẑ1_i − ẑ2_i‖², L_unif(ẑ1) with this t). The caller subsamples (docs/math.md §4: at most 2048 points).
pub fn alignment_uniformity_metric<F: Float>(z: &Matrix<F>, t: F) -> (F, F) {
    let n = z.rows / 2;
    let (zhat, _) = normalize_forward(z);
    let (align, _) = alignment(&zhat, F::of(2.0));
    let (unif, _) = uniformity(&zhat.rows_range(0, n), t);
    (align, unif)
}

/// L_align = (1/N) Σ_i ‖ẑ1_i − ẑ2_i‖^α and its gradient with respect to ẑ (2N × d).
pub fn alignment<F: Float>(zhat: &Matrix<F>, alpha: F) -> (F, Matrix<F>) {
    let n = zhat.rows / 2;
    let mut grad = Matrix::zeros(zhat.rows, zhat.cols);
    if n == 0 {
        return (F::zero(), grad);
    }
    let nf = F::of(n as f64);
    let mut total = F::zero();
    for i in 0..n {
        let delta: Vec<F> = zhat.row(i).iter().zip(zhat.row(n + i)).map(|(&a, &b)| a - b).collect();
        let dist = delta.iter().map(|&v| v * v).sum::<F>().sqrt();
        total = total + dist.powf(alpha);
        // ∂‖δ‖^α/∂δ = α‖δ‖^{α−2}δ; 0 at δ = 0 (see the module comment).
        let coef = if dist > F::zero() { alpha * dist.powf(alpha - F::of(2.0)) / nf } else { F::zero() };
        for (k, &dk) in delta.iter().enumerate() {
            grad.data[i * zhat.cols + k] = coef * dk;
            grad.data[(n + i) * zhat.cols + k] = -coef * dk;
        }
    }
    (total / nf, grad)
}

/// L_unif(X) = log mean_{i<j} exp(−t‖x_i − x_j‖²) and its gradient with respect to X (n × d).
/// Fewer than two rows have no pair: the value is taken as 0 with zero gradient.
pub fn uniformity<F: Float>(x: &Matrix<F>, t: F) -> (F, Matrix<F>) {
    let n = x.rows;
    if n < 2 {
        return (F::zero(), Matrix::zeros(n, x.cols));
    }
    // ‖x_i − x_j‖² = g_ii + g_jj − 2g_ij from the Gram matrix (one GEMM); clamped at 0 against rounding.
    let mut w = x.matmul_t(x); // n × n: Gram, then the exponent v_ij, then the weights w_ij
    let sq: Vec<F> = (0..n).map(|i| w.data[i * n + i]).collect();
    let mut max = F::neg_infinity();
    for i in 0..n {
        for j in 0..n {
            let v = if i == j {
                F::neg_infinity()
            } else {
                -t * (sq[i] + sq[j] - F::of(2.0) * w.data[i * n + j]).max(F::zero())
            };
            w.data[i * n + j] = v;
            max = max.max(v);
        }
    }
    // Sum over ordered pairs i≠j is twice the sum over i<j, so the mean is the same with 2× the count.
    let pairs = F::of((n * (n - 1)) as f64);
    let mut sum = F::zero();
    for v in w.data.iter_mut() {
        *v = (*v - max).exp(); // e^{−∞} = 0 on the diagonal
        sum = sum + *v;
    }
    let value = max + (sum / pairs).ln();
    // w_ij over ordered pairs is half the pair's weight; each pair {i,j} shows up as (i,j) and (j,i), so
    // ∂L/∂x_i = −2t Σ_j (w_ij + w_ji)(x_i − x_j) with w_ij = e_ij/Σe over ordered pairs.
    let mut rowsum = vec![F::zero(); n];
    for i in 0..n {
        for j in 0..n {
            let wij = F::of(2.0) * w.data[i * n + j] / sum; // w_ij + w_ji (W is symmetric)
            w.data[i * n + j] = wij;
            rowsum[i] = rowsum[i] + wij;
        }
    }
    let wx = w.matmul(x);
    let mut grad = Matrix::zeros(n, x.cols);
    let m2t = -F::of(2.0) * t;
    for i in 0..n {
        for k in 0..x.cols {
            grad.data[i * x.cols + k] = m2t * (rowsum[i] * x.at(i, k) - wx.at(i, k));
        }
    }
    (value, grad)
}

/// L = w_a·L_align + w_u·(L_unif(ẑ1) + L_unif(ẑ2))/2 on z (2N × d): (L, ∂L/∂z).
pub fn value_and_grad<F: Float>(z: &Matrix<F>, alpha: F, t: F, w_align: F, w_unif: F) -> (F, Matrix<F>) {
    let n2 = z.rows;
    assert!(n2.is_multiple_of(2), "align-uniform: z needs an even number of rows, got {n2}");
    let n = n2 / 2;
    let (zhat, norms) = normalize_forward(z);
    let (la, ga) = alignment(&zhat, alpha);
    let (lu1, gu1) = uniformity(&zhat.rows_range(0, n), t);
    let (lu2, gu2) = uniformity(&zhat.rows_range(n, n2), t);
    let half = F::of(0.5);
    let value = w_align * la + w_unif * half * (lu1 + lu2);
    let gu = Matrix::vstack(&gu1, &gu2);
    let mut d_zhat = ga;
    for (g, &u) in d_zhat.data.iter_mut().zip(&gu.data) {
        *g = w_align * *g + w_unif * half * u;
    }
    (value, normalize_backward(&zhat, &norms, &d_zhat))
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
    fn align_uniform_gradient_matches_finite_differences_for_alpha_2_and_1() {
        let mut r = rng(51, stream::TEST);
        let z = random_matrix(&mut r, 10, 3);
        for &(alpha, t, wa, wu) in &[(2.0f32, 2.0f32, 1.0f32, 1.0f32), (1.0, 2.0, 1.0, 1.0), (1.0, 0.7, 0.3, 1.8)] {
            let mut p = params(LossKind::AlignUniform, PairMode::None);
            (p.align_alpha, p.unif_t, p.w_align, p.w_unif) = (alpha, t, wa, wu);
            let (_, grad) = loss_and_grad(&p, &z, None, None);
            assert_gradient_matches(&format!("align-uniform α = {alpha}, t = {t}"), &z, &grad, |x| {
                loss_and_grad(&p, x, None, None).0
            });
        }
    }

    #[test]
    fn align_uniform_equals_a_naive_double_loop() {
        let mut r = rng(52, stream::TEST);
        let z = random_matrix(&mut r, 12, 4);
        let zh = z.normalized_rows();
        let d2 = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum::<f64>();
        let (alpha, t) = (1.0, 2.0);
        let align: f64 = (0..6).map(|i| d2(zh.row(i), zh.row(6 + i)).sqrt().powf(alpha)).sum::<f64>() / 6.0;
        let unif = |off: usize| {
            let mut s = 0.0;
            for i in 0..6 {
                for j in i + 1..6 {
                    s += (-t * d2(zh.row(off + i), zh.row(off + j))).exp();
                }
            }
            (s / 15.0).ln()
        };
        let want = align + (unif(0) + unif(6)) / 2.0;
        let (l, _) = value_and_grad(&z, alpha, t, 1.0, 1.0);
        assert!((l - want).abs() < 1e-12, "{l} vs {want}");
        let (ma, mu) = alignment_uniformity_metric(&z, 2.0);
        let want_a = (0..6).map(|i| d2(zh.row(i), zh.row(6 + i))).sum::<f64>() / 6.0;
        assert!((ma - want_a).abs() < 1e-12 && (mu - unif(0)).abs() < 1e-12);
    }

    #[test]
    fn alignment_of_coinciding_views_has_zero_gradient_not_nan_for_alpha_below_2() {
        let mut r = rng(53, stream::TEST);
        let half = random_matrix(&mut r, 4, 3);
        let z = Matrix::vstack(&half, &half); // ẑ1_i = ẑ2_i
        for &alpha in &[2.0, 1.0, 0.5] {
            let (l, g) = value_and_grad(&z, alpha, 2.0, 1.0, 0.0);
            assert_eq!(l, 0.0);
            assert!(g.data.iter().all(|v| *v == 0.0), "α = {alpha}: {:?}", g.data);
        }
        let (a, _) = alignment_uniformity_metric(&z, 2.0);
        assert_eq!(a, 0.0);
    }

    #[test]
    fn uniformity_of_antipodal_points_is_minus_4t_and_stable_for_large_t() {
        // View 1 is two antipodal points (distance 2): L_unif = −t·4, exactly, even where exp(−4t) underflows.
        let z = Matrix::from_vec(4, 2, vec![1.0, 0.0, -1.0, 0.0, 0.0, 1.0, 0.0, -1.0]);
        for &t in &[2.0f64, 500.0] {
            let (_, u) = alignment_uniformity_metric(&z, t);
            assert!((u + 4.0 * t).abs() < 1e-9, "t = {t}: {u}");
        }
    }

    #[test]
    fn align_uniform_in_f32_and_f64_agree_on_random_input() {
        let mut r = rng(54, stream::TEST);
        let z64 = random_matrix(&mut r, 40, 5);
        let z32 = Matrix::<f32>::from_f64(40, 5, &z64.data);
        let (l64, g64) = value_and_grad(&z64, 2.0, 2.0, 1.0, 1.0);
        let (l32, g32) = value_and_grad(&z32, 2.0, 2.0, 1.0, 1.0);
        assert!((l64 - l32 as f64).abs() < 1e-5);
        for (a, b) in g64.data.iter().zip(&g32.data) {
            assert!((a - *b as f64).abs() < 1e-5, "{a} vs {b}");
        }
    }
}
