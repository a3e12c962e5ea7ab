//! The page's ceiling for `?bench` (issue 14, items 2 and 3): the f32 arithmetic one thread of this page can
//! retire, timed in the page, so its table shows how far the CPU engine's cases are from what wasm SIMD allows
//! on this machine, not only from native code.
//!
//! Wasm SIMD has no fused multiply-add (relaxed SIMD's is not in every browser, and the engine does not use
//! it), so the unit timed is a 4-lane multiply followed by a dependent 4-lane add — the pair the `gemm` crate's
//! simd128 kernels issue for each of their multiply-adds. Twelve independent chains of pairs, as the native
//! bench times twelve FMA chains (crates/cli/src/peak.rs): more chains than a multiply's and an add's latency
//! together need to keep every vector unit busy. The ceiling is 4 lanes × 2 FLOP × pairs a second.
//!
//! On the 2-core Intel Xeon VM with AVX-512 (a Sapphire Rapids core) the page timed 39–44 GFLOP/s
//! (docs/benchmarks.md, 2026-12-05), against the 32.7 that two vector instructions a cycle at its 4.09 GHz
//! would allow: that core adds on a third port.

/// f32 lanes of one wasm SIMD vector.
pub const LANES: usize = 4;

/// The page's ceiling, in GFLOP/s, and how it was found.
pub struct Ceiling {
    pub gflops: f64,
    pub how: String,
}

impl Ceiling {
    /// From the timed rate of 4-lane multiply-add pairs (billions a second).
    pub fn from_pair_rate(pairs_g: f64, runs: usize) -> Self {
        Self {
            gflops: LANES as f64 * 2.0 * pairs_g,
            how: format!(
                "1 thread × {LANES} f32 lanes (wasm SIMD128) × 2 FLOP × {pairs_g:.2} G vector multiply-add pairs/s \
                 (timed in the page: twelve independent multiply-then-add chains, the fastest of {runs} runs over a second)"
            ),
        }
    }
}

/// The ceiling from the fastest run, or why there is none: a clock that ticks in steps coarser than
/// `MAX_CLOCK_STEP_S` (a browser's privacy setting can round `performance.now()` to 16 or 100 ms) would make a
/// run read 0 or several times its length — a number that looks measured and is not.
pub fn verdict(fastest_s: Option<f64>, pairs_per_run: f64, runs: usize, clock_step_s: f64) -> Result<Ceiling, String> {
    if clock_step_s > MAX_CLOCK_STEP_S {
        return Err(format!(
            "not timed: this page's clock ticks in {:.1} ms steps (a browser privacy setting?), too coarse for runs \
             of a few milliseconds",
            clock_step_s * 1e3
        ));
    }
    match fastest_s {
        Some(best) if best > 0.0 => Ok(Ceiling::from_pair_rate(pairs_per_run / best / 1e9, runs)),
        _ => Err("not timed: no run took measurable time".into()),
    }
}

/// The coarsest clock step the ceiling is timed with: 1 ms, a ninth of a run.
const MAX_CLOCK_STEP_S: f64 = 1e-3;

/// How long the page runs the loop before its fastest run counts: the browser first runs a wasm function as
/// baseline code and swaps in optimised code later, at a call boundary (the first runs here read half of the
/// optimised rate). A run every frame for this long, so the page keeps drawing meanwhile.
#[cfg(target_arch = "wasm32")]
const WARM_UP: web_time::Duration = web_time::Duration::from_secs(1);

/// Rounds of twelve pairs in one run: ~9 ms on a 4 GHz core, so the 0.1 ms to which a page that is not
/// cross-origin isolated rounds `performance.now()` moves the rate by about 1 % (with 5 ms runs the readings
/// came in 2 % steps).
#[cfg(target_arch = "wasm32")]
const ROUNDS: u32 = 4_000_000;

/// Times the page's multiply-add pairs, one run a frame, until `WARM_UP` has passed.
#[cfg(target_arch = "wasm32")]
pub struct CeilingTimer {
    /// When the first run began.
    started: Option<web_time::Instant>,
    runs: usize,
    fastest: Option<f64>,
}

#[cfg(target_arch = "wasm32")]
impl CeilingTimer {
    pub fn start() -> Self {
        Self { started: None, runs: 0, fastest: None }
    }

    /// One timed run (the first call also times the clock's step); then, once `WARM_UP` has passed or the clock
    /// is too coarse, the ceiling or why there is none.
    pub fn poll(&mut self) -> Option<Result<Ceiling, String>> {
        let pairs_per_run = ROUNDS as f64 * 12.0;
        if self.started.is_none() {
            let step = clock_step_s();
            if step > MAX_CLOCK_STEP_S {
                return Some(verdict(None, pairs_per_run, 0, step));
            }
        }
        let start = web_time::Instant::now();
        let started = *self.started.get_or_insert(start);
        std::hint::black_box(mul_add_chains(ROUNDS));
        let secs = start.elapsed().as_secs_f64();
        self.runs += 1;
        if secs > 0.0 {
            self.fastest = Some(self.fastest.map_or(secs, |f: f64| f.min(secs)));
        }
        (started.elapsed() >= WARM_UP).then(|| verdict(self.fastest, pairs_per_run, self.runs, 0.0))
    }
}

/// The smallest step the page's clock moves by: the shortest of up to five intervals between its ticks (one
/// can be stretched by anything that stops the thread — once here a 0.1 ms clock read 2.8 ms), stopping at
/// the first no longer than `MAX_CLOCK_STEP_S`.
#[cfg(target_arch = "wasm32")]
fn clock_step_s() -> f64 {
    let next_tick = |from: web_time::Instant| loop {
        let now = web_time::Instant::now();
        if now > from {
            return now;
        }
    };
    let mut tick = next_tick(web_time::Instant::now());
    let mut shortest = f64::INFINITY;
    for _ in 0..5 {
        let next = next_tick(tick);
        shortest = shortest.min((next - tick).as_secs_f64());
        if shortest <= MAX_CLOCK_STEP_S {
            break;
        }
        tick = next;
    }
    shortest
}

/// `rounds` rounds of c ← c·m + a on twelve 4-lane accumulators; returns a lane so the work is kept. m and a
/// pass through `black_box` so the compiler cannot fold c·1 + 0 away.
#[cfg(target_arch = "wasm32")]
fn mul_add_chains(rounds: u32) -> f32 {
    use std::arch::wasm32::{f32x4_add, f32x4_extract_lane, f32x4_mul, f32x4_splat};
    let m = f32x4_splat(std::hint::black_box(1.0));
    let a = f32x4_splat(std::hint::black_box(0.0));
    let mut acc = [f32x4_splat(std::hint::black_box(1.0)); 12];
    for _ in 0..rounds {
        for v in acc.iter_mut() {
            *v = f32x4_add(f32x4_mul(*v, m), a);
        }
    }
    let sum = acc.iter().fold(f32x4_splat(0.0), |s, &v| f32x4_add(s, v));
    f32x4_extract_lane::<0>(sum)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_coarse_clock_or_no_measurable_run_gives_no_ceiling_and_says_why() {
        let pairs = 48e6;
        let c = verdict(Some(0.009), pairs, 60, 0.0001).expect("a fine clock and a timed run");
        assert!((c.gflops - 4.0 * 2.0 * pairs / 0.009 / 1e9).abs() < 1e-9);
        let coarse = verdict(Some(0.1), pairs, 60, 0.1).err().expect("a 100 ms clock");
        assert!(coarse.contains("100.0 ms steps"), "{coarse}");
        assert!(verdict(None, pairs, 60, 0.0001).err().expect("nothing timed").contains("no run took measurable time"));
        assert!(verdict(Some(0.0), pairs, 60, 0.0001).is_err());
    }

    #[test]
    fn the_ceiling_is_lanes_times_two_flop_times_the_pair_rate() {
        let c = Ceiling::from_pair_rate(5.5, 60);
        assert_eq!(c.gflops, 44.0);
        assert!(c.how.contains("5.50 G vector multiply-add pairs/s"), "{}", c.how);
        assert!(c.how.contains("4 f32 lanes"), "{}", c.how);
        assert!(c.how.contains("fastest of 60 runs"), "{}", c.how);
    }
}
