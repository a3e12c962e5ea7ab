//! k-nearest-neighbour accuracy with cosine similarity (docs/math.md §4).
//!
//! Each test row votes among its k most cosine-similar train rows; the class with most votes wins, and a tie
//! between classes goes to the class of the nearest neighbour among the tied classes. Similarities come from
//! one matrix product per block of test rows (ẑ_test · ẑ_trainᵀ), so the cost is O(test·train·d) in a GEMM
//! and the memory O(block·train).

use super::unit_rows_f64;
use crate::matrix::Matrix;

/// The k of docs/math.md §4.
pub const DEFAULT_K: usize = 5;

/// Test rows per similarity block: bounds memory at BLOCK × train similarities.
const BLOCK: usize = 256;

/// Predicted class of every test row by a cosine kNN vote over `train` (k clamped to 1..=train rows).
/// With no train rows every prediction is class 0.
pub fn knn_predict(train: &Matrix<f32>, train_labels: &[usize], test: &Matrix<f32>, k: usize) -> Vec<usize> {
    let Some(voter) = KnnVoter::new(train, train_labels, test.cols, k) else { return vec![0; test.rows] };
    let test_hat = unit_rows_f64(test);
    let mut predictions = Vec::with_capacity(test.rows);
    for start in (0..test.rows).step_by(BLOCK) {
        predictions.extend(voter.predict_unit(&test_hat.rows_range(start, (start + BLOCK).min(test.rows))));
    }
    predictions
}

/// The train side of a kNN vote, prepared once (unit rows, classes), so test rows can be predicted a block
/// at a time: the app spreads an evaluation's kNN over frames. A row's prediction does not depend on the
/// block it comes in.
#[derive(Clone, Debug)]
pub struct KnnVoter {
    train_hat: Matrix<f64>,
    labels: Vec<usize>,
    classes: usize,
    k: usize,
}

impl KnnVoter {
    /// `None` when there is nothing to vote with (no train row) or the widths differ.
    pub fn new(train: &Matrix<f32>, train_labels: &[usize], test_cols: usize, k: usize) -> Option<Self> {
        let n_train = train.rows.min(train_labels.len());
        if n_train == 0 || train.cols != test_cols {
            return None;
        }
        Some(Self {
            train_hat: unit_rows_f64(&train.rows_range(0, n_train)),
            labels: train_labels[..n_train].to_vec(),
            classes: train_labels[..n_train].iter().max().map_or(1, |&m| m + 1),
            k: k.clamp(1, n_train),
        })
    }

    /// Predicted class of each row of `test` (not yet unit rows).
    pub fn predict(&self, test: &Matrix<f32>) -> Vec<usize> {
        self.predict_unit(&unit_rows_f64(test))
    }

    /// Predicted class of each unit row of `test_hat`.
    fn predict_unit(&self, test_hat: &Matrix<f64>) -> Vec<usize> {
        let k = self.k;
        let sims = test_hat.matmul_t(&self.train_hat);
        let mut votes = vec![0usize; self.classes];
        let mut nearest: Vec<(f64, usize)> = Vec::with_capacity(k + 1);
        (0..test_hat.rows)
            .map(|r| {
                // Keep the k best (similarity descending, index ascending on ties) in a small sorted list.
                // (Cosines of finite rows are never NaN, so `<=` is a total order here.)
                nearest.clear();
                for (j, &s) in sims.row(r).iter().enumerate() {
                    if nearest.len() == k && s <= nearest[k - 1].0 {
                        continue;
                    }
                    let pos = nearest.partition_point(|&(t, _)| t >= s);
                    nearest.insert(pos, (s, j));
                    nearest.truncate(k);
                }
                votes.iter_mut().for_each(|v| *v = 0);
                nearest.iter().for_each(|&(_, j)| votes[self.labels[j]] += 1);
                let top = votes.iter().copied().max().unwrap_or(0);
                // Ties: the nearest neighbour whose class has the top vote count decides.
                nearest.iter().map(|&(_, j)| self.labels[j]).find(|&c| votes[c] == top).unwrap_or(0)
            })
            .collect()
    }
}

/// kNN accuracy, cosine similarity, majority vote of k nearest train rows (ties: nearest wins).
/// Returns 0 for an empty test set.
pub fn knn_accuracy(
    train: &Matrix<f32>,
    train_labels: &[usize],
    test: &Matrix<f32>,
    test_labels: &[usize],
    k: usize,
) -> f64 {
    let predictions = knn_predict(train, train_labels, test, k);
    let n = predictions.len().min(test_labels.len());
    if n == 0 {
        return 0.0;
    }
    let correct = predictions.iter().zip(test_labels).filter(|(p, l)| p == l).count();
    correct as f64 / n as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{normal, rng, stream};

    /// `per_class` points around each of `classes` directions on the circle, spread `noise`.
    fn clusters(classes: usize, per_class: usize, noise: f64, seed: u64) -> (Matrix<f32>, Vec<usize>) {
        let mut g = rng(seed, stream::TEST);
        let mut data = Vec::new();
        let mut labels = Vec::new();
        for c in 0..classes {
            let angle = c as f64 * std::f64::consts::TAU / classes as f64;
            for _ in 0..per_class {
                data.push((angle.cos() + noise * normal(&mut g)) as f32);
                data.push((angle.sin() + noise * normal(&mut g)) as f32);
                labels.push(c);
            }
        }
        (Matrix::from_vec(classes * per_class, 2, data), labels)
    }

    #[test]
    fn a_vote_block_by_block_is_the_vote_in_one_go() {
        let (train, tl) = clusters(4, 60, 0.6, 11);
        let (test, _) = clusters(4, 25, 0.6, 12);
        let whole = knn_predict(&train, &tl, &test, 5);
        let voter = KnnVoter::new(&train, &tl, test.cols, 5).unwrap();
        let blocks: Vec<usize> = (0..test.rows)
            .step_by(7)
            .flat_map(|s| voter.predict(&test.rows_range(s, (s + 7).min(test.rows))))
            .collect();
        assert_eq!(blocks, whole);
        assert!(KnnVoter::new(&train, &[], test.cols, 5).is_none());
        assert!(KnnVoter::new(&train, &tl, test.cols + 1, 5).is_none());
    }

    #[test]
    fn knn_is_perfect_on_separated_clusters() {
        let (train, tl) = clusters(4, 50, 0.05, 1);
        let (test, sl) = clusters(4, 30, 0.05, 2);
        assert_eq!(knn_accuracy(&train, &tl, &test, &sl, DEFAULT_K), 1.0);
    }

    #[test]
    fn knn_is_near_chance_on_random_labels() {
        let (train, _) = clusters(1, 600, 1.0, 3);
        let (test, _) = clusters(1, 600, 1.0, 4);
        let mut g = rng(5, stream::TEST);
        let tl: Vec<usize> = (0..600).map(|_| crate::rng::index(&mut g, 4)).collect();
        let sl: Vec<usize> = (0..600).map(|_| crate::rng::index(&mut g, 4)).collect();
        let acc = knn_accuracy(&train, &tl, &test, &sl, DEFAULT_K);
        assert!((acc - 0.25).abs() < 0.07, "accuracy {acc} is not near chance 0.25");
    }

    #[test]
    fn knn_tie_between_classes_goes_to_the_nearest() {
        // k = 2: one vote each; the nearest (index 1, class 1) decides.
        let train = Matrix::from_vec(3, 2, vec![0.0, 1.0, 1.0, 0.1, -1.0, 0.0]);
        let test = Matrix::from_vec(1, 2, vec![1.0, 0.0]);
        assert_eq!(knn_predict(&train, &[0, 1, 2], &test, 2), vec![1]);
        assert_eq!(knn_accuracy(&train, &[0, 1, 2], &Matrix::zeros(0, 2), &[], 5), 0.0);
    }
}
