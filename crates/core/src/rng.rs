//! Seeded random streams. Every random draw of a run comes from `rng(seed, stream)`, so the data, the
//! initialisation, the batches and the augmentations are independent of each other yet fixed by the seed,
//! and the same on every platform (PCG64 and rand_distr's samplers are pure integer/float code).

use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};

pub type Rng = rand_pcg::Pcg64;

/// Named streams, so that changing how many draws one part makes never shifts another part's draws.
pub mod stream {
    pub const DATA: u64 = 1;
    pub const MIX: u64 = 2;
    pub const SPLIT: u64 = 3;
    pub const INIT: u64 = 4;
    pub const BATCH: u64 = 5;
    pub const AUGMENT: u64 = 6;
    pub const EVAL: u64 = 7;
    pub const PROBE: u64 = 8;
    pub const KMEANS: u64 = 9;
    /// The random pruning score (the control of docs/math.md §3.2).
    pub const PRUNE: u64 = 10;
    pub const TEST: u64 = 100;
}

/// SplitMix64's finaliser: a bijective mix of 64 bits.
fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// The random stream `stream` of the run seeded with `seed`.
pub fn rng(seed: u64, stream: u64) -> Rng {
    Rng::seed_from_u64(splitmix(seed ^ splitmix(stream)))
}

/// One draw from N(0, 1).
pub fn normal(rng: &mut Rng) -> f64 {
    StandardNormal.sample(rng)
}

/// One draw from U[lo, hi).
pub fn uniform(rng: &mut Rng, lo: f64, hi: f64) -> f64 {
    use rand::Rng as _;
    lo + (hi - lo) * rng.random::<f64>()
}

/// A uniform index in 0..n (n ≥ 1).
pub fn index(rng: &mut Rng, n: usize) -> usize {
    use rand::Rng as _;
    rng.random_range(0..n)
}

/// Fisher–Yates shuffle.
pub fn shuffle<T>(rng: &mut Rng, items: &mut [T]) {
    for i in (1..items.len()).rev() {
        let j = index(rng, i + 1);
        items.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_is_reproducible_and_streams_differ() {
        let a: Vec<f64> = (0..5).map(|_| normal(&mut rng(3, stream::DATA))).collect();
        let mut r1 = rng(3, stream::DATA);
        let mut r2 = rng(3, stream::DATA);
        let mut r3 = rng(3, stream::INIT);
        let x: Vec<f64> = (0..5).map(|_| normal(&mut r1)).collect();
        let y: Vec<f64> = (0..5).map(|_| normal(&mut r2)).collect();
        let z: Vec<f64> = (0..5).map(|_| normal(&mut r3)).collect();
        assert_eq!(x, y);
        assert_ne!(x, z);
        assert_eq!(a[0], x[0]);
    }
}
