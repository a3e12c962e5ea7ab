//! Selecting difficult pairs (MATH.md §2, the paper's Eq. 12). STUB: signatures fixed, bodies to be written.

use crate::backend::PairLayout;
use crate::float::Float;
use crate::matrix::Matrix;

/// A 0/1 flag per pair of a similarity matrix (rows × cols, row-major).
#[derive(Clone, Debug, PartialEq)]
pub struct PairFlags {
    pub rows: usize,
    pub cols: usize,
    pub flags: Vec<bool>,
}

impl PairFlags {
    #[inline]
    pub fn get(&self, i: usize, k: usize) -> bool {
        self.flags[i * self.cols + k]
    }

    /// The ablation: every candidate pair flagged. `z_rows` = 2N (the rows of z).
    pub fn all_pairs(z_rows: usize, layout: PairLayout) -> Self {
        let _ = (z_rows, layout);
        todo!()
    }

    /// From a 0/1 matrix (2N×2N for AllViews, N×N for CrossView): non-zero = flagged; self and positive cleared.
    pub fn from_matrix<F: Float>(m: &Matrix<F>, layout: PairLayout) -> Self {
        let _ = (m, layout);
        todo!()
    }
}

/// Per-row (lo_i, hi_i) as rows × 2.
pub fn thresholds<F: Float>(h: &Matrix<F>, layout: PairLayout, pos_high: f32, pos_low: f32) -> Matrix<F> {
    let _ = (h, layout, pos_high, pos_low);
    todo!()
}

/// p_ik = 1[lo_i ≤ c_ik < hi_i] over candidates.
pub fn flags_from_thresholds<F: Float>(h: &Matrix<F>, thresholds: &Matrix<F>, layout: PairLayout) -> PairFlags {
    let _ = (h, thresholds, layout);
    todo!()
}
