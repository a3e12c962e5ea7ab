//! `Cpu<F>`: the reference backend, written as plain loops shaped like the math (docs/math.md), with the matrix
//! products handed to a blocked GEMM. F = f64 is the reference every other backend is held to; F = f32 is
//! the runtime fallback when no GPU is usable. Bit-for-bit reproducible for a given seed and thread count
//! (each output element of a product is summed by one thread in a fixed order).

mod layers;
mod optim;

use std::marker::PhantomData;

use crate::backend::{Backend, BackendInfo, LinearGrads, LinearOut, LossOut, LossParams, OptimStep, PairLayout, Pairs};
use crate::config::Activation;
use crate::float::Float;
use crate::matrix::Matrix;
use crate::{loss, selection};

pub use layers::{
    activation_backward, activation_forward, linear_backward, linear_forward, normalize_backward, normalize_forward,
};
pub use optim::optimizer_step;

/// The CPU backend at precision F.
#[derive(Clone, Copy, Debug, Default)]
pub struct Cpu<F> {
    _precision: PhantomData<F>,
}

impl<F: Float> Cpu<F> {
    pub fn new() -> Self {
        Self { _precision: PhantomData }
    }
}

/// Turns a `Pairs` into an explicit flag matrix (the CPU can afford N²).
pub fn resolve_pairs<F: Float>(
    pairs: &Pairs<'_, Matrix<F>>,
    layout: PairLayout,
    z_rows: usize,
) -> Option<selection::PairFlags> {
    match pairs {
        Pairs::None => None,
        Pairs::All => Some(selection::PairFlags::all_pairs(z_rows, layout)),
        Pairs::Selected { h, thresholds } => Some(selection::flags_from_thresholds(h, thresholds, layout)),
        Pairs::Explicit(m) => Some(selection::PairFlags::from_matrix(m, layout)),
    }
}

/// Class ids stored as f32 in a 2N×1 tensor, back to integers.
pub fn labels_of<F: Float>(labels: &Matrix<F>) -> Vec<usize> {
    labels.data.iter().map(|v| v.f64().round().max(0.0) as usize).collect()
}

impl<F: Float> Backend for Cpu<F> {
    type Tensor = Matrix<F>;

    fn info(&self) -> BackendInfo {
        #[cfg(not(target_arch = "wasm32"))]
        let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        #[cfg(target_arch = "wasm32")]
        let threads = 1;
        BackendInfo { kind: format!("cpu-{}", F::NAME), adapter: format!("CPU, {threads} thread(s)") }
    }

    fn upload(&self, rows: usize, cols: usize, data: &[f32]) -> Matrix<F> {
        Matrix::from_f32(rows, cols, data)
    }

    fn upload_f64(&self, rows: usize, cols: usize, data: &[f64]) -> Matrix<F> {
        Matrix::from_f64(rows, cols, data)
    }

    fn zeros(&self, rows: usize, cols: usize) -> Matrix<F> {
        Matrix::zeros(rows, cols)
    }

    fn dims(&self, t: &Matrix<F>) -> (usize, usize) {
        (t.rows, t.cols)
    }

    fn download(&self, t: &Matrix<F>) -> Vec<f32> {
        t.to_f32()
    }

    fn download_f64(&self, t: &Matrix<F>) -> Vec<f64> {
        t.to_f64()
    }

    fn linear_forward(&self, x: &Matrix<F>, w: &Matrix<F>, b: &Matrix<F>, act: Activation) -> LinearOut<Matrix<F>> {
        linear_forward(x, w, b, act)
    }

    fn linear_backward(
        &self,
        x: &Matrix<F>,
        w: &Matrix<F>,
        d_pre: &Matrix<F>,
        need_dx: bool,
    ) -> LinearGrads<Matrix<F>> {
        linear_backward(x, w, d_pre, need_dx)
    }

    fn activation_backward(&self, pre: &Matrix<F>, d_out: &Matrix<F>, act: Activation) -> Matrix<F> {
        activation_backward(pre, d_out, act)
    }

    fn normalize_forward(&self, z: &Matrix<F>) -> (Matrix<F>, Matrix<F>) {
        normalize_forward(z)
    }

    fn normalize_backward(&self, zhat: &Matrix<F>, norms: &Matrix<F>, d_zhat: &Matrix<F>) -> Matrix<F> {
        normalize_backward(zhat, norms, d_zhat)
    }

    fn select_thresholds(&self, h: &Matrix<F>, layout: PairLayout, pos_high: f32, pos_low: f32) -> Matrix<F> {
        selection::thresholds(h, layout, pos_high, pos_low)
    }

    fn loss(
        &self,
        params: &LossParams,
        z: &Matrix<F>,
        pairs: &Pairs<'_, Matrix<F>>,
        labels: Option<&Matrix<F>>,
    ) -> LossOut<Matrix<F>> {
        let flags = resolve_pairs(pairs, params.layout(), z.rows);
        let labels = labels.map(labels_of);
        let (value, grad) = loss::loss_and_grad(params, z, flags.as_ref(), labels.as_deref());
        LossOut { value: Matrix::from_vec(1, 1, vec![value]), grad }
    }

    fn optimizer_step(
        &self,
        step: &OptimStep,
        param: &mut Matrix<F>,
        grad: &Matrix<F>,
        m: &mut Matrix<F>,
        v: &mut Matrix<F>,
    ) {
        optimizer_step(step, &mut param.data, &grad.data, &mut m.data, &mut v.data)
    }

    fn align_uniform(&self, z: &Matrix<F>, t: f32) -> Matrix<F> {
        let (a, u) = loss::align_uniform::alignment_uniformity_metric(z, F::of(t as f64));
        Matrix::from_vec(1, 2, vec![a, u])
    }
}
