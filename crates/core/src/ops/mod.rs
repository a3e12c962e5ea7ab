//! The ops' formulas with their gradients, in f64-capable generic code shared by the CPU backend: the losses
//! (docs/math.md §1), row normalisation, and difficult-pair selection (§2). The tuned CPU backend (crate::cpu) and the WGSL
//! kernels (shaders/) are held to them by the parity tests.

pub mod loss;
pub mod normalize;
pub mod selection;
