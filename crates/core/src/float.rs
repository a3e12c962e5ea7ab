//! The scalar type of the CPU backend: `f32` for the runtime fallback, `f64` for the reference in tests.
//!
//! The trait adds to `num_traits::Float` the one thing the math needs from outside: a fast general matrix
//! product (`matrixmultiply`'s sgemm/dgemm, blocked and threaded on native targets).

use std::fmt::Debug;
use std::iter::Sum;

/// A floating-point scalar the CPU backend computes in.
pub trait Float: num_traits::Float + num_traits::FloatConst + Default + Debug + Sum + Send + Sync + 'static {
    /// Name used in test messages ("f32", "f64").
    const NAME: &'static str;

    /// Converts from f64 (rounding to nearest for f32).
    fn of(x: f64) -> Self;

    /// Converts to f64 exactly.
    fn f64(self) -> f64;

    /// `C ← α·A·B + β·C` for row-major C (m×n). A is m×k and B is k×n, each given by a slice and
    /// (row stride, column stride), so a transpose is a swap of strides and costs nothing.
    #[allow(clippy::too_many_arguments)]
    fn gemm(
        m: usize,
        k: usize,
        n: usize,
        alpha: Self,
        a: &[Self],
        a_strides: (usize, usize),
        b: &[Self],
        b_strides: (usize, usize),
        beta: Self,
        c: &mut [Self],
    );
}

/// Checks that every element reachable through the strides lies inside the slice.
fn check_extent(len: usize, rows: usize, cols: usize, (rs, cs): (usize, usize), what: &str) {
    if rows == 0 || cols == 0 {
        return;
    }
    let last = (rows - 1) * rs + (cols - 1) * cs;
    assert!(last < len, "gemm: {what} needs index {last} but has {len} elements");
}

macro_rules! impl_float {
    ($t:ty, $name:literal, $gemm:ident) => {
        impl Float for $t {
            const NAME: &'static str = $name;
            #[inline]
            fn of(x: f64) -> Self {
                x as $t
            }
            #[inline]
            fn f64(self) -> f64 {
                self as f64
            }
            fn gemm(
                m: usize,
                k: usize,
                n: usize,
                alpha: Self,
                a: &[Self],
                a_strides: (usize, usize),
                b: &[Self],
                b_strides: (usize, usize),
                beta: Self,
                c: &mut [Self],
            ) {
                check_extent(a.len(), m, k, a_strides, "A");
                check_extent(b.len(), k, n, b_strides, "B");
                assert!(c.len() >= m * n, "gemm: C has {} elements, needs {}", c.len(), m * n);
                if m == 0 || n == 0 {
                    return;
                }
                if k == 0 {
                    for v in c[..m * n].iter_mut() {
                        *v = if beta == 0.0 { 0.0 } else { *v * beta };
                    }
                    return;
                }
                // SAFETY: the extents of A, B and C were checked above against their slices.
                unsafe {
                    matrixmultiply::$gemm(
                        m,
                        k,
                        n,
                        alpha,
                        a.as_ptr(),
                        a_strides.0 as isize,
                        a_strides.1 as isize,
                        b.as_ptr(),
                        b_strides.0 as isize,
                        b_strides.1 as isize,
                        beta,
                        c.as_mut_ptr(),
                        n as isize,
                        1,
                    );
                }
            }
        }
    };
}

impl_float!(f32, "f32", sgemm);
impl_float!(f64, "f64", dgemm);
