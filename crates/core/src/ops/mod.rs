//! The ops' formulas with their gradients, in f64-capable generic code shared by the CPU backend: the losses
//! (docs/math.md §1), row normalisation, and difficult-pair selection (§2). The tuned CPU backend (crate::cpu) and the WGSL
//! kernels (shaders/) are held to their plain references (`*::reference`, and `loss::reference` for every
//! loss) by the parity tests.
//!
//! The ops that exist at run time only as tuned CPU code have their plain f64 reference here, each with the
//! test that holds `Cpu<f64>` and `Cpu<f32>` (through the `Backend` trait) to it: the linear layer ([`linear`]),
//! the activations ([`activation`]), the optimiser updates ([`optimizer`], §6) and the metric reductions
//! alignment and uniformity ([`reductions`], §4).

pub mod activation;
pub mod linear;
pub mod loss;
pub mod normalize;
pub mod optimizer;
#[cfg(test)]
pub(crate) mod parity;
pub mod reductions;
pub mod selection;
