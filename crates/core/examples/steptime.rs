//! Profiling aid: runs T1 (or T2 with `t2`) training steps on Cpu<f32>, for callgrind or perf.
use spherelab_core::config::*;
use spherelab_core::{Cpu, Trainer};
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let t2 = args.iter().any(|a| a == "t2");
    let sel = args.iter().any(|a| a == "sel");
    let steps: usize = args.iter().find_map(|a| a.parse().ok()).unwrap_or(20);
    let mut c = RunConfig::default();
    if t2 {
        c.data.dataset = DatasetKind::Digits;
        c.model.encoder = vec![256, 256, 128];
        c.model.projector = vec![128, 32];
        c.train.batch_size = 512;
    } else {
        c.data.n = 2048;
        c.model.encoder = vec![64, 64, 32];
        c.model.projector = vec![32, 3];
        c.train.batch_size = 256;
    }
    if sel {
        c.selection.mode = PairMode::Combined;
    }
    c.train.eval_every = 1_000_000;
    let mut t = Trainer::new(Cpu::<f32>::new(), c).unwrap();
    let t0 = std::time::Instant::now();
    for _ in 0..steps {
        t.step().unwrap();
    }
    println!("{} steps in {:.3} s", steps, t0.elapsed().as_secs_f64());
}
