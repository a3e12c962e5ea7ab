//! The one trait the trainer, the metrics and the front ends are written against.
//!
//! Two implementations: `Cpu<F>` in this crate (F = f32 at run time, f64 as the reference in tests) and
//! `Gpu` in spherelab-gpu. The trait holds exactly the ops a training step needs, plus upload/download.
//!
//! Conventions shared by every op:
//! - Tensors are row-major matrices. A batch of N samples has 2N views, stacked as rows
//!   `[view 1 of samples 0..N; view 2 of samples 0..N]`, so view i's positive partner is j(i) = (i + N) mod 2N.
//! - Losses take the raw projector output z (2N × d) and apply whatever normalisation their formula
//!   uses themselves; the gradient they return is with respect to z as given.
//! - A loss value is a 1×1 tensor, kept on the device: reading it back is the caller's choice (`read_async`).
//! - A GPU backend records ops into one pending command buffer and submits it at `end_step`; nothing inside
//!   a step reads back.

use std::sync::{Arc, Mutex};

use crate::config::{Activation, LossConfig, LossKind, OptimizerKind, PairMode, SelectionConfig};

/// Which backend and device a run computes on, for the user to see.
#[derive(Clone, Debug, PartialEq)]
pub struct BackendInfo {
    /// "cpu-f32", "cpu-f64" or "gpu".
    pub kind: String,
    /// Human-readable device, e.g. "llvmpipe (LLVM 15.0.6, 256 bits), Vulkan" or "CPU, 2 threads".
    pub adapter: String,
}

/// Output of a linear layer: `pre = x·W + b` and `out = act(pre)`.
pub struct LinearOut<T> {
    pub pre: T,
    pub out: T,
}

/// Gradients of a linear layer with respect to its input, weights and bias.
pub struct LinearGrads<T> {
    /// ∂L/∂x = ∂L/∂pre · Wᵀ; `None` when not asked for (the first layer's input is data).
    pub dx: Option<T>,
    /// ∂L/∂W = xᵀ · ∂L/∂pre (in × out).
    pub dw: T,
    /// ∂L/∂b = column sums of ∂L/∂pre (1 × out).
    pub db: T,
}

/// How the candidates of a similarity row are laid out (docs/math.md §2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PairLayout {
    /// 2N × 2N over all views (InfoNCE, DCL): candidates k ∉ {i, j(i)}, M = 2N − 2.
    AllViews,
    /// N × N cross-view matrix, view-1 sample i against view-2 sample k (spectral): candidates k ≠ i, M = N − 1.
    CrossView,
}

/// Which pairs are flagged as difficult.
pub enum Pairs<'a, T> {
    /// Selection off: no pair is flagged.
    None,
    /// The ablation: every pair except self and positive is flagged.
    All,
    /// Flags from selection: p_ik = 1[lo_i ≤ c_ik < hi_i], where c_ik is the cosine similarity of the rows
    /// of `h` (pre-projector features, 2N × d_h, same view layout as z) in the given layout and
    /// `thresholds` (rows × 2: lo, hi) came from `Backend::select_thresholds` on the same h.
    Selected { h: &'a T, thresholds: &'a T },
    /// An explicit 0/1 matrix (2N × 2N for AllViews losses, N × N for spectral), e.g. from a user's file.
    /// Entries on the diagonal and at positives are ignored.
    Explicit(&'a T),
}

/// Everything a loss needs besides its inputs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LossParams {
    pub kind: LossKind,
    pub tau: f32,
    pub mu: f32,
    pub align_alpha: f32,
    pub unif_t: f32,
    pub w_align: f32,
    pub w_unif: f32,
    /// What flagged pairs do.
    pub mode: PairMode,
    /// σ (InfoNCE/DCL margin), used in `Margin` and `Combined` modes.
    pub sigma: f32,
    /// ρ (InfoNCE/DCL pair temperature factor), used in `Temperature` and `Combined` modes.
    pub rho: f32,
    /// m (spectral margin), used in `Margin` and `Combined` modes.
    pub margin: f32,
}

impl LossParams {
    /// A run's loss and selection settings as one kernel's parameters; losses without selection get
    /// `PairMode::None`.
    pub fn from_config(l: &LossConfig, s: &SelectionConfig) -> Self {
        Self {
            kind: l.kind,
            tau: l.tau,
            mu: l.mu,
            align_alpha: l.align_alpha,
            unif_t: l.unif_t,
            w_align: l.w_align,
            w_unif: l.w_unif,
            mode: if l.kind.supports_selection() { s.mode } else { PairMode::None },
            sigma: s.sigma,
            rho: s.rho,
            margin: s.margin,
        }
    }

    /// Plain InfoNCE at temperature `tau`, no selection: the benchmark's and the large-batch tests' loss.
    pub fn infonce(tau: f32) -> Self {
        let loss = LossConfig { kind: LossKind::Infonce, tau, ..LossConfig::default() };
        Self::from_config(&loss, &SelectionConfig::default()) // selection off
    }

    /// Effective σ: the margin on flagged InfoNCE/DCL logits (0 when the mode has none).
    pub fn effective_sigma(&self) -> f32 {
        match self.mode {
            PairMode::Margin | PairMode::Combined => self.sigma,
            _ => 0.0,
        }
    }

    /// Effective ρ: the temperature factor on flagged InfoNCE/DCL pairs (1 when the mode has none).
    pub fn effective_rho(&self) -> f32 {
        match self.mode {
            PairMode::Temperature | PairMode::Combined => self.rho,
            _ => 1.0,
        }
    }

    /// Effective spectral margin m (0 when the mode has none).
    pub fn effective_margin(&self) -> f32 {
        match self.mode {
            PairMode::Margin | PairMode::Combined => self.margin,
            _ => 0.0,
        }
    }

    /// The layout selection uses for this loss.
    pub fn layout(&self) -> PairLayout {
        if self.kind == LossKind::Spectral { PairLayout::CrossView } else { PairLayout::AllViews }
    }
}

/// A loss value (1×1) and its gradient with respect to z (same shape as z).
pub struct LossOut<T> {
    pub value: T,
    pub grad: T,
}

/// One optimiser update's hyper-parameters, with the schedule already applied to `lr`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OptimStep {
    pub kind: OptimizerKind,
    pub lr: f32,
    pub momentum: f32,
    pub nesterov: bool,
    pub weight_decay: f32,
    pub beta1: f32,
    pub beta2: f32,
    pub eps: f32,
    /// 1-based step count, for Adam's bias correction.
    pub t: u64,
}

/// A read-back in flight. CPU backends fill it at once; the GPU fills it when the map completes
/// (the browser cannot block, so callers poll).
#[derive(Clone, Default)]
pub struct Readback(Arc<Mutex<Option<ReadbackResult>>>);

/// The tensors' values in the order asked for, or why the read-back failed.
pub type ReadbackResult = Result<Vec<Vec<f32>>, String>;

impl Readback {
    pub fn ready(values: Vec<Vec<f32>>) -> Self {
        Self(Arc::new(Mutex::new(Some(Ok(values)))))
    }

    pub fn pending() -> Self {
        Self::default()
    }

    /// Called by the backend when the data has arrived.
    pub fn fulfil(&self, result: ReadbackResult) {
        *self.0.lock().expect("readback lock") = Some(result);
    }

    /// Takes the data if it has arrived.
    pub fn try_take(&self) -> Option<ReadbackResult> {
        self.0.lock().expect("readback lock").take()
    }

    pub fn is_ready(&self) -> bool {
        self.0.lock().expect("readback lock").is_some()
    }
}

/// The engine's compute interface.
pub trait Backend {
    /// A matrix living where this backend computes (host memory, or a GPU buffer handle).
    type Tensor: Clone;

    fn info(&self) -> BackendInfo;

    // ---- data movement ----
    fn upload(&self, rows: usize, cols: usize, data: &[f32]) -> Self::Tensor;
    /// Uploads f64 data; backends narrower than f64 round.
    fn upload_f64(&self, rows: usize, cols: usize, data: &[f64]) -> Self::Tensor {
        let v: Vec<f32> = data.iter().map(|&x| x as f32).collect();
        self.upload(rows, cols, &v)
    }
    fn zeros(&self, rows: usize, cols: usize) -> Self::Tensor;
    fn dims(&self, t: &Self::Tensor) -> (usize, usize);
    /// Blocking read-back (tests, the CLI). Ends the pending step first if there is one.
    fn download(&self, t: &Self::Tensor) -> Vec<f32>;
    /// Blocking read-back at the backend's own precision.
    fn download_f64(&self, t: &Self::Tensor) -> Vec<f64> {
        self.download(t).into_iter().map(f64::from).collect()
    }
    /// Starts an asynchronous read-back of several tensors.
    fn read_async(&self, ts: &[&Self::Tensor]) -> Readback {
        Readback::ready(ts.iter().map(|t| self.download(t)).collect())
    }
    /// Lets the device make progress on read-backs (native GPU: poll; CPU and browser: nothing).
    fn poll(&self) {}
    /// Ends one training step: a GPU backend submits its command buffer here.
    fn end_step(&self) {}
    /// Whether this backend computes `kind` (and the alignment/uniformity metric) correctly on `views` rows of
    /// `d` dimensions, with difficult pairs selected on the fly from h of `selection_dh` dimensions (0: they
    /// are not); Err names the limit. Checked before a run or a loss starts: a size a backend cannot compute
    /// correctly is refused, never computed wrong. The CPU backends take any size that fits memory.
    fn check_loss_size(&self, kind: LossKind, views: usize, d: usize, selection_dh: usize) -> crate::Result<()> {
        let _ = (kind, views, d, selection_dh);
        Ok(())
    }

    // ---- layers ----
    /// `pre = x·W + b` (x: n×in, W: in×out, b: 1×out), `out = act(pre)`.
    fn linear_forward(
        &self,
        x: &Self::Tensor,
        w: &Self::Tensor,
        b: &Self::Tensor,
        act: Activation,
    ) -> LinearOut<Self::Tensor>;
    /// Gradients of `pre = x·W + b` given ∂L/∂pre.
    fn linear_backward(
        &self,
        x: &Self::Tensor,
        w: &Self::Tensor,
        d_pre: &Self::Tensor,
        need_dx: bool,
    ) -> LinearGrads<Self::Tensor>;
    /// ∂L/∂pre = ∂L/∂out ⊙ act'(pre).
    fn activation_backward(&self, pre: &Self::Tensor, d_out: &Self::Tensor, act: Activation) -> Self::Tensor;
    /// ẑ = z/‖z‖ per row; returns (ẑ, ‖z‖ as n×1).
    fn normalize_forward(&self, z: &Self::Tensor) -> (Self::Tensor, Self::Tensor);
    /// ∂L/∂z = (I − ẑẑᵀ)·∂L/∂ẑ / ‖z‖ per row.
    fn normalize_backward(&self, zhat: &Self::Tensor, norms: &Self::Tensor, d_zhat: &Self::Tensor) -> Self::Tensor;

    // ---- selection and losses ----
    /// Per-row thresholds (lo_i, hi_i) of docs/math.md §2 on the cosine similarities of h's rows: rows × 2,
    /// rows = 2N (AllViews) or N (CrossView).
    fn select_thresholds(&self, h: &Self::Tensor, layout: PairLayout, pos_high: f32, pos_low: f32) -> Self::Tensor;
    /// The loss of `params.kind` on z (2N × d) and its gradient with respect to z.
    /// `labels` (2N × 1, class ids as f32) is needed by SupCon only.
    fn loss(
        &self,
        params: &LossParams,
        z: &Self::Tensor,
        pairs: &Pairs<'_, Self::Tensor>,
        labels: Option<&Self::Tensor>,
    ) -> LossOut<Self::Tensor>;

    // ---- optimiser ----
    /// Updates `param` in place from `grad`; `m` and `v` are the optimiser's state (same shape as param,
    /// zero at the start; SGD uses `m` as its momentum buffer and leaves `v`).
    fn optimizer_step(
        &self,
        step: &OptimStep,
        param: &mut Self::Tensor,
        grad: &Self::Tensor,
        m: &mut Self::Tensor,
        v: &mut Self::Tensor,
    );

    // ---- metric reductions ----
    /// On z (2N × d, normalised inside): [alignment, uniformity] of docs/math.md §4, i.e.
    /// (1/N) Σ‖ẑ1_i − ẑ2_i‖² and log mean_{i<j} exp(−t‖ẑ1_i − ẑ1_j‖²) over view 1, as a 1×2 tensor.
    fn align_uniform(&self, z: &Self::Tensor, t: f32) -> Self::Tensor;
}
