//! The bar along the top: play, pause, step, reset, re-seed, speed, the step counter, and the backend in use.

use egui::{Color32, RichText};

use crate::lab::{Command, Lab};

#[derive(Default)]
pub struct Toolbar;

impl Toolbar {
    pub fn ui(&mut self, ui: &mut egui::Ui, lab: &Lab) -> Vec<Command> {
        let mut out = Vec::new();
        ui.horizontal_wrapped(|ui| {
            ui.heading(RichText::new("spherelab").strong())
                .on_hover_text("A contrastive-learning lab: watch a small encoder learn to place data on a sphere.");
            ui.separator();
            if lab.playing {
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
                    "Train continuously (Space). Watch the embedding (right) spread over the circle while positive \
                     pairs pull together, and the curves below move.",
                )
                .clicked()
            {
                out.push(Command::Play);
            }
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
            let mut speed = lab.steps_per_frame;
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
            if lab.playing {
                // Slow runs (a software GPU, a big model) still show their speed, not "0 steps/s".
                let rate = lab.steps_per_second;
                let text = if rate < 10.0 { format!("{rate:.1} steps/s") } else { format!("{rate:.0} steps/s") };
                ui.label(RichText::new(text).weak())
                    .on_hover_text("Training steps per second of wall-clock time, drawing included.");
            }
            ui.separator();
            ui.label(RichText::new(format!("backend: {}", lab.backend_line)).weak()).on_hover_text(
                "Where the training math runs. The GPU engine is used when a compute-capable GPU is usable; \
                 otherwise the CPU reference backend (same results, slower).",
            );
        });
        out
    }
}
