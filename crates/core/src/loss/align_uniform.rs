//! Alignment and uniformity (Wang & Isola 2020). STUB.

use crate::float::Float;
use crate::matrix::Matrix;

/// [alignment, uniformity] metric of MATH.md §4 on z (2N × d, normalised inside).
pub fn alignment_uniformity_metric<F: Float>(z: &Matrix<F>, t: F) -> (F, F) {
    let _ = (z, t);
    todo!()
}
