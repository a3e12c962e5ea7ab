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

use spherelab_core::config::Activation;

/// The WGSL code of an activation (common.wgsl's `act_forward`).
pub fn act_code(act: Activation) -> u32 {
    match act {
        Activation::Identity => 0,
        Activation::Relu => 1,
        Activation::Tanh => 2,
        Activation::Gelu => 3,
    }
}

use std::sync::Arc;

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
    /// The kernels' `pairs` code: 0 none, 1 all, 2 selected, 3 explicit.
    pub fn code(&self) -> u32 {
        match self {
            FlagSource::None => 0,
            FlagSource::All => 1,
            FlagSource::Selected { .. } => 2,
            FlagSource::Explicit(_) => 3,
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
