//! The contrastive losses of MATH.md §1, each value with its gradient beside it. STUB.

pub mod align_uniform;

use crate::backend::LossParams;
use crate::float::Float;
use crate::matrix::Matrix;
use crate::selection::PairFlags;

/// The loss of `p.kind` on z (2N × d, views stacked) and ∂L/∂z.
pub fn loss_and_grad<F: Float>(
    p: &LossParams,
    z: &Matrix<F>,
    flags: Option<&PairFlags>,
    labels: Option<&[usize]>,
) -> (F, Matrix<F>) {
    let _ = (p, z, flags, labels);
    todo!()
}
