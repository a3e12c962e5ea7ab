//! Hardness weights (Wang & Liu 2021) for one anchor of the current batch: the plain InfoNCE softmax weights
//! r_k = exp(s_k/τ) / Σ_{k'≠anchor} exp(s_k'/τ) at the base τ, which set how strongly plain InfoNCE pushes each
//! negative away. A small τ puts almost all the weight on the few nearest negatives; a large τ spreads it
//! evenly. A second temperature can be drawn beside the current one. The selection's changes to flagged pairs
//! and other losses' weights are not drawn; the panel says so when they are in use.

use egui::{Color32, RichText};
use egui_plot::{Bar, BarChart, Legend, Line, Plot, PlotPoints};
use serde::{Deserialize, Serialize};

use super::class_color;
use crate::lab::{Command, Lab};
use spherelab_core::config::{LossKind, PairMode};

/// Bars shown: the hardest negatives only, so they stay readable.
const MAX_BARS: usize = 40;

/// What the compare slider needs beside its bar: the value box and "× τ to compare" (points, measured at the
/// default font; the phone test holds it).
const COMPARE_LABEL_WIDTH: f32 = 145.0;

#[derive(Serialize, Deserialize)]
#[serde(default)]
pub struct HardnessView {
    /// A second temperature to compare with, as a factor of the current τ.
    pub compare_factor: f32,
}

impl Default for HardnessView {
    fn default() -> Self {
        Self { compare_factor: 4.0 }
    }
}

impl HardnessView {
    pub fn ui(&mut self, ui: &mut egui::Ui, lab: &Lab) -> Vec<Command> {
        let mut out = Vec::new();
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new("Hardness of the negatives").strong());
            super::help(
                ui,
                "For the picked anchor (click a row of the similarity matrix): the plain InfoNCE softmax weights \
                 r_k = exp(s_k/τ) / Σ_{k'≠anchor} exp(s_k'/τ) over the anchor's other 2N − 1 views, with s the \
                 cosine similarity of the embeddings z and τ the base temperature. Plain InfoNCE pushes each \
                 negative away in proportion to its r (Wang & Liu 2021). Bars: the negatives, largest weight \
                 first, coloured by class; an outline (white on the dark theme, black on the light) marks a \
                 negative of the anchor's own class, which is pushed away too (the uniformity–tolerance \
                 dilemma). Lower τ concentrates the push on the nearest negatives. Not drawn: the selection's changes to flagged pairs (margin σ, temperature ρτ, \
                 removal), and other losses' weights (DCL leaves the positive out of the sum, SupCon counts \
                 same-class views as positives, the spectral and alignment + uniformity losses have no τ).",
            );
        });
        let (Some(batch), Some(session)) = (lab.views.batch.as_ref(), lab.session()) else {
            ui.label("Take a step to see a batch.");
            return out;
        };
        let n = batch.indices.len();
        let anchor = lab.views.hardness.as_ref().map_or(0, |h| h.anchor);
        let labels = &session.data().labels;
        let cfg = session.config();
        let tau = cfg.loss.tau;
        let anchor_class = labels[batch.indices[anchor % n]];
        ui.horizontal_wrapped(|ui| {
            ui.label(format!("anchor: view {anchor} (class {anchor_class}) · τ = {tau:.3}"));
            if ui.small_button("next anchor").on_hover_text("Pick another anchor of the batch.").clicked() {
                out.push(Command::SelectAnchor(Some((anchor + 1) % (2 * n))));
            }
        });
        // Say when the bars are not the weights the run trains with.
        let mut caveats = Vec::new();
        if cfg.loss.kind != LossKind::Infonce {
            caveats.push(format!(
                "the run trains with {}, which weights negatives differently: these are plain InfoNCE weights at τ",
                cfg.loss.kind.name()
            ));
        }
        if cfg.loss.kind.supports_selection() && cfg.selection.mode != PairMode::None {
            caveats.push(format!(
                "the selection ({}) changes how flagged pairs count in the loss; the bars ignore that",
                cfg.selection.mode.name()
            ));
        }
        if !caveats.is_empty() {
            ui.label(
                RichText::new(format!("Note: {}.", caveats.join("; "))).small().color(Color32::from_rgb(230, 159, 0)),
            );
        }
        // The slider gives up width to its value and name on a narrow view, so they stay on screen.
        ui.scope(|ui| {
            let room = ui.available_width() - COMPARE_LABEL_WIDTH;
            ui.spacing_mut().slider_width = room.clamp(30.0, ui.spacing().slider_width);
            ui.add(egui::Slider::new(&mut self.compare_factor, 0.1..=10.0).logarithmic(true).text("× τ to compare"))
                .on_hover_text(
                    "Draw the weights at this multiple of τ too (the line): above 1 the push spreads over many \
                     negatives, below 1 it concentrates on the hardest few.",
                );
        });
        if self.compare_factor != lab.views.hardness_compare {
            out.push(Command::SetHardnessCompare(self.compare_factor));
        }
        // The lab's read-out (lab/views.rs), computed with the snapshot and when the anchor or the factor change.
        let Some(hard) = lab.views.hardness.as_ref() else { return out };
        let (w, w2, order) = (&hard.weights, &hard.compared, &hard.negatives);
        ui.label(
            RichText::new(format!(
                "positive gets {:.0}% · effective number of negatives pushed: {:.1} of {} · {:.0}% of the push on same-class negatives",
                100.0 * hard.positive_share,
                hard.effective_negatives,
                order.len(),
                100.0 * hard.same_class_share
            ))
            .small(),
        )
        .on_hover_text(
            "Positive: the weight r of the anchor's other view (the sum includes it). Effective number = \
             exp(entropy) of the weights over negatives, renormalised: about 1 when one negative takes all the \
             push, the number of negatives when all are pushed equally. Same-class share: the part of the \
             negatives' weight on views of the anchor's own class.",
        );
        let mark = super::mark_color(ui.visuals());
        let bars: Vec<Bar> = order
            .iter()
            .take(MAX_BARS)
            .enumerate()
            .map(|(rank, &k)| {
                let c = labels[batch.indices[k % n]];
                let mut b = Bar::new(rank as f64, w[k]).width(0.8).fill(class_color(c));
                if c == anchor_class {
                    b = b.stroke(egui::Stroke::new(1.5, mark));
                }
                b
            })
            .collect();
        let line: PlotPoints = order.iter().take(MAX_BARS).enumerate().map(|(rank, &k)| [rank as f64, w2[k]]).collect();
        super::axis::readable(Plot::new("hardness"), Some("negatives, hardest first"), None)
            .height(ui.available_height().max(80.0))
            .legend(Legend::default())
            .allow_scroll(false)
            .show(ui, |p| {
                p.bar_chart(BarChart::new(format!("weight at τ = {tau:.3}"), bars));
                p.line(
                    Line::new(format!("at τ = {:.3}", tau * self.compare_factor), line).color(Color32::GRAY).width(2.0),
                );
            });
        out
    }
}
