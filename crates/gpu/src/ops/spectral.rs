//! Spectral contrastive loss in cross-view tiles (shaders/spectral.wgsl): clip → cross (view 1 rows, then
//! view 2 rows), each over column chunks → sum of the chunks' gradients → finish, then the clip's backward.

use bytemuck::{Pod, Zeroable};
use spherelab_core::backend::{LossOut, LossParams};
use spherelab_core::config::PairMode;

use super::normalize::{clip_backward, clip_forward};
use crate::engine::{Arg, Gpu};
use crate::kernel::{Access, KernelSpec};
use crate::ops::{ColumnChunks, FlagSource, column_chunks, loop_budget, max_col_chunk};
use crate::sizes::{PAIR_ACC, PAIR_TILE};
use crate::tensor::GpuTensor;

const fn spec(entry: &'static str) -> KernelSpec {
    KernelSpec {
        family: "spectral",
        source: include_str!("../../../../shaders/spectral.wgsl"),
        entry,
        bindings: &[
            Access::Read,      // 1 w
            Access::Read,      // 2 hhat
            Access::Read,      // 3 thr
            Access::Read,      // 4 bits
            Access::ReadWrite, // 5 partial
            Access::ReadWrite, // 6 grad
            Access::ReadWrite, // 7 out
        ],
        common: true,
    }
}

const CROSS: KernelSpec = spec("cross_view");
const SUM_GRAD: KernelSpec = spec("sum_grad");
const FINISH: KernelSpec = spec("finish");

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Params {
    n: u32,
    d: u32,
    dh: u32,
    role: u32,
    pairs: u32,
    removal: u32,
    col_chunk: u32,
    chunks: u32,
    mu: f32,
    margin: f32,
    _pad1: [f32; 2],
}

/// Whether the spectral kernels accept `rows` = 2N views of `d` dimensions, with flags selected on the fly
/// from h of `dh` dimensions (0: not), on this device (Err: the message).
pub fn check_size(gpu: &Gpu, rows: usize, d: usize, dh: usize) -> Result<ColumnChunks, String> {
    let max_binding = gpu.context().device.limits().max_storage_buffer_binding_size;
    column_chunks(rows / 2, rows, d, 4, max_binding, max_col_chunk(d, dh, loop_budget(gpu)))
        .map_err(|e| format!("spectral loss: {e}"))
}

pub fn loss(gpu: &Gpu, p: &LossParams, z: &GpuTensor, flags: &FlagSource<'_>) -> LossOut<GpuTensor> {
    assert!(z.rows >= 4 && z.rows.is_multiple_of(2), "spectral loss: z must hold 2N ≥ 4 views, has {} rows", z.rows);
    let n = z.rows / 2;
    let split = check_size(gpu, z.rows, z.cols, flags.dh()).unwrap_or_else(|e| panic!("{e}"));
    let chunks = split.chunks as usize;
    let w = clip_forward(gpu, z, p.mu);
    let partial = gpu.scratch(n * chunks);
    let gw = gpu.alloc_capacity(z.rows, z.cols, chunks * z.rows * z.cols);
    let value = gpu.alloc(1, 1);
    let (hhat, thr, bits) = flags.args();
    let mut params = Params {
        n: n as u32,
        d: z.cols as u32,
        dh: flags.dh() as u32,
        role: 0,
        pairs: flags.code(),
        removal: (p.mode == PairMode::Removal) as u32,
        col_chunk: split.col_chunk,
        chunks: split.chunks,
        mu: p.mu,
        margin: p.effective_margin(),
        _pad1: [0.0; 2],
    };
    let args = [Arg::T(&w), hhat, thr, bits, Arg::Buf(partial.buffer()), Arg::T(&gw), Arg::T(&value)];
    let groups = ((n as u32).div_ceil(PAIR_TILE), (z.cols as u32).div_ceil(PAIR_TILE * PAIR_ACC), split.chunks);
    gpu.launch(&CROSS, &params, &args, groups);
    params.role = 1;
    gpu.launch(&CROSS, &params, &args, groups);
    gpu.launch_threads(&SUM_GRAD, &params, &args, z.rows * z.cols);
    gpu.launch(&FINISH, &params, &args, (1, 1, 1));
    let grad = clip_backward(gpu, z, &gw, p.mu);
    LossOut { value, grad }
}
