//! One file per panel (and axis.rs, the axes their plots share). Each panel is a state struct (`Default`, its
//! persisted parts `#[serde(default)]`) with a `ui` method that reads the shared `Lab` and returns the
//! `Command`s it wants applied after drawing.

pub mod axis;
pub mod controls;
pub mod curves;
pub mod embedding;
pub mod export;
pub mod hardness;
pub mod input_plane;
pub mod lesson;
pub mod pruning;
pub mod similarity;
pub mod theory;
pub mod toolbar;

use egui::{Color32, Pos2, Rect, Vec2};

/// Class colours: distinct, readable on the dark and the light theme, and kind to colour-blind eyes
/// (Okabe–Ito first, then Tableau).
pub const CLASS_COLORS: [Color32; 10] = [
    Color32::from_rgb(0, 114, 178),
    Color32::from_rgb(230, 159, 0),
    Color32::from_rgb(0, 158, 115),
    Color32::from_rgb(204, 121, 167),
    Color32::from_rgb(86, 180, 233),
    Color32::from_rgb(213, 94, 0),
    Color32::from_rgb(240, 228, 66),
    Color32::from_rgb(148, 103, 189),
    Color32::from_rgb(140, 86, 75),
    Color32::from_rgb(127, 127, 127),
];

pub fn class_color(class: usize) -> Color32 {
    CLASS_COLORS[class % CLASS_COLORS.len()]
}

/// Colour of ground-truth difficult samples (rings) and of the selection's marks.
pub const DIFFICULT_COLOR: Color32 = Color32::from_rgb(255, 60, 60);
pub const SELECTED_COLOR: Color32 = Color32::from_rgb(255, 200, 0);

/// Marks that must stand out on a view's background (the embedding's positive pairs, the hardness panel's
/// same-class outlines, the experiment's means): white on the dark theme, near-black on the light one, which a
/// browser picks from the system's preference. White alone vanished on the light theme's white views.
pub fn mark_color(visuals: &egui::Visuals) -> Color32 {
    visuals.strong_text_color()
}

/// Text on a dark plate, legible over whatever is drawn beneath (a heat map, points): `anchor` places the text
/// at `at`; the plate is the text's box with 2 points to spare.
pub fn plate_text(painter: &egui::Painter, at: Pos2, anchor: egui::Align2, text: String, size: f32, color: Color32) {
    let galley = painter.layout_no_wrap(text, egui::FontId::proportional(size), color);
    let plate = anchor.anchor_size(at, galley.size()).expand(2.0);
    painter.rect_filled(plate, 2.0, Color32::from_black_alpha(170));
    painter.galley(plate.shrink(2.0).min, galley, color);
}

/// A small "?" that explains a view; the text shows on hover.
pub fn help(ui: &mut egui::Ui, text: &str) {
    ui.label(egui::RichText::new("(?)").weak()).on_hover_text(text);
}

/// Maps a data-space rectangle onto a screen rectangle, keeping the aspect ratio (y up).
#[derive(Clone, Copy, Debug)]
pub struct View {
    pub screen: Rect,
    pub min: [f32; 2],
    pub max: [f32; 2],
}

impl View {
    /// A view of `[min, max]` in a square fitted into `screen`, with a small margin.
    pub fn fit(screen: Rect, min: [f32; 2], max: [f32; 2]) -> Self {
        let span = (max[0] - min[0]).max(max[1] - min[1]).max(1e-6) * 1.08;
        let c = [(min[0] + max[0]) / 2.0, (min[1] + max[1]) / 2.0];
        let side = screen.width().min(screen.height());
        let screen = Rect::from_center_size(screen.center(), Vec2::splat(side));
        Self { screen, min: [c[0] - span / 2.0, c[1] - span / 2.0], max: [c[0] + span / 2.0, c[1] + span / 2.0] }
    }

    pub fn to_screen(&self, p: [f32; 2]) -> Pos2 {
        let tx = (p[0] - self.min[0]) / (self.max[0] - self.min[0]);
        let ty = (p[1] - self.min[1]) / (self.max[1] - self.min[1]);
        Pos2::new(self.screen.left() + tx * self.screen.width(), self.screen.bottom() - ty * self.screen.height())
    }

    pub fn to_data(&self, p: Pos2) -> [f32; 2] {
        let tx = (p.x - self.screen.left()) / self.screen.width();
        let ty = (self.screen.bottom() - p.y) / self.screen.height();
        [self.min[0] + tx * (self.max[0] - self.min[0]), self.min[1] + ty * (self.max[1] - self.min[1])]
    }
}

/// Bounding box of 2-D points.
pub fn bounds(points: impl Iterator<Item = [f32; 2]>) -> ([f32; 2], [f32; 2]) {
    let mut min = [f32::INFINITY; 2];
    let mut max = [f32::NEG_INFINITY; 2];
    for p in points {
        for a in 0..2 {
            if p[a].is_finite() {
                min[a] = min[a].min(p[a]);
                max[a] = max[a].max(p[a]);
            }
        }
    }
    if !min[0].is_finite() {
        return ([-1.0, -1.0], [1.0, 1.0]);
    }
    (min, max)
}

/// A diverging colour map for a value in [-1, 1]: blue – white – red, faded so points stay readable on top.
pub fn diverging(v: f32, alpha: u8) -> Color32 {
    let v = v.clamp(-1.0, 1.0);
    let (r, g, b) = if v < 0.0 {
        let t = -v;
        (255.0 * (1.0 - t) + 33.0 * t, 255.0 * (1.0 - t) + 102.0 * t, 255.0 * (1.0 - t) + 172.0 * t)
    } else {
        let t = v;
        (255.0 * (1.0 - t) + 178.0 * t, 255.0 * (1.0 - t) + 24.0 * t, 255.0 * (1.0 - t) + 43.0 * t)
    };
    Color32::from_rgba_unmultiplied(r as u8, g as u8, b as u8, alpha)
}

/// A sequential colour map for a value in [0, 1] (dark to bright, viridis-like).
pub fn sequential(v: f32) -> Color32 {
    const STOPS: [(f32, [u8; 3]); 5] = [
        (0.0, [68, 1, 84]),
        (0.25, [59, 82, 139]),
        (0.5, [33, 145, 140]),
        (0.75, [94, 201, 98]),
        (1.0, [253, 231, 37]),
    ];
    let v = if v.is_finite() { v.clamp(0.0, 1.0) } else { 0.0 };
    for w in STOPS.windows(2) {
        let ((a, ca), (b, cb)) = (w[0], w[1]);
        if v <= b {
            let t = (v - a) / (b - a);
            let mix = |i: usize| (ca[i] as f32 * (1.0 - t) + cb[i] as f32 * t) as u8;
            return Color32::from_rgb(mix(0), mix(1), mix(2));
        }
    }
    Color32::from_rgb(253, 231, 37)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lightness(c: Color32) -> f32 {
        (c.r() as f32 + c.g() as f32 + c.b() as f32) / 3.0
    }

    #[test]
    fn marks_stand_out_on_the_views_of_both_themes() {
        for visuals in [egui::Visuals::dark(), egui::Visuals::light()] {
            let apart = (lightness(mark_color(&visuals)) - lightness(visuals.extreme_bg_color)).abs();
            assert!(apart > 150.0, "dark_mode {}: the mark is {apart} from the views' background", visuals.dark_mode);
        }
        // The white the marks were before stood out on the dark theme only.
        assert!((lightness(Color32::WHITE) - lightness(egui::Visuals::light().extreme_bg_color)).abs() < 20.0);
    }
}
