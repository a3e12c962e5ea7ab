//! spherelab-app: the contrastive-learning lab as an egui app, one code base for the desktop (this crate's
//! binary) and the browser (this crate as a wasm library, issue 5).
//!
//! The app is a set of panels over one shared `Lab` (the run and what is shown of it). Each frame it
//! (1) trains within a time budget (`Lab::tick`), (2) draws every panel from the lab, collecting the
//! `Command`s the panels return, and (3) applies those commands. Nothing here blocks, spawns a thread or
//! reads the clock through `std::time`, so the same code runs in a browser.

pub mod backend_choice;
pub mod files;
pub mod lab;
pub mod mirror;
pub mod pacing;
pub mod panels;
#[cfg(target_arch = "wasm32")]
pub mod web;

use std::sync::{Arc, Mutex};

use egui::{Color32, RichText};
use serde::{Deserialize, Serialize};

use lab::{Command, Lab, Level, Notice};
use panels::{
    controls::Controls, curves::Curves, embedding::EmbeddingView, export::ExportPanel, hardness::HardnessView,
    input_plane::InputPlane, pruning::PruningPanel, similarity::SimilarityView, theory::TheoryPanel, toolbar::Toolbar,
};

/// The tabs of the right-hand column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SideTab {
    Batch,
    Theory,
    Pruning,
    Export,
}

/// Every panel's own state.
#[derive(Default)]
pub struct Panels {
    pub toolbar: Toolbar,
    pub controls: Controls,
    pub input_plane: InputPlane,
    pub embedding: EmbeddingView,
    pub curves: Curves,
    pub similarity: SimilarityView,
    pub hardness: HardnessView,
    pub theory: TheoryPanel,
    pub pruning: PruningPanel,
    pub export: ExportPanel,
}

/// The whole app: the lab and its panels.
pub struct SpherelabApp {
    pub lab: Lab,
    pub panels: Panels,
    pub tab: SideTab,
    /// Where a screenshot taken by the window reports back (its callback runs outside `ui`).
    screenshot_note: Arc<Mutex<Option<Notice>>>,
    /// Where the last frame's update went: (part, ms), training first, then each panel's layout. The browser
    /// publishes it in its status object; the frame-time benchmark prints it.
    pub frame_parts: Vec<(&'static str, f64)>,
    /// Sets the training budget from what the rest of the frame costs (the window and the browser use it;
    /// tests leave it off and fix the budget).
    pub pacer: Option<pacing::FramePacer>,
}

/// Runs `f` and records how long it took under `name`.
fn timed<R>(parts: &mut Vec<(&'static str, f64)>, name: &'static str, f: impl FnOnce() -> R) -> R {
    let start = web_time::Instant::now();
    let r = f();
    parts.push((name, start.elapsed().as_secs_f64() * 1e3));
    r
}

impl SpherelabApp {
    /// The app on a config (the default: two moons). It starts paused in tests and playing for users.
    pub fn new(config: spherelab_core::RunConfig, backend: backend_choice::BackendPreference) -> Self {
        Self {
            lab: Lab::new(config, backend),
            panels: Panels::default(),
            tab: SideTab::Batch,
            screenshot_note: Arc::new(Mutex::new(None)),
            frame_parts: Vec::new(),
            pacer: None,
        }
    }

    /// Before a frame: with a pacer, the training budget becomes what the previous frames left of the
    /// target. `frame_seconds` is eframe's measure of the previous frame's whole work.
    pub fn pace(&mut self, frame_seconds: Option<f32>) {
        if let Some(p) = self.pacer.as_mut() {
            let frame_ms = frame_seconds.map(|s| s as f64 * 1e3);
            self.lab.frame_budget_ms = p.budget(frame_ms, self.lab.last_tick_ms);
        }
    }

    /// One frame: train, draw, apply what the panels asked for.
    pub fn show(&mut self, ui: &mut egui::Ui) {
        let mut parts = Vec::with_capacity(12);
        let trained = timed(&mut parts, "training", || self.lab.tick());
        parts.extend(self.lab.last_tick_parts);
        let mut commands = Vec::new();
        // Space plays and pauses (in class, without reaching for the button), unless a widget has the keyboard
        // focus (a text field types the space; a focused button is clicked by it).
        let ctx = ui.ctx().clone();
        if ctx.memory(|m| m.focused().is_none()) && ctx.input(|i| i.key_pressed(egui::Key::Space)) {
            commands.push(if self.lab.playing { Command::Pause } else { Command::Play });
        }
        let lab = &self.lab;
        let p = &mut self.panels;

        egui::Panel::top("toolbar").show(ui, |ui| {
            ui.add_space(2.0);
            commands.extend(timed(&mut parts, "toolbar", || p.toolbar.ui(ui, lab)));
            ui.add_space(2.0);
        });
        if let Some(msg) = &lab.diverged {
            egui::Panel::top("diverged")
                .frame(egui::Frame::new().fill(Color32::from_rgb(150, 20, 20)).inner_margin(8.0))
                .show(ui, |ui| {
                    ui.horizontal_wrapped(|ui| {
                        ui.label(RichText::new("⚠ Training diverged").size(18.0).strong().color(Color32::WHITE));
                        ui.label(RichText::new(msg).color(Color32::WHITE).size(14.0));
                        if ui.button("Reset").on_hover_text("Back to step 0 with the same initialisation.").clicked() {
                            commands.push(Command::Reset);
                        }
                    });
                });
        }
        egui::Panel::bottom("status").show(ui, |ui| {
            ui.horizontal(|ui| {
                if let Some(n) = lab.notices.last() {
                    let color = match n.level {
                        Level::Info => ui.visuals().text_color(),
                        Level::Warning => Color32::from_rgb(240, 180, 60),
                        Level::Error => Color32::from_rgb(255, 90, 90),
                    };
                    ui.label(RichText::new(&n.text).color(color));
                } else {
                    ui.label(
                        RichText::new(
                            "Press ▶ Play. Hover any control for what it does; hover a point to see its augmented views.",
                        )
                        .weak(),
                    );
                }
            });
        });
        egui::Panel::left("controls").default_size(320.0).resizable(true).show(ui, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| {
                commands.extend(timed(&mut parts, "controls", || p.controls.ui(ui, lab)));
            });
        });
        egui::Panel::right("side").default_size(400.0).resizable(true).show(ui, |ui| {
            ui.horizontal(|ui| {
                for (tab, name, tip) in [
                    (
                        SideTab::Batch,
                        "Batch",
                        "The current batch: its similarity matrix and the hardness of the negatives.",
                    ),
                    (SideTab::Theory, "Theory", "The paper's bounds: why difficult examples hurt and what fixes them."),
                    (SideTab::Pruning, "Pruning", "Remove the most difficult samples and retrain side by side."),
                    (SideTab::Export, "Export", "Save embeddings, metrics, config, a screenshot; load a config."),
                ] {
                    ui.selectable_value(&mut self.tab, tab, RichText::new(name).strong()).on_hover_text(tip);
                }
            });
            ui.separator();
            match self.tab {
                SideTab::Batch => {
                    let h = ui.available_height();
                    ui.allocate_ui(egui::vec2(ui.available_width(), h * 0.55), |ui| {
                        commands.extend(timed(&mut parts, "similarity", || p.similarity.ui(ui, lab)));
                    });
                    ui.separator();
                    commands.extend(timed(&mut parts, "hardness", || p.hardness.ui(ui, lab)));
                }
                SideTab::Theory => {
                    egui::ScrollArea::vertical()
                        .show(ui, |ui| commands.extend(timed(&mut parts, "theory", || p.theory.ui(ui, lab))));
                }
                SideTab::Pruning => commands.extend(timed(&mut parts, "pruning", || p.pruning.ui(ui, lab))),
                SideTab::Export => commands.extend(timed(&mut parts, "export", || p.export.ui(ui, lab))),
            }
        });
        egui::Panel::bottom("curves").default_size(250.0).min_size(190.0).resizable(true).show(ui, |ui| {
            commands.extend(timed(&mut parts, "curves", || p.curves.ui(ui, lab)));
        });
        egui::CentralPanel::default().show(ui, |ui| {
            let avail = ui.available_size();
            ui.horizontal(|ui| {
                let w = (avail.x - 8.0) / 2.0;
                ui.allocate_ui(egui::vec2(w, avail.y), |ui| {
                    ui.vertical(|ui| commands.extend(timed(&mut parts, "input plane", || p.input_plane.ui(ui, lab))));
                });
                ui.allocate_ui(egui::vec2(w, avail.y), |ui| {
                    ui.vertical(|ui| commands.extend(timed(&mut parts, "embedding", || p.embedding.ui(ui, lab))));
                });
            });
        });

        self.frame_parts = parts;
        for c in commands {
            if let Command::Screenshot = c {
                self.request_screenshot(ui.ctx());
            }
            self.lab.apply(c);
        }
        if let Some(n) = self.screenshot_note.lock().ok().and_then(|mut g| g.take()) {
            self.lab.notify(n);
        }
        if trained || self.lab.playing {
            ui.ctx().request_repaint();
        }
    }

    /// Asks the window for a screenshot; the callback saves it as screenshot.png when it arrives (into the
    /// export folder on the desktop, as a download in the browser).
    fn request_screenshot(&mut self, ctx: &egui::Context) {
        let note = self.screenshot_note.clone();
        let folder = self.panels.export.folder.clone();
        ctx.request_screenshot(move |image| {
            let n = match files::png_bytes(&image).and_then(|png| files::save(&folder, &[("screenshot.png", png)])) {
                Ok(done) => Notice::info(done),
                Err(e) => Notice::error(format!("The screenshot could not be saved: {e}")),
            };
            if let Ok(mut g) = note.lock() {
                *g = Some(n);
            }
        });
        ctx.request_repaint();
    }
}

impl eframe::App for SpherelabApp {
    fn ui(&mut self, ui: &mut egui::Ui, frame: &mut eframe::Frame) {
        self.pace(frame.info().cpu_usage);
        self.show(ui);
    }
}
