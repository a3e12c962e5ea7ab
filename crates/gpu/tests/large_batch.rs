//! Large batches stay within WebGPU's default limits because nothing of size (2N)² is stored: InfoNCE on
//! 8,192 views × 128 dimensions (a 256 MiB similarity matrix if it were materialised, over the 128 MiB
//! binding limit) and on 65,536 views (grids folded into 2-D past 65,535 workgroups).
//! Both take minutes on lavapipe (~1 GFLOP/s; the 8,192-view loss is ~50 GFLOP), hence #[ignore]:
//! run with `cargo test -p spherelab-gpu --release --test large_batch -- --ignored`, or time it with
//! `cargo run -p spherelab-gpu --example bench --release -- infonce 8192 128`.

use spherelab_core::backend::{Backend, LossParams, Pairs};
use spherelab_gpu::Gpu;

fn infonce_on_identical_views(views: usize, d: usize) {
    let gpu =
        Gpu::new().unwrap_or_else(|e| panic!("this test needs a GPU adapter (lavapipe: mesa-vulkan-drivers): {e}"));
    // All views identical: L = log(2N − 1) for any τ (MATH.md §1.1 golden value), and the gradient is 0.
    let row: Vec<f32> = (0..d).map(|k| (k as f32 * 0.37).sin()).collect();
    let data: Vec<f32> = (0..views).flat_map(|_| row.iter().copied()).collect();
    let z = gpu.upload(views, d, &data);
    let p = LossParams::infonce(0.2);
    let out = gpu.loss(&p, &z, &Pairs::None, None);
    let value = gpu.download(&out.value)[0] as f64;
    let expect = ((views - 1) as f64).ln();
    assert!((value - expect).abs() < 1e-4 * expect, "{views} views: loss {value}, expected log(2N − 1) = {expect}");
    let grad = gpu.download(&out.grad);
    let worst = grad.iter().fold(0.0f32, |m, g| m.max(g.abs()));
    assert!(worst < 1e-5, "{views} views: gradient should vanish, largest element {worst}");
}

#[test]
#[ignore = "minutes on lavapipe; run with --ignored"]
fn infonce_on_8192_views_of_128_dims_runs_within_default_limits() {
    infonce_on_identical_views(8192, 128);
}

#[test]
#[ignore = "long on lavapipe; run with --ignored"]
fn infonce_on_65536_views_runs_within_default_limits() {
    infonce_on_identical_views(65_536, 8);
}

/// Kernels launched with more than 65,535 workgroups fold their grid into 2-D; these two cases check on a
/// real dispatch that every element is still computed exactly once: column sums over 70,000 columns
/// (one workgroup per column) and an activation backward over 65,540·256 elements (one thread each).
#[test]
fn grids_past_65535_workgroups_are_folded_and_cover_every_element() {
    use spherelab_core::config::Activation;
    let gpu =
        Gpu::new().unwrap_or_else(|e| panic!("this test needs a GPU adapter (lavapipe: mesa-vulkan-drivers): {e}"));

    let cols = 70_000;
    let d: Vec<f32> = (0..3 * cols).map(|e| (e % 7) as f32 - 3.0).collect();
    let x = gpu.upload(3, 1, &[1.0, 2.0, 3.0]);
    let w = gpu.zeros(1, cols);
    let g = gpu.linear_backward(&x, &w, &gpu.upload(3, cols, &d), false);
    let db = gpu.download(&g.db);
    for (c, v) in db.iter().enumerate() {
        let want: f32 = (0..3).map(|r| d[r * cols + c]).sum();
        assert_eq!(*v, want, "db column {c}");
    }
    let dw = gpu.download(&g.dw);
    for (c, v) in dw.iter().enumerate() {
        let want: f32 = (0..3).map(|r| (r + 1) as f32 * d[r * cols + c]).sum();
        assert_eq!(*v, want, "dW column {c}");
    }

    let (rows, width) = (65_540, 256);
    let pre: Vec<f32> = (0..rows * width).map(|e| if e % 3 == 0 { -1.0 } else { 1.0 }).collect();
    let d_out: Vec<f32> = (0..rows * width).map(|e| (e % 5) as f32).collect();
    let got = gpu.download(&gpu.activation_backward(
        &gpu.upload(rows, width, &pre),
        &gpu.upload(rows, width, &d_out),
        Activation::Relu,
    ));
    for (e, v) in got.iter().enumerate() {
        let want = if e % 3 == 0 { 0.0 } else { (e % 5) as f32 };
        assert_eq!(*v, want, "activation_backward element {e}");
    }
}
