//! Optimiser updates (docs/math.md §6), element-wise over a parameter tensor. The same rule is written in
//! shaders/optim.wgsl.

use crate::backend::OptimStep;
use crate::config::OptimizerKind;
use crate::float::Float;

/// One update of `param` from `grad`.
/// - SGD: g ← g + wd·p; m ← μ·m + g; step = g + μ·m (Nesterov) or m (μ > 0) or g; p ← p − lr·step.
/// - Adam: g ← g + wd·p; m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²; p ← p − lr·m̂/(√v̂ + ε) with
///   m̂ = m/(1−β1^t), v̂ = v/(1−β2^t).
/// - AdamW: as Adam without the wd term in g, and p ← p·(1 − lr·wd) first (decoupled decay, as PyTorch).
pub fn optimizer_step<F: Float>(s: &OptimStep, param: &mut [F], grad: &[F], m: &mut [F], v: &mut [F]) {
    assert_eq!(param.len(), grad.len(), "optimizer_step: param and grad differ in size");
    assert_eq!((m.len(), v.len()), (param.len(), param.len()), "optimizer_step: the moments differ in size");
    let lr = F::of(s.lr as f64);
    let wd = F::of(s.weight_decay as f64);
    match s.kind {
        OptimizerKind::Sgd => {
            let mu = F::of(s.momentum as f64);
            crate::simd::vectorized(
                #[inline(always)]
                || {
                    for ((p, &g), m) in param.iter_mut().zip(grad).zip(m.iter_mut()) {
                        let g = g + wd * *p;
                        let step = if s.momentum > 0.0 {
                            *m = mu * *m + g;
                            if s.nesterov { g + mu * *m } else { *m }
                        } else {
                            g
                        };
                        *p = *p - lr * step;
                    }
                },
            );
        }
        OptimizerKind::Adam | OptimizerKind::Adamw => {
            let decoupled = s.kind == OptimizerKind::Adamw;
            let (b1, b2) = (F::of(s.beta1 as f64), F::of(s.beta2 as f64));
            let t = s.t.max(1) as i32;
            let c1 = F::one() - b1.powi(t);
            let c2 = F::one() - b2.powi(t);
            let eps = F::of(s.eps as f64);
            // Zipped slices, so the loop has no bounds checks and vectorises (each element's arithmetic as before).
            crate::simd::vectorized(
                #[inline(always)]
                || {
                    for (((p, &g), m), v) in param.iter_mut().zip(grad).zip(m.iter_mut()).zip(v.iter_mut()) {
                        let mut g = g;
                        if decoupled {
                            *p = *p * (F::one() - lr * wd);
                        } else {
                            g = g + wd * *p;
                        }
                        *m = b1 * *m + (F::one() - b1) * g;
                        *v = b2 * *v + (F::one() - b2) * g * g;
                        let mhat = *m / c1;
                        let vhat = *v / c2;
                        *p = *p - lr * mhat / (vhat.sqrt() + eps);
                    }
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(kind: OptimizerKind, t: u64) -> OptimStep {
        OptimStep {
            kind,
            lr: 0.1,
            momentum: 0.9,
            nesterov: false,
            weight_decay: 0.0,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            t,
        }
    }

    #[test]
    fn adam_first_step_moves_each_parameter_by_lr_against_the_gradient_sign() {
        // With bias correction, m̂ = g and v̂ = g² at t = 1, so the step is lr·g/|g| (up to ε).
        let mut p = vec![1.0f64, -2.0, 0.5];
        let g = vec![0.3, -4.0, 1e-3];
        let (mut m, mut v) = (vec![0.0; 3], vec![0.0; 3]);
        optimizer_step(&step(OptimizerKind::Adam, 1), &mut p, &g, &mut m, &mut v);
        let expect = [0.9, -1.9, 0.4];
        for (a, b) in p.iter().zip(expect) {
            assert!((a - b).abs() < 1e-4, "{a} vs {b}");
        }
    }

    #[test]
    fn sgd_momentum_accumulates_like_pytorch() {
        let mut p = vec![0.0f64];
        let (mut m, mut v) = (vec![0.0], vec![0.0]);
        for t in 1..=3 {
            optimizer_step(&step(OptimizerKind::Sgd, t), &mut p, &[1.0], &mut m, &mut v);
        }
        // buf: 1, 1.9, 2.71; p = −0.1·(1 + 1.9 + 2.71)
        assert!((p[0] + 0.561).abs() < 1e-6, "{}", p[0]);
    }

    #[test]
    fn adamw_decays_weights_without_gradient() {
        let mut s = step(OptimizerKind::Adamw, 1);
        s.weight_decay = 0.5;
        let mut p = vec![2.0f64];
        let (mut m, mut v) = (vec![0.0], vec![0.0]);
        optimizer_step(&s, &mut p, &[0.0], &mut m, &mut v);
        assert!((p[0] - 2.0 * (1.0 - 0.05)).abs() < 1e-6);
    }
}
