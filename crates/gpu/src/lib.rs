//! spherelab-gpu: the WGSL compute engine, `Gpu`, the wgpu implementation of `spherelab_core::Backend`.
//!
//! - `context`: device set-up (native and browser) and the pipeline cache — the one owner of the device.
//! - `kernel`: a kernel = WGSL source + entry point + one ordered binding list (layouts derive from it).
//! - `sizes`: workgroup and tile sizes, substituted into the WGSL.
//! - `pool`: buffers reused by size once the step that used them is submitted.
//! - `engine`: `Gpu` — the pending command encoder (one command buffer per step), launches, read-back.
//! - `ops`: one launcher per kernel family (shaders/*.wgsl).
//! - `backend`: the trait implementation.
//! - `codes`: the u32 codes kernels switch on (activation, loss kind, flag source, optimiser), one list.
//! - `choice`: the one rule for auto / cpu / gpu (the CLI, the desktop app and the browser use it).
//! - `selftest`: the GPU self-test (`spherelab selftest`, `?selftest`).
//!
//! See docs/gpu-engine.md for the kernel list, the tiling scheme and how selection runs without sorting.

mod backend;
pub mod choice;
pub mod codes;
pub mod context;
pub mod engine;
pub mod kernel;
pub mod ops;
pub mod pool;
pub mod selftest;
pub mod sizes;
pub mod tensor;

pub use context::GpuContext;
pub use engine::Gpu;
pub use tensor::GpuTensor;
/// wgpu itself, so callers can name backends and limits without depending on it.
pub use wgpu;
