//! The engine's own row loops (the softmax's exp, the row reductions, the selection's quantiles) compiled for
//! the SIMD path the process runs on, chosen at run time like the matrix products' (`crate::gemm::gemm_simd`,
//! so `SPHERELAB_SIMD=avx2` narrows both).
//!
//! Why: the crate is built for baseline x86-64, where the compiler may only use 4-lane SSE2; on a T2 step of an
//! AVX-512 machine the InfoNCE row loop alone took 16 % of the time in 4-lane code (perf, issue 14). Wrapping a
//! loop in `vectorized` runs it inside a function compiled with AVX-512 (or AVX2) enabled, into which the
//! loop's closure — marked `#[inline(always)]` — is inlined and vectorised 16 (or 8) lanes wide.
//!
//! Same bits on every path: Rust never fuses a multiply and an add into an FMA on its own, the reductions fix
//! their order by hand (`LANES` accumulators), and every other operation is lane-wise, so a loop gives the same
//! result 4, 8 or 16 lanes wide (`the_widest_path_gives_the_scalar_paths_bits` checks it).

use crate::gemm::{GemmSimd, gemm_simd};

/// Runs `f` compiled for the process's SIMD path. `f` should be an `#[inline(always)]` closure: only code
/// inlined into the wrapper is compiled for the wider path.
#[inline(always)]
pub fn vectorized<R>(f: impl FnOnce() -> R) -> R {
    at(gemm_simd().0, f)
}

/// Runs `f` compiled for `simd` (a path this machine has; anything else runs the baseline build).
#[inline(always)]
pub fn at<R>(simd: GemmSimd, f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    match simd {
        // SAFETY: `GemmSimd::Avx512` / `Avx2Fma` are chosen only where the CPU reports those features
        // (`crate::gemm::widest`, and `SPHERELAB_SIMD` can only narrow it).
        GemmSimd::Avx512 if has(GemmSimd::Avx512) => return unsafe { x86::avx512(f) },
        GemmSimd::Avx2Fma if has(GemmSimd::Avx2Fma) => return unsafe { x86::avx2(f) },
        _ => {}
    }
    let _ = simd;
    f()
}

/// Whether this machine can run `simd` (checked again at the call, so a wrong argument is never unsound).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn has(simd: GemmSimd) -> bool {
    match simd {
        GemmSimd::Avx512 => std::arch::is_x86_feature_detected!("avx512f"),
        GemmSimd::Avx2Fma => std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma"),
        _ => false,
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    /// # Safety
    /// The CPU must have AVX-512F.
    #[target_feature(enable = "avx512f,avx2,fma")]
    pub(super) unsafe fn avx512<R>(f: impl FnOnce() -> R) -> R {
        f()
    }

    /// # Safety
    /// The CPU must have AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn avx2<R>(f: impl FnOnce() -> R) -> R {
        f()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::float::exp_f32;
    use crate::rng::{rng, uniform};

    /// The loop the softmax runs, on one row: max, e^{x − max}, Σ (the shape of the InfoNCE row loop).
    #[inline(always)]
    fn softmax_row(x: &mut [f32]) -> f32 {
        let max = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        for v in x.iter_mut() {
            *v = exp_f32(*v - max);
        }
        let mut acc = [0.0f32; 8];
        let chunks = x.chunks_exact(8);
        let tail: f32 = chunks.remainder().iter().sum();
        for c in chunks {
            for (a, &v) in acc.iter_mut().zip(c) {
                *a += v;
            }
        }
        acc.iter().sum::<f32>() + tail
    }

    #[test]
    fn the_widest_path_gives_the_scalar_paths_bits() {
        let mut r = rng(7, 0);
        for len in [1, 7, 8, 15, 16, 17, 33, 1000] {
            let row: Vec<f32> = (0..len).map(|_| uniform(&mut r, -20.0, 20.0) as f32).collect();
            let mut plain = row.clone();
            let plain_sum = softmax_row(&mut plain);
            for simd in [GemmSimd::Avx512, GemmSimd::Avx2Fma, GemmSimd::Scalar, gemm_simd().0] {
                let mut wide = row.clone();
                let wide_sum = at(
                    simd,
                    #[inline(always)]
                    || softmax_row(&mut wide),
                );
                assert_eq!(wide_sum.to_bits(), plain_sum.to_bits(), "{len} values on {simd:?}");
                assert!(wide.iter().zip(&plain).all(|(a, b)| a.to_bits() == b.to_bits()), "{len} on {simd:?}");
            }
        }
    }
}
