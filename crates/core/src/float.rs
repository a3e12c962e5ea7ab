//! The scalar type of the CPU backend: `f32` for the runtime fallback, `f64` for the reference in tests.
//!
//! The trait adds to `num_traits::Float` the one thing the math needs from outside: a fast general matrix
//! product (`matrixmultiply`'s sgemm/dgemm, blocked; large products split over the cores on native targets).

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

    /// eˣ for the softmax loops. f64 (the reference) uses libm's exp; f32 uses a branch-free polynomial
    /// that the compiler vectorises (≤ 2 ulp from libm, far inside every parity tolerance). −∞ gives 0.
    fn exp_fast(self) -> Self;

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

/// eˣ in f32 without libm: x = n·ln 2 + r with n = round(x·log₂e) (Cody–Waite split of ln 2 for an exact
/// r ∈ [−ln2/2, ln2/2]), eʳ by Cephes' degree-7 polynomial, 2ⁿ by building the exponent bits. Rounding uses the
/// 1.5·2²³ trick, so the loop vectorises on baseline x86-64 (no SSE4.1 round instruction needed).
/// Inputs below −87.3 (including −∞) give 0; above 88.7 are clamped. NaN stays NaN.
#[inline(always)]
pub fn exp_f32(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    const ROUND: f32 = 12_582_912.0; // 1.5·2²³
    let xc = x.clamp(-87.3, 88.7);
    let n = (xc * LOG2E + ROUND) - ROUND;
    let r = xc - n * LN2_HI - n * LN2_LO;
    let mut p = 1.987_569_1e-4_f32;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 0.5;
    let er = p * r * r + r + 1.0;
    let two_n = f32::from_bits(((n as i32 + 127) as u32) << 23);
    let y = er * two_n;
    if x < -87.3 {
        0.0
    } else if x.is_nan() {
        x
    } else {
        y
    }
}

/// A raw pointer that may cross into the scoped threads of one product (each writes a disjoint block).
#[derive(Clone, Copy)]
struct SharedPtr<T>(*mut T);
// SAFETY: only used inside `split_blocks`' scope, where the blocks written through it are disjoint.
unsafe impl<T> Send for SharedPtr<T> {}
unsafe impl<T> Sync for SharedPtr<T> {}

impl<T> SharedPtr<T> {
    /// Through a method, so a closure captures the whole (Send) wrapper, not its raw-pointer field.
    fn get(self) -> *mut T {
        self.0
    }
}

/// Products below this many multiply-adds run on one thread: handing a block to the worker pool costs a few
/// microseconds, about what 2¹⁹ multiply-adds take on one core.
const SPLIT_MIN_MACS: usize = 1 << 19;

/// Calls `f(i0, rows, j0, cols)` on blocks of the m×n output that together cover it once: the longer side is
/// cut into one contiguous run per core (multiples of 16, the GEMM's register tile), each run on the worker
/// pool. The k-sum of every element is still done by one call in one order, so the result has the same
/// bits whatever the number of cores.
fn split_blocks(m: usize, k: usize, n: usize, f: impl Fn(usize, usize, usize, usize) + Sync + Send) {
    let threads = crate::parallel::thread_count();
    let long = m.max(n);
    if threads <= 1 || m * n * k < SPLIT_MIN_MACS || long < 32 {
        f(0, m, 0, n);
        return;
    }
    let run = long.div_ceil(threads).div_ceil(16) * 16;
    crate::parallel::for_each_index(long.div_ceil(run), |p| {
        let start = p * run;
        let len = run.min(long - start);
        if m >= n { f(start, len, 0, n) } else { f(0, m, start, len) }
    });
}

macro_rules! impl_float {
    ($t:ty, $name:literal, $gemm:ident, $exp:expr) => {
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
            #[inline(always)]
            fn exp_fast(self) -> Self {
                $exp(self)
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
                let (a, b, c) =
                    (SharedPtr(a.as_ptr() as *mut $t), SharedPtr(b.as_ptr() as *mut $t), SharedPtr(c.as_mut_ptr()));
                // SAFETY: the extents of A, B and C were checked above against their slices; `split_blocks`
                // hands each call a disjoint block of C (rows i0.., or columns j0..) and the matching rows of A
                // or columns of B, and the scope joins every thread before the slices' borrows end.
                split_blocks(m, k, n, |i0, rows, j0, cols| unsafe {
                    matrixmultiply::$gemm(
                        rows,
                        k,
                        cols,
                        alpha,
                        a.get().add(i0 * a_strides.0),
                        a_strides.0 as isize,
                        a_strides.1 as isize,
                        b.get().add(j0 * b_strides.1),
                        b_strides.0 as isize,
                        b_strides.1 as isize,
                        beta,
                        c.get().add(i0 * n + j0),
                        n as isize,
                        1,
                    );
                });
            }
        }
    };
}

impl_float!(f32, "f32", sgemm, exp_f32);
impl_float!(f64, "f64", dgemm, f64::exp);

#[cfg(test)]
mod tests {
    use super::*;

    /// A product large enough to be split over the cores has the same bits as the same product computed one
    /// output row at a time (each far below the split threshold): splitting never changes a k-sum's order.
    #[test]
    fn split_products_have_the_bits_of_unsplit_ones() {
        use crate::rng::{rng, stream, uniform};
        let mut r = rng(5, stream::TEST);
        // Tall (split by rows), wide (split by columns), and transposed reads of A.
        for (m, k, n, a_t) in [(600, 70, 90, false), (40, 300, 700, false), (333, 200, 129, true)] {
            assert!(m * n * k >= SPLIT_MIN_MACS);
            let a: Vec<f32> = (0..m * k).map(|_| uniform(&mut r, -0.5, 0.5) as f32).collect();
            let b: Vec<f32> = (0..k * n).map(|_| uniform(&mut r, -0.5, 0.5) as f32).collect();
            let a_strides = if a_t { (1, m) } else { (k, 1) };
            let mut whole = vec![0f32; m * n];
            f32::gemm(m, k, n, 1.0, &a, a_strides, &b, (n, 1), 0.0, &mut whole);
            for i in 0..m {
                let mut row = vec![0f32; n];
                f32::gemm(1, k, n, 1.0, &a[i * a_strides.0..], a_strides, &b, (n, 1), 0.0, &mut row);
                assert!(row.iter().zip(&whole[i * n..(i + 1) * n]).all(|(x, y)| x.to_bits() == y.to_bits()), "row {i}");
            }
        }
    }

    #[test]
    fn fast_f32_exp_is_within_two_ulp_of_libm_over_the_whole_range() {
        let mut worst = 0.0f64;
        let mut x = -87.0f32;
        while x < 88.0 {
            let (got, want) = (exp_f32(x) as f64, (x as f64).exp());
            worst = worst.max(((got - want) / want).abs());
            x += 0.0137;
        }
        assert!(worst < 2.5 * f32::EPSILON as f64, "worst relative error {worst:e}");
        assert_eq!(exp_f32(f32::NEG_INFINITY), 0.0);
        assert_eq!(exp_f32(-200.0), 0.0);
        assert_eq!(exp_f32(0.0), 1.0);
        assert!(exp_f32(f32::NAN).is_nan());
    }
}
