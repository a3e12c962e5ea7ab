//! `Cpu<F>`: the reference backend, written as plain loops shaped like the math (docs/math.md), with the matrix
//! products handed to a blocked GEMM. F = f64 is the reference every other backend is held to; F = f32 is
//! the runtime fallback when no GPU is usable. Bit-for-bit reproducible for a given seed and thread count
//! (each output element of a product is summed by one thread in a fixed order).

mod layers;
mod optim;

use std::marker::PhantomData;
use std::sync::Mutex;

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
#[derive(Default)]
pub struct Cpu<F> {
    _precision: PhantomData<F>,
    /// The cosine similarities the last `select_thresholds` computed, for the flags of the same step.
    cosines: Mutex<Option<CosineMemo<F>>>,
}

/// c = ĥĥᵀ with the features h it came from. A selected step needs c twice — for the thresholds
/// (`select_thresholds`) and for the flags (`loss` with `Pairs::Selected` on the same h) — and on T2 that
/// product (1,024 × 1,024 × 128) is a fifth of the step's FLOPs. The flags take it only when their h is bit for
/// bit the memo's (a copy compared element by element: O(rows·d_h) against the product's O(rows²·d_h)), so
/// the result is the same as computing c again, whatever the caller does between the two calls. Peak memory
/// is unchanged: c was alive beside the flags before too, and the memo is taken (freed) when they are made.
struct CosineMemo<F> {
    layout: PairLayout,
    h: Matrix<F>,
    c: Matrix<F>,
}

impl<F> Clone for Cpu<F> {
    fn clone(&self) -> Self {
        Self { _precision: PhantomData, cosines: Mutex::new(None) }
    }
}

impl<F> std::fmt::Debug for Cpu<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cpu")
    }
}

impl<F: Float> Cpu<F> {
    pub fn new() -> Self {
        Self { _precision: PhantomData, cosines: Mutex::new(None) }
    }

    /// c for the flags of `h`: the memo's when `h` is the one it came from (taken, so it is used once), else
    /// computed.
    fn cosines_for(&self, h: &Matrix<F>, layout: PairLayout) -> Matrix<F> {
        let memo = self.cosines.lock().ok().and_then(|mut m| m.take());
        match memo {
            Some(m) if m.layout == layout && same_bits(&m.h, h) => m.c,
            _ => selection::cosine_similarities(h, layout),
        }
    }

    /// Turns a `Pairs` into an explicit flag matrix (the CPU can afford N²).
    fn resolve_pairs(
        &self,
        pairs: &Pairs<'_, Matrix<F>>,
        layout: PairLayout,
        z_rows: usize,
    ) -> Option<selection::PairFlags> {
        match pairs {
            Pairs::None => None,
            Pairs::All => Some(selection::PairFlags::all_pairs(z_rows, layout)),
            Pairs::Selected { h, thresholds } => {
                Some(selection::flags_from_cosines(&self.cosines_for(h, layout), thresholds, layout))
            }
            Pairs::Explicit(m) => Some(selection::PairFlags::from_matrix(m, layout)),
        }
    }
}

/// Whether two matrices have the same shape and the same bits (`descending_key` is a bijection on F's bits).
fn same_bits<F: Float>(a: &Matrix<F>, b: &Matrix<F>) -> bool {
    (a.rows, a.cols) == (b.rows, b.cols)
        && a.data.iter().zip(&b.data).all(|(x, y)| x.descending_key() == y.descending_key())
}

/// Class ids stored as f32 in a 2N×1 tensor, back to integers.
pub fn labels_of<F: Float>(labels: &Matrix<F>) -> Vec<usize> {
    labels.data.iter().map(|v| v.f64().round().max(0.0) as usize).collect()
}

impl<F: Float> Backend for Cpu<F> {
    type Tensor = Matrix<F>;

    fn info(&self) -> BackendInfo {
        // The worker pool's size, which RAYON_NUM_THREADS can make smaller than the machine.
        let threads = crate::parallel::thread_count();
        let plural = if threads == 1 { "" } else { "s" };
        BackendInfo { kind: format!("cpu-{}", F::NAME), adapter: format!("CPU, {threads} thread{plural}") }
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
        let c = selection::cosine_similarities(h, layout);
        let thresholds = selection::thresholds_from_cosines(&c, layout, pos_high, pos_low);
        if let Ok(mut memo) = self.cosines.lock() {
            *memo = Some(CosineMemo { layout, h: h.clone(), c });
        }
        thresholds
    }

    fn loss(
        &self,
        params: &LossParams,
        z: &Matrix<F>,
        pairs: &Pairs<'_, Matrix<F>>,
        labels: Option<&Matrix<F>>,
    ) -> LossOut<Matrix<F>> {
        let flags = self.resolve_pairs(pairs, params.layout(), z.rows);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{LossConfig, PairMode, SelectionConfig};
    use crate::rng::rng;
    use crate::testing::random_matrix;

    /// The memo of c serves only the h it came from: flags for the same h equal a fresh computation, and a
    /// loss on other features never sees the first h's similarities.
    #[test]
    fn selected_flags_use_the_memo_only_for_the_same_features() {
        let mut r = rng(11, 0);
        let mut random = |rows, cols| {
            let m = random_matrix(&mut r, rows, cols);
            Matrix::from_vec(rows, cols, m.data.iter().map(|&v| v as f32).collect())
        };
        let (h1, h2, z) = (random(40, 9), random(40, 9), random(40, 5));
        let selection = SelectionConfig { mode: PairMode::Combined, pos_high: 0.3, pos_low: 0.9, ..Default::default() };
        let params = LossParams::from_config(&LossConfig::default(), &selection);
        let layout = params.layout();
        let cpu = Cpu::<f32>::new();
        for (select_on, loss_on) in [(&h1, &h1), (&h1, &h2), (&h2, &h2)] {
            let t = cpu.select_thresholds(select_on, layout, selection.pos_high, selection.pos_low);
            assert_eq!(t, selection::thresholds(select_on, layout, selection.pos_high, selection.pos_low));
            let out = cpu.loss(&params, &z, &Pairs::Selected { h: loss_on, thresholds: &t }, None);
            let flags = selection::flags_from_thresholds(loss_on, &t, layout);
            let (value, grad) = loss::loss_and_grad(&params, &z, Some(&flags), None);
            assert_eq!(out.value.data[0].to_bits(), value.to_bits());
            assert_eq!(out.grad, grad);
        }
        // Thresholds from h1 flag other pairs on h2 than on h1 (so the test above cannot pass by accident).
        let t = selection::thresholds(&h1, layout, selection.pos_high, selection.pos_low);
        let (on_h1, on_h2) =
            (selection::flags_from_thresholds(&h1, &t, layout), selection::flags_from_thresholds(&h2, &t, layout));
        assert_ne!(on_h1.flags, on_h2.flags);
    }
}
