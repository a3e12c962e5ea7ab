//! The theory tab's numbers, part of the lab's state: computed when the tab's sliders change
//! (`Command::SetTheory`, applied after the frame), never while drawing — the report (`evaluate`: the
//! eigen-decompositions of the explicit similarity matrices), the spectrum of the chosen construction, the
//! verdict and what λ says, and the verdict map (only when n, r, α, β or δ change). And the estimate of α, β, γ
//! from the run's features (`Command::EstimateTheory`).

use spherelab_core::Matrix;
use spherelab_core::analysis::verdict::{Bounds, VerdictMap, lambda_text, verdict};
use spherelab_core::session::Session;
use spherelab_core::theory::{Construction, TheoryInput, TheoryReport, evaluate, explicit_spectrum};
use spherelab_core::trainer::Embeddings;

/// α, β, γ measured on the run's training features h (docs/math.md §3.1), for the tab's sliders.
#[derive(Clone, Debug, PartialEq)]
pub struct TheoryEstimate {
    pub alpha: Option<f64>,
    pub beta: Option<f64>,
    pub gamma: Option<f64>,
    /// Classes − 1 of the run's data.
    pub r: usize,
    /// The snapshot's step and the number of training samples it read.
    pub step: usize,
    pub samples: usize,
    /// Counts the estimates, so the tab applies each one once.
    pub seq: u64,
}

/// The report and its readings for one valid input.
#[derive(Clone, Debug, PartialEq)]
pub struct TheoryResult {
    pub report: TheoryReport,
    pub bounds: Bounds,
    pub verdict: String,
    pub lambda_text: String,
}

#[derive(Default)]
pub struct TheoryView {
    /// The sliders (and construction) the rest was computed for; `None` before the tab first asks.
    pub asked: Option<(TheoryInput, Construction)>,
    /// The report, or why the input is not one the model accepts. The tab draws the last one while the lab
    /// computes the next (one frame).
    pub result: Option<Result<TheoryResult, String>>,
    /// Eigenvalues of the explicit matrix, descending (empty for an invalid input).
    pub spectrum: Vec<f64>,
    pub map: Option<VerdictMap>,
    /// What the map was computed for: n, r, α, β, δ.
    map_key: Option<[u64; 5]>,
    pub estimate: Option<TheoryEstimate>,
}

impl TheoryView {
    /// The view of these sliders.
    pub fn for_input(input: TheoryInput, construction: Construction) -> Self {
        let mut view = Self::default();
        view.set(input, construction);
        view
    }

    /// Whether the view holds the numbers for these sliders.
    pub fn is_for(&self, input: &TheoryInput, construction: Construction) -> bool {
        self.asked == Some((*input, construction))
    }

    /// Computes what changed for these sliders.
    pub fn set(&mut self, input: TheoryInput, construction: Construction) {
        if self.is_for(&input, construction) {
            return;
        }
        let valid = input.validate();
        let input_changed = self.asked.is_none_or(|(old, _)| old != input);
        if input_changed {
            self.result = Some(valid.as_ref().map_err(|e| e.to_string()).map(|()| {
                let report = evaluate(&input);
                let bounds = Bounds::of_report(&report);
                TheoryResult {
                    verdict: verdict(&bounds, input.n_d),
                    lambda_text: lambda_text(&report, &input),
                    bounds,
                    report,
                }
            }));
        }
        self.spectrum = if valid.is_ok() { explicit_spectrum(&input, construction) } else { Vec::new() };
        let key = [input.n as u64, input.r as u64, input.alpha.to_bits(), input.beta.to_bits(), input.delta.to_bits()];
        if valid.is_ok() && self.map_key != Some(key) {
            self.map = Some(VerdictMap::compute(&input));
            self.map_key = Some(key);
        }
        self.asked = Some((input, construction));
    }

    /// Measures α, β, γ on the snapshot's features of the training samples.
    pub fn estimate_from(&mut self, session: &dyn Session, snapshot: &Embeddings) -> &TheoryEstimate {
        let data = session.data();
        let h = &snapshot.h;
        let train: Vec<usize> =
            session.split().train.iter().copied().filter(|&i| i < h.rows && i < data.labels.len()).collect();
        let rows: Vec<f32> = train.iter().flat_map(|&i| h.row(i).iter().copied()).collect();
        let h_train = Matrix::from_vec(train.len(), h.cols, rows);
        let labels: Vec<usize> = train.iter().map(|&i| data.labels[i]).collect();
        let difficult: Vec<bool> = train.iter().map(|&i| data.difficult(i)).collect();
        let est = spherelab_core::metrics::similarity_estimates(&h_train, &labels, &difficult);
        let seq = self.estimate.as_ref().map_or(1, |e| e.seq + 1);
        self.estimate.insert(TheoryEstimate {
            alpha: est.alpha,
            beta: est.beta,
            gamma: est.gamma,
            r: data.classes.saturating_sub(1).clamp(1, 9),
            step: snapshot.step,
            samples: train.len(),
            seq,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_map_is_recomputed_only_when_what_it_depends_on_changes() {
        let mut view = TheoryView::default();
        let input = TheoryInput::default();
        view.set(input, Construction::IndexMatched);
        assert!(view.is_for(&input, Construction::IndexMatched));
        let result = view.result.clone().unwrap().unwrap();
        assert_eq!(result.report, evaluate(&input));
        assert!(result.verdict.contains("Lowest bound: the margin"), "{}", result.verdict);
        assert_eq!(view.spectrum, explicit_spectrum(&input, Construction::IndexMatched));
        let map_cells = view.map.as_ref().unwrap().cells.clone();
        // n_d and γ are the map's axes: moving them keeps the map (and marks the point), recomputes the rest.
        let moved = TheoryInput { n_d: 3, gamma: 0.3, ..input };
        view.set(moved, Construction::Block);
        assert_eq!(view.map.as_ref().unwrap().cells, map_cells);
        assert_eq!(view.result.clone().unwrap().unwrap().report, evaluate(&moved));
        assert_eq!(view.spectrum, explicit_spectrum(&moved, Construction::Block));
        // α changes the map.
        view.set(TheoryInput { alpha: 0.6, ..moved }, Construction::Block);
        assert_ne!(view.map.as_ref().unwrap().cells, map_cells);
    }

    #[test]
    fn an_input_the_model_refuses_keeps_the_map_and_says_why() {
        let mut view = TheoryView::default();
        view.set(TheoryInput::default(), Construction::IndexMatched);
        let bad = TheoryInput { gamma: 0.1, ..TheoryInput::default() }; // γ < β
        view.set(bad, Construction::IndexMatched);
        let why = view.result.clone().unwrap().unwrap_err();
        assert!(why.contains('γ') || why.contains("gamma"), "{why}");
        assert!(view.spectrum.is_empty());
        assert!(view.map.is_some(), "the last valid map stays");
    }
}
