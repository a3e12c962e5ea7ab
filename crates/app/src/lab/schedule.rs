//! The frame scheduler: all background work goes through `Lab::tick`, once per frame, within the frame budget —
//! first the pending metric pieces (they belong to steps already taken), then training steps while a measured
//! step still fits, the snapshot refresh every few steps, pieces of the Pruning tab's experiment, a piece of the
//! probe-region fit, and the lesson's condition.

use spherelab_core::Error;
use web_time::Instant;

use super::{Lab, Notice};

/// Steps waiting for their loss read-back past which training always waits for the GPU (it waits sooner when
/// the GPU is behind by more than a frame's steps; see `Schedule::max_unread_steps`).
pub const MAX_UNREAD_STEPS: usize = 64;

/// Play/pause, the speed, the budget, and what the scheduler measured.
pub struct Schedule {
    /// Training steps are taken each frame while true (Play / Pause).
    pub playing: bool,
    /// Upper bound on steps per frame (the speed control).
    pub steps_per_frame: usize,
    /// Time for training steps per frame, so the window stays responsive (and the browser never freezes).
    pub frame_budget_ms: f64,
    /// Training waits while more steps than this await their loss read-back, and while more than the
    /// previous training frame's steps do: a GPU in the browser queues work without blocking, and a device
    /// slower than the page (a software WebGPU) would otherwise fall further behind every frame, its queue
    /// competing with the page's drawing and the views lagging the step counter. So at most about two frames
    /// of steps are in flight (`MAX_UNREAD_STEPS` by default, in the browser and on the desktop: GPU runs are
    /// mirrored on both). A CPU run's read-backs land at once, so it never waits here. `None`: no limit.
    pub max_unread_steps: Option<usize>,
    /// Steps the last frame that trained took.
    pub(crate) steps_last_frame: usize,
    /// A pruning preview asked for and not yet scored: the next frame's first piece of work (its k-means and
    /// probe fits run once, inside that frame's budget, never while drawing).
    pub pending_preview: Option<spherelab_core::difficulty::PruneSpec>,
    /// Refresh the embeddings snapshot after this many steps.
    pub snapshot_every: usize,
    /// Measured speed (steps per wall-clock second while playing), for the status bar.
    pub steps_per_second: f64,
    /// When the previous playing frame started (`None` while paused).
    pub(crate) last_playing_tick: Option<Instant>,
    /// How long the last `tick` took (training, metrics and the snapshot), in ms: the browser reports it.
    pub last_tick_ms: f64,
    /// The last `tick`'s parts, in ms: metric pieces, training steps, the snapshot refresh.
    pub last_tick_parts: [(&'static str, f64); 3],
    /// Average milliseconds a snapshot refresh takes (subtracted from the training budget).
    pub snapshot_ms: f64,
    /// Average milliseconds a training step takes (of both runs when comparing): a frame takes another
    /// step only when one fits in what is left of its budget.
    pub step_ms: f64,
    pub(crate) steps_since_snapshot: usize,
}

impl Lab {
    /// Trains for at most `max_steps` steps within `budget_ms` milliseconds: a step is taken only when the
    /// measured time of a step still fits (the first one always when `first_free`, so training moves even
    /// when a step costs more than the budget). Metrics due at a step are started, not computed: their
    /// pieces run in later frames (`advance_evaluations`). Returns the number of steps taken.
    pub(super) fn train_steps(&mut self, max_steps: usize, budget_ms: f64, first_free: bool) -> usize {
        let start = Instant::now();
        let mut taken = 0;
        if let (Some(cap), Some(s)) = (self.schedule.max_unread_steps, self.session.as_mut()) {
            let read = s.history().steps.last().map(|r| r.step).unwrap_or(0);
            let limit = cap.min(self.schedule.steps_last_frame.max(1));
            if s.step_count().saturating_sub(read) > limit {
                if let Err(e) = s.collect_losses(false) {
                    self.fail(e);
                }
                return 0;
            }
        }
        while taken < max_steps {
            let fits = start.elapsed().as_secs_f64() * 1e3 + self.schedule.step_ms <= budget_ms;
            if !(fits || taken == 0 && first_free) {
                break;
            }
            let Some(session) = self.session.as_mut() else { return taken };
            let t = Instant::now();
            if let Err(e) = session.step() {
                self.fail(e);
                break;
            }
            let ms = t.elapsed().as_secs_f64() * 1e3;
            let every = session.config().train.eval_every.max(1);
            if session.step_count() % every == 0
                && let Err(e) = session.start_evaluation()
            {
                self.fail(e);
                break;
            }
            let t = Instant::now();
            if let Some(c) = self.comparison.as_mut()
                && c.diverged.is_none()
            {
                let every = c.session.config().train.eval_every.max(1);
                let r = c.session.step().and_then(|_| {
                    if c.session.step_count() % every == 0 { c.session.start_evaluation() } else { Ok(()) }
                });
                if let Err(e) = r {
                    c.diverged = Some(e.to_string());
                }
            }
            // The cost of one step of the run (and of the comparison run, when there is one), smoothed.
            let ms = ms + t.elapsed().as_secs_f64() * 1e3;
            self.schedule.step_ms =
                if self.schedule.step_ms == 0.0 { ms } else { 0.9 * self.schedule.step_ms + 0.1 * ms };
            taken += 1;
            self.schedule.steps_since_snapshot += 1;
        }
        if let Some(s) = self.session.as_mut()
            && let Err(e) = s.collect_losses(false)
        {
            self.fail(e);
        }
        if taken > 0 {
            self.schedule.steps_last_frame = taken;
        }
        taken
    }

    /// Does pieces of the pending evaluations (the run's, then the comparison's) while `budget_ms` lasts,
    /// counted from `start`. Returns whether work remains.
    pub(super) fn advance_evaluations(&mut self, start: Instant, budget_ms: f64) -> bool {
        loop {
            let mut more = false;
            if let Some(s) = self.session.as_mut() {
                match s.advance_evaluation() {
                    Ok(m) => more |= m,
                    Err(e) => {
                        self.fail(e);
                        return false;
                    }
                }
            }
            if let Some(c) = self.comparison.as_mut()
                && c.diverged.is_none()
            {
                match c.session.advance_evaluation() {
                    Ok(m) => more |= m,
                    Err(e) => c.diverged = Some(e.to_string()),
                }
            }
            if !more || start.elapsed().as_secs_f64() * 1e3 >= budget_ms {
                return more;
            }
        }
    }

    /// Stops training after an error; divergence gets the prominent banner.
    pub(super) fn fail(&mut self, e: Error) {
        self.schedule.playing = false;
        match e {
            Error::Diverged(msg) => self.diverged = Some(msg),
            other => self.notify(Notice::error(format!("Training stopped: {other}"))),
        }
    }

    /// Called once per frame: within the frame budget, first the pending metrics (they belong to steps
    /// already taken), then, while playing, training steps with the time left, then pieces of the
    /// experiment (half the budget goes to it while the main run plays, so both move). Returns whether there
    /// is more to do (the caller then asks for another frame).
    pub fn tick(&mut self) -> bool {
        let start = Instant::now();
        if let Some(spec) = self.schedule.pending_preview.take() {
            self.preview_pruning(spec);
        }
        let experimenting = self.experiment.as_ref().is_some_and(|e| !e.is_done());
        let run_budget =
            if experimenting { self.schedule.frame_budget_ms / 2.0 } else { self.schedule.frame_budget_ms };
        let main = self.tick_run(run_budget);
        let used = start.elapsed().as_secs_f64() * 1e3;
        let more = experimenting && self.advance_experiment(self.schedule.frame_budget_ms - used);
        let regions = match self.session.as_deref() {
            Some(s) => self.views.probe_regions.advance(s, self.views.snapshot.as_ref(), self.views.heat.as_ref()),
            None => false,
        };
        self.observe_lesson();
        main || more || regions
    }

    /// Marks the lesson's step observed when its condition holds on the run.
    pub(super) fn observe_lesson(&mut self) {
        let step = self.step_count();
        let latest = self.session.as_deref().and_then(|s| s.history().metrics.last().cloned());
        if self.guide.observe(step, latest.as_ref())
            && let Some(c) = self.guide.step().and_then(|s| s.until.as_ref())
        {
            self.notify(Notice::info(format!("Observed: {c} at step {step} ✓")));
        }
    }

    /// Does pieces of the experiment for about `budget_ms` (at least one piece, so it always moves).
    /// Returns whether it has work left.
    pub(super) fn advance_experiment(&mut self, budget_ms: f64) -> bool {
        let Some(e) = self.experiment.as_mut() else { return false };
        let start = Instant::now();
        let mut more = e.advance();
        while more && start.elapsed().as_secs_f64() * 1e3 < budget_ms {
            more = e.advance();
        }
        more
    }

    pub(super) fn tick_run(&mut self, budget_ms: f64) -> bool {
        if self.diverged.is_some() || self.session.is_none() {
            return false;
        }
        let start = Instant::now();
        // The snapshot refresh after training shares the frame's budget.
        let budget = (budget_ms - self.schedule.snapshot_ms).max(0.0);
        let metric_work = self.session().map_or(0, |s| s.evaluations_pending())
            + self.comparison.as_ref().map_or(0, |c| c.session.evaluations_pending());
        let evaluating = metric_work > 0 && self.advance_evaluations(start, budget);
        if !self.schedule.playing {
            self.schedule.last_playing_tick = None;
            let metrics_ms = start.elapsed().as_secs_f64() * 1e3;
            let catching_up = self.catch_up();
            self.schedule.last_tick_ms = start.elapsed().as_secs_f64() * 1e3;
            self.schedule.last_tick_parts =
                [("metrics", metrics_ms), ("steps", 0.0), ("snapshot", self.schedule.last_tick_ms - metrics_ms)];
            return catching_up || evaluating;
        }
        // Metrics still unfinished after the budget: no steps this frame, so they never pile up. A frame
        // that did some metric work trains only with the time left; one that did none takes at least a step.
        let metrics_ms = start.elapsed().as_secs_f64() * 1e3;
        let left = budget - metrics_ms;
        let taken =
            if evaluating { 0 } else { self.train_steps(self.schedule.steps_per_frame, left, metric_work == 0) };
        let steps_ms = start.elapsed().as_secs_f64() * 1e3 - metrics_ms;
        let mut snapshot_ms = 0.0;
        // Steps per second of wall-clock time, from one playing frame to the next (drawing included), with an
        // exponential average to keep the displayed speed steady.
        if let Some(previous) = self.schedule.last_playing_tick {
            let rate = taken as f64 / (start - previous).as_secs_f64().max(1e-6);
            self.schedule.steps_per_second = if self.schedule.steps_per_second == 0.0 {
                rate
            } else {
                0.9 * self.schedule.steps_per_second + 0.1 * rate
            };
        }
        self.schedule.last_playing_tick = Some(start);
        if self.schedule.steps_since_snapshot >= self.schedule.snapshot_every {
            let t = Instant::now();
            self.refresh_snapshot();
            snapshot_ms = t.elapsed().as_secs_f64() * 1e3;
            self.schedule.snapshot_ms = if self.schedule.snapshot_ms == 0.0 {
                snapshot_ms
            } else {
                0.8 * self.schedule.snapshot_ms + 0.2 * snapshot_ms
            };
        }
        self.schedule.last_tick_ms = start.elapsed().as_secs_f64() * 1e3;
        self.schedule.last_tick_parts = [("metrics", metrics_ms), ("steps", steps_ms), ("snapshot", snapshot_ms)];
        let cfg_steps = self.session().map(|s| s.config().train.steps).unwrap_or(0);
        if self.step_count() >= cfg_steps && cfg_steps > 0 {
            self.schedule.playing = false;
            self.notify(Notice::info(format!(
                "Reached {cfg_steps} steps, the schedule's length. Press Play to keep training, or raise \"steps\"."
            )));
            // The next Play continues past the end: the schedule holds its final learning rate.
            if let Some(s) = self.session.as_mut() {
                let mut cfg = s.config().clone();
                cfg.train.steps = cfg_steps * 2;
                if s.set_config(cfg.clone()).is_ok() {
                    self.draft.train.steps = cfg.train.steps;
                }
            }
        }
        true
    }

    /// While paused: a run whose views or loss curve lag its steps (a mirrored GPU run, after a pause or a
    /// single step) takes what has arrived and redraws. Returns whether it is still catching up (the
    /// caller then asks for another frame). A CPU run never lags, so this does nothing there.
    pub(super) fn catch_up(&mut self) -> bool {
        let step = self.step_count();
        let views_behind = self.views.snapshot.as_ref().is_some_and(|s| s.step < step);
        let losses_behind = self.session().is_some_and(|s| s.history().steps.last().map_or(0, |r| r.step) < step);
        let behind = views_behind || losses_behind;
        if behind {
            if let Some(s) = self.session.as_mut()
                && let Err(e) = s.collect_losses(false)
            {
                self.fail(e);
            }
            self.refresh_snapshot();
        }
        behind
    }
}
