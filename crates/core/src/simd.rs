//! The SIMD path the process runs on — chosen once, at run time: the machine's widest, or a narrower one asked
//! for with `SPHERELAB_SIMD` (so both paths can be measured on one machine) — and the engine's own row loops
//! (the softmax's exp, the row reductions, the selection's quantiles) compiled for it. The matrix products
//! (crate::gemm) run their kernels on the same path.
//!
//! Why: the crate is built for baseline x86-64, where the compiler may only use 4-lane SSE2; on a T2 step of an
//! AVX-512 machine the InfoNCE row loop alone took 16 % of the time in 4-lane code (perf, issue 14). Wrapping a
//! loop in `vectorized` runs it inside a function compiled with AVX-512 (or AVX2) enabled, into which the
//! loop's closure — marked `#[inline(always)]` — is inlined and vectorised 16 (or 8) lanes wide.
//!
//! Same bits on every path: Rust never fuses a multiply and an add into an FMA on its own, the reductions fix
//! their order by hand (`LANES` accumulators), and every other operation is lane-wise, so a loop gives the same
//! result 4, 8 or 16 lanes wide (`the_widest_path_gives_the_scalar_paths_bits` checks it).

use std::sync::OnceLock;

/// A SIMD path: the matrix products' kernels (crate::gemm) and the row loops below run on one, chosen once per
/// process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SimdPath {
    /// AVX-512F, 16 f32 lanes.
    Avx512,
    /// AVX2 + FMA, 8 f32 lanes.
    Avx2Fma,
    /// ARM NEON, 4 f32 lanes.
    Neon,
    /// WebAssembly SIMD, 4 f32 lanes.
    Simd128,
    /// No vector kernels.
    Scalar,
}

impl SimdPath {
    /// What the bench and the status lines print.
    pub fn name(self) -> &'static str {
        match self {
            SimdPath::Avx512 => "AVX-512",
            SimdPath::Avx2Fma => "AVX2 + FMA",
            SimdPath::Neon => "NEON",
            SimdPath::Simd128 => "wasm SIMD128",
            SimdPath::Scalar => "scalar",
        }
    }

    /// Whether this machine can run the path's instructions (asked of the CPU at each call, so code that
    /// checks it before entering a path's `#[target_feature]` function is never unsound).
    #[inline(always)]
    pub fn available(self) -> bool {
        match self {
            #[cfg(target_arch = "x86_64")]
            SimdPath::Avx512 => std::arch::is_x86_feature_detected!("avx512f"),
            #[cfg(target_arch = "x86_64")]
            SimdPath::Avx2Fma => {
                std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
            }
            // NEON is part of every AArch64 core.
            SimdPath::Neon => cfg!(target_arch = "aarch64"),
            #[cfg(target_arch = "wasm32")]
            SimdPath::Simd128 => gemm_common::get_wasm_simd128(),
            SimdPath::Scalar => true,
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }

    /// f32 lanes of one vector register.
    pub fn f32_lanes(self) -> usize {
        match self {
            SimdPath::Avx512 => 16,
            SimdPath::Avx2Fma => 8,
            SimdPath::Neon | SimdPath::Simd128 => 4,
            SimdPath::Scalar => 1,
        }
    }
}

/// The environment variable that forces a narrower path than the machine's widest.
pub const SIMD_ENV: &str = "SPHERELAB_SIMD";

/// The path the products run on, and the notice when `SPHERELAB_SIMD` asked for one the machine lacks or
/// named none (decided once per process).
pub fn chosen() -> (SimdPath, Option<&'static str>) {
    static CHOSEN: OnceLock<(SimdPath, Option<String>)> = OnceLock::new();
    let (simd, notice) = CHOSEN.get_or_init(|| choose(widest(), std::env::var(SIMD_ENV).ok().as_deref()));
    (*simd, notice.as_deref())
}

/// The widest path this machine has, as the `gemm` crate would pick it.
pub fn widest() -> SimdPath {
    [SimdPath::Avx512, SimdPath::Avx2Fma, SimdPath::Neon, SimdPath::Simd128]
        .into_iter()
        .find(|path| path.available())
        .unwrap_or(SimdPath::Scalar)
}

/// `SPHERELAB_SIMD`'s rule: unset, empty or `auto` → the machine's widest; `avx2` → AVX2 + FMA where the machine
/// has at least that; `scalar` → scalar. Anything else keeps the widest and says why.
fn choose(widest: SimdPath, asked: Option<&str>) -> (SimdPath, Option<String>) {
    let ignored =
        |why: String| (widest, Some(format!("{SIMD_ENV}={}: {why}; using {}", asked.unwrap_or(""), widest.name())));
    match asked.map(str::trim) {
        None | Some("") | Some("auto") => (widest, None),
        Some("scalar") => (SimdPath::Scalar, None),
        Some("avx2") if matches!(widest, SimdPath::Avx512 | SimdPath::Avx2Fma) => (SimdPath::Avx2Fma, None),
        Some("avx2") => ignored("this machine has no AVX2 + FMA".into()),
        Some(other) => ignored(format!("'{other}' is not a SIMD path (use auto, avx2 or scalar)")),
    }
}

/// Runs `f` compiled for the process's SIMD path. `f` should be an `#[inline(always)]` closure: only code
/// inlined into the wrapper is compiled for the wider path.
#[inline(always)]
pub fn vectorized<R>(f: impl FnOnce() -> R) -> R {
    at(chosen().0, f)
}

/// Runs `f` compiled for `simd` (a path this machine has; anything else runs the baseline build).
#[inline(always)]
pub fn at<R>(simd: SimdPath, f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    match simd {
        // SAFETY: `SimdPath::Avx512` / `Avx2Fma` are chosen only where the CPU reports those features
        // (`widest`, and `SPHERELAB_SIMD` can only narrow it).
        SimdPath::Avx512 if simd.available() => return unsafe { x86::avx512(f) },
        SimdPath::Avx2Fma if simd.available() => return unsafe { x86::avx2(f) },
        _ => {}
    }
    let _ = simd;
    f()
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
    use crate::ops::loss::infonce::{lanes_max, lanes_sum};
    use crate::rng::{rng, uniform};

    /// The InfoNCE row loop's own pieces, on one row: max, e^{x − max}, Σ (`infonce::lanes_max`, `exp_f32`,
    /// `infonce::lanes_sum`).
    #[inline(always)]
    fn softmax_row(x: &mut [f32]) -> f32 {
        let max = lanes_max(x);
        for v in x.iter_mut() {
            *v = exp_f32(*v - max);
        }
        lanes_sum(x)
    }

    #[test]
    fn the_widest_path_gives_the_scalar_paths_bits() {
        let mut r = rng(7, 0);
        for len in [1, 7, 8, 15, 16, 17, 33, 1000] {
            let row: Vec<f32> = (0..len).map(|_| uniform(&mut r, -20.0, 20.0) as f32).collect();
            let mut plain = row.clone();
            let plain_sum = softmax_row(&mut plain);
            for simd in [SimdPath::Avx512, SimdPath::Avx2Fma, SimdPath::Scalar, chosen().0] {
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

    #[test]
    fn the_environment_variable_narrows_the_path_or_says_why_not() {
        assert_eq!(choose(SimdPath::Avx512, None), (SimdPath::Avx512, None));
        assert_eq!(choose(SimdPath::Avx512, Some("auto")), (SimdPath::Avx512, None));
        assert_eq!(choose(SimdPath::Avx512, Some("avx2")), (SimdPath::Avx2Fma, None));
        assert_eq!(choose(SimdPath::Avx2Fma, Some(" avx2 ")), (SimdPath::Avx2Fma, None));
        assert_eq!(choose(SimdPath::Avx2Fma, Some("scalar")), (SimdPath::Scalar, None));
        let (simd, why) = choose(SimdPath::Neon, Some("avx2"));
        assert_eq!(simd, SimdPath::Neon);
        assert!(why.unwrap().contains("no AVX2"));
        let (simd, why) = choose(SimdPath::Avx2Fma, Some("avx512"));
        assert_eq!(simd, SimdPath::Avx2Fma);
        assert!(why.unwrap().contains("'avx512' is not a SIMD path"));
    }
}
