//! The metric reductions alignment and uniformity (docs/math.md §4; Wang & Isola 2020, whose loss form is
//! §1.3), on ℓ2-normalised embeddings.
//!
//! Shapes: z is 2N × d, views stacked (ẑ1 = rows 0..N, ẑ2 = rows N..2N); ẑ = z/‖z‖ row by row
//! (crate::ops::normalize). The metric is a 1 × 2 tensor [alignment, uniformity].
//!
//! Value:
//!   align_α(ẑ) = (1/N) Σ_i ‖ẑ1_i − ẑ2_i‖^α                      (the metric: α = 2)
//!   unif_t(X)  = log( (1/P) Σ_{i<j} exp(−t‖x_i − x_j‖²) ),  P = n(n − 1)/2 pairs of X's n rows
//!                (evaluated max-shifted; fewer than two rows have no pair and give 0)
//!   metric(z)  = [align_2(ẑ), unif_t(ẑ1)]                       (t = 2 in the trainer)
//! Gradient (what the align + uniform loss of §1.3 back-propagates, before the normalisation's backward):
//!   ∂align_α/∂ẑ1_i = (α/N)·‖δ_i‖^{α−2}·δ_i,  δ_i = ẑ1_i − ẑ2_i;  ∂align_α/∂ẑ2_i = −∂align_α/∂ẑ1_i
//!                (0 where δ_i = 0: the gradient for α > 1, the zero subgradient for α ≤ 1)
//!   ∂unif_t/∂x_i   = Σ_{j≠i} w_ij·(−2t)(x_i − x_j),  w_ij = exp(−t‖x_i − x_j‖²) / Σ_{k<l} exp(−t‖x_k − x_l‖²)
//!
//! Tuned path: `Cpu<F>::align_uniform` (crate::cpu → `ops::loss::align_uniform::alignment_uniformity_metric`),
//! which gets the squared distances from one Gram-matrix GEMM (‖x_i‖² + ‖x_j‖² − 2x_iᵀx_j, clamped at 0)
//! and the gradient's Σ_j w_ij x_j from a second; and `Cpu<F>::loss` with `LossKind::AlignUniform`, built from
//! the same pieces. WGSL: shaders/contrastive.wgsl, after shaders/normalize.wgsl (`metric = 1` writes the metric,
//! otherwise the loss and its gradient). The tests below hold both CPU entry points to [`reference`](mod@reference).

/// The reductions written like the formulas above: pairwise distances in plain loops over `Matrix<f64>`.
// Index loops on purpose: they read like the formulas.
#[allow(clippy::needless_range_loop)]
pub mod reference {
    use crate::matrix::Matrix;
    use crate::ops::normalize::{normalize_backward, normalize_forward};

    /// ‖a − b‖² of two rows.
    fn dist2(a: &[f64], b: &[f64]) -> f64 {
        a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
    }

    /// align_α(ẑ) = (1/N) Σ_i ‖ẑ1_i − ẑ2_i‖^α on ẑ (2N × d); 0 for N = 0.
    pub fn alignment(zhat: &Matrix<f64>, alpha: f64) -> f64 {
        let n = zhat.rows / 2;
        if n == 0 {
            return 0.0;
        }
        let mut total = 0.0;
        for i in 0..n {
            total += dist2(zhat.row(i), zhat.row(n + i)).sqrt().powf(alpha);
        }
        total / n as f64
    }

    /// ∂align_α/∂ẑ (2N × d).
    pub fn alignment_grad(zhat: &Matrix<f64>, alpha: f64) -> Matrix<f64> {
        let (n, d) = (zhat.rows / 2, zhat.cols);
        let mut grad = Matrix::zeros(zhat.rows, d);
        for i in 0..n {
            let dist = dist2(zhat.row(i), zhat.row(n + i)).sqrt();
            if dist == 0.0 {
                continue;
            }
            let coef = alpha / n as f64 * dist.powf(alpha - 2.0);
            for c in 0..d {
                let delta = zhat.at(i, c) - zhat.at(n + i, c);
                grad.data[i * d + c] = coef * delta;
                grad.data[(n + i) * d + c] = -coef * delta;
            }
        }
        grad
    }

    /// unif_t(X) = log((1/P) Σ_{i<j} exp(−t‖x_i − x_j‖²)) over X's rows, max-shifted; 0 for fewer than two rows.
    pub fn uniformity(x: &Matrix<f64>, t: f64) -> f64 {
        let n = x.rows;
        if n < 2 {
            return 0.0;
        }
        let exponent = |i: usize, j: usize| -t * dist2(x.row(i), x.row(j));
        let mut max = f64::NEG_INFINITY;
        for i in 0..n {
            for j in i + 1..n {
                max = max.max(exponent(i, j));
            }
        }
        let mut sum = 0.0;
        for i in 0..n {
            for j in i + 1..n {
                sum += (exponent(i, j) - max).exp();
            }
        }
        let pairs = (n * (n - 1) / 2) as f64;
        max + (sum / pairs).ln()
    }

    /// ∂unif_t/∂X (n × d): Σ_{j≠i} w_ij·(−2t)(x_i − x_j), w_ij the pair's share of Σ_{k<l} exp(−t‖x_k − x_l‖²).
    pub fn uniformity_grad(x: &Matrix<f64>, t: f64) -> Matrix<f64> {
        let (n, d) = (x.rows, x.cols);
        let mut grad = Matrix::zeros(n, d);
        if n < 2 {
            return grad;
        }
        let exponent = |i: usize, j: usize| -t * dist2(x.row(i), x.row(j));
        let mut max = f64::NEG_INFINITY;
        for i in 0..n {
            for j in i + 1..n {
                max = max.max(exponent(i, j));
            }
        }
        let mut sum = 0.0;
        for i in 0..n {
            for j in i + 1..n {
                sum += (exponent(i, j) - max).exp();
            }
        }
        for i in 0..n {
            for j in (0..n).filter(|&j| j != i) {
                let w = (exponent(i, j) - max).exp() / sum;
                for c in 0..d {
                    grad.data[i * d + c] += w * -2.0 * t * (x.at(i, c) - x.at(j, c));
                }
            }
        }
        grad
    }

    /// The align + uniform loss of docs/math.md §1.3 on z (2N × d, normalised here) and its gradient:
    /// L = w_a·align_α(ẑ) + w_u·(unif_t(ẑ1) + unif_t(ẑ2))/2, back through the normalisation.
    pub fn align_uniform_loss(z: &Matrix<f64>, alpha: f64, t: f64, w_align: f64, w_unif: f64) -> (f64, Matrix<f64>) {
        let (rows, n) = (z.rows, z.rows / 2);
        let (zhat, norms) = normalize_forward(z);
        let (v1, v2) = (zhat.rows_range(0, n), zhat.rows_range(n, rows));
        let value = w_align * alignment(&zhat, alpha) + w_unif * 0.5 * (uniformity(&v1, t) + uniformity(&v2, t));
        let g_unif = Matrix::vstack(&uniformity_grad(&v1, t), &uniformity_grad(&v2, t));
        let mut d_zhat = alignment_grad(&zhat, alpha);
        for (g, u) in d_zhat.data.iter_mut().zip(&g_unif.data) {
            *g = w_align * *g + w_unif * 0.5 * u;
        }
        (value, normalize_backward(&zhat, &norms, &d_zhat))
    }

    /// The metric of docs/math.md §4 on z (2N × d, normalised here): [align_2(ẑ), unif_t(ẑ1)].
    pub fn metric(z: &Matrix<f64>, t: f64) -> [f64; 2] {
        let n = z.rows / 2;
        let (zhat, _) = normalize_forward(z);
        [alignment(&zhat, 2.0), uniformity(&zhat.rows_range(0, n), t)]
    }
}

#[cfg(test)]
mod tests {
    use super::reference;
    use crate::backend::{Backend, LossParams, Pairs};
    use crate::config::{LossConfig, LossKind, SelectionConfig};
    use crate::cpu::Cpu;
    use crate::float::Float;
    use crate::matrix::Matrix;
    use crate::ops::parity::{assert_close, at_precision, tols};
    use crate::rng::{rng, stream};
    use crate::testing::{assert_gradient_matches, random_matrix};

    #[test]
    fn reference_gradients_match_finite_differences() {
        let mut r = rng(331, stream::TEST);
        for (rows, d) in [(2, 3), (6, 2), (10, 4)] {
            // Off the sphere on purpose: the formulas are defined for any rows, so every direction is probed.
            let x = random_matrix(&mut r, rows, d);
            for alpha in [2.0, 1.0, 0.5, 3.0] {
                let g = reference::alignment_grad(&x, alpha);
                assert_gradient_matches(&format!("alignment α = {alpha} {rows}×{d}"), &x, &g, |x| {
                    reference::alignment(x, alpha)
                });
            }
            for t in [2.0, 0.5] {
                let g = reference::uniformity_grad(&x, t);
                assert_gradient_matches(&format!("uniformity t = {t} {rows}×{d}"), &x, &g, |x| {
                    reference::uniformity(x, t)
                });
            }
        }
    }

    #[test]
    fn reference_matches_closed_forms() {
        // Antipodal pair: distance² 4, so unif_t = −4t exactly, even where exp(−4t) underflows (max shift).
        let x = Matrix::from_vec(2, 2, vec![1.0, 0.0, -1.0, 0.0]);
        for t in [2.0, 500.0] {
            assert!((reference::uniformity(&x, t) + 4.0 * t).abs() < 1e-9);
        }
        // Coinciding views: alignment 0 with zero gradient (no NaN from 0^{α−2}).
        let mut r = rng(332, stream::TEST);
        let half = random_matrix(&mut r, 3, 4).normalized_rows();
        let z = Matrix::vstack(&half, &half);
        for alpha in [2.0, 1.0, 0.5] {
            assert_eq!(reference::alignment(&z, alpha), 0.0);
            assert!(reference::alignment_grad(&z, alpha).data.iter().all(|&g| g == 0.0));
        }
        // Orthonormal view 2 against view 1 (e_i vs e_{i+1}): every ‖δ‖² = 2, so alignment = 2.
        let e = |i: usize| (0..3).map(|c| f64::from(u8::from(c == i % 3))).collect::<Vec<_>>();
        let z = Matrix::from_vec(6, 3, [e(0), e(1), e(2), e(1), e(2), e(0)].concat());
        assert!((reference::metric(&z, 2.0)[0] - 2.0).abs() < 1e-15);
    }

    /// (2N, d): N = 1 (no pair: uniformity 0), odd sizes, and sizes that cross the tuned path's thresholds:
    /// the Gram product's rows past MC = 64 (N = 65, 130), its inner dimension past KC = 256 (d = 257), and
    /// Gram products of 2²² multiply-adds or more, so the GEMMs split over the cores (2N·2N·d: 260 × 65, 130 × 257).
    const SHAPES: [(usize, usize); 7] = [(2, 3), (4, 1), (14, 7), (66, 33), (130, 5), (260, 65), (130, 257)];

    /// `Cpu<F>::align_uniform` through the `Backend` trait, as the trainer calls it, against the reference.
    fn tuned_metric_matches_reference<F: Float>(seed: u64) {
        let cpu = Cpu::<F>::new();
        let (value_tol, _) = tols::<F>();
        let mut r = rng(seed, stream::TEST);
        let split = SHAPES.iter().filter(|&&(rows, d)| rows * rows * d >= crate::gemm::SPLIT_MIN_MACS).count();
        assert!(split >= 2, "only {split} Gram products are large enough to be split over the cores");
        for (rows, d) in SHAPES {
            for t in [2.0f32, 0.5, 10.0] {
                let what = format!("Cpu<{}> align_uniform {rows}×{d} t = {t}", F::NAME);
                let z = at_precision::<F>(&random_matrix(&mut r, rows, d));
                let got = cpu.download_f64(&cpu.align_uniform(&cpu.upload_f64(rows, d, &z.data), t));
                let want = reference::metric(&z, t as f64);
                assert_close(&format!("{what}: alignment"), value_tol, &got[..1], &want[..1]);
                assert_close(&format!("{what}: uniformity"), value_tol, &got[1..], &want[1..]);
            }
        }
    }

    #[test]
    fn tuned_f64_metric_matches_the_reference() {
        tuned_metric_matches_reference::<f64>(333);
    }

    #[test]
    fn tuned_f32_metric_matches_the_reference() {
        tuned_metric_matches_reference::<f32>(334);
    }

    /// The align + uniform loss of docs/math.md §1.3 through `Backend::loss`, built from the reference
    /// reductions: L = w_a·align_α(ẑ) + w_u·(unif_t(ẑ1) + unif_t(ẑ2))/2, its gradient back through ẑ = z/‖z‖.
    fn tuned_align_uniform_loss_matches_reference<F: Float>(seed: u64) {
        let cpu = Cpu::<F>::new();
        let (value_tol, grad_tol) = tols::<F>();
        let mut r = rng(seed, stream::TEST);
        for (rows, d) in SHAPES {
            for (alpha, t, w_align, w_unif) in [(2.0f32, 2.0f32, 1.0f32, 1.0f32), (1.0, 0.7, 0.3, 1.8)] {
                let what = format!("Cpu<{}> align-uniform loss {rows}×{d} α = {alpha} t = {t}", F::NAME);
                let loss = LossConfig {
                    kind: LossKind::AlignUniform,
                    align_alpha: alpha,
                    unif_t: t,
                    w_align,
                    w_unif,
                    ..LossConfig::default()
                };
                let params = LossParams::from_config(&loss, &SelectionConfig::default());
                let z = at_precision::<F>(&random_matrix(&mut r, rows, d));
                let out = cpu.loss(&params, &cpu.upload_f64(rows, d, &z.data), &Pairs::None, None);

                let (alpha, t, w_align, w_unif) = (alpha as f64, t as f64, w_align as f64, w_unif as f64);
                let (want, want_grad) = reference::align_uniform_loss(&z, alpha, t, w_align, w_unif);
                assert_close(&format!("{what}: value"), value_tol, &cpu.download_f64(&out.value), &[want]);
                assert_close(&format!("{what}: ∂L/∂z"), grad_tol, &cpu.download_f64(&out.grad), &want_grad.data);
            }
        }
    }

    #[test]
    fn tuned_f64_align_uniform_loss_matches_the_reference() {
        tuned_align_uniform_loss_matches_reference::<f64>(335);
    }

    #[test]
    fn tuned_f32_align_uniform_loss_matches_the_reference() {
        tuned_align_uniform_loss_matches_reference::<f32>(336);
    }
}
