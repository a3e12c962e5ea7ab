//! The GPU self-test: `spherelab selftest` natively and `?selftest` in the browser. Drivers differ (issue 15:
//! lavapipe computed wrong InfoNCE gradients at 4,096 views × 128 until the pairwise kernels chunked their
//! columns), so anyone can check the ops of a training step on their own adapter against the CPU engine in f64,
//! under the tolerance rule of the parity suite (spherelab_core::tolerance), on fresh random inputs: the linear
//! layer forward and backward, an activation's backward, row normalisation, the selection thresholds, the
//! optimiser, every loss (with selected pairs where a loss has them) at 1,100 views, which crosses every tile
//! and column-chunk threshold, and one large InfoNCE (4,096 views × 128 by default).
//!
//! It never blocks: `SelfTest::start` records the GPU work and one asynchronous read-back; `poll` returns the
//! report once the read-back has landed (the browser calls it each frame; `run_blocking` waits, natively).

use spherelab_core::backend::{Backend, LossParams, OptimStep, PairLayout, Pairs, Readback};
use spherelab_core::config::{Activation, LossKind, OptimizerKind, PairMode};
use spherelab_core::rng::{Rng, normal, rng, stream};
use spherelab_core::tolerance::{Comparison, GRAD, Tol, VALUE};
use spherelab_core::{Cpu, Matrix};

use crate::engine::Gpu;
use crate::tensor::GpuTensor;

/// The large InfoNCE case's default shape: issue 15's.
pub const LARGE_VIEWS: usize = 4096;
pub const LARGE_DIM: usize = 128;

/// One op's result against the reference.
#[derive(Clone, Debug)]
pub struct CheckResult {
    pub name: String,
    pub comparison: Comparison,
}

/// Every check, with the adapter it ran on.
#[derive(Clone, Debug)]
pub struct Report {
    pub adapter: String,
    pub checks: Vec<CheckResult>,
}

impl Report {
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.comparison.passed())
    }

    /// The check whose worst element used the largest share of its tolerance.
    pub fn worst(&self) -> Option<&CheckResult> {
        self.checks.iter().max_by(|a, b| a.comparison.worst_ratio().total_cmp(&b.comparison.worst_ratio()))
    }

    /// "PASS"/"FAIL", the adapter and the worst error in one line.
    pub fn summary(&self) -> String {
        let worst = self.worst().map_or(String::from("no checks"), |w| {
            format!("worst: {} at {:.3} of its tolerance", w.name, w.comparison.worst_ratio())
        });
        let failed = self.checks.iter().filter(|c| !c.comparison.passed()).count();
        if failed == 0 {
            format!("GPU self-test PASS on {}: {} checks; {worst}", self.adapter, self.checks.len())
        } else {
            format!("GPU self-test FAIL on {}: {failed} of {} checks failed; {worst}", self.adapter, self.checks.len())
        }
    }

    /// The summary and one line per check.
    pub fn render(&self) -> String {
        let mut s = self.summary();
        s.push('\n');
        for c in &self.checks {
            let verdict = if c.comparison.passed() { "ok  " } else { "FAIL" };
            s.push_str(&format!(
                "  {verdict} {:<48} {:.3} of tolerance  {}\n",
                c.name,
                c.comparison.worst_ratio(),
                if c.comparison.passed() { String::new() } else { c.comparison.describe() }
            ));
        }
        s
    }
}

struct Expected {
    name: String,
    tol: Tol,
    want: Vec<f64>,
}

/// A self-test in flight.
pub struct SelfTest {
    adapter: String,
    expected: Vec<Expected>,
    readback: Readback,
}

type Ref = Cpu<f64>;

/// Records GPU ops and computes their references as the checks are added; the results are read back at once.
struct Recorder<'a> {
    gpu: &'a Gpu,
    rng: Rng,
    got: Vec<GpuTensor>,
    expected: Vec<Expected>,
}

impl Recorder<'_> {
    fn random(&mut self, rows: usize, cols: usize, scale: f64) -> Vec<f32> {
        (0..rows * cols).map(|_| (scale * normal(&mut self.rng)) as f32).collect()
    }

    fn both(&self, rows: usize, cols: usize, data: &[f32]) -> (GpuTensor, Matrix<f64>) {
        (self.gpu.upload(rows, cols, data), Ref::new().upload(rows, cols, data))
    }

    fn expect(&mut self, name: String, tol: Tol, got: GpuTensor, want: Matrix<f64>) {
        self.got.push(got);
        self.expected.push(Expected { name, tol, want: want.data });
    }

    fn layers(&mut self) {
        let (rows, fi, fo) = (200, 33, 70);
        let x = self.random(rows, fi, 1.0);
        let w = self.random(fi, fo, 0.3);
        let b = self.random(1, fo, 0.1);
        let d = self.random(rows, fo, 1.0);
        let (x, xr) = self.both(rows, fi, &x);
        let (w, wr) = self.both(fi, fo, &w);
        let (b, br) = self.both(1, fo, &b);
        let (d, dr) = self.both(rows, fo, &d);
        let got = self.gpu.linear_forward(&x, &w, &b, Activation::Gelu);
        let want = Ref::new().linear_forward(&xr, &wr, &br, Activation::Gelu);
        self.expect(format!("linear forward {rows}×{fi}→{fo} gelu"), VALUE, got.out, want.out);
        let got_act = self.gpu.activation_backward(&got.pre, &d, Activation::Gelu);
        let want_act = Ref::new().activation_backward(&want.pre, &dr, Activation::Gelu);
        self.expect("activation backward gelu".into(), GRAD, got_act, want_act);
        let got = self.gpu.linear_backward(&x, &w, &d, true);
        let want = Ref::new().linear_backward(&xr, &wr, &dr, true);
        if let (Some(g), Some(r)) = (got.dx, want.dx) {
            self.expect("linear backward ∂L/∂x".into(), GRAD, g, r);
        }
        self.expect("linear backward ∂L/∂W".into(), GRAD, got.dw, want.dw);
        self.expect("linear backward ∂L/∂b".into(), GRAD, got.db, want.db);
    }

    fn normalisation_and_selection(&mut self) {
        let (rows, d) = (300, 33);
        let z = self.random(rows, d, 1.0);
        let (z, zr) = self.both(rows, d, &z);
        let (got, _) = self.gpu.normalize_forward(&z);
        let (want, _) = Ref::new().normalize_forward(&zr);
        self.expect(format!("row normalisation {rows}×{d}"), VALUE, got, want);
        let h = self.random(rows, 5, 1.0);
        let (h, hr) = self.both(rows, 5, &h);
        let got = self.gpu.select_thresholds(&h, PairLayout::AllViews, 0.25, 0.6);
        let want = Ref::new().select_thresholds(&hr, PairLayout::AllViews, 0.25, 0.6);
        self.expect(
            "selection thresholds (posHigh 0.25, posLow 0.6)".into(),
            Tol { rtol: 0.0, atol_frac: 1e-5 },
            got,
            want,
        );
    }

    fn optimiser(&mut self) {
        let (rows, cols) = (33, 17);
        let p0 = self.random(rows, cols, 1.0);
        let g0 = self.random(rows, cols, 1.0);
        let step = OptimStep {
            kind: OptimizerKind::Adamw,
            lr: 0.05,
            momentum: 0.9,
            nesterov: false,
            weight_decay: 0.1,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            t: 1,
        };
        let (mut p, mut pr) = self.both(rows, cols, &p0);
        let (g, gr) = self.both(rows, cols, &g0);
        let (mut m, mut v) = (self.gpu.zeros(rows, cols), self.gpu.zeros(rows, cols));
        let (mut mr, mut vr) = (Matrix::zeros(rows, cols), Matrix::zeros(rows, cols));
        self.gpu.optimizer_step(&step, &mut p, &g, &mut m, &mut v);
        Ref::new().optimizer_step(&step, &mut pr, &gr, &mut mr, &mut vr);
        self.expect("AdamW step".into(), VALUE, p, pr);
    }

    fn loss(&mut self, kind: LossKind, mode: PairMode, views: usize, d: usize) {
        let p = loss_params(kind, mode);
        let z = self.random(views, d, 0.6);
        let (z, zr) = self.both(views, d, &z);
        let labels: Vec<f32> = (0..views).map(|i| ((i % (views / 2)) % 3) as f32).collect();
        let (labels, labels_r) = self.both(views, 1, &labels);
        let h = self.random(views, 5, 1.0);
        let (h, hr) = self.both(views, 5, &h);
        let selected = mode != PairMode::None && kind != LossKind::Supcon && kind != LossKind::AlignUniform;
        let thresholds = selected.then(|| {
            (
                self.gpu.select_thresholds(&h, p.layout(), 0.2, 0.7),
                Ref::new().select_thresholds(&hr, p.layout(), 0.2, 0.7),
            )
        });
        let (pairs, pairs_r) = match &thresholds {
            Some((t, tr)) => (Pairs::Selected { h: &h, thresholds: t }, Pairs::Selected { h: &hr, thresholds: tr }),
            None => (Pairs::None, Pairs::None),
        };
        let supcon = kind == LossKind::Supcon;
        let got = self.gpu.loss(&p, &z, &pairs, supcon.then_some(&labels));
        let want = Ref::new().loss(&p, &zr, &pairs_r, supcon.then_some(&labels_r));
        let name = format!("{} {} {views}×{d}", kind.name(), mode.name());
        self.expect(format!("{name} value"), VALUE, got.value, want.value);
        self.expect(format!("{name} gradient"), GRAD, got.grad, want.grad);
    }
}

/// The hyper-parameters every parity check of a loss uses (here and in the GPU test suites): a τ, σ, ρ and
/// margin away from their neutral values, so every term of each formula counts.
pub fn loss_params(kind: LossKind, mode: PairMode) -> LossParams {
    LossParams {
        kind,
        tau: 0.3,
        mu: 1.5,
        align_alpha: 2.0,
        unif_t: 2.0,
        w_align: 1.0,
        w_unif: 1.0,
        mode,
        sigma: 0.1,
        rho: 0.7,
        margin: 0.2,
    }
}

impl SelfTest {
    /// Records every check on `gpu` (the large InfoNCE at `large_views` × `large_d`, and with `wide` the
    /// InfoNCE on 512 views × 2,048 that trips a driver's loop limit) and starts the read-back. The CPU
    /// references are computed here, synchronously (a few seconds for the large case).
    pub fn start(gpu: &Gpu, large_views: usize, large_d: usize, wide: bool) -> Result<Self, String> {
        gpu.check_loss_size(LossKind::Infonce, large_views, large_d, 0).map_err(|e| e.to_string())?;
        let mut rec = Recorder { gpu, rng: rng(2026, stream::TEST), got: Vec::new(), expected: Vec::new() };
        rec.layers();
        rec.normalisation_and_selection();
        rec.optimiser();
        for (kind, mode) in [
            (LossKind::Infonce, PairMode::None),
            (LossKind::Infonce, PairMode::Combined),
            (LossKind::Dcl, PairMode::Removal),
            (LossKind::Supcon, PairMode::None),
            (LossKind::Spectral, PairMode::Margin),
            (LossKind::AlignUniform, PairMode::None),
        ] {
            rec.loss(kind, mode, 1100, 20);
        }
        rec.loss(LossKind::Infonce, PairMode::None, large_views, large_d);
        // Wide embeddings: one invocation loops ~70,000 times over a 512-column chunk (fewer where the adapter's
        // loop limit is known), catching a driver that ends long loops early as llvmpipe does
        // (docs/gpu-large-batch.md). ~7 G multiply-adds (the dimension slices recompute the dot products):
        // 2–3 minutes on a software adapter.
        if wide {
            rec.loss(LossKind::Infonce, PairMode::None, 512, 2048);
        }
        let refs: Vec<&GpuTensor> = rec.got.iter().collect();
        let readback = gpu.read_async_tensors(&refs);
        Ok(Self { adapter: gpu.context().adapter.clone(), expected: rec.expected, readback })
    }

    /// The report once the GPU's results are back (None while they are not; Err if the read-back failed).
    pub fn poll(&mut self, gpu: &Gpu) -> Option<Result<Report, String>> {
        gpu.poll_device();
        let values = self.readback.try_take()?;
        Some(values.map(|values| {
            Report {
                adapter: self.adapter.clone(),
                checks: self
                    .expected
                    .iter()
                    .zip(values)
                    .map(|(e, got)| {
                        let got: Vec<f64> = got.into_iter().map(f64::from).collect();
                        CheckResult { name: e.name.clone(), comparison: e.tol.compare(&got, &e.want) }
                    })
                    .collect(),
            }
        }))
    }

    /// Starts and waits for the report (native).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn run_blocking(gpu: &Gpu, large_views: usize, large_d: usize, wide: bool) -> Result<Report, String> {
        let mut t = Self::start(gpu, large_views, large_d, wide)?;
        loop {
            let _ = gpu.context().device.poll(wgpu::PollType::wait_indefinitely());
            if let Some(r) = t.poll(gpu) {
                return r;
            }
        }
    }
}
