//! `spherelab loss`: evaluates one loss and its gradient on embeddings given in files, so anyone can check
//! their own implementation against ours.
//!
//! Conventions (also in docs/cli.md):
//! - A.csv and B.csv hold the two views, N rows × d each; row i of A pairs with row i of B.
//! - The loss sees z = vstack(A, B), 2N × d: view rows 0..N are A, rows N..2N are B, so row i's positive
//!   partner is (i + N) mod 2N. Values are used as given: the losses that normalise (InfoNCE, SupCon, DCL,
//!   align-uniform) do so themselves, and the spectral loss clips norms above √μ as its authors' code does.
//! - The gradient is ∂L/∂z for z as given (before any normalisation the loss applies): grad_a is rows
//!   0..N, grad_b rows N..2N.
//! - L.csv holds N labels (SupCon); view rows i and i + N both get label i.
//! - P.csv is a 0/1 flag matrix: 2N × 2N over the views (A then B) for InfoNCE/DCL, N × N (A-row i against
//!   B-row k) for spectral. Diagonal and positive entries are ignored.
//! - By default the CPU computes in f64 (`--precision f32` to compare with an f32 implementation).

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Args;
use serde::Serialize;
use spherelab_core::backend::{LossParams, Pairs};
use spherelab_core::config::{LossKind, PairMode, RunConfig};
use spherelab_core::{Backend, Matrix};

use crate::backend::{BackendChoice, BackendTask, Precision, with_backend};
use crate::csvio::{self, Table};

#[derive(Args, Debug)]
pub struct LossArgs {
    /// infonce, spectral, align-uniform, supcon or dcl.
    #[arg(value_name = "LOSS")]
    pub loss: String,
    /// View 1: N rows × d (CSV; commas or whitespace; an all-text header line is skipped).
    #[arg(long, value_name = "A.csv")]
    pub a: PathBuf,
    /// View 2: N rows × d; row i pairs with row i of A.
    #[arg(long, value_name = "B.csv")]
    pub b: PathBuf,
    /// N class labels (non-negative integers), for supcon.
    #[arg(long, value_name = "L.csv")]
    pub labels: Option<PathBuf>,
    /// 0/1 pair flags: 2N×2N (infonce, dcl; views ordered A then B) or N×N (spectral).
    #[arg(long, value_name = "P.csv")]
    pub pairs: Option<PathBuf>,
    /// What flagged pairs do: none, removal, margin, temperature or combined.
    #[arg(long, default_value = "none")]
    pub mode: String,
    /// Temperature τ > 0 (infonce, supcon, dcl).
    #[arg(long, allow_negative_numbers = true)]
    pub tau: Option<f32>,
    /// Margin σ on flagged logits (infonce, dcl; margin and combined modes).
    #[arg(long, allow_negative_numbers = true)]
    pub sigma: Option<f32>,
    /// Temperature factor ρ on flagged pairs (infonce, dcl; temperature and combined modes).
    #[arg(long, allow_negative_numbers = true)]
    pub rho: Option<f32>,
    /// μ > 0 of the spectral loss.
    #[arg(long, allow_negative_numbers = true)]
    pub mu: Option<f32>,
    /// Margin m on flagged pairs of the spectral loss (margin and combined modes).
    #[arg(long, allow_negative_numbers = true)]
    pub margin: Option<f32>,
    /// α of the alignment term ‖ẑ1 − ẑ2‖^α (align-uniform).
    #[arg(long, allow_negative_numbers = true)]
    pub align_alpha: Option<f32>,
    /// t of the uniformity term (align-uniform).
    #[arg(long, allow_negative_numbers = true)]
    pub unif_t: Option<f32>,
    /// Weight of the alignment term (align-uniform).
    #[arg(long, allow_negative_numbers = true)]
    pub w_align: Option<f32>,
    /// Weight of the uniformity term (align-uniform).
    #[arg(long, allow_negative_numbers = true)]
    pub w_unif: Option<f32>,
    /// Where to compute. Default cpu: this command is for checking values, and the CPU is the reference.
    #[arg(long, value_parser = crate::backend::parse_backend, default_value = "cpu")]
    pub backend: BackendChoice,
    /// Precision of the CPU computation.
    #[arg(long, value_enum, default_value_t = Precision::F64)]
    pub precision: Precision,
    /// Print {"loss": x, "grad_a": [[…]], "grad_b": [[…]]} instead of the loss alone.
    #[arg(long)]
    pub json: bool,
}

/// Everything read and checked, ready for a backend.
struct LossInput {
    params: LossParams,
    n: usize,
    d: usize,
    /// 2N × d, A then B.
    z: Vec<f64>,
    /// Per-view labels (2N), for SupCon.
    labels: Option<Vec<usize>>,
    flags: Option<Table>,
}

#[derive(Serialize)]
struct LossOutput {
    loss: f64,
    grad_a: Vec<Vec<f64>>,
    grad_b: Vec<Vec<f64>>,
}

impl BackendTask for &LossInput {
    type Output = LossOutput;

    fn run<B: Backend>(self, b: B) -> Result<LossOutput> {
        let (n, d) = (self.n, self.d);
        // Flags come from --pairs here, never selected on the fly.
        b.check_loss_size(self.params.kind, 2 * n, d, 0)?;
        let z = b.upload_f64(2 * n, d, &self.z);
        let flags = self.flags.as_ref().map(|t| b.upload_f64(t.rows, t.cols, &t.data));
        let pairs = match &flags {
            Some(f) => Pairs::Explicit(f),
            None => Pairs::None,
        };
        let labels = self.labels.as_ref().map(|l| {
            let v: Vec<f32> = l.iter().map(|&y| y as f32).collect();
            b.upload(v.len(), 1, &v)
        });
        let out = b.loss(&self.params, &z, &pairs, labels.as_ref());
        let loss = b.download_f64(&out.value)[0];
        let grad = Matrix::from_vec(2 * n, d, b.download_f64(&out.grad));
        let rows = |r: std::ops::Range<usize>| r.map(|i| grad.row(i).to_vec()).collect();
        Ok(LossOutput { loss, grad_a: rows(0..n), grad_b: rows(n..2 * n) })
    }
}

fn positive(name: &str, v: f32) -> Result<f32> {
    if !(v > 0.0 && v.is_finite()) {
        bail!("--{name} = {v} must be > 0");
    }
    Ok(v)
}

fn finite(name: &str, v: f32) -> Result<f32> {
    if !v.is_finite() {
        bail!("--{name} = {v} must be a finite number");
    }
    Ok(v)
}

/// Reads and checks the files and flags: every problem a user can cause is found here, before computing.
fn prepare(args: &LossArgs) -> Result<LossInput> {
    let kind = LossKind::parse(&args.loss)?;
    let mode = PairMode::parse(&args.mode)?;
    let defaults = RunConfig::default();
    let (dl, ds) = (&defaults.loss, &defaults.selection);
    let params = LossParams {
        kind,
        tau: positive("tau", args.tau.unwrap_or(dl.tau))?,
        mu: positive("mu", args.mu.unwrap_or(dl.mu))?,
        align_alpha: positive("align-alpha", args.align_alpha.unwrap_or(dl.align_alpha))?,
        unif_t: positive("unif-t", args.unif_t.unwrap_or(dl.unif_t))?,
        w_align: finite("w-align", args.w_align.unwrap_or(dl.w_align))?,
        w_unif: finite("w-unif", args.w_unif.unwrap_or(dl.w_unif))?,
        mode,
        sigma: finite("sigma", args.sigma.unwrap_or(ds.sigma))?,
        rho: positive("rho", args.rho.unwrap_or(ds.rho))?,
        margin: finite("margin", args.margin.unwrap_or(ds.margin))?,
    };

    let a = csvio::read_table(&args.a)?;
    let b = csvio::read_table(&args.b)?;
    if (a.rows, a.cols) != (b.rows, b.cols) {
        bail!(
            "{} is {}×{} but {} is {}×{}: the two views need the same shape (row i of A pairs with row i of B)",
            args.a.display(),
            a.rows,
            a.cols,
            args.b.display(),
            b.rows,
            b.cols
        );
    }
    let (n, d) = (a.rows, a.cols);
    if n < 2 {
        bail!(
            "{}: {n} row(s): a batch needs at least 2 samples (every loss contrasts a sample with others)",
            args.a.display()
        );
    }

    if kind != LossKind::Spectral {
        // The other losses work on directions z/‖z‖, which a zero row does not have.
        for (t, path) in [(&a, &args.a), (&b, &args.b)] {
            if let Some(r) = (0..n).find(|&r| t.row(r).iter().all(|&v| v == 0.0)) {
                bail!(
                    "{}: data row {} is all zeros: {} normalises rows, and a zero row has no direction",
                    path.display(),
                    r + 1,
                    kind.name()
                );
            }
        }
    }

    if mode != PairMode::None && !kind.supports_selection() {
        bail!(
            "--mode {} does not apply to {}: pair modifiers work with infonce, dcl and spectral",
            mode.name(),
            kind.name()
        );
    }
    if kind == LossKind::Spectral && matches!(mode, PairMode::Temperature | PairMode::Combined) {
        bail!("--mode {} does not apply to spectral (it has no temperature): use removal or margin", mode.name());
    }
    let flags = match (&args.pairs, mode) {
        (None, PairMode::None) => None,
        (None, _) => bail!("--mode {} needs --pairs P.csv: the 0/1 matrix of flagged (difficult) pairs", mode.name()),
        (Some(p), PairMode::None) => bail!(
            "--pairs {} is given but --mode is none: say what flagged pairs do (removal, margin, temperature, combined)",
            p.display()
        ),
        (Some(p), _) => {
            let t = csvio::read_flags(p)?;
            let want = if kind == LossKind::Spectral { n } else { 2 * n };
            if (t.rows, t.cols) != (want, want) {
                let layout = if kind == LossKind::Spectral {
                    "N×N for spectral (A-row i against B-row k)"
                } else {
                    "2N×2N for infonce and dcl (views ordered A then B)"
                };
                bail!("{} is {}×{} but must be {want}×{want} for N = {n}: {layout}", p.display(), t.rows, t.cols);
            }
            Some(t)
        }
    };

    let labels = match (&args.labels, kind) {
        (Some(p), _) => {
            let l = csvio::read_labels(p)?;
            if l.len() != n {
                bail!("{} holds {} labels but A and B have {n} rows: give one label per sample", p.display(), l.len());
            }
            if kind != LossKind::Supcon {
                crate::backend::notice(&format!("--labels is used by supcon only; {} ignores it", kind.name()));
                None
            } else {
                // Both views of sample i carry its label.
                Some(l.iter().chain(&l).copied().collect())
            }
        }
        (None, LossKind::Supcon) => bail!("supcon needs --labels L.csv: N class labels, one per sample"),
        (None, _) => None,
    };

    let mut z = a.data;
    z.extend_from_slice(&b.data);
    Ok(LossInput { params, n, d, z, labels, flags })
}

pub fn run(args: LossArgs) -> Result<()> {
    let input = prepare(&args)?;
    let out = with_backend(args.backend, args.precision, &input)?;
    if !out.loss.is_finite() {
        bail!("the loss is {} on these inputs: check A and B for extreme values", out.loss);
    }
    if args.json {
        crate::emit(&(serde_json::to_string(&out)? + "\n"));
    } else {
        crate::emit(&format!("{}\n", out.loss));
    }
    Ok(())
}
