//! spherelab-core: the contrastive-learning engine without a GPU.
//!
//! Data generators and augmentations, the model, the `Backend` trait and its CPU reference implementation,
//! the losses of docs/math.md with their gradients, difficult-pair selection, metrics, optimisers, the trainer,
//! the similarity-graph theory, and run configs.

// Layers, bottom up: the numeric base (error, float, matrix, rng, parallel, tolerance); the backend trait;
// the ops' formulas (ops); the tuned CPU backend (cpu); training; analysis; input and output (io).
pub mod analysis;
pub mod backend;
pub mod bench_cases;
pub mod cpu;
pub mod error;
pub mod float;
pub mod gemm;
pub mod io;
pub mod matrix;
pub mod memory;
pub mod ops;
pub mod parallel;
pub mod rng;
pub mod simd;
#[doc(hidden)]
pub mod testing;
pub mod tolerance;
pub mod training;

// The flat paths every crate uses (spherelab_core::config, ::trainer, …), kept over the folders.
pub use analysis::{difficulty, metrics, stats, theory};
pub use io::{budget, config, data, export, lesson, study, url_state};
pub use ops::{loss, selection};
pub use training::{evaluation, experiment, model, pruning, schedule, session, trainer};

pub use backend::Backend;
pub use config::RunConfig;
pub use cpu::Cpu;
pub use error::{Error, Result};
pub use matrix::Matrix;
pub use session::Session;
pub use trainer::Trainer;
