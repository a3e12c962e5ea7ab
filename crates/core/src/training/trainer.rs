//! The trainer: a run is a config plus a seed. It draws batches, makes two augmented views per sample,
//! runs the model and the loss on any `Backend`, updates the parameters, and records the loss every step
//! and the metrics every `eval_every` steps. Written once against the trait; knows nothing of any UI.
//!
//! A GPU backend never reads back inside a step: loss values stay on the device and are collected in one
//! read-back every `eval_every` steps (or when the caller asks), so a step is one command buffer.

use std::collections::VecDeque;

use crate::backend::{Backend, BackendInfo, LossParams, OptimStep, PairLayout, Pairs, Readback};
use crate::config::{LossKind, PairMode, RunConfig};
use crate::data::{self, Dataset, Split};
use crate::error::{Error, Result};
use crate::evaluation::{Features, PendingEvaluation};
use crate::matrix::Matrix;
use crate::metrics;
use crate::model::{self, LayerInit, Model};
use crate::rng::{self, Rng};
use crate::schedule::lr_at;
use crate::selection::{self, PairFlags};

pub use crate::training::history::{History, MetricRecord, StepRecord};

/// Host copies of the model's outputs for every sample of the data set (clean inputs, no augmentation).
#[derive(Clone, Debug, PartialEq)]
pub struct Embeddings {
    pub step: usize,
    /// n × d_h: encoder features.
    pub h: Matrix<f32>,
    /// n × d: the model's output (on the unit sphere when the model normalises).
    pub z: Matrix<f32>,
}

/// The most recent training batch, for inspection (similarity matrix, flags, hardness).
#[derive(Clone, Debug, PartialEq)]
pub struct BatchInspection {
    /// Sample index of each of the N samples; view rows i and i + N belong to sample `indices[i]`.
    pub indices: Vec<usize>,
    /// 2N × d model outputs of the two views.
    pub z: Matrix<f32>,
    /// 2N × d_h encoder features.
    pub h: Matrix<f32>,
    /// Flags in the loss's layout (2N × 2N, or N × N for spectral), when selection is on.
    pub flags: Option<PairFlags>,
}

/// What `Trainer::set_config` had to rebuild (the rule is `RunConfig::rebuild_for`, decided once, in io).
pub use crate::config::Rebuilt;

/// Held-out views fixed at the start of a run, so that metric curves are not noisy from re-drawing views.
struct EvalSet {
    /// Held-out sample indices (at most eval_max_points).
    test: Vec<usize>,
    /// 2M × dim: two augmented views of each test sample.
    views: Vec<f32>,
    /// Train sample indices used as the probe's and kNN's training set.
    train: Vec<usize>,
}

/// A training run on backend B.
pub struct Trainer<B: Backend> {
    backend: B,
    config: RunConfig,
    data: Dataset,
    split: Split,
    /// Training samples not pruned away.
    active_train: Vec<usize>,
    init: Vec<LayerInit>,
    model: Model<B::Tensor>,
    step: usize,
    /// Samples are drawn epoch by epoch from a shuffled order.
    order: Vec<usize>,
    cursor: usize,
    batch_rng: Rng,
    aug_rng: Rng,
    eval: EvalSet,
    history: History,
    /// Loss tensors not yet read back.
    pending: Vec<PendingLoss<B::Tensor>>,
    /// The read-back of the losses that were pending, and the steps they belong to.
    inflight: Option<LossesInFlight>,
    loss_readback: LossReadback,
    last_batch: Option<(Vec<usize>, Vec<f32>)>,
    /// Evaluations started and not yet complete, oldest first.
    evaluations: VecDeque<PendingEvaluation>,
}

/// Whether `backend` computes the run's loss on its batch (2·min(batch_size, `train`) views) and the
/// alignment/uniformity metric on its evaluation views (2·min(eval_max_points, `eval`)) correctly: a size a
/// backend cannot compute is refused before the run starts or the config changes (Backend::check_loss_size).
fn check_sizes<B: Backend>(backend: &B, config: &RunConfig, train: usize, eval: usize) -> Result<()> {
    let d = config.model.embedding_dim();
    let selects =
        LossParams::from_config(&config.loss, &config.selection).mode != PairMode::None && !config.selection.all_pairs;
    let selection_dh = if selects { config.model.feature_dim() } else { 0 };
    let batch_views = config.train.batch_size.min(train).saturating_mul(2);
    backend.check_loss_size(config.loss.kind, batch_views, d, selection_dh)?;
    let eval_views = config.train.eval_max_points.max(2).min(eval).saturating_mul(2);
    backend.check_loss_size(LossKind::AlignUniform, eval_views, d, 0)
}

/// When a trainer reads its losses back from the backend.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LossReadback {
    /// After every `eval_every` steps, waiting for them (the CLI, the desktop, tests): a run never holds more
    /// than `eval_every` losses on the device.
    #[default]
    EveryEvalInterval,
    /// Only when `collect_losses` is called. For a caller that cannot wait (the browser's mirrored GPU run,
    /// which collects them without blocking every frame).
    OnRequest,
}

/// A step's loss, still on the device.
struct PendingLoss<T> {
    step: usize,
    /// The learning rate the step used, recorded beside its loss.
    lr: f32,
    value: T,
}

/// Losses on their way back from the device: (step, learning rate) of each, in order.
struct LossesInFlight {
    steps: Vec<(usize, f32)>,
    readback: Readback,
}

/// The total number of steps the schedule spans.
fn schedule_span(cfg: &RunConfig) -> usize {
    cfg.train.steps.max(1)
}

impl<B: Backend> Trainer<B> {
    /// Builds the data from the config and starts a run at step 0.
    pub fn new(backend: B, config: RunConfig) -> Result<Self> {
        config.validate()?;
        let data = data::build(&config.data, config.seed)?;
        Self::with_data(backend, config, data, &[])
    }

    /// Starts a run on given data (the app's edited data, a CSV loaded from bytes), leaving out the
    /// training samples in `excluded` (pruning: same seed, same initialisation, fewer samples).
    pub fn with_data(backend: B, config: RunConfig, data: Dataset, excluded: &[usize]) -> Result<Self> {
        config.validate()?;
        if data.len() < 4 {
            return Err(Error::invalid(format!("the data set has {} samples: at least 4 are needed", data.len())));
        }
        let split = data::split(&data, config.data.test_fraction, config.seed);
        let mut drop = vec![false; data.len()];
        for &i in excluded {
            if i < drop.len() {
                drop[i] = true;
            }
        }
        let active_train: Vec<usize> = split.train.iter().copied().filter(|&i| !drop[i]).collect();
        if active_train.len() < 2 {
            return Err(Error::invalid("pruning left fewer than 2 training samples: prune a smaller fraction"));
        }
        check_sizes(&backend, &config, active_train.len(), split.test.len().max(split.train.len()))?;
        let init = model::init_layers(&config.model, data.dim, config.seed);
        let model = Model::upload(&backend, &init, config.model.encoder.len(), config.model.normalize);
        let eval = Self::make_eval_set(&config, &data, &split);
        let mut t = Self {
            backend,
            config,
            data,
            split,
            active_train,
            init,
            model,
            step: 0,
            order: Vec::new(),
            cursor: 0,
            batch_rng: rng::rng(0, 0),
            aug_rng: rng::rng(0, 0),
            eval,
            history: History::default(),
            pending: Vec::new(),
            inflight: None,
            loss_readback: LossReadback::default(),
            last_batch: None,
            evaluations: VecDeque::new(),
        };
        t.restart_streams();
        Ok(t)
    }

    fn make_eval_set(config: &RunConfig, data: &Dataset, split: &Split) -> EvalSet {
        let max = config.train.eval_max_points.max(2);
        let mut r = rng::rng(config.seed, rng::stream::EVAL);
        let pick = |r: &mut Rng, from: &[usize]| -> Vec<usize> {
            let mut v = from.to_vec();
            if v.len() > max {
                rng::shuffle(r, &mut v);
                v.truncate(max);
                v.sort_unstable();
            }
            v
        };
        let test = pick(&mut r, &split.test);
        // kNN and the probe fit on clean training rows (docs/math.md §3.1): a mixed sample's label is 30–70 %
        // wrong, and it would score the evaluation's label noise rather than the representation.
        let clean_train: Vec<usize> = split.train.iter().copied().filter(|&i| !data.mixed[i]).collect();
        let train = pick(&mut r, &clean_train);
        let views = data::make_views(data, &test, &config.augment, &mut r);
        EvalSet { test, views, train }
    }

    fn restart_streams(&mut self) {
        self.batch_rng = rng::rng(self.config.seed, rng::stream::BATCH);
        self.aug_rng = rng::rng(self.config.seed, rng::stream::AUGMENT);
        self.order = self.active_train.clone();
        self.cursor = self.order.len();
    }

    /// Ends the run and hands the backend back (a pruned run's first run passes it to the second).
    pub fn into_backend(self) -> B {
        self.backend
    }

    pub fn backend(&self) -> &B {
        &self.backend
    }

    pub fn info(&self) -> BackendInfo {
        self.backend.info()
    }

    pub fn config(&self) -> &RunConfig {
        &self.config
    }

    pub fn data(&self) -> &Dataset {
        &self.data
    }

    pub fn split(&self) -> &Split {
        &self.split
    }

    /// Steps taken so far.
    pub fn step_count(&self) -> usize {
        self.step
    }

    /// Records so far (losses up to the last read-back).
    pub fn history(&self) -> &History {
        &self.history
    }

    /// Training samples in use (the split's train part minus pruned samples).
    pub fn active_train(&self) -> &[usize] {
        &self.active_train
    }

    /// N for this step: the configured batch size, at most the number of training samples.
    fn batch_size(&self) -> usize {
        self.config.train.batch_size.min(self.active_train.len())
    }

    /// The next N sample indices, epoch by epoch without replacement.
    fn next_batch(&mut self) -> Vec<usize> {
        let n = self.batch_size();
        if self.cursor + n > self.order.len() {
            rng::shuffle(&mut self.batch_rng, &mut self.order);
            self.cursor = 0;
        }
        let idx = self.order[self.cursor..self.cursor + n].to_vec();
        self.cursor += n;
        idx
    }

    fn loss_params(&self) -> LossParams {
        LossParams::from_config(&self.config.loss, &self.config.selection)
    }

    fn upload_labels(&self, idx: &[usize]) -> B::Tensor {
        let per_view: Vec<f32> = idx.iter().chain(idx).map(|&i| self.data.labels[i] as f32).collect();
        self.backend.upload(per_view.len(), 1, &per_view)
    }

    /// One training step. Returns an error (and changes nothing more) once a read-back shows the loss
    /// is not finite or has exploded.
    pub fn step(&mut self) -> Result<()> {
        let idx = self.next_batch();
        let views = data::make_views(&self.data, &idx, &self.config.augment, &mut self.aug_rng);
        let b = &self.backend;
        let x = b.upload(2 * idx.len(), self.data.dim, &views);
        let cache = self.model.forward(b, &x);
        let params = self.loss_params();
        let sel = &self.config.selection;
        let thresholds = (params.mode != PairMode::None && !sel.all_pairs)
            .then(|| b.select_thresholds(cache.h(), params.layout(), sel.pos_high, sel.pos_low));
        let pairs = match (params.mode, sel.all_pairs, &thresholds) {
            (PairMode::None, _, _) => Pairs::None,
            (_, true, _) => Pairs::All,
            (_, false, Some(t)) => Pairs::Selected { h: cache.h(), thresholds: t },
            (_, false, None) => Pairs::None,
        };
        let labels = (params.kind == LossKind::Supcon).then(|| self.upload_labels(&idx));
        let out = b.loss(&params, cache.output(), &pairs, labels.as_ref());
        let grads = self.model.backward(b, &cache, &out.grad);
        let lr = lr_at(&self.config.optimizer, self.step, schedule_span(&self.config));
        let o = &self.config.optimizer;
        let opt = OptimStep {
            kind: o.kind,
            lr,
            momentum: o.momentum,
            nesterov: o.nesterov,
            weight_decay: o.weight_decay,
            beta1: o.beta1,
            beta2: o.beta2,
            eps: o.eps,
            t: self.step as u64 + 1,
        };
        for (layer, (dw, db)) in self.model.layers.iter_mut().zip(&grads.layers) {
            b.optimizer_step(&opt, &mut layer.w, dw, &mut layer.w_state.m, &mut layer.w_state.v);
            b.optimizer_step(&opt, &mut layer.b, db, &mut layer.b_state.m, &mut layer.b_state.v);
        }
        b.end_step();
        self.step += 1;
        self.pending.push(PendingLoss { step: self.step, lr, value: out.value });
        self.last_batch = Some((idx, views));
        if self.loss_readback == LossReadback::EveryEvalInterval && self.pending.len() >= self.config.train.eval_every {
            self.collect_losses(true)?;
        }
        Ok(())
    }

    /// When this trainer reads its losses back (`EveryEvalInterval` unless set).
    pub fn set_loss_readback(&mut self, policy: LossReadback) {
        self.loss_readback = policy;
    }

    /// Runs `steps` steps, computing metrics every `eval_every` steps and after the last one.
    pub fn run(&mut self, steps: usize, mut on_step: impl FnMut(&Self)) -> Result<()> {
        let every = self.config.train.eval_every;
        for s in 0..steps {
            self.step()?;
            if self.step.is_multiple_of(every) || s + 1 == steps {
                self.evaluate()?;
            }
            on_step(self);
        }
        Ok(())
    }

    /// Moves read-back loss values into the history. With `block`, waits for every pending value;
    /// without, takes what has arrived (the browser cannot wait). Errors if a loss is not finite.
    pub fn collect_losses(&mut self, block: bool) -> Result<()> {
        if self.inflight.is_none() && !self.pending.is_empty() {
            let pending = std::mem::take(&mut self.pending);
            let tensors: Vec<&B::Tensor> = pending.iter().map(|p| &p.value).collect();
            let readback = self.backend.read_async(&tensors);
            let steps = pending.iter().map(|p| (p.step, p.lr)).collect();
            self.inflight = Some(LossesInFlight { steps, readback });
        }
        let Some(LossesInFlight { readback: rb, .. }) = &self.inflight else { return Ok(()) };
        while block && !rb.is_ready() {
            self.backend.poll();
        }
        let Some(result) = rb.try_take() else { return Ok(()) };
        let steps = self.inflight.take().expect("in flight").steps;
        let values = result.map_err(Error::Backend)?;
        for ((step, lr), v) in steps.into_iter().zip(values) {
            let loss = v.first().copied().unwrap_or(f32::NAN);
            self.history.steps.push(StepRecord { step, loss, lr });
            self.check_divergence(step, loss)?;
        }
        Ok(())
    }

    fn check_divergence(&self, step: usize, loss: f32) -> Result<()> {
        // Every loss here is bounded by a few hundred for sane settings (InfoNCE ≤ 2/τ + log 2N); a value
        // past 1e6 means the parameters are running away.
        if loss.is_finite() && loss.abs() < 1e6 {
            return Ok(());
        }
        let what = if loss.is_finite() { format!("exploded to {loss:.3e}") } else { format!("became {loss}") };
        Err(Error::Diverged(format!(
            "training diverged at step {step}: the loss {what}. The learning rate ({}) is probably too high{}; \
             lower it and press reset",
            self.config.optimizer.lr,
            if matches!(self.config.loss.kind, LossKind::Infonce | LossKind::Supcon | LossKind::Dcl) {
                format!(", or the temperature τ = {} too low", self.config.loss.tau)
            } else {
                String::new()
            }
        )))
    }

    /// Runs the model on given host inputs (rows × dim) and downloads (h, output).
    fn forward_host(&self, rows: usize, x: &[f32]) -> (Matrix<f32>, Matrix<f32>) {
        let b = &self.backend;
        let xt = b.upload(rows, self.data.dim, x);
        let cache = self.model.forward(b, &xt);
        let (hr, hc) = b.dims(cache.h());
        let out = cache.output();
        let (zr, zc) = b.dims(out);
        let h = Matrix::from_vec(hr, hc, b.download(cache.h()));
        let z = Matrix::from_vec(zr, zc, b.download(out));
        (h, z)
    }

    fn gather(&self, idx: &[usize]) -> Vec<f32> {
        idx.iter().flat_map(|&i| self.data.sample(i).iter().copied()).collect()
    }

    /// Computes the metrics of docs/math.md §4 on the held-out set now and appends them to the history (after
    /// any evaluation still pending, so records stay in step order).
    pub fn evaluate(&mut self) -> Result<MetricRecord> {
        self.start_evaluation()?;
        while self.advance_evaluation() {}
        Ok(self.history.metrics.last().cloned().expect("an evaluation was just recorded"))
    }

    /// Starts the metrics of the current step: every forward pass they need runs now, on this step's
    /// model, with the cheap metrics; the kNN vote and the probe's fit are left to `advance_evaluation`,
    /// so a front end can spread them over frames while training goes on (see evaluation.rs).
    pub fn start_evaluation(&mut self) -> Result<()> {
        let pending = self.capture_evaluation()?;
        self.evaluations.push_back(pending);
        Ok(())
    }

    /// Does one piece of the oldest pending evaluation, and records it in the history once complete.
    /// Returns whether work remains.
    pub fn advance_evaluation(&mut self) -> bool {
        let Some(front) = self.evaluations.front_mut() else { return false };
        if !front.advance()
            && let Some(done) = self.evaluations.pop_front()
        {
            let mut rec = done.finish();
            rec.loss = self.mean_loss_until(rec.step);
            self.history.metrics.push(rec);
        }
        !self.evaluations.is_empty()
    }

    /// Evaluations started and not yet recorded.
    pub fn evaluations_pending(&self) -> usize {
        self.evaluations.len()
    }

    /// The mean training loss of the steps after the previous metric record, up to `step`.
    fn mean_loss_until(&self, step: usize) -> f32 {
        let since = self.history.metrics.last().map(|r| r.step).unwrap_or(0);
        let recent: Vec<f32> =
            self.history.steps.iter().filter(|s| s.step > since && s.step <= step).map(|s| s.loss).collect();
        if recent.is_empty() { f32::NAN } else { recent.iter().sum::<f32>() / recent.len() as f32 }
    }

    /// The first part of an evaluation: the forward passes and the cheap metrics (evaluation.rs).
    fn capture_evaluation(&mut self) -> Result<PendingEvaluation> {
        self.collect_losses(true)?;
        let m = self.eval.test.len();
        let b = &self.backend;
        // Alignment and uniformity on the device, on the two fixed held-out views.
        let xt = b.upload(2 * m, self.data.dim, &self.eval.views);
        let cache = self.model.forward(b, &xt);
        let au = b.download(&b.align_uniform(cache.output(), 2.0));
        let (zr, zc) = b.dims(cache.output());
        let z_views = Matrix::from_vec(zr, zc, b.download(cache.output()));
        let (hr, hc) = b.dims(cache.h());
        let h_views = Matrix::from_vec(hr, hc, b.download(cache.h()));
        let test_labels: Vec<usize> = self.eval.test.iter().map(|&i| self.data.labels[i]).collect();
        let z1 = z_views.rows_range(0, m);
        let tolerance = metrics::tolerance(&z1, &test_labels);
        // Probe and kNN on clean (unaugmented) features h.
        let train_x = self.gather(&self.eval.train);
        let (h_train, _) = self.forward_host(self.eval.train.len(), &train_x);
        let test_x = self.gather(&self.eval.test);
        let (h_test, _) = self.forward_host(m, &test_x);
        let train_labels: Vec<usize> = self.eval.train.iter().map(|&i| self.data.labels[i]).collect();
        let effective_rank = metrics::effective_rank(&h_test);
        let (selection_precision, flagged_fraction) = self.selection_quality(&h_views, &test_labels);
        let captured = MetricRecord {
            step: self.step,
            loss: f32::NAN,
            alignment: au[0] as f64,
            uniformity: au[1] as f64,
            tolerance,
            knn_accuracy: 0.0,
            probe_accuracy: 0.0,
            effective_rank,
            selection_precision,
            flagged_fraction,
        };
        let features = Features {
            h_train,
            train_labels,
            h_test,
            test_labels,
            classes: self.data.classes.max(1),
            seed: self.config.seed,
        };
        Ok(PendingEvaluation::new(captured, features))
    }

    /// Flags of the current selection settings on given views' features (2M × d_h, view layout).
    fn flags_for(&self, h: &Matrix<f32>) -> Option<PairFlags> {
        let params = self.loss_params();
        if params.mode == PairMode::None {
            return None;
        }
        let sel = &self.config.selection;
        let layout = params.layout();
        Some(if sel.all_pairs {
            PairFlags::all_pairs(h.rows, layout)
        } else {
            let th = selection::thresholds(h, layout, sel.pos_high, sel.pos_low);
            selection::flags_from_thresholds(h, &th, layout)
        })
    }

    /// (precision, flagged fraction) of the selection on held-out views: a flagged pair is "right" when
    /// its two samples have different labels (a difficult cross-class pair, not a same-class one).
    fn selection_quality(&self, h_views: &Matrix<f32>, labels: &[usize]) -> (Option<f64>, Option<f64>) {
        let Some(flags) = self.flags_for(h_views) else { return (None, None) };
        let m = labels.len();
        // AllViews flags are 2m × 2m over the views: each sample's label twice, in the views' order.
        let (layout, per_view): (PairLayout, Vec<usize>) = if flags.cols == m {
            (PairLayout::CrossView, labels.to_vec())
        } else {
            (PairLayout::AllViews, (0..2 * m).map(|r| labels[r % m]).collect())
        };
        let precision = selection::precision(&flags, &per_view).filter(|_| self.data.has_labels);
        let candidates = flags.rows * selection::candidates_per_row(flags.cols, layout);
        (precision, Some(flags.count() as f64 / candidates.max(1) as f64))
    }

    /// The model's h and output for every sample of the data set.
    pub fn embeddings(&self) -> Embeddings {
        let (h, z) = self.forward_host(self.data.len(), &self.data.x);
        Embeddings { step: self.step, h, z }
    }

    /// Runs the current model on any inputs (rows × dim, row-major, in the data's units) and returns
    /// (h, output). Front ends use it for what is not a sample: a heat map over the input plane, the
    /// augmented views of a hovered point.
    pub fn forward(&self, x: &[f32]) -> (Matrix<f32>, Matrix<f32>) {
        let rows = x.len() / self.data.dim.max(1);
        self.forward_host(rows, &x[..rows * self.data.dim])
    }

    /// The last training batch re-run through the current model, with its flags.
    pub fn inspect_batch(&self) -> Option<BatchInspection> {
        let (idx, views) = self.last_batch.as_ref()?;
        let (h, z) = self.forward_host(2 * idx.len(), views);
        let flags = self.flags_for(&h);
        Some(BatchInspection { indices: idx.clone(), z, h, flags })
    }

    /// Each layer's W and b, in order: what a mirror reads back to answer queries elsewhere (the browser's
    /// GPU run cannot block on a download, so a CPU trainer holding these values answers them; see the
    /// app's mirror.rs).
    pub fn parameter_tensors(&self) -> Vec<&B::Tensor> {
        self.model.layers.iter().flat_map(|l| [&l.w, &l.b]).collect()
    }

    /// The last training batch: its sample indices and their two views (2N × dim, view layout).
    pub fn last_batch(&self) -> Option<(&[usize], &[f32])> {
        self.last_batch.as_ref().map(|(i, v)| (i.as_slice(), v.as_slice()))
    }

    /// Takes on the state of another run of the same config and data, as read back from it: the values of
    /// its `parameter_tensors` (same order), its step count and its last batch. The optimiser state is
    /// left as it is: a mirror answers queries, it does not train. Wrong shapes change nothing.
    pub fn load_state(
        &mut self,
        params: &[Vec<f32>],
        step: usize,
        last_batch: Option<(Vec<usize>, Vec<f32>)>,
    ) -> Result<()> {
        let shapes: Vec<(usize, usize)> = self.parameter_tensors().into_iter().map(|t| self.backend.dims(t)).collect();
        if params.len() != shapes.len() || params.iter().zip(&shapes).any(|(p, (r, c))| p.len() != r * c) {
            return Err(Error::invalid("load_state: the parameters do not fit this model"));
        }
        for (layer, wb) in self.model.layers.iter_mut().zip(params.chunks(2)) {
            let (wr, wc) = self.backend.dims(&layer.w);
            layer.w = self.backend.upload(wr, wc, &wb[0]);
            layer.b = self.backend.upload(1, wb[1].len(), &wb[1]);
        }
        self.step = step;
        self.last_batch = last_batch;
        Ok(())
    }

    /// Back to step 0 with the same initialisation, the same batches and the same views.
    pub fn reset(&mut self) {
        self.model =
            Model::upload(&self.backend, &self.init, self.config.model.encoder.len(), self.config.model.normalize);
        self.step = 0;
        self.history = History::default();
        self.pending.clear();
        self.inflight = None;
        self.evaluations.clear();
        self.last_batch = None;
        self.restart_streams();
    }

    /// Applies a new config while training runs. Hyper-parameters take effect at the next step; a new
    /// model shape re-initialises the model; new data rebuilds everything. The seed is part of the data.
    pub fn set_config(&mut self, config: RunConfig) -> Result<Rebuilt> {
        config.validate()?;
        // New data may hold more samples than the current: bound the batch by the config alone then.
        let train = if config.data != self.config.data { usize::MAX } else { self.active_train.len() };
        let eval = if config.data != self.config.data {
            usize::MAX
        } else {
            self.split.test.len().max(self.split.train.len())
        };
        check_sizes(&self.backend, &config, train, eval)?;
        let old = std::mem::replace(&mut self.config, config);
        let rebuild = old.rebuild_for(&self.config);
        if rebuild == Rebuilt::Data {
            match data::build(&self.config.data, self.config.seed) {
                Ok(d) => {
                    self.replace_data(d);
                    return Ok(Rebuilt::Data);
                }
                Err(e) => {
                    self.config = old;
                    return Err(e);
                }
            }
        }
        if rebuild == Rebuilt::Model {
            self.rebuild_model();
            return Ok(Rebuilt::Model);
        }
        if old.augment != self.config.augment || old.train.eval_max_points != self.config.train.eval_max_points {
            self.eval = Self::make_eval_set(&self.config, &self.data, &self.split);
        }
        Ok(Rebuilt::Nothing)
    }

    /// Replaces the data (edited in the app, or loaded from a CSV) and restarts from step 0.
    pub fn replace_data(&mut self, data: Dataset) {
        self.split = data::split(&data, self.config.data.test_fraction, self.config.seed);
        self.active_train = self.split.train.clone();
        self.data = data;
        self.eval = Self::make_eval_set(&self.config, &self.data, &self.split);
        self.rebuild_model();
    }

    fn rebuild_model(&mut self) {
        self.init = model::init_layers(&self.config.model, self.data.dim, self.config.seed);
        self.reset();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DatasetKind;
    use crate::cpu::Cpu;

    fn moons_config(steps: usize) -> RunConfig {
        let mut cfg = RunConfig::default();
        cfg.data.dataset = DatasetKind::Moons;
        cfg.data.n = 512;
        cfg.train.steps = steps;
        cfg.train.batch_size = 128;
        cfg.train.eval_every = steps.max(1);
        cfg.optimizer.lr = 3e-3;
        cfg
    }

    #[test]
    fn an_evaluation_in_pieces_while_training_goes_on_records_what_one_call_records() {
        let mut cfg = moons_config(40);
        cfg.selection.mode = PairMode::Combined;
        let mut once = Trainer::new(Cpu::<f32>::new(), cfg.clone()).unwrap();
        let mut pieces = Trainer::new(Cpu::<f32>::new(), cfg).unwrap();
        for _ in 0..10 {
            once.step().unwrap();
            pieces.step().unwrap();
        }
        let expected = once.evaluate().unwrap();
        pieces.start_evaluation().unwrap();
        assert_eq!(pieces.evaluations_pending(), 1);
        // Training goes on between the pieces; the record is still that of step 10.
        let mut calls = 0;
        while pieces.advance_evaluation() {
            pieces.step().unwrap();
            calls += 1;
        }
        assert!(calls >= 3, "the evaluation took {calls} pieces; it should be cut finer");
        assert_eq!(pieces.history().metrics, vec![expected.clone()]);
        assert!(expected.loss.is_finite() && expected.knn_accuracy > 0.0 && expected.selection_precision.is_some());
        // A reset drops what was pending.
        pieces.start_evaluation().unwrap();
        pieces.reset();
        assert_eq!(pieces.evaluations_pending(), 0);
        assert!(!pieces.advance_evaluation());
    }

    #[test]
    fn same_seed_gives_the_same_run_bit_for_bit_on_cpu_f32() {
        let run = || {
            let mut t = Trainer::new(Cpu::<f32>::new(), moons_config(20)).unwrap();
            t.run(20, |_| {}).unwrap();
            (t.history().clone(), t.embeddings())
        };
        let (h1, e1) = run();
        let (h2, e2) = run();
        assert_eq!(h1, h2);
        assert_eq!(
            e1.z.data.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            e2.z.data.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );
        assert_eq!(h1.steps.len(), 20);
    }

    /// The CPU engine splits its products, row loops and element-wise loops over the worker threads in fixed
    /// chunks, so a run has the same bits on one, two or three threads. T2-selected's shapes (1,024 views of
    /// 256 features, a 1,024 × 1,024 similarity matrix) cross every split threshold; T1-selected's 3-column
    /// embeddings take the loss gradient's thin path.
    #[test]
    fn the_same_run_bit_for_bit_on_one_two_and_three_threads() {
        for case in ["T1-selected", "T2-selected"] {
            let mut cfg = crate::bench_cases::case_config(case).expect("a bench case");
            cfg.train.steps = 3;
            let run = |threads: usize| {
                let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("a worker pool");
                pool.install(|| {
                    let mut t = Trainer::new(Cpu::<f32>::new(), cfg.clone()).unwrap();
                    t.run(3, |_| {}).unwrap();
                    let z: Vec<u32> = t.embeddings().z.data.iter().map(|v| v.to_bits()).collect();
                    (t.history().clone(), z)
                })
            };
            let (h1, z1) = run(1);
            assert_eq!(h1.steps.len(), 3);
            for threads in [2, 3] {
                let (h, z) = run(threads);
                assert_eq!(h, h1, "{case}: the losses on {threads} threads");
                let differ = z.iter().zip(&z1).filter(|(a, b)| a != b).count();
                assert_eq!(differ, 0, "{case}: {differ} embedding values differ between 1 and {threads} threads");
            }
        }
    }

    #[test]
    fn reset_replays_the_same_steps() {
        let mut t = Trainer::new(Cpu::<f32>::new(), moons_config(5)).unwrap();
        t.run(5, |_| {}).unwrap();
        let first = t.history().steps.clone();
        t.reset();
        assert_eq!(t.step_count(), 0);
        t.run(5, |_| {}).unwrap();
        assert_eq!(t.history().steps, first);
    }

    #[test]
    fn a_non_finite_loss_is_reported_as_divergence_with_its_likely_cause() {
        // Our losses are bounded (normalised or clipped inputs), so a run diverges through non-finite values:
        // here one NaN input sample, which every batch of the whole training set contains.
        let mut cfg = moons_config(10);
        cfg.train.eval_every = 1;
        let mut data = crate::data::build(&cfg.data, cfg.seed).unwrap();
        let first_train = crate::data::split(&data, cfg.data.test_fraction, cfg.seed).train[0];
        data.x[first_train * data.dim] = f32::NAN;
        cfg.train.batch_size = data.len();
        let mut t = Trainer::with_data(Cpu::<f32>::new(), cfg, data, &[]).unwrap();
        let err = t.run(10, |_| {}).unwrap_err();
        assert!(matches!(err, Error::Diverged(_)), "{err}");
        assert!(err.to_string().contains("learning rate") && err.to_string().contains("step 1"), "{err}");
    }
}
