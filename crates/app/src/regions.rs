//! The linear probe's decision regions over the input plane's heat grid: a probe (docs/math.md §4) fitted on
//! the training samples' features h, then evaluated on the grid's h. A fit costs as much as many training
//! steps, so the lab spreads it over frames (`PROBE_STEPS_PER_FRAME` optimiser steps a frame, inside the
//! frame budget) and refits only when an evaluation interval has passed; the input plane only colours the
//! finished regions.

use spherelab_core::Session;
use spherelab_core::metrics::ProbeFit;
use spherelab_core::trainer::Embeddings;

use crate::lab::{HeatGrid, HeatValues};

/// Probe steps per frame while the regions are refitted (a full fit is 300): a fit spreads over ~20 frames
/// instead of stalling one.
pub const PROBE_STEPS_PER_FRAME: usize = 15;

/// Finished regions: for each grid cell (row-major, as `HeatGrid::points`), the class the probe predicts and
/// its confidence, from 0 (chance) to 1.
#[derive(Clone, Debug, PartialEq)]
pub struct Regions {
    /// The step of the features the probe was fitted on.
    pub step: usize,
    pub grid: HeatGrid,
    pub cells: Vec<(usize, f32)>,
}

#[derive(Default)]
pub struct ProbeRegions {
    /// The input plane shows them (the lab fits nothing otherwise).
    pub wanted: bool,
    /// A fit in progress, with the grid values of the same step it will classify.
    fit: Option<(ProbeFit, HeatValues)>,
    pub done: Option<Regions>,
}

impl ProbeRegions {
    pub fn in_progress(&self) -> bool {
        self.fit.is_some()
    }

    /// One frame's piece: starts a refit when the regions are missing for this grid or an evaluation interval
    /// old (and the grid values are of the snapshot's step), else advances the fit in progress; a finished
    /// fit classifies the grid. Returns whether there is more to do.
    pub fn advance(&mut self, session: &dyn Session, snapshot: Option<&Embeddings>, heat: Option<&HeatValues>) -> bool {
        let Some(heat) = heat.filter(|_| self.wanted) else {
            self.fit = None;
            return false;
        };
        if self.fit.as_ref().is_some_and(|(_, v)| v.grid != heat.grid) {
            self.fit = None;
        }
        if self.fit.is_none() {
            let every = session.config().train.eval_every.max(1);
            let stale = self.done.as_ref().is_none_or(|d| d.grid != heat.grid || heat.step >= d.step + every);
            let Some(snapshot) = snapshot.filter(|s| stale && s.step == heat.step) else { return false };
            let data = session.data();
            let train = session.active_train();
            let h_train = spherelab_core::Matrix::from_vec(
                train.len(),
                snapshot.h.cols,
                train.iter().flat_map(|&i| snapshot.h.row(i).to_vec()).collect(),
            );
            let labels: Vec<usize> = train.iter().map(|&i| data.labels[i]).collect();
            let fit = ProbeFit::new(&h_train, &labels, data.classes.max(1), session.config().seed);
            self.fit = Some((fit, heat.clone()));
        }
        let Some((fit, _)) = self.fit.as_mut() else { return false };
        fit.run(PROBE_STEPS_PER_FRAME);
        if !fit.is_done() {
            return true;
        }
        let Some((fit, values)) = self.fit.take() else { return false };
        let proba = fit.into_probe().predict_proba(&values.h);
        let cells = (0..proba.rows)
            .map(|r| {
                let row = proba.row(r);
                let (best, p) =
                    row.iter().copied().enumerate().fold((0, f32::MIN), |a, (c, v)| if v > a.1 { (c, v) } else { a });
                let chance = 1.0 / row.len() as f32;
                (best, ((p - chance) / (1.0 - chance)).clamp(0.0, 1.0))
            })
            .collect();
        self.done = Some(Regions { step: values.step, grid: values.grid, cells });
        false
    }
}
