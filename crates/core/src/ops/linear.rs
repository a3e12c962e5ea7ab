//! The linear layer: forward and backward (the model's MLP layers, docs/math.md §6 for their initialisation).
//!
//! Shapes: x is n × in (one sample per row), W is in × out, b is 1 × out; pre and ∂L/∂pre are n × out.
//!
//! Value:
//!   pre_ij = Σ_k x_ik W_kj + b_j                     (pre = x·W + b, the bias added to every row)
//! Gradient, given dy = ∂L/∂pre:
//!   ∂L/∂x_ik = Σ_j dy_ij W_kj                        (dx = dy·Wᵀ, n × in)
//!   ∂L/∂W_kj = Σ_i x_ik dy_ij                        (dW = xᵀ·dy, in × out)
//!   ∂L/∂b_j  = Σ_i dy_ij                             (db = column sums of dy, 1 × out)
//! The activation after the product (out = act(pre)) is its own op: crate::ops::activation.
//!
//! Tuned path: `Cpu<F>::linear_forward` / `linear_backward` (crate::cpu, layers.rs), whose three products go
//! through `Matrix::{matmul, matmul_t, t_matmul}` to the `gemm` crate's SIMD kernels (crate::gemm: the
//! inner dimension blocked past 512, dot-product kernels when the output has ≤ 256 elements, register tiles of
//! 16 × 6 f32 on AVX2, wider with AVX-512), split over the cores from 2²² multiply-adds (`gemm::SPLIT_MIN_MACS`). WGSL: shaders/matmul_1_naive.wgsl
//! and matmul_2_tiled.wgsl, two numbered versions of one product (x·W + b, dx, dW), and shaders/reduce.wgsl (db).
//! The tests below hold the tuned path to [`reference`](mod@reference) on shapes that cross each of those
//! thresholds; crates/gpu/tests/parity.rs holds every kernel version to it.

/// The layer written like the formulas above: plain loops over `Matrix<f64>`, no blocking, no threads.
// Index loops on purpose: they read like the formulas.
#[allow(clippy::needless_range_loop)]
pub mod reference {
    use crate::matrix::Matrix;

    /// pre = x·W + b: pre_ij = Σ_k x_ik W_kj + b_j.
    pub fn forward(x: &Matrix<f64>, w: &Matrix<f64>, b: &Matrix<f64>) -> Matrix<f64> {
        assert_eq!(x.cols, w.rows, "linear: x is {}×{}, W is {}×{}", x.rows, x.cols, w.rows, w.cols);
        assert_eq!((b.rows, b.cols), (1, w.cols), "linear: b must be 1×{}", w.cols);
        let (n, d_in, d_out) = (x.rows, x.cols, w.cols);
        let mut pre = Matrix::zeros(n, d_out);
        for i in 0..n {
            for j in 0..d_out {
                let mut s = 0.0;
                for k in 0..d_in {
                    s += x.at(i, k) * w.at(k, j);
                }
                pre.data[i * d_out + j] = s + b.data[j];
            }
        }
        pre
    }

    /// (dx, dW, db) given dy = ∂L/∂pre: dx_ik = Σ_j dy_ij W_kj, dW_kj = Σ_i x_ik dy_ij, db_j = Σ_i dy_ij.
    pub fn backward(x: &Matrix<f64>, w: &Matrix<f64>, dy: &Matrix<f64>) -> (Matrix<f64>, Matrix<f64>, Matrix<f64>) {
        assert_eq!((dy.rows, dy.cols), (x.rows, w.cols), "linear backward: dy must be {}×{}", x.rows, w.cols);
        let (n, d_in, d_out) = (x.rows, x.cols, w.cols);
        let mut dx = Matrix::zeros(n, d_in);
        for i in 0..n {
            for k in 0..d_in {
                let mut s = 0.0;
                for j in 0..d_out {
                    s += dy.at(i, j) * w.at(k, j);
                }
                dx.data[i * d_in + k] = s;
            }
        }
        let mut dw = Matrix::zeros(d_in, d_out);
        for k in 0..d_in {
            for j in 0..d_out {
                let mut s = 0.0;
                for i in 0..n {
                    s += x.at(i, k) * dy.at(i, j);
                }
                dw.data[k * d_out + j] = s;
            }
        }
        let mut db = Matrix::zeros(1, d_out);
        for j in 0..d_out {
            let mut s = 0.0;
            for i in 0..n {
                s += dy.at(i, j);
            }
            db.data[j] = s;
        }
        (dx, dw, db)
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

    /// Σ g ⊙ m: a random linear functional, so that ∂/∂m = g.
    fn dot(m: &Matrix<f64>, g: &Matrix<f64>) -> f64 {
        m.data.iter().zip(&g.data).map(|(a, b)| a * b).sum()
    }

    #[test]
    fn reference_gradients_match_finite_differences() {
        let mut r = rng(301, stream::TEST);
        for (n, d_in, d_out) in [(1, 1, 1), (5, 4, 3), (7, 3, 6)] {
            let x = random_matrix(&mut r, n, d_in);
            let w = random_matrix(&mut r, d_in, d_out);
            let b = random_matrix(&mut r, 1, d_out);
            let g = random_matrix(&mut r, n, d_out);
            // L = Σ g ⊙ (x·W + b), so ∂L/∂pre = g.
            let (dx, dw, db) = reference::backward(&x, &w, &g);
            let shape = format!("{n}×{d_in}→{d_out}");
            assert_gradient_matches(&format!("linear dx {shape}"), &x, &dx, |x| {
                dot(&reference::forward(x, &w, &b), &g)
            });
            assert_gradient_matches(&format!("linear dW {shape}"), &w, &dw, |w| {
                dot(&reference::forward(&x, w, &b), &g)
            });
            assert_gradient_matches(&format!("linear db {shape}"), &b, &db, |b| {
                dot(&reference::forward(&x, &w, b), &g)
            });
        }
    }

    /// (n, in, out): odd sizes, and sizes that cross every threshold of the tuned product: the inner dimension
    /// of the forward (in), of dx (out) and of dW (n) past KC = 256; rows past MC = 64; columns past NC = 1024;
    /// products of 2²² multiply-adds or more split by rows (n ≥ out) and by columns (out > n) over the cores; sizes
    /// that are not multiples of the register tiles or of the 16-row split runs.
    const SHAPES: [(usize, usize, usize); 9] = [
        (1, 1, 1),
        (7, 3, 5),
        (33, 17, 65),
        (65, 130, 7),
        (130, 257, 33),
        (300, 60, 270),
        (9, 20, 1030),
        (40, 100, 1100),
        (257, 1, 2),
    ];

    /// `Cpu<F>` through the `Backend` trait, as the trainer calls it, against the reference on the same inputs.
    fn tuned_linear_matches_reference<F: Float>(seed: u64) {
        let cpu = Cpu::<F>::new();
        let (value_tol, grad_tol) = tols::<F>();
        let mut r = rng(seed, stream::TEST);
        let split = |by_rows: bool| {
            SHAPES.iter().any(|&(n, i, o)| n * i * o >= crate::gemm::SPLIT_MIN_MACS && (n >= o) == by_rows)
        };
        assert!(split(true) && split(false), "the shapes split products by rows and by columns");
        for (n, d_in, d_out) in SHAPES {
            let what = format!("Cpu<{}> linear {n}×{d_in}→{d_out}", F::NAME);
            let x = at_precision::<F>(&random_matrix(&mut r, n, d_in));
            let w = at_precision::<F>(&random_matrix(&mut r, d_in, d_out));
            let b = at_precision::<F>(&random_matrix(&mut r, 1, d_out));
            let dy = at_precision::<F>(&random_matrix(&mut r, n, d_out));
            let up = |m: &Matrix<f64>| cpu.upload_f64(m.rows, m.cols, &m.data);
            let (tx, tw, tb, tdy) = (up(&x), up(&w), up(&b), up(&dy));

            let fwd = cpu.linear_forward(&tx, &tw, &tb, Activation::Identity);
            let want_pre = reference::forward(&x, &w, &b);
            assert_eq!(cpu.dims(&fwd.pre), (n, d_out), "{what}: pre shape");
            assert_close(&format!("{what}: pre"), value_tol, &cpu.download_f64(&fwd.pre), &want_pre.data);
            assert_close(&format!("{what}: identity out"), value_tol, &cpu.download_f64(&fwd.out), &want_pre.data);

            let grads = cpu.linear_backward(&tx, &tw, &tdy, true);
            let (want_dx, want_dw, want_db) = reference::backward(&x, &w, &dy);
            let dx = grads.dx.expect("dx was asked for");
            assert_eq!(cpu.dims(&dx), (n, d_in), "{what}: dx shape");
            assert_eq!(cpu.dims(&grads.dw), (d_in, d_out), "{what}: dW shape");
            assert_eq!(cpu.dims(&grads.db), (1, d_out), "{what}: db shape");
            assert_close(&format!("{what}: dx"), grad_tol, &cpu.download_f64(&dx), &want_dx.data);
            assert_close(&format!("{what}: dW"), grad_tol, &cpu.download_f64(&grads.dw), &want_dw.data);
            assert_close(&format!("{what}: db"), grad_tol, &cpu.download_f64(&grads.db), &want_db.data);

            let no_dx = cpu.linear_backward(&tx, &tw, &tdy, false);
            assert!(no_dx.dx.is_none(), "{what}: dx computed though not asked for");
            assert_close(&format!("{what}: dW without dx"), grad_tol, &cpu.download_f64(&no_dx.dw), &want_dw.data);
        }
    }

    #[test]
    fn tuned_f64_linear_matches_the_reference() {
        tuned_linear_matches_reference::<f64>(302);
    }

    #[test]
    fn tuned_f32_linear_matches_the_reference() {
        tuned_linear_matches_reference::<f32>(303);
    }
}
