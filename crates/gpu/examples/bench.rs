//! Times training steps and single ops on the GPU backend (and the CPU fallback for comparison).
//!
//! `cargo run -p spherelab-gpu --example bench --release -- [t1|t2|infonce N D|all]`
//! - t1: moons, MLP 2→64→64→32, projector 32→32→3, 512 views
//! - t2: digits, 64→256→256→128, projector 128→32, 1024 views
//! - infonce N D: one InfoNCE value + gradient on N views of dimension D (e.g. 8192 128)

use std::time::Instant;

use spherelab_core::Cpu;
use spherelab_core::backend::{Backend, LossParams, Pairs};
use spherelab_core::config::{DatasetKind, RunConfig};
use spherelab_core::trainer::Trainer;
use spherelab_gpu::Gpu;

fn config(which: &str) -> RunConfig {
    let mut cfg = RunConfig::default();
    match which {
        "t1" => {
            cfg.data.dataset = DatasetKind::Moons;
            cfg.model.encoder = vec![64, 64, 32];
            cfg.model.projector = vec![32, 3];
            cfg.train.batch_size = 256;
        }
        _ => {
            cfg.data.dataset = DatasetKind::Digits;
            cfg.model.encoder = vec![256, 256, 128];
            cfg.model.projector = vec![128, 32];
            cfg.train.batch_size = 512;
        }
    }
    cfg
}

fn time_steps<B: Backend>(name: &str, backend: B, cfg: &RunConfig, steps: usize) -> Trainer<B> {
    let mut t = Trainer::new(backend, cfg.clone()).expect("trainer");
    t.step().expect("warm-up step");
    t.collect_losses(true).expect("losses");
    let start = Instant::now();
    for _ in 0..steps {
        t.step().expect("step");
    }
    t.collect_losses(true).expect("losses");
    let per = start.elapsed().as_secs_f64() / steps as f64;
    println!("{name:>10}: {:8.2} ms/step ({})", per * 1e3, t.info().adapter);
    t
}

fn infonce(n: usize, d: usize) {
    let gpu = Gpu::new().expect("GPU adapter");
    let data: Vec<f32> = (0..n * d).map(|i| ((i * 7919 % 1000) as f32 / 500.0) - 1.0).collect();
    let z = gpu.upload(n, d, &data);
    let p = LossParams::infonce(0.2);
    let start = Instant::now();
    let out = gpu.loss(&p, &z, &Pairs::None, None);
    let v = gpu.download(&out.value);
    let _ = gpu.download(&out.grad);
    println!("infonce {n}×{d}: {:.2} s, loss {} ({})", start.elapsed().as_secs_f64(), v[0], gpu.info().adapter);
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let which = args.first().map(String::as_str).unwrap_or("all");
    if which == "infonce" {
        let n = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(8192);
        let d = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(128);
        infonce(n, d);
        return;
    }
    for case in ["t1", "t2"] {
        if which != "all" && which != case {
            continue;
        }
        let cfg = config(case);
        println!("{case}:");
        match Gpu::new() {
            Ok(gpu) => {
                let t = time_steps("gpu", gpu, &cfg, 10);
                for (k, n, t) in t.backend().profile_report().iter().take(12) {
                    println!("    {:8.2} ms in {n:4} × {k}", t * 1e3);
                }
            }
            Err(e) => println!("{e}"),
        }
        let _ = time_steps("cpu-f32", Cpu::<f32>::new(), &cfg, 10);
    }
}
