//! Difficult-pair selection thresholds (shaders/select.wgsl): a radix select per row, no sorting, no N².

use bytemuck::{Pod, Zeroable};
use spherelab_core::backend::PairLayout;

use crate::engine::{Arg, Gpu};
use crate::kernel::{Access, KernelSpec};
use crate::ops::loop_budget;
use crate::sizes;
use crate::tensor::GpuTensor;

const THRESHOLDS: KernelSpec = KernelSpec {
    family: "select",
    source: include_str!("../../../../shaders/select.wgsl"),
    entry: "thresholds",
    bindings: &[Access::Read, Access::ReadWrite],
    common: true,
};

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Params {
    rows: u32,
    n: u32,
    dh: u32,
    cross_view: u32,
    r_lo: u32,
    r_hi: u32,
    _pad: [u32; 2],
}

/// r(q) = max(1, ⌈q·M⌉), at most M (docs/math.md §2), exactly as the CPU reference (selection::rank): the
/// product in f64, ceil'd after subtracting a relative 1e-6 so that f32's rounding of q (0.1 is really
/// 0.100000001…) does not push ⌈0.1·510⌉ to 52.
pub fn rank(q: f32, m: usize) -> u32 {
    if m == 0 {
        return 0;
    }
    let x = q as f64 * m as f64;
    let r = (x - 1e-6 * x.abs().max(1.0)).ceil();
    (r.max(1.0) as usize).min(m) as u32
}

/// (rows, N, M) of a layout for h with `h_rows` = 2N rows.
pub fn layout_shape(layout: PairLayout, h_rows: usize) -> (usize, usize, usize) {
    let n = h_rows / 2;
    match layout {
        PairLayout::AllViews => (h_rows, n, h_rows.saturating_sub(2)),
        PairLayout::CrossView => (n, n, n.saturating_sub(1)),
    }
}

/// Loop iterations one invocation of the thresholds kernel runs: four radix passes, each over the row's
/// columns (WG at a time) with a dot product of dh for each, plus the two 256-bucket walks per pass.
pub fn thresholds_iterations(cols: usize, dh: usize) -> u64 {
    4 * ((cols as u64).div_ceil(sizes::WG as u64) + 1) * (dh as u64 + 2) + 4 * 2 * 258
}

/// Whether the thresholds kernel selects pairs on 2N = `h_rows` views of h with `dh` dimensions on this device
/// within its loop limit (GpuContext::loop_limit); Err names the limit.
pub fn check_size(gpu: &Gpu, h_rows: usize, dh: usize) -> Result<(), String> {
    let iterations = thresholds_iterations(h_rows, dh);
    if iterations <= loop_budget(gpu) {
        return Ok(());
    }
    Err(format!(
        "difficult-pair selection on {h_rows} views of h with {dh} dimensions takes about {iterations} loop \
         iterations per shader invocation, more than this adapter runs (llvmpipe ends every loop after 65,535; \
         docs/gpu-large-batch.md); use a smaller batch or encoder output, the CPU backend (--backend cpu) or a \
         hardware GPU"
    ))
}

/// Thresholds (rows × 2: lo, hi) on ĥ (2N × dh, rows already normalised).
pub fn thresholds(gpu: &Gpu, hhat: &GpuTensor, layout: PairLayout, pos_high: f32, pos_low: f32) -> GpuTensor {
    let (rows, n, m) = layout_shape(layout, hhat.rows);
    // Runs refuse such sizes before they start (Backend::check_loss_size); never compute them wrong.
    if let Err(e) = check_size(gpu, hhat.rows, hhat.cols) {
        panic!("{e}");
    }
    let out = gpu.alloc(rows, 2);
    let params = Params {
        rows: rows as u32,
        n: n as u32,
        dh: hhat.cols as u32,
        cross_view: (layout == PairLayout::CrossView) as u32,
        r_lo: rank(pos_low, m),
        r_hi: rank(pos_high, m),
        _pad: [0; 2],
    };
    if rows > 0 {
        gpu.launch_per(&THRESHOLDS, &params, &[Arg::T(hhat), Arg::T(&out)], rows);
    }
    out
}
