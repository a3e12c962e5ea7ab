//! A finished run's scores on its clean test split (docs/math.md §3.1, §4), the numbers the study compares:
//! linear-probe and kNN accuracy on h (the encoder's output: the paper's linear evaluation) and on z (the
//! embedding the lab draws), each fitted on the clean training rows (not mixed) and scored on every test
//! row; and α̂, β̂, γ̂ on the training split's h, where the difficult samples are.

use serde::Serialize;

use super::{DEFAULT_K, knn_accuracy, probe_accuracy, similarity_estimates};
use crate::data::{Dataset, Split};
use crate::matrix::Matrix;

#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct TestSplitScores {
    pub test_samples: usize,
    pub probe_accuracy: f64,
    pub knn_accuracy: f64,
    pub probe_accuracy_z: f64,
    pub knn_accuracy_z: f64,
    pub alpha_hat: Option<f64>,
    pub beta_hat: Option<f64>,
    pub gamma_hat: Option<f64>,
}

/// Rows `idx` of `m`.
fn rows(m: &Matrix<f32>, idx: &[usize]) -> Matrix<f32> {
    Matrix::from_vec(idx.len(), m.cols, idx.iter().flat_map(|&i| m.row(i).iter().copied()).collect())
}

/// Scores of the features `h` and embedding `z` of every sample of `data` (n rows each). `seed` seeds the
/// probe's initialisation.
pub fn test_split_scores(
    data: &Dataset,
    split: &Split,
    h: &Matrix<f32>,
    z: &Matrix<f32>,
    seed: u64,
) -> TestSplitScores {
    let fit: Vec<usize> = split.train.iter().copied().filter(|&i| !data.mixed[i]).collect();
    let labels = |idx: &[usize]| -> Vec<usize> { idx.iter().map(|&i| data.labels[i]).collect() };
    let (fit_labels, test_labels) = (labels(&fit), labels(&split.test));
    let classes = data.classes.max(1);
    let accuracies = |m: &Matrix<f32>| {
        let (train, test) = (rows(m, &fit), rows(m, &split.test));
        (
            probe_accuracy(&train, &fit_labels, &test, &test_labels, classes, seed),
            knn_accuracy(&train, &fit_labels, &test, &test_labels, DEFAULT_K),
        )
    };
    let (probe_h, knn_h) = accuracies(h);
    let (probe_z, knn_z) = accuracies(z);
    let difficult: Vec<bool> = split.train.iter().map(|&i| data.difficult(i)).collect();
    let est = similarity_estimates(&rows(h, &split.train), &labels(&split.train), &difficult);
    TestSplitScores {
        test_samples: split.test.len(),
        probe_accuracy: probe_h,
        knn_accuracy: knn_h,
        probe_accuracy_z: probe_z,
        knn_accuracy_z: knn_z,
        alpha_hat: est.alpha,
        beta_hat: est.beta,
        gamma_hat: est.gamma,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{DataConfig, DatasetKind};

    /// Features that are the one-hot label (plus the sample index's parity as noise) score 1 on the test split
    /// whatever the mixing, and features that ignore the label score at chance.
    #[test]
    fn scores_follow_the_features_on_the_test_rows() {
        let cfg = DataConfig { dataset: DatasetKind::Blobs, n: 300, classes: 3, omega: 0.3, ..DataConfig::default() };
        let data = crate::data::build(&cfg, 1).unwrap();
        let split = crate::data::split(&data, cfg.test_fraction, 1);
        let n = data.len();
        let onehot: Vec<f32> =
            (0..n).flat_map(|i| (0..4).map(move |c| if c == 3 { (i % 2) as f32 * 0.1 } else { 0.0 })).collect();
        let mut h = Matrix::from_vec(n, 4, onehot);
        for i in 0..n {
            h.row_mut(i)[data.labels[i]] = 1.0;
        }
        let s = test_split_scores(&data, &split, &h, &h, 1);
        assert_eq!((s.probe_accuracy, s.knn_accuracy, s.probe_accuracy_z), (1.0, 1.0, 1.0));
        assert_eq!(s.test_samples, split.test.len());
        assert!(s.alpha_hat.unwrap() > 0.9 && s.beta_hat.unwrap() < 0.1, "{s:?}");
        let constant = Matrix::from_vec(n, 2, vec![1.0; 2 * n]);
        let c = test_split_scores(&data, &split, &constant, &constant, 1);
        assert!(c.knn_accuracy < 0.5 && c.probe_accuracy < 0.5, "{c:?}");
    }
}
