//! `Session`: a training run behind an object-safe interface, so a front end can hold one run on whichever
//! backend was usable (`Box<dyn Session>`) without being generic over it.

use crate::backend::{Backend, BackendInfo};
use crate::config::RunConfig;
use crate::data::{Dataset, Split};
use crate::error::Result;
use crate::matrix::Matrix;
use crate::trainer::{BatchInspection, Embeddings, History, MetricRecord, Rebuilt, Trainer};

/// What a front end can do with a run. Mirrors `Trainer`'s public methods.
pub trait Session {
    fn info(&self) -> BackendInfo;
    fn config(&self) -> &RunConfig;
    fn data(&self) -> &Dataset;
    fn split(&self) -> &Split;
    fn active_train(&self) -> &[usize];
    fn step_count(&self) -> usize;
    fn history(&self) -> &History;
    fn step(&mut self) -> Result<()>;
    /// Metrics of the current step, computed now (after any still pending).
    fn evaluate(&mut self) -> Result<MetricRecord>;
    /// Starts the metrics of the current step; `advance_evaluation` computes them piece by piece (a front
    /// end spreads them over frames).
    fn start_evaluation(&mut self) -> Result<()>;
    /// Does one piece of pending metric work. Returns whether work remains.
    fn advance_evaluation(&mut self) -> Result<bool>;
    /// Evaluations started and not yet recorded.
    fn evaluations_pending(&self) -> usize;
    fn collect_losses(&mut self, block: bool) -> Result<()>;
    fn embeddings(&self) -> Embeddings;
    /// The current model on any inputs (rows × dim): (h, output).
    fn forward(&self, x: &[f32]) -> (Matrix<f32>, Matrix<f32>);
    fn inspect_batch(&self) -> Option<BatchInspection>;
    fn reset(&mut self);
    fn set_config(&mut self, config: RunConfig) -> Result<Rebuilt>;
    fn replace_data(&mut self, data: Dataset);
}

impl<B: Backend> Session for Trainer<B> {
    fn info(&self) -> BackendInfo {
        Trainer::info(self)
    }
    fn config(&self) -> &RunConfig {
        Trainer::config(self)
    }
    fn data(&self) -> &Dataset {
        Trainer::data(self)
    }
    fn split(&self) -> &Split {
        Trainer::split(self)
    }
    fn active_train(&self) -> &[usize] {
        Trainer::active_train(self)
    }
    fn step_count(&self) -> usize {
        Trainer::step_count(self)
    }
    fn history(&self) -> &History {
        Trainer::history(self)
    }
    fn step(&mut self) -> Result<()> {
        Trainer::step(self)
    }
    fn evaluate(&mut self) -> Result<MetricRecord> {
        Trainer::evaluate(self)
    }
    fn start_evaluation(&mut self) -> Result<()> {
        Trainer::start_evaluation(self)
    }
    fn advance_evaluation(&mut self) -> Result<bool> {
        Ok(Trainer::advance_evaluation(self))
    }
    fn evaluations_pending(&self) -> usize {
        Trainer::evaluations_pending(self)
    }
    fn collect_losses(&mut self, block: bool) -> Result<()> {
        Trainer::collect_losses(self, block)
    }
    fn embeddings(&self) -> Embeddings {
        Trainer::embeddings(self)
    }
    fn forward(&self, x: &[f32]) -> (Matrix<f32>, Matrix<f32>) {
        Trainer::forward(self, x)
    }
    fn inspect_batch(&self) -> Option<BatchInspection> {
        Trainer::inspect_batch(self)
    }
    fn reset(&mut self) {
        Trainer::reset(self)
    }
    fn set_config(&mut self, config: RunConfig) -> Result<Rebuilt> {
        Trainer::set_config(self, config)
    }
    fn replace_data(&mut self, data: Dataset) {
        Trainer::replace_data(self, data)
    }
}
