//! Workgroup and tile sizes: the one place they are set. They reach the WGSL sources by substitution of
//! `{{NAME}}` placeholders when a kernel's module is built, so Rust launchers and shaders cannot disagree.

/// Threads per workgroup of the one-dimensional kernels (element-wise, per-row, column sums, selection).
/// 256 is WebGPU's default `maxComputeInvocationsPerWorkgroup`; reductions assume a power of two.
pub const WG: u32 = 256;

/// Matrix product: a workgroup computes a BM × BN output block, walking k in steps of BK; each thread owns
/// TM × TN outputs. Workgroup memory: (BM + BN)·BK·4 bytes = 8 KiB of the 16 KiB allowed.
pub const GEMM_BM: u32 = 64;
pub const GEMM_BN: u32 = 64;
pub const GEMM_BK: u32 = 16;
pub const GEMM_TM: u32 = 4;
pub const GEMM_TN: u32 = 4;

/// Split-K for matrix products with few output tiles and a long k: aim for about SPLIT_TARGET workgroups,
/// each split covering at least SPLIT_MIN_K of k, at most SPLIT_MAX splits.
pub const SPLIT_TARGET: u32 = 32;
pub const SPLIT_MIN_K: u32 = 128;
pub const SPLIT_MAX: u32 = 64;

/// Pairwise (similarity-tile) kernels: T × T pairs per tile, T × T threads; in the gradient pass each thread
/// owns ACC output dimensions, so one workgroup covers T·ACC dimensions (a grid axis covers the rest).
pub const PAIR_TILE: u32 = 16;
pub const PAIR_ACC: u32 = 8;

/// Pairwise kernels split the columns (the k of Σ_k) into chunks of PAIR_COL_CHUNK columns, one per grid z, so
/// that no workgroup loops over more than this many columns whatever the batch (docs/gpu-large-batch.md: one
/// workgroup walking thousands of column tiles came out wrong on lavapipe). The chunks' partial sums need
/// chunks × rows × d floats; when that passes the device's storage-binding limit the chunk grows, up to
/// PAIR_COL_CHUNK_MAX columns (the largest checked by the large-batch tests); past that a loss is refused.
/// Multiples of PAIR_TILE.
pub const PAIR_COL_CHUNK: u32 = 512;
pub const PAIR_COL_CHUNK_MAX: u32 = 2048;

/// WebGPU's default maximum number of workgroups per grid dimension.
pub const MAX_GROUPS_PER_DIM: u32 = 65_535;

/// Replaces every `{{NAME}}` in a WGSL source by its value: the sizes below, and the codes of codes.rs.
pub fn substitute(source: &str) -> String {
    let table: [(&str, u32); 10] = [
        ("WG", WG),
        ("GEMM_BM", GEMM_BM),
        ("GEMM_BN", GEMM_BN),
        ("GEMM_BK", GEMM_BK),
        ("GEMM_TM", GEMM_TM),
        ("GEMM_TN", GEMM_TN),
        ("GEMM_TX", GEMM_BN / GEMM_TN),
        ("GEMM_TY", GEMM_BM / GEMM_TM),
        ("PAIR_TILE", PAIR_TILE),
        ("PAIR_ACC", PAIR_ACC),
    ];
    let mut out = source.to_string();
    let codes = crate::codes::placeholders();
    let all = table.iter().map(|&(n, v)| (n, v)).chain(codes.iter().map(|(n, v)| (n.as_str(), *v)));
    for (name, value) in all {
        out = out.replace(&format!("{{{{{name}}}}}"), &value.to_string());
    }
    assert!(!out.contains("{{"), "a WGSL placeholder has no value in sizes.rs");
    out
}

/// A grid of `groups` workgroups folded into 2-D when it exceeds the per-dimension limit; kernels recover
/// the flat index as `wid.x + wid.y·num_workgroups.x` and skip indices past the end.
pub fn fold(groups: u32) -> (u32, u32, u32) {
    if groups <= MAX_GROUPS_PER_DIM {
        (groups.max(1), 1, 1)
    } else {
        let y = groups.div_ceil(MAX_GROUPS_PER_DIM);
        (groups.div_ceil(y), y, 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folded_grids_cover_every_workgroup_within_the_limit() {
        for g in [1, 65_535, 65_536, 200_000, 1 << 20] {
            let (x, y, _) = fold(g);
            assert!(x <= MAX_GROUPS_PER_DIM && y <= MAX_GROUPS_PER_DIM);
            assert!(x as u64 * y as u64 >= g as u64);
        }
    }
}
