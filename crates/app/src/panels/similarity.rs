//! The current batch's similarity matrix: cosine similarity of the embeddings z of every pair of views (blue −1,
//! white 0, red +1), with the pairs the selection flags as difficult (chosen on the encoder features h) tinted
//! yellow. Views are sorted by class, so the blocks of
//! same-class pairs show; the two bright diagonals are the positive pairs. Click a row to pick it as the
//! anchor of the hardness view.

use egui::{Color32, RichText, Sense, TextureHandle, Vec2};
use serde::{Deserialize, Serialize};

use super::diverging;
use crate::lab::{Command, Lab};

#[derive(Serialize, Deserialize)]
#[serde(default)]
pub struct SimilarityView {
    pub show_flags: bool,
    pub sort_by_class: bool,
    #[serde(skip)]
    texture: Option<(usize, bool, bool, TextureHandle)>,
    /// Row order: view index of the batch for each displayed row.
    #[serde(skip)]
    rows: Vec<usize>,
}

impl Default for SimilarityView {
    fn default() -> Self {
        Self { show_flags: true, sort_by_class: true, texture: None, rows: Vec::new() }
    }
}

impl SimilarityView {
    pub fn ui(&mut self, ui: &mut egui::Ui, lab: &Lab) -> Vec<Command> {
        let mut out = Vec::new();
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new("Similarity matrix (current batch)").strong());
            super::help(
                ui,
                "Cosine similarity of the embeddings z of every pair of views in the last batch (blue −1, white 0, \
                 red +1); rows and columns are view 1 of each sample, then view 2. The loss wants the positive \
                 pairs (the two off-diagonal lines: two views of one sample) red and the other pairs spread out. \
                 Sorted by class, same-class blocks turn red as the model groups classes. Yellow cells: pairs the \
                 selection flags as difficult. The selection chooses them on the cosine similarities of the \
                 encoder features h (before the projector), not of the z drawn here, so a flag need not match the \
                 colour under it; for the spectral loss it flags view-1 × view-2 pairs only. Click a row to see \
                 its hardness weights.",
            );
            ui.checkbox(&mut self.show_flags, "flags").on_hover_text(
                "Tint the pairs the selection flags as difficult (yellow), chosen on the features h. Turn the \
                 selection on in the controls.",
            );
            ui.checkbox(&mut self.sort_by_class, "sort by class")
                .on_hover_text("Order the views by class, so class blocks appear. Off: batch order.");
        });
        let (Some(batch), Some(sim), Some(session)) =
            (lab.views.batch.as_ref(), lab.views.batch_similarity.as_ref(), lab.session())
        else {
            ui.label("Take a step to see a batch.");
            return out;
        };
        let labels = &session.data().labels;
        let n = batch.indices.len();
        let shown = sim.samples;
        let step = lab.views.snapshot.as_ref().map(|s| s.step).unwrap_or(0);
        let cross = batch.flags.as_ref().is_some_and(|f| f.cols == n);
        let key_ok = self
            .texture
            .as_ref()
            .is_some_and(|(s, f, c, _)| *s == step && *f == self.show_flags && *c == self.sort_by_class);
        if !key_ok {
            let mut samples: Vec<usize> = (0..shown).collect();
            if self.sort_by_class {
                samples.sort_by_key(|&i| labels[batch.indices[i]]);
            }
            self.rows = samples.iter().copied().chain(samples.iter().map(|&i| i + n)).collect();
            let m = self.rows.len();
            let mut pixels = Vec::with_capacity(m * m);
            for &a in &self.rows {
                for &b in &self.rows {
                    let s = sim.at(a, b);
                    let flagged = self.show_flags
                        && batch.flags.as_ref().is_some_and(|f| {
                            if cross {
                                // Spectral: flags live on view-1 rows × view-2 columns.
                                a < n && b >= n && f.get(a, b - n)
                            } else {
                                f.get(a, b)
                            }
                        });
                    // A tint, not a cover: the similarity stays readable under the flag.
                    let base = diverging(s, 255);
                    pixels.push(if flagged { base.lerp_to_gamma(Color32::from_rgb(255, 215, 0), 0.6) } else { base });
                }
            }
            let tex = ui.ctx().load_texture(
                "similarity",
                egui::ColorImage::new([m, m], pixels),
                egui::TextureOptions::NEAREST,
            );
            self.texture = Some((step, self.show_flags, self.sort_by_class, tex));
        }
        let Some((_, _, _, tex)) = &self.texture else { return out };
        let side = ui.available_width().min(ui.available_height() - 20.0).max(80.0);
        let (rect, resp) = ui.allocate_exact_size(Vec2::splat(side), Sense::click());
        ui.painter().image(
            tex.id(),
            rect,
            egui::Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0)),
            Color32::WHITE,
        );
        let m = self.rows.len().max(1);
        if let Some(anchor) = lab.views.anchor
            && let Some(pos) = self.rows.iter().position(|&r| r == anchor)
        {
            let y = rect.top() + (pos as f32 + 0.5) / m as f32 * rect.height();
            ui.painter().line_segment(
                [egui::pos2(rect.left(), y), egui::pos2(rect.right(), y)],
                egui::Stroke::new(1.5, ui.visuals().strong_text_color()),
            );
        }
        if let Some(p) = resp.hover_pos() {
            let row = (((p.y - rect.top()) / rect.height()) * m as f32).floor() as usize;
            let col = (((p.x - rect.left()) / rect.width()) * m as f32).floor() as usize;
            if row < m && col < m {
                let (a, b) = (self.rows[row], self.rows[col]);
                let s = sim.at(a, b);
                let (sa, sb) = (batch.indices[a % n], batch.indices[b % n]);
                let kind = if a == b {
                    "itself"
                } else if a % n == b % n {
                    "positive pair (two views of one sample)"
                } else if labels[sa] == labels[sb] {
                    "same class"
                } else {
                    "different classes"
                };
                resp.clone().on_hover_text_at_pointer(format!(
                    "view {a} (sample {sa}, class {}) × view {b} (sample {sb}, class {}): s = {s:.2}, {kind}\nclick: hardness of this row",
                    labels[sa], labels[sb]
                ));
            }
            if resp.clicked() && row < m {
                out.push(Command::SelectAnchor(Some(self.rows[row])));
            }
        }
        ui.label(RichText::new(format!("{} of {n} samples, {} views", shown, 2 * shown)).small().weak());
        out
    }
}
