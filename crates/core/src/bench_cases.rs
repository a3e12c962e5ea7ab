//! The benchmark cases, defined once: `spherelab bench` times them on each backend, and bench/torch_peer.py
//! mirrors them in PyTorch.
//!
//! - T1: moons, MLP 2→64→64→32, projector 32→32→3, N = 256 (512 views), InfoNCE τ = 0.2, Adam lr 1e-3;
//! - T2: digits, MLP 64→256→256→128, projector 128→128→32, N = 512 (1,024 views), otherwise as T1;
//!   each plain and with selection (posHigh 0.25, posLow 1.0, σ = 0.1, ρ = 0.7, combined mode);
//! - loss-4096, loss-16384: InfoNCE forward + backward alone on 4,096 / 16,384 views, d = 128.

use crate::Result;
use crate::backend::Backend;
use crate::config::{DatasetKind, LossKind, PairMode, RunConfig};
use crate::training::trainer::Trainer;

/// Every case, in the order the table lists them.
pub const CASES: [&str; 6] = ["T1-plain", "T1-selected", "T2-plain", "T2-selected", "loss-4096", "loss-16384"];

/// The training configuration of a T case.
pub fn case_config(case: &str) -> Option<RunConfig> {
    let mut c = RunConfig::default();
    match case {
        "T1-plain" | "T1-selected" => {
            c.data.dataset = DatasetKind::Moons;
            c.data.n = 2048;
            c.model.encoder = vec![64, 64, 32];
            c.model.projector = vec![32, 3];
            c.train.batch_size = 256;
        }
        "T2-plain" | "T2-selected" => {
            c.data.dataset = DatasetKind::Digits;
            c.model.encoder = vec![256, 256, 128];
            c.model.projector = vec![128, 32];
            c.train.batch_size = 512;
        }
        _ => return None,
    }
    c.loss.kind = LossKind::Infonce;
    c.loss.tau = 0.2;
    c.optimizer.lr = 1e-3;
    if case.ends_with("selected") {
        c.selection.mode = PairMode::Combined;
        c.selection.pos_high = 0.25;
        c.selection.pos_low = 1.0;
        c.selection.sigma = 0.1;
        c.selection.rho = 0.7;
    }
    // No metrics inside the timed loop; losses are read back once at the end.
    c.train.eval_every = usize::MAX / 2;
    Some(c)
}

/// Input dimension of the T cases' data: moons are 2-D points, the digits 8×8 = 64 pixels.
fn input_dim(case: &str) -> usize {
    if case.starts_with("T2") { 64 } else { 2 }
}

/// Floating-point operations of one step of `case` (multiply and add counted apart), from the shapes alone:
/// - each linear layer (in → out) on R = 2N rows: forward 2·R·in·out; backward 2·R·in·out for ∂L/∂W plus the
///   same for ∂L/∂x on every layer but the first (its input is data);
/// - the loss on R views of d dimensions: S = ẐẐᵀ (2·R²·d) and ∂L/∂Ẑ = (G + Gᵀ)Ẑ as two products (4·R²·d), as
///   PyTorch's autograd computes it — the CPU engine forms G + Gᵀ and does one product when d ≥ 5 (ops/loss),
///   but the count stays the formula's, so figures compare across versions and with the peer (T2's GFLOP/s
///   is then up to 7 % above the arithmetic done);
/// - with selection, the cosine similarities of h (2·R²·d_h).
///
/// Element-wise work (exponentials, activations, the optimiser) is left out: it is O(R²) or O(parameters),
/// small beside the products. T2 comes to ≈ 1.0 GFLOP (forward 0.28, backward 0.52, loss 0.20).
pub fn flops_per_step(case: &str) -> Option<f64> {
    if let Some(views) = loss_case_views(case) {
        return Some(6.0 * (views * views) as f64 * 128.0);
    }
    let cfg = case_config(case)?;
    let rows = 2.0 * cfg.train.batch_size as f64;
    let (shapes, _) = crate::model::layer_shapes(&cfg.model, input_dim(case));
    let products: Vec<f64> = shapes.iter().map(|&(i, o, _)| 2.0 * rows * (i * o) as f64).collect();
    let forward: f64 = products.iter().sum();
    let backward = forward + products.iter().skip(1).sum::<f64>();
    let d = cfg.model.embedding_dim() as f64;
    let loss = 6.0 * rows * rows * d;
    let selection =
        if cfg.selection.mode == PairMode::None { 0.0 } else { 2.0 * rows * rows * cfg.model.feature_dim() as f64 };
    Some(forward + backward + loss + selection)
}

/// The views of a loss-only case ("loss-4096" → 4096).
pub fn loss_case_views(case: &str) -> Option<usize> {
    case.strip_prefix("loss-").and_then(|v| v.parse().ok())
}

/// Untimed steps a training case takes before its clock starts, at the least (pipelines compiled, buffers
/// allocated).
pub const WARM_UP_STEPS: usize = 3;

/// Takes a case's untimed steps: `WARM_UP_STEPS`, and more while `more()` holds — the caller's time budget on
/// its own clock (std's natively, web_time's in the browser, whose JIT needs a second; crates/app's
/// step_timer.rs). Returns how many steps it took.
pub fn warm_up<B: Backend>(trainer: &mut Trainer<B>, mut more: impl FnMut() -> bool) -> Result<usize> {
    let mut steps = 0;
    while steps < WARM_UP_STEPS || more() {
        trainer.step()?;
        steps += 1;
    }
    Ok(steps)
}

/// Timed steps for `case` when T1 gets `base`: the larger cases take fewer.
pub fn steps_for(case: &str, base: usize) -> usize {
    match case {
        c if c.starts_with("T2") => (base / 3).max(5),
        "loss-4096" => (base / 10).max(3),
        "loss-16384" => (base / 50).max(2),
        _ => base.max(5),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_case_is_a_training_config_or_a_loss_size() {
        for c in CASES {
            assert!(case_config(c).is_some() != loss_case_views(c).is_some(), "{c}");
            assert!(steps_for(c, 100) >= 2);
        }
        assert_eq!(case_config("T2-selected").unwrap().selection.mode, PairMode::Combined);
        assert!(case_config("T9").is_none() && loss_case_views("loss-x").is_none());
    }

    #[test]
    fn flop_counts_follow_the_shapes() {
        // T2 by hand: rows 1,024; Σ in·out = 64·256 + 256·256 + 256·128 + 128·128 + 128·32 = 135,168.
        let fwd = 2.0 * 1024.0 * 135_168.0;
        let bwd = fwd + 2.0 * 1024.0 * (135_168.0 - 64.0 * 256.0);
        let loss = 6.0 * 1024.0 * 1024.0 * 32.0;
        assert_eq!(flops_per_step("T2-plain"), Some(fwd + bwd + loss));
        let sel = 2.0 * 1024.0 * 1024.0 * 128.0;
        assert_eq!(flops_per_step("T2-selected"), Some(fwd + bwd + loss + sel));
        assert!((flops_per_step("T2-plain").unwrap() / 1e9 - 1.0).abs() < 0.05);
        assert_eq!(flops_per_step("loss-4096"), Some(6.0 * 4096.0 * 4096.0 * 128.0));
    }
}
