//! One Rust launcher per kernel family: its parameter struct (mirroring the WGSL `Params`), its binding
//! list, and the function that records it. Launchers allocate their outputs and take inputs by reference.

pub mod contrastive;
pub mod elementwise;
pub mod linear;
pub mod normalize;
pub mod optim;
pub mod pack;
pub mod select;
pub mod spectral;

use crate::engine::Gpu;
use std::sync::Arc;

use crate::codes;
use crate::engine::Arg;
use crate::pool::PooledBuffer;
use crate::tensor::GpuTensor;

/// Where a loss kernel gets its pair flags from, in the form the kernels read (never an N² float matrix).
pub enum FlagSource<'a> {
    None,
    All,
    /// Recompute p_ik = 1[lo_i ≤ c_ik < hi_i] from ĥ (normalised h) and the thresholds.
    Selected {
        hhat: GpuTensor,
        thresholds: &'a GpuTensor,
    },
    /// Bit-packed explicit flags (ops::pack).
    Explicit(Arc<PooledBuffer>),
}

impl FlagSource<'_> {
    /// The kernels' `pairs` code (codes.rs).
    pub fn code(&self) -> u32 {
        match self {
            FlagSource::None => codes::PAIRS_NONE,
            FlagSource::All => codes::PAIRS_ALL,
            FlagSource::Selected { .. } => codes::PAIRS_SELECTED,
            FlagSource::Explicit(_) => codes::PAIRS_EXPLICIT,
        }
    }

    pub fn dh(&self) -> usize {
        match self {
            FlagSource::Selected { hhat, .. } => hhat.cols,
            _ => 0,
        }
    }

    /// The (hhat, thresholds, bits) bindings.
    pub fn args(&self) -> (Arg<'_>, Arg<'_>, Arg<'_>) {
        match self {
            FlagSource::Selected { hhat, thresholds } => (Arg::T(hhat), Arg::T(thresholds), Arg::Unused),
            FlagSource::Explicit(bits) => (Arg::Unused, Arg::Unused, Arg::Buf(bits.buffer())),
            _ => (Arg::Unused, Arg::Unused, Arg::Unused),
        }
    }
}

/// How the columns (the k of Σ_k) of a pairwise pass are split over grid z: columns per chunk, and chunks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ColumnChunks {
    pub col_chunk: u32,
    pub chunks: u32,
}

/// The loop iterations one invocation may plan for on this adapter: three quarters of the driver's limit
/// (GpuContext::loop_limit; the counts below are estimates of how the compiler's loops come out — it unrolls
/// some and adds exit iterations to others), or no bound.
pub fn loop_budget(gpu: &Gpu) -> u64 {
    gpu.context().loop_limit.map_or(u64::MAX, |limit| limit / 4 * 3)
}

/// Loop iterations a pairwise kernel (contrastive.wgsl, spectral.wgsl) runs per column tile of T: the dot
/// products over d (and over dh when flags are selected on the fly), T + 2 per dimension tile (the inner
/// loop, its exit, the outer step), and the ACC output slots' loops over the tile's columns.
pub fn pair_tile_iterations(d: usize, dh: usize) -> u64 {
    use crate::sizes::{PAIR_ACC, PAIR_TILE};
    let t = PAIR_TILE as u64;
    ((d as u64).div_ceil(t) + (dh as u64).div_ceil(t) + PAIR_ACC as u64) * (t + 2) + 4
}

/// The most columns one chunk of a pairwise pass may take within `budget` loop iterations per invocation: a
/// multiple of PAIR_TILE, at most PAIR_COL_CHUNK_MAX; 0 when not even one tile fits.
pub fn max_col_chunk(d: usize, dh: usize, budget: u64) -> u32 {
    use crate::sizes::{PAIR_COL_CHUNK_MAX, PAIR_TILE};
    let tiles = budget / pair_tile_iterations(d, dh);
    (tiles.min((PAIR_COL_CHUNK_MAX / PAIR_TILE) as u64) as u32) * PAIR_TILE
}

/// The column split of a pairwise pass over `cols` columns whose chunks each write a partial gradient of
/// `out_rows` × `d` floats and `stats_per_row` bytes of row statistics per output row: chunks of
/// sizes::PAIR_COL_CHUNK columns (fewer when `max_chunk`, the adapter's loop budget, says so), doubled while
/// the partials would not fit one storage binding of `max_binding` bytes, up to `max_chunk`. Err names the
/// limit when even that does not fit: such a loss is refused, never computed with longer loops
/// (docs/gpu-large-batch.md).
pub fn column_chunks(
    cols: usize,
    out_rows: usize,
    d: usize,
    stats_per_row: u64,
    max_binding: u64,
    max_chunk: u32,
) -> Result<ColumnChunks, String> {
    use crate::sizes::PAIR_COL_CHUNK;
    let limit = u32::MAX as u64;
    if (out_rows as u64) * (d as u64) >= limit || cols as u64 >= limit {
        return Err(format!("{out_rows} × {d} is past the GPU kernels' 32-bit indices"));
    }
    if max_chunk == 0 {
        return Err(format!(
            "{d} dimensions take more loop iterations per column tile than this adapter runs in one shader \
             invocation (llvmpipe ends every loop after 65,535 iterations; docs/gpu-large-batch.md); use a \
             smaller embedding, the CPU backend (--backend cpu) or a hardware GPU"
        ));
    }
    let mut col_chunk = PAIR_COL_CHUNK.min(max_chunk);
    loop {
        let chunks = (cols as u32).div_ceil(col_chunk).max(1);
        let grad_bytes = chunks as u64 * out_rows as u64 * d.max(1) as u64 * 4;
        let stats_bytes = (chunks as u64 + 1) * out_rows as u64 * stats_per_row;
        let floats = chunks as u64 * out_rows as u64 * d as u64;
        if grad_bytes <= max_binding && stats_bytes <= max_binding && floats < limit {
            return Ok(ColumnChunks { col_chunk, chunks });
        }
        if col_chunk >= max_chunk {
            return Err(format!(
                "{out_rows} views × {d} dimensions need {:.0} MiB of partial sums on the GPU, over this \
                 adapter's storage-binding limit of {:.0} MiB (the kernels take at most {max_chunk} columns per \
                 chunk here); use a smaller batch or embedding, or the CPU backend (--backend cpu)",
                grad_bytes as f64 / (1u64 << 20) as f64,
                max_binding as f64 / (1u64 << 20) as f64
            ));
        }
        col_chunk = (col_chunk * 2).min(max_chunk);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sizes::{PAIR_COL_CHUNK, PAIR_COL_CHUNK_MAX, PAIR_TILE};

    const MIB128: u64 = 128 << 20;

    #[test]
    fn column_chunks_cover_every_column_and_stay_within_the_binding_limit() {
        for (cols, rows, d) in [(1, 1, 1), (70, 70, 3), (513, 513, 130), (8192, 8192, 128), (65_536, 65_536, 8)] {
            let c = column_chunks(cols, rows, d, 16, MIB128, PAIR_COL_CHUNK_MAX).unwrap();
            assert!(c.col_chunk.is_multiple_of(PAIR_TILE) && c.col_chunk <= PAIR_COL_CHUNK_MAX);
            assert!(c.col_chunk as usize * c.chunks as usize >= cols, "{cols}: {c:?} misses columns");
            assert!((c.col_chunk as usize) * (c.chunks as usize - 1) < cols, "{cols}: {c:?} has an empty chunk");
            assert!(c.chunks as u64 * rows as u64 * d as u64 * 4 <= MIB128);
        }
        assert_eq!(
            column_chunks(8192, 8192, 128, 16, MIB128, PAIR_COL_CHUNK_MAX).unwrap(),
            ColumnChunks { col_chunk: PAIR_COL_CHUNK, chunks: 16 }
        );
    }

    #[test]
    fn a_split_that_would_need_longer_loops_is_refused_with_the_limit_named() {
        let e = column_chunks(65_536, 65_536, 128, 16, MIB128, PAIR_COL_CHUNK_MAX).unwrap_err();
        assert!(e.contains("128 MiB") && e.contains("65536 views × 128"), "{e}");
    }

    /// Under llvmpipe's loop limit the chunks shrink with d so that no invocation loops past it: d = 128 keeps
    /// the usual 512 columns, d = 2,048 gets 320 (20 tiles of ~2,450 iterations), the widest embedding two
    /// tiles; the estimate at each chunk stays within the budget, and a tile too long for it is refused.
    #[test]
    fn under_a_loop_limit_the_chunks_shrink_with_the_dimension() {
        let budget = crate::context::LLVMPIPE_LOOP_LIMIT / 4 * 3;
        assert_eq!(max_col_chunk(128, 5, budget), PAIR_COL_CHUNK_MAX);
        assert_eq!(max_col_chunk(2048, 0, budget), 320);
        assert_eq!(max_col_chunk(16_384, 0, budget), 32);
        for (d, dh) in [(2, 2), (128, 5), (130, 64), (2048, 0), (2048, 2048), (16_384, 16_384)] {
            let chunk = max_col_chunk(d, dh, budget);
            assert!(chunk >= PAIR_TILE && chunk.is_multiple_of(PAIR_TILE), "d = {d}, dh = {dh}: {chunk}");
            assert!((chunk / PAIR_TILE) as u64 * pair_tile_iterations(d, dh) <= budget);
            let c = column_chunks(512, 512, d, 16, u64::MAX, chunk).unwrap();
            assert!(c.col_chunk <= chunk && c.col_chunk as usize * c.chunks as usize >= 512, "{c:?}");
        }
        assert_eq!(column_chunks(4096, 4096, 128, 16, MIB128, max_col_chunk(128, 0, budget)).unwrap().col_chunk, 512);
        let e = column_chunks(512, 512, 600_000, 16, u64::MAX, max_col_chunk(600_000, 0, budget)).unwrap_err();
        assert!(e.contains("loop iterations") && e.contains("65,535"), "{e}");
    }
}
