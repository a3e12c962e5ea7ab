//! Row normalisation ẑ = z/‖z‖ (docs/math.md §1.1) and its gradient: every loss but spectral normalises z
//! first, and the selection normalises h. The WGSL kernels are shaders/normalize.wgsl (forward, backward),
//! held to these by the parity suite (crates/gpu/tests/parity.rs, `normalization_matches_reference`).

use crate::float::Float;
use crate::matrix::Matrix;

/// Smallest norm a row is divided by, so that a zero row gives a zero (not NaN) direction.
pub fn norm_floor<F: Float>() -> F {
    F::of(1e-12)
}

/// ẑ_i = z_i / max(‖z_i‖, ε); returns (ẑ, n×1 norms max(‖z_i‖, ε)).
pub fn normalize_forward<F: Float>(z: &Matrix<F>) -> (Matrix<F>, Matrix<F>) {
    let mut zhat = z.clone();
    let mut norms = Matrix::zeros(z.rows, 1);
    for r in 0..z.rows {
        let n = z.row(r).iter().map(|&v| v * v).sum::<F>().sqrt().max(norm_floor());
        norms.data[r] = n;
        zhat.row_mut(r).iter_mut().for_each(|v| *v = *v / n);
    }
    (zhat, norms)
}

/// ∂L/∂z_i = (g_i − ẑ_i·(ẑ_iᵀg_i)) / ‖z_i‖ with g = ∂L/∂ẑ.
pub fn normalize_backward<F: Float>(zhat: &Matrix<F>, norms: &Matrix<F>, d_zhat: &Matrix<F>) -> Matrix<F> {
    let mut dz = d_zhat.clone();
    for r in 0..zhat.rows {
        let zr = zhat.row(r);
        let dot: F = zr.iter().zip(d_zhat.row(r)).map(|(&a, &b)| a * b).sum();
        let n = norms.data[r];
        for (g, &zv) in dz.row_mut(r).iter_mut().zip(zr) {
            *g = (*g - zv * dot) / n;
        }
    }
    dz
}
