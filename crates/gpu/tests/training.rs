//! End-to-end: the trainer, unchanged, runs on `Gpu` and follows the reference run (`Cpu<f64>`) over
//! 200 steps of the default run (two moons, MLP 2→64→64→32 with projector 32→32→2, InfoNCE, Adam), with and
//! without difficult-pair selection. The batch is 64 samples (128 views, more than one 16-row tile and not
//! a multiple of the 64-wide matrix tiles' K) so that 200 steps stay quick on lavapipe; the 512-view run is
//! the bench's T1 (`spherelab bench --backend gpu --cases T1-plain`).
//!
//! Tolerance: the two runs start from the same parameters and see the same batches; f32 rounding (~1e-7
//! relative per op) grows through 200 optimiser steps, so the losses are compared step by step with
//! |gpu − ref| ≤ 2e-3·|ref| + 1e-3 over the first 50 steps, where the trajectories cannot yet have drifted
//! apart, and within 2 % on the mean of the last 20 steps.

use spherelab_core::Cpu;
use spherelab_core::backend::Backend;
use spherelab_core::config::{PairMode, RunConfig};
use spherelab_core::trainer::Trainer;
use spherelab_gpu::Gpu;

fn losses<B: Backend>(backend: B, cfg: &RunConfig, steps: usize) -> Vec<f64> {
    let mut t = Trainer::new(backend, cfg.clone()).expect("trainer");
    for _ in 0..steps {
        t.step().expect("step");
    }
    t.collect_losses(true).expect("losses");
    t.history().steps.iter().map(|s| s.loss as f64).collect()
}

fn gpu() -> Gpu {
    Gpu::new().unwrap_or_else(|e| panic!("GPU training test needs a GPU adapter (lavapipe: mesa-vulkan-drivers): {e}"))
}

fn compare(what: &str, got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{what}: step counts differ");
    for (s, (g, w)) in got.iter().zip(want).enumerate().take(50) {
        assert!((g - w).abs() <= 2e-3 * w.abs() + 1e-3, "{what}: step {s}: gpu loss {g} vs reference {w}");
    }
    let tail = |v: &[f64]| v[v.len() - 20..].iter().sum::<f64>() / 20.0;
    let (g, w) = (tail(got), tail(want));
    assert!((g - w).abs() <= 0.02 * w.abs(), "{what}: mean loss of the last 20 steps: gpu {g} vs reference {w}");
    assert!(w < want[0], "{what}: the reference run did not learn ({} → {w})", want[0]);
}

fn config() -> RunConfig {
    let mut cfg = RunConfig::default();
    cfg.train.batch_size = 64;
    cfg
}

#[test]
fn training_on_the_gpu_follows_the_reference_for_200_steps() {
    let cfg = config();
    compare("default run", &losses(gpu(), &cfg, 200), &losses(Cpu::<f64>::new(), &cfg, 200));
}

#[test]
fn training_with_selection_on_the_gpu_follows_the_reference_for_200_steps() {
    let mut cfg = config();
    cfg.selection.mode = PairMode::Combined;
    compare("selection (combined)", &losses(gpu(), &cfg, 200), &losses(Cpu::<f64>::new(), &cfg, 200));
}

#[test]
fn a_training_step_is_one_command_buffer() {
    let mut cfg = config();
    cfg.selection.mode = PairMode::Combined;
    cfg.train.eval_every = 1000; // no read-back inside the steps measured
    let mut t = Trainer::new(gpu(), cfg).expect("trainer");
    t.step().expect("first step"); // set-up work (parameter uploads, zeroed optimiser state) rides along
    for _ in 0..3 {
        let before = t.backend().submissions();
        t.step().expect("step");
        assert_eq!(t.backend().submissions() - before, 1, "one step must submit exactly one command buffer");
    }
}
