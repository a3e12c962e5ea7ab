//! Pruning: score every sample's difficulty (oracle, supervised margin, unsupervised margin), choose a
//! fraction, preview which points go (crossed out in the input plane), and retrain from the same seed
//! without them, alongside the full run; the curves then show both (the pruned run dashed).

use egui::{Color32, RichText};
use serde::{Deserialize, Serialize};

use egui_plot::{Legend, Line, Plot, PlotPoints, Points};

use crate::lab::{Command, Lab};
use spherelab_core::config::PairMode;
use spherelab_core::difficulty::{PruneSpec, ScoreKind};
use spherelab_core::study::Method;

#[derive(Serialize, Deserialize)]
#[serde(default)]
pub struct PruningPanel {
    pub kind: ScoreKind,
    pub fraction: f64,
    /// The experiment's remedy: a selection mode, an ablation, or "prune" (this tab's score and fraction).
    pub remedy: RemedyChoice,
    /// Seeds of the experiment.
    pub seeds: usize,
}

/// What the experiment compares with the baseline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RemedyChoice {
    Prune,
    Removal,
    Margin,
    Temperature,
    Combined,
    AllPairsTemperature,
    Clean,
}

impl RemedyChoice {
    const ALL: [RemedyChoice; 7] = [
        RemedyChoice::Prune,
        RemedyChoice::Removal,
        RemedyChoice::Margin,
        RemedyChoice::Temperature,
        RemedyChoice::Combined,
        RemedyChoice::AllPairsTemperature,
        RemedyChoice::Clean,
    ];

    fn label(self) -> &'static str {
        match self {
            RemedyChoice::Prune => "pruning (score and fraction above)",
            RemedyChoice::Removal => "removal of flagged pairs",
            RemedyChoice::Margin => "margin on flagged pairs",
            RemedyChoice::Temperature => "temperature on flagged pairs",
            RemedyChoice::Combined => "combined (margin + temperature)",
            RemedyChoice::AllPairsTemperature => "temperature on all pairs (ablation)",
            RemedyChoice::Clean => "clean data (ω = 0)",
        }
    }
}

impl Default for PruningPanel {
    fn default() -> Self {
        Self { kind: ScoreKind::Oracle, fraction: 0.08, remedy: RemedyChoice::Prune, seeds: 5 }
    }
}

impl PruningPanel {
    fn method(&self) -> Method {
        match self.remedy {
            RemedyChoice::Prune => Method::Prune(PruneSpec { score: self.kind, fraction: self.fraction }),
            RemedyChoice::Removal => Method::Pairs(PairMode::Removal),
            RemedyChoice::Margin => Method::Pairs(PairMode::Margin),
            RemedyChoice::Temperature => Method::Pairs(PairMode::Temperature),
            RemedyChoice::Combined => Method::Pairs(PairMode::Combined),
            RemedyChoice::AllPairsTemperature => Method::AllPairs(PairMode::Temperature),
            RemedyChoice::Clean => Method::Clean,
        }
    }

    /// The experiment: k seeds of baseline against a remedy, dots per seed, the mean and its interval.
    fn experiment_ui(&mut self, ui: &mut egui::Ui, lab: &Lab, out: &mut Vec<Command>) {
        ui.separator();
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new("Experiment: does it help, over seeds?").strong());
            super::help(
                ui,
                "One run says little: seeds differ by a point or more. This trains k seeds of the current \
                 settings without selection (the baseline) and k with the remedy, in the background, and scores \
                 each final model by its linear-probe accuracy on h (a linear classifier fitted on the encoder \
                 features of the clean training samples) on the clean test split. Each dot is one seed, a grey \
                 line joins a seed's two runs; the bar beside them (white on the dark theme, black on the light) \
                 is the mean with its 95 % interval; the difference is paired by seed. As in docs/study.md, a \
                 difference is called an effect only when its interval excludes 0 with at least 10 seeds.",
            );
        });
        egui::ComboBox::from_label("remedy")
            .selected_text(self.remedy.label())
            .show_ui(ui, |ui| {
                for r in RemedyChoice::ALL {
                    ui.selectable_value(&mut self.remedy, r, r.label());
                }
            })
            .response
            .on_hover_text(
                "What half of the runs do: a selection mode on the flagged pairs, the paper's all-pairs ablation, \
                 pruning with the score and fraction above, or clean data (ω = 0: what difficult examples cost).",
            );
        ui.add(egui::Slider::new(&mut self.seeds, 2..=20).text("seeds")).on_hover_text(
            "Seeds 1..k, each trained twice (baseline and remedy). Claims need about 10: effects here are a point \
             or two, the size of the seed-to-seed spread.",
        );
        let running = lab.experiment.as_ref().is_some_and(|e| !e.is_done());
        ui.horizontal_wrapped(|ui| {
            if let Some(cfg) = lab.config()
                && ui
                    .add_enabled(!running, egui::Button::new("Run on these settings"))
                    .on_hover_text("The current run's settings, with the remedy switched on in its half of the runs.")
                    .clicked()
            {
                out.push(Command::StartExperiment {
                    base: Box::new(cfg.clone()),
                    remedy: self.method(),
                    seeds: self.seeds,
                });
            }
            if ui
                .add_enabled(!running, egui::Button::new("The paper's experiment"))
                .on_hover_text(
                    "The regime of spherelab's study (docs/study.md, `spherelab study --preset paper`): its \
                     data set (digits), largest ω (0.3) and model, baseline against the remedy chosen here.",
                )
                .clicked()
            {
                out.push(Command::StartPaperExperiment { remedy: self.method(), seeds: self.seeds });
            }
            if lab.experiment.is_some()
                && ui
                    .button(if running { "Stop" } else { "Clear" })
                    .on_hover_text("Drop the experiment and its runs (the main run is not touched).")
                    .clicked()
            {
                out.push(Command::StopExperiment);
            }
        });
        let Some(e) = &lab.experiment else { return };
        let (done, total, within) = e.progress();
        if running {
            let fraction = (done as f64 + within) / total.max(1) as f64;
            ui.add(egui::ProgressBar::new(fraction as f32).text(format!("run {} of {total}", (done + 1).min(total))));
        }
        if let Some(err) = &e.error {
            ui.colored_label(Color32::from_rgb(255, 90, 90), format!("The experiment stopped: {err}"));
        }
        ui.label(
            RichText::new(format!(
                "{} on {} at ω = {}, {} steps: baseline vs {}",
                e.base.loss.kind.name(),
                e.base.data.dataset.name(),
                e.base.data.omega,
                e.base.train.steps,
                e.remedy.name()
            ))
            .small(),
        );
        let results = e.results();
        let dots = |x: f64, f: &dyn Fn(&spherelab_core::experiment::SeedResult) -> f64| -> Vec<[f64; 2]> {
            results
                .iter()
                .enumerate()
                .map(|(k, r)| {
                    [x + 0.04 * (k as f64 - results.len() as f64 / 2.0) / results.len().max(1) as f64, 100.0 * f(r)]
                })
                .collect()
        };
        let summary = e.summary();
        let mark = super::mark_color(ui.visuals());
        Plot::new("experiment")
            .height(180.0)
            .legend(Legend::default())
            .x_axis_formatter(|m, _| match m.value.round() as i64 {
                0 => "baseline".into(),
                1 => "remedy".into(),
                _ => String::new(),
            })
            .y_axis_label("probe accuracy, %")
            .include_x(-0.4)
            .include_x(1.4)
            .allow_scroll(false)
            .show(ui, |plot| {
                for r in results {
                    plot.line(
                        Line::new("", PlotPoints::from(vec![[0.0, 100.0 * r.baseline], [1.0, 100.0 * r.remedy]]))
                            .color(Color32::from_gray(140))
                            .width(0.8),
                    );
                }
                plot.points(
                    Points::new("seeds", dots(0.0, &|r| r.baseline)).radius(3.5).color(Color32::from_rgb(80, 140, 220)),
                );
                plot.points(
                    Points::new("", dots(1.0, &|r| r.remedy)).radius(3.5).color(Color32::from_rgb(240, 150, 60)),
                );
                if let Some((b, r, _)) = &summary {
                    for (x, d) in [(0.0, b), (1.0, r)] {
                        let (lo, hi) = (100.0 * d.ci95[0], 100.0 * d.ci95[1]);
                        plot.line(
                            Line::new("", PlotPoints::from(vec![[x + 0.15, lo], [x + 0.15, hi]]))
                                .width(2.5)
                                .color(mark),
                        );
                        plot.points(Points::new("", vec![[x + 0.15, 100.0 * d.mean]]).radius(5.0).color(mark));
                    }
                }
            });
        match &summary {
            Some((b, r, d)) if d.n < 2 => {
                ui.label(format!(
                    "baseline {:.1} %, remedy {:.1} %, remedy − baseline {:+.1} points: one seed, no interval yet",
                    100.0 * b.mean,
                    100.0 * r.mean,
                    100.0 * d.mean_diff
                ));
            }
            Some((b, r, d)) => {
                let excludes_zero = d.ci95[0] > 0.0 || d.ci95[1] < 0.0;
                let verdict = if excludes_zero && d.n < 10 {
                    "the interval excludes 0, but with fewer than 10 seeds that is not yet a claim"
                } else if d.ci95[0] > 0.0 {
                    "the remedy scores higher here"
                } else if d.ci95[1] < 0.0 {
                    "the remedy scores lower here"
                } else {
                    "no effect detected at this many seeds"
                };
                ui.label(format!(
                    "baseline {:.1} %, remedy {:.1} %; remedy − baseline {:+.1} points [{:+.1}, {:+.1}] (95 %, paired \
                     over {} seeds, {}): {verdict}",
                    100.0 * b.mean,
                    100.0 * r.mean,
                    100.0 * d.mean_diff,
                    100.0 * d.ci95[0],
                    100.0 * d.ci95[1],
                    d.n,
                    p_text(d.p_value)
                ));
            }
            None => {
                ui.label("No seed finished yet.");
            }
        }
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, lab: &Lab) -> Vec<Command> {
        let mut out = Vec::new();
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new("Prune difficult examples").strong());
            super::help(
                ui,
                "The paper's simplest fix: remove the most difficult training samples and retrain. Score the \
                 samples, preview which go, then retrain from the same seed: both runs train side by side and \
                 the curves compare them (pruned dashed). Does probe accuracy go up although there is less data? \
                 (In spherelab's study on digits, pruning the truly difficult 10 % did no better than pruning a \
                 random 10 %: docs/study.md.)",
            );
        });
        let (Some(session), Some(_)) = (lab.session(), lab.views.snapshot.as_ref()) else {
            ui.label("No run.");
            return out;
        };
        egui::ComboBox::from_label("score")
            .selected_text(match self.kind {
                ScoreKind::Oracle => "oracle",
                ScoreKind::SupervisedMargin => "supervised margin",
                ScoreKind::UnsupervisedMargin => "unsupervised margin",
                ScoreKind::Random => "random",
            })
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut self.kind, ScoreKind::Oracle, "oracle").on_hover_text(
                    "The generator's own flag (ω-mixes and boundary points): the truth, for teaching and for \
                     checking the other scores.",
                );
                ui.selectable_value(&mut self.kind, ScoreKind::SupervisedMargin, "supervised margin").on_hover_text(
                    "1 − (p₁ − p₂), the gap between a linear probe's two most likely classes for the sample (fitted \
                     on h): a small gap = difficult. Needs labels.",
                );
                ui.selectable_value(&mut self.kind, ScoreKind::UnsupervisedMargin, "unsupervised margin")
                    .on_hover_text(
                        "The same gap for soft assignments to k-means clusters (one per class) of the normalised \
                         features h: no labels needed.",
                    );
                ui.selectable_value(&mut self.kind, ScoreKind::Random, "random").on_hover_text(
                    "A random score: the control. Removing random samples tells \"fewer samples\" apart from \
                     \"fewer difficult samples\".",
                );
            })
            .response
            .on_hover_text("How a sample's difficulty is measured (on the current features h).");
        ui.add(egui::Slider::new(&mut self.fraction, 0.0..=0.5).text("fraction removed")).on_hover_text(
            "The share of training samples to leave out (that share of each class when there are labels), the \
             most difficult first. The paper's Table 10 called the 8 % of each class with the smallest probe \
             margin difficult; spherelab's study pruned 10 %.",
        );
        let train = session.active_train().to_vec();
        ui.horizontal(|ui| {
            if ui
                .button("Preview")
                .on_hover_text("Cross out, in the input plane, the samples this score and fraction would remove.")
                .clicked()
            {
                out.push(Command::PreviewPruning(PruneSpec { score: self.kind, fraction: self.fraction }));
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
        self.experiment_ui(ui, lab, &mut out);
        out
    }
}

/// A p-value as read beside an interval: two decimals, three below 0.01, and "p < 0.001" rather than a
/// "p = 0.00" that two nearly equal seeds' differences gave (the t-test's p is never exactly 0 there).
fn p_text(p: f64) -> String {
    if p < 0.001 {
        "p < 0.001".into()
    } else if p < 0.01 {
        format!("p = {p:.3}")
    } else {
        format!("p = {p:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::p_text;

    #[test]
    fn a_small_p_value_is_not_printed_as_zero() {
        assert_eq!(p_text(0.62), "p = 0.62");
        assert_eq!(p_text(0.0123), "p = 0.01");
        assert_eq!(p_text(0.0093), "p = 0.009");
        assert_eq!(p_text(0.004), "p = 0.004");
        assert_eq!(p_text(0.0004), "p < 0.001");
        assert_eq!(p_text(0.0), "p < 0.001");
        assert_eq!(p_text(1.0), "p = 1.00");
    }
}
