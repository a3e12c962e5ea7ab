//! The u32 codes that launchers write into kernel parameters and kernels switch on: activation, loss kind,
//! where pair flags come from, optimiser. One list: the launchers call these functions, and every code reaches
//! the WGSL sources as a `{{NAME}}` placeholder (`placeholders`, substituted by sizes::substitute), so no
//! shader spells a number a launcher chose.

use spherelab_core::config::{Activation, LossKind, OptimizerKind};

pub fn activation(a: Activation) -> u32 {
    match a {
        Activation::Identity => 0,
        Activation::Relu => 1,
        Activation::Tanh => 2,
        Activation::Gelu => 3,
    }
}

/// The loss kinds contrastive.wgsl computes (spectral has its own kernels, and no code).
pub fn loss_kind(k: LossKind) -> Option<u32> {
    match k {
        LossKind::Infonce => Some(0),
        LossKind::Dcl => Some(1),
        LossKind::Supcon => Some(2),
        LossKind::AlignUniform => Some(3),
        LossKind::Spectral => None,
    }
}

pub fn optimizer(k: OptimizerKind) -> u32 {
    match k {
        OptimizerKind::Sgd => 0,
        OptimizerKind::Adam => 1,
        OptimizerKind::Adamw => 2,
    }
}

/// Where a loss kernel's pair flags come from (ops::FlagSource).
pub const PAIRS_NONE: u32 = 0;
pub const PAIRS_ALL: u32 = 1;
pub const PAIRS_SELECTED: u32 = 2;
pub const PAIRS_EXPLICIT: u32 = 3;

/// Every code as the placeholder the WGSL sources name it by.
pub fn placeholders() -> Vec<(String, u32)> {
    let mut v = Vec::new();
    for a in [Activation::Identity, Activation::Relu, Activation::Tanh, Activation::Gelu] {
        v.push((format!("ACT_{}", a.name().to_ascii_uppercase()), activation(a)));
    }
    for k in LossKind::ALL {
        if let Some(code) = loss_kind(k) {
            v.push((format!("LOSS_{}", k.name().replace('-', "_").to_ascii_uppercase()), code));
        }
    }
    for (name, k) in
        [("OPT_SGD", OptimizerKind::Sgd), ("OPT_ADAM", OptimizerKind::Adam), ("OPT_ADAMW", OptimizerKind::Adamw)]
    {
        v.push((name.to_string(), optimizer(k)));
    }
    for (name, code) in [
        ("PAIRS_NONE", PAIRS_NONE),
        ("PAIRS_ALL", PAIRS_ALL),
        ("PAIRS_SELECTED", PAIRS_SELECTED),
        ("PAIRS_EXPLICIT", PAIRS_EXPLICIT),
    ] {
        v.push((name.to_string(), code));
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_within_each_family_and_named_as_the_shaders_use_them() {
        let p = placeholders();
        for family in ["ACT_", "LOSS_", "OPT_", "PAIRS_"] {
            let codes: Vec<u32> = p.iter().filter(|(n, _)| n.starts_with(family)).map(|&(_, c)| c).collect();
            let mut unique = codes.clone();
            unique.sort_unstable();
            unique.dedup();
            assert_eq!(unique.len(), codes.len(), "{family} codes repeat: {codes:?}");
        }
        let names: Vec<&str> = p.iter().map(|(n, _)| n.as_str()).collect();
        for n in ["ACT_RELU", "ACT_GELU", "LOSS_INFONCE", "LOSS_ALIGN_UNIFORM", "OPT_ADAMW", "PAIRS_SELECTED"] {
            assert!(names.contains(&n), "{n} missing from {names:?}");
        }
    }
}
