//! Metrics of docs/math.md §4 computed on the host, on matrices read back from any backend.
//!
//! One file per metric: tolerance, kNN accuracy, the linear probe, effective rank, the α̂/β̂/γ̂ similarity
//! estimates of the paper's Table 10, and Wang & Liu's hardness weights. Everything accumulates in f64 and
//! is deterministic; none of it panics on empty or degenerate inputs (a metric with nothing to average
//! returns 0, or `None` where the type allows it).

mod hardness;
mod knn;
mod probe;
mod rank;
mod similarity;
mod test_split;
mod tolerance;

pub use hardness::{AnchorHardness, anchor_hardness, hardness_weights};
pub use knn::{DEFAULT_K, KnnVoter, knn_accuracy, knn_predict};
pub use probe::{LinearProbe, ProbeFit, probe_accuracy};
pub use rank::effective_rank;
pub use similarity::{PairCounts, SimilarityEstimates, similarity_estimates};
pub use test_split::{TestSplitScores, test_split_scores};
pub use tolerance::tolerance;

use crate::matrix::Matrix;

/// Rows of `m` divided by their ℓ2 norm, in f64 (rows of norm 0 stay 0).
pub(crate) fn unit_rows_f64(m: &Matrix<f32>) -> Matrix<f64> {
    let mut out = Matrix::from_f32(m.rows, m.cols, &m.data);
    for r in 0..out.rows {
        let row = out.row_mut(r);
        let norm = row.iter().map(|v| v * v).sum::<f64>().sqrt();
        if norm > 0.0 {
            row.iter_mut().for_each(|v| *v /= norm);
        }
    }
    out
}
