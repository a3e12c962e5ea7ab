//! Timing of the CPU step the speed target is about: difficult-pair selection (docs/math.md §2) plus InfoNCE with
//! the combined modifiers (§1.1), forward and backward, at 2N = 512 views.
//!
//!     cargo run --release -p spherelab-core --example loss_timing
//!
//! bench/torch_step_timing.py times the same step in PyTorch; compare on the same machine and load.

use std::time::Instant;

use spherelab_core::backend::{LossParams, PairLayout};
use spherelab_core::config::PairMode;
use spherelab_core::float::Float;
use spherelab_core::matrix::Matrix;
use spherelab_core::rng::{rng, stream};
use spherelab_core::testing::random_matrix;
use spherelab_core::{loss, selection};

/// Mean milliseconds of `f` over `iters` calls, after 20 warm-up calls.
fn millis<T>(iters: usize, mut f: impl FnMut() -> T) -> f64 {
    for _ in 0..20 {
        std::hint::black_box(f());
    }
    let t0 = Instant::now();
    for _ in 0..iters {
        std::hint::black_box(f());
    }
    t0.elapsed().as_secs_f64() / iters as f64 * 1e3
}

fn run<F: Float>(d: usize, dh: usize) {
    let mut r = rng(1, stream::TEST);
    let z: Matrix<F> = Matrix::from_f64(512, d, &random_matrix(&mut r, 512, d).data);
    let h: Matrix<F> = Matrix::from_f64(512, dh, &random_matrix(&mut r, 512, dh).data);
    let p = LossParams { mode: PairMode::Combined, sigma: 0.1, rho: 0.7, ..LossParams::infonce(0.2) };
    let step = millis(200, || {
        let t = selection::thresholds(&h, PairLayout::AllViews, 0.1, 0.9);
        let f = selection::flags_from_thresholds(&h, &t, PairLayout::AllViews);
        loss::loss_and_grad(&p, &z, Some(&f), None)
    });
    let loss_only = millis(200, || loss::loss_and_grad(&p, &z, None, None));
    let thresholds = millis(200, || selection::thresholds(&h, PairLayout::AllViews, 0.1, 0.9));
    println!(
        "{} 512 views d={d} d_h={dh}: selection+InfoNCE fwd+bwd {step:.3} ms \
         (InfoNCE alone {loss_only:.3} ms, thresholds alone {thresholds:.3} ms)",
        F::NAME
    );
}

fn main() {
    for (d, dh) in [(3, 16), (32, 32)] {
        run::<f32>(d, dh);
        run::<f64>(d, dh);
    }
}
