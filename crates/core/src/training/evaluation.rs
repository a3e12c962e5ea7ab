//! The metrics of one step (docs/math.md §4), computed in pieces.
//!
//! Why pieces: the kNN vote and the linear probe's fit cost as much as a dozen training steps. A front end
//! that must keep every frame short (the app, above all in the browser) cannot spend that in one frame.
//! So an evaluation is taken in two parts:
//! 1. the capture (`Trainer::start_evaluation`): every forward pass the metrics need runs on the model of
//!    that step, and the cheap metrics (alignment, uniformity, tolerance, effective rank, the selection's
//!    quality) are computed at once;
//! 2. the rest, from the captured features only: the kNN vote a block of test rows at a time, the probe a
//!    few Adam steps at a time (`PendingEvaluation::advance`). Training may go on meanwhile: the captured
//!    features belong to the step they were taken at.
//!
//! Run to its end, an evaluation gives exactly the numbers `metrics::knn_accuracy` and
//! `metrics::probe_accuracy` give in one call (the pieces do the same arithmetic in the same order).

use crate::matrix::Matrix;
use crate::metrics::{self, KnnVoter, ProbeFit};
use crate::training::history::MetricRecord;

/// Multiply-adds per piece, roughly: a piece of the default app run takes a few tenths of a millisecond.
const PIECE_WORK: usize = 1 << 18;

/// The clean features kNN and the probe are computed on.
pub(crate) struct Features {
    pub h_train: Matrix<f32>,
    pub train_labels: Vec<usize>,
    pub h_test: Matrix<f32>,
    pub test_labels: Vec<usize>,
    pub classes: usize,
    pub seed: u64,
}

/// An evaluation whose features were captured and whose kNN and probe are under way.
pub struct PendingEvaluation {
    /// The record so far: the capture's metrics; kNN and probe accuracy are filled in by `finish`.
    record: MetricRecord,
    h_test: Matrix<f32>,
    test_labels: Vec<usize>,
    /// `None` when there is nothing to vote with (no train row).
    knn: Option<KnnVoter>,
    /// Test rows voted so far, and how many of them were right.
    knn_next: usize,
    knn_correct: usize,
    knn_rows_per_piece: usize,
    probe: ProbeFit,
    probe_steps_per_piece: usize,
}

impl PendingEvaluation {
    /// `record` holds what the capture computed (its step and cheap metrics); `f` what is left to compute on.
    pub(crate) fn new(record: MetricRecord, f: Features) -> Self {
        let d = f.h_train.cols.max(1);
        let n_train = f.h_train.rows.max(1);
        let knn = KnnVoter::new(&f.h_train, &f.train_labels, f.h_test.cols, metrics::DEFAULT_K);
        let probe = ProbeFit::new(&f.h_train, &f.train_labels, f.classes, f.seed);
        Self {
            record,
            knn_rows_per_piece: (PIECE_WORK / (n_train * d)).max(1),
            // A probe step is two n × d × C products.
            probe_steps_per_piece: (PIECE_WORK / (2 * n_train * d * f.classes.max(1))).max(1),
            h_test: f.h_test,
            test_labels: f.test_labels,
            knn,
            knn_next: 0,
            knn_correct: 0,
            probe,
        }
    }

    /// The step whose model was evaluated.
    pub fn step(&self) -> usize {
        self.record.step
    }

    /// Whether all the work is done.
    pub fn is_done(&self) -> bool {
        self.knn_left() == 0 && self.probe.is_done()
    }

    fn knn_left(&self) -> usize {
        if self.knn.is_some() { self.h_test.rows.min(self.test_labels.len()) - self.knn_next } else { 0 }
    }

    /// Does the next piece of work: a block of the kNN vote, else a few steps of the probe's fit.
    /// Returns whether work remains.
    pub fn advance(&mut self) -> bool {
        if let (Some(voter), true) = (&self.knn, self.knn_left() > 0) {
            let end = (self.knn_next + self.knn_rows_per_piece).min(self.knn_next + self.knn_left());
            let predicted = voter.predict(&self.h_test.rows_range(self.knn_next, end));
            let labels = &self.test_labels[self.knn_next..end];
            self.knn_correct += predicted.iter().zip(labels).filter(|(p, l)| p == l).count();
            self.knn_next = end;
        } else if !self.probe.is_done() {
            self.probe.run(self.probe_steps_per_piece);
        }
        !self.is_done()
    }

    /// The record (its `loss` as captured, NaN: the trainer fills in the mean training loss). Finishes any
    /// work left first.
    pub(crate) fn finish(mut self) -> MetricRecord {
        while self.advance() {}
        let n_test = self.h_test.rows.min(self.test_labels.len());
        // Without a voter every prediction is class 0, as in `knn_predict`.
        let correct = match self.knn {
            Some(_) => self.knn_correct,
            None => self.test_labels[..n_test].iter().filter(|&&l| l == 0).count(),
        };
        let knn_accuracy = if n_test == 0 { 0.0 } else { correct as f64 / n_test as f64 };
        let probe_accuracy = self.probe.into_probe().accuracy(&self.h_test, &self.test_labels);
        MetricRecord { knn_accuracy, probe_accuracy, ..self.record }
    }
}
