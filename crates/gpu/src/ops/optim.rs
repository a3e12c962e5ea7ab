//! Optimiser updates (shaders/optim.wgsl), the same rules as crates/core/src/cpu/optim.rs.

use bytemuck::{Pod, Zeroable};
use spherelab_core::backend::OptimStep;

use crate::engine::{Arg, Gpu};
use crate::kernel::{Access, KernelSpec};
use crate::tensor::GpuTensor;

const STEP: KernelSpec = KernelSpec {
    family: "optim",
    source: include_str!("../../../../shaders/optim.wgsl"),
    entry: "update",
    bindings: &[Access::Read, Access::ReadWrite, Access::ReadWrite, Access::ReadWrite],
    common: true,
};

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Params {
    len: u32,
    kind: u32,
    nesterov: u32,
    has_momentum: u32,
    lr: f32,
    momentum: f32,
    wd: f32,
    beta1: f32,
    beta2: f32,
    eps: f32,
    c1: f32,
    c2: f32,
}

/// Updates `param`, `m`, `v` in place from `grad`.
pub fn optimizer_step(gpu: &Gpu, s: &OptimStep, param: &GpuTensor, grad: &GpuTensor, m: &GpuTensor, v: &GpuTensor) {
    assert_eq!(param.len(), grad.len(), "optimizer_step: param and grad differ in size");
    let t = s.t.max(1) as i32;
    // Bias corrections as the f32 CPU backend computes them (powi in f32).
    let c1 = 1.0 - s.beta1.powi(t);
    let c2 = 1.0 - s.beta2.powi(t);
    let params = Params {
        len: param.len() as u32,
        kind: crate::codes::optimizer(s.kind),
        nesterov: s.nesterov as u32,
        has_momentum: (s.momentum > 0.0) as u32,
        lr: s.lr,
        momentum: s.momentum,
        wd: s.weight_decay,
        beta1: s.beta1,
        beta2: s.beta2,
        eps: s.eps,
        c1,
        c2,
    };
    if !param.is_empty() {
        gpu.launch_threads(&STEP, &params, &[Arg::T(grad), Arg::T(param), Arg::T(m), Arg::T(v)], param.len());
    }
}
