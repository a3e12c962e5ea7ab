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

    /// A ← A + Aᵀ for a square A, in place: what the loss's gradient multiplies by Ẑ (`ops::loss`).
    ///
    /// By pairs of T × T tiles (I, J) with I ≤ J, each copied whole into a buffer first: a row-major matrix's
    /// column is a walk with a stride of n elements, 4 KB at n = 1,024, so every step of it lands on the same
    /// cache set and a tile read in place in columns misses on every element (3 ms for n = 1,024 on one core,
    /// against 0.4 ms through the buffers; docs/benchmarks.md, 2026-12-04 night). Element (i, k) becomes
    /// a_ik + a_ki and (k, i) becomes a_ki + a_ik, the same value (addition commutes exactly); each pair of
    /// tiles is written by one thread, so the bits do not depend on the thread count.
    pub fn add_transpose_in_place(&mut self) {
        assert_eq!(self.rows, self.cols, "add_transpose_in_place: the matrix must be square");
        let n = self.rows;
        // Two tiles of 16 KB (f32) or 8 KB (f64): both stay in a 32 KB L1 beside what the loop streams.
        let tile = if std::mem::size_of::<F>() <= 4 { 64 } else { 32 };
        let tiles = n.div_ceil(tile);
        let data = crate::parallel::SharedPtr(self.data.as_mut_ptr());
        // Iteration I owns the tile pairs (I, J) and (J, I) for J ≥ I: no two iterations write the same element,
        // and each reads only the tiles it writes.
        crate::parallel::for_each_index_weighted(tiles, n * n, |ti| {
            let (mut a, mut b) = (vec![F::zero(); tile * tile], vec![F::zero(); tile * tile]);
            let (i0, h) = (ti * tile, tile.min(n - ti * tile));
            for tj in ti..tiles {
                let (j0, w) = (tj * tile, tile.min(n - tj * tile));
                // SAFETY (`at` and every slice below): rows and columns i0..i0+h and j0..j0+w are all < n, so
                // inside the n × n allocation, which `&mut self` keeps alive and unaliased until every iteration
                // has returned; the elements are this iteration's two tiles, which no other iteration touches,
                // and no slice outlives the statement that reads or writes it.
                let at = |r: usize, c: usize| unsafe { data.get().add(r * n + c) };
                for r in 0..h {
                    // a[r][c] = A[i0 + r][j0 + c]; b[c][r] = A[j0 + c][i0 + r], both copied row by row.
                    let row = unsafe { std::slice::from_raw_parts(at(i0 + r, j0), w) };
                    a[r * tile..r * tile + w].copy_from_slice(row);
                }
                for c in 0..w {
                    let row = unsafe { std::slice::from_raw_parts(at(j0 + c, i0), h) };
                    b[c * tile..c * tile + h].copy_from_slice(row);
                }
                for r in 0..h {
                    let dst = unsafe { std::slice::from_raw_parts_mut(at(i0 + r, j0), w) };
                    for (c, d) in dst.iter_mut().enumerate() {
                        *d = a[r * tile + c] + b[c * tile + r];
                    }
                }
                if tj != ti {
                    for c in 0..w {
                        let dst = unsafe { std::slice::from_raw_parts_mut(at(j0 + c, i0), h) };
                        for (r, d) in dst.iter_mut().enumerate() {
                            *d = b[c * tile + r] + a[r * tile + c];
                        }
                    }
                }
            }
        });
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

    /// A + Aᵀ in place against the plain sum, element for element and bit for bit (it is one addition), on
    /// random non-symmetric matrices: sizes on either side of the f64 (32) and f32 (64) tiles, a single
    /// element, and sizes past the pool's threshold, each on one, two and three threads.
    #[test]
    fn add_transpose_in_place_is_the_plain_sum_on_any_thread_count() {
        use crate::rng::{rng, stream};
        let mut r = rng(75, stream::TEST);
        for n in [1, 2, 31, 32, 33, 63, 64, 65, 130, 257, 300] {
            let a = crate::testing::random_matrix(&mut r, n, n);
            let a32 = Matrix::<f32>::from_f64(n, n, &a.data);
            for threads in [1, 2, 3] {
                let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("a worker pool");
                let (mut got, mut got32) = (a.clone(), a32.clone());
                pool.install(|| {
                    got.add_transpose_in_place();
                    got32.add_transpose_in_place();
                });
                for i in 0..n {
                    for k in 0..n {
                        let (want, want32) = (a.at(i, k) + a.at(k, i), a32.at(i, k) + a32.at(k, i));
                        assert_eq!(
                            got.at(i, k).to_bits(),
                            want.to_bits(),
                            "f64 n = {n}, ({i}, {k}), {threads} threads"
                        );
                        assert_eq!(
                            got32.at(i, k).to_bits(),
                            want32.to_bits(),
                            "f32 n = {n}, ({i}, {k}), {threads} threads"
                        );
                    }
                }
            }
        }
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
