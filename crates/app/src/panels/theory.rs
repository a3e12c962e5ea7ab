//! The theory calculator (docs/math.md §5, the seed paper's similarity-graph model): sliders for n, r, n_d, α, β,
//! γ, δ; every bound on the downstream error (without difficult examples, with them, with them removed, with
//! a margin, with a smaller temperature on their pairs); the spectrum of the explicit similarity matrix; and
//! a button that estimates α, β, γ from the current embeddings.

use egui::{Color32, RichText};
use egui_plot::{HLine, Legend, Plot, Points};
use serde::{Deserialize, Serialize};

use crate::lab::{Command, Lab, Notice};
use spherelab_core::theory::{Construction, TheoryInput, evaluate, explicit_spectrum};

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
    #[serde(skip)]
    spectrum: Option<([u64; 8], Vec<f64>)>,
    /// What the last estimate found, for the user to see where the numbers came from.
    #[serde(skip)]
    estimate_note: Option<String>,
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
            spectrum: None,
            estimate_note: None,
        }
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
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new("Theory: why difficult examples hurt").strong());
            super::help(
                ui,
                "The seed paper's model (Zhang et al. 2025): r+1 classes of n samples, n_d of them difficult. \
                 Samples are similar with strength α within a class, β across classes, and γ (> β) when a \
                 difficult sample is involved. The bound E on the linear-probe error grows with the similarity \
                 graph's eigenvalue λ: difficult examples raise λ. Each fix (remove them, a margin, a smaller \
                 temperature on their pairs) lowers it again.",
            );
        });
        ui.add(egui::Slider::new(&mut self.n, 2..=40).text("n per class"))
            .on_hover_text("Samples per class. As n grows, the approximation behind λ_wd gets exact.");
        ui.add(egui::Slider::new(&mut self.r, 1..=9).text("r (classes − 1)")).on_hover_text("There are r + 1 classes.");
        ui.add(egui::Slider::new(&mut self.n_d, 0..=self.n).text("n_d difficult"))
            .on_hover_text("Difficult samples per class: each is γ-similar to difficult samples of other classes.");
        ui.add(egui::Slider::new(&mut self.alpha, 0.0..=0.99).text("α same class"))
            .on_hover_text("Similarity of two samples of one class.");
        ui.add(egui::Slider::new(&mut self.gamma, 0.0..=0.99).text("γ difficult"))
            .on_hover_text("Similarity of a difficult cross-class pair: between β and α. The closer to α, the harder.");
        ui.add(egui::Slider::new(&mut self.beta, 0.0..=0.99).text("β easy cross"))
            .on_hover_text("Similarity of an easy pair from different classes.");
        ui.add(egui::Slider::new(&mut self.delta, 0.0..=0.2).text("δ label error"))
            .on_hover_text("How often augmentation mixes up the label: the bound scales with δ.");
        ui.horizontal(|ui| {
            let has_embeddings = lab.snapshot.is_some();
            if ui
                .add_enabled(has_embeddings, egui::Button::new("Estimate α, β, γ from the run"))
                .on_hover_text(
                    "Measure α est. (mean cosine of same-class pairs), β est. (cross-class pairs without difficult members) \
                     and γ est. (cross-class pairs with one) on the current embeddings, and fill them in (the paper's \
                     Table 10). Needs ω > 0 or boundary points for γ est..",
                )
                .clicked()
            {
                out.extend(self.estimate(lab));
            }
        });
        if let Some(note) = &self.estimate_note {
            ui.label(RichText::new(note).small().weak());
        }

        let input = self.input();
        if let Err(e) = input.validate() {
            ui.colored_label(Color32::from_rgb(255, 120, 80), format!("{e}"));
            return out;
        }
        let rep = evaluate(&input);
        egui::Grid::new("bounds").striped(true).num_columns(3).show(ui, |ui| {
            ui.label(RichText::new("case").strong());
            ui.label(RichText::new("λ").strong());
            ui.label(RichText::new("error bound E").strong());
            ui.end_row();
            let row = |ui: &mut egui::Ui, name: &str, tip: &str, lambda: Option<f64>, e: f64, good: Option<bool>| {
                ui.label(name).on_hover_text(tip);
                ui.label(lambda.map(|l| format!("{l:.4}")).unwrap_or_default());
                let text = RichText::new(format!("{e:.6}"));
                let text = match good {
                    Some(true) => text.color(Color32::from_rgb(80, 200, 120)),
                    Some(false) => text.color(Color32::from_rgb(255, 120, 80)),
                    None => text,
                };
                ui.label(text);
                ui.end_row();
            };
            row(ui, "no difficult examples", "E(λ_wo): the ideal, as if every sample were easy.", Some(rep.lambda_wo), rep.bound_wo, None);
            row(ui, "with difficult examples", "E(λ_wd): what the difficult examples cost.", Some(rep.lambda_wd), rep.bound_wd, None);
            row(
                ui,
                "difficult removed",
                "E(λ_R): prune the difficult samples. Green if it beats keeping them: fewer samples, but a cleaner graph.",
                Some(rep.lambda_removed),
                rep.bound_removed,
                Some(rep.removal_helps),
            );
            row(
                ui,
                "margin on their pairs",
                "A margin m on difficult pairs recovers E(λ_wo) exactly.",
                None,
                rep.bound_wo,
                Some(rep.margin_helps),
            );
            row(
                ui,
                "temperature on their pairs",
                "A temperature τ_d on difficult pairs: E_T.",
                None,
                rep.bound_temperature,
                Some(rep.temperature_helps),
            );
        });
        ui.label(format!(
            "c₀ = {:.3}, c₁ = {:.3}, c₂ = {:.3} · margin m = {:.3e} · temperature τ_d = {:.3}",
            rep.c0, rep.c1, rep.c2, rep.margin, rep.tau_difficult
        ))
        .on_hover_text(
            "The constants of docs/math.md §5; m and τ_d are the margin and pair temperature the theory recommends.",
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
        ui.label(
            RichText::new(if rep.removal_helps {
                "Here removing the difficult examples helps."
            } else {
                "Here removing them does not help: a margin or temperature does better."
            })
            .italics(),
        );

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
        let key = [
            self.n as u64,
            self.r as u64,
            self.n_d as u64,
            self.alpha.to_bits(),
            self.beta.to_bits(),
            self.gamma.to_bits(),
            self.block as u64,
            0,
        ];
        if self.spectrum.as_ref().is_none_or(|(k, _)| *k != key) {
            let c = if self.block { Construction::Block } else { Construction::IndexMatched };
            self.spectrum = Some((key, explicit_spectrum(&input, c)));
        }
        let ev = self.spectrum.as_ref().map(|(_, v)| v.clone()).unwrap_or_default();
        let pts: Vec<[f64; 2]> = ev.iter().enumerate().map(|(i, &v)| [i as f64, v]).collect();
        Plot::new("spectrum")
            .height(ui.available_height().max(100.0))
            .legend(Legend::default())
            .allow_scroll(false)
            .x_axis_label("index (descending)")
            .show(ui, |p| {
                p.points(Points::new("eigenvalues", pts).radius(2.5).color(Color32::from_rgb(86, 180, 233)));
                p.hline(HLine::new("λ_wo", rep.lambda_wo).color(Color32::from_rgb(80, 200, 120)));
                p.hline(HLine::new("λ_wd", rep.lambda_wd).color(Color32::from_rgb(255, 120, 80)));
                p.hline(HLine::new("λ_R", rep.lambda_removed).color(Color32::from_rgb(204, 121, 167)));
            });
        out
    }

    /// Fills α, β, γ from the current embeddings (test and train samples alike).
    fn estimate(&mut self, lab: &Lab) -> Vec<Command> {
        let (Some(session), Some(snap)) = (lab.session(), lab.snapshot.as_ref()) else { return Vec::new() };
        let data = session.data();
        let difficult: Vec<bool> = (0..data.len()).map(|i| data.difficult(i)).collect();
        let est = spherelab_core::metrics::similarity_estimates(&snap.z, &data.labels, &difficult);
        let mut missing = Vec::new();
        match est.alpha {
            Some(a) => self.alpha = a.clamp(0.0, 0.99),
            None => missing.push("α"),
        }
        match est.beta {
            Some(b) => self.beta = b.clamp(0.0, 0.99),
            None => missing.push("β"),
        }
        match est.gamma {
            Some(g) => self.gamma = g.clamp(0.0, 0.99),
            None => missing.push("γ (no difficult samples: raise ω)"),
        }
        self.r = data.classes.saturating_sub(1).clamp(1, 9);
        self.estimate_note = Some(format!(
            "From step {}: α est. = {}, β est. = {}, γ est. = {}. The model needs 0 ≤ β < γ < α < 1; negative cosines are \
             clipped to 0.",
            snap.step,
            fmt(est.alpha),
            fmt(est.beta),
            fmt(est.gamma)
        ));
        if missing.is_empty() {
            vec![Command::Notify(Notice::info("Filled in α, β, γ from the current embeddings."))]
        } else {
            vec![Command::Notify(Notice::warning(format!("Could not estimate {}.", missing.join(", "))))]
        }
    }
}

fn fmt(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.3}")).unwrap_or_else(|| "—".into())
}
