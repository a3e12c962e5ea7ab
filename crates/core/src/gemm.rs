//! The CPU engine's matrix product, `C ← α·A·B + β·C`, on the `gemm` crate's kernels (the ones behind faer):
//! AVX-512, AVX2 + FMA, NEON and wasm SIMD, chosen at run time, each single-threaded; large products are split
//! over the cores here.
//!
//! Why `gemm` and not `matrixmultiply`: matrixmultiply's kernels stop at AVX2, so on an AVX-512 machine the
//! GEMM-bound T2 case ran at 0.82–0.87× PyTorch (issue 14). `SPHERELAB_SIMD=avx2` makes the engine use the
//! AVX2 + FMA kernels on a machine that has AVX-512, so both paths are measured on one machine (the bench
//! prints which path ran); `SPHERELAB_SIMD=scalar` the portable kernels.
//!
//! Same bits whatever the thread count: each block of C handed to a core is one call whose k-sums run in the
//! order the whole product's would. `gemm` picks its k-blocking and its kernel family by the block's shape
//! (gemm-common 0.19: m·n ≤ 256 → horizontal dot-product kernels; m, n ≤ 64 → k blocked by 512, else by the
//! cache model, which depends on k only), so a product is split only when every block takes the path the
//! whole product takes (`split_keeps_the_path`).

use gemm_common::Parallelism;

use crate::parallel::SharedPtr;
use crate::simd::{SimdPath, chosen};

/// Products below this many multiply-adds run on one thread. Handing a block to the worker pool (waking a
/// thread, waiting for it) costs tens of microseconds on a VM, about what 2²¹ multiply-adds take on one AVX-512
/// core: with the threshold at 2¹⁹, T1's products (at most 512 × 64 × 64 = 2²¹) were split and a T1-plain step
/// ran 20 % slower on two threads than on one; at 2²² they stay whole, and T2's (≥ 2²² each) are still split
/// (docs/benchmarks.md, 2026-12-03 evening).
pub(crate) const SPLIT_MIN_MACS: usize = 1 << 22;

/// The kernel family and k-blocking `gemm` picks for an m×n block with inner dimension k (see the module doc).
fn path_of(m: usize, n: usize, k: usize) -> (bool, bool) {
    (m * n <= 256, m <= 64 && n <= 64 && k > 512)
}

/// Whether cutting the long side of m×n into runs of `run` (and a last, shorter one) keeps every block on the
/// whole product's path.
fn split_keeps_the_path(m: usize, k: usize, n: usize, run: usize) -> bool {
    let (long, short) = (m.max(n), m.min(n));
    let last = long - (long - 1) / run * run;
    let whole = path_of(m, n, k);
    [run, last].iter().all(|&len| path_of(len, short, k) == whole)
}

/// Calls `f(i0, rows, j0, cols)` on blocks of the m×n output that together cover it once: the longer side is
/// cut into one contiguous run per core (multiples of 16), each run on the worker pool, when the product is
/// large enough and the cut keeps every block on the whole product's path.
fn split_blocks(m: usize, k: usize, n: usize, f: impl Fn(usize, usize, usize, usize) + Sync + Send) {
    let threads = crate::parallel::thread_count();
    let long = m.max(n);
    let run = long.div_ceil(threads.max(1)).div_ceil(16) * 16;
    if threads <= 1 || m * n * k < SPLIT_MIN_MACS || long < 32 || !split_keeps_the_path(m, k, n, run) {
        f(0, m, 0, n);
        return;
    }
    crate::parallel::for_each_index(long.div_ceil(run), |p| {
        let start = p * run;
        let len = run.min(long - start);
        if m >= n { f(start, len, 0, n) } else { f(0, m, start, len) }
    });
}

/// Checks that every element reachable through the strides lies inside the slice.
fn check_extent(len: usize, rows: usize, cols: usize, (rs, cs): (usize, usize), what: &str) {
    if rows == 0 || cols == 0 {
        return;
    }
    let last = (rows - 1) * rs + (cols - 1) * cs;
    assert!(last < len, "gemm: {what} needs index {last} but has {len} elements");
}

/// One call of gemm's kernel driver, in its column-major view: dst (m×n) ← alpha·dst (when `read_dst`) +
/// beta·lhs·rhs, each operand a pointer and (column stride, row stride).
#[derive(Clone, Copy)]
pub(crate) struct KernelCall<T> {
    pub m: usize,
    pub n: usize,
    pub k: usize,
    pub dst: (*mut T, isize, isize),
    pub read_dst: bool,
    pub lhs: (*const T, isize, isize),
    pub rhs: (*const T, isize, isize),
    pub alpha: T,
    pub beta: T,
}

impl<T: GemmScalar> KernelCall<T> {
    /// `C ← α·A·B + β·C` for a row-major C of `rows`×`cols` with row stride `ldc`, A (rows×k) and B (k×cols)
    /// given by pointers and (row stride, column stride). gemm's kernels prefer a column-major destination, so
    /// this is Cᵀ = Bᵀ·Aᵀ: C's rows are Cᵀ's columns, Bᵀ and Aᵀ read through swapped strides.
    #[allow(clippy::too_many_arguments)]
    fn row_major(
        rows: usize,
        k: usize,
        cols: usize,
        alpha: T,
        a: (*const T, (usize, usize)),
        b: (*const T, (usize, usize)),
        beta: T,
        c: (*mut T, usize),
    ) -> Self {
        let s = |(rs, cs): (usize, usize)| (rs as isize, cs as isize);
        let ((a_rs, a_cs), (b_rs, b_cs)) = (s(a.1), s(b.1));
        Self {
            m: cols,
            n: rows,
            k,
            dst: (c.0, c.1 as isize, 1),
            read_dst: beta != T::ZERO,
            lhs: (b.0, b_rs, b_cs),
            rhs: (a.0, a_rs, a_cs),
            alpha: beta,
            beta: alpha,
        }
    }
}

/// One scalar type's kernels: `gemm`'s own dispatch for the widest path, and AVX2 + FMA or scalar by name.
pub(crate) trait GemmScalar: Copy + PartialEq + Send + Sync + 'static {
    const ZERO: Self;
    const ONE: Self;
    /// Runs `c` on the `simd` family's kernels, single-threaded.
    ///
    /// # Safety
    /// `c`'s pointers and strides must address m×k, k×n and m×n blocks inside live allocations.
    unsafe fn kernel(simd: SimdPath, c: KernelCall<Self>);
}

/// `gemm_common::gemm::gemm_basic_generic` with one SIMD family's microkernels on the `KernelCall` `c`, exactly
/// as gemm's own dispatch (`gemm_common::gemm_def!`) calls it for the family it picks, single-threaded.
macro_rules! family_kernel {
    ($simd:ty, $ukr:path, $lanes:expr, $t:ty, $c:expr) => {{
        use gemm_common::simd::MixedSimd;
        use $ukr as ukr;
        const N: usize = $lanes;
        let c = $c;
        gemm_common::gemm::gemm_basic_generic::<
            _,
            $t,
            N,
            { ukr::MR_DIV_N * N },
            { ukr::NR },
            { ukr::MR_DIV_N },
            { ukr::H_M },
            { ukr::H_N },
        >(
            <$simd as MixedSimd<$t, $t, $t, $t>>::try_new().expect("the SIMD family was detected before it was chosen"),
            c.m,
            c.n,
            c.k,
            c.dst.0,
            c.dst.1,
            c.dst.2,
            c.read_dst,
            c.lhs.0,
            c.lhs.1,
            c.lhs.2,
            c.rhs.0,
            c.rhs.1,
            c.rhs.2,
            c.alpha,
            c.beta,
            false,
            false,
            false,
            |a, b, c| a * b + c,
            &ukr::UKR,
            &ukr::H_UKR,
            false,
            Parallelism::None,
        )
    }};
}

macro_rules! impl_gemm_scalar {
    ($t:ident, $krate:ident, $fma_lanes:expr) => {
        impl GemmScalar for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            unsafe fn kernel(simd: SimdPath, c: KernelCall<Self>) {
                // SAFETY (every arm): the caller vouches for c's pointers and strides (the trait's contract).
                match simd {
                    #[cfg(target_arch = "x86_64")]
                    SimdPath::Avx2Fma => unsafe {
                        family_kernel!(gemm_common::simd::V3, $krate::microkernel::fma::$t, $fma_lanes, $t, c)
                    },
                    SimdPath::Scalar => unsafe {
                        family_kernel!(gemm_common::simd::Scalar, $krate::microkernel::scalar::$t, 1, $t, c)
                    },
                    // The machine's widest: gemm's own run-time choice, the same as `widest`.
                    _ => unsafe {
                        $krate::gemm::$t::get_gemm_fn()(
                            c.m,
                            c.n,
                            c.k,
                            c.dst.0,
                            c.dst.1,
                            c.dst.2,
                            c.read_dst,
                            c.lhs.0,
                            c.lhs.1,
                            c.lhs.2,
                            c.rhs.0,
                            c.rhs.1,
                            c.rhs.2,
                            c.alpha,
                            c.beta,
                            false,
                            false,
                            false,
                            Parallelism::None,
                        )
                    },
                }
            }
        }
    };
}

impl_gemm_scalar!(f32, gemm_f32, 8);
impl_gemm_scalar!(f64, gemm_f64, 4);

/// `C ← α·A·B + β·C` for row-major C (m×n). A is m×k and B is k×n, each given by a slice and (row stride,
/// column stride), so a transpose is a swap of strides and costs nothing. β = 0 ignores C's old contents
/// (NaN included).
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm<T: GemmScalar + std::ops::Mul<Output = T>>(
    m: usize,
    k: usize,
    n: usize,
    alpha: T,
    a: &[T],
    a_strides: (usize, usize),
    b: &[T],
    b_strides: (usize, usize),
    beta: T,
    c: &mut [T],
) {
    check_extent(a.len(), m, k, a_strides, "A");
    check_extent(b.len(), k, n, b_strides, "B");
    assert!(c.len() >= m * n, "gemm: C has {} elements, needs {}", c.len(), m * n);
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        for v in c[..m * n].iter_mut() {
            *v = if beta == T::ZERO { T::ZERO } else { *v * beta };
        }
        return;
    }
    // SAFETY: the extents of A, B and C were checked above against their slices.
    unsafe { gemm_into(m, k, n, alpha, (a, a_strides), (b, b_strides), beta, c.as_mut_ptr()) }
}

/// `A·B` as a new row-major m×n vector (A and B as in `gemm`), written once by the kernels. A zeroed output
/// that the product then overwrites cost 2–3 % of a T2 step on one thread while the others waited.
pub(crate) fn product<T: GemmScalar + std::ops::Mul<Output = T>>(
    m: usize,
    k: usize,
    n: usize,
    (a, a_strides): (&[T], (usize, usize)),
    (b, b_strides): (&[T], (usize, usize)),
) -> Vec<T> {
    check_extent(a.len(), m, k, a_strides, "A");
    check_extent(b.len(), k, n, b_strides, "B");
    let len = m * n;
    if len == 0 || k == 0 {
        return vec![T::ZERO; len];
    }
    let mut c = Vec::with_capacity(len);
    // SAFETY: A's and B's extents were checked above and C has room for m×n. With β = 0 the kernels write
    // every element of C and read none of its old contents (gemm's `read_dst` is false; the tests give a C
    // full of NaN and get the product), so all `len` elements are initialised before `set_len`.
    unsafe {
        gemm_into(m, k, n, T::ONE, (a, a_strides), (b, b_strides), T::ZERO, c.as_mut_ptr());
        c.set_len(len);
    }
    c
}

/// `gemm` after its checks, on the raw destination `c` (m×n, row stride n).
///
/// # Safety
/// A and B must hold every element their strides reach for m×k and k×n, `c` must address m·n writable
/// elements, and m, n, k must be non-zero.
#[allow(clippy::too_many_arguments)]
unsafe fn gemm_into<T: GemmScalar>(
    m: usize,
    k: usize,
    n: usize,
    alpha: T,
    (a, a_strides): (&[T], (usize, usize)),
    (b, b_strides): (&[T], (usize, usize)),
    beta: T,
    c: *mut T,
) {
    let simd = chosen().0;
    let (a, b, c) = (SharedPtr(a.as_ptr() as *mut T), SharedPtr(b.as_ptr() as *mut T), SharedPtr(c));
    split_blocks(m, k, n, |i0, rows, j0, cols| {
        // SAFETY: the caller vouches for the extents of A, B and C; `split_blocks` hands each
        // call a disjoint block of C (rows i0.., or columns j0..) and the matching rows of A or columns of B,
        // and joins every worker before the slices' borrows end.
        unsafe {
            T::kernel(
                simd,
                KernelCall::row_major(
                    rows,
                    k,
                    cols,
                    alpha,
                    (a.get().add(i0 * a_strides.0), a_strides),
                    (b.get().add(j0 * b_strides.1), b_strides),
                    beta,
                    (c.get().add(i0 * n + j0), n),
                ),
            )
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simd::widest;

    /// The plain triple loop, in f64.
    fn naive(m: usize, k: usize, n: usize, a: &[f32], a_s: (usize, usize), b: &[f32], b_s: (usize, usize)) -> Vec<f64> {
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] =
                    (0..k).map(|p| f64::from(a[i * a_s.0 + p * a_s.1]) * f64::from(b[p * b_s.0 + j * b_s.1])).sum();
            }
        }
        c
    }

    /// Shapes that cross gemm's path boundaries (m·n = 256, m, n = 64 with k > 512, k ≤ 2, one row or column)
    /// and the split threshold, with transposed reads and β ≠ 0.
    const SHAPES: [(usize, usize, usize); 10] = [
        (600, 90, 90),
        (40, 300, 700),
        (333, 200, 129),
        (48, 2048, 8),
        (100, 1100, 40),
        (130, 700, 60),
        (1, 900, 700),
        (700, 2, 900),
        (17, 5, 3),
        (64, 64, 64),
    ];

    fn random(r: &mut crate::rng::Rng, len: usize) -> Vec<f32> {
        (0..len).map(|_| crate::rng::uniform(r, -0.5, 0.5) as f32).collect()
    }

    /// Every path this machine has (the widest, AVX2 + FMA where present, scalar) computes the product: against
    /// the f64 triple loop on random inputs, with β ≠ 0 keeping what C held.
    #[test]
    fn every_simd_path_computes_the_product() {
        use crate::rng::{rng, stream};
        let mut r = rng(6, stream::TEST);
        let widest = widest();
        let mut paths = vec![widest, SimdPath::Scalar];
        if widest == SimdPath::Avx512 {
            paths.push(SimdPath::Avx2Fma);
        }
        for (m, k, n) in SHAPES {
            for a_t in [false, true] {
                let a = random(&mut r, m * k);
                let b = random(&mut r, k * n);
                let c0 = random(&mut r, m * n);
                let a_s = if a_t { (1, m) } else { (k, 1) };
                let want: Vec<f64> = naive(m, k, n, &a, a_s, &b, (n, 1))
                    .iter()
                    .zip(&c0)
                    .map(|(p, c)| 0.5 * p - 2.0 * f64::from(*c))
                    .collect();
                for &simd in &paths {
                    let mut c = c0.clone();
                    // SAFETY: the same call `gemm` makes, unsplit, on slices of the right extents.
                    unsafe {
                        f32::kernel(
                            simd,
                            KernelCall::row_major(
                                m,
                                k,
                                n,
                                0.5,
                                (a.as_ptr(), a_s),
                                (b.as_ptr(), (n, 1)),
                                -2.0,
                                (c.as_mut_ptr(), n),
                            ),
                        )
                    };
                    let worst = c.iter().zip(&want).map(|(g, w)| (f64::from(*g) - w).abs()).fold(0.0, f64::max);
                    assert!(worst < 1e-5 * k as f64, "{simd:?} {m}×{k}×{n} (Aᵀ: {a_t}): worst error {worst:e}");
                }
            }
        }
    }

    /// `product` (a fresh output, never zeroed) has the bits of `gemm` into a C full of NaN with β = 0, for
    /// every shape (split or not, each kernel path, transposed reads) and for empty ones.
    #[test]
    fn a_fresh_product_is_the_product() {
        use crate::rng::{rng, stream};
        let mut r = rng(8, stream::TEST);
        for (m, k, n) in SHAPES.into_iter().chain([(0, 5, 7), (6, 0, 4), (3, 9, 0)]) {
            for a_t in [false, true] {
                let a = random(&mut r, m * k);
                let b = random(&mut r, k * n);
                let a_s = if a_t { (1, m) } else { (k, 1) };
                let mut want = vec![f32::NAN; m * n];
                gemm(m, k, n, 1.0, &a, a_s, &b, (n, 1), 0.0, &mut want);
                let got = product(m, k, n, (&a, a_s), (&b, (n, 1)));
                assert_eq!(got.len(), m * n);
                let differ = got.iter().zip(&want).filter(|(x, y)| x.to_bits() != y.to_bits()).count();
                assert_eq!(differ, 0, "{m}×{k}×{n} (Aᵀ: {a_t}): {differ} elements differ");
                if k > 0 && m * n > 0 {
                    let exact = naive(m, k, n, &a, a_s, &b, (n, 1));
                    let worst = got.iter().zip(&exact).map(|(g, w)| (f64::from(*g) - w).abs()).fold(0.0, f64::max);
                    assert!(worst < 1e-5 * k as f64, "{m}×{k}×{n}: worst error {worst:e}");
                }
            }
        }
    }

    /// A product has the same bits on 1, 2, 3 or 4 worker threads: the split never changes a k-sum's order or
    /// the kernel a block runs on. (Without `split_keeps_the_path`, 100×1000×40 differed on 3,278 elements.)
    #[test]
    fn products_have_the_same_bits_on_any_number_of_threads() {
        use crate::rng::{rng, stream};
        let split = SHAPES.iter().filter(|(m, k, n)| m * k * n >= SPLIT_MIN_MACS).count();
        assert!(split >= 4, "only {split} shapes are large enough to be split over the threads");
        let mut r = rng(5, stream::TEST);
        for (m, k, n) in SHAPES {
            let a = random(&mut r, m * k);
            let b = random(&mut r, k * n);
            let run = |threads: usize| {
                let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("a worker pool");
                let mut c = vec![f32::NAN; m * n];
                pool.install(|| gemm(m, k, n, 1.0, &a, (k, 1), &b, (n, 1), 0.0, &mut c));
                c
            };
            let one = run(1);
            for threads in 2..=4 {
                let many = run(threads);
                let differ = one.iter().zip(&many).filter(|(x, y)| x.to_bits() != y.to_bits()).count();
                assert_eq!(differ, 0, "{m}×{k}×{n}: {differ} elements differ between 1 and {threads} threads");
            }
        }
    }
}
