//! A dense row-major matrix: the CPU backend's tensor, and the host-side exchange format of every backend.

use crate::float::Float;

/// Dense row-major matrix, `rows × cols`, element (r, c) at `data[r * cols + c]`.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Matrix<F> {
    pub rows: usize,
    pub cols: usize,
    pub data: Vec<F>,
}

impl<F: Float> Matrix<F> {
    pub fn zeros(rows: usize, cols: usize) -> Self {
        Self { rows, cols, data: vec![F::zero(); rows * cols] }
    }

    /// Wraps a row-major buffer. Panics if the length is not rows·cols (a programming error, not user input).
    pub fn from_vec(rows: usize, cols: usize, data: Vec<F>) -> Self {
        assert_eq!(data.len(), rows * cols, "Matrix::from_vec: {rows}×{cols} needs {} values", rows * cols);
        Self { rows, cols, data }
    }

    /// Converts from f32 host data (exact for f32 and f64).
    pub fn from_f32(rows: usize, cols: usize, data: &[f32]) -> Self {
        Self::from_vec(rows, cols, data.iter().map(|&v| F::of(v as f64)).collect())
    }

    pub fn from_f64(rows: usize, cols: usize, data: &[f64]) -> Self {
        Self::from_vec(rows, cols, data.iter().map(|&v| F::of(v)).collect())
    }

    pub fn to_f32(&self) -> Vec<f32> {
        self.data.iter().map(|v| v.f64() as f32).collect()
    }

    pub fn to_f64(&self) -> Vec<f64> {
        self.data.iter().map(|v| v.f64()).collect()
    }

    #[inline]
    pub fn row(&self, r: usize) -> &[F] {
        &self.data[r * self.cols..(r + 1) * self.cols]
    }

    #[inline]
    pub fn row_mut(&mut self, r: usize) -> &mut [F] {
        &mut self.data[r * self.cols..(r + 1) * self.cols]
    }

    #[inline]
    pub fn at(&self, r: usize, c: usize) -> F {
        self.data[r * self.cols + c]
    }

    pub fn len(&self) -> usize {
        self.data.len()
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// `self · other` (m×k · k×n).
    pub fn matmul(&self, other: &Self) -> Self {
        assert_eq!(self.cols, other.rows, "matmul: inner dimensions differ");
        let data =
            F::product(self.rows, self.cols, other.cols, (&self.data, (self.cols, 1)), (&other.data, (other.cols, 1)));
        Self::from_vec(self.rows, other.cols, data)
    }

    /// `self · otherᵀ` (m×k · (n×k)ᵀ): the Gram-type product used for similarity matrices.
    pub fn matmul_t(&self, other: &Self) -> Self {
        assert_eq!(self.cols, other.cols, "matmul_t: inner dimensions differ");
        let data =
            F::product(self.rows, self.cols, other.rows, (&self.data, (self.cols, 1)), (&other.data, (1, other.cols)));
        Self::from_vec(self.rows, other.rows, data)
    }

    /// `selfᵀ · other` ((k×m)ᵀ · k×n): the weight-gradient product.
    pub fn t_matmul(&self, other: &Self) -> Self {
        assert_eq!(self.rows, other.rows, "t_matmul: inner dimensions differ");
        let data =
            F::product(self.cols, self.rows, other.cols, (&self.data, (1, self.cols)), (&other.data, (other.cols, 1)));
        Self::from_vec(self.cols, other.cols, data)
    }

    /// Rows `start..end` as a new matrix.
    pub fn rows_range(&self, start: usize, end: usize) -> Self {
        Self::from_vec(end - start, self.cols, self.data[start * self.cols..end * self.cols].to_vec())
    }

    /// Stacks `top` above `bottom` (same column count).
    pub fn vstack(top: &Self, bottom: &Self) -> Self {
        assert_eq!(top.cols, bottom.cols, "vstack: column counts differ");
        let mut data = Vec::with_capacity(top.len() + bottom.len());
        data.extend_from_slice(&top.data);
        data.extend_from_slice(&bottom.data);
        Self::from_vec(top.rows + bottom.rows, top.cols, data)
    }

    /// Returns each row divided by its ℓ2 norm (rows of norm 0 stay 0).
    pub fn normalized_rows(&self) -> Self {
        let mut out = self.clone();
        for r in 0..self.rows {
            let row = out.row_mut(r);
            let n = row.iter().map(|&v| v * v).sum::<F>().sqrt();
            if n > F::zero() {
                row.iter_mut().for_each(|v| *v = *v / n);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(a: &Matrix<f64>, b: &Matrix<f64>) -> Matrix<f64> {
        let mut out = Matrix::zeros(a.rows, b.cols);
        for i in 0..a.rows {
            for j in 0..b.cols {
                out.data[i * b.cols + j] = (0..a.cols).map(|k| a.at(i, k) * b.at(k, j)).sum();
            }
        }
        out
    }

    fn transpose(a: &Matrix<f64>) -> Matrix<f64> {
        let mut out = Matrix::zeros(a.cols, a.rows);
        for i in 0..a.rows {
            for j in 0..a.cols {
                out.data[j * a.rows + i] = a.at(i, j);
            }
        }
        out
    }

    #[test]
    fn products_match_naive_loops_including_transposed_forms() {
        let seq = |r: usize, c: usize, s: f64| {
            Matrix::from_vec(r, c, (0..r * c).map(|i| ((i as f64 * s).sin() * 3.0).round() / 2.0).collect())
        };
        for &(m, k, n) in &[(1, 1, 1), (3, 5, 2), (17, 9, 33), (64, 65, 7)] {
            let a = seq(m, k, 0.7);
            let b = seq(k, n, 1.3);
            assert_eq!(a.matmul(&b), naive(&a, &b));
            assert_eq!(a.matmul_t(&transpose(&b)), naive(&a, &b));
            assert_eq!(transpose(&a).t_matmul(&b), naive(&a, &b));
        }
    }
}
