//! Row normalisation and the spectral clip, forward and backward (shaders/normalize.wgsl).

use bytemuck::{Pod, Zeroable};

use crate::engine::{Arg, Gpu};
use crate::kernel::{Access, KernelSpec};
use crate::tensor::GpuTensor;

const fn spec(entry: &'static str) -> KernelSpec {
    KernelSpec {
        family: "normalize",
        source: include_str!("../../../../shaders/normalize.wgsl"),
        entry,
        bindings: &[Access::Read, Access::Read, Access::Read, Access::ReadWrite, Access::ReadWrite],
        common: true,
    }
}

const FORWARD: KernelSpec = spec("forward");
const BACKWARD: KernelSpec = spec("backward");
const CLIP_FORWARD: KernelSpec = spec("clip_forward");
const CLIP_BACKWARD: KernelSpec = spec("clip_backward");

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Params {
    rows: u32,
    cols: u32,
    sqrt_mu: f32,
    _pad: u32,
}

fn params(t: &GpuTensor, sqrt_mu: f32) -> Params {
    Params { rows: t.rows as u32, cols: t.cols as u32, sqrt_mu, _pad: 0 }
}

/// (ẑ, n×1 norms max(‖z‖, 1e-12)).
pub fn normalize_forward(gpu: &Gpu, z: &GpuTensor) -> (GpuTensor, GpuTensor) {
    let zhat = gpu.alloc(z.rows, z.cols);
    let norms = gpu.alloc(z.rows, 1);
    if z.rows > 0 {
        let args = [Arg::T(z), Arg::Unused, Arg::Unused, Arg::T(&zhat), Arg::T(&norms)];
        gpu.launch_threads(&FORWARD, &params(z, 0.0), &args, z.rows);
    }
    (zhat, norms)
}

/// ∂L/∂z = (g − ẑ(ẑᵀg)) / ‖z‖ per row.
pub fn normalize_backward(gpu: &Gpu, zhat: &GpuTensor, norms: &GpuTensor, g: &GpuTensor) -> GpuTensor {
    let out = gpu.alloc(zhat.rows, zhat.cols);
    if zhat.rows > 0 {
        let args = [Arg::T(zhat), Arg::T(norms), Arg::T(g), Arg::T(&out), Arg::Unused];
        gpu.launch_threads(&BACKWARD, &params(zhat, 0.0), &args, zhat.rows);
    }
    out
}

/// Rows longer than √μ scaled to √μ.
pub fn clip_forward(gpu: &Gpu, z: &GpuTensor, mu: f32) -> GpuTensor {
    let out = gpu.alloc(z.rows, z.cols);
    if z.rows > 0 {
        let args = [Arg::T(z), Arg::Unused, Arg::Unused, Arg::T(&out), Arg::Unused];
        gpu.launch_threads(&CLIP_FORWARD, &params(z, mu.sqrt()), &args, z.rows);
    }
    out
}

/// ∂L/∂z from ∂L/∂clip(z).
pub fn clip_backward(gpu: &Gpu, z: &GpuTensor, g: &GpuTensor, mu: f32) -> GpuTensor {
    let out = gpu.alloc(z.rows, z.cols);
    if z.rows > 0 {
        let args = [Arg::T(z), Arg::Unused, Arg::T(g), Arg::T(&out), Arg::Unused];
        gpu.launch_threads(&CLIP_BACKWARD, &params(z, mu.sqrt()), &args, z.rows);
    }
    out
}
