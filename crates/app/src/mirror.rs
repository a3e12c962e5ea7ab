//! A mirrored session: a device trainer does the training steps, a CPU trainer that is a copy of it
//! answers every query (metrics, embeddings, the model on any input, the last batch).
//!
//! Why: in the browser a GPU backend cannot block, so `Gpu::download` is impossible there and every
//! `Trainer` method that downloads (evaluate, embeddings, forward, inspect_batch) would panic; on the desktop
//! it could block, but a frame would then wait for the device (every view's forward pass and its downloads),
//! so the desktop's GPU runs are mirrored too. One asynchronous read-back of the parameters (a few KB for the
//! lab's models) serves every view, where reading back the activations of every point the views need would
//! move far more and still need the model on the host for the hovered sample's views. The device
//! trainer here only steps and reads its losses back with `read_async`. After a step, when no copy is on
//! its way (and always at metric steps), the mirror starts an asynchronous read-back of the parameters;
//! when it lands (a frame or so later) the CPU "shadow" trainer takes them on, with their step count and
//! batch, and the views are drawn from it. So the views lag the training by about one frame, and metrics
//! are computed on the CPU from the parameters of exactly their step, as on the desktop: a landed copy whose
//! step is due for metrics starts the shadow's evaluation (its features are captured at once), and the kNN
//! and probe work is done piece by piece by `advance_evaluation`, like any run's.
//!
//! The device trainer reads its losses back only when asked (`LossReadback::OnRequest`: by default
//! `Trainer::step` blocks to collect them every `eval_every` steps, which the browser cannot do); the mirror
//! collects them without blocking, every time it is asked.

use std::collections::VecDeque;

use spherelab_core::backend::Readback;
use spherelab_core::backend::{Backend, BackendInfo};
use spherelab_core::data::{Dataset, Split};
use spherelab_core::trainer::{BatchInspection, Embeddings, History, LossReadback, MetricRecord, Rebuilt};
use spherelab_core::{Cpu, Matrix, Result, RunConfig, Session, Trainer};

/// A copy of the device's parameters on its way to the shadow: the step it was taken after, that step's
/// batch, and the values.
struct ParameterCopy {
    step: usize,
    batch: Option<(Vec<usize>, Vec<f32>)>,
    /// Whether metrics are due at this step (a multiple of `eval_every`).
    evaluate: bool,
    values: Readback,
}

/// A run trained on `B`, queried on a CPU copy of its parameters.
pub struct Mirrored<B: Backend> {
    device: Trainer<B>,
    shadow: Trainer<Cpu<f32>>,
    /// The run's config (the device's and the shadow's).
    config: RunConfig,
    copies: VecDeque<ParameterCopy>,
    /// The device's losses and the shadow's metrics, merged.
    history: History,
    /// The last step whose evaluation was started on the shadow.
    evaluated_up_to: Option<usize>,
    /// How many of the shadow's metric records are already in `history`.
    shadow_metrics_taken: usize,
}

impl<B: Backend> Mirrored<B> {
    /// Opens the run on `backend` and its CPU copy, on `data` (the config's own when `None`) without the
    /// training samples in `excluded`.
    pub fn new(backend: B, config: RunConfig, data: Option<Dataset>, excluded: &[usize]) -> Result<Self> {
        let data = match data {
            Some(d) => d,
            None => spherelab_core::data::build(&config.data, config.seed)?,
        };
        let mut device = Trainer::with_data(backend, config.clone(), data.clone(), excluded)?;
        device.set_loss_readback(LossReadback::OnRequest);
        let shadow = Trainer::with_data(Cpu::<f32>::new(), config.clone(), data, excluded)?;
        Ok(Self {
            device,
            shadow,
            config,
            copies: VecDeque::new(),
            history: History::default(),
            evaluated_up_to: None,
            shadow_metrics_taken: 0,
        })
    }

    /// Starts a parameter read-back after the step just taken, when none is on its way or metrics are due.
    fn maybe_start_sync(&mut self) {
        let evaluate = self.device.step_count().is_multiple_of(self.config.train.eval_every.max(1));
        if self.copies.is_empty() || evaluate {
            self.start_sync(evaluate);
        }
    }

    /// Reads the parameters of the device's current step back; with `evaluate`, the shadow evaluates them
    /// when they land.
    fn start_sync(&mut self, evaluate: bool) {
        let step = self.device.step_count();
        let values = self.device.backend().read_async(&self.device.parameter_tensors());
        let batch = self.device.last_batch().map(|(i, v)| (i.to_vec(), v.to_vec()));
        self.copies.push_back(ParameterCopy { step, batch, evaluate, values });
    }

    /// Takes on every parameter copy that has landed, in order, starting the evaluations that were due.
    fn land_copies(&mut self) -> Result<()> {
        self.device.backend().poll();
        while self.copies.front().is_some_and(|s| s.values.is_ready()) {
            let Some(sync) = self.copies.pop_front() else { break };
            let Some(values) = sync.values.try_take() else { continue };
            let values = values.map_err(spherelab_core::Error::Backend)?;
            self.shadow.load_state(&values, sync.step, sync.batch)?;
            if sync.evaluate && self.evaluated_up_to.is_none_or(|s| s < sync.step) {
                self.shadow.start_evaluation()?;
                self.evaluated_up_to = Some(sync.step);
            }
        }
        // Steps taken while a copy was on its way started none of their own (`maybe_start_sync`): once the
        // last copy has landed, the device's latest parameters follow, or a paused run's views would stay a
        // step or more behind for good.
        if self.copies.is_empty() && self.shadow.step_count() < self.device.step_count() {
            self.start_sync(false);
        }
        Ok(())
    }

    /// Moves the shadow's new metric records into the merged history. The shadow never trains, so it has no
    /// losses of its own: a record's mean loss is filled in from the device's losses once they have arrived
    /// (`fill_metric_losses`).
    fn take_shadow_metrics(&mut self) {
        let records = &self.shadow.history().metrics;
        for rec in &records[self.shadow_metrics_taken.min(records.len())..] {
            self.history.metrics.push(MetricRecord { loss: f32::NAN, ..rec.clone() });
        }
        self.shadow_metrics_taken = records.len();
        self.fill_metric_losses();
    }

    /// Moves the device's newly read-back losses into the merged history.
    fn merge_losses(&mut self) -> Result<()> {
        let result = self.device.collect_losses(false);
        let have = self.history.steps.len();
        let device = &self.device.history().steps;
        if device.len() > have {
            self.history.steps.extend_from_slice(&device[have..]);
        }
        self.fill_metric_losses();
        result
    }

    /// A metric record's loss is the mean training loss over the steps since the previous record.
    fn fill_metric_losses(&mut self) {
        let last = self.history.steps.last().map(|s| s.step).unwrap_or(0);
        for k in 0..self.history.metrics.len() {
            let rec = &self.history.metrics[k];
            if !rec.loss.is_nan() || rec.step > last {
                continue;
            }
            let since = if k == 0 { 0 } else { self.history.metrics[k - 1].step };
            let losses: Vec<f32> =
                self.history.steps.iter().filter(|s| s.step > since && s.step <= rec.step).map(|s| s.loss).collect();
            if !losses.is_empty() {
                self.history.metrics[k].loss = losses.iter().sum::<f32>() / losses.len() as f32;
            }
        }
    }

    /// Everything in flight belongs to the old run once the run starts over.
    fn restarted(&mut self) {
        self.copies.clear();
        self.history = History::default();
        self.evaluated_up_to = None;
        self.shadow_metrics_taken = 0;
    }
}

impl<B: Backend> Session for Mirrored<B> {
    fn info(&self) -> BackendInfo {
        self.device.info()
    }
    fn config(&self) -> &RunConfig {
        &self.config
    }
    fn data(&self) -> &Dataset {
        self.shadow.data()
    }
    fn split(&self) -> &Split {
        self.shadow.split()
    }
    fn active_train(&self) -> &[usize] {
        self.shadow.active_train()
    }
    /// The steps the device has taken (the views may show a slightly earlier step).
    fn step_count(&self) -> usize {
        self.device.step_count()
    }
    fn history(&self) -> &History {
        &self.history
    }
    fn step(&mut self) -> Result<()> {
        self.device.step()?;
        self.maybe_start_sync();
        self.land_copies()
    }
    /// Metrics are computed when the parameters of their step arrive, so this finishes the evaluations
    /// started and returns the latest record (computing one on the current copy when there is none yet).
    fn evaluate(&mut self) -> Result<MetricRecord> {
        self.land_copies()?;
        while self.shadow.advance_evaluation() {}
        if self.shadow.history().metrics.is_empty() {
            self.shadow.evaluate()?;
        }
        self.take_shadow_metrics();
        Ok(self.history.metrics.last().cloned().expect("the shadow has a record"))
    }
    /// The metrics of the device's current step: its parameters are read back (unless a read-back with
    /// metrics due is already on its way) and the shadow starts evaluating them when they land.
    fn start_evaluation(&mut self) -> Result<()> {
        let step = self.device.step_count();
        let queued = self.copies.back().is_some_and(|s| s.step == step && s.evaluate);
        if !queued && self.evaluated_up_to.is_none_or(|s| s < step) {
            self.start_sync(true);
        }
        self.land_copies()
    }
    /// The shadow's evaluations under way (not those whose parameters are still on their way).
    fn evaluations_pending(&self) -> usize {
        self.shadow.evaluations_pending()
    }
    fn advance_evaluation(&mut self) -> Result<bool> {
        self.land_copies()?;
        let more = self.shadow.advance_evaluation();
        self.take_shadow_metrics();
        Ok(more)
    }
    /// Never blocks, whatever `block` says: the browser cannot wait. Takes what has arrived.
    fn collect_losses(&mut self, _block: bool) -> Result<()> {
        self.land_copies()?;
        self.merge_losses()
    }
    fn embeddings(&self) -> Embeddings {
        self.shadow.embeddings()
    }
    fn forward(&self, x: &[f32]) -> (Matrix<f32>, Matrix<f32>) {
        self.shadow.forward(x)
    }
    fn inspect_batch(&self) -> Option<BatchInspection> {
        self.shadow.inspect_batch()
    }
    fn reset(&mut self) {
        self.device.reset();
        self.shadow.reset();
        self.restarted();
    }
    fn set_config(&mut self, config: RunConfig) -> Result<Rebuilt> {
        let rebuilt = self.device.set_config(config.clone())?;
        if let Err(e) = self.shadow.set_config(config.clone()) {
            // Cannot happen for a config the device took (same checks); keep the two in step regardless.
            let _ = self.device.set_config(self.config.clone());
            return Err(e);
        }
        self.config = config;
        if rebuilt != Rebuilt::Nothing {
            self.restarted();
        }
        Ok(rebuilt)
    }
    fn replace_data(&mut self, data: Dataset) {
        self.device.replace_data(data.clone());
        self.shadow.replace_data(data);
        self.restarted();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::Lab;

    fn config() -> RunConfig {
        let mut c = Lab::default_config();
        c.data.n = 256;
        c.train.batch_size = 64;
        c.train.eval_every = 5;
        c
    }

    #[test]
    fn a_mirror_trains_like_a_plain_trainer_and_its_copy_follows() {
        // On the CPU every read-back lands at once, so the mirror must match a plain trainer exactly.
        let mut plain = Trainer::new(Cpu::<f32>::new(), config()).unwrap();
        let mut mirror = Mirrored::new(Cpu::<f32>::new(), config(), None, &[]).unwrap();
        for s in 1..=10 {
            Session::step(&mut plain).unwrap();
            if s % 5 == 0 {
                Session::evaluate(&mut plain).unwrap();
            }
            mirror.step().unwrap();
        }
        Session::collect_losses(&mut plain, true).unwrap();
        mirror.collect_losses(false).unwrap();
        // The evaluations of steps 5 and 10 started when their parameters landed; their pieces are done on
        // request (a frame at a time in the app).
        assert!(mirror.history().metrics.is_empty());
        while mirror.advance_evaluation().unwrap() {}
        assert_eq!(mirror.step_count(), 10);
        assert_eq!(mirror.history().steps, plain.history().steps);
        assert_eq!(mirror.embeddings(), plain.embeddings());
        assert_eq!(mirror.inspect_batch(), plain.inspect_batch());
        // Metrics at steps 5 and 10, from the parameters of those steps, with the mean loss filled in.
        let steps: Vec<usize> = mirror.history().metrics.iter().map(|m| m.step).collect();
        assert_eq!(steps, vec![5, 10]);
        assert!(mirror.history().metrics.iter().all(|m| m.loss.is_finite()));
        assert_eq!(mirror.history().metrics, plain.history().metrics);
    }

    #[test]
    fn a_mirror_starts_over_on_reset_and_on_a_new_model() {
        let mut mirror = Mirrored::new(Cpu::<f32>::new(), config(), None, &[]).unwrap();
        for _ in 0..6 {
            mirror.step().unwrap();
        }
        mirror.collect_losses(false).unwrap();
        mirror.reset();
        assert_eq!(mirror.step_count(), 0);
        assert!(mirror.history().steps.is_empty() && mirror.history().metrics.is_empty());
        mirror.step().unwrap();
        let mut c = config();
        c.model.encoder = vec![16, 8];
        assert_eq!(mirror.set_config(c.clone()).unwrap(), Rebuilt::Model);
        assert_eq!(mirror.config(), &c);
        assert_eq!(mirror.embeddings().step, 0);
        let mut bad = c.clone();
        bad.loss.tau = -1.0;
        assert!(mirror.set_config(bad).is_err());
        assert_eq!(mirror.config(), &c);
    }
}
