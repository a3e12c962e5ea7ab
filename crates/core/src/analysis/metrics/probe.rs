//! The linear probe (docs/math.md §4): multinomial logistic regression on frozen, standardised features.
//!
//! Model: p(y = c | x) = softmax_c(x̃ᵀW + b) with x̃ = (x − mean)/std, mean and std from the train rows.
//! Loss: mean cross-entropy + (λ/2)‖W‖², λ = `L2`. The loss is convex, so the probe starts from W = 0, b = 0
//! and takes a fixed number of full-batch Adam steps: no randomness, the same answer every time, and the
//! cost is fixed (two small GEMMs per step: logits X̃·W and gradient X̃ᵀ(P − Y)/n). Accumulation is in f64.
//! `ProbeFit` is the same fit in pieces of steps (the app spreads it over frames); the app also draws the
//! probe's decision regions from `predict_proba`.

use crate::matrix::Matrix;
use crate::rng::{rng, shuffle, stream};

/// Full-batch Adam steps.
const STEPS: usize = 300;
/// Adam's step size on standardised features.
const LEARNING_RATE: f64 = 0.05;
/// L2 penalty on W (not on b): keeps W finite on separable data and the regions smooth.
const L2: f64 = 1e-4;
/// Rows beyond this are subsampled (seeded, stream PROBE) to keep a fit's cost bounded.
const MAX_ROWS: usize = 8192;
/// A feature with a smaller standard deviation is only centred, not scaled (it is constant).
const MIN_STD: f64 = 1e-8;

/// A fitted multinomial logistic regression on standardised features.
#[derive(Clone, Debug, PartialEq)]
pub struct LinearProbe {
    /// Number of classes C.
    pub classes: usize,
    /// Per-feature mean of the train rows (d).
    pub mean: Vec<f64>,
    /// Per-feature 1/std of the train rows (d); 1 for constant features.
    pub inv_std: Vec<f64>,
    /// Weights on standardised features (d × C).
    pub weights: Matrix<f64>,
    /// Biases (C).
    pub bias: Vec<f64>,
}

impl LinearProbe {
    /// Fits the probe on `train` (n × d) with labels in 0..classes. Rows whose label is out of range (or
    /// beyond `labels.len()`) are left out. `seed` only picks the subsample when there are more than
    /// 8192 rows; otherwise the fit is fully deterministic from zero. With no usable row the probe predicts
    /// the uniform distribution.
    pub fn fit(train: &Matrix<f32>, labels: &[usize], classes: usize, seed: u64) -> Self {
        Self::fit_steps(train, labels, classes, seed, STEPS)
    }

    /// `fit` with a given number of Adam steps (tests compare against a much longer fit).
    fn fit_steps(train: &Matrix<f32>, labels: &[usize], classes: usize, seed: u64, steps: usize) -> Self {
        let mut fit = ProbeFit::with_steps(train, labels, classes, seed, steps);
        fit.run(steps);
        fit.into_probe()
    }

    /// (x − mean)/std for one row (missing trailing features count as the mean).
    fn standardise(&self, row: &[f32]) -> Vec<f64> {
        (0..self.mean.len()).map(|j| row.get(j).map_or(0.0, |&v| (v as f64 - self.mean[j]) * self.inv_std[j])).collect()
    }

    /// X̃·W + b for standardised rows X̃ (n × C).
    fn logits(&self, x: &Matrix<f64>) -> Matrix<f64> {
        let mut out = x.matmul(&self.weights);
        for r in 0..out.rows {
            out.row_mut(r).iter_mut().zip(&self.bias).for_each(|(o, b)| *o += b);
        }
        out
    }

    /// Class probabilities of every row of `x` (rows × classes); every row sums to 1.
    pub fn predict_proba(&self, x: &Matrix<f32>) -> Matrix<f32> {
        let mut xs = Matrix::zeros(x.rows, self.mean.len());
        for r in 0..x.rows {
            let row = self.standardise(x.row(r));
            xs.row_mut(r).copy_from_slice(&row);
        }
        let mut p = self.logits(&xs);
        for r in 0..p.rows {
            softmax_in_place(p.row_mut(r));
        }
        Matrix::from_vec(p.rows, p.cols, p.to_f32())
    }

    /// The most probable class of every row of `x` (lowest index on ties).
    pub fn predict(&self, x: &Matrix<f32>) -> Vec<usize> {
        let p = self.predict_proba(x);
        (0..p.rows).map(|r| argmax(p.row(r))).collect()
    }

    /// Fraction of rows of `x` whose predicted class equals the label (0 for no rows).
    pub fn accuracy(&self, x: &Matrix<f32>, labels: &[usize]) -> f64 {
        let predictions = self.predict(x);
        let n = predictions.len().min(labels.len());
        if n == 0 {
            return 0.0;
        }
        predictions.iter().zip(labels).filter(|(p, l)| p == l).count() as f64 / n as f64
    }
}

/// A probe fit in progress: `LinearProbe::fit` cut into pieces of Adam steps, so a front end that must keep
/// its frames short (the app) can spread a fit over several frames. Running it to the end gives exactly the
/// probe `fit` returns, however the steps were split.
#[derive(Clone, Debug)]
pub struct ProbeFit {
    probe: LinearProbe,
    /// Standardised train rows (n × d) and their labels.
    x: Matrix<f64>,
    labels: Vec<usize>,
    /// Adam's moment estimates for W (d × C) and b (C).
    m_w: Vec<f64>,
    v_w: Vec<f64>,
    m_b: Vec<f64>,
    v_b: Vec<f64>,
    /// Steps taken and steps in all.
    taken: usize,
    steps: usize,
}

impl ProbeFit {
    /// Prepares the fit `LinearProbe::fit` makes (standardisation statistics, subsample); no step taken yet.
    pub fn new(train: &Matrix<f32>, labels: &[usize], classes: usize, seed: u64) -> Self {
        Self::with_steps(train, labels, classes, seed, STEPS)
    }

    fn with_steps(train: &Matrix<f32>, labels: &[usize], classes: usize, seed: u64, steps: usize) -> Self {
        let classes = classes.max(1);
        let d = train.cols;
        let mut rows: Vec<usize> = (0..train.rows.min(labels.len())).filter(|&i| labels[i] < classes).collect();
        if rows.len() > MAX_ROWS {
            shuffle(&mut rng(seed, stream::PROBE), &mut rows);
            rows.truncate(MAX_ROWS);
            rows.sort_unstable();
        }
        let n = rows.len();
        let mut probe = LinearProbe {
            classes,
            mean: vec![0.0; d],
            inv_std: vec![1.0; d],
            weights: Matrix::zeros(d, classes),
            bias: vec![0.0; classes],
        };
        // Standardisation statistics from the train rows (none: the probe predicts the uniform distribution).
        if n > 0 {
            for &i in &rows {
                probe.mean.iter_mut().zip(train.row(i)).for_each(|(m, &v)| *m += v as f64);
            }
            probe.mean.iter_mut().for_each(|m| *m /= n as f64);
            let mut var = vec![0.0; d];
            for &i in &rows {
                let row = train.row(i);
                var.iter_mut().zip(row).zip(&probe.mean).for_each(|((s, &v), m)| *s += (v as f64 - m).powi(2));
            }
            for (inv, s) in probe.inv_std.iter_mut().zip(&var) {
                let std = (s / n as f64).sqrt();
                *inv = if std > MIN_STD { 1.0 / std } else { 1.0 };
            }
        }
        let mut x = Matrix::zeros(n, d);
        for (r, &i) in rows.iter().enumerate() {
            x.row_mut(r).copy_from_slice(&probe.standardise(train.row(i)));
        }
        Self {
            probe,
            x,
            labels: rows.iter().map(|&i| labels[i]).collect(),
            m_w: vec![0.0; d * classes],
            v_w: vec![0.0; d * classes],
            m_b: vec![0.0; classes],
            v_b: vec![0.0; classes],
            taken: 0,
            // With no usable row there is nothing to fit.
            steps: if n == 0 { 0 } else { steps },
        }
    }

    /// Whether every step has been taken.
    pub fn is_done(&self) -> bool {
        self.taken >= self.steps
    }

    /// Takes up to `steps` more full-batch Adam steps (β1 = 0.9, β2 = 0.999, ε = 1e-8) on (W, b).
    pub fn run(&mut self, steps: usize) {
        let (b1, b2, eps) = (0.9f64, 0.999f64, 1e-8);
        let (n, classes) = (self.x.rows, self.probe.classes);
        let end = (self.taken + steps).min(self.steps);
        for step in self.taken + 1..=end {
            // G = (softmax(X̃W + b) − Y)/n: the gradient of the mean cross-entropy with respect to the logits.
            let mut g = self.probe.logits(&self.x);
            for r in 0..n {
                let row = g.row_mut(r);
                softmax_in_place(row);
                row[self.labels[r]] -= 1.0;
                row.iter_mut().for_each(|v| *v /= n as f64);
            }
            let mut grad_w = self.x.t_matmul(&g);
            grad_w.data.iter_mut().zip(&self.probe.weights.data).for_each(|(gw, w)| *gw += L2 * w);
            let mut grad_b = vec![0.0; classes];
            for r in 0..n {
                grad_b.iter_mut().zip(g.row(r)).for_each(|(gb, v)| *gb += v);
            }
            let c1 = 1.0 - b1.powi(step as i32);
            let c2 = 1.0 - b2.powi(step as i32);
            let adam = |p: &mut f64, grad: f64, m: &mut f64, v: &mut f64| {
                *m = b1 * *m + (1.0 - b1) * grad;
                *v = b2 * *v + (1.0 - b2) * grad * grad;
                *p -= LEARNING_RATE * (*m / c1) / ((*v / c2).sqrt() + eps);
            };
            let w = self.probe.weights.data.iter_mut().zip(&grad_w.data).zip(self.m_w.iter_mut().zip(&mut self.v_w));
            w.for_each(|((p, &g), (m, v))| adam(p, g, m, v));
            let b = self.probe.bias.iter_mut().zip(&grad_b).zip(self.m_b.iter_mut().zip(&mut self.v_b));
            b.for_each(|((p, &g), (m, v))| adam(p, g, m, v));
        }
        self.taken = end;
    }

    /// The fitted probe (runs the steps left, if any).
    pub fn into_probe(mut self) -> LinearProbe {
        self.run(self.steps);
        self.probe
    }
}

/// Max-shifted softmax of one row, in place.
fn softmax_in_place(row: &mut [f64]) {
    let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut sum = 0.0;
    row.iter_mut().for_each(|v| {
        *v = (*v - max).exp();
        sum += *v;
    });
    row.iter_mut().for_each(|v| *v /= sum);
}

/// Index of the largest value (first on ties).
pub(crate) fn argmax(row: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in row.iter().enumerate() {
        if v > row[best] {
            best = i;
        }
    }
    best
}

/// Linear-probe accuracy: multinomial logistic regression on standardised features, trained on train, scored on test.
pub fn probe_accuracy(
    train: &Matrix<f32>,
    train_labels: &[usize],
    test: &Matrix<f32>,
    test_labels: &[usize],
    classes: usize,
    seed: u64,
) -> f64 {
    LinearProbe::fit(train, train_labels, classes, seed).accuracy(test, test_labels)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::normal;

    /// `per_class` Gaussian points (std `spread`) around class centres 3·e_c in `d` dimensions.
    pub(crate) fn blobs(
        classes: usize,
        per_class: usize,
        d: usize,
        spread: f64,
        seed: u64,
    ) -> (Matrix<f32>, Vec<usize>) {
        let mut g = rng(seed, stream::TEST);
        let mut data = Vec::new();
        let mut labels = Vec::new();
        for c in 0..classes {
            for _ in 0..per_class {
                data.extend((0..d).map(|j| ((if j == c % d { 3.0 } else { 0.0 }) + spread * normal(&mut g)) as f32));
                labels.push(c);
            }
        }
        (Matrix::from_vec(classes * per_class, d, data), labels)
    }

    #[test]
    fn probe_separates_linearly_separable_blobs() {
        let (train, tl) = blobs(4, 100, 5, 0.5, 1);
        let (test, sl) = blobs(4, 100, 5, 0.5, 2);
        let acc = probe_accuracy(&train, &tl, &test, &sl, 4, 0);
        assert!(acc >= 0.95, "probe accuracy {acc}");
    }

    #[test]
    fn a_fit_in_pieces_is_the_fit_in_one_go() {
        let (train, tl) = blobs(3, 50, 6, 1.2, 4);
        let whole = LinearProbe::fit(&train, &tl, 3, 9);
        let mut pieces = ProbeFit::new(&train, &tl, 3, 9);
        let mut calls = 0;
        while !pieces.is_done() {
            pieces.run(7);
            calls += 1;
        }
        assert_eq!(calls, STEPS.div_ceil(7));
        assert_eq!(pieces.into_probe(), whole);
        // No usable row: nothing to run, the uniform probe.
        let empty = ProbeFit::new(&train, &[], 3, 9);
        assert!(empty.is_done());
        assert_eq!(empty.into_probe(), LinearProbe::fit(&train, &[], 3, 9));
    }

    #[test]
    fn probe_probabilities_sum_to_one_and_fit_is_deterministic() {
        let (train, tl) = blobs(3, 40, 4, 1.0, 3);
        let probe = LinearProbe::fit(&train, &tl, 3, 7);
        assert_eq!(probe, LinearProbe::fit(&train, &tl, 3, 7));
        let p = probe.predict_proba(&train);
        assert_eq!((p.rows, p.cols), (120, 3));
        for r in 0..p.rows {
            let s: f64 = p.row(r).iter().map(|&v| v as f64).sum();
            assert!((s - 1.0).abs() < 1e-5, "row {r} sums to {s}");
        }
    }

    #[test]
    fn probe_without_rows_predicts_uniformly() {
        let probe = LinearProbe::fit(&Matrix::zeros(0, 3), &[], 4, 0);
        let p = probe.predict_proba(&Matrix::zeros(2, 3));
        assert!(p.data.iter().all(|&v| (v - 0.25).abs() < 1e-7));
        assert_eq!(probe.accuracy(&Matrix::zeros(0, 3), &[]), 0.0);
    }

    /// Mean cross-entropy of the probe on (x, labels), for convergence checks.
    fn cross_entropy(probe: &LinearProbe, x: &Matrix<f32>, labels: &[usize]) -> f64 {
        let p = probe.predict_proba(x);
        -(0..p.rows).map(|r| (p.at(r, labels[r]) as f64).max(1e-30).ln()).sum::<f64>() / p.rows as f64
    }

    /// 300 Adam steps land within 0.05 nats of a 3000-step fit and at the same test accuracy (±2 %).
    #[test]
    fn probe_fit_is_close_to_converged() {
        for (spread, d) in [(0.5, 10), (2.0, 32), (4.0, 16)] {
            let (train, tl) = blobs(10, 60, d, spread, 9);
            let (test, sl) = blobs(10, 60, d, spread, 10);
            let short = LinearProbe::fit(&train, &tl, 10, 0);
            let long = LinearProbe::fit_steps(&train, &tl, 10, 0, 3000);
            let (ce_short, ce_long) = (cross_entropy(&short, &train, &tl), cross_entropy(&long, &train, &tl));
            let (acc_short, acc_long) = (short.accuracy(&test, &sl), long.accuracy(&test, &sl));
            let what =
                format!("spread {spread}, d {d}: CE {ce_short} vs {ce_long}, accuracy {acc_short} vs {acc_long}");
            assert!(ce_short - ce_long < 0.05 && (acc_short - acc_long).abs() <= 0.02, "{what}");
        }
    }

    /// The app's case (770 × 32, 10 classes): repeated fits give the same model, and it beats chance. (Its
    /// speed, about 0.1 s a fit here, is not asserted.)
    #[test]
    fn probe_fits_the_apps_case_deterministically() {
        let (train, tl) = blobs(10, 77, 32, 2.0, 4);
        let first = LinearProbe::fit(&train, &tl, 10, 0).accuracy(&train, &tl);
        for _ in 0..2 {
            assert_eq!(LinearProbe::fit(&train, &tl, 10, 0).accuracy(&train, &tl), first);
        }
        assert!(first > 0.3, "10 classes, chance is 0.1: {first}");
    }
}
