//! Learning-rate schedules (docs/math.md §6).

use crate::config::{OptimizerConfig, Schedule};

/// The learning rate at 0-based `step` of a run of `total` steps.
/// - constant: lr
/// - cosine: lr·½(1 + cos(π·step/total))
/// - warmup-cosine: lr·(step+1)/warmup for step < warmup, then cosine over the remaining steps.
pub fn lr_at(cfg: &OptimizerConfig, step: usize, total: usize) -> f32 {
    let cosine = |t: usize, span: usize| -> f32 {
        if span == 0 {
            return cfg.lr;
        }
        let frac = (t.min(span) as f64) / span as f64;
        (cfg.lr as f64 * 0.5 * (1.0 + (std::f64::consts::PI * frac).cos())) as f32
    };
    match cfg.schedule {
        Schedule::Constant => cfg.lr,
        Schedule::Cosine => cosine(step, total),
        Schedule::WarmupCosine => {
            let w = cfg.warmup_steps;
            if step < w {
                (cfg.lr as f64 * (step + 1) as f64 / w as f64) as f32
            } else {
                cosine(step - w, total.saturating_sub(w))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosine_starts_at_lr_and_ends_at_zero_and_warmup_ramps_linearly() {
        let mut cfg = OptimizerConfig { lr: 1.0, schedule: Schedule::Cosine, ..Default::default() };
        assert_eq!(lr_at(&cfg, 0, 100), 1.0);
        assert!((lr_at(&cfg, 50, 100) - 0.5).abs() < 1e-6);
        assert!(lr_at(&cfg, 100, 100).abs() < 1e-6);
        cfg.schedule = Schedule::WarmupCosine;
        cfg.warmup_steps = 10;
        assert!((lr_at(&cfg, 0, 100) - 0.1).abs() < 1e-6);
        assert!((lr_at(&cfg, 9, 100) - 1.0).abs() < 1e-6);
        assert!((lr_at(&cfg, 10, 100) - 1.0).abs() < 1e-6);
        cfg.schedule = Schedule::Constant;
        assert_eq!(lr_at(&cfg, 77, 100), 1.0);
    }
}
