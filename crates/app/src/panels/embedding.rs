//! The embedding space: where the model puts every sample. For d = 2, the unit circle with each class's
//! density estimate drawn around it; for d = 3, a sphere you turn by dragging; beyond, a 2-D projection
//! (PCA). Hovering a sample (here or in the input plane) draws its positive pairs: the embeddings of its
//! augmented views, joined two by two.

use egui::{Pos2, RichText, Sense, Shape, Stroke, Vec2};
use serde::{Deserialize, Serialize};

use super::{View, bounds, class_color};
use crate::lab::{Command, Lab};

#[derive(Serialize, Deserialize)]
#[serde(default)]
pub struct EmbeddingView {
    /// Rotation of the sphere (d = 3): about the vertical axis, then the horizontal one, in radians.
    pub yaw: f32,
    pub pitch: f32,
    /// Draw the per-class density around the circle (d = 2; the lab computes it with each snapshot).
    pub show_density: bool,
}

impl Default for EmbeddingView {
    fn default() -> Self {
        Self { yaw: 0.6, pitch: 0.4, show_density: true }
    }
}

impl EmbeddingView {
    pub fn ui(&mut self, ui: &mut egui::Ui, lab: &Lab) -> Vec<Command> {
        let mut out = Vec::new();
        let (Some(session), Some(snap)) = (lab.session(), lab.views.snapshot.as_ref()) else {
            ui.label("No embeddings yet.");
            return out;
        };
        let data = session.data();
        let z = &snap.z;
        let d = z.cols;
        let normalized = session.config().model.normalize;
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new("Embedding space").strong());
            let what = match d {
                2 => "d = 2: the unit circle",
                3 => "d = 3: the sphere (drag to turn)",
                _ => "a 2-D projection (PCA)",
            };
            ui.label(RichText::new(format!("{what} · step {}", snap.step)).weak());
            super::help(
                ui,
                "Where the model puts each sample: its output z (the projector's output; the encoder's output h \
                 when there is no projector), on the unit sphere when ℓ2-normalise is on. The probe and kNN \
                 accuracies score h, not z. Contrastive learning wants two things (Wang & Isola): alignment, \
                 the two views of a sample land close together (hover a point: its views are joined by lines), \
                 and uniformity, all samples spread evenly over the sphere. Classes form arcs or caps when the \
                 features are good.",
            );
            if d == 2 {
                ui.checkbox(&mut self.show_density, "density").on_hover_text(
                    "Draw each class's density around the circle (a smoothed histogram of angles). Uniform \
                     spread over the circle = good uniformity; one narrow peak per class = classes separated.",
                );
            }
        });

        let size = ui.available_size();
        let sense = if d == 3 { Sense::click_and_drag() } else { Sense::hover() };
        let (resp, painter) = ui.allocate_painter(Vec2::new(size.x, size.y.max(120.0)), sense);
        painter.rect_filled(resp.rect, 4.0, ui.visuals().extreme_bg_color);
        if d == 3 && resp.dragged() {
            let delta = resp.drag_delta();
            self.yaw += delta.x * 0.01;
            self.pitch = (self.pitch + delta.y * 0.01).clamp(-1.5, 1.5);
        }

        // Screen positions of every sample (and a depth for the sphere: 1 = front).
        let mut depth = vec![1.0f32; z.rows];
        let proj = |row: &[f32]| -> ([f32; 2], f32) {
            match d {
                0 | 1 => ([row.first().copied().unwrap_or(0.0), 0.0], 1.0),
                2 => ([row[0], row[1]], 1.0),
                3 => {
                    let p = rotate([row[0], row[1], row[2]], self.yaw, self.pitch);
                    ([p[0], p[1]], p[2])
                }
                _ => ([0.0, 0.0], 1.0),
            }
        };
        let pca = if d > 3 { lab.views.z_projection.as_ref() } else { None };
        let mut pos = Vec::with_capacity(z.rows);
        for (r, depth_r) in depth.iter_mut().enumerate().take(z.rows) {
            let (p, dep) = match &pca {
                Some(p) => (p.project(z.row(r)), 1.0),
                None => proj(z.row(r)),
            };
            pos.push(p);
            *depth_r = dep;
        }
        let on_sphere = normalized && d <= 3;
        let (min, max) = if on_sphere {
            let reach = if d == 2 && self.show_density { 1.45 } else { 1.05 };
            ([-reach, -reach], [reach, reach])
        } else {
            bounds(pos.iter().copied())
        };
        let view = View::fit(resp.rect, min, max);
        let centre = view.to_screen([0.0, 0.0]);
        let radius = (view.to_screen([1.0, 0.0]).x - centre.x).abs();
        let faint = ui.visuals().weak_text_color().gamma_multiply(0.6);
        if d == 2 || d == 3 {
            painter.circle_stroke(centre, radius, Stroke::new(1.0, faint));
        }
        if d == 3 {
            // The equator and a meridian, turned with the sphere, so the rotation is visible.
            for ring in 0..2 {
                let pts: Vec<Pos2> = (0..=72)
                    .map(|k| {
                        let t = k as f32 / 72.0 * std::f32::consts::TAU;
                        let p = if ring == 0 { [t.cos(), 0.0, t.sin()] } else { [0.0, t.cos(), t.sin()] };
                        let q = rotate(p, self.yaw, self.pitch);
                        view.to_screen([q[0], q[1]])
                    })
                    .collect();
                painter.add(Shape::line(pts, Stroke::new(0.7, faint.gamma_multiply(0.6))));
            }
        }
        if let (true, true, Some(density)) = (d == 2 && self.show_density, normalized, lab.views.z_density.as_ref()) {
            draw_density(&painter, view, density);
        }

        // Back of the sphere first, faded, then the front.
        let mut order: Vec<usize> = (0..z.rows).collect();
        if d == 3 {
            order.sort_by(|&a, &b| depth[a].total_cmp(&depth[b]));
        }
        let r = if z.rows > 1200 { 2.2 } else { 3.0 };
        let pruned: std::collections::HashSet<usize> = lab.pruned.iter().copied().collect();
        for &i in &order {
            let c = class_color(data.labels.get(i).copied().unwrap_or(0));
            let (c, rr) = if depth[i] < 0.0 { (c.gamma_multiply(0.35), r * 0.8) } else { (c, r) };
            let c = if pruned.contains(&i) { c.gamma_multiply(0.3) } else { c };
            painter.circle_filled(view.to_screen(pos[i]), rr, c);
        }

        // Hover here selects the nearest sample too.
        let mut hovered = lab.views.hovered;
        if let Some(mouse) = resp.hover_pos() {
            let mut best = (8.0f32 * 8.0, None);
            for (i, &p) in pos.iter().enumerate() {
                let dist = (view.to_screen(p) - mouse).length_sq();
                if dist < best.0 && depth[i] >= 0.0 {
                    best = (dist, Some(i));
                }
            }
            hovered = best.1;
            if hovered != lab.views.hovered {
                out.push(Command::Hover(hovered));
            }
        }
        if let Some(i) = hovered.filter(|&i| i < pos.len()) {
            let sp = view.to_screen(pos[i]);
            painter.circle_stroke(sp, r + 3.0, Stroke::new(2.0, ui.visuals().strong_text_color()));
            if let Some(hv) = lab.views.hover_views.as_ref().filter(|hv| hv.sample == i) {
                // Views come in pairs (view 1, view 2): a positive pair each.
                let col = class_color(data.labels[i]);
                for pair in hv.z.chunks(2) {
                    let pts: Vec<Pos2> = pair
                        .iter()
                        .map(|v| {
                            let p = match &pca {
                                Some(p) => p.project(v),
                                None => proj(v).0,
                            };
                            view.to_screen(p)
                        })
                        .collect();
                    if pts.len() == 2 {
                        painter.line_segment([pts[0], pts[1]], Stroke::new(2.0, super::mark_color(ui.visuals())));
                    }
                    for p in pts {
                        painter.circle(p, 4.0, col, Stroke::new(1.5, super::mark_color(ui.visuals())));
                    }
                }
                if resp.hovered() {
                    resp.clone().on_hover_text_at_pointer(format!(
                        "sample {i}, class {}: the lines join the two views of a positive pair. Alignment (in \
                         the curves) is the mean squared length of such lines over held-out samples.",
                        data.labels[i]
                    ));
                }
            }
        }
        out
    }
}

/// Each class's density of angles (analysis::density, computed by the lab) drawn outside the circle, scaled
/// by the largest.
fn draw_density(painter: &egui::Painter, view: View, density: &[Vec<f32>]) {
    let max = density.iter().flatten().copied().fold(1e-6f32, f32::max);
    for (c, d) in density.iter().enumerate() {
        let bins = d.len().max(1);
        let pts: Vec<Pos2> = (0..=bins)
            .map(|b| {
                let t = (b % bins) as f32 / bins as f32 * std::f32::consts::TAU;
                let rad = 1.06 + 0.36 * d.get(b % bins).copied().unwrap_or(0.0) / max;
                view.to_screen([rad * t.cos(), rad * t.sin()])
            })
            .collect();
        painter.add(Shape::line(pts, Stroke::new(1.8, class_color(c).gamma_multiply(0.85))));
    }
}

/// Turns a point of the sphere: `yaw` about the vertical axis, then `pitch` about the horizontal one.
/// The third coordinate of the result is the depth (positive = towards the viewer).
fn rotate(p: [f32; 3], yaw: f32, pitch: f32) -> [f32; 3] {
    let (sy, cy) = yaw.sin_cos();
    let x = cy * p[0] + sy * p[2];
    let z = -sy * p[0] + cy * p[2];
    let (sp, cp) = pitch.sin_cos();
    let y = cp * p[1] - sp * z;
    let z2 = sp * p[1] + cp * z;
    [x, y, z2]
}
