//! `spherelab train`: one run from a config file and/or flags, written to a directory of plain files
//! (CSV, TSV, JSON, TOML, PNG) that any tool can read.
//!
//! Precedence: built-in defaults, then `--config FILE`, then flags. The resolved config is written back as
//! DIR/config.toml, so `--config DIR/config.toml` repeats the run exactly (same seed, same bits on the CPU).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::de::DeserializeOwned;
use spherelab_core::backend::BackendInfo;
use spherelab_core::config::{DatasetKind, LossKind, PairMode, RunConfig};
use spherelab_core::data::{Dataset, Split};
use spherelab_core::difficulty::PruneSpec;
use spherelab_core::metrics::{TestSplitScores, test_split_scores};
use spherelab_core::pruning::{self, Pruning};
use spherelab_core::trainer::{Embeddings, History};
use spherelab_core::{Backend, Trainer};

use crate::backend::{BackendChoice, BackendTask, Precision, with_backend};
use crate::{outputs, plots};

#[derive(Args, Debug)]
pub struct TrainArgs {
    /// A run config (.toml or .json); flags given here override its values.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// blobs, moons, rings, spirals, xor, digits, or csv:PATH for your own points.
    #[arg(long, value_name = "NAME|csv:PATH")]
    pub dataset: Option<String>,
    /// infonce, spectral, align-uniform, supcon or dcl.
    #[arg(long)]
    pub loss: Option<String>,
    /// Training steps.
    #[arg(long)]
    pub steps: Option<usize>,
    /// Seed of the data, the initialisation, the batches and the augmentations.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Where to compute: auto (a hardware GPU when usable, never a software renderer, else the CPU), cpu or gpu.
    #[arg(long, value_parser = crate::backend::parse_backend, default_value = "auto")]
    pub backend: BackendChoice,
    /// Precision of the CPU backend (f32 is the runtime default; f64 is the slow reference).
    #[arg(long, value_enum, default_value_t = Precision::F32)]
    pub precision: Precision,
    /// Output directory [default: runs/<dataset>-<loss>-seed<S>].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Skip the PNG plots (they take a moment for large data sets).
    #[arg(long)]
    pub no_plots: bool,
    /// Leave out the most difficult FRACTION of each class's training samples by SCORE (oracle,
    /// supervised-margin, unsupervised-margin or random) and train from the same seed without them. The margin
    /// scores come from a first run of the same config and seed (docs/math.md §3.2).
    #[arg(long, value_name = "SCORE:FRACTION", value_parser = parse_prune)]
    pub prune: Option<PruneSpec>,

    // ---- data ----
    /// Number of samples generated.
    #[arg(long, help_heading = "Data")]
    pub n: Option<usize>,
    /// Number of classes (blobs, rings, spirals).
    #[arg(long, help_heading = "Data")]
    pub classes: Option<usize>,
    /// Standard deviation of the generator's noise.
    #[arg(long, allow_negative_numbers = true, help_heading = "Data")]
    pub noise: Option<f32>,
    /// ω: fraction of samples replaced by a mix of two classes (difficult examples).
    #[arg(long, allow_negative_numbers = true, help_heading = "Data")]
    pub omega: Option<f32>,
    /// Fraction of samples held out for the metrics.
    #[arg(long, allow_negative_numbers = true, help_heading = "Data")]
    pub test_fraction: Option<f32>,

    // ---- augmentation ----
    /// Gaussian jitter of the points, in units of the data's std.
    #[arg(long, allow_negative_numbers = true, help_heading = "Augmentation")]
    pub jitter: Option<f32>,
    /// Maximum rotation of the points, in degrees.
    #[arg(long, allow_negative_numbers = true, help_heading = "Augmentation")]
    pub rotation: Option<f32>,
    /// Maximum relative scaling of the points (0.1 = ×[0.9, 1.1]).
    #[arg(long, allow_negative_numbers = true, help_heading = "Augmentation")]
    pub scale: Option<f32>,

    // ---- model ----
    /// Encoder layer widths, e.g. 64,64,32 (the last is the dimension of h).
    #[arg(long, value_name = "W,W,...", help_heading = "Model")]
    pub encoder: Option<String>,
    /// Projector layer widths, e.g. 32,3 (the last is the embedding dimension), or `none`.
    #[arg(long, value_name = "W,W,...|none", help_heading = "Model")]
    pub projector: Option<String>,
    /// Non-linearity between layers.
    #[arg(long, value_parser = ["identity", "relu", "tanh", "gelu"], help_heading = "Model")]
    pub activation: Option<String>,
    /// Do not ℓ2-normalise the model's output.
    #[arg(long, help_heading = "Model")]
    pub no_normalize: bool,

    // ---- loss ----
    /// Temperature τ > 0 (infonce, supcon, dcl).
    #[arg(long, allow_negative_numbers = true, help_heading = "Loss")]
    pub tau: Option<f32>,
    /// μ > 0 of the spectral loss.
    #[arg(long, allow_negative_numbers = true, help_heading = "Loss")]
    pub mu: Option<f32>,
    /// α of the alignment term (align-uniform).
    #[arg(long, allow_negative_numbers = true, help_heading = "Loss")]
    pub align_alpha: Option<f32>,
    /// t of the uniformity term (align-uniform).
    #[arg(long, allow_negative_numbers = true, help_heading = "Loss")]
    pub unif_t: Option<f32>,

    // ---- selection ----
    /// What flagged (difficult) pairs do: none, removal, margin, temperature or combined.
    #[arg(long, help_heading = "Difficult pairs")]
    pub mode: Option<String>,
    /// posHigh: candidates above the ⌈posHigh·M⌉-th largest similarity count as same-class.
    #[arg(long, allow_negative_numbers = true, help_heading = "Difficult pairs")]
    pub pos_high: Option<f32>,
    /// posLow: candidates below the ⌈posLow·M⌉-th largest count as easy negatives.
    #[arg(long, allow_negative_numbers = true, help_heading = "Difficult pairs")]
    pub pos_low: Option<f32>,
    /// σ: margin on flagged logits (infonce, dcl).
    #[arg(long, allow_negative_numbers = true, help_heading = "Difficult pairs")]
    pub sigma: Option<f32>,
    /// ρ: flagged pairs use temperature ρ·τ (infonce, dcl).
    #[arg(long, allow_negative_numbers = true, help_heading = "Difficult pairs")]
    pub rho: Option<f32>,
    /// m: margin on flagged pairs of the spectral loss.
    #[arg(long, allow_negative_numbers = true, help_heading = "Difficult pairs")]
    pub margin: Option<f32>,
    /// The paper's ablation: apply the modifier to every pair except self and positive.
    #[arg(long, help_heading = "Difficult pairs")]
    pub all_pairs: bool,

    // ---- optimiser ----
    #[arg(long, value_parser = ["sgd", "adam", "adamw"], help_heading = "Optimiser")]
    pub optimizer: Option<String>,
    /// Learning rate.
    #[arg(long, allow_negative_numbers = true, help_heading = "Optimiser")]
    pub lr: Option<f32>,
    /// SGD momentum.
    #[arg(long, allow_negative_numbers = true, help_heading = "Optimiser")]
    pub momentum: Option<f32>,
    #[arg(long, allow_negative_numbers = true, help_heading = "Optimiser")]
    pub weight_decay: Option<f32>,
    /// Learning-rate schedule.
    #[arg(long, value_parser = ["constant", "cosine", "warmup-cosine"], help_heading = "Optimiser")]
    pub schedule: Option<String>,
    /// Steps of linear warm-up (warmup-cosine).
    #[arg(long, help_heading = "Optimiser")]
    pub warmup_steps: Option<usize>,

    // ---- training ----
    /// N: samples per batch (2N views).
    #[arg(long, help_heading = "Training")]
    pub batch_size: Option<usize>,
    /// Compute the metrics every this many steps (and after the last).
    #[arg(long, help_heading = "Training")]
    pub eval_every: Option<usize>,
    /// At most this many held-out samples enter the metrics.
    #[arg(long, help_heading = "Training")]
    pub eval_max_points: Option<usize>,
}

/// clap's parser for `--prune SCORE:FRACTION`.
fn parse_prune(s: &str) -> std::result::Result<PruneSpec, String> {
    s.parse::<PruneSpec>().map_err(|e| e.to_string())
}

/// Reads a config file: JSON for `.json`, TOML otherwise. Errors name the file, the line and the key.
pub fn load_config(path: &Path) -> Result<RunConfig> {
    let text = crate::csvio::read_text(path)?;
    let name = path.display();
    let cfg: RunConfig = if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json")) {
        // serde_json's message already says "at line L column C"; the path prefix says where.
        serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{name}: {e}"))?
    } else {
        toml::from_str(&text).map_err(|e| {
            // toml's message for a wrong type does not name the key, so quote the offending line.
            let line = e.span().map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            let msg = e.message().trim().replace('\n', " ");
            match line {
                Some(l) => {
                    let src = text.lines().nth(l - 1).unwrap_or("").trim();
                    anyhow::anyhow!("{name}:{l}: {msg} (in `{src}`)")
                }
                None => anyhow::anyhow!("{name}: {msg}"),
            }
        })?
    };
    cfg.validate().with_context(|| format!("{name}"))?;
    Ok(cfg)
}

/// Parses a flag's value into one of the config's serde enums (their serde names are the flag values).
fn enum_value<T: DeserializeOwned>(flag: &str, v: &str) -> Result<T> {
    serde_json::from_value(serde_json::Value::String(v.to_string()))
        .map_err(|_| anyhow::anyhow!("--{flag}: '{v}' is not a valid value"))
}

/// Parses "64,64,32" (or "none"/"" for an empty list).
fn widths(flag: &str, v: &str) -> Result<Vec<usize>> {
    let v = v.trim();
    if v.is_empty() || v.eq_ignore_ascii_case("none") {
        return Ok(Vec::new());
    }
    v.split(',')
        .map(|w| match w.trim().parse::<usize>() {
            Ok(x) if x > 0 => Ok(x),
            _ => bail!("--{flag} {v}: '{}' is not a layer width (a whole number ≥ 1)", w.trim()),
        })
        .collect()
}

/// Every float flag must be a finite number (clap accepts "nan" and "inf" as f32). The config's own checks
/// cover ranges, but not every knob has a range (σ, m), and a NaN there would only show up later as a
/// misleading "training diverged".
fn check_finite(a: &TrainArgs) -> Result<()> {
    let flags = [
        ("noise", a.noise),
        ("omega", a.omega),
        ("test-fraction", a.test_fraction),
        ("jitter", a.jitter),
        ("rotation", a.rotation),
        ("scale", a.scale),
        ("tau", a.tau),
        ("mu", a.mu),
        ("align-alpha", a.align_alpha),
        ("unif-t", a.unif_t),
        ("pos-high", a.pos_high),
        ("pos-low", a.pos_low),
        ("sigma", a.sigma),
        ("rho", a.rho),
        ("margin", a.margin),
        ("lr", a.lr),
        ("momentum", a.momentum),
        ("weight-decay", a.weight_decay),
    ];
    for (name, v) in flags {
        if let Some(v) = v.filter(|v| !v.is_finite()) {
            bail!("--{name} {v}: must be a finite number");
        }
    }
    Ok(())
}

/// Defaults, then the config file, then the flags; validated.
pub fn resolve_config(a: &TrainArgs) -> Result<RunConfig> {
    check_finite(a)?;
    let mut c = match &a.config {
        Some(p) => load_config(p)?,
        None => RunConfig::default(),
    };
    if let Some(s) = a.seed {
        c.seed = s;
    }
    if let Some(d) = &a.dataset {
        if let Some(path) = d.strip_prefix("csv:") {
            if path.is_empty() {
                bail!("--dataset csv: needs a path, e.g. --dataset csv:points.csv");
            }
            if !Path::new(path).is_file() {
                let why = if Path::new(path).exists() { "is not a file" } else { "does not exist" };
                bail!("--dataset {d}: '{path}' {why}");
            }
            c.data.dataset = DatasetKind::Csv;
            c.data.csv_path = Some(path.to_string());
        } else {
            c.data.dataset = DatasetKind::parse(d)?;
            if c.data.dataset == DatasetKind::Csv {
                bail!("--dataset csv needs a path: --dataset csv:PATH");
            }
        }
    }
    let d = &mut c.data;
    set(&mut d.n, a.n);
    set(&mut d.classes, a.classes);
    set(&mut d.noise, a.noise);
    set(&mut d.omega, a.omega);
    set(&mut d.test_fraction, a.test_fraction);
    let g = &mut c.augment;
    set(&mut g.jitter, a.jitter);
    set(&mut g.rotation_deg, a.rotation);
    set(&mut g.scale, a.scale);
    let m = &mut c.model;
    if let Some(e) = &a.encoder {
        m.encoder = widths("encoder", e)?;
    }
    if let Some(p) = &a.projector {
        m.projector = widths("projector", p)?;
    }
    if let Some(v) = &a.activation {
        m.activation = enum_value("activation", v)?;
    }
    if a.no_normalize {
        m.normalize = false;
    }
    let l = &mut c.loss;
    if let Some(v) = &a.loss {
        l.kind = LossKind::parse(v)?;
    }
    set(&mut l.tau, a.tau);
    set(&mut l.mu, a.mu);
    set(&mut l.align_alpha, a.align_alpha);
    set(&mut l.unif_t, a.unif_t);
    let s = &mut c.selection;
    if let Some(v) = &a.mode {
        s.mode = PairMode::parse(v)?;
    }
    set(&mut s.pos_high, a.pos_high);
    set(&mut s.pos_low, a.pos_low);
    set(&mut s.sigma, a.sigma);
    set(&mut s.rho, a.rho);
    set(&mut s.margin, a.margin);
    if a.all_pairs {
        s.all_pairs = true;
    }
    let o = &mut c.optimizer;
    if let Some(v) = &a.optimizer {
        o.kind = enum_value("optimizer", v)?;
    }
    set(&mut o.lr, a.lr);
    set(&mut o.momentum, a.momentum);
    set(&mut o.weight_decay, a.weight_decay);
    if let Some(v) = &a.schedule {
        o.schedule = enum_value("schedule", v)?;
    }
    set(&mut o.warmup_steps, a.warmup_steps);
    let t = &mut c.train;
    set(&mut t.steps, a.steps);
    set(&mut t.batch_size, a.batch_size);
    set(&mut t.eval_every, a.eval_every);
    set(&mut t.eval_max_points, a.eval_max_points);
    c.validate()?;
    if c.train.steps == 0 {
        bail!("--steps must be at least 1");
    }
    Ok(c)
}

fn set<T>(field: &mut T, flag: Option<T>) {
    if let Some(v) = flag {
        *field = v;
    }
}

/// Default output directory: runs/<dataset>-<loss>-seed<S>.
fn default_out(c: &RunConfig) -> PathBuf {
    let data = match (&c.data.dataset, &c.data.csv_path) {
        (DatasetKind::Csv, Some(p)) => {
            format!("csv-{}", Path::new(p).file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default())
        }
        (k, _) => k.name().to_string(),
    };
    PathBuf::from("runs").join(format!("{data}-{}-seed{}", c.loss.kind.name(), c.seed))
}

/// What a finished run leaves, independent of the backend it ran on.
pub struct RunResult {
    pub config: RunConfig,
    pub info: BackendInfo,
    pub data: Dataset,
    pub split: Split,
    /// The training samples the run trained on (all of split.train unless pruned).
    pub active_train: Vec<usize>,
    pub pruning: Option<Pruning>,
    pub history: History,
    pub embeddings: Embeddings,
    /// The final model's scores on the clean test split (docs/math.md §3.1): what the study compares.
    pub test_split: TestSplitScores,
    pub seconds: f64,
}

/// One run of `config`, pruned by `prune` when given; `progress` draws a bar on a terminal.
pub struct TrainTask {
    pub config: RunConfig,
    pub prune: Option<PruneSpec>,
    pub progress: bool,
}

impl BackendTask for TrainTask {
    type Output = RunResult;

    fn run<B: Backend>(self, backend: B) -> Result<RunResult> {
        let steps = self.config.train.steps;
        let start = Instant::now();
        let (mut trainer, pruning) = match self.prune {
            Some(spec) => {
                let bar = if self.progress { progress_bar(steps as u64, &backend.info(), "first run") } else { None };
                let (t, p) = pruning::pruned_trainer(backend, self.config, spec, |t| show_progress(&bar, t))?;
                if let Some(bar) = &bar {
                    bar.finish_and_clear();
                }
                (t, Some(p))
            }
            None => (Trainer::new(backend, self.config)?, None),
        };
        let bar = if self.progress { progress_bar(steps as u64, &trainer.info(), "") } else { None };
        let result = trainer.run(steps, |t| show_progress(&bar, t));
        let seconds = start.elapsed().as_secs_f64();
        if let Some(bar) = &bar {
            bar.finish_and_clear();
        }
        result?;
        let embeddings = trainer.embeddings();
        let test_split =
            test_split_scores(trainer.data(), trainer.split(), &embeddings.h, &embeddings.z, trainer.config().seed);
        Ok(RunResult {
            config: trainer.config().clone(),
            info: trainer.info(),
            data: trainer.data().clone(),
            split: trainer.split().clone(),
            active_train: trainer.active_train().to_vec(),
            pruning,
            history: trainer.history().clone(),
            embeddings,
            test_split,
            seconds,
        })
    }
}

fn show_progress<B: Backend>(bar: &Option<ProgressBar>, t: &Trainer<B>) {
    if let Some(bar) = bar {
        bar.set_position(t.step_count() as u64);
        let h = t.history();
        if let Some(m) = h.metrics.last() {
            bar.set_message(format!(
                "loss {:.3} knn {:.2} probe {:.2}",
                h.steps.last().map_or(m.loss, |s| s.loss),
                m.knn_accuracy,
                m.probe_accuracy
            ));
        }
    }
}

/// A progress bar on stderr, only when stderr is a terminal (logs and pipes get the summary line alone).
fn progress_bar(steps: u64, info: &BackendInfo, what: &str) -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::with_draw_target(Some(steps), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template("{prefix} [{bar:20}] {pos}/{len} eta {eta} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    bar.set_style(style);
    bar.set_prefix(if what.is_empty() { info.kind.clone() } else { format!("{} {what}", info.kind) });
    bar.enable_steady_tick(Duration::from_millis(200));
    Some(bar)
}

pub fn run(args: TrainArgs) -> Result<()> {
    let config = resolve_config(&args)?;
    let out = args.out.clone().unwrap_or_else(|| default_out(&config));
    std::fs::create_dir_all(&out).with_context(|| format!("{}: cannot create the output directory", out.display()))?;
    let result = with_backend(args.backend, args.precision, TrainTask { config, prune: args.prune, progress: true })?;
    outputs::write_all(&out, &result)?;
    if !args.no_plots {
        plots::write_all(&out, &result)?;
    }
    crate::emit(&(outputs::summary_line(&out, &result) + "\n"));
    Ok(())
}
