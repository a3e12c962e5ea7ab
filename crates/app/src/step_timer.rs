//! Times training steps of a bench case without ever blocking, for the browser's `?bench` page (web.rs): the
//! page cannot wait on the GPU inside a frame, so the steps are submitted in one frame and the clock stops
//! when their losses have been read back, a later frame. On the CPU engine the read-back is ready at once and
//! the whole timing happens in one `poll`.
//!
//! The same measurement as `spherelab bench` (crates/cli/src/bench.rs: three warm-up steps, then `steps`
//! steps, timed to the last loss read back), so the browser's table sits beside the native one — with one
//! addition the page needs and native code does not: a warm-up that also lasts at least `warm_up_for`. A
//! browser first runs the wasm as its JIT's baseline code (V8's Liftoff) and swaps in optimised code once a
//! function is hot, compiled in the background; timed after three steps, the page's first case measured the
//! swap, not the engine (T1-plain 367-387 steps/s against 452-455 with Chromium's `--no-liftoff`, where every
//! function is optimised before it first runs; docs/benchmarks.md).

use spherelab_core::bench_cases::case_config;
use spherelab_core::{Backend, Result, Trainer};
use web_time::{Duration, Instant};

/// One case being timed on one backend.
pub struct StepTimer<B: Backend> {
    pub case: &'static str,
    trainer: Trainer<B>,
    /// Steps taken before the clock started.
    warm_up_steps: usize,
    steps: usize,
    state: State,
}

enum State {
    WarmingUp,
    Timing { started: Instant },
    Done(f64),
}

impl<B: Backend> StepTimer<B> {
    /// Takes the warm-up steps of `case` (a T case of spherelab_core::bench_cases): `WARM_UP_STEPS` of them, and more
    /// until `warm_up_for` has passed. Only a backend whose steps finish when `step` returns (the CPU engine)
    /// should be given a duration: on the GPU the loop would only queue steps.
    pub fn start(backend: B, case: &'static str, steps: usize, warm_up_for: Duration) -> Result<Self> {
        let cfg = case_config(case)
            .ok_or_else(|| spherelab_core::Error::Invalid(format!("'{case}' is not a training bench case")))?;
        let mut trainer = Trainer::new(backend, cfg)?;
        let started = Instant::now();
        let warm_up_steps = spherelab_core::bench_cases::warm_up(&mut trainer, || started.elapsed() < warm_up_for)?;
        Ok(Self { case, trainer, warm_up_steps, steps: steps.max(1), state: State::WarmingUp })
    }

    /// Advances without blocking: steps per second once the timed steps' losses have landed.
    pub fn poll(&mut self) -> Result<Option<f64>> {
        loop {
            self.trainer.collect_losses(false)?;
            let landed = self.trainer.history().steps.len();
            match self.state {
                State::WarmingUp if landed >= self.warm_up_steps => {
                    let started = Instant::now();
                    for _ in 0..self.steps {
                        self.trainer.step()?;
                    }
                    self.state = State::Timing { started };
                }
                State::Timing { started } if landed >= self.warm_up_steps + self.steps => {
                    self.state = State::Done(self.steps as f64 / started.elapsed().as_secs_f64());
                }
                State::Done(rate) => return Ok(Some(rate)),
                _ => return Ok(None),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use spherelab_core::Cpu;
    use spherelab_core::bench_cases::WARM_UP_STEPS as WARM_UP;

    /// On the CPU engine the read-back lands at once: one poll times the case, and every step was taken.
    #[test]
    fn a_cpu_case_is_timed_in_one_poll_after_all_its_steps() {
        let mut t = StepTimer::start(Cpu::<f32>::new(), "T1-plain", 5, Duration::ZERO).expect("T1-plain starts");
        let rate = t.poll().expect("no error").expect("done in one poll");
        assert!(rate.is_finite() && rate > 0.0, "{rate}");
        assert_eq!(t.warm_up_steps, WARM_UP, "no duration asked: the fixed warm-up alone");
        assert_eq!(t.trainer.step_count(), WARM_UP + 5);
        assert_eq!(t.poll().expect("no error"), Some(rate), "a finished timer keeps its figure");
    }

    /// A warm-up duration keeps stepping past the fixed warm-up until it has passed, and the clock then times
    /// exactly `steps` more.
    #[test]
    fn the_warm_up_lasts_at_least_its_duration() {
        let for_at_least = Duration::from_millis(300);
        let started = Instant::now();
        let mut t = StepTimer::start(Cpu::<f32>::new(), "T1-plain", 5, for_at_least).expect("T1-plain starts");
        assert!(started.elapsed() >= for_at_least);
        assert!(t.warm_up_steps > WARM_UP, "{} warm-up steps in {for_at_least:?}", t.warm_up_steps);
        t.poll().expect("no error").expect("done in one poll");
        assert_eq!(t.trainer.step_count(), t.warm_up_steps + 5);
    }

    #[test]
    fn a_case_that_is_not_a_training_case_is_refused_by_name() {
        let e = StepTimer::start(Cpu::<f32>::new(), "loss-4096", 5, Duration::ZERO).err().expect("refused");
        assert!(e.to_string().contains("'loss-4096' is not a training bench case"), "{e}");
    }
}
