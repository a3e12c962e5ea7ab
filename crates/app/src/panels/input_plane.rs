//! The input plane: the data as the model receives it. Classes are coloured; difficult samples are ringed
//! (red: the generator's ground truth; yellow: what the selection singles out in the current batch);
//! pruned samples are crossed out; hovering a point shows its augmented views. Behind the points, a heat
//! map of one embedding coordinate, or of the linear probe's decision regions, shows the function learned.
//! Data with more than two inputs (digits, a wide CSV) is shown by a 2-D projection (PCA).

use egui::{Color32, RichText, Sense, Stroke, TextureHandle, Vec2};
use serde::{Deserialize, Serialize};
use spherelab_core::data::InputKind;

use super::{View, bounds, class_color, diverging};
use crate::lab::{Command, HeatGrid, Lab};

/// What the background shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Background {
    None,
    /// One coordinate of the model's output z, from −1 to 1.
    Coordinate(usize),
    /// The class the linear probe on h predicts, shaded by its confidence.
    Probe,
}

#[derive(Serialize, Deserialize)]
#[serde(default)]
pub struct InputPlane {
    pub background: Background,
    pub show_truth: bool,
    pub show_selection: bool,
    pub click_adds: bool,
    /// Grid resolution of the heat map (cells per side).
    pub resolution: usize,
    #[serde(skip)]
    heat: Option<(HeatKey, TextureHandle)>,
}

/// What a heat map's texture shows; a new key means a new texture.
#[derive(Clone, Debug, PartialEq)]
struct HeatKey {
    step: usize,
    background: Background,
    grid: HeatGrid,
}

impl Default for InputPlane {
    fn default() -> Self {
        Self {
            background: Background::Coordinate(0),
            show_truth: true,
            show_selection: true,
            click_adds: true,
            resolution: 48,
            heat: None,
        }
    }
}

impl InputPlane {
    pub fn ui(&mut self, ui: &mut egui::Ui, lab: &Lab) -> Vec<Command> {
        let mut out = Vec::new();
        let Some(session) = lab.session() else {
            ui.label("No run.");
            return out;
        };
        let data = session.data();
        let planar = data.kind == InputKind::Points && data.dim == 2;
        let emb_dim = session.config().model.embedding_dim();
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new("Input space").strong());
            super::help(
                ui,
                "The data, coloured by class (the model never sees the labels, except with the supcon loss); \
                 data with more than two inputs is drawn by its first two principal components (PCA). Hover a \
                 point to see its augmented views: any two views of one sample form a 'positive' pair that the \
                 loss pulls together.",
            );
            if planar {
                egui::ComboBox::from_id_salt("background")
                    .selected_text(match self.background {
                        Background::None => "no background".to_string(),
                        Background::Coordinate(k) => format!("heat map of z{k}"),
                        Background::Probe => "probe regions".to_string(),
                    })
                    .show_ui(ui, |ui| {
                        ui.selectable_value(&mut self.background, Background::None, "no background");
                        for k in 0..emb_dim.min(8) {
                            ui.selectable_value(
                                &mut self.background,
                                Background::Coordinate(k),
                                format!("heat map of z{k}"),
                            )
                            .on_hover_text(format!(
                                "Colour every location of the plane by coordinate z{k} of the model's output there \
                                     (blue −1, white 0, red +1; scaled down when some |z{k}| exceeds 1): the function \
                                     the encoder and projector have learned."
                            ));
                        }
                        ui.selectable_value(&mut self.background, Background::Probe, "probe regions").on_hover_text(
                            "Colour every location by the class a linear probe predicts there: a linear classifier \
                             fitted on the training samples' encoder features h, refitted as training goes on. Shows \
                             how well the learned features separate the classes.",
                        );
                    })
                    .response
                    .on_hover_text(
                        "What the background shows: a coordinate of the embedding, or the probe's decision regions.",
                    );
            }
            ui.checkbox(&mut self.show_truth, RichText::new("○ difficult").color(super::DIFFICULT_COLOR))
                .on_hover_text(
                    "Ring the samples the generator made difficult (ground truth): training samples mixed with a \
                 sample of another class (ω) and points at class boundaries.",
                );
            ui.checkbox(&mut self.show_selection, RichText::new("○ flagged").color(super::SELECTED_COLOR))
                .on_hover_text(
                    "Ring the samples the selection (posHigh/posLow) singles out in the current batch: those that are \
                 the most similar flagged partner (on the features h) of at least two anchors, at most a sixth of \
                 the batch. Compare with the red rings: does the selection find the truly difficult points \
                 without labels?",
                );
            if planar {
                ui.checkbox(&mut self.click_adds, "click adds points").on_hover_text(
                    "A click on the plane adds a point of the class chosen in Data > 'click adds class'. The run \
                     restarts on the new data.",
                );
            }
        });

        // Positions: the inputs themselves in 2-D, else their PCA projection.
        let pos: Vec<[f32; 2]> = if data.dim == 2 {
            (0..data.len()).map(|i| [data.sample(i)[0], data.sample(i)[1]]).collect()
        } else if let Some(pca) = &lab.views.data_projection {
            (0..data.len()).map(|i| pca.project(data.sample(i))).collect()
        } else {
            vec![[0.0, 0.0]; data.len()]
        };
        let (min, max) = bounds(pos.iter().copied());
        let size = ui.available_size();
        let (resp, painter) = ui.allocate_painter(Vec2::new(size.x, size.y.max(120.0)), Sense::click());
        let view = View::fit(resp.rect, min, max);
        painter.rect_filled(view.screen, 4.0, ui.visuals().extreme_bg_color);

        // The lab runs the model on the grid with each snapshot (within its frame budget); this panel only
        // colours the values.
        let wanted = (planar && self.background != Background::None).then(|| HeatGrid {
            min: view.min,
            max: view.max,
            res: self.resolution.clamp(8, 128),
        });
        if wanted != lab.views.heat_grid {
            out.push(Command::SetHeatGrid(wanted));
        }
        let regions = wanted.is_some() && self.background == Background::Probe;
        if regions != lab.views.probe_regions.wanted {
            out.push(Command::ShowProbeRegions(regions));
        }
        if wanted.is_some()
            && let Some(tex) = self.heat_texture(ui.ctx(), lab)
        {
            painter.image(
                tex.id(),
                view.screen,
                egui::Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0)),
                Color32::WHITE,
            );
        }

        let pruned: std::collections::HashSet<usize> = lab.pruned.iter().copied().collect();
        let marked: std::collections::HashSet<usize> = lab.views.selection_marked.iter().copied().collect();
        let r = if data.len() > 1200 { 2.2 } else { 3.2 };
        let outline = Stroke::new(0.6, Color32::from_black_alpha(140));
        for (i, &p) in pos.iter().enumerate() {
            let sp = view.to_screen(p);
            let c = class_color(data.labels[i]);
            if pruned.contains(&i) {
                let d = r + 1.5;
                let s = Stroke::new(1.4, Color32::from_gray(60));
                painter.line_segment([sp + Vec2::new(-d, -d), sp + Vec2::new(d, d)], s);
                painter.line_segment([sp + Vec2::new(-d, d), sp + Vec2::new(d, -d)], s);
                painter.circle_filled(sp, r * 0.7, c.gamma_multiply(0.5));
                continue;
            }
            painter.circle(sp, r, c, outline);
            if self.show_truth && data.difficult(i) {
                painter.circle_stroke(sp, r + 2.5, Stroke::new(1.3, super::DIFFICULT_COLOR));
            }
            if self.show_selection && marked.contains(&i) {
                painter.circle_stroke(sp, r + 4.5, Stroke::new(1.3, super::SELECTED_COLOR));
            }
        }

        // Hover: the nearest sample within a few pixels, and its augmented views.
        let mut hovered = None;
        if let Some(mouse) = resp.hover_pos() {
            let mut best = (8.0f32 * 8.0, None);
            for (i, &p) in pos.iter().enumerate() {
                let d2 = (view.to_screen(p) - mouse).length_sq();
                if d2 < best.0 {
                    best = (d2, Some(i));
                }
            }
            hovered = best.1;
        }
        if let Some(hv) = &lab.views.hover_views
            && Some(hv.sample) == hovered
            && data.dim == 2
        {
            let centre = view.to_screen(pos[hv.sample]);
            for x in &hv.x {
                let sp = view.to_screen([x[0], x[1]]);
                painter
                    .line_segment([centre, sp], Stroke::new(1.0, super::mark_color(ui.visuals()).gamma_multiply(0.5)));
                painter.circle_stroke(sp, 3.5, Stroke::new(1.5, class_color(data.labels[hv.sample])));
            }
        }
        if let Some(i) = hovered {
            let sp = view.to_screen(pos[i]);
            painter.circle_stroke(sp, r + 3.0, Stroke::new(2.0, ui.visuals().strong_text_color()));
            let mut text = format!("sample {i}, class {}", data.labels[i]);
            if data.mixed[i] {
                text.push_str(" · mixed with a sample of another class by ω (difficult)");
            } else if data.boundary[i] {
                text.push_str(" · at a class boundary (difficult)");
            }
            if marked.contains(&i) {
                text.push_str(" · flagged by the selection");
            }
            if pruned.contains(&i) {
                text.push_str(" · pruned");
            }
            if data.dim == 2 {
                text.push_str("\nrings: its augmented views");
            }
            resp.clone().on_hover_text_at_pointer(text);
            if let InputKind::Image { width, height } = data.kind {
                self.draw_digit(&painter, view.screen, data.sample(i), width, height, lab);
            }
        }
        if hovered != lab.views.hovered && (hovered.is_some() || resp.hovered() || lab.views.hovered.is_some()) {
            out.push(Command::Hover(hovered));
        }
        if resp.clicked()
            && planar
            && self.click_adds
            && hovered.is_none()
            && let Some(p) = resp.interact_pointer_pos()
        {
            let x = view.to_data(p);
            out.push(Command::AddPoint { x, class: lab.add_class });
        }
        let legend = if data.dim == 2 {
            format!("{} · {} samples · {} classes", data.name, data.len(), data.classes)
        } else {
            format!("{} · {} samples · PCA of {} inputs", data.name, data.len(), data.dim)
        };
        // On a plate: the heat map beneath runs from red to blue, and weak grey text vanished on both.
        let at = view.screen.left_bottom() + Vec2::new(6.0, -6.0);
        super::plate_text(&painter, at, egui::Align2::LEFT_BOTTOM, legend, 11.0, Color32::from_gray(200));
        out
    }

    /// The hovered digit and its augmented views, drawn large in the plane's corner.
    fn draw_digit(&self, painter: &egui::Painter, screen: egui::Rect, img: &[f32], w: usize, h: usize, lab: &Lab) {
        let cell = 6.0;
        let mut images: Vec<&[f32]> = vec![img];
        if let Some(hv) = &lab.views.hover_views {
            images.extend(hv.x.iter().take(4).map(|v| v.as_slice()));
        }
        for (k, im) in images.iter().enumerate() {
            let origin = screen.left_top() + Vec2::new(6.0 + k as f32 * (w as f32 * cell + 6.0), 6.0);
            let max = im.iter().copied().fold(1e-6f32, f32::max);
            for y in 0..h {
                for x in 0..w {
                    let v = (im[y * w + x] / max).clamp(0.0, 1.0);
                    let r = egui::Rect::from_min_size(
                        origin + Vec2::new(x as f32 * cell, y as f32 * cell),
                        Vec2::splat(cell),
                    );
                    painter.rect_filled(r, 0.0, Color32::from_gray((v * 255.0) as u8));
                }
            }
        }
    }

    /// The heat map as a texture, remade when the lab's grid values change (the probe regions: when the lab
    /// finishes a refit).
    fn heat_texture(&mut self, ctx: &egui::Context, lab: &Lab) -> Option<TextureHandle> {
        let heat = lab.views.heat.as_ref()?;
        let cached = self.heat.clone().filter(|(k, _)| k.background == self.background && k.grid == heat.grid);
        let (pixels, step) = match self.background {
            Background::None => return None,
            Background::Coordinate(k) => {
                if let Some((key, tex)) = &cached
                    && key.step == heat.step
                {
                    return Some(tex.clone());
                }
                (coordinate_pixels(&heat.z, k), heat.step)
            }
            Background::Probe => {
                let Some(regions) = lab.views.probe_regions.done.as_ref().filter(|r| r.grid == heat.grid) else {
                    return cached.map(|(_, t)| t);
                };
                if let Some((key, tex)) = &cached
                    && key.step == regions.step
                {
                    return Some(tex.clone());
                }
                let pixels = regions
                    .cells
                    .iter()
                    .map(|&(class, confidence)| class_color(class).gamma_multiply(0.15 + 0.45 * confidence))
                    .collect();
                (pixels, regions.step)
            }
        };
        let image = egui::ColorImage::new([heat.grid.res, heat.grid.res], pixels);
        let tex = ctx.load_texture("input-heat", image, egui::TextureOptions::LINEAR);
        let key = HeatKey { step, background: self.background, grid: heat.grid };
        self.heat = Some((key, tex.clone()));
        Some(tex)
    }
}

/// One output coordinate on the grid, blue −1, white 0, red +1. Unnormalised outputs are scaled by their
/// largest magnitude, so the colours stay readable.
fn coordinate_pixels(z: &spherelab_core::Matrix<f32>, k: usize) -> Vec<Color32> {
    let k = k.min(z.cols.saturating_sub(1));
    let scale = (0..z.rows).map(|r| z.at(r, k).abs()).fold(1e-6f32, f32::max).max(1.0);
    (0..z.rows).map(|r| diverging(z.at(r, k) / scale, 150)).collect()
}
