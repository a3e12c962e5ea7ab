//! spherelab-core: the contrastive-learning engine without a GPU.
//!
//! Data generators and augmentations, the model, the `Backend` trait and its CPU reference implementation,
//! the losses of docs/math.md with their gradients, difficult-pair selection, metrics, optimisers, the trainer,
//! the similarity-graph theory, and run configs.

pub mod backend;
pub mod bench_cases;
pub mod config;
pub mod cpu;
pub mod data;
pub mod difficulty;
pub mod error;
pub mod evaluation;
pub mod export;
pub mod float;
pub mod loss;
pub mod matrix;
pub mod metrics;
pub mod model;
pub mod parallel;
pub mod rng;
pub mod schedule;
pub mod selection;
pub mod session;
pub mod share;
#[doc(hidden)]
pub mod testing;
pub mod theory;
pub mod tolerance;
pub mod trainer;

pub use backend::Backend;
pub use config::RunConfig;
pub use cpu::Cpu;
pub use error::{Error, Result};
pub use matrix::Matrix;
pub use session::Session;
pub use trainer::Trainer;
