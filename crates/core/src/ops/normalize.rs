//! Row normalisation ẑ = z/‖z‖ (docs/math.md §1.1) and its gradient: every loss but spectral normalises z
//! first, and the selection normalises h. The WGSL kernels are shaders/normalize.wgsl (forward, backward),
//! held to these by the parity suite (crates/gpu/tests/parity.rs, `normalization_matches_reference`).

use crate::float::Float;
use crate::matrix::Matrix;
use crate::parallel::CHUNK_ELEMENTS;

/// Smallest norm a row is divided by, so that a zero row gives a zero (not NaN) direction.
pub fn norm_floor<F: Float>() -> F {
    F::of(1e-12)
}

/// ẑ_i = z_i / max(‖z_i‖, ε); returns (ẑ, n×1 norms max(‖z_i‖, ε)).
pub fn normalize_forward<F: Float>(z: &Matrix<F>) -> (Matrix<F>, Matrix<F>) {
    let (rows, d) = (z.rows, z.cols);
    let mut zhat = z.clone();
    if d == 0 {
        return (zhat, Matrix::from_vec(rows, 1, vec![norm_floor(); rows]));
    }
    // Rows are independent: chunks of rows run on the cores, each row's sum in the same order on any.
    let norms = crate::parallel::map_row_chunks(
        &mut zhat.data,
        d,
        CHUNK_ELEMENTS.div_ceil(d),
        #[inline(always)]
        |_, chunk| {
            let norms: Vec<F> = chunk
                .chunks_mut(d)
                .map(|row| {
                    let n = row.iter().map(|&v| v * v).sum::<F>().sqrt().max(norm_floor());
                    row.iter_mut().for_each(|v| *v = *v / n);
                    n
                })
                .collect();
            norms
        },
    );
    (zhat, Matrix::from_vec(rows, 1, norms.concat()))
}

/// ∂L/∂z_i = (g_i − ẑ_i·(ẑ_iᵀg_i)) / ‖z_i‖ with g = ∂L/∂ẑ.
pub fn normalize_backward<F: Float>(zhat: &Matrix<F>, norms: &Matrix<F>, d_zhat: &Matrix<F>) -> Matrix<F> {
    let d = zhat.cols;
    let mut dz = d_zhat.clone();
    if d == 0 {
        return dz;
    }
    crate::parallel::map_row_chunks(
        &mut dz.data,
        d,
        CHUNK_ELEMENTS.div_ceil(d),
        #[inline(always)]
        |first, chunk| {
            for (j, g_row) in chunk.chunks_mut(d).enumerate() {
                let r = first + j;
                let zr = zhat.row(r);
                let dot: F = zr.iter().zip(d_zhat.row(r)).map(|(&a, &b)| a * b).sum();
                let n = norms.data[r];
                for (g, &zv) in g_row.iter_mut().zip(zr) {
                    *g = (*g - zv * dot) / n;
                }
            }
        },
    );
    dz
}
