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

/// The column split of a pairwise pass over `cols` columns whose chunks each write a partial gradient of
/// `out_rows` × `d` floats and `stats_per_row` bytes of row statistics per output row: chunks of
/// sizes::PAIR_COL_CHUNK columns, doubled while the partials would not fit one storage binding of
/// `max_binding` bytes. Err names the limit when even PAIR_COL_CHUNK_MAX columns per chunk do not fit: such a
/// loss is refused, never computed with longer loops (docs/gpu-large-batch.md).
pub fn column_chunks(
    cols: usize,
    out_rows: usize,
    d: usize,
    stats_per_row: u64,
    max_binding: u64,
) -> Result<ColumnChunks, String> {
    use crate::sizes::{PAIR_COL_CHUNK, PAIR_COL_CHUNK_MAX};
    let limit = u32::MAX as u64;
    if (out_rows as u64) * (d as u64) >= limit || cols as u64 >= limit {
        return Err(format!("{out_rows} × {d} is past the GPU kernels' 32-bit indices"));
    }
    let mut col_chunk = PAIR_COL_CHUNK;
    loop {
        let chunks = (cols as u32).div_ceil(col_chunk).max(1);
        let grad_bytes = chunks as u64 * out_rows as u64 * d.max(1) as u64 * 4;
        let stats_bytes = (chunks as u64 + 1) * out_rows as u64 * stats_per_row;
        let floats = chunks as u64 * out_rows as u64 * d as u64;
        if grad_bytes <= max_binding && stats_bytes <= max_binding && floats < limit {
            return Ok(ColumnChunks { col_chunk, chunks });
        }
        if col_chunk >= PAIR_COL_CHUNK_MAX {
            return Err(format!(
                "{out_rows} views × {d} dimensions need {:.0} MiB of partial sums on the GPU, over this \
                 adapter's storage-binding limit of {:.0} MiB (the kernels take at most {PAIR_COL_CHUNK_MAX} \
                 columns per chunk); use a smaller batch or embedding, or the CPU backend (--backend cpu)",
                grad_bytes as f64 / (1u64 << 20) as f64,
                max_binding as f64 / (1u64 << 20) as f64
            ));
        }
        col_chunk *= 2;
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
            let c = column_chunks(cols, rows, d, 16, MIB128).unwrap();
            assert!(c.col_chunk.is_multiple_of(PAIR_TILE) && c.col_chunk <= PAIR_COL_CHUNK_MAX);
            assert!(c.col_chunk as usize * c.chunks as usize >= cols, "{cols}: {c:?} misses columns");
            assert!((c.col_chunk as usize) * (c.chunks as usize - 1) < cols, "{cols}: {c:?} has an empty chunk");
            assert!(c.chunks as u64 * rows as u64 * d as u64 * 4 <= MIB128);
        }
        assert_eq!(
            column_chunks(8192, 8192, 128, 16, MIB128).unwrap(),
            ColumnChunks { col_chunk: PAIR_COL_CHUNK, chunks: 16 }
        );
    }

    #[test]
    fn a_split_that_would_need_longer_loops_is_refused_with_the_limit_named() {
        let e = column_chunks(65_536, 65_536, 128, 16, MIB128).unwrap_err();
        assert!(e.contains("128 MiB") && e.contains("65536 views × 128"), "{e}");
    }
}
