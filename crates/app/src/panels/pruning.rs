//! Pruning: score every sample's difficulty (oracle, supervised margin, unsupervised margin), choose a
//! fraction, preview which points go (crossed out in the input plane), and retrain from the same seed
//! without them, alongside the full run; the curves then show both (the pruned run dashed).

use egui::{Color32, RichText};
use serde::{Deserialize, Serialize};

use crate::lab::{Command, Lab};
use spherelab_core::difficulty::{self, ScoreKind};

#[derive(Serialize, Deserialize)]
#[serde(default)]
pub struct PruningPanel {
    pub kind: ScoreKind,
    pub fraction: f64,
}

impl Default for PruningPanel {
    fn default() -> Self {
        Self { kind: ScoreKind::Oracle, fraction: 0.08 }
    }
}

impl PruningPanel {
    /// The training samples this score and fraction remove: scored on the training samples' features h,
    /// pruned per class when there are labels (the paper's Table 10 recipe).
    fn pick(
        &self,
        session: &dyn spherelab_core::Session,
        h: &spherelab_core::Matrix<f32>,
        train: &[usize],
    ) -> Vec<usize> {
        let data = session.data();
        let h_train = spherelab_core::Matrix::from_vec(
            train.len(),
            h.cols,
            train.iter().flat_map(|&i| h.row(i).iter().copied()).collect(),
        );
        let labels: Vec<usize> = train.iter().map(|&i| data.labels[i]).collect();
        let difficult: Vec<bool> = train.iter().map(|&i| data.difficult(i)).collect();
        let scores =
            difficulty::scores(self.kind, &h_train, &labels, data.classes.max(1), &difficult, session.config().seed);
        let rows = difficulty::prune(&scores, self.fraction, data.has_labels.then_some(labels.as_slice()), true);
        rows.into_iter().map(|r| train[r]).collect()
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, lab: &Lab) -> Vec<Command> {
        let mut out = Vec::new();
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new("Prune difficult examples").strong());
            super::help(
                ui,
                "The paper's simplest fix: remove the most difficult training samples and retrain. Score the \
                 samples, preview which go, then retrain from the same seed: both runs train side by side and \
                 the curves compare them (pruned dashed). Does probe accuracy go up although there is less data?",
            );
        });
        let (Some(session), Some(snap)) = (lab.session(), lab.snapshot.as_ref()) else {
            ui.label("No run.");
            return out;
        };
        egui::ComboBox::from_label("score")
            .selected_text(match self.kind {
                ScoreKind::Oracle => "oracle",
                ScoreKind::SupervisedMargin => "supervised margin",
                ScoreKind::UnsupervisedMargin => "unsupervised margin",
            })
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut self.kind, ScoreKind::Oracle, "oracle").on_hover_text(
                    "The generator's own flag (ω-mixes and boundary points): the truth, for teaching and for \
                     checking the other scores.",
                );
                ui.selectable_value(&mut self.kind, ScoreKind::SupervisedMargin, "supervised margin").on_hover_text(
                    "Small gap between a linear probe's two most likely classes on h = difficult. Needs labels.",
                );
                ui.selectable_value(&mut self.kind, ScoreKind::UnsupervisedMargin, "unsupervised margin")
                    .on_hover_text(
                        "The same gap for soft assignments to k-means clusters of the features: no labels needed.",
                    );
            })
            .response
            .on_hover_text("How a sample's difficulty is measured (on the current features h).");
        ui.add(egui::Slider::new(&mut self.fraction, 0.0..=0.5).text("fraction removed")).on_hover_text(
            "The share of training samples to leave out, the most difficult first. The paper's recipe: about 8 %.",
        );
        let train = session.active_train().to_vec();
        ui.horizontal(|ui| {
            if ui
                .button("Preview")
                .on_hover_text("Cross out, in the input plane, the samples this score and fraction would remove.")
                .clicked()
            {
                out.push(Command::PreviewPruning(self.pick(session, &snap.h, &train)));
            }
            if ui
                .add_enabled(!lab.pruned.is_empty(), egui::Button::new("Retrain without them"))
                .on_hover_text(
                    "Start a second run from the same seed and initialisation on the data without the crossed-out \
                     samples; the main run restarts too, so both curves start at step 0.",
                )
                .clicked()
            {
                out.push(Command::StartComparison);
            }
            if lab.comparison.is_some() && ui.button("Stop comparison").on_hover_text("Drop the pruned run.").clicked()
            {
                out.push(Command::StopComparison);
            }
        });
        if !lab.pruned.is_empty() {
            let data = session.data();
            let truly = lab.pruned.iter().filter(|&&i| data.difficult(i)).count();
            let total_difficult = train.iter().filter(|&&i| data.difficult(i)).count();
            ui.label(format!(
                "{} samples marked · {} of them truly difficult ({} difficult in the training set)",
                lab.pruned.len(),
                truly,
                total_difficult
            ))
            .on_hover_text("How well the score finds the ground-truth difficult samples.");
        }
        if let Some(c) = &lab.comparison {
            let main = session.history().metrics.last();
            let other = c.session.history().metrics.last();
            egui::Grid::new("compare").num_columns(3).striped(true).show(ui, |ui| {
                ui.label("");
                ui.label(RichText::new("full").strong());
                ui.label(RichText::new(&c.label).strong());
                ui.end_row();
                let row = |ui: &mut egui::Ui, name: &str, f: &dyn Fn(&spherelab_core::trainer::MetricRecord) -> f64| {
                    ui.label(name);
                    ui.label(main.map(|m| format!("{:.3}", f(m))).unwrap_or_default());
                    ui.label(other.map(|m| format!("{:.3}", f(m))).unwrap_or_default());
                    ui.end_row();
                };
                row(ui, "probe accuracy", &|m| m.probe_accuracy);
                row(ui, "kNN accuracy", &|m| m.knn_accuracy);
                row(ui, "alignment", &|m| m.alignment);
                row(ui, "uniformity", &|m| m.uniformity);
            });
            if let Some(msg) = &c.diverged {
                ui.colored_label(Color32::from_rgb(255, 90, 90), format!("The pruned run stopped: {msg}"));
            }
        }
        out
    }
}
