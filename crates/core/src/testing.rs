//! Helpers for tests: random inputs and the finite-difference gradient check every CPU gradient passes.

use crate::matrix::Matrix;
use crate::rng::{Rng, normal};

/// A rows×cols matrix of N(0, 1) draws.
pub fn random_matrix(rng: &mut Rng, rows: usize, cols: usize) -> Matrix<f64> {
    Matrix::from_vec(rows, cols, (0..rows * cols).map(|_| normal(rng)).collect())
}

/// Central finite differences of `loss` at `x`, element by element, with step h.
pub fn finite_difference(x: &Matrix<f64>, h: f64, mut loss: impl FnMut(&Matrix<f64>) -> f64) -> Matrix<f64> {
    let mut grad = Matrix::zeros(x.rows, x.cols);
    let mut probe = x.clone();
    for i in 0..x.data.len() {
        let orig = probe.data[i];
        probe.data[i] = orig + h;
        let up = loss(&probe);
        probe.data[i] = orig - h;
        let down = loss(&probe);
        probe.data[i] = orig;
        grad.data[i] = (up - down) / (2.0 * h);
    }
    grad
}

/// Asserts that `analytic` matches central finite differences of `loss` at `x` (h = 1e-6) under the one
/// tolerance type, `tolerance::FINITE_DIFFERENCE`. Names the worst element on failure.
#[track_caller]
pub fn assert_gradient_matches(
    what: &str,
    x: &Matrix<f64>,
    analytic: &Matrix<f64>,
    loss: impl FnMut(&Matrix<f64>) -> f64,
) {
    assert_eq!((x.rows, x.cols), (analytic.rows, analytic.cols), "{what}: gradient shape");
    let fd = finite_difference(x, 1e-6, loss);
    let c = crate::tolerance::FINITE_DIFFERENCE.compare(&analytic.data, &fd.data);
    if let Some(w) = c.worst.as_ref().filter(|_| !c.passed()) {
        panic!(
            "{what}: analytic gradient against finite differences: {} (row {}, col {})",
            c.describe(),
            w.index / x.cols.max(1),
            w.index % x.cols.max(1)
        );
    }
}
