//! InfoNCE, DCL, SupCon and alignment + uniformity in similarity tiles (shaders/contrastive.wgsl):
//! row stats (online log-sum-exp) per column chunk → merge → finish (value) → row gradient per column chunk →
//! sum of the chunks, then normalize backward.

use bytemuck::{Pod, Zeroable};
use spherelab_core::backend::{LossOut, LossParams};
use spherelab_core::config::{LossKind, PairMode};

use super::normalize::{normalize_backward, normalize_forward};
use crate::codes;
use crate::engine::{Arg, Gpu};
use crate::kernel::{Access, KernelSpec};
use crate::ops::{ColumnChunks, FlagSource, column_chunks, loop_budget, max_col_chunk};
use crate::sizes::{PAIR_ACC, PAIR_COL_CHUNK, PAIR_TILE};
use crate::tensor::GpuTensor;

const fn spec(entry: &'static str) -> KernelSpec {
    KernelSpec {
        family: "contrastive",
        source: include_str!("../../../../shaders/contrastive.wgsl"),
        entry,
        bindings: &[
            Access::Read,      // 1 zhat
            Access::Read,      // 2 hhat
            Access::Read,      // 3 thr
            Access::Read,      // 4 bits
            Access::Read,      // 5 labels
            Access::ReadWrite, // 6 stats
            Access::ReadWrite, // 7 out
            Access::ReadWrite, // 8 grad
        ],
        common: true,
    }
}

const ROW_STATS: KernelSpec = spec("row_stats");
const MERGE_STATS: KernelSpec = spec("merge_stats");
const FINISH: KernelSpec = spec("finish");
const ROW_GRAD: KernelSpec = spec("row_grad");
const SUM_GRAD: KernelSpec = spec("sum_grad");

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Params {
    rows: u32,
    n: u32,
    d: u32,
    dh: u32,
    kind: u32,
    pairs: u32,
    removal: u32,
    metric: u32,
    tau: f32,
    sigma: f32,
    rho: f32,
    t: f32,
    alpha: f32,
    w_align: f32,
    w_unif: f32,
    _pad: f32,
    col_chunk: u32,
    chunks: u32,
    _pad1: u32,
    _pad2: u32,
}

/// Whether the loss kernels accept `rows` views of `d` dimensions, with flags selected on the fly from h of
/// `dh` dimensions (0: not), on this device (Err: the message to show).
pub fn check_size(gpu: &Gpu, rows: usize, d: usize, dh: usize) -> Result<ColumnChunks, String> {
    let max_binding = gpu.context().device.limits().max_storage_buffer_binding_size;
    column_chunks(rows, rows, d, 16, max_binding, max_col_chunk(d, dh, loop_budget(gpu)))
        .map_err(|e| format!("{} loss: {e}", "InfoNCE/DCL/SupCon/align-uniform"))
}

/// Runs the three passes on ẑ; returns (the 8-value output tensor, ∂L/∂ẑ if `want_grad`).
fn run(
    gpu: &Gpu,
    params: &Params,
    zhat: &GpuTensor,
    flags: &FlagSource<'_>,
    labels: Option<&GpuTensor>,
    want_grad: bool,
) -> (GpuTensor, Option<GpuTensor>) {
    let rows = zhat.rows;
    let split = check_size(gpu, rows, zhat.cols, flags.dh()).unwrap_or_else(|e| panic!("{e}"));
    let params = &Params { col_chunk: split.col_chunk, chunks: split.chunks, ..*params };
    let chunks = split.chunks as usize;
    let stats = gpu.scratch(4 * rows.max(1) * (1 + chunks));
    let out = gpu.alloc_capacity(1, 1, 8);
    let (hhat, thr, bits) = flags.args();
    let labels = labels.map_or(Arg::Unused, Arg::T);
    let row_blocks = (rows as u32).div_ceil(PAIR_TILE);
    let g = want_grad.then(|| gpu.alloc_capacity(rows, zhat.cols, chunks * rows * zhat.cols));
    let grad_arg = g.as_ref().map_or(Arg::Unused, Arg::T);
    let args = [Arg::T(zhat), hhat, thr, bits, labels, Arg::Buf(stats.buffer()), Arg::T(&out), grad_arg];
    let no_grad = [Arg::T(zhat), hhat, thr, bits, labels, Arg::Buf(stats.buffer()), Arg::T(&out), Arg::Unused];
    gpu.launch(&ROW_STATS, params, &no_grad, (row_blocks, 1, split.chunks));
    gpu.launch_threads(&MERGE_STATS, params, &no_grad, rows);
    gpu.launch(&FINISH, params, &no_grad, (1, 1, 1));
    if g.is_some() {
        let dim_slices = (zhat.cols as u32).div_ceil(PAIR_TILE * PAIR_ACC);
        gpu.launch(&ROW_GRAD, params, &args, (row_blocks, dim_slices, split.chunks));
        gpu.launch_threads(&SUM_GRAD, params, &args, rows * zhat.cols);
    }
    (out, g)
}

fn base_params(zhat: &GpuTensor, flags: &FlagSource<'_>) -> Params {
    Params {
        rows: zhat.rows as u32,
        n: (zhat.rows / 2) as u32,
        d: zhat.cols as u32,
        dh: flags.dh() as u32,
        kind: 0,
        pairs: flags.code(),
        removal: 0,
        metric: 0,
        tau: 1.0,
        sigma: 0.0,
        rho: 1.0,
        t: 2.0,
        alpha: 2.0,
        w_align: 1.0,
        w_unif: 1.0,
        _pad: 0.0,
        col_chunk: PAIR_COL_CHUNK,
        chunks: 1,
        _pad1: 0,
        _pad2: 0,
    }
}

/// The loss of `p.kind` (InfoNCE, DCL, SupCon, align-uniform) on z and ∂L/∂z.
pub fn loss(
    gpu: &Gpu,
    p: &LossParams,
    z: &GpuTensor,
    flags: &FlagSource<'_>,
    labels: Option<&GpuTensor>,
) -> LossOut<GpuTensor> {
    assert!(z.rows >= 2 && z.rows.is_multiple_of(2), "loss: z must hold 2N ≥ 2 views, has {} rows", z.rows);
    if p.kind == LossKind::Supcon {
        assert!(labels.is_some_and(|l| l.len() == z.rows), "SupCon needs a 2N × 1 label tensor");
    }
    let (zhat, norms) = normalize_forward(gpu, z);
    let params = Params {
        kind: codes::loss_kind(p.kind).expect("spectral has its own kernels"),
        removal: (p.mode == PairMode::Removal) as u32,
        tau: p.tau,
        sigma: p.effective_sigma(),
        rho: p.effective_rho(),
        t: p.unif_t,
        alpha: p.align_alpha,
        w_align: p.w_align,
        w_unif: p.w_unif,
        ..base_params(&zhat, flags)
    };
    let (value, gzhat) = run(gpu, &params, &zhat, flags, labels, true);
    let grad = normalize_backward(gpu, &zhat, &norms, &gzhat.expect("gradient requested"));
    LossOut { value, grad }
}

/// [alignment, uniformity] of docs/math.md §4 on z (normalised inside) as a 1 × 2 tensor.
pub fn align_uniform(gpu: &Gpu, z: &GpuTensor, t: f32) -> GpuTensor {
    let (zhat, _) = normalize_forward(gpu, z);
    let flags = FlagSource::None;
    let params = Params {
        kind: codes::loss_kind(LossKind::AlignUniform).unwrap_or_default(),
        metric: 1,
        t,
        ..base_params(&zhat, &flags)
    };
    let (out, _) = run(gpu, &params, &zhat, &flags, None, false);
    GpuTensor { rows: 1, cols: 2, buf: out.buf }
}
