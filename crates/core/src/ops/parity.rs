//! Test helpers shared by the ops' "tuned path against reference" tests: inputs at a backend's precision, the
//! tolerance for each precision, and one assertion that names the worst element.

use crate::float::Float;
use crate::matrix::Matrix;
use crate::tolerance::{self, Tol};

/// f64 backend against the f64 reference: the two differ only in summation order (blocked GEMM, max shifts),
/// a few ulp per term, so this is tight enough that any change of formula fails by orders of magnitude.
/// (`Tol::compare` floors the absolute tolerance at 1e-7.)
pub const F64: Tol = Tol { rtol: 1e-10, atol_frac: 1e-12 };

/// (values, gradients) tolerance for a backend computing in F: `tolerance::VALUE`/`GRAD` for f32, [`F64`] for f64.
pub fn tols<F: Float>() -> (Tol, Tol) {
    if F::NAME == "f64" { (F64, F64) } else { (tolerance::VALUE, tolerance::GRAD) }
}

/// `m` rounded to precision F and back: the exact values a `Cpu<F>` holds after `upload_f64`, so the reference
/// and the backend see the same input and the comparison measures only the computation.
pub fn at_precision<F: Float>(m: &Matrix<f64>) -> Matrix<f64> {
    Matrix::from_vec(m.rows, m.cols, Matrix::<F>::from_f64(m.rows, m.cols, &m.data).to_f64())
}

/// Asserts `got` matches `want` under `tol`, with `Comparison::describe` in the message.
#[track_caller]
pub fn assert_close(what: &str, tol: Tol, got: &[f64], want: &[f64]) {
    let c = tol.compare(got, want);
    assert!(c.passed(), "{what}: {}", c.describe());
}
