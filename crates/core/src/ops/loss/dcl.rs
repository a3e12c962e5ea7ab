//! Decoupled contrastive loss (Yeh et al. 2022, docs/math.md §1.5): InfoNCE with the positive left out of the
//! denominator,
//!   ℓ_i = −a_{i,j(i)} + log Σ_{k∉{i,j(i)}} exp(a_ik),   L = (1/2N) Σ_i ℓ_i,
//! with the same difficult-pair modifiers as §1.1 on the logits a_ik. The computation is InfoNCE's
//! (`super::infonce::contrastive`); its gradient is ∂L/∂s_ik = (q_ik·1[k∉{i,j}] − 1[k=j]) · a'_ik / 2N.

use super::infonce::{Modifier, contrastive};
use crate::float::Float;
use crate::matrix::Matrix;
use crate::selection::PairFlags;

/// DCL (docs/math.md §1.5): (L, ∂L/∂z). `flags`: 2N × 2N, or `None` for no flagged pair.
pub fn value_and_grad<F: Float>(
    z: &Matrix<F>,
    tau: F,
    modifier: Modifier,
    flags: Option<&PairFlags>,
) -> (F, Matrix<F>) {
    contrastive(z, tau, modifier, flags, false)
}

/// The plain formula, untuned: f64, one pair at a time, O(N·d) memory — InfoNCE's plain reference with the
/// positive left out of the denominator, as the tuned path shares InfoNCE's computation.
pub mod reference {
    use crate::matrix::Matrix;
    use crate::ops::loss::infonce::{Modifier, reference::contrastive};
    use crate::selection::PairFlags;

    /// (L, ∂L/∂z) of DCL at temperature τ on z (2N × d), no pair flagged.
    pub fn value_and_grad(z: &Matrix<f64>, tau: f64) -> (f64, Matrix<f64>) {
        contrastive(z, tau, false)
    }

    /// DCL with `modifier` on the pairs `flags` (2N × 2N) marks.
    pub fn with_flags(z: &Matrix<f64>, tau: f64, modifier: Modifier, flags: Option<&PairFlags>) -> (f64, Matrix<f64>) {
        crate::ops::loss::infonce::reference::with_flags(z, tau, modifier, flags, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::LossKind;
    use crate::loss::test_util::{assert_gradient_matches_in_every_mode, assert_tuned_path_matches_reference};
    use crate::rng::{rng, stream};
    use crate::testing::random_matrix;

    #[test]
    fn dcl_gradient_matches_finite_differences_in_every_mode() {
        assert_gradient_matches_in_every_mode(LossKind::Dcl, 31);
    }

    #[test]
    fn dcl_equals_a_naive_double_loop_without_the_positive_in_the_denominator() {
        let mut r = rng(32, stream::TEST);
        let z = random_matrix(&mut r, 10, 4);
        let zh = z.normalized_rows();
        let s = |i: usize, k: usize| zh.row(i).iter().zip(zh.row(k)).map(|(a, b)| a * b).sum::<f64>();
        let tau = 0.5;
        let want: f64 = (0..10)
            .map(|i| {
                let j = (i + 5) % 10;
                let den: f64 = (0..10).filter(|&k| k != i && k != j).map(|k| (s(i, k) / tau).exp()).sum();
                -s(i, j) / tau + den.ln()
            })
            .sum::<f64>()
            / 10.0;
        let (l, _) = value_and_grad(&z, tau, Modifier::Scale { sigma: 0.0, rho: 1.0 }, None);
        assert!((l - want).abs() < 1e-12, "{l} vs {want}");
    }

    #[test]
    fn dcl_of_identical_embeddings_is_log_of_2n_minus_2() {
        // Every logit is 1/τ: ℓ = −1/τ + log((2N − 2) e^{1/τ}) = log(2N − 2).
        let z = Matrix::from_vec(8, 2, [1.0, 2.0].repeat(8));
        let (l, _) = value_and_grad(&z, 0.2, Modifier::Scale { sigma: 0.0, rho: 1.0 }, None);
        assert!((l - 6f64.ln()).abs() < 1e-12);
    }

    #[test]
    fn the_tuned_path_matches_the_plain_reference() {
        let plain = Modifier::Scale { sigma: 0.0, rho: 1.0 };
        assert_tuned_path_matches_reference(
            "DCL",
            33,
            |z, tau| value_and_grad(z, tau, plain, None),
            reference::value_and_grad,
        );
    }
}
