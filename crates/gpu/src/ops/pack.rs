//! Packs an explicit 0/1 pair matrix into bits (shaders/pack.wgsl): the N² input costs N²/8 bytes in the
//! loss kernels.

use std::sync::Arc;

use bytemuck::{Pod, Zeroable};

use crate::engine::{Arg, Gpu};
use crate::kernel::{Access, KernelSpec};
use crate::pool::PooledBuffer;
use crate::tensor::GpuTensor;

const PACK: KernelSpec = KernelSpec {
    family: "pack",
    source: include_str!("../../../../shaders/pack.wgsl"),
    entry: "pack",
    bindings: &[Access::Read, Access::ReadWrite],
    common: true,
};

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Params {
    len: u32,
    words: u32,
    _pad: [u32; 2],
}

/// One bit per element of m (row-major), 32 per u32 word.
pub fn pack_bits(gpu: &Gpu, m: &GpuTensor) -> Arc<PooledBuffer> {
    let max_binding = gpu.context().device.limits().max_storage_buffer_binding_size;
    pack_bits_in_slices(gpu, m, max_binding)
}

/// Elements per launch: all of them when they fit one binding of `max_binding` bytes; else a multiple of 2,048
/// (so each slice starts on a whole word, and both byte offsets — 4 per element of m, 1/8 per element of the
/// bits — are multiples of 256, the largest storage offset alignment WebGPU allows).
pub fn pack_slice_len(len: usize, max_binding: u64) -> usize {
    const STEP: usize = 2048;
    let fit = (max_binding / 4) as usize;
    if len <= fit { len.max(1) } else { (fit / STEP * STEP).max(STEP) }
}

/// `pack_bits` with the binding limit given: an explicit matrix past one binding (8,192² flags are 256 MiB,
/// WebGPU's default limit is 128 MiB) is packed a slice at a time (issue 15).
#[doc(hidden)]
pub fn pack_bits_in_slices(gpu: &Gpu, m: &GpuTensor, max_binding: u64) -> Arc<PooledBuffer> {
    let len = m.len();
    let words = len.div_ceil(32);
    let bits = gpu.scratch(words.max(1));
    let slice = pack_slice_len(len, max_binding);
    let mut start = 0;
    while start < len {
        let n = slice.min(len - start);
        let w = n.div_ceil(32);
        let params = Params { len: n as u32, words: w as u32, _pad: [0; 2] };
        let args = [
            Arg::Slice(m.buffer(), 4 * start as u64, 4 * n as u64),
            Arg::Slice(bits.buffer(), 4 * (start / 32) as u64, 4 * w as u64),
        ];
        gpu.launch_threads(&PACK, &params, &args, w);
        start += n;
    }
    bits
}

/// The packed words of `pack_bits_in_slices` as a words × 1 tensor (each f32 holding a u32's bits), for tests.
#[doc(hidden)]
pub fn packed_words_for_test(gpu: &Gpu, m: &GpuTensor, max_binding: u64) -> GpuTensor {
    let words = m.len().div_ceil(32).max(1);
    GpuTensor { rows: words, cols: 1, buf: pack_bits_in_slices(gpu, m, max_binding) }
}

#[cfg(test)]
mod tests {
    use super::pack_slice_len;

    #[test]
    fn slices_cover_the_matrix_on_aligned_offsets_within_the_limit() {
        for (len, max) in [(10, 1 << 20), (8192 * 8192, 128 << 20), (100_003, 8192 * 4), (70_000, 4000)] {
            let s = pack_slice_len(len, max);
            if len as u64 * 4 > max {
                assert!(s.is_multiple_of(2048) && (s as u64) * 4 <= max.max(2048 * 4), "{len}, {max}: {s}");
                assert!((4 * s).is_multiple_of(256));
                assert!((s / 8).is_multiple_of(256));
            } else {
                assert_eq!(s, len);
            }
        }
    }
}
