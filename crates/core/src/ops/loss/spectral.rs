//! Spectral contrastive loss (HaoChen, Wei, Gaidon, Ma 2021; docs/math.md §1.2), on z as given (not normalised).
//!
//! Shapes: z is 2N × d; z1 = rows 0..N, z2 = rows N..2N; P = Z1 Z2ᵀ is N × N; flags are N × N cross-view
//! (view-1 sample i against view-2 sample j).
//!
//! Value:
//!   clip:  c = z·√μ/‖z‖ for a row with ‖z‖ > √μ, else c = z      (as the authors' code does)
//!   part1 = −(2/N) Σ_i c1_iᵀc2_i
//!   part2 = (1/(N(N−1))) Σ_{i≠j} (c1_iᵀc2_j + m·p_ij)²        (removal: flagged (i, j) leave the sum,
//!                                                               the divisor stays N(N−1))
//!   L = (part1 + part2)/μ
//! Gradient: with W_ij = μ·∂L/∂P_ij, i.e. W_ii = −2/N and W_ij = 2(P_ij + m·p_ij)/(N(N−1)) off the
//! diagonal (0 for a removed pair): ∂L/∂C1 = W·C2/μ, ∂L/∂C2 = Wᵀ·C1/μ; then back through the clip, whose
//! Jacobian for a clipped row is (√μ/‖z‖)(I − ẑẑᵀ): ∂L/∂z = (√μ/‖z‖)(g − ẑ(ẑᵀg)).

// Index loops on purpose: they read like the formulas above (STYLE.md, llm.c).
#![allow(clippy::needless_range_loop)]

use crate::float::Float;
use crate::matrix::Matrix;
use crate::selection::PairFlags;

/// Spectral contrastive loss: (L, ∂L/∂z). `margin` = m on flagged pairs, `removal` drops flagged pairs from
/// part2; `flags` is N × N cross-view or `None`.
pub fn value_and_grad<F: Float>(
    z: &Matrix<F>,
    mu: F,
    margin: F,
    removal: bool,
    flags: Option<&PairFlags>,
) -> (F, Matrix<F>) {
    let n2 = z.rows;
    assert!(n2 >= 2 && n2.is_multiple_of(2), "spectral: z needs an even number (≥ 2) of rows, got {n2}");
    let n = n2 / 2;
    if let Some(f) = flags {
        assert_eq!((f.rows, f.cols), (n, n), "spectral: flags must be N × N = {n} × {n} (cross-view)");
    }
    let d = z.cols;
    let sqrt_mu = mu.sqrt();

    // Clip: c_r = z_r·√μ/‖z_r‖ where ‖z_r‖ > √μ. Keep the scale (0 = not clipped) for the backward pass.
    let mut c = z.clone();
    let mut clip_scale = vec![F::zero(); n2];
    for r in 0..n2 {
        let norm = z.row(r).iter().map(|&v| v * v).sum::<F>().sqrt();
        if norm > sqrt_mu {
            clip_scale[r] = sqrt_mu / norm;
            c.row_mut(r).iter_mut().for_each(|v| *v = *v * sqrt_mu / norm);
        }
    }
    let c1 = c.rows_range(0, n);
    let c2 = c.rows_range(n, n2);
    let mut w = c1.matmul_t(&c2); // P_ij = c1_iᵀc2_j, N × N; becomes W below

    let nf = F::of(n as f64);
    // 1/(N(N−1)); N = 1 has no off-diagonal pair, so part2 is the empty sum 0.
    let inv_pairs = if n > 1 { F::one() / (nf * (nf - F::one())) } else { F::zero() };
    let two = F::of(2.0);
    let (mut part1, mut part2) = (F::zero(), F::zero());
    for i in 0..n {
        for j in 0..n {
            let pij = w.data[i * n + j];
            if i == j {
                // part1 term −(2/N) P_ii, and its slope −2/N.
                part1 = part1 - two * pij / nf;
                w.data[i * n + j] = -two / nf;
                continue;
            }
            let flagged = flags.is_some_and(|f| f.get(i, j));
            if removal && flagged {
                w.data[i * n + j] = F::zero(); // left out of part2: no value, no gradient
                continue;
            }
            // part2 term e² / (N(N−1)) with e = P_ij + m·p_ij, and its slope 2e/(N(N−1)).
            let e = if flagged { pij + margin } else { pij };
            part2 = part2 + e * e * inv_pairs;
            w.data[i * n + j] = two * e * inv_pairs;
        }
    }
    let value = (part1 + part2) / mu;

    // ∂L/∂C1 = W·C2/μ, ∂L/∂C2 = Wᵀ·C1/μ, stacked as ∂L/∂c (2N × d).
    let dc1 = w.matmul(&c2);
    let dc2 = w.t_matmul(&c1);
    let mut grad = Matrix::vstack(&dc1, &dc2);
    grad.data.iter_mut().for_each(|g| *g = *g / mu);
    // Back through the clip: a clipped row c = √μ·ẑ has ∂c/∂z = (√μ/‖z‖)(I − ẑẑᵀ).
    for r in 0..n2 {
        let scale = clip_scale[r];
        if scale == F::zero() {
            continue;
        }
        let zhat: Vec<F> = c.row(r).iter().map(|&v| v / sqrt_mu).collect();
        let g = grad.row_mut(r);
        let dot: F = zhat.iter().zip(g.iter()).map(|(&a, &b)| a * b).sum();
        for k in 0..d {
            g[k] = scale * (g[k] - zhat[k] * dot);
        }
    }
    (value, grad)
}

/// The plain formula, untuned: f64, one pair at a time, O(N·d) memory (checks the GPU at 65,536 views).
pub mod reference {
    use crate::matrix::Matrix;
    use crate::selection::PairFlags;

    /// (L, ∂L/∂z) of the spectral loss with clip level μ on z (2N × d), no pair flagged.
    pub fn value_and_grad(z: &Matrix<f64>, mu: f64) -> (f64, Matrix<f64>) {
        with_flags(z, mu, 0.0, false, None)
    }

    /// The spectral loss with margin m on the pairs `flags` (N × N cross-view) marks, or those pairs left out
    /// of part2 (`removal`; the divisor stays N(N−1)).
    pub fn with_flags(
        z: &Matrix<f64>,
        mu: f64,
        margin: f64,
        removal: bool,
        flags: Option<&PairFlags>,
    ) -> (f64, Matrix<f64>) {
        let (n2, d) = (z.rows, z.cols);
        let n = n2 / 2;
        let nf = n as f64;
        // Clip: c_r = z_r·√μ/‖z_r‖ where ‖z_r‖ > √μ (scale_r = √μ/‖z_r‖), else c_r = z_r (scale_r = 0).
        let mut c = z.clone();
        let mut scale = vec![0.0; n2];
        for r in 0..n2 {
            let norm = z.row(r).iter().map(|v| v * v).sum::<f64>().sqrt();
            if norm > mu.sqrt() {
                scale[r] = mu.sqrt() / norm;
                c.row_mut(r).iter_mut().for_each(|v| *v *= scale[r]);
            }
        }
        let p = |i: usize, j: usize| c.row(i).iter().zip(c.row(n + j)).map(|(a, b)| a * b).sum::<f64>();
        let flagged = |i: usize, j: usize| flags.is_some_and(|f| f.get(i, j));
        let inv_pairs = if n > 1 { 1.0 / (nf * (nf - 1.0)) } else { 0.0 };
        // Value: L = (−(2/N) Σ_i P_ii + (1/(N(N−1))) Σ_{i≠j} e_ij²) / μ, P_ij = c1_iᵀc2_j, e_ij = P_ij + m·p_ij
        // (a removed pair has no term).
        // Gradient: W_ii = −2/N, W_ij = 2e_ij/(N(N−1)) (0 removed); ∂L/∂c1_i = Σ_j W_ij c2_j/μ,
        // ∂L/∂c2_j = Σ_i W_ij c1_i/μ.
        let mut value = 0.0;
        let mut grad = Matrix::zeros(n2, d);
        for i in 0..n {
            for j in 0..n {
                let pij = p(i, j);
                let w = if i == j {
                    value -= 2.0 * pij / nf;
                    -2.0 / nf
                } else if removal && flagged(i, j) {
                    0.0
                } else {
                    let e = if flagged(i, j) { pij + margin } else { pij };
                    value += e * e * inv_pairs;
                    2.0 * e * inv_pairs
                };
                for k in 0..d {
                    grad.data[i * d + k] += w * c.data[(n + j) * d + k] / mu;
                    grad.data[(n + j) * d + k] += w * c.data[i * d + k] / mu;
                }
            }
        }
        // Back through the clip: ∂c/∂z = (√μ/‖z‖)(I − ẑẑᵀ) on a clipped row, ẑ = c/√μ.
        for r in (0..n2).filter(|&r| scale[r] > 0.0) {
            let zhat: Vec<f64> = c.row(r).iter().map(|v| v / mu.sqrt()).collect();
            let g = grad.row_mut(r);
            let dot: f64 = zhat.iter().zip(g.iter()).map(|(a, b)| a * b).sum();
            for k in 0..d {
                g[k] = scale[r] * (g[k] - zhat[k] * dot);
            }
        }
        (value / mu, grad)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::PairLayout;
    use crate::config::{LossKind, PairMode};
    use crate::loss::loss_and_grad;
    use crate::loss::test_util::{params, random_flags};
    use crate::rng::{rng, stream};
    use crate::testing::{assert_gradient_matches, random_matrix};

    /// z with rows of mixed norms: about half above √μ = 1 (clipped), half below.
    fn mixed_norm_z(seed: u64, n2: usize, d: usize) -> Matrix<f64> {
        let mut r = rng(seed, stream::TEST);
        let mut z = random_matrix(&mut r, n2, d);
        for i in 0..n2 {
            let norm = z.row(i).iter().map(|v| v * v).sum::<f64>().sqrt();
            let target = if i % 2 == 0 { 1.7 + 0.1 * i as f64 } else { 0.3 + 0.05 * i as f64 };
            z.row_mut(i).iter_mut().for_each(|v| *v *= target / norm);
        }
        z
    }

    #[test]
    fn spectral_gradient_matches_finite_differences_with_clipping_in_none_removal_and_margin_modes() {
        let z = mixed_norm_z(41, 10, 3);
        let mut r = rng(42, stream::TEST);
        let random = random_flags(&mut r, 5, PairLayout::CrossView);
        let all = PairFlags::all_pairs(10, PairLayout::CrossView);
        for mode in [PairMode::None, PairMode::Removal, PairMode::Margin, PairMode::Combined] {
            for (name, flags) in [("random flags", &random), ("all pairs", &all)] {
                let p = params(LossKind::Spectral, mode);
                let (_, grad) = loss_and_grad(&p, &z, Some(flags), None);
                assert_gradient_matches(&format!("spectral {} {name}", mode.name()), &z, &grad, |x| {
                    loss_and_grad(&p, x, Some(flags), None).0
                });
            }
        }
        // μ ≠ 1 moves the clip radius and scales the loss.
        let mut p = params(LossKind::Spectral, PairMode::Margin);
        p.mu = 2.5;
        let (_, grad) = loss_and_grad(&p, &z, Some(&random), None);
        assert_gradient_matches("spectral μ = 2.5", &z, &grad, |x| loss_and_grad(&p, x, Some(&random), None).0);
    }

    #[test]
    fn spectral_equals_a_naive_double_loop() {
        let z = mixed_norm_z(43, 8, 4);
        let mut r = rng(44, stream::TEST);
        let flags = random_flags(&mut r, 4, PairLayout::CrossView);
        let (mu, m) = (1.0f64, 0.25f64);
        let clip = |row: &[f64]| -> Vec<f64> {
            let norm = row.iter().map(|v| v * v).sum::<f64>().sqrt();
            row.iter().map(|v| if norm > mu.sqrt() { v * mu.sqrt() / norm } else { *v }).collect()
        };
        let c: Vec<Vec<f64>> = (0..8).map(|i| clip(z.row(i))).collect();
        let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
        let n = 4.0;
        for (mode, removal, margin) in
            [(PairMode::None, false, 0.0), (PairMode::Removal, true, 0.0), (PairMode::Margin, false, m)]
        {
            let mut part1 = 0.0;
            let mut part2 = 0.0;
            for i in 0..4 {
                part1 -= 2.0 / n * dot(&c[i], &c[4 + i]);
                for j in 0..4 {
                    if i == j || (removal && flags.get(i, j)) {
                        continue;
                    }
                    let p = if flags.get(i, j) { 1.0 } else { 0.0 };
                    part2 += (dot(&c[i], &c[4 + j]) + margin * p).powi(2) / (n * (n - 1.0));
                }
            }
            let want = (part1 + part2) / mu;
            let (l, _): (f64, _) = loss_and_grad(&params(LossKind::Spectral, mode), &z, Some(&flags), None);
            assert!((l - want).abs() < 1e-12, "{}: {l} vs {want}", mode.name());
        }
    }

    #[test]
    fn the_tuned_path_matches_the_plain_reference() {
        for (seed, rows, d) in [(1, 6, 2), (2, 70, 33), (3, 130, 5)] {
            // Rows of mixed norms: some clipped at μ = 1, some not.
            let z = mixed_norm_z(seed, rows, d);
            let (want, want_grad) = reference::value_and_grad(&z, 1.0);
            let (got, grad) = value_and_grad(&z, 1.0, 0.0, false, None);
            assert!((got - want).abs() <= 1e-12 * want.abs().max(1e-3), "{rows}×{d}: {got} vs {want}");
            let c = crate::tolerance::Tol { rtol: 1e-9, atol_frac: 1e-9 }.compare(&grad.data, &want_grad.data);
            assert!(c.passed(), "{rows}×{d}: {}", c.describe());
        }
        let z = mixed_norm_z(4, 8, 3);
        let (_, grad) = reference::value_and_grad(&z, 1.0);
        assert_gradient_matches("plain spectral reference", &z, &grad, |x| reference::value_and_grad(x, 1.0).0);
    }
}
