//! What a run records: each step's loss and the metrics of each evaluation. Its own module so that the
//! trainer and the evaluation (which fills a `MetricRecord`) both depend on it, not on each other.

use serde::Serialize;

/// The loss of one step.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct StepRecord {
    pub step: usize,
    pub loss: f32,
    pub lr: f32,
}

/// Metrics on held-out samples (docs/math.md §4), taken after `step` steps.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MetricRecord {
    pub step: usize,
    /// Mean training loss over the steps since the previous record.
    pub loss: f32,
    pub alignment: f64,
    pub uniformity: f64,
    pub tolerance: f64,
    pub knn_accuracy: f64,
    pub probe_accuracy: f64,
    pub effective_rank: f64,
    /// Fraction of flagged pairs whose labels differ, on the held-out views (None when selection is off).
    pub selection_precision: Option<f64>,
    /// Fraction of candidate pairs flagged, on the held-out views (None when selection is off).
    pub flagged_fraction: Option<f64>,
}

/// Everything recorded so far.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct History {
    pub steps: Vec<StepRecord>,
    pub metrics: Vec<MetricRecord>,
}
