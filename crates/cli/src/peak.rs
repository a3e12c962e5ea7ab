//! The machine's f32 peak for `spherelab bench`: cores × vector lanes × 2 FLOP × vector FMAs a core retires per
//! second, each factor found on this machine where it can be — the clock and the FMA rate timed with short
//! register-only loops — and the estimate says how each was found, so a reader sees how far from the hardware a
//! case runs, not only how far from PyTorch.

use spherelab_core::simd::SimdPath;
use std::time::Instant;

/// The peak in GFLOP/s (None where no clock could be found) and how it was estimated.
pub struct Peak {
    pub gflops: Option<f64>,
    pub how: String,
}

/// FMA units assumed where they cannot be timed: two is what current x86 server cores and Apple's and Arm's
/// big cores have.
const ASSUMED_FMA_UNITS: f64 = 2.0;

pub fn peak_estimate() -> Peak {
    // The cores the engine computes on: all of them, unless its worker pool was made smaller
    // (RAYON_NUM_THREADS=1 for a one-thread figure), when a peak of every core would halve its share.
    let all = std::thread::available_parallelism().map_or(1, |n| n.get());
    let cores = all.min(rayon::current_num_threads()).max(1);
    // The path the engine runs on: the machine's widest, or the narrower one `SPHERELAB_SIMD` forced (then the
    // peak is that path's, the one the engine can reach).
    let (path, _) = spherelab_core::simd::chosen();
    let lanes = path.f32_lanes();
    // The clock the cores run at now, boost included, where it can be timed; else the nominal one. In a VM
    // /proc/cpuinfo gives the nominal clock (2.60 GHz on the development VM, whose cores run at ~4.5 GHz: T2
    // reached 104 % of a peak built on it).
    let (clock_ghz, clock_source) = match measured_clock_ghz() {
        Some(g) => (Some(g), "timed with a chain of dependent integer adds, one a cycle"),
        None => (cpu_clock_ghz(), "from /proc/cpuinfo"),
    };
    let head = format!("{} × {lanes} f32 lanes ({}) × 2 FLOP", cores_phrase(cores, all), path.name());
    match measured_fma_rate_g(path) {
        // The timed rate already holds the clock the FMAs run at (some cores lower it for wide vectors).
        Some(rate) => {
            let units =
                clock_ghz.map_or(String::new(), |g| format!("; {:.2} a cycle at {g:.2} GHz, {clock_source}", rate / g));
            Peak {
                gflops: Some(cores as f64 * lanes as f64 * 2.0 * rate),
                how: format!(
                    "{head} × {rate:.2} G vector FMAs/s per core (timed: twelve independent FMA chains{units})"
                ),
            }
        }
        None => {
            let clock = clock_ghz.map_or("clock unknown".to_string(), |g| format!("{g:.2} GHz ({clock_source})"));
            Peak {
                gflops: clock_ghz.map(|ghz| cores as f64 * lanes as f64 * 2.0 * ASSUMED_FMA_UNITS * ghz),
                how: format!("{head} × {ASSUMED_FMA_UNITS} FMA units (assumed) × {clock}"),
            }
        }
    }
}

/// The peak's first factor: the cores the engine uses, and the machine's when it uses fewer.
fn cores_phrase(used: usize, all: usize) -> String {
    if used < all {
        format!("{used} of {all} cores (logical; the engine's threads, RAYON_NUM_THREADS)")
    } else {
        format!("{all} cores (logical)")
    }
}

/// The highest "cpu MHz" in /proc/cpuinfo, in GHz (Linux; None elsewhere).
fn cpu_clock_ghz() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    text.lines()
        .filter(|l| l.starts_with("cpu MHz"))
        .filter_map(|l| l.split(':').nth(1)?.trim().parse::<f64>().ok())
        .reduce(f64::max)
        .map(|mhz| mhz / 1000.0)
}

/// The fastest of twenty runs of `run` (each a fraction of a millisecond, shorter than a scheduler's time
/// slice), in seconds, so that runs the scheduler interrupted do not count, even on a busy machine.
fn fastest_of_twenty(mut run: impl FnMut() -> Option<()>) -> Option<f64> {
    (0..20)
        .filter_map(|_| {
            let start = Instant::now();
            run()?;
            Some(start.elapsed().as_secs_f64())
        })
        .reduce(f64::min)
}

/// The clock this thread's core runs at, in GHz: a chain of dependent integer adds retires one add per cycle
/// on every x86-64 and AArch64 core, so adds per second is cycles per second. None on other architectures.
fn measured_clock_ghz() -> Option<f64> {
    const ITERATIONS: u64 = 125_000; // × 8 adds
    let best = fastest_of_twenty(|| add_chain(ITERATIONS).map(|_| ()))?;
    Some((ITERATIONS * 8) as f64 / best / 1e9)
}

/// Vector FMAs this thread's core retires per second on `path`, in billions: twelve independent chains of FMAs
/// (more than any current core's FMA latency × units, so the units bound the rate, not the latency). None
/// where the path has no timed loop (the scalar path, other architectures).
fn measured_fma_rate_g(path: SimdPath) -> Option<f64> {
    const ITERATIONS: u64 = 100_000; // × 12 FMAs
    let best = fastest_of_twenty(|| fma_chains(path, ITERATIONS).map(|_| ()))?;
    Some((ITERATIONS * 12) as f64 / best / 1e9)
}

// One add of the chain, and the loop's count-down and branch back, as each architecture spells them. Register
// operands, not immediates: some cores fold chains of small-immediate adds at rename, more than one a cycle.
#[cfg(target_arch = "x86_64")]
macro_rules! chain_add {
    () => {
        "add {acc}, {one}"
    };
}
#[cfg(target_arch = "x86_64")]
macro_rules! chain_loop {
    () => {
        "dec {n}\n jnz 2b"
    };
}
#[cfg(target_arch = "aarch64")]
macro_rules! chain_add {
    () => {
        "add {acc}, {acc}, {one}"
    };
}
#[cfg(target_arch = "aarch64")]
macro_rules! chain_loop {
    () => {
        "subs {n}, {n}, #1\n b.ne 2b"
    };
}

/// Runs `iterations` × 8 dependent adds (the loop counter is a second, independent chain, and the branch is
/// predicted), returning the sum so the work is not optimised away.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
fn add_chain(iterations: u64) -> Option<u64> {
    let mut acc = 0u64;
    // SAFETY: register arithmetic and a local branch only; no memory is touched.
    unsafe {
        std::arch::asm!(
            "2:",
            chain_add!(), chain_add!(), chain_add!(), chain_add!(),
            chain_add!(), chain_add!(), chain_add!(), chain_add!(),
            chain_loop!(),
            acc = inout(reg) acc,
            one = in(reg) 1u64,
            n = inout(reg) iterations => _,
            options(nomem, nostack),
        );
    }
    Some(acc)
}

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
fn add_chain(_iterations: u64) -> Option<u64> {
    None
}

/// `$op` applied to the twelve accumulators `$r`0 … `$r`11, each line ending in `$rest`.
macro_rules! each_accumulator {
    ($op:literal, $r:literal, $rest:expr) => {
        concat!(
            $op, $r, "0", $rest, $op, $r, "1", $rest, $op, $r, "2", $rest, $op, $r, "3", $rest, $op, $r, "4", $rest,
            $op, $r, "5", $rest, $op, $r, "6", $rest, $op, $r, "7", $rest, $op, $r, "8", $rest, $op, $r, "9", $rest,
            $op, $r, "10", $rest, $op, $r, "11", $rest,
        )
    };
}

/// The x86 loop for vector registers named `$r` (zmm, ymm): accumulators 0–11 set from xmm14 (0.0), register
/// 12 from xmm15 (1.0), then `{n}` rounds of acc += 1 × 1 on each; lane 0 of accumulator 0 is left in xmm0,
/// and `vzeroupper` spares the baseline SSE code after it the wide registers' penalty.
#[cfg(target_arch = "x86_64")]
macro_rules! fma_chains_x86 {
    ($r:literal) => {
        concat!(
            each_accumulator!("vbroadcastss ", $r, ", xmm14\n"),
            "vbroadcastss ",
            $r,
            "12, xmm15\n",
            "2:\n",
            each_accumulator!("vfmadd231ps ", $r, concat!(", ", $r, "12, ", $r, "12\n")),
            "dec {n}\n jnz 2b\n",
            "vzeroupper",
        )
    };
}

/// Runs `iterations` rounds of twelve independent vector FMAs on `path` and returns one accumulator's lane 0
/// (`iterations` as f32, exact below 2^24), so the work is not optimised away; None where `path` has no loop
/// or this CPU lacks it.
#[cfg(target_arch = "x86_64")]
fn fma_chains(path: SimdPath, iterations: u64) -> Option<f32> {
    if !path.available() {
        return None;
    }
    match path {
        // SAFETY: each loop runs only where the CPU reports its instructions (`available` above).
        SimdPath::Avx512 => Some(unsafe { fma_chains_avx512(iterations) }),
        SimdPath::Avx2Fma => Some(unsafe { fma_chains_avx2(iterations) }),
        _ => None,
    }
}

/// An `unsafe fn $name(iterations) -> f32` running `fma_chains_x86!($r)`, compiled with `$features`; the
/// registers it writes besides xmm0, xmm14 and xmm15 are `$clobbers`.
#[cfg(target_arch = "x86_64")]
macro_rules! fma_chains_fn {
    ($name:ident, $features:literal, $r:literal, [$($clobber:tt),*]) => {
        /// # Safety
        #[doc = concat!("The CPU must have ", $features, ".")]
        #[target_feature(enable = $features)]
        unsafe fn $name(iterations: u64) -> f32 {
            let lane0: f32;
            // SAFETY: register arithmetic and a local branch only; every register written is declared.
            unsafe {
                std::arch::asm!(
                    fma_chains_x86!($r),
                    n = inout(reg) iterations => _,
                    inout("xmm14") 0.0f32 => _, inout("xmm15") 1.0f32 => _, out("xmm0") lane0,
                    $(out($clobber) _,)*
                    options(nomem, nostack),
                );
            }
            lane0
        }
    };
}
#[cfg(target_arch = "x86_64")]
fma_chains_fn!(
    fma_chains_avx512,
    "avx512f,avx2,fma",
    "zmm",
    ["zmm1", "zmm2", "zmm3", "zmm4", "zmm5", "zmm6", "zmm7", "zmm8", "zmm9", "zmm10", "zmm11", "zmm12", "zmm13"]
);
#[cfg(target_arch = "x86_64")]
fma_chains_fn!(
    fma_chains_avx2,
    "avx2,fma",
    "ymm",
    ["ymm1", "ymm2", "ymm3", "ymm4", "ymm5", "ymm6", "ymm7", "ymm8", "ymm9", "ymm10", "ymm11", "ymm12", "ymm13"]
);

/// The NEON loop: accumulators v0–v11 set from v14 (0.0), v12 from v15 (1.0), then `iterations` rounds of
/// acc += 1 × 1 on each; lane 0 of v0 is the result.
#[cfg(target_arch = "aarch64")]
fn fma_chains(path: SimdPath, iterations: u64) -> Option<f32> {
    if path != SimdPath::Neon {
        return None;
    }
    let lane0: f32;
    // SAFETY: register arithmetic and a local branch only; every register written is declared. NEON is part
    // of every AArch64 core.
    unsafe {
        std::arch::asm!(
            each_accumulator!("dup ", "v", ".4s, v14.s[0]\n"),
            "dup v12.4s, v15.s[0]",
            "2:",
            each_accumulator!("fmla ", "v", ".4s, v12.4s, v12.4s\n"),
            "subs {n}, {n}, #1\n b.ne 2b",
            n = inout(reg) iterations => _,
            inout("v14") 0.0f32 => _, inout("v15") 1.0f32 => _, out("v0") lane0,
            out("v1") _, out("v2") _, out("v3") _, out("v4") _, out("v5") _, out("v6") _,
            out("v7") _, out("v8") _, out("v9") _, out("v10") _, out("v11") _, out("v12") _,
            options(nomem, nostack),
        );
    }
    Some(lane0)
}

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
fn fma_chains(_path: SimdPath, _iterations: u64) -> Option<f32> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The chain runs all its adds, and the clock it gives is one a CPU could have (timing under load can only
    /// make it lower, so the bound below is loose on purpose).
    #[test]
    fn the_timed_clock_is_plausible() {
        if cfg!(any(target_arch = "x86_64", target_arch = "aarch64")) {
            assert_eq!(add_chain(1000), Some(8000));
            let ghz = measured_clock_ghz().expect("timed on this architecture");
            assert!((0.05..10.0).contains(&ghz), "{ghz} GHz");
        }
    }

    /// Each FMA loop this machine has runs every round (its accumulator counts them), and the FMAs a cycle it
    /// gives is a number of FMA units a core could have — between a quarter (a busy machine, a core that
    /// splits wide vectors) and eight.
    #[test]
    fn the_timed_fma_rate_is_plausible() {
        let paths = [SimdPath::Avx512, SimdPath::Avx2Fma, SimdPath::Neon];
        let mut timed = 0;
        for path in paths {
            let Some(lane0) = fma_chains(path, 1000) else { continue };
            assert_eq!(lane0, 1000.0, "{path:?}");
            assert_eq!(fma_chains(path, 3), Some(3.0), "{path:?}");
            let rate = measured_fma_rate_g(path).expect("the loop ran above");
            let ghz = measured_clock_ghz().expect("timed where an FMA loop runs");
            assert!((0.25..8.0).contains(&(rate / ghz)), "{path:?}: {rate} G FMAs/s at {ghz} GHz");
            timed += 1;
        }
        if paths.iter().any(|path| path.available()) {
            assert!(timed > 0, "no FMA loop ran on a machine with FMA");
        }
    }

    /// A one-thread run is held to one core's peak, and says so.
    #[test]
    fn the_peak_counts_the_cores_the_engine_uses() {
        assert_eq!(cores_phrase(2, 2), "2 cores (logical)");
        assert_eq!(cores_phrase(1, 2), "1 of 2 cores (logical; the engine's threads, RAYON_NUM_THREADS)");
    }

    /// The estimate names every factor and says which were timed.
    #[test]
    fn the_peak_says_how_it_was_found() {
        let peak = peak_estimate();
        assert!(peak.how.contains("cores (logical)") && peak.how.contains("f32 lanes"), "{}", peak.how);
        assert!(peak.how.contains("timed") || peak.how.contains("assumed"), "{}", peak.how);
        if fma_chains(spherelab_core::simd::chosen().0, 1).is_some() {
            assert!(peak.gflops.is_some_and(|g| g > 0.0) && peak.how.contains("FMA chains"), "{}", peak.how);
        }
    }
}
