//! The files a training run leaves in its output directory:
//! - metrics.csv: one row per metric record (held-out metrics every `eval_every` steps);
//! - losses.csv: every step's training loss and learning rate;
//! - embeddings.tsv + metadata.tsv: the final embedding of every sample in the TensorFlow Embedding
//!   Projector's format (vectors: tab-separated, no header; metadata: a header row, then one row per sample);
//! - summary.json: the final metrics, the backend, timings, what was pruned (`--prune`) and the config;
//! - config.toml: the resolved config, loadable with `--config`.

use std::path::Path;

use anyhow::{Context, Result};
use serde::Serialize;
use spherelab_core::metrics::TestSplitScores;
use spherelab_core::trainer::MetricRecord;
use spherelab_core::{RunConfig, export};

use crate::train::RunResult;

fn write(dir: &Path, name: &str, text: &str) -> Result<()> {
    let path = dir.join(name);
    std::fs::write(&path, text).with_context(|| format!("{}: cannot write", path.display()))
}

/// summary.json. A struct rather than `json!` so that keys keep this order (most useful first) and f32
/// values print in their shortest form (0.3, not 0.30000001192092896).
#[derive(Serialize)]
struct Summary<'a> {
    /// The last metric record: loss (mean training loss since the previous record), alignment, uniformity,
    /// tolerance, knn_accuracy, probe_accuracy, effective_rank, selection_precision, flagged_fraction.
    #[serde(rename = "final")]
    last: Option<&'a MetricRecord>,
    /// The final model on the whole clean test split: probe and kNN accuracy on h and on z, α̂ β̂ γ̂ on the
    /// training split's h (docs/math.md §3.1).
    test_split: &'a TestSplitScores,
    final_step_loss: Option<f32>,
    steps: usize,
    seconds: f64,
    steps_per_second: f64,
    backend: BackendSummary<'a>,
    dataset: DatasetSummary<'a>,
    embedding_dim: usize,
    /// Present when the run was pruned (`--prune`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pruning: Option<PruningSummary>,
    config: &'a RunConfig,
}

/// What `--prune SCORE:FRACTION` removed (docs/math.md §3.2).
#[derive(Serialize)]
struct PruningSummary {
    score: &'static str,
    fraction: f64,
    /// Training samples before pruning, and how many were left out.
    train_before: usize,
    pruned: usize,
    /// The fraction of the pruned samples that are difficult by the ground truth (mixed or boundary).
    precision: Option<f64>,
}

#[derive(Serialize)]
struct BackendSummary<'a> {
    kind: &'a str,
    adapter: &'a str,
}

#[derive(Serialize)]
struct DatasetSummary<'a> {
    name: &'a str,
    samples: usize,
    dim: usize,
    classes: usize,
    difficult: usize,
    train: usize,
    /// Difficult samples (mixed or boundary) in the training split: the n_d of the theory (docs/math.md §5).
    train_difficult: usize,
    test: usize,
}

fn steps_per_second(steps: usize, seconds: f64) -> f64 {
    if seconds > 0.0 { steps as f64 / seconds } else { 0.0 }
}

pub fn summary_json(r: &RunResult) -> Result<String> {
    let steps = r.history.steps.last().map_or(0, |s| s.step);
    let summary = Summary {
        last: r.history.metrics.last(),
        test_split: &r.test_split,
        final_step_loss: r.history.steps.last().map(|s| s.loss),
        steps,
        seconds: r.seconds,
        steps_per_second: steps_per_second(steps, r.seconds),
        backend: BackendSummary { kind: &r.info.kind, adapter: &r.info.adapter },
        dataset: DatasetSummary {
            name: &r.data.name,
            samples: r.data.len(),
            dim: r.data.dim,
            classes: r.data.classes,
            difficult: (0..r.data.len()).filter(|&i| r.data.difficult(i)).count(),
            train: r.split.train.len(),
            train_difficult: r.split.train.iter().filter(|&&i| r.data.difficult(i)).count(),
            test: r.split.test.len(),
        },
        embedding_dim: r.embeddings.z.cols,
        pruning: r.pruning.as_ref().map(|p| PruningSummary {
            score: p.spec.score.name(),
            fraction: p.spec.fraction,
            train_before: p.train_before,
            pruned: p.excluded.len(),
            precision: p.precision,
        }),
        config: &r.config,
    };
    Ok(serde_json::to_string_pretty(&summary)? + "\n")
}

pub fn write_all(dir: &Path, r: &RunResult) -> Result<()> {
    write(dir, "metrics.csv", &export::metrics_csv(&r.history))?;
    write(dir, "losses.csv", &export::losses_csv(&r.history))?;
    write(dir, "embeddings.tsv", &export::embeddings_tsv(&r.embeddings.z))?;
    write(dir, "metadata.tsv", &export::metadata_tsv(&r.data, &r.split, &r.active_train))?;
    write(dir, "config.toml", &r.config.to_toml())?;
    // Last, and by rename: a study counts a run as finished when its summary.json exists.
    write(dir, "summary.json.partial", &summary_json(r)?)?;
    let (from, to) = (dir.join("summary.json.partial"), dir.join("summary.json"));
    std::fs::rename(&from, &to).with_context(|| format!("{}: cannot write", to.display()))
}

/// The one line printed when a run ends.
pub fn summary_line(dir: &Path, r: &RunResult) -> String {
    let steps = r.history.steps.last().map_or(0, |s| s.step);
    let m = r.history.metrics.last();
    let f = |v: Option<f64>| v.map_or("-".to_string(), |x| format!("{x:.3}"));
    format!(
        "{} {} on {}: {steps} steps in {:.1}s ({:.0} steps/s), loss {}, align {}, unif {}, knn {}, probe {} → {}",
        r.data.name,
        r.config.loss.kind.name(),
        r.info.kind,
        r.seconds,
        steps_per_second(steps, r.seconds),
        f(m.map(|m| m.loss as f64)),
        f(m.map(|m| m.alignment)),
        f(m.map(|m| m.uniformity)),
        f(m.map(|m| m.knn_accuracy)),
        f(m.map(|m| m.probe_accuracy)),
        dir.display()
    )
}
