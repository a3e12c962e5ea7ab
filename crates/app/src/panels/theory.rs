//! The theory calculator (docs/math.md §5, the seed paper's similarity-graph model): sliders for n, r, n_d, α, β,
//! γ, δ; every bound on the downstream error (without difficult examples, with them, with them removed, with
//! a margin, with a smaller temperature on their pairs); a verdict computed from those bounds; a map of the
//! verdicts over n_d and γ − β with the sliders' point marked; the spectrum of the explicit similarity matrix;
//! and a button that estimates α, β, γ from the current run. The numbers are the lab's (`TheoryView`,
//! computed when the sliders change); this panel draws them and sends the sliders as `Command::SetTheory`.

use egui::{Color32, Rect, RichText, Sense, Stroke, Vec2, pos2};
use egui_plot::{HLine, Legend, Plot, Points};
use serde::{Deserialize, Serialize};

use crate::lab::{Command, Lab};
use crate::theory_view::TheoryEstimate;
use spherelab_core::analysis::verdict::{Case, VerdictCell, fmt_bound};
use spherelab_core::theory::{Construction, TheoryInput};
/// Height of the verdict map on screen.
const MAP_HEIGHT: f32 = 120.0;

#[derive(Serialize, Deserialize)]
#[serde(default)]
pub struct TheoryPanel {
    pub n: usize,
    pub r: usize,
    pub n_d: usize,
    pub alpha: f64,
    pub beta: f64,
    pub gamma: f64,
    pub delta: f64,
    pub block: bool,
    /// The lab's last estimate already copied into the sliders (`TheoryEstimate::seq`).
    #[serde(skip)]
    applied_estimate: u64,
    /// What the last estimate found, for the user to see where the numbers came from.
    #[serde(skip)]
    estimate_note: Option<String>,
    /// α, β, γ, r as the last estimate set them, and the step it read: while the sliders still hold these
    /// values, the map's point is labelled as the run's.
    #[serde(skip)]
    estimated: Option<(f64, f64, f64, usize, usize)>,
}

impl Default for TheoryPanel {
    fn default() -> Self {
        // The worked example of docs/math.md §5.
        Self {
            n: 8,
            r: 2,
            n_d: 2,
            alpha: 0.387,
            beta: 0.208,
            gamma: 0.241,
            delta: 0.01,
            block: false,
            applied_estimate: 0,
            estimate_note: None,
            estimated: None,
        }
    }
}

/// The colour of a verdict-map cell (Okabe–Ito, distinguishable with colour-blindness).
fn cell_color(cell: VerdictCell) -> Color32 {
    match cell {
        VerdictCell::Invalid => Color32::from_rgb(90, 90, 90),
        VerdictCell::NoDifficult => Color32::from_rgb(40, 40, 40),
        VerdictCell::Keep => Color32::from_rgb(213, 94, 0),
        VerdictCell::Removal => Color32::from_rgb(204, 121, 167),
        VerdictCell::Temperature => Color32::from_rgb(230, 159, 0),
        VerdictCell::Margin { removal: false, temperature: false } => Color32::from_rgb(0, 114, 178),
        VerdictCell::Margin { removal: false, temperature: true } => Color32::from_rgb(86, 180, 233),
        VerdictCell::Margin { removal: true, temperature: false } => Color32::from_rgb(0, 158, 115),
        VerdictCell::Margin { removal: true, temperature: true } => Color32::from_rgb(240, 228, 66),
    }
}

impl TheoryPanel {
    fn input(&self) -> TheoryInput {
        TheoryInput {
            n: self.n,
            r: self.r,
            n_d: self.n_d,
            alpha: self.alpha,
            beta: self.beta,
            gamma: self.gamma,
            delta: self.delta,
        }
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, lab: &Lab) -> Vec<Command> {
        let mut out = Vec::new();
        if let Some(e) = lab.views.theory.estimate.as_ref().filter(|e| e.seq > self.applied_estimate) {
            self.take_estimate(e);
        }
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new("Theory: when do difficult examples raise the error bound?").strong());
            super::help(
                ui,
                "The seed paper's model (Zhang et al. 2025; docs/math.md §5): r+1 classes of n samples, the first \
                 n_d of each class difficult. Two samples are similar with strength α within a class, β across \
                 classes, and γ (between β and α) when both are difficult samples of different classes. \
                 λ here is an eigenvalue of this similarity graph (the (r+2)-th largest of the normalised \
                 similarity matrix), not the mixing weight λ of ω's mixes in the Data controls. The bound \
                 E(λ) = 4δ/(1−λ) + 8δ on the linear-probe error (the error of a linear classifier on the learned \
                 features) grows with λ. The table gives λ and E without \
                 and with the difficult examples and for each remedy; the sentences below it say what these \
                 numbers show. A lower bound is not a measured accuracy: docs/study.md compares the model with runs.",
            );
        });
        ui.add(egui::Slider::new(&mut self.n, 2..=40).text("n per class")).on_hover_text(
            "Samples per class. As n grows, the closed form for λ_wd gets closer to the explicit matrix's eigenvalue.",
        );
        ui.add(egui::Slider::new(&mut self.r, 1..=9).text("r (classes − 1)")).on_hover_text("There are r + 1 classes.");
        ui.add(egui::Slider::new(&mut self.n_d, 0..=self.n).text("n_d difficult")).on_hover_text(
            "Difficult samples per class: each is γ-similar (instead of β) to difficult samples of the other classes.",
        );
        ui.add(egui::Slider::new(&mut self.alpha, 0.0..=0.99).text("α same class"))
            .on_hover_text("Similarity of two samples of one class. The model needs γ < α < 1.");
        ui.add(egui::Slider::new(&mut self.gamma, 0.0..=0.99).text("γ difficult")).on_hover_text(
            "Similarity of a cross-class pair of two difficult samples: between β and α. The closer to α, the \
             harder the pair is to tell apart.",
        );
        ui.add(egui::Slider::new(&mut self.beta, 0.0..=0.99).text("β easy cross"))
            .on_hover_text("Similarity of an easy pair from different classes. The model needs 0 ≤ β < γ.");
        ui.add(egui::Slider::new(&mut self.delta, 0.0..=0.2).text("δ label error")).on_hover_text(
            "How often a sample's augmentations fail to determine its label (the augmentation graph's label \
             error). Every bound is proportional to δ, so δ changes no verdict; it must be above 0.",
        );
        ui.horizontal(|ui| {
            let has_embeddings = lab.views.snapshot.is_some();
            if ui
                .add_enabled(has_embeddings, egui::Button::new("Estimate α, β, γ from the run"))
                .on_hover_text(
                    "Measure, on the training samples' encoder features h (docs/math.md §3.1 and §4): α est. = mean \
                     cosine of same-class pairs, β est. = of cross-class pairs with no difficult member, γ est. = \
                     of cross-class pairs with a difficult member, and fill them in; r is set from the number of \
                     classes, n and n_d stay as they are. 'Difficult' is the generator's flag (ω-mixes and boundary \
                     points), where the paper's Table 10 used the 8 % with the smallest probe margin. Needs ω > 0 \
                     or boundary points for γ est.",
                )
                .clicked()
            {
                out.push(Command::EstimateTheory);
            }
        });
        if let Some(note) = &self.estimate_note {
            ui.label(RichText::new(note).small().weak());
        }

        let input = self.input();
        let construction = if self.block { Construction::Block } else { Construction::IndexMatched };
        if !lab.views.theory.is_for(&input, construction) {
            out.push(Command::SetTheory { input, construction });
        }
        let result = match &lab.views.theory.result {
            None => return out, // never: the lab starts with the worked example
            Some(Err(e)) => {
                ui.colored_label(Color32::from_rgb(255, 120, 80), e);
                return out;
            }
            Some(Ok(r)) => r,
        };
        let (rep, bounds) = (&result.report, result.bounds);
        // With no difficult examples there is nothing to remedy: no colours.
        let judge = |c: Case| (self.n_d > 0).then(|| bounds.helps(c));
        egui::Grid::new("bounds").striped(true).num_columns(3).show(ui, |ui| {
            ui.label(RichText::new("case").strong());
            ui.label(RichText::new("λ").strong()).on_hover_text(
                "The similarity graph's eigenvalue for the case (the (r+2)-th largest of the normalised similarity \
                 matrix): the bound grows with it. Not ω's mixing weight λ.",
            );
            ui.label(RichText::new("error bound E").strong()).on_hover_text(
                "E(λ) = 4δ/(1−λ) + 8δ, an upper bound on the linear-probe error. Green: below the row 'with \
                 difficult examples'; red: not below it.",
            );
            ui.end_row();
            let row = |ui: &mut egui::Ui, name: &str, tip: &str, lambda: Option<f64>, e: f64, good: Option<bool>| {
                ui.label(name).on_hover_text(tip);
                ui.label(lambda.map(|l| format!("{l:.4}")).unwrap_or_default());
                let text = RichText::new(fmt_bound(e));
                let text = match good {
                    Some(true) => text.color(Color32::from_rgb(80, 200, 120)),
                    Some(false) => text.color(Color32::from_rgb(255, 120, 80)),
                    None => text,
                };
                ui.label(text);
                ui.end_row();
            };
            row(
                ui,
                "no difficult examples",
                "E(λ_wo): the same classes with every γ pair at β, as if no sample were difficult.",
                Some(rep.lambda_wo),
                rep.bound_wo,
                None,
            );
            row(
                ui,
                "with difficult examples",
                "E(λ_wd): the n_d difficult samples per class kept. Each remedy below is compared with this row.",
                Some(rep.lambda_wd),
                rep.bound_wd,
                None,
            );
            row(
                ui,
                "difficult removed",
                "E(λ_R): the difficult samples removed, n − n_d per class left. Green if its bound is below keeping \
                 them: fewer samples, but no γ pairs.",
                Some(rep.lambda_removed),
                rep.bound_removed,
                judge(Case::Removal),
            );
            row(
                ui,
                "margin on their pairs",
                "The margin m (below) on the difficult pairs gives exactly E(λ_wo), the bound without difficult \
                 examples. Green if that is below keeping them.",
                None,
                rep.bound_wo,
                judge(Case::Margin),
            );
            row(
                ui,
                "temperature on their pairs",
                "The temperature τ_d (below) on the difficult pairs gives E_T = 4δ·[1 − q² + (γ/β)²q²]/(1 − λ_wo) + 8δ, \
                 q = n_d/n. Green if that is below keeping them.",
                None,
                rep.bound_temperature,
                judge(Case::Temperature),
            );
        });
        ui.label(RichText::new(&result.verdict).italics());
        ui.label(RichText::new(&result.lambda_text).small());
        ui.label(format!(
            "c₀ = {:.3}, c₁ = {:.3}, c₂ = {:.3} · margin m = {:.3e} · temperature τ_d = {:.3}",
            rep.c0, rep.c1, rep.c2, rep.margin, rep.tau_difficult
        ))
        .on_hover_text(
            "The constants of docs/math.md §5. m and τ_d are the margin and pair temperature of the model's own \
             analysis, for this graph; they are not values for the selection's σ and ρ controls.",
        );
        let f = |v: Option<f64>| v.map(|v| format!("{v:.4}")).unwrap_or_else(|| "—".into());
        ui.label(format!(
            "explicit matrix: λ_wo = {}, λ_wd = {} (index-matched) / {} (block), λ_R = {}",
            f(rep.explicit_lambda_clean),
            f(rep.explicit_lambda_index_matched),
            f(rep.explicit_lambda_block),
            f(rep.explicit_lambda_removed)
        ))
        .on_hover_text(
            "The same eigenvalues read off the explicit similarity matrices. λ_wo and λ_R agree with the closed \
             forms exactly; λ_wd only approximately (the gap shrinks as n grows).",
        );

        self.map_ui(ui, lab);

        ui.horizontal(|ui| {
            ui.label("spectrum of the explicit matrix").on_hover_text(
                "Eigenvalues of D^{-1/2} A D^{-1/2} for the explicit (r+1)n × (r+1)n similarity matrix A. The \
                 lines mark λ_wo, λ_wd, λ_R: λ_wo and λ_R match eigenvalues exactly, λ_wd only approximately.",
            );
            ui.checkbox(&mut self.block, "block").on_hover_text(
                "Off: index-matched (sample ℓ of one class is γ-similar only to sample ℓ of another). On: every \
                 difficult sample is γ-similar to every difficult sample of other classes.",
            );
        });
        let ev = &lab.views.theory.spectrum;
        let pts: Vec<[f64; 2]> = ev.iter().enumerate().map(|(i, &v)| [i as f64, v]).collect();
        super::axis::readable(Plot::new("spectrum"), Some("index (descending)"), None)
            .height(ui.available_height().max(140.0))
            .legend(Legend::default())
            .allow_scroll(false)
            .show(ui, |p| {
                p.points(Points::new("eigenvalues", pts).radius(2.5).color(Color32::from_rgb(86, 180, 233)));
                p.hline(HLine::new("λ_wo", rep.lambda_wo).color(Color32::from_rgb(80, 200, 120)));
                p.hline(HLine::new("λ_wd", rep.lambda_wd).color(Color32::from_rgb(255, 120, 80)));
                p.hline(HLine::new("λ_R", rep.lambda_removed).color(Color32::from_rgb(204, 121, 167)));
            });
        out
    }

    /// The verdict map: which case gives the lowest bound over n_d (x) and γ − β (y), n, r, α, β, δ at the
    /// sliders; the sliders' point ringed. The lab computes it when n, r, α, β or δ change, never per frame.
    fn map_ui(&mut self, ui: &mut egui::Ui, lab: &Lab) {
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new("verdict map").strong());
            super::help(
                ui,
                "Each cell is the model at one n_d (x: 0 to n) and one γ − β (y: from 0 up to α − β, γ = β + y), \
                 with n, r, α, β, δ at the sliders. Its colour says which case gives the lowest bound and, where \
                 the margin is lowest, whether removal and the temperature lower the bound too. In this model the \
                 margin's bound E(λ_wo) is never above removal's or the temperature's, so wherever any remedy \
                 helps, the margin is lowest. Grey: inputs the model does not accept. The ring marks the sliders' \
                 n_d and γ − β. Hover a cell for its verdict. These are bounds, not measured accuracies.",
            );
        });
        let from_run = self
            .estimated
            .filter(|&(a, b, g, r, _)| a == self.alpha && b == self.beta && g == self.gamma && r == self.r)
            .map(|(.., step)| step);
        let Some(map) = &lab.views.theory.map else { return };
        let width = ui.available_width().clamp(120.0, 480.0);
        let (rect, resp) = ui.allocate_exact_size(Vec2::new(width, MAP_HEIGHT), Sense::hover());
        let painter = ui.painter_at(rect);
        let cw = rect.width() / map.cols as f32;
        let ch = rect.height() / map.rows as f32;
        // One rectangle per vertical run of equal cells.
        for col in 0..map.cols {
            let mut start = 0;
            for row in 1..=map.rows {
                if row == map.rows || map.cell_at(col, row) != map.cell_at(col, start) {
                    let r = Rect::from_min_max(
                        pos2(rect.left() + col as f32 * cw, rect.bottom() - row as f32 * ch),
                        pos2(rect.left() + (col + 1) as f32 * cw, rect.bottom() - start as f32 * ch),
                    );
                    painter.rect_filled(r, 0.0, cell_color(map.cell_at(col, start)));
                    start = row;
                }
            }
        }
        // The sliders' point.
        let gap = self.gamma - self.beta;
        if map.span > 0.0 && self.n_d < map.cols && gap > 0.0 && gap < map.span {
            let p = pos2(
                rect.left() + (self.n_d as f32 + 0.5) * cw,
                rect.bottom() - (gap / map.span) as f32 * rect.height(),
            );
            painter.circle_stroke(p, 5.5, Stroke::new(3.0, Color32::BLACK));
            painter.circle_stroke(p, 5.5, Stroke::new(1.5, Color32::WHITE));
            let text = match from_run {
                Some(step) => format!("γ − β from the run (step {step})"),
                None => "sliders".to_string(),
            };
            let right = p.x < rect.center().x;
            let anchor = if right { egui::Align2::LEFT_CENTER } else { egui::Align2::RIGHT_CENTER };
            let at = p + Vec2::new(if right { 9.0 } else { -9.0 }, 0.0);
            super::plate_text(&painter, at, anchor, text, 11.0, Color32::WHITE);
        }
        if let Some(pos) = resp.hover_pos() {
            let col = (((pos.x - rect.left()) / cw) as usize).min(map.cols - 1);
            let row = (((rect.bottom() - pos.y) / ch) as usize).min(map.rows - 1);
            let gap = map.span * (row as f64 + 0.5) / map.rows as f64;
            resp.on_hover_text_at_pointer(format!(
                "n_d = {col}, γ − β = {gap:.3} (γ = {:.3}): {}",
                self.beta + gap,
                map.cell_at(col, row).describe()
            ));
        }
        ui.label(
            RichText::new(format!(
                "x: n_d = 0 … {} · y: γ − β = 0 … {:.3} (α − β) · n, r, α, β, δ at the sliders",
                map.cols - 1,
                map.span
            ))
            .small()
            .weak(),
        );
        for cell in VerdictCell::ALL {
            if !map.cells.contains(&cell) {
                continue;
            }
            // The map's key, at the body's size: in small type it was the hardest text of the tab to read, and
            // it is what the colours mean.
            ui.horizontal(|ui| {
                ui.spacing_mut().item_spacing.x = 6.0;
                let (swatch, _) = ui.allocate_exact_size(Vec2::splat(12.0), Sense::hover());
                ui.painter().rect_filled(swatch, 2.0, cell_color(cell));
                ui.label(cell.describe());
            });
        }
    }

    /// Copies the lab's estimate of α, β, γ (from the training samples' encoder features h, docs/math.md §3.1)
    /// and r into the sliders, once, and says where they came from.
    fn take_estimate(&mut self, e: &TheoryEstimate) {
        self.applied_estimate = e.seq;
        if let Some(a) = e.alpha {
            self.alpha = a.clamp(0.0, 0.99);
        }
        if let Some(b) = e.beta {
            self.beta = b.clamp(0.0, 0.99);
        }
        if let Some(g) = e.gamma {
            self.gamma = g.clamp(0.0, 0.99);
        }
        self.r = e.r;
        self.estimated = Some((self.alpha, self.beta, self.gamma, self.r, e.step));
        self.estimate_note = Some(format!(
            "From step {}, on h of the {} training samples: α est. = {}, β est. = {}, γ est. = {}. The model \
             needs 0 ≤ β < γ < α < 1; values are clipped to [0, 0.99]. n and n_d stay at the sliders.",
            e.step,
            e.samples,
            fmt(e.alpha),
            fmt(e.beta),
            fmt(e.gamma)
        ));
    }
}

fn fmt(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.3}")).unwrap_or_else(|| "—".into())
}
