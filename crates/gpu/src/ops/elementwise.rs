//! Activation backward (shaders/elementwise.wgsl): d_pre = d_out ⊙ act'(pre).

use bytemuck::{Pod, Zeroable};
use spherelab_core::config::Activation;

use crate::codes;
use crate::engine::{Arg, Gpu};
use crate::kernel::{Access, KernelSpec};
use crate::tensor::GpuTensor;

const ACTIVATION_BACKWARD: KernelSpec = KernelSpec {
    family: "elementwise",
    source: include_str!("../../../../shaders/elementwise.wgsl"),
    entry: "activation_backward",
    bindings: &[Access::Read, Access::Read, Access::ReadWrite],
    common: true,
};

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Params {
    len: u32,
    act: u32,
    _pad: [u32; 2],
}

pub fn activation_backward(gpu: &Gpu, pre: &GpuTensor, d_out: &GpuTensor, act: Activation) -> GpuTensor {
    assert_eq!((pre.rows, pre.cols), (d_out.rows, d_out.cols), "activation_backward: shapes differ");
    let out = gpu.alloc(pre.rows, pre.cols);
    let params = Params { len: pre.len() as u32, act: codes::activation(act), _pad: [0; 2] };
    if !pre.is_empty() {
        gpu.launch_threads(&ACTIVATION_BACKWARD, &params, &[Arg::T(pre), Arg::T(d_out), Arg::T(&out)], pre.len());
    }
    out
}
