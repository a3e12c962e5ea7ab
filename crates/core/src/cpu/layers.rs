//! Linear layer and activations: forward and backward, as plain loops over rows (row normalisation, which the
//! losses share, is crate::ops::normalize).

use crate::backend::{LinearGrads, LinearOut};
use crate::config::Activation;
use crate::float::Float;
use crate::matrix::Matrix;
pub use crate::ops::normalize::{normalize_backward, normalize_forward};
use crate::parallel::{CHUNK_ELEMENTS, map_elements, map_zip};

/// √(2/π), the GELU tanh-approximation constant.
const GELU_C: f64 = 0.797_884_560_802_865_4;
const GELU_A: f64 = 0.044_715;

/// act(x) for one element.
#[inline]
pub fn activation_forward<F: Float>(x: F, act: Activation) -> F {
    match act {
        Activation::Identity => x,
        // NaN passes through (as in PyTorch), so that a broken input shows up as a NaN loss instead of
        // being silently zeroed by max().
        Activation::Relu => {
            if x > F::zero() || x.is_nan() {
                x
            } else {
                F::zero()
            }
        }
        Activation::Tanh => x.tanh(),
        // 0.5·x·(1 + tanh(c·(x + a·x³)))
        Activation::Gelu => {
            let u = F::of(GELU_C) * (x + F::of(GELU_A) * x * x * x);
            F::of(0.5) * x * (F::one() + u.tanh())
        }
    }
}

/// act'(x) for one element. ReLU'(0) = 0, as in PyTorch.
#[inline]
fn activation_derivative<F: Float>(x: F, act: Activation) -> F {
    match act {
        Activation::Identity => F::one(),
        Activation::Relu => {
            if x > F::zero() {
                F::one()
            } else {
                F::zero()
            }
        }
        Activation::Tanh => {
            let t = x.tanh();
            F::one() - t * t
        }
        // d/dx [0.5·x·(1 + tanh u)] = 0.5·(1 + tanh u) + 0.5·x·(1 − tanh² u)·c·(1 + 3a·x²)
        Activation::Gelu => {
            let u = F::of(GELU_C) * (x + F::of(GELU_A) * x * x * x);
            let t = u.tanh();
            let du = F::of(GELU_C) * (F::one() + F::of(3.0 * GELU_A) * x * x);
            F::of(0.5) * (F::one() + t) + F::of(0.5) * x * (F::one() - t * t) * du
        }
    }
}

/// pre = x·W + b (x: n×in, W: in×out, b: 1×out); out = act(pre).
pub fn linear_forward<F: Float>(x: &Matrix<F>, w: &Matrix<F>, b: &Matrix<F>, act: Activation) -> LinearOut<Matrix<F>> {
    assert_eq!(x.cols, w.rows, "linear_forward: x has {} columns, W has {} rows", x.cols, w.rows);
    assert_eq!((b.rows, b.cols), (1, w.cols), "linear_forward: bias must be 1×{}", w.cols);
    let mut pre = x.matmul(w);
    let cols = pre.cols;
    crate::parallel::map_row_chunks(
        &mut pre.data,
        cols,
        CHUNK_ELEMENTS.div_ceil(cols.max(1)),
        #[inline(always)]
        |_, rows| {
            for row in rows.chunks_mut(cols) {
                for (v, &bias) in row.iter_mut().zip(&b.data) {
                    *v = *v + bias;
                }
            }
        },
    );
    let out = Matrix::from_vec(pre.rows, pre.cols, map_activation(&pre.data, act, activation_forward));
    LinearOut { pre, out }
}

/// dx = d_pre·Wᵀ, dW = xᵀ·d_pre, db = Σ_rows d_pre.
pub fn linear_backward<F: Float>(
    x: &Matrix<F>,
    w: &Matrix<F>,
    d_pre: &Matrix<F>,
    need_dx: bool,
) -> LinearGrads<Matrix<F>> {
    assert_eq!((d_pre.rows, d_pre.cols), (x.rows, w.cols), "linear_backward: d_pre shape");
    let dw = x.t_matmul(d_pre);
    let mut db = Matrix::zeros(1, w.cols);
    for r in 0..d_pre.rows {
        for (acc, &g) in db.data.iter_mut().zip(d_pre.row(r)) {
            *acc = *acc + g;
        }
    }
    let dx = need_dx.then(|| d_pre.matmul_t(w));
    LinearGrads { dx, dw, db }
}

/// ∂L/∂pre = ∂L/∂out ⊙ act'(pre).
pub fn activation_backward<F: Float>(pre: &Matrix<F>, d_out: &Matrix<F>, act: Activation) -> Matrix<F> {
    assert_eq!((pre.rows, pre.cols), (d_out.rows, d_out.cols), "activation_backward: shapes differ");
    let data = match act {
        Activation::Identity => d_out.data.clone(),
        // Branch-free select, so the loop vectorises (ReLU is the default and the hot case).
        Activation::Relu => map_zip(&pre.data, &d_out.data, |p, g| if p > F::zero() { g } else { F::zero() }),
        Activation::Tanh => map_zip(&pre.data, &d_out.data, |p, g| g * activation_derivative(p, Activation::Tanh)),
        Activation::Gelu => map_zip(&pre.data, &d_out.data, |p, g| g * activation_derivative(p, Activation::Gelu)),
    };
    Matrix::from_vec(pre.rows, pre.cols, data)
}

/// `f(x, act)` over a slice, with `act` matched once outside the loop: each arm is a loop over a
/// known activation, which the compiler inlines and vectorises (a match per element does neither). The
/// chunks run on the cores (`map_elements`).
fn map_activation<F: Float>(x: &[F], act: Activation, f: impl Fn(F, Activation) -> F + Sync) -> Vec<F> {
    match act {
        Activation::Identity => map_elements(x, |v| f(v, Activation::Identity)),
        Activation::Relu => map_elements(x, |v| f(v, Activation::Relu)),
        Activation::Tanh => map_elements(x, |v| f(v, Activation::Tanh)),
        Activation::Gelu => map_elements(x, |v| f(v, Activation::Gelu)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{normal, rng, stream};
    use crate::testing::{assert_gradient_matches, random_matrix};

    #[test]
    fn linear_layer_gradients_match_finite_differences() {
        for act in [Activation::Identity, Activation::Relu, Activation::Tanh, Activation::Gelu] {
            let mut r = rng(11, stream::TEST);
            let x = random_matrix(&mut r, 5, 4);
            let w = random_matrix(&mut r, 4, 3);
            let b = random_matrix(&mut r, 1, 3);
            let g = random_matrix(&mut r, 5, 3);
            // L = Σ g ⊙ act(x·W + b): a random linear functional of the output.
            let loss = |x: &Matrix<f64>, w: &Matrix<f64>, b: &Matrix<f64>| -> f64 {
                let o = linear_forward(x, w, b, act).out;
                o.data.iter().zip(&g.data).map(|(a, b)| a * b).sum()
            };
            let fwd = linear_forward(&x, &w, &b, act);
            let d_pre = activation_backward(&fwd.pre, &g, act);
            let grads = linear_backward(&x, &w, &d_pre, true);
            assert_gradient_matches(&format!("dx {act:?}"), &x, &grads.dx.unwrap(), |x| loss(x, &w, &b));
            assert_gradient_matches(&format!("dW {act:?}"), &w, &grads.dw, |w| loss(&x, w, &b));
            assert_gradient_matches(&format!("db {act:?}"), &b, &grads.db, |b| loss(&x, &w, b));
        }
    }

    #[test]
    fn normalization_gradient_matches_finite_differences() {
        let mut r = rng(12, stream::TEST);
        let z = random_matrix(&mut r, 6, 3);
        let g = random_matrix(&mut r, 6, 3);
        let loss =
            |z: &Matrix<f64>| -> f64 { normalize_forward(z).0.data.iter().zip(&g.data).map(|(a, b)| a * b).sum() };
        let (zhat, norms) = normalize_forward(&z);
        let dz = normalize_backward(&zhat, &norms, &g);
        assert_gradient_matches("normalize", &z, &dz, loss);
        for rrow in 0..zhat.rows {
            let n: f64 = zhat.row(rrow).iter().map(|v| v * v).sum();
            assert!((n - 1.0).abs() < 1e-12);
        }
        let _ = normal(&mut r);
    }
}
