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

/// Asserts that `analytic` matches central finite differences of `loss` at `x`:
/// |analytic − fd| ≤ 1e-6 + 1e-5·|fd| per element (f64, h = 1e-6: truncation error O(h²)·f''' and
/// rounding error O(ε/h) are both far below that). Prints the worst element on failure.
#[track_caller]
pub fn assert_gradient_matches(
    what: &str,
    x: &Matrix<f64>,
    analytic: &Matrix<f64>,
    loss: impl FnMut(&Matrix<f64>) -> f64,
) {
    assert_eq!((x.rows, x.cols), (analytic.rows, analytic.cols), "{what}: gradient shape");
    let fd = finite_difference(x, 1e-6, loss);
    let mut worst = (0usize, 0.0f64);
    for i in 0..fd.data.len() {
        let err = (analytic.data[i] - fd.data[i]).abs() - (1e-6 + 1e-5 * fd.data[i].abs());
        if err > worst.1 {
            worst = (i, err);
        }
    }
    if worst.1 > 0.0 {
        let i = worst.0;
        panic!(
            "{what}: gradient mismatch at element {i} (row {}, col {}): analytic {} vs finite difference {}",
            i / x.cols,
            i % x.cols,
            analytic.data[i],
            fd.data[i]
        );
    }
}
