//! Training: the model's parameters on a backend (`model`), the learning-rate schedule, the trainer and its
//! step, evaluations in pieces, pruned runs, and the `Session` interface the app drives a run through.

pub mod evaluation;
pub mod experiment;
pub mod history;
pub mod model;
pub mod pruning;
pub mod schedule;
pub mod session;
pub mod trainer;
