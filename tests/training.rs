//! End-to-end training on the CPU backend: the engine learns real structure from the toy data and from
//! the 8×8 digits (issue: foundation, item 8).

use spherelab_core::config::{DatasetKind, LossKind, RunConfig};
use spherelab_core::{Cpu, Trainer};

fn moons() -> RunConfig {
    let mut cfg = RunConfig::default();
    cfg.seed = 1;
    cfg.data.dataset = DatasetKind::Moons;
    cfg.data.n = 600;
    cfg.data.noise = 0.08;
    cfg.model.projector = vec![32, 2];
    cfg.train.batch_size = 128;
    cfg.optimizer.lr = 3e-3;
    cfg
}

#[test]
fn training_on_moons_lifts_knn_accuracy_well_above_chance() {
    let mut cfg = moons();
    cfg.train.steps = 300;
    cfg.train.eval_every = 300;
    let mut t = Trainer::new(Cpu::<f32>::new(), cfg).unwrap();
    let before = t.evaluate().unwrap();
    t.run(300, |_| {}).unwrap();
    let after = t.history().metrics.last().unwrap().clone();
    let first_loss = t.history().steps[..10].iter().map(|s| s.loss).sum::<f32>() / 10.0;
    let last_loss = t.history().steps[290..].iter().map(|s| s.loss).sum::<f32>() / 10.0;
    eprintln!(
        "moons: kNN {:.3} → {:.3}, loss {first_loss:.3} → {last_loss:.3}",
        before.knn_accuracy, after.knn_accuracy
    );
    assert!(last_loss < first_loss, "loss did not fall: {first_loss} → {last_loss}");
    assert!(after.knn_accuracy >= 0.85, "kNN accuracy {} is not well above chance (0.5)", after.knn_accuracy);
}

#[test]
fn training_on_digits_gives_a_linear_probe_above_80_percent() {
    let mut cfg = RunConfig::default();
    cfg.seed = 2;
    cfg.data.dataset = DatasetKind::Digits;
    cfg.model.encoder = vec![128, 64];
    cfg.model.projector = vec![64, 32];
    cfg.loss.kind = LossKind::Infonce;
    cfg.loss.tau = 0.2;
    cfg.train.batch_size = 256;
    cfg.train.steps = 300;
    cfg.train.eval_every = 300;
    cfg.optimizer.lr = 2e-3;
    let mut t = Trainer::new(Cpu::<f32>::new(), cfg).unwrap();
    t.run(300, |_| {}).unwrap();
    let m = t.history().metrics.last().unwrap();
    eprintln!("digits: probe {:.3}, kNN {:.3}", m.probe_accuracy, m.knn_accuracy);
    assert!(m.probe_accuracy > 0.80, "probe accuracy {} ≤ 0.80", m.probe_accuracy);
}

#[test]
fn every_loss_and_selection_mode_trains_without_error() {
    use spherelab_core::config::PairMode;
    for kind in LossKind::ALL {
        let modes: &[PairMode] = if kind.supports_selection() {
            if kind == LossKind::Spectral {
                &[PairMode::None, PairMode::Removal, PairMode::Margin, PairMode::Combined]
            } else {
                &PairMode::ALL
            }
        } else {
            &[PairMode::None]
        };
        for &mode in modes {
            let mut cfg = moons();
            cfg.loss.kind = kind;
            cfg.selection.mode = mode;
            cfg.model.normalize = kind != LossKind::Spectral;
            cfg.train.steps = 5;
            cfg.train.eval_every = 5;
            let mut t = Trainer::new(Cpu::<f32>::new(), cfg).unwrap();
            t.run(5, |_| {}).unwrap_or_else(|e| panic!("{} / {}: {e}", kind.name(), mode.name()));
            assert!(t.history().steps.iter().all(|s| s.loss.is_finite()), "{} / {}", kind.name(), mode.name());
        }
    }
}
