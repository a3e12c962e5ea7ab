//! Curves over steps: the training loss; alignment and uniformity; tolerance; kNN and probe accuracy and the
//! selection's precision; and the alignment-versus-uniformity trajectory (Wang & Isola's picture). When a
//! pruning comparison runs, its curves are drawn dashed beside the main run's.

use egui::{Color32, RichText};
use egui_plot::{Legend, Line, LineStyle, Plot, PlotPoints, Points};
use spherelab_core::trainer::History;

use crate::lab::{Command, Lab};

#[derive(Default)]
pub struct Curves;

const LOSS: Color32 = Color32::from_rgb(230, 159, 0);
const ALIGN: Color32 = Color32::from_rgb(0, 158, 115);
const UNIF: Color32 = Color32::from_rgb(86, 180, 233);
const TOL: Color32 = Color32::from_rgb(204, 121, 167);
const KNN: Color32 = Color32::from_rgb(0, 114, 178);
const PROBE: Color32 = Color32::from_rgb(213, 94, 0);
const PREC: Color32 = Color32::from_rgb(240, 228, 66);

/// A run's series, named for the legend ("" for the main run, " (pruned)" for the comparison).
struct Run<'a> {
    history: &'a History,
    suffix: &'static str,
    dashed: bool,
}

fn style(line: Line<'_>, dashed: bool) -> Line<'_> {
    if dashed { line.style(LineStyle::dashed_loose()) } else { line }
}

impl Curves {
    pub fn ui(&mut self, ui: &mut egui::Ui, lab: &Lab) -> Vec<Command> {
        let Some(session) = lab.session() else { return Vec::new() };
        let mut runs = vec![Run { history: session.history(), suffix: "", dashed: false }];
        if let Some(c) = &lab.comparison {
            runs.push(Run { history: c.session.history(), suffix: " (pruned)", dashed: true });
        }
        let width = ui.available_width();
        let height = ui.available_height().max(100.0);
        // Four plots in a row; on a phone one below the other, scrolled.
        let phone = width < 520.0;
        let cols = if phone { 1 } else { 4 };
        let w = (width - 8.0 * cols as f32) / cols as f32;
        let plot_height = if phone { 170.0 } else { (height - 32.0).max(60.0) };
        // Headings that fit a narrow column (presenter mode beside a lesson, a small window): a heading wider
        // than its column would push the last plot out of the panel.
        let narrow = w < 240.0;
        let layout = if phone {
            egui::Layout::top_down(egui::Align::Min)
        } else {
            egui::Layout::left_to_right(egui::Align::Min)
        };
        egui::ScrollArea::vertical().id_salt("curves").show(ui, |ui| ui.with_layout(layout, |ui| {
            ui.vertical(|ui| {
                ui.set_width(w);
                ui.horizontal(|ui| {
                    ui.label(RichText::new("Loss").strong());
                    super::help(
                        ui,
                        "The training loss at every step (faint) and its average between evaluations (bold). It \
                         should fall. It is not comparable between losses: compare the metrics instead.",
                    );
                });
                super::axis::readable(Plot::new("loss"), None, None).height(plot_height).legend(Legend::default()).allow_scroll(false).show(ui, |p| {
                    for r in &runs {
                        let raw: PlotPoints = r.history.steps.iter().map(|s| [s.step as f64, s.loss as f64]).collect();
                        p.line(style(Line::new(format!("loss{}", r.suffix), raw).color(LOSS.gamma_multiply(0.35)), r.dashed));
                        let avg: PlotPoints = r
                            .history
                            .metrics
                            .iter()
                            .filter(|m| m.loss.is_finite())
                            .map(|m| [m.step as f64, m.loss as f64])
                            .collect();
                        p.line(style(Line::new(format!("mean loss{}", r.suffix), avg).color(LOSS).width(2.0), r.dashed));
                    }
                });
            });
            ui.vertical(|ui| {
                ui.set_width(w);
                ui.horizontal(|ui| {
                    ui.label(
                        RichText::new(if narrow { "Align · unif · tol" } else { "Alignment · uniformity · tolerance" })
                            .strong(),
                    );
                    super::help(
                        ui,
                        "On held-out samples, with ẑ = z/|z| on the unit sphere. Alignment: mean |ẑ₁ − ẑ₂|² of a \
                         sample's two views (lower = views agree; 0 is perfect). Uniformity: log mean \
                         exp(−2|ẑ_i − ẑ_j|²) over pairs of samples (lower = spread more evenly; its optimum is \
                         about −2t = −4 in high dimension, about −1.6 for points spread evenly on a circle). \
                         Tolerance: mean cosine similarity of same-class pairs (higher = classes kept together).",
                    );
                });
                super::axis::readable(Plot::new("align-unif"), None, None).height(plot_height).legend(Legend::default()).allow_scroll(false).show(ui, |p| {
                    for r in &runs {
                        let m = &r.history.metrics;
                        let series = |f: &dyn Fn(&spherelab_core::trainer::MetricRecord) -> f64| -> PlotPoints {
                            m.iter().map(|x| [x.step as f64, f(x)]).collect()
                        };
                        p.line(style(Line::new(format!("alignment{}", r.suffix), series(&|x| x.alignment)).color(ALIGN).width(2.0), r.dashed));
                        p.line(style(Line::new(format!("uniformity{}", r.suffix), series(&|x| x.uniformity)).color(UNIF).width(2.0), r.dashed));
                        p.line(style(Line::new(format!("tolerance{}", r.suffix), series(&|x| x.tolerance)).color(TOL).width(2.0), r.dashed));
                    }
                })
                .response
                .on_hover_text("Uniformity's optimum is about −2t = −4 in high dimension (t = 2); on a circle it cannot get that low.");
            });
            ui.vertical(|ui| {
                ui.set_width(w);
                ui.horizontal(|ui| {
                    ui.label(RichText::new("Accuracy").strong());
                    super::help(
                        ui,
                        "How useful the encoder's features h (before the projector) are for the labels, which the \
                         loss never used (except supcon). Probe (linear probe): a linear classifier (logistic \
                         regression) fitted on the frozen, standardised h of the clean training samples, scored on \
                         the held-out test samples. kNN: each test sample gets the majority class of its 5 nearest \
                         training samples (k nearest neighbours, by cosine similarity of h). Selection precision: \
                         the fraction of flagged pairs, on held-out views, whose two samples are of different classes.",
                    );
                });
                super::axis::readable(Plot::new("accuracy"), None, None)
                    .height(plot_height)
                    .legend(Legend::default())
                    .include_y(0.0)
                    .include_y(1.0)
                    .allow_scroll(false)
                    .show(ui, |p| {
                        for r in &runs {
                            let m = &r.history.metrics;
                            let knn: PlotPoints = m.iter().map(|x| [x.step as f64, x.knn_accuracy]).collect();
                            let probe: PlotPoints = m.iter().map(|x| [x.step as f64, x.probe_accuracy]).collect();
                            p.line(style(Line::new(format!("probe{}", r.suffix), probe).color(PROBE).width(2.0), r.dashed));
                            p.line(style(Line::new(format!("kNN{}", r.suffix), knn).color(KNN).width(2.0), r.dashed));
                            let prec: PlotPoints =
                                m.iter().filter_map(|x| x.selection_precision.map(|v| [x.step as f64, v])).collect();
                            if !prec.points().is_empty() {
                                p.line(style(Line::new(format!("selection precision{}", r.suffix), prec).color(PREC).width(2.0), r.dashed));
                            }
                        }
                    });
            });
            ui.vertical(|ui| {
                ui.set_width(w);
                ui.horizontal(|ui| {
                    ui.label(RichText::new(if narrow { "Align vs unif" } else { "Alignment vs uniformity" }).strong());
                    super::help(
                        ui,
                        "The run's path in the plane of the two properties (as in Wang & Isola's figure): the line \
                         joins the evaluations, the dot is the latest. Wang & Isola found the better representations \
                         low-left: small alignment and low uniformity.",
                    );
                });
                super::axis::readable(Plot::new("trajectory"), Some("uniformity"), Some("alignment"))
                    .height(plot_height)
                    .allow_scroll(false)
                    .show(ui, |p| {
                        for r in &runs {
                            let pts: Vec<[f64; 2]> =
                                r.history.metrics.iter().map(|x| [x.uniformity, x.alignment]).collect();
                            p.line(style(Line::new(format!("path{}", r.suffix), PlotPoints::from(pts.clone())).color(ALIGN), r.dashed));
                            if let Some(last) = pts.last() {
                                p.points(Points::new(format!("now{}", r.suffix), vec![*last]).radius(5.0).color(ALIGN));
                            }
                        }
                    });
            });
        }));
        Vec::new()
    }
}
