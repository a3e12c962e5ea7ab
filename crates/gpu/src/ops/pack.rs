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
    let words = m.len().div_ceil(32);
    let bits = gpu.scratch(words.max(1));
    if words > 0 {
        let params = Params { len: m.len() as u32, words: words as u32, _pad: [0; 2] };
        gpu.launch_threads(&PACK, &params, &[Arg::T(m), Arg::Buf(bits.buffer())], words);
    }
    bits
}
