//! Metrics of MATH.md §4 computed on the host. STUB: signatures fixed; bodies to be written.

use crate::matrix::Matrix;

/// Tolerance (Wang & Liu 2021): mean over same-label pairs i ≠ j of ẑ_iᵀẑ_j (rows normalised inside).
pub fn tolerance(z: &Matrix<f32>, labels: &[usize]) -> f64 {
    let _ = (z, labels);
    todo!()
}

/// kNN accuracy, cosine similarity, majority vote of k nearest train rows (ties: nearest wins).
pub fn knn_accuracy(
    train: &Matrix<f32>,
    train_labels: &[usize],
    test: &Matrix<f32>,
    test_labels: &[usize],
    k: usize,
) -> f64 {
    let _ = (train, train_labels, test, test_labels, k);
    todo!()
}

/// Linear-probe accuracy: multinomial logistic regression on standardised features, trained on train, scored on test.
pub fn probe_accuracy(
    train: &Matrix<f32>,
    train_labels: &[usize],
    test: &Matrix<f32>,
    test_labels: &[usize],
    classes: usize,
    seed: u64,
) -> f64 {
    let _ = (train, train_labels, test, test_labels, classes, seed);
    todo!()
}

/// Effective rank of centred h: exp(entropy of its normalised singular values).
pub fn effective_rank(h: &Matrix<f32>) -> f64 {
    let _ = h;
    todo!()
}
