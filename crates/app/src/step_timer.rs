//! Times training steps of a bench case without ever blocking, for the browser's `?bench` page (web.rs): the
//! page cannot wait on the GPU inside a frame, so the steps are submitted in one frame and the clock stops
//! when their losses have been read back, a later frame. On the CPU engine the read-back is ready at once and
//! the whole timing happens in one `poll`.
//!
//! The same measurement as `spherelab bench` (crates/cli/src/bench.rs: three warm-up steps, then `steps`
//! steps, timed to the last loss read back), so the browser's table sits beside the native one.

use spherelab_core::bench_cases::case_config;
use spherelab_core::{Backend, Result, Trainer};
use web_time::Instant;

/// Warm-up steps before the clock starts (pipelines compiled, buffers allocated).
const WARM_UP: usize = 3;

/// One case being timed on one backend.
pub struct StepTimer<B: Backend> {
    pub case: &'static str,
    trainer: Trainer<B>,
    steps: usize,
    state: State,
}

enum State {
    WarmingUp,
    Timing { started: Instant },
    Done(f64),
}

impl<B: Backend> StepTimer<B> {
    /// Starts the warm-up steps of `case` (a T case of spherelab_core::bench_cases).
    pub fn start(backend: B, case: &'static str, steps: usize) -> Result<Self> {
        let cfg = case_config(case)
            .ok_or_else(|| spherelab_core::Error::Invalid(format!("'{case}' is not a training bench case")))?;
        let mut trainer = Trainer::new(backend, cfg)?;
        for _ in 0..WARM_UP {
            trainer.step()?;
        }
        Ok(Self { case, trainer, steps: steps.max(1), state: State::WarmingUp })
    }

    /// Advances without blocking: steps per second once the timed steps' losses have landed.
    pub fn poll(&mut self) -> Result<Option<f64>> {
        loop {
            self.trainer.collect_losses(false)?;
            let landed = self.trainer.history().steps.len();
            match self.state {
                State::WarmingUp if landed >= WARM_UP => {
                    let started = Instant::now();
                    for _ in 0..self.steps {
                        self.trainer.step()?;
                    }
                    self.state = State::Timing { started };
                }
                State::Timing { started } if landed >= WARM_UP + self.steps => {
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

    /// On the CPU engine the read-back lands at once: one poll times the case, and every step was taken.
    #[test]
    fn a_cpu_case_is_timed_in_one_poll_after_all_its_steps() {
        let mut t = StepTimer::start(Cpu::<f32>::new(), "T1-plain", 5).expect("T1-plain starts");
        let rate = t.poll().expect("no error").expect("done in one poll");
        assert!(rate.is_finite() && rate > 0.0, "{rate}");
        assert_eq!(t.trainer.step_count(), WARM_UP + 5);
        assert_eq!(t.poll().expect("no error"), Some(rate), "a finished timer keeps its figure");
    }

    #[test]
    fn a_case_that_is_not_a_training_case_is_refused_by_name() {
        let e = StepTimer::start(Cpu::<f32>::new(), "loss-4096", 5).err().expect("refused");
        assert!(e.to_string().contains("'loss-4096' is not a training bench case"), "{e}");
    }
}
