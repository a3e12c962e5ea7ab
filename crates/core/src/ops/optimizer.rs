//! The optimiser updates of docs/math.md §6: SGD (with momentum, optionally Nesterov), Adam and AdamW, each
//! with weight decay. Element-wise over one parameter tensor.
//!
//! Shapes: the parameter p, its gradient g and the optimiser's state m, v are tensors of one shape (a layer's
//! W, in × out, or b, 1 × out). m and v start at 0; SGD uses m as its momentum buffer and leaves v alone.
//! Step t counts from 1 (the trainer passes step + 1); lr is the scheduled rate of that step; wd = weight decay.
//!
//! SGD (as PyTorch's torch.optim.SGD with dampening 0):
//!   g ← g + wd·p                                   (L2 penalty in the gradient)
//!   μ > 0:  m ← μ·m + g;  step = g + μ·m (Nesterov) or m
//!   μ = 0:  step = g                               (Nesterov without momentum is plain SGD)
//!   p ← p − lr·step
//! Adam (β1, β2, ε; as torch.optim.Adam):
//!   g ← g + wd·p                                   (L2 penalty in the gradient)
//!   m ← β1·m + (1 − β1)·g;   v ← β2·v + (1 − β2)·g²
//!   m̂ = m/(1 − β1ᵗ);   v̂ = v/(1 − β2ᵗ)            (bias correction)
//!   p ← p − lr·m̂/(√v̂ + ε)
//! AdamW (as torch.optim.AdamW): decoupled decay, applied to p before the Adam step, with g left alone:
//!   p ← p·(1 − lr·wd), then Adam's update with wd = 0.
//!
//! Tuned path: `Cpu<F>::optimizer_step` (crate::cpu, optim.rs), in F. WGSL: shaders/optim.wgsl. The tests
//! below hold the tuned path to [`reference`](mod@reference) over several steps of every kind.

/// The updates written like the formulas above, on `Matrix<f64>`.
// Index loops on purpose: they read like the formulas.
#[allow(clippy::needless_range_loop)]
pub mod reference {
    use crate::backend::OptimStep;
    use crate::config::OptimizerKind;
    use crate::matrix::Matrix;

    /// One update of `p` from `g`, with state `m`, `v` (see the module doc). The step's f32 hyper-parameters
    /// are widened to f64 exactly.
    pub fn step(s: &OptimStep, p: &mut Matrix<f64>, g: &Matrix<f64>, m: &mut Matrix<f64>, v: &mut Matrix<f64>) {
        assert_eq!(p.data.len(), g.data.len(), "optimiser: p and g differ in size");
        match s.kind {
            OptimizerKind::Sgd => sgd(s, p, g, m),
            OptimizerKind::Adam | OptimizerKind::Adamw => adam(s, p, g, m, v),
        }
    }

    /// SGD with L2 weight decay and (Nesterov) momentum.
    pub fn sgd(s: &OptimStep, p: &mut Matrix<f64>, g: &Matrix<f64>, m: &mut Matrix<f64>) {
        let (lr, wd, mu) = (s.lr as f64, s.weight_decay as f64, s.momentum as f64);
        for i in 0..p.data.len() {
            let gi = g.data[i] + wd * p.data[i];
            let step = if mu > 0.0 {
                m.data[i] = mu * m.data[i] + gi;
                if s.nesterov { gi + mu * m.data[i] } else { m.data[i] }
            } else {
                gi
            };
            p.data[i] -= lr * step;
        }
    }

    /// Adam (L2 weight decay in the gradient) or AdamW (decoupled decay), with bias correction at step t ≥ 1.
    pub fn adam(s: &OptimStep, p: &mut Matrix<f64>, g: &Matrix<f64>, m: &mut Matrix<f64>, v: &mut Matrix<f64>) {
        let (lr, wd) = (s.lr as f64, s.weight_decay as f64);
        let (b1, b2, eps) = (s.beta1 as f64, s.beta2 as f64, s.eps as f64);
        let t = s.t.max(1) as i32; // step 0 would divide by 1 − β⁰ = 0: taken as step 1
        let decoupled = s.kind == OptimizerKind::Adamw;
        for i in 0..p.data.len() {
            let mut gi = g.data[i];
            if decoupled {
                p.data[i] *= 1.0 - lr * wd;
            } else {
                gi += wd * p.data[i];
            }
            m.data[i] = b1 * m.data[i] + (1.0 - b1) * gi;
            v.data[i] = b2 * v.data[i] + (1.0 - b2) * gi * gi;
            let m_hat = m.data[i] / (1.0 - b1.powi(t));
            let v_hat = v.data[i] / (1.0 - b2.powi(t));
            p.data[i] -= lr * m_hat / (v_hat.sqrt() + eps);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::reference;
    use crate::backend::{Backend, OptimStep};
    use crate::config::OptimizerKind;
    use crate::cpu::Cpu;
    use crate::float::Float;
    use crate::matrix::Matrix;
    use crate::ops::parity::{assert_close, at_precision, tols};
    use crate::rng::{rng, stream};
    use crate::testing::random_matrix;

    fn opt(kind: OptimizerKind, momentum: f32, nesterov: bool, weight_decay: f32) -> OptimStep {
        OptimStep { kind, lr: 0.05, momentum, nesterov, weight_decay, beta1: 0.9, beta2: 0.999, eps: 1e-8, t: 1 }
    }

    /// Every kind and option: plain SGD, momentum, Nesterov, each with and without weight decay; Adam with and
    /// without L2 decay; AdamW with and without decoupled decay; and a β/ε setting away from the defaults.
    fn configs() -> Vec<(&'static str, OptimStep)> {
        use OptimizerKind::{Adam, Adamw, Sgd};
        let mut odd = opt(Adam, 0.0, false, 0.01);
        (odd.beta1, odd.beta2, odd.eps) = (0.5, 0.9, 1e-3);
        vec![
            ("sgd", opt(Sgd, 0.0, false, 0.0)),
            ("sgd wd", opt(Sgd, 0.0, false, 0.1)),
            ("sgd nesterov without momentum", opt(Sgd, 0.0, true, 0.0)),
            ("sgd momentum", opt(Sgd, 0.9, false, 0.0)),
            ("sgd momentum wd", opt(Sgd, 0.9, false, 0.1)),
            ("sgd nesterov", opt(Sgd, 0.9, true, 0.0)),
            ("sgd nesterov wd", opt(Sgd, 0.9, true, 0.1)),
            ("adam", opt(Adam, 0.0, false, 0.0)),
            ("adam wd", opt(Adam, 0.0, false, 0.1)),
            ("adamw", opt(Adamw, 0.0, false, 0.0)),
            ("adamw wd", opt(Adamw, 0.0, false, 0.1)),
            ("adam β1 .5 β2 .9 ε 1e-3 wd", odd),
        ]
    }

    fn one(x: f64) -> Matrix<f64> {
        Matrix::from_vec(1, 1, vec![x])
    }

    /// The reference against hand-computed closed forms (the optimisers have no gradient to check).
    #[test]
    fn reference_matches_closed_forms() {
        let lr = 0.05f32 as f64; // the step's lr, an f32, widened exactly
        // SGD momentum, constant g = 1, μ = 0.9: m = 1, 1 + μ, 1 + μ + μ² (1, 1.9, 2.71); plain steps by m,
        // Nesterov by g + μ·m (1.9, 2.71, 3.439).
        let mu = 0.9f32 as f64;
        let ms = [1.0, 1.0 + mu, 1.0 + mu + mu * mu];
        let plain = -lr * ms.iter().sum::<f64>();
        let nesterov = -lr * ms.iter().map(|m| 1.0 + mu * m).sum::<f64>();
        for (nesterov, want) in [(false, plain), (true, nesterov)] {
            let s = opt(OptimizerKind::Sgd, 0.9, nesterov, 0.0);
            let (mut p, mut m, mut v) = (one(0.0), one(0.0), one(0.0));
            for _ in 0..3 {
                reference::step(&s, &mut p, &one(1.0), &mut m, &mut v);
            }
            assert!((p.data[0] - want).abs() < 1e-12, "nesterov {nesterov}: {} vs {want}", p.data[0]);
            assert_eq!(v.data[0], 0.0, "SGD leaves v alone");
        }
        // SGD weight decay on a zero gradient: p ← p·(1 − lr·wd) each step.
        let s = opt(OptimizerKind::Sgd, 0.0, false, 0.5);
        let (mut p, mut m, mut v) = (one(2.0), one(0.0), one(0.0));
        reference::step(&s, &mut p, &one(0.0), &mut m, &mut v);
        assert!((p.data[0] - 2.0 * (1.0 - lr * 0.5)).abs() < 1e-12);
        // Adam at t = 1: m̂ = g, v̂ = g², so p moves by lr·g/(|g| + ε), whatever |g|.
        for g in [0.3, -4.0, 1e-3] {
            let s = opt(OptimizerKind::Adam, 0.0, false, 0.0);
            let (mut p, mut m, mut v) = (one(1.0), one(0.0), one(0.0));
            reference::step(&s, &mut p, &one(g), &mut m, &mut v);
            let want = 1.0 - lr * g / (g.abs() + 1e-8f32 as f64);
            assert!((p.data[0] - want).abs() < 1e-12, "g = {g}: {} vs {want}", p.data[0]);
        }
        // Adam with a constant gradient: m̂ = g and v̂ = g² at every t (bias correction exact), so every step is
        // −lr·g/(|g| + ε).
        let mut s = opt(OptimizerKind::Adam, 0.0, false, 0.0);
        let (mut p, mut m, mut v) = (one(0.0), one(0.0), one(0.0));
        for t in 1..=5 {
            s.t = t;
            reference::step(&s, &mut p, &one(-2.0), &mut m, &mut v);
        }
        let want = 5.0 * lr * 2.0 / (2.0 + 1e-8f32 as f64);
        assert!((p.data[0] - want).abs() < 1e-12, "{} vs {want}", p.data[0]);
        // AdamW with g = 0: only the decay acts (m = v = 0, so the Adam term is 0/(0 + ε) = 0).
        // Adam with g = 0 and wd > 0: the decay enters g, so the first step is lr·sign(p), not a decay.
        let (mut p, mut m, mut v) = (one(2.0), one(0.0), one(0.0));
        reference::step(&opt(OptimizerKind::Adamw, 0.0, false, 0.5), &mut p, &one(0.0), &mut m, &mut v);
        assert!((p.data[0] - 2.0 * (1.0 - lr * 0.5)).abs() < 1e-12);
        let (mut p, mut m, mut v) = (one(2.0), one(0.0), one(0.0));
        reference::step(&opt(OptimizerKind::Adam, 0.0, false, 0.5), &mut p, &one(0.0), &mut m, &mut v);
        assert!((p.data[0] - (2.0 - lr)).abs() < 1e-7, "{}", p.data[0]);
    }

    /// Tensor shapes of the layers' W and b, odd sizes included (the update is element-wise, with no blocking).
    const SHAPES: [(usize, usize); 5] = [(1, 1), (1, 7), (7, 3), (33, 65), (130, 1)];
    const STEPS: u64 = 6;

    /// `Cpu<F>::optimizer_step` through the `Backend` trait, as the trainer calls it (t = step + 1, a
    /// scheduled lr that changes every step, a fresh gradient every step), against the reference from the same
    /// random start; p, m and v compared after every step.
    fn tuned_optimizer_matches_reference<F: Float>(seed: u64) {
        let cpu = Cpu::<F>::new();
        let (value_tol, _) = tols::<F>();
        let mut r = rng(seed, stream::TEST);
        for (name, base) in configs() {
            for (rows, cols) in SHAPES {
                let what = format!("Cpu<{}> {name} {rows}×{cols}", F::NAME);
                let up = |m: &Matrix<f64>| cpu.upload_f64(m.rows, m.cols, &m.data);
                let mut p = at_precision::<F>(&random_matrix(&mut r, rows, cols));
                let (mut m, mut v) = (Matrix::zeros(rows, cols), Matrix::zeros(rows, cols));
                let (mut tp, mut tm, mut tv) = (up(&p), cpu.zeros(rows, cols), cpu.zeros(rows, cols));
                for t in 1..=STEPS {
                    let s = OptimStep { t, lr: base.lr * (1.0 - 0.1 * t as f32), ..base };
                    let g = at_precision::<F>(&random_matrix(&mut r, rows, cols));
                    cpu.optimizer_step(&s, &mut tp, &up(&g), &mut tm, &mut tv);
                    reference::step(&s, &mut p, &g, &mut m, &mut v);
                    assert_close(&format!("{what} step {t}: p"), value_tol, &cpu.download_f64(&tp), &p.data);
                    assert_close(&format!("{what} step {t}: m"), value_tol, &cpu.download_f64(&tm), &m.data);
                    assert_close(&format!("{what} step {t}: v"), value_tol, &cpu.download_f64(&tv), &v.data);
                }
            }
        }
    }

    #[test]
    fn tuned_f64_optimizers_match_the_reference() {
        tuned_optimizer_matches_reference::<f64>(321);
    }

    #[test]
    fn tuned_f32_optimizers_match_the_reference() {
        tuned_optimizer_matches_reference::<f32>(322);
    }
}
