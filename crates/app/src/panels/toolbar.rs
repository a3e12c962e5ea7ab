//! The bar along the top: play, pause, step, reset, re-seed, speed, the step counter, and the backend in use.

use egui::{Color32, RichText};

use crate::lab::{Command, Lab};

#[derive(Default)]
pub struct Toolbar {
    /// On a narrow screen: the controls' drawer is open.
    pub drawer_open: bool,
}

impl Toolbar {
    /// `compact`: a phone or an embedded lesson — play/pause, step, the step count, the lessons and (on a
    /// phone) the controls' drawer; the rest stays in the full lab.
    pub fn ui(&mut self, ui: &mut egui::Ui, lab: &Lab, compact: bool) -> Vec<Command> {
        let mut out = Vec::new();
        if compact {
            // One row on a 390-point phone: symbols, the step count, the lessons and the controls' drawer.
            ui.horizontal_wrapped(|ui| {
                let (symbol, command, tip) = if lab.schedule.playing {
                    ("⏸", Command::Pause, "Pause training (Space).")
                } else {
                    ("▶", Command::Play, "Train (Space).")
                };
                if ui.button(RichText::new(symbol).size(16.0)).on_hover_text(tip).clicked() {
                    out.push(command);
                }
                if ui.button("⏭").on_hover_text("One training step.").clicked() {
                    out.push(Command::Step);
                }
                ui.add(egui::Label::new(RichText::new(format!("step {}", lab.step_count())).monospace()).extend());
                out.extend(lessons_menu(ui, lab));
                if !lab.guide.embed
                    && ui
                        .selectable_label(self.drawer_open, "☰ Controls")
                        .on_hover_text("The run's settings.")
                        .clicked()
                {
                    self.drawer_open = !self.drawer_open;
                }
            });
            return out;
        }
        ui.horizontal_wrapped(|ui| {
            ui.heading(RichText::new("spherelab").strong())
                .on_hover_text("A contrastive-learning lab: watch a small encoder learn to place data on a sphere.");
            ui.separator();
            out.extend(lessons_menu(ui, lab));
            let presenter = lab.guide.presenter;
            if ui
                .selectable_label(presenter, "🎓 Presenter")
                .on_hover_text("Large type for a projector (1280×720); in a lesson, only its panels.")
                .clicked()
            {
                out.push(Command::SetPresenter(!presenter));
            }
            ui.separator();
            out.extend(play_pause(ui, lab));
            if ui
                .button("⏭ Step")
                .on_hover_text("Take exactly one training step (one batch), then pause: see what a single update does.")
                .clicked()
            {
                out.push(Command::Step);
            }
            if ui
                .button("⟲ Reset")
                .on_hover_text(
                    "Back to step 0 with the same initial weights and the same batches. Change a setting, reset, and \
                     compare: the only difference is your change.",
                )
                .clicked()
            {
                out.push(Command::Reset);
            }
            if ui
                .button("🎲 Re-seed")
                .on_hover_text(
                    "A new random seed: new data draw, new initial weights, new batches. Does the result hold?",
                )
                .clicked()
            {
                out.push(Command::Reseed);
            }
            ui.separator();
            let mut speed = lab.schedule.steps_per_frame;
            if ui
                .add(egui::Slider::new(&mut speed, 1..=64).logarithmic(true).text("steps/frame"))
                .on_hover_text(
                    "Speed: at most this many training steps per drawn frame (always within ~12 ms, so the window \
                     stays smooth). Lower it to watch each step; raise it to train faster.",
                )
                .changed()
            {
                out.push(Command::SetSpeed(speed));
            }
            ui.separator();
            ui.label(RichText::new(format!("step {}", lab.step_count())).monospace().strong())
                .on_hover_text("Training steps taken so far in this run.");
            if lab.schedule.playing {
                // Slow runs (a software GPU, a big model) still show their speed, not "0 steps/s".
                let rate = lab.schedule.steps_per_second;
                let text = if rate < 10.0 { format!("{rate:.1} steps/s") } else { format!("{rate:.0} steps/s") };
                ui.label(RichText::new(text).weak())
                    .on_hover_text("Training steps per second of wall-clock time, drawing included.");
            }
            ui.separator();
            // The rest of the row, cut where the window ends: the reason the CPU was chosen over a software
            // renderer runs to ~230 characters and wrapped the toolbar onto a second row (a truncated label in a
            // wrapping row starts a row of its own, so it gets a non-wrapping child as wide as what is left).
            // The whole line shows on hover. A row with less room than a few words left takes the next row.
            let backend = egui::Label::new(RichText::new(format!("backend: {}", lab.backend_line)).weak()).truncate();
            let room = ui.available_size_before_wrap().x;
            let backend = if room >= 200.0 {
                let size = egui::vec2(room, ui.spacing().interact_size.y);
                ui.allocate_ui_with_layout(size, egui::Layout::left_to_right(egui::Align::Center), |ui| ui.add(backend))
                    .inner
            } else {
                ui.add(backend)
            };
            backend.on_hover_text(
                "Where the training math runs: the GPU engine (WGSL shaders) when a compute-capable GPU is usable, \
                 otherwise the CPU engine. Both compute the same formulas and agree to rounding (about 1e-4), \
                 not bit for bit; the CPU engine is the one that repeats a seed exactly.",
            );
        });
        out
    }
}

/// ▶ Play or ⏸ Pause, whichever applies.
fn play_pause(ui: &mut egui::Ui, lab: &Lab) -> Vec<Command> {
    let mut out = Vec::new();
    if lab.schedule.playing {
        if ui
            .button(RichText::new("⏸ Pause").size(16.0))
            .on_hover_text("Stop training (Space). Everything you see stays as it is, so you can look closely.")
            .clicked()
        {
            out.push(Command::Pause);
        }
    } else if ui
        .add(
            egui::Button::new(RichText::new("▶ Play").size(16.0).color(Color32::WHITE))
                .fill(Color32::from_rgb(0, 122, 80)),
        )
        .on_hover_text(
            "Train continuously (Space). Watch the embedding spread over the circle while the two views of \
             each sample (a positive pair) pull together, and the curves below move.",
        )
        .clicked()
    {
        out.push(Command::Play);
    }
    out
}

/// The 📚 menu: every lesson, and leaving the open one.
fn lessons_menu(ui: &mut egui::Ui, lab: &Lab) -> Vec<Command> {
    let mut out = Vec::new();
    ui.menu_button(RichText::new("📚 Lessons"), |ui| {
        out.extend(super::lesson::lesson_list(ui, lab));
        if lab.guide.active.is_some() {
            ui.separator();
            if ui.button("Leave the lesson (open the full lab)").clicked() {
                out.push(Command::CloseLesson);
                ui.close();
            }
        }
    })
    .response
    .on_hover_text("Seven short guided lessons, each making one point on the live model.");
    out
}
