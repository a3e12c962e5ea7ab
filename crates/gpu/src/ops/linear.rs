//! Linear layer forward and backward (shaders/matmul_1_naive.wgsl, shaders/matmul_2_tiled.wgsl,
//! shaders/reduce.wgsl). pre = x·W + b, out = act(pre); dx = d·Wᵀ, dW = xᵀ·d, db = column sums of d.
//!
//! The matrix product has two versions, numbered from naive to fast as llm.c numbers its kernels: 1, one
//! output per thread, the formula as written; 2, workgroup tiles with register blocks and split-K, the one a
//! run uses. Both take the same parameters and bindings; `Gpu::set_matmul_version` picks one, the parity
//! tests hold every version to ops::linear::reference, and `spherelab bench --gpu-kernels all` times each.

use bytemuck::{Pod, Zeroable};
use spherelab_core::backend::{LinearGrads, LinearOut};
use spherelab_core::config::Activation;

use crate::codes;
use crate::engine::{Arg, Gpu};
use crate::kernel::{Access, KernelSpec};
use crate::sizes;
use crate::tensor::GpuTensor;

/// A version of the matrix-product kernel (see the module doc).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatmulVersion {
    /// 1: one output per thread (shaders/matmul_1_naive.wgsl).
    Naive = 1,
    /// 2: tiles, register blocks, split-K (shaders/matmul_2_tiled.wgsl).
    Tiled = 2,
}

impl MatmulVersion {
    pub const ALL: [Self; 2] = [Self::Naive, Self::Tiled];
    pub const FASTEST: Self = Self::Tiled;

    /// "matmul 1 naive", as the bench and the tests name it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Naive => "matmul 1 naive",
            Self::Tiled => "matmul 2 tiled",
        }
    }
}

const fn matmul_spec(family: &'static str, source: &'static str, entry: &'static str) -> KernelSpec {
    KernelSpec {
        family,
        source,
        entry,
        bindings: &[Access::Read, Access::Read, Access::Read, Access::ReadWrite, Access::ReadWrite],
        common: true,
    }
}

const MATMUL_1_NAIVE: KernelSpec =
    matmul_spec("matmul_1_naive", include_str!("../../../../shaders/matmul_1_naive.wgsl"), "main");
const TILED: &str = include_str!("../../../../shaders/matmul_2_tiled.wgsl");
const MATMUL_2_TILED: KernelSpec = matmul_spec("matmul_2_tiled", TILED, "main");
const SUM_SPLITS: KernelSpec = matmul_spec("matmul_2_tiled", TILED, "sum_splits");

const COLUMN_SUMS: KernelSpec = KernelSpec {
    family: "reduce",
    source: include_str!("../../../../shaders/reduce.wgsl"),
    entry: "column_sums",
    bindings: &[Access::Read, Access::ReadWrite],
    common: true,
};

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct MatmulParams {
    m: u32,
    n: u32,
    k: u32,
    act: u32,
    a_rs: u32,
    a_cs: u32,
    b_rs: u32,
    b_cs: u32,
    has_bias: u32,
    write_pre: u32,
    k_split: u32,
    _pad: u32,
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct ReduceParams {
    rows: u32,
    cols: u32,
    _pad: [u32; 2],
}

/// A matrix operand: the tensor and (row stride, column stride) of the logical matrix it stands for.
struct Operand<'a> {
    t: &'a GpuTensor,
    strides: (usize, usize),
}

/// Records act(A·B + bias) into a new m × n tensor, and the pre-activation into `pre` if given, with the
/// version of the kernel `gpu` is set to.
#[allow(clippy::too_many_arguments)]
fn matmul(
    gpu: &Gpu,
    m: usize,
    k: usize,
    n: usize,
    a: Operand<'_>,
    b: Operand<'_>,
    bias: Option<&GpuTensor>,
    act: Activation,
    pre: Option<&GpuTensor>,
) -> GpuTensor {
    // Version 1 sums all of k in one thread; version 2 may split k over workgroups (then adds the partials).
    let naive = gpu.matmul_version() == MatmulVersion::Naive;
    let groups = ((n as u32).div_ceil(sizes::GEMM_BN), (m as u32).div_ceil(sizes::GEMM_BM), 1);
    let plain = bias.is_none() && pre.is_none() && act == Activation::Identity;
    let splits = if naive { 1 } else { split_k(groups.0 * groups.1, k, plain) };
    let k_split = (k as u32).div_ceil(splits).div_ceil(sizes::GEMM_BK) * sizes::GEMM_BK;
    let splits = (k as u32).div_ceil(k_split.max(1)).max(1);
    let out = if splits > 1 { gpu.alloc_capacity(m, n, m * n * splits as usize) } else { gpu.alloc(m, n) };
    let params = MatmulParams {
        m: m as u32,
        n: n as u32,
        k: k as u32,
        act: codes::activation(act),
        a_rs: a.strides.0 as u32,
        a_cs: a.strides.1 as u32,
        b_rs: b.strides.0 as u32,
        b_cs: b.strides.1 as u32,
        has_bias: bias.is_some() as u32,
        write_pre: pre.is_some() as u32,
        k_split: if splits > 1 { k_split } else { k as u32 },
        _pad: 0,
    };
    let args =
        [Arg::T(a.t), Arg::T(b.t), bias.map_or(Arg::Unused, Arg::T), pre.map_or(Arg::Unused, Arg::T), Arg::T(&out)];
    if m > 0 && n > 0 {
        if naive {
            gpu.launch_threads(&MATMUL_1_NAIVE, &params, &args, m * n);
        } else {
            gpu.launch(&MATMUL_2_TILED, &params, &args, (groups.0, groups.1, splits));
        }
    }
    if splits > 1 && m > 0 && n > 0 {
        let total = gpu.alloc(m, n);
        let sum = MatmulParams { m: (m * n) as u32, k: splits, ..params };
        let args = [Arg::T(&out), Arg::Unused, Arg::Unused, Arg::Unused, Arg::T(&total)];
        gpu.launch_threads(&SUM_SPLITS, &sum, &args, m * n);
        return total;
    }
    out
}

/// How many k-splits a product gets: enough to give about `SPLIT_TARGET` workgroups when the output has
/// few tiles and k is long (dW = xᵀ·d over a batch), each split at least `SPLIT_MIN_K` long; 1 otherwise
/// (and always 1 when a bias or activation is fused, which must apply to the full sum).
fn split_k(tiles: u32, k: usize, plain: bool) -> u32 {
    if !plain {
        return 1;
    }
    let by_k = (k as u32) / sizes::SPLIT_MIN_K;
    let by_tiles = sizes::SPLIT_TARGET.div_ceil(tiles.max(1));
    by_k.min(by_tiles).clamp(1, sizes::SPLIT_MAX)
}

pub fn linear_forward(gpu: &Gpu, x: &GpuTensor, w: &GpuTensor, b: &GpuTensor, act: Activation) -> LinearOut<GpuTensor> {
    assert_eq!(x.cols, w.rows, "linear_forward: x has {} columns, W has {} rows", x.cols, w.rows);
    assert_eq!((b.rows, b.cols), (1, w.cols), "linear_forward: bias must be 1×{}", w.cols);
    let (m, k, n) = (x.rows, x.cols, w.cols);
    let a = Operand { t: x, strides: (k, 1) };
    let bm = Operand { t: w, strides: (n, 1) };
    if act == Activation::Identity {
        let pre = matmul(gpu, m, k, n, a, bm, Some(b), act, None);
        return LinearOut { out: pre.clone(), pre };
    }
    let pre = gpu.alloc(m, n);
    let out = matmul(gpu, m, k, n, a, bm, Some(b), act, Some(&pre));
    LinearOut { pre, out }
}

pub fn linear_backward(
    gpu: &Gpu,
    x: &GpuTensor,
    w: &GpuTensor,
    d_pre: &GpuTensor,
    need_dx: bool,
) -> LinearGrads<GpuTensor> {
    assert_eq!((d_pre.rows, d_pre.cols), (x.rows, w.cols), "linear_backward: d_pre shape");
    let (rows, fan_in, fan_out) = (x.rows, x.cols, w.cols);
    // dW = xᵀ·d: A(r, k) = x[k, r] → strides (1, fan_in).
    let dw = matmul(
        gpu,
        fan_in,
        rows,
        fan_out,
        Operand { t: x, strides: (1, fan_in) },
        Operand { t: d_pre, strides: (fan_out, 1) },
        None,
        Activation::Identity,
        None,
    );
    let db = column_sums(gpu, d_pre);
    // dx = d·Wᵀ: B(k, c) = W[c, k] → strides (1, fan_out).
    let dx = need_dx.then(|| {
        matmul(
            gpu,
            rows,
            fan_out,
            fan_in,
            Operand { t: d_pre, strides: (fan_out, 1) },
            Operand { t: w, strides: (1, fan_out) },
            None,
            Activation::Identity,
            None,
        )
    });
    LinearGrads { dx, dw, db }
}

/// 1 × cols tensor of the column sums of x.
pub fn column_sums(gpu: &Gpu, x: &GpuTensor) -> GpuTensor {
    let out = gpu.alloc(1, x.cols);
    let params = ReduceParams { rows: x.rows as u32, cols: x.cols as u32, _pad: [0; 2] };
    if x.cols > 0 {
        gpu.launch_per(&COLUMN_SUMS, &params, &[Arg::T(x), Arg::T(&out)], x.cols);
    }
    out
}
