//! The activations after each hidden layer of the MLPs: forward and backward, element by element.
//!
//! Shapes: pre, out, ∂L/∂out and ∂L/∂pre are all n × width; out_ij = act(pre_ij).
//!
//! Value, act(x):
//!   identity  x
//!   relu      x for x > 0, else 0                        (NaN passes through, as in PyTorch)
//!   tanh      tanh x
//!   gelu      0.5·x·(1 + tanh u),  u = c·(x + a·x³),  c = √(2/π), a = 0.044715
//!             (the tanh approximation, since WGSL has no erf: the `Activation` doc in crate::config)
//! Gradient, ∂L/∂pre = ∂L/∂out ⊙ act'(pre), act'(x):
//!   identity  1
//!   relu      1 for x > 0, else 0                        (relu'(0) = 0, as in PyTorch)
//!   tanh      1 − tanh² x
//!   gelu      0.5·(1 + tanh u) + 0.5·x·(1 − tanh² u)·c·(1 + 3a·x²)
//!
//! Tuned path: `Cpu<F>::linear_forward` (its `out`) and `Cpu<F>::activation_backward` (crate::cpu, layers.rs:
//! the activation matched once outside a vectorised loop, a branch-free select for ReLU's backward).
//! WGSL: the forward inside shaders/matmul_*.wgsl (act from shaders/common.wgsl), the backward in
//! shaders/elementwise.wgsl. The tests below hold the tuned path to [`reference`](mod@reference).

/// The activations written like the formulas above, on `Matrix<f64>`.
pub mod reference {
    use crate::config::Activation;
    use crate::matrix::Matrix;

    /// c = √(2/π) of the GELU tanh approximation.
    pub const GELU_C: f64 = 0.797_884_560_802_865_4;
    /// a of the GELU tanh approximation.
    pub const GELU_A: f64 = 0.044_715;

    /// act(x).
    pub fn act(x: f64, a: Activation) -> f64 {
        match a {
            Activation::Identity => x,
            Activation::Relu => {
                if x > 0.0 || x.is_nan() {
                    x
                } else {
                    0.0
                }
            }
            Activation::Tanh => x.tanh(),
            Activation::Gelu => {
                let u = GELU_C * (x + GELU_A * x * x * x);
                0.5 * x * (1.0 + u.tanh())
            }
        }
    }

    /// act'(x).
    pub fn act_derivative(x: f64, a: Activation) -> f64 {
        match a {
            Activation::Identity => 1.0,
            Activation::Relu => {
                if x > 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
            Activation::Tanh => 1.0 - x.tanh() * x.tanh(),
            Activation::Gelu => {
                let u = GELU_C * (x + GELU_A * x * x * x);
                let du = GELU_C * (1.0 + 3.0 * GELU_A * x * x);
                0.5 * (1.0 + u.tanh()) + 0.5 * x * (1.0 - u.tanh() * u.tanh()) * du
            }
        }
    }

    /// out = act(pre), element by element.
    pub fn forward(pre: &Matrix<f64>, a: Activation) -> Matrix<f64> {
        Matrix::from_vec(pre.rows, pre.cols, pre.data.iter().map(|&x| act(x, a)).collect())
    }

    /// ∂L/∂pre = ∂L/∂out ⊙ act'(pre).
    pub fn backward(pre: &Matrix<f64>, d_out: &Matrix<f64>, a: Activation) -> Matrix<f64> {
        assert_eq!((pre.rows, pre.cols), (d_out.rows, d_out.cols), "activation backward: shapes differ");
        let data = pre.data.iter().zip(&d_out.data).map(|(&x, &g)| g * act_derivative(x, a)).collect();
        Matrix::from_vec(pre.rows, pre.cols, data)
    }
}

#[cfg(test)]
mod tests {
    use super::reference;
    use crate::backend::Backend;
    use crate::config::Activation;
    use crate::cpu::Cpu;
    use crate::float::Float;
    use crate::matrix::Matrix;
    use crate::ops::parity::{assert_close, at_precision, tols};
    use crate::rng::{rng, stream};
    use crate::testing::{assert_gradient_matches, random_matrix};

    const ALL: [Activation; 4] = [Activation::Identity, Activation::Relu, Activation::Tanh, Activation::Gelu];

    #[test]
    fn reference_gradients_match_finite_differences() {
        let mut r = rng(311, stream::TEST);
        for a in ALL {
            for (n, w) in [(1, 1), (4, 3), (7, 5)] {
                // Scaled ×2 so that GELU's and tanh's curved parts (|x| up to ~6) are probed, not just near 0.
                let mut pre = random_matrix(&mut r, n, w);
                pre.data.iter_mut().for_each(|v| *v *= 2.0);
                let g = random_matrix(&mut r, n, w);
                let loss = |p: &Matrix<f64>| -> f64 {
                    reference::forward(p, a).data.iter().zip(&g.data).map(|(o, g)| o * g).sum()
                };
                let d_pre = reference::backward(&pre, &g, a);
                assert_gradient_matches(&format!("{a:?} {n}×{w}"), &pre, &d_pre, loss);
            }
        }
    }

    #[test]
    fn reference_gelu_is_the_tanh_approximation_at_known_points() {
        // GELU(0) = 0, GELU(x) − GELU(−x) = x (the approximation keeps this identity of x·Φ(x)), and
        // GELU(1) = 0.841192 (PyTorch's gelu(approximate="tanh") at 1).
        assert_eq!(reference::act(0.0, Activation::Gelu), 0.0);
        for x in [0.3, 1.0, 2.5] {
            let odd = reference::act(x, Activation::Gelu) - reference::act(-x, Activation::Gelu);
            assert!((odd - x).abs() < 1e-15, "{x}: {odd}");
        }
        assert!((reference::act(1.0, Activation::Gelu) - 0.841_192).abs() < 1e-6);
        assert_eq!(reference::act_derivative(0.0, Activation::Relu), 0.0);
        assert!(reference::act(f64::NAN, Activation::Relu).is_nan());
    }

    /// Element counts around the vector widths (1, 7, 8, 9, 33…) and a 33k-element tensor.
    const SHAPES: [(usize, usize); 6] = [(1, 1), (7, 1), (3, 3), (33, 65), (130, 7), (130, 257)];

    /// `Cpu<F>` through the `Backend` trait: `linear_forward(…, act).out` against act of its own `pre`, and
    /// `activation_backward` against the reference on fresh random inputs.
    fn tuned_activation_matches_reference<F: Float>(seed: u64) {
        let cpu = Cpu::<F>::new();
        let (value_tol, grad_tol) = tols::<F>();
        let mut r = rng(seed, stream::TEST);
        for a in ALL {
            for (n, w) in SHAPES {
                let what = format!("Cpu<{}> {a:?} {n}×{w}", F::NAME);
                let up = |m: &Matrix<f64>| cpu.upload_f64(m.rows, m.cols, &m.data);
                // Forward through the layer, as the trainer does: x (n×4), W (4×w) scaled so pre spans ±6.
                let x = at_precision::<F>(&random_matrix(&mut r, n, 4));
                let mut wm = random_matrix(&mut r, 4, w);
                wm.data.iter_mut().for_each(|v| *v *= 1.5);
                let wm = at_precision::<F>(&wm);
                let b = at_precision::<F>(&random_matrix(&mut r, 1, w));
                let fwd = cpu.linear_forward(&up(&x), &up(&wm), &up(&b), a);
                let pre = Matrix::from_vec(n, w, cpu.download_f64(&fwd.pre));
                let want_out = reference::forward(&pre, a);
                assert_close(&format!("{what}: out"), value_tol, &cpu.download_f64(&fwd.out), &want_out.data);

                // Backward on a fresh pre and ∂L/∂out.
                let mut pre = random_matrix(&mut r, n, w);
                pre.data.iter_mut().for_each(|v| *v *= 2.0);
                let pre = at_precision::<F>(&pre);
                let d_out = at_precision::<F>(&random_matrix(&mut r, n, w));
                let got = cpu.activation_backward(&up(&pre), &up(&d_out), a);
                let want = reference::backward(&pre, &d_out, a);
                assert_close(&format!("{what}: d_pre"), grad_tol, &cpu.download_f64(&got), &want.data);
            }
        }
    }

    #[test]
    fn tuned_f64_activations_match_the_reference() {
        tuned_activation_matches_reference::<f64>(312);
    }

    #[test]
    fn tuned_f32_activations_match_the_reference() {
        tuned_activation_matches_reference::<f32>(313);
    }

    /// The conventions at the edges: ReLU at ±0 (value 0, slope 0), NaN through ReLU, saturation of tanh and
    /// GELU at large |x|, in both precisions.
    #[test]
    fn tuned_activations_follow_the_reference_at_the_edges() {
        let edges = [0.0, -0.0, 1e-30, -1e-30, 20.0, -20.0, 40.0, -40.0];
        // In the backend's precision (1e-30 is not an f32), so that x·I + 0 = x holds exactly.
        let pre = Matrix::from_vec(1, edges.len(), edges.to_vec());
        let ones = Matrix::from_vec(1, edges.len(), vec![1.0; edges.len()]);
        fn run<F: Float>(pre: &Matrix<f64>, ones: &Matrix<f64>) {
            let cpu = Cpu::<F>::new();
            let (value_tol, grad_tol) = tols::<F>();
            let pre = &at_precision::<F>(pre);
            let n = pre.cols;
            // x·I + 0 = x exactly, so `pre` reaches the activation unchanged.
            let mut eye = Matrix::zeros(n, n);
            (0..n).for_each(|i| eye.data[i * n + i] = 1.0);
            let up = |m: &Matrix<f64>| cpu.upload_f64(m.rows, m.cols, &m.data);
            for a in ALL {
                let what = format!("Cpu<{}> {a:?} at the edges", F::NAME);
                let fwd = cpu.linear_forward(&up(pre), &up(&eye), &up(&Matrix::zeros(1, n)), a);
                assert_eq!(cpu.download_f64(&fwd.pre), pre.data, "{what}: x·I changed x");
                let want = reference::forward(pre, a);
                assert_close(&format!("{what}: out"), value_tol, &cpu.download_f64(&fwd.out), &want.data);
                let d = cpu.activation_backward(&up(pre), &up(ones), a);
                assert_close(
                    &format!("{what}: d_pre"),
                    grad_tol,
                    &cpu.download_f64(&d),
                    &reference::backward(pre, ones, a).data,
                );
            }
            let nan = cpu.linear_forward(
                &cpu.upload_f64(1, 1, &[f64::NAN]),
                &cpu.upload_f64(1, 1, &[1.0]),
                &cpu.zeros(1, 1),
                Activation::Relu,
            );
            assert!(cpu.download_f64(&nan.out)[0].is_nan(), "Cpu<{}>: ReLU must pass NaN through", F::NAME);
        }
        run::<f64>(&pre, &ones);
        run::<f32>(&pre, &ones);
    }
}
